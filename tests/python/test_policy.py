"""Checkpoints from Python: Policy.load and convoy.evaluate give what `convoy eval` gives, the
loaded policy drives Gymnasium's own env, and SAC trains from Python."""

import csv
import json
import os
import pathlib
import shutil
import subprocess

import gymnasium as gym
import numpy as np
import pytest

import convoy

ROOT = pathlib.Path(__file__).resolve().parents[2]


def convoy_binary():
    for path in (os.environ.get("CONVOY_BIN"), ROOT / "build" / "convoy",
                 ROOT / "build-cpu" / "convoy", shutil.which("convoy")):
        if path and pathlib.Path(path).is_file() and os.access(path, os.X_OK):
            return str(path)
    pytest.skip("no convoy binary: build it (cmake --build build) or set CONVOY_BIN")


def cli_train(tmp_path, *args):
    out = tmp_path / "run"
    subprocess.run([convoy_binary(), "train", "--out", str(out), "--eval-episodes", "2", *args],
                   check=True, capture_output=True, text=True)
    return out / "checkpoint.ckpt"


def cli_eval(ckpt, episodes, seed, *args):
    out = subprocess.run([convoy_binary(), "eval", "--checkpoint", str(ckpt), "--episodes",
                          str(episodes), "--seed", str(seed), "--json", *args],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_ppo_checkpoint_loads_evaluates_like_the_cli_and_drives_gymnasium(tmp_path):
    ckpt = cli_train(tmp_path, "--env", "CartPole-v1", "--total-steps", "40960", "--seed", "1")
    policy = convoy.Policy.load(ckpt)
    assert policy.env_id == "CartPole-v1" and policy.algo == "ppo"
    assert policy.global_step == 40960
    result = convoy.evaluate(ckpt, episodes=8, seed=7)
    assert result == cli_eval(ckpt, 8, 7)  # the same evaluation, number for number
    assert result["device"] == "cpu"
    # device="cpu" named explicitly is the default, number for number, as --device cpu
    assert convoy.evaluate(ckpt, episodes=8, seed=7, device="cpu") == result
    assert cli_eval(ckpt, 8, 7, "--device", "cpu") == result
    assert result["random_mean_return"] < result["mean_return"]
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    total, done = 0.0, False
    while not done:
        action = policy.act(obs)
        assert action in (0, 1)
        obs, r, term, trunc, _ = env.step(action)
        total += r
        done = term or trunc
    assert total >= 200  # a partly trained policy still balances for a while
    assert policy.act(np.zeros((5, 4), dtype=np.float32)).shape == (5,)


def test_sac_checkpoint_and_sac_from_python(tmp_path):
    ckpt = cli_train(tmp_path, "--env", "Pendulum-v1", "--algo", "sac", "--total-steps", "1500")
    policy = convoy.Policy.load(ckpt)
    assert policy.algo == "sac"
    a = policy.act(np.array([1.0, 0.0, 0.0], dtype=np.float32))
    assert a.shape == (1,) and a.dtype == np.float32 and -2.0 <= a[0] <= 2.0
    assert convoy.evaluate(ckpt, episodes=3, seed=5) == cli_eval(ckpt, 3, 5)

    seen = []
    trained = convoy.train("Pendulum-v1", "sac", total_steps=1200, seed=3,
                           callback=seen.append, learning_starts=500)
    assert seen and seen[-1]["global_step"] == 1200
    assert {"qf1_loss", "actor_loss", "alpha", "steps_per_second"} <= seen[-1].keys()
    batch = trained.act(np.zeros((4, 3), dtype=np.float32))
    assert batch.shape == (4, 1) and np.all(np.abs(batch) <= 2.0)
    with pytest.raises(ValueError, match="Discrete"):
        convoy.train("CartPole-v1", "sac", total_steps=100)


def test_bad_checkpoints_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="bad.ckpt"):
        convoy.Policy.load(bad)
    with pytest.raises(ValueError):
        convoy.Policy.load(tmp_path / "missing.ckpt")
    trained = convoy.train("CartPole-v1", total_steps=256, num_envs=4, num_steps=64)
    with pytest.raises(RuntimeError, match="Policy.load"):
        trained.evaluate()


