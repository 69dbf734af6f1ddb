// Merge-v0: the ego on a two-lane highway passes an on-ramp whose car has to merge into the
// right lane, after highway-env's merge-v0 (HighwayEnv 1.x: highway_env/envs/merge_env.py).
// Defaults: 15 Hz simulation, 1 Hz policy; the episode ends at a crash, off the road, or once
// the ego is past x = 370 m (with a 40 s cap highway-env does not have).
//
// Road (highway-env's frame, y to the right): lanes 0 and 1 at y = 0 and 4 from x = 0 to 460;
// the ramp (lane 2) runs at y = 14.5 to x = 150, converges along highway-env's half sine
// period to y = 8 at x = 230, then runs beside the right lane as an acceleration lane to
// x = 310, where a fixed obstacle (2 m x 2 m) closes it. Vehicles: the ego at x = 30 in the
// right lane at 30 m/s; three IDM/MOBIL cars near x = 90, 70 and 5 in random highway lanes at
// about 29-31.5 m/s; the merging car on the ramp at x = 110 at 20 m/s. Lanes are limited to
// 20 m/s (highway-env's default lane speed_limit), which IDM's target speed is clipped to.
//
// The frame is the traffic library's (physics/traffic_frame.h: traffic_frame, or its
// per-vehicle kernels step_batch with kernels=vehicle) with MergeRoad's answers about the road:
// ramp geometry for the lane keeper, MOBIL may only move a car from the acceleration lane to
// the right lane (the ego may also take the acceleration lane while beside it), and the
// obstacle is a stopped leader for cars in the acceleration lane.
//
// Reward (merge_env._rewards): collision_reward x crashed + right_lane_reward x lane +
// high_speed_reward x (speed - 20) / 10 + lane_change_reward x [action is a lane change] +
// merging_speed_reward x sum over cars in the acceleration lane of (target - speed) / target,
// mapped from [collision + merging_speed, high_speed + right_lane] to [0, 1].
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "envs/driving/highway.h"

namespace convoy::envs {

namespace merge {

constexpr float kConvergeStart = 150.0f;  // m, the ramp's S-bend begins (ends[0])
constexpr float kMergeStart = 230.0f;     // m, the acceleration lane begins (ends[0] + ends[1])
constexpr float kMergeEnd = 310.0f;       // m, the acceleration lane ends; the obstacle's x
constexpr float kRoadEnd = 370.0f;        // m, the episode ends once the ego is past it
constexpr float kRampY = 14.5f;           // m, the ramp before the bend (6.5 + 4 + 4)
constexpr float kAccelLaneY = 8.0f;       // m, the acceleration lane (lane 2)
constexpr float kAmplitude = 3.25f;       // m, SineLane amplitude
constexpr float kSpeedLimit = 20.0f;      // m/s, StraightLane's default speed_limit
constexpr float kMergingTarget = 30.0f;   // m/s, the merging car's target_speed
constexpr float kTauPursuit = 0.1f;       // s, ControlledVehicle.TAU_PURSUIT
constexpr float kObstacleSize = 2.0f;     // m, RoadObject LENGTH and WIDTH
constexpr std::int32_t kRampLane = 2;
constexpr std::int32_t kVehicles = 5;  // ego, three highway cars, the merging car

struct Params : highway::Params {
  float merging_speed_reward = -0.5f;
  float lane_change_reward = -0.05f;
};

inline Params read_params(ConfigReader& r) {
  Params p;
  p.lanes = 3;  // two highway lanes and the ramp
  p.vehicles = kVehicles;
  highway::read_driving_settings(r, "Merge-v0", {40.0, 15.0, 0.2, 4.0, 4.0}, &p);
  p.merging_speed_reward = static_cast<float>(
      r.real("merging_speed_reward", -0.5, -100.0, 0.0, "x the merging car's slowdown"));
  p.lane_change_reward =
      static_cast<float>(r.real("lane_change_reward", -0.05, -100.0, 0.0, "per lane change"));
  return p;
}

// Centre of the ramp (lane 2) at x: straight, then highway-env's SineLane
// y = 11.25 + 3.25 sin(pi (x - 150) / 80 + pi / 2), then the acceleration lane.
CONVOY_HD_INLINE float ramp_y(float x) {
  if (x < kConvergeStart) return kRampY;
  if (x >= kMergeStart) return kAccelLaneY;
  const float phase = physics::pi<float>() * (x - kConvergeStart) / (kMergeStart - kConvergeStart);
  return kAccelLaneY + kAmplitude + kAmplitude * cosf(phase);
}

// The ramp's heading at x (SineLane.heading_at): atan(dy/dx), 0 off the bend.
CONVOY_HD_INLINE float ramp_heading(float x) {
  if (x < kConvergeStart || x >= kMergeStart) return 0.0f;
  const float k = physics::pi<float>() / (kMergeStart - kConvergeStart);
  return atanf(-kAmplitude * k * sinf(k * (x - kConvergeStart)));
}

// merge-v0's road for the traffic frame (see physics::traffic::StraightRoad).
struct MergeRoad {
  CONVOY_HD static void lane_aim(const highway::Params& p, std::int32_t lane, float x, float y,
                                 float speed, float* lateral, float* lane_heading) {
    if (lane != kRampLane) {
      highway::StraightRoad::lane_aim(p, lane, x, y, speed, lateral, lane_heading);
      return;
    }
    *lateral = y - ramp_y(x);
    *lane_heading = ramp_heading(x + speed * kTauPursuit);
  }
  // the acceleration lane is the only place to leave the ramp; no car turns onto it
  CONVOY_HD static bool may_change(std::int32_t from, std::int32_t to, float x) {
    if (to == kRampLane) return false;
    if (from == kRampLane) return x >= kMergeStart && x < kMergeEnd;
    return true;
  }
  CONVOY_HD static bool obstacle(std::int32_t lane, float x, float* obstacle_x) {
    if (lane != kRampLane || x < kMergeStart || x >= kMergeEnd) return false;
    *obstacle_x = kMergeEnd;
    return true;
  }
  CONVOY_HD static bool ego_hits_object(const physics::OrientedBox<float>& ego) {
    const physics::OrientedBox<float> block{
        {kMergeEnd, kAccelLaneY}, {kObstacleSize / 2, kObstacleSize / 2}, 0.0f};
    return physics::box_box_overlap(ego, block);
  }
  // on one of the two highway lanes, or on the ramp before its end
  CONVOY_HD static bool on_road(float x, float y) {
    const float half = highway::kLaneWidth / 2;
    if (y >= -half && y <= highway::kLaneWidth + half) return true;
    return x >= 0.0f && x <= kMergeEnd && fabsf(y - ramp_y(x)) <= half;
  }
};

}  // namespace merge

template <bool Discrete>
struct Merge {
  static constexpr const char* kName = "Merge-v0";
  static constexpr const char* kDescription =
      "pass an on-ramp on a two-lane highway and let its car merge in (highway-env's merge-v0)";
  static constexpr int kObsDim = -1;
  static constexpr int kActDim = Discrete ? 1 : 2;
  static constexpr int kStateDim = -1;
  static constexpr bool kDiscrete = Discrete;
  static constexpr bool kHasOutcome = true;
  // the scripted baseline `convoy eval` compares with (ego_policy reads it)
  static constexpr const char* kBaseline = "ego_policy=autopilot";

