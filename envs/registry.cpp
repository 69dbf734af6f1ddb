#include "envs/registry.h"

namespace convoy {

const Registry& env_registry() {
  static const Registry registry = [] {
    Registry r;
    register_classic_envs(r);
    register_driving_envs(r);
    register_robot_envs(r);
    return r;
  }();
  return registry;
}

}  // namespace convoy
