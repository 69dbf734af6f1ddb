#include "envs/registry.h"

namespace convoy {

const Registry& env_registry() {
  static const Registry registry = [] {
    Registry r;
#define CONVOY_REGISTER_ENVS(folder) register_##folder##_envs(r);
    CONVOY_ENV_FOLDERS(CONVOY_REGISTER_ENVS)
#undef CONVOY_REGISTER_ENVS
    return r;
  }();
  return registry;
}

}  // namespace convoy
