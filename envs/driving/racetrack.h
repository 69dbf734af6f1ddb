// Racetrack-v0: keep a car in the middle of a closed one-lane track, after highway-env's
// racetrack-v0 (HighwayEnv 1.x: highway_env/envs/racetrack_env.py), with the car moved by
// CommonRoad's dynamic single-track model (physics/vehicle.h, F1TENTH parameters) instead of
// highway-env's kinematic bicycle, and a lidar instead of its occupancy grid.
//
// Track: physics/road.h's build_racetrack (one lane, 5 m wide, about 569 m around). The ego
// starts on the centreline at a uniformly random arc length, aligned, at target_speed, wheels
// straight. other_vehicles cars follow the centreline at constant desired speeds, each slowing
// to no closer than kFollowGap behind whatever is ahead in its path (the next car or the ego);
// they are spawned one per equal sector of the loop, so they never start overlapping.
//
// Dynamics: model=st (default) integrates ST with linear or Pacejka tyres (tyres=) by RK4, or
// model=ks the kinematic single track, at dt = 1/simulation_frequency per frame and
// frames = simulation_frequency / policy_frequency per policy step. Each frame is cut into
// rk4_steps(v) equal RK4 steps so that h |lambda| <= 2 for ST's stiffest lateral mode at the
// frame's speed (the modes grow as 1/v towards v_kinematic; the bound is fitted at construction
// for the largest friction drawn): RK4 stays stable over the whole speed range, and at racing
// speed one step per frame is usually enough. Reversing is off (v_min = 0): ST is a forward-driving
// model.
//
// Actions: action=steer (default, highway-env's lateral-only ContinuousAction): Box(1) in
// [-1, 1] -> front wheel angle target x steer_max, the speed held at target_speed by a P
// controller; action=accel_steer: Box(2) [acceleration x a_max, steering]. The wheel angle
// reaches its target as fast as the model's steering-rate limit allows (deadbeat per frame).
//
// Observation: Box(n_rays + 6) = lidar distances / max_range in [0, 1] (rays from the ego's
// centre, evenly over lidar_fov centred on its heading, physics/lidar.h's layout; track edges
// exactly as lines and circle arcs, other cars as boxes), then speed / v_max, lateral offset /
// half the track width, heading error to the centreline / pi, wheel angle / steer_max, yaw rate
// / 2 pi, slip angle / (pi / 2), each clipped to [-1, 1].
//
// Reward (racetrack-v0's): lane_centering_reward / (1 + lane_centering_cost d^2) + action_reward
// |action| + collision_reward crashed, mapped from [collision_reward, lane_centering_reward] to
// [0, 1] when normalize_reward, times on-road. Terminated on a crash or (offroad_terminal) with
// the ego's centre off the track; truncated after duration x policy_frequency steps.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "envs/lidar_kernels.h"
#include "physics/collision.h"
#include "physics/lidar.h"
#include "physics/math.h"
#include "physics/raycast.h"
#include "physics/road.h"
#include "physics/vehicle.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/error.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"

