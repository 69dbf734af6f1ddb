// Parking-v0: park a car in a given spot of a parking lot, after highway-env's parking-v0
// (HighwayEnv 1.x: highway_env/envs/parking_env.py). A goal-conditioned task: the flat
// observation is highway-env's KinematicsGoal dict laid end to end,
//   obs[0:6]   observation    [x, y, vx, vy, cos h, sin h] of the ego, scaled by
//                             [100, 100, 5, 5, 1, 1] (absolute, not clipped)
//   obs[6:12]  achieved_goal  the same six numbers (as highway-env: the ego is the achieved goal)
//   obs[12:18] desired_goal   the goal spot's centre and heading, velocity 0
// so a goal-relabelling learner (HER) slices it and recomputes rewards with compute_reward.
//
// Lot (highway-env's _create_road with `spots` per row): two rows of spots 4 m wide and 8 m
// deep, facing each other across a 20 m aisle; spot k of the lower row (y > 0, highway-env's
// screen frame) runs from y = 10 to 18 at x = 4 (k + 1 - spots / 2) - 2, the upper row is
// its mirror (y from -10 to -18). Walls (1 m thick) enclose [-35, 35] x [-21, 21]. The ego
// starts at the origin, at rest, heading uniform in [0, 2 pi); the goal is a random spot; the
// parked cars (optional, `vehicles`) stand in other random spots, centred.
//
// Dynamics: highway-env's kinematic bicycle (physics/vehicle.h's highway_env_car, Euler),
// continuous [acceleration, steering] in [-1, 1]^2 -> +-5 m/s^2, +-pi/4, held for
// simulation_frequency / policy_frequency frames of 1 / simulation_frequency s.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "physics/collision.h"
#include "physics/math.h"
#include "physics/vehicle.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/error.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"
#include "sim/vec_env.h"

