// Merge-v0's engine instantiations and registry entry (see envs/driving/driving.h).
#include "envs/driving/driving.h"
#include "envs/driving/merge.h"
#include "sim/batched_env.h"

namespace convoy::envs {

namespace {
// Two engine instantiations behind one name, by action_type (as Highway-v0).
std::unique_ptr<VecEnv> make_merge(const Device& device, std::int64_t n, const Config& config) {
  const auto it = config.values().find("action_type");
  if (it != config.values().end() && it->second == "continuous") {
    return make_batched_env<Merge<false>>(device, n, config);
  }
  return make_batched_env<Merge<true>>(device, n, config);
}
}  // namespace

EnvEntry merge_entry() { return {default_env_spec<Merge<true>>(), &make_merge}; }

}  // namespace convoy::envs
