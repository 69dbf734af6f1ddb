#include "rl/ppo.h"

#include <chrono>
#include <cstring>
#include <limits>
#include <string>

#include "rl/learner_util.h"
#include "rl/ppo_kernels.h"
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
  return read_learner_config<PpoConfig>(config, "PPO");
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
  if (env.num_envs() != config.num_envs) {
    throw Error("Ppo: the env has " + std::to_string(env.num_envs()) +
                " envs but num_envs = " + std::to_string(config.num_envs));
  }
  const Device& dev = env.device();
  if (!discrete_) {
    act_low_ = env.spec().action_space.low;
    act_high_ = env.spec().action_space.high;
    act_low_d_ = DeviceArray<float>(dev, act_low_);
    act_high_d_ = DeviceArray<float>(dev, act_high_);
  }
  float* p = params_.data();
  actor_.init_orthogonal(p, mix_seed(config.seed, 1), 0.01);
  if (!discrete_) zero_bytes(dev, p + log_std_offset_, sizeof(float) * act_dim_);
  critic_.init_orthogonal(p + critic_offset_, mix_seed(config.seed, 2), 1.0);
  grads_.zero();

  const std::int64_t N = config.num_envs, T = config.num_steps, B = config.batch_size(),
                     mb = config.minibatch_size();
  actor_ws_ = actor_.make_workspace(std::max(N, mb));
  critic_ws_ = critic_.make_workspace(std::max(N, mb));
  env_actions_i_ = DeviceArray<std::int32_t>(dev, N);
  env_actions_f_ = DeviceArray<float>(dev, N * act_dim_);
  trunc_obs_ = DeviceArray<float>(dev, N * obs_dim_);
  norm_obs_ = DeviceArray<float>(dev, N * obs_dim_);
  trunc_rows_.resize(static_cast<std::size_t>(N));
  perm_.resize(static_cast<std::size_t>(B));
  if (dev.is_cuda()) perm_d_ = DeviceArray<std::int64_t>(dev, B);
  mb_obs_ = DeviceArray<float>(dev, mb * obs_dim_);
  mb_act_ = DeviceArray<float>(dev, mb * act_dim_);
  mb_logp_ = DeviceArray<float>(dev, mb);
  mb_adv_ = DeviceArray<float>(dev, mb);
  mb_val_ = DeviceArray<float>(dev, mb);
  mb_ret_ = DeviceArray<float>(dev, mb);
  mb_dhead_ = DeviceArray<float>(dev, mb * head_dim_);
  mb_dval_ = DeviceArray<float>(dev, mb);
  episode_terms_ = DeviceArray<double>(dev, T * N * 3);
  metrics_ = DeviceArray<double>(dev, 8 + 8 * config.update_epochs * config.num_minibatches);
  metrics_.zero();
  metrics_host_.resize(static_cast<std::size_t>(metrics_.size()));
  ev_rows_ = DeviceArray<double>(dev, B * 2);
  reduce_scratch_ = DeviceArray<double>(dev, ppo_kernels::reduce_scratch_size(dev));
  norm_scratch_ = DeviceArray<double>(dev, clip_grad_norm_scratch(dev));
  loss_scratch_ = std::make_unique<ppo_kernels::LossScratch>(dev, mb, act_dim_);

  rms_scratch_ = DeviceArray<double>(dev, ppo_kernels::rms_scratch_size(dev, obs_dim_));

  env_.reset(config.seed);
  if (config.norm_obs) {
    obs_rms_ = RunningMeanStd(obs_dim_);
    obs_mean_ = DeviceArray<double>(dev, obs_rms_.mean);
    obs_var_ = DeviceArray<double>(dev, obs_rms_.var);
    ppo_kernels::rms_update(dev, env_.obs().data(), N, obs_dim_, obs_count_, obs_mean_.data(),
                            obs_var_.data(), rms_scratch_);
    obs_count_ += static_cast<double>(N);
  }
  if (config.norm_reward) {
    reward_scaler_ = RewardScaler(N, config.gamma);
    ret_mean_ = DeviceArray<double>(dev, reward_scaler_.return_rms.mean);
    ret_var_ = DeviceArray<double>(dev, reward_scaler_.return_rms.var);
    returns_ = DeviceArray<double>(dev, reward_scaler_.returns);
  }
}

