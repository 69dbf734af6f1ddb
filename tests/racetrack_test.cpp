// Racetrack-v0: spaces, spawning, the single-track dynamics, the lidar, rewards, ends, domain
// randomisation, bad settings and the pure-pursuit baseline.
#include "envs/driving/racetrack.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

using envs::racetrack::kEgoFields;
using envs::racetrack::kOtherFields;

std::unique_ptr<VecEnv> make(std::int64_t n, std::vector<std::string> cfg = {}) {
  return env_registry().make("Racetrack-v0", Device::cpu(), n, Config::parse(cfg));
}

envs::racetrack::Params params_of(std::vector<std::string> cfg) {
  const Config config = Config::parse(cfg);
  ConfigReader reader(config, "Racetrack-v0");
  return envs::racetrack::read_params(reader);
}

// An ego state at (x, y) heading psi at speed v, wheels straight, default car.
std::vector<double> ego_at(double x, double y, double psi, double v) {
  return {x, y, 0.0, v, psi, 0.0, 0.0, 1.0489, 0.58, 0.31, 0.0};
}

TEST(Racetrack, SpacesFollowRacetrackV0) {
  const EnvSpec& s = env_registry().find("Racetrack-v0").spec;
  EXPECT_EQ(s.action_space.str(), "Box(-1.0, 1.0, (1,), float32)");
  EXPECT_EQ(s.observation_space.flat_dim(), 16 + 6);
  EXPECT_EQ(s.observation_space.low[0], 0.0f);    // lidar distances in [0, 1]
  EXPECT_EQ(s.observation_space.low[16], -1.0f);  // ego features in [-1, 1]
  EXPECT_EQ(s.max_episode_steps, 1500);           // 300 s at 5 Hz
  EXPECT_EQ(s.state_dim, kEgoFields + kOtherFields);
  auto env = make(2, {"action=accel_steer", "n_rays=40", "other_vehicles=3", "duration=10"});
  EXPECT_EQ(env->spec().action_space.str(), "Box(-1.0, 1.0, (2,), float32)");
  EXPECT_EQ(env->obs_dim(), 46);
  EXPECT_EQ(env->spec().max_episode_steps, 50);
  EXPECT_EQ(env->spec().state_dim, kEgoFields + 3 * kOtherFields);
}

TEST(Racetrack, SpawnsOnTheCentrelineWithoutOverlaps) {
  const auto p = params_of({"other_vehicles=12", "length_min=0.4", "length_max=1.5"});
  const physics::LaneChain<float> lane = p.track.chain();
  auto env = make(128, {"other_vehicles=12", "length_min=0.4", "length_max=1.5"});
  double s_min = 1e9, s_max = -1e9;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    env->reset(seed);
    for (std::int64_t i = 0; i < env->num_envs(); ++i) {
      const auto st = env->get_state(i);
      float s, d;
      physics::lane_frenet(lane, physics::Vec2<float>{float(st[0]), float(st[1])}, &s, &d);
      s = envs::racetrack::wrap_s(s, p.track.length);
      s_min = std::min<double>(s_min, s);
      s_max = std::max<double>(s_max, s);
      ASSERT_NEAR(d, 0.0, 1e-3);
      ASSERT_NEAR(physics::wrap_angle(st[4] - physics::lane_heading(lane, s)), 0.0, 1e-4);
      ASSERT_EQ(st[3], 8.0);  // target_speed
      std::vector<physics::OrientedBox<float>> boxes = {
          {{float(st[0]), float(st[1])}, {float(st[8] / 2), float(st[9] / 2)}, float(st[4])}};
      for (int k = 0; k < 12; ++k) {
        const double* o = st.data() + kEgoFields + kOtherFields * k;
        ASSERT_GE(o[0], 0.0);
        ASSERT_LT(o[0], p.track.length);
        ASSERT_EQ(o[1], 0.0);
        ASSERT_GE(o[2], 6.0);
        ASSERT_LE(o[2], 9.0);
        const physics::Vec2<float> c = physics::lane_position(lane, float(o[0]), 0.0f);
        boxes.push_back(
            {c, {float(o[4] / 2), float(o[5] / 2)}, physics::lane_heading(lane, float(o[0]))});
      }
      for (std::size_t a = 0; a < boxes.size(); ++a) {
        for (std::size_t b = a + 1; b < boxes.size(); ++b) {
          ASSERT_FALSE(physics::box_box_overlap(boxes[a], boxes[b]))
              << "env " << i << " cars " << a << ", " << b;
        }
      }
    }
  }
  EXPECT_LT(s_min, 20.0);  // spawned all round the loop
  EXPECT_GT(s_max, p.track.length - 20.0);
}

