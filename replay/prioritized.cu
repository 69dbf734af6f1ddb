#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "replay/prioritized.h"
#include "sim/algorithms.h"
#include "sim/error.h"
#include "sim/parallel.h"
#include "sim/rng.h"

namespace convoy {

namespace {

const PrioritizedConfig& checked(const PrioritizedConfig& c) {
  auto bad = [](const char* name, double v, const char* allowed) {
    throw Error(std::string("PrioritizedReplayBuffer: ") + name + " = " + std::to_string(v) +
                " is invalid; allowed: " + allowed);
  };
  if (!(c.alpha >= 0 && std::isfinite(c.alpha))) bad("alpha", c.alpha, ">= 0, finite");
  if (!(c.beta0 >= 0 && c.beta0 <= 1)) bad("beta0", c.beta0, "[0, 1]");
  if (!(c.eps >= 0 && std::isfinite(c.eps))) bad("eps", c.eps, ">= 0, finite");
  if (c.beta_steps < 1) {
    throw Error("PrioritizedReplayBuffer: beta_steps = " + std::to_string(c.beta_steps) +
                " is invalid; allowed: >= 1");
  }
  return c;
}

// Rows [G g, G g + G) of the batch: each a stratified draw in its segment of the total, the
// leaf under it (the G found together, SumTreeView::find_group), gathered. Row i's numbers
// do not depend on G: the CPU takes G = kCpuGroup rows a call, CUDA one a thread.
template <int G>
struct SampleKernel {
  std::uint64_t seed, counter;
  std::int64_t batch;
  double beta;
  SumTreeView tree;
  RingRows ring;
  BatchRows out;
  CONVOY_HD void operator()(std::int64_t g) const {
    const double total = tree.total();
    double u[G];
    std::int64_t slot[G];
    for (int k = 0; k < G; ++k) {
      // past the batch's end, the last group repeats its last row's draw and writes nothing
      const std::int64_t i = G * g + k < batch ? G * g + k : batch - 1;
      PhiloxStream rng(seed, static_cast<std::uint64_t>(i),
                       static_cast<std::uint32_t>(counter >> 32),
                       static_cast<std::uint32_t>(counter), RngPurpose::kReplay);
      u[k] = (static_cast<double>(i) + rng.uniform_double()) * (total / batch);
      // rounding can put the last segment's draw on the total itself
      if (u[k] >= total) u[k] = nextafter(total, 0.0);
    }
    tree.find_group<G>(u, slot);
    for (int k = 0; k < G && G * g + k < batch; ++k) {
      const std::int64_t i = G * g + k;
      out.gather(ring, i, slot[k]);
      out.weights[i] =
          static_cast<float>(pow(tree.sum[tree.leaves + slot[k]] / tree.min_value(), -beta));
    }
  }
};
constexpr int kCpuGroup = 4;

struct PriorityKernel {
  double alpha, eps;
  const float* td;
  double *raw, *values;
  CONVOY_HD void operator()(std::int64_t r) const {
    raw[r] = fabs(static_cast<double>(td[r])) + eps;
    values[r] = pow(raw[r], alpha);
  }
};

constexpr char kTag[8] = {'P', 'R', 'B', 'v', '1', 0, 0, 0};

}  // namespace

PrioritizedReplayBuffer::PrioritizedReplayBuffer(const Device& device, std::int64_t capacity,
                                                 std::int64_t obs_dim, std::int64_t act_dim,
                                                 const PrioritizedConfig& config)
    : config_(checked(config)),
      ring_(device, capacity, obs_dim, act_dim, "PrioritizedReplayBuffer",
            SumTree::bytes(capacity)),
      tree_(device, capacity) {}

double PrioritizedReplayBuffer::beta() const {
  const double f = samples_ >= config_.beta_steps
                       ? 1.0
                       : static_cast<double>(samples_) / static_cast<double>(config_.beta_steps);
  return config_.beta0 + (1.0 - config_.beta0) * f;
}

void PrioritizedReplayBuffer::add(const Transitions& t) {
  const std::int64_t first = ring_.add(t);
  tree_.fill(first, t.rows, std::pow(max_priority_, config_.alpha));
}

void PrioritizedReplayBuffer::sample(std::int64_t batch_size, std::uint64_t seed,
                                     std::uint64_t counter, ReplayBatch& out) {
  if (size() < 1) throw Error("PrioritizedReplayBuffer::sample: the buffer is empty");
  if (batch_size < 1 || batch_size > size()) {
    throw Error("PrioritizedReplayBuffer::sample: batch_size = " + std::to_string(batch_size) +
                " is invalid; allowed: 1.." + std::to_string(size()) + " (the transitions stored)");
  }
  const BatchRows rows = ring_.fit_batch(batch_size, out);
  const double b = beta();
  ++samples_;
  if (device().is_cuda()) {
    for_each_index(device(), batch_size,
                   SampleKernel<1>{seed, counter, batch_size, b, tree_.view(), ring_.rows(), rows});
  } else {
    for_each_index(
        device(), (batch_size + kCpuGroup - 1) / kCpuGroup,
        SampleKernel<kCpuGroup>{seed, counter, batch_size, b, tree_.view(), ring_.rows(), rows});
  }
}

void PrioritizedReplayBuffer::update_priorities(const std::int64_t* d_indices,
                                                const float* d_td_errors, std::int64_t n) {
  if (n < 0 || n >= (std::int64_t(1) << 31)) {
    throw Error("PrioritizedReplayBuffer::update_priorities: n = " + std::to_string(n) +
                " is invalid; allowed: 0..2^31-1");
  }
  if (n == 0) return;
  if (raw_.size() < n) {
    raw_ = DeviceArray<double>(device(), n);
    values_ = DeviceArray<double>(device(), n);
  }
  for_each_index(
      device(), n,
      PriorityKernel{config_.alpha, config_.eps, d_td_errors, raw_.data(), values_.data()});
  tree_.update(d_indices, values_.data(), n);
  max_priority_ = std::fmax(max_priority_, reduce_max(device(), raw_.data(), n));
}

std::string PrioritizedReplayBuffer::save_state() const {
  std::string out(kTag, sizeof(kTag));
  ring_.save(out);
  out.append(reinterpret_cast<const char*>(&max_priority_), sizeof(max_priority_));
  out.append(reinterpret_cast<const char*>(&samples_), sizeof(samples_));
  const std::vector<double> leaves = tree_.leaf_values();
  out.append(reinterpret_cast<const char*>(leaves.data()), leaves.size() * sizeof(double));
  return out;
}

void PrioritizedReplayBuffer::load_state(const std::string& bytes) {
  if (bytes.size() < sizeof(kTag) || std::memcmp(bytes.data(), kTag, sizeof(kTag)) != 0) {
    throw Error("PrioritizedReplayBuffer::load_state: not a prioritized replay buffer's state");
  }
  std::size_t p = ring_.check(bytes, sizeof(kTag));
  const std::size_t leaves = static_cast<std::size_t>(capacity());
  if (bytes.size() != p + 2 * sizeof(double) + leaves * sizeof(double)) {
    throw Error("PrioritizedReplayBuffer::load_state: the state is malformed");
  }
  ring_.load(bytes, sizeof(kTag));
  std::memcpy(&max_priority_, bytes.data() + p, sizeof(max_priority_));
  std::memcpy(&samples_, bytes.data() + p + sizeof(double), sizeof(samples_));
  std::vector<double> values(leaves);
  std::memcpy(values.data(), bytes.data() + p + 2 * sizeof(double), leaves * sizeof(double));
  tree_.set_leaves(values);
}

}  // namespace convoy