namespace convoy::envs {

namespace racetrack {

constexpr int kTrackPieces = 8;     // build_racetrack's pieces
constexpr int kMaxOthers = 64;      // per-frame scratch size; read_params caps other_vehicles
constexpr int kEgoFeatures = 6;     // speed, offset, heading error, wheel angle, yaw rate, slip
constexpr int kEgoFields = 11;      // read_state: x y delta v psi psi_dot beta mu length width laps
constexpr int kOtherFields = 6;     // read_state: s d speed desired length width
constexpr float kFollowGap = 1.0f;  // m, bumper to bumper, kept behind the car ahead
constexpr float kFollowTime = 1.0f;  // s, time to close a gap error
constexpr float kTauAcc = 0.6f;      // s, highway-env's ControlledVehicle.TAU_ACC (speed P gain)

// Where the fields sit in the exchanged state (read_state), for renderers and tests:
// st[StateLayout::kPsi] is the ego's heading, st[StateLayout::other(k) + StateLayout::kS] the
// k-th other car's arc length.
struct StateLayout {
  static constexpr int kX = 0, kY = 1, kDelta = 2, kV = 3, kPsi = 4, kPsiDot = 5, kBeta = 6,
                       kMu = 7, kLength = 8, kWidth = 9, kLaps = 10;
  static constexpr int kS = 0, kD = 1, kSpeed = 2, kDesired = 3, kOtherLength = 4,
                       kOtherWidth = 5;  // within another car's fields
  CONVOY_HD static constexpr int other(int k) { return kEgoFields + kOtherFields * k; }
};

// The closed track as plain data, by value in Params (kernels take Params by value).
struct Track {
  physics::LanePiece<float> pieces[kTrackPieces];
  float s0[kTrackPieces];
  int count;
  float width;   // m
  float length;  // m, once around
  // the edges (d = -width/2, +width/2) for the lidar, precomputed by set_track_edges
  physics::Segment<float> edge[kTrackPieces][2];  // straights: the edge segments
  physics::Vec2<float> centre[kTrackPieces];      // arcs: centre of curvature
  physics::Vec2<float> mid[kTrackPieces];         // arcs: unit vector from it to mid-arc
  float cos_half[kTrackPieces];                   // arcs: cos(half the angle swept)
  CONVOY_HD physics::LaneChain<float> chain() const { return {pieces, s0, count, width, length}; }
};

// Fills the lidar's edge geometry from the pieces.
inline void set_track_edges(Track* t) {
  for (int k = 0; k < t->count; ++k) {
    const physics::LanePiece<float>& p = t->pieces[k];
    for (int side = 0; side < 2; ++side) {
      const float d = t->width * (side == 0 ? -0.5f : 0.5f);
      t->edge[k][side] = {physics::piece_position(p, 0.0f, d),
                          physics::piece_position(p, p.length, d)};
    }
    if (p.curvature == 0.0f) {
      t->centre[k] = t->mid[k] = {0.0f, 0.0f};
      t->cos_half[k] = 1.0f;
      continue;
    }
    const physics::Vec2<float> u0 = physics::unit_from_angle(p.heading);
    t->centre[k] = p.start + physics::perp(u0) / p.curvature;
    t->mid[k] =
        physics::normalized(physics::piece_position(p, 0.5f * p.length, 0.0f) - t->centre[k]);
    t->cos_half[k] = std::cos(0.5f * p.length * std::fabs(p.curvature));
  }
}

struct Params {
  std::int32_t max_episode_steps = 1500;  // duration x policy frequency
  std::int32_t frames = 3;                // simulation frames per policy step
  float stiff_a = 0.0f, stiff_b = 0.0f;   // ST's fastest mode <= stiff_a / v + stiff_b, 1/s
  float dt = 1.0f / 15.0f;                // s per frame
  Track track;
  physics::VehicleParams<float> car;  // mu and footprint are replaced per env at reset
  bool kinematic = false;             // model=ks
  bool autopilot = false;             // ego_policy=autopilot: pure pursuit; actions ignored
  float target_speed = 8.0f;          // m/s
  float lookahead = 4.0f;             // m, the baseline's pure-pursuit lookahead
  physics::LidarSpec<float> lidar;
  std::int32_t others = 1;
  float other_speed_min = 6.0f, other_speed_max = 9.0f;
  float friction_min = 1.0489f, friction_max = 1.0489f;
  float length_min = 0.58f, length_max = 0.58f;
  float width_min = 0.31f, width_max = 0.31f;
  float lane_centering_cost = 4.0f;
  float lane_centering_reward = 1.0f;
  float action_reward = -0.3f;
  float collision_reward = -1.0f;
  bool normalize_reward = true;
  bool offroad_terminal = true;
  LidarKernels kernels = LidarKernels::kAuto;  // per env or per ray obs
};

// Largest |eigenvalue| of ST's lateral (yaw rate, slip) block at speed v, linear tyres (the
// Pacejka curves have the same slope at zero slip, their steepest), normal loads at
// longitudinal acceleration a.
inline double st_lateral_rate(const physics::VehicleParams<double>& c, double v, double a) {
  const double l = c.l_f + c.l_r, g = 9.81;
  const double fzf = c.m * (g * c.l_r - a * c.h_cg) / l, fzr = c.m * (g * c.l_f + a * c.h_cg) / l;
  const double kf = c.mu * c.C_Sf * fzf, kr = c.mu * c.C_Sr * fzr;
  const double j11 = -(kf * c.l_f * c.l_f + kr * c.l_r * c.l_r) / (c.I_z * v);
  const double j12 = (-kf * c.l_f + kr * c.l_r) / c.I_z;
  const double j21 = (-kf * c.l_f + kr * c.l_r) / (c.m * v * v) - 1.0;
  const double j22 = -(kf + kr) / (c.m * v);
  const double half_tr = (j11 + j22) / 2, det = j11 * j22 - j12 * j21;
  const double disc = half_tr * half_tr - det;
  if (disc < 0) return std::sqrt(det);  // complex pair: |lambda|^2 = det
  return std::fabs(half_tr) + std::sqrt(disc);
}

inline Params read_params(ConfigReader& r) {
  Params p;
  r.choice("action", "steer", {"steer", "accel_steer"},
           "steer: [steering], speed held at target_speed; accel_steer: [acceleration, steering]");
  p.kinematic = r.choice("model", "st", {"st", "ks"},
                         "CommonRoad single-track model: st dynamic, ks kinematic") == "ks";
  const bool pacejka =
      r.choice("tyres", "linear", {"linear", "pacejka"},
               "ST's lateral tyre force: linear or Pacejka's magic formula") == "pacejka";
  const double duration = r.real("duration", 300.0, 1.0, 3600.0, "episode length, s");
  const double sim_hz = r.real("simulation_frequency", 15.0, 1.0, 1000.0, "physics frames per s");
  const double policy_hz = r.real("policy_frequency", 5.0, 0.1, 100.0, "actions per s");
  p.target_speed = static_cast<float>(
      r.real("target_speed", 8.0, 1.0, 20.0, "m/s: initial speed, and held in action=steer"));
  p.others =
      static_cast<std::int32_t>(r.integer("other_vehicles", 1, 0, kMaxOthers, "cars on the track"));
  p.other_speed_min =
      static_cast<float>(r.real("other_speed_min", 6.0, 0.0, 20.0, "m/s, others' desired speed"));
  p.other_speed_max =
      static_cast<float>(r.real("other_speed_max", 9.0, 0.0, 20.0, "m/s, others' desired speed"));
  p.lidar.n_rays = static_cast<int>(r.integer("n_rays", 16, 1, 1024, "lidar rays"));
  p.lidar.fov = static_cast<float>(
      r.real("lidar_fov", 360.0, 1.0, 360.0, "degrees, centred on the heading; 360 all round") *
      3.14159265358979323846 / 180.0);
  if (p.lidar.fov >= 6.2831853f) p.lidar.fov = 6.2831855f;  // exactly a full circle
  p.lidar.max_range = static_cast<float>(r.real("max_range", 30.0, 0.5, 1000.0, "lidar range, m"));
  p.kernels = read_lidar_kernels(r);
  p.friction_min = static_cast<float>(
      r.real("friction_min", 1.0489, 0.1, 2.0, "tyre friction coefficient, drawn at reset"));
  p.friction_max = static_cast<float>(
      r.real("friction_max", 1.0489, 0.1, 2.0, "tyre friction coefficient, drawn at reset"));
  p.length_min = static_cast<float>(
      r.real("length_min", 0.58, 0.1, 5.0, "m, each car's footprint length, drawn at reset"));
  p.length_max = static_cast<float>(
      r.real("length_max", 0.58, 0.1, 5.0, "m, each car's footprint length, drawn at reset"));
  p.width_min = static_cast<float>(
      r.real("width_min", 0.31, 0.05, 5.0, "m, each car's footprint width, drawn at reset"));
  p.width_max = static_cast<float>(
      r.real("width_max", 0.31, 0.05, 5.0, "m, each car's footprint width, drawn at reset"));
  p.lane_centering_cost =
      static_cast<float>(r.real("lane_centering_cost", 4.0, 0.0, 100.0, "1/m^2"));
  p.lane_centering_reward =
      static_cast<float>(r.real("lane_centering_reward", 1.0, 0.01, 100.0, ""));
  p.action_reward = static_cast<float>(r.real("action_reward", -0.3, -100.0, 0.0, "x |action|"));
  p.collision_reward = static_cast<float>(r.real("collision_reward", -1.0, -100.0, 0.0, ""));
  p.normalize_reward = r.boolean("normalize_reward", true, "map the reward to [0, 1]");
  p.offroad_terminal =
      r.boolean("offroad_terminal", true, "end the episode when the ego's centre leaves the track");
  p.autopilot =
      r.choice("ego_policy", "agent", {"agent", "autopilot"},
               "who drives the ego: the actions, or the scripted baseline (pure pursuit on the "
               "centreline, target_speed, slowing behind cars; actions are then ignored)") ==
      "autopilot";
  p.lookahead = static_cast<float>(
      r.real("baseline_lookahead", 4.0, 0.5, 50.0, "m, the baseline's pure-pursuit lookahead"));

  const std::string who = "Racetrack-v0: ";
  auto check_range = [&](const char* lo_key, double lo, const char* hi_key, double hi) {
    if (lo > hi) {
      throw Error(who + lo_key + "=" + std::to_string(lo) + " exceeds " + hi_key + "=" +
                  std::to_string(hi) + "; allowed: " + lo_key + " <= " + hi_key);
    }
  };
  check_range("other_speed_min", p.other_speed_min, "other_speed_max", p.other_speed_max);
  check_range("friction_min", p.friction_min, "friction_max", p.friction_max);
  check_range("length_min", p.length_min, "length_max", p.length_max);
  check_range("width_min", p.width_min, "width_max", p.width_max);
  const double ratio = std::floor(sim_hz / policy_hz + 1e-9);
  if (ratio < 1) {
    throw Error(who + "policy_frequency=" + std::to_string(policy_hz) +
                " exceeds simulation_frequency=" + std::to_string(sim_hz) +
                "; allowed: policy_frequency <= simulation_frequency");
  }
  p.frames = static_cast<std::int32_t>(ratio);
  p.dt = static_cast<float>(1.0 / sim_hz);
  p.max_episode_steps = static_cast<std::int32_t>(std::ceil(duration * policy_hz - 1e-9));

  // the track, copied out of the builder's arrays
  physics::RoadStorage<float, kTrackPieces, 1> road;
  physics::RoadNetwork<float> net = road.network();
  if (physics::build_racetrack(&net) != 1 || net.num_pieces != kTrackPieces) {
    throw Error(who + "the track builder failed");  // a programming error, not a setting
  }
  for (int k = 0; k < kTrackPieces; ++k) {
    p.track.pieces[k] = road.pieces[k];
    p.track.s0[k] = road.piece_s0[k];
  }
  p.track.count = kTrackPieces;
  p.track.width = road.lane_width[0];
  p.track.length = road.lane_length[0];
  set_track_edges(&p.track);
  if (p.width_max >= p.track.width) {
    throw Error(who + "width_max=" + std::to_string(p.width_max) + " does not fit the " +
                std::to_string(p.track.width) + " m track; allowed: below the track width");
  }
  // one car per sector of the loop, each at least a car length and the follow gap from the
  // sector's ends
  const double margin = p.length_max + kFollowGap;
  const double sector = p.track.length / (p.others + 1);
  if (sector <= 2 * margin) {
    const long fit = static_cast<long>(std::floor(p.track.length / (2 * margin + 1e-6))) - 1;
    throw Error(who + "other_vehicles=" + std::to_string(p.others) +
                " do not fit on the track with length_max=" + std::to_string(p.length_max) +
                "; allowed: at most " + std::to_string(fit < 0 ? 0 : fit));
  }

  p.car = physics::f1tenth<float>();
  p.car.v_min = 0.0f;
  p.car.tyre = pacejka ? physics::TyreModel::kPacejka : physics::TyreModel::kLinear;
  // RK4 steps per frame: h |lambda| <= 2 for ST's stiffest lateral mode, bounded as
  // stiff_a / v + stiff_b for v >= v_kinematic (the modes scale about as 1/v), with the largest
  // friction and either extreme of load transfer; fitted on a grid up to v_max
  if (!p.kinematic) {
    physics::VehicleParams<double> c = physics::f1tenth<double>();
    c.mu = p.friction_max;
    auto rate = [&](double v) {
      double r = 0;
      for (double a : {-c.a_max, 0.0, c.a_max}) r = std::fmax(r, st_lateral_rate(c, v, a));
      return r;
    };
    const double a = rate(c.v_kinematic) * c.v_kinematic;
    double b = 0;
    for (int k = 0; k <= 2000; ++k) {
      const double v = c.v_kinematic + (c.v_max - c.v_kinematic) * k / 2000.0;
      b = std::fmax(b, rate(v) - a / v);
    }
    p.stiff_a = static_cast<float>(a * 1.05);
    p.stiff_b = static_cast<float>(b * 1.05);
  }
  return p;
}

// Per-env ego state (num_envs each) and per-other state (num_envs x max(others, 1) each).
struct View {
  std::int32_t others;
  float* x;          // m, centre of mass
  float* y;          // m
  float* delta;      // rad, front wheel angle
  float* v;          // m/s
  float* psi;        // rad, heading
  float* psi_dot;    // rad/s
  float* beta;       // rad, slip angle at the centre of mass
  float* mu;         // friction coefficient drawn at reset
  float* length;     // m, the ego's footprint
  float* width;      // m
  float* laps;       // arc length travelled along the centreline / track length (signed)
  float* o_s;        // m, others' arc length
  float* o_d;        // m, others' lateral offset
  float* o_speed;    // m/s
  float* o_desired;  // m/s
  float* o_length;   // m
  float* o_width;    // m
};

struct State {
  std::int32_t others;
  DeviceArray<float> x, y, delta, v, psi, psi_dot, beta, mu, length, width, laps;
  DeviceArray<float> o_s, o_d, o_speed, o_desired, o_length, o_width;
  State(const Device& d, std::int64_t n, std::int32_t others)
      : others(others),
        x(d, n),
        y(d, n),
        delta(d, n),
        v(d, n),
        psi(d, n),
        psi_dot(d, n),
        beta(d, n),
        mu(d, n),
        length(d, n),
        width(d, n),
        laps(d, n),
        o_s(d, n * (others > 0 ? others : 1)),
        o_d(d, n * (others > 0 ? others : 1)),
        o_speed(d, n * (others > 0 ? others : 1)),
        o_desired(d, n * (others > 0 ? others : 1)),
        o_length(d, n * (others > 0 ? others : 1)),
        o_width(d, n * (others > 0 ? others : 1)) {}
  View view() {
    return {others,           x.data(),        y.data(),      delta.data(), v.data(),
            psi.data(),       psi_dot.data(),  beta.data(),   mu.data(),    length.data(),
            width.data(),     laps.data(),     o_s.data(),    o_d.data(),   o_speed.data(),
            o_desired.data(), o_length.data(), o_width.data()};
  }
};

// s wrapped into [0, length).
CONVOY_HD_INLINE float wrap_s(float s, float length) {
  float w = s - length * floorf(s / length);
  return w >= length ? w - length : w;
}

// Arc length from a forward to b, in [0, length).
CONVOY_HD_INLINE float ahead(float a, float b, float length) { return wrap_s(b - a, length); }

// Speed that keeps kFollowGap behind a car `gap` m ahead (bumper to bumper) moving at lead.
CONVOY_HD_INLINE float follow_speed(float desired, float gap, float lead) {
  return fminf(desired, fmaxf(0.0f, lead + (gap - kFollowGap) / kFollowTime));
}

// RK4 steps for a frame that starts at speed v: h |lambda| <= 2 at the lowest speed the frame
// can reach (full braking), so RK4 stays stable from v_max down to v_kinematic; 1 for KS.
CONVOY_HD_INLINE int rk4_steps(const Params& p, float v) {
  if (p.kinematic) return 1;
  const float v_low = fmaxf(fabsf(v) - p.car.a_max * p.dt, p.car.v_kinematic);
  const float lambda = p.stiff_a / v_low + p.stiff_b;
  const int n = static_cast<int>(ceilf(p.dt * lambda / 2.0f));
  return n < 1 ? 1 : n;
}

// Nearest hit of a ray on the track's edges (d = +-width/2 of every piece), or max_range:
// straights as segments, arcs as circles whose hits count only within the arc.
CONVOY_HD_INLINE float ray_track_edges(const Track& t, const physics::Ray<float>& ray) {
  using physics::Vec2;
  float best = ray.max_range;
  for (int k = 0; k < t.count; ++k) {
    const physics::LanePiece<float>& p = t.pieces[k];
    if (p.curvature == 0.0f) {
      for (int side = 0; side < 2; ++side) {
        float hit;
        if (physics::ray_segment(ray, t.edge[k][side], &hit) && hit < best) best = hit;
      }
      continue;
    }
    const Vec2<float> m = ray.origin - t.centre[k];
    const float b = physics::dot(m, ray.dir), mm = physics::dot(m, m);
    for (int side = 0; side < 2; ++side) {
      // the edge at d lies on the circle of radius (1 - curvature d) / |curvature|
      const float d = t.width * (side == 0 ? -0.5f : 0.5f);
      const float radius = (1.0f - p.curvature * d) / fabsf(p.curvature);
      const float disc = b * b - (mm - radius * radius);
      if (disc < 0.0f) continue;
      const float root = sqrtf(disc);
      const float roots[2] = {-b - root, -b + root};
      for (float hit : roots) {
        if (hit < 0.0f || hit >= best) continue;
        // on the arc: within half the swept angle of its middle
        const Vec2<float> r = m + ray.dir * hit;
        if (physics::dot(r, t.mid[k]) >= t.cos_half[k] * radius * (1.0f - 1e-6f)) {
          best = hit;
          break;  // the nearer root counts first
        }
      }
    }
  }
  return best;
}

// Ego's (s, d) on the track, s in [0, length).
CONVOY_HD_INLINE void ego_frenet(const Track& t, float x, float y, float* s, float* d) {
  physics::lane_frenet(t.chain(), physics::Vec2<float>{x, y}, s, d);
  *s = wrap_s(*s, t.length);
}

CONVOY_HD_INLINE physics::OrientedBox<float> other_box(const Track& t, const View& v,
                                                       std::int64_t k) {
  const physics::LaneChain<float> lane = t.chain();
  return {physics::lane_position(lane, v.o_s[k], v.o_d[k]),
          {0.5f * v.o_length[k], 0.5f * v.o_width[k]},
          physics::lane_heading(lane, v.o_s[k])};
}

}  // namespace racetrack

// Longitudinal: false for action=steer (Box(1)), true for action=accel_steer (Box(2)).
template <bool Longitudinal>
struct Racetrack {
  static constexpr const char* kName = "Racetrack-v0";
  static constexpr const char* kDescription =
      "keep a dynamic single-track car centred on a closed track, lidar observation "
      "(highway-env's racetrack-v0)";
  static constexpr int kObsDim = -1;  // n_rays + 6, by config
  static constexpr int kActDim = Longitudinal ? 2 : 1;
  static constexpr int kStateDim = -1;  // 11 + 6 x other_vehicles
  static constexpr bool kDiscrete = false;
  // the scripted baseline `convoy eval` compares with (ego_policy reads it)
  static constexpr const char* kBaseline = "ego_policy=autopilot";

