// Differential-drive (unicycle) robot for the robot envs: state [x, y, theta], commanded either
// as a body twist (v, omega) or as left/right wheel speeds. Constant commands over a step trace
// an exact circular arc, so step_diffdrive_exact integrates with no error at any dt; the RK4 path
// is there for commands that a caller wants to treat like the other models.
#pragma once

#include "physics/integrate.h"
#include "physics/math.h"
#include "sim/hd.h"

namespace convoy::physics {

template <class T>
struct DiffDriveParams {
  T wheel_radius;     // m
  T axle_width;       // m, distance between the two wheels' contact points
  T v_min, v_max;     // m/s, forward speed of the axle midpoint
  T omega_max;        // rad/s, |yaw rate|
  T wheel_speed_max;  // rad/s, |angular speed| of each wheel
};

// A TurtleBot3 Burger-sized robot (wheel radius 33 mm, track 160 mm, 0.22 m/s, 2.84 rad/s).
template <class T>
CONVOY_HD constexpr DiffDriveParams<T> small_diffdrive_robot() {
  DiffDriveParams<T> p{};
  p.wheel_radius = T(0.033);
  p.axle_width = T(0.160);
  p.v_min = T(-0.22);
  p.v_max = T(0.22);
  p.omega_max = T(2.84);
  p.wheel_speed_max = T(0.22 / 0.033 + 2.84 * 0.080 / 0.033);
  return p;
}

// state [x, y, theta] (m, m, rad); twist [v, omega] (m/s, rad/s)
enum DiffDriveIndex : int { kDdX = 0, kDdY = 1, kDdTheta = 2 };

// v = r (w_r + w_l) / 2, omega = r (w_r - w_l) / b
template <class T>
CONVOY_HD_INLINE void wheels_to_twist(const DiffDriveParams<T>& p, T w_left, T w_right, T* v,
                                      T* omega) {
  *v = p.wheel_radius * (w_right + w_left) / T(2);
  *omega = p.wheel_radius * (w_right - w_left) / p.axle_width;
}

template <class T>
CONVOY_HD_INLINE void twist_to_wheels(const DiffDriveParams<T>& p, T v, T omega, T* w_left,
                                      T* w_right) {
  const T half_track = p.axle_width / T(2) * omega;
  *w_left = (v - half_track) / p.wheel_radius;
  *w_right = (v + half_track) / p.wheel_radius;
}

// Twist clamped to the speed and yaw-rate limits, then scaled down as a whole when a wheel would
// exceed its speed: scaling both wheels alike keeps the path's curvature v / omega, where
// clamping each wheel would turn a gentle curve into a tighter one.
template <class T>
CONVOY_HD_INLINE void limit_twist(const DiffDriveParams<T>& p, T* v, T* omega) {
  *v = clamp(*v, p.v_min, p.v_max);
  *omega = clamp(*omega, -p.omega_max, p.omega_max);
  T wl, wr;
  twist_to_wheels(p, *v, *omega, &wl, &wr);
  const T w = max(math::abs(wl), math::abs(wr));
  if (w > p.wheel_speed_max) {
    const T s = p.wheel_speed_max / w;
    *v *= s;
    *omega *= s;
  }
}

template <class T>
CONVOY_HD_INLINE void diffdrive_derivative(const T* x, T v, T omega, T* dx) {
  dx[kDdX] = v * math::cos(x[kDdTheta]);
  dx[kDdY] = v * math::sin(x[kDdTheta]);
  dx[kDdTheta] = omega;
}

// sin(z) / z, with its series near 0 where the quotient loses precision.
template <class T>
CONVOY_HD_INLINE T sinc(T z) {
  const T z2 = z * z;
  if (math::abs(z) < T(1e-3)) return T(1) - z2 / T(6) + z2 * z2 / T(120);
  return math::sin(z) / z;
}

// Exact arc for a constant twist over dt: the chord has length v dt sinc(omega dt / 2) and points
// along the mid-step heading theta + omega dt / 2. This form has no 1/omega, so straight lines
// (omega = 0) and turns in place (v = 0) need no special case.
template <class T>
CONVOY_HD_INLINE void step_diffdrive_exact(T* x, T v, T omega, T dt) {
  const T half = omega * dt / T(2);
  const T chord = v * dt * sinc(half);
  const T mid = x[kDdTheta] + half;
  x[kDdX] += chord * math::cos(mid);
  x[kDdY] += chord * math::sin(mid);
  x[kDdTheta] += omega * dt;
}

template <class T>
struct DiffDriveDynamics {
  static constexpr int kStateDim = 3;
  T v, omega;
  CONVOY_HD void operator()(const T* x, T* dx) const { diffdrive_derivative(x, v, omega, dx); }
};

// One env step: limit the twist, integrate (exact arc, or RK4/Euler substeps), keep theta in
// [-pi, pi).
template <class T>
CONVOY_HD_INLINE void step_diffdrive(const DiffDriveParams<T>& p, T* x, T v, T omega, T dt,
                                     bool exact = true, int substeps = 1,
                                     Integrator method = Integrator::kRk4) {
  limit_twist(p, &v, &omega);
  if (exact) {
    step_diffdrive_exact(x, v, omega, dt);
  } else {
    integrate(DiffDriveDynamics<T>{v, omega}, x, dt, substeps, method);
  }
  x[kDdTheta] = wrap_angle(x[kDdTheta]);
}

}  // namespace convoy::physics
