// RolloutBuffer: T steps x N envs of on-policy experience for PPO, device-resident and
// time-major ([T, N, ...]), filled one step at a time straight from the VecEnv's buffers, and
// GAE over it (Schulman et al. 2016) that tells terminations from truncations: a terminated
// episode bootstraps from 0, a truncated one from the value of its final observation (the
// VecEnv's final_obs, valued by the critic and stored in final_values), so time limits do not
// leak into the value targets (Pardo et al. 2018; Huang et al., "37 implementation details").
#pragma once

#include <cstdint>

#include "sim/array.h"
#include "sim/device.h"

namespace convoy {

class RolloutBuffer {
 public:
  RolloutBuffer(const Device& device, std::int64_t num_steps, std::int64_t num_envs,
                std::int64_t obs_dim, std::int64_t act_dim);

  const Device& device() const { return device_; }
  std::int64_t num_steps() const { return num_steps_; }
  std::int64_t num_envs() const { return num_envs_; }
  std::int64_t obs_dim() const { return obs_dim_; }
  std::int64_t act_dim() const { return act_dim_; }

  // Step t's slice of a [T, N, d] array.
  template <class T>
  static T* at(DeviceArray<T>& a, std::int64_t t, std::int64_t n, std::int64_t d) {
    return a.data() + t * n * d;
  }

  // Advantages and returns (= advantages + values) for every step, given the critic's value
  // of the observation after the last step (last_values, (N), on this device). gamma and
  // lambda in [0, 1].
  void compute_gae(const float* d_last_values, float gamma, float lambda);

  DeviceArray<float> obs;                // (T x N x obs_dim) observation the action was taken on
  DeviceArray<float> actions;            // (T x N x act_dim) (Discrete: the index as a float)
  DeviceArray<float> log_probs;          // (T x N) log pi(a | s) when acting
  DeviceArray<float> values;             // (T x N) V(s) when acting
  DeviceArray<float> rewards;            // (T x N)
  DeviceArray<std::uint8_t> terminated;  // (T x N)
  DeviceArray<std::uint8_t> truncated;   // (T x N)
  DeviceArray<float> final_values;       // (T x N) V(final obs), read where truncated only
  DeviceArray<float> advantages;         // (T x N) written by compute_gae
  DeviceArray<float> returns;            // (T x N) written by compute_gae

 private:
  Device device_;
  std::int64_t num_steps_, num_envs_, obs_dim_, act_dim_;
};

}  // namespace convoy