  using Params = racetrack::Params;
  using View = racetrack::View;
  struct State : racetrack::State {
    State(const Device& d, std::int64_t n, const Params& p) : racetrack::State(d, n, p.others) {}
  };

  static Params read_params(ConfigReader& r) { return racetrack::read_params(r); }
  static int obs_dim(const Params& p) { return p.lidar.n_rays + racetrack::kEgoFeatures; }
  static int state_dim(const Params& p) {
    return racetrack::kEgoFields + racetrack::kOtherFields * p.others;
  }
  static Space observation_space(const Params& p) {
    std::vector<float> lo(obs_dim(p), -1.0f), hi(obs_dim(p), 1.0f);
    for (int k = 0; k < p.lidar.n_rays; ++k) lo[k] = 0.0f;
    return Space::box(lo, hi);
  }
  static Space action_space(const Params&) {
    return Space::box(std::vector<float>(kActDim, -1.0f), std::vector<float>(kActDim, 1.0f));
  }
  static double reward_threshold(const Params&) { return std::numeric_limits<double>::quiet_NaN(); }

  CONVOY_HD static void reset(const Params& p, const View& s, std::int64_t i, PhiloxStream& rng) {
    using namespace racetrack;
    const physics::LaneChain<float> lane = p.track.chain();
    const float s0 = static_cast<float>(rng.uniform(0.0, p.track.length));
    const physics::Vec2<float> at = physics::lane_position(lane, s0, 0.0f);
    s.x[i] = at.x;
    s.y[i] = at.y;
    s.psi[i] = physics::lane_heading(lane, s0);
    s.v[i] = p.target_speed;
    s.delta[i] = 0.0f;
    s.psi_dot[i] = 0.0f;
    s.beta[i] = 0.0f;
    s.laps[i] = 0.0f;
    s.mu[i] = static_cast<float>(rng.uniform(p.friction_min, p.friction_max));
    s.length[i] = static_cast<float>(rng.uniform(p.length_min, p.length_max));
    s.width[i] = static_cast<float>(rng.uniform(p.width_min, p.width_max));
    // other k in sector k + 1 of the loop counted from the ego, a margin from its ends
    const float sector = p.track.length / static_cast<float>(p.others + 1);
    const float margin = p.length_max + kFollowGap;
    for (std::int32_t k = 0; k < p.others; ++k) {
      const std::int64_t o = i * s.others + k;
      const float u = static_cast<float>(rng.uniform(margin, sector - margin));
      s.o_s[o] = wrap_s(s0 + sector * static_cast<float>(k + 1) + u, p.track.length);
      s.o_d[o] = 0.0f;
      s.o_desired[o] = static_cast<float>(rng.uniform(p.other_speed_min, p.other_speed_max));
      s.o_speed[o] = s.o_desired[o];
      s.o_length[o] = static_cast<float>(rng.uniform(p.length_min, p.length_max));
      s.o_width[o] = static_cast<float>(rng.uniform(p.width_min, p.width_max));
    }
  }

