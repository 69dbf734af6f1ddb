#include <cmath>
#include <string>

#include "rl/adam.h"
#include "rl/math.h"
#include "rl/reduce.h"
#include "sim/error.h"
#include "sim/parallel.h"

namespace convoy::rl {

namespace {

// One Adam update of parameter i. The scalars are folded on the host in double once per
// step, so every index does the same few operations in T.
template <class T>
struct AdamStepFn {
  T* p;
  const T* g;
  T* m;
  T* v;
  T beta1, beta2;
  T step_size;       // lr / (1 - beta1^t)
  T inv_sqrt_bias2;  // 1 / sqrt(1 - beta2^t)
  T eps;
  CONVOY_HD void operator()(std::int64_t i) const {
    const T gi = g[i];
    const T mi = beta1 * m[i] + (T(1) - beta1) * gi;
    const T vi = beta2 * v[i] + (T(1) - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (math::sqrt(vi) * inv_sqrt_bias2 + eps);
  }
};

void check_range(const char* name, double value, double lo, double hi, bool lo_open) {
  const bool ok = std::isfinite(value) && (lo_open ? value > lo : value >= lo) && value < hi;
  if (!ok) {
    throw Error(std::string("Adam ") + name + " " + std::to_string(value) +
                " is invalid; allowed: " + (lo_open ? "(" : "[") + std::to_string(lo) + ", " +
                std::to_string(hi) + ")");
  }
}

}  // namespace

void AdamConfig::validate() const {
  check_range("lr", lr, 0.0, INFINITY, false);
  check_range("beta1", beta1, 0.0, 1.0, false);
  check_range("beta2", beta2, 0.0, 1.0, false);
  check_range("eps", eps, 0.0, INFINITY, false);
}

template <class T>
Adam<T>::Adam(const Device& device, std::int64_t num_params, const AdamConfig& config)
    : config_(config), m_(device, num_params), v_(device, num_params) {
  config_.validate();
  reset();
}

template <class T>
void Adam<T>::reset() {
  m_.zero();
  v_.zero();
  steps_ = 0;
}

template <class T>
void Adam<T>::set_lr(double lr) {
  AdamConfig c = config_;
  c.lr = lr;
  c.validate();
  config_ = c;
}

template <class T>
void Adam<T>::set_steps(std::int64_t steps) {
  if (steps < 0) {
    throw Error("Adam step count " + std::to_string(steps) + " is invalid; allowed: >= 0");
  }
  steps_ = steps;
}

template <class T>
void Adam<T>::step(T* params, const T* grads) {
  ++steps_;
  const double t = static_cast<double>(steps_);
  const double bias1 = 1.0 - std::pow(config_.beta1, t);
  const double bias2 = 1.0 - std::pow(config_.beta2, t);
  AdamStepFn<T> fn{params,
                   grads,
                   m_.data(),
                   v_.data(),
                   static_cast<T>(config_.beta1),
                   static_cast<T>(config_.beta2),
                   static_cast<T>(config_.lr / bias1),
                   static_cast<T>(1.0 / std::sqrt(bias2)),
                   static_cast<T>(config_.eps)};
  for_each_index(m_.device(), m_.size(), fn);
}

template class Adam<float>;
template class Adam<double>;

template <class T>
double clip_grad_norm(const Device& device, T* grads, std::int64_t n, double max_norm) {
  if (!device.is_cpu()) {
    throw Error("clip_grad_norm is not implemented on cuda yet (device " + device.str() + ")");
  }
  if (!(max_norm > 0.0)) {
    throw Error("clip_grad_norm max_norm " + std::to_string(max_norm) +
                " is invalid; allowed: > 0");
  }
  // one serial pass in double: bit-reproducible at any thread count, and n is the parameter
  // count (tens of thousands), not the batch
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(grads[i]) * grads[i];
  const double norm = std::sqrt(sum);
  if (norm > max_norm) {
    const double scale = max_norm / norm;
    for (std::int64_t i = 0; i < n; ++i) grads[i] = static_cast<T>(grads[i] * scale);
  }
  return norm;
}

template double clip_grad_norm<float>(const Device&, float*, std::int64_t, double);
template double clip_grad_norm<double>(const Device&, double*, std::int64_t, double);

namespace {
// sum (the sum of squares) -> grads scaled onto the max_norm ball when outside it
template <class T>
struct ClipScaleFn {
  T* grads;
  double max_norm;
  const double* sum;
  CONVOY_HD void operator()(std::int64_t i) const {
    const double norm = math::sqrt(*sum);
    if (norm > max_norm) grads[i] = static_cast<T>(grads[i] * (max_norm / norm));
  }
};
struct SqrtFn {
  double* x;
  CONVOY_HD void operator()(std::int64_t) const { *x = math::sqrt(*x); }
};
}  // namespace

std::int64_t clip_grad_norm_scratch(const Device& device) {
  return reduce::scratch_size(device, 1);
}

template <class T>
void clip_grad_norm_on_device(const Device& device, T* grads, std::int64_t n, double max_norm,
                              double* d_norm, double* scratch) {
  if (!(max_norm >= 0.0)) {
    throw Error("clip_grad_norm max_norm " + std::to_string(max_norm) +
                " is invalid; allowed: >= 0 (0: measure only)");
  }
  if (device.is_cuda()) {
    reduce::columns<double, reduce::Sum, reduce::Square>(device, grads, n, 1, d_norm, false,
                                                         scratch);
    if (max_norm > 0.0) for_each_index(device, n, ClipScaleFn<T>{grads, max_norm, d_norm});
    for_each_index(device, 1, SqrtFn{d_norm});
    return;
  }
  // the CPU: device memory is host memory, so clip_grad_norm itself (its bits, its speed)
  if (max_norm > 0.0) {
    *d_norm = clip_grad_norm(device, grads, n, max_norm);
    return;
  }
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(grads[i]) * grads[i];
  *d_norm = std::sqrt(sum);
}

template void clip_grad_norm_on_device<float>(const Device&, float*, std::int64_t, double, double*,
                                              double*);
template void clip_grad_norm_on_device<double>(const Device&, double*, std::int64_t, double,
                                               double*, double*);

double linear_anneal_lr(double lr0, std::int64_t iteration, std::int64_t num_iterations) {
  if (num_iterations <= 0 || iteration < 1 || iteration > num_iterations) {
    throw Error("linear_anneal_lr iteration " + std::to_string(iteration) + " of " +
                std::to_string(num_iterations) + " is invalid; allowed: 1..num_iterations");
  }
  const double frac =
      1.0 - static_cast<double>(iteration - 1) / static_cast<double>(num_iterations);
  return frac * lr0;
}

}  // namespace convoy::rl
