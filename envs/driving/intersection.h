// Intersection-v0: controlled vehicles cross a four-way intersection among route-following IDM
// traffic, after highway-env's intersection-v0 and its multi-agent variant (HighwayEnv 1.x:
// highway_env/envs/intersection_env.py, road/regulation.py). Defaults: 1 agent, 15 Hz
// simulation, 1 Hz policy, 13 s episodes, spawn probability 0.6, 10 warm-up spawns.
//
// Multi-agent: agents_per_env (1..4) controlled vehicles per scene, agent k entering from arm k
// (0 south, 1 east, 2 north, 3 west, physics/road.h's build_intersection); the engine flattens
// them into the batch (row = scene * agents + agent, sim/env_contract.h). A scene ends for all its
// agents at once: terminated when any agent crashed or all arrived, truncated at `duration`.
//
// Every vehicle drives along one route (approach -> turn -> exit, a LaneChain of three pieces), so
// its state is its route and arc length s: the agents' actions are longitudinal only, as in
// highway-env's intersection (DiscreteMetaAction with lateral=False). Traffic follows its leader
// with IDM (same approach, same route, or same exit) and yields at the crossing by one priority
// rule (see `must_yield`). Per-vehicle state is structure of arrays (scenes x slots): slots
// 0..agents-1 are the agents, the rest traffic, route < 0 for an empty slot.
//
// A frame runs in stages (decide per slot from the frame's starting state, move per slot,
// collide per scene: slot_acceleration, move, agents_collide), and a step ends per scene
// (end_step: rewards, termination, leaving traffic, spawning from the scene's kStep stream).
// They run two ways from the same functions (kernels=auto|scene|vehicle): Intersection::step
// calls them for one scene's whole step (one call per scene, the CPU's default), and
// step_batch launches each over all scenes or all scenes x slots (CUDA's default), with its
// scratch in State and the engine's SceneStepStreams for the spawns. Both give the same
// results on the same device.
//
// Actions: action_type=discrete (0 SLOWER, 1 IDLE, 2 FASTER over target speeds 0 / 4.5 / 9 m/s)
// or continuous ([-1, 1] -> acceleration +-5 m/s^2). Observation per agent: itself and its K-1
// nearest vehicles x [presence, x, y, vx, vy, cos h, sin h], its own row absolute and the
// others relative to it; x, y by 100 m, velocities by 20 m/s, clipped to [-1, 1]. Reward per
// agent: highway-env's collision / high-speed terms, arrived_reward once past the crossing,
// with normalize_reward (off by default, as highway-env's) mapped from [collision_reward,
// arrived_reward] to [0, 1].
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "physics/collision.h"
#include "physics/math.h"
#include "physics/road.h"
#include "physics/traffic.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/device.h"
#include "sim/error.h"
#include "sim/hd.h"
#include "sim/parallel.h"
#include "sim/rng.h"
#include "sim/spaces.h"