  // Nearest car ahead of arc length s_from (lateral offset d_from, half width hw) whose path
  // overlaps: its bumper-to-bumper gap and speed along the track. `skip` excludes a car
  // (-1 the ego). False when nothing is in the way.
  CONVOY_HD static bool leader(const Params& p, const View& s, std::int64_t i, float s_from,
                               float d_from, float half_len, float half_w, std::int32_t skip,
                               bool with_ego, float ego_s, float ego_d, float* gap, float* speed) {
    using namespace racetrack;
    float best = p.track.length;
    bool found = false;
    for (std::int32_t k = 0; k < p.others; ++k) {
      if (k == skip) continue;
      const std::int64_t o = i * s.others + k;
      if (fabsf(s.o_d[o] - d_from) > half_w + 0.5f * s.o_width[o] + 0.3f) continue;
      const float ds = ahead(s_from, s.o_s[o], p.track.length);
      if (ds > 0.0f && ds < best) {
        best = ds;
        *gap = ds - half_len - 0.5f * s.o_length[o];
        *speed = s.o_speed[o];
        found = true;
      }
    }
    if (with_ego && fabsf(ego_d - d_from) <= half_w + 0.5f * s.width[i] + 0.3f) {
      const float ds = ahead(s_from, ego_s, p.track.length);
      if (ds > 0.0f && ds < best) {
        *gap = ds - half_len - 0.5f * s.length[i];
        *speed = s.v[i];
        found = true;
      }
    }
    return found;
  }

