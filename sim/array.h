// DeviceArray<T>: an owning, move-only buffer of n elements on one Device (RAII), with
// explicit host<->device copies. Kernels receive its raw pointer; nothing else is shared.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/device.h"
#include "sim/error.h"

namespace convoy {

template <class T>
class DeviceArray {
  static_assert(std::is_trivially_copyable_v<T>, "DeviceArray holds plain data only");

 public:
  DeviceArray() = default;
  DeviceArray(const Device& device, std::int64_t n) : device_(device), size_(n) {
    if (n < 0) throw Error("DeviceArray size " + std::to_string(n) + " is negative");
    data_ = static_cast<T*>(device_alloc(device, sizeof(T) * static_cast<std::size_t>(n)));
  }
  DeviceArray(const Device& device, const std::vector<T>& host)
      : DeviceArray(device, static_cast<std::int64_t>(host.size())) {
    copy_from_host(host.data(), size_);
  }
  ~DeviceArray() { device_free(device_, data_); }

  DeviceArray(DeviceArray&& o) noexcept
      : device_(o.device_),
        size_(std::exchange(o.size_, 0)),
        data_(std::exchange(o.data_, nullptr)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      device_free(device_, data_);
      device_ = o.device_;
      size_ = std::exchange(o.size_, 0);
      data_ = std::exchange(o.data_, nullptr);
    }
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::int64_t size() const { return size_; }
  std::size_t bytes() const { return sizeof(T) * static_cast<std::size_t>(size_); }
  const Device& device() const { return device_; }

  void zero() { zero_bytes(device_, data_, bytes()); }

  void copy_from_host(const T* src, std::int64_t n) {
    check_size(n);
    copy_bytes(data_, device_, src, Device::cpu(), sizeof(T) * static_cast<std::size_t>(n));
  }
  void copy_from_host(const std::vector<T>& src) {
    copy_from_host(src.data(), static_cast<std::int64_t>(src.size()));
  }
  void copy_to_host(T* dst, std::int64_t n) const {
    check_size(n);
    copy_bytes(dst, Device::cpu(), data_, device_, sizeof(T) * static_cast<std::size_t>(n));
  }
  std::vector<T> to_host() const {
    std::vector<T> out(static_cast<std::size_t>(size_));
    copy_to_host(out.data(), size_);
    return out;
  }
  // Copies all of `src` (any device) into this array, which must be as long.
  void copy_from(const DeviceArray& src) {
    check_size(src.size());
    copy_bytes(data_, device_, src.data_, src.device_, bytes());
  }

 private:
  void check_size(std::int64_t n) const {
    if (n > size_ || n < 0) {
      throw Error("copy of " + std::to_string(n) + " elements into a DeviceArray of " +
                  std::to_string(size_));
    }
  }

  Device device_;
  std::int64_t size_ = 0;
  T* data_ = nullptr;
};

}  // namespace convoy