// The env's step is physics/vehicle.h's step_st on the same inputs: per frame a steering rate
// that reaches the wheel-angle target, the speed P controller's acceleration, rk4_steps(v) RK4
// steps.
TEST(Racetrack, StepIsTheDynamicSingleTrackModel) {
  for (const char* tyres : {"linear", "pacejka"}) {
    const std::vector<std::string> cfg = {"other_vehicles=0", std::string("tyres=") + tyres};
    const auto p = params_of(cfg);
    // ST is stiff at low speed: a 15 Hz frame needs several RK4 steps there, one at speed
    EXPECT_GT(envs::racetrack::rk4_steps(p, 0.5f), 4);
    EXPECT_LE(envs::racetrack::rk4_steps(p, 8.0f), 2);
    auto env = make(1, cfg);
    env->reset(0);
    env->set_state(0, {20.0, 0.5, 0.05, 6.0, 0.1, 0.3, 0.02, 0.9, 0.58, 0.31, 0.0}, 0);
    DeviceArray<float> a(Device::cpu(), std::vector<float>{0.7f});
    env->step(a);
    env->step(a);
    const auto got = env->get_state(0);

    physics::VehicleParams<float> car = p.car;
    car.mu = 0.9f;
    float x[7] = {20.0f, 0.5f, 0.05f, 6.0f, 0.1f, 0.3f, 0.02f};
    for (int f = 0; f < 2 * p.frames; ++f) {
      const float u[2] = {(0.7f * car.steer_max - x[physics::kStDelta]) / p.dt,
                          (p.target_speed - x[physics::kStV]) / envs::racetrack::kTauAcc};
      physics::step_st(car, x, u, p.dt, envs::racetrack::rk4_steps(p, x[physics::kStV]),
                       physics::Integrator::kRk4);
    }
    for (int k = 0; k < 7; ++k) EXPECT_NEAR(got[k], x[k], 1e-5) << tyres << " state " << k;
    EXPECT_GT(std::fabs(got[6]), 1e-3);  // a slip angle: the dynamic model, not a kinematic one
  }
  // model=ks moves the rear axle by CommonRoad's KS: no slip
  auto ks = make(1, {"other_vehicles=0", "model=ks"});
  ks->reset(0);
  ks->set_state(0, ego_at(20.0, 0.0, 0.0, 6.0), 0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.7f});
  ks->step(a);
  const auto st = ks->get_state(0);
  EXPECT_EQ(st[6], 0.0);
  EXPECT_NEAR(st[5], st[3] * std::tan(st[2]) / (0.15875 + 0.17145), 1e-4);
}

