// DiffDriveNav-v0: a differential-drive robot (TurtleBot3 Burger limits, physics/diffdrive.h)
// drives to a goal in a walled square arena among random circular obstacles, seeing them
// through a planar lidar (physics/lidar.h), in the spirit of the TurtleBot3 DRL navigation
// stages. Frame: the arena is [-arena_size/2, arena_size/2]^2, x right, y up, heading
// counter-clockwise from +x.
//
// Reset: the robot and the goal are drawn first (uniform, at least robot_radius + 0.1 m from
// the walls, at least min_goal_distance apart), then N ~ U{obstacles_min..obstacles_max}
// obstacles with radii ~ U[obstacle_radius_min, obstacle_radius_max], each redrawn until it
// keeps 0.1 m clear of the robot's footprint and of the goal (an obstacle that finds no place
// in 64 draws is left out, which only very cluttered settings can cause).
//
// Observation (n_rays + 5): lidar ranges / max_range in [0, 1] (rays from the robot's centre,
// fov centred on its heading, walls as segments, obstacles as circles), goal distance /
// (arena diagonal), cos and sin of the goal's bearing in the robot frame, v / v_max,
// omega / omega_max. Action [v, omega] in [-1, 1]^2 -> v_max, omega_max, held for dt (the
// exact arc of a constant twist).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "envs/lidar_kernels.h"
#include "physics/collision.h"
#include "physics/diffdrive.h"
#include "physics/lidar.h"
#include "physics/math.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/error.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"
#include "sim/vec_env.h"

