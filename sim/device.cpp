#include "sim/device.h"

#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

#include "sim/error.h"
#include "sim/parallel.h"

#if CONVOY_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace convoy {

namespace detail {
[[noreturn]] void cuda_fail(int code, const char* call, const char* file, int line) {
#if CONVOY_HAVE_CUDA
  const char* what = cudaGetErrorString(static_cast<cudaError_t>(code));
#else
  const char* what = "unknown CUDA error";
#endif
  throw Error(std::string("CUDA error ") + std::to_string(code) + " (" + what + ") in " + call +
              " at " + file + ":" + std::to_string(line));
}
}  // namespace detail

namespace {

struct CudaProbe {
  int count = 0;
  std::string reason;
};

// Probed once: the driver's answer does not change while the process runs.
const CudaProbe& cuda_probe() {
  static const CudaProbe probe = [] {
    CudaProbe p;
#if CONVOY_HAVE_CUDA
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      // No driver, too old a driver, no GPU: all mean "CUDA is not usable here".
      p.reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(e);
      cudaGetLastError();
    } else if (n == 0) {
      p.reason = "no CUDA GPU found";
    } else {
      p.count = n;
    }
#else
    p.reason = "this convoy was built without CUDA (configure with -DCONVOY_CUDA=ON)";
#endif
    return p;
  }();
  return probe;
}

std::atomic<std::uint64_t> cuda_allocations{0};
std::atomic<std::uint64_t> cuda_host_syncs{0};

}  // namespace

CudaCallCounts cuda_call_counts() {
  return CudaCallCounts{cuda_allocations.load(), cuda_host_syncs.load()};
}

const std::uint32_t*& LaunchGate::current() {
  thread_local const std::uint32_t* gate = nullptr;
  return gate;
}

