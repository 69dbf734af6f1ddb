#include "sim/step_status.h"

#include <utility>

namespace convoy {

StepStatus::StepStatus(const Device& device) : device_(device), words_(device, StepWord::kCount) {
  host_ = static_cast<unsigned long long*>(
      pinned_alloc(device, 2 * StepWord::kCount * sizeof(unsigned long long)));
  unsigned long long* init = host_ + StepWord::kCount;
  init[StepWord::kGate] = 0;
  init[StepWord::kFirstBad] = StepWord::kNone;
  init[StepWord::kBadBits] = 0;
  init[StepWord::kDone] = 0;
  copy_bytes(words_.data(), device_, init, Device::cpu(), words_.bytes());
}

StepStatus::~StepStatus() { pinned_free(device_, host_); }

StepStatus::StepStatus(StepStatus&& o) noexcept
    : device_(o.device_), words_(std::move(o.words_)), host_(std::exchange(o.host_, nullptr)) {}

StepStatus& StepStatus::operator=(StepStatus&& o) noexcept {
  if (this != &o) {
    pinned_free(device_, host_);
    device_ = o.device_;
    words_ = std::move(o.words_);
    host_ = std::exchange(o.host_, nullptr);
  }
  return *this;
}

void StepStatus::clear_done() {
  copy_bytes_async(done_counter(), device_, host_ + StepWord::kCount + StepWord::kDone,
                   Device::cpu(), sizeof(unsigned long long));
}

const unsigned long long* StepStatus::read() {
  copy_bytes_async(host_, Device::cpu(), words_.data(), device_, words_.bytes());
  synchronize(device_);
  return host_;
}

void StepStatus::reopen() {
  // kGate, kFirstBad and kBadBits; kDone is the caller's
  copy_bytes_async(words_.data(), device_, host_ + StepWord::kCount, Device::cpu(),
                   3 * sizeof(unsigned long long));
}

namespace {
detail::TestSwitch& deferred_checks() {
  static detail::TestSwitch s("CONVOY_DEFERRED_CHECKS");
  return s;
}
}  // namespace

bool deferred_checks_requested() { return deferred_checks().on(); }
void set_deferred_checks(bool on) { deferred_checks().set(on); }

}  // namespace convoy
