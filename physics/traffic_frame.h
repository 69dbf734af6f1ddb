// The traffic frame: one simulation frame of a scene of cars on a road of parallel lanes, after
// highway-env's vehicles (HighwayEnv 1.x: vehicle/kinematics.py, vehicle/controller.py,
// vehicle/behavior.py): every car decides (IDM + MOBIL + lane keeping, or the ego by its
// action), then all move by the kinematic bicycle (Euler), then the ego is checked against the
// others. Highway-v0 and Merge-v0 (envs/driving/) are thin envs on top: their params, reset,
// observation and reward.
//
// Frame: highway-env's. x along the road, y across it pointing right (down on screen); lane k's
// centre is at y = 4 k, lane 0 leftmost. Per-vehicle state is structure of arrays
// (num_envs x vehicles), vehicle 0 the ego. A frame runs in stages (plan per env, decide and
// move per vehicle, collide per env: frame_plan, vehicle_decide, move_straight/move_turning,
// ego_collides), which run two ways from the same functions (kernels=auto|scene|vehicle):
// traffic_frame calls them for one env's whole scene (one call per env, the CPU's default:
// traffic looks for leaders among tens of vehicles, cheap per env and local in memory), and
// step_batch launches each stage over all envs or all envs x vehicles (CUDA's default), with
// its scratch in State. Both give the same results on the same device.
//
// Generic over the road (Road: lane_aim, may_change, obstacle, ego_hits_object; StraightRoad
// is the straight highway's) and over the env's params (Params: lanes, dt, substeps,
// autopilot, the IDM and size Ranges, kernels), which the frame only reads.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "physics/collision.h"
#include "physics/math.h"
#include "physics/neighbours.h"
#include "physics/traffic.h"
#include "physics/vehicle.h"
#include "sim/array.h"
#include "sim/error.h"
#include "sim/hd.h"
#include "sim/parallel.h"
#include "sim/rng.h"

// CONVOY_FRAME_INLINE (sim/hd.h) marks the frame's helpers that g++ stopped inlining once the
// frame became a template over the road (5% more instructions, measured with callgrind).
// CONVOY_FRAME_CLONES (sim/hd.h): the per-env frame also compiled for AVX2.

