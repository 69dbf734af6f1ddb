// `convoy train --algo sac`: cli/train.cpp parses the command line and hands SAC runs here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "rl/checkpoint.h"
#include "sim/config.h"

namespace convoy::cli {

// A run's settings as `convoy train` builds them for either learner: the preset's key=value
// words, then the command line's ("env.key=value" goes to the env, the rest to the learner),
// then --num-envs / --total-steps / --seed where given (> 0, > 0, >= 0).
struct RunSettings {
  Config env, learner;
};
RunSettings split_settings(const std::vector<std::string>& preset,
                           const std::vector<std::string>& command_line, std::int64_t num_envs,
                           std::int64_t total_steps, std::int64_t seed);

struct TrainSacOptions {
  std::string env;
  std::string device = "auto";
  std::int64_t num_envs = 0;     // 0: the preset's
  std::int64_t total_steps = 0;  // 0: the preset's
  std::int64_t seed = -1;        // -1: the preset's
  std::string out = "runs/latest";
  int eval_episodes = 20;
  std::vector<std::string> preset;  // key=value words of presets/sac/<env>.conf
  std::vector<std::string> config;  // the command line's, applied after the preset's
  std::int64_t stop_after = 0;      // stop after this chunk with a checkpoint (0: the end)
  // A checked checkpoint of a SAC run to continue (its settings replace the ones above,
  // `out` is its directory); null for a fresh run.
  const rl::Checkpoint* resume = nullptr;
};

// Rewrites `csv` with `header` and the rows of iterations <= `iteration` (a resumed run's
// later rows are written again), through a temporary file.
void truncate_metrics(const std::filesystem::path& csv, const std::string& header,
                      std::int64_t iteration);

// Trains SAC on the CPU, logging about every 1% of the run to DIR/metrics.csv, saving
// DIR/checkpoint.ckpt ten times over the run and at the end, then evaluating the
// deterministic policy against the baseline and random into DIR/summary.json.
void run_train_sac(const TrainSacOptions& o);

}  // namespace convoy::cli
