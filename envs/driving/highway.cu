// Highway-v0's engine instantiations and registry entry (see envs/driving/driving.h).
#include "envs/driving/driving.h"
#include "envs/driving/highway.h"
#include "sim/batched_env.h"

namespace convoy::envs {

namespace {
// The action dtype follows the action_type setting, so Highway-v0 is two engine
// instantiations behind one name; bad values are reported by read_params.
std::unique_ptr<VecEnv> make_highway(const Device& device, std::int64_t n, const Config& config) {
  const auto it = config.values().find("action_type");
  if (it != config.values().end() && it->second == "continuous") {
    return make_batched_env<Highway<false>>(device, n, config);
  }
  return make_batched_env<Highway<true>>(device, n, config);
}
}  // namespace

EnvEntry highway_entry() { return {default_env_spec<Highway<true>>(), &make_highway}; }

}  // namespace convoy::envs