namespace convoy::physics::traffic {

constexpr float kLaneWidth = 4.0f;                   // AbstractLane.DEFAULT_WIDTH
constexpr float kLength = 5.0f;                      // Vehicle.LENGTH
constexpr float kWidth = 2.0f;                       // Vehicle.WIDTH
constexpr float kMaxSpeed = 40.0f;                   // Vehicle.MAX_SPEED
constexpr float kTauAcc = 0.6f;                      // ControlledVehicle.TAU_ACC
constexpr float kTauHeading = 0.2f;                  // ControlledVehicle.TAU_HEADING
constexpr float kTauLateral = 0.6f;                  // ControlledVehicle.TAU_LATERAL
constexpr float kMaxSteering = 1.0471975511965976f;  // ControlledVehicle.MAX_STEERING_ANGLE pi/3
constexpr float kMaxSlip = 0.7137243789447656f;      // atan(tan(kMaxSteering) / 2), rad

// A setting drawn afresh per episode (or per vehicle) from [low, high]; low == high is fixed
// and draws nothing, so the default settings consume the random stream as before.
struct Range {
  float low, high;
  CONVOY_HD bool varies() const { return low < high; }
  CONVOY_HD float draw(PhiloxStream& rng) const {
    return varies() ? static_cast<float>(rng.uniform(low, high)) : low;
  }
};

// How a step runs: one call per env for the whole scene (traffic_frame), or the per-vehicle
// kernels (step_batch: per env, then per env x vehicle launches); auto is per vehicle on
// CUDA, per scene on the CPU. Both give the same results on the same device.
enum class Kernels : std::int32_t { kAuto, kScene, kVehicle };

// The state a traffic env exchanges (read_state / write_state, VecEnv::get_state): per
// vehicle [x, y, heading, speed, target_speed, target_lane], vehicle 0 the ego. Renderers and
// tests read it by name: st[StateLayout::y(v)], or vehicle_row(st.data(), v).y().
struct StateLayout {
  static constexpr int kFields = 6;  // per vehicle
  static constexpr int kX = 0, kY = 1, kHeading = 2, kSpeed = 3, kTargetSpeed = 4, kTargetLane = 5;
  CONVOY_HD static constexpr int x(int v) { return v * kFields + kX; }
  CONVOY_HD static constexpr int y(int v) { return v * kFields + kY; }
  CONVOY_HD static constexpr int heading(int v) { return v * kFields + kHeading; }
  CONVOY_HD static constexpr int speed(int v) { return v * kFields + kSpeed; }
  CONVOY_HD static constexpr int target_speed(int v) { return v * kFields + kTargetSpeed; }
  CONVOY_HD static constexpr int target_lane(int v) { return v * kFields + kTargetLane; }
  // the vehicles in a state of `size` values
  static constexpr int vehicles(std::size_t size) { return static_cast<int>(size / kFields); }
};
// One vehicle's values in such a state; T is double, or const double to read only.
template <class T>
struct VehicleRow {
  T* f;  // StateLayout::kFields values
  CONVOY_HD T& x() const { return f[StateLayout::kX]; }
  CONVOY_HD T& y() const { return f[StateLayout::kY]; }
  CONVOY_HD T& heading() const { return f[StateLayout::kHeading]; }
  CONVOY_HD T& speed() const { return f[StateLayout::kSpeed]; }
  CONVOY_HD T& target_speed() const { return f[StateLayout::kTargetSpeed]; }
  CONVOY_HD T& target_lane() const { return f[StateLayout::kTargetLane]; }
};
template <class T>
CONVOY_HD VehicleRow<T> vehicle_row(T* state, int v) {
  return {state + v * StateLayout::kFields};
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
  float* accel;     // m/s^2, the ego's held continuous command
  float* steer;     // rad, the ego's held continuous command
  float* length;    // m, box length (domain randomisation; the ego's is kLength)
  float* width;     // m, box width
  float* idm_acc;   // m/s^2, IDM's comfortable acceleration (read only when randomised)
  float* time_gap;  // s, IDM's time headway (idem)
  float* d0;        // m, IDM's jam distance (idem)
};

// Whether env steps run the per-vehicle kernels (step_batch) on device d.
template <class Params>
inline bool vehicle_kernels(const Params& p, const Device& d) {
  return p.kernels == Kernels::kVehicle || (p.kernels == Kernels::kAuto && d.is_cuda());
}

// The per-vehicle kernels' scratch, what traffic_frame keeps in local arrays. Every element an
// env reads in a frame is written earlier in that frame (or, crashed, in the step's first
// launch), so it is no part of the env's state: snapshots leave it out.
struct FrameScratchView {
  std::int32_t* lane;     // (num_envs x vehicles) nearest lane this frame
  std::int32_t* order;    // (num_envs x vehicles) see Neighbours
  std::int32_t* pos;      // (num_envs x vehicles)
  std::int32_t* front;    // (num_envs x vehicles x 3)
  float* power;           // (num_envs x vehicles) IDM's (v / v0)^delta
  float* acc;             // (num_envs x vehicles) m/s^2, decided this frame
  float* slip;            // (num_envs x vehicles) rad
  std::uint8_t* crashed;  // (num_envs) the ego crashed this step: its later frames are skipped
};
struct FrameScratch {
  DeviceArray<std::int32_t> lane, order, pos, front;
  DeviceArray<float> power, acc, slip;
  DeviceArray<std::uint8_t> crashed;
  FrameScratch() = default;
  FrameScratch(const Device& d, std::int64_t n, std::int32_t v)
      : lane(d, n * v),
        order(d, n * v),
        pos(d, n * v),
        front(d, n * v * 3),
        power(d, n * v),
        acc(d, n * v),
        slip(d, n * v),
        crashed(d, n) {}
  FrameScratchView view() {
    return {lane.data(),  order.data(), pos.data(),  front.data(),
            power.data(), acc.data(),   slip.data(), crashed.data()};
  }
};

struct State {
  std::int32_t vehicles;
  FrameScratch scratch;  // sized only for the per-vehicle kernels (vehicle_kernels)
  DeviceArray<float> x, y, heading, speed, target_speed, delta, lane_timer;
  DeviceArray<std::int32_t> target_lane;
  DeviceArray<float> accel, steer;  // (num_envs)
  DeviceArray<float> length, width, idm_acc, time_gap, d0;
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
        steer(d, n),
        length(d, n * v),
        width(d, n * v),
        idm_acc(d, n * v),
        time_gap(d, n * v),
        d0(d, n * v) {}
  template <class Params>
  State(const Device& d, std::int64_t n, const Params& p) : State(d, n, p.vehicles) {
    if (vehicle_kernels(p, d)) scratch = FrameScratch(d, n, p.vehicles);
  }
  // every array, for the engine's snapshots (read_state leaves out delta, the timers and
  // the held commands; the scratch is rewritten before it is read, see FrameScratchView)
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
    f(length);
    f(width);
    f(idm_acc);
    f(time_gap);
    f(d0);
  }
  View view() {
    return {vehicles,       x.data(),          y.data(),
            heading.data(), speed.data(),      target_speed.data(),
            delta.data(),   lane_timer.data(), target_lane.data(),
            accel.data(),   steer.data(),      length.data(),
            width.data(),   idm_acc.data(),    time_gap.data(),
            d0.data()};
  }
};

// The nearest lane's index, clipped to the road: floor(y / width + 0.5) clamped to
// [0, lanes - 1]. Without floorf (g++ expands it into 20 instructions without SSE4.1) and without
// branches (a car's lane is random, a branch on it mispredicts): the offset clamped to
// [0, lanes - 1] by maxss/minss first, whose truncation is then its floor. 0 for NaN.
CONVOY_HD_INLINE std::int32_t lane_of(float y, std::int32_t lanes) {
  float t = y / kLaneWidth + 0.5f;
  t = t > 0.0f ? t : 0.0f;
  const float last = static_cast<float>(lanes - 1);
  t = t < last ? t : last;
  return static_cast<std::int32_t>(t);
}

CONVOY_HD_INLINE float not_zero(float v) {
  return fabsf(v) > 1e-2f ? v : (v >= 0.0f ? 1e-2f : -1e-2f);
}

