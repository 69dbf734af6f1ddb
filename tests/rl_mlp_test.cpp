// rl/mlp.h: forward against a naive reference, backward against finite differences for
// every activation and depth, orthogonal initialisation, determinism, and a small fit of
// sin(x) with Adam as a learning sanity check.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "rl/adam.h"
#include "rl/mlp.h"
#include "rl/mlp_device.h"
#include "sim/array.h"
#include "sim/error.h"
#include "tests/rl_gradcheck.h"
#include "tests/test_util.h"

namespace convoy::rl {
namespace {

double act(Activation a, double z) {
  switch (a) {
    case Activation::kNone:
      return z;
    case Activation::kTanh:
      return std::tanh(z);
    case Activation::kRelu:
      return z > 0 ? z : 0;
    case Activation::kElu:
      return z > 0 ? z : std::exp(z) - 1;
  }
  return NAN;
}

// Plain loops: y = f(x W^T + b) layer by layer. Also reports the smallest |pre-activation|
// of the hidden layers, so relu and elu checks can stay away from their kinks.
std::vector<double> reference_forward(const Mlp<double>& net, const std::vector<double>& p,
                                      const std::vector<double>& x, int batch,
                                      double* min_abs_pre = nullptr, int* negative_pre = nullptr) {
  std::vector<double> in = x;
  double min_pre = INFINITY;
  int negative = 0;
  const auto& layers = net.layers();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const LinearLayout& L = layers[l];
    const bool last = l + 1 == layers.size();
    const Activation a = last ? net.spec().output_activation : net.spec().activation;
    std::vector<double> out(static_cast<std::size_t>(batch) * L.out);
    for (int r = 0; r < batch; ++r) {
      for (int o = 0; o < L.out; ++o) {
        double z = p[L.bias_offset + o];
        for (int i = 0; i < L.in; ++i) z += p[L.weight_offset + o * L.in + i] * in[r * L.in + i];
        if (a != Activation::kNone) min_pre = std::min(min_pre, std::fabs(z));
        negative += !last && z < 0;
        out[r * L.out + o] = act(a, z);
      }
    }
    in = std::move(out);
  }
  if (min_abs_pre) *min_abs_pre = min_pre;
  if (negative_pre) *negative_pre = negative;
  return in;
}

std::vector<double> uniform(std::mt19937_64& gen, std::size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = d(gen);
  return v;
}

struct GradCase {
  const char* name;
  std::vector<int> hidden;
  Activation activation;
  Activation output_activation;
  unsigned seed = 7;
};

void PrintTo(const GradCase& c, std::ostream* os) { *os << c.name; }

class MlpGradCheck : public ::testing::TestWithParam<GradCase> {};

// loss = sum(w .* y) for a random w: dL/dy = w, and every parameter and input entry is
// checked against finite differences of the same loss computed by forward().
TEST_P(MlpGradCheck, MatchesFiniteDifferences) {
  const GradCase& c = GetParam();
  MlpSpec spec;
  spec.input_dim = 3;
  spec.hidden = c.hidden;
  spec.output_dim = 2;
  spec.activation = c.activation;
  spec.output_activation = c.output_activation;
  const Mlp<double> net(spec, Device::cpu());
  const int batch = 4;
  std::mt19937_64 gen(c.seed);
  std::vector<double> p = uniform(gen, net.num_params(), -0.8, 0.8);
  std::vector<double> x = uniform(gen, batch * spec.input_dim, -1.5, 1.5);
  const std::vector<double> w = uniform(gen, batch * spec.output_dim, -1.0, 1.0);
  auto ws = net.make_workspace(batch);

  // forward agrees with the reference, and the kinks are far from every pre-activation
  double min_pre = 0;
  int negative_pre = 0;
  const auto ref = reference_forward(net, p, x, batch, &min_pre, &negative_pre);
  const double* y = net.forward(p.data(), x.data(), batch, ws);
  int negative_outputs = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ASSERT_NEAR(y[i], ref[i], 1e-14) << i;
    negative_outputs += y[i] < 0;
  }
  if (c.output_activation == Activation::kElu) {
    ASSERT_GT(negative_outputs, 0) << "no output on elu's exponential side: pick another seed";
  }
  if (c.activation == Activation::kRelu || c.activation == Activation::kElu) {
    ASSERT_GT(min_pre, 1e-2) << "a pre-activation sits on the kink: pick another seed";
    ASSERT_GT(negative_pre, 0) << "no hidden unit on the negative side: pick another seed";
  }

