// SAC (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications") on the env's
// device (CPU or CUDA), following CleanRL's sac_continuous_action.py: an actor MLP whose last layer
// gives the mean and a raw log_std per action dimension (log_std = min + (max - min)(tanh(raw) + 1)
// / 2, min -5, max 2), a tanh-squashed Gaussian rescaled to the action box, twin Q MLPs on
// concat(obs, action) with Polyak-averaged target copies, the soft Bellman target
//   y = r + gamma (1 - terminated) (min(Q1', Q2')(s', a') - alpha log pi(a' | s')),
// automatic entropy tuning (log_alpha learned towards a target entropy of -act_dim), a
// delayed policy update (every policy_frequency critic updates, that many actor and alpha
// updates at once), uniform random actions until learning_starts env steps, and one Adam
// per group (actor, critics, alpha).
//
// Parameters live in ONE flat DeviceArray<float>:
//   [ actor | q1 | q2 | q1_target | q2_target | log_alpha ]
// with a gradient buffer of the same layout; each group's Adam runs over its own range
// (the critic group is [q1 | q2]; the targets have no optimiser), so a checkpoint is one
// copy of the parameters.
//
// Experience goes through the ReplayBuffer interface (replay/replay.h), through an NStepWriter
// (replay/nstep.h) first when n_step > 1: uniform by default;
// a prioritized buffer passed to the constructor is used as is (SAC weights the critic loss
// by the batch's importance weights and reports |TD errors| through update_priorities).
//
// Randomness: exploration draws from PhiloxStream(seed, env, step, kPolicy), random actions
// from the VecEnv's sample_actions, replay batches from the buffer keyed by the update
// count, and the update's reparameterisation noise from PhiloxStream(seed, row, update,
// phase, kNoise), so a run is bit-reproducible for a fixed seed and thread count.
//
// Devices: the learner lives on env.device(): parameters, gradients, Adam moments, replay
// buffer, noise, batches, every workspace and alpha are DeviceArrays there. The networks' GEMMs
// go through rl::Mlp (Eigen on the CPU, cuBLAS on CUDA); every per-row and per-element step
// (noise, the squashed-Gaussian policy, the soft targets, the loss rows and their sums, the
// actor head's gradient, Polyak, the alpha gradient, the episode sums) is a functor of
// rl/sac_kernels.cu run through for_each_index, and sums go through rl/reduce.h. alpha is one
// double on the device (exp(log_alpha) after each autotune step; log_alpha is in params), read
// by the losses through a pointer, so autotune never round-trips to the host. On CUDA nothing
// in train()/update() reads device memory from the host, with one exception: at the end of
// each train() call (one per reporting interval of `convoy train`) one copy of 11 doubles
// brings the call's metric sums (the loss means, alpha, the episodes' return / length /
// count) to the host, because SacMetrics is what the caller logs. alpha() and
// make_checkpoint() also copy, but only when called. On the CPU every loop runs in the calling
// thread in the order of the host loops it replaced, so CPU runs are bit-identical to the
// CPU-only SAC before (a 3,000-step Pendulum-v1 checkpoint compared with cmp). A CUDA run is
// not bit-identical to a CPU run (cuBLAS vs Eigen, CUDA's expf/tanhf, sums in another order);
// tests/sac_test.cpp's SacCuda tests (GPU only) compare the two from the same seed with
// stated tolerances.
// act_deterministic takes host pointers on every device.
//
// Box action spaces only (a Discrete env is a convoy::Error naming it).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "replay/nstep.h"
#include "replay/replay.h"
#include "rl/adam.h"
#include "rl/checkpoint.h"
#include "rl/distributions.h"
#include "rl/mlp.h"
#include "rl/sac_kernels.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/hd.h"
#include "sim/vec_env.h"