// The RK4 step count keeps h |lambda| <= 2 for ST's lateral modes at every speed a frame can
// pass through, and the car stays well behaved at crawling speed with full lock.
TEST(Racetrack, IntegrationIsStableDownToCrawlingSpeed) {
  for (const char* friction : {"friction_max=1.0489", "friction_max=2.0"}) {
    const auto p = params_of({friction});
    physics::VehicleParams<double> c = physics::f1tenth<double>();
    c.mu = p.friction_max;
    for (double v0 = 0.0; v0 <= 20.0; v0 += 0.05) {
      const int n = envs::racetrack::rk4_steps(p, static_cast<float>(v0));
      const double v_low = std::max(v0 - c.a_max * p.dt, c.v_kinematic);
      for (double a : {-c.a_max, 0.0, c.a_max}) {
        ASSERT_LE(p.dt * envs::racetrack::st_lateral_rate(c, v_low, a) / n, 2.0)
            << friction << " v " << v0 << " a " << a;
      }
    }
  }
  auto env = make(1, {"action=accel_steer", "other_vehicles=0"});
  env->reset(0);
  env->set_state(0, ego_at(20.0, 0.0, 0.0, 1.0), 0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f, 1.0f});  // hold 1 m/s, full lock
  for (int t = 0; t < 5; ++t) env->step(a);
  auto st = env->get_state(0);
  for (double x : st) ASSERT_TRUE(std::isfinite(x));
  EXPECT_NEAR(st[3], 1.0, 1e-4);
  // at 1 m/s the tyres barely slip: the yaw rate is close to the kinematic v tan(delta) / l
  EXPECT_NEAR(st[5], std::tan(0.4189) / (0.15875 + 0.17145), 0.1);
  a.copy_from_host(std::vector<float>{-1.0f, 1.0f});  // full braking to a stop
  for (int t = 0; t < 3; ++t) env->step(a);
  st = env->get_state(0);
  for (double x : st) ASSERT_TRUE(std::isfinite(x));
  EXPECT_EQ(st[3], 0.0);
}

TEST(Racetrack, LidarSeesTheEdgesAndCarsAtTheRightDistance) {
  // 8 rays all round: 0 ahead, 2 left, 4 behind, 6 right; max range 10 m
  auto env = make(1, {"n_rays=8", "max_range=10", "other_vehicles=1"});
  env->reset(0);
  // on the first straight (y = 0, 5 m wide) 1 m left of the centre; the other car 4 m ahead
  std::vector<double> st = ego_at(20.0, 1.0, 0.0, 8.0);
  const std::vector<double> other = {24.0, 0.0, 0.0, 0.0, 0.6, 0.3};
  st.insert(st.end(), other.begin(), other.end());
  env->set_state(0, st, 0);
  const auto obs = env->obs().to_host();
  EXPECT_NEAR(obs[2] * 10, 1.5, 1e-4);                   // left edge at y = 2.5
  EXPECT_NEAR(obs[6] * 10, 3.5, 1e-4);                   // right edge at y = -2.5
  EXPECT_NEAR(obs[1] * 10, 1.5 * std::sqrt(2.0), 1e-4);  // 45 degrees left
  EXPECT_NEAR(obs[7] * 10, 3.5 * std::sqrt(2.0), 1e-4);  // 45 degrees right
  EXPECT_EQ(obs[4], 1.0f);                               // nothing within 10 m behind
  // the other car's box spans y in [-0.15, 0.15]: the ray along y = 1 misses it
  EXPECT_EQ(obs[0], 1.0f);
  st[1] = 0.0;  // on the centreline: the ray ahead hits its rear at 24 - 0.3 - 20 m
  env->set_state(0, st, 0);
  EXPECT_NEAR(env->obs().to_host()[0] * 10, 3.7, 1e-4);
  // ego features: speed / 20, offset / 2.5, heading error / pi
  st[1] = 1.25;
  st[4] = 0.5;
  env->set_state(0, st, 0);
  const auto o2 = env->obs().to_host();
  EXPECT_NEAR(o2[8], 8.0 / 20.0, 1e-6);
  EXPECT_NEAR(o2[9], 0.5, 1e-6);
  EXPECT_NEAR(o2[10], 0.5 / M_PI, 1e-6);
}

TEST(Racetrack, LidarFindsTheCurvedEdges) {
  // in the middle of the first half-circle (centre (157.5, 40) for the default track, radius
  // 40, the track 37.5..42.5 from the centre): at its rightmost point, heading north
  const auto p = params_of({});
  const physics::LaneChain<float> lane = p.track.chain();
  const float s_mid = p.track.s0[5] + 0.5f * p.track.pieces[5].length;
  const physics::Vec2<float> at = physics::lane_position(lane, s_mid, 0.0f);
  auto env = make(1, {"n_rays=4", "max_range=30", "other_vehicles=0"});
  env->reset(0);
  env->set_state(0, ego_at(at.x, at.y, physics::lane_heading(lane, s_mid), 8.0), 0);
  const auto obs = env->obs().to_host();
  EXPECT_NEAR(obs[1] * 30, 2.5, 1e-3);  // left: the inner edge
  EXPECT_NEAR(obs[3] * 30, 2.5, 1e-3);  // right: the outer edge
  // ahead: the chord to the outer circle from 40 m out, sqrt(42.5^2 - 40^2)
  EXPECT_NEAR(obs[0] * 30, std::sqrt(42.5 * 42.5 - 40.0 * 40.0), 1e-3);
}