namespace convoy::envs {

namespace parking {

constexpr int kFeatures = 6;         // x, y, vx, vy, cos h, sin h
constexpr int kMaxSpotsPerRow = 14;  // highway-env's default lot, which the walls enclose
constexpr float kSpotWidth = 4.0f;   // m
constexpr float kSpotLength = 8.0f;  // m
constexpr float kAisleHalf = 10.0f;  // m, spots start at |y| = 10
constexpr float kWallHalfX = 35.0f;  // m, walls at x = +-35
constexpr float kWallHalfY = 21.0f;  // m, walls at y = +-21
constexpr float kWallThick = 1.0f;   // m
constexpr float kMaxSpeed = 40.0f;   // Vehicle.MAX_SPEED
constexpr float kMaxSteer = 0.7853981633974483f;  // pi/4
constexpr float kMaxAccel = 5.0f;

// Where the fields sit in the exchanged state (read_state), for renderers and tests: the ego
// (pose, speed, size, goal spot), then per parked car its spot and size.
struct StateLayout {
  static constexpr int kX = 0, kY = 1, kHeading = 2, kSpeed = 3, kLength = 4, kWidth = 5, kGoal = 6;
  static constexpr int kEgoFields = 7, kCarFields = 3;
  CONVOY_HD static constexpr int spot(int v) { return kEgoFields + kCarFields * v; }
  CONVOY_HD static constexpr int car_length(int v) { return spot(v) + 1; }
  CONVOY_HD static constexpr int car_width(int v) { return spot(v) + 2; }
  static constexpr int size(int parked) { return kEgoFields + kCarFields * parked; }
};

struct Params {
  std::int32_t max_episode_steps = 500;  // duration x policy frequency
  std::int32_t substeps = 3;             // simulation frames per policy step
  float dt = 1.0f / 15.0f;               // s per frame
  std::int32_t spots = 14;               // per row
  std::int32_t parked = 0;               // parked cars
  float collision_reward = -5.0f;
  float success_goal_reward = 0.12f;
  float weights[kFeatures] = {1.0f, 0.3f, 0.0f, 0.0f, 0.02f, 0.02f};  // reward_weights
  float length_low = 5.0f, length_high = 5.0f;  // m, car length drawn per car and episode
  float width_low = 2.0f, width_high = 2.0f;    // m
  bool autopilot = false;  // the scripted parking controller drives; actions are ignored
};

inline Params read_params(ConfigReader& r) {
  Params p;
  const double duration = r.real("duration", 100.0, 1.0, 3600.0, "episode length, s");
  const double sim_hz = r.real("simulation_frequency", 15.0, 1.0, 100.0, "physics frames per s");
  const double policy_hz = r.real("policy_frequency", 5.0, 0.1, 100.0, "actions per s");
  p.spots = static_cast<std::int32_t>(
      r.integer("spots", 14, 1, kMaxSpotsPerRow, "parking spots per row (two rows)"));
  p.parked = static_cast<std::int32_t>(r.integer("vehicles", 0, 0, 2 * kMaxSpotsPerRow - 1,
                                                 "parked cars (vehicles_count), in random spots"));
  p.collision_reward = static_cast<float>(
      r.real("collision_reward", -5.0, -100.0, 0.0, "added on hitting a parked car or a wall"));
  p.success_goal_reward = static_cast<float>(
      r.real("success_goal_reward", 0.12, 1e-4, 1.0,
             "success tolerance: parked when -compute_reward(achieved, desired) < this"));
  p.length_low = static_cast<float>(r.real("length_low", 5.0, 3.0, kSpotLength, "car length, m"));
  p.length_high = static_cast<float>(r.real("length_high", 5.0, 3.0, kSpotLength, "car length, m"));
  p.width_low = static_cast<float>(r.real("width_low", 2.0, 1.0, 3.5, "car width, m"));
  p.width_high = static_cast<float>(r.real("width_high", 2.0, 1.0, 3.5, "car width, m"));
  p.autopilot = r.choice("ego_policy", "agent", {"agent", "autopilot"},
                         "who drives: the actions, or the scripted baseline (K-turn to face "
                         "along the aisle, drive to the turn-in point, turn in, pure pursuit "
                         "into the spot; actions are then ignored)") == "autopilot";
  const double ratio = std::floor(sim_hz / policy_hz + 1e-9);
  if (ratio < 1) {
    throw Error("Parking-v0: policy_frequency=" + std::to_string(policy_hz) +
                " exceeds simulation_frequency=" + std::to_string(sim_hz) +
                "; allowed: policy_frequency <= simulation_frequency");
  }
  p.substeps = static_cast<std::int32_t>(ratio);
  p.dt = static_cast<float>(1.0 / sim_hz);
  p.max_episode_steps = static_cast<std::int32_t>(std::ceil(duration * policy_hz - 1e-9));
  if (p.parked > 2 * p.spots - 1) {
    throw Error("Parking-v0: vehicles=" + std::to_string(p.parked) +
                " do not fit in spots=" + std::to_string(p.spots) +
                " per row beside the goal; allowed: at most " + std::to_string(2 * p.spots - 1));
  }
  if (p.length_high < p.length_low) {
    throw Error("Parking-v0: length_high=" + std::to_string(p.length_high) +
                " is below length_low=" + std::to_string(p.length_low) +
                "; allowed: length_high >= length_low");
  }
  if (p.width_high < p.width_low) {
    throw Error("Parking-v0: width_high=" + std::to_string(p.width_high) + " is below width_low=" +
                std::to_string(p.width_low) + "; allowed: width_high >= width_low");
  }
  if (p.width_high >= p.length_low) {
    throw Error("Parking-v0: width_high=" + std::to_string(p.width_high) +
                " is not below length_low=" + std::to_string(p.length_low) +
                "; allowed: cars longer than they are wide");
  }
  return p;
}

// Spot k of 2 x spots: row k / spots (0: y > 0, facing +y; 1: y < 0, facing -y), column
// k % spots. Centre and heading of the car parked in it.
CONVOY_HD_INLINE void spot_pose(std::int32_t spots, std::int32_t k, float* x, float* y, float* h) {
  const std::int32_t row = k / spots, col = k % spots;
  *x = static_cast<float>((col + 1 - spots / 2) * 4 - 2);
  const float side = row == 0 ? 1.0f : -1.0f;
  *y = side * (kAisleHalf + kSpotLength / 2);
  *h = side * 1.5707963267948966f;
}

// Per-env state (num_envs) unless noted.
struct View {
  std::int32_t parked;
  float* x;              // m, ego centre
  float* y;              // m
  float* heading;        // rad
  float* speed;          // m/s
  float* length;         // m, ego size
  float* width;          // m
  std::int32_t* goal;    // goal spot index
  std::uint8_t* status;  // EpisodeOutcome reached this step (0 while the episode runs)
  std::uint8_t* phase;   // autopilot's stage
  std::int8_t* gear;     // autopilot's direction in its K-turn: +1 forward, -1 reverse
  std::int32_t* spot;    // (num_envs x parked) spot of each parked car
  float* car_length;     // (num_envs x parked) m
  float* car_width;      // (num_envs x parked) m
};

struct State {
  std::int32_t parked;
  DeviceArray<float> x, y, heading, speed, length, width;
  DeviceArray<std::int32_t> goal;
  DeviceArray<std::uint8_t> status, phase;
  DeviceArray<std::int8_t> gear;
  DeviceArray<std::int32_t> spot;
  DeviceArray<float> car_length, car_width;
  State(const Device& d, std::int64_t n, std::int32_t parked_cars)
      : parked(parked_cars),
        x(d, n),
        y(d, n),
        heading(d, n),
        speed(d, n),
        length(d, n),
        width(d, n),
        goal(d, n),
        status(d, n),
        phase(d, n),
        gear(d, n),
        spot(d, n * parked_cars),
        car_length(d, n * parked_cars),
        car_width(d, n * parked_cars) {}
  View view() {
    return {parked,        x.data(),     y.data(),          heading.data(),  speed.data(),
            length.data(), width.data(), goal.data(),       status.data(),   phase.data(),
            gear.data(),   spot.data(),  car_length.data(), car_width.data()};
  }
};

// Pure pursuit for highway-env's bicycle (reference point midway between the axles): the
// steering angle whose circle passes through a target `dist` m away at `alpha` rad from the
// direction of travel, for a car of length `len`; reverse = driving backwards.
CONVOY_HD_INLINE float pursuit_steer(float alpha, float dist, float len, bool reverse) {
  const float sin_beta_max = 0.4472135954999579f;  // sin(atan(tan(pi/4) / 2))
  const float kappa = 2.0f * sinf(alpha) / fmaxf(dist, 1e-3f);
  float sin_beta = physics::clamp(kappa * len / 2, -sin_beta_max, sin_beta_max);
  if (reverse) sin_beta = -sin_beta;
  const float beta = asinf(sin_beta);
  return atanf(2.0f * tanf(beta));
}

}  // namespace parking

struct Parking {
  static constexpr const char* kName = "Parking-v0";
  static constexpr const char* kDescription =
      "park a car in a goal spot of a lot (highway-env's parking-v0; goal-conditioned: obs = "
      "observation | achieved_goal | desired_goal)";
  static constexpr int kObsDim = 3 * parking::kFeatures;
  static constexpr int kActDim = 2;
  static constexpr int kStateDim = -1;
  static constexpr bool kDiscrete = false;
  static constexpr bool kHasOutcome = true;
  // the scripted baseline `convoy eval` compares with (ego_policy reads it)
  static constexpr const char* kBaseline = "ego_policy=autopilot";
  // obs slices for goal relabelling
  static constexpr int kObservationOffset = 0, kAchievedGoalOffset = 6, kDesiredGoalOffset = 12;

