// BatchedEnv<E> is the engine behind every VecEnv: it owns E's state (structure of arrays),
// validates actions, launches E's per-env stages with for_each_index and does the episode
// bookkeeping and SAME_STEP auto-reset inside the same per-env pass. An env E only states
// its physics and rules:
//
//   struct E {
//     static constexpr const char* kName, *kDescription;
//     static constexpr int kObsDim, kActDim, kStateDim;   // kActDim is 1 for Discrete
//     static constexpr bool kDiscrete;
//     struct Params { std::int32_t max_episode_steps; ... };   // by value into kernels
//     static Params read_params(ConfigReader&);
//     static Space observation_space(const Params&), action_space(const Params&);
//     static double reward_threshold(const Params&);          // NaN if none
//     struct View { ... raw SoA pointers ... };
//     struct State { State(const Device&, std::int64_t n); View view(); };
//     CONVOY_HD static void reset(const Params&, const View&, std::int64_t i, PhiloxStream&);
//     CONVOY_HD static void step(const Params&, const View&, std::int64_t i, Action a,
//                                float* reward, bool* terminated);  // Action: int32 or const
//                                float*
//     CONVOY_HD static void observe(const Params&, const View&, std::int64_t i, float* obs);
//     CONVOY_HD static void read_state(const View&, std::int64_t i, double* s);
//     CONVOY_HD static void write_state(const View&, std::int64_t i, const double* s);
//   };
//
// Include this only from .cu files: it launches kernels.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "sim/array.h"
#include "sim/config.h"
#include "sim/parallel.h"
#include "sim/rng.h"
#include "sim/vec_env.h"

namespace convoy {

namespace detail {
// True for NaN and +-inf, by the bit pattern, so -ffast-math cannot fold it away.
CONVOY_HD_INLINE bool not_finite(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return (bits & 0x7f800000u) == 0x7f800000u;
}

// E::step with env i's action, int32 or float32 by E's action space. (A function rather
// than `if constexpr` inside the step lambda, which nvcc's extended lambdas do not allow.)
template <class E, class Params, class View>
CONVOY_HD_INLINE void apply_action(const Params& p, const View& v, std::int64_t i,
                                   const std::int32_t* a_int, const float* a_float, float* reward,
                                   bool* terminated) {
  if constexpr (E::kDiscrete) {
    E::step(p, v, i, a_int[i], reward, terminated);
  } else {
    E::step(p, v, i, a_float + i * E::kActDim, reward, terminated);
  }
}
}  // namespace detail

template <class E>
EnvSpec make_env_spec(const typename E::Params& params, std::vector<ConfigKey> keys) {
  EnvSpec s;
  s.name = E::kName;
  s.description = E::kDescription;
  s.observation_space = E::observation_space(params);
  s.action_space = E::action_space(params);
  s.max_episode_steps = params.max_episode_steps;
  s.reward_threshold = E::reward_threshold(params);
  s.state_dim = E::kStateDim;
  s.config_keys = std::move(keys);
  return s;
}

template <class E>
class BatchedEnv final : public VecEnv {
 public:
  using Params = typename E::Params;

  BatchedEnv(const Device& device, std::int64_t num_envs, const Params& params, EnvSpec spec)
      : VecEnv(device, num_envs, std::move(spec)),
        params_(params),
        state_(device, num_envs_),
        episode_(device, num_envs_),
        elapsed_(device, num_envs_) {
    episode_.zero();
    elapsed_.zero();
    const Space& a = spec_.action_space;
    if (a.is_box()) {
      act_low_ = DeviceArray<float>(device, a.low);
      act_high_ = DeviceArray<float>(device, a.high);
    }
  }

  void reset(std::uint64_t seed) override {
    seed_ = seed;
    const Params p = params_;
    const typename E::View v = state_.view();
    std::uint32_t* episode = episode_.data();
    std::int32_t* elapsed = elapsed_.data();
    double* ep_return = episode_return_.data();
    std::int32_t* ep_length = episode_length_.data();
    float* obs = obs_.data();
    std::uint8_t* terminated = terminated_.data();
    std::uint8_t* truncated = truncated_.data();
    float* reward = reward_.data();
    for_each_index(device_, num_envs_, [=] CONVOY_HD(std::int64_t i) {
      PhiloxStream rng(seed, static_cast<std::uint64_t>(i), 0, 0, RngPurpose::kReset);
      E::reset(p, v, i, rng);
      episode[i] = 0;
      elapsed[i] = 0;
      ep_return[i] = 0.0;
      ep_length[i] = 0;
      reward[i] = 0.0f;
      terminated[i] = 0;
      truncated[i] = 0;
      E::observe(p, v, i, obs + i * E::kObsDim);
    });
    was_reset_ = true;
  }

