// StepStatus: the few words a step reports through on the env's device, so that a CUDA step
// needs no host round trip until its caller wants an answer. Action validation runs on the
// device and records the first invalid element; the same launch sequence then closes the
// launch gate (sim/parallel.h), which skips every later launch of the step, and of later
// steps, until the host reads the status: the env is left exactly as it was. Reading it is
// the step's one host synchronisation (VecEnv::finish_step).
//
// The CPU validates on the host and throws at once; CONVOY_DEFERRED_CHECKS=1 makes it take
// the device path instead, so the tests exercise that path on a machine without a GPU.
#pragma once

#include <cstdint>

#include "sim/array.h"
#include "sim/device.h"
#include "sim/hd.h"

namespace convoy {

// Word indices in StepStatus's buffer (unsigned long long each).
struct StepWord {
  static constexpr int kGate = 0;      // low 32 bits: non-zero once actions failed validation
  static constexpr int kFirstBad = 1;  // smallest invalid flat action index (kNone: none)
  static constexpr int kBadBits = 2;   // that action's raw 32 bits (int32 or float32)
  static constexpr int kDone = 3;      // episodes that ended in the step's compose
  static constexpr int kCount = 4;
  static constexpr unsigned long long kNone = ~0ull;
};

CONVOY_HD_INLINE void atomic_min_u64(unsigned long long* p, unsigned long long v) {
#if defined(__CUDA_ARCH__)
  atomicMin(p, v);
#else
  unsigned long long seen = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v < seen &&
         !__atomic_compare_exchange_n(p, &seen, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
#endif
}

// Flags action element k where invalid(k) holds: the smallest such k wins, whatever the order.
template <class Invalid>
struct FlagInvalidKernel {
  Invalid invalid;
  unsigned long long* words;
  CONVOY_HD void operator()(std::int64_t k) const {
    if (invalid(k)) atomic_min_u64(words + StepWord::kFirstBad, static_cast<unsigned long long>(k));
  }
};

// One index, after FlagInvalidKernel: keeps the bad action's bits and closes the gate.
struct CloseGateKernel {
  const std::uint32_t* actions;  // the step's actions, as raw 32-bit words
  unsigned long long* words;
  CONVOY_HD void operator()(std::int64_t) const {
    const unsigned long long k = words[StepWord::kFirstBad];
    if (k != StepWord::kNone) {
      words[StepWord::kBadBits] = actions[k];
      words[StepWord::kGate] = 1;
    }
  }
};

class StepStatus {
 public:
  StepStatus() = default;
  explicit StepStatus(const Device& device);
  ~StepStatus();
  StepStatus(StepStatus&& o) noexcept;
  StepStatus& operator=(StepStatus&& o) noexcept;
  StepStatus(const StepStatus&) = delete;
  StepStatus& operator=(const StepStatus&) = delete;

  unsigned long long* words() { return words_.data(); }
  // the launch gate: the low half of kGate (little-endian hosts and GPUs)
  const std::uint32_t* gate() const {
    return reinterpret_cast<const std::uint32_t*>(words_.data() + StepWord::kGate);
  }
  unsigned long long* done_counter() { return words_.data() + StepWord::kDone; }

  // Zeroes the done counter, queued on the device (no wait).
  void clear_done();
  // Copies the words to the host and waits: the one host synchronisation. Returns the copy.
  const unsigned long long* read();
  // Opens the gate and forgets the bad action, queued on the device (no wait).
  void reopen();

 private:
  Device device_;
  DeviceArray<unsigned long long> words_;  // (kCount) on the device
  unsigned long long* host_ = nullptr;     // (2 x kCount) pinned: the read copy, the reset words
};

// True when CPU envs made from now on validate as CUDA does: CONVOY_DEFERRED_CHECKS=1 at
// start, or set_deferred_checks(true) (tests).
bool deferred_checks_requested();
void set_deferred_checks(bool on);

}  // namespace convoy
