// rl/reduce.h's column reductions. A .cu file: they launch kernels (sim/parallel.h), and in a
// CUDA-enabled build only nvcc may instantiate a launch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "rl/reduce.h"
#include "sim/array.h"

namespace convoy::rl {
namespace {

// The CUDA reduction (row ranges per column, then each column's partials) run on the CPU
// with several chunk counts: the same sums (to rounding) and maxima as plain loops, with and
// without accumulating into out, over rows that do not divide evenly.
TEST(Reduce, ChunkedColumnsMatchPlainLoops) {
  const std::int64_t rows = 1003;
  const int cols = 3;
  std::vector<float> x(rows * cols);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.7f * i) + 0.25f * (i % cols);
  double want_sum[cols] = {0, 0, 0}, want_sq[cols] = {0, 0, 0}, want_max[cols] = {0, 0, 0};
  for (std::int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double v = x[r * cols + c];
      want_sum[c] += v;
      want_sq[c] += v * v;
      want_max[c] = std::max(want_max[c], v);
    }
  }
  for (int chunks : {1, 2, 7, 64, 2000}) {
    std::vector<double> scratch(cols * chunks), sum(cols, 0.0), sq(cols, 0.0), mx(cols, 0.0),
        acc(cols, 10.0);
    reduce::columns_chunked<double>(Device::cpu(), x.data(), rows, cols, sum.data(), false,
                                    scratch.data(), chunks);
    reduce::columns_chunked<double, reduce::Sum, reduce::Square>(
        Device::cpu(), x.data(), rows, cols, sq.data(), false, scratch.data(), chunks);
    reduce::columns_chunked<double, reduce::Max>(Device::cpu(), x.data(), rows, cols, mx.data(),
                                                 false, scratch.data(), chunks);
    reduce::columns_chunked<double>(Device::cpu(), x.data(), rows, cols, acc.data(), true,
                                    scratch.data(), chunks);
    for (int c = 0; c < cols; ++c) {
      EXPECT_NEAR(sum[c], want_sum[c], 1e-9) << chunks;
      EXPECT_NEAR(sq[c], want_sq[c], 1e-9) << chunks;
      EXPECT_EQ(mx[c], want_max[c]) << chunks;
      EXPECT_NEAR(acc[c], 10.0 + want_sum[c], 1e-9) << chunks;
    }
  }
  // the CPU's columns(): one chunk per column, exactly the serial loop's sums
  std::vector<double> serial(cols, 0.0);
  reduce::columns<double>(Device::cpu(), x.data(), rows, cols, serial.data());
  for (int c = 0; c < cols; ++c) EXPECT_EQ(serial[c], want_sum[c]);
}

}  // namespace
}  // namespace convoy::rl
