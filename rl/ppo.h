// PPO (Schulman et al. 2017) on the CPU or a CUDA GPU, following CleanRL's ppo.py and
// ppo_continuous_action.py detail for detail (Huang et al. 2022, "The 37 implementation
// details of PPO"): separate actor and critic MLPs with orthogonal init, GAE that
// bootstraps truncated episodes from V(final_obs), per-minibatch advantage normalisation,
// clipped surrogate and clipped value loss, entropy bonus, global gradient-norm clipping,
// Adam with eps 1e-5 and a linearly annealed learning rate.
//
// Parameters live in ONE flat DeviceArray<float>:
//   [ actor MLP (obs -> logits or mean) | log_std (act_dim; continuous only) | critic MLP ]
// with one gradient buffer of the same layout and one Adam<float> over all of it, so a
// checkpoint, an all-reduce or an optimiser step is one call each.
//
// Discrete action spaces get a categorical over logits; Box spaces a diagonal Gaussian whose
// log_std is a state-independent parameter vector initialised to 0. Continuous samples are
// clipped to the action space's bounds before env.step (CleanRL's ClipAction) while the
// unclipped sample is what is stored and scored.
//
// Normalisation (rl/normalize.h, off by default): norm_obs feeds both networks
// (obs - mean) / std clipped to +-10, with running statistics updated from every obs the env
// returns (also at reset) and frozen in act_deterministic; norm_reward stores rewards scaled by
// the running std of the discounted return, clipped to +-10. Episode returns in the metrics
// stay the env's own.
//
// Resuming: make_checkpoint() holds everything iterate() depends on (parameters, Adam, the
// progress counters, the normalisers and the env's full state) and restore_checkpoint()
// puts it back, so that N iterations straight and K + (N - K) across a checkpoint end with the
// same bits on the same device and thread count.
//
// Randomness: action sampling draws from PhiloxStream(seed, env, iteration, step, kPolicy)
// and each epoch's minibatch permutation from PhiloxStream(seed, 0, iteration, epoch,
// kShuffle), so a run is bit-reproducible for a fixed seed and thread count.
//
// Devices: everything lives on the env's device. The per-env, per-row and per-element loops
// of collection and update are functors of rl/ppo_kernels.cu run through for_each_index (on
// the CPU in the calling thread, as the loops they replace), the GEMMs are Eigen on the CPU
// and cuBLAS on CUDA (rl::Mlp), and every reduction stays on the device (rl/reduce.h: on the
// CPU in the order of the serial loops it replaced, so CPU runs keep their bits). On CUDA:
// - collect() copies nothing to the host. Truncated episodes are bootstrapped by running the
//   critic on all N final observations and masking with truncated && !terminated, since
//   compacting the rows needs their count on the host (a sync every step) and N rows cost a
//   GPU GEMM no more than a few. The CPU still compacts (its flags are host memory), which
//   keeps the critic's GEMM shapes and hence its bits.
// - update() reads one double per epoch (the last minibatch's approx_kl, only when
//   target_kl > 0) and, once per iteration, all the metrics (episode, loss, gradient norm
//   and explained-variance sums, kept in one device array).
// - The minibatch permutation is a host Fisher-Yates (the stream above), uploaded once per
//   epoch.
// - The normalisers' mean and variance live on the device; obs_rms(), reward_scaler() and
//   make_checkpoint() copy them to the host.
// act_deterministic takes host pointers on every device (CUDA uploads obs and downloads the
// actions).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "replay/rollout.h"
#include "rl/adam.h"
#include "rl/checkpoint.h"
#include "rl/distributions.h"
#include "rl/mlp.h"
#include "rl/normalize.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/vec_env.h"

