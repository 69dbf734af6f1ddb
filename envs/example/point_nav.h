// PointNav-v0, the example env of docs/new-env.md: a point mass in a 2 m x 2 m arena pushed
// towards a goal. Small on purpose, but it has every member the env contract (sim/env_contract.h,
// checked at compile time) requires and nothing optional, so it reads as a template: copy this
// folder, rename, replace the physics.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "physics/math.h"  // physics::clamp: the one clamp (std::clamp is host-only)
#include "sim/array.h"     // DeviceArray: the State's arrays live on the env's device
#include "sim/config.h"    // ConfigReader: settings with defaults, ranges and docs
#include "sim/hd.h"        // CONVOY_HD: the same function compiles for the CPU and for CUDA
#include "sim/rng.h"       // PhiloxStream: per-env counter-based random numbers
#include "sim/spaces.h"    // Space: what Gymnasium and the learners are told about obs and actions

namespace convoy::envs {

struct PointNav {
  // The registry name and the one-liner `convoy envs` prints; "-v0" so a future change of the
  // dynamics can take a new version instead of silently changing results.
  static constexpr const char* kName = "PointNav-v0";
  static constexpr const char* kDescription =
      "push a point mass to a goal in a 2 m square; force in [-1, 1]^2 (the example env of "
      "docs/new-env.md)";
  // Sizes the engine allocates for: obs floats per env, action elements per env, and the
  // doubles of one env's snapshot (read_state / write_state).
  static constexpr int kObsDim = 6, kActDim = 2, kStateDim = 6;
  // Box (float) actions; a Discrete env says true and receives one int32 per env instead.
  static constexpr bool kDiscrete = false;

  // Fixed physics: constexpr, so kernels use them without passing anything.
  static constexpr float kDt = 0.1f;        // s per step
  static constexpr float kHalfSize = 1.0f;  // m: the arena is [-1, 1]^2
  static constexpr float kSpawn = 0.9f;     // m: starts and goals are drawn in [-0.9, 0.9]^2
  static constexpr float kMaxSpeed = 1.0f;  // m/s per axis, so the obs is bounded
  static constexpr float kDamping = 0.5f;   // 1/s: drag, so a released mass slows down

  // Settings: one value for all envs of a VecEnv, copied by value into every kernel launch, so
  // plain data only (no pointers, no std::string). max_episode_steps is required: the engine
  // truncates episodes with it.
  struct Params {
    std::int32_t max_episode_steps = 100;
    float goal_radius = 0.1f;  // m: the episode terminates inside it
    float max_force = 2.0f;    // m/s^2 at action 1 (unit mass)
  };
  // Every key is read here, with its default, allowed range and a doc line: `convoy envs` lists
  // them, and a value out of range or an unknown key is refused with a message naming it.
  static Params read_params(ConfigReader& r) {
    Params p;
    p.max_episode_steps = static_cast<std::int32_t>(
        r.integer("max_episode_steps", 100, 1, 100000000, "steps before truncation"));
    p.goal_radius = static_cast<float>(
        r.real("goal_radius", 0.1, 0.01, 1.0, "m: distance to the goal that ends the episode"));
    p.max_force = static_cast<float>(
        r.real("max_force", 2.0, 0.1, 10.0, "m/s^2: acceleration at action 1 on an axis"));
    return p;
  }
  // [x, y, vx, vy, goal_x, goal_y]: the bounds are true bounds (step clamps to them), which
  // observation normalisers and the tests rely on.
  static Space observation_space(const Params&) {
    return Space::box({-kHalfSize, -kHalfSize, -kMaxSpeed, -kMaxSpeed, -kSpawn, -kSpawn},
                      {kHalfSize, kHalfSize, kMaxSpeed, kMaxSpeed, kSpawn, kSpawn});
  }
  // The bounds random actions are sampled in; the engine rejects non-finite actions before
  // step, but finite ones outside the box reach step, which clamps them.
  static Space action_space(const Params&) { return Space::box({-1.0f, -1.0f}, {1.0f, 1.0f}); }
  // The return that counts as solved (Gymnasium's spec field); NaN: none.
  static double reward_threshold(const Params&) { return std::numeric_limits<double>::quiet_NaN(); }

