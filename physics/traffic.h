// The behaviour of highway-env's background traffic (Farama-Foundation/HighwayEnv,
// highway_env/vehicle/behavior.py, IDMVehicle): the Intelligent Driver Model for acceleration
// and MOBIL for lane changes, with highway-env's constants and its particular choices, so that a
// Convoy scene drives like the Python one:
//   - distances to the leader are centre to centre along the lane (lane_distance_to), which is
//     why the jam distance DISTANCE_WANTED = 5 + LENGTH includes a car length;
//   - the desired gap uses the closing speed projected on the follower's heading and is not
//     clamped at zero (Treiber's max(0, .) is absent there);
//   - MOBIL compares unclipped IDM accelerations; only the command a car applies is clipped to
//     ACC_MAX;
//   - a missing vehicle contributes acceleration 0 to MOBIL, as highway-env's acceleration(None).
// Callers clip the target speed to the lane's speed limit first, as IDMVehicle.acceleration does.
#pragma once

#include <cstdint>
#include <cstring>

#include "physics/math.h"
#include "sim/hd.h"

// The IDM pieces a traffic frame calls several times per car: forced inline on the host, where
// g++ otherwise outlined part of idm_with_leader and recomputed sqrt(a b) per call (callgrind:
// -4.6% of Highway-v0's instructions per env-step with them inlined). nvcc's CONVOY_HD_INLINE
// already forces it.
#if defined(__CUDACC__) || !defined(__GNUC__)
#define CONVOY_IDM_INLINE CONVOY_HD_INLINE
#else
#define CONVOY_IDM_INLINE inline __attribute__((always_inline))
#endif