  // The baseline's commands at the current state: pure pursuit of the centreline point
  // `lookahead` ahead (from the rear axle), and the speed that follows the car in front.
  // Outputs are normalised to the action range: steering / steer_max, acceleration / a_max.
  CONVOY_HD static void autopilot(const Params& p, const View& s, std::int64_t i, float ego_s,
                                  float ego_d, float* steer, float* accel) {
    using namespace racetrack;
    const physics::LaneChain<float> lane = p.track.chain();
    const physics::Vec2<float> fwd = physics::unit_from_angle(s.psi[i]);
    const physics::Vec2<float> rear = physics::Vec2<float>{s.x[i], s.y[i]} - fwd * p.car.l_r;
    const physics::Vec2<float> target =
        physics::lane_position(lane, wrap_s(ego_s + p.lookahead, p.track.length), 0.0f);
    const physics::Vec2<float> to = target - rear;
    const float ld = fmaxf(physics::length(to), 1e-3f);
    const float alpha = atan2f(physics::cross(fwd, to), physics::dot(fwd, to));
    const float wheelbase = p.car.l_f + p.car.l_r;
    const float delta = atan2f(2.0f * wheelbase * sinf(alpha), ld);
    *steer = physics::clamp(delta / p.car.steer_max, -1.0f, 1.0f);
    float v_want = p.target_speed, gap, lead;
    if (leader(p, s, i, ego_s, ego_d, 0.5f * s.length[i], 0.5f * s.width[i], -1, false, 0.0f, 0.0f,
               &gap, &lead)) {
      v_want = follow_speed(v_want, gap, lead);
    }
    *accel = physics::clamp((v_want - s.v[i]) / kTauAcc / p.car.a_max, -1.0f, 1.0f);
  }

