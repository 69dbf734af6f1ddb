#!/usr/bin/env python3
"""Convoy's Highway-v0 against highway-env's highway-v0, and HighwayFast-v0 against
highway-fast-v0, side by side in one run.

Each pair with its env defaults, which are the same on both sides (highway-v0: 4 lanes, 50
other vehicles, 15 Hz simulation, 40 s; highway-fast-v0: 3 lanes, 20 vehicles, 5 Hz, 30 s;
both a 1 Hz policy; tests/python/test_highway_env_defaults.py checks them), random discrete
meta-actions, auto-reset at episode ends. highway-env steps one env in Python (its only mode);
Convoy steps N envs at once on the CPU through `convoy bench`. Prints env-steps/s for each and
the ratio.

Usage: python3 bench/highway_vs_highwayenv.py [--convoy build/convoy] [--threads 2]
(highway-env 1.12.1 comes with scripts/install-deps.sh)
"""
import argparse
import json
import subprocess
import time

# (Convoy id, highway-env id, steps of one episode)
PAIRS = [("Highway-v0", "highway-v0", 40), ("HighwayFast-v0", "highway-fast-v0", 30)]


def highway_env_rate(env_id, seconds):
    import gymnasium as gym
    import highway_env

    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        steps += 1
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - t0), steps, highway_env.__version__


def convoy_rate(convoy, env_id, num_envs, steps, threads):
    out = subprocess.run(
        [convoy, "bench", "--env", env_id, "--num-envs", str(num_envs), "--steps", str(steps),
         "--device", "cpu", "--threads", str(threads), "--json"],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["env_steps_per_second"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convoy", default="build/convoy")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20.0, help="highway-env's time per env")
    args = ap.parse_args()
    for convoy_id, he_id, episode in PAIRS:
        he_rate, he_steps, he_version = highway_env_rate(he_id, args.seconds)
        print(f"highway-env {he_version} {he_id}: {he_rate:.1f} env-steps/s "
              f"({he_steps} steps, 1 env)")
        for n, steps in ((1024, 3 * episode), (16384, episode)):
            rate = convoy_rate(args.convoy, convoy_id, n, steps, args.threads)
            print(f"convoy {convoy_id}, {n} envs, {args.threads} threads: {rate:,.0f} "
                  f"env-steps/s = {rate / he_rate:,.0f} x highway-env")


if __name__ == "__main__":
    main()
