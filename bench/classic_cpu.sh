#!/usr/bin/env bash
# The CPU figures in BENCHMARKS.md for the foundation issue: env-steps/s of CartPole-v1 and
# Pendulum-v1 at 1 and 2 threads and 1,024 / 65,536 / 1,048,576 envs (each the best of 3
# runs), and this machine's memory bandwidth (bench/membw.cpp, STREAM-style) at 1 and 2
# threads. Usage: bash bench/classic_cpu.sh [build-dir]   (prints JSON lines, then a table)
set -euo pipefail
build="${1:-build}"
for t in 1 2; do OMP_NUM_THREADS=$t "$build/convoy_membw" 67108864; done
for env in CartPole-v1 Pendulum-v1; do
  for n in 1024 65536 1048576; do
    steps=$(( 20000000 / n )); [ "$steps" -lt 20 ] && steps=20
    for t in 1 2; do
      best=""
      for rep in 1 2 3; do
        line=$("$build/convoy" bench --env "$env" --num-envs "$n" --steps "$steps" --device cpu --threads "$t" --json)
        rate=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['env_steps_per_second'])" "$line")
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$rate" "$best"; then
          best=$rate; best_line=$line
        fi
      done
      echo "$best_line"
    done
  done
done
