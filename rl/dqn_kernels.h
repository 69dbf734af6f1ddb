// DQN's per-row steps as functors on the learner's device (rl/dqn_kernels.cu, nvcc when CUDA
// is on, g++ otherwise): epsilon-greedy actions, the (double) Q-learning targets, the Huber or
// MSE loss rows with their gradient through plain or dueling heads, and the sums the metrics
// need. Every pointer is on `device`; nothing here waits for the GPU or reads device memory
// from the host. `heads` rows are the network's raw outputs: A Q-values, or with `dueling`
// 1 + A values [V | advantages] combined as Q_a = V + A_a - mean(A).
#pragma once

#include <cstdint>

#include "rl/sac_kernels.h"
#include "sim/device.h"

namespace convoy::rl::dqn_kernels {

// Per env row: with probability epsilon (a Philox draw from (seed, row, step, kPolicy)) a
// uniform action, else argmax_a Q (the lowest index on ties). heads may be null when
// epsilon >= 1. Writes the index as int32 (for the env) and as float (for replay).
void explore(const Device& device, std::int64_t rows, int actions, bool dueling, const float* heads,
             double epsilon, std::uint64_t seed, std::uint64_t step, std::int32_t* out,
             float* out_f);

// argmax_a Q per row.
void greedy(const Device& device, std::int64_t rows, int actions, bool dueling, const float* heads,
            std::int32_t* out);

// y = r + (1 - done) gamma^steps Q_target(s', a*), a* = argmax online(s') (online_next not
// null: double Q) or argmax target(s'). steps null: 1.
void targets(const Device& device, std::int64_t rows, int actions, bool dueling,
             const float* target_next, const float* online_next, const float* rewards,
             const float* dones, const float* steps, float gamma, float* y);

// e = Q(s, a) - y; loss_i = w_i huber(e) (smooth L1 with delta 1, as torch's) or w_i e^2
// (w: importance weights, null for all 1); mean over rows. Writes
// dheads (rows x heads) = d(mean loss)/dheads, td_abs = |e| when not null, and ADDS the
// batch means (loss, Q(s, a)) into stats[0..2).
void loss_rows(const Device& device, std::int64_t rows, int actions, bool dueling, bool huber,
               const float* heads, const float* taken, const float* y, const float* weights,
               float* dheads, float* td_abs, sac_kernels::LossScratch& s, double* stats);

}  // namespace convoy::rl::dqn_kernels
