// Evaluation shared by the runner (train/run.h), `convoy eval` and Python: a policy's mean and
// spread of return over fresh episodes, side by side with the env's scripted baseline (where it has
// one) and a uniformly random policy, all from the same seeds, on the CPU or a CUDA device.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>

#include "sim/config.h"
#include "sim/device.h"
#include "sim/vec_env.h"
#include "train/learner.h"

namespace convoy::train {

struct EvalResult {
  double mean = 0, std = 0;
  double early_end_rate = 0;  // episodes that terminated before the time limit
  double mean_length = 0;
  // where the env reports episode outcomes (EnvSpec::has_outcome): the share of episodes that
  // ended in success / in a collision; NaN otherwise
  double success_rate = NAN, collision_rate = NAN;
};

// A policy: writes actions for the env's current obs (env.obs(), on the env's device) into the
// buffer on the env's device (num_envs x act_dim, int32 for Discrete spaces, float for Box);
// the int is the step count.
using PolicyFn = std::function<void(VecEnv&, void*, int)>;

// A policy that acts on host memory: `batch` rows of obs (batch x obs_dim floats) into
// actions (batch x act_dim, int32 for Discrete spaces, float for Box), as
// Learner::act does.
using HostActFn = std::function<void(const float* obs, std::int64_t batch, void* actions)>;

// A PolicyFn from a host actor. On a CPU env it hands the env's buffers over as they are; on
// a CUDA env it copies the obs to the host and the actions back every step.
PolicyFn host_policy(HostActFn act);

// One episode in each of `episodes` envs on `device` (reset from `seed`), acting by `policy`,
// until every env has finished once.
EvalResult evaluate(const std::string& env_name, const Config& env_config, int episodes,
                    std::uint64_t seed, const PolicyFn& policy,
                    const Device& device = Device::cpu());

struct PolicyComparison {
  std::string env;
  std::string algo = "ppo";    // the trained policy's learner, lower case
  std::string device = "cpu";  // where the evaluated envs ran ("cpu", "cuda:0", ...)
  int episodes = 0;
  EvalResult trained, random, baseline;
  bool has_baseline = false;
};

// The trained policy (named by `algo`, e.g. "sac"), the baseline and a random policy on the
// same seeds, every env on `device`.
PolicyComparison compare_policies(const std::string& env_name, const Config& env_config,
                                  int episodes, std::uint64_t seed, const std::string& algo,
                                  const PolicyFn& trained, const Device& device = Device::cpu());
// The same for a learner's greedy policy (its networks stay on the learner's own device).
PolicyComparison compare_policies(const std::string& env_name, const Config& env_config,
                                  int episodes, std::uint64_t seed, Learner& learner,
                                  const Device& device = Device::cpu());
void print_comparison(const PolicyComparison& c);
// One JSON object: env, algo, device, episodes, mean_return, std_return, early_end_rate,
// mean_length, success_rate and collision_rate (null where the env has no outcomes),
// baseline_mean_return (null without a baseline), baseline_success_rate,
// baseline_collision_rate, random_mean_return, random_success_rate, random_collision_rate, and
// the extras given.
std::string comparison_json(const PolicyComparison& c, std::int64_t env_steps,
                            double train_seconds);

}  // namespace convoy::train