namespace convoy::rl {

struct SacConfig {
  // Defaults: CleanRL's sac_continuous_action.py (one env, 256-256 relu networks).
  std::int64_t num_envs = 1;               // the VecEnv must have this many envs
  std::int64_t total_timesteps = 1000000;  // env steps (all envs) of a `convoy train` run
  std::int64_t buffer_size = 1000000;      // replay capacity (transitions)
  double gamma = 0.99;
  double tau = 0.005;  // target <- tau * online + (1 - tau) * target
  std::int64_t batch_size = 256;
  std::int64_t learning_starts = 5000;  // env steps of uniform random actions first
  double policy_lr = 3e-4;
  double q_lr = 1e-3;                         // also alpha's learning rate (CleanRL)
  std::int64_t policy_frequency = 2;          // actor+alpha updates every this many critic
                                              // updates, this many at once
  std::int64_t target_network_frequency = 1;  // Polyak update every this many critic updates
  std::int64_t gradient_steps = 1;            // critic updates per vector env step
  double alpha = 0.2;                         // entropy coefficient (initial one with autotune)
  bool autotune = true;                       // learn log_alpha towards entropy -act_dim
  double adam_eps = 1e-8;                     // torch's default
  int hidden_layers = 2;
  int hidden_size = 256;
  Activation activation = Activation::kRelu;
  std::uint64_t seed = 1;
  // OpenMP threads for the networks' Eigen GEMMs (0: all); see PpoConfig::gemm_threads.
  int gemm_threads = 1;
  // OpenMP threads of the CPU kernels (env step, replay add/sample, Adam, Polyak) during
  // train() (0: leave the process's setting). With one env and batches of a few hundred,
  // every parallel region is overhead: `convoy train --env Pendulum-v1 --algo sac` ran
  // 46 env steps/s with 2 threads on a busy 2-core machine and 600+ with 1.
  int cpu_threads = 1;
  // Replay buffer Sac builds when none is passed: uniform, or proportional prioritized
  // (replay/prioritized.h) with these settings; beta reaches 1 after per_beta_steps updates.
  bool prioritized = false;
  double per_alpha = 0.6, per_beta0 = 0.4, per_eps = 1e-6;
  std::int64_t per_beta_steps = 100000;
  // n-step returns formed at insertion (replay/nstep.h); 1: one-step transitions.
  int n_step = 1;

  // Reads every field as a documented key=value setting with its range.
  void read_config(ConfigReader& reader);
  static SacConfig from_config(const Config& config);
  // Throws convoy::Error naming the field when a value is out of range.
  void validate() const;
};

// Means over what one Sac::train() call ran. Loss fields are NaN when no update ran.
struct SacMetrics {
  std::int64_t global_step = 0;                        // env steps so far (all envs)
  std::int64_t updates = 0;                            // critic updates so far
  std::int64_t critic_updates = 0, actor_updates = 0;  // in this call
  double qf1_loss = NAN, qf2_loss = NAN;
  double qf1_value = NAN, qf2_value = NAN;  // mean Q of the batch's actions
  double actor_loss = NAN, alpha_loss = NAN;
  double alpha = 0;           // after the call
  double entropy = NAN;       // -mean log pi of the actor updates' samples
  std::int64_t episodes = 0;  // episodes that finished during the call
  double mean_episode_return = NAN, mean_episode_length = NAN;
  double steps_per_second = 0;  // env steps (all envs) per second, collection + updates
};

inline constexpr double kSacLogStdMin = -5.0, kSacLogStdMax = 2.0;

// log_std from the actor's raw output (CleanRL): tanh into [min, max].
template <class T>
CONVOY_HD_INLINE T sac_log_std(T raw) {
  return T(kSacLogStdMin) + T(0.5 * (kSacLogStdMax - kSacLogStdMin)) * (math::tanh(raw) + T(1));
}

// One row of the policy: head = [mean (dim) | raw log_std (dim)], eps ~ N(0, 1) (dim).
// Writes the action tanh(mean + sigma eps) * scale + bias (dim) and returns its log-density
// in the action box: the squashed Gaussian's minus sum log scale.
template <class T>
CONVOY_HD_INLINE T sac_sample_row(const T* head, const T* eps, int dim, const T* scale,
                                  const T* bias, T* action) {
  T lp = T(0);
  for (int i = 0; i < dim; ++i) {
    const T log_std = sac_log_std(head[dim + i]);
    const T u = head[i] + math::exp(log_std) * eps[i];
    action[i] = math::tanh(u) * scale[i] + bias[i];
    lp += T(-0.5) * eps[i] * eps[i] - log_std - T(0.5 * kLog2Pi) - squashed_log_det(u) -
          math::log(scale[i]);
  }
  return lp;
}

// Backward of sac_sample_row for a loss L(log pi, action) with eps fixed: given
// g_log_prob = dL/dlog pi and g_action = dL/daction (dim, action-box units), ADDS dL/dhead
// (2 dim) into dhead.
template <class T>
CONVOY_HD_INLINE void sac_sample_backward(const T* head, const T* eps, int dim, const T* scale,
                                          T g_log_prob, const T* g_action, T* dhead) {
  for (int i = 0; i < dim; ++i) {
    const T th = math::tanh(head[dim + i]);
    const T log_std = sac_log_std(head[dim + i]);
    const T sigma = math::exp(log_std);
    const T u = head[i] + sigma * eps[i];
    const T a = math::tanh(u);
    // d(-log(1 - tanh^2 u))/du = 2 tanh u; d action/du = scale (1 - a^2)
    const T du = g_log_prob * T(2) * a + g_action[i] * scale[i] * (T(1) - a * a);
    dhead[i] += du;
    const T dlog_std = du * sigma * eps[i] - g_log_prob;
    dhead[dim + i] += dlog_std * T(0.5 * (kSacLogStdMax - kSacLogStdMin)) * (T(1) - th * th);
  }
}

// SAC's networks and losses over a flat parameter buffer (layout above). Every pointer is on
// the networks' device (params, inputs, outputs, alpha, the metric sums); the GEMMs go
// through rl::Mlp (Eigen on the CPU, cuBLAS on CUDA) and the per-row parts through
// rl/sac_kernels.h, so no call reads device memory from the host. T is float for training
// and double for the gradient checks. Each call overwrites the workspaces, so a backward
// always follows its own forward inside one call.
template <class T>
class SacNetworks {
 public:
  SacNetworks(const MlpSpec& actor_spec, const MlpSpec& q_spec, const std::vector<T>& act_scale,
              const std::vector<T>& act_bias, const Device& device);