  // Structure of arrays: one array per quantity, indexed by env, so neighbouring threads or
  // SIMD lanes read neighbouring memory. View is the raw pointers a kernel gets by value.
  struct View {
    float* x;       // (num_envs) m
    float* y;       // (num_envs) m
    float* vx;      // (num_envs) m/s
    float* vy;      // (num_envs) m/s
    float* goal_x;  // (num_envs) m
    float* goal_y;  // (num_envs) m
  };
  // Owns the arrays on the VecEnv's device (CPU or CUDA); the engine builds it once.
  struct State {
    DeviceArray<float> x, y, vx, vy, goal_x, goal_y;
    State(const Device& d, std::int64_t n)
        : x(d, n), y(d, n), vx(d, n), vy(d, n), goal_x(d, n), goal_y(d, n) {}
    View view() { return {x.data(), y.data(), vx.data(), vy.data(), goal_x.data(), goal_y.data()}; }
  };

  // A new episode for env i. The rng is env i's own stream for this episode (from the seed, the
  // env index and the episode count), so results do not depend on thread count or device.
  CONVOY_HD static void reset(const Params&, const View& s, std::int64_t i, PhiloxStream& rng) {
    s.x[i] = static_cast<float>(rng.uniform(-kSpawn, kSpawn));
    s.y[i] = static_cast<float>(rng.uniform(-kSpawn, kSpawn));
    s.vx[i] = 0.0f;
    s.vy[i] = 0.0f;
    s.goal_x[i] = static_cast<float>(rng.uniform(-kSpawn, kSpawn));
    s.goal_y[i] = static_cast<float>(rng.uniform(-kSpawn, kSpawn));
  }

  // One step of env i: reads action[0..kActDim), writes the reward and whether the episode
  // ended by the env's own rules. Truncation at max_episode_steps, auto-reset and episode
  // statistics are the engine's, not the env's. No exceptions, allocation or STL in here: it
  // runs inside a CUDA kernel too.
  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, const float* action,
                             float* reward, bool* terminated) {
    const float ax = p.max_force * physics::clamp(action[0], -1.0f, 1.0f);
    const float ay = p.max_force * physics::clamp(action[1], -1.0f, 1.0f);
    // semi-implicit Euler: velocity first, then position with the new velocity
    float vx = physics::clamp(s.vx[i] + (ax - kDamping * s.vx[i]) * kDt, -kMaxSpeed, kMaxSpeed);
    float vy = physics::clamp(s.vy[i] + (ay - kDamping * s.vy[i]) * kDt, -kMaxSpeed, kMaxSpeed);
    float x = s.x[i] + vx * kDt, y = s.y[i] + vy * kDt;
    // walls: stop on the axis that hit one (an inelastic wall keeps the dynamics simple)
    if (x < -kHalfSize || x > kHalfSize) {
      x = physics::clamp(x, -kHalfSize, kHalfSize);
      vx = 0.0f;
    }
    if (y < -kHalfSize || y > kHalfSize) {
      y = physics::clamp(y, -kHalfSize, kHalfSize);
      vy = 0.0f;
    }
    s.x[i] = x;
    s.y[i] = y;
    s.vx[i] = vx;
    s.vy[i] = vy;
    // dense reward: minus the distance after the move, so every step counts towards the goal
    const float dx = s.goal_x[i] - x, dy = s.goal_y[i] - y;
    const float distance = sqrtf(dx * dx + dy * dy);
    *reward = -distance;
    *terminated = distance < p.goal_radius;
  }

  // The observation of env i from its state; the engine calls it after reset and after every
  // step (so a terminated env shows its next episode's first obs, Gymnasium's SAME_STEP).
  CONVOY_HD static void observe(const Params&, const View& s, std::int64_t i, float* obs) {
    obs[0] = s.x[i];
    obs[1] = s.y[i];
    obs[2] = s.vx[i];
    obs[3] = s.vy[i];
    obs[4] = s.goal_x[i];
    obs[5] = s.goal_y[i];
  }

  // Snapshots (get_state / set_state, checkpoints, `convoy render`): kStateDim doubles that
  // must be the env's whole state, or a restored env would not replay the same steps. Same
  // order as the obs here; the drawing (cli/draw_point_nav.cpp) reads this layout.
  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    out[0] = s.x[i];
    out[1] = s.y[i];
    out[2] = s.vx[i];
    out[3] = s.vy[i];
    out[4] = s.goal_x[i];
    out[5] = s.goal_y[i];
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    s.x[i] = static_cast<float>(in[0]);
    s.y[i] = static_cast<float>(in[1]);
    s.vx[i] = static_cast<float>(in[2]);
    s.vy[i] = static_cast<float>(in[3]);
    s.goal_x[i] = static_cast<float>(in[4]);
    s.goal_y[i] = static_cast<float>(in[5]);
  }
};

}  // namespace convoy::envs