// ControlledVehicle.steering_control: a lateral P controller gives a heading reference, a
// heading P controller a yaw rate, inverted through the bicycle model to the slip angle at the
// centre (what the wheel angle highway-env computes does to the car).
// lateral: offset from the lane's centre (+ towards +y); lane_heading: the lane's heading a
// pursuit distance ahead (0 on a straight lane).
CONVOY_HD_INLINE float lane_keeping_command(float lateral, float lane_heading, float heading,
                                            float speed) {
  const float lateral_speed_command = -(1.0f / kTauLateral) * lateral;
  const float heading_command =
      asinf(physics::clamp(lateral_speed_command / not_zero(speed), -1.0f, 1.0f));
  const float heading_ref =
      lane_heading + physics::clamp(heading_command, -0.7853981633974483f, 0.7853981633974483f);
  const float heading_rate = (1.0f / kTauHeading) * physics::wrap_angle(heading_ref - heading);
  const float slip =
      asinf(physics::clamp(kLength / 2 / not_zero(speed) * heading_rate, -1.0f, 1.0f));
  // highway-env turns the slip into a wheel angle atan(2 tan(slip)) clipped to +-pi/3, and the
  // bicycle model turns the wheel angle back into the slip atan(tan(wheel) / 2): that is the
  // slip itself, clipped to atan(tan(pi/3) / 2). Returning it skips five transcendental calls
  // per steering car and frame (atan2, sin, cos here; tan, atan in the model), with results
  // that differ from the round trip by float rounding only (see BENCHMARKS.md).
  return physics::clamp(slip, -kMaxSlip, kMaxSlip);
}

// The settled test sits apart from the controller so the compiler inlines it into the frame
// (the controller itself stays a call: with it inlined the frame ran 4% more instructions).
// settled in the lane: the controller's answer is 0 to within 1e-4 rad; skipping its five
// transcendental calls is most of a traffic car's frame (measured: see BENCHMARKS.md)
CONVOY_HD_INLINE bool lane_settled(float lateral, float lane_heading, float heading) {
  return (fabsf(lateral) < 1e-3f) & (fabsf(heading - lane_heading) < 1e-4f);
}
CONVOY_FRAME_INLINE float lane_keeping(float lateral, float lane_heading, float heading,
                                       float speed) {
  if (lane_settled(lateral, lane_heading, heading)) return 0.0f;
  return lane_keeping_command(lateral, lane_heading, heading, speed);
}

// IDMVehicle.mobil for vehicle v moving to lane cand, given its current-lane acceleration and
// its would-be leader and follower there.
// With politeness 0 (highway-env's default) the gain is v's own, so the new follower is
// only looked at for the safety check, and only when the gain is worth it: the same
// decision as physics::mobil_should_change for a fraction of the IDM evaluations.
// v's free-road IDM term (idm_free_road) is passed in: the frame knows it already. The new
// follower is a callable, new_rear() -> its index or -1, called only then (a KnownCar, or a
// CarBehind that walks the frame's Neighbours).
struct KnownCar {
  std::int32_t car;
  CONVOY_HD_INLINE std::int32_t operator()() const { return car; }
};
struct CarBehind {
  const Neighbours* nb;
  std::int32_t car, lane;
  CONVOY_HD_INLINE std::int32_t operator()() const { return nb->behind(car, lane); }
};
template <class Rear>
CONVOY_FRAME_INLINE bool mobil_change(const physics::IdmParams<float>& idm,
                                      const physics::MobilParams<float>& mobil,
                                      const std::int32_t* lane, const float* x, const float* speed,
                                      const float* target_speed, std::int32_t n, std::int32_t v,
                                      std::int32_t cand, float self_a, float free_road,
                                      std::int32_t new_front, const Rear& new_rear) {
  if (mobil.politeness != 0.0f) {
    return physics::mobil_should_change(
        mobil, physics::mobil_accelerations(idm, lane, x, speed, target_speed, n, v, cand));
  }
  const float self_pred = physics::idm_with_leader(idm, free_road, speed[v], new_front >= 0,
                                                   new_front >= 0 ? x[new_front] - x[v] : 0.0f,
                                                   new_front >= 0 ? speed[new_front] : 0.0f);
  if (!(self_pred - self_a >= mobil.min_acc_gain)) return false;
  const float new_following_pred =
      physics::idm_acceleration_of(idm, x, speed, target_speed, new_rear(), v);
  return !(new_following_pred < -mobil.max_braking_imposed);
}

// The straight highway's answers to traffic_frame's questions about the road (a Road):
// every lane straight along x, any neighbouring lane open, nothing on the road but vehicles.
struct StraightRoad {
  // what the lane keeper steering a car at (x, y) with `speed` to lane `lane` aims at: its
  // offset from the lane's centre and the lane's heading ahead (see lane_keeping)
  template <class Params>
  CONVOY_HD static void lane_aim(const Params&, std::int32_t lane, float, float y, float,
                                 float* lateral, float* lane_heading) {
    *lateral = y - lane * kLaneWidth;
    *lane_heading = 0.0f;
  }
  // whether MOBIL may move a car at x from lane `from` to lane `to`
  CONVOY_HD static bool may_change(std::int32_t, std::int32_t, float) { return true; }
  // a fixed obstacle ahead in `lane` (its x), which IDM then treats as a stopped leader
  CONVOY_HD static bool obstacle(std::int32_t, float, float*) { return false; }
  // whether the ego's box hits something that is not a vehicle
  CONVOY_HD static bool ego_hits_object(const physics::OrientedBox<float>&) { return false; }
};

