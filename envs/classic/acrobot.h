// Acrobot-v1 with Gymnasium 1.x's "book" dynamics, one RK4 step of dt = 0.2 per action,
// wrapped angles and bounded velocities (gymnasium/envs/classic_control/acrobot.py). State
// in float64 as Gymnasium keeps it between steps (its reset draws are rounded to float32,
// and so are ours).
#pragma once

#include <cmath>
#include <cstdint>

#include "sim/array.h"
#include "sim/config.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"

namespace convoy::envs {

struct Acrobot {
  static constexpr const char* kName = "Acrobot-v1";
  static constexpr const char* kDescription =
      "swing a two-link arm's tip above a line; torque -1, 0 or +1 (Gymnasium Acrobot-v1)";
  static constexpr int kObsDim = 6, kActDim = 1, kStateDim = 4;
  static constexpr bool kDiscrete = true;

  static constexpr double kPi = 3.14159265358979323846;
  static constexpr double kDt = 0.2;
  static constexpr double kLinkLength1 = 1.0, kLinkMass1 = 1.0, kLinkMass2 = 1.0;
  static constexpr double kLinkCom1 = 0.5, kLinkCom2 = 0.5, kLinkMoi = 1.0;
  static constexpr double kMaxVel1 = 4 * kPi, kMaxVel2 = 9 * kPi;

  struct Params {
    std::int32_t max_episode_steps = 500;
  };
  static Params read_params(ConfigReader& r) {
    Params p;
    p.max_episode_steps = static_cast<std::int32_t>(
        r.integer("max_episode_steps", 500, 1, 100000000, "steps before truncation"));
    return p;
  }
  static Space observation_space(const Params&) {
    const float v1 = static_cast<float>(kMaxVel1), v2 = static_cast<float>(kMaxVel2);
    return Space::box({-1, -1, -1, -1, -v1, -v2}, {1, 1, 1, 1, v1, v2});
  }
  static Space action_space(const Params&) { return Space::discrete(3); }
  static double reward_threshold(const Params&) { return -100.0; }

  struct View {
    double* theta1;   // (num_envs) rad
    double* theta2;   // (num_envs) rad, relative to link 1
    double* dtheta1;  // (num_envs) rad/s
    double* dtheta2;  // (num_envs) rad/s
  };
  struct State {
    DeviceArray<double> theta1, theta2, dtheta1, dtheta2;
    State(const Device& d, std::int64_t n)
        : theta1(d, n), theta2(d, n), dtheta1(d, n), dtheta2(d, n) {}
    View view() { return {theta1.data(), theta2.data(), dtheta1.data(), dtheta2.data()}; }
  };

  CONVOY_HD static void reset(const Params&, const View& s, std::int64_t i, PhiloxStream& rng) {
    s.theta1[i] = static_cast<float>(rng.uniform(-0.1, 0.1));
    s.theta2[i] = static_cast<float>(rng.uniform(-0.1, 0.1));
    s.dtheta1[i] = static_cast<float>(rng.uniform(-0.1, 0.1));
    s.dtheta2[i] = static_cast<float>(rng.uniform(-0.1, 0.1));
  }

  // Time derivative of (theta1, theta2, dtheta1, dtheta2) under torque a ("book" dynamics).
  CONVOY_HD static void dsdt(const double* s, double a, double* d) {
    constexpr double m1 = kLinkMass1, m2 = kLinkMass2, l1 = kLinkLength1;
    constexpr double lc1 = kLinkCom1, lc2 = kLinkCom2, I1 = kLinkMoi, I2 = kLinkMoi, g = 9.8;
    const double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
    const double d1 =
        m1 * (lc1 * lc1) + m2 * ((l1 * l1) + (lc2 * lc2) + 2 * l1 * lc2 * cos(theta2)) + I1 + I2;
    const double d2 = m2 * ((lc2 * lc2) + l1 * lc2 * cos(theta2)) + I2;
    const double phi2 = m2 * lc2 * g * cos(theta1 + theta2 - kPi / 2.0);
    const double phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin(theta2) -
                        2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2) +
                        (m1 * lc1 + m2 * l1) * g * cos(theta1 - kPi / 2) + phi2;
    const double ddtheta2 =
        (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin(theta2) - phi2) /
        (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
    const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    d[0] = dtheta1;
    d[1] = dtheta2;
    d[2] = ddtheta1;
    d[3] = ddtheta2;
  }

  CONVOY_HD static double wrap(double x, double m, double M) {
    const double diff = M - m;
    while (x > M) x = x - diff;
    while (x < m) x = x + diff;
    return x;
  }

  CONVOY_HD static void step(const Params&, const View& s, std::int64_t i, std::int32_t action,
                             float* reward, bool* terminated) {
    const double torque = static_cast<double>(action) - 1.0;  // {-1, 0, +1}
    double y0[4] = {s.theta1[i], s.theta2[i], s.dtheta1[i], s.dtheta2[i]};
    double k1[4], k2[4], k3[4], k4[4], y[4];
    constexpr double dt = kDt, dt2 = kDt / 2.0;
    dsdt(y0, torque, k1);
    for (int j = 0; j < 4; ++j) y[j] = y0[j] + dt2 * k1[j];
    dsdt(y, torque, k2);
    for (int j = 0; j < 4; ++j) y[j] = y0[j] + dt2 * k2[j];
    dsdt(y, torque, k3);
    for (int j = 0; j < 4; ++j) y[j] = y0[j] + dt * k3[j];
    dsdt(y, torque, k4);
    double ns[4];
    for (int j = 0; j < 4; ++j) ns[j] = y0[j] + dt / 6.0 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    ns[0] = wrap(ns[0], -kPi, kPi);
    ns[1] = wrap(ns[1], -kPi, kPi);
    ns[2] = fmin(fmax(ns[2], -kMaxVel1), kMaxVel1);
    ns[3] = fmin(fmax(ns[3], -kMaxVel2), kMaxVel2);
    s.theta1[i] = ns[0];
    s.theta2[i] = ns[1];
    s.dtheta1[i] = ns[2];
    s.dtheta2[i] = ns[3];
    const bool done = -cos(ns[0]) - cos(ns[1] + ns[0]) > 1.0;
    *terminated = done;
    *reward = done ? 0.0f : -1.0f;
  }

  CONVOY_HD static void observe(const Params&, const View& s, std::int64_t i, float* obs) {
    obs[0] = static_cast<float>(cos(s.theta1[i]));
    obs[1] = static_cast<float>(sin(s.theta1[i]));
    obs[2] = static_cast<float>(cos(s.theta2[i]));
    obs[3] = static_cast<float>(sin(s.theta2[i]));
    obs[4] = static_cast<float>(s.dtheta1[i]);
    obs[5] = static_cast<float>(s.dtheta2[i]);
  }

  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    out[0] = s.theta1[i];
    out[1] = s.theta2[i];
    out[2] = s.dtheta1[i];
    out[3] = s.dtheta2[i];
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    s.theta1[i] = in[0];
    s.theta2[i] = in[1];
    s.dtheta1[i] = in[2];
    s.dtheta2[i] = in[3];
  }
};

}  // namespace convoy::envs
