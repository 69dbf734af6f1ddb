// Highway-v0: an ego car among IDM/MOBIL traffic on a straight multi-lane highway, after
// highway-env's highway-fast-v0 (HighwayEnv 1.x: highway_env/envs/highway_env.py, vehicle/
// kinematics.py, vehicle/controller.py, vehicle/behavior.py). Defaults: 3 lanes, 20 other
// vehicles, 5 Hz simulation, 1 Hz policy, 30 s episodes, ego-only collision checks.
//
// Frame: highway-env's. x along the road, y across it pointing right (down on screen); lane k's
// centre is at y = 4 k, lane 0 leftmost. Per-vehicle state is structure of arrays
// (num_envs x vehicles), vehicle 0 the ego. One env steps all its vehicles in one call: traffic
// looks for leaders among tens of vehicles, which is cheap per env and keeps the state local.
//
// Actions: action_type=discrete (default, highway-env's DiscreteMetaAction: 0 LANE_LEFT,
// 1 IDLE, 2 LANE_RIGHT, 3 FASTER, 4 SLOWER, target speeds 20/25/30 m/s) or continuous
// ([-1, 1]^2 -> acceleration +-5 m/s^2, steering +-pi/4). Observation: the ego and its K-1
// nearest vehicles ahead (or up to 2 car lengths behind) x [presence, x, y, vx, vy, cos h,
// sin h], the ego row absolute and the others relative to it, normalised (x by 100 m, y by
// 4 * lanes m, velocities by 80 m/s) and clipped to [-1, 1]. Reward: highway-env's collision /
// right-lane / high-speed terms, normalised to [0, 1] and multiplied by on-road.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "physics/collision.h"
#include "physics/math.h"
#include "physics/traffic.h"
#include "physics/vehicle.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/error.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"

