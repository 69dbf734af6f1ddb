// physics/raycast.h against references written here: boxes as four edges intersected exactly
// (line intersection in homogeneous coordinates) plus containment of the origin, circles by
// bisection on the distance to the centre, segments by the same homogeneous intersection; random
// scenes compare cast_ray's nearest hit with the minimum over all of them, and a march along the
// ray checks nothing is passed through before the reported hit.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "physics/lidar.h"
#include "physics/raycast.h"
#include "tests/physics_reference.h"

namespace convoy::physics {
namespace {

using V = Vec2d;
using Box = OrientedBox<double>;
using Cir = Circle<double>;
using Seg = Segment<double>;
using R = Ray<double>;
constexpr double kMiss = 1e300;

// ---- references --------------------------------------------------------------------------

struct H {
  double x, y, w;
};
H hcross(H a, H b) { return {a.y * b.w - a.w * b.y, a.w * b.x - a.x * b.w, a.x * b.y - a.y * b.x}; }

// Distance along the ray to where it crosses segment ab, or kMiss (parallel rays count as a miss
// here; the parallel cases are covered by hand below).
double ref_segment(const R& r, V a, V b) {
  const V far = r.origin + r.dir * r.max_range;
  const H l1 = hcross({r.origin.x, r.origin.y, 1}, {far.x, far.y, 1});
  const H l2 = hcross({a.x, a.y, 1}, {b.x, b.y, 1});
  const H p = hcross(l1, l2);
  if (p.w == 0) return kMiss;
  const V q{p.x / p.w, p.y / p.w};
  const double t = dot(q - r.origin, r.dir);
  const double tol = 1e-9;
  const double len = distance(a, b);
  const double along = dot(q - a, b - a) / len;
  if (t < -tol || t > r.max_range + tol || along < -tol || along > len + tol) return kMiss;
  return std::fmax(t, 0.0);
}

using reference::corners;
using reference::inside_polygon;

double ref_box(const R& r, const Box& b) {
  V p[4];
  corners(b, p);
  if (inside_polygon(p, r.origin)) return 0.0;
  double best = kMiss;
  for (int i = 0; i < 4; ++i) best = std::fmin(best, ref_segment(r, p[i], p[(i + 1) % 4]));
  return best;
}

// f(t) = |o + t d - c| - r is convex: if its minimum over [0, max] is <= 0, the first root is
// found by bisection on [0, argmin].
double ref_circle(const R& r, const Cir& c) {
  auto f = [&](double t) { return distance(r.origin + r.dir * t, c.center) - c.radius; };
  if (f(0) <= 0) return 0.0;
  const double t_min = std::fmax(0.0, std::fmin(r.max_range, dot(c.center - r.origin, r.dir)));
  if (f(t_min) > 0) return kMiss;
  double lo = 0, hi = t_min;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (f(mid) > 0 ? lo : hi) = mid;
  }
  return hi;
}

struct Scene {
  std::vector<Box> boxes;
  std::vector<Cir> circles;
  std::vector<Seg> segments;
};

struct Gen {
  std::mt19937 rng;
  explicit Gen(unsigned seed) : rng(seed) {}
  double u(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  Scene scene() {
    Scene s;
    for (int i = 0; i < 8; ++i) {
      s.boxes.push_back({{u(-10, 10), u(-10, 10)}, {u(0.2, 2.5), u(0.2, 1.2)}, u(-4, 4)});
    }
    for (int i = 0; i < 5; ++i) s.circles.push_back({{u(-10, 10), u(-10, 10)}, u(0.1, 1.5)});
    for (int i = 0; i < 6; ++i) {
      const V a{u(-10, 10), u(-10, 10)};
      s.segments.push_back({a, a + unit_from_angle(u(-4, 4)) * u(0.5, 8)});
    }
    return s;
  }
  R ray() { return {{u(-10, 10), u(-10, 10)}, unit_from_angle(u(-4, 4)), u(3, 20)}; }
};

TEST(PhysicsRaycast, PrimitivesMatchReferences) {
  Gen g(99);
  int box_hits = 0, circle_hits = 0, seg_hits = 0;
  for (int i = 0; i < 20000; ++i) {
    const R r = g.ray();
    const Scene s = g.scene();
    const Box& b = s.boxes[0];
    const Cir& c = s.circles[0];
    const Seg& sg = s.segments[0];
    double t;
    const double eb = ref_box(r, b), ec = ref_circle(r, c), es = ref_segment(r, sg.a, sg.b);
    ASSERT_EQ(ray_box(r, b, &t), eb != kMiss) << i;
    if (eb != kMiss) {
      ASSERT_NEAR(t, eb, 1e-8) << i;
      ++box_hits;
    }
    ASSERT_EQ(ray_circle(r, c, &t), ec != kMiss) << i;
    if (ec != kMiss) {
      ASSERT_NEAR(t, ec, 1e-8) << i;
      ++circle_hits;
    }
    ASSERT_EQ(ray_segment(r, sg, &t), es != kMiss) << i;
    if (es != kMiss) {
      ASSERT_NEAR(t, es, 1e-8) << i;
      ++seg_hits;
    }
    ASSERT_NEAR(ray_box_distance(r, b), eb == kMiss ? r.max_range : eb, 1e-8);
    ASSERT_NEAR(ray_circle_distance(r, c), ec == kMiss ? r.max_range : ec, 1e-8);
    ASSERT_NEAR(ray_segment_distance(r, sg), es == kMiss ? r.max_range : es, 1e-8);
  }
  EXPECT_GT(box_hits, 1000);
  EXPECT_GT(circle_hits, 500);
  EXPECT_GT(seg_hits, 500);
}

TEST(PhysicsRaycast, CastRayFindsNearestInRandomScenes) {
  Gen g(2024);
  int hits = 0;
  for (int scene = 0; scene < 300; ++scene) {
    const Scene s = g.scene();
    for (int k = 0; k < 30; ++k) {
      const R r = g.ray();
      const RayHit<double> hit =
          cast_ray(r, s.boxes.data(), int(s.boxes.size()), s.circles.data(), int(s.circles.size()),
                   s.segments.data(), int(s.segments.size()));
      double best = kMiss;
      HitKind kind = HitKind::kNone;
      int index = -1;
      for (int i = 0; i < int(s.boxes.size()); ++i) {
        const double t = ref_box(r, s.boxes[i]);
        if (t < best) best = t, kind = HitKind::kBox, index = i;
      }
      for (int i = 0; i < int(s.circles.size()); ++i) {
        const double t = ref_circle(r, s.circles[i]);
        if (t < best) best = t, kind = HitKind::kCircle, index = i;
      }
      for (int i = 0; i < int(s.segments.size()); ++i) {
        const double t = ref_segment(r, s.segments[i].a, s.segments[i].b);
        if (t < best) best = t, kind = HitKind::kSegment, index = i;
      }
      if (best == kMiss) {
        ASSERT_EQ(hit.kind, HitKind::kNone);
        ASSERT_EQ(hit.index, -1);
        ASSERT_EQ(hit.distance, r.max_range);
        continue;
      }
      ++hits;
      ASSERT_NEAR(hit.distance, best, 1e-8) << scene << " " << k;
      if (best > 0) {  // at 0 (origin inside two shapes) either may be reported
        ASSERT_EQ(hit.kind, kind) << scene << " " << k;
        ASSERT_EQ(hit.index, index) << scene << " " << k;
      }
      // march up to the hit: no box or circle contains any point before it
      for (int m = 0; m < 200; ++m) {
        const double t = hit.distance * m / 200.0 - 1e-9;
        if (t < 0) continue;
        const V p = r.origin + r.dir * t;
        for (const Box& b : s.boxes) ASSERT_FALSE(point_in_box(p, b)) << scene << " " << k;
        for (const Cir& c : s.circles) ASSERT_GT(distance(p, c.center), c.radius);
      }
      // and just past a box or circle hit the ray is inside what it hit
      const V past = r.origin + r.dir * (hit.distance + 1e-7);
      if (hit.kind == HitKind::kBox) {
        EXPECT_TRUE(point_in_box(past, s.boxes[hit.index]));
      }
      if (hit.kind == HitKind::kCircle) {
        EXPECT_LE(distance(past, s.circles[hit.index].center), s.circles[hit.index].radius);
      }
    }
  }
  EXPECT_GT(hits, 2000);
}

TEST(PhysicsRaycast, EdgeCases) {
  const Box b{{0, 0}, {1, 1}, 0.0};
  double t;
  // grazing along a face: touching counts, a nanometre off does not
  ASSERT_TRUE(ray_box(R{{-5, 1}, {1, 0}, 10}, b, &t));
  EXPECT_DOUBLE_EQ(t, 4.0);
  EXPECT_FALSE(ray_box(R{{-5, 1 + 1e-9}, {1, 0}, 10}, b, &t));
  // origin inside: distance 0; beyond max range: a miss reported as max_range
  ASSERT_TRUE(ray_box(R{{0.5, 0.5}, {1, 0}, 10}, b, &t));
  EXPECT_DOUBLE_EQ(t, 0.0);
  EXPECT_DOUBLE_EQ(ray_box_distance(R{{-5, 0}, {1, 0}, 3.9}, b), 3.9);
  EXPECT_FALSE(ray_box(R{{-5, 0}, {1, 0}, 3.9}, b, &t));
  EXPECT_FALSE(ray_box(R{{-5, 0}, {-1, 0}, 100}, b, &t));  // pointing away
  // circle: tangent, inside, behind
  const Cir c{{0, 0}, 1};
  ASSERT_TRUE(ray_circle(R{{-5, 1}, {1, 0}, 10}, c, &t));
  EXPECT_NEAR(t, 5.0, 1e-12);
  ASSERT_TRUE(ray_circle(R{{0.2, 0}, {0, 1}, 10}, c, &t));
  EXPECT_EQ(t, 0.0);
  EXPECT_FALSE(ray_circle(R{{5, 0}, {1, 0}, 10}, c, &t));
  ASSERT_TRUE(ray_circle(R{{5, 0}, {-1, 0}, 10}, c, &t));
  EXPECT_NEAR(t, 4.0, 1e-15);
  // segments: collinear ahead, collinear through the origin, collinear behind, end points
  const R rx{{0, 0}, {1, 0}, 10};
  ASSERT_TRUE(ray_segment(rx, Seg{{5, 0}, {3, 0}}, &t));
  EXPECT_DOUBLE_EQ(t, 3.0);
  ASSERT_TRUE(ray_segment(rx, Seg{{-1, 0}, {3, 0}}, &t));
  EXPECT_DOUBLE_EQ(t, 0.0);
  EXPECT_FALSE(ray_segment(rx, Seg{{-3, 0}, {-1, 0}}, &t));
  EXPECT_FALSE(ray_segment(rx, Seg{{3, 1e-9}, {5, 1e-9}}, &t));  // parallel, off the line
  ASSERT_TRUE(ray_segment(rx, Seg{{2, 0}, {2, 4}}, &t));
  EXPECT_DOUBLE_EQ(t, 2.0);
  EXPECT_FALSE(ray_segment(rx, Seg{{2, 1e-9}, {2, 4}}, &t));
  // empty scene and null arrays
  const RayHit<double> none = cast_ray<double>(rx, nullptr, 0, nullptr, 0, nullptr, 0);
  EXPECT_EQ(none.kind, HitKind::kNone);
  EXPECT_EQ(none.distance, 10.0);
  // equal distances: the earlier kind wins
  const Box wall{{4, 0}, {1, 1}, 0.0};
  const Seg face{{3, -1}, {3, 1}};
  const RayHit<double> tie = cast_ray(rx, &wall, 1, &c, 0, &face, 1);
  EXPECT_EQ(tie.kind, HitKind::kBox);
  EXPECT_DOUBLE_EQ(tie.distance, 3.0);
}

TEST(PhysicsRaycast, FloatLidarMatchesDouble) {
  Gen g(8);
  const Scene s = g.scene();
  std::vector<OrientedBox<float>> bf;
  for (const Box& b : s.boxes) {
    bf.push_back({{float(b.center.x), float(b.center.y)},
                  {float(b.half.x), float(b.half.y)},
                  float(b.heading)});
  }
  int compared = 0;
  for (int i = 0; i < 360; ++i) {
    const double a = i * pi<double>() / 180;
    const R r{{0.3, -0.2}, unit_from_angle(a), 30};
    const Ray<float> rf{{0.3f, -0.2f}, unit_from_angle(float(a)), 30.0f};
    const RayHit<double> hd = cast_ray<double>(r, s.boxes.data(), 8, nullptr, 0, nullptr, 0);
    const RayHit<float> hf = cast_ray<float>(rf, bf.data(), 8, nullptr, 0, nullptr, 0);
    if (hd.kind != hf.kind) continue;  // a grazing ray can flip in float
    EXPECT_NEAR(hf.distance, hd.distance, 1e-3);
    ++compared;
  }
  EXPECT_GT(compared, 350);
}

}  // namespace
}  // namespace convoy::physics