namespace convoy::rl {

struct PpoConfig {
  // Defaults: CleanRL's ppo.py for CartPole-v1.
  std::int64_t num_envs = 4;              // the VecEnv must have this many envs
  std::int64_t num_steps = 128;           // steps per env per iteration (T)
  std::int64_t total_timesteps = 500000;  // sets the annealing horizon: num_iterations =
                                          // total_timesteps / (num_envs * num_steps);
                                          // past it the schedules hold their last value
  double learning_rate = 2.5e-4;
  bool anneal_lr = true;     // lr0 * (1 - (iteration - 1) / num_iterations)
  bool anneal_clip = false;  // same schedule for clip_coef (rl-zoo3's linear clip range)
  double gamma = 0.99;
  double gae_lambda = 0.95;
  std::int64_t num_minibatches = 4;  // must divide num_envs * num_steps
  std::int64_t update_epochs = 4;
  bool norm_adv = true;  // per minibatch, (A - mean) / (std + 1e-8), unbiased std
  double clip_coef = 0.2;
  bool clip_vloss = true;
  double ent_coef = 0.01;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;
  double target_kl = 0.0;  // <= 0: none; else stop the epochs once approx_kl exceeds it
  double adam_eps = 1e-5;
  bool norm_obs = false;     // normalise observations by running mean / std, clip +-10
  bool norm_reward = false;  // scale rewards by the running std of the discounted return
  int hidden_layers = 2;
  int hidden_size = 64;
  Activation activation = Activation::kTanh;
  std::uint64_t seed = 1;
  // OpenMP threads for the networks' Eigen GEMMs during iterate() and act_deterministic()
  // (0: Eigen's default, every OpenMP thread). 64-wide layers run fastest on one: threading
  // them cost 18.5 s instead of 1.3 s for the CartPole learning test on a busy 2-core box.
  int gemm_threads = 1;

  // Reads every field as a documented key=value setting with its range (the defaults are
  // the values above). Unknown keys and bad values are convoy::Errors naming the key.
  void read_config(ConfigReader& reader);
  static PpoConfig from_config(const Config& config);
  // Throws convoy::Error naming the field when a value is out of range.
  void validate() const;

