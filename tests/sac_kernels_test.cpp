// rl/sac_kernels.h on the CPU against the host formulas they replaced (the loops rl/sac.cpp
// ran before SAC moved to the device), on random inputs: the noise rows, the squashed
// Gaussian's rows and log-probability, the soft Bellman target, the critic and actor loss rows
// and their means, the actor head's gradient, Polyak, the alpha gradient and alpha, and the
// episode sums (serial and per env). The float results must be bit-identical to the old
// loops (that is what keeps SAC's CPU runs bit-identical); the double ones are also checked
// against independent textbook forms. A last test runs the kernels on cuda against the CPU
// (skips without a GPU).
#include "rl/sac_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "rl/distributions.h"
#include "rl/sac.h"
#include "sim/rng.h"
#include "tests/test_util.h"

namespace convoy::rl {
namespace {

template <class T>
std::vector<T> uniform(std::mt19937_64& gen, std::size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(d(gen));
  return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

const Device kCpu = Device::cpu();

TEST(SacKernels, NormalRowsArePhiloxNormals) {
  const int rows = 9, dim = 3;
  std::vector<float> eps(rows * dim), want(rows * dim);
  sac_kernels::normal_rows(kCpu, rows, dim, 42, 7, 3, RngPurpose::kNoise, eps.data());
  for (int i = 0; i < rows; ++i) {
    PhiloxStream rng(42, static_cast<std::uint64_t>(i), 7, 3, RngPurpose::kNoise);
    normal_noise(rng, dim, want.data() + i * dim);
  }
  EXPECT_TRUE(same_bits(eps, want));
}

// sac_sample_row per row (float: the old loop's bits) and, in double, log pi against the
// textbook density: log N(u; mean, sigma) - log(1 - tanh(u)^2) - log scale per dimension.
TEST(SacKernels, SampleRowsAreTheSquashedGaussian) {
  const int rows = 17, dim = 2;
  std::mt19937_64 gen(1);
  const auto head = uniform<double>(gen, rows * 2 * dim, -1.5, 1.5);
  const auto eps = uniform<double>(gen, rows * dim, -2, 2);
  const std::vector<double> scale = {2.0, 0.5}, bias = {0.0, 0.25};
  std::vector<double> act(rows * dim), lp(rows);
  sac_kernels::sample_rows(kCpu, rows, dim, head.data(), eps.data(), scale.data(), bias.data(),
                           act.data(), lp.data());
  for (int i = 0; i < rows; ++i) {
    double want = 0;
    for (int k = 0; k < dim; ++k) {
      const double raw = head[i * 2 * dim + dim + k];
      const double log_std = -5.0 + 0.5 * 7.0 * (std::tanh(raw) + 1.0);
      const double sigma = std::exp(log_std), mean = head[i * 2 * dim + k];
      const double u = mean + sigma * eps[i * dim + k];
      const double z = (u - mean) / sigma;
      want += -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2 * M_PI) -
              std::log(1 - std::tanh(u) * std::tanh(u)) - std::log(scale[k]);
      EXPECT_NEAR(act[i * dim + k], std::tanh(u) * scale[k] + bias[k], 1e-12);
    }
    EXPECT_NEAR(lp[i], want, 1e-9 * (1 + std::fabs(want))) << i;
  }
  // float: the host loop's bits
  const std::vector<float> hf(head.begin(), head.end()), ef(eps.begin(), eps.end());
  const std::vector<float> sf = {2.0f, 0.5f}, bf = {0.0f, 0.25f};
  std::vector<float> af(rows * dim), lf(rows), aw(rows * dim), lw(rows);
  sac_kernels::sample_rows(kCpu, rows, dim, hf.data(), ef.data(), sf.data(), bf.data(), af.data(),
                           lf.data());
  for (int i = 0; i < rows; ++i) {
    lw[i] = sac_sample_row(hf.data() + i * 2 * dim, ef.data() + i * dim, dim, sf.data(), bf.data(),
                           aw.data() + i * dim);
  }
  EXPECT_TRUE(same_bits(af, aw));
  EXPECT_TRUE(same_bits(lf, lw));
  // the deterministic policy: tanh(mean) in the box
  std::vector<float> mf(rows * dim);
  sac_kernels::mean_rows(kCpu, rows, dim, hf.data(), sf.data(), bf.data(), mf.data());
  for (int i = 0; i < rows; ++i) {
    for (int k = 0; k < dim; ++k) {
      EXPECT_EQ(mf[i * dim + k], std::tanh(hf[i * 2 * dim + k]) * sf[k] + bf[k]);
    }
  }
}

TEST(SacKernels, ConcatRowsInterleavesObsAndActions) {
  const std::vector<float> obs = {1, 2, 3, 4, 5, 6}, act = {-1, -2};
  std::vector<float> out(8);
  sac_kernels::concat_rows(kCpu, 2, 3, 1, obs.data(), act.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, -1, 4, 5, 6, -2}));
}

