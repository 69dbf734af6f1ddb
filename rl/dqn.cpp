#include "rl/dqn.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "replay/prioritized.h"
#include "rl/dqn_kernels.h"
#include "rl/learner_util.h"
#include "sim/error.h"

namespace convoy::rl {

namespace {

[[noreturn]] void bad_field(const char* name, const std::string& value, const char* allowed) {
  throw Error(std::string("DqnConfig: ") + name + " = " + value +
              " is invalid; allowed: " + allowed);
}

int discrete_actions(const VecEnv& env) {
  if (!env.discrete_actions()) {
    throw Error("Dqn: " + env.spec().name +
                " has a Box action space; DQN needs a Discrete one (use sac or ppo)");
  }
  const std::int64_t n = env.spec().action_space.n;
  if (n < 1 || n > (1 << 20)) {
    throw Error("Dqn: " + env.spec().name + " has " + std::to_string(n) +
                " actions; DQN supports 1..2^20");
  }
  return static_cast<int>(n);
}

int obs_dim_of(const VecEnv& env) {
  const std::int64_t d = env.obs_dim();
  if (d < 1 || d > (1 << 24))
    throw Error("Dqn: obs_dim " + std::to_string(d) + " is not supported");
  return static_cast<int>(d);
}

struct DqnState {
  std::int64_t adam_steps, global_step, vector_step, updates;
};

}  // namespace

// --- config --------------------------------------------------------------------------------

void DqnConfig::read_config(ConfigReader& r) {
  num_envs = r.integer("num_envs", num_envs, 1, 1 << 20, "parallel envs the learner expects");
  total_timesteps = r.integer("total_timesteps", total_timesteps, 1, std::int64_t(1) << 50,
                              "env steps (all envs) of a run");
  buffer_size = r.integer("buffer_size", buffer_size, 1, std::int64_t(1) << 31,
                          "replay buffer capacity in transitions");
  learning_rate = r.real("learning_rate", learning_rate, 0.0, 1.0, "Adam step size");
  gamma = r.real("gamma", gamma, 0.0, 1.0, "discount factor");
  tau = r.real("tau", tau, 0.0, 1.0, "target update: 1 copies, < 1 Polyak-averages");
  target_network_frequency =
      r.integer("target_network_frequency", target_network_frequency, 1, std::int64_t(1) << 40,
                "env steps between target network updates");
  batch_size = r.integer("batch_size", batch_size, 1, 1 << 20, "replay batch per update");
  start_e = r.real("start_e", start_e, 0.0, 1.0, "exploration epsilon at the start");
  end_e = r.real("end_e", end_e, 0.0, 1.0, "exploration epsilon at the end of its schedule");
  exploration_fraction = r.real("exploration_fraction", exploration_fraction, 0.0, 1.0,
                                "share of the run over which epsilon falls to end_e");
  learning_starts = r.integer("learning_starts", learning_starts, 0, std::int64_t(1) << 50,
                              "env steps before updates start");
  train_frequency = r.integer("train_frequency", train_frequency, 1, std::int64_t(1) << 40,
                              "env steps between training rounds");
  gradient_steps =
      r.integer("gradient_steps", gradient_steps, 1, 100000, "updates per training round");
  double_q = r.boolean("double_q", double_q, "double Q-learning targets");
  dueling = r.boolean("dueling", dueling, "dueling heads: Q = V + A - mean(A)");
  huber = r.choice("loss", huber ? "huber" : "mse", {"huber", "mse"},
                   "TD loss: huber (smooth L1) or mse") == "huber";
  max_grad_norm =
      r.real("max_grad_norm", max_grad_norm, 0.0, 1e9, "global gradient-norm clip (0: none)");
  adam_eps = r.real("adam_eps", adam_eps, 1e-12, 1.0, "Adam's epsilon");
  n_step = static_cast<int>(r.integer("n_step", n_step, 1, NStepWriter::kMaxSteps,
                                      "rewards summed per stored transition (n-step returns)"));
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
  hidden_layers =
      static_cast<int>(r.integer("hidden_layers", hidden_layers, 0, 16, "hidden layers"));
  hidden_size =
      static_cast<int>(r.integer("hidden_size", hidden_size, 1, 1 << 16, "hidden layer width"));
  activation = parse_activation(r.choice("activation", activation_name(activation),
                                         {"tanh", "relu", "elu"}, "hidden activation"));
  seed = static_cast<std::uint64_t>(r.integer("seed", static_cast<std::int64_t>(seed), 0,
                                              (std::int64_t(1) << 56) - 1,
                                              "seeds init, env resets, exploration, replay"));
  gemm_threads = static_cast<int>(
      r.integer("gemm_threads", gemm_threads, 0, 4096, "threads of the network's GEMMs (0: all)"));
  cpu_threads = static_cast<int>(
      r.integer("cpu_threads", cpu_threads, 0, 4096,
                "OpenMP threads of env steps, replay, Adam during training (0: the process's)"));
  validate();
}

DqnConfig DqnConfig::from_config(const Config& config) {
  return read_learner_config<DqnConfig>(config, "DQN");
}

void DqnConfig::validate() const {
  auto s = [](double v) { return std::to_string(v); };
  auto i = [](std::int64_t v) { return std::to_string(v); };
  if (num_envs < 1) bad_field("num_envs", i(num_envs), ">= 1");
  if (total_timesteps < 1) bad_field("total_timesteps", i(total_timesteps), ">= 1");
  if (buffer_size < num_envs || buffer_size > (std::int64_t(1) << 31)) {
    bad_field("buffer_size", i(buffer_size), "num_envs..2^31");
  }
  if (!(learning_rate >= 0 && learning_rate <= 1)) {
    bad_field("learning_rate", s(learning_rate), "[0, 1]");
  }
  if (!(gamma >= 0 && gamma <= 1)) bad_field("gamma", s(gamma), "[0, 1]");
  if (!(tau > 0 && tau <= 1)) bad_field("tau", s(tau), "(0, 1]");
  if (target_network_frequency < 1) {
    bad_field("target_network_frequency", i(target_network_frequency), ">= 1");
  }
  if (batch_size < 1) bad_field("batch_size", i(batch_size), ">= 1");
  if (!(start_e >= 0 && start_e <= 1)) bad_field("start_e", s(start_e), "[0, 1]");
  if (!(end_e >= 0 && end_e <= 1)) bad_field("end_e", s(end_e), "[0, 1]");
  if (!(exploration_fraction >= 0 && exploration_fraction <= 1)) {
    bad_field("exploration_fraction", s(exploration_fraction), "[0, 1]");
  }
  if (learning_starts < 0) bad_field("learning_starts", i(learning_starts), ">= 0");
  // a prioritized buffer draws a batch of distinct strata, so it must hold a batch first
  if (prioritized && learning_starts < batch_size) {
    const std::string allowed = ">= batch_size (" + i(batch_size) + ") with replay=prioritized";
    bad_field("learning_starts", i(learning_starts), allowed.c_str());
  }
  if (train_frequency < 1) bad_field("train_frequency", i(train_frequency), ">= 1");
  if (gradient_steps < 1) bad_field("gradient_steps", i(gradient_steps), ">= 1");
  if (!(max_grad_norm >= 0)) bad_field("max_grad_norm", s(max_grad_norm), ">= 0");
  if (!(adam_eps > 0)) bad_field("adam_eps", s(adam_eps), "> 0");
  if (n_step < 1 || n_step > NStepWriter::kMaxSteps) bad_field("n_step", i(n_step), "1..64");
  if (!(per_alpha >= 0 && per_alpha <= 100)) bad_field("per_alpha", s(per_alpha), "[0, 100]");
  if (!(per_beta0 >= 0 && per_beta0 <= 1)) bad_field("per_beta0", s(per_beta0), "[0, 1]");
  if (!(per_eps >= 0 && per_eps <= 1)) bad_field("per_eps", s(per_eps), "[0, 1]");
  if (per_beta_steps < 1) bad_field("per_beta_steps", i(per_beta_steps), ">= 1");
  if (hidden_layers < 0) bad_field("hidden_layers", i(hidden_layers), ">= 0");
  if (hidden_size < 1) bad_field("hidden_size", i(hidden_size), ">= 1");
  if (gemm_threads < 0) bad_field("gemm_threads", i(gemm_threads), ">= 0");
  if (cpu_threads < 0) bad_field("cpu_threads", i(cpu_threads), ">= 0");
}

double DqnConfig::epsilon(std::int64_t t) const {
  const double duration = exploration_fraction * static_cast<double>(total_timesteps);
  if (duration <= 0) return end_e;
  const double slope = (end_e - start_e) / duration;
  return std::max(slope * static_cast<double>(t) + start_e, end_e);
}

// --- the learner ----------------------------------------------------------------------------

Dqn::Dqn(VecEnv& env, const DqnConfig& config)
    : env_(env),
      config_((config.validate(), config)),
      obs_dim_(obs_dim_of(env)),
      num_actions_(discrete_actions(env)),
      heads_(config.dueling ? num_actions_ + 1 : num_actions_),
      q_(net_spec(config, obs_dim_, heads_), env.device()),
      params_(env.device(), 2 * q_.num_params()),
      grads_(env.device(), q_.num_params()),
      adam_(env.device(), q_.num_params(),
            AdamConfig{config.learning_rate, 0.9, 0.999, config.adam_eps}) {
  if (env.num_envs() != config.num_envs) {
    throw Error("Dqn: the env has " + std::to_string(env.num_envs()) +
                " envs but num_envs = " + std::to_string(config.num_envs));
  }
  const Device& dev = env.device();
  if (config.prioritized) {
    replay_ = std::make_unique<PrioritizedReplayBuffer>(
        dev, config.buffer_size, obs_dim_, 1,
        PrioritizedConfig{config.per_alpha, config.per_beta0, config.per_eps,
                          config.per_beta_steps});
  } else {
    replay_ = std::make_unique<UniformReplayBuffer>(dev, config.buffer_size, obs_dim_, 1);
  }
  if (config.n_step > 1) {
    nstep_ = std::make_unique<NStepWriter>(dev, config.num_envs, config.n_step, config.gamma,
                                           obs_dim_, 1);
  }
  // CleanRL's QNetwork keeps torch's default init; orthogonal (gain sqrt 2, head 1) as the
  // other learners here, so every Convoy network starts the same way
  q_.init_orthogonal(params_.data(), mix_seed(config.seed, 1), 1.0);
  copy_bytes(params_.data() + target_offset(), dev, params_.data(), dev,
             sizeof(float) * static_cast<std::size_t>(q_.num_params()));
  grads_.zero();
  const std::int64_t N = config.num_envs, B = config.batch_size;
  act_ws_ = q_.make_workspace(N);
  online_ws_ = q_.make_workspace(B);
  target_ws_ = q_.make_workspace(B);
  obs_before_ = DeviceArray<float>(dev, N * obs_dim_);
  actions_ = DeviceArray<std::int32_t>(dev, N);
  actions_f_ = DeviceArray<float>(dev, N);
  y_ = DeviceArray<float>(dev, B);
  td_ = DeviceArray<float>(dev, B);
  dq_ = DeviceArray<float>(dev, B * heads_);
  next_online_ = DeviceArray<float>(dev, B * heads_);
  metrics_ = DeviceArray<double>(dev, 5);
  if (dev.is_cuda()) episode_acc_ = DeviceArray<double>(dev, N * 3);
  norm_ = DeviceArray<double>(dev, 1);
  norm_scratch_ = DeviceArray<double>(dev, std::max<std::int64_t>(1, clip_grad_norm_scratch(dev)));
  scratch_ = sac_kernels::LossScratch(dev, B);
  env_.reset(config.seed);
}

void Dqn::update() {
  ++updates_;
  const Device& dev = env_.device();
  const std::int64_t B = config_.batch_size;
  float* p = params_.data();
  float* g = grads_.data();
  replay_->sample(B, mix_seed(config_.seed, 4), static_cast<std::uint64_t>(updates_), batch_);

  const float* next_target = q_.forward(p + target_offset(), batch_.next_obs.data(), B, target_ws_);
  const float* next_online = nullptr;
  if (config_.double_q) {
    // the online forward's workspace is reused for the loss below: keep its output
    const float* o = q_.forward(p, batch_.next_obs.data(), B, online_ws_);
    copy_bytes(next_online_.data(), dev, o, dev,
               sizeof(float) * static_cast<std::size_t>(B * heads_));
    next_online = next_online_.data();
  }
  dqn_kernels::targets(dev, B, num_actions_, config_.dueling, next_target, next_online,
                       batch_.rewards.data(), batch_.dones.data(),
                       nstep_ ? batch_.steps.data() : nullptr, static_cast<float>(config_.gamma),
                       y_.data());

  const float* q = q_.forward(p, batch_.obs.data(), B, online_ws_);
  dqn_kernels::loss_rows(dev, B, num_actions_, config_.dueling, config_.huber, q,
                         batch_.actions.data(), y_.data(),
                         config_.prioritized ? batch_.weights.data() : nullptr, dq_.data(),
                         td_.data(), scratch_, metrics_.data());
  grads_.zero();
  q_.backward(p, dq_.data(), online_ws_, g);
  if (config_.max_grad_norm > 0) {
    clip_grad_norm_on_device(dev, g, q_.num_params(), config_.max_grad_norm, norm_.data(),
                             norm_scratch_.data());
  }
  adam_.step(p, g);
  replay_->update_priorities(batch_.indices.data(), td_.data(), B);
}

DqnMetrics Dqn::train(std::int64_t vector_steps) {
  const auto start = std::chrono::steady_clock::now();
  const GemmThreads gemm(config_.gemm_threads);
  const CpuThreads cpu(config_.cpu_threads);
  const Device& dev = env_.device();
  const bool cuda = dev.is_cuda();
  const std::int64_t N = config_.num_envs;
  const std::int64_t train_every = std::max<std::int64_t>(1, config_.train_frequency / N);
  const std::int64_t target_every = std::max<std::int64_t>(1, config_.target_network_frequency / N);
  const std::int64_t min_size = config_.prioritized ? config_.batch_size : 1;
  DqnMetrics m;
  metrics_.zero();
  if (cuda) episode_acc_.zero();
  double* episodes = cuda ? episode_acc_.data() : metrics_.data() + 2;
  const std::int64_t updates_before = updates_;
  for (std::int64_t s = 0; s < vector_steps; ++s) {
    const float* obs = env_.obs().data();
    copy_bytes(obs_before_.data(), dev, obs, dev,
               sizeof(float) * static_cast<std::size_t>(N * obs_dim_));
    const double eps = config_.epsilon(global_step_);
    const float* heads = eps < 1.0 ? q_.forward(params_.data(), obs, N, act_ws_) : nullptr;
    dqn_kernels::explore(dev, N, num_actions_, config_.dueling, heads, eps, config_.seed,
                         static_cast<std::uint64_t>(vector_step_), actions_.data(),
                         actions_f_.data());
    env_.step_raw(actions_.data());  // errors at check_steps() below, no wait per step
    const Transitions step = env_transitions(env_, obs_before_.data(), actions_f_.data());
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
    if (global_step_ > config_.learning_starts && replay_->size() >= min_size) {
      if (vector_step_ % train_every == 0) {
        for (std::int64_t k = 0; k < config_.gradient_steps; ++k) update();
      }
      if (vector_step_ % target_every == 0) {
        if (config_.tau >= 1.0) {
          copy_bytes(params_.data() + target_offset(), dev, params_.data(), dev,
                     sizeof(float) * static_cast<std::size_t>(q_.num_params()));
        } else {
          sac_kernels::polyak(dev, q_.num_params(), params_.data(),
                              params_.data() + target_offset(), static_cast<float>(config_.tau));
        }
      }
    }
  }
  env_.check_steps();
  // the call's one read of its metrics (loss sums, episode sums)
  if (cuda) sac_kernels::episode_totals(dev, N, episode_acc_.data(), scratch_, metrics_.data() + 2);
  double h[5];
  metrics_.copy_to_host(h, 5);
  m.call_updates = updates_ - updates_before;
  if (m.call_updates > 0) {
    m.loss = h[0] / static_cast<double>(m.call_updates);
    m.q_value = h[1] / static_cast<double>(m.call_updates);
  }
  m.global_step = global_step_;
  m.updates = updates_;
  m.epsilon = config_.epsilon(global_step_);
  m.episodes = static_cast<std::int64_t>(h[4]);
  if (m.episodes > 0) {
    m.mean_episode_return = h[2] / static_cast<double>(m.episodes);
    m.mean_episode_length = h[3] / static_cast<double>(m.episodes);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.steps_per_second = secs > 0 ? static_cast<double>(vector_steps * N) / secs : 0.0;
  return m;
}

void Dqn::act_deterministic(const float* obs, std::int64_t batch, std::int32_t* out_actions) {
  const GemmThreads gemm(config_.gemm_threads);
  const Device& dev = env_.device();
  if (eval_ws_.capacity() < batch) eval_ws_ = q_.make_workspace(batch);
  MlpWorkspace<float>& ws = eval_ws_;
  if (!dev.is_cuda()) {
    const float* heads = q_.forward(params_.data(), obs, batch, ws);
    dqn_kernels::greedy(dev, batch, num_actions_, config_.dueling, heads, out_actions);
    return;
  }
  if (eval_obs_.size() < batch * obs_dim_) eval_obs_ = DeviceArray<float>(dev, batch * obs_dim_);
  if (eval_actions_.size() < batch) eval_actions_ = DeviceArray<std::int32_t>(dev, batch);
  eval_obs_.copy_from_host(obs, batch * obs_dim_);
  const float* heads = q_.forward(params_.data(), eval_obs_.data(), batch, ws);
  dqn_kernels::greedy(dev, batch, num_actions_, config_.dueling, heads, eval_actions_.data());
  eval_actions_.copy_to_host(out_actions, batch);
}

Checkpoint Dqn::make_checkpoint() const {
  Checkpoint c;
  c.global_step = global_step_;
  c.iteration = updates_;
  c.params = params_.to_host();
  c.adam_m = adam_.m().to_host();
  c.adam_v = adam_.v().to_host();
  c.adam_steps = adam_.steps();
  const DqnState st{adam_.steps(), global_step_, vector_step_, updates_};
  c.blobs["dqn.state"] = std::string(reinterpret_cast<const char*>(&st), sizeof(st));
  c.blobs["dqn.replay"] = replay_->save_state();
  if (nstep_) c.blobs["dqn.nstep"] = nstep_->save_state();
  c.env_state = env_.save_state();
  return c;
}

void Dqn::restore_checkpoint(const Checkpoint& c, bool with_env_state) {
  const auto n = static_cast<std::size_t>(params_.size());
  if (c.params.size() != n) {
    throw Error("Dqn: the checkpoint has " + std::to_string(c.params.size()) +
                " parameters but this learner needs " + std::to_string(n));
  }
  if (!with_env_state) {
    params_.copy_from_host(c.params);
    return;
  }
  const auto a = static_cast<std::size_t>(adam_.m().size());
  if (c.adam_m.size() != a || c.adam_v.size() != a) {
    throw Error("Dqn: the checkpoint's Adam state has " + std::to_string(c.adam_m.size()) +
                " values but this learner needs " + std::to_string(a));
  }
  const auto st_it = c.blobs.find("dqn.state");
  const auto rb_it = c.blobs.find("dqn.replay");
  const auto ns_it = c.blobs.find("dqn.nstep");
  if (st_it == c.blobs.end() || st_it->second.size() != sizeof(DqnState) ||
      rb_it == c.blobs.end()) {
    throw Error("Dqn: the checkpoint holds no DQN training state (counters, replay buffer)");
  }
  if (nstep_ && ns_it == c.blobs.end()) {
    throw Error("Dqn: the checkpoint holds no n-step queues; it was not trained with n_step = " +
                std::to_string(config_.n_step));
  }
  if (c.env_state.empty()) throw Error("Dqn: the checkpoint holds no env state to resume from");
  DqnState st;
  std::memcpy(&st, st_it->second.data(), sizeof(st));
  // each load checks its bytes before changing anything; what was loaded is put back when a
  // later part refuses, so a refused checkpoint leaves the learner as it was
  const std::string previous_replay = replay_->save_state();
  const std::string previous_nstep = nstep_ ? nstep_->save_state() : std::string();
  replay_->load_state(rb_it->second);
  try {
    if (nstep_) nstep_->load_state(ns_it->second);
    env_.load_state(c.env_state);
  } catch (...) {
    replay_->load_state(previous_replay);
    if (nstep_) nstep_->load_state(previous_nstep);
    throw;
  }
  params_.copy_from_host(c.params);
  adam_.m().copy_from_host(c.adam_m);
  adam_.v().copy_from_host(c.adam_v);
  adam_.set_steps(st.adam_steps);
  global_step_ = st.global_step;
  vector_step_ = st.vector_step;
  updates_ = st.updates;
}

}  // namespace convoy::rl