namespace convoy::envs {

namespace intersection {

constexpr float kLength = 5.0f;           // Vehicle.LENGTH
constexpr float kWidth = 2.0f;            // Vehicle.WIDTH
constexpr float kLaneWidth = 4.0f;        // AbstractLane.DEFAULT_WIDTH
constexpr float kSpeedLimit = 10.0f;      // every lane's speed_limit
constexpr float kMaxSpeed = 40.0f;        // Vehicle.MAX_SPEED
constexpr float kTauAcc = 0.6f;           // ControlledVehicle.TAU_ACC
constexpr float kExitDistance = 25.0f;    // IntersectionEnv.has_arrived: s along the exit lane
constexpr float kPerception = 200.0f;     // Vehicle perception distance (5 x MAX_SPEED), m
constexpr float kSpawnClearance = 15.0f;  // _spawn_vehicle: no spawn within 15 m of a vehicle
constexpr float kAgentClearance = 20.0f;  // _make_vehicles: traffic this close to an agent goes
constexpr int kFeatures = 7;              // presence, x, y, vx, vy, cos h, sin h
constexpr int kRoutes = 12;               // 4 arms x (right, straight, left)
constexpr int kMaxAgents = 4;
constexpr int kMaxTraffic = 60;
constexpr int kMaxSlots = kMaxAgents + kMaxTraffic;
constexpr int kStateFields = 6;  // per slot: route, s, speed, target_speed, delta, time_gap
// Where slot u's fields sit in that exchanged state (read_state): st[StateLayout::s(u)].
struct StateLayout {
  static constexpr int kFields = kStateFields;
  CONVOY_HD static constexpr int route(int u) { return u * kFields + 0; }  // -1 empty
  CONVOY_HD static constexpr int s(int u) { return u * kFields + 1; }      // m along the route
  CONVOY_HD static constexpr int speed(int u) { return u * kFields + 2; }
  CONVOY_HD static constexpr int target_speed(int u) { return u * kFields + 3; }
  CONVOY_HD static constexpr int delta(int u) { return u * kFields + 4; }
  CONVOY_HD static constexpr int time_gap(int u) { return u * kFields + 5; }
};

// DiscreteMetaAction's target_speeds 0, 4.5, 9 m/s (a function: device code cannot index a
// host constant array).
CONVOY_HD_INLINE float target_speed_of(int index) { return 4.5f * static_cast<float>(index); }

// Route r = 3 * arm + turn (physics::IntersectionTurn): arm it enters by, turn it takes.
CONVOY_HD_INLINE int route_arm(int r) { return r / 3; }
CONVOY_HD_INLINE int route_exit(int r) { return physics::intersection_route_exit(r / 3, r % 3); }
// RegulatedRoad's lane priorities: east-west arms 3, north-south 1, a left turn one less.
CONVOY_HD_INLINE int route_priority(int r) {
  return (route_arm(r) % 2 == 1 ? 3 : 1) - (r % 3 == physics::kTurnLeft ? 1 : 0);
}

// How a step runs: one call per scene for all its vehicles and frames (Intersection::step), or
// the per-vehicle kernels (step_batch: launches per scene and per scene x slot); auto is per
// vehicle on CUDA, per scene on the CPU. Both give the same results on the same device.
enum class Kernels : std::int32_t { kAuto, kScene, kVehicle };

struct Params {
  std::int32_t max_episode_steps = 13;  // duration x policy frequency
  std::int32_t agents = 1;              // agents_per_env
  std::int32_t traffic = 20;            // traffic slots per scene
  std::int32_t slots = 21;              // agents + traffic
  std::int32_t substeps = 15;           // simulation frames per policy step
  float dt = 1.0f / 15.0f;              // s per frame
  std::int32_t observed = 15;           // rows in the observation
  std::int32_t initial_vehicles = 10;   // warm-up spawns, 1 s of simulation each
  std::int32_t destination = -1;        // the agents' turn, or -1: random per agent
  float spawn_probability = 0.6f, spawn_probability_range = 0.0f;
  float collision_reward = -5.0f, high_speed_reward = 1.0f, arrived_reward = 1.0f;
  float speed_low = 7.0f, speed_high = 9.0f;  // reward_speed_range
  bool normalize_reward = false;
  bool autopilot = false;  // the agents drive by the traffic's IDM + yielding; actions ignored
  float idm_delta_low = 4.0f, idm_delta_high = 4.0f;
  float idm_time_gap_low = 1.5f, idm_time_gap_high = 1.5f;
  float yield_distance = 30.0f;      // m before the crossing where the priority rule applies
  Kernels kernels = Kernels::kAuto;  // which step runs (see vehicle_kernels)
  // the road: route r's three pieces (approach, turn, exit), built by physics::build_intersection
  float entry;                                  // s where every route enters the crossing
  physics::LanePiece<float> piece[kRoutes][3];  // by route
  float piece_s0[kRoutes][3];                   // s at which each piece starts
  float route_length[kRoutes];                  // m
  float turn_length[kRoutes];                   // m, inside the crossing
  std::uint16_t conflicts[kRoutes];             // bit j: route j crosses or merges with this one
};

// The 12 routes from physics::build_intersection, and which pairs conflict: two routes from
// different arms whose paths inside the crossing (turn piece and the exit's first car length)
// come within a car width plus 1 m of each other.
inline void build_routes(Params* p) {
  physics::RoadStorage<float> storage;
  physics::RoadNetwork<float> net = storage.network();
  if (physics::build_intersection(&net) < 0) throw Error("Intersection-v0: road build failed");
  for (int r = 0; r < kRoutes; ++r) {
    const physics::LaneChain<float> lane =
        physics::road_lane(net, physics::intersection_route(r / 3, r % 3));
    for (int k = 0; k < 3; ++k) {
      p->piece[r][k] = lane.pieces[k];
      p->piece_s0[r][k] = lane.s0[k];
    }
    p->route_length[r] = lane.length;
    p->turn_length[r] = lane.pieces[1].length;
    p->entry = lane.pieces[0].length;
  }
  std::vector<physics::Vec2<float>> path[kRoutes];
  for (int r = 0; r < kRoutes; ++r) {
    const physics::LaneChain<float> lane{p->piece[r], p->piece_s0[r], 3, kLaneWidth,
                                         p->route_length[r]};
    for (float s = p->entry; s <= p->entry + p->turn_length[r] + kLength; s += 0.25f) {
      path[r].push_back(physics::lane_position(lane, s));
    }
  }
  for (int r = 0; r < kRoutes; ++r) {
    p->conflicts[r] = 0;
    for (int q = 0; q < kRoutes; ++q) {
      if (route_arm(q) == route_arm(r)) continue;
      bool near = false;
      for (const auto& a : path[r]) {
        for (const auto& b : path[q]) near = near || physics::length(a - b) < kWidth + 1.0f;
      }
      if (near) p->conflicts[r] |= static_cast<std::uint16_t>(1u << q);
    }
  }
}

inline Params read_params(ConfigReader& r) {
  Params p;
  r.choice("action_type", "discrete", {"discrete", "continuous"},
           "discrete meta-actions (SLOWER, IDLE, FASTER) or continuous acceleration");
  p.agents = static_cast<std::int32_t>(r.integer(
      "agents_per_env", 1, 1, kMaxAgents,
      "controlled vehicles per scene, agent k entering from arm k; rows = scenes x agents"));
  p.traffic = static_cast<std::int32_t>(
      r.integer("vehicles", 20, 0, kMaxTraffic, "traffic slots per scene (most at once)"));
  p.slots = p.agents + p.traffic;
  p.initial_vehicles = static_cast<std::int32_t>(r.integer(
      "initial_vehicle_count", 10, 0, 60, "warm-up spawns before the agents enter, 1 s each"));
  p.spawn_probability = static_cast<float>(
      r.real("spawn_probability", 0.6, 0.0, 1.0, "chance of a new traffic vehicle per step"));
  p.spawn_probability_range = static_cast<float>(
      r.real("spawn_probability_range", 0.0, 0.0, 1.0,
             "domain randomisation: each episode draws its spawn probability in +- this, clipped"));
  const std::string dest = r.choice("destination", "left", {"random", "right", "straight", "left"},
                                    "the agents' turn (random: drawn per agent and episode)");
  p.destination = dest == "random" ? -1 : (dest == "right" ? 0 : (dest == "straight" ? 1 : 2));
  const double duration = r.real("duration", 13.0, 1.0, 3600.0, "episode length, s");
  const double sim_hz = r.real("simulation_frequency", 15.0, 1.0, 100.0, "physics frames per s");
  const double policy_hz = r.real("policy_frequency", 1.0, 0.1, 100.0, "actions per s");
  p.observed = static_cast<std::int32_t>(r.integer(
      "observed_vehicles", 15, 1, 32, "rows of the kinematics observation (the agent first)"));
  p.collision_reward = static_cast<float>(r.real("collision_reward", -5.0, -100.0, 0.0, ""));
  p.high_speed_reward = static_cast<float>(r.real("high_speed_reward", 1.0, 0.0, 100.0, ""));
  p.arrived_reward = static_cast<float>(r.real("arrived_reward", 1.0, 0.0, 100.0, ""));
  p.speed_low = static_cast<float>(r.real("reward_speed_low", 7.0, 0.0, 40.0, "m/s"));
  p.speed_high = static_cast<float>(r.real("reward_speed_high", 9.0, 0.0, 40.0, "m/s"));
  p.normalize_reward =
      r.boolean("normalize_reward", false, "map the reward from [collision, arrived] to [0, 1]");
  p.autopilot =
      r.choice("ego_policy", "agent", {"agent", "autopilot"},
               "who drives the agents: the actions, or the scripted baseline (the traffic's IDM "
               "and yielding rule; actions are then ignored)") == "autopilot";
  p.idm_delta_low =
      static_cast<float>(r.real("idm_delta_low", 4.0, 1.0, 10.0, "traffic IDM exponent, low"));
  p.idm_delta_high =
      static_cast<float>(r.real("idm_delta_high", 4.0, 1.0, 10.0, "traffic IDM exponent, high"));
  p.idm_time_gap_low =
      static_cast<float>(r.real("idm_time_gap_low", 1.5, 0.5, 4.0, "traffic IDM time gap, low, s"));
  p.idm_time_gap_high = static_cast<float>(
      r.real("idm_time_gap_high", 1.5, 0.5, 4.0, "traffic IDM time gap, high, s"));
  p.yield_distance = static_cast<float>(
      r.real("yield_distance", 30.0, 5.0, 100.0, "m before the crossing where traffic yields"));
  const std::string kernels =
      r.choice("kernels", "auto", {"auto", "scene", "vehicle"},
               "how a step runs: scene (one call per scene), vehicle (per scene and per scene x "
               "slot kernels, thousands of scenes x tens of vehicles per launch); auto: vehicle "
               "on CUDA, scene on the CPU");
  p.kernels = kernels == "scene"     ? Kernels::kScene
              : kernels == "vehicle" ? Kernels::kVehicle
                                     : Kernels::kAuto;
  const double ratio = std::floor(sim_hz / policy_hz + 1e-9);
  if (ratio < 1) {
    throw Error("Intersection-v0: policy_frequency=" + std::to_string(policy_hz) +
                " exceeds simulation_frequency=" + std::to_string(sim_hz) +
                "; allowed: policy_frequency <= simulation_frequency");
  }
  p.substeps = static_cast<std::int32_t>(ratio);
  p.dt = static_cast<float>(1.0 / sim_hz);
  p.max_episode_steps = static_cast<std::int32_t>(std::ceil(duration * policy_hz - 1e-9));
  if (p.speed_high <= p.speed_low) {
    throw Error("Intersection-v0: reward_speed_high=" + std::to_string(p.speed_high) +
                " must exceed reward_speed_low=" + std::to_string(p.speed_low));
  }
  if (p.idm_delta_high < p.idm_delta_low) {
    throw Error("Intersection-v0: idm_delta_high must be >= idm_delta_low");
  }
  if (p.idm_time_gap_high < p.idm_time_gap_low) {
    throw Error("Intersection-v0: idm_time_gap_high must be >= idm_time_gap_low");
  }
  build_routes(&p);
  return p;
}

// Per-slot state, (scenes x slots) each; slots 0..agents-1 are the agents.
struct View {
  std::int32_t slots, agents;
  std::int32_t* route;  // 3 * arm + turn, or -1: empty slot
  float* s;             // m along the route
  float* speed;         // m/s
  float* target_speed;  // m/s (IDM's v0; an agent's meta-action target)
  float* delta;         // IDM exponent
  float* time_gap;      // IDM time gap, s
  float* x;             // m, derived from (route, s)
  float* y;             // m
  float* heading;       // rad
  float* accel;         // (scenes x agents) m/s^2, the held continuous command
  float* spawn_p;       // (scenes) this episode's spawn probability
};

// Whether steps run the per-vehicle kernels (step_batch) on device d.
inline bool vehicle_kernels(const Params& p, const Device& d) {
  return p.kernels == Kernels::kVehicle || (p.kernels == Kernels::kAuto && d.is_cuda());
}

// The per-vehicle kernels' scratch: what frame and step keep in locals. Every element a scene
// reads in a step is written earlier in that step (acc in the frame's decide launch, the flags
// in the step's first launch), so it is no part of the scene's state: snapshots leave it out.
struct FrameScratchView {
  float* acc;             // (scenes x slots) m/s^2, decided this frame
  std::uint8_t* crashed;  // (scenes x agents) the agent crashed this step
  std::uint8_t* any;      // (scenes) an agent crashed this step: its later frames are skipped
};
struct FrameScratch {
  DeviceArray<float> acc;
  DeviceArray<std::uint8_t> crashed, any;
  FrameScratch() = default;
  FrameScratch(const Device& d, std::int64_t n, const Params& p)
      : acc(d, n * p.slots), crashed(d, n * p.agents), any(d, n) {}
  FrameScratchView view() { return {acc.data(), crashed.data(), any.data()}; }
};

struct State {
  std::int32_t slots, agents;
  FrameScratch scratch;  // sized only for the per-vehicle kernels (vehicle_kernels)
  DeviceArray<std::int32_t> route;
  DeviceArray<float> s, speed, target_speed, delta, time_gap, x, y, heading, accel, spawn_p;
  State(const Device& d, std::int64_t n, const Params& p)
      : slots(p.slots),
        agents(p.agents),
        route(d, n * p.slots),
        s(d, n * p.slots),
        speed(d, n * p.slots),
        target_speed(d, n * p.slots),
        delta(d, n * p.slots),
        time_gap(d, n * p.slots),
        x(d, n * p.slots),
        y(d, n * p.slots),
        heading(d, n * p.slots),
        accel(d, n * p.agents),
        spawn_p(d, n) {
    if (vehicle_kernels(p, d)) scratch = FrameScratch(d, n, p);
  }
  // Every array, for the engine's snapshots (checkpoints): more than read_state exchanges (the
  // scratch is rewritten before it is read, see FrameScratchView).
  template <class F>
  void for_each_array(F&& f) {
    f(route);
    f(s);
    f(speed);
    f(target_speed);
    f(delta);
    f(time_gap);
    f(x);
    f(y);
    f(heading);
    f(accel);
    f(spawn_p);
  }
  View view() {
    return {
        slots,         agents,          route.data(), s.data(), speed.data(),   target_speed.data(),
        delta.data(),  time_gap.data(), x.data(),     y.data(), heading.data(), accel.data(),
        spawn_p.data()};
  }
};

CONVOY_HD_INLINE physics::LaneChain<float> route_lane(const Params& p, int r) {
  return {p.piece[r], p.piece_s0[r], 3, kLaneWidth, p.route_length[r]};
}

// World pose of slot k from its route and s.
CONVOY_HD_INLINE void place(const Params& p, const View& v, std::int64_t k) {
  const int r = v.route[k];
  if (r < 0) return;
  const physics::LaneChain<float> lane = route_lane(p, r);
  const physics::Vec2<float> q = physics::lane_position(lane, v.s[k]);
  v.x[k] = q.x;
  v.y[k] = q.y;
  v.heading[k] = physics::lane_heading(lane, v.s[k]);
}

// Where slot u is relative to the crossing: before it (front not in yet), in it, or past it.
CONVOY_HD_INLINE bool before_crossing(const Params& p, int r, float s) {
  (void)r;
  return s + kLength / 2 < p.entry;
}
CONVOY_HD_INLINE bool in_crossing(const Params& p, int r, float s) {
  return s + kLength / 2 >= p.entry && s - kLength / 2 <= p.entry + p.turn_length[r];
}

// The distance from slot a's centre to slot b's centre along a's route, when b is ahead on the
// same path (same route; same approach while b has not left it; same exit once b is on it);
// negative when b is not on a's path ahead.
CONVOY_HD_INLINE float path_gap(const Params& p, int ra, float sa, int rb, float sb) {
  if (ra == rb) return sb - sa;
  if (route_arm(ra) == route_arm(rb) && sb < p.entry) return sb - sa;
  const float exit_b = p.entry + p.turn_length[rb];
  if (route_exit(ra) == route_exit(rb) && sb >= exit_b) {
    return (sb - exit_b) - (sa - (p.entry + p.turn_length[ra]));
  }
  return -1.0f;
}

// The yielding rule (a simplification of highway-env's RegulatedRoad): a vehicle whose front
// has not entered the crossing, within yield_distance of it and still able to stop before it
// (braking at 5 m/s^2), stops at the entry line while any vehicle on a conflicting route is in
// the crossing, or approaches (within yield_distance, and within 3 s at its speed or 10 m) with
// precedence: a higher route priority (east-west over north-south, a left turn one lower), or
// the same priority and closer to the entry (ties by slot). Precedence is a strict order, so the
// first in it never waits for another approaching vehicle: no deadlock.
CONVOY_HD_INLINE bool must_yield(const Params& p, const View& v, std::int64_t base, int self) {
  const int r = v.route[base + self];
  const float s = v.s[base + self];
  const float to_entry = p.entry - s;
  if (!before_crossing(p, r, s) || to_entry > p.yield_distance) return false;
  const float sp = v.speed[base + self];
  if (to_entry - kLength / 2 < sp * sp / (2.0f * 5.0f)) return false;  // too late: commit
  const int prio = route_priority(r);
  for (int u = 0; u < v.slots; ++u) {
    const int ru = v.route[base + u];
    if (u == self || ru < 0 || !((p.conflicts[r] >> ru) & 1u)) continue;
    const float su = v.s[base + u];
    if (in_crossing(p, ru, su)) return true;
    const float du = p.entry - su;
    // it counts while within yield_distance and due within 3 s (or 10 m): a slow or stopped
    // vehicle further back lets others go, and then waits for them as they are in the crossing
    const float due = fmaxf(10.0f, 3.0f * v.speed[base + u]);
    if (!before_crossing(p, ru, su) || du > p.yield_distance || du > due) continue;
    const int pu = route_priority(ru);
    if (pu > prio || (pu == prio && (du < to_entry || (du == to_entry && u < self)))) return true;
  }
  return false;
}

// Slot k's IDM speed ratio max(v, 0) / v0, v0 its target speed clipped to the lanes' limit
// (as fminf, NaN included, without its libm call), and slot_power its power (v / v0)^delta: the
// free-road part of traffic_acceleration, taken once per slot and frame (it was taken per IDM
// question, in a scalar call: 39% of an env-step's time, perf). frame takes the occupied
// slots' in a loop that the compiler vectorises: +11% env-steps/s (every slot's, the empty
// ones too, cost 9%); the per-vehicle kernels take each slot's in its own thread.
CONVOY_HD_INLINE float slot_speed_ratio(const View& v, std::int64_t k) {
  const float target = v.target_speed[k];
  return physics::idm_speed_ratio(v.speed[k], target < kSpeedLimit ? target : kSpeedLimit);
}
CONVOY_FRAME_INLINE float slot_power(const View& v, std::int64_t k, float ratio) {
  return physics::idm_power(ratio, v.delta[k]);
}

// IDMVehicle.act along the route: IDM behind the nearest vehicle on the same path, and behind
// a standing obstacle half a car into the crossing while yielding. power: slot_power's.
CONVOY_HD_INLINE float traffic_acceleration(const Params& p, const View& v, std::int64_t base,
                                            int self, float power) {
  const std::int64_t k = base + self;
  const int r = v.route[k];
  const float s = v.s[k];
  float gap = 1e9f, front_speed = 0.0f;
  for (int u = 0; u < v.slots; ++u) {
    const int ru = v.route[base + u];
    if (u == self || ru < 0) continue;
    const float g = path_gap(p, r, s, ru, v.s[base + u]);
    if (g > 0.0f && g < gap) {
      gap = g;
      front_speed = v.speed[base + u];
    }
  }
  physics::IdmParams<float> idm = physics::highway_env_idm<float>();
  idm.delta = v.delta[k];
  idm.time_gap = v.time_gap[k];
  // idm_acceleration_raw's operations, the free-road term (its power) shared by both questions
  const float free_road = physics::idm_free_road_from_power(idm, power);
  float a = physics::idm_with_leader(idm, free_road, v.speed[k], gap < 1e8f, gap, front_speed);
  if (must_yield(p, v, base, self)) {
    const float stop = p.entry + kLength / 2 - s;
    a = fminf(a, physics::idm_with_leader(idm, free_road, v.speed[k], true, stop, 0.0f));
  }
  return physics::clamp(a, -idm.acc_clip, idm.acc_clip);
}

// _spawn_vehicle: with probability `prob`, a traffic vehicle enters arm a (random) `longitudinal`
// + 5 + N(0, position_deviation) m along its approach at 8 + N(0, speed_deviation) m/s, bound for
// a random other arm (or straight on), unless a vehicle is within 15 m or no slot is free.
CONVOY_HD_INLINE void spawn(const Params& p, const View& v, std::int64_t c, PhiloxStream& rng,
                            float longitudinal, float position_deviation, float speed_deviation,
                            float prob, bool go_straight) {
  if (rng.uniform_float() >= prob) return;
  const int arm = static_cast<int>(rng.below(4));
  const int turn = go_straight ? physics::kTurnStraight : static_cast<int>(rng.below(3));
  const float s = longitudinal + 5.0f + rng.normal() * position_deviation;
  const float speed = 8.0f + rng.normal() * speed_deviation;
  const float delta = static_cast<float>(rng.uniform(p.idm_delta_low, p.idm_delta_high));
  const float gap = static_cast<float>(rng.uniform(p.idm_time_gap_low, p.idm_time_gap_high));
  const std::int64_t base = c * v.slots;
  const int r = 3 * arm + turn;
  const physics::Vec2<float> q = physics::lane_position(route_lane(p, r), s);
  int free_slot = -1;
  for (int u = v.slots - 1; u >= v.agents; --u) {
    if (v.route[base + u] < 0) free_slot = u;
  }
  if (free_slot < 0) return;
  for (int u = 0; u < v.slots; ++u) {
    if (v.route[base + u] < 0) continue;
    const float dx = v.x[base + u] - q.x, dy = v.y[base + u] - q.y;
    if (dx * dx + dy * dy < kSpawnClearance * kSpawnClearance) return;
  }
  const std::int64_t k = base + free_slot;
  v.route[k] = r;
  v.s[k] = s;
  v.speed[k] = speed;
  v.target_speed[k] = speed;
  v.delta[k] = delta;
  v.time_gap[k] = gap;
  place(p, v, k);
}

// _clear_vehicles: traffic 4 car lengths from its exit lane's end leaves the scene.
CONVOY_HD_INLINE void clear_leaving(const Params& p, const View& v, std::int64_t c) {
  const std::int64_t base = c * v.slots;
  for (int u = v.agents; u < v.slots; ++u) {
    const int r = v.route[base + u];
    if (r >= 0 && v.s[base + u] >= p.route_length[r] - 4.0f * kLength) v.route[base + u] = -1;
  }
}

CONVOY_HD_INLINE bool arrived(const Params& p, int r, float s) {
  return s >= p.entry + p.turn_length[r] + kExitDistance;
}

// A frame's stages, shared by frame (one scene per call: the CPU's default) and the per-vehicle
// kernels of step_batch (below): decide per slot (from the frame's starting state only), move
// per slot (its own state only), collide per scene.

// Decide: the acceleration of occupied slot u of scene c this frame: an agent's command (its
// meta-action's target speed tracked, or its held continuous command), else IDMVehicle.act.
// power: slot_power's for the slot.
template <bool Discrete>
CONVOY_HD_INLINE float slot_acceleration(const Params& p, const View& v, std::int64_t c, int u,
                                         float power) {
  const std::int64_t base = c * v.slots;
  const std::int64_t k = base + u;
  if (u < v.agents && !p.autopilot) {
    return Discrete ? (1.0f / kTauAcc) * (v.target_speed[k] - v.speed[k])
                    : v.accel[c * v.agents + u];
  }
  return traffic_acceleration(p, v, base, u, power);
}

// Move: occupied slot k along its route by one frame at acceleration acc (Euler, as
// Vehicle.step); vehicles never reverse along their route, Vehicle.MAX_SPEED caps the agents.
CONVOY_HD_INLINE void move(const Params& p, const View& v, std::int64_t k, float acc) {
  v.s[k] += v.speed[k] * p.dt;
  v.speed[k] = physics::clamp(v.speed[k] + acc * p.dt, 0.0f, kMaxSpeed);
  place(p, v, k);
}

// Collide: each agent of scene c against every other vehicle. Sets crashed[a] of an agent that
// overlaps something (and of the other, when an agent); returns whether any agent crashed.
// (Forced inline: as a call, g++'s choice, it cost 0.5% of an env-step at 4 agents.)
CONVOY_FRAME_INLINE bool agents_collide(const View& v, std::int64_t c, bool* crashed) {
  const std::int64_t base = c * v.slots;
  bool any = false;
  for (int a = 0; a < v.agents; ++a) {
    const std::int64_t ka = base + a;
    if (v.route[ka] < 0) continue;  // the warm-up runs before the agents enter
    const physics::OrientedBox<float> box{
        {v.x[ka], v.y[ka]}, {kLength / 2, kWidth / 2}, v.heading[ka]};
    for (int u = 0; u < v.slots; ++u) {
      const std::int64_t k = base + u;
      if (u == a || v.route[k] < 0) continue;
      if (fabsf(v.x[k] - v.x[ka]) > kLength + kWidth ||
          fabsf(v.y[k] - v.y[ka]) > kLength + kWidth) {
        continue;
      }
      const physics::OrientedBox<float> other{
          {v.x[k], v.y[k]}, {kLength / 2, kWidth / 2}, v.heading[k]};
      if (physics::box_box_overlap(box, other)) {
        crashed[a] = true;
        if (u < v.agents) crashed[u] = true;
        any = true;
      }
    }
  }
  return any;
}

// One simulation frame of scene c: every vehicle decides, then all move, then each agent is
// checked against every other vehicle. Sets crashed[a]; returns whether any agent crashed.
template <bool Discrete>
CONVOY_HD_INLINE bool frame(const Params& p, const View& v, std::int64_t c, bool* crashed) {
  const std::int64_t base = c * v.slots;
  float acc[kMaxSlots];
  // the occupied slots listed without a branch, their IDM powers in a loop of their own that
  // the compiler vectorises (the ratios first: their selects would stop it)
  int occupied[kMaxSlots];
  float power[kMaxSlots];
  int m = 0;
  for (int u = 0; u < v.slots; ++u) {
    occupied[m] = u;
    power[m] = slot_speed_ratio(v, base + u);
    m += v.route[base + u] >= 0;
  }
  for (int j = 0; j < m; ++j) power[j] = slot_power(v, base + occupied[j], power[j]);
  for (int j = 0; j < m; ++j) {
    acc[occupied[j]] = slot_acceleration<Discrete>(p, v, c, occupied[j], power[j]);
  }
  for (int u = 0; u < v.slots; ++u) {
    const std::int64_t k = base + u;
    if (v.route[k] < 0) continue;
    move(p, v, k, acc[u]);
  }
  return agents_collide(v, c, crashed);
}

// The end of scene c's step, after its frames (crashed: per agent, any: one of them): each
// agent's reward (IntersectionEnv._agent_reward) and the scene's termination, then
// (IntersectionEnv.step) leaving traffic cleared and maybe one spawn, drawn from rng (the
// scene's kStep stream).
CONVOY_HD_INLINE void end_step(const Params& p, const View& v, std::int64_t c, const bool* crashed,
                               bool any, float* reward, bool* terminated, PhiloxStream& rng) {
  const std::int64_t base = c * v.slots;
  bool all_arrived = true;
  for (int a = 0; a < v.agents; ++a) {
    const std::int64_t k = base + a;
    // (an agent slot emptied by set_state never arrives)
    const bool done = v.route[k] >= 0 && arrived(p, v.route[k], v.s[k]);
    all_arrived = all_arrived && done;
    const float fast =
        physics::clamp((v.speed[k] - p.speed_low) / (p.speed_high - p.speed_low), 0.0f, 1.0f);
    float r = p.collision_reward * (crashed[a] ? 1.0f : 0.0f) + p.high_speed_reward * fast;
    if (done) r = p.arrived_reward;
    if (p.normalize_reward) {
      r = (r - p.collision_reward) / (p.arrived_reward - p.collision_reward);
    }
    reward[a] = r;
  }
  *terminated = any || all_arrived;
  clear_leaving(p, v, c);
  spawn(p, v, c, rng, 0.0f, 1.0f, 1.0f, v.spawn_p[c], false);
}

// The per-vehicle kernels of Env's step (Env: Intersection<D>), one functor per stage, each
// over one index (see step_batch). Env provides apply_action.
template <class Env>
struct BatchStage {
  Params p;
  View v;
  FrameScratchView w;
  const std::int32_t* a_int;  // (rows) for Discrete
  const float* a_float;       // (rows) for continuous
  const std::uint8_t* skip;   // (rows) or null: a scene is skipped by its first row's byte
  CONVOY_HD bool skipped(std::int64_t c) const { return skip && skip[c * v.agents]; }
  // scene c does nothing in this launch: skipped this step, or an agent crashed in an earlier
  // frame (the scene path's `!any`)
  CONVOY_HD bool idle(std::int64_t c) const { return skipped(c) || w.any[c]; }
};

template <class Env>
struct BatchBegin {  // per scene: the agents' actions; no crash yet
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t c) const {
    if (b.skipped(c)) return;
    const std::int64_t row0 = c * b.v.agents;
    for (int a = 0; a < b.v.agents; ++a) {
      if (!b.p.autopilot) {
        if constexpr (Env::kDiscrete) {
          Env::apply_action(b.v, c, a, b.a_int[row0 + a]);
        } else {
          Env::apply_action(b.v, c, a, b.a_float[row0 + a]);
        }
      }
      b.w.crashed[row0 + a] = 0;
    }
    b.w.any[c] = 0;
  }
};

template <class Env>
struct BatchDecide {  // per scene x slot
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t k) const {
    const std::int64_t c = k / b.v.slots;
    if (b.idle(c) || b.v.route[k] < 0) return;
    b.w.acc[k] = slot_acceleration<Env::kDiscrete>(b.p, b.v, c, static_cast<int>(k - c * b.v.slots),
                                                   slot_power(b.v, k, slot_speed_ratio(b.v, k)));
  }
};

