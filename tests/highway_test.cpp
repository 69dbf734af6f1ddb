// HighwayFast-v0: spawning, traffic, the ego's actions, rewards, crashes and bad settings.
#include "envs/driving/highway.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

using L = envs::highway::StateLayout;

std::unique_ptr<VecEnv> make(std::int64_t n, std::vector<std::string> cfg = {}) {
  return env_registry().make("HighwayFast-v0", Device::cpu(), n, Config::parse(cfg));
}

// Highway-v0 has highway-v0's defaults: 4 lanes, 50 others, 40 s at 1 Hz.
TEST(Highway, SpecFollowsHighwayV0) {
  const EnvSpec& s = env_registry().find("Highway-v0").spec;
  EXPECT_EQ(s.action_space.str(), "Discrete(5)");
  EXPECT_EQ(s.max_episode_steps, 40);
  EXPECT_EQ(s.state_dim, 51 * L::kFields);
  auto env = env_registry().make("Highway-v0", Device::cpu(), 2, Config{});
  env->reset(0);
  const auto st = env->get_state(0);
  for (int v = 0; v < L::vehicles(st.size()); ++v) ASSERT_LE(st[L::y(v)], 12.0);  // lanes 0-3
}

TEST(Highway, SpecFollowsHighwayFast) {
  const EnvSpec& s = env_registry().find("HighwayFast-v0").spec;
  EXPECT_EQ(s.action_space.str(), "Discrete(5)");
  EXPECT_EQ(s.observation_space.flat_dim(), 5 * 7);
  EXPECT_EQ(s.max_episode_steps, 30);  // 30 s at 1 Hz
  auto cont = make(2, {"action_type=continuous"});
  EXPECT_EQ(cont->spec().action_space.str(), "Box(-1.0, 1.0, (2,), float32)");
  auto fast = make(2, {"policy_frequency=2", "duration=40"});
  EXPECT_EQ(fast->spec().max_episode_steps, 80);
}

TEST(Highway, SpawnedVehiclesNeverOverlapAndStartOnTheRoad) {
  auto env = make(256, {"vehicles=50", "lanes=4"});
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    env->reset(seed);
    for (std::int64_t i = 0; i < env->num_envs(); ++i) {
      const auto st = env->get_state(i);
      const int n = L::vehicles(st.size());
      ASSERT_EQ(n, 51);
      for (int a = 0; a < n; ++a) {
        const double ya = st[L::y(a)];
        ASSERT_GE(ya, 0.0);
        ASSERT_LE(ya, 12.0);
        for (int b = a + 1; b < n; ++b) {
          const double dx = std::fabs(st[L::x(a)] - st[L::x(b)]);
          const double dy = std::fabs(ya - st[L::y(b)]);
          // same lane: more than a car length apart; other lanes: 4 m apart
          ASSERT_TRUE(dx > 5.0 || dy >= 4.0) << "env " << i << " vehicles " << a << ", " << b;
        }
      }
    }
  }
}

TEST(Highway, TrafficStaysOnTheRoadAndKeepsMoving) {
  auto env = make(64);
  env->reset(3);
  DeviceArray<std::int32_t> idle(Device::cpu(), std::vector<std::int32_t>(64, 1));
  for (int t = 0; t < 25; ++t) {
    env->step(idle);
    for (std::int64_t i = 0; i < 64; ++i) {
      const auto st = env->get_state(i);
      for (int v = 1; v < L::vehicles(st.size()); ++v) {
        ASSERT_GT(st[L::y(v)], -2.0);  // within the three lanes
        ASSERT_LT(st[L::y(v)], 10.0);
        ASSERT_GT(st[L::speed(v)], 0.0);  // moving forwards
        ASSERT_LT(st[L::speed(v)], 40.0);
      }
    }
  }
}

// One env with only the ego, placed by hand.
std::unique_ptr<VecEnv> lone_ego(std::vector<std::string> cfg, double y, double speed) {
  cfg.push_back("vehicles=0");
  auto env = make(1, cfg);
  env->reset(0);
  env->set_state(0, {100.0, y, 0.0, speed, speed, std::round(y / 4.0)}, 0);
  return env;
}

TEST(Highway, MetaActionsChangeLaneAndSpeed) {
  auto env = lone_ego({}, 0.0, 25.0);
  DeviceArray<std::int32_t> a(Device::cpu(), 1);
  a.copy_from_host(std::vector<std::int32_t>{2});  // LANE_RIGHT
  env->step(a);
  a.copy_from_host(std::vector<std::int32_t>{1});  // IDLE
  for (int t = 0; t < 4; ++t) env->step(a);
  auto st = env->get_state(0);
  EXPECT_NEAR(st[L::y(0)], 4.0, 0.3);  // in lane 1's centre
  EXPECT_EQ(st[L::target_lane(0)], 1.0);
  a.copy_from_host(std::vector<std::int32_t>{3});  // FASTER: target 30 m/s
  env->step(a);
  a.copy_from_host(std::vector<std::int32_t>{1});
  for (int t = 0; t < 5; ++t) env->step(a);
  st = env->get_state(0);
  EXPECT_EQ(st[L::target_speed(0)], 30.0);
  EXPECT_NEAR(st[L::speed(0)], 30.0, 0.2);
  // at 30 m/s in the rightmost lane the normalised reward is 1
  a.copy_from_host(std::vector<std::int32_t>{2});
  for (int t = 0; t < 5; ++t) env->step(a);
  EXPECT_NEAR(env->reward().to_host()[0], 1.0, 1e-3);
}

