// MountainCarContinuous-v0 with Gymnasium 1.x's equations
// (gymnasium/envs/classic_control/continuous_mountain_car.py). Gymnasium stores this state
// as float32 after every step and, under NumPy 2's promotion rules, does the velocity update
// in float32 when the force is inside [-1, 1] and in float64 when it was clipped; both
// paths are reproduced here so trajectories agree to float32 rounding.
#pragma once

#include <cmath>
#include <cstdint>

#include "sim/array.h"
#include "sim/config.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"

namespace convoy::envs {

struct MountainCarContinuous {
  static constexpr const char* kName = "MountainCarContinuous-v0";
  static constexpr const char* kDescription =
      "drive an underpowered car up a hill; force in [-1, 1] (Gymnasium "
      "MountainCarContinuous-v0)";
  static constexpr int kObsDim = 2, kActDim = 1, kStateDim = 2;
  static constexpr bool kDiscrete = false;

  static constexpr float kMinPosition = -1.2f, kMaxPosition = 0.6f, kMaxSpeed = 0.07f;
  static constexpr float kGoalPosition = 0.45f;
  static constexpr double kPower = 0.0015;

  struct Params {
    std::int32_t max_episode_steps = 999;
    double goal_velocity = 0.0;
  };
  static Params read_params(ConfigReader& r) {
    Params p;
    p.max_episode_steps = static_cast<std::int32_t>(
        r.integer("max_episode_steps", 999, 1, 100000000, "steps before truncation"));
    p.goal_velocity = r.real("goal_velocity", 0.0, -0.07, 0.07, "velocity needed at the goal");
    return p;
  }
  static Space observation_space(const Params&) {
    return Space::box({kMinPosition, -kMaxSpeed}, {kMaxPosition, kMaxSpeed});
  }
  static Space action_space(const Params&) { return Space::box({-1.0f}, {1.0f}); }
  static double reward_threshold(const Params&) { return 90.0; }

  struct View {
    float* position;  // (num_envs) m
    float* velocity;  // (num_envs) m/step
  };
  struct State {
    DeviceArray<float> position, velocity;
    State(const Device& d, std::int64_t n) : position(d, n), velocity(d, n) {}
    View view() { return {position.data(), velocity.data()}; }
  };

  CONVOY_HD static void reset(const Params&, const View& s, std::int64_t i, PhiloxStream& rng) {
    s.position[i] = static_cast<float>(rng.uniform(-0.6, -0.4));
    s.velocity[i] = 0.0f;
  }

  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, const float* action,
                             float* reward, bool* terminated) {
    float position = s.position[i], velocity = s.velocity[i];
    const float a = action[0];
    const double hill = 0.0025 * cos(static_cast<double>(3.0f * position));
    if (a >= -1.0f && a <= 1.0f) {
      // float32 force: NumPy does the whole update in float32
      velocity += static_cast<float>(a * static_cast<float>(kPower)) - static_cast<float>(hill);
    } else {
      // clipped to a Python float: the update is float64, then added to a float32
      const double force = a > 1.0f ? 1.0 : -1.0;
      velocity += static_cast<float>(force * kPower - hill);
    }
    if (velocity > kMaxSpeed) velocity = kMaxSpeed;
    if (velocity < -kMaxSpeed) velocity = -kMaxSpeed;
    position += velocity;
    if (position > kMaxPosition) position = kMaxPosition;
    if (position < kMinPosition) position = kMinPosition;
    if (position == kMinPosition && velocity < 0) velocity = 0.0f;
    const bool done = position >= kGoalPosition && velocity >= p.goal_velocity;
    double r = done ? 100.0 : 0.0;
    r -= static_cast<double>(a) * static_cast<double>(a) * 0.1;
    s.position[i] = position;
    s.velocity[i] = velocity;
    *reward = static_cast<float>(r);
    *terminated = done;
  }

  CONVOY_HD static void observe(const Params&, const View& s, std::int64_t i, float* obs) {
    obs[0] = s.position[i];
    obs[1] = s.velocity[i];
  }

  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    out[0] = s.position[i];
    out[1] = s.velocity[i];
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    s.position[i] = static_cast<float>(in[0]);
    s.velocity[i] = static_cast<float>(in[1]);
  }
};

}  // namespace convoy::envs
