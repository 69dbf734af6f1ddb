// Evaluation shared by `convoy train` and `convoy eval`: a policy's mean and spread of return
// over fresh episodes, side by side with the env's scripted baseline (where it has one) and
// a uniformly random policy, all from the same seeds.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>

#include "rl/ppo.h"
#include "sim/config.h"
#include "sim/vec_env.h"

namespace convoy::cli {

struct EvalResult {
  double mean = 0, std = 0;
  double early_end_rate = 0;  // episodes that terminated before the time limit
  double mean_length = 0;
  // where the env reports episode outcomes (EnvSpec::has_outcome): the share of episodes that
  // ended in success / in a collision; NaN otherwise
  double success_rate = NAN, collision_rate = NAN;
};

// One episode in each of `episodes` envs (reset from `seed`), acting by `policy`, until every
// env has finished once.
EvalResult evaluate(const std::string& env_name, const Config& env_config, int episodes,
                    std::uint64_t seed, const std::function<void(VecEnv&, void*, int)>& policy);

struct PolicyComparison {
  std::string env;
  int episodes = 0;
  EvalResult trained, random, baseline;
  bool has_baseline = false;
};

// The PPO policy (greedy), the baseline and a random policy on the same seeds.
PolicyComparison compare_policies(const std::string& env_name, const Config& env_config,
                                  int episodes, std::uint64_t seed, rl::Ppo& ppo);
void print_comparison(const PolicyComparison& c);
// One JSON object: env, episodes, mean_return, std_return, early_end_rate, mean_length,
// success_rate and collision_rate (null where the env has no outcomes), baseline_mean_return
// (null without a baseline), baseline_success_rate, random_mean_return, random_success_rate,
// and the extras given.
std::string comparison_json(const PolicyComparison& c, std::int64_t env_steps,
                            double train_seconds);

}  // namespace convoy::cli