  using Params = merge::Params;
  using View = highway::View;
  using Base = Highway<Discrete>;
  using Road = merge::MergeRoad;
  using BatchAction = std::conditional_t<Discrete, std::int32_t, float>;  // step_batch's
  struct State : highway::State {
    State(const Device& d, std::int64_t n, const Params& p) : highway::State(d, n, p) {}
  };

  static Params read_params(ConfigReader& r) { return merge::read_params(r); }
  static int obs_dim(const Params& p) { return Base::obs_dim(p); }
  static int state_dim(const Params& p) { return Base::state_dim(p); }
  static Space observation_space(const Params& p) { return Base::observation_space(p); }
  static Space action_space(const Params& p) { return Base::action_space(p); }
  static double reward_threshold(const Params&) { return std::numeric_limits<double>::quiet_NaN(); }

  // merge_env._make_vehicles: positions and speeds jittered by U(-5, 5) m and U(-1, 1) m/s,
  // highway cars in a random lane; IDM cars aim at their own speed, clipped to the limit.
  CONVOY_HD static void reset(const Params& p, const View& s, std::int64_t i, PhiloxStream& rng) {
    using namespace merge;
    const std::int64_t base = i * s.vehicles;
    const float start_x[kVehicles] = {30.0f, 90.0f, 70.0f, 5.0f, 110.0f};
    const float start_v[kVehicles] = {30.0f, 29.0f, 31.0f, 31.5f, 20.0f};
    for (std::int32_t v = 0; v < s.vehicles; ++v) {
      const std::int64_t k = base + v;
      const bool ego = v == 0, ramp = v == kVehicles - 1;
      float x = start_x[v], speed = start_v[v], y = highway::kLaneWidth;
      std::int32_t lane = 1;
      if (!ego && !ramp) {
        lane = static_cast<std::int32_t>(rng.below(2));
        y = lane * highway::kLaneWidth;
        x += static_cast<float>(rng.uniform(-5.0, 5.0));
        speed += static_cast<float>(rng.uniform(-1.0, 1.0));
      } else if (ramp) {
        lane = kRampLane;
        y = kRampY;
      }
      s.x[k] = x;
      s.y[k] = y;
      s.heading[k] = 0.0f;
      s.speed[k] = speed;
      s.target_speed[k] = ego ? speed : (speed < kSpeedLimit ? speed : kSpeedLimit);
      s.delta[k] = static_cast<float>(rng.uniform(p.idm_delta_low, p.idm_delta_high));
      s.lane_timer[k] = static_cast<float>(rng.uniform(0.0, 1.0));
      s.target_lane[k] = lane;
      highway::draw_vehicle_traits(p, s, k, ego, rng);
    }
    s.accel[i] = 0.0f;
    s.steer[i] = 0.0f;
  }

