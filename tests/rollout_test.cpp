// GAE over the rollout buffer against hand-computed cases and an independent forward-sum
// reference, on every backend built.
#include "replay/rollout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

class Rollout : public ::testing::TestWithParam<std::string> {};

struct Case {
  std::vector<float> rewards, values, final_values, last_values;
  std::vector<std::uint8_t> term, trunc;
};

std::vector<float> run_gae(const Device& device, std::int64_t T, std::int64_t N, const Case& c,
                           float gamma, float lambda, std::vector<float>* returns = nullptr) {
  RolloutBuffer rb(device, T, N, 1, 1);
  rb.rewards.copy_from_host(c.rewards);
  rb.values.copy_from_host(c.values);
  rb.final_values.copy_from_host(c.final_values);
  rb.terminated.copy_from_host(c.term);
  rb.truncated.copy_from_host(c.trunc);
  DeviceArray<float> last(device, c.last_values);
  rb.compute_gae(last.data(), gamma, lambda);
  if (returns) *returns = rb.returns.to_host();
  return rb.advantages.to_host();
}

TEST_P(Rollout, HandComputedTruncationAndTermination) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  // T = 3, one env; rewards 1, values 0.5, last value 2; gamma 0.9, lambda 0.95.
  Case c{{1, 1, 1}, {0.5f, 0.5f, 0.5f}, {0, 10, 0}, {2}, {0, 0, 0}, {0, 1, 0}};
  // truncated at t=1 with V(final obs) = 10:
  //   A2 = 1 + 0.9*2 - 0.5 = 2.3; A1 = 1 + 0.9*10 - 0.5 = 9.5 (no carry across the end);
  //   A0 = (1 + 0.9*0.5 - 0.5) + 0.9*0.95*9.5 = 0.95 + 8.1225 = 9.0725
  std::vector<float> ret;
  auto a = run_gae(device, 3, 1, c, 0.9f, 0.95f, &ret);
  EXPECT_NEAR(a[2], 2.3, 1e-5);
  EXPECT_NEAR(a[1], 9.5, 1e-5);
  EXPECT_NEAR(a[0], 9.0725, 1e-5);
  EXPECT_NEAR(ret[0], 9.5725, 1e-5);
  // terminated at t=1 instead: A1 = 1 + 0 - 0.5 = 0.5; A0 = 0.95 + 0.855*0.5 = 1.3775
  c.trunc = {0, 0, 0};
  c.term = {0, 1, 0};
  a = run_gae(device, 3, 1, c, 0.9f, 0.95f);
  EXPECT_NEAR(a[1], 0.5, 1e-5);
  EXPECT_NEAR(a[0], 1.3775, 1e-5);
}

TEST_P(Rollout, MatchesForwardSumReferenceOnRandomData) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  const std::int64_t T = 64, N = 37;
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(-1, 1);
  Case c;
  for (std::int64_t k = 0; k < T * N; ++k) {
    c.rewards.push_back(u(gen));
    c.values.push_back(u(gen));
    c.final_values.push_back(u(gen));
    const unsigned r = gen() % 20;
    c.term.push_back(r == 0);
    c.trunc.push_back(r == 1 || r == 2);
  }
  for (std::int64_t i = 0; i < N; ++i) c.last_values.push_back(u(gen));
  const double gamma = 0.99, lambda = 0.95;
  const auto a = run_gae(device, T, N, c, static_cast<float>(gamma), static_cast<float>(lambda));
  // reference: A_t = sum_k (gamma lambda)^k delta_{t+k}, summed forwards until the episode ends
  for (std::int64_t i = 0; i < N; ++i) {
    auto next_value = [&](std::int64_t t) -> double {
      const std::int64_t k = t * N + i;
      if (c.term[k]) return 0.0;
      if (c.trunc[k]) return c.final_values[k];
      return t == T - 1 ? c.last_values[i] : c.values[k + N];
    };
    for (std::int64_t t = 0; t < T; ++t) {
      double sum = 0.0, w = 1.0;
      for (std::int64_t s = t; s < T; ++s) {
        const std::int64_t k = s * N + i;
        sum += w * (c.rewards[k] + gamma * next_value(s) - c.values[k]);
        if (c.term[k] || c.trunc[k]) break;
        w *= gamma * lambda;
      }
      ASSERT_NEAR(a[t * N + i], sum, 1e-4 * (1 + std::fabs(sum))) << "t " << t << " env " << i;
    }
  }
}

TEST_P(Rollout, LambdaOneIsMonteCarloAndZeroIsOneStep) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  Case c{{1, 2, 3}, {0.1f, 0.2f, 0.3f}, {0, 0, 0}, {4}, {0, 0, 0}, {0, 0, 0}};
  std::vector<float> ret;
  run_gae(device, 3, 1, c, 0.5f, 1.0f, &ret);
  EXPECT_NEAR(ret[0], 1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 4, 1e-6);  // discounted return
  const auto a = run_gae(device, 3, 1, c, 0.5f, 0.0f);
  EXPECT_NEAR(a[0], 1 + 0.5 * 0.2 - 0.1, 1e-6);  // TD(0) error
}

TEST_P(Rollout, BadSettingsAreClearErrors) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  EXPECT_THROW(RolloutBuffer(device, 0, 4, 1, 1), Error);
  RolloutBuffer rb(device, 2, 2, 1, 1);
  DeviceArray<float> last(device, 2);
  try {
    rb.compute_gae(last.data(), 1.5f, 0.9f);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gamma 1.5"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Rollout, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace convoy
