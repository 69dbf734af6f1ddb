// Merge-v0: spawning, the ramp car merging, the end of the road, rewards, the baseline and bad
// settings.
#include "envs/driving/merge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

using L = envs::highway::StateLayout;
constexpr int kFields = L::kFields;
constexpr int kRampCar = 4;

std::unique_ptr<VecEnv> make(std::int64_t n, std::vector<std::string> cfg = {}) {
  return env_registry().make("Merge-v0", Device::cpu(), n, Config::parse(cfg));
}

TEST(Merge, SpecFollowsMergeV0) {
  const EnvSpec& s = env_registry().find("Merge-v0").spec;
  EXPECT_EQ(s.action_space.str(), "Discrete(5)");
  EXPECT_EQ(s.observation_space.flat_dim(), 5 * 7);
  EXPECT_EQ(s.max_episode_steps, 40);
  EXPECT_EQ(s.state_dim, 5 * kFields);
  auto cont = make(2, {"action_type=continuous", "observation=lidar"});
  EXPECT_EQ(cont->spec().action_space.str(), "Box(-1.0, 1.0, (2,), float32)");
  EXPECT_EQ(cont->spec().observation_space.flat_dim(), 16 * 2);
}

TEST(Merge, SpawnsAsMergeEnv) {
  auto env = make(64);
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    env->reset(seed);
    for (std::int64_t i = 0; i < env->num_envs(); ++i) {
      const auto st = env->get_state(i);
      ASSERT_EQ(st.size(), 5u * kFields);
      EXPECT_EQ(st[L::x(0)], 30.0);  // ego: right lane, x 30, 30 m/s
      EXPECT_EQ(st[L::y(0)], 4.0);
      EXPECT_EQ(st[L::speed(0)], 30.0);
      const double x0[] = {90, 70, 5}, v0[] = {29, 31, 31.5};
      for (int v = 1; v <= 3; ++v) {
        const auto o = envs::highway::vehicle_row(st.data(), v);
        EXPECT_NEAR(o.x(), x0[v - 1], 5.0);
        EXPECT_TRUE(o.y() == 0.0 || o.y() == 4.0);
        EXPECT_NEAR(o.speed(), v0[v - 1], 1.0);
        EXPECT_EQ(o.target_speed(), 20.0);  // IDM's target clipped to the lanes' 20 m/s limit
      }
      const auto r = envs::highway::vehicle_row(st.data(), kRampCar);
      EXPECT_EQ(r.x(), 110.0);
      EXPECT_EQ(r.y(), 14.5);
      EXPECT_EQ(r.speed(), 20.0);
      EXPECT_EQ(r.target_lane(), 2.0);
    }
  }
}

TEST(Merge, RampFollowsTheSineBend) {
  EXPECT_EQ(envs::merge::ramp_y(100.0f), 14.5f);
  EXPECT_NEAR(envs::merge::ramp_y(190.0f), 11.25f, 1e-5);
  EXPECT_NEAR(envs::merge::ramp_y(229.999f), 8.0f, 1e-4);
  EXPECT_EQ(envs::merge::ramp_y(250.0f), 8.0f);
  EXPECT_LT(envs::merge::ramp_heading(190.0f), -0.1f);  // heading towards the highway (-y)
}

// With the right lane clear (the ego and the traffic in the left lane), the ramp car follows
// the bend, changes into the right lane beside the acceleration lane and drives on.
TEST(Merge, RampCarMergesIntoAClearLane) {
  auto env = make(1);
  env->reset(0);
  auto st = env->get_state(0);
  const double ego[] = {150, 0, 0, 20, 20, 0};
  for (int f = 0; f < kFields; ++f) st[f] = ego[f];
  for (int v = 1; v <= 3; ++v) {
    const double car[] = {400.0 + 30 * v, 0, 0, 20, 20, 0};
    for (int f = 0; f < kFields; ++f) st[v * kFields + f] = car[f];
  }
  env->set_state(0, st, 0);
  DeviceArray<std::int32_t> idle(Device::cpu(), std::vector<std::int32_t>{1});
  double merge_x = -1;
  for (int t = 0; t < 10; ++t) {
    env->step(idle);
    ASSERT_EQ(env->terminated().to_host()[0], 0) << "t " << t;
    const auto now = env->get_state(0);
    const double x = now[L::x(kRampCar)], y = now[L::y(kRampCar)];
    if (x < 145.0) {
      EXPECT_NEAR(y, 14.5, 1e-3);  // the lane keeper looks 2 m ahead
    }
    if (merge_x < 0 && now[L::target_lane(kRampCar)] == 1.0) merge_x = x;
  }
  std::printf("ramp car took the right lane at x = %.1f m\n", merge_x);
  EXPECT_GE(merge_x, 230.0);
  EXPECT_LT(merge_x, 260.0);  // at the first MOBIL decision beside the lane (1 s apart)
  const auto end = env->get_state(0);
  EXPECT_GT(end[L::x(kRampCar)], 290.0);  // driving on in the right lane
  EXPECT_NEAR(end[L::y(kRampCar)], 4.0, 0.1);
  EXPECT_GT(end[L::speed(kRampCar)], 15.0);
}

