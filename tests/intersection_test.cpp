// Intersection-v0: the multi-agent row layout (scenes x agents), spawning, traffic routes and
// yielding, per-scene ends and auto-reset, arrival, determinism, PPO on the flattened batch,
// bad settings and the scripted baseline against random actions.
#include "envs/driving/intersection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "envs/registry.h"
#include "rl/ppo.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

using envs::intersection::kStateFields;
using L = envs::intersection::StateLayout;
namespace ix = envs::intersection;

std::unique_ptr<VecEnv> make(std::int64_t n, std::vector<std::string> cfg = {}) {
  return env_registry().make("Intersection-v0", Device::cpu(), n, Config::parse(cfg));
}

ix::Params params_of(std::vector<std::string> cfg = {}) {
  const Config c = Config::parse(cfg);
  ConfigReader r(c, "Intersection-v0");
  return ix::read_params(r);
}

struct Pose {
  double x, y, heading;
};
Pose pose(const ix::Params& p, int route, double s) {
  const auto lane = ix::route_lane(p, route);
  const auto q = physics::lane_position(lane, static_cast<float>(s));
  return {q.x, q.y, physics::lane_heading(lane, static_cast<float>(s))};
}

bool overlap(const Pose& a, const Pose& b) {
  const physics::OrientedBox<float> ba{{static_cast<float>(a.x), static_cast<float>(a.y)},
                                       {2.5f, 1.0f},
                                       static_cast<float>(a.heading)};
  const physics::OrientedBox<float> bb{{static_cast<float>(b.x), static_cast<float>(b.y)},
                                       {2.5f, 1.0f},
                                       static_cast<float>(b.heading)};
  return physics::box_box_overlap(ba, bb);
}

// A state with every slot empty, to place vehicles by hand.
std::vector<double> empty_state(const VecEnv& env) {
  std::vector<double> st(env.spec().state_dim, 0.0);
  for (int u = 0; u < static_cast<int>(st.size()) / L::kFields; ++u) st[L::route(u)] = -1;
  return st;
}
void put(std::vector<double>* st, int slot, int route, double s, double speed, double target) {
  double* o = st->data();
  o[L::route(slot)] = route;
  o[L::s(slot)] = s;
  o[L::speed(slot)] = speed;
  o[L::target_speed(slot)] = target;
  o[L::delta(slot)] = 4.0;
  o[L::time_gap(slot)] = 1.5;
}

TEST(Intersection, SpacesAndRowLayoutAreScenesTimesAgents) {
  const EnvSpec& s = env_registry().find("Intersection-v0").spec;
  EXPECT_EQ(s.action_space.str(), "Discrete(3)");
  EXPECT_EQ(s.observation_space.flat_dim(), 15 * 7);
  EXPECT_EQ(s.max_episode_steps, 13);  // 13 s at 1 Hz
  EXPECT_EQ(s.agents_per_env, 1);
  auto cont = make(2, {"action_type=continuous"});
  EXPECT_EQ(cont->spec().action_space.str(), "Box(-1.0, 1.0, (1,), float32)");

  // 3 scenes x 2 agents = 6 rows; row scene * 2 + agent observes that agent first
  auto env = make(6, {"agents_per_env=2"});
  EXPECT_EQ(env->num_envs(), 6);
  EXPECT_EQ(env->num_scenes(), 3);
  EXPECT_EQ(env->agents_per_env(), 2);
  const ix::Params p = params_of({"agents_per_env=2"});
  env->reset(4);
  DeviceArray<std::int32_t> idle(Device::cpu(), std::vector<std::int32_t>(6, 1));
  for (int t = 0; t < 3; ++t) {
    const auto obs = env->obs().to_host();
    for (int c = 0; c < 3; ++c) {
      const auto st = env->get_state(c);
      for (int a = 0; a < 2; ++a) {
        const int route = static_cast<int>(st[L::route(a)]);
        ASSERT_EQ(route / 3, a) << "agent k enters from arm k";
        const Pose q = pose(p, route, st[L::s(a)]);
        const float* o = obs.data() + (c * 2 + a) * env->obs_dim();
        EXPECT_EQ(o[0], 1.0f);
        EXPECT_NEAR(o[1], q.x / 100.0, 1e-5) << "scene " << c << " agent " << a;
        EXPECT_NEAR(o[2], q.y / 100.0, 1e-5);
        EXPECT_NEAR(o[5], std::cos(q.heading), 1e-5);
      }
    }
    env->step(idle);
  }
  // get_state / set_state index scenes
  EXPECT_THROW(env->get_state(3), Error);
}

