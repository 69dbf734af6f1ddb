// PPO's per-env, per-row and per-element steps as functors on the learner's device
// (rl/ppo_kernels.cu, compiled by nvcc when CUDA is on, g++ otherwise). Every pointer is on
// `device`; nothing here reads device memory from the host or waits for the GPU, so
// Ppo::collect's step loop and Ppo::update's minibatch loop queue work without host round
// trips. On the CPU each loop runs in the caller's thread (as the host loops it replaces
// did: an OpenMP fork per minibatch step costs more than these loops), and every sum runs in
// the order of the serial loop it replaces, so CPU results keep their bits.
#pragma once

#include <cstdint>

#include "rl/ppo.h"
#include "sim/device.h"

namespace convoy::rl::ppo_kernels {

// Per env i: draws the action from PhiloxStream(seed, i, iteration, step, kPolicy) off the
// policy head, stores it (as float) and its log-probability, and writes the env's action
// (discrete: int32; continuous: the sample clipped to [low, high]).
struct SampleArgs {
  std::int64_t n = 0;
  bool discrete = true;
  int head_dim = 0, act_dim = 0;
  const float* head = nullptr;
  const float* log_std = nullptr;  // continuous
  const float* low = nullptr;      // (act_dim) continuous
  const float* high = nullptr;
  std::uint64_t seed = 0;
  std::uint32_t iteration = 0, step = 0;
  float* actions = nullptr;    // (n x act_dim)
  float* log_probs = nullptr;  // (n)
  std::int32_t* env_actions_i = nullptr;
  float* env_actions_f = nullptr;
};
void sample_actions(const Device& device, const SampleArgs& a);

// Greedy actions: the argmax of each row's logits, or the mean clipped to [low, high].
void argmax_rows(const Device& device, std::int64_t rows, int n, const float* logits,
                 std::int32_t* out);
void clip_rows(const Device& device, std::int64_t rows, int dim, const float* x, const float* low,
               const float* high, float* out);

// out = clip((x - mean) / sqrt(var + 1e-8), +-10) (rl/normalize.h's normalize_obs); x and
// out may alias.
void normalize_obs(const Device& device, const double* mean, const double* var, const float* x,
                   std::int64_t rows, int dim, float* out);

// RunningMeanStd::update on the device: folds `rows` rows of dim values into (mean, var),
// whose sample count before the update is `count` (the caller keeps the count on the host:
// it only depends on how many rows were folded in). The CPU runs RunningMeanStd::update's
// two passes per column, in row order; CUDA runs rms_update_chunked. scratch:
// rms_scratch_size(device, dim) doubles or more.
void rms_update(const Device& device, const float* x, std::int64_t rows, int dim, double count,
                double* mean, double* var, DeviceArray<double>& scratch);
void rms_update(const Device& device, const double* x, std::int64_t rows, int dim, double count,
                double* mean, double* var, DeviceArray<double>& scratch);
std::int64_t rms_scratch_size(const Device& device, int dim);

// rms_update's CUDA path on any device (the CPU runs it in tests): each column's batch
// moments (count, mean, sum of squared deviations: rl/reduce.h's Moments) from at most
// max_chunks row ranges reduced in parallel and merged in order, then Chan's merge into
// (mean, var) per column. scratch: rms_chunked_scratch_size(dim, max_chunks) doubles or more.
void rms_update_chunked(const Device& device, const float* x, std::int64_t rows, int dim,
                        double count, double* mean, double* var, DeviceArray<double>& scratch,
                        int max_chunks);
void rms_update_chunked(const Device& device, const double* x, std::int64_t rows, int dim,
                        double count, double* mean, double* var, DeviceArray<double>& scratch,
                        int max_chunks);
std::int64_t rms_chunked_scratch_size(int dim, int max_chunks);

// RewardScaler::scale in three launches: returns <- gamma returns + reward; the return
// statistics (rms_update, one column); then out = clip(reward / sqrt(var + 1e-8), +-10) and
// the returns of finished episodes reset to 0.
void discount_returns(const Device& device, std::int64_t n, double gamma, const float* reward,
                      double* returns);
void scale_rewards(const Device& device, std::int64_t n, const double* return_var,
                   const float* reward, const std::uint8_t* terminated,
                   const std::uint8_t* truncated, double* returns, float* out);

// Per env: out (n x 3) = (final return, final length, 1) where the episode ended at this
// step, zeros elsewhere; summed over the rollout after collection.
void episode_terms(const Device& device, std::int64_t n, const std::uint8_t* terminated,
                   const std::uint8_t* truncated, const double* final_return,
                   const std::int32_t* final_length, double* out);

// fv[i] = V(final_obs_i) where env i was truncated and not terminated, else 0; values holds
// the critic's value of every env's final obs (the CUDA path's masked bootstrap).
void masked_final_values(const Device& device, std::int64_t n, const std::uint8_t* terminated,
                         const std::uint8_t* truncated, const float* values, float* fv);

// Minibatch row r <- rollout row perm[r] (obs, action, log-prob, advantage, value, return).
struct GatherArgs {
  std::int64_t rows = 0;
  int obs_dim = 0, act_dim = 0;
  const std::int64_t* perm = nullptr;
  const float *obs = nullptr, *actions = nullptr, *log_probs = nullptr, *advantages = nullptr,
              *values = nullptr, *returns = nullptr;
  float *mb_obs = nullptr, *mb_actions = nullptr, *mb_log_probs = nullptr, *mb_advantages = nullptr,
        *mb_values = nullptr, *mb_returns = nullptr;
};
void gather_minibatch(const Device& device, const GatherArgs& a);

// The PPO loss of one minibatch on the device: ppo_loss's advantage moments, its rows
// (ppo_loss_row) and its sums. Writes d_head, d_values, ADDS dL/dlog_std into d_log_std
// (continuous), and writes stats[0..7) = the row sums of (pg, v, entropy, approx_kl,
// old_approx_kl, clipped) and the max |log ratio| (the caller divides by the batch).
struct LossArgs {
  std::int64_t rows = 0;
  bool discrete = true;
  int head_dim = 0;
  const float *head = nullptr, *log_std = nullptr, *values = nullptr, *actions = nullptr,
              *old_log_probs = nullptr, *advantages = nullptr, *old_values = nullptr,
              *returns = nullptr;
  PpoLossCoefs coefs;
  float *d_head = nullptr, *d_values = nullptr, *d_log_std = nullptr;
  double* stats = nullptr;  // (7)
};
// Scratch a minibatch of `rows` needs on `device`.
struct LossScratch {
  LossScratch() = default;
  LossScratch(const Device& device, std::int64_t rows, int act_dim);
  DeviceArray<double> row_terms;      // (rows x 6)
  DeviceArray<double> row_abs;        // (rows)
  DeviceArray<double> adv_dev;        // (rows)
  DeviceArray<double> adv_moments;    // (2 sums, then mean and scale)
  DeviceArray<float> d_log_std_rows;  // (rows x act_dim)
  DeviceArray<double> scratch_d;
  DeviceArray<float> scratch_f;
};
void minibatch_loss(const Device& device, const LossArgs& a, LossScratch& s);

// Explained variance's sums over the rollout: out[0..4) = (sum y, sum (y - yhat), then
// sum (y - mean y)^2, sum (d - mean d)^2) with d = y - yhat, all in double.
void explained_variance_sums(const Device& device, std::int64_t n, const float* y,
                             const float* yhat, DeviceArray<double>& rows,
                             DeviceArray<double>& scratch, double* out);

// Scratch sum_columns and explained_variance_sums need (up to 6 columns).
std::int64_t reduce_scratch_size(const Device& device);

// out[c] = sum over rows of x[r * cols + c] in double, in row order on the CPU.
void sum_columns(const Device& device, const double* x, std::int64_t rows, int cols, double* out,
                 DeviceArray<double>& scratch);

}  // namespace convoy::rl::ppo_kernels