  using Params = parking::Params;
  using View = parking::View;
  struct State : parking::State {
    State(const Device& d, std::int64_t n, const Params& p) : parking::State(d, n, p.parked) {}
  };

  static Params read_params(ConfigReader& r) { return parking::read_params(r); }
  // [x, y, heading, speed, length, width, goal spot, then per parked car: spot, length, width]
  static int state_dim(const Params& p) { return parking::StateLayout::size(p.parked); }
  static Space observation_space(const Params&) {
    std::vector<float> lo, hi;
    for (int part = 0; part < 3; ++part) {
      for (float b : {1.0f, 1.0f, 8.0f, 8.0f, 1.0f, 1.0f}) {
        lo.push_back(-b);
        hi.push_back(b);
      }
    }
    return Space::box(lo, hi);
  }
  static Space action_space(const Params&) { return Space::box({-1.0f, -1.0f}, {1.0f, 1.0f}); }
  static double reward_threshold(const Params&) { return std::numeric_limits<double>::quiet_NaN(); }

  // highway-env's compute_reward with p = 0.5: -(sum_k w_k |achieved_k - desired_k|)^0.5 over
  // the six scaled features (the collision term is added by step, not here).
  CONVOY_HD static float compute_reward(const float* achieved, const float* desired,
                                        const Params& p) {
    float d = 0.0f;
    for (int k = 0; k < parking::kFeatures; ++k)
      d += p.weights[k] * fabsf(achieved[k] - desired[k]);
    return -sqrtf(d);
  }

