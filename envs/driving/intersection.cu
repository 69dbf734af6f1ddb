// Intersection-v0's engine instantiations and registry entry (see envs/driving/driving.h).
#include "envs/driving/driving.h"
#include "envs/driving/intersection.h"
#include "sim/batched_env.h"

namespace convoy::envs {

namespace {
// Two engine instantiations behind one name, by action_type (as Highway-v0).
std::unique_ptr<VecEnv> make_intersection(const Device& device, std::int64_t n,
                                          const Config& config) {
  const auto it = config.values().find("action_type");
  if (it != config.values().end() && it->second == "continuous") {
    return make_batched_env<Intersection<false>>(device, n, config);
  }
  return make_batched_env<Intersection<true>>(device, n, config);
}
}  // namespace

EnvEntry intersection_entry() {
  return {default_env_spec<Intersection<true>>(), &make_intersection};
}

}  // namespace convoy::envs
