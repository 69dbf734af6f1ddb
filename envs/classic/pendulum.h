// Pendulum-v1 with Gymnasium 1.x's equations (gymnasium/envs/classic_control/pendulum.py).
// State in float64 as Gymnasium keeps it. Gymnasium multiplies the float32 torque by Python
// floats in float32 (NumPy 2 promotion rules); the two terms that do so are computed in
// float32 here as well, so rewards and velocities agree to the last bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "sim/array.h"
#include "sim/config.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"

namespace convoy::envs {

struct Pendulum {
  static constexpr const char* kName = "Pendulum-v1";
  static constexpr const char* kDescription =
      "swing a pendulum up and hold it; torque in [-2, 2] (Gymnasium Pendulum-v1)";
  static constexpr int kObsDim = 3, kActDim = 1, kStateDim = 2;
  static constexpr bool kDiscrete = false;

  static constexpr double kMaxSpeed = 8.0, kMaxTorque = 2.0, kDt = 0.05, kMass = 1.0, kLength = 1.0;
  static constexpr double kPi = 3.14159265358979323846;

  struct Params {
    std::int32_t max_episode_steps = 200;
    double g = 10.0;
  };
  static Params read_params(ConfigReader& r) {
    Params p;
    p.max_episode_steps = static_cast<std::int32_t>(
        r.integer("max_episode_steps", 200, 1, 100000000, "steps before truncation"));
    p.g = r.real("g", 10.0, 0.0, 100.0, "gravity, m/s^2");
    return p;
  }
  static Space observation_space(const Params&) {
    return Space::box({-1.0f, -1.0f, -8.0f}, {1.0f, 1.0f, 8.0f});
  }
  static Space action_space(const Params&) { return Space::box({-2.0f}, {2.0f}); }
  static double reward_threshold(const Params&) { return std::numeric_limits<double>::quiet_NaN(); }

  struct View {
    double* theta;      // (num_envs) angle, rad, 0 = upright, not wrapped
    double* theta_dot;  // (num_envs) angular velocity, rad/s
  };
  struct State {
    DeviceArray<double> theta, theta_dot;
    State(const Device& d, std::int64_t n) : theta(d, n), theta_dot(d, n) {}
    View view() { return {theta.data(), theta_dot.data()}; }
  };

  CONVOY_HD static double angle_normalize(double x) {
    // Python's floor modulo: the result takes the divisor's sign
    double r = fmod(x + kPi, 2 * kPi);
    if (r != 0.0 && r < 0.0) r += 2 * kPi;
    return r - kPi;
  }

  CONVOY_HD static void reset(const Params&, const View& s, std::int64_t i, PhiloxStream& rng) {
    s.theta[i] = rng.uniform(-kPi, kPi);
    s.theta_dot[i] = rng.uniform(-1.0, 1.0);
  }

  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, const float* action,
                             float* reward, bool* terminated) {
    const double th = s.theta[i], thdot = s.theta_dot[i];
    const float u =
        fminf(fmaxf(action[0], -static_cast<float>(kMaxTorque)), static_cast<float>(kMaxTorque));
    const double an = angle_normalize(th);
    const double costs = an * an + 0.1 * (thdot * thdot) + static_cast<double>(0.001f * (u * u));
    const double torque_term =
        static_cast<double>(static_cast<float>(3.0 / (kMass * kLength * kLength)) * u);
    double newthdot = thdot + (3 * p.g / (2 * kLength) * sin(th) + torque_term) * kDt;
    newthdot = fmin(fmax(newthdot, -kMaxSpeed), kMaxSpeed);
    s.theta[i] = th + newthdot * kDt;
    s.theta_dot[i] = newthdot;
    *reward = static_cast<float>(-costs);
    *terminated = false;
  }

  CONVOY_HD static void observe(const Params&, const View& s, std::int64_t i, float* obs) {
    const double th = s.theta[i];
    obs[0] = static_cast<float>(cos(th));
    obs[1] = static_cast<float>(sin(th));
    obs[2] = static_cast<float>(s.theta_dot[i]);
  }

  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    out[0] = s.theta[i];
    out[1] = s.theta_dot[i];
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    s.theta[i] = in[0];
    s.theta_dot[i] = in[1];
  }
};

}  // namespace convoy::envs
