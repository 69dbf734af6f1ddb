// PPO and SAC behind the Learner interface (train/learner.h), with their metric tables.
#include <algorithm>
#include <cstdio>
#include <string>

#include "envs/registry.h"
#include "rl/dqn.h"
#include "rl/ppo.h"
#include "rl/sac.h"
#include "sim/error.h"
#include "train/learner.h"

namespace convoy::train {

namespace {

template <class LearnerConfig>
std::vector<ConfigKey> documented_settings(const char* owner) {
  const Config none;
  ConfigReader reader(none, owner);
  LearnerConfig c;
  c.read_config(reader);
  return reader.keys();
}

std::unique_ptr<VecEnv> make_env(const std::string& env, const Config& env_config,
                                 const Device& device, std::int64_t num_envs) {
  return env_registry().make(env, device, num_envs, env_config);
}

// What PPO and SAC expose alike, forwarded to the algorithm.
template <class Algo, class AlgoConfig>
class Forwarding : public Learner {
 public:
  explicit Forwarding(const AlgoConfig& config) : config_(config) {}
  std::int64_t global_step() const override { return algo_->global_step(); }
  std::uint64_t seed() const override { return config_.seed; }
  rl::Checkpoint make_checkpoint() const override { return algo_->make_checkpoint(); }
  void restore_checkpoint(const rl::Checkpoint& c, bool with_env_state) override {
    algo_->restore_checkpoint(c, with_env_state);
  }
  std::int64_t num_params() const override { return algo_->num_params(); }

