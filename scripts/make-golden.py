#!/usr/bin/env python3
"""Writes tests/data/golden_<env>.txt: trajectories produced by Gymnasium itself.

For each classic env it repeatedly injects a random state (and a step count, so that
truncations happen too) into Gymnasium's own env, as EnvPool's alignment test does, steps it
with random actions until the episode ends, and records every step. The C++ test
(tests/classic_golden_test.cpp) injects the same states into Convoy, applies the same actions
and compares obs / reward / terminated / truncated at atol 1e-5.

Run: python3 scripts/make-golden.py   (installs gymnasium from PyPI when missing)
File format, one record per line:
  env <id> <obs_dim> <act_dim> <discrete 0|1> <gymnasium version> <numpy version>
  inject <elapsed_steps> <state...>
  step <action...> <obs...> <reward> <terminated> <truncated>
"""
import importlib
import os
import subprocess
import sys

try:
    import gymnasium as gym
except ImportError:  # install the reference on demand
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "gymnasium>=1.0,<2"])
    importlib.invalidate_caches()
    import gymnasium as gym
import numpy as np
from gymnasium.wrappers import TimeLimit

MIN_STEPS = 1500
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")


def time_limit(env):
    e = env
    while not isinstance(e, TimeLimit):
        e = e.env
    return e


def cartpole_state(rng):
    return rng.uniform([-2.3, -2.0, -0.2, -2.0], [2.3, 2.0, 0.2, 2.0]).astype(np.float64)


def pendulum_state(rng):
    return rng.uniform([-3 * np.pi, -8.0], [3 * np.pi, 8.0]).astype(np.float64)


def acrobot_state(rng):
    if rng.uniform() < 0.5:  # near the top, so that terminations happen
        th1 = rng.uniform(np.pi - 0.6, np.pi + 0.6)
    else:
        th1 = rng.uniform(-np.pi, np.pi)
    return np.array(
        [th1, rng.uniform(-np.pi, np.pi), rng.uniform(-4, 4), rng.uniform(-9, 9)], dtype=np.float64
    )


def mcc_state(rng):
    pos = rng.uniform(-1.2, 0.5) if rng.uniform() < 0.7 else rng.uniform(0.3, 0.45)
    return np.array([pos, rng.uniform(-0.07, 0.07)], dtype=np.float32)


ENVS = {
    # id: (state sampler, state dtype, action sampler)
    "CartPole-v1": (cartpole_state, np.float64, lambda rng: int(rng.integers(0, 2))),
    "Pendulum-v1": (
        pendulum_state,
        np.float64,
        lambda rng: rng.uniform(-2.5, 2.5, size=(1,)).astype(np.float32),
    ),
    "Acrobot-v1": (acrobot_state, np.float64, lambda rng: int(rng.integers(0, 3))),
    "MountainCarContinuous-v0": (
        mcc_state,
        np.float32,
        lambda rng: rng.uniform(-1.3, 1.3, size=(1,)).astype(np.float32),
    ),
}


def fmt(x):
    return repr(float(x))


def generate(env_id, rng):
    sample_state, dtype, sample_action = ENVS[env_id]
    env = gym.make(env_id, disable_env_checker=True)
    env.reset(seed=0)
    limit = time_limit(env)
    max_steps = limit._max_episode_steps
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    act_dim = 1 if discrete else env.action_space.shape[0]
    lines = [
        f"env {env_id} {env.observation_space.shape[0]} {act_dim} {int(discrete)} "
        f"{gym.__version__} {np.__version__}"
    ]
    steps = terms = truncs = 0
    can_terminate = env_id != "Pendulum-v1"  # Pendulum never terminates
    while steps < MIN_STEPS or (can_terminate and terms < 5) or truncs < 5:
        state = sample_state(rng).astype(dtype)
        # a quarter of the segments start close to the time limit
        elapsed = int(rng.integers(max_steps - 30, max_steps)) if rng.uniform() < 0.25 else int(
            rng.integers(0, max_steps // 2)
        )
        env.unwrapped.state = state.copy()
        if hasattr(env.unwrapped, "steps_beyond_terminated"):
            env.unwrapped.steps_beyond_terminated = None
        limit._elapsed_steps = elapsed
        lines.append(f"inject {elapsed} " + " ".join(fmt(v) for v in state))
        while True:
            action = sample_action(rng)
            obs, reward, terminated, truncated, _ = env.step(action)
            acts = [action] if discrete else list(action)
            lines.append(
                "step "
                + " ".join(fmt(a) for a in acts)
                + " "
                + " ".join(fmt(o) for o in np.asarray(obs, dtype=np.float32))
                + f" {fmt(reward)} {int(terminated)} {int(truncated)}"
            )
            steps += 1
            terms += int(terminated)
            truncs += int(truncated)
            if terminated or truncated or steps > 20 * MIN_STEPS:
                break
    path = os.path.join(OUT, f"golden_{env_id}.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{env_id}: {steps} steps, {terms} terminations, {truncs} truncations -> {path}")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261129)
    for env_id in ENVS:
        generate(env_id, rng)


if __name__ == "__main__":
    main()
