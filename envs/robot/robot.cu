// Instantiates the engine for the robot envs and registers them: one line each.
#include "envs/registry.h"
#include "envs/robot/diffdrive_nav.h"
#include "sim/batched_env.h"

namespace convoy {

void register_robot_envs(Registry& registry) {
  registry.add({default_env_spec<envs::DiffDriveNav>(), &make_batched_env<envs::DiffDriveNav>});
}

}  // namespace convoy