namespace convoy::envs {

namespace highway {

constexpr float kLaneWidth = 4.0f;                   // AbstractLane.DEFAULT_WIDTH
constexpr float kLength = 5.0f;                      // Vehicle.LENGTH
constexpr float kWidth = 2.0f;                       // Vehicle.WIDTH
constexpr float kMaxSpeed = 40.0f;                   // Vehicle.MAX_SPEED
constexpr float kSpeedLimit = 30.0f;                 // the highway's lanes' speed_limit
constexpr float kTauAcc = 0.6f;                      // ControlledVehicle.TAU_ACC
constexpr float kTauHeading = 0.2f;                  // ControlledVehicle.TAU_HEADING
constexpr float kTauLateral = 0.6f;                  // ControlledVehicle.TAU_LATERAL
constexpr float kMaxSteering = 1.0471975511965976f;  // ControlledVehicle.MAX_STEERING_ANGLE pi/3
constexpr float kPerception = 5.0f * kMaxSpeed;      // Vehicle perception distance, m
constexpr int kFeatures = 7;                         // presence, x, y, vx, vy, cos h, sin h

struct Params {
  std::int32_t max_episode_steps = 30;  // duration x policy frequency
  std::int32_t lanes = 3;
  std::int32_t vehicles = 21;  // ego + others
  std::int32_t substeps = 5;   // simulation frames per policy step
  float dt = 0.2f;             // s per frame
  std::int32_t observed = 5;   // rows in the observation
  float ego_spacing = 1.5f;
  float density = 1.0f;
  float collision_reward = -1.0f;
  float right_lane_reward = 0.1f;
  float high_speed_reward = 0.4f;
  float speed_low = 20.0f, speed_high = 30.0f;  // reward_speed_range
  bool normalize_reward = true;
  bool offroad_terminal = true;
  bool autopilot = false;  // the ego drives itself by IDM/MOBIL; actions are ignored
  float idm_delta_low = 3.5f, idm_delta_high = 4.5f;  // IDMVehicle.DELTA_RANGE
};

inline Params read_params(ConfigReader& r) {
  Params p;
  r.choice("action_type", "discrete", {"discrete", "continuous"},
           "discrete meta-actions or continuous [acceleration, steering]");
  p.lanes = static_cast<std::int32_t>(r.integer("lanes", 3, 1, 10, "lanes_count"));
  const auto others = r.integer("vehicles", 20, 0, 200, "vehicles_count: other vehicles");
  p.vehicles = static_cast<std::int32_t>(others + 1);
  const double duration = r.real("duration", 30.0, 1.0, 3600.0, "episode length, s");
  const double sim_hz = r.real("simulation_frequency", 5.0, 1.0, 100.0, "physics frames per s");
  const double policy_hz = r.real("policy_frequency", 1.0, 0.1, 100.0, "actions per s");
  p.observed = static_cast<std::int32_t>(
      r.integer("observed_vehicles", 5, 1, 32, "rows of the kinematics observation (ego first)"));
  p.ego_spacing = static_cast<float>(r.real("ego_spacing", 1.5, 0.5, 10.0, "ego_spacing"));
  p.density = static_cast<float>(r.real("vehicles_density", 1.0, 0.1, 5.0, "vehicles_density"));
  p.collision_reward = static_cast<float>(r.real("collision_reward", -1.0, -100.0, 0.0, ""));
  p.right_lane_reward = static_cast<float>(r.real("right_lane_reward", 0.1, 0.0, 100.0, ""));
  p.high_speed_reward = static_cast<float>(r.real("high_speed_reward", 0.4, 0.0, 100.0, ""));
  p.speed_low = static_cast<float>(r.real("reward_speed_low", 20.0, 0.0, 40.0, "m/s"));
  p.speed_high = static_cast<float>(r.real("reward_speed_high", 30.0, 0.0, 40.0, "m/s"));
  p.normalize_reward = r.boolean("normalize_reward", true, "map the reward to [0, 1]");
  p.offroad_terminal = r.boolean("offroad_terminal", true, "end the episode off the road");
  p.autopilot =
      r.choice("ego_policy", "agent", {"agent", "autopilot"},
               "who drives the ego: the actions, or the scripted IDM/MOBIL baseline "
               "(the same rules as the traffic; actions are then ignored)") == "autopilot";
  p.idm_delta_low =
      static_cast<float>(r.real("idm_delta_low", 3.5, 1.0, 10.0, "IDM exponent, low"));
  p.idm_delta_high =
      static_cast<float>(r.real("idm_delta_high", 4.5, 1.0, 10.0, "IDM exponent, high"));
  // frames per policy step, as highway-env's int(simulation_frequency // policy_frequency)
  const double ratio = std::floor(sim_hz / policy_hz + 1e-9);
  if (ratio < 1) {
    throw Error("Highway-v0: policy_frequency=" + std::to_string(policy_hz) +
                " exceeds simulation_frequency=" + std::to_string(sim_hz) +
                "; allowed: policy_frequency <= simulation_frequency");
  }
  p.substeps = static_cast<std::int32_t>(ratio);
  p.dt = static_cast<float>(1.0 / sim_hz);
  p.max_episode_steps = static_cast<std::int32_t>(std::ceil(duration * policy_hz - 1e-9));
  if (p.speed_high <= p.speed_low) {
    throw Error("Highway-v0: reward_speed_high=" + std::to_string(p.speed_high) +
                " must exceed reward_speed_low=" + std::to_string(p.speed_low));
  }
  if (p.idm_delta_high < p.idm_delta_low) {
    throw Error("Highway-v0: idm_delta_high must be >= idm_delta_low");
  }
  // vehicles are spawned one after another along the road at least a car plus IDM's jam
  // distance apart; the road (10 km, highway-env's) must hold them
  const double capacity = p.lanes * 10000.0 / (kLength + 10.0);
  if (p.vehicles > capacity) {
    throw Error("Highway-v0: vehicles=" + std::to_string(others) + " do not fit on " +
                std::to_string(p.lanes) + " lanes; allowed: at most " +
                std::to_string(static_cast<long>(capacity) - 1));
  }
  return p;
}

// Per-vehicle state, (num_envs x vehicles) each, vehicle 0 the ego.
struct View {
  std::int32_t vehicles;
  float* x;             // m
  float* y;             // m
  float* heading;       // rad
  float* speed;         // m/s
  float* target_speed;  // m/s (IDM's v0; the ego's target in discrete mode)
  float* delta;         // IDM exponent (randomised per vehicle)
  float* lane_timer;    // s since the last MOBIL decision
  std::int32_t* target_lane;
  float* accel;  // m/s^2, the ego's held continuous command
  float* steer;  // rad, the ego's held continuous command
};

struct State {
  std::int32_t vehicles;
  DeviceArray<float> x, y, heading, speed, target_speed, delta, lane_timer;
  DeviceArray<std::int32_t> target_lane;
  DeviceArray<float> accel, steer;  // (num_envs)
  State(const Device& d, std::int64_t n, std::int32_t v)
      : vehicles(v),
        x(d, n * v),
        y(d, n * v),
        heading(d, n * v),
        speed(d, n * v),
        target_speed(d, n * v),
        delta(d, n * v),
        lane_timer(d, n * v),
        target_lane(d, n * v),
        accel(d, n),
        steer(d, n) {}
  // every array, for the engine's snapshots (read_state leaves out delta, the timers and
  // the held commands)
  template <class F>
  void for_each_array(F&& f) {
    f(x);
    f(y);
    f(heading);
    f(speed);
    f(target_speed);
    f(delta);
    f(lane_timer);
    f(target_lane);
    f(accel);
    f(steer);
  }
  View view() {
    return {vehicles,       x.data(),          y.data(),
            heading.data(), speed.data(),      target_speed.data(),
            delta.data(),   lane_timer.data(), target_lane.data(),
            accel.data(),   steer.data()};
  }
};

CONVOY_HD_INLINE std::int32_t lane_of(float y, std::int32_t lanes) {
  std::int32_t k = static_cast<std::int32_t>(floorf(y / kLaneWidth + 0.5f));
  return k < 0 ? 0 : (k >= lanes ? lanes - 1 : k);
}

CONVOY_HD_INLINE float clampf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

CONVOY_HD_INLINE float not_zero(float v) {
  return fabsf(v) > 1e-2f ? v : (v >= 0.0f ? 1e-2f : -1e-2f);
}

// ControlledVehicle.steering_control on a straight lane (lane heading 0): a lateral P
// controller gives a heading reference, a heading P controller a yaw rate, inverted through
// the bicycle model to a wheel angle.
CONVOY_HD_INLINE float steering_control(float y, float heading, float speed, std::int32_t lane) {
  const float lateral = y - lane * kLaneWidth;
  // settled in the lane: the controller's answer is 0 to within 1e-4 rad; skipping its five
  // transcendental calls is most of a traffic car's frame (measured: see BENCHMARKS.md)
  if (fabsf(lateral) < 1e-3f && fabsf(heading) < 1e-4f) return 0.0f;
  const float lateral_speed_command = -(1.0f / kTauLateral) * lateral;
  const float heading_command = asinf(clampf(lateral_speed_command / not_zero(speed), -1, 1));
  const float heading_ref = clampf(heading_command, -0.7853981633974483f, 0.7853981633974483f);
  const float heading_rate = (1.0f / kTauHeading) * physics::wrap_angle(heading_ref - heading);
  const float slip = asinf(clampf(kLength / 2 / not_zero(speed) * heading_rate, -1, 1));
  // atan(2 tan(slip)) as atan2: at slip = asin(1) float's tan(pi/2) is a huge NEGATIVE number
  // (float pi/2 lies just above the true one) and would steer the wrong way
  return clampf(atan2f(2 * sinf(slip), cosf(slip)), -kMaxSteering, kMaxSteering);
}

// MDPVehicle.speed_to_index over target speeds 20, 25, 30.
CONVOY_HD_INLINE std::int32_t speed_index(float speed) {
  const float x = (speed - 20.0f) / 10.0f;
  std::int32_t k = static_cast<std::int32_t>(rintf(x * 2.0f));
  return k < 0 ? 0 : (k > 2 ? 2 : k);
}

constexpr int kMaxVehicles = 208;  // per-frame scratch size; read_params caps vehicles at 201
constexpr int kMaxLanes = 10;      // read_params caps lanes at 10

// front_of[v][d] / rear_of[v][d]: the nearest vehicle ahead of (at or ahead) / behind v in lane
// lane[v] + d - 1, or -1; what Road.neighbour_vehicles answers, for every vehicle at once.
CONVOY_HD_INLINE void neighbour_tables(const std::int32_t* lane, const float* x, std::int32_t n,
                                       std::int32_t lanes, std::int32_t (*front_of)[3],
                                       std::int32_t (*rear_of)[3]) {
  // Leaders and followers of every vehicle in its own and both side lanes, from one sort by
  // x: Road.neighbour_vehicles for all at once instead of a scan of all per query (the
  // scans were 60% of a frame). Sort order is by (x, index); the scene barely changes
  // between frames, so insertion sort runs in about n steps.
  std::int32_t order[kMaxVehicles];
  for (std::int32_t v = 0; v < n; ++v) {
    std::int32_t j = v;
    while (j > 0 && x[order[j - 1]] > x[v]) {
      order[j] = order[j - 1];
      --j;
    }
    order[j] = v;
  }
  std::int32_t last[kMaxLanes];
  for (std::int32_t l = 0; l < lanes; ++l) last[l] = -1;
  for (std::int32_t k = n - 1; k >= 0; --k) {  // from the front: last[l] is the nearest ahead
    const std::int32_t v = order[k];
    for (int d = 0; d < 3; ++d) {
      const std::int32_t l = lane[v] + d - 1;
      front_of[v][d] = (l >= 0 && l < lanes) ? last[l] : -1;
    }
    last[lane[v]] = v;
  }
  for (std::int32_t l = 0; l < lanes; ++l) last[l] = -1;
  for (std::int32_t k = 0; k < n; ++k) {  // from the back: last[l] is the nearest behind
    const std::int32_t v = order[k];
    for (int d = 0; d < 3; ++d) {
      const std::int32_t l = lane[v] + d - 1;
      rear_of[v][d] = (l >= 0 && l < lanes) ? last[l] : -1;
    }
    last[lane[v]] = v;
  }
}

CONVOY_HD_INLINE bool on_road(float y, std::int32_t lanes) {
  return y >= -kLaneWidth / 2 && y <= (lanes - 1) * kLaneWidth + kLaneWidth / 2;
}

}  // namespace highway

template <bool Discrete>
struct Highway {
  static constexpr const char* kName = "Highway-v0";
  static constexpr const char* kDescription =
      "drive fast and right among IDM/MOBIL traffic on a multi-lane highway (highway-env's "
      "highway-fast-v0)";
  static constexpr int kMaxObserved = 32;
  // spaces are sized by config (observed_vehicles); the engine's obs_dim comes from the spec
  static constexpr int kObsDim = -1;
  static constexpr int kActDim = Discrete ? 1 : 2;
  static constexpr int kStateDim = -1;
  static constexpr bool kDiscrete = Discrete;