  std::int64_t batch_size() const { return num_envs * num_steps; }
  std::int64_t minibatch_size() const { return batch_size() / num_minibatches; }
  std::int64_t num_iterations() const {
    return std::max<std::int64_t>(1, total_timesteps / batch_size());
  }
};

// What one iterate() did. Losses, entropy and KL are means over every minibatch that ran;
// the first_* fields are the first minibatch of the first epoch, whose ratio must be 1.
struct PpoMetrics {
  std::int64_t iteration = 0;    // 1-based
  std::int64_t global_step = 0;  // env steps so far (all envs)
  double learning_rate = 0, clip_coef = 0;
  double policy_loss = 0, value_loss = 0, entropy = 0;
  double approx_kl = 0;      // mean of (ratio - 1) - log ratio
  double old_approx_kl = 0;  // mean of -log ratio
  double clip_fraction = 0;  // fraction of samples with |ratio - 1| > clip_coef
  double explained_variance = 0;
  double grad_norm = 0;  // mean global norm before clipping
  double first_approx_kl = 0, first_clip_fraction = 0, first_max_abs_log_ratio = 0;
  std::int64_t minibatches = 0;  // minibatch updates run (fewer with target_kl)
  bool early_stopped = false;
  std::int64_t episodes = 0;  // episodes that finished during collection
  double mean_episode_return = 0, mean_episode_length = 0;  // NaN when episodes == 0
  double steps_per_second = 0;                              // collection + update
};

// Coefficients of the PPO loss for one minibatch.
struct PpoLossCoefs {
  double clip_coef = 0.2;
  bool clip_vloss = true;
  double ent_coef = 0.01;
  double vf_coef = 0.5;
  bool norm_adv = true;
};

struct PpoLossStats {
  double loss = 0;  // pg_loss - ent_coef * entropy + vf_coef * v_loss
  double pg_loss = 0, v_loss = 0, entropy = 0;
  double approx_kl = 0, old_approx_kl = 0, clip_fraction = 0, max_abs_log_ratio = 0;
};

// One row's share of the PPO loss (below), written once for the host loop of ppo_loss and
// the device functor of rl/ppo_kernels.cu. Sums over rows (in row order) of the fields give
// the minibatch's statistics before the 1 / batch.
struct PpoRowTerms {
  double pg = 0, v = 0, entropy = 0, approx_kl = 0, old_approx_kl = 0, clipped = 0;
  double abs_log_ratio = 0;
};

// Row i of the loss: the advantage is normalised as (A - adv_mean) * adv_scale; tb = 1 / batch.
// Writes d_head's row (head_dim) and d_values[i] when not null; ADDS the row's dL/dlog_std
// into d_log_std (continuous, with d_head).
template <class T>
CONVOY_HD_INLINE PpoRowTerms ppo_loss_row(std::int64_t i, bool discrete, int head_dim,
                                          const T* head, const T* log_std, const T* values,
                                          const T* actions, const T* old_log_probs,
                                          const T* advantages, const T* old_values,
                                          const T* returns, double adv_mean, double adv_scale,
                                          double clip_coef, bool clip_vloss, T ent_coef, T vf_coef,
                                          T tb, T* d_head, T* d_log_std, T* d_values) {
  PpoRowTerms r;
  const T clip = static_cast<T>(clip_coef);
  const T* h = head + i * head_dim;
  T new_logp, ent;
  if (discrete) {
    const int a = static_cast<int>(actions[i]);
    new_logp = categorical_log_prob(h, head_dim, a);
    ent = categorical_entropy(h, head_dim);
  } else {
    new_logp = gaussian_log_prob(h, log_std, actions + i * head_dim, head_dim);
    ent = gaussian_entropy(log_std, head_dim);
  }
  const T log_ratio = new_logp - old_log_probs[i];
  const T ratio = math::exp(log_ratio);
  r.old_approx_kl = -static_cast<double>(log_ratio);
  r.approx_kl = static_cast<double>((ratio - T(1)) - log_ratio);
  r.clipped = math::abs(static_cast<double>(ratio) - 1.0) > clip_coef ? 1.0 : 0.0;
  r.abs_log_ratio = math::abs(static_cast<double>(log_ratio));
  const T adv = static_cast<T>((advantages[i] - adv_mean) * adv_scale);
  const T l1 = -adv * ratio;
  const T lo = T(1) - clip, hi = T(1) + clip;
  const T l2 = -adv * (ratio < lo ? lo : (hi < ratio ? hi : ratio));  // std::clamp
  r.pg = static_cast<double>(l1 < l2 ? l2 : l1);                      // std::max
  r.entropy = static_cast<double>(ent);
  // d max(l1, l2) / d new_logp: the unclipped branch's -adv * ratio where it is the max;
  // where the clipped one is strictly larger, the ratio sits outside the clip range and
  // the clipped term is constant.
  const T g_logp = (l1 >= l2 ? -adv * ratio : T(0)) * tb;
  const T g_ent = -ent_coef * tb;
  if (d_head != nullptr) {
    T* dh = d_head + i * head_dim;
    for (int k = 0; k < head_dim; ++k) dh[k] = T(0);
    if (discrete) {
      categorical_backward(h, head_dim, static_cast<int>(actions[i]), g_logp, g_ent, dh);
    } else {
      gaussian_backward(h, log_std, actions + i * head_dim, head_dim, g_logp, g_ent, dh, d_log_std);
    }
  }
  // value loss: 0.5 * max((v - R)^2, (v_clipped - R)^2) or 0.5 * (v - R)^2
  const T v = values[i], R = returns[i];
  const T v_unc = (v - R) * (v - R);
  T g_v;
  if (clip_vloss) {
    const T diff = v - old_values[i];
    const T dv = diff < -clip ? -clip : (clip < diff ? clip : diff);  // std::clamp
    const T v_clipped = old_values[i] + dv;
    const T v_clp = (v_clipped - R) * (v_clipped - R);
    r.v = 0.5 * static_cast<double>(v_unc < v_clp ? v_clp : v_unc);
    const bool inside = v - old_values[i] > -clip && v - old_values[i] < clip;
    g_v = v_unc >= v_clp ? (v - R) : (inside ? (v_clipped - R) : T(0));
  } else {
    r.v = 0.5 * static_cast<double>(v_unc);
    g_v = v - R;
  }
  if (d_values != nullptr) d_values[i] = vf_coef * g_v * tb;
  return r;
}

// The PPO loss of one minibatch of `batch` rows and its gradient with respect to the heads:
//   head        (batch x head_dim): logits (discrete, head_dim = number of actions) or the
//               Gaussian mean (continuous, head_dim = act_dim)
//   log_std     (act_dim): continuous only (null for discrete)
//   values      (batch): the critic's V(s)
//   actions     discrete: (batch) indices stored as T; continuous: (batch x act_dim) samples
//   old_log_probs, advantages, old_values, returns (batch): from the rollout
// Writes d_head (batch x head_dim) and d_values (batch) when not null, and ADDS dL/dlog_std
// into d_log_std (continuous: required with d_head). T is float for training, double for checks.
// Host pointers: this is the CPU reference (gradient checks); Ppo runs the same rows
// (ppo_loss_row) as a functor on its device, with the same sums on the CPU.
template <class T>
PpoLossStats ppo_loss(std::int64_t batch, bool discrete, int head_dim, const T* head,
                      const T* log_std, const T* values, const T* actions, const T* old_log_probs,
                      const T* advantages, const T* old_values, const T* returns,
                      const PpoLossCoefs& c, T* d_head, T* d_log_std, T* d_values) {
  PpoLossStats s;
  const double inv_b = 1.0 / static_cast<double>(batch);
  // advantage normalisation over the minibatch (torch's unbiased std, CleanRL's 1e-8)
  double adv_mean = 0.0, adv_scale = 1.0;
  if (c.norm_adv) {
    for (std::int64_t i = 0; i < batch; ++i) adv_mean += advantages[i];
    adv_mean *= inv_b;
    double var = 0.0;
    for (std::int64_t i = 0; i < batch; ++i) {
      const double d = advantages[i] - adv_mean;
      var += d * d;
    }
    var = batch > 1 ? var / static_cast<double>(batch - 1) : 0.0;
    adv_scale = 1.0 / (std::sqrt(var) + 1e-8);
  }
  const T ent_coef = static_cast<T>(c.ent_coef), vf_coef = static_cast<T>(c.vf_coef);
  const T tb = static_cast<T>(inv_b);
  for (std::int64_t i = 0; i < batch; ++i) {
    const PpoRowTerms r =
        ppo_loss_row<T>(i, discrete, head_dim, head, log_std, values, actions, old_log_probs,
                        advantages, old_values, returns, adv_mean, adv_scale, c.clip_coef,
                        c.clip_vloss, ent_coef, vf_coef, tb, d_head, d_log_std, d_values);
    s.pg_loss += r.pg;
    s.v_loss += r.v;
    s.entropy += r.entropy;
    s.approx_kl += r.approx_kl;
    s.old_approx_kl += r.old_approx_kl;
    s.clip_fraction += r.clipped;
    s.max_abs_log_ratio = std::max(s.max_abs_log_ratio, r.abs_log_ratio);
  }
  s.pg_loss *= inv_b;
  s.v_loss *= inv_b;
  s.entropy *= inv_b;
  s.approx_kl *= inv_b;
  s.old_approx_kl *= inv_b;
  s.clip_fraction *= inv_b;
  s.loss = s.pg_loss - c.ent_coef * s.entropy + c.vf_coef * s.v_loss;
  return s;
}

namespace ppo_kernels {
struct LossScratch;
}

class Ppo {
 public:
  // The env may be on any device, reset or not (the constructor resets it from config.seed),
  // with config.num_envs envs and a Discrete or Box action space. It must outlive the Ppo.
  Ppo(VecEnv& env, const PpoConfig& config);
  ~Ppo();