  void step_raw(const void* d_actions) override {
    check_reset("step()");
    if (d_actions == nullptr) throw Error(spec_.name + ": step() got a null action pointer");
    validate_actions(d_actions);

    const Params p = params_;
    const typename E::View v = state_.view();
    const std::uint64_t seed = seed_;
    const std::int32_t* a_int = static_cast<const std::int32_t*>(d_actions);
    const float* a_float = static_cast<const float*>(d_actions);
    std::uint32_t* episode = episode_.data();
    std::int32_t* elapsed = elapsed_.data();
    double* ep_return = episode_return_.data();
    std::int32_t* ep_length = episode_length_.data();
    double* final_return = final_episode_return_.data();
    std::int32_t* final_length = final_episode_length_.data();
    float* obs = obs_.data();
    float* final_obs = final_obs_.data();
    float* reward = reward_.data();
    std::uint8_t* terminated = terminated_.data();
    std::uint8_t* truncated = truncated_.data();
    for_each_index(device_, num_envs_, [=] CONVOY_HD(std::int64_t i) {
      // actions -> dynamics -> reward/done
      float r = 0.0f;
      bool term = false;
      detail::apply_action<E>(p, v, i, a_int, a_float, &r, &term);
      // episode bookkeeping; truncation as Gymnasium's TimeLimit (may coincide with term)
      const std::int32_t steps = elapsed[i] + 1;
      const bool trunc = steps >= p.max_episode_steps;
      const double ret = ep_return[i] + static_cast<double>(r);
      const std::int32_t len = ep_length[i] + 1;
      reward[i] = r;
      terminated[i] = term ? 1 : 0;
      truncated[i] = trunc ? 1 : 0;
      // auto-reset (SAME_STEP): keep the last obs and the episode's totals, start the next
      if (term || trunc) {
        E::observe(p, v, i, final_obs + i * E::kObsDim);
        final_return[i] = ret;
        final_length[i] = len;
        const std::uint32_t next_episode = episode[i] + 1;
        episode[i] = next_episode;
        PhiloxStream rng(seed, static_cast<std::uint64_t>(i), next_episode, 0, RngPurpose::kReset);
        E::reset(p, v, i, rng);
        elapsed[i] = 0;
        ep_return[i] = 0.0;
        ep_length[i] = 0;
      } else {
        elapsed[i] = steps;
        ep_return[i] = ret;
        ep_length[i] = len;
      }
      // observe
      E::observe(p, v, i, obs + i * E::kObsDim);
    });
  }

  void sample_actions(std::uint64_t seed, std::uint64_t counter, void* d_actions) override {
    const std::uint32_t step = static_cast<std::uint32_t>(counter);
    const std::uint32_t epoch = static_cast<std::uint32_t>(counter >> 32);
    if constexpr (E::kDiscrete) {
      const std::uint32_t n = static_cast<std::uint32_t>(spec_.action_space.n);
      std::int32_t* out = static_cast<std::int32_t*>(d_actions);
      for_each_index(device_, num_envs_, [=] CONVOY_HD(std::int64_t i) {
        PhiloxStream rng(seed, static_cast<std::uint64_t>(i), epoch, step, RngPurpose::kAction);
        out[i] = static_cast<std::int32_t>(rng.below(n));
      });
    } else {
      for (std::size_t k = 0; k < spec_.action_space.low.size(); ++k) {
        if (detail::not_finite(spec_.action_space.low[k]) ||
            detail::not_finite(spec_.action_space.high[k])) {
          throw Error(spec_.name + ": cannot sample uniform actions from the unbounded " +
                      spec_.action_space.str());
        }
      }
      const float* low = act_low_.data();
      const float* high = act_high_.data();
      float* out = static_cast<float*>(d_actions);
      for_each_index(device_, num_envs_, [=] CONVOY_HD(std::int64_t i) {
        PhiloxStream rng(seed, static_cast<std::uint64_t>(i), epoch, step, RngPurpose::kAction);
        for (int k = 0; k < E::kActDim; ++k) {
          out[i * E::kActDim + k] = low[k] + (high[k] - low[k]) * rng.uniform_float();
        }
      });
    }
  }

