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

// For the kernel-split tests (a per-vehicle or per-ray path against the per-scene one on the
// CPU): every output of `steps` steps of `n` envs of `env` with `cfg` at `threads` CPU threads,
// as raw bits (so -0 and +0, NaN payloads, all count), with random actions. Steps t % 4 == 1 go
// through step_compose without a skip mask, t % 4 == 3 through step_compose with the previous
// step's done as the mask (Gymnasium's NEXT_STEP), even ones through step_raw with some envs
// skipped; with `reseed_midway`, at step steps / 2 the envs restart from per-env seeds. Adds
// the episodes that ended in step_compose to *episodes when given.
std::vector<std::uint32_t> kernels_trace(const std::string& env,
                                         const std::vector<std::string>& cfg, int threads,
                                         int steps, bool reseed_midway,
                                         std::int64_t* episodes = nullptr, std::int64_t n = 24);

// For the checks that snapshots need no scratch: `steps_before` steps of random actions (stream
// action_seed) from reset(seed), a snapshot, then the observations and rewards of the steps up
// to `steps_until`, run twice: straight on (first) and again after loading the snapshot
// (second). Equal exactly when the snapshot replays.
void snapshot_replay(VecEnv& env, std::uint64_t seed, std::uint64_t action_seed, int steps_before,
                     int steps_until, std::vector<float>* first, std::vector<float>* second);

// The index of the first element where `a` and its prefix `b` differ (b.size() when none).
std::size_t first_difference(const std::vector<std::uint32_t>& a,
                             const std::vector<std::uint32_t>& b);

}  // namespace convoy::test

// Skips the current test with a one-line reason when `backend` is not usable here.
#define CONVOY_DEVICE_OR_SKIP(var, backend)                                                   \
  std::string convoy_skip_reason_;                                                            \
  const ::convoy::Device var = ::convoy::test::device_or_skip(backend, &convoy_skip_reason_); \
  if (!convoy_skip_reason_.empty()) GTEST_SKIP() << convoy_skip_reason_