  CONVOY_HD static void reset(const Params& p, const View& s, std::int64_t i, PhiloxStream& rng) {
    using namespace parking;
    s.x[i] = 0.0f;
    s.y[i] = 0.0f;
    s.heading[i] = 6.283185307179586f * rng.uniform_float();
    s.speed[i] = 0.0f;
    s.length[i] = p.length_low + (p.length_high - p.length_low) * rng.uniform_float();
    s.width[i] = p.width_low + (p.width_high - p.width_low) * rng.uniform_float();
    s.status[i] = 0;
    s.phase[i] = 0;
    s.gear[i] = 1;
    // goal and parked cars: distinct spots, a partial Fisher-Yates shuffle
    std::int32_t order[2 * kMaxSpotsPerRow];
    const std::int32_t n_spots = 2 * p.spots;
    for (std::int32_t k = 0; k < n_spots; ++k) order[k] = k;
    for (std::int32_t k = 0; k <= s.parked && k < n_spots; ++k) {
      const std::int32_t j =
          k + static_cast<std::int32_t>(rng.below(static_cast<std::uint32_t>(n_spots - k)));
      const std::int32_t t = order[k];
      order[k] = order[j];
      order[j] = t;
    }
    s.goal[i] = order[0];
    for (std::int32_t v = 0; v < s.parked; ++v) {
      const std::int64_t k = i * s.parked + v;
      s.spot[k] = order[v + 1];
      s.car_length[k] = p.length_low + (p.length_high - p.length_low) * rng.uniform_float();
      s.car_width[k] = p.width_low + (p.width_high - p.width_low) * rng.uniform_float();
    }
  }

  // True when the ego touches a wall or a parked car (or has left the lot).
  CONVOY_HD static bool collides(const Params& p, const View& s, std::int64_t i) {
    using namespace parking;
    const float x = s.x[i], y = s.y[i];
    if (fabsf(x) >= kWallHalfX || fabsf(y) >= kWallHalfY) return true;
    const physics::OrientedBox<float> ego{{x, y}, {s.length[i] / 2, s.width[i] / 2}, s.heading[i]};
    const physics::OrientedBox<float> walls[4] = {
        {{0.0f, -kWallHalfY}, {kWallHalfX, kWallThick / 2}, 0.0f},
        {{0.0f, kWallHalfY}, {kWallHalfX, kWallThick / 2}, 0.0f},
        {{-kWallHalfX, 0.0f}, {kWallThick / 2, kWallHalfY}, 0.0f},
        {{kWallHalfX, 0.0f}, {kWallThick / 2, kWallHalfY}, 0.0f}};
    for (int w = 0; w < 4; ++w) {
      if (physics::box_box_overlap(ego, walls[w])) return true;
    }
    for (std::int32_t v = 0; v < s.parked; ++v) {
      const std::int64_t k = i * s.parked + v;
      float cx, cy, ch;
      spot_pose(p.spots, s.spot[k], &cx, &cy, &ch);
      if (fabsf(cx - x) > 10.0f || fabsf(cy - y) > 10.0f) continue;
      const physics::OrientedBox<float> car{
          {cx, cy}, {s.car_length[k] / 2, s.car_width[k] / 2}, ch};
      if (physics::box_box_overlap(ego, car)) return true;
    }
    return false;
  }

