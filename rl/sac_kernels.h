// SAC's per-row and per-element steps as functors on the learner's device (rl/sac_kernels.cu,
// compiled by nvcc when CUDA is on, g++ otherwise): exploration and reparameterisation noise,
// the squashed-Gaussian policy rows, the Q input concatenation, the soft Bellman target, the
// critic and actor loss rows and their sums, the actor head's gradient through both Qs, the
// Polyak update, the alpha (entropy) gradient and alpha from log_alpha, and the episode sums.
//
// Every pointer is on `device`; nothing here reads device memory from the host or waits for
// the GPU, so Sac::train's step loop and Sac::update queue work without host round trips.
// Scalars the host knows (gamma, 1 / rows, the target entropy) are passed by value; alpha,
// which autotune changes on the device, is read through a pointer (a double, the learner's
// exp(log_alpha), cast to T where the loss uses it).
//
// On the CPU each loop runs in the caller's thread and every sum in the order of the host
// loop it replaces (rl/reduce.h's single-chunk path), so CPU results keep their bits.
// T is float for training and double for SacNetworks<double>'s gradient checks.
#pragma once

#include <cstdint>

#include "sim/array.h"
#include "sim/device.h"
#include "sim/rng.h"

namespace convoy::rl::sac_kernels {

// eps (rows x dim): row i ~ N(0, 1) from PhiloxStream(seed, i, c0, c1, purpose).
template <class T>
void normal_rows(const Device& device, std::int64_t rows, int dim, std::uint64_t seed,
                 std::uint32_t c0, std::uint32_t c1, RngPurpose purpose, T* eps);

// Per row: sac_sample_row (rl/sac.h) of head (rows x 2 dim) with eps (rows x dim) into
// actions (rows x dim, action-box units) and log_probs (rows).
template <class T>
void sample_rows(const Device& device, std::int64_t rows, int dim, const T* head, const T* eps,
                 const T* scale, const T* bias, T* actions, T* log_probs);

// actions (rows x dim) = tanh(mean) * scale + bias: the deterministic policy.
template <class T>
void mean_rows(const Device& device, std::int64_t rows, int dim, const T* head, const T* scale,
               const T* bias, T* actions);

// out (rows x (obs_dim + act_dim)) = concat(obs, actions) row by row: the Qs' input.
template <class T>
void concat_rows(const Device& device, std::int64_t rows, int obs_dim, int act_dim, const T* obs,
                 const T* actions, T* out);

// y = r + (1 - done) gamma^steps (min(q1, q2) - alpha log pi), alpha = (T) *alpha; steps
// (rows) are n-step transitions' reward counts, null for all 1.
template <class T>
void soft_targets(const Device& device, std::int64_t rows, const T* q1, const T* q2,
                  const T* log_probs, const T* rewards, const T* dones, const double* alpha,
                  T gamma, T* y, const T* steps = nullptr);

// Scratch the loss sums need for batches of up to `rows` rows.
struct LossScratch {
  LossScratch() = default;
  LossScratch(const Device& device, std::int64_t rows);
  DeviceArray<double> row_terms;  // (rows x 4)
  DeviceArray<double> sums;       // (4)
  DeviceArray<double> scratch;    // rl/reduce.h's, for 4 columns
};

// The critic loss rows: dq_k = 2 w e_k inv with e_k = q_k - y (w = weights, 1 when null),
// td_abs = (|e1| + |e2|) / 2 when not null, and ADDS the batch means of (w e1^2, w e2^2, q1,
// q2) into stats[0..4).
template <class T>
void critic_rows(const Device& device, std::int64_t rows, const T* q1, const T* q2, const T* y,
                 const T* weights, T inv, T* dq1, T* dq2, T* td_abs, LossScratch& s, double* stats);

// The actor loss rows: min(q1, q2)'s gradient -inv to the smaller Q (q1 on ties), and ADDS
// the batch means of (alpha log pi - min(q1, q2), log pi) into stats[0..2).
template <class T>
void actor_rows(const Device& device, std::int64_t rows, const T* q1, const T* q2,
                const T* log_probs, const double* alpha, T inv, T* dq1, T* dq2, LossScratch& s,
                double* stats);

// Per row: dhead (rows x 2 act_dim) = sac_sample_backward with g_log_prob = alpha inv and
// g_action = dL/daction from both Qs' input gradients dx1, dx2 (rows x (obs_dim + act_dim),
// their last act_dim columns), written to g_act (rows x act_dim) on the way.
template <class T>
void actor_head_grad(const Device& device, std::int64_t rows, int obs_dim, int act_dim,
                     const T* head, const T* eps, const T* scale, const double* alpha, T inv,
                     const T* dx1, const T* dx2, T* g_act, T* dhead);

// target <- tau online + (1 - tau) target over n elements.
void polyak(const Device& device, std::int64_t n, const float* online, float* target, float tau);

// The alpha step's gradient: with m = mean of log_probs (rows) in double and a =
// exp(*log_alpha), alpha_loss = -a (m + target_entropy); *grad = (float) alpha_loss and
// *alpha_loss_sum += alpha_loss. s: a LossScratch for at least `rows`.
void alpha_grad(const Device& device, std::int64_t rows, const float* log_probs,
                const float* log_alpha, double target_entropy, LossScratch& s, float* grad,
                double* alpha_loss_sum);

// *alpha = exp((double) *log_alpha).
void alpha_from_log(const Device& device, const float* log_alpha, double* alpha);

// Adds the episodes that ended at this step (terminated or truncated): their return, length
// and a count of 1. per_env = false: into acc[0..3) in env order (one index runs them all,
// the CPU's serial order); per_env = true: into acc[3 i .. 3 i + 3) per env, one index each
// (CUDA), summed by episode_totals.
void episode_sums(const Device& device, std::int64_t n, bool per_env,
                  const std::uint8_t* terminated, const std::uint8_t* truncated,
                  const double* final_return, const std::int32_t* final_length, double* acc);
// out[0..3) += the column sums of per-env accumulators acc (n x 3).
void episode_totals(const Device& device, std::int64_t n, const double* acc, LossScratch& s,
                    double* out);

}  // namespace convoy::rl::sac_kernels
