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

std::int64_t compose_step_outputs(VecEnv& env, float* obs_out, std::uint8_t* done,
                                  double* episode_return, std::int32_t* episode_length) {
  const StepOutputs out{obs_out, done, episode_return, episode_length};
  if (!env.deferred_checks_) return env.compose_outputs(out);
  env.status_.clear_done();
  env.compose_outputs(out);
  return env.finish_step();
}

std::int64_t VecEnv::compose_outputs(const StepOutputs& out) {
  const std::int64_t n = num_envs_;
  const detail::ComposeKernel k = detail::compose_kernel(*this, out);
  const LaunchGate gate(deferred_checks_ ? status_.gate() : nullptr);
  if (!deferred_checks_) {  // the CPU: counted as it composes
    return for_each_block_cpu(n, kComposeBlock,
                              [&k](std::int64_t b, std::int64_t e) { return k.block(b, e); });
  }
  for_each_index(device_, n, k);
  count_if_index_async(device_, n, IsDone{out.done}, status_.done_counter());
  return 0;
}

std::int64_t VecEnv::step_compose(const void* d_actions, const std::uint8_t* d_skip,
                                  const StepOutputs& out) {
  if (!deferred_checks_) {
    step_raw(d_actions, d_skip);
    return compose_outputs(out);
  }
  // one host wait: the episodes that ended and the validation's verdict, read together
  status_.clear_done();
  step_raw(d_actions, d_skip);
  compose_outputs(out);
  return finish_step();
}

}  // namespace convoy
