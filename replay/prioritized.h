// PrioritizedReplayBuffer: proportional prioritized replay (Schaul et al. 2016) behind the
// ReplayBuffer interface. Slot i is drawn with P(i) = p_i^alpha / sum_k p_k^alpha from a
// SumTree on the buffer's device; the transitions live in the same ReplayRing as the uniform
// buffer's.
//
// - A new transition gets the largest raw priority seen so far (1 before any update); the
//   tree holds p^alpha and the maximum is kept raw, so alpha is applied exactly once.
// - update_priorities(|td|) stores (|td| + eps)^alpha for each slot; the last of repeated
//   slots wins. The running maximum is read back to the host (one small sync per call).
// - sample() draws stratified: row i takes u = (i + U[0,1)) * total / batch, one thread per
//   row descending the tree (the CPU walks four rows' paths side by side), U from
//   PhiloxStream(seed, i, counter, kReplay) as in uniform replay, so the same (seed,
//   counter) gives the same batch at any thread count.
// - Importance weights (N P(i))^-beta are normalised by the largest weight over the whole
//   buffer (not the batch), the one of the smallest non-zero priority, read from the min
//   tree: w_i = (p_i^alpha / min_k p_k^alpha)^-beta, so every weight is in (0, 1].
// - beta rises linearly from beta0 to 1 over the first beta_steps sample() calls.
#pragma once

#include <cstdint>
#include <string>

#include "replay/replay.h"
#include "replay/sum_tree.h"

namespace convoy {

struct PrioritizedConfig {
  double alpha = 0.6;                // priority exponent, >= 0 (0: uniform)
  double beta0 = 0.4;                // importance-weight exponent at the first sample, [0, 1]
  double eps = 1e-6;                 // added to |td| so no transition is starved, >= 0
  std::int64_t beta_steps = 100000;  // sample() calls over which beta reaches 1, >= 1
};

class PrioritizedReplayBuffer final : public ReplayBuffer {
 public:
  // capacity in [1, 2^31], obs_dim and act_dim >= 1 and the settings in the ranges above;
  // anything else a convoy::Error naming the value and the range allowed.
  PrioritizedReplayBuffer(const Device& device, std::int64_t capacity, std::int64_t obs_dim,
                          std::int64_t act_dim, const PrioritizedConfig& config = {});

  void add(const Transitions& t) override;
  // batch_size in [1, size()].
  void sample(std::int64_t batch_size, std::uint64_t seed, std::uint64_t counter,
              ReplayBatch& out) override;
  // d_indices must be slots this buffer sampled; d_td_errors finite.
  void update_priorities(const std::int64_t* d_indices, const float* d_td_errors,
                         std::int64_t n) override;

  const Device& device() const override { return ring_.device(); }
  std::int64_t capacity() const override { return ring_.capacity(); }
  std::int64_t size() const override { return ring_.size(); }
  std::int64_t obs_dim() const override { return ring_.obs_dim(); }
  std::int64_t act_dim() const override { return ring_.act_dim(); }
  std::int64_t next_slot() const { return ring_.next_slot(); }
  // Rows, tree leaves, the raw maximum priority and the sample count.
  std::string save_state() const override;
  void load_state(const std::string& bytes) override;

  const PrioritizedConfig& config() const { return config_; }
  double beta() const;                                   // the next sample()'s beta
  double max_priority() const { return max_priority_; }  // raw, before alpha
  const SumTree& tree() const { return tree_; }
  const ReplayRing& ring() const { return ring_; }

 private:
  PrioritizedConfig config_;
  ReplayRing ring_;
  SumTree tree_;
  double max_priority_ = 1.0;
  std::int64_t samples_ = 0;
  DeviceArray<double> raw_, values_;  // update_priorities() scratch
};

}  // namespace convoy
