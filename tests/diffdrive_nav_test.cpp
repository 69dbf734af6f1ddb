// DiffDriveNav-v0: spaces, spawning, lidar, reward, arrival and collision ends, episode
// outcomes, determinism, bad settings and the scripted baseline.
#include "envs/robot/diffdrive_nav.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

std::unique_ptr<VecEnv> make(std::int64_t n, std::vector<std::string> cfg = {}) {
  return env_registry().make("DiffDriveNav-v0", Device::cpu(), n, Config::parse(cfg));
}

// A state with the robot at (x, y, theta), at rest, the goal at (gx, gy) and the given
// obstacles {x, y, r}; obstacles_max = 6 slots.
std::vector<double> scene(double x, double y, double theta, double gx, double gy,
                          std::vector<std::array<double, 3>> obstacles) {
  std::vector<double> s = {x, y, theta, 0, 0, gx, gy, static_cast<double>(obstacles.size())};
  for (int k = 0; k < 6; ++k) {
    for (int c = 0; c < 3; ++c) {
      s.push_back(k < static_cast<int>(obstacles.size()) ? obstacles[k][c] : 0.0);
    }
  }
  return s;
}

TEST(DiffDriveNav, Spaces) {
  const EnvSpec& s = env_registry().find("DiffDriveNav-v0").spec;
  EXPECT_EQ(s.observation_space.flat_dim(), 24 + 5);
  EXPECT_EQ(s.action_space.str(), "Box(-1.0, 1.0, (2,), float32)");
  EXPECT_EQ(s.max_episode_steps, 500);
  EXPECT_EQ(s.state_dim, 8 + 3 * 6);
  EXPECT_TRUE(s.has_outcome);
  auto env = make(4, {"n_rays=60", "fov=3.14"});
  EXPECT_EQ(env->obs_dim(), 65);
  env->reset(0);
  const auto obs = env->obs().to_host();
  for (int i = 0; i < 4; ++i) {
    for (int k = 0; k < 65; ++k) {
      EXPECT_GE(obs[i * 65 + k], env->spec().observation_space.low[k]);
      EXPECT_LE(obs[i * 65 + k], env->spec().observation_space.high[k]);
    }
  }
}

TEST(DiffDriveNav, SpawnKeepsStartAndGoalClearOfObstacles) {
  auto env = make(256, {"obstacles_min=3", "obstacles_max=6", "obstacle_radius_max=0.5"});
  int counts[7] = {};
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    env->reset(seed);
    for (int i = 0; i < 256; ++i) {
      const auto st = env->get_state(i);
      const double x = st[0], y = st[1], gx = st[5], gy = st[6];
      const int n = static_cast<int>(st[7]);
      ASSERT_GE(n, 0);
      ASSERT_LE(n, 6);
      ++counts[n];
      EXPECT_LT(std::fabs(x), 2.0 - 0.105);
      EXPECT_LT(std::fabs(y), 2.0 - 0.105);
      EXPECT_LT(std::fabs(gx), 2.0 - 0.105);
      EXPECT_LT(std::fabs(gy), 2.0 - 0.105);
      EXPECT_GE(std::hypot(gx - x, gy - y), 1.5);
      for (int k = 0; k < n; ++k) {
        const double ox = st[8 + 3 * k], oy = st[9 + 3 * k], r = st[10 + 3 * k];
        EXPECT_GE(r, 0.1);
        EXPECT_LE(r, 0.5);
        EXPECT_GT(std::hypot(ox - x, oy - y), r + 0.105) << "obstacle on the start, env " << i;
        EXPECT_GT(std::hypot(ox - gx, oy - gy), r + 0.105) << "obstacle on the goal, env " << i;
      }
    }
  }
  // N ~ U{3..6}: every count occurs, none below 3 (placement never failed here)
  for (int n = 0; n < 3; ++n) EXPECT_EQ(counts[n], 0);
  for (int n = 3; n <= 6; ++n) EXPECT_GT(counts[n], 100);
}

