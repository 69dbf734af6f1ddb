// Highway-v0 and HighwayFast-v0: an ego car among IDM/MOBIL traffic on a straight multi-lane
// highway, after highway-env's highway-v0 and highway-fast-v0 (HighwayEnv 1.x: highway_env/envs/
// highway_env.py, vehicle/kinematics.py, vehicle/controller.py, vehicle/behavior.py), with their
// defaults: Highway-v0 4 lanes, 50 other vehicles, ego_spacing 2, 15 Hz simulation, 40 s
// episodes; HighwayFast-v0 3 lanes, 20 vehicles, ego_spacing 1.5, 5 Hz, 30 s; both a 1 Hz
// policy. Collisions are checked for the ego only (highway-fast-v0's rule; highway-v0 also
// checks traffic against traffic: docs/envs.md, Differences from highway-env).
//
// The traffic itself (neighbour search, the frame of IDM + MOBIL + lane keeping, moves and the
// ego's collisions, per scene or as per-vehicle kernels) is physics/traffic_frame.h's, on its
// StraightRoad; the settings the driving envs share are envs/driving/traffic_env.h's. Here:
// Highway-v0's reset, ego actions, observation and reward.
//
// Actions: action_type=discrete (default, highway-env's DiscreteMetaAction: 0 LANE_LEFT,
// 1 IDLE, 2 LANE_RIGHT, 3 FASTER, 4 SLOWER, target speeds 20/25/30 m/s) or continuous
// ([-1, 1]^2 -> acceleration +-5 m/s^2, steering +-pi/4). Observation: the ego and its K-1
// nearest vehicles ahead (or up to 2 car lengths behind) x [presence, x, y, vx, vy, cos h,
// sin h], the ego row absolute and the others relative to it, normalised (x by 100 m, y by
// 4 * lanes m, velocities by 80 m/s) and clipped to [-1, 1]; or, with observation=lidar,
// highway-env's LidarObservation (observe_lidar), which runs two ways from the same per-ray
// function lidar_cell (obs_kernels=auto|env|ray): one call per env, ray after ray (the CPU's
// default), or a launch per env x ray through the engine's staged step (sim/env_contract.h)
// (observe_ray, CUDA's default), whichever `kernels` runs the step. Both give the same bits on the
// same device. Reward: highway-env's collision / right-lane / high-speed terms, normalised to [0,
// 1] and multiplied by on-road.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "envs/driving/traffic_env.h"
#include "envs/lidar_kernels.h"
#include "physics/collision.h"
#include "physics/lidar.h"
#include "physics/math.h"
#include "physics/raycast.h"
#include "physics/traffic_frame.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/error.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"