namespace convoy::envs {

namespace diffdrive_nav {

constexpr int kMaxObstacles = 32;
constexpr int kMaxRays = 360;
constexpr float kClearance = 0.1f;  // m, spawn margin around the robot, the goal and walls
constexpr int kPlacementTries = 64;

struct Params {
  std::int32_t max_episode_steps = 500;
  float dt = 0.1f;     // s per step
  float arena = 4.0f;  // m, side of the square arena
  std::int32_t obstacles_min = 2, obstacles_max = 6;
  float radius_min = 0.1f, radius_max = 0.3f;  // m, obstacle radii
  float robot_radius = 0.105f;                 // m
  float goal_radius = 0.2f;                    // m, arrival tolerance (centre to goal)
  float min_goal_distance = 1.5f;              // m, start to goal at reset
  physics::LidarSpec<float> lidar = {24, 6.283185307179586f, 3.5f};
  physics::DiffDriveParams<float> robot = physics::small_diffdrive_robot<float>();
  float progress_reward = 10.0f;  // per metre closer to the goal
  float goal_reward = 10.0f;
  float collision_reward = -10.0f;
  float time_penalty = 0.01f;  // subtracted every step
  bool autopilot = false;      // the scripted go-to-goal + gap-following baseline drives
  LidarKernels kernels = LidarKernels::kAuto;  // per env or per ray obs
};

inline Params read_params(ConfigReader& r) {
  Params p;
  const std::string name = "DiffDriveNav-v0";
  p.max_episode_steps = static_cast<std::int32_t>(
      r.integer("max_episode_steps", 500, 1, 1000000, "truncation limit, steps"));
  p.dt = static_cast<float>(r.real("dt", 0.1, 0.01, 1.0, "s per step"));
  p.arena = static_cast<float>(r.real("arena_size", 4.0, 1.0, 100.0, "side of the arena, m"));
  p.obstacles_min = static_cast<std::int32_t>(
      r.integer("obstacles_min", 2, 0, kMaxObstacles, "fewest obstacles per episode"));
  p.obstacles_max = static_cast<std::int32_t>(
      r.integer("obstacles_max", 6, 0, kMaxObstacles, "most obstacles per episode"));
  p.radius_min = static_cast<float>(
      r.real("obstacle_radius_min", 0.1, 0.01, 10.0, "smallest obstacle radius, m"));
  p.radius_max = static_cast<float>(
      r.real("obstacle_radius_max", 0.3, 0.01, 10.0, "largest obstacle radius, m"));
  p.robot_radius =
      static_cast<float>(r.real("robot_radius", 0.105, 0.01, 5.0, "robot footprint radius, m"));
  p.goal_radius = static_cast<float>(
      r.real("goal_radius", 0.2, 0.01, 10.0, "arrival when the centre is this close, m"));
  p.min_goal_distance = static_cast<float>(
      r.real("min_goal_distance", 1.5, 0.0, 100.0, "start to goal at reset, at least, m"));
  p.lidar.n_rays =
      static_cast<int>(r.integer("n_rays", 24, 1, kMaxRays, "lidar rays in the observation"));
  p.lidar.fov = static_cast<float>(
      r.real("fov", 6.283185307179586, 0.01, 6.283185307179586, "lidar field of view, rad"));
  p.lidar.max_range = static_cast<float>(r.real("max_range", 3.5, 0.1, 100.0, "lidar range, m"));
  p.robot.v_max = static_cast<float>(r.real("v_max", 0.22, 0.01, 10.0, "top speed, m/s"));
  p.robot.v_min = -p.robot.v_max;
  p.robot.omega_max =
      static_cast<float>(r.real("omega_max", 2.84, 0.01, 20.0, "top yaw rate, rad/s"));
  p.robot.wheel_speed_max = p.robot.v_max / p.robot.wheel_radius +
                            p.robot.omega_max * p.robot.axle_width / 2 / p.robot.wheel_radius;
  p.progress_reward = static_cast<float>(
      r.real("progress_reward", 10.0, 0.0, 1000.0, "per metre the goal gets closer"));
  p.goal_reward = static_cast<float>(r.real("goal_reward", 10.0, 0.0, 1000.0, "on arrival"));
  p.collision_reward =
      static_cast<float>(r.real("collision_reward", -10.0, -1000.0, 0.0, "on contact"));
  p.time_penalty =
      static_cast<float>(r.real("time_penalty", 0.01, 0.0, 100.0, "subtracted every step"));
  p.autopilot = r.choice("ego_policy", "agent", {"agent", "autopilot"},
                         "who drives: the actions, or the scripted baseline (turn towards "
                         "the goal, or the free lidar gap nearest to it; actions are then "
                         "ignored)") == "autopilot";
  p.kernels = read_lidar_kernels(r);
  auto order = [&](const char* lo_key, double lo, const char* hi_key, double hi) {
    if (hi < lo) {
      throw Error(name + ": " + hi_key + "=" + std::to_string(hi) + " is below " + lo_key + "=" +
                  std::to_string(lo) + "; allowed: " + hi_key + " >= " + lo_key);
    }
  };
  order("obstacles_min", p.obstacles_min, "obstacles_max", p.obstacles_max);
  order("obstacle_radius_min", p.radius_min, "obstacle_radius_max", p.radius_max);
  const float room = p.arena - 2 * (p.robot_radius + kClearance);
  if (room <= 0.0f) {
    throw Error(name + ": arena_size=" + std::to_string(p.arena) + " leaves no room for a robot" +
                " of robot_radius=" + std::to_string(p.robot_radius) + "; allowed: arena_size > " +
                std::to_string(2 * (p.robot_radius + kClearance)));
  }
  // start and goal are drawn in a square of side `room`: its diagonal bounds their distance
  if (p.min_goal_distance > 0.9f * room * 1.41421356f) {
    throw Error(name + ": min_goal_distance=" + std::to_string(p.min_goal_distance) +
                " cannot be met in arena_size=" + std::to_string(p.arena) + "; allowed: at most " +
                std::to_string(0.9f * room * 1.41421356f));
  }
  if (p.goal_radius >= p.min_goal_distance && p.min_goal_distance > 0.0f) {
    throw Error(name + ": goal_radius=" + std::to_string(p.goal_radius) +
                " would put the robot on the goal at reset; allowed: goal_radius < "
                "min_goal_distance=" +
                std::to_string(p.min_goal_distance));
  }
  return p;
}

// Per-env state (num_envs) unless noted.
struct View {
  std::int32_t max_obstacles;
  float* x;       // m
  float* y;       // m
  float* theta;   // rad
  float* v;       // m/s, last commanded (limited) twist
  float* omega;   // rad/s
  float* goal_x;  // m
  float* goal_y;  // m
  std::int32_t* n_obstacles;
  std::uint8_t* status;  // EpisodeOutcome reached this step
  float* ox;             // (num_envs x max_obstacles) m
  float* oy;             // (num_envs x max_obstacles) m
  float* radius;         // (num_envs x max_obstacles) m
};

struct State {
  std::int32_t max_obstacles;
  DeviceArray<float> x, y, theta, v, omega, goal_x, goal_y;
  DeviceArray<std::int32_t> n_obstacles;
  DeviceArray<std::uint8_t> status;
  DeviceArray<float> ox, oy, radius;
  State(const Device& d, std::int64_t n, std::int32_t m)
      : max_obstacles(m),
        x(d, n),
        y(d, n),
        theta(d, n),
        v(d, n),
        omega(d, n),
        goal_x(d, n),
        goal_y(d, n),
        n_obstacles(d, n),
        status(d, n),
        ox(d, n * m),
        oy(d, n * m),
        radius(d, n * m) {}
  View view() {
    return {max_obstacles, x.data(),      y.data(),      theta.data(),       v.data(),
            omega.data(),  goal_x.data(), goal_y.data(), n_obstacles.data(), status.data(),
            ox.data(),     oy.data(),     radius.data()};
  }
};

}  // namespace diffdrive_nav

struct DiffDriveNav {
  static constexpr const char* kName = "DiffDriveNav-v0";
  static constexpr const char* kDescription =
      "a differential-drive robot reaches a goal among random circular obstacles, seen "
      "through a 2-D lidar";
  static constexpr int kObsDim = -1;  // n_rays + 5
  static constexpr int kActDim = 2;
  static constexpr int kStateDim = -1;
  static constexpr bool kDiscrete = false;
  static constexpr bool kHasOutcome = true;
  // the scripted baseline `convoy eval` compares with (ego_policy reads it)
  static constexpr const char* kBaseline = "ego_policy=autopilot";

