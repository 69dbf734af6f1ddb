#!/usr/bin/env bash
# Installs everything Convoy builds and tests with, from Debian's packages and PyPI.
# Idempotent: when all is present it changes nothing and touches no network.
set -euo pipefail

debs=(cmake g++ make ninja-build pkg-config libgtest-dev libcli11-dev libeigen3-dev libdlpack-dev libcairo2-dev
      libgif-dev zlib1g-dev ccache clang-format
      python3 python3-pip)
# Thrust ships with the CUDA toolkit (CCCL); without one, Debian's copy serves the CPU build.
if [ ! -f /usr/local/cuda/include/cccl/thrust/version.h ] && [ ! -f /usr/local/cuda/include/thrust/version.h ]; then
  debs+=(libthrust-dev)
fi

missing=()
for p in "${debs[@]}"; do
  # a tool already on PATH (a newer one installed another way) counts as present
  case "$p" in
    cmake|make|ccache|clang-format|python3|pkg-config) command -v "$p" >/dev/null 2>&1 && continue ;;
    g++) command -v g++ >/dev/null 2>&1 && continue ;;
    python3-pip) python3 -m pip --version >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# PyPI: the Python package's build and runtime dependencies, pytest, Gymnasium (the
# reference the golden data and the Python equality tests come from), TensorBoard and PettingZoo
# (its parallel_api_test checks convoy.parallel_env).
pips=()
python3 -c "import numpy" >/dev/null 2>&1 || pips+=("numpy")
python3 -c "import gymnasium" >/dev/null 2>&1 || pips+=("gymnasium>=1.1,<2")
python3 -c "import pybind11" >/dev/null 2>&1 || pips+=("pybind11>=2.12")
python3 -c "import scikit_build_core" >/dev/null 2>&1 || pips+=("scikit-build-core>=0.10")
python3 -c "import pytest" >/dev/null 2>&1 || pips+=("pytest>=7")
# TensorBoard: tests/python/test_tensorboard.py reads `convoy train`'s event files with it
python3 -c "import tensorboard" >/dev/null 2>&1 || pips+=("tensorboard>=2.14")
python3 -c "import pettingzoo" >/dev/null 2>&1 || pips+=("pettingzoo>=1.24")
# highway-env: tests/python/test_highway_env_defaults.py compares the driving envs' defaults
# with it, and bench/highway_vs_highwayenv.py times it; pinned, as its defaults are the reference
python3 -c "import highway_env" >/dev/null 2>&1 || pips+=("highway-env==1.12.1")
if [ ${#pips[@]} -gt 0 ]; then
  echo "install-deps: installing from PyPI: ${pips[*]}"
  python3 -m pip install -q "${pips[@]}"
fi
echo "install-deps: all dependencies present"