namespace convoy::envs {

namespace highway {

constexpr float kSpeedLimit = 30.0f;             // the highway's lanes' speed_limit
constexpr float kPerception = 5.0f * kMaxSpeed;  // Vehicle perception distance, m
constexpr int kFeatures = 7;                     // presence, x, y, vx, vy, cos h, sin h
constexpr int kLidarFeatures = 2;                // distance, relative speed along the ray

// The defaults that tell highway-v0 from highway-fast-v0 (HighwayEnv.default_config and
// HighwayEnvFast.default_config).
struct HighwayDefaults {
  const char* name;
  std::int64_t lanes, vehicles;
  double ego_spacing, duration, simulation_frequency;
};
constexpr HighwayDefaults kHighwayDefaults{"Highway-v0", 4, 50, 2.0, 40.0, 15.0};
constexpr HighwayDefaults kHighwayFastDefaults{"HighwayFast-v0", 3, 20, 1.5, 30.0, 5.0};

inline Params read_params(ConfigReader& r, const HighwayDefaults& d) {
  Params p;
  const std::string name = d.name;
  p.lanes = static_cast<std::int32_t>(r.integer("lanes", d.lanes, 1, 10, "lanes_count"));
  const auto others = r.integer("vehicles", d.vehicles, 0, 200, "vehicles_count: other vehicles");
  p.vehicles = static_cast<std::int32_t>(others + 1);
  p.ego_spacing =
      static_cast<float>(r.real("ego_spacing", d.ego_spacing, 0.5, 10.0, "ego_spacing"));
  p.density = static_cast<float>(r.real("vehicles_density", 1.0, 0.1, 5.0, "vehicles_density"));
  p.density_range = read_range(r, name, "vehicles_density", p.density, 0.1, 5.0,
                               "vehicles_density drawn per episode (default: vehicles_density)");
  read_driving_settings(r, name, {d.duration, d.simulation_frequency, 0.4, 3.5, 4.5}, &p);
  // vehicles are spawned one after another along the road at least a car plus IDM's jam
  // distance apart; the road (10 km, highway-env's) must hold them
  const double capacity = p.lanes * 10000.0 / (kLength + 10.0);
  if (p.vehicles > capacity) {
    throw Error(name + ": vehicles=" + std::to_string(others) + " do not fit on " +
                std::to_string(p.lanes) + " lanes; allowed: at most " +
                std::to_string(static_cast<long>(capacity) - 1));
  }
  return p;
}

// The index of x's lowest set bit (x != 0).
CONVOY_HD_INLINE int lowest_bit(std::uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __ffs(static_cast<int>(x)) - 1;
#else
  return __builtin_ctz(x);
#endif
}

// MDPVehicle.speed_to_index over target speeds 20, 25, 30.
CONVOY_HD_INLINE std::int32_t speed_index(float speed) {
  const float x = (speed - 20.0f) / 10.0f;
  std::int32_t k = static_cast<std::int32_t>(rintf(x * 2.0f));
  return k < 0 ? 0 : (k > 2 ? 2 : k);
}

CONVOY_HD_INLINE bool on_road(float y, std::int32_t lanes) {
  return y >= -kLaneWidth / 2 && y <= (lanes - 1) * kLaneWidth + kLaneWidth / 2;
}

}  // namespace highway

// Fast: HighwayFast-v0 (highway-fast-v0's defaults), else Highway-v0; the same engine.
template <bool Discrete, bool Fast = false>
struct Highway {
  static constexpr const char* kName = Fast ? "HighwayFast-v0" : "Highway-v0";
  static constexpr const char* kDescription =
      Fast ? "drive fast and right among IDM/MOBIL traffic on a multi-lane highway (highway-env's "
             "highway-fast-v0: 3 lanes, 20 vehicles, 5 Hz)"
           : "drive fast and right among IDM/MOBIL traffic on a multi-lane highway (highway-env's "
             "highway-v0: 4 lanes, 50 vehicles, 15 Hz)";
  static constexpr int kMaxObserved = 32;
  // spaces are sized by config (observed_vehicles); the engine's obs_dim comes from the spec
  static constexpr int kObsDim = -1;
  static constexpr int kActDim = Discrete ? 1 : 2;
  static constexpr int kStateDim = -1;
  static constexpr bool kDiscrete = Discrete;
  static constexpr bool kHasOutcome = true;
  // the scripted baseline `convoy eval` compares with (ego_policy reads it)
  static constexpr const char* kBaseline = "ego_policy=autopilot";

  using Params = highway::Params;
  using View = highway::View;
  using Road = highway::StraightRoad;
  using BatchAction = std::conditional_t<Discrete, std::int32_t, float>;  // step_batch's
  struct State : highway::State {
    State(const Device& d, std::int64_t n, const Params& p) : highway::State(d, n, p) {}
  };

  static Params read_params(ConfigReader& r) {
    return highway::read_params(r,
                                Fast ? highway::kHighwayFastDefaults : highway::kHighwayDefaults);
  }
  static int obs_dim(const Params& p) {
    return p.lidar ? p.lidar_cells * highway::kLidarFeatures : p.observed * highway::kFeatures;
  }
  static int state_dim(const Params& p) { return p.vehicles * highway::StateLayout::kFields; }
  static Space observation_space(const Params& p) {
    return Space::box(std::vector<float>(obs_dim(p), -1.0f), std::vector<float>(obs_dim(p), 1.0f));
  }
  static Space action_space(const Params&) {
    if (Discrete) return Space::discrete(5);
    return Space::box({-1.0f, -1.0f}, {1.0f, 1.0f});
  }
  static double reward_threshold(const Params&) { return std::numeric_limits<double>::quiet_NaN(); }