  // One frame: the ego's model over dt with wheel-angle target steer_target (rad) and
  // acceleration accel (m/s^2), others along the track; true when the ego hit another car.
  CONVOY_HD static bool frame(const Params& p, const View& s, std::int64_t i, float steer_target,
                              float accel, float ego_s, float ego_d) {
    using namespace racetrack;
    physics::VehicleParams<float> car = p.car;
    car.mu = s.mu[i];
    // others first, from the positions at the frame's start (the ego's included)
    float new_speed[kMaxOthers];
    for (std::int32_t k = 0; k < p.others; ++k) {
      const std::int64_t o = i * s.others + k;
      float gap, lead, v_k = s.o_desired[o];
      if (leader(p, s, i, s.o_s[o], s.o_d[o], 0.5f * s.o_length[o], 0.5f * s.o_width[o], k, true,
                 ego_s, ego_d, &gap, &lead)) {
        v_k = follow_speed(v_k, gap, lead);
      }
      new_speed[k] = v_k;
    }
    for (std::int32_t k = 0; k < p.others; ++k) {
      const std::int64_t o = i * s.others + k;
      s.o_speed[o] = new_speed[k];
      s.o_s[o] = wrap_s(s.o_s[o] + new_speed[k] * p.dt, p.track.length);
    }
    // the ego: steering rate that reaches the target within the frame (the model limits it)
    const float u[2] = {(steer_target - s.delta[i]) / p.dt, accel};
    if (p.kinematic) {
      // KS's reference point is the rear axle
      const float c = cosf(s.psi[i]), sn = sinf(s.psi[i]);
      float x[5] = {s.x[i] - c * car.l_r, s.y[i] - sn * car.l_r, s.delta[i], s.v[i], s.psi[i]};
      physics::step_ks(car, x, u, p.dt, 1, physics::Integrator::kRk4);
      s.x[i] = x[physics::kStX] + cosf(x[physics::kStPsi]) * car.l_r;
      s.y[i] = x[physics::kStY] + sinf(x[physics::kStPsi]) * car.l_r;
      s.delta[i] = x[physics::kStDelta];
      s.v[i] = x[physics::kStV];
      s.psi[i] = x[physics::kStPsi];
      s.psi_dot[i] = x[physics::kStV] * tanf(x[physics::kStDelta]) / (car.l_f + car.l_r);
      s.beta[i] = 0.0f;
    } else {
      float x[7] = {s.x[i], s.y[i], s.delta[i], s.v[i], s.psi[i], s.psi_dot[i], s.beta[i]};
      physics::step_st(car, x, u, p.dt, rk4_steps(p, s.v[i]), physics::Integrator::kRk4);
      s.x[i] = x[physics::kStX];
      s.y[i] = x[physics::kStY];
      s.delta[i] = x[physics::kStDelta];
      s.v[i] = x[physics::kStV];
      s.psi[i] = physics::wrap_angle(x[physics::kStPsi]);
      s.psi_dot[i] = x[physics::kStPsiDot];
      s.beta[i] = x[physics::kStBeta];
    }
    // the ego against every other car
    const physics::OrientedBox<float> ego{
        {s.x[i], s.y[i]}, {0.5f * s.length[i], 0.5f * s.width[i]}, s.psi[i]};
    for (std::int32_t k = 0; k < p.others; ++k) {
      const physics::OrientedBox<float> other = other_box(p.track, s, i * s.others + k);
      const float reach = ego.half.x + ego.half.y + other.half.x + other.half.y;
      if (fabsf(other.center.x - ego.center.x) > reach ||
          fabsf(other.center.y - ego.center.y) > reach) {
        continue;
      }
      if (physics::box_box_overlap(ego, other)) return true;
    }
    return false;
  }

  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, const float* action,
                             float* reward, bool* terminated) {
    using namespace racetrack;
    float ego_s, ego_d;
    ego_frenet(p.track, s.x[i], s.y[i], &ego_s, &ego_d);
    const float s_start = ego_s;
    // actions, normalised to [-1, 1]: held for the policy step (the baseline replans per frame)
    float steer = physics::clamp(action[Longitudinal ? 1 : 0], -1.0f, 1.0f);
    float accel = Longitudinal ? physics::clamp(action[0], -1.0f, 1.0f) : 0.0f;
    bool crashed = false;
    for (std::int32_t f = 0; f < p.frames && !crashed; ++f) {
      if (f > 0) ego_frenet(p.track, s.x[i], s.y[i], &ego_s, &ego_d);
      if (p.autopilot) autopilot(p, s, i, ego_s, ego_d, &steer, &accel);
      const float a = (Longitudinal || p.autopilot)
                          ? accel * p.car.a_max
                          : (p.target_speed - s.v[i]) / kTauAcc;  // speed P controller
      crashed = frame(p, s, i, steer * p.car.steer_max, a, ego_s, ego_d);
    }
    ego_frenet(p.track, s.x[i], s.y[i], &ego_s, &ego_d);
    // progress along the track, the short way round between the step's ends
    float ds = ahead(s_start, ego_s, p.track.length);
    if (ds > 0.5f * p.track.length) ds -= p.track.length;
    s.laps[i] += ds / p.track.length;
    // RacetrackEnv._rewards / _reward
    const bool on_road = fabsf(ego_d) <= 0.5f * p.track.width;
    const float centring = 1.0f / (1.0f + p.lane_centering_cost * ego_d * ego_d);
    const float action_norm = Longitudinal ? sqrtf(steer * steer + accel * accel) : fabsf(steer);
    float r = p.lane_centering_reward * centring + p.action_reward * action_norm +
              p.collision_reward * (crashed ? 1.0f : 0.0f);
    if (p.normalize_reward) {
      r = (r - p.collision_reward) / (p.lane_centering_reward - p.collision_reward);
    }
    *reward = on_road ? r : 0.0f;
    *terminated = crashed || (p.offroad_terminal && !on_road);
  }