  std::vector<double> get_state(std::int64_t env) const override {
    check_reset("get_state()");
    check_env(env);
    DeviceArray<double> buf(device_, E::kStateDim);
    const typename E::View v = const_cast<typename E::State&>(state_).view();
    double* d_buf = buf.data();
    for_each_index(device_, 1, [=] CONVOY_HD(std::int64_t) { E::read_state(v, env, d_buf); });
    return buf.to_host();
  }

  void set_state(std::int64_t env, const std::vector<double>& state,
                 std::int32_t elapsed_steps) override {
    check_reset("set_state()");
    check_env(env);
    if (static_cast<int>(state.size()) != E::kStateDim) {
      throw Error(spec_.name + ": set_state got " + std::to_string(state.size()) +
                  " values; allowed: exactly " + std::to_string(E::kStateDim));
    }
    if (elapsed_steps < 0 || elapsed_steps >= params_.max_episode_steps) {
      throw Error(spec_.name + ": elapsed_steps " + std::to_string(elapsed_steps) +
                  " is invalid; allowed: 0.." + std::to_string(params_.max_episode_steps - 1));
    }
    DeviceArray<double> buf(device_, state);
    const Params p = params_;
    const typename E::View v = state_.view();
    const double* d_buf = buf.data();
    std::int32_t* elapsed = elapsed_.data();
    double* ep_return = episode_return_.data();
    std::int32_t* ep_length = episode_length_.data();
    float* obs = obs_.data();
    for_each_index(device_, 1, [=] CONVOY_HD(std::int64_t) {
      E::write_state(v, env, d_buf);
      elapsed[env] = elapsed_steps;
      ep_return[env] = 0.0;
      ep_length[env] = 0;
      E::observe(p, v, env, obs + env * E::kObsDim);
    });
    synchronize(device_);
  }

  void validate_actions(const void* d_actions) const {
    const std::int64_t n = num_envs_ * E::kActDim;
    std::int64_t bad = 0;
    if constexpr (E::kDiscrete) {
      const std::int32_t* a = static_cast<const std::int32_t*>(d_actions);
      const std::int32_t limit = static_cast<std::int32_t>(spec_.action_space.n);
      bad = count_if_index(device_, n,
                           [=] CONVOY_HD(std::int64_t k) { return a[k] < 0 || a[k] >= limit; });
    } else {
      const float* a = static_cast<const float*>(d_actions);
      bad = count_if_index(device_, n,
                           [=] CONVOY_HD(std::int64_t k) { return detail::not_finite(a[k]); });
    }
    if (bad) throw_bad_action(d_actions);
  }

 private:
  void check_env(std::int64_t env) const {
    if (env < 0 || env >= num_envs_) {
      throw Error(spec_.name + ": env index " + std::to_string(env) + " is invalid; allowed: 0.." +
                  std::to_string(num_envs_ - 1));
    }
  }

  Params params_;
  typename E::State state_;
  DeviceArray<std::uint32_t> episode_;     // (num_envs) episodes started since reset()
  DeviceArray<std::int32_t> elapsed_;      // (num_envs) steps into the current episode
  DeviceArray<float> act_low_, act_high_;  // (act_dim) Box bounds for sampling
  std::uint64_t seed_ = 0;
};

// Reads E's settings from `config` (throwing on bad or unknown keys) and builds the env.
template <class E>
std::unique_ptr<VecEnv> make_batched_env(const Device& device, std::int64_t num_envs,
                                         const Config& config) {
  ConfigReader reader(config, E::kName);
  const typename E::Params params = E::read_params(reader);
  reader.finish();
  return std::make_unique<BatchedEnv<E>>(device, num_envs, params,
                                         make_env_spec<E>(params, reader.keys()));
}

// E's spec with default settings, for listings.
template <class E>
EnvSpec default_env_spec() {
  const Config empty;
  ConfigReader reader(empty, E::kName);
  const typename E::Params params = E::read_params(reader);
  return make_env_spec<E>(params, reader.keys());
}

}  // namespace convoy
