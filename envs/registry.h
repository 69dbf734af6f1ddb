// The registry of every environment Convoy ships. Adding an env (docs/new-env.md): write its
// header, as the env contract (sim/env_contract.h) says, and register it from its folder's .cu
// file, register_<folder>_envs(); a new folder is one word in CONVOY_ENV_FOLDERS below.
#pragma once

#include "sim/registry.h"

// The env folders (envs/<folder>/), each defining register_<folder>_envs(Registry&) in one of
// its files; env_registry() calls them in this order, which is the order `convoy envs` lists.
#define CONVOY_ENV_FOLDERS(X) X(classic) X(driving) X(robot) X(example)

namespace convoy {

// Built once, on first use.
const Registry& env_registry();

#define CONVOY_DECLARE_REGISTER_ENVS(folder) void register_##folder##_envs(Registry& registry);
CONVOY_ENV_FOLDERS(CONVOY_DECLARE_REGISTER_ENVS)
#undef CONVOY_DECLARE_REGISTER_ENVS

}  // namespace convoy
