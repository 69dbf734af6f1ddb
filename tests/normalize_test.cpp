// rl/normalize.h: running statistics against a two-pass computation, merging two halves equal
// to one pass over both, the clipped observation transform, the reward scaler against its
// definition; the device version of the running statistics (rl/ppo_kernels.h's rms_update)
// against them. (PPO with norm_obs / norm_reward: tests/ppo_test.cpp.)
#include "rl/normalize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "rl/ppo_kernels.h"
#include "sim/array.h"
#include "sim/error.h"

namespace convoy::rl {
namespace {

// mean and population variance of `rows` rows, per column, the textbook two-pass way
void two_pass(const std::vector<double>& x, int dim, std::vector<double>& mean,
              std::vector<double>& var) {
  const std::size_t rows = x.size() / dim;
  mean.assign(dim, 0.0);
  var.assign(dim, 0.0);
  for (std::size_t i = 0; i < rows; ++i)
    for (int k = 0; k < dim; ++k) mean[k] += x[i * dim + k] / rows;
  for (std::size_t i = 0; i < rows; ++i)
    for (int k = 0; k < dim; ++k) var[k] += (x[i * dim + k] - mean[k]) * (x[i * dim + k] - mean[k]);
  for (int k = 0; k < dim; ++k) var[k] /= rows;
}

std::vector<double> samples(std::uint64_t seed, std::size_t rows, int dim) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> d(0.0, 1.0);
  std::vector<double> x(rows * dim);
  for (std::size_t i = 0; i < rows; ++i)
    for (int k = 0; k < dim; ++k) x[i * dim + k] = 100.0 * k + (k + 1) * 3.0 * d(gen);
  return x;
}

void expect_close(const RunningMeanStd& r, const std::vector<double>& mean,
                  const std::vector<double>& var, double rel) {
  for (std::size_t k = 0; k < mean.size(); ++k) {
    EXPECT_NEAR(r.mean[k], mean[k], rel * (1.0 + std::fabs(mean[k]))) << k;
    EXPECT_NEAR(r.var[k], var[k], rel * var[k]) << k;
  }
}

TEST(RunningMeanStd, BatchesMatchTwoPassAndMergeLikeOnePass) {
  const int dim = 3;
  const std::vector<double> x = samples(3, 1000, dim);
  std::vector<double> mean, var;
  two_pass(x, dim, mean, var);
  // uneven batches, one after another
  RunningMeanStd seq(dim);
  const std::size_t cuts[] = {0, 1, 8, 300, 301, 777, 1000};
  for (int c = 0; c + 1 < 7; ++c) {
    seq.update(x.data() + cuts[c] * dim, static_cast<std::int64_t>(cuts[c + 1] - cuts[c]));
  }
  EXPECT_EQ(seq.count, 1000.0);
  expect_close(seq, mean, var, 1e-12);
  // two "ranks" over halves, merged, against one pass over both and the sequential result
  RunningMeanStd a(dim), b(dim), all(dim);
  a.update(x.data(), 400);
  b.update(x.data() + 400 * dim, 600);
  all.update(x.data(), 1000);
  RunningMeanStd ab = a;
  ab.merge(b);
  EXPECT_EQ(ab.count, 1000.0);
  expect_close(ab, all.mean, all.var, 1e-12);
  expect_close(ab, seq.mean, seq.var, 1e-12);
  // merging is symmetric, and an empty side is exact
  RunningMeanStd ba = b;
  ba.merge(a);
  expect_close(ba, ab.mean, ab.var, 1e-12);
  RunningMeanStd empty(dim);
  empty.merge(a);
  EXPECT_EQ(empty.mean, a.mean);
  EXPECT_EQ(empty.var, a.var);
  a.merge(RunningMeanStd(dim));
  EXPECT_EQ(empty.mean, a.mean);
}

// rms_update on the CPU is RunningMeanStd::update bit for bit (PPO's CPU runs keep their bits).
// Its CUDA path (each column's batch moments from row ranges reduced in parallel, then merged)
// runs here on the CPU with several chunk counts, empty ranges included: it sums in another
// order (Welford and Chan's merges instead of two passes), so it agrees within 1e-12
// relative: these batches (up to 1000 rows, mean / std up to 25) differ by under 1e-15, and a
// mistake in the formulas by far more.
template <class X>
void expect_rms_update_matches_host(int dim) {
  const std::vector<double> xd = samples(5, 1000, dim);
  const std::vector<X> x(xd.begin(), xd.end());
  const std::size_t cuts[] = {0, 1, 8, 300, 301, 777, 1000};
  const Device cpu = Device::cpu();
  RunningMeanStd host(dim);
  DeviceArray<double> mean(cpu, host.mean), var(cpu, host.var), none;
  double count = 0;
  for (int c = 0; c + 1 < 7; ++c) {
    const auto rows = static_cast<std::int64_t>(cuts[c + 1] - cuts[c]);
    host.update(x.data() + cuts[c] * dim, rows);
    ppo_kernels::rms_update(cpu, x.data() + cuts[c] * dim, rows, dim, count, mean.data(),
                            var.data(), none);
    count += static_cast<double>(rows);
    EXPECT_EQ(mean.to_host(), host.mean) << "batch " << c;
    EXPECT_EQ(var.to_host(), host.var) << "batch " << c;
  }
  for (int chunks : {1, 2, 7, 64, 2000}) {
    DeviceArray<double> cm(cpu, RunningMeanStd(dim).mean), cv(cpu, RunningMeanStd(dim).var);
    DeviceArray<double> scratch(cpu, ppo_kernels::rms_chunked_scratch_size(dim, chunks));
    count = 0;
    for (int c = 0; c + 1 < 7; ++c) {
      const auto rows = static_cast<std::int64_t>(cuts[c + 1] - cuts[c]);
      ppo_kernels::rms_update_chunked(cpu, x.data() + cuts[c] * dim, rows, dim, count, cm.data(),
                                      cv.data(), scratch, chunks);
      count += static_cast<double>(rows);
    }
    RunningMeanStd got(dim);
    got.mean = cm.to_host();
    got.var = cv.to_host();
    SCOPED_TRACE(chunks);
    expect_close(got, host.mean, host.var, 1e-12);
  }
  // a scratch too small for the chunks is an error, not an overrun
  DeviceArray<double> small(cpu, ppo_kernels::rms_chunked_scratch_size(dim, 4));
  EXPECT_THROW(ppo_kernels::rms_update_chunked(cpu, x.data(), 10, dim, 0.0, mean.data(), var.data(),
                                               small, 5),
               Error);
}

TEST(RunningMeanStd, DeviceUpdateMatchesTheHostOne) {
  expect_rms_update_matches_host<float>(4);
  expect_rms_update_matches_host<double>(1);
}

TEST(RunningMeanStd, NormalizesAndClipsAtTen) {
  RunningMeanStd r(2);
  const float x[] = {1.0f, 10.0f, 3.0f, 30.0f};  // mean (2, 20), var (1, 100)
  r.update(x, 2);
  const float in[] = {2.0f, 20.0f, 4.0f, 0.0f, 100.0f, -1000.0f};
  float out[6];
  normalize_obs(r, in, 3, out);
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[1], 0.0f);
  EXPECT_NEAR(out[2], 2.0f, 1e-6f);
  EXPECT_NEAR(out[3], -2.0f, 1e-6f);
  EXPECT_EQ(out[4], 10.0f);  // 98 std away: clipped
  EXPECT_EQ(out[5], -10.0f);
}

