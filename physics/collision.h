// Overlap tests between the shapes the envs put in a scene: vehicles as oriented boxes, robots and
// round obstacles as circles, road edges as segments or half-planes. Boxes go through the
// separating axis theorem (for two rectangles the four face normals are the only candidate
// axes), circles through the closest point. All shapes are closed sets: touching counts as
// overlap, so a car exactly on a lane edge is on it, not beside it.
#pragma once

#include "physics/math.h"
#include "sim/hd.h"

namespace convoy::physics {

template <class T>
struct OrientedBox {
  Vec2<T> center;  // m
  Vec2<T> half;    // m, half-length along the heading (x) and half-width across it (y)
  T heading;       // rad, direction of the box's local x axis
};

template <class T>
struct Circle {
  Vec2<T> center;  // m
  T radius;        // m
};

template <class T>
struct Segment {
  Vec2<T> a, b;  // m, end points
};

// {p : dot(p - point, normal) >= 0}, e.g. everything beyond a road edge.
template <class T>
struct HalfPlane {
  Vec2<T> point;   // m, any point on the boundary line
  Vec2<T> normal;  // unit, pointing into the half-plane
};

// The box's local x and y axes in world coordinates.
template <class T>
CONVOY_HD_INLINE void box_axes(const OrientedBox<T>& b, Vec2<T>* ax, Vec2<T>* ay) {
  *ax = unit_from_angle(b.heading);
  *ay = perp(*ax);
}

// Corners counter-clockwise, starting front-left: (+x, +y), (-x, +y), (-x, -y), (+x, -y).
template <class T>
CONVOY_HD_INLINE void box_corners(const OrientedBox<T>& b, Vec2<T> out[4]) {
  Vec2<T> ax, ay;
  box_axes(b, &ax, &ay);
  const Vec2<T> fx = ax * b.half.x, fy = ay * b.half.y;
  out[0] = b.center + fx + fy;
  out[1] = b.center - fx + fy;
  out[2] = b.center - fx - fy;
  out[3] = b.center + fx - fy;
}

// Half the length of the box's shadow on the unit axis n.
template <class T>
CONVOY_HD_INLINE T box_extent_along(Vec2<T> ax, Vec2<T> ay, Vec2<T> half, Vec2<T> n) {
  return half.x * math::abs(dot(ax, n)) + half.y * math::abs(dot(ay, n));
}

template <class T>
CONVOY_HD_INLINE bool point_in_box(Vec2<T> p, const OrientedBox<T>& b) {
  const Vec2<T> local = unrotate(p - b.center, math::cos(b.heading), math::sin(b.heading));
  return math::abs(local.x) <= b.half.x && math::abs(local.y) <= b.half.y;
}

// Box-box overlap with the minimum translation: when they overlap, moving b by depth along
// axis (a unit vector pointing from a towards b) makes them touch, and no shorter move in any
// direction separates them (the deepest face normal of the Minkowski difference).
template <class T>
CONVOY_HD_INLINE bool box_box_penetration(const OrientedBox<T>& a, const OrientedBox<T>& b,
                                          T* depth, Vec2<T>* axis) {
  Vec2<T> axes[4];
  box_axes(a, &axes[0], &axes[1]);
  box_axes(b, &axes[2], &axes[3]);
  const Vec2<T> d = b.center - a.center;
  T best = T(0);
  Vec2<T> best_axis = axes[0];
  for (int i = 0; i < 4; ++i) {
    const Vec2<T> n = axes[i];
    const T ra = box_extent_along(axes[0], axes[1], a.half, n);
    const T rb = box_extent_along(axes[2], axes[3], b.half, n);
    const T dist = dot(d, n);
    const T overlap = ra + rb - math::abs(dist);
    if (overlap < T(0)) return false;  // separating axis
    if (i == 0 || overlap < best) {
      best = overlap;
      best_axis = dist < T(0) ? -n : n;
    }
  }
  if (depth) *depth = best;
  if (axis) *axis = best_axis;
  return true;
}

template <class T>
CONVOY_HD_INLINE bool box_box_overlap(const OrientedBox<T>& a, const OrientedBox<T>& b) {
  return box_box_penetration<T>(a, b, nullptr, nullptr);
}

// Closest point of the box to the circle's centre, in the box frame.
template <class T>
CONVOY_HD_INLINE bool box_circle_overlap(const OrientedBox<T>& b, const Circle<T>& c) {
  const Vec2<T> local = unrotate(c.center - b.center, math::cos(b.heading), math::sin(b.heading));
  const Vec2<T> q = {clamp(local.x, -b.half.x, b.half.x), clamp(local.y, -b.half.y, b.half.y)};
  return length_sq(local - q) <= c.radius * c.radius;
}

template <class T>
CONVOY_HD_INLINE bool circle_circle_overlap(const Circle<T>& a, const Circle<T>& b) {
  return length_sq(b.center - a.center) <= sq(a.radius + b.radius);
}

// Squared distance from p to the closest point of segment s.
template <class T>
CONVOY_HD_INLINE T point_segment_distance_sq(Vec2<T> p, const Segment<T>& s) {
  const Vec2<T> e = s.b - s.a;
  const T len2 = length_sq(e);
  const T t = len2 > T(0) ? clamp(dot(p - s.a, e) / len2, T(0), T(1)) : T(0);
  return length_sq(p - (s.a + e * t));
}

template <class T>
CONVOY_HD_INLINE bool circle_segment_overlap(const Circle<T>& c, const Segment<T>& s) {
  return point_segment_distance_sq(c.center, s) <= c.radius * c.radius;
}

// Box against a segment (a road edge or a wall): separating axes are the box's two axes and the
// segment's normal; a zero-length segment degenerates to a point-in-box test.
template <class T>
CONVOY_HD_INLINE bool box_segment_overlap(const OrientedBox<T>& b, const Segment<T>& s) {
  Vec2<T> ax, ay;
  box_axes(b, &ax, &ay);
  const Vec2<T> pa = s.a - b.center, pb = s.b - b.center;
  const Vec2<T> n = perp(s.b - s.a);
  const Vec2<T> axes[3] = {ax, ay, n};
  for (int i = 0; i < 3; ++i) {
    const T r = box_extent_along(ax, ay, b.half, axes[i]);
    const T u = dot(pa, axes[i]), v = dot(pb, axes[i]);
    if (min(u, v) > r || max(u, v) < -r) return false;
  }
  return true;
}

// How far the box reaches into the half-plane: the largest signed distance of its corners
// (> 0: a corner is inside by that much, the box is "off road"; < 0: clearance).
template <class T>
CONVOY_HD_INLINE T box_half_plane_depth(const OrientedBox<T>& b, const HalfPlane<T>& h) {
  Vec2<T> corners[4];
  box_corners(b, corners);
  T m = dot(corners[0] - h.point, h.normal);
  for (int i = 1; i < 4; ++i) m = max(m, dot(corners[i] - h.point, h.normal));
  return m;
}

// True when any corner touches or crosses into the half-plane.
template <class T>
CONVOY_HD_INLINE bool box_half_plane_overlap(const OrientedBox<T>& b, const HalfPlane<T>& h) {
  return box_half_plane_depth(b, h) >= T(0);
}

}  // namespace convoy::physics
