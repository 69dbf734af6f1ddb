// Car models for the driving envs, as right-hand sides x' = f(x, u) plus steppers over
// physics/integrate.h:
//   - kinematic bicycle about the centre of mass, highway-env's form (vehicle/kinematics.py);
//   - kinematic single track about the rear axle (CommonRoad "KS");
//   - dynamic single track (CommonRoad "ST"): linear tyres with load transfer (or Pacejka's magic
//     formula), falling back to a kinematic model at low speed where the tyre equations divide
//     by the velocity.
// The KS and ST right-hand sides apply CommonRoad's input constraints (steering rate, power
// limited acceleration) themselves, as CommonRoad and the F1TENTH gym do, so every integrator
// stage sees limited inputs; step_ks/step_st then clamp steering angle and speed to their bounds
// so that overshoot from a finite step can never leave them.
//
// Two properties of ST that callers must respect (they are CommonRoad's, not this port's):
//   - just above v_kinematic its lateral modes are stiff, with rates near
//     mu g (C_Sf l_r + C_Sr l_f) / ((l_f + l_r) |v|): about 2000/s for the BMW at 0.1 m/s, so
//     explicit RK4 needs substeps below ~1 ms there (or a larger v_kinematic);
//   - it is a forward-driving model: in reverse the small-angle slips flip sign and the lateral
//     states diverge when steering; use KS (or v_min >= 0) for reversing.
#pragma once

#include "physics/integrate.h"
#include "physics/math.h"
#include "sim/hd.h"

