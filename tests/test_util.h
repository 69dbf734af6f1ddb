// Helpers shared by the tests: the devices this build can test, and a skip for missing GPUs.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/device.h"
#include "sim/vec_env.h"

namespace convoy::test {

// "cpu" always, "cuda" too when CUDA is built in (the test then skips without a GPU).
std::vector<std::string> backends();
// The device for a backend name, or a GTEST_SKIP-able reason in `skip` when unusable.
Device device_or_skip(const std::string& backend, std::string* skip);

// The message of the convoy::Error that `construct` throws, or "(no error)": for the checks
// that bad settings are refused with a message naming them.
std::string error_message(const std::function<void()>& construct);

// Observations and rewards of `steps` steps from reset(seed) with random actions from stream
// action_seed, flattened: two runs compare equal exactly when their trajectories do.
std::vector<float> random_trace(VecEnv& env, std::uint64_t seed, std::uint64_t action_seed,
                                int steps);

}  // namespace convoy::test

// Skips the current test with a one-line reason when `backend` is not usable here.
#define CONVOY_DEVICE_OR_SKIP(var, backend)                                                   \
  std::string convoy_skip_reason_;                                                            \
  const ::convoy::Device var = ::convoy::test::device_or_skip(backend, &convoy_skip_reason_); \
  if (!convoy_skip_reason_.empty()) GTEST_SKIP() << convoy_skip_reason_