TEST(Highway, ContinuousAccelerationFollowsTheKinematicModel) {
  auto env = lone_ego({"action_type=continuous"}, 4.0, 25.0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{1.0f, 0.0f});  // +5 m/s^2, straight
  env->step(a);
  const auto st = env->get_state(0);
  EXPECT_NEAR(st[L::speed(0)], 30.0, 1e-4);                                // 25 + 5 m/s^2 x 1 s
  EXPECT_NEAR(st[L::x(0)], 100.0 + 0.2 * (25 + 26 + 27 + 28 + 29), 1e-3);  // Euler, 5 frames
  EXPECT_NEAR(st[L::y(0)], 4.0, 1e-6);
  // reward: lane 1 of 3 (right-lane term 0.5), speed 30: (0.1 * 0.5 + 0.4 + 1) / 1.5
  EXPECT_NEAR(env->reward().to_host()[0], (0.05 + 0.4 + 1.0) / 1.5, 1e-5);
  EXPECT_FALSE(env->terminated().to_host()[0]);
}

TEST(Highway, LeavingTheRoadTerminatesWithOffroadTerminal) {
  auto env = lone_ego({"action_type=continuous", "offroad_terminal=true"}, 8.0, 25.0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f, 1.0f});  // hard right
  bool ended = false;
  for (int t = 0; t < 5 && !ended; ++t) {
    env->step(a);
    ended = env->terminated().to_host()[0] != 0;
  }
  EXPECT_TRUE(ended);
  EXPECT_EQ(env->reward().to_host()[0], 0.0f);  // off road: the reward is multiplied by 0
}

// highway-env's default (offroad_terminal false): off the road the episode goes on, scoring 0.
TEST(Highway, LeavingTheRoadScoresZeroByDefault) {
  auto env = lone_ego({"action_type=continuous"}, 8.0, 25.0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f, 1.0f});  // hard right
  for (int t = 0; t < 5; ++t) {
    env->step(a);
    ASSERT_EQ(env->terminated().to_host()[0], 0);
  }
  EXPECT_EQ(env->reward().to_host()[0], 0.0f);
}

TEST(Highway, CrashIsTerminalAndCostsTheCollisionReward) {
  auto env = make(1, {"vehicles=1", "normalize_reward=false"});
  env->reset(0);
  // ego at 30 m/s, a car 8 m ahead in the same lane at 5 m/s: they collide within the step
  env->set_state(0, {100, 0, 0, 30, 30, 0, 108, 0, 0, 5, 5, 0}, 0);
  DeviceArray<std::int32_t> a(Device::cpu(), std::vector<std::int32_t>{1});
  env->step(a);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  const float r = env->final_episode_return().to_host()[0];
  EXPECT_LT(r, -0.5f);  // -1 for the crash, plus at most 0.4 + 0 for speed and lane
}

TEST(Highway, DeterministicAcrossThreadCounts) {
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2}) {
    set_cpu_threads(threads);
    auto env = make(48, {"action_type=continuous"});
    DeviceArray<float> a(Device::cpu(), 96);
    env->reset(5);
    for (int t = 0; t < 60; ++t) {
      env->sample_actions(9, t, a.data());
      env->step_raw(a.data());
    }
    auto obs = env->obs().to_host();
    const auto ret = env->final_episode_return().to_host();
    obs.insert(obs.end(), ret.begin(), ret.end());
    runs.push_back(obs);
  }
  set_cpu_threads(0);
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(Highway, ImpossibleSettingsAreClearErrors) {
  auto error_of = [](std::vector<std::string> cfg) {
    return test::error_message([&] { make(1, cfg); });
  };
  EXPECT_NE(error_of({"lanes=0"}).find("lanes=0"), std::string::npos);
  EXPECT_NE(error_of({"vehicles=-1"}).find("vehicles=-1"), std::string::npos);
  EXPECT_NE(error_of({"simulation_frequency=-5"}).find("simulation_frequency=-5"),
            std::string::npos);
  EXPECT_NE(error_of({"policy_frequency=10", "simulation_frequency=5"}).find("exceeds"),
            std::string::npos);
  EXPECT_NE(error_of({"action_type=joystick"}).find("discrete|continuous"), std::string::npos);
  EXPECT_NE(error_of({"lanes=1", "vehicles=200", "duration=1"}).find("(no error)"),
            std::string::npos);  // 200 cars fit on one 10 km lane
}

}  // namespace
}  // namespace convoy