// The slip angle that keeps a car in (or steers it to) lane `lane` of Road.
template <class Road, class Params>
CONVOY_FRAME_INLINE float road_slip(const Params& p, std::int32_t lane, float x, float y,
                                    float heading, float speed) {
  float lateral, lane_heading;
  Road::lane_aim(p, lane, x, y, speed, &lateral, &lane_heading);
  return lane_keeping(lateral, lane_heading, heading, speed);
}

// The traffic cars that are not settled in their lanes (lane_settled) this frame, and what
// their lane keepers aim at: traffic_frame computes their slips after the decisions, in a
// loop of their own (see there).
struct Steering {
  std::int32_t n;
  std::int32_t car[kMaxVehicles];
  float lateral[kMaxVehicles], lane_heading[kMaxVehicles];
};

// The frame's stages, shared by traffic_frame (one env per call: the CPU's default) and the
// per-vehicle kernels of step_batch (below): plan (per env) -> decide (per vehicle) -> move
// (per vehicle) -> collide (per env). The per-vehicle stages read the other vehicles'
// pre-frame state only: decide writes v's acc, slip, lane timer and target lane, move v's
// kinematics.

// Env i's slices of the per-vehicle arrays (vehicles each), taken once per frame (once per
// vehicle in the kernels): the stages index them by vehicle, and as a local copy they stay
// in registers, where View's fields would be reloaded after every store (an int store may
// alias View::vehicles).
struct Cars {
  std::int32_t n;  // vehicles
  float* x;
  float* y;
  float* heading;
  float* speed;
  float* target_speed;
  float* timer;
  std::int32_t* target_lane;
  const float* delta;
  const float* length;
  const float* width;
  const float* idm_acc;
  const float* time_gap;
  const float* d0;
  float accel, steer;  // the ego's held continuous command
};
CONVOY_FRAME_INLINE Cars cars_of(const View& s, std::int64_t i) {
  const std::int64_t base = i * s.vehicles;
  return {s.vehicles,          s.x + base,           s.y + base,
          s.heading + base,    s.speed + base,       s.target_speed + base,
          s.lane_timer + base, s.target_lane + base, s.delta + base,
          s.length + base,     s.width + base,       s.idm_acc + base,
          s.time_gap + base,   s.d0 + base,          s.accel[i],
          s.steer[i]};
}

// Plan: each car's nearest lane, the neighbours (see Neighbours) and every car's IDM power
// (v / v0)^delta, in a loop of its own that the compiler vectorises (see physics::idm_power);
// the ratios first, as their selects would stop it. Arrays (vehicles each; front vehicles x 3), env
// i's own.
template <class Params>
CONVOY_FRAME_INLINE void frame_plan(const Params& p, const Cars& c, std::int32_t* lane,
                                    std::int32_t* order, std::int32_t* pos, std::int32_t* front,
                                    float* power) {
  const std::int32_t n = c.n;
  const float* x = c.x;
  const float* y = c.y;
  const float* speed = c.speed;
  const float* target_speed = c.target_speed;
  for (std::int32_t v = 0; v < n; ++v) lane[v] = lane_of(y[v], p.lanes);
  neighbour_tables(lane, x, n, p.lanes, order, pos, front);
  for (std::int32_t v = 0; v < n; ++v)
    power[v] = physics::idm_speed_ratio(speed[v], target_speed[v]);
  const float* delta = c.delta;
  for (std::int32_t v = 0; v < n; ++v) power[v] = physics::idm_power(power[v], delta[v]);
}

// Decide: vehicle v's acceleration (acc[v], m/s^2) and bicycle slip angle (slip[v], rad, from
// the lane keeper; for an ego under continuous control its wheel angle): IDM + MOBIL + lane
// keeping, the ego by its action. Updates v's lane timer and target lane; reads the plan.
// In three parts (vehicle_decide runs them in turn), which traffic_frame runs as three loops
// over the cars (see there): decide_follow, decide_mobil (when decide_follow says MOBIL is
// due), decide_finish. A car's parts read the other cars' pre-frame state and the plan only,
// so the loops give what vehicle_decide gives car after car.

// Whether v is a traffic car (IDM and MOBIL); else the ego under the agent's control.
template <class Params>
CONVOY_HD_INLINE bool is_traffic(const Params& p, std::int32_t v) {
  return v != 0 || p.autopilot;
}

// v's IDM parameters (a traffic car's).
template <bool RandomIdm>
CONVOY_FRAME_INLINE physics::IdmParams<float> idm_of(const Cars& c, std::int32_t v) {
  physics::IdmParams<float> idm = physics::highway_env_idm<float>();
  idm.delta = c.delta[v];
  if (RandomIdm) {
    idm.a_max = c.idm_acc[v];
    idm.time_gap = c.time_gap[v];
    idm.d0 = c.d0[v];
  }
  return idm;
}

