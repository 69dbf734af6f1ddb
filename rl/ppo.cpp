#include "rl/ppo.h"

#include <chrono>
#include <cstring>
#include <limits>
#include <string>

#include "rl/learner_util.h"
#include "sim/error.h"
#include "sim/rng.h"

namespace convoy::rl {

namespace {

[[noreturn]] void bad_field(const char* name, const std::string& value, const char* allowed) {
  throw Error(std::string("PpoConfig: ") + name + " = " + value +
              " is invalid; allowed: " + allowed);
}

int checked_dim(std::int64_t d, const char* what) {
  if (d < 1 || d > std::numeric_limits<int>::max()) {
    throw Error(std::string("Ppo: ") + what + " " + std::to_string(d) + " is not supported");
  }
  return static_cast<int>(d);
}

}  // namespace

void PpoConfig::read_config(ConfigReader& r) {
  num_envs = r.integer("num_envs", num_envs, 1, 1 << 20, "parallel envs the learner expects");
  num_steps = r.integer("num_steps", num_steps, 1, 1 << 20, "steps per env per iteration");
  total_timesteps = r.integer("total_timesteps", total_timesteps, 1, std::int64_t(1) << 50,
                              "env steps of the run (the annealing horizon)");
  learning_rate = r.real("learning_rate", learning_rate, 0.0, 1.0, "Adam's initial step size");
  anneal_lr = r.boolean("anneal_lr", anneal_lr, "anneal the learning rate linearly to 0");
  anneal_clip = r.boolean("anneal_clip", anneal_clip, "anneal clip_coef linearly to 0");
  gamma = r.real("gamma", gamma, 0.0, 1.0, "discount factor");
  gae_lambda = r.real("gae_lambda", gae_lambda, 0.0, 1.0, "GAE lambda");
  num_minibatches = r.integer("num_minibatches", num_minibatches, 1, 1 << 20,
                              "minibatches per epoch (must divide num_envs * num_steps)");
  update_epochs = r.integer("update_epochs", update_epochs, 1, 10000, "epochs per iteration");
  norm_adv = r.boolean("norm_adv", norm_adv, "normalise advantages per minibatch");
  clip_coef = r.real("clip_coef", clip_coef, 0.0, 10.0, "surrogate clipping coefficient");
  clip_vloss = r.boolean("clip_vloss", clip_vloss, "clip the value loss as the surrogate");
  ent_coef = r.real("ent_coef", ent_coef, 0.0, 10.0, "entropy bonus coefficient");
  vf_coef = r.real("vf_coef", vf_coef, 0.0, 100.0, "value loss coefficient");
  max_grad_norm =
      r.real("max_grad_norm", max_grad_norm, 0.0, 1e6, "global gradient norm clip (0: none)");
  target_kl = r.real("target_kl", target_kl, 0.0, 100.0,
                     "stop the epochs when approx_kl exceeds it (0: never)");
  adam_eps = r.real("adam_eps", adam_eps, 1e-12, 1.0, "Adam's epsilon");
  norm_obs = r.boolean("norm_obs", norm_obs,
                       "normalise observations by their running mean and std, clipped to +-10 "
                       "(statistics frozen at evaluation, saved in checkpoints)");
  norm_reward = r.boolean("norm_reward", norm_reward,
                          "divide rewards by the running std of the discounted return "
                          "(reset at episode ends), clipped to +-10");
  hidden_layers =
      static_cast<int>(r.integer("hidden_layers", hidden_layers, 0, 16, "hidden layers per net"));
  hidden_size =
      static_cast<int>(r.integer("hidden_size", hidden_size, 1, 1 << 16, "hidden layer width"));
  activation = parse_activation(r.choice("activation", activation_name(activation),
                                         {"tanh", "relu", "elu"}, "hidden activation"));
  seed = static_cast<std::uint64_t>(r.integer("seed", static_cast<std::int64_t>(seed), 0,
                                              (std::int64_t(1) << 56) - 1,
                                              "seeds init, env resets, sampling, shuffling"));
  gemm_threads = static_cast<int>(
      r.integer("gemm_threads", gemm_threads, 0, 4096, "threads of the networks' GEMMs (0: all)"));
  validate();
}

PpoConfig PpoConfig::from_config(const Config& config) {
  ConfigReader reader(config, "PPO");
  PpoConfig c;
  c.read_config(reader);
  reader.finish();
  return c;
}

void PpoConfig::validate() const {
  if (num_envs < 1) bad_field("num_envs", std::to_string(num_envs), ">= 1");
  if (num_steps < 1) bad_field("num_steps", std::to_string(num_steps), ">= 1");
  if (num_minibatches < 1 || batch_size() % num_minibatches != 0) {
    bad_field("num_minibatches", std::to_string(num_minibatches),
              "a divisor of num_envs * num_steps");
  }
  if (update_epochs < 1) bad_field("update_epochs", std::to_string(update_epochs), ">= 1");
  if (total_timesteps < 1) bad_field("total_timesteps", std::to_string(total_timesteps), ">= 1");
  if (!(learning_rate >= 0 && learning_rate <= 1)) {
    bad_field("learning_rate", std::to_string(learning_rate), "[0, 1]");
  }
  if (!(gamma >= 0 && gamma <= 1)) bad_field("gamma", std::to_string(gamma), "[0, 1]");
  if (!(gae_lambda >= 0 && gae_lambda <= 1)) {
    bad_field("gae_lambda", std::to_string(gae_lambda), "[0, 1]");
  }
  if (!(clip_coef >= 0)) bad_field("clip_coef", std::to_string(clip_coef), ">= 0");
  if (!(ent_coef >= 0)) bad_field("ent_coef", std::to_string(ent_coef), ">= 0");
  if (!(vf_coef >= 0)) bad_field("vf_coef", std::to_string(vf_coef), ">= 0");
  if (!(max_grad_norm >= 0)) bad_field("max_grad_norm", std::to_string(max_grad_norm), ">= 0");
  if (!(target_kl >= 0)) bad_field("target_kl", std::to_string(target_kl), ">= 0");
  if (!(adam_eps > 0)) bad_field("adam_eps", std::to_string(adam_eps), "> 0");
  if (hidden_layers < 0) bad_field("hidden_layers", std::to_string(hidden_layers), ">= 0");
  if (hidden_size < 1) bad_field("hidden_size", std::to_string(hidden_size), ">= 1");
  if (gemm_threads < 0) bad_field("gemm_threads", std::to_string(gemm_threads), ">= 0");
}

Ppo::Ppo(VecEnv& env, const PpoConfig& config)
    : env_(env),
      config_((config.validate(), config)),
      discrete_(env.discrete_actions()),
      obs_dim_(checked_dim(env.obs_dim(), "obs_dim")),
      act_dim_(checked_dim(env.act_dim(), "act_dim")),
      head_dim_(discrete_ ? checked_dim(env.spec().action_space.n, "number of actions") : act_dim_),
      actor_(net_spec(config, obs_dim_, head_dim_), env.device()),
      critic_(net_spec(config, obs_dim_, 1), env.device()),
      log_std_offset_(actor_.num_params()),
      critic_offset_(actor_.num_params() + (discrete_ ? 0 : act_dim_)),
      params_(env.device(), critic_offset_ + critic_.num_params()),
      grads_(env.device(), params_.size()),
      adam_(env.device(), params_.size(),
            AdamConfig{config.learning_rate, 0.9, 0.999, config.adam_eps}),
      rollout_(env.device(), config.num_steps, config.num_envs, obs_dim_, act_dim_) {
  if (!env.device().is_cpu()) {
    throw Error("Ppo: runs on the CPU only for now; the env is on " + env.device().str());
  }
  if (env.num_envs() != config.num_envs) {
    throw Error("Ppo: the env has " + std::to_string(env.num_envs()) +
                " envs but num_envs = " + std::to_string(config.num_envs));
  }
  if (!discrete_) {
    act_low_ = env.spec().action_space.low;
    act_high_ = env.spec().action_space.high;
  }
  float* p = params_.data();
  actor_.init_orthogonal(p, mix_seed(config.seed, 1), 0.01);
  for (int k = 0; k < (discrete_ ? 0 : act_dim_); ++k) p[log_std_offset_ + k] = 0.0f;
  critic_.init_orthogonal(p + critic_offset_, mix_seed(config.seed, 2), 1.0);
  grads_.zero();

  const std::int64_t N = config.num_envs, mb = config.minibatch_size();
  actor_ws_ = actor_.make_workspace(std::max(N, mb));
  critic_ws_ = critic_.make_workspace(std::max(N, mb));
  env_actions_i_ = DeviceArray<std::int32_t>(env.device(), N);
  env_actions_f_ = DeviceArray<float>(env.device(), N * act_dim_);
  last_values_.resize(static_cast<std::size_t>(N));
  trunc_obs_.resize(static_cast<std::size_t>(N * obs_dim_));
  trunc_rows_.resize(static_cast<std::size_t>(N));
  perm_.resize(static_cast<std::size_t>(config.batch_size()));
  mb_obs_.resize(static_cast<std::size_t>(mb * obs_dim_));
  mb_act_.resize(static_cast<std::size_t>(mb * act_dim_));
  mb_logp_.resize(static_cast<std::size_t>(mb));
  mb_adv_.resize(static_cast<std::size_t>(mb));
  mb_val_.resize(static_cast<std::size_t>(mb));
  mb_ret_.resize(static_cast<std::size_t>(mb));
  mb_dhead_.resize(static_cast<std::size_t>(mb * head_dim_));
  mb_dval_.resize(static_cast<std::size_t>(mb));

  env_.reset(config.seed);
  if (config.norm_obs) {
    obs_rms_ = RunningMeanStd(obs_dim_);
    obs_rms_.update(env_.obs().data(), N);
    norm_obs_.resize(static_cast<std::size_t>(N * obs_dim_));
  }
  if (config.norm_reward) reward_scaler_ = RewardScaler(N, config.gamma);
}

const float* Ppo::policy_obs(const float* obs, std::int64_t rows, std::vector<float>& buf) const {
  if (!config_.norm_obs) return obs;
  if (static_cast<std::int64_t>(buf.size()) < rows * obs_dim_) {
    buf.resize(static_cast<std::size_t>(rows * obs_dim_));
  }
  normalize_obs(obs_rms_, obs, rows, buf.data());
  return buf.data();
}

const float* Ppo::critic_values(const float* obs, std::int64_t rows) {
  return critic_.forward(params_.data() + critic_offset_, obs, rows, critic_ws_);
}

void Ppo::collect(PpoMetrics& m) {
  const std::int64_t N = config_.num_envs, T = config_.num_steps;
  const float* actor_p = params_.data();
  const float* log_std = params_.data() + log_std_offset_;
  const auto it = static_cast<std::uint32_t>(iteration_);
  double ret_sum = 0.0, len_sum = 0.0;
  std::int64_t episodes = 0;
  for (std::int64_t t = 0; t < T; ++t) {
    const float* obs = policy_obs(env_.obs().data(), N, norm_obs_);
    std::memcpy(RolloutBuffer::at(rollout_.obs, t, N, obs_dim_), obs,
                sizeof(float) * static_cast<std::size_t>(N * obs_dim_));
    float* acts = RolloutBuffer::at(rollout_.actions, t, N, act_dim_);
    float* logps = RolloutBuffer::at(rollout_.log_probs, t, N, 1);
    const float* head = actor_.forward(actor_p, obs, N, actor_ws_);
    for (std::int64_t i = 0; i < N; ++i) {
      PhiloxStream rng(config_.seed, static_cast<std::uint64_t>(i), it,
                       static_cast<std::uint32_t>(t), RngPurpose::kPolicy);
      const float* h = head + i * head_dim_;
      if (discrete_) {
        const int a = categorical_sample(h, head_dim_, rng);
        acts[i] = static_cast<float>(a);
        logps[i] = categorical_log_prob(h, head_dim_, a);
        env_actions_i_.data()[i] = a;
      } else {
        float* x = acts + i * act_dim_;
        gaussian_sample(h, log_std, act_dim_, rng, x);
        logps[i] = gaussian_log_prob(h, log_std, x, act_dim_);
        float* ea = env_actions_f_.data() + i * act_dim_;
        for (int k = 0; k < act_dim_; ++k) {
          ea[k] = std::min(std::max(x[k], act_low_[k]), act_high_[k]);
        }
      }
    }
    const float* v = critic_values(obs, N);
    std::memcpy(RolloutBuffer::at(rollout_.values, t, N, 1), v,
                sizeof(float) * static_cast<std::size_t>(N));

    if (discrete_) {
      env_.step(env_actions_i_);
    } else {
      env_.step(env_actions_f_);
    }

    float* rew = RolloutBuffer::at(rollout_.rewards, t, N, 1);
    std::uint8_t* term = RolloutBuffer::at(rollout_.terminated, t, N, 1);
    std::uint8_t* trunc = RolloutBuffer::at(rollout_.truncated, t, N, 1);
    std::memcpy(term, env_.terminated().data(), static_cast<std::size_t>(N));
    std::memcpy(trunc, env_.truncated().data(), static_cast<std::size_t>(N));
    if (config_.norm_reward) {
      reward_scaler_.scale(env_.reward().data(), term, trunc, rew);
    } else {
      std::memcpy(rew, env_.reward().data(), sizeof(float) * static_cast<std::size_t>(N));
    }
    // statistics before normalising final obs (Gymnasium updates them on each new obs)
    if (config_.norm_obs) obs_rms_.update(env_.obs().data(), N);
    // V(final_obs) of truncated (not terminated) episodes: their bootstrap
    std::int64_t n_trunc = 0;
    const float* final_obs = env_.final_obs().data();
    for (std::int64_t i = 0; i < N; ++i) {
      if (term[i] || trunc[i]) {
        ret_sum += env_.final_episode_return().data()[i];
        len_sum += env_.final_episode_length().data()[i];
        ++episodes;
      }
      if (trunc[i] && !term[i]) {
        std::memcpy(trunc_obs_.data() + n_trunc * obs_dim_, final_obs + i * obs_dim_,
                    sizeof(float) * static_cast<std::size_t>(obs_dim_));
        trunc_rows_[static_cast<std::size_t>(n_trunc++)] = i;
      }
    }
    float* fv = RolloutBuffer::at(rollout_.final_values, t, N, 1);
    for (std::int64_t i = 0; i < N; ++i) fv[i] = 0.0f;
    if (n_trunc > 0) {
      if (config_.norm_obs) normalize_obs(obs_rms_, trunc_obs_.data(), n_trunc, trunc_obs_.data());
      const float* tv = critic_values(trunc_obs_.data(), n_trunc);
      for (std::int64_t j = 0; j < n_trunc; ++j) fv[trunc_rows_[j]] = tv[j];
    }
  }
  global_step_ += N * T;
  const float* lv = critic_values(policy_obs(env_.obs().data(), N, norm_obs_), N);
  std::memcpy(last_values_.data(), lv, sizeof(float) * static_cast<std::size_t>(N));
  rollout_.compute_gae(last_values_.data(), static_cast<float>(config_.gamma),
                       static_cast<float>(config_.gae_lambda));
  m.episodes = episodes;
  m.mean_episode_return =
      episodes > 0 ? ret_sum / episodes : std::numeric_limits<double>::quiet_NaN();
  m.mean_episode_length =
      episodes > 0 ? len_sum / episodes : std::numeric_limits<double>::quiet_NaN();
}

void Ppo::update(PpoMetrics& m) {
  const std::int64_t B = config_.batch_size(), mb = config_.minibatch_size();
  const auto it = static_cast<std::uint32_t>(iteration_);
  float* p = params_.data();
  float* g = grads_.data();
  PpoLossCoefs coefs;
  coefs.clip_coef = m.clip_coef;
  coefs.clip_vloss = config_.clip_vloss;
  coefs.ent_coef = config_.ent_coef;
  coefs.vf_coef = config_.vf_coef;
  coefs.norm_adv = config_.norm_adv;
  double sum_pg = 0, sum_v = 0, sum_ent = 0, sum_kl = 0, sum_okl = 0, sum_clip = 0, sum_gn = 0;
  std::int64_t count = 0;
  for (std::int64_t epoch = 0; epoch < config_.update_epochs && !m.early_stopped; ++epoch) {
    // Fisher-Yates from this (iteration, epoch)'s stream
    for (std::int64_t i = 0; i < B; ++i) perm_[static_cast<std::size_t>(i)] = i;
    PhiloxStream rng(config_.seed, 0, it, static_cast<std::uint32_t>(epoch), RngPurpose::kShuffle);
    for (std::int64_t i = B - 1; i > 0; --i) {
      const std::int64_t j = rng.below(static_cast<std::uint32_t>(i + 1));
      std::swap(perm_[static_cast<std::size_t>(i)], perm_[static_cast<std::size_t>(j)]);
    }
    PpoLossStats s;
    for (std::int64_t start = 0; start < B; start += mb) {
      // gather the minibatch
      for (std::int64_t r = 0; r < mb; ++r) {
        const std::int64_t k = perm_[static_cast<std::size_t>(start + r)];
        std::memcpy(mb_obs_.data() + r * obs_dim_, rollout_.obs.data() + k * obs_dim_,
                    sizeof(float) * static_cast<std::size_t>(obs_dim_));
        std::memcpy(mb_act_.data() + r * act_dim_, rollout_.actions.data() + k * act_dim_,
                    sizeof(float) * static_cast<std::size_t>(act_dim_));
        mb_logp_[r] = rollout_.log_probs.data()[k];
        mb_adv_[r] = rollout_.advantages.data()[k];
        mb_val_[r] = rollout_.values.data()[k];
        mb_ret_[r] = rollout_.returns.data()[k];
      }
      grads_.zero();
      const float* head = actor_.forward(p, mb_obs_.data(), mb, actor_ws_);
      const float* v = critic_.forward(p + critic_offset_, mb_obs_.data(), mb, critic_ws_);
      s = ppo_loss<float>(mb, discrete_, head_dim_, head, discrete_ ? nullptr : p + log_std_offset_,
                          v, mb_act_.data(), mb_logp_.data(), mb_adv_.data(), mb_val_.data(),
                          mb_ret_.data(), coefs, mb_dhead_.data(),
                          discrete_ ? nullptr : g + log_std_offset_, mb_dval_.data());
      actor_.backward(p, mb_dhead_.data(), actor_ws_, g);
      critic_.backward(p + critic_offset_, mb_dval_.data(), critic_ws_, g + critic_offset_);
      double gn = 0.0;
      if (config_.max_grad_norm > 0) {
        gn = clip_grad_norm(params_.device(), g, grads_.size(), config_.max_grad_norm);
      } else {
        for (std::int64_t i = 0; i < grads_.size(); ++i) gn += double(g[i]) * g[i];
        gn = std::sqrt(gn);
      }
      adam_.step(p, g);
      if (count == 0) {
        m.first_approx_kl = s.approx_kl;
        m.first_clip_fraction = s.clip_fraction;
        m.first_max_abs_log_ratio = s.max_abs_log_ratio;
      }
      sum_pg += s.pg_loss;
      sum_v += s.v_loss;
      sum_ent += s.entropy;
      sum_kl += s.approx_kl;
      sum_okl += s.old_approx_kl;
      sum_clip += s.clip_fraction;
      sum_gn += gn;
      ++count;
    }
    // CleanRL checks the last minibatch's approx_kl after each epoch
    if (config_.target_kl > 0 && s.approx_kl > config_.target_kl) m.early_stopped = true;
  }
  const double inv = 1.0 / static_cast<double>(count);
  m.minibatches = count;
  m.policy_loss = sum_pg * inv;
  m.value_loss = sum_v * inv;
  m.entropy = sum_ent * inv;
  m.approx_kl = sum_kl * inv;
  m.old_approx_kl = sum_okl * inv;
  m.clip_fraction = sum_clip * inv;
  m.grad_norm = sum_gn * inv;
  // explained variance of the rollout's values (np.var: population variance)
  const float* y = rollout_.returns.data();
  const float* yhat = rollout_.values.data();
  double my = 0, md = 0;
  for (std::int64_t i = 0; i < B; ++i) {
    my += y[i];
    md += double(y[i]) - yhat[i];
  }
  my /= B;
  md /= B;
  double vy = 0, vd = 0;
  for (std::int64_t i = 0; i < B; ++i) {
    vy += (y[i] - my) * (y[i] - my);
    const double d = double(y[i]) - yhat[i] - md;
    vd += d * d;
  }
  m.explained_variance = vy == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 - vd / vy;
}

PpoMetrics Ppo::iterate() {
  const auto start = std::chrono::steady_clock::now();
  const GemmThreads gemm(config_.gemm_threads);
  ++iteration_;
  PpoMetrics m;
  m.iteration = iteration_;
  const std::int64_t n_it = config_.num_iterations();
  // past the horizon the schedules would go negative: hold them at their last value
  const std::int64_t sched_it = std::min(iteration_, n_it);
  m.learning_rate = config_.anneal_lr ? linear_anneal_lr(config_.learning_rate, sched_it, n_it)
                                      : config_.learning_rate;
  m.clip_coef =
      config_.anneal_clip ? linear_anneal_lr(config_.clip_coef, sched_it, n_it) : config_.clip_coef;
  adam_.set_lr(m.learning_rate);
  collect(m);
  update(m);
  m.global_step = global_step_;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.steps_per_second = secs > 0 ? static_cast<double>(config_.batch_size()) / secs : 0.0;
  return m;
}

void Ppo::act_deterministic(const float* obs, std::int64_t batch, std::int32_t* out_actions) {
  if (!discrete_) throw Error("Ppo::act_deterministic: continuous actions are float, not int32");
  const GemmThreads gemm(config_.gemm_threads);
  if (eval_ws_.capacity() < batch) eval_ws_ = actor_.make_workspace(batch);
  obs = policy_obs(obs, batch, eval_obs_);  // frozen statistics
  const float* head = actor_.forward(params_.data(), obs, batch, eval_ws_);
  for (std::int64_t i = 0; i < batch; ++i) {
    const float* h = head + i * head_dim_;
    int best = 0;
    for (int k = 1; k < head_dim_; ++k) best = h[k] > h[best] ? k : best;
    out_actions[i] = best;
  }
}

void Ppo::act_deterministic(const float* obs, std::int64_t batch, float* out_actions) {
  if (discrete_) throw Error("Ppo::act_deterministic: discrete actions are int32, not float");
  const GemmThreads gemm(config_.gemm_threads);
  if (eval_ws_.capacity() < batch) eval_ws_ = actor_.make_workspace(batch);
  obs = policy_obs(obs, batch, eval_obs_);  // frozen statistics
  const float* head = actor_.forward(params_.data(), obs, batch, eval_ws_);
  for (std::int64_t i = 0; i < batch; ++i) {
    for (int k = 0; k < act_dim_; ++k) {
      out_actions[i * act_dim_ + k] =
          std::min(std::max(head[i * act_dim_ + k], act_low_[k]), act_high_[k]);
    }
  }
}

Checkpoint Ppo::make_checkpoint() const {
  Checkpoint c;
  c.global_step = global_step_;
  c.iteration = iteration_;
  c.params = params_.to_host();
  c.adam_m = adam_.m().to_host();
  c.adam_v = adam_.v().to_host();
  c.adam_steps = adam_.steps();
  c.obs_rms = obs_rms_;
  c.return_rms = reward_scaler_.return_rms;
  if (!config_.norm_reward) c.return_rms = RunningMeanStd();
  c.discounted_returns = reward_scaler_.returns;
  c.env_state = env_.save_state();
  return c;
}

void Ppo::restore_checkpoint(const Checkpoint& c, bool with_env_state) {
  const auto bad = [&](const std::string& what, std::size_t got, std::int64_t want) {
    throw Error("Ppo: the checkpoint's " + what + " has " + std::to_string(got) +
                " values but this learner needs " + std::to_string(want));
  };
  const auto n = static_cast<std::size_t>(params_.size());
  if (c.params.size() != n) bad("parameters", c.params.size(), params_.size());
  if (config_.norm_obs && c.obs_rms.dim() != obs_dim_) {
    bad("observation statistics", c.obs_rms.mean.size(), obs_dim_);
  }
  if (with_env_state) {
    if (c.adam_m.size() != n || c.adam_v.size() != n) bad("Adam state", c.adam_m.size(), n);
    if (config_.norm_reward &&
        (c.return_rms.dim() != 1 ||
         static_cast<std::int64_t>(c.discounted_returns.size()) != config_.num_envs)) {
      bad("return statistics", c.discounted_returns.size(), config_.num_envs);
    }
    if (c.env_state.empty()) throw Error("Ppo: the checkpoint holds no env state to resume from");
    env_.load_state(c.env_state);  // checks itself before changing anything
  }
  params_.copy_from_host(c.params);
  if (config_.norm_obs) obs_rms_ = c.obs_rms;
  if (!with_env_state) return;
  adam_.m().copy_from_host(c.adam_m);
  adam_.v().copy_from_host(c.adam_v);
  adam_.set_steps(c.adam_steps);
  if (config_.norm_reward) {
    reward_scaler_.return_rms = c.return_rms;
    reward_scaler_.returns = c.discounted_returns;
  }
  iteration_ = c.iteration;
  global_step_ = c.global_step;
}

}  // namespace convoy::rl
