// CartPole-v1 with Gymnasium 1.x's equations, constants, integration order, termination,
// truncation and reward (gymnasium/envs/classic_control/cartpole.py). State is kept in
// float64 as Gymnasium keeps it; observations are its float32 cast.
//
// On x86-64 CPUs with AVX2 and glibc, the engine steps CartPole four envs at a time through
// step_block (envs/classic/cartpole_simd.cpp, libmvec's sin/cos) instead of step; CUDA and
// other CPUs use step. Both follow Gymnasium's arithmetic in its order; they differ only in
// sin/cos rounding (a few ulp), far inside the 1e-5 of the golden tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "sim/array.h"
#include "sim/config.h"
#include "sim/hd.h"
#include "sim/rng.h"
#include "sim/spaces.h"

// The AVX2 block step needs x86-64, GCC/Clang's target attribute and glibc's libmvec (found
// by CMake, which defines CONVOY_HAVE_LIBMVEC).
#if defined(__x86_64__) && defined(__GNUC__) && defined(CONVOY_HAVE_LIBMVEC) && CONVOY_HAVE_LIBMVEC
#define CONVOY_CARTPOLE_SIMD 1
#else
#define CONVOY_CARTPOLE_SIMD 0
#endif

namespace convoy::envs {

struct CartPole {
  static constexpr const char* kName = "CartPole-v1";
  static constexpr const char* kDescription =
      "pole on a cart; push left (0) or right (1); +1 per step upright (Gymnasium CartPole-v1)";
  static constexpr int kObsDim = 4, kActDim = 1, kStateDim = 4;
  static constexpr bool kDiscrete = true;

  static constexpr double kGravity = 9.8, kMassCart = 1.0, kMassPole = 0.1;
  static constexpr double kTotalMass = kMassPole + kMassCart;
  static constexpr double kLength = 0.5;  // half the pole's length
  static constexpr double kPoleMassLength = kMassPole * kLength;
  static constexpr double kForceMag = 10.0, kTau = 0.02;
  static constexpr double kThetaThreshold = 12 * 2 * 3.14159265358979323846 / 360;
  static constexpr double kXThreshold = 2.4;

  struct Params {
    std::int32_t max_episode_steps = 500;
    bool sutton_barto_reward = false;
  };
  static Params read_params(ConfigReader& r) {
    Params p;
    p.max_episode_steps = static_cast<std::int32_t>(
        r.integer("max_episode_steps", 500, 1, 100000000, "steps before truncation"));
    p.sutton_barto_reward = r.boolean("sutton_barto_reward", false,
                                      "reward 0 per step and -1 on failure (Sutton & Barto)");
    return p;
  }
  static Space observation_space(const Params&) {
    const float inf = std::numeric_limits<float>::infinity();
    const float xh = static_cast<float>(kXThreshold * 2),
                th = static_cast<float>(kThetaThreshold * 2);
    return Space::box({-xh, -inf, -th, -inf}, {xh, inf, th, inf});
  }
  static Space action_space(const Params&) { return Space::discrete(2); }
  static double reward_threshold(const Params&) { return 475.0; }

  struct View {
    double* x;          // (num_envs) cart position
    double* x_dot;      // (num_envs) cart velocity
    double* theta;      // (num_envs) pole angle, rad
    double* theta_dot;  // (num_envs) pole angular velocity
  };
  struct State {
    DeviceArray<double> x, x_dot, theta, theta_dot;
    State(const Device& d, std::int64_t n) : x(d, n), x_dot(d, n), theta(d, n), theta_dot(d, n) {}
    View view() { return {x.data(), x_dot.data(), theta.data(), theta_dot.data()}; }
  };

  CONVOY_HD static void reset(const Params&, const View& s, std::int64_t i, PhiloxStream& rng) {
    s.x[i] = rng.uniform(-0.05, 0.05);
    s.x_dot[i] = rng.uniform(-0.05, 0.05);
    s.theta[i] = rng.uniform(-0.05, 0.05);
    s.theta_dot[i] = rng.uniform(-0.05, 0.05);
  }

  CONVOY_HD static void step(const Params& p, const View& s, std::int64_t i, std::int32_t action,
                             float* reward, bool* terminated) {
    double x = s.x[i], x_dot = s.x_dot[i], theta = s.theta[i], theta_dot = s.theta_dot[i];
    const double force = action == 1 ? kForceMag : -kForceMag;
    const double costheta = cos(theta), sintheta = sin(theta);
    const double temp = (force + kPoleMassLength * (theta_dot * theta_dot) * sintheta) / kTotalMass;
    const double thetaacc =
        (kGravity * sintheta - costheta * temp) /
        (kLength * (4.0 / 3.0 - kMassPole * (costheta * costheta) / kTotalMass));
    const double xacc = temp - kPoleMassLength * thetaacc * costheta / kTotalMass;
    // explicit Euler in Gymnasium's order
    x = x + kTau * x_dot;
    x_dot = x_dot + kTau * xacc;
    theta = theta + kTau * theta_dot;
    theta_dot = theta_dot + kTau * thetaacc;
    s.x[i] = x;
    s.x_dot[i] = x_dot;
    s.theta[i] = theta;
    s.theta_dot[i] = theta_dot;
    const bool done =
        x < -kXThreshold || x > kXThreshold || theta < -kThetaThreshold || theta > kThetaThreshold;
    *terminated = done;
    if (p.sutton_barto_reward) {
      *reward = done ? -1.0f : 0.0f;
    } else {
      *reward = 1.0f;
    }
  }

  // CPU only: the dynamics, reward and termination of envs [begin, end) as step computes them
  // (up to sin/cos rounding), four at a time. Envs whose skip byte is set are left untouched
  // and get no reward or terminated written. Used by the engine when
  // vector_step_available() (an AVX2 CPU in a build with libmvec); a no-op otherwise.
  static bool vector_step_available();
  static void step_block(const Params& p, const View& s, std::int64_t begin, std::int64_t end,
                         const std::int32_t* actions, const std::uint8_t* skip, float* reward,
                         std::uint8_t* terminated);

  CONVOY_HD static void observe(const Params&, const View& s, std::int64_t i, float* obs) {
    obs[0] = static_cast<float>(s.x[i]);
    obs[1] = static_cast<float>(s.x_dot[i]);
    obs[2] = static_cast<float>(s.theta[i]);
    obs[3] = static_cast<float>(s.theta_dot[i]);
  }

  CONVOY_HD static void read_state(const View& s, std::int64_t i, double* out) {
    out[0] = s.x[i];
    out[1] = s.x_dot[i];
    out[2] = s.theta[i];
    out[3] = s.theta_dot[i];
  }
  CONVOY_HD static void write_state(const View& s, std::int64_t i, const double* in) {
    s.x[i] = in[0];
    s.x_dot[i] = in[1];
    s.theta[i] = in[2];
    s.theta_dot[i] = in[3];
  }
};

}  // namespace convoy::envs
