#!/usr/bin/env python3
"""Convoy from Python against its peers, side by side in one run on this machine.

Measures (best of 3 repetitions each):
  * the Python-side cost of one step() call, in microseconds, at 1 and 4,096 envs;
  * CartPole-v1 env-steps/s at 4,096 envs for Convoy, Gymnasium's vectorised CartPole
    (gymnasium.make_vec("CartPole-v1", vectorization_mode="vector_entry_point")) and
    EnvPool's CartPole-v1, all at the same thread count.
Actions are drawn up front (64 random batches, cycled) so that no peer pays for sampling.

Usage: python3 bench/python_vector.py [--threads 2] [--steps 2000] [--json out.json]
Installs gymnasium and envpool from PyPI when they are missing; needs `pip install .` first.
"""
import argparse
import importlib
import json
import os
import subprocess
import sys
import time


def ensure(module, requirement):
    try:
        return importlib.import_module(module)
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", requirement])
        importlib.invalidate_caches()
        return importlib.import_module(module)


def best_rate(step, actions, steps, num_envs, reps=3):
    """Best env-steps/s and mean microseconds per call over `reps` timed loops."""
    best = 0.0
    for _ in range(reps):
        for k in range(10):  # warm-up
            step(actions[k % len(actions)])
        t0 = time.perf_counter()
        for k in range(steps):
            step(actions[k % len(actions)])
        dt = time.perf_counter() - t0
        best = max(best, steps * num_envs / dt)
    return best, 1e6 * num_envs / best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    np = ensure("numpy", "numpy")
    gym = ensure("gymnasium", "gymnasium>=1.1,<2")
    import convoy
    from convoy import _core

    _core.set_cpu_threads(args.threads)
    rng = np.random.default_rng(0)
    rows = []

    def record(name, num_envs, rate, us):
        rows.append({"impl": name, "num_envs": num_envs, "threads": args.threads,
                     "env_steps_per_second": rate, "us_per_call": us})
        print(f"{name:<34}{num_envs:>8}{rate / 1e6:>12.2f}M env-steps/s{us:>12.2f} us/call",
              flush=True)

    for n in (1, 4096):
        acts = [rng.integers(0, 2, size=n).astype(np.int32) for _ in range(64)]
        steps = args.steps * (20 if n == 1 else 1)

        env = convoy.make_vec("CartPole-v1", n, device="cpu", seed=0)
        env.reset()
        record("convoy", n, *best_rate(env.step, acts, steps, n))

        g = gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point")
        g.reset(seed=0)
        record("gymnasium CartPoleVectorEnv", n, *best_rate(g.step, acts, steps, n))

        try:
            envpool = ensure("envpool", "envpool")
            e = envpool.make("CartPole-v1", env_type="gymnasium", num_envs=n,
                             num_threads=min(args.threads, n), seed=0)
            e.reset()
            record(f"envpool ({envpool.__version__})", n, *best_rate(e.step, acts, steps, n))
        except Exception as err:  # report, do not hide, a peer that will not run here
            print(f"envpool skipped: {err}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
