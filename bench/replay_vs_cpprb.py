#!/usr/bin/env python3
"""Convoy's replay buffers on the CPU against cpprb's, side by side in one run.

Same settings on both sides: capacity 2^20, observations of 17 floats, actions of 6, alpha
0.6, beta 0.4, eps 1e-6; each buffer is filled to capacity first, then each operation is
warmed up and timed for --seconds: insert (add of `batch` transitions), sample (`batch`
transitions), update (priorities of `batch` sampled slots) and sample+update (a PER
learner's step). Throughput is transitions/s. Convoy runs in C++ through `convoy bench
--replay` (no Python in its loop) at each --threads; cpprb runs here, in process, through
its Python API (its only one). Uniform buffers of both are timed for reference.

Convoy runs with OMP_WAIT_POLICY=passive (--omp-wait-policy): on a machine whose cores other
processes share, OpenMP's default spinning waiters cost each parallel region about a
millisecond, which at 2 threads measures the neighbours rather than the buffer. With 1 thread
there is nothing to wait for.

Usage: python3 bench/replay_vs_cpprb.py [--convoy build/convoy] [--threads 1 2]
(installs cpprb from PyPI when missing)
"""
import argparse
import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import time

import numpy as np

OPS = ("insert", "sample", "update", "sample_update")


def cpprb_module():
    try:
        import cpprb  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "cpprb"])
        importlib.invalidate_caches()
    import cpprb
    return cpprb


def timed(seconds, rows, op):
    """Transitions/s of op() (rows transitions a call) over `seconds`, after 3 warm-up calls."""
    for _ in range(3):
        op()
    calls, t0 = 0, time.perf_counter()
    while True:
        op()
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return calls * rows / elapsed


def cpprb_rates(cpprb, kind, capacity, batch, obs_dim, act_dim, seconds, seed=0):
    env_dict = {"obs": {"shape": obs_dim}, "act": {"shape": act_dim}, "rew": {},
                "next_obs": {"shape": obs_dim}, "done": {}}
    per = kind == "prioritized"
    if per:
        rb = cpprb.PrioritizedReplayBuffer(capacity, env_dict, alpha=0.6, eps=1e-6)
    else:
        rb = cpprb.ReplayBuffer(capacity, env_dict)
    rng = np.random.default_rng(seed)
    rows = {"obs": rng.standard_normal((batch, obs_dim), np.float32),
            "act": rng.standard_normal((batch, act_dim), np.float32),
            "rew": rng.standard_normal(batch, np.float32),
            "next_obs": rng.standard_normal((batch, obs_dim), np.float32),
            "done": np.zeros(batch, np.float32)}
    td = [np.abs(rng.standard_normal(batch)) for _ in range(8)]
    while rb.get_stored_size() < capacity:
        rb.add(**rows)
    out = {"insert": timed(seconds, batch, lambda: rb.add(**rows))}
    if per:
        fixed = rb.sample(batch, beta=0.4)["indexes"]
        out["sample"] = timed(seconds, batch, lambda: rb.sample(batch, beta=0.4))
        k = [0]

        def update(indexes):
            k[0] += 1
            rb.update_priorities(indexes, td[k[0] % 8])

        out["update"] = timed(seconds, batch, lambda: update(fixed))
        out["sample_update"] = timed(
            seconds, batch, lambda: update(rb.sample(batch, beta=0.4)["indexes"]))
    else:
        out["sample"] = timed(seconds, batch, lambda: rb.sample(batch))
    return out


def convoy_rates(convoy, kind, capacity, batch, obs_dim, act_dim, seconds, threads, wait_policy):
    env = dict(os.environ, OMP_WAIT_POLICY=wait_policy) if wait_policy else None
    out = subprocess.run(
        [convoy, "bench", "--replay", kind, "--capacity", str(capacity), "--batch", str(batch),
         "--obs-dim", str(obs_dim), "--act-dim", str(act_dim), "--seconds", str(seconds),
         "--device", "cpu", "--threads", str(threads), "--json"],
        capture_output=True, text=True, check=True, env=env)
    r = json.loads(out.stdout)
    return {op: r[op + "_per_second"] for op in OPS if r[op + "_per_second"] is not None}


def fmt(rate):
    return f"{rate / 1e6:12.3f}M" if rate is not None else f"{'-':>13}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convoy", default="build/convoy")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--capacity", type=int, default=1 << 20)
    ap.add_argument("--batch", type=int, nargs="+", default=[256, 65536])
    ap.add_argument("--obs-dim", type=int, default=17)
    ap.add_argument("--act-dim", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--omp-wait-policy", default="passive",
                    help="OMP_WAIT_POLICY for convoy ('' leaves the environment's)")
    args = ap.parse_args()
    cpprb = cpprb_module()
    version = importlib.metadata.version("cpprb")
    print(f"capacity {args.capacity}, obs {args.obs_dim}, act {args.act_dim}, alpha 0.6, "
          f"beta 0.4, eps 1e-6; {args.seconds:g} s per operation; transitions/s; cpprb {version}; "
          f"convoy OMP_WAIT_POLICY={args.omp_wait_policy or os.environ.get('OMP_WAIT_POLICY', '')}")
    print(f"{'buffer':<28}{'batch':>7}  " + "".join(f"{op:>14}" for op in OPS))
    for batch in args.batch:
        for kind in ("prioritized", "uniform"):
            common = (kind, args.capacity, batch, args.obs_dim, args.act_dim, args.seconds)
            base = cpprb_rates(cpprb, *common)
            print(f"{'cpprb ' + kind:<28}{batch:>7}  " + "".join(fmt(base.get(op)) + " "
                                                               for op in OPS))
            for threads in args.threads:
                ours = convoy_rates(args.convoy, *common, threads, args.omp_wait_policy)
                name = f"convoy {kind} {threads}T"
                print(f"{name:<28}{batch:>7}  " + "".join(fmt(ours.get(op)) + " " for op in OPS))
                ratios = [f"{ours[op] / base[op]:12.2f}x " if op in ours and op in base
                          else f"{'-':>13} " for op in OPS]
                print(f"{'  = x cpprb':<28}{'':>7}  " + "".join(ratios))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
