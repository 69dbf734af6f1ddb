// Racetrack-v0's engine instantiations and registry entry (see envs/driving/driving.h).
#include "envs/driving/driving.h"
#include "envs/driving/racetrack.h"
#include "sim/batched_env.h"

namespace convoy::envs {

namespace {
// action=steer is Box(1), action=accel_steer Box(2): two engine instantiations behind one
// name; bad values are reported by read_params.
std::unique_ptr<VecEnv> make_racetrack(const Device& device, std::int64_t n, const Config& config) {
  const auto it = config.values().find("action");
  if (it != config.values().end() && it->second == "accel_steer") {
    return make_batched_env<Racetrack<true>>(device, n, config);
  }
  return make_batched_env<Racetrack<false>>(device, n, config);
}
}  // namespace

EnvEntry racetrack_entry() { return {default_env_spec<Racetrack<false>>(), &make_racetrack}; }

}  // namespace convoy::envs