  // highway-env's _create_vehicles with Vehicle.create_random: each vehicle is placed ahead of
  // all earlier ones, in a random lane, offset by spacing * (12 + speed) * exp(-5/40 * lanes)
  // times U(0.95, 1.05); others drive U(21, 24) m/s with a randomised IDM exponent.
  CONVOY_HD static void reset(const Params& p, const View& s, std::int64_t i, PhiloxStream& rng) {
    using namespace highway;
    const std::int64_t base = i * s.vehicles;
    const float lane_factor = expf(-5.0f / 40.0f * static_cast<float>(p.lanes));
    const float density = p.density_range.varies() ? p.density_range.draw(rng) : p.density;
    float front = 0.0f;
    for (std::int32_t v = 0; v < s.vehicles; ++v) {
      const std::int64_t k = base + v;
      const bool ego = v == 0;
      const float speed =
          ego ? 25.0f : static_cast<float>(rng.uniform(0.7 * kSpeedLimit, 0.8 * kSpeedLimit));
      const float spacing = ego ? p.ego_spacing : 1.0f / density;
      const float offset = spacing * (12.0f + speed) * lane_factor;
      const float x0 =
          (ego ? 3.0f * offset : front) + offset * static_cast<float>(rng.uniform(0.95, 1.05));
      const std::int32_t lane =
          static_cast<std::int32_t>(rng.below(static_cast<std::uint32_t>(p.lanes)));
      front = fmaxf(front, x0);
      s.x[k] = x0;
      s.y[k] = lane * kLaneWidth;
      s.heading[k] = 0.0f;
      s.speed[k] = speed;
      s.target_speed[k] = speed;
      s.delta[k] = static_cast<float>(rng.uniform(p.idm_delta_low, p.idm_delta_high));
      s.lane_timer[k] = static_cast<float>(rng.uniform(0.0, 1.0));
      s.target_lane[k] = lane;
      draw_vehicle_traits(p, s, k, ego, rng);
    }
    s.accel[i] = 0.0f;
    s.steer[i] = 0.0f;
  }

  // The ego's meta-action (MDPVehicle.act) or held continuous command, applied once per step.
  CONVOY_HD static void apply_ego_action(const Params& p, const View& s, std::int64_t i,
                                         std::int32_t a) {
    const std::int64_t k = i * s.vehicles;
    if (a == 0 || a == 2) {
      const std::int32_t lane = s.target_lane[k] + (a == 0 ? -1 : 1);
      if (lane >= 0 && lane < p.lanes) s.target_lane[k] = lane;
    } else if (a == 3 || a == 4) {
      std::int32_t idx = highway::speed_index(s.speed[k]) + (a == 3 ? 1 : -1);
      idx = idx < 0 ? 0 : (idx > 2 ? 2 : idx);
      s.target_speed[k] = 20.0f + 5.0f * idx;
    }
  }
  CONVOY_HD static void apply_ego_action(const Params&, const View& s, std::int64_t i,
                                         const float* a) {
    s.accel[i] = physics::clamp(a[0], -1.0f, 1.0f) * 5.0f;
    s.steer[i] = physics::clamp(a[1], -1.0f, 1.0f) * 0.7853981633974483f;
  }

  // highway::mobil_change, kept here for the tests that compare it with the full rule.
  CONVOY_HD static bool mobil_change(const physics::IdmParams<float>& idm,
                                     const physics::MobilParams<float>& mobil,
                                     const std::int32_t* lane, const float* x, const float* speed,
                                     const float* target_speed, std::int32_t n, std::int32_t v,
                                     std::int32_t cand, float self_a, std::int32_t new_front,
                                     std::int32_t new_rear) {
    return highway::mobil_change(idm, mobil, lane, x, speed, target_speed, n, v, cand, self_a,
                                 physics::idm_free_road(idm, speed[v], target_speed[v]), new_front,
                                 highway::KnownCar{new_rear});
  }

  template <class Action>
  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, Action action,
                             float* reward, bool* terminated) {
    highway::traffic_step<Highway>(p, s, i, action, reward, terminated);
  }

