"""`convoy train` writes TensorBoard event files that TensorBoard's own reader loads, with the
metrics.csv values under CleanRL's tags at each iteration's global step; a resumed run's
events continue the same curves."""

import csv
import math
import os
import pathlib
import shutil
import subprocess

import pytest

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")

ROOT = pathlib.Path(__file__).resolve().parents[2]
# metrics.csv column -> TensorBoard tag (cli/train.cpp)
TAGS = {
    "episodes": "charts/episodes",
    "mean_return": "charts/episodic_return",
    "mean_length": "charts/episodic_length",
    "policy_loss": "losses/policy_loss",
    "value_loss": "losses/value_loss",
    "entropy": "losses/entropy",
    "approx_kl": "losses/approx_kl",
    "clip_fraction": "losses/clipfrac",
    "explained_variance": "losses/explained_variance",
    "learning_rate": "charts/learning_rate",
    "steps_per_second": "charts/SPS",
}


def convoy_binary():
    for path in (os.environ.get("CONVOY_BIN"), ROOT / "build" / "convoy",
                 ROOT / "build-cpu" / "convoy", shutil.which("convoy")):
        if path and pathlib.Path(path).is_file() and os.access(path, os.X_OK):
            return str(path)
    pytest.skip("no convoy binary: build it (cmake --build build) or set CONVOY_BIN")


def train(*args):
    subprocess.run([convoy_binary(), "train", *args], check=True, capture_output=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"})


def load(run_dir):
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return acc


def check_matches_csv(run_dir):
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    acc = load(run_dir)
    assert set(TAGS.values()) <= set(acc.Tags()["scalars"])
    for column, tag in TAGS.items():
        want = [(int(r["global_step"]), float(r[column])) for r in rows
                if math.isfinite(float(r[column]))]
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        assert [s for s, _ in got] == [s for s, _ in want], tag
        for (_, g), (_, w) in zip(got, want):
            # float32 in the event, 6 significant digits in the CSV
            assert g == pytest.approx(w, rel=2e-5, abs=1e-6), tag
    return rows


def test_event_file_matches_metrics_csv(tmp_path):
    run = tmp_path / "run"
    train("--env", "CartPole-v1", "--total-steps", "2560", "--eval-episodes", "2",
          "--out", str(run))
    files = list(run.glob("events.out.tfevents.*"))
    assert len(files) == 1
    rows = check_matches_csv(run)
    assert len(rows) == 10
    assert any(math.isfinite(float(r["mean_return"])) for r in rows)


def test_resumed_run_continues_the_curves(tmp_path):
    run = tmp_path / "run"
    common = ["--env", "CartPole-v1", "--total-steps", "2560", "--eval-episodes", "2",
              "--out", str(run)]
    train(*common, "--stop-after", "4")
    train("--resume", str(run), "--eval-episodes", "2")
    assert len(list(run.glob("events.out.tfevents.*"))) == 2
    rows = check_matches_csv(run)
    assert [int(r["iteration"]) for r in rows] == list(range(1, 11))


def test_resume_from_an_older_checkpoint_drops_the_orphaned_events(tmp_path):
    # a run that crashed after logging past its last checkpoint: the resumed run's
    # SessionLog START makes TensorBoard drop the events logged after the checkpoint
    run = tmp_path / "run"
    train("--env", "CartPole-v1", "--total-steps", "2560", "--eval-episodes", "2",
          "--out", str(run), "--stop-after", "4")
    shutil.copy(run / "checkpoint.ckpt", tmp_path / "at4.ckpt")
    train("--resume", str(run), "--eval-episodes", "2", "--stop-after", "7")
    shutil.copy(tmp_path / "at4.ckpt", run / "checkpoint.ckpt")
    train("--resume", str(run), "--eval-episodes", "2")
    rows = check_matches_csv(run)
    assert [int(r["iteration"]) for r in rows] == list(range(1, 11))
