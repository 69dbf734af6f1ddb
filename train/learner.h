// The training layer's view of a learner: PPO and SAC today (DQN next), each trained in
// iterations (a PPO iteration; a SAC chunk of about 1% of the run), each reporting one row
// of its own metric table (train/metrics.h), each checkpointed and acting greedily alike.
// A learner owns the env it trains on. The runner (train/run.h) and the policy loader
// (train/policy.h) only see this interface; a new algorithm is one more LearnerEntry.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rl/checkpoint.h"
#include "sim/config.h"
#include "sim/device.h"
#include "sim/vec_env.h"
#include "train/metrics.h"

namespace convoy::train {

class Learner {
 public:
  virtual ~Learner() = default;

  virtual const char* algo() const = 0;  // "ppo"
  virtual const std::vector<MetricField>& fields() const = 0;
  // One iteration of training; its values in fields() order.
  virtual Metrics iterate() = 0;
  virtual std::int64_t num_iterations() const = 0;  // of the whole run
  virtual std::int64_t iteration() const = 0;       // done so far (a resumed run's included)
  virtual std::int64_t global_step() const = 0;     // env steps so far, all envs
  virtual std::int64_t total_steps() const = 0;     // env steps of the whole run
  virtual std::uint64_t seed() const = 0;           // the run's seed setting
  // One line: what trains, e.g. "PPO on cpu: 16 envs, 98304 env steps (48 iterations), seed 1".
  virtual std::string describe() const = 0;

  // Everything iterate() depends on (the caller adds env, algo and the settings), and back.
  virtual rl::Checkpoint make_checkpoint() const = 0;
  // Checks sizes first and throws convoy::Error, changing nothing, when they differ; without
  // the env state it restores only what acting needs (parameters, frozen obs statistics).
  virtual void restore_checkpoint(const rl::Checkpoint& c, bool with_env_state) = 0;
  virtual std::int64_t num_params() const = 0;

  // Greedy actions for `batch` host obs rows into host `actions` (int32 for Discrete
  // spaces, float for Box), whatever the device.
  virtual void act(const float* obs, std::int64_t batch, void* actions) = 0;

  VecEnv& env() { return *env_; }
  const VecEnv& env() const { return *env_; }

 protected:
  std::unique_ptr<VecEnv> env_;
};

// How a learner is made. `acting_only` builds it to act from a checkpoint (no replay memory).
struct LearnerEntry {
  std::string algo;                        // "ppo"
  std::string description;                 // one line
  const std::vector<MetricField>* fields;  // what iterate() reports
  // The learner's settings as documented key=value keys (name, type, default, range, help):
  // the one declaration behind parsing, validation, `convoy train --help` and Python.
  std::function<std::vector<ConfigKey>()> settings;
  std::function<std::unique_ptr<Learner>(const std::string& env, const Config& env_config,
                                         const Config& settings, const Device& device,
                                         bool acting_only)>
      make;
};

const std::vector<LearnerEntry>& learners();
// The entry of `algo`; a convoy::Error listing the allowed algorithms otherwise.
const LearnerEntry& find_learner(const std::string& algo);
// "ppo, sac"
std::string learner_names();

}  // namespace convoy::train