template <class Env>
struct BatchMove {  // per scene x slot
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t k) const {
    if (b.idle(k / b.v.slots) || b.v.route[k] < 0) return;
    move(b.p, b.v, k, b.w.acc[k]);
  }
};

template <class Env>
struct BatchCollide {  // per scene
  BatchStage<Env> b;
  CONVOY_HD void operator()(std::int64_t c) const {
    if (b.idle(c)) return;
    const std::int64_t row0 = c * b.v.agents;
    bool crashed[kMaxAgents];
    for (int a = 0; a < b.v.agents; ++a) crashed[a] = b.w.crashed[row0 + a] != 0;
    const bool any = agents_collide(b.v, c, crashed);
    for (int a = 0; a < b.v.agents; ++a) b.w.crashed[row0 + a] = crashed[a] ? 1 : 0;
    b.w.any[c] = any ? 1 : 0;
  }
};

template <class Env>
struct BatchEnd {  // per scene: rewards, termination, leaving traffic, spawning
  BatchStage<Env> b;
  SceneStepStreams streams;
  float* reward;             // (rows)
  std::uint8_t* terminated;  // (rows)
  CONVOY_HD void operator()(std::int64_t c) const {
    if (b.skipped(c)) return;
    const std::int64_t row0 = c * b.v.agents;
    bool crashed[kMaxAgents];
    for (int a = 0; a < b.v.agents; ++a) crashed[a] = b.w.crashed[row0 + a] != 0;
    PhiloxStream rng = streams(c);
    bool term = false;
    end_step(b.p, b.v, c, crashed, b.w.any[c] != 0, reward + row0, &term, rng);
    for (int a = 0; a < b.v.agents; ++a) terminated[row0 + a] = term ? 1 : 0;
  }
};