  // One iteration: num_steps of collection, GAE, update_epochs x num_minibatches updates.
  PpoMetrics iterate();

  // Greedy actions for `batch` rows of obs (batch x obs_dim, host memory; the actions too):
  // the argmax of the logits (discrete, int32 out) or the mean clipped to the action bounds
  // (continuous, float out, batch x act_dim). Calling the overload of the wrong dtype is a
  // convoy::Error.
  void act_deterministic(const float* obs, std::int64_t batch, std::int32_t* out_actions);
  void act_deterministic(const float* obs, std::int64_t batch, float* out_actions);

  // The flat parameters (see the layout above) and their pieces' offsets.
  DeviceArray<float>& params() { return params_; }
  const DeviceArray<float>& params() const { return params_; }
  const Mlp<float>& actor() const { return actor_; }
  const Mlp<float>& critic() const { return critic_; }
  std::int64_t actor_offset() const { return 0; }
  std::int64_t log_std_offset() const { return log_std_offset_; }  // continuous only
  std::int64_t critic_offset() const { return critic_offset_; }
  std::int64_t num_params() const { return params_.size(); }
  // whether the env it trains has a Discrete action space (its settings', not its defaults')
  bool discrete() const { return discrete_; }
  Adam<float>& optimizer() { return adam_; }
  const PpoConfig& config() const { return config_; }
  std::int64_t iteration() const { return iteration_; }
  std::int64_t global_step() const { return global_step_; }
  const RolloutBuffer& rollout() const { return rollout_; }
  // The normalisers' statistics (empty dims / unused when the setting is off).
  // Host copies of the device-resident statistics, refreshed by each call.
  const RunningMeanStd& obs_rms() const;
  const RewardScaler& reward_scaler() const;

