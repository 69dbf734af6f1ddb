// Adam over one flat parameter buffer, with global-norm gradient clipping and CleanRL's
// linear learning-rate annealing. The update is torch.optim.Adam's (no weight decay, no
// amsgrad), so a run can be compared with a PyTorch reference step for step:
//   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,  t <- t + 1
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// The moments are two DeviceArrays as long as the parameters, so a checkpoint saves them
// with one copy each. The step is one for_each_index launch and so runs on every backend;
// clip_grad_norm hands its norm to the host and is CPU-only; clip_grad_norm_on_device keeps it
// on the device (every backend).
#pragma once

#include <cstdint>

#include "sim/array.h"
#include "sim/device.h"

namespace convoy::rl {

struct AdamConfig {
  double lr = 3e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-5;  // CleanRL's PPO; torch's default is 1e-8

  // Throws convoy::Error naming the field when a value is out of range.
  void validate() const;
};

template <class T>
class Adam {
 public:
  Adam(const Device& device, std::int64_t num_params, const AdamConfig& config = {});

  // One update of params (num_params) from grads (same layout), both on device().
  void step(T* params, const T* grads);

  void set_lr(double lr);
  double lr() const { return config_.lr; }
  const AdamConfig& config() const { return config_; }
  std::int64_t steps() const { return steps_; }
  // Restores a checkpointed step count (the moments are restored through m() and v()).
  void set_steps(std::int64_t steps);
  const Device& device() const { return m_.device(); }
  std::int64_t size() const { return m_.size(); }
  // Zeroes the moments and the step count.
  void reset();

  DeviceArray<T>& m() { return m_; }
  DeviceArray<T>& v() { return v_; }
  const DeviceArray<T>& m() const { return m_; }
  const DeviceArray<T>& v() const { return v_; }

 private:
  AdamConfig config_;
  DeviceArray<T> m_;  // first moment (num_params)
  DeviceArray<T> v_;  // second moment (num_params)
  std::int64_t steps_ = 0;
};

extern template class Adam<float>;
extern template class Adam<double>;

// Scales grads[0..n) by max_norm / ||grads|| when the L2 norm exceeds max_norm (exactly onto
// the ball: torch's clip_grad_norm_ adds 1e-6 to the norm, this does not) and leaves them
// alone otherwise. Returns the norm before clipping, accumulated in double. CPU only (the
// norm goes to the host); see clip_grad_norm_on_device below.
template <class T>
double clip_grad_norm(const Device& device, T* grads, std::int64_t n, double max_norm);

// clip_grad_norm without a host round trip, on any device: the norm before clipping lands in
// *d_norm (on the device) and the grads are scaled there; max_norm 0 measures only. The CPU
// runs clip_grad_norm itself (its bits and speed). scratch: at least
// clip_grad_norm_scratch(device) doubles on the device (none on the CPU).
template <class T>
void clip_grad_norm_on_device(const Device& device, T* grads, std::int64_t n, double max_norm,
                              double* d_norm, double* scratch);
std::int64_t clip_grad_norm_scratch(const Device& device);

// CleanRL's annealing: lr0 * (1 - (iteration - 1) / num_iterations) for iteration in
// 1..num_iterations, so the first iteration uses lr0 and the last lr0 / num_iterations.
double linear_anneal_lr(double lr0, std::int64_t iteration, std::int64_t num_iterations);

}  // namespace convoy::rl