  // MDPVehicle.act; LANE_RIGHT reaches the acceleration lane only beside it.
  CONVOY_HD static void apply_ego_action(const Params& p, const View& s, std::int64_t i,
                                         std::int32_t a) {
    const std::int64_t k = i * s.vehicles;
    if (a == 0 || a == 2) {
      const std::int32_t from = s.target_lane[k], lane = from + (a == 0 ? -1 : 1);
      if (lane < 0 || lane > merge::kRampLane) return;
      const float x = s.x[k];
      const bool beside_ramp = x >= merge::kMergeStart && x < merge::kMergeEnd;
      if ((lane == merge::kRampLane || from == merge::kRampLane) && !beside_ramp) return;
      s.target_lane[k] = lane;
      return;
    }
    Base::apply_ego_action(p, s, i, a);
  }
  CONVOY_HD static void apply_ego_action(const Params& p, const View& s, std::int64_t i,
                                         const float* a) {
    Base::apply_ego_action(p, s, i, a);
  }

  template <class Action>
  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, Action action,
                             float* reward, bool* terminated) {
    highway::traffic_step<Merge>(p, s, i, action, reward, terminated);
  }

  // The per-vehicle kernels, as Highway-v0's (see Highway::step_batch).
  static bool step_batch_enabled(const Params& p, const Device& d) {
    return highway::vehicle_kernels(p, d);
  }
  static void step_batch(const Device& d, const Params& p, const View& s, State& st, std::int64_t n,
                         const BatchAction* actions, const std::uint8_t* skip, float* reward,
                         std::uint8_t* terminated) {
    highway::step_batch<Merge>(d, p, s, st.scratch, n, actions, skip, reward, terminated);
  }

  // The step's reward and termination from its end state (MergeEnv._rewards).
  template <class Action>
  CONVOY_FRAME_INLINE static void judge(const Params& p, const View& s, std::int64_t i,
                                        Action action, bool crashed, float* reward,
                                        bool* terminated) {
    using namespace merge;
    const std::int64_t k = i * s.vehicles;
    const std::int32_t lane = highway::lane_of(s.y[k], p.lanes);
    const float fast =
        physics::clamp((s.speed[k] - p.speed_low) / (p.speed_high - p.speed_low), 0.0f, 1.0f);
    bool lane_change = false;
    if constexpr (std::is_integral_v<Action>)
      lane_change = !p.autopilot && (action == 0 || action == 2);
    float merging = 0.0f;
    for (std::int32_t v = 0; v < s.vehicles; ++v) {
      const float x = s.x[k + v];
      if (highway::lane_of(s.y[k + v], p.lanes) != kRampLane || x < kMergeStart || x > kMergeEnd) {
        continue;
      }
      const float target = v == 0 ? s.target_speed[k] : kMergingTarget;
      merging += (target - s.speed[k + v]) / target;
    }
    float r = p.collision_reward * (crashed ? 1.0f : 0.0f) + p.right_lane_reward * lane +
              p.high_speed_reward * fast + p.lane_change_reward * (lane_change ? 1.0f : 0.0f) +
              p.merging_speed_reward * merging;
    if (p.normalize_reward) {
      const float lo = p.collision_reward + p.merging_speed_reward;
      const float hi = p.high_speed_reward + p.right_lane_reward;
      r = (r - lo) / (hi - lo);
    }
    *reward = r;
    const bool road = MergeRoad::on_road(s.x[k], s.y[k]);
    *terminated = crashed || s.x[k] > kRoadEnd || (p.offroad_terminal && !road);
  }

  // How the episode ended: 1 past the end of the road, 2 the ego overlaps a car or the
  // obstacle, 3 off the road, 0 otherwise (the time limit).
  CONVOY_HD static std::uint8_t outcome(const Params& p, const View& s, std::int64_t i) {
    const std::int64_t k = i * s.vehicles;
    const physics::OrientedBox<float> ego{
        {s.x[k], s.y[k]}, {highway::kLength / 2, highway::kWidth / 2}, s.heading[k]};
    if (Base::outcome(p, s, i) == 2 || merge::MergeRoad::ego_hits_object(ego)) return 2;
    if (!merge::MergeRoad::on_road(s.x[k], s.y[k])) return 3;
    return s.x[k] > merge::kRoadEnd ? 1 : 0;
  }

  CONVOY_HD static void observe(const Params& p, const View& s, std::int64_t i, float* obs) {
    Base::observe(p, s, i, obs);
  }
  // The per-ray observation with observation=lidar, as Highway-v0's (obs_kernels).
  static bool observe_batch_enabled(const Params& p, const Device& d) {
    return Base::observe_batch_enabled(p, d);
  }
  static int observe_rays(const Params& p) { return Base::observe_rays(p); }
  CONVOY_HD static void observe_ray(const Params& p, const View& s, std::int64_t i, int r,
                                    float* obs) {
    Base::observe_ray(p, s, i, r, obs);
  }
  CONVOY_HD static void observe_features(const Params& p, const View& s, std::int64_t i,
                                         float* obs) {
    Base::observe_features(p, s, i, obs);
  }
  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    Base::read_state(s, i, out);
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    Base::write_state(s, i, in);
  }
};

}  // namespace convoy::envs