// The exact edge casting agrees with casting against the edges laid out as fine polylines.
TEST(Racetrack, EdgeCastingMatchesAPolylineReference) {
  const auto p = params_of({});
  const physics::LaneChain<float> lane = p.track.chain();
  std::vector<physics::Segment<float>> poly;
  for (float d : {-2.5f, 2.5f}) {
    physics::Vec2<float> prev = physics::lane_position(lane, 0.0f, d);
    for (float s = 0.05f; s <= p.track.length + 0.025f; s += 0.05f) {
      const physics::Vec2<float> q = physics::lane_position(lane, std::fmin(s, p.track.length), d);
      poly.push_back({prev, q});
      prev = q;
    }
  }
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> along(0.0f, p.track.length), across(-2.4f, 2.4f),
      angle(-3.14159f, 3.14159f);
  int far = 0, hits = 0;
  const int rays = 1000;
  for (int n = 0; n < rays; ++n) {
    const float a = angle(gen);
    const physics::Ray<float> ray = {
        physics::lane_position(lane, along(gen), across(gen)), {std::cos(a), std::sin(a)}, 30.0f};
    const float exact = envs::racetrack::ray_track_edges(p.track, ray);
    const physics::RayHit<float> ref =
        physics::cast_ray<float>(ray, nullptr, 0, nullptr, 0, poly.data(), int(poly.size()));
    far += std::fabs(exact - ref.distance) > 1e-3f;
    hits += exact < 30.0f;
  }
  EXPECT_LE(far, rays / 100);  // grazing rays may slip between polyline and circle
  EXPECT_GT(hits, rays / 2);
}

TEST(Racetrack, RewardTermsAsRacetrackV0) {
  for (bool normalize : {true, false}) {
    auto env = make(
        1, {"other_vehicles=0", normalize ? "normalize_reward=true" : "normalize_reward=false"});
    env->reset(0);
    env->set_state(0, ego_at(10.0, 0.6, 0.0, 8.0), 0);
    DeviceArray<float> a(Device::cpu(), std::vector<float>{-0.25f});
    env->step(a);
    const auto st = env->get_state(0);
    const double d = st[1];  // on the first straight the offset is y
    ASSERT_LT(st[0], 60.0);
    const double raw = 1.0 / (1.0 + 4.0 * d * d) - 0.3 * 0.25;
    const double want = normalize ? (raw + 1.0) / 2.0 : raw;
    EXPECT_NEAR(env->reward().to_host()[0], want, 1e-5);
    EXPECT_EQ(env->terminated().to_host()[0], 0);
  }
}

TEST(Racetrack, LeavingTheTrackTerminatesWithZeroReward) {
  for (bool offroad_terminal : {true, false}) {
    auto env = make(1, {"other_vehicles=0",
                        offroad_terminal ? "offroad_terminal=true" : "offroad_terminal=false"});
    env->reset(0);
    // 2.3 m left of the centre heading 0.4 rad further left at 8 m/s: over the edge in a step
    env->set_state(0, ego_at(10.0, 2.3, 0.4, 8.0), 0);
    DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f});
    env->step(a);
    EXPECT_EQ(env->terminated().to_host()[0], offroad_terminal ? 1 : 0);
    EXPECT_EQ(env->reward().to_host()[0], 0.0f);
    if (!offroad_terminal) {
      EXPECT_GT(env->get_state(0)[1], 2.5);
    }
  }
  // and a step that stays inside does not end
  auto env = make(1, {"other_vehicles=0"});
  env->reset(0);
  env->set_state(0, ego_at(10.0, 2.0, 0.0, 8.0), 0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f});
  env->step(a);
  EXPECT_EQ(env->terminated().to_host()[0], 0);
}