namespace convoy::physics {

// The shared lidar: ray layout (full circle and fan) and normalised distances.
TEST(PhysicsLidar, LayoutAndDistances) {
  const double pi = 3.141592653589793;
  const LidarSpec<double> full = {8, 2 * pi, 10.0};
  EXPECT_DOUBLE_EQ(lidar_ray_angle(full, 0), 0.0);
  EXPECT_DOUBLE_EQ(lidar_ray_angle(full, 2), pi / 2);
  const LidarSpec<double> fan = {5, pi, 10.0};
  EXPECT_DOUBLE_EQ(lidar_ray_angle(fan, 0), -pi / 2);
  EXPECT_DOUBLE_EQ(lidar_ray_angle(fan, 4), pi / 2);
  EXPECT_DOUBLE_EQ(lidar_ray_angle(LidarSpec<double>{1, pi, 1.0}, 0), 0.0);
  // a circle of radius 1 centred 4 m ahead of a sensor facing +y: the ray straight ahead hits
  // at 3 m, the one behind sees nothing, and the kinds say so
  const Circle<double> c = {{0.0, 4.0}, 1.0};
  double out[8];
  HitKind kinds[8];
  lidar_scan<double>(full, Vec2d{0.0, 0.0}, pi / 2, nullptr, 0, &c, 1, nullptr, 0, out, kinds);
  EXPECT_NEAR(out[0], 0.3, 1e-12);
  EXPECT_EQ(kinds[0], HitKind::kCircle);
  EXPECT_DOUBLE_EQ(out[4], 1.0);
  EXPECT_EQ(kinds[4], HitKind::kNone);
  for (double d : out) {
    EXPECT_GE(d, 0.0);
    EXPECT_LE(d, 1.0);
  }
}

}  // namespace convoy::physics
