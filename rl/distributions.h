// Action distributions for the policy heads, one batch row at a time: CONVOY_HD functions
// over raw pointers that a learner's kernel (for_each_index over the batch) or a host loop
// calls per row. Each has its log-probability, entropy where PPO needs it, a sampler fed
// by a Philox stream, and a hand-written backward that ADDS upstream-weighted gradients
// into the caller's buffers (so per-row log-std gradients can accumulate into one shared
// state-independent log-std).
//
//   categorical:        logits (n)                      PPO, discrete actions
//   diagonal Gaussian:  mean (dim), log_std (dim)       PPO, continuous actions
//   tanh-squashed:      mean (dim), log_std (dim), eps  SAC (reparameterised)
#pragma once

#include <cstdint>

#include "rl/math.h"
#include "sim/hd.h"
#include "sim/rng.h"

namespace convoy::rl {

inline constexpr double kLog2Pi = 1.8378770664093454835606594728112;
inline constexpr double kLog2 = 0.69314718055994530941723212145818;

// --- categorical over logits ------------------------------------------------------------

// log sum_i exp(logits[i]), shifted by the max so that no exp overflows.
template <class T>
CONVOY_HD_INLINE T categorical_log_normalizer(const T* logits, int n) {
  T top = logits[0];
  for (int i = 1; i < n; ++i) top = logits[i] > top ? logits[i] : top;
  T sum = T(0);
  for (int i = 0; i < n; ++i) sum += math::exp(logits[i] - top);
  return top + math::log(sum);
}

template <class T>
CONVOY_HD_INLINE T categorical_log_prob(const T* logits, int n, int action) {
  return logits[action] - categorical_log_normalizer(logits, n);
}

// H = -sum p log p = lse - sum p_i z_i.
template <class T>
CONVOY_HD_INLINE T categorical_entropy(const T* logits, int n) {
  const T lse = categorical_log_normalizer(logits, n);
  T h = T(0);
  for (int i = 0; i < n; ++i) {
    const T logp = logits[i] - lse;
    h -= math::exp(logp) * logp;
  }
  return h;
}

// Inverse-CDF draw with one 53-bit uniform.
template <class T>
CONVOY_HD_INLINE int categorical_sample(const T* logits, int n, PhiloxStream& rng) {
  const T lse = categorical_log_normalizer(logits, n);
  const double u = rng.uniform_double();
  double cum = 0.0;
  for (int i = 0; i < n - 1; ++i) {
    cum += static_cast<double>(math::exp(logits[i] - lse));
    if (u < cum) return i;
  }
  return n - 1;  // also catches a total that rounds below u
}

// dlogits[i] += g_log_prob * dlogp(action)/dz_i + g_entropy * dH/dz_i, where
//   dlogp/dz_i = [i == action] - p_i,   dH/dz_i = -p_i (z_i - sum_j p_j z_j).
template <class T>
CONVOY_HD_INLINE void categorical_backward(const T* logits, int n, int action, T g_log_prob,
                                           T g_entropy, T* dlogits) {
  const T lse = categorical_log_normalizer(logits, n);
  T mean_logit = T(0);
  for (int i = 0; i < n; ++i) mean_logit += math::exp(logits[i] - lse) * logits[i];
  for (int i = 0; i < n; ++i) {
    const T p = math::exp(logits[i] - lse);
    const T dlogp = (i == action ? T(1) : T(0)) - p;
    const T dent = -p * (logits[i] - mean_logit);
    dlogits[i] += g_log_prob * dlogp + g_entropy * dent;
  }
}

// --- diagonal Gaussian ----------------------------------------------------------------
// PPO's continuous head: the mean comes from the network, log_std is a free parameter
// (state-independent, CleanRL), so one log_std row serves every batch row.

// sum_i [-((x_i - mu_i) / sigma_i)^2 / 2 - log sigma_i - log(2 pi) / 2]
template <class T>
CONVOY_HD_INLINE T gaussian_log_prob(const T* mean, const T* log_std, const T* x, int dim) {
  T lp = T(0);
  for (int i = 0; i < dim; ++i) {
    const T z = (x[i] - mean[i]) * math::exp(-log_std[i]);
    lp += T(-0.5) * z * z - log_std[i] - T(0.5 * kLog2Pi);
  }
  return lp;
}

// sum_i [1/2 + log(2 pi) / 2 + log sigma_i]
template <class T>
CONVOY_HD_INLINE T gaussian_entropy(const T* log_std, int dim) {
  T h = T(0);
  for (int i = 0; i < dim; ++i) h += T(0.5 + 0.5 * kLog2Pi) + log_std[i];
  return h;
}

// x = mean + sigma * N(0, 1).
template <class T>
CONVOY_HD_INLINE void gaussian_sample(const T* mean, const T* log_std, int dim, PhiloxStream& rng,
                                      T* x) {
  for (int i = 0; i < dim; ++i) {
    x[i] = mean[i] + math::exp(log_std[i]) * static_cast<T>(rng.normal());
  }
}

// With z = (x - mu) / sigma, x held fixed:
//   dmean[i]    += g_log_prob * z_i / sigma_i
//   dlog_std[i] += g_log_prob * (z_i^2 - 1) + g_entropy
template <class T>
CONVOY_HD_INLINE void gaussian_backward(const T* mean, const T* log_std, const T* x, int dim,
                                        T g_log_prob, T g_entropy, T* dmean, T* dlog_std) {
  for (int i = 0; i < dim; ++i) {
    const T inv_sigma = math::exp(-log_std[i]);
    const T z = (x[i] - mean[i]) * inv_sigma;
    dmean[i] += g_log_prob * z * inv_sigma;
    dlog_std[i] += g_log_prob * (z * z - T(1)) + g_entropy;
  }
}

// --- tanh-squashed Gaussian (SAC) -------------------------------------------------------
// u = mean + sigma * eps with eps ~ N(0, 1) drawn by the caller (reparameterisation), the
// action a = tanh(u) in (-1, 1), and
//   log pi(a) = sum_i [-eps_i^2 / 2 - log sigma_i - log(2 pi) / 2 - log(1 - tanh(u_i)^2)]
// with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which stays finite where tanh(u)
// rounds to +-1. Scaling a to an action box (a * scale + bias) subtracts the constant
// sum log scale, which the caller adds.

// eps[i] ~ N(0, 1) for i < dim.
template <class T>
CONVOY_HD_INLINE void normal_noise(PhiloxStream& rng, int dim, T* eps) {
  for (int i = 0; i < dim; ++i) eps[i] = static_cast<T>(rng.normal());
}

template <class T>
CONVOY_HD_INLINE T squashed_log_det(T u) {  // log(1 - tanh(u)^2)
  return T(2) * (T(kLog2) - u - math::softplus(T(-2) * u));
}

// Writes a = tanh(mean + sigma * eps) (dim) and returns log pi(a).
template <class T>
CONVOY_HD_INLINE T squashed_gaussian_rsample(const T* mean, const T* log_std, const T* eps, int dim,
                                             T* action) {
  T lp = T(0);
  for (int i = 0; i < dim; ++i) {
    const T u = mean[i] + math::exp(log_std[i]) * eps[i];
    action[i] = math::tanh(u);
    lp += T(-0.5) * eps[i] * eps[i] - log_std[i] - T(0.5 * kLog2Pi) - squashed_log_det(u);
  }
  return lp;
}

// Backward through the reparameterised sample for a loss L(log pi(a), a), eps held fixed:
// given g_log_prob = dL/dlog pi and g_action = dL/da (dim; null when L ignores a), adds
//   dmean[i]    += g_log_prob * 2 tanh(u_i) + g_action[i] * (1 - a_i^2)
//   dlog_std[i] += g_log_prob * (2 tanh(u_i) sigma_i eps_i - 1)
//                  + g_action[i] * (1 - a_i^2) sigma_i eps_i
// since du/dmean = 1, du/dlog_std = sigma eps, d/du[-log(1 - tanh^2 u)] = 2 tanh u.
template <class T>
CONVOY_HD_INLINE void squashed_gaussian_backward(const T* mean, const T* log_std, const T* eps,
                                                 int dim, T g_log_prob, const T* g_action, T* dmean,
                                                 T* dlog_std) {
  for (int i = 0; i < dim; ++i) {
    const T sigma = math::exp(log_std[i]);
    const T u = mean[i] + sigma * eps[i];
    const T a = math::tanh(u);
    T du = g_log_prob * T(2) * a;
    if (g_action != nullptr) du += g_action[i] * (T(1) - a * a);
    dmean[i] += du;
    dlog_std[i] += du * sigma * eps[i] - g_log_prob;
  }
}

}  // namespace convoy::rl