TEST(SacKernels, SoftTargetsMatchTheHostFormula) {
  const int rows = 64;
  std::mt19937_64 gen(2);
  const auto q1 = uniform<float>(gen, rows, -5, 5), q2 = uniform<float>(gen, rows, -5, 5);
  const auto lp = uniform<float>(gen, rows, -3, 2), r = uniform<float>(gen, rows, -2, 1);
  std::vector<float> done(rows);
  for (int i = 0; i < rows; ++i) done[i] = (i % 3 == 0) ? 1.0f : 0.0f;
  const double alpha = 0.137;
  const float gamma = 0.99f;
  std::vector<float> y(rows), want(rows);
  sac_kernels::soft_targets(kCpu, rows, q1.data(), q2.data(), lp.data(), r.data(), done.data(),
                            &alpha, gamma, y.data());
  const float a = static_cast<float>(alpha);
  for (int i = 0; i < rows; ++i) {
    const float soft = std::min(q1[i], q2[i]) - a * lp[i];
    want[i] = r[i] + (1.0f - done[i]) * gamma * soft;
  }
  EXPECT_TRUE(same_bits(y, want));
  for (int i = 0; i < rows; i += 3) EXPECT_EQ(y[i], r[i]);
}

TEST(SacKernels, CriticRowsMatchTheHostLoop) {
  const int rows = 50;
  std::mt19937_64 gen(3);
  const auto q1 = uniform<float>(gen, rows, -5, 5), q2 = uniform<float>(gen, rows, -5, 5);
  const auto y = uniform<float>(gen, rows, -5, 5), w = uniform<float>(gen, rows, 0.2, 1.5);
  const float inv = 1.0f / rows;
  std::vector<float> dq1(rows), dq2(rows), td(rows);
  sac_kernels::LossScratch s(kCpu, rows);
  double stats[4] = {1.0, 2.0, 3.0, 4.0};  // ADDS: starts from earlier sums
  sac_kernels::critic_rows(kCpu, rows, q1.data(), q2.data(), y.data(), w.data(), inv, dq1.data(),
                           dq2.data(), td.data(), s, stats);
  // the loop SacNetworks::critic_loss ran
  double l1 = 0, l2 = 0, v1 = 0, v2 = 0;
  std::vector<float> w1(rows), w2(rows), wt(rows);
  for (int i = 0; i < rows; ++i) {
    const float e1 = q1[i] - y[i], e2 = q2[i] - y[i];
    l1 += static_cast<double>(w[i] * e1 * e1);
    l2 += static_cast<double>(w[i] * e2 * e2);
    v1 += static_cast<double>(q1[i]);
    v2 += static_cast<double>(q2[i]);
    w1[i] = 2.0f * w[i] * e1 * inv;
    w2[i] = 2.0f * w[i] * e2 * inv;
    wt[i] = 0.5f * (std::abs(e1) + std::abs(e2));
  }
  EXPECT_TRUE(same_bits(dq1, w1));
  EXPECT_TRUE(same_bits(dq2, w2));
  EXPECT_TRUE(same_bits(td, wt));
  const double n = rows;
  EXPECT_EQ(stats[0], 1.0 + l1 / n);
  EXPECT_EQ(stats[1], 2.0 + l2 / n);
  EXPECT_EQ(stats[2], 3.0 + v1 / n);
  EXPECT_EQ(stats[3], 4.0 + v2 / n);
  // no weights and no TD output: weights 1
  double plain[4] = {0, 0, 0, 0};
  sac_kernels::critic_rows(kCpu, rows, q1.data(), q2.data(), y.data(), static_cast<float*>(nullptr),
                           inv, dq1.data(), dq2.data(), static_cast<float*>(nullptr), s, plain);
  double l1u = 0;
  for (int i = 0; i < rows; ++i) l1u += static_cast<double>((q1[i] - y[i]) * (q1[i] - y[i]));
  EXPECT_EQ(plain[0], l1u / n);
}

