// Parking-v0: the goal-conditioned layout, spawning, compute_reward, success and collision
// ends, episode outcomes, determinism, bad settings and the scripted baseline.
#include "envs/driving/parking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

using envs::Parking;

std::unique_ptr<VecEnv> make(std::int64_t n, std::vector<std::string> cfg = {}) {
  return env_registry().make("Parking-v0", Device::cpu(), n, Config::parse(cfg));
}

// Spot centre (x, y, heading) as highway-env lays out 14 spots per row.
void spot(int k, double* x, double* y, double* h) {
  *x = ((k % 14) + 1 - 7) * 4.0 - 2.0;
  *y = k < 14 ? 14.0 : -14.0;
  *h = k < 14 ? M_PI / 2 : -M_PI / 2;
}

TEST(Parking, SpacesAndGoalLayout) {
  const EnvSpec& s = env_registry().find("Parking-v0").spec;
  EXPECT_EQ(s.observation_space.flat_dim(), 18);
  EXPECT_EQ(s.action_space.str(), "Box(-1.0, 1.0, (2,), float32)");
  EXPECT_EQ(s.max_episode_steps, 500);  // 100 s at 5 Hz
  EXPECT_TRUE(s.has_outcome);
  auto env = make(64);
  env->reset(1);
  const auto obs = env->obs().to_host();
  for (int i = 0; i < 64; ++i) {
    const float* o = obs.data() + i * 18;
    const auto st = env->get_state(i);
    double gx, gy, gh;
    spot(static_cast<int>(st[6]), &gx, &gy, &gh);
    for (int k = 0; k < 6; ++k) EXPECT_EQ(o[k], o[6 + k]);  // observation == achieved_goal
    EXPECT_NEAR(o[0], st[0] / 100, 1e-6);
    EXPECT_NEAR(o[4], std::cos(st[2]), 1e-5);
    EXPECT_NEAR(o[5], std::sin(st[2]), 1e-5);
    EXPECT_NEAR(o[12], gx / 100, 1e-6);  // desired_goal: the spot's centre, at rest
    EXPECT_NEAR(o[13], gy / 100, 1e-6);
    EXPECT_EQ(o[14], 0.0f);
    EXPECT_EQ(o[15], 0.0f);
    EXPECT_NEAR(o[16], std::cos(gh), 1e-6);
    EXPECT_NEAR(o[17], std::sin(gh), 1e-6);
  }
}

TEST(Parking, SpawnsEgoGoalAndParkedCarsApart) {
  auto env = make(
      128, {"vehicles=20", "length_low=4", "length_high=6", "width_low=1.6", "width_high=2.4"});
  std::set<int> goals;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    env->reset(seed);
    const auto term = env->terminated().to_host();
    for (int i = 0; i < 128; ++i) {
      const auto st = env->get_state(i);
      ASSERT_EQ(st.size(), 7u + 3 * 20);
      EXPECT_EQ(st[0], 0.0);
      EXPECT_EQ(st[1], 0.0);
      EXPECT_EQ(st[3], 0.0);
      EXPECT_GE(st[4], 4.0);
      EXPECT_LE(st[4], 6.0);
      EXPECT_GE(st[5], 1.6);
      EXPECT_LE(st[5], 2.4);
      std::set<int> used = {static_cast<int>(st[6])};
      goals.insert(static_cast<int>(st[6]));
      for (int v = 0; v < 20; ++v) {
        const int k = static_cast<int>(st[7 + 3 * v]);
        ASSERT_GE(k, 0);
        ASSERT_LT(k, 28);
        EXPECT_TRUE(used.insert(k).second) << "env " << i << ": spot " << k << " used twice";
        EXPECT_GE(st[8 + 3 * v], 4.0);
        EXPECT_LE(st[8 + 3 * v], 6.0);
      }
      EXPECT_FALSE(term[i]);
    }
  }
  EXPECT_GT(goals.size(), 20u);  // goals spread over the lot
  // the ego at the start touches nothing: a step at rest ends nothing
  env->reset(0);
  DeviceArray<float> zero(Device::cpu(), std::vector<float>(256, 0.0f));
  env->step(zero);
  const auto term = env->terminated().to_host();
  for (int i = 0; i < 128; ++i) EXPECT_FALSE(term[i]) << "env " << i;
}