  using Params = highway::Params;
  using View = highway::View;
  struct State : highway::State {
    State(const Device& d, std::int64_t n, const Params& p) : highway::State(d, n, p.vehicles) {}
  };

  static Params read_params(ConfigReader& r) { return highway::read_params(r); }
  static int obs_dim(const Params& p) { return p.observed * highway::kFeatures; }
  static int state_dim(const Params& p) { return p.vehicles * 6; }
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
    float front = 0.0f;
    for (std::int32_t v = 0; v < s.vehicles; ++v) {
      const std::int64_t k = base + v;
      const bool ego = v == 0;
      const float speed =
          ego ? 25.0f : static_cast<float>(rng.uniform(0.7 * kSpeedLimit, 0.8 * kSpeedLimit));
      const float spacing = ego ? p.ego_spacing : 1.0f / p.density;
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
    s.accel[i] = highway::clampf(a[0], -1, 1) * 5.0f;
    s.steer[i] = highway::clampf(a[1], -1, 1) * 0.7853981633974483f;
  }

  // One simulation frame of env i: every vehicle acts (IDM + MOBIL + lane keeping; the ego
  // by its action), then all move by highway-env's kinematic bicycle (Euler), then the ego
  // is checked against every other vehicle. Returns true when the ego crashed.
  CONVOY_HD static bool frame(const Params& p, const View& s, std::int64_t i) {
    using namespace highway;
    const std::int32_t n = s.vehicles;
    const std::int64_t base = i * n;
    float* x = s.x + base;
    float* y = s.y + base;
    float* heading = s.heading + base;
    float* speed = s.speed + base;
    float* target_speed = s.target_speed + base;
    std::int32_t* target_lane = s.target_lane + base;
    float* timer = s.lane_timer + base;
    float acc[kMaxVehicles], steer[kMaxVehicles];
    std::int32_t lane[kMaxVehicles];
    for (std::int32_t v = 0; v < n; ++v) lane[v] = lane_of(y[v], p.lanes);
    std::int32_t front_of[kMaxVehicles][3], rear_of[kMaxVehicles][3];  // lane - 1, lane, lane + 1
    highway::neighbour_tables(lane, x, n, p.lanes, front_of, rear_of);
    const physics::IdmParams<float> idm0 = physics::highway_env_idm<float>();
    const physics::MobilParams<float> mobil = physics::highway_env_mobil<float>();

    for (std::int32_t v = 0; v < n; ++v) {
      if (v == 0 && !Discrete && !p.autopilot) {
        acc[0] = s.accel[i];
        steer[0] = s.steer[i];
        continue;
      }
      if (v == 0 && !p.autopilot) {
        // MDPVehicle: P control towards the target speed and lane
        acc[0] = (1.0f / kTauAcc) * (target_speed[0] - speed[0]);
        steer[0] = steering_control(y[0], heading[0], speed[0], target_lane[0]);
        continue;
      }
      physics::IdmParams<float> idm = idm0;
      idm.delta = s.delta[base + v];
      // IDM behind the leader in the current lane
      std::int32_t front = front_of[v][1];
      const float self_a = physics::idm_acceleration_raw(idm, speed[v], target_speed[v], front >= 0,
                                                         front >= 0 ? x[front] - x[v] : 0.0f,
                                                         front >= 0 ? speed[front] : 0.0f);
      // MOBIL every LANE_CHANGE_DELAY, when not already changing lanes
      timer[v] += p.dt;
      if (target_lane[v] == lane[v] && physics::mobil_due(mobil, timer[v])) {
        timer[v] = 0.0f;
        for (int side = -1; side <= 1; side += 2) {
          const std::int32_t cand = lane[v] + side;
          if (cand < 0 || cand >= p.lanes) continue;
          if (mobil_change(idm, mobil, lane, x, speed, target_speed, n, v, cand, self_a,
                           front_of[v][side + 1], rear_of[v][side + 1])) {
            target_lane[v] = cand;
            break;
          }
        }
      }
      float a = self_a;
      if (target_lane[v] != lane[v]) {
        // a lane change is under way: target_lane is lane +- 1 (MOBIL sets it only from the
        // lane the car is in, and the car's closest lane moves one at a time)
        const std::int32_t d = target_lane[v] - lane[v] + 1;
        front = (d >= 0 && d <= 2) ? front_of[v][d] : -1;
        if (front >= 0) {
          a = fminf(a, physics::idm_acceleration_raw(idm, speed[v], target_speed[v], true,
                                                     x[front] - x[v], speed[front]));
        }
      }
      acc[v] = clampf(a, -idm.acc_clip, idm.acc_clip);
      // traffic does not reverse: with collision checks off (as highway-fast-v0) two cars can
      // overlap and IDM then brakes without bound (a deviation from highway-env, whose cars
      // can then roll backwards and flip the lane keeper's sign)
      acc[v] = fmaxf(acc[v], -speed[v] / p.dt);
      steer[v] = steering_control(y[v], heading[v], speed[v], target_lane[v]);
    }

    // Vehicle.clip_actions + Vehicle.step: kinematic bicycle about the centre (l_r = L / 2)
    const physics::VehicleParams<float> car = physics::highway_env_car<float>();
    for (std::int32_t v = 0; v < n; ++v) {
      float a = acc[v];
      if (speed[v] > kMaxSpeed) a = fminf(a, kMaxSpeed - speed[v]);
      if (speed[v] < -kMaxSpeed) a = fmaxf(a, -kMaxSpeed - speed[v]);
      if (steer[v] == 0.0f) {
        // wheels straight: no slip and no yaw, the bicycle model moves along the heading
        if (heading[v] == 0.0f) {
          x[v] += speed[v] * p.dt;
        } else {
          x[v] += speed[v] * cosf(heading[v]) * p.dt;
          y[v] += speed[v] * sinf(heading[v]) * p.dt;
        }
        speed[v] += a * p.dt;
        continue;
      }
      const float state[4] = {x[v], y[v], heading[v], speed[v]};
      const float u[2] = {a, steer[v]};
      float d[4];
      physics::bicycle_derivative(car, state, u, d);
      x[v] += d[0] * p.dt;
      y[v] += d[1] * p.dt;
      heading[v] += d[2] * p.dt;
      speed[v] += d[3] * p.dt;
    }

    // ego-only collision checks (highway-fast-v0 disables the others')
    const physics::OrientedBox<float> ego{{x[0], y[0]}, {kLength / 2, kWidth / 2}, heading[0]};
    for (std::int32_t v = 1; v < n; ++v) {
      if (fabsf(x[v] - x[0]) > kLength + kWidth || fabsf(y[v] - y[0]) > kLength + kWidth) continue;
      const physics::OrientedBox<float> other{{x[v], y[v]}, {kLength / 2, kWidth / 2}, heading[v]};
      if (physics::box_box_overlap(ego, other)) return true;
    }
    return false;
  }

