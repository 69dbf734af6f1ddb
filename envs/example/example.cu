// Instantiates the engine for PointNav-v0 and registers it. A .cu file because
// make_batched_env<E> compiles E's kernels (nvcc with CUDA on, the C++ compiler without);
// CMake finds it by its folder (envs/*/*.cu), and the word `example` in CONVOY_ENV_FOLDERS
// (envs/registry.h) has env_registry() call register_example_envs.
#include "envs/example/point_nav.h"
#include "envs/registry.h"
#include "sim/batched_env.h"

namespace convoy {

void register_example_envs(Registry& registry) {
  // the spec `convoy envs` and Python's list_envs show (default settings), and the factory
  registry.add({default_env_spec<envs::PointNav>(), &make_batched_env<envs::PointNav>});
}

}  // namespace convoy