  // The per-vehicle kernels (kernels=vehicle, the default on CUDA): step for every env whose
  // skip byte is clear, by stage launches over envs and envs x vehicles (highway::step_batch).
  static bool step_batch_enabled(const Params& p, const Device& d) {
    return highway::vehicle_kernels(p, d);
  }
  static void step_batch(const Device& d, const Params& p, const View& s, State& st, std::int64_t n,
                         const BatchAction* actions, const std::uint8_t* skip, float* reward,
                         std::uint8_t* terminated) {
    highway::step_batch<Highway>(d, p, s, st.scratch, n, actions, skip, reward, terminated);
  }

  // The step's reward and termination from its end state (HighwayEnv._rewards / _reward).
  template <class Action>
  CONVOY_FRAME_INLINE static void judge(const Params& p, const View& s, std::int64_t i, Action,
                                        bool crashed, float* reward, bool* terminated) {
    using namespace highway;
    const std::int64_t k = i * s.vehicles;
    const bool road = on_road(s.y[k], p.lanes);
    const std::int32_t lane =
        (Discrete || p.autopilot) ? s.target_lane[k] : lane_of(s.y[k], p.lanes);
    const float right = p.lanes > 1 ? static_cast<float>(lane) / (p.lanes - 1) : 0.0f;
    const float forward = s.speed[k] * cosf(s.heading[k]);
    const float fast =
        physics::clamp((forward - p.speed_low) / (p.speed_high - p.speed_low), 0.0f, 1.0f);
    float r = p.collision_reward * (crashed ? 1.0f : 0.0f) + p.right_lane_reward * right +
              p.high_speed_reward * fast;
    if (p.normalize_reward) {
      const float lo = p.collision_reward, hi = p.high_speed_reward + p.right_lane_reward;
      r = (r - lo) / (hi - lo);
    }
    *reward = r * (road ? 1.0f : 0.0f);
    *terminated = crashed || (p.offroad_terminal && !road);
  }

  // How the episode ended, from its last state: 2 the ego overlaps a car, 3 off the road.
  CONVOY_HD static std::uint8_t outcome(const Params& p, const View& s, std::int64_t i) {
    using namespace highway;
    const std::int64_t k = i * s.vehicles;
    const physics::OrientedBox<float> ego{
        {s.x[k], s.y[k]}, {kLength / 2, kWidth / 2}, s.heading[k]};
    for (std::int32_t v = 1; v < s.vehicles; ++v) {
      const physics::OrientedBox<float> o{
          {s.x[k + v], s.y[k + v]}, {s.length[k + v] / 2, s.width[k + v] / 2}, s.heading[k + v]};
      if (physics::box_box_overlap(ego, o)) return 2;
    }
    return on_road(s.y[k], p.lanes) ? 0 : 3;
  }

  CONVOY_HD static void observe(const Params& p, const View& s, std::int64_t i, float* obs) {
    if (p.lidar) {
      observe_lidar(p, s, i, obs);
    } else {
      observe_kinematics(p, s, i, obs);
    }
  }

  // LidarObservation: cells rays from the ego's centre at angles 2 pi k / cells in the road's
  // frame (not turned with the ego), each [distance, (v_hit - v_ego) . ray direction] over
  // maximum_range, the speed clipped to [-1, 1]; a ray that hits nothing reads [1, 1], as
  // highway-env fills empty cells with maximum_range in both columns. Exact ray casts against
  // the other vehicles' boxes (highway-env approximates a box by the angular sector of its
  // corners); road edges are not seen, as in highway-env. Cell after cell from the same
  // lidar_cell the per-ray kernels call (observe_ray), so both give the same bits.
  CONVOY_HD static void observe_lidar(const Params& p, const View& s, std::int64_t i, float* obs) {
    LidarScene scene;
    lidar_scene(p, s, i, &scene);
    for (int r = 0; r < p.lidar_cells; ++r) {
      lidar_cell(p, s, scene, r, obs + r * highway::kLidarFeatures);
    }
  }

