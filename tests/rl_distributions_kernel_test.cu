// rl/distributions.h inside for_each_index functors, one batch row per index, on every
// backend built: the way PPO and SAC will call them. Each device's results are compared
// with the same functions run row by row on the host.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "rl/distributions.h"
#include "sim/array.h"
#include "sim/parallel.h"
#include "tests/test_util.h"

namespace convoy::rl {
namespace {

constexpr int kActions = 5;
constexpr int kDim = 3;

// Categorical head: log-prob, entropy, backward and a sample for row r.
struct CategoricalRows {
  const float* logits;  // (rows x kActions)
  const int* actions;   // (rows)
  float* log_prob;      // (rows)
  float* entropy;       // (rows)
  float* dlogits;       // (rows x kActions)
  int* sampled;         // (rows)
  CONVOY_HD void operator()(std::int64_t r) const {
    const float* z = logits + r * kActions;
    log_prob[r] = categorical_log_prob(z, kActions, actions[r]);
    entropy[r] = categorical_entropy(z, kActions);
    categorical_backward(z, kActions, actions[r], 1.0f, 0.01f, dlogits + r * kActions);
    PhiloxStream rng(17, static_cast<std::uint64_t>(r), 0, 0, RngPurpose::kTest);
    sampled[r] = categorical_sample(z, kActions, rng);
  }
};

// SAC actor head: noise, squashed sample, log-prob and its backward for row r.
struct SquashedRows {
  const float* mean;     // (rows x kDim)
  const float* log_std;  // (rows x kDim)
  float* action;         // (rows x kDim)
  float* log_prob;       // (rows)
  float* dmean;          // (rows x kDim)
  float* dlog_std;       // (rows x kDim)
  CONVOY_HD void operator()(std::int64_t r) const {
    float eps[kDim];
    PhiloxStream rng(23, static_cast<std::uint64_t>(r), 0, 0, RngPurpose::kTest);
    normal_noise(rng, kDim, eps);
    const float* mu = mean + r * kDim;
    const float* ls = log_std + r * kDim;
    log_prob[r] = squashed_gaussian_rsample(mu, ls, eps, kDim, action + r * kDim);
    squashed_gaussian_backward(mu, ls, eps, kDim, 0.2f, action + r * kDim, dmean + r * kDim,
                               dlog_std + r * kDim);
  }
};

std::vector<float> ramp(std::int64_t n, float scale) {
  std::vector<float> v(n);
  for (std::int64_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.7f * i + 0.3f);
  return v;
}

class DistributionKernel : public ::testing::TestWithParam<std::string> {};

TEST_P(DistributionKernel, RowsMatchTheHost) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  const std::int64_t rows = 4096;
  const std::vector<float> logits = ramp(rows * kActions, 2.0f);
  std::vector<int> actions(rows);
  for (std::int64_t r = 0; r < rows; ++r) actions[r] = static_cast<int>(r % kActions);
  const std::vector<float> mean = ramp(rows * kDim, 1.5f), log_std = ramp(rows * kDim, 0.8f);

  DeviceArray<float> d_logits(device, logits), d_mean(device, mean), d_log_std(device, log_std);
  DeviceArray<int> d_actions(device, actions), d_sampled(device, rows);
  DeviceArray<float> d_lp(device, rows), d_ent(device, rows), d_dlogits(device, rows * kActions);
  DeviceArray<float> d_action(device, rows * kDim), d_slp(device, rows);
  DeviceArray<float> d_dmean(device, rows * kDim), d_dls(device, rows * kDim);
  d_dlogits.zero();
  d_dmean.zero();
  d_dls.zero();
  for_each_index(device, rows,
                 CategoricalRows{d_logits.data(), d_actions.data(), d_lp.data(), d_ent.data(),
                                 d_dlogits.data(), d_sampled.data()});
  for_each_index(device, rows,
                 SquashedRows{d_mean.data(), d_log_std.data(), d_action.data(), d_slp.data(),
                              d_dmean.data(), d_dls.data()});
  synchronize(device);

  // the same functors on the host, serially
  std::vector<float> lp(rows), ent(rows), dlogits(rows * kActions, 0.f);
  std::vector<int> sampled(rows);
  std::vector<float> action(rows * kDim), slp(rows), dmean(rows * kDim, 0.f), dls(rows * kDim, 0.f);
  const CategoricalRows cat{logits.data(), actions.data(), lp.data(),
                            ent.data(),    dlogits.data(), sampled.data()};
  const SquashedRows sq{mean.data(), log_std.data(), action.data(),
                        slp.data(),  dmean.data(),   dls.data()};
  for (std::int64_t r = 0; r < rows; ++r) {
    cat(r);
    sq(r);
  }

  // the CPU backend runs the same code: identical; CUDA's libm differs in the last bits
  const float tol = device.is_cpu() ? 0.0f : 1e-4f;
  auto near = [&](const std::vector<float>& got, const std::vector<float>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], tol * (1.0f + std::fabs(want[i]))) << i;
    }
  };
  near(d_lp.to_host(), lp);
  near(d_ent.to_host(), ent);
  near(d_dlogits.to_host(), dlogits);
  near(d_action.to_host(), action);
  near(d_slp.to_host(), slp);
  near(d_dmean.to_host(), dmean);
  near(d_dls.to_host(), dls);
  const auto got_sampled = d_sampled.to_host();
  std::int64_t differ = 0;
  for (std::int64_t r = 0; r < rows; ++r) differ += got_sampled[r] != sampled[r];
  EXPECT_LE(differ, device.is_cpu() ? 0 : 2);  // a uniform within rounding of a CDF step
  // the values are sane: entropies within [0, log n], log-probs negative
  for (std::int64_t r = 0; r < rows; ++r) {
    ASSERT_GE(ent[r], 0.0f);
    ASSERT_LE(ent[r], std::log(float(kActions)) + 1e-6f);
    ASSERT_LT(lp[r], 0.0f);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DistributionKernel, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace convoy::rl