TEST(Parking, ComputeRewardIsHighwayEnvsWeightedRoot) {
  const Parking::Params p;
  const float a[6] = {0.10f, -0.05f, 0.3f, -0.2f, 0.6f, 0.8f};
  const float d[6] = {0.14f, 0.14f, 0.0f, 0.0f, 0.0f, 1.0f};
  // -(1 |0.1 - 0.14| + 0.3 |-0.05 - 0.14| + 0 + 0 + 0.02 |0.6| + 0.02 |0.8 - 1|)^0.5
  const double hand = -std::sqrt(0.04 + 0.3 * 0.19 + 0.02 * 0.6 + 0.02 * 0.2);
  EXPECT_NEAR(Parking::compute_reward(a, d, p), hand, 1e-6);
  EXPECT_EQ(Parking::compute_reward(d, d, p), 0.0f);
  // the env's reward is compute_reward on its own obs slices
  auto env = make(1);
  env->reset(0);
  double gx, gy, gh;
  auto st = env->get_state(0);
  spot(static_cast<int>(st[6]), &gx, &gy, &gh);
  st[0] = 3.0;
  st[1] = 2.0;
  st[2] = 0.5;
  st[3] = 0.0;
  env->set_state(0, st, 0);
  DeviceArray<float> a0(Device::cpu(), std::vector<float>{0.0f, 0.0f});
  env->step(a0);
  const double expect = -std::sqrt(std::fabs(3.0 - gx) / 100 + 0.3 * std::fabs(2.0 - gy) / 100 +
                                   0.02 * std::fabs(std::cos(0.5) - std::cos(gh)) +
                                   0.02 * std::fabs(std::sin(0.5) - std::sin(gh)));
  EXPECT_NEAR(env->reward().to_host()[0], expect, 1e-5);
  const auto obs = env->obs().to_host();
  EXPECT_NEAR(Parking::compute_reward(obs.data() + 6, obs.data() + 12, p), expect, 1e-5);
}

TEST(Parking, ParkedInTheGoalSpotIsSuccess) {
  auto env = make(1, {"vehicles=3"});
  env->reset(2);
  auto st = env->get_state(0);
  double gx, gy, gh;
  spot(static_cast<int>(st[6]), &gx, &gy, &gh);
  // 0.5 m short of the centre, 5 degrees off: within the tolerance
  st[0] = gx;
  st[1] = gy - 0.5 * std::sin(gh);
  st[2] = gh + 0.087;
  st[3] = 0.0;
  env->set_state(0, st, 0);
  DeviceArray<float> a0(Device::cpu(), std::vector<float>{0.0f, 0.0f});
  env->step(a0);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->final_outcome().to_host()[0], 1);  // EpisodeOutcome::kSuccess
  EXPECT_GT(env->final_episode_return().to_host()[0], -0.12);
  // 3 m to the side of it is not parked
  st[0] = gx + 3.0;
  env->set_state(0, st, 0);
  env->step(a0);
  EXPECT_EQ(env->terminated().to_host()[0], 0);
}

TEST(Parking, HittingAParkedCarOrAWallEndsWithTheCollisionReward) {
  auto env = make(1, {"vehicles=1"});
  env->reset(3);
  auto st = env->get_state(0);
  double cx, cy, ch;
  spot(static_cast<int>(st[7]), &cx, &cy, &ch);
  // driving at 5 m/s straight at the parked car's side, 3 m away
  st[0] = cx - 4.0;
  st[1] = cy;
  st[2] = 0.0;
  st[3] = 5.0;
  env->set_state(0, st, 0);
  DeviceArray<float> a0(Device::cpu(), std::vector<float>{0.0f, 0.0f});
  env->step(a0);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->final_outcome().to_host()[0], 2);  // EpisodeOutcome::kCollision
  EXPECT_LT(env->final_episode_return().to_host()[0], -5.0);
  // into the right wall (x = 35) at 10 m/s from 2 m away
  env->reset(3);
  st = env->get_state(0);
  st[0] = 31.0;
  st[1] = 0.0;
  st[2] = 0.0;
  st[3] = 10.0;
  env->set_state(0, st, 0);
  env->step(a0);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  EXPECT_EQ(env->final_outcome().to_host()[0], 2);
  // time limit: outcome none
  auto short_env = make(1, {"duration=1", "policy_frequency=2"});  // two steps
  short_env->reset(0);
  short_env->step(a0);
  short_env->step(a0);
  EXPECT_EQ(short_env->truncated().to_host()[0], 1);
  EXPECT_EQ(short_env->final_outcome().to_host()[0], 0);
}

