// Device-wide reductions, scans and sorts over raw device pointers. On CUDA they run
// through Thrust/CUB on the default stream; on the CPU through Thrust's OpenMP system.
// Declared here without Thrust so that any file may call them; sim/algorithms.cu holds the
// one (slow to compile) translation unit that includes Thrust and instantiates them for
// the types listed there.
#pragma once

#include <cstdint>

#include "sim/device.h"

namespace convoy {

// Sum of data[0..n). T: float, double, int32_t, int64_t.
template <class T>
T reduce_sum(const Device& device, const T* data, std::int64_t n);

// Maximum of data[0..n) (n >= 1). T: float, double, int32_t, int64_t.
template <class T>
T reduce_max(const Device& device, const T* data, std::int64_t n);

// out[i] = in[0] + ... + in[i]; in and out may alias. T: float, double, int32_t, int64_t.
template <class T>
void inclusive_scan(const Device& device, const T* in, T* out, std::int64_t n);

// Stable ascending sort of keys, carrying values along. (K, V): (float, int32_t),
// (uint32_t, int32_t), (int32_t, int32_t).
template <class K, class V>
void sort_by_key(const Device& device, K* keys, V* values, std::int64_t n);

}  // namespace convoy