TEST(SacKernels, ActorRowsAndHeadGradientMatchTheHostLoop) {
  const int rows = 33, obs_dim = 3, A = 2, in = obs_dim + A;
  std::mt19937_64 gen(4);
  const auto q1 = uniform<float>(gen, rows, -5, 5);
  auto q2 = uniform<float>(gen, rows, -5, 5);
  q2[5] = q1[5];  // a tie: the gradient goes to q1
  const auto lp = uniform<float>(gen, rows, -3, 2);
  const auto head = uniform<float>(gen, rows * 2 * A, -1.5, 1.5);
  const auto eps = uniform<float>(gen, rows * A, -2, 2);
  const auto dx1 = uniform<float>(gen, rows * in, -1, 1),
             dx2 = uniform<float>(gen, rows * in, -1, 1);
  const std::vector<float> scale = {2.0f, 0.5f};
  const double alpha = 0.31;
  const float inv = 1.0f / rows;
  sac_kernels::LossScratch s(kCpu, rows);
  std::vector<float> dq1(rows), dq2(rows), g_act(rows * A), dhead(rows * 2 * A, 7.0f);
  double stats[2] = {0, 0};
  sac_kernels::actor_rows(kCpu, rows, q1.data(), q2.data(), lp.data(), &alpha, inv, dq1.data(),
                          dq2.data(), s, stats);
  sac_kernels::actor_head_grad(kCpu, rows, obs_dim, A, head.data(), eps.data(), scale.data(),
                               &alpha, inv, dx1.data(), dx2.data(), g_act.data(), dhead.data());
  // the loops SacNetworks::actor_loss ran
  const float a = static_cast<float>(alpha);
  double loss = 0, mlp = 0;
  std::vector<float> w1(rows), w2(rows), wh(rows * 2 * A, 0.0f), ga(A);
  for (int i = 0; i < rows; ++i) {
    const bool first = q1[i] <= q2[i];
    loss += static_cast<double>(a * lp[i] - (first ? q1[i] : q2[i]));
    mlp += static_cast<double>(lp[i]);
    w1[i] = first ? -inv : 0.0f;
    w2[i] = first ? 0.0f : -inv;
  }
  for (int i = 0; i < rows; ++i) {
    for (int k = 0; k < A; ++k) ga[k] = dx1[i * in + obs_dim + k] + dx2[i * in + obs_dim + k];
    sac_sample_backward(head.data() + i * 2 * A, eps.data() + i * A, A, scale.data(), a * inv,
                        ga.data(), wh.data() + i * 2 * A);
  }
  EXPECT_TRUE(same_bits(dq1, w1));
  EXPECT_TRUE(same_bits(dq2, w2));
  EXPECT_EQ(dq1[5], -inv);
  EXPECT_TRUE(same_bits(dhead, wh));  // written, not added to the 7s
  EXPECT_EQ(stats[0], loss / rows);
  EXPECT_EQ(stats[1], mlp / rows);
}