  using Params = diffdrive_nav::Params;
  using View = diffdrive_nav::View;
  struct State : diffdrive_nav::State {
    State(const Device& d, std::int64_t n, const Params& p)
        : diffdrive_nav::State(d, n, p.obstacles_max) {}
  };

  static Params read_params(ConfigReader& r) { return diffdrive_nav::read_params(r); }
  static int obs_dim(const Params& p) { return p.lidar.n_rays + 5; }
  // [x, y, theta, v, omega, goal_x, goal_y, n_obstacles, then per obstacle slot: x, y, radius]
  static int state_dim(const Params& p) { return 8 + 3 * p.obstacles_max; }
  static Space observation_space(const Params& p) {
    std::vector<float> lo(obs_dim(p), 0.0f), hi(obs_dim(p), 1.0f);
    for (int k = p.lidar.n_rays + 1; k < obs_dim(p); ++k) lo[k] = -1.0f;
    return Space::box(lo, hi);
  }
  static Space action_space(const Params&) { return Space::box({-1.0f, -1.0f}, {1.0f, 1.0f}); }
  static double reward_threshold(const Params&) { return std::numeric_limits<double>::quiet_NaN(); }

  CONVOY_HD static float goal_distance(const View& s, std::int64_t i) {
    const float dx = s.goal_x[i] - s.x[i], dy = s.goal_y[i] - s.y[i];
    return sqrtf(dx * dx + dy * dy);
  }

