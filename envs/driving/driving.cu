// Instantiates the engine for the driving envs and registers them: one line each.
#include "envs/driving/highway.h"
#include "envs/driving/intersection.h"
#include "envs/driving/merge.h"
#include "envs/driving/parking.h"
#include "envs/driving/racetrack.h"
#include "envs/registry.h"
#include "sim/batched_env.h"

namespace convoy {

namespace {
// Highway-v0's action dtype follows its action_type setting, so it is two engine
// instantiations behind one name; bad values are reported by read_params.
std::unique_ptr<VecEnv> make_highway(const Device& device, std::int64_t n, const Config& config) {
  const auto it = config.values().find("action_type");
  if (it != config.values().end() && it->second == "continuous") {
    return make_batched_env<envs::Highway<false>>(device, n, config);
  }
  return make_batched_env<envs::Highway<true>>(device, n, config);
}
// Racetrack-v0 likewise: action=steer is Box(1), action=accel_steer Box(2).
std::unique_ptr<VecEnv> make_racetrack(const Device& device, std::int64_t n, const Config& config) {
  const auto it = config.values().find("action");
  if (it != config.values().end() && it->second == "accel_steer") {
    return make_batched_env<envs::Racetrack<true>>(device, n, config);
  }
  return make_batched_env<envs::Racetrack<false>>(device, n, config);
}
// Merge-v0 likewise, by action_type.
std::unique_ptr<VecEnv> make_merge(const Device& device, std::int64_t n, const Config& config) {
  const auto it = config.values().find("action_type");
  if (it != config.values().end() && it->second == "continuous") {
    return make_batched_env<envs::Merge<false>>(device, n, config);
  }
  return make_batched_env<envs::Merge<true>>(device, n, config);
}
// Intersection-v0 likewise (action_type, as Highway-v0).
std::unique_ptr<VecEnv> make_intersection(const Device& device, std::int64_t n,
                                          const Config& config) {
  const auto it = config.values().find("action_type");
  if (it != config.values().end() && it->second == "continuous") {
    return make_batched_env<envs::Intersection<false>>(device, n, config);
  }
  return make_batched_env<envs::Intersection<true>>(device, n, config);
}
}  // namespace

void register_driving_envs(Registry& registry) {
  registry.add({default_env_spec<envs::Highway<true>>(), &make_highway});
  registry.add({default_env_spec<envs::Merge<true>>(), &make_merge});
  registry.add({default_env_spec<envs::Parking>(), &make_batched_env<envs::Parking>});
  registry.add({default_env_spec<envs::Racetrack<false>>(), &make_racetrack});
  registry.add({default_env_spec<envs::Intersection<true>>(), &make_intersection});
}

}  // namespace convoy
