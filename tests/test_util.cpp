#include "tests/test_util.h"

#include "sim/array.h"
#include "sim/error.h"

namespace convoy::test {

std::vector<std::string> backends() {
  std::vector<std::string> out = {"cpu"};
  if (built_with_cuda()) out.push_back("cuda");
  return out;
}

Device device_or_skip(const std::string& backend, std::string* skip) {
  if (backend == "cuda") {
    if (cuda_device_count() == 0) {
      *skip = "no usable CUDA GPU: " + cuda_unavailable_reason();
      return Device::cpu();
    }
    return Device::cuda(0);
  }
  return Device::cpu();
}

std::string error_message(const std::function<void()>& construct) {
  try {
    construct();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<float> random_trace(VecEnv& env, std::uint64_t seed, std::uint64_t action_seed,
                                int steps) {
  DeviceArray<float> float_actions(env.device(), env.num_envs() * env.act_dim());
  DeviceArray<std::int32_t> int_actions(env.device(), env.num_envs() * env.act_dim());
  void* actions = env.discrete_actions() ? static_cast<void*>(int_actions.data())
                                         : static_cast<void*>(float_actions.data());
  env.reset(seed);
  std::vector<float> trace;
  for (int t = 0; t < steps; ++t) {
    env.sample_actions(action_seed, static_cast<std::uint64_t>(t), actions);
    env.step_raw(actions);
    const auto obs = env.obs().to_host();
    const auto r = env.reward().to_host();
    trace.insert(trace.end(), obs.begin(), obs.end());
    trace.insert(trace.end(), r.begin(), r.end());
  }
  return trace;
}

}  // namespace convoy::test