  CONVOY_HD static void reset(const Params& p, const View& s, std::int64_t i, PhiloxStream& rng) {
    using namespace diffdrive_nav;
    const float half = p.arena / 2 - p.robot_radius - kClearance;
    auto coord = [&] { return -half + 2 * half * rng.uniform_float(); };
    s.x[i] = coord();
    s.y[i] = coord();
    s.theta[i] = -3.141592653589793f + 6.283185307179586f * rng.uniform_float();
    s.v[i] = 0.0f;
    s.omega[i] = 0.0f;
    s.status[i] = 0;
    // the goal: far enough from the start (read_params makes this always possible; the last
    // draw is kept should 64 draws all fall short)
    for (int t = 0; t < kPlacementTries; ++t) {
      s.goal_x[i] = coord();
      s.goal_y[i] = coord();
      if (goal_distance(s, i) >= p.min_goal_distance) break;
    }
    const std::int32_t n =
        p.obstacles_min + static_cast<std::int32_t>(rng.below(
                              static_cast<std::uint32_t>(p.obstacles_max - p.obstacles_min + 1)));
    std::int32_t placed = 0;
    for (std::int32_t k = 0; k < n; ++k) {
      const float r = p.radius_min + (p.radius_max - p.radius_min) * rng.uniform_float();
      const float lim = p.arena / 2;
      for (int t = 0; t < kPlacementTries; ++t) {
        const float cx = -lim + 2 * lim * rng.uniform_float();
        const float cy = -lim + 2 * lim * rng.uniform_float();
        const float ds = sqrtf((cx - s.x[i]) * (cx - s.x[i]) + (cy - s.y[i]) * (cy - s.y[i]));
        const float dg = sqrtf((cx - s.goal_x[i]) * (cx - s.goal_x[i]) +
                               (cy - s.goal_y[i]) * (cy - s.goal_y[i]));
        if (ds > r + p.robot_radius + kClearance && dg > r + p.robot_radius + kClearance) {
          const std::int64_t o = i * s.max_obstacles + placed;
          s.ox[o] = cx;
          s.oy[o] = cy;
          s.radius[o] = r;
          ++placed;
          break;
        }
      }
    }
    s.n_obstacles[i] = placed;
    for (std::int32_t k = placed; k < s.max_obstacles; ++k) {
      const std::int64_t o = i * s.max_obstacles + k;
      s.ox[o] = 0.0f;
      s.oy[o] = 0.0f;
      s.radius[o] = 0.0f;
    }
  }

  // The arena's walls, as segments.
  CONVOY_HD static void walls(const Params& p, physics::Segment<float>* w) {
    const float h = p.arena / 2;
    w[0] = {{-h, -h}, {h, -h}};
    w[1] = {{h, -h}, {h, h}};
    w[2] = {{h, h}, {-h, h}};
    w[3] = {{-h, h}, {-h, -h}};
  }

  // Env i's obstacles as circles into c (kMaxObstacles); returns how many.
  CONVOY_HD static std::int32_t obstacle_circles(const View& s, std::int64_t i,
                                                 physics::Circle<float>* c) {
    const std::int32_t n = s.n_obstacles[i];
    for (std::int32_t k = 0; k < n; ++k) {
      const std::int64_t o = i * s.max_obstacles + k;
      c[k] = {{s.ox[o], s.oy[o]}, s.radius[o]};
    }
    return n;
  }

  // Lidar ranges (fractions of max_range) into out[0..n_rays).
  CONVOY_HD static void scan(const Params& p, const View& s, std::int64_t i, float* out) {
    using namespace diffdrive_nav;
    physics::Circle<float> circles[kMaxObstacles];
    const std::int32_t n = obstacle_circles(s, i, circles);
    physics::Segment<float> w[4];
    walls(p, w);
    physics::lidar_scan<float>(p.lidar, {s.x[i], s.y[i]}, s.theta[i], nullptr, 0, circles, n, w, 4,
                               out);
  }

  CONVOY_HD static bool collides(const Params& p, const View& s, std::int64_t i) {
    const float h = p.arena / 2, r = p.robot_radius, x = s.x[i], y = s.y[i];
    if (x - r <= -h || x + r >= h || y - r <= -h || y + r >= h) return true;
    for (std::int32_t k = 0; k < s.n_obstacles[i]; ++k) {
      const std::int64_t o = i * s.max_obstacles + k;
      const float dx = s.ox[o] - x, dy = s.oy[o] - y, d = s.radius[o] + r;
      if (dx * dx + dy * dy <= d * d) return true;
    }
    return false;
  }

