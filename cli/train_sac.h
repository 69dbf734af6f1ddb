// `convoy train --algo sac`: cli/train.cpp parses the command line and hands SAC runs here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convoy::cli {

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
};

// Trains SAC on the CPU, logging about every 1% of the run to DIR/metrics.csv, saving
// DIR/checkpoint.ckpt ten times over the run and at the end, then evaluating the
// deterministic policy against the baseline and random into DIR/summary.json.
void run_train_sac(const TrainSacOptions& o);

}  // namespace convoy::cli
