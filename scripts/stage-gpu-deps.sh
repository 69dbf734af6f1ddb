#!/usr/bin/env bash
# Stages what the GPU check machine lacks (it has no package registry): CLI11 and Eigen headers and
# GoogleTest's source, from this machine's Debian packages, into .deps/ (git-ignored). Then
# carry ".deps" in the device run that calls scripts/gpu-check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
rm -rf .deps && mkdir -p .deps/include
cp -r /usr/include/CLI .deps/include/
cp -r /usr/include/dlpack .deps/include/
cp -r /usr/src/googletest .deps/googletest
cp -r /usr/include/eigen3 .deps/eigen3
du -sh .deps