  CONVOY_HD static void observe(const Params& p, const View& s, std::int64_t i, float* obs) {
    using namespace racetrack;
    physics::OrientedBox<float> boxes[kMaxOthers];
    for (std::int32_t k = 0; k < p.others; ++k) boxes[k] = other_box(p.track, s, i * s.others + k);
    for (int k = 0; k < p.lidar.n_rays; ++k) obs[k] = lidar_return(p, s, i, k, boxes);
    observe_features(p, s, i, obs);
  }

  // Ray k's return as a fraction of max_range: the nearer of the track's edges and the other
  // cars (boxes: theirs, p.others).
  CONVOY_HD CONVOY_OBS_INLINE static float lidar_return(const Params& p, const View& s,
                                                        std::int64_t i, int k,
                                                        const physics::OrientedBox<float>* boxes) {
    const physics::Ray<float> ray = physics::lidar_ray(p.lidar, {s.x[i], s.y[i]}, s.psi[i], k);
    const physics::RayHit<float> hit =
        physics::cast_ray(ray, boxes, p.others, static_cast<const physics::Circle<float>*>(nullptr),
                          0, static_cast<const physics::Segment<float>*>(nullptr), 0);
    const float dist = fminf(hit.distance, racetrack::ray_track_edges(p.track, ray));
    return physics::clamp(dist / p.lidar.max_range, 0.0f, 1.0f);
  }

