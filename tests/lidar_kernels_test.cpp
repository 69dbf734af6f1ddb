// DiffDriveNav-v0 and Racetrack-v0's per-ray observation (kernels=ray: sim/batched_env.h's
// staged step, ObserveKernel per env x ray) against the per-env observe (kernels=env) on the
// CPU, and HighwayFast-v0's and Merge-v0's with observation=lidar (obs_kernels=ray against
// obs_kernels=env, with the per-scene step and with the per-vehicle one, kernels=vehicle): the same
// per-ray function on the same state, so bit-identical observations, final observations, rewards,
// flags and episode statistics, with auto-resets, NEXT_STEP skips, the step-and-compose pass (fused
// on the env path), reset() and reset(seeds), at 1 and 2 threads. The CUDA equivalence of the ray
// path (kernels=auto there) is in cuda_equivalence_test.cpp.
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

struct LidarCase {
  std::string name;  // for the test's name
  std::string env;
  std::vector<std::string> cfg;
  std::string key = "kernels";  // the setting that picks the observation's path
};

// test::kernels_trace (tests/test_util.h) of case c with kernels=`kernels`, restarting from
// per-env seeds halfway
std::vector<std::uint32_t> trace(const LidarCase& c, const std::string& kernels, int threads,
                                 int steps, std::int64_t* episodes = nullptr) {
  std::vector<std::string> cfg = c.cfg;
  cfg.push_back(c.key + "=" + kernels);
  return test::kernels_trace(c.env, cfg, threads, steps, true, episodes);
}

void PrintTo(const LidarCase& c, std::ostream* os) { *os << c.name; }

class LidarKernels : public ::testing::TestWithParam<LidarCase> {};

TEST_P(LidarKernels, PerRayMatchesPerEnvBitForBit) {
  const LidarCase& c = GetParam();
  const int steps = 300;
  std::int64_t episodes = 0;
  const auto per_env = trace(c, "env", 1, steps, &episodes);
  // episodes end (collisions, arrivals, leaving the track, time limits): auto-resets run
  EXPECT_GT(episodes, 24) << c.env;
  // the default (auto) is the env path on the CPU
  EXPECT_EQ(trace(c, "auto", 1, steps), per_env) << c.env;
  for (int threads : {1, 2}) {
    const auto per_ray = trace(c, "ray", threads, steps);
    ASSERT_EQ(per_ray.size(), per_env.size());
    const std::size_t first = test::first_difference(per_env, per_ray);
    EXPECT_EQ(first, per_ray.size()) << c.env << " threads=" << threads << ": first difference at "
                                     << first << " of " << per_ray.size();
  }
}

INSTANTIATE_TEST_SUITE_P(
    RobotAndRacetrack, LidarKernels,
    ::testing::Values(LidarCase{"DiffDriveNav", "DiffDriveNav-v0", {"max_episode_steps=40"}},
                      LidarCase{"DiffDriveNavFanManyObstacles",
                                "DiffDriveNav-v0",
                                {"max_episode_steps=60", "n_rays=7", "fov=3.0", "obstacles_min=8",
                                 "obstacles_max=16"}},
                      LidarCase{"DiffDriveNavAutopilot",
                                "DiffDriveNav-v0",
                                {"max_episode_steps=50", "ego_policy=autopilot"}},
                      LidarCase{"Racetrack", "Racetrack-v0", {"duration=10"}},
                      LidarCase{"RacetrackAccelSteerFan",
                                "Racetrack-v0",
                                {"duration=12", "action=accel_steer", "other_vehicles=3",
                                 "n_rays=9", "lidar_fov=180"}}),
    [](const auto& info) { return info.param.name; });