  // The scripted baseline, as a normalised action [acceleration, steering]. Stages:
  // 0 K-turn until the car faces along the aisle towards the goal's side, 1 drive (forward
  // or back) along the aisle's centre line to the turn-in point, from which a quarter turn at
  // full lock ends in the goal's column (arriving there not yet straight, back up 10 m and
  // come again), 2 that turn, 3 pure pursuit along the spot's axis
  // to its centre, 4 (when stopped there out of tolerance) back out along it and retry.
  CONVOY_HD static void autopilot_action(const Params& p, const View& s, std::int64_t i, float* a) {
    using namespace parking;
    using physics::wrap_angle;
    const float x = s.x[i], y = s.y[i], h = s.heading[i], v = s.speed[i], len = s.length[i];
    float gx, gy, gh;
    spot_pose(p.spots, s.goal[i], &gx, &gy, &gh);
    const float radius = len / 2 / 0.4472135954999579f;  // tightest turn of the centre
    const float sx = gx >= 0.0f ? 1.0f : -1.0f;          // drive along the aisle this way
    const float aisle_h = sx > 0.0f ? 0.0f : 3.141592653589793f;
    // full lock turns the centre's velocity by beta at once, so a quarter turn at full lock
    // moves the centre radius (cos beta - sin beta) = length / 2 across the aisle
    const float turn_x = gx - sx * radius * (0.8944271909999159f - 0.4472135954999579f);
    const float lookahead = 4.0f;
    float v_target = 0.0f, steer = 0.0f;
    if (s.phase[i] == 0) {
      const float err = wrap_angle(aisle_h - h);
      if (fabsf(err) < 0.1f) {
        s.phase[i] = 1;
        s.gear[i] = 1;
      } else {
        // switch gear before leaving the band |y| < 4, |x| < 28 around the lot's centre
        const float dir = static_cast<float>(s.gear[i]);
        if ((fabsf(y) > 4.0f && dir * sinf(h) * y > 0.0f) ||
            (fabsf(x) > 28.0f && dir * cosf(h) * x > 0.0f)) {
          s.gear[i] = static_cast<std::int8_t>(-s.gear[i]);
        }
        const float g = static_cast<float>(s.gear[i]);
        steer = g * (err > 0.0f ? kMaxSteer : -kMaxSteer);
        v_target = 1.5f * g;
      }
    }
    if (s.phase[i] == 1) {
      const float e = sx * (turn_x - x);  // still to go along the aisle
      const bool aligned = fabsf(y) < 1.5f && fabsf(wrap_angle(aisle_h - h)) < 0.12f;
      if (fabsf(e) < 0.25f && fabsf(v) < 0.6f && aligned) {
        s.phase[i] = 2;
      } else {
        // too close to the turn-in point to straighten out first: back up 10 m and return
        if (s.gear[i] > 0 && e < 2.0f && !aligned) s.gear[i] = -1;
        if (s.gear[i] < 0 && e > 9.5f) s.gear[i] = 1;
        v_target = physics::clamp(s.gear[i] > 0 ? e : e - 10.0f, -2.5f, 2.5f);
        if (v_target >= 0.0f || s.gear[i] > 0) {
          const bool reverse = v_target < 0.0f;
          const float tx = x + (reverse ? -sx : sx) * lookahead;
          const float alpha = wrap_angle(atan2f(-y, tx - x) - h - (reverse ? 3.1415927f : 0.0f));
          steer = pursuit_steer(alpha, sqrtf(lookahead * lookahead + y * y), len, reverse);
        }  // backing up: straight back, the pursuit forwards straightens the car
      }
    }
    if (s.phase[i] == 2) {
      const float err = wrap_angle(gh - h);
      if (fabsf(err) < 0.1f) {
        s.phase[i] = 3;
      } else {
        steer = wrap_angle(gh - aisle_h) > 0.0f ? kMaxSteer : -kMaxSteer;
        v_target = 1.5f;
      }
    }
    if (s.phase[i] >= 3) {
      // along the spot's axis: forwards to the centre (3); stopped there but not parked,
      // back out along the axis into the aisle (4) and try again
      const float ux = cosf(gh), uy = sinf(gh);
      const float along = (x - gx) * ux + (y - gy) * uy;  // < 0 before the centre
      if (s.phase[i] == 3 && along > -0.5f && fabsf(v) < 0.2f) s.phase[i] = 4;
      if (s.phase[i] == 4 && along < -8.0f) s.phase[i] = 3;
      const bool reverse = s.phase[i] == 4;
      const float ahead = along + (reverse ? -lookahead : lookahead);
      const float tx = gx + ux * ahead, ty = gy + uy * ahead;
      const float alpha = wrap_angle(atan2f(ty - y, tx - x) - h - (reverse ? 3.1415927f : 0.0f));
      steer = pursuit_steer(alpha, sqrtf((tx - x) * (tx - x) + (ty - y) * (ty - y)), len, reverse);
      v_target = reverse ? -1.5f : physics::clamp(-along, 0.0f, 2.0f);
    }
    a[0] = physics::clamp(3.0f * (v_target - v) / kMaxAccel, -1.0f, 1.0f);
    a[1] = physics::clamp(steer / kMaxSteer, -1.0f, 1.0f);
  }

  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, const float* action,
                             float* reward, bool* terminated) {
    using namespace parking;
    // actions: ContinuousAction's scaling, held for the policy step
    float a[2] = {action[0], action[1]};
    if (p.autopilot) autopilot_action(p, s, i, a);
    const float accel = physics::clamp(a[0], -1.0f, 1.0f) * kMaxAccel;
    const float steer = physics::clamp(a[1], -1.0f, 1.0f) * kMaxSteer;
    // dynamics (Vehicle.step, Euler), collisions checked every frame as Road.step does
    const physics::VehicleParams<float> car = physics::highway_env_car<float>();
    bool crashed = false;
    for (std::int32_t f = 0; f < p.substeps && !crashed; ++f) {
      float acc = accel;
      if (s.speed[i] > kMaxSpeed) acc = fminf(acc, kMaxSpeed - s.speed[i]);
      if (s.speed[i] < -kMaxSpeed) acc = fmaxf(acc, -kMaxSpeed - s.speed[i]);
      physics::VehicleParams<float> c = car;
      c.l_f = c.l_r = s.length[i] / 2;
      const float state[4] = {s.x[i], s.y[i], s.heading[i], s.speed[i]};
      const float u[2] = {acc, steer};
      float d[4];
      physics::bicycle_derivative(c, state, u, d);
      s.x[i] += d[0] * p.dt;
      s.y[i] += d[1] * p.dt;
      s.heading[i] += d[2] * p.dt;
      s.speed[i] += d[3] * p.dt;
      crashed = collides(p, s, i);
    }
    if (crashed) s.speed[i] = 0.0f;  // a crashed vehicle stops
    // reward and ends: ParkingEnv._reward / _is_success / _is_terminated
    float obs[3 * kFeatures];
    observe(p, s, i, obs);
    const float goal_reward =
        compute_reward(obs + kAchievedGoalOffset, obs + kDesiredGoalOffset, p);
    const bool success = goal_reward > -p.success_goal_reward;
    *reward = goal_reward + (crashed ? p.collision_reward : 0.0f);
    *terminated = crashed || success;
    s.status[i] = static_cast<std::uint8_t>(crashed   ? EpisodeOutcome::kCollision
                                            : success ? EpisodeOutcome::kSuccess
                                                      : EpisodeOutcome::kNone);
  }