namespace convoy::physics {

namespace traffic_detail {
CONVOY_HD_INLINE float pow(float x, float y) { return ::powf(x, y); }
CONVOY_HD_INLINE double pow(double x, double y) { return ::pow(x, y); }

// x^y for x >= 0 (x < 0 gives 0) and |y| <= 1e6, IDM's (v / v0)^delta. On the host: e^(y ln x) in
// double without branches or tables, so that a loop over cars vectorises (glibc's powf was 15%
// of a Highway-v0 frame). ln x = e ln 2 + 2 atanh(s), x = 2^e m with m in [sqrt(1/2), sqrt(2)),
// s = (m - 1) / (m + 1), |s| <= 0.172, the series to s^11; e^z = 2^k (e^(f/8))^8 with
// k = round(z / ln 2), |f| <= ln(2) / 2, e^(f/8) to the 5th power. Within half an ulp plus
// 2e-10 relative of the exact x^y (tests/physics_traffic_test.cpp): the correctly rounded float
// but at near ties, 1.6e-4 of random IDM-like cases against 6.3e-4 for glibc's powf, so results
// differ from powf's by float rounding (BENCHMARKS.md). On a GPU: powf.
// Forced inline on the host (CONVOY_IDM_INLINE) so that the frame's loop over a scene's cars
// vectorises: as a plain `inline` g++ (without nvcc's __forceinline__) called it out of line,
// scalar, 127 instructions a car (Highway-v0: 39,435 -> 34,160 instructions per env-step).
CONVOY_IDM_INLINE float pow_nonnegative(float x, float y) {
#ifdef __CUDA_ARCH__
  return ::powf(x, y);
#else
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  // e and m: the bits offset by those of sqrt(1/2) before the exponent field is read
  const std::int32_t e = static_cast<std::int32_t>(bits - 0x3f3504f3u) >> 23;
  const std::uint32_t m_bits = bits - (static_cast<std::uint32_t>(e) << 23);
  float m_float;
  std::memcpy(&m_float, &m_bits, sizeof m_float);
  const double m = m_float;
  const double s = (m - 1.0) / (m + 1.0), s2 = s * s, s4 = s2 * s2;
  const double ln_m = 2.0 * s *
                      ((1.0 + s2 * (1.0 / 3)) +
                       s4 * ((1.0 / 5 + s2 * (1.0 / 7)) + s4 * (1.0 / 9 + s2 * (1.0 / 11))));
  const double ln2 = 0.6931471805599453;
  const double z = static_cast<double>(y) * (static_cast<double>(e) * ln2 + ln_m);
  // k rounded to the nearest integer lands in the low bits of k_big's mantissa (IEEE
  // arithmetic required: -ffast-math could fold (k_big - shift) back to z / ln 2)
  const double shift = 6755399441055744.0;  // 1.5 * 2^52
  const double k_big = z * 1.4426950408889634 + shift;
  const double f = (z - (k_big - shift) * ln2) * 0.125;
  const double f2 = f * f;
  double p = (1.0 + f) + f2 * ((0.5 + f * (1.0 / 6)) + f2 * (1.0 / 24 + f * (1.0 / 120)));
  p *= p;
  p *= p;
  p *= p;
  // 2^k from k's bits (the low 32 of k_big's), clamped to the doubles' exponents: where that
  // clamps, x^y rounds to 0 or infinity in float all the same
  std::uint64_t k_bits;
  std::memcpy(&k_bits, &k_big, sizeof k_bits);
  std::int32_t k = static_cast<std::int32_t>(static_cast<std::uint32_t>(k_bits));
  k = k < -1022 ? -1022 : k;
  k = k > 1023 ? 1023 : k;
  const std::uint64_t scale_bits = static_cast<std::uint64_t>(k + 1023) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  const float r = static_cast<float>(p * scale);
  // x <= 0 (and -0, negative x) gives 0: masked with integer operations, as a float select
  // would stop the vectoriser (-ftrapping-math)
  std::uint32_t r_bits;
  std::memcpy(&r_bits, &r, sizeof r_bits);
  r_bits &= 0u - static_cast<std::uint32_t>(static_cast<std::int32_t>(bits) > 0);
  float out;
  std::memcpy(&out, &r_bits, sizeof out);
  return out;
#endif
}

// highway-env's utils.not_zero: keeps a divisor at least 0.01 away from zero, sign preserved.
template <class T>
CONVOY_IDM_INLINE T not_zero(T x) {
  const T eps = T(1e-2);
  if (math::abs(x) > eps) return x;
  return x >= T(0) ? eps : -eps;
}

// c ? x : +0 without a branch (masking the bits; g++ branches on a float select), for terms
// that a - keep_if(c, term) drops exactly: a - (+0) is a, -0 and NaN included.
CONVOY_HD_INLINE float keep_if(bool c, float x) {
#ifdef __CUDA_ARCH__
  return c ? x : 0.0f;
#else
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  b &= 0u - static_cast<std::uint32_t>(c);
  std::memcpy(&x, &b, sizeof x);
  return x;
#endif
}
CONVOY_HD_INLINE double keep_if(bool c, double x) { return c ? x : 0.0; }
}  // namespace traffic_detail

template <class T>
struct IdmParams {
  T a_max;     // m/s^2, COMFORT_ACC_MAX = 3: free-road acceleration
  T b;         // m/s^2, -COMFORT_ACC_MIN = 5: comfortable braking (positive here)
  T d0;        // m, DISTANCE_WANTED = 5 + ControlledVehicle.LENGTH (5) = 10, centre to centre
  T time_gap;  // s, TIME_WANTED = 1.5
  T delta;     // DELTA = 4, velocity exponent (highway-v0 randomises it in DELTA_RANGE [3.5, 4.5])
  T acc_clip;  // m/s^2, ACC_MAX = 6: the applied command is clipped to +-acc_clip
};

template <class T>
CONVOY_HD_INLINE constexpr IdmParams<T> highway_env_idm() {
  return {T(3), T(5), T(10), T(1.5), T(4), T(6)};
}

template <class T>
struct MobilParams {
  T politeness;           // POLITENESS = 0: weight of the followers' gains
  T min_acc_gain;         // m/s^2, LANE_CHANGE_MIN_ACC_GAIN = 0.2
  T max_braking_imposed;  // m/s^2, LANE_CHANGE_MAX_BRAKING_IMPOSED = 2
  T lane_change_delay;    // s, LANE_CHANGE_DELAY = 1: how often a car considers changing
};

template <class T>
CONVOY_HD_INLINE constexpr MobilParams<T> highway_env_mobil() {
  return {T(0), T(0.2), T(2), T(1)};
}

// The leader's velocity along the follower's heading: highway-env's desired_gap projects the
// velocity difference on the follower's direction (and the follower moves along it).
template <class T>
CONVOY_HD_INLINE T projected_speed(Vec2<T> leader_velocity, T follower_heading) {
  return dot(leader_velocity, unit_from_angle(follower_heading));
}

// d* = d0 + v T + v (v - v_front) / (2 sqrt(a b)); front_speed already projected.
template <class T>
CONVOY_IDM_INLINE T desired_gap(const IdmParams<T>& p, T ego_speed, T front_speed) {
  const T dv = ego_speed - front_speed;
  return p.d0 + ego_speed * p.time_gap + ego_speed * dv / (T(2) * math::sqrt(p.a_max * p.b));
}

// IDMVehicle.acceleration: a [1 - (max(v, 0) / |v0|)^delta - (d* / d)^2], the gap term only with
// a leader; front_distance is centre to centre along the lane, front_speed projected. Unclipped:
// MOBIL reasons with these values.
// Split in two so that a caller asking several questions of one car (its own leader, MOBIL's
// would-be leaders) pays for the power once: idm_free_road is the leaderless part
// a [1 - (max(v, 0) / |v0|)^delta], idm_with_leader subtracts the gap term; together they do
// exactly the float operations of idm_acceleration_raw.
// idm_free_road in three parts, so that a frame can take every car's power in one vectorised
// loop: the speed ratio max(v, 0) / |v0|, its power ratio^delta, and a (1 - power).
template <class T>
CONVOY_HD_INLINE T idm_speed_ratio(T ego_speed, T target_speed) {
  return max(ego_speed, T(0)) / math::abs(traffic_detail::not_zero(target_speed));
}
CONVOY_IDM_INLINE float idm_power(float ratio, float delta) {
  return traffic_detail::pow_nonnegative(ratio, delta);
}
CONVOY_HD_INLINE double idm_power(double ratio, double delta) { return ::pow(ratio, delta); }
template <class T>
CONVOY_HD_INLINE T idm_free_road_from_power(const IdmParams<T>& p, T power) {
  return p.a_max * (T(1) - power);
}
template <class T>
CONVOY_HD_INLINE T idm_free_road(const IdmParams<T>& p, T ego_speed, T target_speed) {
  return idm_free_road_from_power(p, idm_power(idm_speed_ratio(ego_speed, target_speed), p.delta));
}
template <class T>
CONVOY_IDM_INLINE T idm_with_leader(const IdmParams<T>& p, T free_road, T ego_speed,
                                    bool front_present, T front_distance, T front_speed) {
  // the gap term computed either way and dropped without a leader: a branch on front_present
  // mispredicts for the few cars that lead their lane (the arguments are then finite stand-ins)
  const T g = desired_gap(p, ego_speed, front_speed) / traffic_detail::not_zero(front_distance);
  return free_road - traffic_detail::keep_if(front_present, p.a_max * g * g);
}
template <class T>
CONVOY_IDM_INLINE T idm_acceleration_raw(const IdmParams<T>& p, T ego_speed, T target_speed,
                                         bool front_present, T front_distance, T front_speed) {
  return idm_with_leader(p, idm_free_road(p, ego_speed, target_speed), ego_speed, front_present,
                         front_distance, front_speed);
}

// The command an IDM car applies (IDMVehicle.act): the raw acceleration clipped to +-ACC_MAX.
template <class T>
CONVOY_HD_INLINE T idm_acceleration(const IdmParams<T>& p, T ego_speed, T target_speed,
                                    bool front_present, T front_distance, T front_speed) {
  return clamp(
      idm_acceleration_raw(p, ego_speed, target_speed, front_present, front_distance, front_speed),
      -p.acc_clip, p.acc_clip);
}

// The gap at which a follower at speed v behind a leader at the same speed neither accelerates
// nor brakes: d* / sqrt(1 - (v / v0)^delta). Infinite (no equilibrium) at or above v0.
template <class T>
CONVOY_HD_INLINE T idm_equilibrium_distance(const IdmParams<T>& p, T speed, T target_speed) {
  const T free = T(1) - traffic_detail::pow(max(speed, T(0)) / target_speed, p.delta);
  return free > T(0) ? desired_gap(p, speed, speed) / math::sqrt(free) : T(1e30);
}

// ---------------------------------------------------------------------------------------------
// MOBIL

// The six IDM accelerations (unclipped) MOBIL weighs; 0 for a follower that is not there.
template <class T>
struct MobilAccelerations {
  T self_a;                // ego behind its current leader
  T self_pred_a;           // ego behind the leader it would have in the new lane
  T new_following_a;       // new lane's follower behind its current leader
  T new_following_pred_a;  // new lane's follower behind the ego
  T old_following_a;       // current lane's follower behind the ego
  T old_following_pred_a;  // current lane's follower behind the ego's current leader
};

// IDMVehicle.mobil without a route: refuse when the new follower would have to brake harder
// than max_braking_imposed, then change when the ego's gain plus politeness times the followers'
// gains reaches min_acc_gain.
template <class T>
CONVOY_HD_INLINE bool mobil_should_change(const MobilParams<T>& p, const MobilAccelerations<T>& a) {
  if (a.new_following_pred_a < -p.max_braking_imposed) return false;
  const T gain = a.self_pred_a - a.self_a +
                 p.politeness * (a.new_following_pred_a - a.new_following_a +
                                 a.old_following_pred_a - a.old_following_a);
  return gain >= p.min_acc_gain;
}

// utils.do_every: a car reconsiders its lane once its timer passes the delay (and resets it).
template <class T>
CONVOY_HD_INLINE bool mobil_due(const MobilParams<T>& p, T timer) {
  return p.lane_change_delay < timer;
}

// ---------------------------------------------------------------------------------------------
// neighbours

// Road.neighbour_vehicles over plain arrays: among the vehicles in `lane` (all of them when
// lane_of is null), the leader is the nearest with s_v >= s and the follower the nearest with
// s_v < s; `exclude` (the asking vehicle, or -1) is skipped. Indices, -1 when absent. Brute
// force: a scene holds tens of vehicles.
template <class T>
CONVOY_HD_INLINE void find_neighbours(const int* lane_of, const T* s_of, int count, int lane, T s,
                                      int exclude, int* front, int* rear) {
  int f = -1, r = -1;
  for (int i = 0; i < count; ++i) {
    if (i == exclude || (lane_of && lane_of[i] != lane)) continue;
    const T sv = s_of[i];
    if (s <= sv && (f < 0 || sv <= s_of[f])) f = i;
    if (sv < s && (r < 0 || sv > s_of[r])) r = i;
  }
  *front = f;
  *rear = r;
}

// IDM acceleration (unclipped) of vehicle i behind vehicle j (j = -1: no leader; i = -1: 0),
// from per-vehicle arrays on parallel lanes that share s.
template <class T>
CONVOY_IDM_INLINE T idm_acceleration_of(const IdmParams<T>& p, const T* s_of, const T* speed,
                                        const T* target_speed, int i, int j) {
  if (i < 0) return T(0);
  return idm_acceleration_raw(p, speed[i], target_speed[i], j >= 0,
                              j >= 0 ? s_of[j] - s_of[i] : T(0), j >= 0 ? speed[j] : T(0));
}

// Everything MOBIL needs for vehicle `ego` moving from its lane to `new_lane`, on straight
// parallel lanes where s is shared (speeds along the lane). What IDMVehicle.mobil computes from
// road.neighbour_vehicles.
template <class T>
CONVOY_HD_INLINE MobilAccelerations<T> mobil_accelerations(const IdmParams<T>& p,
                                                           const int* lane_of, const T* s_of,
                                                           const T* speed, const T* target_speed,
                                                           int count, int ego, int new_lane) {
  int new_front, new_rear, old_front, old_rear;
  find_neighbours(lane_of, s_of, count, new_lane, s_of[ego], ego, &new_front, &new_rear);
  find_neighbours(lane_of, s_of, count, lane_of[ego], s_of[ego], ego, &old_front, &old_rear);
  MobilAccelerations<T> a;
  a.self_a = idm_acceleration_of(p, s_of, speed, target_speed, ego, old_front);
  a.self_pred_a = idm_acceleration_of(p, s_of, speed, target_speed, ego, new_front);
  a.new_following_a = idm_acceleration_of(p, s_of, speed, target_speed, new_rear, new_front);
  a.new_following_pred_a = idm_acceleration_of(p, s_of, speed, target_speed, new_rear, ego);
  a.old_following_a = idm_acceleration_of(p, s_of, speed, target_speed, old_rear, ego);
  a.old_following_pred_a = idm_acceleration_of(p, s_of, speed, target_speed, old_rear, old_front);
  return a;
}

}  // namespace convoy::physics