TEST(Intersection, SpawnedVehiclesNeverOverlapAndFollowRoutes) {
  const ix::Params p = params_of({"agents_per_env=4"});
  auto env = make(4 * 64, {"agents_per_env=4"});
  int vehicles = 0;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    env->reset(seed);
    for (std::int64_t c = 0; c < env->num_scenes(); ++c) {
      const auto st = env->get_state(c);
      const int n = static_cast<int>(st.size()) / kStateFields;
      ASSERT_EQ(n, 4 + 20);
      std::vector<Pose> poses;
      for (int u = 0; u < n; ++u) {
        const int route = static_cast<int>(st[L::route(u)]);
        if (u < 4) {
          ASSERT_GE(route, 0) << "agents are always present";
        }
        if (route < 0) continue;
        ASSERT_LT(route, 12);
        const double s = st[L::s(u)];
        ASSERT_GE(s, 0.0);
        ASSERT_LT(s, p.route_length[route]);
        poses.push_back(pose(p, route, s));
      }
      vehicles += static_cast<int>(poses.size()) - 4;
      for (std::size_t a = 0; a < poses.size(); ++a) {
        for (std::size_t b = a + 1; b < poses.size(); ++b) {
          ASSERT_FALSE(overlap(poses[a], poses[b])) << "scene " << c << " " << a << ", " << b;
        }
      }
    }
  }
  EXPECT_GT(vehicles, 3 * 64 * 2) << "warm-up traffic is spawned";
}

TEST(Intersection, ConflictTableMatchesTheGeometry) {
  const ix::Params p = params_of();
  auto conflict = [&](int a, int b) { return ((p.conflicts[a] >> b) & 1u) != 0; };
  const int south_right = 0, south_straight = 1, south_left = 2;
  const int east_straight = 3 * 1 + 1, north_straight = 3 * 2 + 1, north_left = 3 * 2 + 2;
  const int north_right = 3 * 2 + 0;
  for (int a = 0; a < 12; ++a) {
    for (int b = 0; b < 12; ++b) EXPECT_EQ(conflict(a, b), conflict(b, a));
  }
  EXPECT_TRUE(conflict(south_straight, east_straight));    // crossing paths
  EXPECT_TRUE(conflict(south_left, north_straight));       // left turn across oncoming traffic
  EXPECT_TRUE(conflict(south_right, north_left));          // both end on the east exit
  EXPECT_FALSE(conflict(south_right, north_right));        // opposite corners
  EXPECT_FALSE(conflict(south_straight, north_straight));  // side by side, opposite ways
  EXPECT_FALSE(conflict(south_right, south_left));         // same arm: IDM following instead
}

// North-south traffic (priority 1) yields to east-west traffic (priority 3): it stops at the
// entry line while the other crosses, and goes once it has left; also when it is the nearer of
// the two (so it is the rule, not who comes first).
TEST(Intersection, TrafficYieldsByPriorityThenGoes) {
  for (const bool north_nearer : {true, false}) {
    auto env = make(1, {"vehicles=2", "initial_vehicle_count=0", "spawn_probability=0"});
    const ix::Params p = params_of();
    env->reset(0);
    auto st = empty_state(*env);
    put(&st, 0, 0, 0.0, 0.0, 0.0);  // the agent waits at the far end of the south arm
    const int north = 3 * 2 + 1, east = 3 * 1 + 1;
    const int waiter = 1, goer = 2;
    put(&st, waiter, north, p.entry - (north_nearer ? 22.0 : 28.0), 8.0, 8.0);
    put(&st, goer, east, p.entry - (north_nearer ? 28.0 : 22.0), 8.0, 8.0);
    env->set_state(0, st, 0);
    DeviceArray<std::int32_t> slower(Device::cpu(), std::vector<std::int32_t>(1, 0));
    bool waited = false, went = false, goer_crossed = false;
    double last_s = -1e9;
    for (int t = 0; t < 10; ++t) {
      env->step(slower);
      const auto now = env->get_state(0);
      const double ws = now[L::s(waiter)];
      const double gs = now[L::s(goer)];
      if (now[L::route(waiter)] < 0) break;  // left the scene at the end of its exit
      ASSERT_EQ(now[L::route(waiter)], north) << "routes never change";
      ASSERT_GE(ws, last_s) << "never reverses";
      last_s = ws;
      if (!goer_crossed) {
        ASSERT_LT(ws + 2.5, p.entry) << "north_nearer " << north_nearer << " t " << t
                                     << ": entered before the east car had crossed";
        if (now[L::speed(waiter)] < 0.5) waited = true;
      }
      if (now[L::route(goer)] < 0 || gs - 2.5 > p.entry + p.turn_length[east]) {
        goer_crossed = true;
      }
      if (goer_crossed && ws + 2.5 > p.entry) went = true;
    }
    EXPECT_TRUE(waited) << "north_nearer " << north_nearer;
    EXPECT_TRUE(goer_crossed) << "north_nearer " << north_nearer;
    EXPECT_TRUE(went) << "north_nearer " << north_nearer << ": the waiting car never went";
  }
}