TEST(Racetrack, HittingACarIsTerminalAndCostsTheCollisionReward) {
  auto env = make(1, {"normalize_reward=false"});
  env->reset(0);
  // a stopped car (desired speed 0) 1.5 m ahead of the ego at 8 m/s
  std::vector<double> st = ego_at(20.0, 0.0, 0.0, 8.0);
  const std::vector<double> other = {21.5, 0.0, 0.0, 0.0, 0.58, 0.31};
  st.insert(st.end(), other.begin(), other.end());
  env->set_state(0, st, 0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f});
  env->step(a);
  EXPECT_EQ(env->terminated().to_host()[0], 1);
  // centred: 1 for the centring, -1 for the crash, no action cost
  EXPECT_NEAR(env->final_episode_return().to_host()[0], 0.0, 1e-3);
}

TEST(Racetrack, OthersFollowTheCentrelineAndKeepTheirDistance) {
  auto env = make(1, {"other_vehicles=2", "ego_policy=autopilot"});
  env->reset(0);
  // the ego far away (and kept on the track by the baseline); a slow car 3 m ahead of a fast one
  std::vector<double> st = ego_at(0.0, 80.0, M_PI, 8.0);
  const std::vector<double> others = {10.0, 0.0, 9.0, 9.0, 0.58, 0.31,
                                      13.0, 0.0, 4.0, 4.0, 0.58, 0.31};
  st.insert(st.end(), others.begin(), others.end());
  env->set_state(0, st, 0);
  DeviceArray<float> a(Device::cpu(), std::vector<float>{0.0f});
  for (int t = 0; t < 10; ++t) {
    env->step(a);
    const auto s = env->get_state(0);
    const double* o = s.data() + kEgoFields;
    ASSERT_GT(o[6] - o[0] - 0.58, 0.5) << "step " << t;  // never closer than ~the follow gap
    ASSERT_NEAR(o[8], 4.0, 1e-5);                        // the leader keeps its speed
  }
  const auto s = env->get_state(0);
  EXPECT_NEAR(s[kEgoFields + 6], 13.0 + 4.0 * 2.0, 1e-3);  // 10 steps of 0.2 s at 4 m/s
  EXPECT_NEAR(s[kEgoFields + 2], 4.0, 0.5);                // the follower slowed to match
}

TEST(Racetrack, DomainRandomisationStaysInRangeAndFollowsTheSeed) {
  const std::vector<std::string> cfg = {"friction_min=0.6", "friction_max=1.2", "length_min=0.4",
                                        "length_max=0.8",   "width_min=0.2",    "width_max=0.5"};
  auto run = [&](std::uint64_t seed) {
    auto env = make(200, cfg);
    env->reset(seed);
    std::vector<double> mu;
    for (std::int64_t i = 0; i < 200; ++i) {
      const auto st = env->get_state(i);
      EXPECT_GE(st[7], 0.6 - 1e-6);
      EXPECT_LE(st[7], 1.2 + 1e-6);
      EXPECT_GE(st[8], 0.4 - 1e-6);
      EXPECT_LE(st[8], 0.8 + 1e-6);
      EXPECT_GE(st[9], 0.2 - 1e-6);
      EXPECT_LE(st[9], 0.5 + 1e-6);
      EXPECT_GE(st[kEgoFields + 4], 0.4 - 1e-6);
      EXPECT_LE(st[kEgoFields + 5], 0.5 + 1e-6);
      mu.push_back(st[7]);
    }
    return mu;
  };
  const auto a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto [lo, hi] = std::minmax_element(a.begin(), a.end());
  EXPECT_LT(*lo, 0.65);  // spread over the range
  EXPECT_GT(*hi, 1.15);
  // by default the friction is the F1TENTH car's
  auto def = make(4);
  def->reset(1);
  EXPECT_NEAR(def->get_state(3)[7], 1.0489, 1e-6);
}