Ppo::~Ppo() = default;

void Ppo::sync_stats() const {
  if (config_.norm_obs) {
    obs_rms_.mean = obs_mean_.to_host();
    obs_rms_.var = obs_var_.to_host();
    obs_rms_.count = obs_count_;
  }
  if (config_.norm_reward) {
    reward_scaler_.return_rms.mean = ret_mean_.to_host();
    reward_scaler_.return_rms.var = ret_var_.to_host();
    reward_scaler_.return_rms.count = ret_count_;
    reward_scaler_.returns = returns_.to_host();
  }
}

const RunningMeanStd& Ppo::obs_rms() const {
  sync_stats();
  return obs_rms_;
}

const RewardScaler& Ppo::reward_scaler() const {
  sync_stats();
  return reward_scaler_;
}

void Ppo::policy_obs(const float* obs, std::int64_t rows, float* out) const {
  const Device& dev = env_.device();
  if (config_.norm_obs) {
    ppo_kernels::normalize_obs(dev, obs_mean_.data(), obs_var_.data(), obs, rows, obs_dim_, out);
  } else if (out != obs) {
    copy_bytes(out, dev, obs, dev, sizeof(float) * static_cast<std::size_t>(rows * obs_dim_));
  }
}

const float* Ppo::critic_values(const float* obs, std::int64_t rows) {
  return critic_.forward(params_.data() + critic_offset_, obs, rows, critic_ws_);
}

