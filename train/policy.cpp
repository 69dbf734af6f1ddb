#include "train/policy.h"

#include "sim/error.h"

namespace convoy::train {

CheckpointPolicy::CheckpointPolicy(const std::string& path, const Device& device)
    : ckpt_(rl::load_checkpoint(path)), device_(device) {
  const LearnerEntry* entry = nullptr;
  for (const auto& e : learners()) {
    if (e.algo == ckpt_.algo) entry = &e;
  }
  if (!entry) {
    throw Error("checkpoint '" + path + "': algorithm '" + ckpt_.algo +
                "' is unknown; allowed: " + learner_names());
  }
  Config settings;
  for (const auto& [k, v] : ckpt_.env_config) env_config_.set(k, v);
  for (const auto& [k, v] : ckpt_.learner_config) settings.set(k, v);
  // the networks run on any device: the greedy forward runs where the evaluated envs do
  learner_ = entry->make(ckpt_.env, env_config_, settings, device_, /*acting_only=*/true);
  if (static_cast<std::int64_t>(ckpt_.params.size()) != learner_->num_params()) {
    throw Error("checkpoint '" + path + "' holds " + std::to_string(ckpt_.params.size()) +
                " parameters but its settings make " + std::to_string(learner_->num_params()));
  }
  learner_->restore_checkpoint(ckpt_, /*with_env_state=*/false);  // params, frozen obs stats
}

PolicyComparison CheckpointPolicy::compare(int episodes, std::uint64_t seed) {
  return compare_policies(ckpt_.env, env_config_, episodes, seed, *learner_, device_);
}

}  // namespace convoy::train
