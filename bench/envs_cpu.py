#!/usr/bin/env python3
"""Env-steps/s of every env `convoy envs` lists, on the CPU, at 1,024 and 16,384 envs and 1
and 2 threads (best of --reps runs each, random actions drawn by the engine), as the driving
issue's table in BENCHMARKS.md. Run it on an otherwise idle machine: OpenMP on 2 cores is
badly hurt by any other busy process.

Usage: python3 bench/envs_cpu.py [--convoy build/convoy] [--reps 3] [--seconds 1.0]
       [--envs A,B] [--markdown]
"""
import argparse
import json
import subprocess


def bench(convoy, env, n, threads, steps):
    out = subprocess.run(
        [convoy, "bench", "--env", env, "--num-envs", str(n), "--steps", str(steps), "--device",
         "cpu", "--threads", str(threads), "--json"],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convoy", default="build/convoy")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=1.0, help="target time per run")
    ap.add_argument("--envs", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    listing = subprocess.run([args.convoy, "envs"], capture_output=True, text=True, check=True)
    envs = [l for l in listing.stdout.splitlines() if l and not l.startswith(" ")]
    if args.envs:
        envs = [e for e in envs if e in args.envs.split(",")]
    rows = []
    for env in envs:
        row = {"env": env}
        for n in (1024, 16384):
            probe = bench(args.convoy, env, n, 2, 2)  # size the runs to about --seconds
            rate = max(probe["env_steps_per_second"], 1.0)
            steps = max(5, int(args.seconds * rate / n))
            for t in (1, 2):
                best = max(bench(args.convoy, env, n, t, steps)["env_steps_per_second"]
                           for _ in range(args.reps))
                row[f"{n}x{t}"] = best
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.markdown:
        print("\n| env | 1,024 envs, 1 thread | 1,024 envs, 2 threads | 16,384 envs, 1 thread "
              "| 16,384 envs, 2 threads |\n|---|---|---|---|---|")
        for r in rows:
            cells = [f"{r[k] / 1e6:.3g}M" if r[k] >= 1e6 else f"{r[k] / 1e3:.3g}k"
                     for k in ("1024x1", "1024x2", "16384x1", "16384x2")]
            print(f"| {r['env']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