// Env::step for every scene whose first row's skip byte is clear, as launches over scenes
// (begin; per frame collide; end) and over scenes x slots (per frame decide, move): the same
// pieces as Env::step in the same order per vehicle, and end_step draws from the same stream
// (streams(c), what the engine gives Env::step), so the same results on the same device.
// Action: std::int32_t (Discrete) or float (continuous), one per row.
template <class Env, class Action>
void step_batch(const Device& d, const Params& p, const View& v, FrameScratch& w,
                std::int64_t scenes, const Action* actions, const std::uint8_t* skip,
                const SceneStepStreams& streams, float* reward, std::uint8_t* terminated) {
  if (w.any.size() != scenes) {
    throw Error(std::string(Env::kName) + ": step_batch without its scratch (kernels=vehicle)");
  }
  const BatchStage<Env> b{p,
                          v,
                          w.view(),
                          reinterpret_cast<const std::int32_t*>(actions),
                          reinterpret_cast<const float*>(actions),
                          skip};
  const std::int64_t cars = scenes * v.slots;
  for_each_index(d, scenes, BatchBegin<Env>{b});
  for (std::int32_t f = 0; f < p.substeps; ++f) {
    for_each_index(d, cars, BatchDecide<Env>{b});
    for_each_index(d, cars, BatchMove<Env>{b});
    for_each_index(d, scenes, BatchCollide<Env>{b});
  }
  for_each_index(d, scenes, BatchEnd<Env>{b, streams, reward, terminated});
}

}  // namespace intersection