// A traffic car's IDM acceleration behind its leader in its lane (or Road's obstacle): *self_a;
// advances its lane timer. Returns whether MOBIL is due for it (every LANE_CHANGE_DELAY, when
// not already changing lanes).
template <bool RandomIdm, class Road, class Params>
CONVOY_FRAME_INLINE bool decide_follow(const Params& p, const Cars& c, std::int32_t v,
                                       const Neighbours& nb, const float* power, float* self_a) {
  const std::int32_t* lane = nb.lane;
  const float* x = c.x;
  const float* speed = c.speed;
  const physics::IdmParams<float> idm = idm_of<RandomIdm>(c, v);
  // the free-road term (its power) serves every question this car asks this frame
  const float free_road = physics::idm_free_road_from_power(idm, power[v]);
  const std::int32_t front = nb.ahead(v, lane[v]);
  bool has_front = front >= 0;
  // without a leader the gap and speed are never read: v's own stand in, so that no branch
  // (which mispredicts for the few cars leading their lane) guards the loads
  const std::int32_t leader = has_front ? front : v;
  float front_gap = x[leader] - x[v];
  float front_speed = speed[leader];
  float obstacle_x;
  if (Road::obstacle(lane[v], x[v], &obstacle_x) && (!has_front || obstacle_x - x[v] < front_gap)) {
    has_front = true;
    front_gap = obstacle_x - x[v];
    front_speed = 0.0f;
  }
  *self_a = physics::idm_with_leader(idm, free_road, speed[v], has_front, front_gap, front_speed);
  c.timer[v] += p.dt;
  return (c.target_lane[v] == lane[v]) &
         physics::mobil_due(physics::highway_env_mobil<float>(), c.timer[v]);
}

// MOBIL for a traffic car it is due for: resets its timer, may set its target lane.
template <bool RandomIdm, class Road, class Params>
CONVOY_FRAME_INLINE void decide_mobil(const Params& p, const Cars& c, std::int32_t v,
                                      const Neighbours& nb, const float* power, float self_a) {
  const std::int32_t* lane = nb.lane;
  const physics::IdmParams<float> idm = idm_of<RandomIdm>(c, v);
  const float free_road = physics::idm_free_road_from_power(idm, power[v]);
  c.timer[v] = 0.0f;
  for (int side = -1; side <= 1; side += 2) {
    const std::int32_t cand = lane[v] + side;
    if (cand < 0 || cand >= p.lanes || !Road::may_change(lane[v], cand, c.x[v])) continue;
    if (mobil_change(idm, physics::highway_env_mobil<float>(), lane, c.x, c.speed, c.target_speed,
                     c.n, v, cand, self_a, free_road, nb.ahead(v, cand), CarBehind{&nb, v, cand})) {
      c.target_lane[v] = cand;
      break;
    }
  }
}

// The rest: acc[v] (a traffic car's from self_a and a lane change under way; the ego's by its
// action) and slip[v]. Deferred: a traffic car's slip is left 0 and, when it is not settled,
// the car listed in *steering for traffic_frame's steering loop (which gives the same slip).
template <bool Discrete, bool RandomIdm, class Road, bool Deferred, class Params>
CONVOY_FRAME_INLINE void decide_finish(const Params& p, const Cars& c, std::int32_t v,
                                       const Neighbours& nb, const float* power, float self_a,
                                       float* acc, float* slip, Steering* steering) {
  const std::int32_t* lane = nb.lane;
  const float* x = c.x;
  const float* y = c.y;
  const float* heading = c.heading;
  const float* speed = c.speed;
  const std::int32_t* target_lane = c.target_lane;
  if (!is_traffic(p, v)) {
    if (!Discrete) {
      acc[0] = c.accel;
      slip[0] = c.steer;
    } else {
      // MDPVehicle: P control towards the target speed and lane
      acc[0] = (1.0f / kTauAcc) * (c.target_speed[0] - speed[0]);
      slip[0] = road_slip<Road>(p, target_lane[0], x[0], y[0], heading[0], speed[0]);
    }
    return;
  }
  const physics::IdmParams<float> idm = idm_of<RandomIdm>(c, v);
  float a = self_a;
  if (target_lane[v] != lane[v]) {
    // a lane change is under way: target_lane is lane +- 1 (MOBIL sets it only from the
    // lane the car is in, and the car's closest lane moves one at a time)
    const std::int32_t d = target_lane[v] - lane[v];
    const std::int32_t front = (d == -1 || d == 1) ? nb.ahead(v, target_lane[v]) : -1;
    if (front >= 0) {
      const float free_road = physics::idm_free_road_from_power(idm, power[v]);
      const float a_side =
          physics::idm_with_leader(idm, free_road, speed[v], true, x[front] - x[v], speed[front]);
      a = a_side < a ? a_side : a;
    }
  }
  acc[v] = physics::clamp(a, -idm.acc_clip, idm.acc_clip);
  // traffic does not reverse: with collision checks off (as highway-fast-v0) two cars can
  // overlap and IDM then brakes without bound (a deviation from highway-env, whose cars
  // can then roll backwards and flip the lane keeper's sign)
  const float stop = -speed[v] / p.dt;
  acc[v] = acc[v] < stop ? stop : acc[v];
  if constexpr (Deferred) {
    // listed without a branch (one on the settled test mispredicted: it went 1 in 5 either
    // way), the slip 0 unless traffic_frame computes it
    float lateral, lane_heading;
    Road::lane_aim(p, target_lane[v], x[v], y[v], speed[v], &lateral, &lane_heading);
    const std::int32_t k = steering->n;
    steering->car[k] = v;
    steering->lateral[k] = lateral;
    steering->lane_heading[k] = lane_heading;
    steering->n = k + !lane_settled(lateral, lane_heading, heading[v]);
    slip[v] = 0.0f;
  } else {
    slip[v] = road_slip<Road>(p, target_lane[v], x[v], y[v], heading[v], speed[v]);
  }
}