  auto loss = [&] {
    const double* out = net.forward(p.data(), x.data(), batch, ws);
    double s = 0;
    for (std::size_t i = 0; i < w.size(); ++i) s += w[i] * out[i];
    return s;
  };
  loss();
  // backward accumulates: start from 1 everywhere and subtract it afterwards
  std::vector<double> dp(p.size(), 1.0), dx(x.size(), -7.0);
  net.backward(p.data(), w.data(), ws, dp.data(), dx.data());
  for (double& g : dp) g -= 1.0;

  const auto num_dp = test::numeric_gradient(loss, p);
  const auto num_dx = test::numeric_gradient(loss, x);
  const double err_p = test::max_relative_error(dp, num_dp);
  const double err_x = test::max_relative_error(dx, num_dx);
  std::printf("[ gradcheck ] %s: %zu params max rel err %.2e, %zu inputs max rel err %.2e\n",
              c.name, p.size(), err_p, x.size(), err_x);
  EXPECT_LT(err_p, 1e-6);
  EXPECT_LT(err_x, 1e-6);

  // without dx, the parameter gradient is the same
  std::vector<double> dp2(p.size(), 0.0);
  loss();
  net.backward(p.data(), w.data(), ws, dp2.data());
  for (std::size_t i = 0; i < dp.size(); ++i) EXPECT_NEAR(dp2[i], dp[i], 1e-14) << i;
}

