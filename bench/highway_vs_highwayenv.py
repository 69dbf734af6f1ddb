#!/usr/bin/env python3
"""Convoy's Highway-v0 against highway-env's highway-fast-v0, side by side in one run.

Same settings on both sides: 3 lanes, 20 other vehicles, 5 Hz simulation, 1 Hz policy,
30 s episodes, random discrete meta-actions, auto-reset at episode ends. highway-env steps
one env in Python (its only mode); Convoy steps N envs at once on the CPU through
`convoy bench`. Prints env-steps/s for each and the ratio.

Usage: python3 bench/highway_vs_highwayenv.py [--convoy build/convoy] [--threads 2]
(installs highway-env from PyPI when missing)
"""
import argparse
import importlib
import json
import subprocess
import sys
import time


def highway_env_rate(seconds):
    try:
        import highway_env  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "highway-env"])
        importlib.invalidate_caches()
    import gymnasium as gym
    import highway_env  # noqa: F401

    env = gym.make("highway-fast-v0")
    env.unwrapped.configure({"lanes_count": 3, "vehicles_count": 20, "simulation_frequency": 5,
                             "policy_frequency": 1, "duration": 30})
    env.reset(seed=0)
    env.action_space.seed(0)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        steps += 1
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - t0), steps, highway_env.__version__


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convoy", default="build/convoy")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    he_rate, he_steps, he_version = highway_env_rate(args.seconds)
    print(f"highway-env {he_version} highway-fast-v0: {he_rate:.1f} env-steps/s "
          f"({he_steps} steps, 1 env)")
    for n, steps in ((1024, 120), (16384, 30)):  # 30 steps = one episode
        out = subprocess.run(
            [args.convoy, "bench", "--env", "Highway-v0", "--num-envs", str(n), "--steps",
             str(steps), "--device", "cpu", "--threads", str(args.threads), "--json"],
            capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        rate = r["env_steps_per_second"]
        print(f"convoy Highway-v0, {n} envs, {args.threads} threads: {rate:,.0f} env-steps/s "
              f"= {rate / he_rate:,.0f} x highway-env")


if __name__ == "__main__":
    main()
