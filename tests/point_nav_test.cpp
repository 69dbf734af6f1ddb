// PointNav-v0, the example env (envs/example/point_nav.h, docs/new-env.md): spaces, reset
// determinism, a step computed by hand, the goal and the walls, truncation, snapshots and bad
// settings. The checks every new env should have, in the order docs/new-env.md lists them.
#include "envs/example/point_nav.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "sim/array.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

std::unique_ptr<VecEnv> make(std::int64_t n, std::vector<std::string> cfg = {}) {
  return env_registry().make("PointNav-v0", Device::cpu(), n, Config::parse(cfg));
}

// One step of env 0 with Box action (ax, ay); the other envs get the same action.
void step(VecEnv& env, float ax, float ay) {
  std::vector<float> a;
  for (std::int64_t i = 0; i < env.num_envs(); ++i) a.insert(a.end(), {ax, ay});
  DeviceArray<float> actions(Device::cpu(), a);
  env.step_raw(actions.data());
  env.check_steps();
}

TEST(PointNav, Spaces) {
  const EnvSpec& s = env_registry().find("PointNav-v0").spec;
  EXPECT_EQ(s.observation_space.flat_dim(), 6);
  EXPECT_EQ(s.action_space.str(), "Box(-1.0, 1.0, (2,), float32)");
  EXPECT_EQ(s.max_episode_steps, 100);
  EXPECT_EQ(s.state_dim, 6);
  EXPECT_FALSE(s.has_outcome);
  // the declared bounds hold after reset and along random episodes (walls, speed clamp)
  auto env = make(64);
  env->reset(0);
  DeviceArray<float> actions(Device::cpu(), 64 * 2);
  for (std::uint64_t t = 0; t < 300; ++t) {
    const std::vector<float> obs = env->obs().to_host();
    for (std::size_t k = 0; k < obs.size(); ++k) {
      ASSERT_GE(obs[k], s.observation_space.low[k % 6]) << "step " << t << " element " << k;
      ASSERT_LE(obs[k], s.observation_space.high[k % 6]) << "step " << t << " element " << k;
    }
    env->sample_actions(1, t, actions.data());
    env->step_raw(actions.data());
  }
}

TEST(PointNav, ResetIsDeterministic) {
  auto a = make(16), b = make(16);
  a->reset(7);
  b->reset(7);
  EXPECT_EQ(a->obs().to_host(), b->obs().to_host());
  b->reset(8);
  EXPECT_NE(a->obs().to_host(), b->obs().to_host());
  // at rest, start and goal inside the spawn square
  const std::vector<float> obs = a->obs().to_host();
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(obs[i * 6 + 2], 0.0f);
    EXPECT_EQ(obs[i * 6 + 3], 0.0f);
    for (int k : {0, 1, 4, 5}) EXPECT_LE(std::fabs(obs[i * 6 + k]), 0.9f);
  }
  // whole trajectories, auto-resets included
  EXPECT_EQ(test::random_trace(*a, 3, 4, 250), test::random_trace(*b, 3, 4, 250));
}

TEST(PointNav, StepByHand) {
  auto env = make(1, {"max_force=2"});
  env->reset(0);
  // at rest at the origin, the goal 0.5 m to the right; push right and half down
  env->set_state(0, {0, 0, 0, 0, 0.5, 0}, 0);
  step(*env, 1.0f, -0.5f);
  // v = (force * a - 0.5 v) * 0.1 s = (0.2, -0.1) m/s; p = v * 0.1 s = (0.02, -0.01) m
  const std::vector<double> s = env->get_state(0);
  EXPECT_NEAR(s[0], 0.02, 1e-7);
  EXPECT_NEAR(s[1], -0.01, 1e-7);
  EXPECT_NEAR(s[2], 0.2, 1e-7);
  EXPECT_NEAR(s[3], -0.1, 1e-7);
  EXPECT_NEAR(env->reward().to_host()[0], -std::hypot(0.48, 0.01), 1e-6);
  EXPECT_EQ(env->terminated().to_host()[0], 0);
  // actions outside the box act as its edge
  env->set_state(0, {0, 0, 0, 0, 0.5, 0}, 0);
  step(*env, 5.0f, -0.5f);
  EXPECT_NEAR(env->get_state(0)[2], 0.2, 1e-7);
}

TEST(PointNav, WallStopsTheMassOnThatAxis) {
  auto env = make(1);
  env->reset(0);
  // at full speed 0.05 m from the right wall: x would be 1.05 m
  env->set_state(0, {0.95, 0, 1.0, 0.5, -0.5, 0}, 0);
  step(*env, 1.0f, 0.0f);
  const std::vector<double> s = env->get_state(0);
  EXPECT_EQ(s[0], 1.0);
  EXPECT_EQ(s[2], 0.0);
  EXPECT_NEAR(s[3], 0.5 - 0.5 * 0.5 * 0.1, 1e-7);  // the other axis moves on
}

TEST(PointNav, ReachingTheGoalTerminates) {
  auto env = make(1);
  env->reset(0);
  env->set_state(0, {0, 0, 0, 0, 0.05, 0}, 0);
  step(*env, 0.0f, 0.0f);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->truncated().to_host()[0], 0);
  EXPECT_NEAR(env->reward().to_host()[0], -0.05, 1e-6);
}

TEST(PointNav, TruncatesAtMaxEpisodeSteps) {
  auto env = make(1, {"max_episode_steps=3"});
  env->reset(0);
  env->set_state(0, {-0.8, -0.8, 0, 0, 0.8, 0.8}, 0);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(env->truncated().to_host()[0], 0) << t;
    step(*env, 0.0f, 0.0f);
  }
  EXPECT_EQ(env->truncated().to_host()[0], 1);
  EXPECT_EQ(env->terminated().to_host()[0], 0);
}

TEST(PointNav, SnapshotsReplay) {
  auto env = make(8);
  env->reset(1);
  // get_state / set_state round trip
  const std::vector<double> s = {0.1, -0.2, 0.3, -0.4, 0.5, -0.6};
  env->set_state(3, s, 0);
  const std::vector<double> got = env->get_state(3);
  ASSERT_EQ(got.size(), s.size());
  for (std::size_t k = 0; k < s.size(); ++k) EXPECT_NEAR(got[k], s[k], 1e-7) << k;
  // read_state/write_state are the whole state: a snapshot replays the same steps
  std::vector<float> first, second;
  test::snapshot_replay(*env, 2, 5, 40, 160, &first, &second);
  EXPECT_EQ(first, second);
}

TEST(PointNav, BadSettingsAreRefusedByName) {
  EXPECT_NE(test::error_message([] { make(1, {"goal_radius=2"}); }).find("goal_radius"),
            std::string::npos);
  EXPECT_NE(test::error_message([] { make(1, {"max_force=0"}); }).find("max_force"),
            std::string::npos);
  EXPECT_NE(test::error_message([] { make(1, {"max_episode_steps=0"}); }).find("max_episode_steps"),
            std::string::npos);
  EXPECT_NE(test::error_message([] { make(1, {"friction=1"}); }).find("friction"),
            std::string::npos);
}

}  // namespace
}  // namespace convoy
