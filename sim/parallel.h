// for_each_index(device, n, f) runs f(i) for every i < n: a static-chunked OpenMP loop on
// the CPU, a grid-stride kernel on CUDA. f must be a CONVOY_HD functor or lambda that only
// touches device-resident data it captured by value. This is the only launch primitive the
// engine needs; reductions, scans and sorts live in sim/algorithms.h.
//
// Files that call these with a CUDA device must be .cu (compiled by nvcc when CUDA is on).
//
// One definition per symbol (DESIGN.md 1): the launch templates' bodies differ between nvcc's
// pass and g++'s, so they live in an inline namespace named after the pass (nvcc_pass or
// host_pass) and the two kinds of object can never share a symbol. In a CUDA-enabled build a
// g++ file may not instantiate them at all (a compile error): it could not launch on a GPU.
// tests/check_one_definition.py checks the CUDA build's objects and binaries for this.
//
// Launches are order-free: an index must not read what another index of the same launch
// writes. CONVOY_SHUFFLED_LAUNCH=1 makes the CPU visit each launch's indices in a
// pseudo-random order, so a result that depends on the order (a race on a GPU) shows up as
// changed bits on a machine without one.
#pragma once

#include <cstdint>
#include <type_traits>

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
  // core. Results do not depend on it: every index is independent.
  static constexpr std::int64_t kMinParallel = 64;
};

// Envs per block of the CPU's fused step-and-compose pass (sim/autoreset.h): small enough that
// a block's state and outputs stay in L1 between the passes, large enough to amortise them.
constexpr std::int64_t kComposeBlock = 256;

// The launch gate: while a LaunchGate is alive on a host thread, every launch that thread
// makes through for_each_index / for_each_block_cpu / count_if_index is skipped whole when
// *gate != 0 at the time it runs (read on the device on CUDA, so no host sync is needed).
// The engine closes it when a step's actions fail validation on the device, leaving the
// env's state as it was (sim/step_status.h).
class LaunchGate {
 public:
  explicit LaunchGate(const std::uint32_t* gate) : saved_(current()) { current() = gate; }
  ~LaunchGate() { current() = saved_; }
  LaunchGate(const LaunchGate&) = delete;
  LaunchGate& operator=(const LaunchGate&) = delete;
  static const std::uint32_t*& current();  // sim/device.cpp

 private:
  const std::uint32_t* saved_;
};

namespace detail {
// Whether CPU launches visit their indices in a shuffled order: CONVOY_SHUFFLED_LAUNCH=1 at
// start, or set_shuffled_launch(true) (tests).
bool shuffled_launch();
void set_shuffled_launch(bool on);
// A fresh odd multiplier and offset for the next shuffled launch.
std::uint64_t next_shuffle_key();

// Index visited k-th of n in a shuffled launch: an affine bijection of [0, n) by a multiplier
// coprime to n (every odd one tried until gcd is 1).
struct Shuffle {
  std::uint64_t a = 1, c = 0, n = 1;
  Shuffle(std::uint64_t key, std::uint64_t count) : n(count) {
    a = (key | 1u) % count;
    if (a == 0) a = 1;
    while (gcd(a, count) != 1) a = a + 1 >= count ? 1 : a + 1;
    c = (key >> 32) % count;
  }
  std::int64_t operator()(std::int64_t k) const {
    return static_cast<std::int64_t>(
        (static_cast<unsigned __int128>(a) * static_cast<std::uint64_t>(k) + c) % n);
  }
  static std::uint64_t gcd(std::uint64_t x, std::uint64_t y) {
    while (y) {
      const std::uint64_t t = x % y;
      x = y;
      y = t;
    }
    return x;
  }
};

inline bool gate_closed_on_host() {
  const std::uint32_t* g = LaunchGate::current();
  return g != nullptr && *g != 0;
}

template <class F>
void cpu_for_each(std::int64_t n, F& f) {
  if (shuffled_launch()) {
    const Shuffle s(next_shuffle_key(), static_cast<std::uint64_t>(n));
#pragma omp parallel for schedule(static) if (n >= LaunchPolicy::kMinParallel)
    for (std::int64_t k = 0; k < n; ++k) f(s(k));
    return;
  }
#pragma omp parallel for schedule(static) if (n >= LaunchPolicy::kMinParallel)
  for (std::int64_t i = 0; i < n; ++i) f(i);
}
}  // namespace detail

#if defined(__CUDACC__)
#define CONVOY_LAUNCH_PASS nvcc_pass
#else
#define CONVOY_LAUNCH_PASS host_pass
#endif

