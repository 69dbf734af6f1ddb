#include <string>

#include "replay/rollout.h"
#include "sim/error.h"
#include "sim/parallel.h"

namespace convoy {

namespace {
std::int64_t positive(const char* what, std::int64_t v) {
  if (v < 1) {
    throw Error(std::string("RolloutBuffer: ") + what + " " + std::to_string(v) +
                " is invalid; allowed: >= 1");
  }
  return v;
}

// One env's GAE, backwards over time. Per env because the recursion runs along t.
struct GaeKernel {
  std::int64_t T, N;
  float gamma, lambda;
  const float* values;             // (T x N)
  const float* rewards;            // (T x N)
  const std::uint8_t* terminated;  // (T x N)
  const std::uint8_t* truncated;   // (T x N)
  const float* final_values;       // (T x N)
  const float* last_values;        // (N)
  float* advantages;               // (T x N)
  float* returns;                  // (T x N)
  CONVOY_HD void operator()(std::int64_t i) const {
    float next_advantage = 0.0f;
    for (std::int64_t t = T - 1; t >= 0; --t) {
      const std::int64_t k = t * N + i;
      const bool term = terminated[k] != 0, trunc = truncated[k] != 0;
      // the value the episode continues with after step t
      float next_value;
      if (term) {
        next_value = 0.0f;
      } else if (trunc) {
        next_value = final_values[k];
      } else {
        next_value = t == T - 1 ? last_values[i] : values[k + N];
      }
      const float delta = rewards[k] + gamma * next_value - values[k];
      // an episode boundary stops the advantage from flowing back across it
      const float carry = (term || trunc) ? 0.0f : gamma * lambda * next_advantage;
      next_advantage = delta + carry;
      advantages[k] = next_advantage;
      returns[k] = next_advantage + values[k];
    }
  }
};
}  // namespace

RolloutBuffer::RolloutBuffer(const Device& device, std::int64_t num_steps, std::int64_t num_envs,
                             std::int64_t obs_dim, std::int64_t act_dim)
    : obs(device, positive("num_steps", num_steps) * positive("num_envs", num_envs) *
                      positive("obs_dim", obs_dim)),
      actions(device, num_steps * num_envs * positive("act_dim", act_dim)),
      log_probs(device, num_steps * num_envs),
      values(device, num_steps * num_envs),
      rewards(device, num_steps * num_envs),
      terminated(device, num_steps * num_envs),
      truncated(device, num_steps * num_envs),
      final_values(device, num_steps * num_envs),
      advantages(device, num_steps * num_envs),
      returns(device, num_steps * num_envs),
      device_(device),
      num_steps_(num_steps),
      num_envs_(num_envs),
      obs_dim_(obs_dim),
      act_dim_(act_dim) {
  final_values.zero();
  terminated.zero();
  truncated.zero();
}

void RolloutBuffer::compute_gae(const float* d_last_values, float gamma, float lambda) {
  if (!(gamma >= 0.0f && gamma <= 1.0f) || !(lambda >= 0.0f && lambda <= 1.0f)) {
    throw Error("compute_gae: gamma " + std::to_string(gamma) + " and lambda " +
                std::to_string(lambda) + " must both be in [0, 1]");
  }
  for_each_index(device_, num_envs_,
                 GaeKernel{num_steps_, num_envs_, gamma, lambda, values.data(), rewards.data(),
                           terminated.data(), truncated.data(), final_values.data(), d_last_values,
                           advantages.data(), returns.data()});
}

}  // namespace convoy
