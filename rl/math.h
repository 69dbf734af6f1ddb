// Scalar math for rl/ kernels: overloads that pick the float or double libm function on
// both backends (a bare exp(float) under g++ promotes to double; std::exp is not callable
// from device code), plus the numerically stable softplus and log-sigmoid forms the
// distributions need.
#pragma once

#include <math.h>

#include "sim/hd.h"

namespace convoy::rl::math {

CONVOY_HD_INLINE float exp(float x) { return ::expf(x); }
CONVOY_HD_INLINE double exp(double x) { return ::exp(x); }
CONVOY_HD_INLINE float log(float x) { return ::logf(x); }
CONVOY_HD_INLINE double log(double x) { return ::log(x); }
CONVOY_HD_INLINE float log1p(float x) { return ::log1pf(x); }
CONVOY_HD_INLINE double log1p(double x) { return ::log1p(x); }
CONVOY_HD_INLINE float tanh(float x) { return ::tanhf(x); }
CONVOY_HD_INLINE double tanh(double x) { return ::tanh(x); }
CONVOY_HD_INLINE float sqrt(float x) { return ::sqrtf(x); }
CONVOY_HD_INLINE double sqrt(double x) { return ::sqrt(x); }
CONVOY_HD_INLINE float abs(float x) { return ::fabsf(x); }
CONVOY_HD_INLINE double abs(double x) { return ::fabs(x); }

// log(1 + e^x) without overflow for large x or loss of precision for very negative x.
template <class T>
CONVOY_HD_INLINE T softplus(T x) {
  return (x > T(0) ? x : T(0)) + log1p(exp(-abs(x)));
}

// 1 / (1 + e^-x) without overflow.
template <class T>
CONVOY_HD_INLINE T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + exp(-x));
  const T e = exp(x);
  return e / (T(1) + e);
}

// gamma^steps for an n-step transition's bootstrap (steps >= 1, a whole number), by repeated
// products so a one-step transition gets gamma's own bits on every backend.
template <class T>
CONVOY_HD_INLINE T discount_pow(T gamma, T steps) {
  T d = gamma;
  for (int k = 1; k < static_cast<int>(steps); ++k) d *= gamma;
  return d;
}

}  // namespace convoy::rl::math