  // Whether the lidar returns leave a corridor of half-width `half` free for `length` m along
  // direction psi (robot frame): no hit point lies inside it.
  CONVOY_HD static bool corridor_free(const Params& p, const float* ranges, float psi, float half,
                                      float length) {
    for (int k = 0; k < p.lidar.n_rays; ++k) {
      if (ranges[k] >= 1.0f) continue;  // nothing within range
      const float d = ranges[k] * p.lidar.max_range;
      const float phi = physics::lidar_ray_angle(p.lidar, k) - psi;
      const float along = d * cosf(phi), across = d * sinf(phi);
      if (along > 0.0f && along < length && fabsf(across) < half) return false;
    }
    return true;
  }

  // The scripted baseline as a normalised action [v, omega]: of the directions (the goal's
  // bearing and 72 around the robot) whose corridor, the robot's width plus a margin, is free
  // of lidar hits up to min(goal distance, 0.8 m), take the one nearest the goal's bearing
  // (slightly preferring the current heading, so that it commits to one side of an
  // obstacle), turn towards it and drive when facing it; when none is free, turn in place.
  CONVOY_HD static void autopilot_action(const Params& p, const View& s, std::int64_t i, float* a) {
    using namespace diffdrive_nav;
    using physics::wrap_angle;
    float ranges[kMaxRays];
    scan(p, s, i, ranges);
    const float dist = goal_distance(s, i);
    const float bearing =
        wrap_angle(atan2f(s.goal_y[i] - s.y[i], s.goal_x[i] - s.x[i]) - s.theta[i]);
    const float half = p.robot_radius + 0.05f;
    const float length = fminf(dist, 0.8f) + p.robot_radius;
    float heading = bearing;
    bool found = corridor_free(p, ranges, bearing, half, length);
    if (!found) {
      float best = 1e9f;
      for (int k = 0; k < 72; ++k) {
        const float psi = -3.1415927f + 6.2831853f * static_cast<float>(k) / 72.0f;
        const float cost = fabsf(wrap_angle(psi - bearing)) + 0.2f * fabsf(psi);
        if (cost < best && corridor_free(p, ranges, psi, half, length)) {
          best = cost;
          heading = psi;
          found = true;
        }
      }
    }
    // clearance straight ahead, for the speed
    const float ahead = corridor_free(p, ranges, 0.0f, half, p.robot_radius + 0.15f) ? 1.0f : 0.0f;
    const float omega = found
                            ? physics::clamp(2.5f * heading, -p.robot.omega_max, p.robot.omega_max)
                            : (bearing >= 0.0f ? p.robot.omega_max : -p.robot.omega_max);
    float v = found ? p.robot.v_max * fmaxf(0.0f, cosf(heading)) * ahead : 0.0f;
    v = fminf(v, dist / p.dt);  // do not overshoot the goal
    a[0] = physics::clamp(v / p.robot.v_max, -1.0f, 1.0f);
    a[1] = physics::clamp(omega / p.robot.omega_max, -1.0f, 1.0f);
  }

  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, const float* action,
                             float* reward, bool* terminated) {
    using namespace diffdrive_nav;
    float a[2] = {action[0], action[1]};
    if (p.autopilot) autopilot_action(p, s, i, a);
    // actions -> twist within the robot's limits -> exact arc
    float v = physics::clamp(a[0], -1.0f, 1.0f) * p.robot.v_max;
    float omega = physics::clamp(a[1], -1.0f, 1.0f) * p.robot.omega_max;
    physics::limit_twist(p.robot, &v, &omega);
    const float before = goal_distance(s, i);
    float pose[3] = {s.x[i], s.y[i], s.theta[i]};
    physics::step_diffdrive(p.robot, pose, v, omega, p.dt);
    s.x[i] = pose[0];
    s.y[i] = pose[1];
    s.theta[i] = pose[2];
    s.v[i] = v;
    s.omega[i] = omega;
    // collisions, arrival, reward
    const bool crashed = collides(p, s, i);
    const float after = goal_distance(s, i);
    const bool arrived = !crashed && after <= p.goal_radius;
    *reward = p.progress_reward * (before - after) - p.time_penalty +
              (arrived ? p.goal_reward : 0.0f) + (crashed ? p.collision_reward : 0.0f);
    *terminated = crashed || arrived;
    s.status[i] = static_cast<std::uint8_t>(crashed   ? EpisodeOutcome::kCollision
                                            : arrived ? EpisodeOutcome::kSuccess
                                                      : EpisodeOutcome::kNone);
  }