TEST(Intersection, TrafficFollowsItsLeaderWithoutOverlap) {
  auto env = make(1, {"vehicles=2", "initial_vehicle_count=0", "spawn_probability=0"});
  const ix::Params p = params_of();
  env->reset(0);
  auto st = empty_state(*env);
  put(&st, 0, 0, 0.0, 0.0, 0.0);
  // a slow leader and a fast follower on the same approach, different routes
  put(&st, 1, 3 * 3 + 0, 30.0, 2.0, 2.0);
  put(&st, 2, 3 * 3 + 2, 10.0, 10.0, 10.0);
  env->set_state(0, st, 0);
  DeviceArray<std::int32_t> slower(Device::cpu(), std::vector<std::int32_t>(1, 0));
  for (int t = 0; t < 8; ++t) {
    env->step(slower);
    const auto now = env->get_state(0);
    const double gap = now[L::s(1)] - now[L::s(2)];
    if (now[L::s(1)] > p.entry) break;  // the paths part
    ASSERT_GT(gap, 5.0) << "t " << t;
  }
}

// Two agents meet in the crossing: the scene terminates on both rows at once (crash reward),
// the other scene goes on, and the crashed scene auto-resets.
TEST(Intersection, CollisionEndsTheSceneForAllItsAgents) {
  auto env =
      make(4, {"agents_per_env=2", "vehicles=0", "initial_vehicle_count=0", "spawn_probability=0"});
  const ix::Params p = params_of({"agents_per_env=2"});
  env->reset(1);
  auto st = empty_state(*env);
  // south and east straight on at the same speed
  // both 9 m (1 s) from where their paths cross, (2, 2); the crossing starts 11 m from the centre
  put(&st, 0, 1, p.entry + 4.0, 9.0, 9.0);
  put(&st, 1, 3 + 1, p.entry, 9.0, 9.0);
  env->set_state(0, st, 0);
  DeviceArray<std::int32_t> idle(Device::cpu(), std::vector<std::int32_t>(4, 1));
  env->step(idle);
  const auto term = env->terminated().to_host();
  const auto rew = env->reward().to_host();
  const auto len = env->episode_length().to_host();
  const auto flen = env->final_episode_length().to_host();
  EXPECT_EQ(term[0], 1);
  EXPECT_EQ(term[1], 1);
  EXPECT_EQ(term[2], 0);
  EXPECT_EQ(term[3], 0);
  // collision -5 plus at most 1 for speed, normalised from [-5, 1]: at most 1/6
  EXPECT_LE(rew[0], 1.0f / 6.0f + 1e-6f);
  EXPECT_LE(rew[1], 1.0f / 6.0f + 1e-6f);
  EXPECT_EQ(flen[0], 1);
  EXPECT_EQ(flen[1], 1);
  const auto outcome = env->final_outcome().to_host();
  EXPECT_EQ(outcome[0], static_cast<std::uint8_t>(EpisodeOutcome::kCollision));
  EXPECT_EQ(outcome[1], static_cast<std::uint8_t>(EpisodeOutcome::kCollision));
  EXPECT_TRUE(env->spec().has_outcome);
  EXPECT_EQ(len[0], 0) << "the crashed scene auto-reset";
  EXPECT_EQ(len[2], 1) << "the other scene goes on";
  // the fresh scene has its agents back at the start of their approaches
  const auto fresh = env->get_state(0);
  EXPECT_LT(fresh[1], p.entry - 10.0);
  // final obs of the crashed agents show the crash site, near the centre
  const auto fin = env->final_obs().to_host();
  EXPECT_LT(std::fabs(fin[1]) + std::fabs(fin[2]), 0.2f);
}

