#include "rl/sac.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <string>

#include "replay/prioritized.h"
#include "rl/learner_util.h"
#include "sim/error.h"
#include "sim/parallel.h"
#include "sim/rng.h"

namespace convoy::rl {

namespace {

[[noreturn]] void bad_field(const char* name, const std::string& value, const char* allowed) {
  throw Error(std::string("SacConfig: ") + name + " = " + value +
              " is invalid; allowed: " + allowed);
}

int checked_dim(std::int64_t d, const char* what) {
  if (d < 1 || d > (1 << 24)) {
    throw Error(std::string("Sac: ") + what + " " + std::to_string(d) + " is not supported");
  }
  return static_cast<int>(d);
}

}  // namespace

// --- config --------------------------------------------------------------------------------

void SacConfig::read_config(ConfigReader& r) {
  num_envs = r.integer("num_envs", num_envs, 1, 1 << 20, "parallel envs the learner expects");
  total_timesteps = r.integer("total_timesteps", total_timesteps, 1, std::int64_t(1) << 50,
                              "env steps (all envs) of a run");
  buffer_size = r.integer("buffer_size", buffer_size, 1, std::int64_t(1) << 31,
                          "replay buffer capacity in transitions");
  gamma = r.real("gamma", gamma, 0.0, 1.0, "discount factor");
  tau = r.real("tau", tau, 0.0, 1.0, "Polyak coefficient of the target networks");
  batch_size = r.integer("batch_size", batch_size, 1, 1 << 20, "replay batch per update");
  learning_starts = r.integer("learning_starts", learning_starts, 0, std::int64_t(1) << 50,
                              "env steps of uniform random actions before updates start");
  policy_lr = r.real("policy_lr", policy_lr, 0.0, 1.0, "actor Adam step size");
  q_lr = r.real("q_lr", q_lr, 0.0, 1.0, "critic (and alpha) Adam step size");
  policy_frequency = r.integer("policy_frequency", policy_frequency, 1, 1000,
                               "actor updates every this many critic updates, that many at once");
  target_network_frequency =
      r.integer("target_network_frequency", target_network_frequency, 1, 1000000,
                "Polyak target update every this many critic updates");
  gradient_steps =
      r.integer("gradient_steps", gradient_steps, 1, 10000, "critic updates per vector env step");
  alpha = r.real("alpha", alpha, 1e-8, 100.0, "entropy coefficient (the initial one if autotune)");
  autotune = r.boolean("autotune", autotune, "learn alpha towards entropy -act_dim");
  adam_eps = r.real("adam_eps", adam_eps, 1e-12, 1.0, "Adam's epsilon");
  hidden_layers =
      static_cast<int>(r.integer("hidden_layers", hidden_layers, 0, 16, "hidden layers per net"));
  hidden_size =
      static_cast<int>(r.integer("hidden_size", hidden_size, 1, 1 << 16, "hidden layer width"));
  activation = parse_activation(r.choice("activation", activation_name(activation),
                                         {"tanh", "relu", "elu"}, "hidden activation"));
  seed = static_cast<std::uint64_t>(r.integer("seed", static_cast<std::int64_t>(seed), 0,
                                              (std::int64_t(1) << 56) - 1,
                                              "seeds init, env resets, exploration, replay"));
  gemm_threads = static_cast<int>(
      r.integer("gemm_threads", gemm_threads, 0, 4096, "threads of the networks' GEMMs (0: all)"));
  cpu_threads = static_cast<int>(
      r.integer("cpu_threads", cpu_threads, 0, 4096,
                "OpenMP threads of env steps, replay, Adam during training (0: the process's)"));
  prioritized =
      r.choice("replay", prioritized ? "prioritized" : "uniform", {"uniform", "prioritized"},
               "replay buffer: uniform, or proportional prioritized (Schaul et al.)") ==
      "prioritized";
  per_alpha = r.real("per_alpha", per_alpha, 0.0, 100.0, "prioritized: priority exponent alpha");
  per_beta0 = r.real("per_beta0", per_beta0, 0.0, 1.0,
                     "prioritized: importance-weight exponent beta at the first update");
  per_beta_steps = r.integer("per_beta_steps", per_beta_steps, 1, std::int64_t(1) << 50,
                             "prioritized: updates over which beta rises linearly to 1");
  per_eps = r.real("per_eps", per_eps, 0.0, 1.0, "prioritized: added to |TD error|");
  n_step = static_cast<int>(r.integer("n_step", n_step, 1, NStepWriter::kMaxSteps,
                                      "rewards summed per stored transition (n-step returns)"));
  validate();
}

SacConfig SacConfig::from_config(const Config& config) {
  return read_learner_config<SacConfig>(config, "SAC");
}

void SacConfig::validate() const {
  auto s = [](double v) { return std::to_string(v); };
  if (num_envs < 1) bad_field("num_envs", std::to_string(num_envs), ">= 1");
  if (total_timesteps < 1) bad_field("total_timesteps", std::to_string(total_timesteps), ">= 1");
  if (buffer_size < num_envs || buffer_size > (std::int64_t(1) << 31)) {
    bad_field("buffer_size", std::to_string(buffer_size), "num_envs..2^31");
  }
  if (!(gamma >= 0 && gamma <= 1)) bad_field("gamma", s(gamma), "[0, 1]");
  if (!(tau >= 0 && tau <= 1)) bad_field("tau", s(tau), "[0, 1]");
  if (batch_size < 1) bad_field("batch_size", std::to_string(batch_size), ">= 1");
  if (learning_starts < 0) bad_field("learning_starts", std::to_string(learning_starts), ">= 0");
  // a prioritized buffer draws a batch of distinct strata, so it must hold a batch first
  if (prioritized && learning_starts < batch_size) {
    const std::string allowed =
        ">= batch_size (" + std::to_string(batch_size) + ") with replay=prioritized";
    bad_field("learning_starts", std::to_string(learning_starts), allowed.c_str());
  }
  if (!(per_alpha >= 0 && per_alpha <= 100)) bad_field("per_alpha", s(per_alpha), "[0, 100]");
  if (!(per_beta0 >= 0 && per_beta0 <= 1)) bad_field("per_beta0", s(per_beta0), "[0, 1]");
  if (!(per_eps >= 0 && per_eps <= 1)) bad_field("per_eps", s(per_eps), "[0, 1]");
  if (per_beta_steps < 1) bad_field("per_beta_steps", std::to_string(per_beta_steps), ">= 1");
  if (n_step < 1 || n_step > NStepWriter::kMaxSteps) {
    bad_field("n_step", std::to_string(n_step), "1..64");
  }
  if (!(policy_lr >= 0 && policy_lr <= 1)) bad_field("policy_lr", s(policy_lr), "[0, 1]");
  if (!(q_lr >= 0 && q_lr <= 1)) bad_field("q_lr", s(q_lr), "[0, 1]");
  if (policy_frequency < 1) {
    bad_field("policy_frequency", std::to_string(policy_frequency), ">= 1");
  }
  if (target_network_frequency < 1) {
    bad_field("target_network_frequency", std::to_string(target_network_frequency), ">= 1");
  }
  if (gradient_steps < 1) bad_field("gradient_steps", std::to_string(gradient_steps), ">= 1");
  if (!(alpha > 0)) bad_field("alpha", s(alpha), "> 0");
  if (!(adam_eps > 0)) bad_field("adam_eps", s(adam_eps), "> 0");
  if (hidden_layers < 0) bad_field("hidden_layers", std::to_string(hidden_layers), ">= 0");
  if (hidden_size < 1) bad_field("hidden_size", std::to_string(hidden_size), ">= 1");
  if (gemm_threads < 0) bad_field("gemm_threads", std::to_string(gemm_threads), ">= 0");
  if (cpu_threads < 0) bad_field("cpu_threads", std::to_string(cpu_threads), ">= 0");
}

// --- networks and losses --------------------------------------------------------------------

template <class T>
SacNetworks<T>::SacNetworks(const MlpSpec& actor_spec, const MlpSpec& q_spec,
                            const std::vector<T>& act_scale, const std::vector<T>& act_bias,
                            const Device& device)
    : actor_(actor_spec, device),
      q_(q_spec, device),
      device_(device),
      obs_dim_(actor_spec.input_dim),
      act_dim_(actor_spec.output_dim / 2) {
  if (actor_spec.output_dim != 2 * act_dim_ || q_spec.input_dim != obs_dim_ + act_dim_ ||
      q_spec.output_dim != 1 || static_cast<int>(act_scale.size()) != act_dim_ ||
      static_cast<int>(act_bias.size()) != act_dim_) {
    throw Error("SacNetworks: the actor must map obs to 2 x act_dim, the Qs obs + act to 1");
  }
  scale_ = DeviceArray<T>(device, act_scale);
  bias_ = DeviceArray<T>(device, act_bias);
  q_scratch_ = DeviceArray<T>(device, q_.num_params());
}

template <class T>
void SacNetworks<T>::reserve(std::int64_t rows) {
  if (actor_ws_.capacity() < rows) actor_ws_ = actor_.make_workspace(rows);
  if (q1_ws_.capacity() < rows) q1_ws_ = q_.make_workspace(rows);
  if (q2_ws_.capacity() < rows) q2_ws_ = q_.make_workspace(rows);
  if (rows_ >= rows) return;
  const std::int64_t in = obs_dim_ + act_dim_;
  qin_ = DeviceArray<T>(device_, rows * in);
  act_ = DeviceArray<T>(device_, rows * act_dim_);
  logp_ = DeviceArray<T>(device_, rows);
  dhead_ = DeviceArray<T>(device_, rows * 2 * act_dim_);
  dq1_ = DeviceArray<T>(device_, rows);
  dq2_ = DeviceArray<T>(device_, rows);
  dx1_ = DeviceArray<T>(device_, rows * in);
  dx2_ = DeviceArray<T>(device_, rows * in);
  g_act_ = DeviceArray<T>(device_, rows * act_dim_);
  loss_scratch_ = sac_kernels::LossScratch(device_, rows);
  rows_ = rows;
}

template <class T>
void SacNetworks<T>::init(T* params, std::uint64_t seed, double alpha) const {
  actor_.init_orthogonal(params + actor_offset(), mix_seed(seed, 1), 0.01);
  q_.init_orthogonal(params + q1_offset(), mix_seed(seed, 2), 1.0);
  q_.init_orthogonal(params + q2_offset(), mix_seed(seed, 3), 1.0);
  copy_bytes(params + q1_target_offset(), device_, params + q1_offset(), device_,
             sizeof(T) * static_cast<std::size_t>(2 * q_.num_params()));
  const T log_alpha = static_cast<T>(std::log(alpha));
  copy_bytes(params + log_alpha_offset(), device_, &log_alpha, Device::cpu(), sizeof(T));
}

template <class T>
void SacNetworks<T>::concat(const T* obs, const T* actions, std::int64_t rows) {
  sac_kernels::concat_rows(device_, rows, obs_dim_, act_dim_, obs, actions, qin_.data());
}

template <class T>
void SacNetworks<T>::policy(const T* params, const T* obs, const T* eps, std::int64_t rows,
                            T* actions, T* log_probs) {
  reserve(rows);
  const T* head = actor_.forward(params + actor_offset(), obs, rows, actor_ws_);
  sac_kernels::sample_rows(device_, rows, act_dim_, head, eps, scale_.data(), bias_.data(), actions,
                           log_probs);
}

template <class T>
void SacNetworks<T>::policy_mean(const T* params, const T* obs, std::int64_t rows, T* actions) {
  reserve(rows);
  const T* head = actor_.forward(params + actor_offset(), obs, rows, actor_ws_);
  sac_kernels::mean_rows(device_, rows, act_dim_, head, scale_.data(), bias_.data(), actions);
}

template <class T>
void SacNetworks<T>::critic_targets(const T* params, const T* next_obs, const T* rewards,
                                    const T* dones, const T* eps, std::int64_t rows,
                                    const double* alpha, T gamma, T* y, const T* steps) {
  reserve(rows);  // before taking act_ and logp_'s pointers
  policy(params, next_obs, eps, rows, act_.data(), logp_.data());
  concat(next_obs, act_.data(), rows);
  const T* q1 = q_.forward(params + q1_target_offset(), qin_.data(), rows, q1_ws_);
  const T* q2 = q_.forward(params + q2_target_offset(), qin_.data(), rows, q2_ws_);
  sac_kernels::soft_targets(device_, rows, q1, q2, logp_.data(), rewards, dones, alpha, gamma, y,
                            steps);
}

template <class T>
void SacNetworks<T>::critic_loss(const T* params, const T* obs, const T* actions, const T* y,
                                 const T* weights, std::int64_t rows, T* grads, T* td_abs,
                                 double* stats) {
  reserve(rows);
  concat(obs, actions, rows);
  const T* q1 = q_.forward(params + q1_offset(), qin_.data(), rows, q1_ws_);
  const T* q2 = q_.forward(params + q2_offset(), qin_.data(), rows, q2_ws_);
  const T inv = T(1) / static_cast<T>(rows);
  sac_kernels::critic_rows(device_, rows, q1, q2, y, weights, inv, dq1_.data(), dq2_.data(), td_abs,
                           loss_scratch_, stats);
  q_.backward(params + q1_offset(), dq1_.data(), q1_ws_, grads + q1_offset());
  q_.backward(params + q2_offset(), dq2_.data(), q2_ws_, grads + q2_offset());
}

template <class T>
void SacNetworks<T>::actor_loss(const T* params, const T* obs, const T* eps, std::int64_t rows,
                                const double* alpha, T* grads, double* stats) {
  reserve(rows);
  const T* head = actor_.forward(params + actor_offset(), obs, rows, actor_ws_);
  sac_kernels::sample_rows(device_, rows, act_dim_, head, eps, scale_.data(), bias_.data(),
                           act_.data(), logp_.data());
  concat(obs, act_.data(), rows);
  const T* q1 = q_.forward(params + q1_offset(), qin_.data(), rows, q1_ws_);
  const T* q2 = q_.forward(params + q2_offset(), qin_.data(), rows, q2_ws_);
  const T inv = T(1) / static_cast<T>(rows);
  sac_kernels::actor_rows(device_, rows, q1, q2, logp_.data(), alpha, inv, dq1_.data(), dq2_.data(),
                          loss_scratch_, stats);
  // dL/daction through both Qs; their parameter gradients go to a scratch buffer
  q_scratch_.zero();
  q_.backward(params + q1_offset(), dq1_.data(), q1_ws_, q_scratch_.data(), dx1_.data());
  q_.backward(params + q2_offset(), dq2_.data(), q2_ws_, q_scratch_.data(), dx2_.data());
  sac_kernels::actor_head_grad(device_, rows, obs_dim_, act_dim_, head, eps, scale_.data(), alpha,
                               inv, dx1_.data(), dx2_.data(), g_act_.data(), dhead_.data());
  actor_.backward(params + actor_offset(), dhead_.data(), actor_ws_, grads + actor_offset());
}

template class SacNetworks<float>;
template class SacNetworks<double>;

// --- the learner ----------------------------------------------------------------------------

namespace {

SacNetworks<float> make_networks(const VecEnv& env, const SacConfig& c) {
  if (env.discrete_actions()) {
    throw Error("Sac: " + env.spec().name +
                " has a Discrete action space; SAC needs a Box action space");
  }
  const int obs = checked_dim(env.obs_dim(), "obs_dim"),
            act = checked_dim(env.act_dim(), "act_dim");
  const auto& low = env.spec().action_space.low;
  const auto& high = env.spec().action_space.high;
  std::vector<float> scale(static_cast<std::size_t>(act)), bias(static_cast<std::size_t>(act));
  for (int k = 0; k < act; ++k) {
    if (!std::isfinite(low[k]) || !std::isfinite(high[k]) || !(high[k] > low[k])) {
      throw Error("Sac: " + env.spec().name + "'s action bound " + std::to_string(k) + " [" +
                  std::to_string(low[k]) + ", " + std::to_string(high[k]) +
                  "] is not a finite interval; SAC rescales tanh onto it");
    }
    scale[k] = 0.5f * (high[k] - low[k]);
    bias[k] = 0.5f * (high[k] + low[k]);
  }
  return SacNetworks<float>(net_spec(c, obs, 2 * act), net_spec(c, obs + act, 1), scale, bias,
                            env.device());
}

}  // namespace

Sac::Sac(VecEnv& env, const SacConfig& config, std::unique_ptr<ReplayBuffer> replay)
    : env_(env),
      config_((config.validate(), config)),
      obs_dim_(checked_dim(env.obs_dim(), "obs_dim")),
      act_dim_(checked_dim(env.act_dim(), "act_dim")),
      nets_(make_networks(env, config)),
      params_(env.device(), nets_.num_params()),
      grads_(env.device(), nets_.num_params()),
      actor_adam_(env.device(), nets_.actor().num_params(),
                  AdamConfig{config.policy_lr, 0.9, 0.999, config.adam_eps}),
      critic_adam_(env.device(), 2 * nets_.q().num_params(),
                   AdamConfig{config.q_lr, 0.9, 0.999, config.adam_eps}),
      alpha_adam_(env.device(), 1, AdamConfig{config.q_lr, 0.9, 0.999, config.adam_eps}),
      replay_(std::move(replay)),
      target_entropy_(-static_cast<double>(act_dim_)) {
  if (env.num_envs() != config.num_envs) {
    throw Error("Sac: the env has " + std::to_string(env.num_envs()) +
                " envs but num_envs = " + std::to_string(config.num_envs));
  }
  if (!replay_ && config.prioritized) {
    replay_ = std::make_unique<PrioritizedReplayBuffer>(
        env.device(), config.buffer_size, obs_dim_, act_dim_,
        PrioritizedConfig{config.per_alpha, config.per_beta0, config.per_eps,
                          config.per_beta_steps});
  }
  if (!replay_) {
    replay_ =
        std::make_unique<UniformReplayBuffer>(env.device(), config.buffer_size, obs_dim_, act_dim_);
  }
  if (config.n_step > 1) {
    nstep_ = std::make_unique<NStepWriter>(env.device(), config.num_envs, config.n_step,
                                           config.gamma, obs_dim_, act_dim_);
  }
  if (replay_->device() != env.device()) {
    throw Error("Sac: the replay buffer is on " + replay_->device().str() + " but the env on " +
                env.device().str() + "; they must share a device");
  }
  if (replay_->obs_dim() != obs_dim_ || replay_->act_dim() != act_dim_ ||
      replay_->capacity() < config.num_envs) {
    throw Error("Sac: the replay buffer holds obs " + std::to_string(replay_->obs_dim()) +
                ", actions " + std::to_string(replay_->act_dim()) + ", capacity " +
                std::to_string(replay_->capacity()) + "; the env needs obs " +
                std::to_string(obs_dim_) + ", actions " + std::to_string(act_dim_) +
                " and a capacity >= num_envs");
  }
  const Device& dev = env.device();
  nets_.init(params_.data(), config.seed, config.alpha);
  grads_.zero();
  alpha_ = DeviceArray<double>(dev, std::vector<double>{config.alpha});
  const std::int64_t N = config.num_envs, B = config.batch_size;
  nets_.reserve(std::max(N, B));
  obs_before_ = DeviceArray<float>(dev, N * obs_dim_);
  env_actions_ = DeviceArray<float>(dev, N * act_dim_);
  eps_ = DeviceArray<float>(dev, std::max(N, B) * act_dim_);
  y_ = DeviceArray<float>(dev, B);
  td_ = DeviceArray<float>(dev, B);
  logp_ = DeviceArray<float>(dev, std::max(N, B));
  scratch_actions_ = DeviceArray<float>(dev, B * act_dim_);
  metrics_ = DeviceArray<double>(dev, 11);
  if (dev.is_cuda()) episode_acc_ = DeviceArray<double>(dev, N * 3);
  scratch_ = sac_kernels::LossScratch(dev, 1);
  env_.reset(config.seed);
}

void Sac::load_params(const std::vector<float>& params) {
  if (static_cast<std::int64_t>(params.size()) != params_.size()) {
    throw Error("Sac::load_params: " + std::to_string(params.size()) +
                " parameters given; these settings make " + std::to_string(params_.size()));
  }
  params_.copy_from_host(params);
  sac_kernels::alpha_from_log(params_.device(), params_.data() + nets_.log_alpha_offset(),
                              alpha_.data());
}

double Sac::alpha() const {
  double a = 0;
  alpha_.copy_to_host(&a, 1);
  return a;
}

namespace {
struct SacState {
  std::int64_t actor_steps, critic_steps, alpha_steps, global_step, vector_step, updates;
  double alpha;
};
}  // namespace

Checkpoint Sac::make_checkpoint() const {
  Checkpoint c;
  c.global_step = global_step_;
  c.iteration = updates_;
  c.params = params_.to_host();
  for (const Adam<float>* a : {&actor_adam_, &critic_adam_, &alpha_adam_}) {
    const auto m = a->m().to_host(), v = a->v().to_host();
    c.adam_m.insert(c.adam_m.end(), m.begin(), m.end());
    c.adam_v.insert(c.adam_v.end(), v.begin(), v.end());
  }
  c.adam_steps = critic_adam_.steps();
  const SacState st{actor_adam_.steps(),
                    critic_adam_.steps(),
                    alpha_adam_.steps(),
                    global_step_,
                    vector_step_,
                    updates_,
                    alpha()};
  c.blobs["sac.state"] = std::string(reinterpret_cast<const char*>(&st), sizeof(st));
  c.blobs["sac.replay"] = replay_->save_state();
  if (nstep_) c.blobs["sac.nstep"] = nstep_->save_state();
  c.env_state = env_.save_state();
  return c;
}

void Sac::restore_checkpoint(const Checkpoint& c, bool with_env_state) {
  const auto n = static_cast<std::size_t>(params_.size());
  if (c.params.size() != n) {
    throw Error("Sac: the checkpoint has " + std::to_string(c.params.size()) +
                " parameters but this learner needs " + std::to_string(n));
  }
  if (!with_env_state) {
    load_params(c.params);
    return;
  }
  const auto a = static_cast<std::size_t>(actor_adam_.m().size());
  const auto q = static_cast<std::size_t>(critic_adam_.m().size());
  if (c.adam_m.size() != a + q + 1 || c.adam_v.size() != a + q + 1) {
    throw Error("Sac: the checkpoint's Adam state has " + std::to_string(c.adam_m.size()) +
                " values but this learner needs " + std::to_string(a + q + 1));
  }
  const auto st_it = c.blobs.find("sac.state");
  const auto rb_it = c.blobs.find("sac.replay");
  if (st_it == c.blobs.end() || st_it->second.size() != sizeof(SacState) ||
      rb_it == c.blobs.end()) {
    throw Error("Sac: the checkpoint holds no SAC training state (counters, replay buffer)");
  }
  if (c.env_state.empty()) throw Error("Sac: the checkpoint holds no env state to resume from");
  const auto ns_it = c.blobs.find("sac.nstep");
  if (nstep_ && ns_it == c.blobs.end()) {
    throw Error("Sac: the checkpoint holds no n-step queues; it was not trained with n_step = " +
                std::to_string(config_.n_step));
  }
  SacState st;
  std::memcpy(&st, st_it->second.data(), sizeof(st));
  // each load checks its bytes before changing anything; the replay buffer is put back if the
  // env then refuses, so a refused checkpoint leaves the learner as it was
  const std::string previous_replay = replay_->save_state();
  replay_->load_state(rb_it->second);
  const std::string previous_nstep = nstep_ ? nstep_->save_state() : std::string();
  try {
    if (nstep_) nstep_->load_state(ns_it->second);
    env_.load_state(c.env_state);
  } catch (...) {
    replay_->load_state(previous_replay);
    if (nstep_) nstep_->load_state(previous_nstep);
    throw;
  }
  params_.copy_from_host(c.params);
  const auto restore = [&](Adam<float>& adam, std::size_t begin, std::size_t size,
                           std::int64_t steps) {
    adam.m().copy_from_host(c.adam_m.data() + begin, static_cast<std::int64_t>(size));
    adam.v().copy_from_host(c.adam_v.data() + begin, static_cast<std::int64_t>(size));
    adam.set_steps(steps);
  };
  restore(actor_adam_, 0, a, st.actor_steps);
  restore(critic_adam_, a, q, st.critic_steps);
  restore(alpha_adam_, a + q, 1, st.alpha_steps);
  global_step_ = st.global_step;
  vector_step_ = st.vector_step;
  updates_ = st.updates;
  alpha_.copy_from_host(&st.alpha, 1);
}

void Sac::fill_noise(std::int64_t rows, std::uint32_t phase) {
  sac_kernels::normal_rows(env_.device(), rows, act_dim_, config_.seed,
                           static_cast<std::uint32_t>(updates_), phase, RngPurpose::kNoise,
                           eps_.data());
}

void Sac::update(SacMetrics& m) {
  ++updates_;
  const Device& dev = env_.device();
  const std::int64_t B = config_.batch_size;
  float* p = params_.data();
  float* g = grads_.data();
  double* sums = metrics_.data();
  replay_->sample(B, mix_seed(config_.seed, 4), static_cast<std::uint64_t>(updates_), batch_);

  // critics: soft Bellman targets from the target networks, then one Adam step
  fill_noise(B, 0);
  nets_.critic_targets(p, batch_.next_obs.data(), batch_.rewards.data(), batch_.dones.data(),
                       eps_.data(), B, alpha_.data(), static_cast<float>(config_.gamma), y_.data(),
                       nstep_ ? batch_.steps.data() : nullptr);
  const std::int64_t q_begin = nets_.q1_offset(), q_size = 2 * nets_.q().num_params();
  zero_bytes(dev, g + q_begin, sizeof(float) * static_cast<std::size_t>(q_size));
  nets_.critic_loss(p, batch_.obs.data(), batch_.actions.data(), y_.data(), batch_.weights.data(),
                    B, g, td_.data(), sums);
  critic_adam_.step(p + q_begin, g + q_begin);
  replay_->update_priorities(batch_.indices.data(), td_.data(), B);
  ++m.critic_updates;

  // delayed policy (and alpha) updates: policy_frequency of them every policy_frequency
  if (updates_ % config_.policy_frequency == 0) {
    const std::int64_t a_size = nets_.actor().num_params();
    const std::int64_t la = nets_.log_alpha_offset();
    for (std::int64_t j = 0; j < config_.policy_frequency; ++j) {
      fill_noise(B, static_cast<std::uint32_t>(1 + 2 * j));
      zero_bytes(dev, g, sizeof(float) * static_cast<std::size_t>(a_size));
      nets_.actor_loss(p, batch_.obs.data(), eps_.data(), B, alpha_.data(), g, sums + 4);
      actor_adam_.step(p, g);
      ++m.actor_updates;
      if (config_.autotune) {
        // a fresh sample from the updated actor, as CleanRL; alpha_loss = mean(-exp(log_alpha)
        // (log pi + target_entropy)), its gradient and the new alpha all on the device
        fill_noise(B, static_cast<std::uint32_t>(2 + 2 * j));
        nets_.policy(p, batch_.obs.data(), eps_.data(), B, scratch_actions_.data(), logp_.data());
        sac_kernels::alpha_grad(dev, B, logp_.data(), p + la, target_entropy_, scratch_, g + la,
                                sums + 6);
        alpha_adam_.step(p + la, g + la);
        sac_kernels::alpha_from_log(dev, p + la, alpha_.data());
      }
    }
  }
  if (updates_ % config_.target_network_frequency == 0) {
    sac_kernels::polyak(dev, q_size, p + q_begin, p + nets_.q1_target_offset(),
                        static_cast<float>(config_.tau));
  }
}

SacMetrics Sac::train(std::int64_t vector_steps) {
  const auto start = std::chrono::steady_clock::now();
  const GemmThreads gemm(config_.gemm_threads);
  const CpuThreads cpu(config_.cpu_threads);
  const Device& dev = env_.device();
  const bool cuda = dev.is_cuda();
  const std::int64_t N = config_.num_envs;
  SacMetrics m;
  metrics_.zero();
  if (cuda) episode_acc_.zero();
  double* episodes = cuda ? episode_acc_.data() : metrics_.data() + 8;
  for (std::int64_t s = 0; s < vector_steps; ++s) {
    const float* obs = env_.obs().data();
    copy_bytes(obs_before_.data(), dev, obs, dev,
               sizeof(float) * static_cast<std::size_t>(N * obs_dim_));
    if (global_step_ < config_.learning_starts) {
      env_.sample_actions(mix_seed(config_.seed, 5), static_cast<std::uint64_t>(vector_step_),
                          env_actions_.data());
    } else {
      const auto hi = static_cast<std::uint32_t>(vector_step_ >> 32);
      const auto lo = static_cast<std::uint32_t>(vector_step_);
      sac_kernels::normal_rows(dev, N, act_dim_, config_.seed, hi, lo, RngPurpose::kPolicy,
                               eps_.data());
      nets_.policy(params_.data(), obs, eps_.data(), N, env_actions_.data(), logp_.data());
    }
    env_.step_raw(env_actions_.data());  // errors at check_steps() below, no wait per step
    const Transitions step = env_transitions(env_, obs_before_.data(), env_actions_.data());
    if (!nstep_) {
      replay_->add(step);
    } else if (const Transitions t = nstep_->push(step); t.rows > 0) {
      replay_->add(t);
    }
    sac_kernels::episode_sums(dev, N, cuda, env_.terminated().data(), env_.truncated().data(),
                              env_.final_episode_return().data(),
                              env_.final_episode_length().data(), episodes);
    global_step_ += N;
    ++vector_step_;
    if (global_step_ > config_.learning_starts) {
      for (std::int64_t k = 0; k < config_.gradient_steps; ++k) update(m);
    }
  }
  env_.check_steps();
  // the call's one read of its metrics (loss sums, alpha, episode sums)
  if (cuda) sac_kernels::episode_totals(dev, N, episode_acc_.data(), scratch_, metrics_.data() + 8);
  copy_bytes(metrics_.data() + 7, dev, alpha_.data(), dev, sizeof(double));
  double h[11];
  metrics_.copy_to_host(h, 11);
  if (m.critic_updates > 0) {
    const double inv = 1.0 / static_cast<double>(m.critic_updates);
    m.qf1_loss = h[0] * inv;
    m.qf2_loss = h[1] * inv;
    m.qf1_value = h[2] * inv;
    m.qf2_value = h[3] * inv;
  }
  if (m.actor_updates > 0) {
    const double inv = 1.0 / static_cast<double>(m.actor_updates);
    m.actor_loss = h[4] * inv;
    m.entropy = -h[5] * inv;
    if (config_.autotune) m.alpha_loss = h[6] * inv;
  }
  m.alpha = h[7];
  m.global_step = global_step_;
  m.updates = updates_;
  m.episodes = static_cast<std::int64_t>(h[10]);
  if (m.episodes > 0) {
    m.mean_episode_return = h[8] / static_cast<double>(m.episodes);
    m.mean_episode_length = h[9] / static_cast<double>(m.episodes);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.steps_per_second = secs > 0 ? static_cast<double>(vector_steps * N) / secs : 0.0;
  return m;
}

void Sac::act_deterministic(const float* obs, std::int64_t batch, float* out_actions) {
  const GemmThreads gemm(config_.gemm_threads);
  const Device& dev = env_.device();
  if (!dev.is_cuda()) {
    nets_.policy_mean(params_.data(), obs, batch, out_actions);
    return;
  }
  if (eval_obs_.size() < batch * obs_dim_) eval_obs_ = DeviceArray<float>(dev, batch * obs_dim_);
  if (eval_actions_.size() < batch * act_dim_) {
    eval_actions_ = DeviceArray<float>(dev, batch * act_dim_);
  }
  eval_obs_.copy_from_host(obs, batch * obs_dim_);
  nets_.policy_mean(params_.data(), eval_obs_.data(), batch, eval_actions_.data());
  eval_actions_.copy_to_host(out_actions, batch * act_dim_);
}

}  // namespace convoy::rl
