// The driving envs' registry entries. Each env's engine instantiation (its kernels) is a
// translation unit of its own, envs/driving/<env>.cu, so that the build compiles them in
// parallel (together they were one nvcc run of minutes); envs/driving/driving.cpp registers them.
#pragma once

#include "sim/registry.h"

namespace convoy::envs {

EnvEntry highway_entry();
EnvEntry highway_fast_entry();
EnvEntry merge_entry();
EnvEntry parking_entry();
EnvEntry racetrack_entry();
EnvEntry intersection_entry();

}  // namespace convoy::envs