inline namespace CONVOY_LAUNCH_PASS {

// A CUDA-enabled build's g++ pass must not instantiate a launch: its copy could only throw
// where nvcc's launches a kernel.
#if CONVOY_HAVE_CUDA && !defined(__CUDACC__)
template <class F>
constexpr bool kLaunchablePass = sizeof(F*) == 0;
#else
template <class F>
constexpr bool kLaunchablePass = sizeof(F*) != 0;
#endif

#if defined(__CUDACC__)
namespace kernels {  // not `detail`: that would hide convoy::detail here
template <class F>
__global__ void for_each_index_kernel(std::int64_t n, F f, const std::uint32_t* gate) {
  if (gate != nullptr && *gate != 0) return;
  const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    f(i);
  }
}

template <class F>
__global__ void count_if_index_kernel(std::int64_t n, F pred, unsigned long long* count,
                                      const std::uint32_t* gate) {
  if (gate != nullptr && *gate != 0) return;
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
}  // namespace kernels
#endif

template <class F>
void for_each_index(const Device& device, std::int64_t n, F f) {
  static_assert(kLaunchablePass<F>,
                "for_each_index instantiated by g++ in a CUDA-enabled build: move the call "
                "into a .cu file (sim/parallel.h)");
  if (n <= 0) return;
  if (device.is_cuda()) {
#if defined(__CUDACC__)
    activate(device);
    kernels::for_each_index_kernel<<<kernels::grid_for(n), LaunchPolicy::kBlockThreads>>>(
        n, f, LaunchGate::current());
    CONVOY_CUDA_CHECK(cudaGetLastError());
    return;
#else
    throw Error("for_each_index on " + device.str() + " in a build without CUDA");
#endif
  }
  if (::convoy::detail::gate_closed_on_host()) return;
  ::convoy::detail::cpu_for_each(n, f);
}

// Adds the number of i < n with pred(i) true to *d_count, a counter on `device`, without
// waiting: the caller reads it when it next synchronises (sim/step_status.h).
template <class F>
void count_if_index_async(const Device& device, std::int64_t n, F pred,
                          unsigned long long* d_count) {
  static_assert(kLaunchablePass<F>,
                "count_if_index instantiated by g++ in a CUDA-enabled build: move the call "
                "into a .cu file (sim/parallel.h)");
  if (n <= 0) return;
  if (device.is_cuda()) {
#if defined(__CUDACC__)
    activate(device);
    kernels::count_if_index_kernel<<<kernels::grid_for(n), LaunchPolicy::kBlockThreads>>>(
        n, pred, d_count, LaunchGate::current());
    CONVOY_CUDA_CHECK(cudaGetLastError());
    return;
#else
    throw Error("count_if_index on " + device.str() + " in a build without CUDA");
#endif
  }
  if (::convoy::detail::gate_closed_on_host()) return;
  unsigned long long count = 0;
#pragma omp parallel for schedule(static) reduction(+ : count) if (n >= LaunchPolicy::kMinParallel)
  for (std::int64_t i = 0; i < n; ++i) count += pred(i) ? 1 : 0;
  *d_count += count;
}

}  // namespace CONVOY_LAUNCH_PASS

// CPU only: f(begin, end) for consecutive blocks of `block` indices covering [0, n), the blocks
// split statically across OpenMP threads (on the calling thread below kMinParallel indices).
// For stages that work on several indices at once (SIMD) or fuse passes over the same envs;
// a block's bounds depend on n and `block` only. Returns the sum of f's results
// (std::int64_t), e.g. a count. Shuffled launches visit the blocks in a shuffled order.
template <class F>
std::int64_t for_each_block_cpu(std::int64_t n, std::int64_t block, F f) {
  if (n <= 0 || detail::gate_closed_on_host()) return 0;
  const std::int64_t blocks = (n + block - 1) / block;
  std::int64_t sum = 0;
  if (detail::shuffled_launch()) {
    const detail::Shuffle s(detail::next_shuffle_key(), static_cast<std::uint64_t>(blocks));
#pragma omp parallel for schedule(static) reduction(+ : sum) if (n >= LaunchPolicy::kMinParallel)
    for (std::int64_t k = 0; k < blocks; ++k) {
      const std::int64_t begin = s(k) * block;
      sum += f(begin, n - begin < block ? n : begin + block);
    }
    return sum;
  }
#pragma omp parallel for schedule(static) reduction(+ : sum) if (n >= LaunchPolicy::kMinParallel)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t begin = b * block;
    sum += f(begin, n - begin < block ? n : begin + block);
  }
  return sum;
}

}  // namespace convoy
