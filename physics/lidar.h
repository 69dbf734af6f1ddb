// A planar lidar for the envs' observations: n_rays rays from one origin, evenly spread over a
// field of view centred on the sensor's heading (a full circle when fov >= 2 pi, with no ray
// repeated at the seam), each returning the nearest hit of physics/raycast.h's cast_ray as a
// fraction of max_range: 1 means nothing within range. Shared by every env that offers a
// lidar observation, so rays are laid out and normalised the same way everywhere.
#pragma once

#include <cmath>

#include "physics/collision.h"
#include "physics/math.h"
#include "physics/raycast.h"
#include "sim/hd.h"

namespace convoy::physics {

template <class T>
struct LidarSpec {
  int n_rays;   // >= 1
  T fov;        // rad; >= 2 pi for a full circle
  T max_range;  // m, > 0
};

// Angle of ray k relative to the sensor's heading: a full circle starts at 0 (straight ahead)
// and steps by 2 pi / n; a partial fan runs from -fov/2 to +fov/2 inclusive (one ray: 0).
template <class T>
CONVOY_HD_INLINE T lidar_ray_angle(const LidarSpec<T>& spec, int k) {
  const T two_pi = static_cast<T>(6.283185307179586);
  if (spec.fov >= two_pi) return two_pi * static_cast<T>(k) / static_cast<T>(spec.n_rays);
  if (spec.n_rays == 1) return T(0);
  return -spec.fov / 2 + spec.fov * static_cast<T>(k) / static_cast<T>(spec.n_rays - 1);
}

// Ray k of the scan from origin at heading, and its nearest hit (physics/raycast.h's cast_ray):
// lidar_scan's loop body, also called alone by per-ray kernels (one thread per env x ray).
template <class T>
CONVOY_HD_INLINE Ray<T> lidar_ray(const LidarSpec<T>& spec, Vec2<T> origin, T heading, int k) {
  const T a = heading + lidar_ray_angle(spec, k);
  return {origin, {std::cos(a), std::sin(a)}, spec.max_range};
}
template <class T>
CONVOY_HD_INLINE RayHit<T> lidar_ray_hit(const LidarSpec<T>& spec, Vec2<T> origin, T heading, int k,
                                         const OrientedBox<T>* boxes, int n_boxes,
                                         const Circle<T>* circles, int n_circles,
                                         const Segment<T>* segments, int n_segments) {
  return cast_ray(lidar_ray(spec, origin, heading, k), boxes, n_boxes, circles, n_circles, segments,
                  n_segments);
}

// out[k] = distance of ray k / max_range, in [0, 1]; kinds (if not null) gets what each hit and
// indices (if not null) its index in that kind's array (-1 for no hit), e.g. to look up the
// speed of the vehicle a ray sees.
template <class T>
CONVOY_HD_INLINE void lidar_scan(const LidarSpec<T>& spec, Vec2<T> origin, T heading,
                                 const OrientedBox<T>* boxes, int n_boxes, const Circle<T>* circles,
                                 int n_circles, const Segment<T>* segments, int n_segments, T* out,
                                 HitKind* kinds = nullptr, int* indices = nullptr) {
  for (int k = 0; k < spec.n_rays; ++k) {
    const RayHit<T> hit = lidar_ray_hit(spec, origin, heading, k, boxes, n_boxes, circles,
                                        n_circles, segments, n_segments);
    out[k] = hit.distance / spec.max_range;
    if (kinds) kinds[k] = hit.kind;
    if (indices) indices[k] = hit.index;
  }
}

}  // namespace convoy::physics