template <bool Discrete, bool RandomIdm, class Road, class Params>
CONVOY_FRAME_INLINE void vehicle_decide(const Params& p, const Cars& c, std::int32_t v,
                                        const Neighbours& nb, const float* power, float* acc,
                                        float* slip) {
  float self_a = 0.0f;
  if (is_traffic(p, v) && decide_follow<RandomIdm, Road>(p, c, v, nb, power, &self_a)) {
    decide_mobil<RandomIdm, Road>(p, c, v, nb, power, self_a);
  }
  decide_finish<Discrete, RandomIdm, Road, false>(p, c, v, nb, power, self_a, acc, slip, nullptr);
}

// Move (Vehicle.clip_actions + Vehicle.step: kinematic bicycle about the centre, l_r = L / 2)
// in two kinds: a car driving straight along the road (no slip, heading 0: most of them)
// moves along x only. Which kind a car is: straight_along_road.
CONVOY_HD_INLINE bool straight_along_road(float slip, float heading) {
  return (slip == 0.0f) & (heading == 0.0f);
}
template <class Params>
CONVOY_FRAME_INLINE void move_straight(const Params& p, std::int32_t v, float* x, float* speed,
                                       const float* acc) {
  float a = acc[v];
  if (speed[v] > kMaxSpeed && kMaxSpeed - speed[v] < a) a = kMaxSpeed - speed[v];
  if (speed[v] < -kMaxSpeed && a < -kMaxSpeed - speed[v]) a = -kMaxSpeed - speed[v];
  // wheels straight: no slip and no yaw, the bicycle model moves along the heading
  x[v] += speed[v] * p.dt;
  speed[v] += a * p.dt;
}
template <bool Discrete, class Params>
CONVOY_FRAME_INLINE void move_turning(const Params& p, std::int32_t v, float* x, float* y,
                                      float* heading, float* speed, const float* acc,
                                      const float* slip) {
  const physics::VehicleParams<float> car = physics::highway_env_car<float>();
  const bool wheel_given = !Discrete && !p.autopilot;
  float a = acc[v];
  if (speed[v] > kMaxSpeed && kMaxSpeed - speed[v] < a) a = kMaxSpeed - speed[v];
  if (speed[v] < -kMaxSpeed && a < -kMaxSpeed - speed[v]) a = -kMaxSpeed - speed[v];
  if (slip[v] == 0.0f) {
    x[v] += speed[v] * cosf(heading[v]) * p.dt;
    y[v] += speed[v] * sinf(heading[v]) * p.dt;
    speed[v] += a * p.dt;
    return;
  }
  if (v == 0 && wheel_given) {
    const float state[4] = {x[v], y[v], heading[v], speed[v]};
    const float u[2] = {a, slip[v]};
    float d[4];
    physics::bicycle_derivative(car, state, u, d);
    x[v] += d[0] * p.dt;
    y[v] += d[1] * p.dt;
    heading[v] += d[2] * p.dt;
    speed[v] += d[3] * p.dt;
    return;
  }
  // bicycle_derivative with the slip known: x' = v cos(h + slip), y' = v sin(h + slip),
  // h' = v sin(slip) / l_r
  const float course = heading[v] + slip[v];
  x[v] += speed[v] * cosf(course) * p.dt;
  y[v] += speed[v] * sinf(course) * p.dt;
  heading[v] += speed[v] * sinf(slip[v]) / car.l_r * p.dt;
  speed[v] += a * p.dt;
}

// The separating-axis test of two boxes, a call on the host: the frame reaches it only for
// the few cars next to the ego, and inlined it took the lane keeper's place in g++'s inlining
// budget (measured: 34,627 instead of 34,199 instructions per Highway-v0 env-step).
#if defined(__CUDACC__) || !defined(__GNUC__)
CONVOY_HD_INLINE
#else
__attribute__((noinline)) inline
#endif
bool boxes_overlap(const physics::OrientedBox<float>& a, const physics::OrientedBox<float>& b) {
  return physics::box_box_overlap(a, b);
}

// Collide: ego-only collision checks (highway-fast-v0 disables the others'); true when the
// ego's box overlaps another vehicle's or (Road) an object.
template <class Road, class Params>
CONVOY_FRAME_INLINE bool ego_collides(const Params& p, const Cars& c) {
  const std::int32_t n = c.n;
  const float* x = c.x;
  const float* y = c.y;
  const float* heading = c.heading;
  const physics::OrientedBox<float> ego{{x[0], y[0]}, {kLength / 2, kWidth / 2}, heading[0]};
  const float* length = c.length;
  const float* width = c.width;
  const bool sized = p.length.varies() || p.width.varies();
  for (std::int32_t v = 1; v < n; ++v) {
    // boxes farther apart than the sum of their half length + half width cannot touch
    const float reach =
        sized ? (kLength + kWidth) / 2 + (length[v] + width[v]) / 2 : kLength + kWidth;
    if (fabsf(x[v] - x[0]) > reach || fabsf(y[v] - y[0]) > reach) continue;
    const physics::OrientedBox<float> other{
        {x[v], y[v]}, {length[v] / 2, width[v] / 2}, heading[v]};
    if (boxes_overlap(ego, other)) return true;
  }
  return Road::ego_hits_object(ego);
}

