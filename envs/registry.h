// The registry of every environment Convoy ships. Adding an env: write its header (see
// sim/batched_env.h for what it states), add one line to its group's .cu file.
#pragma once

#include "sim/registry.h"

namespace convoy {

// Built once, on first use.
const Registry& env_registry();

// Per group, in the group's .cu file.
void register_classic_envs(Registry& registry);
void register_driving_envs(Registry& registry);
void register_robot_envs(Registry& registry);

}  // namespace convoy