  // The observation per env x ray (the env contract's per-ray hooks, sim/env_contract.h):
  // kernels=ray, or auto on CUDA; observe_ray is observe's loop body, so both paths give the same
  // bits.
  static bool observe_batch_enabled(const Params& p, const Device& d) {
    return lidar_kernels_per_ray(p.kernels, d);
  }
  static int observe_rays(const Params& p) { return p.lidar.n_rays; }
  CONVOY_HD static void observe_ray(const Params& p, const View& s, std::int64_t i, int k,
                                    float* obs) {
    using namespace racetrack;
    physics::OrientedBox<float> boxes[kMaxOthers];
    for (std::int32_t o = 0; o < p.others; ++o) boxes[o] = other_box(p.track, s, i * s.others + o);
    obs[k] = lidar_return(p, s, i, k, boxes);
  }
  // Everything past the lidar: speed, lateral offset, heading error, wheel angle, yaw rate,
  // slip.
  CONVOY_HD CONVOY_OBS_INLINE static void observe_features(const Params& p, const View& s,
                                                           std::int64_t i, float* obs) {
    using namespace racetrack;
    float ego_s, ego_d;
    ego_frenet(p.track, s.x[i], s.y[i], &ego_s, &ego_d);
    const float heading_error =
        physics::wrap_angle(s.psi[i] - physics::lane_heading(p.track.chain(), ego_s));
    float* e = obs + p.lidar.n_rays;
    e[0] = physics::clamp(s.v[i] / p.car.v_max, -1.0f, 1.0f);
    e[1] = physics::clamp(ego_d / (0.5f * p.track.width), -1.0f, 1.0f);
    e[2] = physics::clamp(heading_error / 3.14159265f, -1.0f, 1.0f);
    e[3] = physics::clamp(s.delta[i] / p.car.steer_max, -1.0f, 1.0f);
    e[4] = physics::clamp(s.psi_dot[i] / 6.2831853f, -1.0f, 1.0f);
    e[5] = physics::clamp(s.beta[i] / 1.5707963f, -1.0f, 1.0f);
  }

  // State exchange: the ego [x, y, delta, v, psi, psi_dot, beta, mu, length, width, laps], then
  // per other car [s, d, speed, desired_speed, length, width].
  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    const float ego[racetrack::kEgoFields] = {s.x[i],      s.y[i],       s.delta[i], s.v[i],
                                              s.psi[i],    s.psi_dot[i], s.beta[i],  s.mu[i],
                                              s.length[i], s.width[i],   s.laps[i]};
    for (int k = 0; k < racetrack::kEgoFields; ++k) out[k] = ego[k];
    for (std::int32_t k = 0; k < s.others; ++k) {
      const std::int64_t o = i * s.others + k;
      double* r = out + racetrack::StateLayout::other(k);
      r[0] = s.o_s[o];
      r[1] = s.o_d[o];
      r[2] = s.o_speed[o];
      r[3] = s.o_desired[o];
      r[4] = s.o_length[o];
      r[5] = s.o_width[o];
    }
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    float* ego[racetrack::kEgoFields] = {s.x,    s.y,  s.delta,  s.v,     s.psi, s.psi_dot,
                                         s.beta, s.mu, s.length, s.width, s.laps};
    for (int k = 0; k < racetrack::kEgoFields; ++k) ego[k][i] = static_cast<float>(in[k]);
    for (std::int32_t k = 0; k < s.others; ++k) {
      const std::int64_t o = i * s.others + k;
      const double* r = in + racetrack::StateLayout::other(k);
      s.o_s[o] = static_cast<float>(r[0]);
      s.o_d[o] = static_cast<float>(r[1]);
      s.o_speed[o] = static_cast<float>(r[2]);
      s.o_desired[o] = static_cast<float>(r[3]);
      s.o_length[o] = static_cast<float>(r[4]);
      s.o_width[o] = static_cast<float>(r[5]);
    }
  }
};

}  // namespace convoy::envs