  // IDMVehicle.mobil for vehicle v moving to lane cand, given its current-lane acceleration and
  // its would-be leader and follower there.
  // With politeness 0 (highway-env's default) the gain is v's own, so the new follower is
  // only looked at for the safety check, and only when the gain is worth it: the same
  // decision as physics::mobil_should_change for a fraction of the IDM evaluations.
  CONVOY_HD static bool mobil_change(const physics::IdmParams<float>& idm,
                                     const physics::MobilParams<float>& mobil,
                                     const std::int32_t* lane, const float* x, const float* speed,
                                     const float* target_speed, std::int32_t n, std::int32_t v,
                                     std::int32_t cand, float self_a, std::int32_t new_front,
                                     std::int32_t new_rear) {
    if (mobil.politeness != 0.0f) {
      return physics::mobil_should_change(
          mobil, physics::mobil_accelerations(idm, lane, x, speed, target_speed, n, v, cand));
    }
    const float self_pred = physics::idm_acceleration_of(idm, x, speed, target_speed, v, new_front);
    if (!(self_pred - self_a >= mobil.min_acc_gain)) return false;
    const float new_following_pred =
        physics::idm_acceleration_of(idm, x, speed, target_speed, new_rear, v);
    return !(new_following_pred < -mobil.max_braking_imposed);
  }