  const Mlp<T>& actor() const { return actor_; }
  const Mlp<T>& q() const { return q_; }
  int obs_dim() const { return obs_dim_; }
  int act_dim() const { return act_dim_; }
  std::int64_t actor_offset() const { return 0; }
  std::int64_t q1_offset() const { return actor_.num_params(); }
  std::int64_t q2_offset() const { return q1_offset() + q_.num_params(); }
  std::int64_t q1_target_offset() const { return q2_offset() + q_.num_params(); }
  std::int64_t q2_target_offset() const { return q1_target_offset() + q_.num_params(); }
  std::int64_t log_alpha_offset() const { return q2_target_offset() + q_.num_params(); }
  std::int64_t num_params() const { return log_alpha_offset() + 1; }

  // Sizes the workspaces for batches of up to `rows`.
  void reserve(std::int64_t rows);

  // Initial parameters: orthogonal actor (head gain 0.01) and Qs (gain 1), targets equal
  // to the Qs, log_alpha = log(alpha).
  void init(T* params, std::uint64_t seed, double alpha) const;

  // Samples `rows` actions (rows x act_dim, action-box units) and their log pi (rows) for
  // obs (rows x obs_dim) with noise eps (rows x act_dim).
  void policy(const T* params, const T* obs, const T* eps, std::int64_t rows, T* actions,
              T* log_probs);
  // tanh(mean) rescaled to the box: the deterministic policy.
  void policy_mean(const T* params, const T* obs, std::int64_t rows, T* actions);

  // y = r + gamma (1 - done) (min(Q1t, Q2t)(s', a') - alpha log pi(a' | s')), a' from eps;
  // alpha = (T) *alpha (one double on the device: the learner's exp(log_alpha)).
  // steps: n-step reward counts (gamma^steps bootstraps), null for all 1.
  void critic_targets(const T* params, const T* next_obs, const T* rewards, const T* dones,
                      const T* eps, std::int64_t rows, const double* alpha, T gamma, T* y,
                      const T* steps = nullptr);
  // sum_k mean_i w_i (Qk(s_i, a_i) - y_i)^2 (w: importance weights, null for all 1); ADDS
  // its gradient into grads' q1 and q2 ranges, writes |TD error| (mean over the two Qs)
  // into td_abs (rows) when not null, and ADDS the batch means (qf1 loss, qf2 loss, mean
  // Q1, mean Q2) into stats[0..4) (doubles on the device).
  void critic_loss(const T* params, const T* obs, const T* actions, const T* y, const T* weights,
                   std::int64_t rows, T* grads, T* td_abs, double* stats);
  // mean_i (alpha log pi(a_i | s_i) - min(Q1, Q2)(s_i, a_i)) with a_i from eps; ADDS its
  // gradient into grads' actor range (the Qs' parameters get none) and the batch means
  // (the loss, mean log pi) into stats[0..2) (doubles on the device).
  void actor_loss(const T* params, const T* obs, const T* eps, std::int64_t rows,
                  const double* alpha, T* grads, double* stats);

 private:
  void concat(const T* obs, const T* actions, std::int64_t rows);