  // Everything iterate() carries from one iteration to the next, as a checkpoint of
  // `env_name` / `algo` (the caller fills in the settings); and back. restore_checkpoint
  // checks the sizes against this learner and env first and throws convoy::Error, changing
  // nothing, when they differ; with with_env_state false it restores only the policy
  // (parameters and the frozen observation statistics), as evaluation needs.
  Checkpoint make_checkpoint() const;
  void restore_checkpoint(const Checkpoint& c, bool with_env_state = true);

 private:
  // The actor's output rows for `batch` host obs (uploaded on CUDA, normalised with the frozen
  // statistics): act_deterministic's common part. Lives in eval_ws_ until the next call.
  const float* eval_head(const float* obs, std::int64_t batch);
  void collect();
  void update(PpoMetrics& m);
  const float* critic_values(const float* obs, std::int64_t rows);
  // obs (rows x obs_dim, on the device) as the networks see it, written into out:
  // normalised by the running statistics when norm_obs, else copied
  void policy_obs(const float* obs, std::int64_t rows, float* out) const;
  // copies the device-resident normaliser statistics into obs_rms_ / reward_scaler_
  void sync_stats() const;

  VecEnv& env_;
  PpoConfig config_;
  bool discrete_;
  int obs_dim_, act_dim_, head_dim_;
  std::vector<float> act_low_, act_high_;
  Mlp<float> actor_, critic_;
  std::int64_t log_std_offset_ = 0, critic_offset_ = 0;
  DeviceArray<float> params_, grads_;
  Adam<float> adam_;
  RolloutBuffer rollout_;
  std::int64_t iteration_ = 0, global_step_ = 0;
  // The normalisers live on the device (mean / var; the sample counts on the host, since
  // they only count rows); obs_rms_ and reward_scaler_ are host copies made on demand.
  mutable RunningMeanStd obs_rms_;
  mutable RewardScaler reward_scaler_;
  DeviceArray<double> obs_mean_, obs_var_, ret_mean_, ret_var_, returns_;
  DeviceArray<double> rms_scratch_;  // both normalisers' (ppo_kernels::rms_update)
  double obs_count_ = 0, ret_count_ = 0;

  // workspaces, allocated once, on the env's device
  MlpWorkspace<float> actor_ws_, critic_ws_, eval_ws_;
  DeviceArray<std::int32_t> env_actions_i_, eval_actions_i_;
  DeviceArray<float> env_actions_f_, eval_actions_f_, act_low_d_, act_high_d_;
  DeviceArray<float> trunc_obs_, norm_obs_, eval_obs_;
  std::vector<std::int64_t> trunc_rows_, perm_;  // host: the CPU's compaction, the shuffle
  DeviceArray<std::int64_t> perm_d_;             // CUDA: the shuffle, uploaded per epoch
  DeviceArray<float> mb_obs_, mb_act_, mb_logp_, mb_adv_, mb_val_, mb_ret_, mb_dhead_, mb_dval_;
  // per (step, env): (final return, length, 1) of episodes ending there
  DeviceArray<double> episode_terms_;
  // [0, 3) episode sums, [3, 7) explained-variance sums, then 8 per minibatch: the loss
  // sums, max |log ratio| and the gradient norm (read to the host once per iteration)
  DeviceArray<double> metrics_;
  std::vector<double> metrics_host_;
  DeviceArray<double> ev_rows_, reduce_scratch_, norm_scratch_;
  std::unique_ptr<ppo_kernels::LossScratch> loss_scratch_;
};

}  // namespace convoy::rl
