// DQN (Mnih et al. 2015) for Discrete action spaces on the env's device (CPU or CUDA),
// following CleanRL's dqn.py loop with the usual extensions as settings:
//   - double Q-learning (van Hasselt et al. 2016): the online net picks argmax_a Q(s', a),
//     the target net scores it (double_q, on by default); off: max_a Q_target(s', a);
//   - dueling heads (Wang et al. 2016): one MLP whose last layer gives V and A (1 + actions
//     outputs), Q = V + A - mean(A);
//   - n-step returns formed at insertion (replay/nstep.h), bootstrapped with gamma^m;
//   - uniform or proportional prioritized replay (replay/prioritized.h), the loss weighted by
//     the importance weights and priorities set from |TD error|;
//   - a target network copied every target_network_frequency env steps (tau = 1) or moved
//     by Polyak averaging (tau < 1); Huber (Stable-Baselines3) or MSE (CleanRL) loss;
//     global gradient-norm clipping (max_grad_norm, 0: none); epsilon-greedy exploration
//     with CleanRL's linear schedule from start_e to end_e over exploration_fraction of the run.
//
// Parameters live in ONE flat DeviceArray<float>: [ q | q_target ], gradients and Adam over
// the q range only, so a checkpoint is one copy of the parameters.
//
// Steps: one vector step acts for every env (epsilon-greedy from PhiloxStream(seed, env,
// step, kPolicy), the Q forward skipped while epsilon is 1), steps the envs, adds the
// transitions (through the n-step writer when n_step > 1) and, once past learning_starts, runs
// gradient_steps updates every train_frequency env steps and the target update every
// target_network_frequency env steps (both counted in env steps of all envs, as
// Stable-Baselines3 does for vector envs).
//
// Devices: every per-row step (exploration, the targets, the loss rows and their sums, the
// dueling combination and its backward) is a functor of rl/dqn_kernels.cu run through
// for_each_index; the GEMMs go through rl::Mlp. On CUDA nothing in train() reads device
// memory from the host except the one copy of the call's metric sums at its end. On the CPU
// a run is bit-reproducible for a fixed seed and thread count.
//
// Actions are stored in replay as their index in one float column (exact below 2^24).
#pragma once

#include <cstdint>
#include <memory>

#include "replay/nstep.h"
#include "replay/replay.h"
#include "rl/adam.h"
#include "rl/checkpoint.h"
#include "rl/mlp.h"
#include "rl/sac_kernels.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/vec_env.h"

namespace convoy::rl {

struct DqnConfig {
  // Defaults: CleanRL's dqn.py schedule (its CartPole-v1 run), Stable-Baselines3's Huber loss
  // and gradient clipping, double Q on.
  std::int64_t num_envs = 1;
  std::int64_t total_timesteps = 500000;
  std::int64_t buffer_size = 10000;
  double learning_rate = 2.5e-4;
  double gamma = 0.99;
  double tau = 1.0;                             // 1: hard copy
  std::int64_t target_network_frequency = 500;  // env steps between target updates
  std::int64_t batch_size = 128;
  double start_e = 1.0, end_e = 0.05;
  double exploration_fraction = 0.5;  // of total_timesteps, for epsilon to reach end_e
  std::int64_t learning_starts = 10000;
  std::int64_t train_frequency = 10;  // env steps between training rounds
  std::int64_t gradient_steps = 1;    // updates per training round
  bool double_q = true;
  bool dueling = false;
  bool huber = true;  // loss: huber (smooth L1, delta 1) or mse
  double max_grad_norm = 10.0;
  double adam_eps = 1e-8;
  int n_step = 1;
  bool prioritized = false;
  double per_alpha = 0.6, per_beta0 = 0.4, per_eps = 1e-6;
  std::int64_t per_beta_steps = 100000;
  int hidden_layers = 2;
  int hidden_size = 256;
  Activation activation = Activation::kRelu;
  std::uint64_t seed = 1;
  int gemm_threads = 1;  // see SacConfig
  int cpu_threads = 1;

  void read_config(ConfigReader& reader);
  static DqnConfig from_config(const Config& config);
  void validate() const;
  // epsilon at env step t: CleanRL's linear_schedule.
  double epsilon(std::int64_t global_step) const;
};

struct DqnMetrics {
  std::int64_t global_step = 0;
  std::int64_t updates = 0;          // so far
  std::int64_t call_updates = 0;     // in this call
  double loss = NAN, q_value = NAN;  // means over the call's updates
  double epsilon = 0;                // at the call's end
  std::int64_t episodes = 0;
  double mean_episode_return = NAN, mean_episode_length = NAN;
  double steps_per_second = 0;
};

class Dqn {
 public:
  // The env must have a Discrete action space and config.num_envs envs; the constructor
  // resets it from config.seed. It must outlive the Dqn.
  Dqn(VecEnv& env, const DqnConfig& config);

  DqnMetrics train(std::int64_t vector_steps);

  // Greedy actions for `batch` rows of obs (HOST pointers on every device).
  void act_deterministic(const float* obs, std::int64_t batch, std::int32_t* out_actions);

  DeviceArray<float>& params() { return params_; }
  const Mlp<float>& q() const { return q_; }
  std::int64_t num_params() const { return params_.size(); }
  std::int64_t target_offset() const { return q_.num_params(); }
  int num_actions() const { return num_actions_; }
  const DqnConfig& config() const { return config_; }
  std::int64_t global_step() const { return global_step_; }
  std::int64_t updates() const { return updates_; }
  ReplayBuffer& replay() { return *replay_; }

  // params, Adam's moments and steps, counters ("dqn.state"), the replay buffer ("dqn.replay"),
  // the n-step queues ("dqn.nstep", n_step > 1) and the env's state.
  Checkpoint make_checkpoint() const;
  // with_env_state = false restores the parameters only (evaluation). Sizes are checked before
  // anything changes; a refused checkpoint leaves the learner as it was.
  void restore_checkpoint(const Checkpoint& c, bool with_env_state = true);

 private:
  void update();

  VecEnv& env_;
  DqnConfig config_;
  int obs_dim_, num_actions_, heads_;
  Mlp<float> q_;
  DeviceArray<float> params_, grads_;
  Adam<float> adam_;
  std::unique_ptr<ReplayBuffer> replay_;
  std::unique_ptr<NStepWriter> nstep_;
  std::int64_t global_step_ = 0, vector_step_ = 0, updates_ = 0;

  MlpWorkspace<float> act_ws_, online_ws_, target_ws_;
  ReplayBatch batch_;
  DeviceArray<float> obs_before_, actions_f_, y_, td_, dq_, next_online_;
  DeviceArray<std::int32_t> actions_;
  // [0] loss sum, [1] mean-Q sum, [2..5) episode return, length, count
  DeviceArray<double> metrics_, episode_acc_, norm_, norm_scratch_;
  sac_kernels::LossScratch scratch_;
  MlpWorkspace<float> eval_ws_;
  DeviceArray<float> eval_obs_;
  DeviceArray<std::int32_t> eval_actions_;
};

}  // namespace convoy::rl
