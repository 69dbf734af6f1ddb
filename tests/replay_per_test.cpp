// replay/sum_tree.h and replay/prioritized.h: prefix lookups against a brute-force scan on
// trees with zeros, ties and tiny priorities; duplicate slots in one update (last wins) on
// both update paths; the root against a fresh rebuild after 10^7 updates; sampling
// frequencies against p^alpha / sum; importance weights against (N P(i))^-beta over the
// buffer's maximum; alpha applied once; wrap-around; determinism over thread counts; the
// checkpoint round trip; bad settings; and CPU-vs-CUDA agreement (skipped without a GPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "replay/prioritized.h"
#include "replay/sum_tree.h"
#include "sim/error.h"
#include "sim/rng.h"
#include "test_util.h"

namespace convoy {
namespace {

// `rows` transitions whose reward is `tag + row` (obs, next obs and action derived from it).
struct Step {
  std::vector<float> obs, actions, rewards;
  std::vector<std::uint8_t> flags;
  Transitions view() const {
    Transitions t;
    t.rows = static_cast<std::int64_t>(rewards.size());
    t.obs = t.next_obs = t.final_obs = obs.data();
    t.actions = actions.data();
    t.rewards = rewards.data();
    t.terminated = t.truncated = flags.data();
    return t;
  }
};

Step step(int rows, float tag) {
  Step s;
  for (int i = 0; i < rows; ++i) {
    s.obs.push_back(tag + i);
    s.actions.push_back(tag + i + 0.25f);
    s.rewards.push_back(tag + i);
    s.flags.push_back(0);
  }
  return s;
}

// Host data on `device`, for the calls that take device pointers.
template <class T>
DeviceArray<T> on(const Device& device, const std::vector<T>& v) {
  return DeviceArray<T>(device, v);
}

void set_leaves(SumTree& tree, const std::vector<std::int64_t>& slots,
                const std::vector<double>& values) {
  const Device& d = tree.device();
  auto s = on(d, slots);
  auto v = on(d, values);
  tree.update(s.data(), v.data(), static_cast<std::int64_t>(slots.size()));
}

std::vector<std::int64_t> find(const SumTree& tree, const std::vector<double>& u) {
  auto du = on(tree.device(), u);
  DeviceArray<std::int64_t> out(tree.device(), static_cast<std::int64_t>(u.size()));
  tree.find(du.data(), du.size(), out.data());
  return out.to_host();
}

// Dyadic priorities from 2^-30 to 2^10 with zeros and ties: every prefix sum is exact in
// double, so the tree's lookup must equal the brute-force scan bit for bit.
TEST(SumTree, PrefixLookupMatchesBruteForceWithZerosTiesAndTinyPriorities) {
  std::mt19937_64 gen(7);
  for (const std::int64_t capacity : {1, 2, 3, 17, 1000}) {
    SumTree tree(Device::cpu(), capacity);
    std::vector<double> p(static_cast<std::size_t>(capacity));
    std::vector<std::int64_t> slots;
    for (std::int64_t j = 0; j < capacity; ++j) {
      const int kind = static_cast<int>(gen() % 5);
      p[j] = kind == 0 ? 0.0 : kind == 1 ? 0x1p-30 : kind == 2 ? 1.0 : std::ldexp(1.0, gen() % 11);
      slots.push_back(j);
    }
    p[0] = 0.0;  // zeros at both edges, a tiny one between
    p[capacity - 1] = 0.0;
    p[capacity / 2] = 0x1p-30;
    set_leaves(tree, slots, p);
    std::vector<double> prefix(1, 0.0);
    for (double v : p) prefix.push_back(prefix.back() + v);
    const double total = prefix.back();
    ASSERT_EQ(tree.total(), total);
    std::vector<double> u;
    for (std::int64_t j = 0; j <= capacity; ++j) {
      if (prefix[j] < total) u.push_back(prefix[j]);  // every segment edge
    }
    u.push_back(std::nextafter(total, 0.0));
    for (int k = 0; k < 2000; ++k) u.push_back(total * std::ldexp(double(gen() >> 11), -53));
    const auto got = find(tree, u);
    for (std::size_t k = 0; k < u.size(); ++k) {
      // brute force: the slot i with prefix[i] <= u < prefix[i + 1]
      const std::int64_t want =
          std::upper_bound(prefix.begin(), prefix.end(), u[k]) - prefix.begin() - 1;
      ASSERT_EQ(got[k], want) << "capacity " << capacity << " u " << u[k];
      ASSERT_GT(p[got[k]], 0.0);
    }
  }
}

// Duplicate slots in one batch: the last row wins, through the sparse per-level pass (batch
// narrower than the levels) and the whole-level pass (batch wider than them).
TEST(SumTree, DuplicateSlotsInOneUpdateLastOneWins) {
  SumTree small(Device::cpu(), 16);
  set_leaves(small, {3, 5, 3, 3, 5, 7}, {1, 2, 3, 4, 5, 6});
  const auto leaves = small.leaf_values();
  EXPECT_EQ(leaves[3], 4.0);
  EXPECT_EQ(leaves[5], 5.0);
  EXPECT_EQ(leaves[7], 6.0);
  EXPECT_EQ(small.total(), 15.0);
  EXPECT_EQ(small.min_value(), 4.0);

  std::mt19937_64 gen(3);
  for (const auto& [capacity, batch] : {std::pair<int, int>{1 << 16, 300}, {1000, 65536}}) {
    SumTree tree(Device::cpu(), capacity);
    std::vector<double> want(static_cast<std::size_t>(capacity), 0.0);
    for (int round = 0; round < 3; ++round) {
      std::vector<std::int64_t> slots;
      std::vector<double> values;
      for (int r = 0; r < batch; ++r) {
        slots.push_back(static_cast<std::int64_t>(gen() % (capacity < 500 ? capacity : 500)));
        values.push_back(static_cast<double>(gen() % 1000) / 8.0);
        want[slots.back()] = values.back();
      }
      set_leaves(tree, slots, values);
    }
    EXPECT_EQ(tree.leaf_values(), want);
    SumTree fresh(Device::cpu(), capacity);
    fresh.set_leaves(want);
    EXPECT_EQ(tree.total(), fresh.total());
    EXPECT_EQ(tree.min_value(), fresh.min_value());
  }
}

// Parents are recomputed from their children, never adjusted by deltas, so after 10^7
// updates the root is a fresh rebuild's bit for bit and within 1e-12 of an exact sum.
TEST(SumTree, RootMatchesAFreshRecomputeAfterTenMillionUpdates) {
  const std::int64_t capacity = 1 << 20, batch = 1 << 16, rounds = 153;  // 1.003e7 updates
  SumTree tree(Device::cpu(), capacity);
  std::mt19937_64 gen(11);
  std::vector<std::int64_t> slots(batch);
  std::vector<double> values(batch);
  DeviceArray<std::int64_t> d_slots(Device::cpu(), batch);
  DeviceArray<double> d_values(Device::cpu(), batch);
  for (std::int64_t round = 0; round < rounds; ++round) {
    for (std::int64_t r = 0; r < batch; ++r) {
      slots[r] = static_cast<std::int64_t>(gen() % capacity);
      // log-uniform over 12 decades, as |td| errors spread
      values[r] = std::pow(10.0, -8.0 + 12.0 * std::ldexp(double(gen() >> 11), -53));
    }
    d_slots.copy_from_host(slots);
    d_values.copy_from_host(values);
    tree.update(d_slots.data(), d_values.data(), batch);
  }
  const auto leaves = tree.leaf_values();
  SumTree fresh(Device::cpu(), capacity);
  fresh.set_leaves(leaves);
  EXPECT_EQ(tree.total(), fresh.total());
  long double exact = 0;
  double min = std::numeric_limits<double>::infinity();
  for (double v : leaves) {
    exact += v;
    if (v > 0) min = std::min(min, v);
  }
  EXPECT_LT(std::fabs(static_cast<long double>(tree.total()) - exact) / exact, 1e-12L);
  EXPECT_EQ(tree.min_value(), min);
}

TEST(SumTree, BadCapacityIsAClearError) {
  EXPECT_NE(test::error_message([] { SumTree(Device::cpu(), 0); }).find("capacity = 0"),
            std::string::npos);
}

// A buffer of `n` transitions with priorities set from `td` through update_priorities.
PrioritizedReplayBuffer filled(const Device& device, int capacity, const std::vector<float>& td,
                               const PrioritizedConfig& c) {
  PrioritizedReplayBuffer rb(device, capacity, 1, 1, c);
  const int n = static_cast<int>(td.size());
  rb.add(step(n, 0).view());
  std::vector<std::int64_t> slots(n);
  for (int j = 0; j < n; ++j) slots[j] = j;
  auto ds = on(device, slots);
  auto dt = on(device, td);
  rb.update_priorities(ds.data(), dt.data(), n);
  return rb;
}

std::vector<float> spread_td(int n) {
  std::vector<float> td(n);
  for (int j = 0; j < n; ++j) td[j] = (j % 7 == 3) ? 0.0f : 0.05f * static_cast<float>(j % 23 + 1);
  return td;
}

// 10^6 stratified draws over 100 slots: each slot's frequency within 0.01 of
// p^alpha / sum p^alpha, Pearson's chi-square under its 99.9% quantile (148.2 for 99 degrees
// of freedom), and zero-priority slots never drawn.
TEST(PrioritizedReplay, FrequenciesMatchPriorities) {
  const int n = 100, calls = 10000;
  PrioritizedConfig c;
  c.alpha = 0.6;
  c.eps = 0.0;  // so the td = 0 slots have priority 0
  const auto td = spread_td(n);
  auto rb = filled(Device::cpu(), 128, td, c);
  std::vector<double> p(n);
  double sum = 0;
  for (int j = 0; j < n; ++j) sum += p[j] = std::pow(static_cast<double>(td[j]), c.alpha);
  std::vector<double> counts(n, 0.0);
  ReplayBatch b;
  for (int call = 0; call < calls; ++call) {
    rb.sample(n, 5, static_cast<std::uint64_t>(call), b);
    for (std::int64_t i : b.indices.to_host()) counts[static_cast<std::size_t>(i)] += 1;
  }
  const double draws = static_cast<double>(n) * calls;
  double chi2 = 0, worst = 0;
  int cells = 0;
  for (int j = 0; j < n; ++j) {
    const double expected = draws * p[j] / sum;
    worst = std::max(worst, std::fabs(counts[j] / draws - p[j] / sum));
    if (p[j] == 0) {
      EXPECT_EQ(counts[j], 0) << "slot " << j;
      continue;
    }
    chi2 += (counts[j] - expected) * (counts[j] - expected) / expected;
    ++cells;
  }
  EXPECT_LT(worst, 0.01);
  EXPECT_LT(chi2, 148.2) << cells << " cells";
}

TEST(PrioritizedReplay, WeightsFollowTheFormulaOverTheBuffersMaximum) {
  const int n = 50;
  PrioritizedConfig c;
  c.alpha = 0.7;
  c.beta0 = 0.4;
  c.beta_steps = 4;
  const auto td = spread_td(n);
  auto rb = filled(Device::cpu(), 64, td, c);
  std::vector<double> p(n);
  double sum = 0;
  for (int j = 0; j < n; ++j) {
    sum += p[j] = std::pow(std::fabs(static_cast<double>(td[j])) + c.eps, c.alpha);
  }
  const double pmin = *std::min_element(p.begin(), p.end());
  ReplayBatch b;
  for (int call = 0; call < 6; ++call) {
    const double beta = 0.4 + 0.6 * std::min(1.0, call / 4.0);
    EXPECT_DOUBLE_EQ(rb.beta(), beta);
    rb.sample(32, 1, static_cast<std::uint64_t>(call), b);
    const auto idx = b.indices.to_host();
    const auto w = b.weights.to_host();
    for (int i = 0; i < 32; ++i) {
      const double mine = std::pow(n * p[idx[i]] / sum, -beta);
      const double most = std::pow(n * pmin / sum, -beta);  // the buffer's largest weight
      EXPECT_NEAR(w[i], mine / most, 1e-6) << "row " << i;
      EXPECT_LE(w[i], 1.0f);
    }
  }
}

TEST(PrioritizedReplay, AlphaIsAppliedOnceToUpdatesAndNewTransitions) {
  PrioritizedConfig c;
  c.alpha = 0.6;
  c.eps = 0.01;
  PrioritizedReplayBuffer rb(Device::cpu(), 16, 1, 1, c);
  rb.add(step(4, 0).view());
  for (double v : rb.tree().leaf_values()) EXPECT_TRUE(v == 1.0 || v == 0.0);  // 1^alpha
  auto slot = on(Device::cpu(), std::vector<std::int64_t>{1});
  auto td = on(Device::cpu(), std::vector<float>{-2.5f});
  rb.update_priorities(slot.data(), td.data(), 1);
  const double raw = 2.5 + 0.01;
  EXPECT_EQ(rb.tree().leaf_values()[1], std::pow(raw, 0.6));
  EXPECT_EQ(rb.max_priority(), raw);
  rb.add(step(1, 10).view());  // slot 4: the largest raw priority, raised to alpha once
  EXPECT_EQ(rb.tree().leaf_values()[4], std::pow(raw, 0.6));
  EXPECT_EQ(rb.tree().leaf_values()[0], 1.0);
}

TEST(PrioritizedReplay, WrapAroundOverwritesTheOldestAtTheMaxPriority) {
  PrioritizedReplayBuffer rb(Device::cpu(), 8, 1, 1);
  rb.add(step(6, 0).view());  // slots 0..5: rewards 0..5
  auto slots = on(Device::cpu(), std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
  auto td = on(Device::cpu(), std::vector<float>{0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 3.0f});
  rb.update_priorities(slots.data(), td.data(), 6);
  rb.add(step(4, 100).view());  // slots 6, 7, 0, 1: rewards 100..103
  EXPECT_EQ(rb.size(), 8);
  EXPECT_EQ(rb.next_slot(), 2);
  const std::vector<float> want = {102, 103, 2, 3, 4, 5, 100, 101};
  EXPECT_EQ(rb.ring().rewards().to_host(), want);
  const auto leaves = rb.tree().leaf_values();
  const double top = std::pow(3.0 + 1e-6, 0.6);
  for (int j : {6, 7, 0, 1, 5}) EXPECT_DOUBLE_EQ(leaves[j], top) << j;
  ReplayBatch b;
  rb.sample(8, 3, 0, b);
  const auto idx = b.indices.to_host();
  const auto r = b.rewards.to_host();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(r[i], want[idx[i]]);
}

TEST(PrioritizedReplay, DuplicateIndicesInOneUpdateLastOneWins) {
  PrioritizedConfig c;
  c.alpha = 1.0;
  c.eps = 0.0;
  PrioritizedReplayBuffer rb(Device::cpu(), 8, 1, 1, c);
  rb.add(step(8, 0).view());
  auto slots = on(Device::cpu(), std::vector<std::int64_t>{2, 5, 2, 2, 5});
  auto td = on(Device::cpu(), std::vector<float>{1, 2, 3, 0.5f, 4});
  rb.update_priorities(slots.data(), td.data(), 5);
  const auto leaves = rb.tree().leaf_values();
  EXPECT_EQ(leaves[2], 0.5);
  EXPECT_EQ(leaves[5], 4.0);
  EXPECT_EQ(rb.max_priority(), 4.0);  // the maximum sees every row, winners or not
}

TEST(PrioritizedReplay, SameKeySameBatchAtOneAndTwoThreads) {
  auto rb = filled(Device::cpu(), 1024, spread_td(1000), PrioritizedConfig{});
  const int threads = cpu_threads();
  ReplayBatch a, b, c;
  set_cpu_threads(1);
  rb.sample(512, 9, 3, a);
  set_cpu_threads(2);
  rb.sample(512, 9, 3, b);
  rb.sample(512, 9, 4, c);
  set_cpu_threads(threads);
  EXPECT_EQ(a.indices.to_host(), b.indices.to_host());
  EXPECT_EQ(a.obs.to_host(), b.obs.to_host());
  EXPECT_NE(a.indices.to_host(), c.indices.to_host());
  // weights differ only by the annealed beta
  EXPECT_NE(a.weights.to_host(), b.weights.to_host());
}

// The CPU draws rows in groups that descend the tree together (SumTreeView::find_group):
// every row's slot is still find() of that row's stratified point, at batch sizes that leave
// a partial last group.
TEST(PrioritizedReplay, GroupedDrawsAreFindOfEachRowsPoint) {
  auto rb = filled(Device::cpu(), 1000, spread_td(1000), PrioritizedConfig{});
  const SumTreeView tree = rb.tree().view();
  for (const std::int64_t batch : {1, 3, 4, 5, 7, 64, 257}) {
    ReplayBatch b;
    rb.sample(batch, 11, 5, b);
    const std::vector<std::int64_t> got = b.indices.to_host();
    for (std::int64_t i = 0; i < batch; ++i) {
      PhiloxStream rng(11, static_cast<std::uint64_t>(i), 0, 5, RngPurpose::kReplay);
      double u = (static_cast<double>(i) + rng.uniform_double()) * (tree.total() / batch);
      if (u >= tree.total()) u = std::nextafter(tree.total(), 0.0);
      ASSERT_EQ(got[static_cast<std::size_t>(i)], tree.find(u))
          << "batch " << batch << " row " << i;
    }
  }
}

TEST(PrioritizedReplay, CheckpointRoundTripContinuesExactly) {
  auto rb = filled(Device::cpu(), 64, spread_td(40), PrioritizedConfig{});
  ReplayBatch b0;
  rb.sample(16, 1, 0, b0);
  const std::string state = rb.save_state();
  ReplayBatch a, b;
  rb.sample(16, 1, 1, a);
  PrioritizedReplayBuffer other(Device::cpu(), 64, 1, 1);
  other.load_state(state);
  other.sample(16, 1, 1, b);
  EXPECT_EQ(a.indices.to_host(), b.indices.to_host());
  EXPECT_EQ(a.weights.to_host(), b.weights.to_host());
  EXPECT_EQ(other.max_priority(), rb.max_priority());
  PrioritizedReplayBuffer wrong(Device::cpu(), 32, 1, 1);
  EXPECT_THROW(wrong.load_state(state), Error);
  UniformReplayBuffer uniform(Device::cpu(), 64, 1, 1);
  EXPECT_THROW(uniform.load_state(state), Error);
}

TEST(PrioritizedReplay, BadSettingsNameTheValueAndTheRange) {
  const Device cpu = Device::cpu();
  auto message = [&](PrioritizedConfig c, std::int64_t capacity = 8) {
    return test::error_message([&] { PrioritizedReplayBuffer(cpu, capacity, 1, 1, c); });
  };
  PrioritizedConfig c;
  c.alpha = -0.5;
  EXPECT_NE(message(c).find("alpha = -0.5"), std::string::npos) << message(c);
  EXPECT_NE(message(c).find(">= 0"), std::string::npos) << message(c);
  c = {};
  c.beta0 = 1.5;
  EXPECT_NE(message(c).find("beta0 = 1.5"), std::string::npos) << message(c);
  EXPECT_NE(message(c).find("[0, 1]"), std::string::npos) << message(c);
  c = {};
  c.eps = -1;
  EXPECT_NE(message(c).find("eps = -1"), std::string::npos) << message(c);
  c = {};
  c.beta_steps = 0;
  EXPECT_NE(message(c).find("beta_steps = 0"), std::string::npos) << message(c);
  EXPECT_NE(message({}, 0).find("capacity = 0"), std::string::npos) << message({}, 0);
  EXPECT_NE(message({}, (std::int64_t(1) << 31) + 1).find("allowed: 1..2147483648"),
            std::string::npos);
  PrioritizedReplayBuffer rb(cpu, 8, 1, 1);
  ReplayBatch b;
  EXPECT_NE(test::error_message([&] { rb.sample(1, 1, 1, b); }).find("empty"), std::string::npos);
  rb.add(step(3, 0).view());
  const std::string big = test::error_message([&] { rb.sample(9, 1, 1, b); });
  EXPECT_NE(big.find("batch_size = 9"), std::string::npos) << big;
  EXPECT_NE(big.find("1..3"), std::string::npos) << big;
}

// A buffer too large for the device's free memory fails in its constructor, before any
// allocation, naming the bytes it needs (ring plus trees) and the bytes free.
TEST(PrioritizedReplay, TooLargeForFreeMemoryNamesBothByteCounts) {
  const std::int64_t capacity = std::int64_t(1) << 31, obs_dim = std::int64_t(1) << 20;
  const std::uint64_t ring = static_cast<std::uint64_t>(capacity) * ((2 * obs_dim + 1 + 1) * 4 + 1);
  const std::uint64_t tree = 2 * 2 * static_cast<std::uint64_t>(capacity) * sizeof(double);
  EXPECT_EQ(SumTree::bytes(capacity), tree);
  std::vector<Device> devices{Device::cpu()};
  if (cuda_device_count() > 0) devices.push_back(Device::cuda(0));
  for (const Device& d : devices) {
    EXPECT_GT(free_bytes(d), 0u) << d.str();
    const std::uint64_t allocations = cuda_call_counts().allocations;
    const std::string per =
        test::error_message([&] { PrioritizedReplayBuffer(d, capacity, obs_dim, 1); });
    EXPECT_EQ(cuda_call_counts().allocations, allocations) << "allocated before the check";
    EXPECT_NE(per.find("PrioritizedReplayBuffer: capacity 2147483648 x obs_dim 1048576"),
              std::string::npos)
        << per;
    EXPECT_NE(per.find("(" + std::to_string(ring + tree) + " bytes) but only "), std::string::npos)
        << per;
    EXPECT_NE(per.find(" bytes) are free on " + d.str()), std::string::npos) << per;
    const std::string uniform =
        test::error_message([&] { UniformReplayBuffer(d, capacity, obs_dim, 1); });
    EXPECT_NE(uniform.find("UniformReplayBuffer: capacity 2147483648"), std::string::npos)
        << uniform;
    EXPECT_NE(uniform.find("(" + std::to_string(ring) + " bytes) but only "), std::string::npos)
        << uniform;
  }
  // the free count itself: a GiB figure and its bytes, e.g. "only 22.1 GiB (23727... bytes)"
  const std::string msg = test::error_message(
      [&] { require_free_bytes(Device::cpu(), ~std::uint64_t(0), "everything"); });
  EXPECT_EQ(
      msg.rfind("everything needs 17179869184.0 GiB (18446744073709551615 bytes) but only ", 0), 0u)
      << msg;
  EXPECT_NO_THROW(require_free_bytes(Device::cpu(), 1 << 20, "a MiB"));
}

// The same inserts, updates and draws on CUDA and the CPU: equal leaves, sums, minima,
// lookups and samples (alpha 1, so no pow rounds differently on the two).
TEST(PrioritizedReplay, CudaAgreesWithCpu) {
  CONVOY_DEVICE_OR_SKIP(gpu, "cuda");
  PrioritizedConfig c;
  c.alpha = 1.0;
  const auto td = spread_td(3000);
  auto cpu = filled(Device::cpu(), 4096, td, c);
  auto cuda = filled(gpu, 4096, td, c);
  EXPECT_EQ(cpu.tree().leaf_values(), cuda.tree().leaf_values());
  EXPECT_EQ(cpu.tree().total(), cuda.tree().total());
  EXPECT_EQ(cpu.tree().min_value(), cuda.tree().min_value());
  std::vector<double> u;
  for (int k = 0; k < 5000; ++k) u.push_back(cpu.tree().total() * k / 5000.0);
  EXPECT_EQ(find(cpu.tree(), u), find(cuda.tree(), u));
  ReplayBatch a, b;
  cpu.sample(2048, 7, 2, a);
  cuda.sample(2048, 7, 2, b);
  EXPECT_EQ(a.indices.to_host(), b.indices.to_host());
  EXPECT_EQ(a.obs.to_host(), b.obs.to_host());
  const auto wa = a.weights.to_host(), wb = b.weights.to_host();
  for (std::size_t i = 0; i < wa.size(); ++i) EXPECT_NEAR(wa[i], wb[i], 1e-6f * wa[i]);
  // a large update with duplicates through both paths
  std::vector<std::int64_t> slots;
  std::vector<float> more;
  for (int r = 0; r < 20000; ++r) {
    slots.push_back((r * 7919) % 3000);
    more.push_back(0.001f * static_cast<float>(r % 997));
  }
  for (auto* rb : {&cpu, &cuda}) {
    auto ds = on(rb->device(), slots);
    auto dt = on(rb->device(), more);
    rb->update_priorities(ds.data(), dt.data(), static_cast<std::int64_t>(slots.size()));
  }
  EXPECT_EQ(cpu.tree().leaf_values(), cuda.tree().leaf_values());
  EXPECT_EQ(cpu.tree().total(), cuda.tree().total());
}

}  // namespace
}  // namespace convoy