namespace detail {
TestSwitch::TestSwitch(const char* var) {
  const char* v = std::getenv(var);
  on_.store(v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0);
}

namespace {
TestSwitch& shuffled() {
  static TestSwitch s("CONVOY_SHUFFLED_LAUNCH");
  return s;
}
}  // namespace

bool shuffled_launch() { return shuffled().on(); }
void set_shuffled_launch(bool on) { shuffled().set(on); }

std::uint64_t next_shuffle_key() {
  // splitmix64 of a launch counter: a different order every launch, the same sequence every run
  static std::atomic<std::uint64_t> launches{0};
  std::uint64_t z = (launches.fetch_add(1) + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace detail

bool built_with_cuda() { return CONVOY_HAVE_CUDA != 0; }
int cuda_device_count() { return cuda_probe().count; }
std::string cuda_unavailable_reason() { return cuda_probe().reason; }

Device Device::cuda(int index) {
  const int n = cuda_device_count();
  if (n == 0) {
    throw Error("device 'cuda:" + std::to_string(index) +
                "' is not usable: " + cuda_unavailable_reason() + "; use --device cpu");
  }
  if (index < 0 || index >= n) {
    throw Error("device 'cuda:" + std::to_string(index) + "' does not exist; allowed: cuda:0" +
                (n > 1 ? "..cuda:" + std::to_string(n - 1) : std::string()));
  }
  return Device(DeviceKind::kCuda, index);
}

Device Device::auto_select() { return cuda_device_count() > 0 ? cuda(0) : cpu(); }

Device Device::parse(std::string_view name) {
  if (name == "cpu") return cpu();
  if (name == "auto") return auto_select();
  if (name == "cuda") return cuda(0);
  if (name.substr(0, 5) == "cuda:" && name.size() > 5) {
    const std::string digits(name.substr(5));
    char* end = nullptr;
    const long k = std::strtol(digits.c_str(), &end, 10);
    if (end && *end == '\0' && k >= 0 && k < 1024) return cuda(static_cast<int>(k));
  }
  throw Error("unknown device '" + std::string(name) + "'; allowed: cpu, cuda, cuda:K, auto");
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index_);
}

void set_cpu_threads(int threads) {
  static const int default_threads = omp_get_max_threads();
  if (threads < 0) {
    throw Error("threads " + std::to_string(threads) + " is invalid; allowed: 0 (default) or >= 1");
  }
  omp_set_num_threads(threads == 0 ? default_threads : threads);
}

int cpu_threads() { return omp_get_max_threads(); }

void activate(const Device& device) {
#if CONVOY_HAVE_CUDA
  if (device.is_cuda()) CONVOY_CUDA_CHECK(cudaSetDevice(device.index()));
#else
  (void)device;
#endif
}

void synchronize(const Device& device) {
#if CONVOY_HAVE_CUDA
  if (device.is_cuda()) {
    activate(device);
    ++cuda_host_syncs;
    CONVOY_CUDA_CHECK(cudaDeviceSynchronize());
  }
#else
  (void)device;
#endif
}

namespace {
// The first number after `key` in a "key value" text file (/proc/meminfo); -1 where absent.
long long read_field(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  long long v = 0;
  while (in >> k) {
    if (k == key && in >> v) return v;
    in.ignore(1 << 12, '\n');
  }
  return -1;
}

// A container's cgroup v2 limit (memory.max) less what it uses; UINT64_MAX where unlimited.
std::uint64_t cgroup_free_bytes() {
  std::ifstream max_file("/sys/fs/cgroup/memory.max"), cur_file("/sys/fs/cgroup/memory.current");
  unsigned long long max = 0, cur = 0;
  if (!(max_file >> max) || !(cur_file >> cur)) return UINT64_MAX;  // "max" or no cgroup v2
  return max > cur ? max - cur : 0;
}

std::string gib(std::uint64_t bytes) {
  char s[64];
  std::snprintf(s, sizeof(s), "%.1f GiB (%llu bytes)", static_cast<double>(bytes) / (1 << 30),
                static_cast<unsigned long long>(bytes));
  return s;
}
}  // namespace

std::uint64_t free_bytes(const Device& device) {
  if (device.is_cpu()) {
    const long long kib = read_field("/proc/meminfo", "MemAvailable:");
    std::uint64_t host = 0;
    if (kib >= 0) {
      host = static_cast<std::uint64_t>(kib) * 1024;
    } else {  // no /proc: free pages only (page cache not counted)
      host = static_cast<std::uint64_t>(sysconf(_SC_AVPHYS_PAGES)) *
             static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    }
    const std::uint64_t limit = cgroup_free_bytes();
    return host < limit ? host : limit;
  }
#if CONVOY_HAVE_CUDA
  activate(device);
  std::size_t avail = 0, total = 0;
  CONVOY_CUDA_CHECK(cudaMemGetInfo(&avail, &total));
  return avail;
#else
  throw Error("device " + device.str() + " is not available in this build");
#endif
}

void require_free_bytes(const Device& device, std::uint64_t bytes, const std::string& what) {
  const std::uint64_t avail = free_bytes(device);
  if (bytes > avail) {
    throw Error(what + " needs " + gib(bytes) + " but only " + gib(avail) + " are free on " +
                device.str());
  }
}

void* device_alloc(const Device& device, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (device.is_cpu()) {
    // Arrays of 2 MiB and more go on 2 MiB pages where the kernel allows it (transparent huge
    // pages in "madvise" mode): random reads of a replay ring or sum tree then miss the TLB
    // far less often.
    const std::size_t huge = std::size_t(2) << 20;
    const std::size_t align = bytes >= huge ? huge : 64;
    const std::size_t rounded = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded);
    if (!p) throw Error("out of host memory allocating " + std::to_string(bytes) + " bytes");
    if (align == huge) madvise(p, rounded, MADV_HUGEPAGE);  // advice: failing changes nothing
    return p;
  }
#if CONVOY_HAVE_CUDA
  activate(device);
  void* p = nullptr;
  ++cuda_allocations;
  CONVOY_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
#else
  throw Error("device " + device.str() + " is not available in this build");
#endif
}

void device_free(const Device& device, void* ptr) noexcept {
  if (!ptr) return;
  if (device.is_cpu()) {
    std::free(ptr);
    return;
  }
#if CONVOY_HAVE_CUDA
  cudaSetDevice(device.index());
  cudaFree(ptr);
#endif
}

namespace {
// copy_bytes and copy_bytes_async: cudaMemcpyDefault works out the direction from unified
// addressing; the async copy goes on the default stream, after every launch, without a wait.
void copy_any(void* dst, const Device& dst_device, const void* src, const Device& src_device,
              std::size_t bytes, bool wait) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if CONVOY_HAVE_CUDA
  activate(dst_device.is_cuda() ? dst_device : src_device);
  if (!wait) {
    CONVOY_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, 0));
    return;
  }
  // device to device, cudaMemcpy queues the copy without a host wait
  if (dst_device.is_cpu() || src_device.is_cpu()) ++cuda_host_syncs;
  CONVOY_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
#else
  (void)wait;
  throw Error("copy between " + src_device.str() + " and " + dst_device.str() +
              " is not available in this build");
#endif
}
}  // namespace

void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device,
                std::size_t bytes) {
  copy_any(dst, dst_device, src, src_device, bytes, true);
}

void zero_bytes(const Device& device, void* ptr, std::size_t bytes) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    std::memset(ptr, 0, bytes);
    return;
  }
#if CONVOY_HAVE_CUDA
  activate(device);
  CONVOY_CUDA_CHECK(cudaMemset(ptr, 0, bytes));
#endif
}

void copy_bytes_async(void* dst, const Device& dst_device, const void* src,
                      const Device& src_device, std::size_t bytes) {
  copy_any(dst, dst_device, src, src_device, bytes, false);
}

void* pinned_alloc(const Device& device, std::size_t bytes) {
  (void)device;
  if (bytes == 0) return nullptr;
#if CONVOY_HAVE_CUDA
  if (device.is_cuda()) {
    activate(device);
    void* p = nullptr;
    ++cuda_allocations;
    CONVOY_CUDA_CHECK(cudaMallocHost(&p, bytes));
    return p;
  }
#endif
  return device_alloc(Device::cpu(), bytes);
}

void pinned_free(const Device& device, void* ptr) noexcept {
  (void)device;
  if (!ptr) return;
#if CONVOY_HAVE_CUDA
  if (device.is_cuda()) {
    cudaFreeHost(ptr);
    return;
  }
#endif
  device_free(Device::cpu(), ptr);
}

}  // namespace convoy