TEST(Intersection, ArrivalPaysAndEndsTheSceneWhenAllHaveArrived) {
  for (const int agents : {1, 2}) {
    auto env = make(agents, {"agents_per_env=" + std::to_string(agents), "vehicles=0",
                             "initial_vehicle_count=0", "spawn_probability=0"});
    const ix::Params p = params_of();
    env->reset(2);
    auto st = empty_state(*env);
    const int route = 2;  // south, turning left
    const double just_before = p.entry + p.turn_length[route] + 25.0 - 5.0;
    put(&st, 0, route, just_before, 9.0, 9.0);
    if (agents == 2) put(&st, 1, 3 + 1, 0.0, 0.0, 0.0);  // the second stays far back
    env->set_state(0, st, 0);
    DeviceArray<std::int32_t> act(Device::cpu(), std::vector<std::int32_t>(agents, 0));
    act.copy_from_host(std::vector<std::int32_t>(agents, 1));
    if (agents == 2) act.copy_from_host({1, 0});
    env->step(act);
    const auto rew = env->reward().to_host();
    const auto term = env->terminated().to_host();
    EXPECT_FLOAT_EQ(rew[0], 1.0f) << "arrived_reward, normalised";
    EXPECT_EQ(term[0], agents == 1 ? 1 : 0);
    if (agents == 1) {
      EXPECT_EQ(env->final_outcome().to_host()[0],
                static_cast<std::uint8_t>(EpisodeOutcome::kSuccess));
    }
    if (agents == 2) {
      EXPECT_LT(rew[1], 5.0f / 6.0f + 1e-6f);  // standing still: no speed reward
      EXPECT_EQ(term[1], 0);
    }
  }
}

TEST(Intersection, SameSeedSameEpisodesAcrossBatchSizes) {
  auto run = [](std::int64_t rows, std::uint64_t seed) {
    auto env = make(rows, {"agents_per_env=2", "spawn_probability=0.8"});
    env->reset(seed);
    DeviceArray<std::int32_t> a(Device::cpu(), rows);
    std::vector<float> trace;
    for (int t = 0; t < 20; ++t) {
      env->sample_actions(7, t, a.data());
      env->step(a);
      const auto o = env->obs().to_host();
      const auto r = env->reward().to_host();
      trace.insert(trace.end(), o.begin(), o.begin() + 4 * env->obs_dim());
      trace.insert(trace.end(), r.begin(), r.begin() + 4);
    }
    return trace;
  };
  const auto a = run(4, 11), b = run(4, 11), c = run(8, 11), d = run(4, 12);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c) << "scene c's episodes do not depend on how many scenes run";
  EXPECT_NE(a, d);
}

// A checkpoint snapshot of scenes x agents continues exactly as the saved env.
TEST(Intersection, SnapshotOfAMultiAgentEnvContinuesExactly) {
  const std::vector<std::string> cfg = {"agents_per_env=2"};
  auto env = make(6, cfg);
  env->reset(8);
  DeviceArray<std::int32_t> a(Device::cpu(), 6);
  for (int t = 0; t < 5; ++t) {
    env->sample_actions(1, t, a.data());
    env->step(a);
  }
  const std::string saved = env->save_state();
  auto copy = make(6, cfg);
  copy->load_state(saved);
  for (int t = 5; t < 30; ++t) {
    env->sample_actions(1, t, a.data());
    env->step(a);
    copy->step(a);
    ASSERT_EQ(env->obs().to_host(), copy->obs().to_host()) << "t " << t;
    ASSERT_EQ(env->reward().to_host(), copy->reward().to_host());
    ASSERT_EQ(env->terminated().to_host(), copy->terminated().to_host());
  }
  EXPECT_THROW(make(4, cfg)->load_state(saved), Error);  // 2 scenes are not 3
}

