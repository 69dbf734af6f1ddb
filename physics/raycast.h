// Rays against the scene shapes of physics/collision.h, for lidar and range observations: each
// primitive test reports whether the ray hits within its range and at what distance, and
// cast_ray returns the nearest hit over arrays of boxes, circles and segments. A ray that starts
// inside a box or circle hits it at distance 0 (the sensor is inside the obstacle). Distances are
// along a unit direction, so they are metres.
#pragma once

#include "physics/collision.h"
#include "physics/math.h"
#include "sim/hd.h"

namespace convoy::physics {

template <class T>
struct Ray {
  Vec2<T> origin;  // m
  Vec2<T> dir;     // unit direction
  T max_range;     // m
};

enum class HitKind : int { kNone = 0, kBox = 1, kCircle = 2, kSegment = 3 };

template <class T>
struct RayHit {
  T distance;    // m; max_range when nothing was hit
  HitKind kind;  // what was hit
  int index;     // its index in the array of that kind; -1 when nothing was hit
};

// Slab test in the box frame.
template <class T>
CONVOY_HD_INLINE bool ray_box(const Ray<T>& ray, const OrientedBox<T>& b, T* t_hit) {
  const T c = math::cos(b.heading), s = math::sin(b.heading);
  const Vec2<T> o = unrotate(ray.origin - b.center, c, s);
  const Vec2<T> d = unrotate(ray.dir, c, s);
  const T oo[2] = {o.x, o.y}, dd[2] = {d.x, d.y}, hh[2] = {b.half.x, b.half.y};
  T t_min = T(0), t_max = ray.max_range;
  for (int i = 0; i < 2; ++i) {
    if (dd[i] == T(0)) {
      // parallel to this slab: inside it for the whole ray or never
      if (math::abs(oo[i]) > hh[i]) return false;
      continue;
    }
    T t1 = (-hh[i] - oo[i]) / dd[i], t2 = (hh[i] - oo[i]) / dd[i];
    if (t1 > t2) {
      const T tmp = t1;
      t1 = t2;
      t2 = tmp;
    }
    t_min = max(t_min, t1);
    t_max = min(t_max, t2);
    if (t_min > t_max) return false;
  }
  *t_hit = t_min;
  return true;
}

// Nearest root of |o + t d - c| = r, in the cancellation-free form t = q / (-b + sqrt(b^2 - q)).
template <class T>
CONVOY_HD_INLINE bool ray_circle(const Ray<T>& ray, const Circle<T>& circle, T* t_hit) {
  const Vec2<T> m = ray.origin - circle.center;
  const T q = dot(m, m) - circle.radius * circle.radius;
  if (q <= T(0)) {
    *t_hit = T(0);
    return true;
  }
  const T b = dot(m, ray.dir);
  if (b >= T(0)) return false;  // outside and heading away
  const T disc = b * b - q;
  if (disc < T(0)) return false;
  const T t = q / (-b + math::sqrt(disc));
  if (t > ray.max_range) return false;
  *t_hit = t;
  return true;
}

// o + t d = a + u (b - a) by Cramer's rule; a collinear overlapping segment is hit at its nearest
// point ahead (or at 0 if the origin lies on it).
template <class T>
CONVOY_HD_INLINE bool ray_segment(const Ray<T>& ray, const Segment<T>& seg, T* t_hit) {
  const Vec2<T> e = seg.b - seg.a;
  const Vec2<T> w = seg.a - ray.origin;
  const T denom = cross(ray.dir, e);
  T t;
  if (denom == T(0)) {
    if (cross(w, ray.dir) != T(0)) return false;  // parallel, off the line
    const T ta = dot(w, ray.dir), tb = dot(seg.b - ray.origin, ray.dir);
    if (max(ta, tb) < T(0)) return false;
    t = max(T(0), min(ta, tb));
  } else {
    t = cross(w, e) / denom;
    const T u = cross(w, ray.dir) / denom;
    if (t < T(0) || u < T(0) || u > T(1)) return false;
  }
  if (t > ray.max_range) return false;
  *t_hit = t;
  return true;
}

// Distance-only forms: max_range when nothing is hit.
template <class T>
CONVOY_HD_INLINE T ray_box_distance(const Ray<T>& ray, const OrientedBox<T>& b) {
  T t;
  return ray_box(ray, b, &t) ? t : ray.max_range;
}
template <class T>
CONVOY_HD_INLINE T ray_circle_distance(const Ray<T>& ray, const Circle<T>& c) {
  T t;
  return ray_circle(ray, c, &t) ? t : ray.max_range;
}
template <class T>
CONVOY_HD_INLINE T ray_segment_distance(const Ray<T>& ray, const Segment<T>& s) {
  T t;
  return ray_segment(ray, s, &t) ? t : ray.max_range;
}

// Nearest hit over a scene given as pointer + count per kind (any pointer may be null with a
// zero count). Ties go to the earlier kind (boxes, circles, segments), then the lower index.
template <class T>
CONVOY_HD_INLINE RayHit<T> cast_ray(const Ray<T>& ray, const OrientedBox<T>* boxes, int n_boxes,
                                    const Circle<T>* circles, int n_circles,
                                    const Segment<T>* segments, int n_segments) {
  RayHit<T> hit = {ray.max_range, HitKind::kNone, -1};
  T t;
  for (int i = 0; i < n_boxes; ++i) {
    if (ray_box(ray, boxes[i], &t) && (hit.kind == HitKind::kNone || t < hit.distance)) {
      hit = {t, HitKind::kBox, i};
    }
  }
  for (int i = 0; i < n_circles; ++i) {
    if (ray_circle(ray, circles[i], &t) && (hit.kind == HitKind::kNone || t < hit.distance)) {
      hit = {t, HitKind::kCircle, i};
    }
  }
  for (int i = 0; i < n_segments; ++i) {
    if (ray_segment(ray, segments[i], &t) && (hit.kind == HitKind::kNone || t < hit.distance)) {
      hit = {t, HitKind::kSegment, i};
    }
  }
  return hit;
}

}  // namespace convoy::physics
