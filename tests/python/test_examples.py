"""The example programs in examples/ run as a user would run them, and say what they should."""

import pathlib
import re
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def run(name):
    out = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_random_agent():
    text = run("random_agent.py")
    m = re.search(r"([\d.]+)M env-steps/s on (\S+); (\d+) episodes, mean random-policy return "
                  r"([\d.]+)", text)
    assert m, text
    assert float(m.group(1)) > 0 and int(m.group(3)) > 1000
    assert 10 < float(m.group(4)) < 40  # random CartPole episodes last about 22 steps


def test_train_and_drive_gymnasium():
    text = run("train_and_drive_gymnasium.py")
    m = re.search(r"driven by the Convoy-trained policy: ([\d.]+) over 20 episodes", text)
    assert m, text
    assert float(m.group(1)) >= 475, text
