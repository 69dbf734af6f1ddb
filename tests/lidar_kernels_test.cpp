// DiffDriveNav-v0 and Racetrack-v0's per-ray observation (kernels=ray: sim/batched_env.h's
// staged step, ObserveKernel per env x ray) against the per-env observe (kernels=env) on the
// CPU: the same per-ray function on the same state, so bit-identical observations, final
// observations, rewards, flags and episode statistics, with auto-resets, NEXT_STEP skips, the
// step-and-compose pass (fused on the env path), reset() and reset(seeds), at 1 and 2
// threads. The CUDA equivalence of the ray path (kernels=auto there) is in
// cuda_equivalence_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
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
};

// Every output of `steps` steps as raw bits (so -0 and +0, NaN payloads, all count), with
// random actions: steps t % 4 == 1 go through step_compose without a skip mask, t % 4 == 3
// through step_compose with the previous step's done as the mask (Gymnasium's NEXT_STEP), the
// even ones through step_raw with some envs skipped; at step steps / 2 the envs restart from
// per-env seeds.
std::vector<std::uint32_t> trace(const LidarCase& c, const std::string& kernels, int threads,
                                 int steps, std::int64_t* episodes = nullptr) {
  set_cpu_threads(threads);
  std::vector<std::string> cfg = c.cfg;
  cfg.push_back("kernels=" + kernels);
  const std::int64_t n = 24;
  auto env = env_registry().make(c.env, Device::cpu(), n, Config::parse(cfg));
  const Device cpu = Device::cpu();
  DeviceArray<float> a(cpu, n * env->act_dim());
  DeviceArray<std::uint8_t> skip(cpu, n), done(cpu, n);
  DeviceArray<float> obs_out(cpu, n * env->obs_dim());
  DeviceArray<double> ret(cpu, n);
  DeviceArray<std::int32_t> len(cpu, n);
  done.zero();
  std::vector<std::uint32_t> out;
  auto add = [&](const auto& array) {
    for (const auto v : array.to_host()) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &v, sizeof(v));
      out.push_back(static_cast<std::uint32_t>(bits));
      out.push_back(static_cast<std::uint32_t>(bits >> 32));
    }
  };
  env->reset(7);
  add(env->obs());
  for (int t = 0; t < steps; ++t) {
    if (t == steps / 2) {
      std::vector<std::uint64_t> seeds(n);
      for (std::int64_t i = 0; i < n; ++i) seeds[i] = 1000 + 3 * i;
      env->reset(seeds);
      add(env->obs());
      done.zero();
    }
    env->sample_actions(11, static_cast<std::uint64_t>(t), a.data());
    if (t % 2) {
      DeviceArray<std::uint8_t> prev(cpu, n);
      prev.copy_from(done);
      const std::int64_t ended =
          env->step_compose(a.data(), t % 4 == 3 ? prev.data() : nullptr,
                            {obs_out.data(), done.data(), ret.data(), len.data()});
      out.push_back(static_cast<std::uint32_t>(ended));
      if (episodes) *episodes += ended;
      add(obs_out);
      add(done);
      add(ret);
      add(len);
    } else {
      std::vector<std::uint8_t> s(n);
      for (std::int64_t i = 0; i < n; ++i) s[i] = (i + t) % 5 == 0;
      skip.copy_from_host(s);
      env->step_raw(a.data(), skip.data());
    }
    add(env->obs());
    add(env->reward());
    add(env->terminated());
    add(env->truncated());
    add(env->final_obs());
    add(env->episode_return());
    add(env->episode_length());
    add(env->final_episode_return());
    add(env->final_episode_length());
    add(env->final_outcome());
  }
  set_cpu_threads(0);
  return out;
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
    std::size_t first = 0;
    while (first < per_ray.size() && per_env[first] == per_ray[first]) ++first;
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