TEST(SacKernels, PolyakMatchesTheHostFormula) {
  const int n = 1000;  // past LaunchPolicy::kMinParallel: the OpenMP path
  std::mt19937_64 gen(5);
  const auto online = uniform<float>(gen, n, -1, 1);
  auto target = uniform<float>(gen, n, -1, 1);
  std::vector<float> want(n);
  const float tau = 0.005f;
  for (int i = 0; i < n; ++i) want[i] = tau * online[i] + (1.0f - tau) * target[i];
  sac_kernels::polyak(kCpu, n, online.data(), target.data(), tau);
  EXPECT_TRUE(same_bits(target, want));
}

TEST(SacKernels, AlphaGradientAndAlphaMatchTheHostFormula) {
  const int rows = 128;
  std::mt19937_64 gen(6);
  const auto lp = uniform<float>(gen, rows, -3, 2);
  const float log_alpha = std::log(0.2f);
  const double target_entropy = -2.0;
  sac_kernels::LossScratch s(kCpu, 1);
  float grad = 0;
  double loss_sum = 0.5;
  sac_kernels::alpha_grad(kCpu, rows, lp.data(), &log_alpha, target_entropy, s, &grad, &loss_sum);
  // the host lines Sac::update ran
  double mean = 0;
  for (int i = 0; i < rows; ++i) mean += lp[i];
  mean /= rows;
  const double a = std::exp(static_cast<double>(log_alpha));
  EXPECT_EQ(loss_sum, 0.5 + -a * (mean + target_entropy));
  EXPECT_EQ(grad, static_cast<float>(-a * (mean + target_entropy)));
  // entropy below target (mean log pi above -target): alpha's gradient pushes it up
  EXPECT_EQ(grad<0, mean + target_entropy> 0);
  double alpha = 0;
  sac_kernels::alpha_from_log(kCpu, &log_alpha, &alpha);
  EXPECT_EQ(alpha, std::exp(static_cast<double>(log_alpha)));
}

// Serial sums (the CPU) and per-env sums reduced at the end (CUDA's layout, run here on the
// CPU): the same totals when the returns are integers (no rounding to reorder).
TEST(SacKernels, EpisodeSumsSerialAndPerEnvAgree) {
  const int n = 5, steps = 40;
  std::mt19937_64 gen(7);
  std::uniform_int_distribution<int> coin(0, 3), ret(-300, 10), len(1, 200);
  double serial[3] = {0, 0, 0}, totals[3] = {0, 0, 0}, want[3] = {0, 0, 0};
  std::vector<double> per_env(n * 3, 0.0);
  sac_kernels::LossScratch s(kCpu, 1);
  for (int t = 0; t < steps; ++t) {
    std::vector<std::uint8_t> term(n), trunc(n);
    std::vector<double> r(n);
    std::vector<std::int32_t> l(n);
    for (int i = 0; i < n; ++i) {
      term[i] = coin(gen) == 0;
      trunc[i] = coin(gen) == 0;
      r[i] = ret(gen);
      l[i] = len(gen);
      if (term[i] || trunc[i]) {
        want[0] += r[i];
        want[1] += l[i];
        want[2] += 1;
      }
    }
    sac_kernels::episode_sums(kCpu, n, false, term.data(), trunc.data(), r.data(), l.data(),
                              serial);
    sac_kernels::episode_sums(kCpu, n, true, term.data(), trunc.data(), r.data(), l.data(),
                              per_env.data());
  }
  sac_kernels::episode_totals(kCpu, n, per_env.data(), s, totals);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(serial[c], want[c]) << c;
    EXPECT_EQ(totals[c], want[c]) << c;
  }
  EXPECT_GT(want[2], 0);
}