 protected:
  // the env first: the algorithm keeps a reference to it
  void build(const std::string& env, const Config& env_config, const Device& device) {
    env_ = make_env(env, env_config, device, config_.num_envs);
    algo_ = std::make_unique<Algo>(*env_, config_);
  }
  AlgoConfig config_;
  std::unique_ptr<Algo> algo_;
};

// CleanRL's ppo.py names for the TensorBoard tags.
const std::vector<MetricField> kPpoFields = {
    {"iteration", true, nullptr, nullptr, "iterations done (1-based)"},
    {"global_step", true, nullptr, nullptr, "env steps so far, all envs"},
    {"episodes", true, "charts/episodes", nullptr, "episodes that ended in the iteration"},
    {"mean_return", false, "charts/episodic_return", nullptr,
     "mean return of those episodes (NaN: none ended)"},
    {"mean_length", false, "charts/episodic_length", nullptr, "their mean length"},
    {"policy_loss", false, "losses/policy_loss", nullptr, "clipped surrogate loss"},
    {"value_loss", false, "losses/value_loss", nullptr, "value loss"},
    {"entropy", false, "losses/entropy", nullptr, "policy entropy"},
    {"approx_kl", false, "losses/approx_kl", nullptr, "mean (ratio - 1) - log ratio"},
    {"clip_fraction", false, "losses/clipfrac", nullptr, "share of samples clipped"},
    {"explained_variance", false, "losses/explained_variance", nullptr,
     "1 - Var(returns - values) / Var(returns)"},
    {"learning_rate", false, "charts/learning_rate", nullptr, "Adam's step size"},
    {"steps_per_second", false, "charts/SPS", nullptr, "env steps per second, collect + update"},
};

class PpoLearner final : public Forwarding<rl::Ppo, rl::PpoConfig> {
 public:
  PpoLearner(const std::string& env, const Config& env_config, const Config& settings,
             const Device& device)
      : Forwarding(rl::PpoConfig::from_config(settings)) {
    build(env, env_config, device);
  }
  const char* algo() const override { return "ppo"; }
  const std::vector<MetricField>& fields() const override { return kPpoFields; }
  Metrics iterate() override {
    const rl::PpoMetrics m = algo_->iterate();
    return {&kPpoFields,
            {double(m.iteration), double(m.global_step), double(m.episodes), m.mean_episode_return,
             m.mean_episode_length, m.policy_loss, m.value_loss, m.entropy, m.approx_kl,
             m.clip_fraction, m.explained_variance, m.learning_rate, m.steps_per_second}};
  }
  std::int64_t num_iterations() const override { return config_.num_iterations(); }
  std::int64_t iteration() const override { return algo_->iteration(); }
  std::int64_t total_steps() const override {
    return config_.num_iterations() * config_.batch_size();
  }
  std::string describe() const override {
    char text[256];
    std::snprintf(text, sizeof text,
                  "PPO on %s: %lld envs, %lld env steps (%lld iterations), seed %llu",
                  env_->device().str().c_str(), static_cast<long long>(config_.num_envs),
                  static_cast<long long>(total_steps()), static_cast<long long>(num_iterations()),
                  static_cast<unsigned long long>(config_.seed));
    return text;
  }
  void act(const float* obs, std::int64_t batch, void* actions) override {
    // the trained env's own action space: a setting (action_type=continuous) may change it
    if (algo_->discrete()) {
      algo_->act_deterministic(obs, batch, static_cast<std::int32_t*>(actions));
    } else {
      algo_->act_deterministic(obs, batch, static_cast<float*>(actions));
    }
  }
};

// CleanRL's sac_continuous_action.py names for the TensorBoard tags.
const std::vector<MetricField> kSacFields = {
    {"iteration", true, nullptr, nullptr, "chunks done (a chunk: about 1% of the run)"},
    {"global_step", true, nullptr, nullptr, "env steps so far, all envs"},
    {"episodes", true, "charts/episodes", nullptr, "episodes that ended in the chunk"},
    {"mean_return", false, "charts/episodic_return", nullptr,
     "mean return of those episodes (NaN: none ended)"},
    {"mean_length", false, "charts/episodic_length", nullptr, "their mean length"},
    {"updates", true, nullptr, nullptr, "critic updates so far"},
    {"qf1_loss", false, "losses/qf1_loss", nullptr, "first critic's TD loss"},
    {"qf2_loss", false, "losses/qf2_loss", nullptr, "second critic's TD loss"},
    {"qf_loss", false, "losses/qf_loss", nullptr, "mean of the two critics' losses"},
    {"qf1_value", false, "losses/qf1_values", nullptr, "mean Q1 of the batch's actions"},
    {"qf2_value", false, "losses/qf2_values", nullptr, "mean Q2 of the batch's actions"},
    {"actor_loss", false, "losses/actor_loss", nullptr, "actor loss"},
    {"alpha", false, "losses/alpha", "alpha", "entropy temperature"},
    {"alpha_loss", false, "losses/alpha_loss", nullptr, "temperature loss"},
    {"entropy", false, nullptr, nullptr, "-mean log pi of the actor updates' samples"},
    {"steps_per_second", false, "charts/SPS", nullptr, "env steps per second, collect + update"},
};

class SacLearner final : public Forwarding<rl::Sac, rl::SacConfig> {
 public:
  SacLearner(const std::string& env, const Config& env_config, const Config& settings,
             const Device& device, bool acting_only)
      : Forwarding(rl::SacConfig::from_config(settings)) {
    if (acting_only) config_.buffer_size = config_.num_envs;  // no replay needed to act
    build(env, env_config, device);
    vector_steps_ = std::max<std::int64_t>(1, config_.total_timesteps / config_.num_envs);
    chunk_ = std::max<std::int64_t>(1, vector_steps_ / 100);
  }
  const char* algo() const override { return "sac"; }
  const std::vector<MetricField>& fields() const override { return kSacFields; }
  Metrics iterate() override {
    const std::int64_t done = algo_->global_step() / config_.num_envs;
    const std::int64_t it = iteration();
    const rl::SacMetrics m = algo_->train(std::min(chunk_, vector_steps_ - done));
    return {&kSacFields,
            {double(it + 1), double(m.global_step), double(m.episodes), m.mean_episode_return,
             m.mean_episode_length, double(m.updates), m.qf1_loss, m.qf2_loss,
             0.5 * (m.qf1_loss + m.qf2_loss), m.qf1_value, m.qf2_value, m.actor_loss, m.alpha,
             m.alpha_loss, m.entropy, m.steps_per_second}};
  }
  std::int64_t num_iterations() const override { return (vector_steps_ + chunk_ - 1) / chunk_; }
  std::int64_t iteration() const override {
    return (algo_->global_step() / config_.num_envs + chunk_ - 1) / chunk_;
  }
  std::int64_t total_steps() const override { return vector_steps_ * config_.num_envs; }
  std::string describe() const override {
    char text[256];
    std::snprintf(
        text, sizeof text, "SAC on %s: %lld envs, %lld env steps (random until %lld), seed %llu",
        env_->device().str().c_str(), static_cast<long long>(config_.num_envs),
        static_cast<long long>(total_steps()), static_cast<long long>(config_.learning_starts),
        static_cast<unsigned long long>(config_.seed));
    return text;
  }
  void act(const float* obs, std::int64_t batch, void* actions) override {
    algo_->act_deterministic(obs, batch, static_cast<float*>(actions));
  }