INSTANTIATE_TEST_SUITE_P(
    Layers, MlpGradCheck,
    ::testing::Values(GradCase{"linear", {}, Activation::kTanh, Activation::kNone},
                      GradCase{"linear_tanh_out", {}, Activation::kTanh, Activation::kTanh},
                      GradCase{"tanh_1", {5}, Activation::kTanh, Activation::kNone},
                      GradCase{"relu_1", {5}, Activation::kRelu, Activation::kNone},
                      GradCase{"elu_1", {5}, Activation::kElu, Activation::kNone},
                      GradCase{"tanh_2", {6, 5}, Activation::kTanh, Activation::kNone},
                      GradCase{"relu_2", {6, 5}, Activation::kRelu, Activation::kNone},
                      GradCase{"elu_2", {6, 5}, Activation::kElu, Activation::kNone},
                      GradCase{"elu_2_elu_out", {6, 5}, Activation::kElu, Activation::kElu, 8}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MlpLayout, LayersAreContiguousViewsOfOneBuffer) {
  MlpSpec spec{4, {64, 32}, 2};
  const Mlp<float> net(spec, Device::cpu());
  ASSERT_EQ(net.layers().size(), 3u);
  EXPECT_EQ(net.num_params(), 4 * 64 + 64 + 64 * 32 + 32 + 32 * 2 + 2);
  std::int64_t next = 0;
  for (const LinearLayout& l : net.layers()) {
    EXPECT_EQ(l.weight_offset, next);
    EXPECT_EQ(l.bias_offset, next + static_cast<std::int64_t>(l.in) * l.out);
    next = l.bias_offset + l.out;
  }
  EXPECT_EQ(next, net.num_params());
  EXPECT_EQ(net.layers()[1].in, 64);
  EXPECT_EQ(net.layers()[1].out, 32);
}

TEST(MlpLayout, RejectsBadSpecsAndBatches) {
  EXPECT_THROW(Mlp<float>(MlpSpec{0, {8}, 1}, Device::cpu()), Error);
  EXPECT_THROW(Mlp<float>(MlpSpec{2, {8, 0}, 1}, Device::cpu()), Error);
  EXPECT_THROW(Mlp<float>(MlpSpec{2, {8}, 0}, Device::cpu()), Error);
  EXPECT_EQ(parse_activation("elu"), Activation::kElu);
  try {
    parse_activation("gelu");
    FAIL() << "gelu accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("allowed: none, tanh, relu, elu"), std::string::npos);
  }
  const Mlp<float> net(MlpSpec{2, {8}, 1}, Device::cpu());
  auto ws = net.make_workspace(4);
  std::vector<float> p(net.num_params(), 0.f), x(10, 0.f), dp(net.num_params(), 0.f);
  EXPECT_THROW(net.backward(p.data(), x.data(), ws, dp.data()), Error);  // before forward
  EXPECT_THROW(net.forward(p.data(), x.data(), 5, ws), Error);           // over capacity
  EXPECT_NO_THROW(net.forward(p.data(), x.data(), 4, ws));
}

// The elementwise functors the CUDA path runs (rl/mlp_device.cu), run here on the CPU
// against plain loops: bias + activation, derivative scaling in terms of the output, and the
// bias gradient's column sums.
TEST(MlpDevice, ElementwiseFunctorsMatchPlainLoops) {
  const int rows = 70, cols = 5;  // over LaunchPolicy::kMinParallel: the OpenMP path too
  std::mt19937 gen(3);
  std::normal_distribution<double> nd(0.0, 1.5);
  std::vector<double> z(rows * cols), bias(cols), delta(rows * cols);
  for (double& v : z) v = nd(gen);
  for (double& v : bias) v = nd(gen);
  for (double& v : delta) v = nd(gen);
  for (Activation a : {Activation::kNone, Activation::kTanh, Activation::kRelu, Activation::kElu}) {
    std::vector<double> y = z;
    mlp_device::bias_activation<double>(Device::cpu(), a, bias.data(), rows, cols, y.data());
    std::vector<double> d = delta;
    mlp_device::scale_by_derivative<double>(Device::cpu(), a, y.data(), rows, cols, d.data());
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        const double pre = z[r * cols + c] + bias[c];
        const double want = act(a, pre);
        ASSERT_NEAR(y[r * cols + c], want, 1e-14 * (1 + std::fabs(want))) << activation_name(a);
        double deriv = 1;
        if (a == Activation::kTanh) deriv = 1 - std::tanh(pre) * std::tanh(pre);
        if (a == Activation::kRelu) deriv = pre > 0 ? 1 : 0;
        if (a == Activation::kElu) deriv = pre > 0 ? 1 : std::exp(pre);
        ASSERT_NEAR(d[r * cols + c], delta[r * cols + c] * deriv, 1e-12) << activation_name(a);
      }
    }
  }
  // the bias gradient: the column's sum in row order, then added to db (bit for bit)
  std::vector<double> db(cols, 1.0);
  std::vector<double> scratch(mlp_device::column_sums_scratch_size(Device::cpu(), cols));
  mlp_device::add_column_sums<double>(Device::cpu(), delta.data(), rows, cols, db.data(),
                                      scratch.data());
  for (int c = 0; c < cols; ++c) {
    double sum = 0.0;
    for (int r = 0; r < rows; ++r) sum += delta[r * cols + c];
    EXPECT_EQ(db[c], 1.0 + sum);
  }
  // the GEMM is cuBLAS's: on the CPU it is an error naming the device
  EXPECT_NE(test::error_message([] {
              double a = 1, b = 1, c = 0;
              mlp_device::gemm_row_major<double>(Device::cpu(), false, false, 1, 1, 1, 1.0, &a, &b,
                                                 0.0, &c);
            }).find("cpu"),
            std::string::npos);
}

