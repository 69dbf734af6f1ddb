#!/usr/bin/env bash
# End-to-end training figures for BENCHMARKS.md: `convoy train` from the checked-in presets,
# PPO and DQN on CartPole-v1 and HighwayFast-v0 and SAC on Pendulum-v1, each at
# OMP_NUM_THREADS=1 and 2 (ALGOS="dqn sac" runs those learners only). Per run: env
# steps/s of training (env steps / the iterations' seconds summed from metrics.csv, so
# without start-up, logging and evaluation; "train s" is convoy's own wall-clock count of
# the training loop) and the time to
# threshold: the first iteration whose mean training return reaches it (CartPole-v1 475,
# Pendulum-v1 -200; HighwayFast-v0 has none), as env steps and seconds of training (summed from
# metrics.csv's per-iteration steps_per_second).
#
# Usage: bash bench/train.sh [build-dir]       (the presets' total steps; minutes per run)
#        QUICK=1 bash bench/train.sh [build-dir] (a few thousand steps each: checks the script)
# Totals can be set per run with CARTPOLE_STEPS, HIGHWAY_STEPS, PENDULUM_STEPS.
# Prints one JSON line per run, then a Markdown table.
set -euo pipefail
build="${1:-build}"
convoy="$build/convoy"
[ -x "$convoy" ] || { echo "bench/train.sh: no $convoy; build it first" >&2; exit 2; }
if [ "${QUICK:-0}" = 1 ]; then
  : "${CARTPOLE_STEPS:=4096}" "${HIGHWAY_STEPS:=4096}" "${PENDULUM_STEPS:=2000}"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

all_runs=("ppo CartPole-v1 475 ${CARTPOLE_STEPS:-}" "ppo HighwayFast-v0 none ${HIGHWAY_STEPS:-}"
  "sac Pendulum-v1 -200 ${PENDULUM_STEPS:-}" "dqn CartPole-v1 475 ${CARTPOLE_STEPS:-}"
  "dqn HighwayFast-v0 none ${HIGHWAY_STEPS:-}")
runs=()
for run in "${all_runs[@]}"; do
  [[ " ${ALGOS:-ppo sac dqn} " == *" ${run%% *} "* ]] && runs+=("$run")
done

results="$tmp/results.jsonl"
for run in "${runs[@]}"; do
  read -r algo env threshold total <<<"$run"
  for t in 1 2; do
    out="$tmp/$algo-$env-$t"
    args=(train --env "$env" --algo "$algo" --out "$out" --eval-episodes 20)
    [ -n "$total" ] && args+=(--total-steps "$total")
    log=$(OMP_NUM_THREADS=$t "$convoy" "${args[@]}" 2>&1) || {
      echo "bench/train.sh: convoy ${args[*]} failed: $log" >&2
      exit 1
    }
    python3 - "$out/metrics.csv" "$algo" "$env" "$t" "$threshold" "$log" <<'PY' | tee -a "$results"
import csv, json, math, re, sys
path, algo, env, threads, threshold, log = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
steps = int(rows[-1]["global_step"])
m = re.search(r"\(([0-9.]+) s of training\)", log)
seconds = float(m.group(1)) if m else float("nan")
reached_steps = reached_seconds = None
elapsed, prev = 0.0, 0
for r in rows:
    g = int(r["global_step"])
    sps = float(r.get("steps_per_second", "nan"))
    elapsed += (g - prev) / sps if sps > 0 else float("nan")
    prev = g
    ret = float(r["mean_return"])
    if threshold != "none" and math.isfinite(ret) and ret >= float(threshold):
        reached_steps, reached_seconds = g, round(elapsed, 2)
        break
train_sum = 0.0
prev = 0
for r in rows:  # seconds of the iterations themselves (collection + update)
    g = int(r["global_step"])
    sps = float(r.get("steps_per_second", "nan"))
    train_sum += (g - prev) / sps if sps > 0 else float("nan")
    prev = g
ev = re.search(r"^\s*(PPO|SAC|DQN)\s+(-?[0-9.]+)", log, re.M)
updates = int(rows[-1]["updates"]) if "updates" in rows[-1] else None
print(json.dumps({
    "algo": algo, "env": env, "threads": int(threads), "env_steps": steps,
    "train_seconds": seconds, "iteration_seconds": round(train_sum, 3),
    "env_steps_per_second": round(steps / train_sum) if train_sum > 0 else None,
    "updates_per_second": round(updates / train_sum) if updates and train_sum > 0 else None,
    "threshold": None if threshold == "none" else float(threshold),
    "threshold_env_steps": reached_steps, "threshold_seconds": reached_seconds,
    "final_eval_return": float(ev.group(2)) if ev else None}))
PY
  done
done

python3 - "$results" <<'PY'
import json, sys
print("\n| algo | env | threads | env steps | train s | env steps/s | updates/s | threshold | reached at (steps) | reached at (s) | eval return |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for line in open(sys.argv[1]):
    r = json.loads(line)
    f = lambda v: "-" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:g}"
    print(f"| {r['algo'].upper()} | {r['env']} | {r['threads']} | {r['env_steps']:,} | "
          f"{r['train_seconds']:.1f} | {f(r['env_steps_per_second'])} | "
          f"{f(r.get('updates_per_second'))} | {f(r['threshold'])} | "
          f"{f(r['threshold_env_steps'])} | {f(r['threshold_seconds'])} | "
          f"{f(r['final_eval_return'])} |")
PY