  template <class Action>
  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, Action action,
                             float* reward, bool* terminated) {
    using namespace highway;
    if (!p.autopilot) apply_ego_action(p, s, i, action);
    bool crashed = false;
    for (std::int32_t f = 0; f < p.substeps && !crashed; ++f) crashed = frame(p, s, i);
    const std::int64_t k = i * s.vehicles;
    const bool road = on_road(s.y[k], p.lanes);
    // HighwayEnv._rewards / _reward
    const std::int32_t lane =
        (Discrete || p.autopilot) ? s.target_lane[k] : lane_of(s.y[k], p.lanes);
    const float right = p.lanes > 1 ? static_cast<float>(lane) / (p.lanes - 1) : 0.0f;
    const float forward = s.speed[k] * cosf(s.heading[k]);
    const float fast = clampf((forward - p.speed_low) / (p.speed_high - p.speed_low), 0, 1);
    float r = p.collision_reward * (crashed ? 1.0f : 0.0f) + p.right_lane_reward * right +
              p.high_speed_reward * fast;
    if (p.normalize_reward) {
      const float lo = p.collision_reward, hi = p.high_speed_reward + p.right_lane_reward;
      r = (r - lo) / (hi - lo);
    }
    *reward = r * (road ? 1.0f : 0.0f);
    *terminated = crashed || (p.offroad_terminal && !road);
  }

