#include "sim/autoreset.h"
#include "sim/parallel.h"

namespace convoy {

namespace {

struct IsDone {
  const std::uint8_t* done;
  CONVOY_HD bool operator()(std::int64_t i) const { return done[i] != 0; }
};

}  // namespace

namespace detail {

ComposeKernel compose_kernel(const VecEnv& env, const StepOutputs& out) {
  return ComposeKernel{env.obs_dim(),
                       env.obs().data(),
                       env.final_obs().data(),
                       env.terminated().data(),
                       env.truncated().data(),
                       env.final_episode_return().data(),
                       env.final_episode_length().data(),
                       out};
}

}  // namespace detail

std::int64_t compose_step_outputs(const VecEnv& env, float* obs_out, std::uint8_t* done,
                                  double* episode_return, std::int32_t* episode_length) {
  const std::int64_t n = env.num_envs();
  const detail::ComposeKernel k =
      detail::compose_kernel(env, StepOutputs{obs_out, done, episode_return, episode_length});
  if (env.device().is_cpu()) {
    return for_each_block_cpu(n, kComposeBlock,
                              [&k](std::int64_t b, std::int64_t e) { return k.block(b, e); });
  }
  for_each_index(env.device(), n, k);
  return count_if_index(env.device(), n, IsDone{done});
}

std::int64_t VecEnv::step_compose(const void* d_actions, const std::uint8_t* d_skip,
                                  const StepOutputs& out) {
  step_raw(d_actions, d_skip);
  return compose_step_outputs(*this, out.obs_out, out.done, out.episode_return, out.episode_length);
}

}  // namespace convoy
