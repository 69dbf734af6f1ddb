#!/usr/bin/env bash
# The main job: build Convoy, then train a driving policy (PPO on HighwayFast-v0, preset
# presets/ppo/HighwayFast-v0.conf) on the default device and end with its evaluation against
# the IDM/MOBIL autopilot and a random policy. ("auto": cuda:0 when a GPU is usable, else the
# CPU.) HighwayFast-v0 rather than Highway-v0: highway-env's lighter highway (3 lanes, 20 cars,
# 5 Hz), the one its own PPO example trains, several times cheaper a step.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCONVOY_CUDA=AUTO >/dev/null
cmake --build build -j"${CONVOY_JOBS:-2}" --target convoy >/dev/null
./build/convoy train --env HighwayFast-v0 --device auto --out runs/highway-fast-ppo
