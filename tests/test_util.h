// Helpers shared by the tests: the devices this build can test, and a skip for missing GPUs.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/device.h"

namespace convoy::test {

// "cpu" always, "cuda" too when CUDA is built in (the test then skips without a GPU).
std::vector<std::string> backends();
// The device for a backend name, or a GTEST_SKIP-able reason in `skip` when unusable.
Device device_or_skip(const std::string& backend, std::string* skip);

}  // namespace convoy::test

// Skips the current test with a one-line reason when `backend` is not usable here.
#define CONVOY_DEVICE_OR_SKIP(var, backend)                                                   \
  std::string convoy_skip_reason_;                                                            \
  const ::convoy::Device var = ::convoy::test::device_or_skip(backend, &convoy_skip_reason_); \
  if (!convoy_skip_reason_.empty()) GTEST_SKIP() << convoy_skip_reason_