  CONVOY_HD static std::uint8_t outcome(const Params&, const View& s, std::int64_t i) {
    return s.status[i];
  }

  CONVOY_HD static void observe(const Params& p, const View& s, std::int64_t i, float* obs) {
    using namespace parking;
    const float h = s.heading[i], c = cosf(h), sn = sinf(h);
    const float ego[kFeatures] = {s.x[i], s.y[i], s.speed[i] * c, s.speed[i] * sn, c, sn};
    float gx, gy, gh;
    spot_pose(p.spots, s.goal[i], &gx, &gy, &gh);
    const float goal[kFeatures] = {gx, gy, 0.0f, 0.0f, cosf(gh), sinf(gh)};
    const float scales[kFeatures] = {100.0f, 100.0f, 5.0f, 5.0f, 1.0f, 1.0f};  // KinematicsGoal
    for (int k = 0; k < kFeatures; ++k) {
      obs[kObservationOffset + k] = ego[k] / scales[k];
      obs[kAchievedGoalOffset + k] = ego[k] / scales[k];
      obs[kDesiredGoalOffset + k] = goal[k] / scales[k];
    }
  }

  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    using L = parking::StateLayout;
    out[L::kX] = s.x[i];
    out[L::kY] = s.y[i];
    out[L::kHeading] = s.heading[i];
    out[L::kSpeed] = s.speed[i];
    out[L::kLength] = s.length[i];
    out[L::kWidth] = s.width[i];
    out[L::kGoal] = s.goal[i];
    for (std::int32_t v = 0; v < s.parked; ++v) {
      const std::int64_t k = i * s.parked + v;
      out[L::spot(v)] = s.spot[k];
      out[L::car_length(v)] = s.car_length[k];
      out[L::car_width(v)] = s.car_width[k];
    }
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    using L = parking::StateLayout;
    s.x[i] = static_cast<float>(in[L::kX]);
    s.y[i] = static_cast<float>(in[L::kY]);
    s.heading[i] = static_cast<float>(in[L::kHeading]);
    s.speed[i] = static_cast<float>(in[L::kSpeed]);
    s.length[i] = static_cast<float>(in[L::kLength]);
    s.width[i] = static_cast<float>(in[L::kWidth]);
    s.goal[i] = static_cast<std::int32_t>(in[L::kGoal]);
    s.status[i] = 0;
    s.phase[i] = 0;
    s.gear[i] = 1;
    for (std::int32_t v = 0; v < s.parked; ++v) {
      const std::int64_t k = i * s.parked + v;
      s.spot[k] = static_cast<std::int32_t>(in[L::spot(v)]);
      s.car_length[k] = static_cast<float>(in[L::car_length(v)]);
      s.car_width[k] = static_cast<float>(in[L::car_width(v)]);
    }
  }
};

}  // namespace convoy::envs
