// Episode outcomes (EpisodeOutcome, VecEnv::final_outcome): which envs report them, and what
// HighwayFast-v0 reports for a crash and for leaving the road. Parking-v0 and DiffDriveNav-v0 are
// checked in their own tests.
#include <gtest/gtest.h>

#include "envs/registry.h"

namespace convoy {
namespace {

TEST(EpisodeOutcome, DeclaredByTheEnvsThatDefineThem) {
  for (const char* name : {"HighwayFast-v0", "Parking-v0", "DiffDriveNav-v0"}) {
    EXPECT_TRUE(env_registry().find(name).spec.has_outcome) << name;
  }
  for (const char* name : {"CartPole-v1", "Pendulum-v1"}) {
    EXPECT_FALSE(env_registry().find(name).spec.has_outcome) << name;
  }
  // an env without outcomes leaves the buffer at 0
  auto env = env_registry().make("CartPole-v1", Device::cpu(), 8);
  env->reset(0);
  DeviceArray<std::int32_t> a(Device::cpu(), 8);
  for (int t = 0; t < 60; ++t) {
    env->sample_actions(1, t, a.data());
    env->step(a);
    for (std::uint8_t o : env->final_outcome().to_host()) ASSERT_EQ(o, 0);
  }
}

TEST(EpisodeOutcome, HighwayCrashAndOffRoad) {
  auto env = env_registry().make("HighwayFast-v0", Device::cpu(), 1, Config::parse({"vehicles=1"}));
  env->reset(0);
  DeviceArray<std::int32_t> idle(Device::cpu(), std::vector<std::int32_t>{1});
  // ego at 30 m/s, a car 8 m ahead at 5 m/s: a crash
  env->set_state(0, {100, 0, 0, 30, 30, 0, 108, 0, 0, 5, 5, 0}, 0);
  env->step(idle);
  ASSERT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->final_outcome().to_host()[0], 2);
  // steering hard right from the rightmost lane: off the road
  auto cont = env_registry().make(
      "HighwayFast-v0", Device::cpu(), 1,
      Config::parse({"vehicles=0", "action_type=continuous", "offroad_terminal=true"}));
  cont->reset(0);
  cont->set_state(0, {100, 8, 0, 25, 25, 2}, 0);
  DeviceArray<float> right(Device::cpu(), std::vector<float>{0.0f, 1.0f});
  bool ended = false;
  for (int t = 0; t < 5 && !ended; ++t) {
    cont->step(right);
    ended = cont->terminated().to_host()[0] != 0;
  }
  ASSERT_TRUE(ended);
  EXPECT_EQ(cont->final_outcome().to_host()[0], 3);
  // a safe drive to the time limit: no outcome
  auto safe = env_registry().make("HighwayFast-v0", Device::cpu(), 1,
                                  Config::parse({"vehicles=0", "duration=2"}));
  safe->reset(0);
  safe->step(idle);
  safe->step(idle);
  ASSERT_EQ(safe->truncated().to_host()[0], 1);
  EXPECT_EQ(safe->final_outcome().to_host()[0], 0);
}

}  // namespace
}  // namespace convoy
