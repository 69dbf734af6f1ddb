#include "cli/policy.h"

#include "envs/registry.h"
#include "sim/error.h"

namespace convoy::cli {

CheckpointPolicy::CheckpointPolicy(const std::string& path, const Device& device)
    : ckpt_(rl::load_checkpoint(path)), device_(device) {
  if (ckpt_.algo != "ppo" && ckpt_.algo != "sac") {
    throw Error("checkpoint '" + path + "': algorithm '" + ckpt_.algo +
                "' is unknown; allowed: ppo, sac");
  }
  Config learner_config;
  for (const auto& [k, v] : ckpt_.env_config) env_config_.set(k, v);
  for (const auto& [k, v] : ckpt_.learner_config) learner_config.set(k, v);
  auto wrong_size = [&](std::int64_t want) {
    return Error("checkpoint '" + path + "' holds " + std::to_string(ckpt_.params.size()) +
                 " parameters but its settings make " + std::to_string(want));
  };
  if (ckpt_.algo == "ppo") {
    const rl::PpoConfig cfg = rl::PpoConfig::from_config(learner_config);
    // PPO's networks run on any device: its greedy forward runs where the evaluated envs do
    env_ = env_registry().make(ckpt_.env, device_, cfg.num_envs, env_config_);
    ppo_ = std::make_unique<rl::Ppo>(*env_, cfg);
    if (static_cast<std::int64_t>(ckpt_.params.size()) != ppo_->num_params()) {
      throw wrong_size(ppo_->num_params());
    }
    ppo_->restore_checkpoint(ckpt_, /*with_env_state=*/false);  // params + frozen obs statistics
  } else {
    rl::SacConfig cfg = rl::SacConfig::from_config(learner_config);
    cfg.buffer_size = cfg.num_envs;  // acting only: no replay needed
    // SAC's networks run on any device too: its greedy forward runs where the evaluated envs do
    env_ = env_registry().make(ckpt_.env, device_, cfg.num_envs, env_config_);
    sac_ = std::make_unique<rl::Sac>(*env_, cfg);
    if (static_cast<std::int64_t>(ckpt_.params.size()) != sac_->num_params()) {
      throw wrong_size(sac_->num_params());
    }
    sac_->load_params(ckpt_.params);
  }
}

void CheckpointPolicy::act(const float* obs, std::int64_t batch, void* actions) {
  if (sac_) {
    sac_->act_deterministic(obs, batch, static_cast<float*>(actions));
  } else if (discrete()) {
    ppo_->act_deterministic(obs, batch, static_cast<std::int32_t*>(actions));
  } else {
    ppo_->act_deterministic(obs, batch, static_cast<float*>(actions));
  }
}

PolicyComparison CheckpointPolicy::compare(int episodes, std::uint64_t seed) {
  if (ppo_) return compare_policies(ckpt_.env, env_config_, episodes, seed, *ppo_, device_);
  return compare_policies(
      ckpt_.env, env_config_, episodes, seed, ckpt_.algo,
      host_policy([this](const float* obs, std::int64_t n, void* a) { act(obs, n, a); }), device_);
}

}  // namespace convoy::cli