 private:
  std::int64_t vector_steps_ = 1, chunk_ = 1;
};

// CleanRL's dqn.py names for the TensorBoard tags.
const std::vector<MetricField> kDqnFields = {
    {"iteration", true, nullptr, nullptr, "chunks done (a chunk: about 1% of the run)"},
    {"global_step", true, nullptr, nullptr, "env steps so far, all envs"},
    {"episodes", true, "charts/episodes", nullptr, "episodes that ended in the chunk"},
    {"mean_return", false, "charts/episodic_return", nullptr,
     "mean return of those episodes (NaN: none ended)"},
    {"mean_length", false, "charts/episodic_length", nullptr, "their mean length"},
    {"updates", true, nullptr, nullptr, "gradient updates so far"},
    {"td_loss", false, "losses/td_loss", "loss", "mean TD loss of the chunk's updates"},
    {"q_value", false, "losses/q_values", nullptr, "mean Q of the batches' actions"},
    {"epsilon", false, "charts/epsilon", "eps", "exploration epsilon at the chunk's end"},
    {"steps_per_second", false, "charts/SPS", nullptr, "env steps per second, collect + update"},
};

class DqnLearner final : public Forwarding<rl::Dqn, rl::DqnConfig> {
 public:
  DqnLearner(const std::string& env, const Config& env_config, const Config& settings,
             const Device& device, bool acting_only)
      : Forwarding(rl::DqnConfig::from_config(settings)) {
    if (acting_only) {  // no replay needed to act
      config_.buffer_size = config_.num_envs;
      config_.learning_starts = std::max(config_.learning_starts, config_.batch_size);
    }
    build(env, env_config, device);
    vector_steps_ = std::max<std::int64_t>(1, config_.total_timesteps / config_.num_envs);
    chunk_ = std::max<std::int64_t>(1, vector_steps_ / 100);
  }
  const char* algo() const override { return "dqn"; }
  const std::vector<MetricField>& fields() const override { return kDqnFields; }
  Metrics iterate() override {
    const std::int64_t done = algo_->global_step() / config_.num_envs;
    const std::int64_t it = iteration();
    const rl::DqnMetrics m = algo_->train(std::min(chunk_, vector_steps_ - done));
    return {&kDqnFields,
            {double(it + 1), double(m.global_step), double(m.episodes), m.mean_episode_return,
             m.mean_episode_length, double(m.updates), m.loss, m.q_value, m.epsilon,
             m.steps_per_second}};
  }
  std::int64_t num_iterations() const override { return (vector_steps_ + chunk_ - 1) / chunk_; }
  std::int64_t iteration() const override {
    return (algo_->global_step() / config_.num_envs + chunk_ - 1) / chunk_;
  }
  std::int64_t total_steps() const override { return vector_steps_ * config_.num_envs; }
  std::string describe() const override {
    char text[256];
    std::snprintf(text, sizeof text,
                  "DQN on %s: %lld envs, %lld env steps (updates from %lld), %s replay, "
                  "n_step %d, seed %llu",
                  env_->device().str().c_str(), static_cast<long long>(config_.num_envs),
                  static_cast<long long>(total_steps()),
                  static_cast<long long>(config_.learning_starts),
                  config_.prioritized ? "prioritized" : "uniform", config_.n_step,
                  static_cast<unsigned long long>(config_.seed));
    return text;
  }
  void act(const float* obs, std::int64_t batch, void* actions) override {
    algo_->act_deterministic(obs, batch, static_cast<std::int32_t*>(actions));
  }

 private:
  std::int64_t vector_steps_ = 1, chunk_ = 1;
};

}  // namespace

const std::vector<LearnerEntry>& learners() {
  static const std::vector<LearnerEntry> all = [] {
    std::vector<LearnerEntry> v;
    v.push_back({"ppo", "PPO (CleanRL's ppo.py): Discrete and Box action spaces", &kPpoFields,
                 [] { return documented_settings<rl::PpoConfig>("PPO"); },
                 [](const std::string& env, const Config& ec, const Config& s, const Device& d,
                    bool) -> std::unique_ptr<Learner> {
                   return std::make_unique<PpoLearner>(env, ec, s, d);
                 }});
    v.push_back({"sac", "SAC (CleanRL's sac_continuous_action.py): Box action spaces", &kSacFields,
                 [] { return documented_settings<rl::SacConfig>("SAC"); },
                 [](const std::string& env, const Config& ec, const Config& s, const Device& d,
                    bool acting_only) -> std::unique_ptr<Learner> {
                   return std::make_unique<SacLearner>(env, ec, s, d, acting_only);
                 }});
    v.push_back({"dqn", "DQN (CleanRL's dqn.py; double, dueling, n-step, prioritized): Discrete",
                 &kDqnFields, [] { return documented_settings<rl::DqnConfig>("DQN"); },
                 [](const std::string& env, const Config& ec, const Config& s, const Device& d,
                    bool acting_only) -> std::unique_ptr<Learner> {
                   return std::make_unique<DqnLearner>(env, ec, s, d, acting_only);
                 }});
    for (const auto& e : v) check_fields(*e.fields, e.algo);
    return v;
  }();
  return all;
}

std::string learner_names() {
  std::string names;
  for (const auto& e : learners()) names += (names.empty() ? "" : ", ") + e.algo;
  return names;
}

const LearnerEntry& find_learner(const std::string& algo) {
  for (const auto& e : learners()) {
    if (e.algo == algo) return e;
  }
  throw Error("algorithm '" + algo + "' is not available; allowed: " + learner_names());
}

}  // namespace convoy::train