// The kernels on cuda against the CPU on the same inputs: bit-equal where only products and
// differences are involved (the critic rows' per-row outputs), within 1e-6 where nvcc may fuse
// a multiply-add (Polyak) or sums run in another order (the means), and within 1e-5 relative
// where CUDA's expf/tanhf/logf may differ from glibc's in the last bits.
TEST(SacCuda, KernelsMatchTheCpu) {
  CONVOY_DEVICE_OR_SKIP(gpu, "cuda");
  const int rows = 300, dim = 2;
  std::mt19937_64 gen(8);
  const auto head = uniform<float>(gen, rows * 2 * dim, -1.5, 1.5);
  const auto eps = uniform<float>(gen, rows * dim, -2, 2);
  const std::vector<float> scale = {2.0f, 0.5f}, bias = {0.0f, 0.25f};
  std::vector<float> act(rows * dim), lp(rows);
  sac_kernels::sample_rows(kCpu, rows, dim, head.data(), eps.data(), scale.data(), bias.data(),
                           act.data(), lp.data());
  DeviceArray<float> d_head(gpu, head), d_eps(gpu, eps), d_scale(gpu, scale), d_bias(gpu, bias),
      d_act(gpu, rows * dim), d_lp(gpu, rows);
  sac_kernels::sample_rows(gpu, rows, dim, d_head.data(), d_eps.data(), d_scale.data(),
                           d_bias.data(), d_act.data(), d_lp.data());
  const auto g_act = d_act.to_host(), g_lp = d_lp.to_host();
  for (int i = 0; i < rows; ++i) {
    EXPECT_NEAR(g_lp[i], lp[i], 1e-5 * (1 + std::fabs(lp[i]))) << i;
    for (int k = 0; k < dim; ++k) EXPECT_NEAR(g_act[i * dim + k], act[i * dim + k], 1e-5);
  }
  // critic rows and their means
  const auto q1 = uniform<float>(gen, rows, -5, 5), q2 = uniform<float>(gen, rows, -5, 5);
  const auto y = uniform<float>(gen, rows, -5, 5), w = uniform<float>(gen, rows, 0.2, 1.5);
  const float inv = 1.0f / rows;
  std::vector<float> dq1(rows), dq2(rows), td(rows);
  sac_kernels::LossScratch s(kCpu, rows), gs(gpu, rows);
  double stats[4] = {0, 0, 0, 0};
  sac_kernels::critic_rows(kCpu, rows, q1.data(), q2.data(), y.data(), w.data(), inv, dq1.data(),
                           dq2.data(), td.data(), s, stats);
  DeviceArray<float> d_q1(gpu, q1), d_q2(gpu, q2), d_y(gpu, y), d_w(gpu, w), d_dq1(gpu, rows),
      d_dq2(gpu, rows), d_td(gpu, rows);
  DeviceArray<double> d_stats(gpu, 4);
  d_stats.zero();
  sac_kernels::critic_rows(gpu, rows, d_q1.data(), d_q2.data(), d_y.data(), d_w.data(), inv,
                           d_dq1.data(), d_dq2.data(), d_td.data(), gs, d_stats.data());
  EXPECT_TRUE(same_bits(d_dq1.to_host(), dq1));
  EXPECT_TRUE(same_bits(d_td.to_host(), td));
  const auto g_stats = d_stats.to_host();
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(g_stats[c], stats[c], 1e-9) << c;  // other sum order
  // Polyak
  auto target = uniform<float>(gen, rows, -1, 1);
  DeviceArray<float> d_target(gpu, target);
  sac_kernels::polyak(kCpu, rows, q1.data(), target.data(), 0.005f);
  sac_kernels::polyak(gpu, rows, d_q1.data(), d_target.data(), 0.005f);
  const auto g_target = d_target.to_host();  // nvcc may fuse the multiply-add
  for (int i = 0; i < rows; ++i) EXPECT_NEAR(g_target[i], target[i], 1e-6) << i;
}

}  // namespace
}  // namespace convoy::rl