// In random scenes (the ego on autopilot), the ramp car leaves the ramp only beside the
// acceleration lane and, when it cannot merge, waits before the obstacle.
TEST(Merge, RampCarNeverRunsOutOfLane) {
  const std::int64_t n = 64;
  auto env = make(n, {"ego_policy=autopilot"});
  env->reset(2);
  DeviceArray<std::int32_t> idle(Device::cpu(), std::vector<std::int32_t>(n, 1));
  std::vector<bool> merged(n, false), ended(n, false);
  for (int t = 0; t < 20; ++t) {
    env->step(idle);
    const auto term = env->terminated().to_host();
    for (std::int64_t i = 0; i < n; ++i) {
      if (ended[i] || term[i]) {
        ended[i] = true;
        continue;
      }
      const auto st = env->get_state(i);
      const double x = st[L::x(kRampCar)], y = st[L::y(kRampCar)];
      if (y > 6.0) {
        ASSERT_LT(x, 305.0) << "env " << i << " t " << t;
      }
      if (y < 8.0 && !merged[i]) {
        ASSERT_GT(x, 150.0) << "left the ramp before the bend";
      }
      if (y < 6.0 && !merged[i]) {
        ASSERT_GT(x, 230.0) << "changed lanes before the acceleration lane";
        merged[i] = true;
      }
    }
  }
  int count = 0;
  for (bool m : merged) count += m;
  std::printf("the ramp car merged before the ego's episode ended in %d of %lld envs\n", count,
              static_cast<long long>(n));
  EXPECT_GT(count, 0);
}

TEST(Merge, PastTheEndOfTheRoadTerminates) {
  auto env = make(1);
  env->reset(0);
  auto st = env->get_state(0);
  st[L::x(0)] = 360.0;  // ego 10 m before the end at 30 m/s; the others far behind
  for (int v = 1; v < 5; ++v) st[L::x(v)] = 0.0 + 20.0 * v;
  st[L::x(kRampCar)] = 20.0;
  env->set_state(0, st, 0);
  DeviceArray<std::int32_t> a(Device::cpu(), std::vector<std::int32_t>{1});
  env->step(a);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->truncated().to_host()[0], 0);
  EXPECT_EQ(env->final_outcome().to_host()[0], 1);  // success: the end of the road
  // not a crash: in lane 1 at 30 m/s the normalised reward is (0.1 + 0.2 + 1.5) / 1.8 = 1
  EXPECT_NEAR(env->final_episode_return().to_host()[0], 1.0, 1e-5);
}

// A lane change costs lane_change_reward; a slow car in the acceleration lane costs
// merging_speed_reward x (30 - v) / 30.
TEST(Merge, RewardTerms) {
  auto env = make(1, {"normalize_reward=false"});
  env->reset(0);
  auto st = env->get_state(0);
  for (int v = 1; v < 5; ++v) st[L::x(v)] = 0.0 + 10.0 * v;  // traffic far behind
  st[L::x(0)] = 150.0;
  st[L::y(0)] = 4.0;
  st[L::x(kRampCar)] = 20.0;
  env->set_state(0, st, 0);
  DeviceArray<std::int32_t> a(Device::cpu(), std::vector<std::int32_t>{0});  // LANE_LEFT
  env->step(a);
  // the reward reads the lane the ego is in at the end of the step
  const float r = env->reward().to_host()[0];
  const auto after = env->get_state(0);
  const double lane = std::round(after[L::y(0)] / 4.0);
  const double fast = std::min(1.0, std::max(0.0, (after[L::speed(0)] - 20.0) / 10.0));
  EXPECT_NEAR(r, 0.1 * lane + 0.2 * fast - 0.05, 1e-4);
  // the ramp car held at 10 m/s in the acceleration lane, beside the ego
  auto env2 = make(1, {"normalize_reward=false"});
  env2->reset(0);
  st = env2->get_state(0);
  for (int v = 1; v < 4; ++v) st[L::x(v)] = 10.0 * v;
  st[L::x(0)] = 100.0;
  const double ramp[] = {250.0, 8.0, 0.0, 10.0, 10.0, 2.0};
  for (int f = 0; f < kFields; ++f) st[kRampCar * kFields + f] = ramp[f];
  env2->set_state(0, st, 0);
  a.copy_from_host(std::vector<std::int32_t>{1});
  env2->step(a);
  const auto s2 = env2->get_state(0);
  const double x = s2[L::x(kRampCar)], y = s2[L::y(kRampCar)];
  ASSERT_GT(y, 6.0);  // still in the acceleration lane
  ASSERT_LT(x, 310.0);
  const double slow = (30.0 - s2[L::speed(kRampCar)]) / 30.0;
  const double fast2 = std::min(1.0, std::max(0.0, (s2[L::speed(0)] - 20.0) / 10.0));
  EXPECT_NEAR(env2->reward().to_host()[0], 0.1 * 1 + 0.2 * fast2 - 0.5 * slow, 1e-4);
}

