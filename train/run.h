// The runner: one training run, the same for `convoy train`, convoy.train (Python) and C++
// programs (examples/cpp). It owns what every entry point shares:
// - settings: the checked-in preset presets/<algo>/<env>.conf, then key=value words (learner
//   keys as they are, env keys prefixed "env."), then num_envs / total_steps / seed where given;
//   each learner key is declared once in its config's read_config (LearnerEntry::settings);
// - the device: Device::parse, so "auto" means the same everywhere (train, eval, bench,
//   Python): cuda:0 when a GPU is usable in this build, else the CPU;
// - checkpoints: DIR/checkpoint.ckpt ten times over the run and at its end; resume: a run
//   continued from its checkpoint ends with the same bits as one that was not interrupted
//   (same device, same thread count);
// - the metrics sinks, generated from the learner's field table (train/metrics.h): CSV,
//   TensorBoard, the progress line, and any callback (Python's);
// - evaluation against the env's scripted baseline and a random policy (DIR/summary.json).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rl/checkpoint.h"
#include "sim/config.h"
#include "train/evaluation.h"
#include "train/learner.h"
#include "train/metrics.h"

namespace convoy::train {

struct RunOptions {
  std::string env;  // required unless resuming
  std::string algo = "ppo";
  bool algo_given = false;  // a resumed run refuses another algorithm only when asked for
  std::string device = "auto";
  std::int64_t num_envs = 0;          // 0: the preset's (or the learner's default)
  std::int64_t total_steps = 0;       // 0: the preset's
  std::int64_t seed = -1;             // -1: the preset's
  std::vector<std::string> settings;  // key=value (learner), env.key=value (env)
  bool use_preset = true;
  std::string preset_dir;       // "": default_preset_dir()
  std::string out;              // the run's directory; "": no files at all
  bool out_given = false;       // out named on a command line (checked against --resume)
  std::string resume;           // a run's directory to continue from its checkpoint
  std::int64_t stop_after = 0;  // stop after this iteration with a checkpoint (0: the end)
  int eval_episodes = 20;       // at the end of the run; 0: no evaluation
  bool progress = true;         // the progress line and the run's messages on stdout
};

// presets/ of the source tree, or $CONVOY_PRESET_DIR when set.
std::string default_preset_dir();

class Run {
 public:
  // Checks every option, reads the preset (or the checkpoint to resume), builds the env and
  // the learner; writes nothing yet. Bad options are convoy::Errors naming the value.
  explicit Run(const RunOptions& options);

  Learner& learner() { return *learner_; }
  const std::string& env_name() const { return env_name_; }
  const Config& env_config() const { return env_config_; }
  const Config& settings() const { return settings_; }
  bool resuming() const { return resuming_; }

  // Trains from where the learner is to the end of the run (or to stop_after, or until
  // `callback` returns false), writing the sinks and the checkpoints. True when the run's
  // last iteration is done.
  bool train(const std::function<bool(const Metrics&)>& callback = {});
  // Seconds train() spent.
  double train_seconds() const { return train_seconds_; }

  // The learner's checkpoint with the env, algorithm and settings that rebuild it.
  rl::Checkpoint checkpoint() const;
  // The trained policy beside the baseline and a random policy, on the run's device.
  PolicyComparison evaluate(int episodes) const;

  // `convoy train`: train(), then (when the run ended) evaluate, print and write summary.json.
  void execute();

 private:
  RunOptions o_;
  bool resuming_ = false;
  rl::Checkpoint resume_from_;
  std::string env_name_;
  Config env_config_, settings_;
  std::uint64_t seed_ = 0;
  std::unique_ptr<Learner> learner_;
  double train_seconds_ = 0;
  std::string events_file_;  // the TensorBoard file train() wrote to
};

}  // namespace convoy::train