template <bool Discrete>
struct Intersection {
  static constexpr const char* kName = "Intersection-v0";
  static constexpr const char* kDescription =
      "cross a four-way intersection among yielding IDM traffic; agents_per_env controlled "
      "vehicles flattened into the batch (highway-env's intersection-v0)";
  static constexpr int kObsDim = -1;  // sized by observed_vehicles
  static constexpr int kActDim = 1;
  static constexpr int kStateDim = -1;
  static constexpr bool kDiscrete = Discrete;
  static constexpr int kMaxAgents = intersection::kMaxAgents;

  using Params = intersection::Params;
  using View = intersection::View;
  using State = intersection::State;

  static Params read_params(ConfigReader& r) { return intersection::read_params(r); }
  CONVOY_HD static int agents(const Params& p) { return p.agents; }
  static int obs_dim(const Params& p) { return p.observed * intersection::kFeatures; }
  static int state_dim(const Params& p) { return p.slots * intersection::kStateFields; }
  static Space observation_space(const Params& p) {
    return Space::box(std::vector<float>(obs_dim(p), -1.0f), std::vector<float>(obs_dim(p), 1.0f));
  }
  static Space action_space(const Params&) {
    if (Discrete) return Space::discrete(3);
    return Space::box({-1.0f}, {1.0f});
  }
  static double reward_threshold(const Params&) { return std::numeric_limits<double>::quiet_NaN(); }

