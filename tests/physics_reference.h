// Brute-force geometry shared by the physics tests, written independently of physics/: box
// corners by rotating the local corners, and containment in a convex polygon.
#pragma once

#include <cmath>

#include "physics/collision.h"

namespace convoy::physics::reference {

// Corners built without box_corners: rotate (+-half.x, +-half.y) by the heading (CCW order).
inline void corners(const OrientedBox<double>& b, Vec2d out[4]) {
  const double c = std::cos(b.heading), s = std::sin(b.heading);
  const double lx[4] = {b.half.x, -b.half.x, -b.half.x, b.half.x};
  const double ly[4] = {b.half.y, b.half.y, -b.half.y, -b.half.y};
  for (int i = 0; i < 4; ++i) {
    out[i] = {b.center.x + c * lx[i] - s * ly[i], b.center.y + s * lx[i] + c * ly[i]};
  }
}

// Point in a counter-clockwise convex quadrilateral, boundary included.
inline bool inside_polygon(const Vec2d poly[4], Vec2d p) {
  for (int i = 0; i < 4; ++i) {
    const Vec2d a = poly[i], b = poly[(i + 1) % 4];
    if ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) < 0) return false;
  }
  return true;
}

}  // namespace convoy::physics::reference
