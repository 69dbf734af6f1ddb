#!/usr/bin/env bash
# Stages what the GPU check machine may lack (it has the CUDA toolkit, CMake and g++ with its
# OpenMP runtime, but no package registry) from this machine's Debian packages into .deps/
# (git-ignored): Eigen's, CLI11's and DLPack's headers, GoogleTest's source, and zlib's header
# and static library (checkpoints' CRC-32). CMake takes each from there (CONVOY_DEPS_DIR) only
# where the system has none. Python, MPI and HDF5 are off in the check, Cairo and giflib
# optional (`convoy render` is left out without them). About 15 MB: carry ".deps" in the device
# call that runs `scripts/gpu-check.sh build` (the tree and it must stay under 64 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
rm -rf .deps && mkdir -p .deps/include .deps/zlib/include .deps/zlib/lib
cp -r /usr/include/CLI .deps/include/
cp -r /usr/include/dlpack .deps/include/
cp -r /usr/src/googletest .deps/googletest
cp -r /usr/include/eigen3 .deps/eigen3
cp /usr/include/zlib.h /usr/include/zconf.h .deps/zlib/include/
cp "$(dpkg -L zlib1g-dev | grep '/libz\.a$' | head -1)" .deps/zlib/lib/
du -sh .deps
