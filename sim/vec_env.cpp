#include "sim/vec_env.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "sim/error.h"

namespace convoy {

namespace {
std::int64_t checked_num_envs(const EnvSpec& spec, std::int64_t n) {
  if (n < 1 || n > VecEnv::kMaxEnvs) {
    throw Error(spec.name + ": num_envs " + std::to_string(n) + " is invalid; allowed: 1.." +
                std::to_string(VecEnv::kMaxEnvs));
  }
  // rows are scenes x agents: a scene is never split across two VecEnvs
  const std::int64_t a = spec.agents_per_env;
  if (a < 1 || n % a != 0) {
    throw Error(spec.name + ": num_envs " + std::to_string(n) +
                " is not a multiple of agents_per_env=" + std::to_string(a) +
                "; allowed: num_envs = scenes x agents_per_env (rows), e.g. " +
                std::to_string(a * (n / a > 0 ? n / a : 1)) + " or " +
                std::to_string(a * (n / a + 1)));
  }
  return n;
}
}  // namespace

Config with_baseline(const EnvSpec& spec, Config config) {
  const Config baseline = Config::parse(spec.baseline_config);
  for (const auto& [key, value] : baseline.values()) config.set(key, value);
  return config;
}

VecEnv::VecEnv(const Device& device, std::int64_t num_envs, EnvSpec spec)
    : device_(device),
      num_envs_(checked_num_envs(spec, num_envs)),
      spec_(std::move(spec)),
      obs_(device, num_envs_ * obs_dim()),
      reward_(device, num_envs_),
      terminated_(device, num_envs_),
      truncated_(device, num_envs_),
      final_obs_(device, num_envs_ * obs_dim()),
      episode_return_(device, num_envs_),
      episode_length_(device, num_envs_),
      final_episode_return_(device, num_envs_),
      final_episode_length_(device, num_envs_),
      final_outcome_(device, num_envs_),
      deferred_checks_(device.is_cuda() || deferred_checks_requested()) {
  if (deferred_checks_) status_ = StepStatus(device);
  // Buffers start zeroed so that nothing uninitialised is ever read back.
  obs_.zero();
  reward_.zero();
  terminated_.zero();
  truncated_.zero();
  final_obs_.zero();
  episode_return_.zero();
  episode_length_.zero();
  final_episode_return_.zero();
  final_episode_length_.zero();
  final_outcome_.zero();
}

std::string VecEnv::save_state() const {
  throw Error(spec_.name + ": this env cannot save its state");
}

void VecEnv::load_state(const std::string&) {
  throw Error(spec_.name + ": this env cannot load a saved state");
}

void VecEnv::check_reset(const char* what) const {
  if (!was_reset_) throw Error(spec_.name + ": " + what + " called before reset()");
}

void VecEnv::step(const DeviceArray<std::int32_t>& actions) {
  if (!discrete_actions()) {
    throw Error(spec_.name + ": actions are int32 but the action space " +
                spec_.action_space.str() + " takes float32");
  }
  if (actions.size() != num_envs_ * act_dim() || actions.device() != device_) {
    throw Error(spec_.name + ": action array has " + std::to_string(actions.size()) +
                " elements on " + actions.device().str() + "; expected " +
                std::to_string(num_envs_ * act_dim()) + " on " + device_.str());
  }
  step_raw(actions.data());
  check_steps();
}

void VecEnv::step(const DeviceArray<float>& actions) {
  if (discrete_actions()) {
    throw Error(spec_.name + ": actions are float32 but the action space " +
                spec_.action_space.str() + " takes int32");
  }
  if (actions.size() != num_envs_ * act_dim() || actions.device() != device_) {
    throw Error(spec_.name + ": action array has " + std::to_string(actions.size()) +
                " elements on " + actions.device().str() + "; expected " +
                std::to_string(num_envs_ * act_dim()) + " on " + device_.str());
  }
  step_raw(actions.data());
  check_steps();
}

void VecEnv::throw_bad_action(const void* d_actions, const std::uint8_t* d_skip) const {
  // Error path only: bring the actions to the host and name the first bad one.
  const std::int64_t n = num_envs_ * act_dim();
  const std::size_t elem = 4;  // int32 and float32 alike
  std::vector<unsigned char> host(static_cast<std::size_t>(n) * elem);
  copy_bytes(host.data(), Device::cpu(), d_actions, device_, host.size());
  std::vector<std::uint8_t> skip(static_cast<std::size_t>(num_envs_), 0);
  if (d_skip) copy_bytes(skip.data(), Device::cpu(), d_skip, device_, skip.size());
  const Space& space = spec_.action_space;
  for (std::int64_t k = 0; k < n; ++k) {
    if (skip[static_cast<std::size_t>(k / act_dim())]) continue;
    std::uint32_t bits;
    std::memcpy(&bits, host.data() + k * elem, sizeof(bits));
    std::int32_t i;
    float f;
    std::memcpy(&i, &bits, sizeof(i));
    std::memcpy(&f, &bits, sizeof(f));
    if (space.is_discrete() ? (i < 0 || i >= space.n) : !std::isfinite(f)) {
      throw_bad_action_at(k, bits);
    }
  }
  throw Error(spec_.name +
              ": invalid action (the device reported one but the host copy shows none)");
}

void VecEnv::throw_bad_action_at(std::int64_t k, std::uint32_t bits) const {
  const Space& space = spec_.action_space;
  const std::int64_t env = k / act_dim(), comp = k % act_dim();
  if (space.is_discrete()) {
    std::int32_t a;
    std::memcpy(&a, &bits, sizeof(a));
    throw Error(spec_.name + ": action " + std::to_string(a) + " for env " + std::to_string(env) +
                " is outside " + space.str() + "; allowed: integers 0.." +
                std::to_string(space.n - 1));
  }
  float a;
  std::memcpy(&a, &bits, sizeof(a));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", a);
  throw Error(spec_.name + ": action[" + std::to_string(comp) + "] for env " + std::to_string(env) +
              " is " + buf + "; allowed: finite float32 values (" + space.str() +
              ", values outside the bounds are clipped)");
}

std::int64_t VecEnv::finish_step() {
  if (!deferred_checks_) return 0;
  const unsigned long long* w = status_.read();
  if (w[StepWord::kGate] != 0) {
    const auto k = static_cast<std::int64_t>(w[StepWord::kFirstBad]);
    const auto bits = static_cast<std::uint32_t>(w[StepWord::kBadBits]);
    status_.reopen();
    throw_bad_action_at(k, bits);
  }
  return static_cast<std::int64_t>(w[StepWord::kDone]);
}

}  // namespace convoy
