#include "train/evaluation.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <vector>

#include "envs/registry.h"
#include "sim/array.h"
#include "sim/device.h"

namespace convoy::train {

PolicyFn host_policy(HostActFn act) {
  // host staging for a CUDA env, reused across the steps of one evaluation
  struct Staging {
    std::vector<std::int32_t> ia;
    std::vector<float> fa;
  };
  auto staging = std::make_shared<Staging>();
  return [act = std::move(act), staging](VecEnv& e, void* d_actions, int) {
    const std::int64_t n = e.num_envs(), na = n * e.act_dim();
    if (e.device().is_cpu()) {
      act(e.obs().data(), n, d_actions);
      return;
    }
    // evaluation is not the training loop: a host round trip per step (obs down, actions
    // up) is fine here, and keeps one host-pointer interface for every learner
    const std::vector<float> obs = e.obs().to_host();
    void* h = nullptr;
    std::size_t bytes = 0;
    if (e.discrete_actions()) {
      staging->ia.resize(na);
      h = staging->ia.data();
      bytes = na * sizeof(std::int32_t);
    } else {
      staging->fa.resize(na);
      h = staging->fa.data();
      bytes = na * sizeof(float);
    }
    act(obs.data(), n, h);
    copy_bytes(d_actions, e.device(), h, Device::cpu(), bytes);
  };
}

EvalResult evaluate(const std::string& env_name, const Config& env_config, int episodes,
                    std::uint64_t seed, const PolicyFn& policy, const Device& device) {
  auto env = env_registry().make(env_name, device, episodes, env_config);
  DeviceArray<std::int32_t> ia(device, env->num_envs() * env->act_dim());
  DeviceArray<float> fa(device, env->num_envs() * env->act_dim());
  void* actions =
      env->discrete_actions() ? static_cast<void*>(ia.data()) : static_cast<void*>(fa.data());
  env->reset(seed);
  std::vector<double> ret(episodes, NAN), len(episodes, 0);
  int left = episodes, early = 0, success = 0, collision = 0;
  const bool outcomes = env->spec().has_outcome;
  for (int t = 0; left > 0 && t < 1000000; ++t) {
    policy(*env, actions, t);
    env->step_raw(actions);
    env->check_steps();
    // the flags and episode statistics come to the host every step (on CUDA too: evaluation
    // is not the training loop, and the bookkeeping below is per episode)
    const auto term = env->terminated().to_host(), trunc = env->truncated().to_host();
    const auto r = env->final_episode_return().to_host();
    const auto l = env->final_episode_length().to_host();
    const auto out = env->final_outcome().to_host();
    for (int i = 0; i < episodes; ++i) {
      if (!std::isnan(ret[i]) || !(term[i] || trunc[i])) continue;
      ret[i] = r[i];
      len[i] = l[i];
      early += term[i] && !trunc[i];
      success += out[i] == static_cast<std::uint8_t>(EpisodeOutcome::kSuccess);
      collision += out[i] == static_cast<std::uint8_t>(EpisodeOutcome::kCollision);
      --left;
    }
  }
  EvalResult e;
  for (int i = 0; i < episodes; ++i) {
    e.mean += ret[i] / episodes;
    e.mean_length += len[i] / episodes;
  }
  for (int i = 0; i < episodes; ++i) e.std += (ret[i] - e.mean) * (ret[i] - e.mean) / episodes;
  e.std = std::sqrt(e.std);
  e.early_end_rate = static_cast<double>(early) / episodes;
  if (outcomes) {
    e.success_rate = static_cast<double>(success) / episodes;
    e.collision_rate = static_cast<double>(collision) / episodes;
  }
  return e;
}

PolicyComparison compare_policies(const std::string& env_name, const Config& env_config,
                                  int episodes, std::uint64_t seed, Learner& learner,
                                  const Device& device) {
  return compare_policies(env_name, env_config, episodes, seed, learner.algo(),
                          host_policy([&learner](const float* obs, std::int64_t n, void* a) {
                            learner.act(obs, n, a);
                          }),
                          device);
}

PolicyComparison compare_policies(const std::string& env_name, const Config& env_config,
                                  int episodes, std::uint64_t seed, const std::string& algo,
                                  const PolicyFn& trained, const Device& device) {
  PolicyComparison c;
  c.env = env_name;
  c.algo = algo;
  c.device = device.str();
  c.episodes = episodes;
  c.trained = evaluate(env_name, env_config, episodes, seed, trained, device);
  auto random_policy = [&](VecEnv& e, void* a, int t) {
    e.sample_actions(seed, static_cast<std::uint64_t>(t), a);
  };
  c.random = evaluate(env_name, env_config, episodes, seed, random_policy, device);
  const EnvSpec& spec = env_registry().find(env_name).spec;
  c.has_baseline = spec.has_baseline();
  if (c.has_baseline) {
    const Config autopilot = with_baseline(spec, env_config);
    c.baseline = evaluate(env_name, autopilot, episodes, seed, random_policy, device);
  }
  return c;
}

void print_comparison(const PolicyComparison& c) {
  const bool outcomes = !std::isnan(c.random.success_rate);
  std::printf("evaluation over %d episodes (return mean +- std, early ends%s):\n", c.episodes,
              outcomes ? ", success, collisions" : "");
  auto row = [outcomes](const char* name, const EvalResult& r) {
    std::printf("  %-9s %8.2f +- %6.2f  %4.0f%%", name, r.mean, r.std, 100 * r.early_end_rate);
    if (outcomes) {
      std::printf("  %4.0f%%  %4.0f%%", 100 * r.success_rate, 100 * r.collision_rate);
    }
    std::printf("\n");
  };
  std::string name = c.algo;
  for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  row(name.c_str(), c.trained);
  if (c.has_baseline) row("baseline", c.baseline);
  row("random", c.random);
}

namespace {
std::string number_or_null(double x) {
  if (std::isnan(x)) return "null";
  std::ostringstream o;
  o << x;
  return o.str();
}
}  // namespace

std::string comparison_json(const PolicyComparison& c, std::int64_t env_steps,
                            double train_seconds) {
  std::ostringstream js;
  js << "{\"env\": \"" << c.env << "\", \"algo\": \"" << c.algo << "\", \"device\": \"" << c.device
     << "\", \"episodes\": " << c.episodes << ", \"mean_return\": " << c.trained.mean
     << ", \"std_return\": " << c.trained.std
     << ", \"early_end_rate\": " << c.trained.early_end_rate
     << ", \"mean_length\": " << c.trained.mean_length
     << ", \"success_rate\": " << number_or_null(c.trained.success_rate)
     << ", \"collision_rate\": " << number_or_null(c.trained.collision_rate)
     << ", \"baseline_mean_return\": "
     << (c.has_baseline ? std::to_string(c.baseline.mean) : std::string("null"))
     << ", \"baseline_success_rate\": "
     << number_or_null(c.has_baseline ? c.baseline.success_rate : NAN)
     << ", \"baseline_collision_rate\": "
     << number_or_null(c.has_baseline ? c.baseline.collision_rate : NAN)
     << ", \"random_mean_return\": " << c.random.mean
     << ", \"random_success_rate\": " << number_or_null(c.random.success_rate)
     << ", \"random_collision_rate\": " << number_or_null(c.random.collision_rate)
     << ", \"env_steps\": " << env_steps;
  if (train_seconds >= 0) js << ", \"train_seconds\": " << train_seconds;
  js << "}";
  return js.str();
}

}  // namespace convoy::train
