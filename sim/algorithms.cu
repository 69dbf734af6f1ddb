#include <thrust/functional.h>
#include <thrust/reduce.h>
#include <thrust/scan.h>
#include <thrust/sort.h>
#include <thrust/system/omp/execution_policy.h>

#include "sim/algorithms.h"

#if defined(__CUDACC__)
#include <thrust/system/cuda/execution_policy.h>
#endif

#include <limits>

#include "sim/error.h"

namespace convoy {

namespace {
// Calls f with the Thrust execution policy that runs on `device`.
template <class F>
auto with_policy(const Device& device, F&& f) {
  if (device.is_cuda()) {
#if defined(__CUDACC__)
    activate(device);
    return f(thrust::cuda::par);
#else
    throw Error("device " + device.str() + " is not available in this build");
#endif
  }
  return f(thrust::omp::par);
}
}  // namespace

template <class T>
T reduce_sum(const Device& device, const T* data, std::int64_t n) {
  if (n <= 0) return T(0);
  return with_policy(device, [&](auto policy) {
    return thrust::reduce(policy, data, data + n, T(0), thrust::plus<T>());
  });
}

template <class T>
T reduce_max(const Device& device, const T* data, std::int64_t n) {
  if (n <= 0) throw Error("reduce_max of an empty range");
  return with_policy(device, [&](auto policy) {
    return thrust::reduce(policy, data, data + n, std::numeric_limits<T>::lowest(),
                          thrust::maximum<T>());
  });
}

template <class T>
void inclusive_scan(const Device& device, const T* in, T* out, std::int64_t n) {
  if (n <= 0) return;
  with_policy(device, [&](auto policy) {
    thrust::inclusive_scan(policy, in, in + n, out);
    return 0;
  });
}

template <class K, class V>
void sort_by_key(const Device& device, K* keys, V* values, std::int64_t n) {
  if (n <= 1) return;
  with_policy(device, [&](auto policy) {
    thrust::stable_sort_by_key(policy, keys, keys + n, values);
    return 0;
  });
}

#define CONVOY_INSTANTIATE_NUMERIC(T)                              \
  template T reduce_sum<T>(const Device&, const T*, std::int64_t); \
  template T reduce_max<T>(const Device&, const T*, std::int64_t); \
  template void inclusive_scan<T>(const Device&, const T*, T*, std::int64_t);

CONVOY_INSTANTIATE_NUMERIC(float)
CONVOY_INSTANTIATE_NUMERIC(double)
CONVOY_INSTANTIATE_NUMERIC(std::int32_t)
CONVOY_INSTANTIATE_NUMERIC(std::int64_t)
#undef CONVOY_INSTANTIATE_NUMERIC

template void sort_by_key<float, std::int32_t>(const Device&, float*, std::int32_t*, std::int64_t);
template void sort_by_key<std::uint32_t, std::int32_t>(const Device&, std::uint32_t*, std::int32_t*,
                                                       std::int64_t);
template void sort_by_key<std::int32_t, std::int32_t>(const Device&, std::int32_t*, std::int32_t*,
                                                      std::int64_t);

}  // namespace convoy
