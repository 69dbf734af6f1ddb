// A policy loaded from a checkpoint written by the runner (`convoy train`, convoy.train, the
// C++ API), ready to act greedily on batches of observations and to be evaluated against the
// env's baseline and a random policy, on the CPU or a CUDA device. Used by `convoy eval` and
// the Python package (convoy.Policy.load, convoy.evaluate).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "rl/checkpoint.h"
#include "sim/config.h"
#include "sim/device.h"
#include "sim/vec_env.h"
#include "train/evaluation.h"
#include "train/learner.h"

namespace convoy::train {

class CheckpointPolicy {
 public:
  // Throws convoy::Error for unreadable, corrupt or foreign files, an unknown algorithm, or
  // parameters that do not fit the checkpoint's own settings. `device` is where compare()
  // runs its envs; the policy's networks live there too.
  explicit CheckpointPolicy(const std::string& path, const Device& device = Device::cpu());

  const rl::Checkpoint& checkpoint() const { return ckpt_; }
  const std::string& env_name() const { return ckpt_.env; }
  const std::string& algo() const { return ckpt_.algo; }
  const Config& env_config() const { return env_config_; }
  std::int64_t obs_dim() const { return learner_->env().obs_dim(); }
  std::int64_t act_dim() const { return learner_->env().act_dim(); }
  bool discrete() const { return learner_->env().discrete_actions(); }
  const EnvSpec& spec() const { return learner_->env().spec(); }
  const Device& device() const { return device_; }

  // Greedy actions for `batch` observations (batch x obs_dim floats, host memory) into
  // `actions` (host memory, batch x act_dim: int32 for Discrete spaces, float for Box),
  // whatever the device.
  void act(const float* obs, std::int64_t batch, void* actions) {
    learner_->act(obs, batch, actions);
  }

  // Mean/std return, early ends and outcomes over `episodes` fresh episodes, beside the
  // env's scripted baseline (where it has one) and a random policy on the same seeds, with
  // every env on device().
  PolicyComparison compare(int episodes, std::uint64_t seed);

 private:
  rl::Checkpoint ckpt_;
  Config env_config_;
  Device device_;
  std::unique_ptr<Learner> learner_;  // built to act only, on its own env (sizes its buffers)
};

}  // namespace convoy::train
