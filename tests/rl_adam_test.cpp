// rl/adam.h: torch.optim.Adam's arithmetic to 1e-12, convergence on a quadratic on every
// backend built, global-norm clipping and CleanRL's learning-rate annealing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "rl/adam.h"
#include "sim/array.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy::rl {
namespace {

// lr 0.01, b1 0.9, b2 0.999, eps 1e-8, p0 = (1, -2, 0.5), g1 = (0.1, -0.2, 0.3),
// g2 = (-0.4, 0.5, 0).
// Step 1: m = 0.1 g1, v = 0.001 g1^2, bias corrections 0.1 and 0.001, so m^ = g1, v^ = g1^2
//   and p1 = p0 - 0.01 g1 / (|g1| + 1e-8):
//   p1[0] = 1 - 0.01 * 0.1 / 0.10000001 = 0.9900000009999999...
// Step 2: m = 0.9 m + 0.1 g2, v = 0.999 v + 0.001 g2^2, bias corrections 1 - 0.81 = 0.19 and
//   1 - 0.998001 = 0.001999. For entry 0: m = 0.009 - 0.04 = -0.031,
//   v = 0.999e-5 + 1.6e-4 = 1.6999e-4, m^ = -0.031 / 0.19 = -0.16315789...,
//   sqrt(v^) = sqrt(1.6999e-4 / 0.001999) = 0.29161193..., so
//   p2[0] = p1[0] + 0.01 * 0.16315789 / (0.29161193 + 1e-8) = 0.99559503574851...
// Entry 2 has g2 = 0: m = 0.003, v = 8.991e-5, p2[2] = 0.48329941810791...
// (all digits below from the same formulas in 40-digit decimal arithmetic)
TEST(Adam, MatchesHandComputedTwoSteps) {
  AdamConfig cfg;
  cfg.lr = 0.01;
  cfg.eps = 1e-8;
  Adam<double> adam(Device::cpu(), 3, cfg);
  std::vector<double> p{1.0, -2.0, 0.5};
  const std::vector<double> g1{0.1, -0.2, 0.3}, g2{-0.4, 0.5, 0.0};
  adam.step(p.data(), g1.data());
  EXPECT_NEAR(p[0], 0.990000000999999900000, 1e-12);
  EXPECT_NEAR(p[1], -1.99000000049999997500, 1e-12);
  EXPECT_NEAR(p[2], 0.490000000333333322222, 1e-12);
  adam.step(p.data(), g2.data());
  EXPECT_NEAR(p[0], 0.995595035748512879753, 1e-12);
  EXPECT_NEAR(p[1], -1.99442215302172332266, 1e-12);
  EXPECT_NEAR(p[2], 0.483299418107915398981, 1e-12);
  EXPECT_EQ(adam.steps(), 2);
  EXPECT_NEAR(adam.m().to_host()[0], -0.031, 1e-15);
  EXPECT_NEAR(adam.v().to_host()[0], 1.6999e-4, 1e-16);
  // reset forgets the moments and the step count
  adam.reset();
  EXPECT_EQ(adam.steps(), 0);
  EXPECT_EQ(adam.m().to_host()[0], 0.0);
}

class AdamBackend : public ::testing::TestWithParam<std::string> {};

// f(p) = sum c_i (p_i - t_i)^2 with curvatures over two orders of magnitude.
TEST_P(AdamBackend, MinimisesAQuadratic) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  const int n = 1000;
  std::vector<float> target(n), curv(n), p(n, 0.0f), g(n);
  for (int i = 0; i < n; ++i) {
    target[i] = std::sin(0.37f * i) * 3.0f;
    curv[i] = 0.05f + 5.0f * (i % 10) / 9.0f;
  }
  DeviceArray<float> d_p(device, p), d_g(device, n);
  AdamConfig cfg;
  cfg.lr = 0.05;
  Adam<float> adam(device, n, cfg);
  for (int it = 0; it < 1500; ++it) {
    const auto hp = d_p.to_host();
    for (int i = 0; i < n; ++i) g[i] = 2.0f * curv[i] * (hp[i] - target[i]);
    d_g.copy_from_host(g);
    adam.set_lr(linear_anneal_lr(0.05, it + 1, 1500));
    adam.step(d_p.data(), d_g.data());
  }
  const auto hp = d_p.to_host();
  double worst = 0;
  for (int i = 0; i < n; ++i) worst = std::max(worst, double(std::fabs(hp[i] - target[i])));
  EXPECT_LT(worst, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Backends, AdamBackend, ::testing::ValuesIn(test::backends()));

TEST(Adam, RejectsBadConfig) {
  AdamConfig cfg;
  cfg.beta1 = 1.0;
  EXPECT_THROW(Adam<float>(Device::cpu(), 4, cfg), Error);
  Adam<float> adam(Device::cpu(), 4);
  EXPECT_THROW(adam.set_lr(-1.0), Error);
  EXPECT_THROW(adam.set_lr(NAN), Error);
  EXPECT_DOUBLE_EQ(adam.lr(), 3e-4);  // a rejected value leaves the old one
  EXPECT_THROW(adam.set_steps(-1), Error);
}

TEST(AdamGradClip, ScalesLargeGradientsOntoTheBallExactly) {
  std::vector<double> g{3.0, -4.0, 12.0};  // norm 13
  const std::vector<double> before = g;
  const double norm = clip_grad_norm(Device::cpu(), g.data(), 3, 0.5);
  EXPECT_DOUBLE_EQ(norm, 13.0);
  double sq = 0;
  for (int i = 0; i < 3; ++i) {
    sq += g[i] * g[i];
    EXPECT_NEAR(g[i], before[i] * 0.5 / 13.0, 1e-16);  // direction kept
  }
  EXPECT_NEAR(std::sqrt(sq), 0.5, 1e-15);
  // float gradients, norm accumulated in double
  std::vector<float> f(10000, 0.01f);
  const double fn = clip_grad_norm(Device::cpu(), f.data(), 10000, 0.25);
  EXPECT_NEAR(fn, 1.0, 1e-6);
  for (float x : f) EXPECT_FLOAT_EQ(x, 0.0025f);
}

TEST(AdamGradClip, LeavesSmallGradientsAlone) {
  std::vector<double> g{0.1, -0.2, 0.2};  // norm 0.3
  const std::vector<double> before = g;
  EXPECT_NEAR(clip_grad_norm(Device::cpu(), g.data(), 3, 0.5), 0.3, 1e-15);
  EXPECT_EQ(g, before);
  std::vector<double> on{3.0, 4.0};  // exactly on the ball
  EXPECT_EQ(clip_grad_norm(Device::cpu(), on.data(), 2, 5.0), 5.0);
  EXPECT_EQ(on, (std::vector<double>{3.0, 4.0}));
  EXPECT_THROW(clip_grad_norm(Device::cpu(), g.data(), 3, 0.0), Error);
}

TEST(Adam, LinearAnnealingFollowsCleanRL) {
  EXPECT_DOUBLE_EQ(linear_anneal_lr(2.5e-4, 1, 100), 2.5e-4);
  EXPECT_DOUBLE_EQ(linear_anneal_lr(2.5e-4, 51, 100), 1.25e-4);
  EXPECT_NEAR(linear_anneal_lr(2.5e-4, 100, 100), 2.5e-6, 1e-20);
  EXPECT_THROW(linear_anneal_lr(2.5e-4, 0, 100), Error);
  EXPECT_THROW(linear_anneal_lr(2.5e-4, 101, 100), Error);
}

// clip_grad_norm_on_device keeps the norm on the device; on the CPU its norm and clipped
// gradients are clip_grad_norm's, bit for bit (PPO's CPU runs depend on it). max_norm 0
// measures only. On cuda (skips without a GPU) it agrees to float rounding.
TEST(AdamGradClip, OnDeviceMatchesTheHostVersion) {
  std::vector<float> g(1000);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = std::sin(0.37f * i) * (i % 7 == 0 ? 3.f : 0.1f);
  for (double max_norm : {0.5, 1e6, 0.0}) {
    std::vector<float> host = g, dev = g;
    const double want =
        max_norm > 0 ? clip_grad_norm(Device::cpu(), host.data(), 1000, max_norm) : [&] {
          double s = 0;
          for (float x : host) s += double(x) * x;
          return std::sqrt(s);
        }();
    double got = -1;
    clip_grad_norm_on_device(Device::cpu(), dev.data(), 1000, max_norm, &got, nullptr);
    EXPECT_EQ(got, want) << max_norm;
    EXPECT_EQ(dev, host) << max_norm;
  }
  EXPECT_THROW(clip_grad_norm_on_device(Device::cpu(), g.data(), 3, -1.0, nullptr, nullptr), Error);
}

TEST(AdamGradClip, OnCudaMatchesTheCpu) {
  CONVOY_DEVICE_OR_SKIP(gpu, "cuda");
  std::vector<float> g(100000);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = std::cos(0.11f * i) * 0.01f;
  std::vector<float> host = g;
  const double want = clip_grad_norm(Device::cpu(), host.data(), 100000, 0.5);
  DeviceArray<float> d(gpu, g);
  DeviceArray<double> norm(gpu, 1), scratch(gpu, clip_grad_norm_scratch(gpu));
  clip_grad_norm_on_device(gpu, d.data(), 100000, 0.5, norm.data(), scratch.data());
  EXPECT_NEAR(norm.to_host()[0], want, 1e-12 * want);
  const auto got = d.to_host();
  for (std::size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(got[i], host[i], 1e-7) << i;
}

}  // namespace
}  // namespace convoy::rl
