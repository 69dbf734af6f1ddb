// Instantiates the engine for the classic-control envs and registers them: one line each.
#include "envs/classic/acrobot.h"
#include "envs/classic/cartpole.h"
#include "envs/classic/mountain_car_continuous.h"
#include "envs/classic/pendulum.h"
#include "envs/registry.h"
#include "sim/batched_env.h"

namespace convoy {

namespace {
template <class E>
EnvEntry entry() {
  return {default_env_spec<E>(), &make_batched_env<E>};
}
}  // namespace

void register_classic_envs(Registry& registry) {
  registry.add(entry<envs::CartPole>());
  registry.add(entry<envs::Pendulum>());
  registry.add(entry<envs::MountainCarContinuous>());
  registry.add(entry<envs::Acrobot>());
}

}  // namespace convoy
