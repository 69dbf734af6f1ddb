// for_each_index(device, n, f) runs f(i) for every i < n: a static-chunked OpenMP loop on
// the CPU, a grid-stride kernel on CUDA. f must be a CONVOY_HD functor or lambda that only
// touches device-resident data it captured by value. This is the only launch primitive the
// engine needs; reductions, scans and sorts live in sim/algorithms.h.
//
// Files that call these with a CUDA device must be .cu (compiled by nvcc when CUDA is on).
#pragma once

#include <cstdint>

#include "sim/device.h"
#include "sim/error.h"
#include "sim/hd.h"

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#endif

namespace convoy {

// Launch shape for the CUDA path. Kept as a named policy rather than magic numbers in calls.
struct LaunchPolicy {
  static constexpr int kBlockThreads = 256;
  static constexpr std::int64_t kMaxBlocks = 65535L * 32;
  // CPU: loops shorter than this run on the calling thread. An OpenMP fork/join costs a few
  // microseconds on an idle machine and about a millisecond when another process holds a
  // core; PPO's 8-env steps spent most of their time there (its CartPole test: 55 s next to
  // a compile with threads, 3.8 s on one). Results do not depend on it: every index is
  // independent.
  static constexpr std::int64_t kMinParallel = 64;
};

#if defined(__CUDACC__)
namespace detail {
template <class F>
__global__ void for_each_index_kernel(std::int64_t n, F f) {
  const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    f(i);
  }
}

template <class F>
__global__ void count_if_index_kernel(std::int64_t n, F pred, unsigned long long* count) {
  const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  unsigned long long mine = 0;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    mine += pred(i) ? 1 : 0;
  }
  if (mine) atomicAdd(count, mine);
}

inline unsigned grid_for(std::int64_t n) {
  std::int64_t blocks = (n + LaunchPolicy::kBlockThreads - 1) / LaunchPolicy::kBlockThreads;
  if (blocks > LaunchPolicy::kMaxBlocks) blocks = LaunchPolicy::kMaxBlocks;
  return static_cast<unsigned>(blocks);
}
}  // namespace detail
#endif

template <class F>
void for_each_index(const Device& device, std::int64_t n, F f) {
  if (n <= 0) return;
  if (device.is_cuda()) {
#if defined(__CUDACC__)
    activate(device);
    detail::for_each_index_kernel<<<detail::grid_for(n), LaunchPolicy::kBlockThreads>>>(n, f);
    CONVOY_CUDA_CHECK(cudaGetLastError());
    return;
#else
    throw Error("for_each_index on " + device.str() +
                " from a file not compiled by nvcc (kernel files must be .cu)");
#endif
  }
#pragma omp parallel for schedule(static) if (n >= LaunchPolicy::kMinParallel)
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

// CPU only: f(begin, end) for consecutive blocks of `block` indices covering [0, n), the blocks
// split statically across OpenMP threads (on the calling thread below kMinParallel indices).
// For stages that work on several indices at once (SIMD) or fuse passes over the same envs;
// a block's bounds depend on n and `block` only. Returns the sum of f's results
// (std::int64_t), e.g. a count.
template <class F>
std::int64_t for_each_block_cpu(std::int64_t n, std::int64_t block, F f) {
  if (n <= 0) return 0;
  const std::int64_t blocks = (n + block - 1) / block;
  std::int64_t sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (n >= LaunchPolicy::kMinParallel)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t begin = b * block;
    sum += f(begin, n - begin < block ? n : begin + block);
  }
  return sum;
}

// Envs per block of the CPU's fused step-and-compose pass (sim/autoreset.h): small enough that
// a block's state and outputs stay in L1 between the passes, large enough to amortise them.
constexpr std::int64_t kComposeBlock = 256;

// Number of i < n with pred(i) true. Synchronous: the count is on the host when it returns.
template <class F>
std::int64_t count_if_index(const Device& device, std::int64_t n, F pred) {
  if (n <= 0) return 0;
  if (device.is_cuda()) {
#if defined(__CUDACC__)
    activate(device);
    unsigned long long* d_count = nullptr;
    CONVOY_CUDA_CHECK(cudaMalloc(&d_count, sizeof(unsigned long long)));
    CONVOY_CUDA_CHECK(cudaMemset(d_count, 0, sizeof(unsigned long long)));
    detail::count_if_index_kernel<<<detail::grid_for(n), LaunchPolicy::kBlockThreads>>>(n, pred,
                                                                                        d_count);
    unsigned long long h_count = 0;
    const cudaError_t launch = cudaGetLastError();
    const cudaError_t copy =
        cudaMemcpy(&h_count, d_count, sizeof(unsigned long long), cudaMemcpyDeviceToHost);
    cudaFree(d_count);
    CONVOY_CUDA_CHECK(launch);
    CONVOY_CUDA_CHECK(copy);
    return static_cast<std::int64_t>(h_count);
#else
    throw Error("count_if_index on " + device.str() +
                " from a file not compiled by nvcc (kernel files must be .cu)");
#endif
  }
  std::int64_t count = 0;
#pragma omp parallel for schedule(static) reduction(+ : count) if (n >= LaunchPolicy::kMinParallel)
  for (std::int64_t i = 0; i < n; ++i) count += pred(i) ? 1 : 0;
  return count;
}

}  // namespace convoy