  // IntersectionEnv._reset: warm-up traffic (initial_vehicle_count spawns along the approaches,
  // each followed by 1 s of simulation), a challenger going straight 60 m along its approach,
  // then the agents (agent k on arm k, 60 + N(0, 5) m along its approach at 10 m/s, target 9
  // m/s), and traffic within 20 m of an agent removed.
  CONVOY_HD static void reset(const Params& p, const View& v, std::int64_t c, PhiloxStream& rng) {
    using namespace intersection;
    const std::int64_t base = c * v.slots;
    for (int u = 0; u < v.slots; ++u) v.route[base + u] = -1;
    for (int a = 0; a < v.agents; ++a) v.accel[c * v.agents + a] = 0.0f;
    const float jitter = p.spawn_probability_range * (2.0f * rng.uniform_float() - 1.0f);
    v.spawn_p[c] = physics::clamp(p.spawn_probability + jitter, 0.0f, 1.0f);
    bool crashed[kMaxAgents] = {false, false, false, false};
    const int n = p.initial_vehicles;
    for (int t = 0; t < n; ++t) {
      const float longitudinal = n > 1 ? 80.0f * static_cast<float>(t) / (n - 1) : 0.0f;
      spawn(p, v, c, rng, longitudinal, 1.0f, 1.0f, v.spawn_p[c], false);
      const int frames = static_cast<int>(1.0f / p.dt + 0.5f);
      for (int f = 0; f < frames; ++f) frame<Discrete>(p, v, c, crashed);
      clear_leaving(p, v, c);
    }
    spawn(p, v, c, rng, 60.0f, 0.1f, 0.0f, 1.0f, true);
    for (int a = 0; a < v.agents; ++a) {
      const std::int64_t k = base + a;
      const int turn = p.destination >= 0 ? p.destination : static_cast<int>(rng.below(3));
      v.route[k] = 3 * a + turn;
      v.s[k] = 60.0f + 5.0f * rng.normal();
      v.speed[k] = kSpeedLimit;
      v.target_speed[k] = target_speed_of(2);
      v.delta[k] = 4.0f;
      v.time_gap[k] = 1.5f;
      place(p, v, k);
    }
    for (int u = v.agents; u < v.slots; ++u) {
      const std::int64_t k = base + u;
      if (v.route[k] < 0) continue;
      for (int a = 0; a < v.agents; ++a) {
        const float dx = v.x[k] - v.x[base + a], dy = v.y[k] - v.y[base + a];
        if (dx * dx + dy * dy < kAgentClearance * kAgentClearance) v.route[k] = -1;
      }
    }
  }

