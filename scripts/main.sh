#!/usr/bin/env bash
# The main job, until training lands: build Convoy and benchmark every classic env on the
# default device (CUDA when a GPU is usable, else every CPU core).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCONVOY_CUDA=AUTO >/dev/null
cmake --build build -j"${CONVOY_JOBS:-2}" --target convoy >/dev/null
./build/convoy envs
for env in CartPole-v1 Pendulum-v1 Acrobot-v1 MountainCarContinuous-v0; do
  ./build/convoy bench --env "$env" --num-envs 65536 --steps 500 --device auto
done
./build/convoy bench --env Highway-v0 --num-envs 4096 --steps 60 --device auto