std::string error_of(std::int64_t n, std::vector<std::string> cfg) {
  try {
    make(n, cfg);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::string("(no error)");
}

TEST(Intersection, BadSettingsNameTheKey) {
  EXPECT_NE(error_of(5, {"agents_per_env=5"}).find("agents_per_env=5"), std::string::npos);
  EXPECT_NE(error_of(5, {"agents_per_env=0"}).find("agents_per_env=0"), std::string::npos);
  const std::string split = error_of(3, {"agents_per_env=2"});
  EXPECT_NE(split.find("num_envs 3"), std::string::npos) << split;
  EXPECT_NE(split.find("agents_per_env=2"), std::string::npos) << split;
  EXPECT_NE(error_of(2, {"spawn_probability=1.5"}).find("spawn_probability=1.5"),
            std::string::npos);
  EXPECT_NE(error_of(2, {"destination=back"}).find("destination"), std::string::npos);
  EXPECT_NE(error_of(2, {"ego_policy=idm"}).find("ego_policy"), std::string::npos);
  EXPECT_NE(error_of(2, {"vehicles=61"}).find("vehicles=61"), std::string::npos);
  EXPECT_EQ(error_of(8, {"agents_per_env=4"}), "(no error)");
}

// PPO sees an ordinary batch of num_envs rows: it trains on 2 scenes x 2 agents unchanged.
TEST(Intersection, PpoTrainsOnTheFlattenedBatch) {
  auto env = make(4, {"agents_per_env=2"});
  rl::PpoConfig cfg;
  cfg.num_steps = 32;
  rl::Ppo ppo(*env, cfg);
  rl::PpoMetrics m;
  for (int i = 0; i < 2; ++i) m = ppo.iterate();
  EXPECT_EQ(m.global_step, 2 * 32 * 4);
  EXPECT_GT(m.episodes, 0);
  EXPECT_TRUE(std::isfinite(m.policy_loss));
  EXPECT_TRUE(std::isfinite(m.value_loss));
}

// Crash and episode counts over n_episodes per row for a policy (autopilot, or uniform random
// actions): a terminated row with a reward below 1/2 crashed (collision scores <= 1/6, any
// other step >= 5/6); a scene terminated without a crash ended because all its agents arrived.
struct Outcomes {
  int episodes = 0, crashes = 0, arrivals = 0;
};
Outcomes outcomes(bool autopilot, std::int64_t rows, int min_episodes, int agents) {
  std::vector<std::string> cfg = {"agents_per_env=" + std::to_string(agents)};
  if (autopilot) cfg.push_back("ego_policy=autopilot");
  auto env = make(rows, cfg);
  env->reset(123);
  DeviceArray<std::int32_t> a(Device::cpu(), rows);
  Outcomes o;
  for (int t = 0; o.episodes < min_episodes && t < 10000; ++t) {
    env->sample_actions(99, t, a.data());
    env->step(a);
    const auto term = env->terminated().to_host();
    const auto trunc = env->truncated().to_host();
    const auto rew = env->reward().to_host();
    for (std::int64_t c = 0; c < rows / agents; ++c) {
      bool crash = false;
      for (int k = 0; k < agents; ++k) {
        const std::int64_t i = c * agents + k;
        if (!term[i] && !trunc[i]) continue;
        ++o.episodes;
        if (term[i] && rew[i] < 0.5f) {
          ++o.crashes;
          crash = true;
        }
      }
      if (term[c * agents] && !crash) ++o.arrivals;  // the scene's agents all arrived
    }
  }
  return o;
}

TEST(Intersection, AutopilotCrashesFarLessThanRandomActions) {
  for (const int agents : {1, 4}) {
    const Outcomes base = outcomes(true, 64 * agents, 400, agents);
    const Outcomes rnd = outcomes(false, 64 * agents, 400, agents);
    std::printf(
        "[ intersection ] agents %d: autopilot %d crashes / %d agent-episodes (%d arrived), "
        "random %d / %d (%d arrived)\n",
        agents, base.crashes, base.episodes, base.arrivals, rnd.crashes, rnd.episodes,
        rnd.arrivals);
    ASSERT_GE(base.episodes, 100);
    ASSERT_GE(rnd.episodes, 100);
    const double base_rate = static_cast<double>(base.crashes) / base.episodes;
    const double rnd_rate = static_cast<double>(rnd.crashes) / rnd.episodes;
    EXPECT_GT(rnd_rate, 0.05);
    EXPECT_LT(base_rate, 0.25 * rnd_rate);
  }
}

}  // namespace
}  // namespace convoy