  // MDPVehicle.act, longitudinal only: FASTER / SLOWER move the target one step from the
  // current speed's index (speed_to_index), IDLE keeps it.
  CONVOY_HD static void apply_action(const View& v, std::int64_t c, int a, std::int32_t act) {
    const std::int64_t k = c * v.slots + a;
    if (act == 1) return;
    const float x = v.speed[k] / intersection::target_speed_of(2);
    int idx = static_cast<int>(rintf(x * 2.0f)) + (act == 2 ? 1 : -1);
    idx = idx < 0 ? 0 : (idx > 2 ? 2 : idx);
    v.target_speed[k] = intersection::target_speed_of(idx);
  }
  CONVOY_HD static void apply_action(const View& v, std::int64_t c, int a, float act) {
    v.accel[c * v.agents + a] = physics::clamp(act, -1.0f, 1.0f) * 5.0f;
  }

  template <class Action>
  CONVOY_HD static void step(const Params& p, const View& v, std::int64_t c, const Action* action,
                             float* reward, bool* terminated, PhiloxStream& rng) {
    using namespace intersection;
    if (!p.autopilot) {
      for (int a = 0; a < v.agents; ++a) apply_action(v, c, a, action[a]);
    }
    bool crashed[kMaxAgents] = {false, false, false, false};
    bool any = false;
    for (int f = 0; f < p.substeps && !any; ++f) any = frame<Discrete>(p, v, c, crashed);
    end_step(p, v, c, crashed, any, reward, terminated, rng);
  }