  CONVOY_HD static std::uint8_t outcome(const Params&, const View& s, std::int64_t i) {
    return s.status[i];
  }

  CONVOY_HD static void observe(const Params& p, const View& s, std::int64_t i, float* obs) {
    scan(p, s, i, obs);
    observe_features(p, s, i, obs);
  }

  // The observation per env x ray (the env contract's per-ray hooks, sim/env_contract.h):
  // kernels=ray, or auto on CUDA. observe_ray is lidar_scan's body for ray k
  // (physics::lidar_ray_hit), so both paths give the same bits.
  static bool observe_batch_enabled(const Params& p, const Device& d) {
    return lidar_kernels_per_ray(p.kernels, d);
  }
  static int observe_rays(const Params& p) { return p.lidar.n_rays; }
  CONVOY_HD static void observe_ray(const Params& p, const View& s, std::int64_t i, int k,
                                    float* obs) {
    using namespace diffdrive_nav;
    physics::Circle<float> circles[kMaxObstacles];
    const std::int32_t n = obstacle_circles(s, i, circles);
    physics::Segment<float> w[4];
    walls(p, w);
    const physics::RayHit<float> hit = physics::lidar_ray_hit<float>(
        p.lidar, {s.x[i], s.y[i]}, s.theta[i], k, nullptr, 0, circles, n, w, 4);
    obs[k] = hit.distance / p.lidar.max_range;
  }
  // Everything past the lidar: goal distance and bearing, the twist.
  CONVOY_HD static void observe_features(const Params& p, const View& s, std::int64_t i,
                                         float* obs) {
    using namespace diffdrive_nav;
    const int n = p.lidar.n_rays;
    const float dist = goal_distance(s, i);
    const float bearing = atan2f(s.goal_y[i] - s.y[i], s.goal_x[i] - s.x[i]) - s.theta[i];
    obs[n] = physics::clamp(dist / (p.arena * 1.41421356f), 0.0f, 1.0f);
    obs[n + 1] = cosf(bearing);
    obs[n + 2] = sinf(bearing);
    obs[n + 3] = physics::clamp(s.v[i] / p.robot.v_max, -1.0f, 1.0f);
    obs[n + 4] = physics::clamp(s.omega[i] / p.robot.omega_max, -1.0f, 1.0f);
  }

  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    out[0] = s.x[i];
    out[1] = s.y[i];
    out[2] = s.theta[i];
    out[3] = s.v[i];
    out[4] = s.omega[i];
    out[5] = s.goal_x[i];
    out[6] = s.goal_y[i];
    out[7] = s.n_obstacles[i];
    for (std::int32_t k = 0; k < s.max_obstacles; ++k) {
      const std::int64_t o = i * s.max_obstacles + k;
      out[8 + 3 * k] = s.ox[o];
      out[9 + 3 * k] = s.oy[o];
      out[10 + 3 * k] = s.radius[o];
    }
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    s.x[i] = static_cast<float>(in[0]);
    s.y[i] = static_cast<float>(in[1]);
    s.theta[i] = static_cast<float>(in[2]);
    s.v[i] = static_cast<float>(in[3]);
    s.omega[i] = static_cast<float>(in[4]);
    s.goal_x[i] = static_cast<float>(in[5]);
    s.goal_y[i] = static_cast<float>(in[6]);
    std::int32_t n = static_cast<std::int32_t>(in[7]);
    s.n_obstacles[i] = n < 0 ? 0 : (n > s.max_obstacles ? s.max_obstacles : n);
    s.status[i] = 0;
    for (std::int32_t k = 0; k < s.max_obstacles; ++k) {
      const std::int64_t o = i * s.max_obstacles + k;
      s.ox[o] = static_cast<float>(in[8 + 3 * k]);
      s.oy[o] = static_cast<float>(in[9 + 3 * k]);
      s.radius[o] = static_cast<float>(in[10 + 3 * k]);
    }
  }
};

}  // namespace convoy::envs