void Ppo::collect() {
  const Device& dev = env_.device();
  const std::int64_t N = config_.num_envs, T = config_.num_steps;
  const float* actor_p = params_.data();
  const float* log_std = params_.data() + log_std_offset_;
  const auto it = static_cast<std::uint32_t>(iteration_);
  const std::size_t n_bytes = static_cast<std::size_t>(N);
  for (std::int64_t t = 0; t < T; ++t) {
    float* obs = RolloutBuffer::at(rollout_.obs, t, N, obs_dim_);
    policy_obs(env_.obs().data(), N, obs);
    float* acts = RolloutBuffer::at(rollout_.actions, t, N, act_dim_);
    float* logps = RolloutBuffer::at(rollout_.log_probs, t, N, 1);
    ppo_kernels::SampleArgs sa;
    sa.n = N;
    sa.discrete = discrete_;
    sa.head_dim = head_dim_;
    sa.act_dim = act_dim_;
    sa.head = actor_.forward(actor_p, obs, N, actor_ws_);
    sa.log_std = log_std;
    sa.low = act_low_d_.data();
    sa.high = act_high_d_.data();
    sa.seed = config_.seed;
    sa.iteration = it;
    sa.step = static_cast<std::uint32_t>(t);
    sa.actions = acts;
    sa.log_probs = logps;
    sa.env_actions_i = env_actions_i_.data();
    sa.env_actions_f = env_actions_f_.data();
    ppo_kernels::sample_actions(dev, sa);
    const float* v = critic_values(obs, N);
    copy_bytes(RolloutBuffer::at(rollout_.values, t, N, 1), dev, v, dev, sizeof(float) * n_bytes);

    // no host wait per step: invalid actions (a diverged policy) surface at check_steps()
    env_.step_raw(discrete_ ? static_cast<const void*>(env_actions_i_.data())
                            : static_cast<const void*>(env_actions_f_.data()));

    float* rew = RolloutBuffer::at(rollout_.rewards, t, N, 1);
    std::uint8_t* term = RolloutBuffer::at(rollout_.terminated, t, N, 1);
    std::uint8_t* trunc = RolloutBuffer::at(rollout_.truncated, t, N, 1);
    copy_bytes(term, dev, env_.terminated().data(), dev, n_bytes);
    copy_bytes(trunc, dev, env_.truncated().data(), dev, n_bytes);
    if (config_.norm_reward) {
      ppo_kernels::discount_returns(dev, N, config_.gamma, env_.reward().data(), returns_.data());
      ppo_kernels::rms_update(dev, returns_.data(), N, 1, ret_count_, ret_mean_.data(),
                              ret_var_.data(), rms_scratch_);
      ret_count_ += static_cast<double>(N);
      ppo_kernels::scale_rewards(dev, N, ret_var_.data(), env_.reward().data(), term, trunc,
                                 returns_.data(), rew);
    } else {
      copy_bytes(rew, dev, env_.reward().data(), dev, sizeof(float) * n_bytes);
    }
    // statistics before normalising final obs (Gymnasium updates them on each new obs)
    if (config_.norm_obs) {
      ppo_kernels::rms_update(dev, env_.obs().data(), N, obs_dim_, obs_count_, obs_mean_.data(),
                              obs_var_.data(), rms_scratch_);
      obs_count_ += static_cast<double>(N);
    }
    ppo_kernels::episode_terms(dev, N, term, trunc, env_.final_episode_return().data(),
                               env_.final_episode_length().data(),
                               episode_terms_.data() + t * N * 3);
    // V(final_obs) of truncated (not terminated) episodes: their bootstrap
    float* fv = RolloutBuffer::at(rollout_.final_values, t, N, 1);
    const float* final_obs = env_.final_obs().data();
    if (dev.is_cuda()) {
      // every env's final obs through the critic, masked: compacting the truncated rows
      // would need their count on the host (a sync per step), and N rows cost the GPU no
      // more than a few
      policy_obs(final_obs, N, trunc_obs_.data());
      ppo_kernels::masked_final_values(dev, N, term, trunc, critic_values(trunc_obs_.data(), N),
                                       fv);
      continue;
    }
    // the CPU: the flags are host memory, so compact the truncated rows and value only them
    // (the critic's GEMM shape, hence its bits, as before)
    std::int64_t n_trunc = 0;
    for (std::int64_t i = 0; i < N; ++i) {
      if (trunc[i] && !term[i]) {
        std::memcpy(trunc_obs_.data() + n_trunc * obs_dim_, final_obs + i * obs_dim_,
                    sizeof(float) * static_cast<std::size_t>(obs_dim_));
        trunc_rows_[static_cast<std::size_t>(n_trunc++)] = i;
      }
    }
    for (std::int64_t i = 0; i < N; ++i) fv[i] = 0.0f;
    if (n_trunc > 0) {
      policy_obs(trunc_obs_.data(), n_trunc, trunc_obs_.data());
      const float* tv = critic_values(trunc_obs_.data(), n_trunc);
      for (std::int64_t j = 0; j < n_trunc; ++j) fv[trunc_rows_[j]] = tv[j];
    }
  }
  env_.check_steps();
  global_step_ += N * T;
  policy_obs(env_.obs().data(), N, norm_obs_.data());
  rollout_.compute_gae(critic_values(norm_obs_.data(), N), static_cast<float>(config_.gamma),
                       static_cast<float>(config_.gae_lambda));
  ppo_kernels::sum_columns(dev, episode_terms_.data(), T * N, 3, metrics_.data(), reduce_scratch_);
}

