#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing, checks formatting,
# builds Convoy (with CUDA when the toolkit is here: it must compile even where no GPU can
# run it), installs it and builds and runs examples/cpp against the install, runs every test
# on it, builds the CPU backend with ASan + UBSan and runs the same tests again (with the
# Python tests about memory lifetimes, tests/python_asan.sh), runs the Release tests once
# more with shuffled launches and the device-side step checks, then installs the Python
# package (pip install .) and runs its tests.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${CONVOY_JOBS:-2}"

bash scripts/install-deps.sh

echo "== clang-format check"
git ls-files '*.h' '*.cpp' '*.cu' | xargs clang-format --dry-run -Werror

echo "== build (CUDA=AUTO, Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCONVOY_CUDA=AUTO >/dev/null
cmake --build build -j"$jobs"

# The C++ package as an outside project gets it: installed (headers, static libraries, CMake
# package) to a scratch prefix, examples/cpp built against that alone, and run briefly.
echo "== C++ package: install, build examples/cpp against it, run it"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cmake --install build --prefix "$scratch/prefix" --component devel >/dev/null
if grep -rlF "$PWD" "$scratch/prefix" --include='*.cmake'; then
  echo "the installed CMake package above points into $PWD"
  exit 1
fi
cmake -S examples/cpp -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" -j"$jobs"
"$scratch/build/train_highway" --steps 2048 --out "$scratch/run"
test -s "$scratch/run/metrics.csv" && test -s "$scratch/run/saved.ckpt"

echo "== build (CPU backend, ASan + UBSan; with _core for tests/python_asan.sh)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVOY_CUDA=OFF -DCONVOY_SANITIZE=ON \
  -DCONVOY_PYTHON=ON -DCONVOY_MPI=OFF -DCONVOY_HDF5=OFF >/dev/null
cmake --build build-asan -j"$jobs"

echo "== tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== tests (Release$(grep -q 'CONVOY_HAVE_CUDA=1' build/compile_commands.json 2>/dev/null && echo ', built with CUDA'))"
ctest --test-dir build --output-on-failure -j"$jobs"

# The GPU-readiness checks that need no GPU: launch order cannot change a result (a race on a
# GPU would), and the device-side action checks every CUDA step uses (sim/step_status.h) run
# here on the CPU; the CUDA build's link check is in ctest above.
echo "== tests (Release, CPU: shuffled launch order, device-side step checks)"
CONVOY_SHUFFLED_LAUNCH=1 CONVOY_DEFERRED_CHECKS=1 \
  ctest --test-dir build --output-on-failure -j"$jobs" -E '^(one_definition_check)$'

echo "== Python package (pip install .) and its tests"
PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --no-build-isolation .
(cd tests/python && python3 -m pytest -q -p no:cacheprovider .)