TEST(DiffDriveNav, LidarSeesAKnownObstacleAndTheWalls) {
  auto env = make(1);
  env->reset(0);
  // robot at the centre facing +x; an obstacle of radius 0.2 centred 1 m ahead
  env->set_state(0, scene(0, 0, 0, -1.5, -1.5, {{1.0, 0.0, 0.2}}), 0);
  const auto obs = env->obs().to_host();
  EXPECT_NEAR(obs[0], 0.8 / 3.5, 1e-5);   // ray 0: straight ahead, hits the circle at 0.8 m
  EXPECT_NEAR(obs[6], 2.0 / 3.5, 1e-5);   // ray 6: +90 degrees, the wall y = 2
  EXPECT_NEAR(obs[12], 2.0 / 3.5, 1e-5);  // ray 12: behind, the wall x = -2
  EXPECT_NEAR(obs[3], 2.0 * std::sqrt(2.0) / 3.5, 1e-5);  // ray 3: 45 degrees, the corner
  // goal features: 1.5 sqrt(2) away at bearing -135 degrees; at rest
  EXPECT_NEAR(obs[24], 1.5 * std::sqrt(2.0) / (4 * std::sqrt(2.0)), 1e-5);
  EXPECT_NEAR(obs[25], std::cos(-3 * M_PI / 4), 1e-5);
  EXPECT_NEAR(obs[26], std::sin(-3 * M_PI / 4), 1e-5);
  EXPECT_EQ(obs[27], 0.0f);
  EXPECT_EQ(obs[28], 0.0f);
}

TEST(DiffDriveNav, RewardIsProgressMinusTimePenalty) {
  auto env = make(1);
  env->reset(0);
  env->set_state(0, scene(-1.0, 0, 0, 1.0, 0, {}), 0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{1.0f, 0.0f});  // full speed ahead
  env->step(a);
  const auto st = env->get_state(0);
  EXPECT_NEAR(st[0], -1.0 + 0.22 * 0.1, 1e-6);
  EXPECT_NEAR(env->reward().to_host()[0], 10.0 * 0.022 - 0.01, 1e-5);
  const auto obs = env->obs().to_host();
  EXPECT_NEAR(obs[27], 1.0, 1e-6);  // v / v_max
  // turning in place: no progress, only the time penalty
  DeviceArray<float> turn(Device::cpu(), std::vector<float>{0.0f, 0.5f});
  env->step(turn);
  EXPECT_NEAR(env->reward().to_host()[0], -0.01, 1e-6);
  EXPECT_NEAR(env->get_state(0)[2], 0.5 * 2.84 * 0.1, 1e-6);
}

TEST(DiffDriveNav, ArrivalAndCollisionEndTheEpisode) {
  auto env = make(1);
  env->reset(0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{1.0f, 0.0f});
  // 0.21 m short of the goal: one step of 0.022 m arrives
  env->set_state(0, scene(0.79, 0, 0, 1.0, 0, {}), 0);
  env->step(a);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->final_outcome().to_host()[0], 1);
  EXPECT_NEAR(env->final_episode_return().to_host()[0], 10.0 * 0.022 - 0.01 + 10.0, 1e-4);
  // an obstacle 0.01 m beyond the robot's footprint: the step runs into it
  env->set_state(0, scene(0, 0, 0, -1.5, 1.5, {{0.415, 0.0, 0.3}}), 0);
  env->step(a);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->final_outcome().to_host()[0], 2);
  EXPECT_LT(env->final_episode_return().to_host()[0], -9.0);
  // the wall
  env->set_state(0, scene(1.88, 0, 0, -1.5, 1.5, {}), 0);
  env->step(a);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->final_outcome().to_host()[0], 2);
  // the time limit: no outcome
  auto short_env = make(1, {"max_episode_steps=1"});
  short_env->reset(0);
  short_env->set_state(0, scene(0, 0, 0, -1.5, 1.5, {}), 0);
  short_env->step(a);
  EXPECT_EQ(short_env->truncated().to_host()[0], 1);
  EXPECT_EQ(short_env->terminated().to_host()[0], 0);
  EXPECT_EQ(short_env->final_outcome().to_host()[0], 0);
}

