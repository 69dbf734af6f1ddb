// Small 2-D math shared by every physics header: a Vec2 with the usual operators, scalar helpers
// (clamp, wrap_angle, ...) and float/double overloads of the libm functions. Everything is
// CONVOY_HD, templated on the scalar so envs can run in float while tests check in double, and
// calls only functions that exist in CUDA device code (sinf/sin, atan2f/atan2, ...): std::min,
// std::abs and friends are avoided on purpose because they are not device functions.
#pragma once

#include <cmath>

#include "sim/hd.h"

namespace convoy::physics {

template <class T>
CONVOY_HD_INLINE constexpr T pi() {
  return T(3.141592653589793238462643383279502884L);
}
template <class T>
CONVOY_HD_INLINE constexpr T two_pi() {
  return T(6.283185307179586476925286766559005768L);
}

// Overloads that pick the float or double libm function; a bare sin(float) under g++ would
// silently promote to double, and std::sin is not callable from device code.
namespace math {
CONVOY_HD_INLINE float sin(float x) { return ::sinf(x); }
CONVOY_HD_INLINE double sin(double x) { return ::sin(x); }
CONVOY_HD_INLINE float cos(float x) { return ::cosf(x); }
CONVOY_HD_INLINE double cos(double x) { return ::cos(x); }
CONVOY_HD_INLINE float tan(float x) { return ::tanf(x); }
CONVOY_HD_INLINE double tan(double x) { return ::tan(x); }
CONVOY_HD_INLINE float atan(float x) { return ::atanf(x); }
CONVOY_HD_INLINE double atan(double x) { return ::atan(x); }
CONVOY_HD_INLINE float atan2(float y, float x) { return ::atan2f(y, x); }
CONVOY_HD_INLINE double atan2(double y, double x) { return ::atan2(y, x); }
CONVOY_HD_INLINE float sqrt(float x) { return ::sqrtf(x); }
CONVOY_HD_INLINE double sqrt(double x) { return ::sqrt(x); }
CONVOY_HD_INLINE float abs(float x) { return ::fabsf(x); }
CONVOY_HD_INLINE double abs(double x) { return ::fabs(x); }
CONVOY_HD_INLINE float floor(float x) { return ::floorf(x); }
CONVOY_HD_INLINE double floor(double x) { return ::floor(x); }
}  // namespace math

// min/max/clamp as plain comparisons: a NaN argument passes through instead of being hidden.
template <class T>
CONVOY_HD_INLINE constexpr T min(T a, T b) {
  return b < a ? b : a;
}
template <class T>
CONVOY_HD_INLINE constexpr T max(T a, T b) {
  return a < b ? b : a;
}
// The one clamp of physics and envs. NaN rule: a NaN x comes back NaN (fminf(fmaxf(x, lo), hi)
// would return lo); envs reject non-finite actions before a step, so no digest depends on it.
// Otherwise equal to fminf(fmaxf(x, lo), hi), lo > hi included (hi wins). Comparisons rather
// than fminf/fmaxf, whose libm calls g++ cannot inline without -ffinite-math-only (5% of a
// Highway-v0 frame); in two steps, which g++ compiles to maxss + minss, not two branches.
template <class T>
CONVOY_HD_INLINE constexpr T clamp(T x, T lo, T hi) {
  x = x < lo ? lo : x;
  return hi < x ? hi : x;
}
template <class T>
CONVOY_HD_INLINE constexpr T sq(T x) {
  return x * x;
}
template <class T>
CONVOY_HD_INLINE constexpr T sign(T x) {
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
}

// Angle in [-pi, pi). The final checks catch the rounding that can land exactly on +pi.
template <class T>
CONVOY_HD_INLINE T wrap_angle(T a) {
  T w = a - two_pi<T>() * math::floor((a + pi<T>()) / two_pi<T>());
  if (w >= pi<T>()) w -= two_pi<T>();
  if (w < -pi<T>()) w += two_pi<T>();
  return w;
}

template <class T>
struct Vec2 {
  T x, y;
};
using Vec2f = Vec2<float>;
using Vec2d = Vec2<double>;

template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> operator+(Vec2<T> a, Vec2<T> b) {
  return {a.x + b.x, a.y + b.y};
}
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> operator-(Vec2<T> a, Vec2<T> b) {
  return {a.x - b.x, a.y - b.y};
}
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> operator-(Vec2<T> a) {
  return {-a.x, -a.y};
}
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> operator*(Vec2<T> a, T s) {
  return {a.x * s, a.y * s};
}
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> operator*(T s, Vec2<T> a) {
  return {a.x * s, a.y * s};
}
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> operator/(Vec2<T> a, T s) {
  return {a.x / s, a.y / s};
}
template <class T>
CONVOY_HD_INLINE Vec2<T>& operator+=(Vec2<T>& a, Vec2<T> b) {
  a.x += b.x;
  a.y += b.y;
  return a;
}
template <class T>
CONVOY_HD_INLINE Vec2<T>& operator-=(Vec2<T>& a, Vec2<T> b) {
  a.x -= b.x;
  a.y -= b.y;
  return a;
}
template <class T>
CONVOY_HD_INLINE Vec2<T>& operator*=(Vec2<T>& a, T s) {
  a.x *= s;
  a.y *= s;
  return a;
}
template <class T>
CONVOY_HD_INLINE constexpr bool operator==(Vec2<T> a, Vec2<T> b) {
  return a.x == b.x && a.y == b.y;
}

template <class T>
CONVOY_HD_INLINE constexpr T dot(Vec2<T> a, Vec2<T> b) {
  return a.x * b.x + a.y * b.y;
}
// z component of the 3-D cross product: > 0 when b is counter-clockwise of a.
template <class T>
CONVOY_HD_INLINE constexpr T cross(Vec2<T> a, Vec2<T> b) {
  return a.x * b.y - a.y * b.x;
}
// a turned +90 degrees (the left normal).
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> perp(Vec2<T> a) {
  return {-a.y, a.x};
}
template <class T>
CONVOY_HD_INLINE constexpr T length_sq(Vec2<T> a) {
  return dot(a, a);
}
template <class T>
CONVOY_HD_INLINE T length(Vec2<T> a) {
  return math::sqrt(dot(a, a));
}
template <class T>
CONVOY_HD_INLINE T distance(Vec2<T> a, Vec2<T> b) {
  return length(a - b);
}
// Unit vector along a; the zero vector stays zero rather than becoming NaN.
template <class T>
CONVOY_HD_INLINE Vec2<T> normalized(Vec2<T> a) {
  const T n = length(a);
  return n > T(0) ? a / n : a;
}
// Unit vector at angle theta from the x axis.
template <class T>
CONVOY_HD_INLINE Vec2<T> unit_from_angle(T theta) {
  return {math::cos(theta), math::sin(theta)};
}
template <class T>
CONVOY_HD_INLINE T angle_of(Vec2<T> a) {
  return math::atan2(a.y, a.x);
}
// a rotated counter-clockwise by the angle whose cosine and sine are c, s (callers that rotate
// many points by one heading compute c, s once).
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> rotate(Vec2<T> a, T c, T s) {
  return {c * a.x - s * a.y, s * a.x + c * a.y};
}
template <class T>
CONVOY_HD_INLINE Vec2<T> rotate(Vec2<T> a, T theta) {
  return rotate(a, math::cos(theta), math::sin(theta));
}
// Inverse of rotate(a, c, s): world direction -> frame whose x axis is (c, s).
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> unrotate(Vec2<T> a, T c, T s) {
  return {c * a.x + s * a.y, -s * a.x + c * a.y};
}
template <class T>
CONVOY_HD_INLINE constexpr Vec2<T> lerp(Vec2<T> a, Vec2<T> b, T t) {
  return {a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t};
}

}  // namespace convoy::physics
