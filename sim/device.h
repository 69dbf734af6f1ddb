// Device names where buffers live and kernels run: the CPU (OpenMP threads) or CUDA GPU k.
// One binary built with CUDA serves both at run time; a binary built without it only has the
// CPU. "auto" picks cuda:0 when a GPU and driver are usable, else the CPU. Asking for CUDA
// where none is usable is a convoy::Error that says why, never a crash.
//
// The raw memory functions below are the only place that knows how bytes move between
// host and device; DeviceArray<T> (sim/array.h) wraps them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace convoy {

enum class DeviceKind { kCpu, kCuda };

class Device {
 public:
  Device() = default;
  static Device cpu() { return Device(DeviceKind::kCpu, 0); }
  // Throws convoy::Error when CUDA is not built in or GPU `index` is not usable.
  static Device cuda(int index = 0);
  // The best device here: cuda:0 when usable, else cpu.
  static Device auto_select();
  // Parses "cpu", "cuda", "cuda:K" or "auto"; anything else is a convoy::Error.
  static Device parse(std::string_view name);

  DeviceKind kind() const { return kind_; }
  bool is_cpu() const { return kind_ == DeviceKind::kCpu; }
  bool is_cuda() const { return kind_ == DeviceKind::kCuda; }
  int index() const { return index_; }
  std::string str() const;

  bool operator==(const Device& o) const { return kind_ == o.kind_ && index_ == o.index_; }
  bool operator!=(const Device& o) const { return !(*this == o); }

 private:
  Device(DeviceKind kind, int index) : kind_(kind), index_(index) {}
  DeviceKind kind_ = DeviceKind::kCpu;
  int index_ = 0;
};

// True when this binary was compiled with CUDA support.
bool built_with_cuda();
// Number of usable CUDA GPUs; 0 without CUDA support, driver or GPU (never throws).
int cuda_device_count();
// Why no GPU is usable ("built without CUDA", the driver's message...); empty if one is.
std::string cuda_unavailable_reason();

// OpenMP threads used by the CPU backend. set_cpu_threads(0) restores the default.
void set_cpu_threads(int threads);
int cpu_threads();

// Waits for all work queued on `device` (a no-op on the CPU).
void synchronize(const Device& device);
// Makes `device` current for the calling host thread (a no-op on the CPU).
void activate(const Device& device);

// Bytes that new allocations on `device` can take now: on the CPU the kernel's MemAvailable
// (capped by a cgroup v2 memory limit where one is set), on CUDA cudaMemGetInfo's free bytes.
std::uint64_t free_bytes(const Device& device);
// Throws convoy::Error "<what> needs 1.5 GiB (N bytes) but only 0.8 GiB (M bytes) are free on
// cpu" when `bytes` exceeds free_bytes(device). Call it before allocating, so that an
// oversized buffer fails with both sizes instead of a bad_alloc (or an OOM kill) part way.
void require_free_bytes(const Device& device, std::uint64_t bytes, const std::string& what);

// Raw memory. CPU allocations are 64-byte aligned (from 2 MiB up: 2 MiB aligned and advised
// onto huge pages). Sizes are in bytes.
void* device_alloc(const Device& device, std::size_t bytes);
void device_free(const Device& device, void* ptr) noexcept;
void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device,
                std::size_t bytes);
void zero_bytes(const Device& device, void* ptr, std::size_t bytes);
// Same as copy_bytes, without waiting on CUDA (the host side must be pinned memory from
// pinned_alloc and stay alive until the next synchronize); on the CPU a plain copy.
void copy_bytes_async(void* dst, const Device& dst_device, const void* src,
                      const Device& src_device, std::size_t bytes);
// Page-locked host memory for asynchronous copies (plain host memory without CUDA).
void* pinned_alloc(const Device& device, std::size_t bytes);
void pinned_free(const Device& device, void* ptr) noexcept;

// What the CUDA path has asked of the driver since the process started, counted in the
// wrappers above: allocations (device and pinned) and host synchronisations (synchronize and
// every synchronous copy). Tests assert that a step issues no allocation and at most one
// synchronisation; on the CPU both stay 0.
struct CudaCallCounts {
  std::uint64_t allocations = 0;
  std::uint64_t host_syncs = 0;
};
CudaCallCounts cuda_call_counts();

namespace detail {
// A test mode that the environment variable `var` turns on at start (set and not "0"), and
// tests can set. Shuffled launches and deferred checks are two.
class TestSwitch {
 public:
  explicit TestSwitch(const char* var);
  bool on() const { return on_.load(std::memory_order_relaxed); }
  void set(bool on) { on_.store(on); }

 private:
  std::atomic<bool> on_;
};
}  // namespace detail

}  // namespace convoy