  Mlp<T> actor_, q_;
  Device device_;
  int obs_dim_, act_dim_;
  DeviceArray<T> scale_, bias_;  // (act_dim) the action box
  MlpWorkspace<T> actor_ws_, q1_ws_, q2_ws_;
  std::int64_t rows_ = 0;  // rows the buffers below hold
  DeviceArray<T> qin_, act_, logp_, dhead_, dq1_, dq2_, dx1_, dx2_, q_scratch_, g_act_;
  sac_kernels::LossScratch loss_scratch_;
};

extern template class SacNetworks<float>;
extern template class SacNetworks<double>;

class Sac {
 public:
  // The env (on any device) must have a Box action space of finite bounds and
  // config.num_envs envs; the constructor resets it from config.seed. It must outlive the
  // Sac. `replay` defaults to a UniformReplayBuffer of config.buffer_size on the env's
  // device; one passed in must be on that device and match the env's obs and action sizes.
  Sac(VecEnv& env, const SacConfig& config, std::unique_ptr<ReplayBuffer> replay = nullptr);

  // Runs `vector_steps` env steps (each across all envs), with gradient_steps updates after
  // each once past learning_starts.
  SacMetrics train(std::int64_t vector_steps);

  // The deterministic policy, tanh(mean) rescaled to the action box, for `batch` rows of
  // obs (batch x obs_dim) into out_actions (batch x act_dim). Both are HOST pointers on
  // every device (CUDA copies them through the device), as Ppo::act_deterministic.
  void act_deterministic(const float* obs, std::int64_t batch, float* out_actions);

  DeviceArray<float>& params() { return params_; }
  const DeviceArray<float>& params() const { return params_; }
  const SacNetworks<float>& networks() const { return nets_; }
  std::int64_t num_params() const { return params_.size(); }
  Adam<float>& actor_optimizer() { return actor_adam_; }
  Adam<float>& critic_optimizer() { return critic_adam_; }
  Adam<float>& alpha_optimizer() { return alpha_adam_; }
  // exp(log_alpha) as the losses use it (read from the device: one small copy).
  double alpha() const;
  double target_entropy() const { return target_entropy_; }
  const SacConfig& config() const { return config_; }
  std::int64_t global_step() const { return global_step_; }
  std::int64_t updates() const { return updates_; }
  ReplayBuffer& replay() { return *replay_; }
  const Device& device() const { return env_.device(); }

  // Restores parameters (the whole flat buffer, e.g. from a checkpoint) and sets alpha from
  // its log_alpha entry.
  void load_params(const std::vector<float>& params);

  // Everything train() depends on: params; the three Adam groups' moments concatenated in
  // parameter order ([actor | q1 q2 | log_alpha]) in adam_m/adam_v; global_step; and blobs
  // "sac.state" (the three Adam step counts, vector step, update count, alpha), "sac.replay"
  // (ReplayBuffer::save_state) plus env_state (VecEnv::save_state). env, algo and the
  // settings are the caller's to fill in.
  Checkpoint make_checkpoint() const;
  // Restores a make_checkpoint() of a Sac built with the same settings on the same env;
  // with_env_state = false restores the parameters (and alpha) only, e.g. for evaluation.
  // Sizes are checked before anything changes.
  void restore_checkpoint(const Checkpoint& c, bool with_env_state = true);

 private:
  void update(SacMetrics& m);
  void fill_noise(std::int64_t rows, std::uint32_t phase);

  VecEnv& env_;
  SacConfig config_;
  int obs_dim_, act_dim_;
  SacNetworks<float> nets_;
  DeviceArray<float> params_, grads_;
  Adam<float> actor_adam_, critic_adam_, alpha_adam_;
  std::unique_ptr<ReplayBuffer> replay_;
  std::unique_ptr<NStepWriter> nstep_;  // n_step > 1 only
  double target_entropy_;
  std::int64_t global_step_ = 0, vector_step_ = 0, updates_ = 0;
  DeviceArray<double> alpha_;  // (1) exp(log_alpha) as the losses use it; the initial alpha
                               // until autotune's first step

  // workspaces on the env's device, allocated once
  ReplayBatch batch_;
  DeviceArray<float> obs_before_, env_actions_;
  DeviceArray<float> eps_, y_, td_, logp_, scratch_actions_;
  // train()'s metric sums, read once per call: [0..4) critic loss means (qf1, qf2, Q1, Q2),
  // [4] actor loss, [5] mean log pi, [6] alpha loss, [7] alpha, [8..11) episode return,
  // length and count
  DeviceArray<double> metrics_;
  DeviceArray<double> episode_acc_;  // (num_envs x 3) CUDA's per-env episode sums
  sac_kernels::LossScratch scratch_;
  DeviceArray<float> eval_obs_, eval_actions_;  // act_deterministic's copies on CUDA
};

}  // namespace convoy::rl