// Gymnasium's NormalizeReward: R <- gamma R + r per env, statistics over every R, reward
// divided by sqrt(var(R) + 1e-8); here R also restarts after an episode's last step.
TEST(RewardScaler, ScalesByTheStdOfTheDiscountedReturn) {
  const int n = 3, steps = 50;
  const double gamma = 0.9;
  RewardScaler s(n, gamma);
  std::vector<double> R(n, 0.0), seen;
  std::mt19937_64 gen(9);
  std::uniform_real_distribution<float> u(-1.0f, 4.0f);
  for (int t = 0; t < steps; ++t) {
    float r[n], out[n];
    std::uint8_t term[n] = {0}, trunc[n] = {0};
    for (int i = 0; i < n; ++i) r[i] = u(gen);
    term[0] = t % 7 == 6;
    trunc[1] = t % 11 == 10;
    s.scale(r, term, trunc, out);
    for (int i = 0; i < n; ++i) {
      R[i] = R[i] * gamma + r[i];
      seen.push_back(R[i]);
    }
    std::vector<double> mean, var;
    two_pass(seen, 1, mean, var);
    for (int i = 0; i < n; ++i) {
      const double want = std::clamp(r[i] / std::sqrt(var[0] + 1e-8), -10.0, 10.0);
      EXPECT_NEAR(out[i], want, 1e-5 * (1 + std::fabs(want))) << t << " " << i;
      if (term[i] || trunc[i]) R[i] = 0.0;
    }
    EXPECT_EQ(s.returns, R) << t;
  }
  // a reward many spreads of the returns seen away is clipped: the first step of identical
  // returns has variance 0, so the scale is 1 / sqrt(1e-8)
  RewardScaler fresh(n, gamma);
  float ones[n] = {1.0f, 1.0f, 1.0f}, out[n];
  std::uint8_t no[n] = {0};
  fresh.scale(ones, no, no, out);
  for (int i = 0; i < n; ++i) EXPECT_EQ(out[i], 10.0f);
  RewardScaler fresh_neg(n, gamma);
  float minus[n] = {-1.0f, -1.0f, -1.0f};
  fresh_neg.scale(minus, no, no, out);
  for (int i = 0; i < n; ++i) EXPECT_EQ(out[i], -10.0f);
}

}  // namespace
}  // namespace convoy::rl