// forward and backward (weights, biases, dx) on cuda against the CPU's Eigen path, from the
// same parameters: float within 1e-5 relative, double within 1e-12.
template <class T>
void expect_cuda_matches_cpu(const Device& gpu, Activation hidden, Activation out, double rtol) {
  const MlpSpec spec{7, {33, 17}, 3, hidden, out};
  const Mlp<T> cpu_net(spec, Device::cpu()), gpu_net(spec, gpu);
  const int batch = 41;
  std::vector<T> p(cpu_net.num_params());
  cpu_net.init_orthogonal(p.data(), 9, 1.0);
  std::mt19937 gen(5);
  std::normal_distribution<double> nd(0.0, 1.0);
  for (T& v : p) v += static_cast<T>(0.1 * nd(gen));  // non-zero biases too
  std::vector<T> x(batch * spec.input_dim), dy(batch * spec.output_dim);
  for (T& v : x) v = static_cast<T>(nd(gen));
  for (T& v : dy) v = static_cast<T>(nd(gen));
  std::vector<T> dp(p.size(), T(0.5)), dx(x.size());

  auto ws = cpu_net.make_workspace(batch);
  const T* y = cpu_net.forward(p.data(), x.data(), batch, ws);
  const std::vector<T> y_cpu(y, y + batch * spec.output_dim);
  cpu_net.backward(p.data(), dy.data(), ws, dp.data(), dx.data());

  DeviceArray<T> d_p(gpu, p), d_x(gpu, x), d_dy(gpu, dy), d_dx(gpu, dx.size());
  DeviceArray<T> d_dp(gpu, std::vector<T>(p.size(), T(0.5)));
  auto d_ws = gpu_net.make_workspace(batch);
  const T* d_y = gpu_net.forward(d_p.data(), d_x.data(), batch, d_ws);
  std::vector<T> y_gpu(y_cpu.size());
  copy_bytes(y_gpu.data(), Device::cpu(), d_y, gpu, sizeof(T) * y_gpu.size());
  gpu_net.backward(d_p.data(), d_dy.data(), d_ws, d_dp.data(), d_dx.data());
  const auto close = [&](const std::vector<T>& want, const std::vector<T>& got, const char* what) {
    ASSERT_EQ(want.size(), got.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], rtol * (1.0 + std::fabs(static_cast<double>(want[i]))))
          << what << "[" << i << "] " << activation_name(hidden);
    }
  };
  close(y_cpu, y_gpu, "y");
  close(dp, d_dp.to_host(), "dparams");
  close(dx, d_dx.to_host(), "dx");
  // same seed, same initial parameters on both devices
  DeviceArray<T> d_init(gpu, p.size());
  gpu_net.init_orthogonal(d_init.data(), 9, 1.0);
  std::vector<T> init(p.size());
  cpu_net.init_orthogonal(init.data(), 9, 1.0);
  EXPECT_EQ(d_init.to_host(), init);
}

TEST(MlpDevice, CudaForwardBackwardMatchCpu) {
  CONVOY_DEVICE_OR_SKIP(gpu, "cuda");
  for (Activation a : {Activation::kTanh, Activation::kRelu, Activation::kElu}) {
    expect_cuda_matches_cpu<float>(gpu, a, Activation::kNone, 1e-5);
    expect_cuda_matches_cpu<double>(gpu, a, Activation::kTanh, 1e-12);
  }
}

