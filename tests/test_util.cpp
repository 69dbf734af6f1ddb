#include "tests/test_util.h"

#include <cstring>

#include "envs/registry.h"
#include "sim/array.h"
#include "sim/config.h"
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

std::vector<std::uint32_t> kernels_trace(const std::string& name,
                                         const std::vector<std::string>& cfg, int threads,
                                         int steps, bool reseed_midway, std::int64_t* episodes,
                                         std::int64_t n) {
  set_cpu_threads(threads);
  const Device cpu = Device::cpu();
  auto env = env_registry().make(name, cpu, n, Config::parse(cfg));
  DeviceArray<std::int32_t> ai(cpu, n * env->act_dim());
  DeviceArray<float> af(cpu, n * env->act_dim());
  void* a = env->discrete_actions() ? static_cast<void*>(ai.data()) : static_cast<void*>(af.data());
  DeviceArray<std::uint8_t> skip(cpu, n), done(cpu, n), prev(cpu, n);
  DeviceArray<float> obs_out(cpu, n * env->obs_dim());
  DeviceArray<double> ret(cpu, n);
  DeviceArray<std::int32_t> len(cpu, n);
  done.zero();
  std::vector<std::uint32_t> out;
  auto add = [&](const auto& array) {
    for (const auto v : array.to_host()) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &v, sizeof(v));
      out.push_back(static_cast<std::uint32_t>(bits));
      out.push_back(static_cast<std::uint32_t>(bits >> 32));
    }
  };
  env->reset(7);
  add(env->obs());
  for (int t = 0; t < steps; ++t) {
    if (reseed_midway && t == steps / 2) {
      std::vector<std::uint64_t> seeds(n);
      for (std::int64_t i = 0; i < n; ++i) seeds[i] = 1000 + 3 * static_cast<std::uint64_t>(i);
      env->reset(seeds);
      add(env->obs());
      done.zero();
    }
    env->sample_actions(11, static_cast<std::uint64_t>(t), a);
    if (t % 2) {
      prev.copy_from(done);
      const std::int64_t ended =
          env->step_compose(a, t % 4 == 3 ? prev.data() : nullptr,
                            {obs_out.data(), done.data(), ret.data(), len.data()});
      out.push_back(static_cast<std::uint32_t>(ended));
      if (episodes) *episodes += ended;
      add(obs_out);
      add(done);
      add(ret);
      add(len);
    } else {
      std::vector<std::uint8_t> s(n);
      for (std::int64_t i = 0; i < n; ++i) s[i] = (i + t) % 5 == 0;
      skip.copy_from_host(s);
      env->step_raw(a, skip.data());
    }
    add(env->obs());
    add(env->reward());
    add(env->terminated());
    add(env->truncated());
    add(env->final_obs());
    add(env->episode_return());
    add(env->episode_length());
    add(env->final_episode_return());
    add(env->final_episode_length());
    add(env->final_outcome());
  }
  set_cpu_threads(0);
  return out;
}

void snapshot_replay(VecEnv& env, std::uint64_t seed, std::uint64_t action_seed, int steps_before,
                     int steps_until, std::vector<float>* first, std::vector<float>* second) {
  DeviceArray<float> float_actions(env.device(), env.num_envs() * env.act_dim());
  DeviceArray<std::int32_t> int_actions(env.device(), env.num_envs() * env.act_dim());
  void* actions = env.discrete_actions() ? static_cast<void*>(int_actions.data())
                                         : static_cast<void*>(float_actions.data());
  env.reset(seed);
  for (int t = 0; t < steps_before; ++t) {
    env.sample_actions(action_seed, static_cast<std::uint64_t>(t), actions);
    env.step_raw(actions);
  }
  const std::string saved = env.save_state();
  auto run = [&](std::vector<float>* out) {
    out->clear();
    for (int t = steps_before; t < steps_until; ++t) {
      env.sample_actions(action_seed, static_cast<std::uint64_t>(t), actions);
      env.step_raw(actions);
      const auto obs = env.obs().to_host(), r = env.reward().to_host();
      out->insert(out->end(), obs.begin(), obs.end());
      out->insert(out->end(), r.begin(), r.end());
    }
  };
  run(first);
  env.load_state(saved);
  run(second);
}

std::size_t first_difference(const std::vector<std::uint32_t>& a,
                             const std::vector<std::uint32_t>& b) {
  std::size_t first = 0;
  while (first < b.size() && first < a.size() && a[first] == b[first]) ++first;
  return first;
}

}  // namespace convoy::test