// HighwayFast-v0 and Merge-v0 with observation=lidar: obs_kernels picks the observation's path,
// kernels the step's (scene: one call per env; vehicle: step_batch, then the staged step's
// bookkeeping through FinishKernel).
INSTANTIATE_TEST_SUITE_P(
    HighwayAndMerge, LidarKernels,
    ::testing::Values(
        LidarCase{"HighwayScene", "HighwayFast-v0", {"observation=lidar"}, "obs_kernels"},
        LidarCase{"HighwayVehicle",
                  "HighwayFast-v0",
                  {"observation=lidar", "kernels=vehicle", "duration=12"},
                  "obs_kernels"},
        LidarCase{"HighwayContinuousScene",
                  "HighwayFast-v0",
                  {"observation=lidar", "action_type=continuous", "kernels=scene", "lidar_cells=24",
                   "lidar_range=30"},
                  "obs_kernels"},
        LidarCase{"HighwayContinuousVehicleSized",
                  "HighwayFast-v0",
                  {"observation=lidar", "action_type=continuous", "kernels=vehicle",
                   "vehicle_length_low=4", "vehicle_length_high=7", "vehicle_width_low=1.6",
                   "vehicle_width_high=2.6", "lidar_cells=7"},
                  "obs_kernels"},
        LidarCase{"MergeScene", "Merge-v0", {"observation=lidar", "duration=15"}, "obs_kernels"},
        LidarCase{"MergeContinuousVehicle",
                  "Merge-v0",
                  {"observation=lidar", "action_type=continuous", "kernels=vehicle", "duration=15"},
                  "obs_kernels"}),
    [](const auto& info) { return info.param.name; });

// set_state observes the env it wrote with the per-env observe on both paths; the next step's
// obs then come from the ray path and agree.
TEST(LidarKernels, SetStateThenStepAgree) {
  std::vector<std::vector<float>> obs;
  for (const std::string kernels : {"env", "ray"}) {
    auto env = env_registry().make("DiffDriveNav-v0", Device::cpu(), 4,
                                   Config::parse({"kernels=" + kernels}));
    env->reset(5);
    std::vector<double> s = env->get_state(2);
    s[0] = 0.25;  // move the robot
    env->set_state(2, s, 3);
    DeviceArray<float> a(Device::cpu(), std::vector<float>(8, 0.5f));
    env->step_raw(a.data());
    obs.push_back(env->obs().to_host());
  }
  EXPECT_EQ(obs[0], obs[1]);
}

// HighwayFast-v0's kinematics observation stays per env: obs_kernels=env and auto give the same
// bits as before (the default), and ray, which it does not have, is refused.
TEST(LidarKernels, HighwayKinematicsStaysPerEnv) {
  const std::vector<std::string> cfg = {"kernels=vehicle"};
  const auto per_env = test::kernels_trace("HighwayFast-v0", cfg, 1, 60, true);
  for (const std::string k : {"auto", "env"}) {
    std::vector<std::string> c = cfg;
    c.push_back("obs_kernels=" + k);
    EXPECT_EQ(test::kernels_trace("HighwayFast-v0", c, 1, 60, true), per_env) << k;
  }
  for (const std::string env : {"HighwayFast-v0", "Merge-v0"}) {
    const std::string msg = test::error_message(
        [&] { env_registry().make(env, Device::cpu(), 1, Config::parse({"obs_kernels=ray"})); });
    EXPECT_NE(msg.find("obs_kernels=ray"), std::string::npos) << msg;
    EXPECT_NE(msg.find("observation=lidar"), std::string::npos) << msg;
  }
}

TEST(LidarKernels, BadObsKernelsValueIsAClearError) {
  for (const std::string env : {"HighwayFast-v0", "Merge-v0"}) {
    const std::string msg = test::error_message([&] {
      env_registry().make(env, Device::cpu(), 1,
                          Config::parse({"observation=lidar", "obs_kernels=vehicle"}));
    });
    EXPECT_NE(msg.find("obs_kernels=vehicle"), std::string::npos) << msg;
    EXPECT_NE(msg.find("auto|env|ray"), std::string::npos) << msg;
  }
}

TEST(LidarKernels, BadKernelsValueIsAClearError) {
  for (const std::string env : {"DiffDriveNav-v0", "Racetrack-v0"}) {
    const std::string msg = test::error_message(
        [&] { env_registry().make(env, Device::cpu(), 1, Config::parse({"kernels=vehicle"})); });
    EXPECT_NE(msg.find("kernels"), std::string::npos) << msg;
    EXPECT_NE(msg.find("vehicle"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ray"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace convoy