TEST(Merge, ObstacleAtTheRampsEndIsACrash) {
  auto env = make(1, {"action_type=continuous", "normalize_reward=false"});
  env->reset(0);
  auto st = env->get_state(0);
  for (int v = 1; v < 5; ++v) st[L::x(v)] = 10.0 * v;
  st[L::x(0)] = 290.0;  // ego in the acceleration lane heading for the obstacle at x = 310
  st[L::y(0)] = 8.0;
  st[L::speed(0)] = 25.0;
  env->set_state(0, st, 0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f, 0.0f});
  env->step(a);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->final_outcome().to_host()[0], 2);  // collision
  EXPECT_LT(env->final_episode_return().to_host()[0], -0.5f);
}

struct Stats {
  double mean_return = 0, early_end = 0;
};

// One episode in each of 256 envs (the ego's episode ends at x = 370 or earlier).
Stats run_episodes(std::vector<std::string> cfg) {
  const std::int64_t n = 256;
  auto env = make(n, cfg);
  DeviceArray<std::int32_t> a(Device::cpu(), n);
  env->reset(21);
  std::vector<bool> done(n, false);
  std::vector<double> last_x(n, 0.0);
  Stats st;
  for (int t = 0; t < env->spec().max_episode_steps; ++t) {
    env->sample_actions(4, t, a.data());
    env->step(a);
    const auto term = env->terminated().to_host(), trunc = env->truncated().to_host();
    const auto ret = env->final_episode_return().to_host();
    const auto r = env->reward().to_host();
    for (std::int64_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      if (!(term[i] || trunc[i])) {
        last_x[i] = env->get_state(i)[L::x(0)];
        continue;
      }
      done[i] = true;
      st.mean_return += ret[i] / n;
      // ended early: a crash (its -1 puts the normalised step reward below 0.45, every other
      // step scores above 0.5), off the road (still short of the end a step earlier: no car
      // covers 40 m in a step) or out of time
      const bool early = trunc[i] || r[i] < 0.5f || last_x[i] < 330.0;
      st.early_end += early ? 1.0 / n : 0.0;
    }
  }
  for (bool d : done) EXPECT_TRUE(d);
  return st;
}

TEST(Merge, AutopilotBaselineBeatsRandomActions) {
  const Stats random = run_episodes({});
  const Stats autopilot = run_episodes({"ego_policy=autopilot"});
  std::printf(
      "256 episodes: random return %.2f, early ends %.3f; autopilot return %.2f, "
      "early ends %.3f\n",
      random.mean_return, random.early_end, autopilot.mean_return, autopilot.early_end);
  EXPECT_GT(autopilot.mean_return, random.mean_return);
  EXPECT_LE(autopilot.early_end, random.early_end);
  EXPECT_LT(autopilot.early_end, 0.05);
}

TEST(Merge, BadSettingsAreClearErrors) {
  auto error_of = [](std::vector<std::string> cfg) {
    return test::error_message([&] { make(1, cfg); });
  };
  EXPECT_NE(error_of({"merging_speed_reward=1"}).find("merging_speed_reward=1"), std::string::npos);
  EXPECT_NE(error_of({"policy_frequency=20"}).find("Merge-v0: policy_frequency="),
            std::string::npos);
  EXPECT_NE(error_of({"idm_acc_low=5", "idm_acc_high=4"}).find("Merge-v0: idm_acc_high"),
            std::string::npos);
  EXPECT_NE(error_of({"lanes=3"}).find("lanes"), std::string::npos);  // not a Merge-v0 key
  EXPECT_NE(error_of({"action_type=wheel"}).find("discrete|continuous"), std::string::npos);
}

}  // namespace
}  // namespace convoy
