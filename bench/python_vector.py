#!/usr/bin/env python3
"""Convoy from Python against its peers, side by side in one run on this machine.

Measures (best of 3 repetitions each):
  * the Python-side cost of one step() call, in microseconds, at 1 and 4,096 envs;
  * CartPole-v1 env-steps/s at 4,096 envs for Convoy, Gymnasium's vectorised CartPole
    (gymnasium.make_vec("CartPole-v1", vectorization_mode="vector_entry_point")) and
    EnvPool's CartPole-v1, all at the same thread count.
Actions are drawn up front (64 random batches, cycled) so that no peer pays for sampling.
Convoy runs in both auto-reset modes: NEXT_STEP is what Gymnasium's CartPoleVectorEnv and
EnvPool do (the like-for-like figure); SAME_STEP adds Gymnasium's infos["final_obs"] object
array.

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


def measure(impl, n, threads, steps):
    """One implementation at one size, in this (fresh) process."""
    np = ensure("numpy", "numpy")
    gym = ensure("gymnasium", "gymnasium>=1.1,<2")
    rng = np.random.default_rng(0)
    acts = [rng.integers(0, 2, size=n).astype(np.int32) for _ in range(64)]
    if impl.startswith("convoy"):
        import convoy
        from convoy import _core

        _core.set_cpu_threads(threads)
        mode = "next_step" if impl == "convoy-next" else "same_step"
        env = convoy.make_vec("CartPole-v1", n, device="cpu", seed=0, autoreset_mode=mode)
        name = f"convoy ({mode})"
    elif impl == "gymnasium":
        env = gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point")
        name = f"gymnasium {gym.__version__} CartPoleVectorEnv"
    else:
        envpool = ensure("envpool", "envpool")
        env = envpool.make("CartPole-v1", env_type="gymnasium", num_envs=n,
                           num_threads=min(threads, n), seed=0)
        name = f"envpool {envpool.__version__}"
    env.reset(seed=0) if impl != "envpool" else env.reset()
    rate, us = best_rate(env.step, acts, steps, n)
    return {"impl": name, "num_envs": n, "threads": threads, "env_steps_per_second": rate,
            "us_per_call": us}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--json", default=None)
    ap.add_argument("--one", nargs=2, metavar=("IMPL", "NUM_ENVS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        impl, n = args.one[0], int(args.one[1])
        steps = args.steps * (20 if n == 1 else 1)
        print(json.dumps(measure(impl, n, args.threads, steps)))
        return
    # each measurement in its own process: EnvPool's worker threads keep polling after use,
    # which would steal a core from whatever ran next in the same process
    rows = []
    for n in (1, 4096):
        for impl in ("convoy-next", "convoy-same", "gymnasium", "envpool"):
            out = subprocess.run(
                [sys.executable, __file__, "--threads", str(args.threads), "--steps",
                 str(args.steps), "--one", impl, str(n)],
                capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{impl} at {n} envs failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(f"{r['impl']:<36}{n:>6} envs{r['env_steps_per_second'] / 1e6:>9.2f}M env-steps/s"
                  f"{r['us_per_call']:>10.2f} us/call", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