// One simulation frame of env i: every vehicle acts (IDM + MOBIL + lane keeping; the ego
// by its action), then all move by highway-env's kinematic bicycle (Euler), then the ego
// is checked against every other vehicle. Returns true when the ego crashed.
template <bool Discrete, bool RandomIdm, class Road, class Params>
CONVOY_FRAME_CLONES CONVOY_HD bool traffic_frame(const Params& p, const View& s, std::int64_t i) {
  const Cars c = cars_of(s, i);
  const std::int32_t n = c.n;
  std::int32_t lane[kMaxVehicles], order[kMaxVehicles], pos[kMaxVehicles];
  std::int32_t front[kMaxVehicles * 3];
  float power[kMaxVehicles];
  frame_plan(p, c, lane, order, pos, front, power);
  const Neighbours nb{lane, order, pos, front, n};
  // The decisions (vehicle_decide) in three loops: IDM for every traffic car, listing those
  // MOBIL is due for without a branch (one per car on it mispredicted: MOBIL is due once a
  // second, every fifth frame at 5 Hz); MOBIL for those; the rest for every car.
  float self_a[kMaxVehicles], acc[kMaxVehicles], slip[kMaxVehicles];
  std::int32_t due[kMaxVehicles];
  std::int32_t n_due = 0;
  const std::int32_t first = is_traffic(p, 0) ? 0 : 1;
  self_a[0] = 0.0f;
  for (std::int32_t v = first; v < n; ++v) {
    due[n_due] = v;
    n_due += decide_follow<RandomIdm, Road>(p, c, v, nb, power, &self_a[v]);
  }
  for (std::int32_t k = 0; k < n_due; ++k) {
    decide_mobil<RandomIdm, Road>(p, c, due[k], nb, power, self_a[due[k]]);
  }
  Steering steering;
  steering.n = 0;
  for (std::int32_t v = 0; v < n; ++v) {
    decide_finish<Discrete, RandomIdm, Road, true>(p, c, v, nb, power, self_a[v], acc, slip,
                                                   &steering);
  }
  float* x = c.x;
  float* y = c.y;
  float* heading = c.heading;
  float* speed = c.speed;
  // The lane keepers of the cars not settled in their lanes, in a loop of their own: a chain
  // of two divisions and two asinf per car, which the CPU overlaps across cars here (inside
  // the decisions, behind a mispredicted branch, it ran alone: 15% of the frame's time, perf).
  for (std::int32_t k = 0; k < steering.n; ++k) {
    const std::int32_t v = steering.car[k];
    slip[v] =
        lane_keeping_command(steering.lateral[k], steering.lane_heading[k], heading[v], speed[v]);
  }
  // The straight cars apart from the others, listed without branches: a branch per car on
  // which kind it is mispredicts, as the steering cars sit anywhere in the order. Each car's
  // step reads only its own state.
  std::int32_t straight[kMaxVehicles], turning[kMaxVehicles];
  std::int32_t n_straight = 0, n_turning = 0;
  for (std::int32_t v = 0; v < n; ++v) {
    const bool s0 = straight_along_road(slip[v], heading[v]);
    straight[n_straight] = v;
    turning[n_turning] = v;
    n_straight += s0;
    n_turning += !s0;
  }
  for (std::int32_t k = 0; k < n_straight; ++k) move_straight(p, straight[k], x, speed, acc);
  for (std::int32_t k = 0; k < n_turning; ++k) {
    move_turning<Discrete>(p, turning[k], x, y, heading, speed, acc, slip);
  }
  return ego_collides<Road>(p, c);
}

// The per-vehicle kernels of Env's step (Env: Highway<D> or Merge<D>, whose Road is the
// frame's), one functor per stage, each over one index (see step_batch). Env provides
// apply_ego_action and judge (its reward and termination from the step's end state).
template <class Env>
struct BatchStage {
  typename Env::Params p;
  View s;
  FrameScratchView w;
  const std::int32_t* a_int;  // (num_envs) for Discrete
  const float* a_float;       // (num_envs x 2) for continuous
  const std::uint8_t* skip;   // (num_envs) or null: envs left as they are this step
  // env i does nothing in this launch: skipped this step, or crashed in an earlier frame
  CONVOY_HD bool idle(std::int64_t i) const { return (skip && skip[i]) || w.crashed[i]; }
  // the vehicle of index k (env x vehicle) of env i = k / vehicles
  CONVOY_HD std::int32_t vehicle(std::int64_t k, std::int64_t i) const {
    return static_cast<std::int32_t>(k - i * s.vehicles);
  }
  CONVOY_HD Neighbours neighbours(std::int64_t i) const {
    const std::int64_t base = i * s.vehicles;
    return {w.lane + base, w.order + base, w.pos + base, w.front + 3 * base, s.vehicles};
  }
};

template <class Env>
struct BatchBegin {  // per env: the ego's action; no crash yet
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t i) const {
    if (b.skip && b.skip[i]) return;
    if (!b.p.autopilot) {
      if constexpr (Env::kDiscrete) {
        Env::apply_ego_action(b.p, b.s, i, b.a_int[i]);
      } else {
        Env::apply_ego_action(b.p, b.s, i, b.a_float + i * Env::kActDim);
      }
    }
    b.w.crashed[i] = 0;
  }
};