// W W^T = gain^2 I for square and wide layers, W^T W = gain^2 I for tall ones; biases 0.
TEST(MlpInit, OrthogonalWithCleanRLGains) {
  MlpSpec spec{4, {64, 64}, 2};
  const Mlp<double> net(spec, Device::cpu());
  std::vector<double> p(net.num_params(), 5.0);
  net.init_orthogonal(p.data(), 123, 0.01);
  const double gains[] = {std::sqrt(2.0), std::sqrt(2.0), 0.01};
  double worst = 0;
  for (std::size_t l = 0; l < net.layers().size(); ++l) {
    const LinearLayout& L = net.layers()[l];
    const double* W = p.data() + L.weight_offset;
    const bool tall = L.out > L.in;
    const int k = tall ? L.in : L.out;  // the side that is orthonormal
    for (int a = 0; a < k; ++a) {
      for (int b = 0; b < k; ++b) {
        double dot = 0;
        if (tall) {
          for (int r = 0; r < L.out; ++r) dot += W[r * L.in + a] * W[r * L.in + b];
        } else {
          for (int c = 0; c < L.in; ++c) dot += W[a * L.in + c] * W[b * L.in + c];
        }
        const double want = a == b ? gains[l] * gains[l] : 0.0;
        worst = std::max(worst, std::fabs(dot - want) / (gains[l] * gains[l]));
      }
    }
    for (int o = 0; o < L.out; ++o) EXPECT_EQ(p[L.bias_offset + o], 0.0);
  }
  std::printf("[ init ] max |W W^T - g^2 I| / g^2 = %.2e\n", worst);
  EXPECT_LT(worst, 1e-12);
}

TEST(MlpInit, SameSeedSameBitsAcrossRunsAndThreads) {
  MlpSpec spec{8, {64, 64}, 3};
  const Mlp<float> net(spec, Device::cpu());
  std::vector<float> a(net.num_params()), b(net.num_params()), c(net.num_params());
  net.init_orthogonal(a.data(), 42, 1.0);
  const int threads = cpu_threads();
  set_cpu_threads(1);
  net.init_orthogonal(b.data(), 42, 1.0);
  set_cpu_threads(threads);
  net.init_orthogonal(c.data(), 43, 1.0);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  EXPECT_NE(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)), 0);
  // float parameters are the double ones rounded (the QR runs in double)
  const Mlp<double> net_d(spec, Device::cpu());
  std::vector<double> d(net_d.num_params());
  net_d.init_orthogonal(d.data(), 42, 1.0);
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], static_cast<float>(d[i])) << i;
  // and the entries look like an orthogonal matrix's, not a constant
  double sq = 0;
  for (int i = 0; i < 64 * 64; ++i) sq += double(a[64 * 8 + 64 + i]) * a[64 * 8 + 64 + i];
  EXPECT_NEAR(sq, 2.0 * 64, 1e-3);
}

// 1-32-32-1 tanh MLP, Adam, full batch of 128 points: MSE < 1e-3 within 3000 steps.
TEST(MlpFit, LearnsSinOnMinusPiToPi) {
  MlpSpec spec{1, {32, 32}, 1};
  const Mlp<float> net(spec, Device::cpu());
  DeviceArray<float> params(Device::cpu(), net.num_params());
  DeviceArray<float> grads(Device::cpu(), net.num_params());
  net.init_orthogonal(params.data(), 3, 1.0);
  AdamConfig cfg;
  cfg.lr = 3e-3;
  Adam<float> adam(Device::cpu(), net.num_params(), cfg);
  const int n = 128;
  std::vector<float> x(n), t(n), dy(n);
  for (int i = 0; i < n; ++i) {
    x[i] = static_cast<float>(-M_PI + 2 * M_PI * i / (n - 1));
    t[i] = std::sin(x[i]);
  }
  auto ws = net.make_workspace(n);
  const auto start = std::chrono::steady_clock::now();
  double mse = INFINITY;
  int step = 0;
  for (; step < 3000 && mse >= 1e-3; ++step) {
    const float* y = net.forward(params.data(), x.data(), n, ws);
    mse = 0;
    for (int i = 0; i < n; ++i) {
      mse += double(y[i] - t[i]) * (y[i] - t[i]) / n;
      dy[i] = 2.0f * (y[i] - t[i]) / n;
    }
    grads.zero();
    net.backward(params.data(), dy.data(), ws, grads.data());
    adam.step(params.data(), grads.data());
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ fit ] sin: MSE %.2e after %d steps in %.3f s\n", mse, step, secs);
  EXPECT_LT(mse, 1e-3);
  EXPECT_EQ(adam.steps(), step);
}

}  // namespace
}  // namespace convoy::rl
