#!/usr/bin/env bash
# The device check, for a machine with an NVIDIA GPU and the CUDA toolkit but no package
# registry, in two calls of under 5 minutes each on a fresh 16-core machine (each bounded by
# `timeout`, so a 15-minute device budget leaves room to rerun one):
#
#   scripts/gpu-check.sh build   configure and build build-gpu (CUDA on, Python/MPI/HDF5 off);
#                                what the system lacks comes from .deps/, staged on a machine
#                                with the packages by scripts/stage-gpu-deps.sh and carried along
#   scripts/gpu-check.sh test    every test (the CUDA ones and the CPU-vs-CUDA equivalence
#                                included), a `convoy bench` table on cpu and cuda, and short
#                                PPO (CartPole-v1) and SAC (Pendulum-v1) trainings on both
#
# The second call needs the first's build-gpu: run it right after, on the same warm machine
# (a fresh machine starts bare). Logs and JSON go to $OUT (or ./gpu-check-out). Exit status:
# 0 when everything built and passed, 1 on a failure, 124 when a step ran out of its time.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check-out}"
mkdir -p "$out"
build=build-gpu
phase="${1:-}"

# the seconds each call may take in all, under the 5 minutes with some to spare
call_limit=280
started=$(date +%s)
# Runs a command with `timeout`: at most $1 seconds, and no further than the call's limit.
bounded() {
  local want=$1
  shift
  local left=$((call_limit - ($(date +%s) - started)))
  [ "$want" -gt "$left" ] && want=$left
  if [ "$want" -le 0 ]; then
    echo "skipped (out of time): $*"
    return 124
  fi
  timeout --kill-after=5 "$want" "$@"
}
elapsed() { echo "$(($(date +%s) - started)) s"; }

case "$phase" in
build)
  jobs=$(nproc)
  gen=()
  command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  echo "== nvidia-smi"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -2
  echo "== configure"
  bounded 60 cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCONVOY_CUDA=ON \
    -DCONVOY_PYTHON=OFF -DCONVOY_MPI=OFF -DCONVOY_HDF5=OFF -DCONVOY_DEPS_DIR="$PWD/.deps" \
    >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
  echo "configured in $(elapsed)"
  echo "== build ($jobs jobs)"
  bounded "$call_limit" cmake --build "$build" -j"$jobs" --target convoy convoy_tests \
    >"$out/build.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    tail -40 "$out/build.log"
    [ $rc -eq 124 ] && echo "build ran out of time after $(elapsed)"
    exit $rc
  fi
  echo "built in $(elapsed)"
  ;;

test)
  if [ ! -x "$build/convoy" ] || [ ! -x "$build/tests/convoy_tests" ]; then
    echo "no $build/convoy or $build/tests/convoy_tests: run scripts/gpu-check.sh build first"
    exit 1
  fi
  status=0
  fail() { [ "$1" -eq 124 ] && status=124 || { [ $status -eq 0 ] && status=1; }; }

  echo "== tests"
  # half as many tests at once as cores, two OpenMP threads each (a test takes every core by
  # default, and spinning threads of eight tests on the same cores slow them all); the CLI test,
  # the longest (it trains two presets on the CPU), starts first (its COST)
  ctest_jobs=$(($(nproc) / 2))
  [ $ctest_jobs -lt 1 ] && ctest_jobs=1
  OMP_NUM_THREADS=2 bounded 170 ctest --test-dir "$build" --output-on-failure -j"$ctest_jobs" \
    >"$out/ctest.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    fail $rc
    [ $rc -eq 124 ] && echo "ctest ran out of time after $(elapsed); its last lines:" &&
      tail -5 "$out/ctest.log"
  fi
  grep -E "tests passed|\(Failed\)|\(Timeout\)" "$out/ctest.log"
  echo "skipped: $(grep -c "(Skipped)" "$out/ctest.log") (reasons in $out/ctest.log); $(elapsed)"

  echo "== bench"
  bench="$build/convoy"
  : >"$out/bench.jsonl"
  devices="cpu"
  if bounded 20 "$bench" bench --env CartPole-v1 --device cuda --num-envs 1 --steps 1 \
      >/dev/null 2>"$out/cuda-probe.err"; then
    devices="cpu cuda"
  else
    echo "cuda benchmarks skipped: $(tail -1 "$out/cuda-probe.err")"
  fi
  # each a second or two of stepping; 15 s at most
  for env in CartPole-v1 Pendulum-v1 Acrobot-v1 MountainCarContinuous-v0; do
    for spec in "cpu 65536 300" "cpu 1048576 50" "cuda 65536 1000" "cuda 1048576 500" \
        "cuda 16777216 100"; do
      set -- $spec
      case " $devices " in *" $1 "*) ;; *) continue ;; esac
      bounded 15 "$bench" bench --env "$env" --device "$1" --num-envs "$2" --steps "$3" --json \
        >>"$out/bench.jsonl" 2>>"$out/bench.err"
      rc=$?
      [ $rc -eq 124 ] && echo "bench $env $spec ran out of time (15 s)"
      [ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "bench $env $spec failed: $(tail -1 "$out/bench.err")"
    done
  done
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$out/bench.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'env':<26}{'device':<8}{'num_envs':>10}{'steps':>7}{'threads':>8}{'M env-steps/s':>15}")
for r in rows:
    print(f"{r['env']:<26}{r['device']:<8}{r['num_envs']:>10}{r['steps']:>7}{r['threads']:>8}"
          f"{r['env_steps_per_second']/1e6:>15.1f}")
PY
  else
    cat "$out/bench.jsonl"
  fi
  echo "bench done; $(elapsed)"

  # Short trainings on cpu and cuda, same preset and seed, shortened to fit the call: compared
  # by eye (returns and steps/s); the runs are not bit-identical across devices (cuBLAS vs
  # Eigen, CUDA's libm), and the learning requirements are tests (PpoCuda.*, SacCuda.*).
  train() {  # name, seconds, convoy train arguments...
    local name=$1 secs=$2
    shift 2
    for dev in $devices; do
      local t0
      t0=$(date +%s)
      if bounded "$secs" "$build/convoy" train "$@" --device "$dev" --out "$out/$name-$dev" \
          >"$out/$name-$dev.log" 2>&1; then
        local s="$out/$name-$dev/summary.json"
        echo "$name $dev: $(($(date +%s) - t0)) s;" \
          "$(grep -o '"mean_return": [^,]*' "$s" | head -1)" \
          "$(grep -o '"std_return": [^,]*' "$s" | head -1)" \
          "$(grep -o '"random_mean_return": [^,]*' "$s" | head -1)" \
          "$(grep -o '"train_seconds": [^,}]*' "$s" | head -1)"
      else
        local rc=$?
        echo "$name on $dev failed ($rc): $(tail -2 "$out/$name-$dev.log")"
        fail $rc
      fi
    done
  }
  echo "== train (PPO CartPole-v1 preset, 30,000 steps; SAC Pendulum-v1 preset, 5,000 steps)"
  train ppo-cartpole 35 --env CartPole-v1 --total-steps 30000 --eval-episodes 10
  train sac-pendulum 30 --env Pendulum-v1 --algo sac --total-steps 5000 --eval-episodes 5
  echo "done in $(elapsed)"
  exit $status
  ;;

*)
  echo "usage: scripts/gpu-check.sh build | test   (two device calls; see the top of this file)"
  exit 2
  ;;
esac