template <class Env>
struct BatchPlan {  // per env
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t i) const {
    if (b.idle(i)) return;
    const std::int64_t base = i * b.s.vehicles;
    frame_plan(b.p, cars_of(b.s, i), b.w.lane + base, b.w.order + base, b.w.pos + base,
               b.w.front + 3 * base, b.w.power + base);
  }
};

template <class Env, bool RandomIdm>
struct BatchDecide {  // per env x vehicle
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t k) const {
    const std::int64_t i = k / b.s.vehicles;
    const std::int32_t v = b.vehicle(k, i);
    if (b.idle(i)) return;
    const std::int64_t base = i * b.s.vehicles;
    vehicle_decide<Env::kDiscrete, RandomIdm, typename Env::Road>(b.p, cars_of(b.s, i), v,
                                                                  b.neighbours(i), b.w.power + base,
                                                                  b.w.acc + base, b.w.slip + base);
  }
};

template <class Env>
struct BatchMove {  // per env x vehicle
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t k) const {
    const std::int64_t i = k / b.s.vehicles;
    const std::int32_t v = b.vehicle(k, i);
    if (b.idle(i)) return;
    const std::int64_t base = i * b.s.vehicles;
    float* x = b.s.x + base;
    float* heading = b.s.heading + base;
    float* speed = b.s.speed + base;
    const float* acc = b.w.acc + base;
    const float* slip = b.w.slip + base;
    if (straight_along_road(slip[v], heading[v])) {
      move_straight(b.p, v, x, speed, acc);
    } else {
      move_turning<Env::kDiscrete>(b.p, v, x, b.s.y + base, heading, speed, acc, slip);
    }
  }
};

template <class Env>
struct BatchCollide {  // per env
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t i) const {
    if (b.idle(i)) return;
    b.w.crashed[i] = ego_collides<typename Env::Road>(b.p, cars_of(b.s, i)) ? 1 : 0;
  }
};

template <class Env>
struct BatchEnd {  // per env: reward and termination
  BatchStage<Env> b;
  float* reward;             // (num_envs)
  std::uint8_t* terminated;  // (num_envs)
  CONVOY_HD void operator()(std::int64_t i) const {
    if (b.skip && b.skip[i]) return;
    float r = 0.0f;
    bool term = false;
    if constexpr (Env::kDiscrete) {
      Env::judge(b.p, b.s, i, b.a_int[i], b.w.crashed[i] != 0, &r, &term);
    } else {
      Env::judge(b.p, b.s, i, b.a_float + i * Env::kActDim, b.w.crashed[i] != 0, &r, &term);
    }
    reward[i] = r;
    terminated[i] = term ? 1 : 0;
  }
};

// Env::step (Env: Highway<D> or Merge<D>, whose Road is the frame's): the ego's action, then the
// frames until the ego crashes, then Env::judge (reward and termination).
template <class Env, class Action>
CONVOY_HD_INLINE void traffic_step(const typename Env::Params& p, const View& s, std::int64_t i,
                                   Action action, float* reward, bool* terminated) {
  using Road = typename Env::Road;
  if (!p.autopilot) Env::apply_ego_action(p, s, i, action);
  bool crashed = false;
  const bool random_idm = p.random_idm();
  for (std::int32_t f = 0; f < p.substeps && !crashed; ++f) {
    crashed = random_idm ? traffic_frame<Env::kDiscrete, true, Road>(p, s, i)
                         : traffic_frame<Env::kDiscrete, false, Road>(p, s, i);
  }
  Env::judge(p, s, i, action, crashed, reward, terminated);
}

// Env::step for every env whose skip byte is clear, as launches over envs (begin, plan,
// collide, end) and over envs x vehicles (decide, move): the same pieces as traffic_frame in
// the same order per vehicle, so the same results on the same device. Action: std::int32_t
// (Discrete) or float (continuous, 2 per env).
template <class Env, class Action>
void step_batch(const Device& d, const typename Env::Params& p, const View& s, FrameScratch& w,
                std::int64_t n, const Action* actions, const std::uint8_t* skip, float* reward,
                std::uint8_t* terminated) {
  if (w.crashed.size() != n) {
    throw Error(std::string(Env::kName) + ": step_batch without its scratch (kernels=vehicle)");
  }
  const BatchStage<Env> b{p,
                          s,
                          w.view(),
                          reinterpret_cast<const std::int32_t*>(actions),
                          reinterpret_cast<const float*>(actions),
                          skip};
  const std::int64_t cars = n * s.vehicles;
  for_each_index(d, n, BatchBegin<Env>{b});
  for (std::int32_t f = 0; f < p.substeps; ++f) {
    for_each_index(d, n, BatchPlan<Env>{b});
    if (p.random_idm()) {
      for_each_index(d, cars, BatchDecide<Env, true>{b});
    } else {
      for_each_index(d, cars, BatchDecide<Env, false>{b});
    }
    for_each_index(d, cars, BatchMove<Env>{b});
    for_each_index(d, n, BatchCollide<Env>{b});
  }
  for_each_index(d, n, BatchEnd<Env>{b, reward, terminated});
}

}  // namespace convoy::physics::traffic