  // What env i's lidar sees: the ego's centre and velocity, and which other vehicles a ray
  // can reach (within lidar_range plus their half length + half width along both axes), one
  // bit each. Their boxes are built per ray from the state (lidar_cell): a box per vehicle in
  // here would sit in the frame of every kernel that observes, lidar or not (5 KB a thread).
  static constexpr int kReachWords = (highway::kMaxVehicles + 31) / 32;
  struct LidarScene {
    std::int64_t base;                 // env i's first vehicle (the ego)
    float ex, ey;                      // m, the ego's centre
    float evx, evy;                    // m/s, the ego's velocity
    std::uint32_t reach[kReachWords];  // bit v % 32 of word v / 32: vehicle v is in reach
  };
  CONVOY_HD CONVOY_OBS_INLINE static void lidar_scene(const Params& p, const View& s,
                                                      std::int64_t i, LidarScene* out) {
    LidarScene& sc = *out;
    const std::int32_t n = s.vehicles;
    const std::int64_t base = i * n;
    sc.base = base;
    sc.ex = s.x[base];
    sc.ey = s.y[base];
    sc.evx = s.speed[base] * cosf(s.heading[base]);
    sc.evy = s.speed[base] * sinf(s.heading[base]);
    for (int w = 0; w * 32 < n; ++w) sc.reach[w] = 0;
    for (std::int32_t v = 1; v < n; ++v) {
      const std::int64_t k = base + v;
      const float reach = p.lidar_range + (s.length[k] + s.width[k]) / 2;
      if (fabsf(s.x[k] - sc.ex) > reach || fabsf(s.y[k] - sc.ey) > reach) continue;
      sc.reach[v / 32] |= 1u << (v % 32);
    }
  }
  // Cell r of the observation (o: its kLidarFeatures floats): ray r's nearest hit among the
  // boxes of the vehicles in reach, as physics/raycast.h's cast_ray over those boxes in vehicle
  // order finds it (ties to the lower index).
  CONVOY_HD CONVOY_OBS_INLINE static void lidar_cell(const Params& p, const View& s,
                                                     const LidarScene& sc, int r, float* o) {
    using namespace highway;
    const physics::LidarSpec<float> spec{p.lidar_cells, physics::two_pi<float>(), p.lidar_range};
    const physics::Ray<float> ray = physics::lidar_ray<float>(spec, {sc.ex, sc.ey}, 0.0f, r);
    float nearest = ray.max_range;
    std::int32_t hit = -1;  // the vehicle
    for (int w = 0; w * 32 < s.vehicles; ++w) {
      for (std::uint32_t bits = sc.reach[w]; bits != 0; bits &= bits - 1) {
        const std::int64_t k = sc.base + w * 32 + lowest_bit(bits);
        const physics::OrientedBox<float> box{
            {s.x[k], s.y[k]}, {s.length[k] / 2, s.width[k] / 2}, s.heading[k]};
        float t;
        if (physics::ray_box(ray, box, &t) && (hit < 0 || t < nearest)) {
          nearest = t;
          hit = static_cast<std::int32_t>(k - sc.base);
        }
      }
    }
    if (hit < 0) {
      o[0] = 1.0f;
      o[1] = 1.0f;
      return;
    }
    const float a = physics::lidar_ray_angle(spec, r);
    const std::int64_t k = sc.base + hit;
    const float rel = (s.speed[k] * cosf(s.heading[k]) - sc.evx) * cosf(a) +
                      (s.speed[k] * sinf(s.heading[k]) - sc.evy) * sinf(a);
    o[0] = nearest / spec.max_range;
    o[1] = physics::clamp(rel / p.lidar_range, -1.0f, 1.0f);
  }

  // The observation per env x lidar ray (the env contract's per-ray hooks, sim/env_contract.h) with
  // observation=lidar: obs_kernels=ray, or auto on CUDA. The kinematics observation is per env.
  static bool observe_batch_enabled(const Params& p, const Device& d) {
    return p.lidar && lidar_kernels_per_ray(p.obs_kernels, d);
  }
  static int observe_rays(const Params& p) { return p.lidar_cells; }
  // Cell r (obs[2 r], obs[2 r + 1]): observe_lidar's loop body for one ray.
  CONVOY_HD static void observe_ray(const Params& p, const View& s, std::int64_t i, int r,
                                    float* obs) {
    LidarScene scene;
    lidar_scene(p, s, i, &scene);
    lidar_cell(p, s, scene, r, obs + r * highway::kLidarFeatures);
  }
  // Nothing past the cells: the lidar observation is the cells alone.
  CONVOY_HD static void observe_features(const Params&, const View&, std::int64_t, float*) {}

