#include "sim/autoreset.h"
#include "sim/parallel.h"

namespace convoy {

namespace {
struct ComposeKernel {
  std::int64_t obs_dim;
  const float* obs;
  const float* final_obs;
  const std::uint8_t* terminated;
  const std::uint8_t* truncated;
  const double* final_return;
  const std::int32_t* final_length;
  float* obs_out;
  std::uint8_t* done;
  double* episode_return;
  std::int32_t* episode_length;
  CONVOY_HD void operator()(std::int64_t i) const {
    const bool d = terminated[i] || truncated[i];
    done[i] = d ? 1 : 0;
    episode_return[i] = d ? final_return[i] : 0.0;
    episode_length[i] = d ? final_length[i] : 0;
    if (obs_out) {
      const float* src = (d ? final_obs : obs) + i * obs_dim;
      float* dst = obs_out + i * obs_dim;
      for (std::int64_t k = 0; k < obs_dim; ++k) dst[k] = src[k];
    }
  }
};

struct IsDone {
  const std::uint8_t* done;
  CONVOY_HD bool operator()(std::int64_t i) const { return done[i] != 0; }
};
}  // namespace

std::int64_t compose_step_outputs(const VecEnv& env, float* obs_out, std::uint8_t* done,
                                  double* episode_return, std::int32_t* episode_length) {
  const std::int64_t n = env.num_envs();
  for_each_index(env.device(), n,
                 ComposeKernel{env.obs_dim(), env.obs().data(), env.final_obs().data(),
                               env.terminated().data(), env.truncated().data(),
                               env.final_episode_return().data(), env.final_episode_length().data(),
                               obs_out, done, episode_return, episode_length});
  return count_if_index(env.device(), n, IsDone{done});
}

}  // namespace convoy