  // KinematicObservation with features presence, x, y, vx, vy, cos_h, sin_h.
  CONVOY_HD static void observe(const Params& p, const View& s, std::int64_t i, float* obs) {
    using namespace highway;
    const std::int32_t n = s.vehicles;
    const std::int64_t base = i * n;
    const float ex = s.x[base], ey = s.y[base];
    const float evx = s.speed[base] * cosf(s.heading[base]);
    const float evy = s.speed[base] * sinf(s.heading[base]);
    const float y_scale = kLaneWidth * p.lanes;
    for (int j = 0; j < p.observed * kFeatures; ++j) obs[j] = 0.0f;
    auto write = [&](int row, float px, float py, float vx, float vy, float h) {
      float* o = obs + row * kFeatures;
      o[0] = 1.0f;
      o[1] = clampf(px / 100.0f, -1, 1);
      o[2] = clampf(py / y_scale, -1, 1);
      o[3] = clampf(vx / 80.0f, -1, 1);
      o[4] = clampf(vy / 80.0f, -1, 1);
      o[5] = cosf(h);
      o[6] = sinf(h);
    };
    write(0, ex, ey, evx, evy, s.heading[base]);
    // the observed-1 nearest others within perception, not more than 2 lengths behind
    float last = -1.0f;
    std::int32_t last_v = -1;
    for (int row = 1; row < p.observed; ++row) {
      float best = kPerception * kPerception;
      std::int32_t pick = -1;
      for (std::int32_t v = 1; v < n; ++v) {
        const float dx = s.x[base + v] - ex, dy = s.y[base + v] - ey;
        if (dx < -2 * kLength) continue;
        const float d2 = dx * dx + dy * dy;
        // next in (distance, index) order after the last row written
        const bool after = d2 > last || (d2 == last && v > last_v);
        if (after && (d2 < best || (d2 == best && (pick < 0 || v < pick)))) {
          best = d2;
          pick = v;
        }
      }
      if (pick < 0) break;
      last = best;
      last_v = pick;
      const float h = s.heading[base + pick];
      write(row, s.x[base + pick] - ex, s.y[base + pick] - ey, s.speed[base + pick] * cosf(h) - evx,
            s.speed[base + pick] * sinf(h) - evy, h);
    }
  }

  // State exchange for tests: per vehicle [x, y, heading, speed, target_speed, target_lane].
  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    for (std::int32_t v = 0; v < s.vehicles; ++v) {
      const std::int64_t k = i * s.vehicles + v;
      double* o = out + v * 6;
      o[0] = s.x[k];
      o[1] = s.y[k];
      o[2] = s.heading[k];
      o[3] = s.speed[k];
      o[4] = s.target_speed[k];
      o[5] = s.target_lane[k];
    }
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    for (std::int32_t v = 0; v < s.vehicles; ++v) {
      const std::int64_t k = i * s.vehicles + v;
      const double* o = in + v * 6;
      s.x[k] = static_cast<float>(o[0]);
      s.y[k] = static_cast<float>(o[1]);
      s.heading[k] = static_cast<float>(o[2]);
      s.speed[k] = static_cast<float>(o[3]);
      s.target_speed[k] = static_cast<float>(o[4]);
      s.target_lane[k] = static_cast<std::int32_t>(o[5]);
    }
  }
};

}  // namespace convoy::envs
