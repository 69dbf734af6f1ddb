// Finite-difference gradient checks for the rl/ tests, in double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace convoy::test {

// d f / d x[i] for every i by the fourth-order central difference
//   (-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / 12h,
// whose truncation error is O(h^4): with h = 1e-4 both it and the rounding error
// (about 1e-16 |f| / h) sit near 1e-12, well under the 1e-6 the checks demand.
template <class F>
std::vector<double> numeric_gradient(F&& f, std::vector<double>& x, double h = 1e-4) {
  std::vector<double> g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    auto at = [&](double d) {
      x[i] = x0 + d;
      return f();
    };
    g[i] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
    x[i] = x0;
  }
  return g;
}

// max_i |a_i - b_i| / max(|a_i|, |b_i|, floor): relative where the gradient is not tiny;
// `floor` keeps entries that are exactly zero (a dead relu unit, a symmetric term) from
// dividing the difference's rounding noise (about 1e-12) by zero: below it the error is
// absolute, scaled by 1 / floor.
inline double max_relative_error(const std::vector<double>& a, const std::vector<double>& b,
                                 double floor = 1e-4) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double scale = std::max({std::fabs(a[i]), std::fabs(b[i]), floor});
    worst = std::max(worst, std::fabs(a[i] - b[i]) / scale);
  }
  return a.size() == b.size() ? worst : INFINITY;
}

}  // namespace convoy::test