TEST(Racetrack, ImpossibleSettingsAreClearErrors) {
  auto error_of = [](std::vector<std::string> cfg) {
    return test::error_message([&] { make(1, cfg); });
  };
  auto has = [](const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  };
  EXPECT_TRUE(has(error_of({"friction_min=1.5", "friction_max=1.0"}), "friction_min="));
  EXPECT_TRUE(has(error_of({"friction_min=0"}), "friction_min=0"));
  EXPECT_TRUE(has(error_of({"length_min=0.9", "length_max=0.6"}), "length_max"));
  EXPECT_TRUE(has(error_of({"width_max=5", "width_min=3"}), "width_max=5"));  // the track's width
  EXPECT_TRUE(has(error_of({"other_vehicles=65"}), "other_vehicles=65"));
  EXPECT_TRUE(has(error_of({"other_vehicles=64", "length_min=4", "length_max=4"}),
                  "other_vehicles=64 do not fit"));
  EXPECT_TRUE(has(error_of({"policy_frequency=20", "simulation_frequency=10"}), "exceeds"));
  EXPECT_TRUE(has(error_of({"action=throttle"}), "steer|accel_steer"));
  EXPECT_TRUE(has(error_of({"model=bicycle"}), "st|ks"));
  EXPECT_TRUE(has(error_of({"n_rays=0"}), "n_rays=0"));
  EXPECT_TRUE(has(error_of({"other_speed_min=9", "other_speed_max=3"}), "other_speed_min="));
  EXPECT_EQ(error_of({"other_vehicles=64"}), "(no error)");
}

TEST(Racetrack, DeterministicAcrossThreadCounts) {
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2}) {
    set_cpu_threads(threads);
    auto env = make(32, {"action=accel_steer", "other_vehicles=3", "duration=4"});
    DeviceArray<float> a(Device::cpu(), 64);
    env->reset(5);
    for (int t = 0; t < 40; ++t) {
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

struct LapStats {
  int episodes = 0, laps = 0, left_track = 0;
  double mean_return = 0;
};

// One episode of duration s in each of n envs (random or baseline actions), each long enough
// for a lap at 8 m/s: how many complete a lap before it ends, how many end early.
LapStats run_laps(std::vector<std::string> cfg, std::int64_t n) {
  cfg.push_back("duration=80");  // 400 steps; a lap (569 m) takes 71 s at 8 m/s
  auto env = make(n, cfg);
  DeviceArray<float> a(Device::cpu(), n * env->act_dim());
  env->reset(17);
  const int steps = env->spec().max_episode_steps - 1;  // stop before the auto-reset
  std::vector<bool> ended(n, false);
  std::vector<double> ret(n, 0.0);
  LapStats st;
  for (int t = 0; t < steps; ++t) {
    env->sample_actions(3, t, a.data());
    env->step_raw(a.data());
    const auto term = env->terminated().to_host();
    const auto r = env->reward().to_host();
    for (std::int64_t i = 0; i < n; ++i) {
      if (ended[i]) continue;
      ret[i] += r[i];
      if (term[i]) {
        ended[i] = true;
        ++st.left_track;
      }
    }
  }
  for (std::int64_t i = 0; i < n; ++i) {
    ++st.episodes;
    st.mean_return += ret[i] / n;
    if (!ended[i] && env->get_state(i)[10] >= 1.0) ++st.laps;
  }
  return st;
}

// The pure-pursuit baseline laps the track; random steering does not.
TEST(Racetrack, BaselineLapsFarMoreOftenThanRandom) {
  const LapStats random = run_laps({}, 128);
  const LapStats baseline = run_laps({"ego_policy=autopilot"}, 128);
  std::printf(
      "random: %d/%d laps, %d ended early, return %.1f; baseline: %d/%d laps, %d ended early, "
      "return %.1f\n",
      random.laps, random.episodes, random.left_track, random.mean_return, baseline.laps,
      baseline.episodes, baseline.left_track, baseline.mean_return);
  EXPECT_GE(baseline.laps, 120);
  EXPECT_LE(random.laps, 10);
  EXPECT_GT(baseline.mean_return, 2 * random.mean_return);
}

}  // namespace
}  // namespace convoy
