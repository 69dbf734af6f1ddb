// Checkpoints: a learner's flat parameters and optimiser state with what is needed to rebuild
// it (env, algorithm, settings, progress). The file is versioned and checksummed (CRC-32 of
// everything after the magic) and written to a temporary name then renamed, so a crash never
// leaves a half-written checkpoint; a truncated, corrupted, foreign or newer file is refused
// with a clear convoy::Error, never half-loaded.
//
// Version 2 added what resuming a run needs beyond the policy: the normalisers' statistics
// and the env's full state (VecEnv::save_state). Version 3 added named blobs: a learner's
// state that does not fit the fields above (SAC's critic and alpha Adam groups, counters and
// replay buffer). Older and newer files are refused by version number.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rl/normalize.h"

namespace convoy::rl {

struct Checkpoint {
  static constexpr std::uint32_t kVersion = 3;
  std::string env;   // "Highway-v0"
  std::string algo;  // "ppo"
  std::map<std::string, std::string> env_config, learner_config;
  std::int64_t global_step = 0, iteration = 0;
  std::vector<float> params;          // the learner's flat parameters
  std::vector<float> adam_m, adam_v;  // Adam's moments, same layout
  std::int64_t adam_steps = 0;
  RunningMeanStd obs_rms;                    // dim 0 unless norm_obs
  RunningMeanStd return_rms;                 // dim 0 unless norm_reward
  std::vector<double> discounted_returns;    // (num_envs) norm_reward's returns in flight
  std::string env_state;                     // VecEnv::save_state(); empty: not resumable
  std::map<std::string, std::string> blobs;  // learner-specific state by name (v3)
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
Checkpoint load_checkpoint(const std::string& path);

}  // namespace convoy::rl
