// HighwayFast-v0 and Merge-v0's per-vehicle kernels (kernels=vehicle: step_batch's launches per
// env and per env x vehicle) against the per-scene step (kernels=scene) on the CPU: the same
// pieces in the same order per vehicle, so bit-identical observations, rewards, flags and
// episode statistics, with auto-resets, NEXT_STEP skips and the fused step-and-compose pass,
// at 1 and 2 threads. The CUDA equivalence of these envs is in cuda_equivalence_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

struct KernelsCase {
  std::string name;  // for the test's name
  std::string env;
  std::vector<std::string> cfg;
};

// test::kernels_trace (tests/test_util.h) of case c with kernels=`kernels`, without the reseed
// (so that a shorter run's outputs are a prefix of a longer one's)
std::vector<std::uint32_t> trace(const KernelsCase& c, const std::string& kernels, int threads,
                                 int steps, std::int64_t* episodes = nullptr) {
  std::vector<std::string> cfg = c.cfg;
  cfg.push_back("kernels=" + kernels);
  return test::kernels_trace(c.env, cfg, threads, steps, false, episodes);
}

void PrintTo(const KernelsCase& c, std::ostream* os) { *os << c.name; }

class TrafficKernels : public ::testing::TestWithParam<KernelsCase> {};

TEST_P(TrafficKernels, PerVehicleMatchesPerSceneBitForBit) {
  const KernelsCase& c = GetParam();
  // HighwayFast-v0's episodes last 30 steps, Merge-v0's at most 40: several auto-resets each
  const int steps = 240;
  std::int64_t episodes = 0;
  const auto scene = trace(c, "scene", 1, steps, &episodes);
  // episodes end (crashes, time limits, the road's end), so auto-resets are exercised
  EXPECT_GT(episodes, 24) << c.env;
  // at 2 threads over the first 30 steps only (a step's outputs have a fixed size, so they
  // are a prefix): each step is 2 + 4 x frames OpenMP loops, which cost milliseconds each
  // when another process holds a core
  for (int threads : {1, 2}) {
    const auto vehicle = trace(c, "vehicle", threads, threads == 1 ? steps : 30);
    ASSERT_LE(vehicle.size(), scene.size());
    const std::size_t first = test::first_difference(scene, vehicle);
    EXPECT_EQ(first, vehicle.size()) << c.env << " threads=" << threads << ": first difference at "
                                     << first << " of " << vehicle.size();
  }
}

const std::vector<std::string> kRandomIdm = {"idm_time_headway_low=1.0",
                                             "idm_time_headway_high=2.0",
                                             "idm_distance_low=6",
                                             "idm_distance_high=14",
                                             "idm_acc_low=2",
                                             "idm_acc_high=4",
                                             "vehicle_length_low=4",
                                             "vehicle_length_high=6",
                                             "vehicle_width_low=1.8",
                                             "vehicle_width_high=2.4"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

INSTANTIATE_TEST_SUITE_P(
    HighwayAndMerge, TrafficKernels,
    ::testing::Values(
        KernelsCase{"HighwayDiscrete", "HighwayFast-v0", {}},
        KernelsCase{"HighwayContinuous", "HighwayFast-v0", {"action_type=continuous"}},
        KernelsCase{"HighwayRandomIdm", "HighwayFast-v0", kRandomIdm},
        KernelsCase{"HighwayContinuousRandomIdm", "HighwayFast-v0",
                    with({"action_type=continuous"}, kRandomIdm)},
        KernelsCase{"HighwayAutopilot", "HighwayFast-v0", {"ego_policy=autopilot", "lanes=4"}},
        KernelsCase{"MergeDiscrete", "Merge-v0", {}},
        KernelsCase{"MergeContinuous", "Merge-v0", {"action_type=continuous"}},
        KernelsCase{"MergeAutopilotRandomIdm", "Merge-v0",
                    with({"ego_policy=autopilot"}, kRandomIdm)}),
    [](const auto& info) { return info.param.name; });

// The per-vehicle path really runs its own code: it ends episodes as the scene path does
// (crashes included), so the comparison above covers the crashed flag's early stop.
TEST(TrafficKernels, CrashStopsTheStepOnBothPaths) {
  for (const std::string kernels : {"scene", "vehicle"}) {
    auto env = env_registry().make(
        "HighwayFast-v0", Device::cpu(), 1,
        Config::parse({"vehicles=1", "normalize_reward=false", "kernels=" + kernels}));
    env->reset(0);
    // ego at 30 m/s, a car 8 m ahead in its lane at 5 m/s: they collide in the first frames;
    // after the crash no frame runs, so the ego stays short of the car's far end
    env->set_state(0, {100, 0, 0, 30, 30, 0, 108, 0, 0, 5, 5, 0}, 0);
    DeviceArray<std::int32_t> a(Device::cpu(), std::vector<std::int32_t>{1});
    env->step(a);
    EXPECT_EQ(env->terminated().to_host()[0], 1) << kernels;
    EXPECT_EQ(env->final_outcome().to_host()[0], 2) << kernels;
    EXPECT_LT(env->final_episode_return().to_host()[0], -0.5) << kernels;
  }
}

// The scratch is rewritten every step before it is read, so snapshots leave it out: a
// snapshot taken mid-run and loaded back replays the same steps.
TEST(TrafficKernels, SnapshotsReplayWithoutTheScratch) {
  auto env = env_registry().make("Merge-v0", Device::cpu(), 16, Config::parse({"kernels=vehicle"}));
  std::vector<float> first, second;
  test::snapshot_replay(*env, 3, 4, 7, 20, &first, &second);
  EXPECT_EQ(second, first);
}

TEST(TrafficKernels, BadKernelsValueIsAClearError) {
  for (const std::string env : {"HighwayFast-v0", "Merge-v0"}) {
    const std::string msg = test::error_message(
        [&] { env_registry().make(env, Device::cpu(), 1, Config::parse({"kernels=gpu"})); });
    EXPECT_NE(msg.find("kernels"), std::string::npos) << msg;
    EXPECT_NE(msg.find("gpu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("vehicle"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace convoy