  // KinematicObservation with features presence, x, y, vx, vy, cos_h, sin_h.
  CONVOY_HD static void observe_kinematics(const Params& p, const View& s, std::int64_t i,
                                           float* obs) {
    using namespace highway;
    const std::int32_t n = s.vehicles;
    const std::int64_t base = i * n;
    const float ex = s.x[base], ey = s.y[base];
    const float y_scale = kLaneWidth * p.lanes;
    auto write = [&](int row, float px, float py, float vx, float vy, float h) {
      float* o = obs + row * kFeatures;
      o[0] = 1.0f;
      o[1] = physics::clamp(px / 100.0f, -1.0f, 1.0f);
      o[2] = physics::clamp(py / y_scale, -1.0f, 1.0f);
      o[3] = physics::clamp(vx / 80.0f, -1.0f, 1.0f);
      o[4] = physics::clamp(vy / 80.0f, -1.0f, 1.0f);
      // a car settled in its lane heads exactly along the road: cos 0 = 1, sin(+-0) = +-0
      o[5] = h == 0.0f ? 1.0f : cosf(h);
      o[6] = h == 0.0f ? h : sinf(h);
    };
    const float eh = s.heading[base];
    const float evx = eh == 0.0f ? s.speed[base] : s.speed[base] * cosf(eh);
    const float evy = eh == 0.0f ? s.speed[base] * eh : s.speed[base] * sinf(eh);
    write(0, ex, ey, evx, evy, eh);
    // the observed-1 nearest others within perception, not more than 2 lengths behind, in
    // (distance, index) order: one pass keeping the best rows sorted (insertion), instead of
    // a pass over every vehicle per row
    const int rows = p.observed - 1;
    float near_d2[kMaxObserved];
    std::int32_t near_v[kMaxObserved];
    int count = 0;
    for (std::int32_t v = 1; v < n && rows > 0; ++v) {
      const float dx = s.x[base + v] - ex, dy = s.y[base + v] - ey;
      if (dx < -2 * kLength) continue;
      const float d2 = dx * dx + dy * dy;
      if (!(d2 < kPerception * kPerception)) continue;
      // v comes after every earlier vehicle at the same distance (indices increase)
      if (count == rows && !(d2 < near_d2[rows - 1])) continue;
      int j = count < rows ? count++ : rows - 1;
      while (j > 0 && near_d2[j - 1] > d2) {
        near_d2[j] = near_d2[j - 1];
        near_v[j] = near_v[j - 1];
        --j;
      }
      near_d2[j] = d2;
      near_v[j] = v;
    }
    for (int row = 0; row < count; ++row) {
      const std::int64_t k = base + near_v[row];
      const float h = s.heading[k];
      const float vx = h == 0.0f ? s.speed[k] : s.speed[k] * cosf(h);
      const float vy = h == 0.0f ? s.speed[k] * h : s.speed[k] * sinf(h);
      write(row + 1, s.x[k] - ex, s.y[k] - ey, vx - evx, vy - evy, h);
    }
    for (int j = (count + 1) * kFeatures; j < p.observed * kFeatures; ++j) obs[j] = 0.0f;
  }

  // State exchange for tests and renderers, laid out as highway::StateLayout.
  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    for (std::int32_t v = 0; v < s.vehicles; ++v) {
      const std::int64_t k = i * s.vehicles + v;
      const highway::VehicleRow<double> o = highway::vehicle_row(out, v);
      o.x() = s.x[k];
      o.y() = s.y[k];
      o.heading() = s.heading[k];
      o.speed() = s.speed[k];
      o.target_speed() = s.target_speed[k];
      o.target_lane() = s.target_lane[k];
    }
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    for (std::int32_t v = 0; v < s.vehicles; ++v) {
      const std::int64_t k = i * s.vehicles + v;
      const highway::VehicleRow<const double> o = highway::vehicle_row(in, v);
      s.x[k] = static_cast<float>(o.x());
      s.y[k] = static_cast<float>(o.y());
      s.heading[k] = static_cast<float>(o.heading());
      s.speed[k] = static_cast<float>(o.speed());
      s.target_speed[k] = static_cast<float>(o.target_speed());
      s.target_lane[k] = static_cast<std::int32_t>(o.target_lane());
    }
  }
};

}  // namespace convoy::envs
