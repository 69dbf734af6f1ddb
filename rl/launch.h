// The learners' per-row and per-element loops (rl/ppo_kernels.cu, rl/sac_kernels.cu): a
// for_each_index launch on CUDA; on the CPU a plain loop in the caller's thread, in index order,
// because an OpenMP fork per minibatch step costs more than these short loops and the serial
// order keeps the CPU results' bits. Call from .cu files only (it launches kernels).
#pragma once

#include <cstdint>

#include "sim/device.h"
#include "sim/parallel.h"

namespace convoy::rl {

template <class F>
void launch(const Device& device, std::int64_t n, const F& f) {
  if (device.is_cuda()) {
    for_each_index(device, n, f);
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

}  // namespace convoy::rl