TEST(Parking, SameSeedSameTrajectory) {
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2, 2}) {
    set_cpu_threads(threads);
    auto env = make(32, {"vehicles=6", "length_low=4.5", "length_high=5.5"});
    runs.push_back(test::random_trace(*env, 7, 3, 80));
  }
  set_cpu_threads(0);
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[1], runs[2]);
}

TEST(Parking, ImpossibleSettingsAreClearErrors) {
  auto error_of = [](std::vector<std::string> cfg) {
    return test::error_message([&] { make(1, cfg); });
  };
  EXPECT_NE(error_of({"vehicles=28"}).find("vehicles=28"), std::string::npos);
  EXPECT_NE(error_of({"spots=4", "vehicles=8"}).find("vehicles=8"), std::string::npos);
  EXPECT_NE(error_of({"length_low=6", "length_high=5"}).find("length_high="), std::string::npos);
  EXPECT_NE(error_of({"width_low=2.5", "width_high=2"}).find("width_high="), std::string::npos);
  EXPECT_NE(error_of({"length_low=3", "width_high=3.2"}).find("width_high="), std::string::npos);
  EXPECT_NE(error_of({"length_high=9"}).find("length_high=9"), std::string::npos);
  EXPECT_NE(error_of({"duration=-1"}).find("duration=-1"), std::string::npos);
  EXPECT_NE(error_of({"policy_frequency=20"}).find("exceeds"), std::string::npos);
  EXPECT_NE(error_of({"success_goal_reward=0"}).find("success_goal_reward=0"), std::string::npos);
  EXPECT_EQ(error_of({"spots=4", "vehicles=7"}), "(no error)");
}

TEST(Parking, NonFiniteActionsAreRejected) {
  auto env = make(2);
  env->reset(0);
  const auto before = env->get_state(1);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f, 0.0f, NAN, 0.0f});
  EXPECT_THROW(env->step(a), Error);
  EXPECT_EQ(env->get_state(1), before);
}

struct Rates {
  double success = 0, collision = 0, mean_return = 0;
};

// One episode in each of n envs, random actions (ignored by the autopilot).
Rates run_episodes(std::vector<std::string> cfg, std::int64_t n = 200) {
  auto env = make(n, cfg);
  DeviceArray<float> a(Device::cpu(), n * 2);
  env->reset(11);
  std::vector<bool> done(n, false);
  Rates r;
  std::int64_t left = n;
  for (int t = 0; t < env->spec().max_episode_steps && left > 0; ++t) {
    env->sample_actions(5, t, a.data());
    env->step(a);
    const auto term = env->terminated().to_host(), trunc = env->truncated().to_host();
    const auto out = env->final_outcome().to_host();
    const auto ret = env->final_episode_return().to_host();
    for (std::int64_t i = 0; i < n; ++i) {
      if (done[i] || !(term[i] || trunc[i])) continue;
      done[i] = true;
      --left;
      r.success += out[i] == 1 ? 1.0 / n : 0.0;
      r.collision += out[i] == 2 ? 1.0 / n : 0.0;
      r.mean_return += ret[i] / n;
    }
  }
  for (bool d : done) EXPECT_TRUE(d);
  return r;
}

TEST(Parking, BaselineParksFarMoreOftenThanRandom) {
  for (const char* parked : {"vehicles=0", "vehicles=27"}) {
    const Rates random = run_episodes({parked});
    const Rates base = run_episodes({parked, "ego_policy=autopilot"});
    std::printf(
        "%s: random success %.3f collision %.3f return %.1f; baseline success %.3f "
        "collision %.3f return %.1f\n",
        parked, random.success, random.collision, random.mean_return, base.success, base.collision,
        base.mean_return);
    EXPECT_GT(base.success, 0.9);
    EXPECT_LT(random.success, 0.1);
    // (not the return: the reward is a negative distance every step, so random actions that
    // hit a wall within seconds collect less of it than a car that takes a minute to park)
    EXPECT_LT(base.collision, 0.05);
    EXPECT_GT(random.collision, 0.5);
  }
}

}  // namespace
}  // namespace convoy