namespace convoy::physics {

enum class TyreModel : int { kLinear = 0, kPacejka = 1 };
// What ST does below v_kinematic. CommonRoad (vehicle_dynamics_st, since 2020) uses the
// kinematic model about the centre of mass and carries yaw rate and slip angle along with it;
// the F1TENTH gym keeps CommonRoad's older form: the rear-axle model and a frozen slip angle.
enum class LowSpeedModel : int { kCommonRoad = 0, kF1tenth = 1 };

// Magic-formula lateral force F_y = D sin(C atan(B alpha - E (B alpha - atan(B alpha)))),
// D = mu F_z. Small-slip stiffness is B C D, so B C = C_S matches the linear model there.
template <class T>
struct Pacejka {
  T B;  // stiffness factor, 1/rad
  T C;  // shape factor
  T E;  // curvature factor
};

template <class T>
struct VehicleParams {
  // body and mass
  T length;  // m, bumper to bumper (footprint for collisions)
  T width;   // m
  T l_f;     // m, centre of mass to front axle
  T l_r;     // m, centre of mass to rear axle
  T h_cg;    // m, height of the centre of mass (longitudinal load transfer)
  T m;       // kg
  T I_z;     // kg m^2, yaw moment of inertia
  // tyres: linear model F_y = mu C_S F_z alpha
  T mu;    // friction coefficient
  T C_Sf;  // 1/rad, front cornering stiffness per unit load
  T C_Sr;  // 1/rad, rear cornering stiffness per unit load
  TyreModel tyre;
  Pacejka<T> pacejka_f, pacejka_r;
  // steering
  T steer_min, steer_max;            // rad, front wheel angle
  T steer_rate_min, steer_rate_max;  // rad/s
  // longitudinal
  T v_min, v_max;  // m/s
  T v_switch;      // m/s; above it the drive limit falls as a_max v_switch / v (engine power)
  T a_max;         // m/s^2, braking limit and drive limit below v_switch
  // ST falls back to a kinematic model when |v| < v_kinematic (CommonRoad 0.1, F1TENTH 0.5)
  T v_kinematic;  // m/s
  LowSpeedModel low_speed;
};

// BMW 320i: CommonRoad parameters_vehicle2 (vehicle models documentation, vehicle ID 2).
template <class T>
CONVOY_HD constexpr VehicleParams<T> bmw_320i() {
  VehicleParams<T> p{};
  p.length = T(4.508);
  p.width = T(1.610);
  p.l_f = T(1.1562);
  p.l_r = T(1.4227);
  p.h_cg = T(0.6137);
  p.m = T(1093.3);
  p.I_z = T(1791.6);
  p.mu = T(1.0489);
  p.C_Sf = T(20.898);
  p.C_Sr = T(20.898);
  p.tyre = TyreModel::kLinear;
  // not fitted to a real tyre: C = 1.3 is a common lateral shape factor, B keeps B C = C_S
  p.pacejka_f = {T(20.898 / 1.3), T(1.3), T(0)};
  p.pacejka_r = {T(20.898 / 1.3), T(1.3), T(0)};
  p.steer_min = T(-1.066);
  p.steer_max = T(1.066);
  p.steer_rate_min = T(-0.4);
  p.steer_rate_max = T(0.4);
  p.v_min = T(-13.6);
  p.v_max = T(50.8);
  p.v_switch = T(7.319);
  p.a_max = T(11.5);
  p.v_kinematic = T(0.1);
  p.low_speed = LowSpeedModel::kCommonRoad;
  return p;
}

// 1/10-scale car of the F1TENTH gym (f110_env.py defaults), with its low-speed switch.
template <class T>
CONVOY_HD constexpr VehicleParams<T> f1tenth() {
  VehicleParams<T> p{};
  p.length = T(0.58);
  p.width = T(0.31);
  p.l_f = T(0.15875);
  p.l_r = T(0.17145);
  p.h_cg = T(0.074);
  p.m = T(3.74);
  p.I_z = T(0.04712);
  p.mu = T(1.0489);
  p.C_Sf = T(4.718);
  p.C_Sr = T(5.4562);
  p.tyre = TyreModel::kLinear;
  p.pacejka_f = {T(4.718 / 1.3), T(1.3), T(0)};
  p.pacejka_r = {T(5.4562 / 1.3), T(1.3), T(0)};
  p.steer_min = T(-0.4189);
  p.steer_max = T(0.4189);
  p.steer_rate_min = T(-3.2);
  p.steer_rate_max = T(3.2);
  p.v_min = T(-5.0);
  p.v_max = T(20.0);
  p.v_switch = T(7.319);
  p.a_max = T(9.51);
  p.v_kinematic = T(0.5);
  p.low_speed = LowSpeedModel::kF1tenth;
  return p;
}

// highway-env's car (vehicle/kinematics.py): 5 m x 2 m, centre of mass midway, speed +-40 m/s,
// steering +-pi/4 and acceleration +-5 m/s^2 as its continuous action maps them. It sets the
// steering angle directly, so the rate limit is left wide open, and there is no power limit.
// Mass and tyre fields are only there to make ST usable with it; the bicycle ignores them.
template <class T>
CONVOY_HD constexpr VehicleParams<T> highway_env_car() {
  VehicleParams<T> p = bmw_320i<T>();
  p.length = T(5.0);
  p.width = T(2.0);
  p.l_f = T(2.5);
  p.l_r = T(2.5);
  p.steer_min = -pi<T>() / T(4);
  p.steer_max = pi<T>() / T(4);
  p.steer_rate_min = T(-1e30);
  p.steer_rate_max = T(1e30);
  p.v_min = T(-40.0);
  p.v_max = T(40.0);
  p.v_switch = T(40.0);
  p.a_max = T(5.0);
  return p;
}

// ---------------------------------------------------------------------------------------------
// actuator limits (CommonRoad's steering_constraints / acceleration_constraints)

// Rate clipped to its range, and zero when it would push the angle past a bound.
template <class T>
CONVOY_HD_INLINE T limit_steering_rate(T delta, T delta_dot, const VehicleParams<T>& p) {
  if ((delta <= p.steer_min && delta_dot <= T(0)) || (delta >= p.steer_max && delta_dot >= T(0))) {
    return T(0);
  }
  return clamp(delta_dot, p.steer_rate_min, p.steer_rate_max);
}

template <class T>
CONVOY_HD_INLINE T limit_steering_angle(T delta, const VehicleParams<T>& p) {
  return clamp(delta, p.steer_min, p.steer_max);
}

// Largest forward acceleration at speed v: constant up to v_switch, then constant power.
template <class T>
CONVOY_HD_INLINE T max_acceleration(T v, const VehicleParams<T>& p) {
  return v > p.v_switch ? p.a_max * p.v_switch / v : p.a_max;
}

// Acceleration within [-a_max, max_acceleration(v)], and zero when it would push the speed past
// v_min or v_max.
template <class T>
CONVOY_HD_INLINE T limit_acceleration(T v, T a, const VehicleParams<T>& p) {
  if ((v <= p.v_min && a <= T(0)) || (v >= p.v_max && a >= T(0))) return T(0);
  return clamp(a, -p.a_max, max_acceleration(v, p));
}

// ---------------------------------------------------------------------------------------------
// kinematic bicycle about the centre of mass (highway-env)

// state [x, y, psi, v]: position of the centre of mass (m), heading (rad), speed (m/s)
// input [a, delta]: acceleration (m/s^2), front wheel angle (rad)
enum BicycleIndex : int { kBicX = 0, kBicY = 1, kBicPsi = 2, kBicV = 3 };
enum BicycleInput : int { kBicAccel = 0, kBicSteer = 1 };

// Steering angle and acceleration clamped to the car's limits, in place.
template <class T>
CONVOY_HD_INLINE void limit_bicycle_inputs(const VehicleParams<T>& p, const T* x, T* u) {
  u[kBicSteer] = limit_steering_angle(u[kBicSteer], p);
  u[kBicAccel] = limit_acceleration(x[kBicV], u[kBicAccel], p);
}

// beta = atan(l_r / (l_f + l_r) tan(delta)), slip of the centre of mass; highway-env has l_r = L/2
// so beta = atan(tan(delta) / 2) and psi' = v sin(beta) / (L / 2).
template <class T>
CONVOY_HD_INLINE void bicycle_derivative(const VehicleParams<T>& p, const T* x, const T* u, T* dx) {
  const T beta = math::atan(p.l_r / (p.l_f + p.l_r) * math::tan(u[kBicSteer]));
  const T v = x[kBicV];
  dx[kBicX] = v * math::cos(x[kBicPsi] + beta);
  dx[kBicY] = v * math::sin(x[kBicPsi] + beta);
  dx[kBicPsi] = v * math::sin(beta) / p.l_r;
  dx[kBicV] = u[kBicAccel];
}

// ---------------------------------------------------------------------------------------------
// kinematic single track about the rear axle (CommonRoad KS)

// KS state [x, y, delta, v, psi]: rear-axle position (m), front wheel angle (rad), speed (m/s),
// heading (rad). ST appends [psi_dot, beta]: yaw rate (rad/s), slip angle at the centre of mass
// (rad), and its position is the centre of mass. Input [delta_dot, a] (rad/s, m/s^2).
enum SingleTrackIndex : int {
  kStX = 0,
  kStY = 1,
  kStDelta = 2,
  kStV = 3,
  kStPsi = 4,
  kStPsiDot = 5,
  kStBeta = 6
};
enum SingleTrackInput : int { kStSteerRate = 0, kStAccel = 1 };

// The inputs the KS/ST right-hand sides actually use at state x, in place.
template <class T>
CONVOY_HD_INLINE void limit_inputs(const VehicleParams<T>& p, const T* x, T* u) {
  u[kStSteerRate] = limit_steering_rate(x[kStDelta], u[kStSteerRate], p);
  u[kStAccel] = limit_acceleration(x[kStV], u[kStAccel], p);
}

// Steering angle and speed back inside their bounds after a finite step.
template <class T>
CONVOY_HD_INLINE void clamp_state(const VehicleParams<T>& p, T* x) {
  x[kStDelta] = clamp(x[kStDelta], p.steer_min, p.steer_max);
  x[kStV] = clamp(x[kStV], p.v_min, p.v_max);
}

template <class T>
CONVOY_HD_INLINE void ks_derivative(const VehicleParams<T>& p, const T* x, const T* u_in, T* dx) {
  const T sv = limit_steering_rate(x[kStDelta], u_in[kStSteerRate], p);
  const T a = limit_acceleration(x[kStV], u_in[kStAccel], p);
  const T v = x[kStV];
  dx[kStX] = v * math::cos(x[kStPsi]);
  dx[kStY] = v * math::sin(x[kStPsi]);
  dx[kStDelta] = sv;
  dx[kStV] = a;
  dx[kStPsi] = v * math::tan(x[kStDelta]) / (p.l_f + p.l_r);
}

// ---------------------------------------------------------------------------------------------
// dynamic single track (CommonRoad ST)

// Lateral tyre force (N) at slip angle alpha (rad) under normal load f_z (N).
template <class T>
CONVOY_HD_INLINE T lateral_force(const VehicleParams<T>& p, T alpha, T f_z, T c_s,
                                 const Pacejka<T>& pac) {
  if (p.tyre == TyreModel::kPacejka) {
    const T ba = pac.B * alpha;
    return p.mu * f_z * math::sin(pac.C * math::atan(ba - pac.E * (ba - math::atan(ba))));
  }
  return p.mu * c_s * f_z * alpha;
}

// With linear tyres this is term for term CommonRoad's vehicle_dynamics_st, written through the
// axle forces: F_zf = m (g l_r - a h) / l, F_zr = m (g l_f + a h) / l, small-angle slips
// alpha_f = delta - beta - l_f psi' / v, alpha_r = -beta + l_r psi' / v, then
// psi'' = (l_f F_yf - l_r F_yr) / I_z and beta' = (F_yf + F_yr) / (m v) - psi'.
template <class T>
CONVOY_HD_INLINE void st_derivative(const VehicleParams<T>& p, const T* x, const T* u_in, T* dx) {
  const T g = T(9.81);
  const T sv = limit_steering_rate(x[kStDelta], u_in[kStSteerRate], p);
  const T a = limit_acceleration(x[kStV], u_in[kStAccel], p);
  const T l = p.l_f + p.l_r;
  const T delta = x[kStDelta], v = x[kStV], psi = x[kStPsi], r = x[kStPsiDot], beta = x[kStBeta];
  dx[kStDelta] = sv;
  dx[kStV] = a;

  if (math::abs(v) < p.v_kinematic) {
    // the tyre model divides by v: use kinematics, and keep psi_dot and beta moving with it so
    // the dynamic model takes over from a consistent state
    const T tan_d = math::tan(delta), cos_d = math::cos(delta);
    if (p.low_speed == LowSpeedModel::kF1tenth) {
      dx[kStX] = v * math::cos(psi);
      dx[kStY] = v * math::sin(psi);
      dx[kStPsi] = v * tan_d / l;
      dx[kStPsiDot] = a / l * tan_d + v / (l * cos_d * cos_d) * sv;
      dx[kStBeta] = T(0);
      return;
    }
    const T k = p.l_r / l;
    const T beta_k = math::atan(k * tan_d);  // kinematic slip of the centre of mass
    dx[kStX] = v * math::cos(psi + beta_k);
    dx[kStY] = v * math::sin(psi + beta_k);
    dx[kStPsi] = v * math::cos(beta_k) * tan_d / l;
    // d/dt atan(k tan delta). CommonRoad's code squares tan twice in the denominator,
    // (1 + (tan^2 delta k)^2); this is the exact derivative, so beta stays equal to beta_k.
    const T d_beta = k * sv / (cos_d * cos_d * (T(1) + sq(k * tan_d)));
    const T cb = math::cos(beta), sb = math::sin(beta);
    dx[kStPsiDot] = (a * cb * tan_d - v * sb * d_beta * tan_d + v * cb * sv / (cos_d * cos_d)) / l;
    dx[kStBeta] = d_beta;
    return;
  }

  const T f_zf = p.m * (g * p.l_r - a * p.h_cg) / l;
  const T f_zr = p.m * (g * p.l_f + a * p.h_cg) / l;
  const T alpha_f = delta - beta - p.l_f * r / v;
  const T alpha_r = -beta + p.l_r * r / v;
  const T f_yf = lateral_force(p, alpha_f, f_zf, p.C_Sf, p.pacejka_f);
  const T f_yr = lateral_force(p, alpha_r, f_zr, p.C_Sr, p.pacejka_r);
  dx[kStX] = v * math::cos(psi + beta);
  dx[kStY] = v * math::sin(psi + beta);
  dx[kStPsi] = r;
  dx[kStPsiDot] = (p.l_f * f_yf - p.l_r * f_yr) / p.I_z;
  dx[kStBeta] = (f_yf + f_yr) / (p.m * v) - r;
}

// ---------------------------------------------------------------------------------------------
// steppers

// A right-hand side with its input held over the step (zero-order hold): f(x, dx).
template <class T>
struct BicycleDynamics {
  static constexpr int kStateDim = 4;
  const VehicleParams<T>& p;
  const T* u;  // (2) [a, delta]
  CONVOY_HD void operator()(const T* x, T* dx) const { bicycle_derivative(p, x, u, dx); }
};
template <class T>
struct KsDynamics {
  static constexpr int kStateDim = 5;
  const VehicleParams<T>& p;
  const T* u;  // (2) [delta_dot, a]
  CONVOY_HD void operator()(const T* x, T* dx) const { ks_derivative(p, x, u, dx); }
};
template <class T>
struct StDynamics {
  static constexpr int kStateDim = 7;
  const VehicleParams<T>& p;
  const T* u;  // (2) [delta_dot, a]
  CONVOY_HD void operator()(const T* x, T* dx) const { st_derivative(p, x, u, dx); }
};

// One env step of each model. The bicycle limits its inputs once (highway-env clips the action,
// then integrates); KS and ST limit inside the right-hand side and clamp after each substep.
template <class T>
CONVOY_HD_INLINE void step_bicycle(const VehicleParams<T>& p, T* x, const T* u_in, T dt,
                                   int substeps, Integrator method) {
  T u[2] = {u_in[0], u_in[1]};
  limit_bicycle_inputs(p, x, u);
  integrate(BicycleDynamics<T>{p, u}, x, dt, substeps, method);
  x[kBicV] = clamp(x[kBicV], p.v_min, p.v_max);
}

template <class T>
CONVOY_HD_INLINE void step_ks(const VehicleParams<T>& p, T* x, const T* u, T dt, int substeps,
                              Integrator method) {
  const KsDynamics<T> f{p, u};
  const T h = dt / T(substeps);
  for (int s = 0; s < substeps; ++s) {
    integrate(f, x, h, 1, method);
    clamp_state(p, x);
  }
}

template <class T>
CONVOY_HD_INLINE void step_st(const VehicleParams<T>& p, T* x, const T* u, T dt, int substeps,
                              Integrator method) {
  const StDynamics<T> f{p, u};
  const T h = dt / T(substeps);
  for (int s = 0; s < substeps; ++s) {
    integrate(f, x, h, 1, method);
    clamp_state(p, x);
  }
}

}  // namespace convoy::physics