TEST(DiffDriveNav, SameSeedSameTrajectory) {
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2, 2}) {
    set_cpu_threads(threads);
    auto env = make(32, {"obstacles_max=10", "n_rays=16"});
    runs.push_back(test::random_trace(*env, 9, 2, 100));
  }
  set_cpu_threads(0);
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[1], runs[2]);
}

TEST(DiffDriveNav, ImpossibleSettingsAreClearErrors) {
  auto error_of = [](std::vector<std::string> cfg) {
    return test::error_message([&] { make(1, cfg); });
  };
  EXPECT_NE(error_of({"obstacles_min=5", "obstacles_max=3"}).find("obstacles_max=3"),
            std::string::npos);
  EXPECT_NE(error_of({"n_rays=0"}).find("n_rays=0"), std::string::npos);
  EXPECT_NE(error_of({"dt=-0.1"}).find("dt=-0.1"), std::string::npos);
  EXPECT_NE(error_of({"obstacles_max=33"}).find("obstacles_max=33"), std::string::npos);
  EXPECT_NE(
      error_of({"obstacle_radius_min=0.5", "obstacle_radius_max=0.2"}).find("obstacle_radius_max="),
      std::string::npos);
  EXPECT_NE(error_of({"arena_size=1", "robot_radius=0.5"}).find("arena_size="), std::string::npos);
  EXPECT_NE(error_of({"min_goal_distance=10"}).find("min_goal_distance="), std::string::npos);
  EXPECT_NE(error_of({"goal_radius=2"}).find("goal_radius="), std::string::npos);
  EXPECT_NE(error_of({"max_range=0"}).find("max_range=0"), std::string::npos);
  EXPECT_EQ(error_of({"obstacles_min=0", "obstacles_max=0"}), "(no error)");
}

struct Rates {
  double success = 0, collision = 0, mean_return = 0;
};

Rates run_episodes(std::vector<std::string> cfg, std::int64_t n = 200) {
  auto env = make(n, cfg);
  DeviceArray<float> a(Device::cpu(), n * 2);
  env->reset(13);
  std::vector<bool> done(n, false);
  Rates r;
  for (int t = 0; t < env->spec().max_episode_steps; ++t) {
    env->sample_actions(6, t, a.data());
    env->step(a);
    const auto term = env->terminated().to_host(), trunc = env->truncated().to_host();
    const auto out = env->final_outcome().to_host();
    const auto ret = env->final_episode_return().to_host();
    for (std::int64_t i = 0; i < n; ++i) {
      if (done[i] || !(term[i] || trunc[i])) continue;
      done[i] = true;
      r.success += out[i] == 1 ? 1.0 / n : 0.0;
      r.collision += out[i] == 2 ? 1.0 / n : 0.0;
      r.mean_return += ret[i] / n;
    }
  }
  for (bool d : done) EXPECT_TRUE(d);
  return r;
}

TEST(DiffDriveNav, BaselineReachesTheGoalFarMoreOftenThanRandom) {
  const Rates random = run_episodes({});
  const Rates base = run_episodes({"ego_policy=autopilot"});
  std::printf(
      "random: success %.3f collision %.3f return %.1f; baseline: success %.3f "
      "collision %.3f return %.1f\n",
      random.success, random.collision, random.mean_return, base.success, base.collision,
      base.mean_return);
  EXPECT_GT(base.success, 0.8);
  EXPECT_LT(random.success, 0.2);
  EXPECT_GT(base.mean_return, random.mean_return);
}

}  // namespace
}  // namespace convoy
