#!/usr/bin/env bash
# Runs the Python tests about memory lifetimes (views read after close(), threads sharing one
# env) under AddressSanitizer + UBSan, against a convoy._core built with -DCONVOY_SANITIZE=ON.
# Python itself is not instrumented, so the ASan runtime is preloaded; the tests read views
# through memcpy, which ASan checks, so a view of freed memory is a heap-use-after-free report.
#
#   tests/python_asan.sh BUILD/_core.cpython-*.so [pytest args...]
#
# ctest runs it in a sanitized build with Python on (tests/CMakeLists.txt; scripts/test.sh).
set -euo pipefail
core="$(realpath "$1")"
shift
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"

# the package as the tests import it: bindings/convoy's modules beside the built _core
pkg="$(mktemp -d)"
trap 'rm -rf "$pkg"' EXIT
mkdir "$pkg/convoy"
ln -s "$root"/bindings/convoy/* "$pkg/convoy/"
ln -s "$core" "$pkg/convoy/"

# the ASan runtime _core was linked with (g++'s, if ldd does not name one), and libstdc++ from
# the start too: ASan finds the real __cxa_throw when it starts, so C++ exceptions thrown by a
# library loaded later (dlopen) would stop the process in its interceptor
lib() { ldd "$core" | awk -v name="$1" '$1 ~ name {print $3; exit}'; }
asan="$(lib libasan)"
[[ -n "$asan" ]] || asan="$(g++ -print-file-name=libasan.so)"
stdcxx="$(lib libstdc)"
[[ -n "$stdcxx" ]] || stdcxx="$(g++ -print-file-name=libstdc++.so)"

# detect_leaks=0: CPython keeps its objects at exit, which LeakSanitizer would report;
# --capture=sys: a report goes to file descriptor 2, which pytest would otherwise swallow
cd "$root/tests/python"
LD_PRELOAD="$asan $stdcxx" PYTHONPATH="$pkg" PYTHONMALLOC=malloc \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  "$python" -m pytest -q -p no:cacheprovider --capture=sys test_view_lifetime.py test_threads.py "$@"