def test_evaluate_on_cuda_follows_the_cpu(tmp_path):
    """On a GPU the envs (and PPO's forward) run there; the mean returns follow the CPU's
    within 5% + 0.5 (sin/cos/FMA and GEMM rounding can send a greedy near-tie elsewhere).
    Without one, device="cuda" is a ValueError with the device's message."""
    ckpt = cli_train(tmp_path, "--env", "CartPole-v1", "--total-steps", "8192", "--seed", "2")
    if convoy.cuda_device_count() == 0:
        with pytest.raises(ValueError, match="not usable"):
            convoy.evaluate(ckpt, episodes=4, seed=3, device="cuda")
        assert convoy.evaluate(ckpt, episodes=2, seed=3, device="auto")["device"] == "cpu"
        pytest.skip("no usable CUDA GPU: compared the no-GPU error and auto's fallback only")
    cpu = convoy.evaluate(ckpt, episodes=12, seed=3, device="cpu")
    gpu = convoy.evaluate(ckpt, episodes=12, seed=3, device="cuda")
    assert gpu["device"] == "cuda:0" and gpu["episodes"] == cpu["episodes"]
    for key in ("mean_return", "random_mean_return"):
        assert abs(gpu[key] - cpu[key]) <= 0.05 * abs(cpu[key]) + 0.5, (key, cpu, gpu)


@pytest.mark.parametrize("algo,env_id,steps", [("ppo", "CartPole-v1", 2048),
                                               ("sac", "Pendulum-v1", 1200),
                                               ("dqn", "CartPole-v1", 3000)])
def test_python_and_the_cli_run_one_runner(tmp_path, algo, env_id, steps):
    """convoy.train and `convoy train` are the same run: the same checkpoint bytes, the same
    metrics (the callback's dicts are metrics.csv's rows), and a saved policy reloads."""
    ckpt = cli_train(tmp_path, "--env", env_id, "--algo", algo, "--total-steps", str(steps),
                     "--seed", "4", "--device", "cpu")
    seen = []
    policy = convoy.train(env_id, algo, total_steps=steps, seed=4, device="cpu",
                          out=tmp_path / "py", callback=seen.append)
    assert (tmp_path / "py" / "checkpoint.ckpt").read_bytes() == ckpt.read_bytes()
    names = [f["name"] for f in convoy.learner_metrics(algo)]
    with open(tmp_path / "run" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == names == list(seen[0]) and len(rows) == len(seen)
    for row, m in zip(rows, seen):
        for k in names[:-1]:  # all but the wall-clock steps_per_second
            assert float(row[k]) == pytest.approx(m[k], rel=1e-5, nan_ok=True), k
    policy.save(tmp_path / "saved.ckpt")
    assert (tmp_path / "saved.ckpt").read_bytes() == ckpt.read_bytes()
    obs = np.random.default_rng(0).normal(size=(6, 3 if algo == "sac" else 4)).astype(np.float32)
    np.testing.assert_array_equal(convoy.Policy.load(tmp_path / "saved.ckpt").act(obs),
                                  policy.act(obs))
    assert {s["name"] for s in convoy.learner_settings(algo)} >= {"num_envs", "seed"}


# issue 14: DQN with prioritized replay and 3-step returns on HighwayFast-v0
# (presets/dqn/HighwayFast-v0.conf, highway-env's own SB3 DQN settings) beats the IDM/MOBIL
# autopilot's mean return over the closing evaluation's 20 episodes, crash rates side by side;
# about a minute on one CPU core
def test_dqn_with_per_and_nstep_beats_the_autopilot_on_highway_fast(tmp_path):
    out = tmp_path / "dqn"
    run = subprocess.run([convoy_binary(), "train", "--env", "HighwayFast-v0", "--algo", "dqn",
                          "--device", "cpu", "--out", str(out)],
                         check=True, capture_output=True, text=True)
    assert "prioritized replay, n_step 3" in run.stdout + run.stderr
    s = json.loads((out / "summary.json").read_text())
    print(f"DQN {s['mean_return']:.2f} ({s['collision_rate']:.0%} crashes) against the autopilot's "
          f"{s['baseline_mean_return']:.2f} ({s['baseline_collision_rate']:.0%} crashes), "
          f"random {s['random_mean_return']:.2f} ({s['random_collision_rate']:.0%})")
    assert s["episodes"] == 20 and s["env_steps"] == 20000
    assert s["mean_return"] > s["baseline_mean_return"] > s["random_mean_return"]
    assert 0.0 <= s["collision_rate"] <= 1.0 and 0.0 <= s["baseline_collision_rate"] <= 1.0