  // The per-vehicle kernels (kernels=vehicle, the default on CUDA): step for every scene whose
  // first row's skip byte is clear, by launches over scenes and scenes x slots
  // (intersection::step_batch).
  using BatchAction = std::conditional_t<Discrete, std::int32_t, float>;
  static bool step_batch_enabled(const Params& p, const Device& d) {
    return intersection::vehicle_kernels(p, d);
  }
  static void step_batch(const Device& d, const Params& p, const View& v, State& st,
                         std::int64_t scenes, const BatchAction* actions, const std::uint8_t* skip,
                         const SceneStepStreams& streams, float* reward, std::uint8_t* terminated) {
    intersection::step_batch<Intersection>(d, p, v, st.scratch, scenes, actions, skip, streams,
                                           reward, terminated);
  }

  // How agent a's episode ended, from the scene's last state: 2 it overlaps another vehicle,
  // 1 it had arrived, else 0 (the time limit, or another agent's crash).
  static constexpr bool kHasOutcome = true;
  // the scripted baseline `convoy eval` compares with (ego_policy reads it)
  static constexpr const char* kBaseline = "ego_policy=autopilot";
  CONVOY_HD static std::uint8_t outcome(const Params& p, const View& v, std::int64_t c, int a) {
    using namespace intersection;
    const std::int64_t base = c * v.slots, ka = base + a;
    if (v.route[ka] < 0) return 0;
    const physics::OrientedBox<float> box{
        {v.x[ka], v.y[ka]}, {kLength / 2, kWidth / 2}, v.heading[ka]};
    for (int u = 0; u < v.slots; ++u) {
      const std::int64_t k = base + u;
      if (u == a || v.route[k] < 0) continue;
      const physics::OrientedBox<float> other{
          {v.x[k], v.y[k]}, {kLength / 2, kWidth / 2}, v.heading[k]};
      if (physics::box_box_overlap(box, other)) return 2;
    }
    return arrived(p, v.route[ka], v.s[ka]) ? 1 : 0;
  }

  // KinematicObservation for agent a: presence, x, y, vx, vy, cos_h, sin_h.
  CONVOY_HD static void observe(const Params& p, const View& v, std::int64_t c, int a, float* obs) {
    using namespace intersection;
    const std::int64_t base = c * v.slots;
    const std::int64_t ka = base + a;
    const float ex = v.x[ka], ey = v.y[ka];
    const float evx = v.speed[ka] * cosf(v.heading[ka]);
    const float evy = v.speed[ka] * sinf(v.heading[ka]);
    for (int j = 0; j < p.observed * kFeatures; ++j) obs[j] = 0.0f;
    auto write = [&](int row, float px, float py, float vx, float vy, float h) {
      float* o = obs + row * kFeatures;
      o[0] = 1.0f;
      o[1] = physics::clamp(px / 100.0f, -1.0f, 1.0f);
      o[2] = physics::clamp(py / 100.0f, -1.0f, 1.0f);
      o[3] = physics::clamp(vx / 20.0f, -1.0f, 1.0f);
      o[4] = physics::clamp(vy / 20.0f, -1.0f, 1.0f);
      o[5] = cosf(h);
      o[6] = sinf(h);
    };
    write(0, ex, ey, evx, evy, v.heading[ka]);
    // the observed-1 nearest others within perception, in (distance, slot) order
    float last = -1.0f;
    int last_u = -1;
    for (int row = 1; row < p.observed; ++row) {
      float best = kPerception * kPerception;
      int pick = -1;
      for (int u = 0; u < v.slots; ++u) {
        if (u == a || v.route[base + u] < 0) continue;
        const float dx = v.x[base + u] - ex, dy = v.y[base + u] - ey;
        const float d2 = dx * dx + dy * dy;
        const bool after = d2 > last || (d2 == last && u > last_u);
        if (after && (d2 < best || (d2 == best && (pick < 0 || u < pick)))) {
          best = d2;
          pick = u;
        }
      }
      if (pick < 0) break;
      last = best;
      last_u = pick;
      const std::int64_t k = base + pick;
      const float h = v.heading[k];
      write(row, v.x[k] - ex, v.y[k] - ey, v.speed[k] * cosf(h) - evx, v.speed[k] * sinf(h) - evy,
            h);
    }
  }

  // State exchange for tests: per slot [route (-1 empty), s, speed, target_speed, delta,
  // time_gap]; poses follow from the routes. The held continuous commands are not part of it.
  CONVOY_HD static void read_state(const View& v, std::int64_t c, double* out) {
    for (int u = 0; u < v.slots; ++u) {
      const std::int64_t k = c * v.slots + u;
      using L = intersection::StateLayout;
      out[L::route(u)] = v.route[k];
      out[L::s(u)] = v.s[k];
      out[L::speed(u)] = v.speed[k];
      out[L::target_speed(u)] = v.target_speed[k];
      out[L::delta(u)] = v.delta[k];
      out[L::time_gap(u)] = v.time_gap[k];
    }
  }
  CONVOY_HD static void write_state(const Params& p, const View& v, std::int64_t c,
                                    const double* in) {
    for (int u = 0; u < v.slots; ++u) {
      const std::int64_t k = c * v.slots + u;
      using L = intersection::StateLayout;
      const int r = static_cast<int>(in[L::route(u)]);
      v.route[k] = (r >= 0 && r < intersection::kRoutes) ? r : -1;
      v.s[k] = static_cast<float>(in[L::s(u)]);
      v.speed[k] = static_cast<float>(in[L::speed(u)]);
      v.target_speed[k] = static_cast<float>(in[L::target_speed(u)]);
      v.delta[k] = static_cast<float>(in[L::delta(u)]);
      v.time_gap[k] = static_cast<float>(in[L::time_gap(u)]);
      intersection::place(p, v, k);
    }
  }
};

}  // namespace convoy::envs
