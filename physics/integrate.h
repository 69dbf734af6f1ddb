// Fixed-step integrators over a right-hand side functor f(x, dx) whose type names its state size
// as F::kStateDim: explicit Euler (what highway-env and Gymnasium use) and classic RK4 (what the
// F1TENTH gym uses). Scratch lives on the stack, sized at compile time, so they run unchanged in
// a CUDA thread.
#pragma once

#include "sim/hd.h"

namespace convoy::physics {

enum class Integrator : int { kEuler = 0, kRk4 = 1 };

// x += dt f(x)
template <class F, class T>
CONVOY_HD_INLINE void euler_step(const F& f, T* x, T dt) {
  constexpr int n = F::kStateDim;
  T k[n];
  f(x, k);
  for (int i = 0; i < n; ++i) x[i] += dt * k[i];
}

// Classic fourth-order Runge-Kutta.
template <class F, class T>
CONVOY_HD_INLINE void rk4_step(const F& f, T* x, T dt) {
  constexpr int n = F::kStateDim;
  T k1[n], k2[n], k3[n], k4[n], tmp[n];
  const T half = dt / T(2);
  f(x, k1);
  for (int i = 0; i < n; ++i) tmp[i] = x[i] + half * k1[i];
  f(tmp, k2);
  for (int i = 0; i < n; ++i) tmp[i] = x[i] + half * k2[i];
  f(tmp, k3);
  for (int i = 0; i < n; ++i) tmp[i] = x[i] + dt * k3[i];
  f(tmp, k4);
  for (int i = 0; i < n; ++i) x[i] += dt / T(6) * (k1[i] + T(2) * (k2[i] + k3[i]) + k4[i]);
}

// Advances x by dt in `substeps` equal steps of the chosen method.
template <class F, class T>
CONVOY_HD_INLINE void integrate(const F& f, T* x, T dt, int substeps, Integrator method) {
  const T h = dt / T(substeps);
  for (int s = 0; s < substeps; ++s) {
    if (method == Integrator::kRk4) {
      rk4_step(f, x, h);
    } else {
      euler_step(f, x, h);
    }
  }
}

}  // namespace convoy::physics