void Ppo::update(PpoMetrics& m) {
  const Device& dev = env_.device();
  const std::int64_t B = config_.batch_size(), mb = config_.minibatch_size();
  const auto it = static_cast<std::uint32_t>(iteration_);
  const double inv_b = 1.0 / static_cast<double>(mb);
  float* p = params_.data();
  float* g = grads_.data();
  ppo_kernels::LossArgs la;
  la.rows = mb;
  la.discrete = discrete_;
  la.head_dim = head_dim_;
  la.log_std = discrete_ ? nullptr : p + log_std_offset_;
  la.actions = mb_act_.data();
  la.old_log_probs = mb_logp_.data();
  la.advantages = mb_adv_.data();
  la.old_values = mb_val_.data();
  la.returns = mb_ret_.data();
  la.coefs.clip_coef = m.clip_coef;
  la.coefs.clip_vloss = config_.clip_vloss;
  la.coefs.ent_coef = config_.ent_coef;
  la.coefs.vf_coef = config_.vf_coef;
  la.coefs.norm_adv = config_.norm_adv;
  la.d_head = mb_dhead_.data();
  la.d_values = mb_dval_.data();
  la.d_log_std = discrete_ ? nullptr : g + log_std_offset_;
  ppo_kernels::GatherArgs ga;
  ga.rows = mb;
  ga.obs_dim = obs_dim_;
  ga.act_dim = act_dim_;
  ga.obs = rollout_.obs.data();
  ga.actions = rollout_.actions.data();
  ga.log_probs = rollout_.log_probs.data();
  ga.advantages = rollout_.advantages.data();
  ga.values = rollout_.values.data();
  ga.returns = rollout_.returns.data();
  ga.mb_obs = mb_obs_.data();
  ga.mb_actions = mb_act_.data();
  ga.mb_log_probs = mb_logp_.data();
  ga.mb_advantages = mb_adv_.data();
  ga.mb_values = mb_val_.data();
  ga.mb_returns = mb_ret_.data();
  std::int64_t count = 0;
  for (std::int64_t epoch = 0; epoch < config_.update_epochs && !m.early_stopped; ++epoch) {
    // Fisher-Yates from this (iteration, epoch)'s stream, on the host; CUDA gets it uploaded
    // once per epoch
    for (std::int64_t i = 0; i < B; ++i) perm_[static_cast<std::size_t>(i)] = i;
    PhiloxStream rng(config_.seed, 0, it, static_cast<std::uint32_t>(epoch), RngPurpose::kShuffle);
    for (std::int64_t i = B - 1; i > 0; --i) {
      const std::int64_t j = rng.below(static_cast<std::uint32_t>(i + 1));
      std::swap(perm_[static_cast<std::size_t>(i)], perm_[static_cast<std::size_t>(j)]);
    }
    const std::int64_t* perm = perm_.data();
    if (dev.is_cuda()) {
      perm_d_.copy_from_host(perm_);
      perm = perm_d_.data();
    }
    for (std::int64_t start = 0; start < B; start += mb) {
      ga.perm = perm + start;
      ppo_kernels::gather_minibatch(dev, ga);
      grads_.zero();
      la.head = actor_.forward(p, mb_obs_.data(), mb, actor_ws_);
      la.values = critic_.forward(p + critic_offset_, mb_obs_.data(), mb, critic_ws_);
      double* slot = metrics_.data() + 8 + 8 * count;
      la.stats = slot;
      ppo_kernels::minibatch_loss(dev, la, *loss_scratch_);
      actor_.backward(p, mb_dhead_.data(), actor_ws_, g);
      critic_.backward(p + critic_offset_, mb_dval_.data(), critic_ws_, g + critic_offset_);
      clip_grad_norm_on_device(dev, g, grads_.size(), config_.max_grad_norm, slot + 7,
                               norm_scratch_.data());
      adam_.step(p, g);
      ++count;
    }
    // CleanRL checks the last minibatch's approx_kl after each epoch: one read per epoch
    if (config_.target_kl > 0) {
      double kl_sum = 0;
      copy_bytes(&kl_sum, Device::cpu(), metrics_.data() + 8 + 8 * (count - 1) + 3, dev,
                 sizeof(double));
      if (kl_sum * inv_b > config_.target_kl) m.early_stopped = true;
    }
  }
  // explained variance of the rollout's values (np.var: population variance)
  ppo_kernels::explained_variance_sums(dev, B, rollout_.returns.data(), rollout_.values.data(),
                                       ev_rows_, reduce_scratch_, metrics_.data() + 3);
  // the iteration's one read of its metrics
  const std::int64_t used = 8 + 8 * count;
  metrics_.copy_to_host(metrics_host_.data(), used);
  const double* h = metrics_host_.data();
  double sum_pg = 0, sum_v = 0, sum_ent = 0, sum_kl = 0, sum_okl = 0, sum_clip = 0, sum_gn = 0;
  for (std::int64_t j = 0; j < count; ++j) {
    const double* r = h + 8 + 8 * j;
    PpoLossStats s;
    s.pg_loss = r[0] * inv_b;
    s.v_loss = r[1] * inv_b;
    s.entropy = r[2] * inv_b;
    s.approx_kl = r[3] * inv_b;
    s.old_approx_kl = r[4] * inv_b;
    s.clip_fraction = r[5] * inv_b;
    s.max_abs_log_ratio = r[6];
    if (j == 0) {
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
    sum_gn += r[7];
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
  const double vy = h[5], vd = h[6];
  m.explained_variance = vy == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 - vd / vy;
  const double ret_sum = h[0], len_sum = h[1];
  const auto episodes = static_cast<std::int64_t>(h[2]);
  m.episodes = episodes;
  m.mean_episode_return =
      episodes > 0 ? ret_sum / episodes : std::numeric_limits<double>::quiet_NaN();
  m.mean_episode_length =
      episodes > 0 ? len_sum / episodes : std::numeric_limits<double>::quiet_NaN();
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
  collect();
  update(m);
  m.global_step = global_step_;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.steps_per_second = secs > 0 ? static_cast<double>(config_.batch_size()) / secs : 0.0;
  return m;
}

// The networks' input for act_deterministic: host obs uploaded (CUDA) and normalised by the
// frozen statistics, in eval_obs_.
namespace {
void ensure_size(DeviceArray<float>& a, const Device& dev, std::int64_t n) {
  if (a.size() < n) a = DeviceArray<float>(dev, n);
}
}  // namespace

const float* Ppo::eval_head(const float* obs, std::int64_t batch) {
  const Device& dev = env_.device();
  if (eval_ws_.capacity() < batch) eval_ws_ = actor_.make_workspace(batch);
  ensure_size(eval_obs_, dev, batch * obs_dim_);
  const float* x = obs;
  if (dev.is_cuda()) {
    eval_obs_.copy_from_host(obs, batch * obs_dim_);
    x = eval_obs_.data();
  }
  if (config_.norm_obs) {
    policy_obs(x, batch, eval_obs_.data());  // frozen statistics
    x = eval_obs_.data();
  }
  return actor_.forward(params_.data(), x, batch, eval_ws_);
}

void Ppo::act_deterministic(const float* obs, std::int64_t batch, std::int32_t* out_actions) {
  if (!discrete_) throw Error("Ppo::act_deterministic: continuous actions are float, not int32");
  const GemmThreads gemm(config_.gemm_threads);
  const Device& dev = env_.device();
  const float* head = eval_head(obs, batch);
  if (!dev.is_cuda()) {
    ppo_kernels::argmax_rows(dev, batch, head_dim_, head, out_actions);
    return;
  }
  if (eval_actions_i_.size() < batch) eval_actions_i_ = DeviceArray<std::int32_t>(dev, batch);
  ppo_kernels::argmax_rows(dev, batch, head_dim_, head, eval_actions_i_.data());
  eval_actions_i_.copy_to_host(out_actions, batch);
}

void Ppo::act_deterministic(const float* obs, std::int64_t batch, float* out_actions) {
  if (discrete_) throw Error("Ppo::act_deterministic: discrete actions are int32, not float");
  const GemmThreads gemm(config_.gemm_threads);
  const Device& dev = env_.device();
  const float* head = eval_head(obs, batch);
  if (!dev.is_cuda()) {
    ppo_kernels::clip_rows(dev, batch, act_dim_, head, act_low_d_.data(), act_high_d_.data(),
                           out_actions);
    return;
  }
  ensure_size(eval_actions_f_, dev, batch * act_dim_);
  ppo_kernels::clip_rows(dev, batch, act_dim_, head, act_low_d_.data(), act_high_d_.data(),
                         eval_actions_f_.data());
  eval_actions_f_.copy_to_host(out_actions, batch * act_dim_);
}

Checkpoint Ppo::make_checkpoint() const {
  sync_stats();
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
  if (config_.norm_obs) {
    obs_rms_ = c.obs_rms;
    obs_mean_.copy_from_host(c.obs_rms.mean);
    obs_var_.copy_from_host(c.obs_rms.var);
    obs_count_ = c.obs_rms.count;
  }
  if (!with_env_state) return;
  adam_.m().copy_from_host(c.adam_m);
  adam_.v().copy_from_host(c.adam_v);
  adam_.set_steps(c.adam_steps);
  if (config_.norm_reward) {
    reward_scaler_.return_rms = c.return_rms;
    reward_scaler_.returns = c.discounted_returns;
    ret_mean_.copy_from_host(c.return_rms.mean);
    ret_var_.copy_from_host(c.return_rms.var);
    ret_count_ = c.return_rms.count;
    returns_.copy_from_host(c.discounted_returns);
  }
  iteration_ = c.iteration;
  global_step_ = c.global_step;
}

}  // namespace convoy::rl
