// rl/distributions.h: values against the textbook formulas, every gradient against finite
// differences in double, sampling frequencies and moments, and the stability of the
// tanh-squash correction where the naive form overflows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "rl/distributions.h"
#include "tests/rl_gradcheck.h"

namespace convoy::rl {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(CategoricalDistribution, ValuesMatchSoftmaxFormulas) {
  const std::vector<double> z{0.3, -1.2, 2.0, 0.0};
  double sum = 0;
  for (double v : z) sum += std::exp(v);
  double h = 0;
  for (int a = 0; a < 4; ++a) {
    const double p = std::exp(z[a]) / sum;
    EXPECT_NEAR(categorical_log_prob(z.data(), 4, a), std::log(p), 1e-15);
    h -= p * std::log(p);
  }
  EXPECT_NEAR(categorical_entropy(z.data(), 4), h, 1e-15);
  // uniform logits: entropy log n; huge logits stay finite
  const std::vector<double> flat(6, 3.0);
  EXPECT_NEAR(categorical_entropy(flat.data(), 6), std::log(6.0), 1e-15);
  const std::vector<float> big{1000.f, 990.f};
  // (float's spacing at 1000 is 6e-5)
  EXPECT_NEAR(categorical_log_prob(big.data(), 2, 1), -10.0 - std::log1p(std::exp(-10.0)), 1.3e-4);
  EXPECT_TRUE(std::isfinite(categorical_entropy(big.data(), 2)));
}

TEST(CategoricalDistribution, GradientsMatchFiniteDifferences) {
  std::vector<double> z{0.3, -1.2, 2.0, 0.0, 0.7};
  const int n = 5;
  double worst = 0;
  for (int a = 0; a < n; ++a) {
    std::vector<double> g(n, 0.0);
    categorical_backward(z.data(), n, a, 1.0, 0.0, g.data());
    const auto num =
        test::numeric_gradient([&] { return categorical_log_prob(z.data(), n, a); }, z);
    worst = std::max(worst, test::max_relative_error(g, num));
  }
  std::vector<double> ge(n, 0.0);
  categorical_backward(z.data(), n, 0, 0.0, 1.0, ge.data());
  const auto num_e = test::numeric_gradient([&] { return categorical_entropy(z.data(), n); }, z);
  const double err_e = test::max_relative_error(ge, num_e);
  // both at once, weighted, accumulating into a non-zero buffer
  std::vector<double> gb(n, 2.0);
  categorical_backward(z.data(), n, 3, -0.7, 0.01, gb.data());
  for (double& v : gb) v -= 2.0;
  const auto num_b = test::numeric_gradient(
      [&] {
        return -0.7 * categorical_log_prob(z.data(), n, 3) +
               0.01 * categorical_entropy(z.data(), n);
      },
      z);
  const double err_b = test::max_relative_error(gb, num_b);
  std::printf("[ gradcheck ] categorical: log_prob %.2e, entropy %.2e, combined %.2e\n", worst,
              err_e, err_b);
  EXPECT_LT(worst, 1e-6);
  EXPECT_LT(err_e, 1e-6);
  EXPECT_LT(err_b, 1e-6);
}

TEST(CategoricalDistribution, SamplesFollowTheProbabilities) {
  const std::vector<float> z{0.5f, -1.0f, 1.5f, 0.0f};
  const int draws = 200000;
  std::vector<int> count(4, 0);
  PhiloxStream rng(11, 0, 0, 0, RngPurpose::kTest);
  for (int k = 0; k < draws; ++k) ++count[categorical_sample(z.data(), 4, rng)];
  for (int a = 0; a < 4; ++a) {
    const double p = std::exp(categorical_log_prob(z.data(), 4, a));
    const double sd = std::sqrt(p * (1 - p) / draws);
    EXPECT_NEAR(double(count[a]) / draws, p, 5 * sd) << a;
  }
  // same stream, same draws
  PhiloxStream r1(5, 3, 0, 0, RngPurpose::kTest), r2(5, 3, 0, 0, RngPurpose::kTest);
  for (int k = 0; k < 100; ++k) {
    ASSERT_EQ(categorical_sample(z.data(), 4, r1), categorical_sample(z.data(), 4, r2));
  }
}

TEST(GaussianDistribution, ValuesMatchTheDensity) {
  const std::vector<double> mu{0.5, -1.0, 2.0}, ls{-0.3, 0.2, 0.0}, x{0.1, -0.4, 2.5};
  double lp = 0, h = 0;
  for (int i = 0; i < 3; ++i) {
    const double s = std::exp(ls[i]);
    lp += std::log(std::exp(-0.5 * std::pow((x[i] - mu[i]) / s, 2)) / (s * std::sqrt(2 * kPi)));
    h += 0.5 * std::log(2 * kPi * std::exp(1.0) * s * s);
  }
  EXPECT_NEAR(gaussian_log_prob(mu.data(), ls.data(), x.data(), 3), lp, 1e-14);
  EXPECT_NEAR(gaussian_entropy(ls.data(), 3), h, 1e-14);
}

TEST(GaussianDistribution, GradientsMatchFiniteDifferences) {
  std::vector<double> mu{0.5, -1.0, 2.0}, ls{-0.3, 0.2, 0.0};
  const std::vector<double> x{0.1, -0.4, 2.5};
  const double glp = 0.8, gent = -0.3;
  auto loss = [&] {
    return glp * gaussian_log_prob(mu.data(), ls.data(), x.data(), 3) +
           gent * gaussian_entropy(ls.data(), 3);
  };
  std::vector<double> dmu(3, 0.0), dls(3, 0.5);
  gaussian_backward(mu.data(), ls.data(), x.data(), 3, glp, gent, dmu.data(), dls.data());
  for (double& v : dls) v -= 0.5;
  const double err_mu = test::max_relative_error(dmu, test::numeric_gradient(loss, mu));
  const double err_ls = test::max_relative_error(dls, test::numeric_gradient(loss, ls));
  std::printf("[ gradcheck ] gaussian: d/mean %.2e, d/log_std %.2e\n", err_mu, err_ls);
  EXPECT_LT(err_mu, 1e-6);
  EXPECT_LT(err_ls, 1e-6);
}

TEST(GaussianDistribution, SamplesHaveTheMeanAndStd) {
  const std::vector<double> mu{1.5, -2.0}, ls{std::log(0.5), std::log(2.0)};
  const int draws = 200000;
  double s1[2] = {0, 0}, s2[2] = {0, 0};
  PhiloxStream rng(3, 1, 0, 0, RngPurpose::kTest);
  std::vector<double> x(2);
  for (int k = 0; k < draws; ++k) {
    gaussian_sample(mu.data(), ls.data(), 2, rng, x.data());
    for (int i = 0; i < 2; ++i) {
      s1[i] += x[i];
      s2[i] += x[i] * x[i];
    }
  }
  for (int i = 0; i < 2; ++i) {
    const double m = s1[i] / draws, sd = std::sqrt(s2[i] / draws - m * m);
    const double want_sd = std::exp(ls[i]);
    EXPECT_NEAR(m, mu[i], 5 * want_sd / std::sqrt(draws)) << i;
    EXPECT_NEAR(sd, want_sd, 0.01 * want_sd) << i;
  }
}

TEST(SquashedGaussianDistribution, LogProbIsTheChangeOfVariables) {
  const std::vector<double> mu{0.3, -0.8}, ls{-0.5, 0.1}, eps{0.4, -1.3};
  std::vector<double> a(2);
  const double lp = squashed_gaussian_rsample(mu.data(), ls.data(), eps.data(), 2, a.data());
  double want = 0;
  for (int i = 0; i < 2; ++i) {
    const double s = std::exp(ls[i]), u = mu[i] + s * eps[i];
    EXPECT_NEAR(a[i], std::tanh(u), 1e-16);
    want += -0.5 * eps[i] * eps[i] - std::log(s) - 0.5 * std::log(2 * kPi) -
            std::log(1 - std::tanh(u) * std::tanh(u));
  }
  EXPECT_NEAR(lp, want, 1e-13);
  // far out in the tails the naive log(1 - tanh^2) is log(0); the stable form is not
  const std::vector<float> mu_far{20.0f, -30.0f}, ls0{0.0f, 0.0f}, eps0{0.0f, 0.0f};
  std::vector<float> af(2);
  const float lpf = squashed_gaussian_rsample(mu_far.data(), ls0.data(), eps0.data(), 2, af.data());
  // log(1 - tanh^2 u) = log(4) - 2|u| + O(e^-2|u|)
  const double want_far = -std::log(2 * kPi) - (std::log(4.0) - 40.0) - (std::log(4.0) - 60.0);
  EXPECT_TRUE(std::isfinite(lpf));
  EXPECT_NEAR(lpf, want_far, 1e-4);
  EXPECT_EQ(af[0], 1.0f);
  EXPECT_EQ(af[1], -1.0f);
}

// SAC's actor loss shape: L = g_lp * log pi(a) + sum_i g_a[i] * a_i, eps fixed.
TEST(SquashedGaussianDistribution, ReparameterisedGradientsMatchFiniteDifferences) {
  std::vector<double> mu{0.3, -0.8, 1.4}, ls{-0.5, 0.1, -1.0};
  const std::vector<double> eps{0.4, -1.3, 0.9}, ga{-0.6, 0.25, 1.1};
  double worst = 0;
  for (const bool with_action : {true, false}) {
    const double glp = 0.2;
    auto loss = [&] {
      std::vector<double> a(3);
      double l = glp * squashed_gaussian_rsample(mu.data(), ls.data(), eps.data(), 3, a.data());
      if (with_action) {
        for (int i = 0; i < 3; ++i) l += ga[i] * a[i];
      }
      return l;
    };
    std::vector<double> dmu(3, 0.0), dls(3, 0.0);
    squashed_gaussian_backward(mu.data(), ls.data(), eps.data(), 3, glp,
                               with_action ? ga.data() : nullptr, dmu.data(), dls.data());
    worst = std::max(worst, test::max_relative_error(dmu, test::numeric_gradient(loss, mu)));
    worst = std::max(worst, test::max_relative_error(dls, test::numeric_gradient(loss, ls)));
  }
  std::printf("[ gradcheck ] squashed gaussian: d/mean and d/log_std %.2e\n", worst);
  EXPECT_LT(worst, 1e-6);
}

TEST(SquashedGaussianDistribution, NoiseIsStandardNormal) {
  PhiloxStream rng(9, 0, 0, 0, RngPurpose::kTest);
  const int draws = 100000;
  std::vector<double> eps(4);
  double s1 = 0, s2 = 0;
  for (int k = 0; k < draws / 4; ++k) {
    normal_noise(rng, 4, eps.data());
    for (double e : eps) {
      s1 += e;
      s2 += e * e;
    }
  }
  EXPECT_NEAR(s1 / draws, 0.0, 0.02);
  EXPECT_NEAR(s2 / draws, 1.0, 0.02);
}

}  // namespace
}  // namespace convoy::rl
