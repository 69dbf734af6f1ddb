#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and the CUDA toolkit but no package registry: builds what it
# can (CLI11 and GoogleTest from .deps/ when the system lacks them: scripts/stage-gpu-deps.sh),
# runs every test including the CUDA ones and the CPU-vs-CUDA equivalence, and prints a
# table of `convoy bench` figures on cpu and cuda. Meant to finish well under 8 minutes on
# an H200, build included. Logs and JSON go to $OUT (or ./gpu-check-out) when set.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check-out}"
mkdir -p "$out"
jobs=$(nproc)
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)

echo "== nvidia-smi"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -2 || true

echo "== build"
t0=$(date +%s)
cmake -S . -B build-gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCONVOY_CUDA=ON \
  -DCONVOY_PYTHON=OFF -DCONVOY_MPI=OFF -DCONVOY_HDF5=OFF -DCONVOY_DEPS_DIR="$PWD/.deps" \
  >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build-gpu -j"$jobs" >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"

echo "== tests"
ctest --test-dir build-gpu --output-on-failure -j4 >"$out/ctest.log" 2>&1
test_rc=$?
grep -E "tests passed|\(Failed\)" "$out/ctest.log"
echo "skipped: $(grep -c "(Skipped)" "$out/ctest.log") (reasons in $out/ctest.log)"

echo "== bench"
bench=build-gpu/convoy
: >"$out/bench.jsonl"
devices="cpu"
if "$bench" bench --env CartPole-v1 --device cuda --num-envs 1 --steps 1 >/dev/null 2>"$out/cuda-probe.err"; then
  devices="cpu cuda"
else
  echo "cuda benchmarks skipped: $(tail -1 "$out/cuda-probe.err")"
fi
for env in CartPole-v1 Pendulum-v1 Acrobot-v1 MountainCarContinuous-v0; do
  for spec in "cpu 65536 300" "cpu 1048576 50" "cuda 65536 1000" "cuda 1048576 500" "cuda 16777216 100"; do
    set -- $spec
    case " $devices " in *" $1 "*) ;; *) continue ;; esac
    timeout 120 "$bench" bench --env "$env" --device "$1" --num-envs "$2" --steps "$3" --json \
      >>"$out/bench.jsonl" 2>>"$out/bench.err" || echo "bench $env $spec failed: $(tail -1 "$out/bench.err")"
  done
done
python3 - "$out/bench.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'env':<26}{'device':<8}{'num_envs':>10}{'steps':>7}{'threads':>8}{'M env-steps/s':>15}")
for r in rows:
    print(f"{r['env']:<26}{r['device']:<8}{r['num_envs']:>10}{r['steps']:>7}{r['threads']:>8}"
          f"{r['env_steps_per_second']/1e6:>15.1f}")
PY

# PPO on the GPU against the CPU, same preset and seed (rl/ppo.h): both must learn CartPole; the
# runs are not bit-identical across devices (cuBLAS vs Eigen), so their returns are compared
# by eye in the table
echo "== train (PPO, CartPole-v1 preset, cpu vs cuda)"
for dev in $devices; do
  t0=$(date +%s)
  if timeout 180 build-gpu/convoy train --env CartPole-v1 --device "$dev" --out "$out/train-$dev" \
      >"$out/train-$dev.log" 2>&1; then
    python3 - "$out/train-$dev/summary.json" "$dev" "$(( $(date +%s) - t0 ))" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"train {sys.argv[2]:<5} eval mean {s.get('mean_return')} +- {s.get('std_return')} "
      f"in {sys.argv[3]} s")
PY
  else
    echo "train on $dev failed: $(tail -2 "$out/train-$dev.log")"
    test_rc=1
  fi
done

# SAC on the GPU against the CPU, Pendulum-v1 preset and seed (rl/sac.h): both must learn
# (the summary's evaluation mean); not bit-identical across devices (cuBLAS vs Eigen, CUDA's
# expf/tanhf), so compared by eye in the table, with each run's steps/s
echo "== train (SAC, Pendulum-v1 preset, cpu vs cuda)"
for dev in $devices; do
  t0=$(date +%s)
  if timeout 240 build-gpu/convoy train --env Pendulum-v1 --algo sac --device "$dev" \
      --out "$out/train-sac-$dev" >"$out/train-sac-$dev.log" 2>&1; then
    python3 - "$out/train-sac-$dev/summary.json" "$dev" "$(( $(date +%s) - t0 ))" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"train sac {sys.argv[2]:<5} eval mean {s.get('mean_return')} +- {s.get('std_return')} "
      f"in {sys.argv[3]} s")
PY
    grep -o "[0-9]* steps/s" "$out/train-sac-$dev.log" | tail -1 | sed "s/^/  sac $dev: /"
  else
    echo "train sac on $dev failed: $(tail -2 "$out/train-sac-$dev.log")"
    test_rc=1
  fi
done
exit $test_rc
