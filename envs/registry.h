// The registry of every environment Convoy ships. Adding an env: write its header (see
// sim/batched_env.h for what it states), add one line to its group's .cu file (the driving
// envs: a .cu file of its own and a line in envs/driving/driving.cpp; see driving.h).
#pragma once

#include "sim/registry.h"

namespace convoy {

// Built once, on first use.
const Registry& env_registry();

// Per group, in the group's .cu file (envs/driving/driving.cpp for the driving envs).
void register_classic_envs(Registry& registry);
void register_driving_envs(Registry& registry);
void register_robot_envs(Registry& registry);

}  // namespace convoy