namespace convoy {
namespace {

// The politeness-0 shortcut decides exactly as physics::mobil_should_change does.
TEST(Highway, MobilShortcutMatchesTheFullRule) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> pos(0, 300), vel(5, 35);
  const auto idm = physics::highway_env_idm<float>();
  const auto mobil = physics::highway_env_mobil<float>();
  int changes = 0, checked = 0;
  for (int scene = 0; scene < 500; ++scene) {
    const int n = 21;
    std::int32_t lane[n];
    float x[n], speed[n], target[n];
    for (int v = 0; v < n; ++v) {
      lane[v] = static_cast<std::int32_t>(gen() % 3);
      x[v] = pos(gen);
      speed[v] = vel(gen);
      target[v] = vel(gen);
    }
    for (int v = 0; v < n; ++v) {
      int front, rear;
      physics::find_neighbours(lane, x, n, lane[v], x[v], v, &front, &rear);
      const float self_a = physics::idm_acceleration_of(idm, x, speed, target, v, front);
      for (int cand = lane[v] - 1; cand <= lane[v] + 1; cand += 2) {
        if (cand < 0 || cand > 2) continue;
        const bool full = physics::mobil_should_change(
            mobil, physics::mobil_accelerations(idm, lane, x, speed, target, n, v, cand));
        int new_front, new_rear;
        physics::find_neighbours(lane, x, n, cand, x[v], v, &new_front, &new_rear);
        const bool fast = envs::Highway<true>::mobil_change(idm, mobil, lane, x, speed, target, n,
                                                            v, cand, self_a, new_front, new_rear);
        ASSERT_EQ(full, fast) << "scene " << scene << " vehicle " << v << " lane " << cand;
        changes += full;
        ++checked;
      }
    }
  }
  EXPECT_GT(changes, 100);  // both outcomes occur
  EXPECT_LT(changes, checked - 100);
}

}  // namespace
}  // namespace convoy

namespace convoy {
namespace {

// The per-frame neighbours (the tabled leaders, the walks to the followers) answer as
// physics::find_neighbours does for every vehicle and lane.
TEST(Highway, NeighbourTablesMatchTheScan) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> pos(0, 400);
  for (int scene = 0; scene < 300; ++scene) {
    const int n = 1 + static_cast<int>(gen() % 60), lanes = 1 + static_cast<int>(gen() % 5);
    std::int32_t lane[envs::highway::kMaxVehicles];
    float x[envs::highway::kMaxVehicles];
    for (int v = 0; v < n; ++v) {
      lane[v] = static_cast<std::int32_t>(gen() % lanes);
      x[v] = pos(gen);
    }
    std::int32_t order[envs::highway::kMaxVehicles], at[envs::highway::kMaxVehicles],
        front[envs::highway::kMaxVehicles * 3];
    envs::highway::neighbour_tables(lane, x, n, lanes, order, at, front);
    const envs::highway::Neighbours nb{lane, order, at, front, n};
    for (int v = 0; v < n; ++v) {
      for (int d = 0; d < 3; ++d) {
        const int l = lane[v] + d - 1;
        int ahead = -1, behind = -1;
        if (l >= 0 && l < lanes) physics::find_neighbours(lane, x, n, l, x[v], v, &ahead, &behind);
        ASSERT_EQ(nb.ahead(v, l), ahead) << "scene " << scene << " vehicle " << v << " d " << d;
        ASSERT_EQ(nb.behind(v, l), behind) << "scene " << scene << " vehicle " << v << " d " << d;
      }
    }
  }
}

}  // namespace
}  // namespace convoy

namespace convoy {
namespace {

struct EpisodeStats {
  double mean_return = 0, crash_rate = 0;
};

// One episode in each of 256 envs: mean return and how often it ended early (crash/off road).
EpisodeStats run_episodes(std::vector<std::string> cfg) {
  const std::int64_t n = 256;
  auto env = make(n, cfg);
  DeviceArray<std::int32_t> a(Device::cpu(), n);
  env->reset(21);
  std::vector<bool> done(n, false);
  EpisodeStats st;
  for (int t = 0; t < env->spec().max_episode_steps; ++t) {
    env->sample_actions(4, t, a.data());
    env->step(a);
    const auto term = env->terminated().to_host(), trunc = env->truncated().to_host();
    const auto ret = env->final_episode_return().to_host();
    for (std::int64_t i = 0; i < n; ++i) {
      if (done[i] || !(term[i] || trunc[i])) continue;
      done[i] = true;
      st.mean_return += ret[i] / n;
      st.crash_rate += term[i] ? 1.0 / n : 0.0;
    }
  }
  for (bool d : done) EXPECT_TRUE(d);
  return st;
}

// The scripted baseline (IDM/MOBIL driving the ego) beats a random policy.
TEST(Highway, AutopilotBaselineBeatsRandomActions) {
  const EpisodeStats random = run_episodes({});
  const EpisodeStats autopilot = run_episodes({"ego_policy=autopilot"});
  std::printf("random: return %.2f, crashes %.3f; autopilot: return %.2f, crashes %.3f\n",
              random.mean_return, random.crash_rate, autopilot.mean_return, autopilot.crash_rate);
  EXPECT_GT(autopilot.mean_return, random.mean_return);
  EXPECT_LT(autopilot.crash_rate, random.crash_rate);
  EXPECT_LT(autopilot.crash_rate, 0.05);
}

}  // namespace
}  // namespace convoy
