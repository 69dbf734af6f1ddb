// physics/collision.h against brute-force references written here from scratch: polygons
// intersect when an edge of one crosses an edge of the other or one contains a vertex of the
// other; a circle meets a polygon when its centre is inside or some edge is within the radius.
// Thousands of seeded random shapes, plus exact touching and near-touching configurations.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "physics/collision.h"
#include "tests/physics_reference.h"

namespace convoy::physics {
namespace {

using V = Vec2d;
using Box = OrientedBox<double>;

// ---- brute-force reference ---------------------------------------------------------------

double orient(V a, V b, V c) { return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x); }

bool on_segment(V a, V b, V p) {
  return std::fmin(a.x, b.x) <= p.x && p.x <= std::fmax(a.x, b.x) && std::fmin(a.y, b.y) <= p.y &&
         p.y <= std::fmax(a.y, b.y);
}

// Closed segments p1p2 and q1q2 share a point (the textbook orientation test).
bool segments_intersect(V p1, V p2, V q1, V q2) {
  const double d1 = orient(q1, q2, p1), d2 = orient(q1, q2, p2);
  const double d3 = orient(p1, p2, q1), d4 = orient(p1, p2, q2);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) {
    return true;
  }
  return (d1 == 0 && on_segment(q1, q2, p1)) || (d2 == 0 && on_segment(q1, q2, p2)) ||
         (d3 == 0 && on_segment(p1, p2, q1)) || (d4 == 0 && on_segment(p1, p2, q2));
}

using reference::corners;
const auto inside = reference::inside_polygon;

bool brute_box_box(const Box& a, const Box& b) {
  V pa[4], pb[4];
  corners(a, pa);
  corners(b, pb);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      if (segments_intersect(pa[i], pa[(i + 1) % 4], pb[j], pb[(j + 1) % 4])) return true;
    }
  }
  return inside(pa, pb[0]) || inside(pb, pa[0]);
}

double dist_point_segment(V p, V a, V b) {
  const double ex = b.x - a.x, ey = b.y - a.y;
  double t = ((p.x - a.x) * ex + (p.y - a.y) * ey) / (ex * ex + ey * ey);
  t = std::fmax(0.0, std::fmin(1.0, t));
  return std::hypot(p.x - a.x - t * ex, p.y - a.y - t * ey);
}

bool brute_box_circle(const Box& b, const Circle<double>& c) {
  V p[4];
  corners(b, p);
  if (inside(p, c.center)) return true;
  for (int i = 0; i < 4; ++i) {
    if (dist_point_segment(c.center, p[i], p[(i + 1) % 4]) <= c.radius) return true;
  }
  return false;
}

bool brute_box_segment(const Box& b, const Segment<double>& s) {
  V p[4];
  corners(b, p);
  for (int i = 0; i < 4; ++i) {
    if (segments_intersect(p[i], p[(i + 1) % 4], s.a, s.b)) return true;
  }
  return inside(p, s.a);
}

// ---- random shapes -----------------------------------------------------------------------

struct Gen {
  std::mt19937 rng;
  explicit Gen(unsigned seed) : rng(seed) {}
  double u(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  Box box() { return {{u(-4, 4), u(-4, 4)}, {u(0.05, 2.5), u(0.05, 1.5)}, u(-4, 4)}; }
  Circle<double> circle() { return {{u(-5, 5), u(-5, 5)}, u(0.01, 2.0)}; }
  Segment<double> segment() { return {{u(-6, 6), u(-6, 6)}, {u(-6, 6), u(-6, 6)}}; }
};

TEST(PhysicsCollision, BoxBoxMatchesBruteForceOnRandomPairs) {
  Gen g(42);
  int hits = 0;
  for (int i = 0; i < 20000; ++i) {
    const Box a = g.box(), b = g.box();
    const bool expect = brute_box_box(a, b);
    ASSERT_EQ(box_box_overlap(a, b), expect) << "pair " << i;
    ASSERT_EQ(box_box_overlap(b, a), expect) << "pair " << i;
    hits += expect;
  }
  // both outcomes are well represented
  EXPECT_GT(hits, 2000);
  EXPECT_LT(hits, 18000);
}

// The reported depth and axis are the minimum translation: moving b a hair less than depth in
// any direction keeps the overlap, a hair more along the axis separates.
TEST(PhysicsCollision, BoxBoxPenetrationIsMinimumTranslation) {
  Gen g(5);
  int checked = 0;
  for (int i = 0; i < 5000; ++i) {
    const Box a = g.box(), b = g.box();
    double depth;
    V axis;
    if (!box_box_penetration(a, b, &depth, &axis)) continue;
    ++checked;
    ASSERT_GE(depth, 0.0);
    ASSERT_NEAR(length(axis), 1.0, 1e-12);
    const double eps = 1e-7;
    Box moved = b;
    moved.center = b.center + axis * (depth + eps);
    ASSERT_FALSE(brute_box_box(a, moved)) << i;
    ASSERT_FALSE(box_box_overlap(a, moved)) << i;
    for (int k = 0; k < 8; ++k) {
      const double ang = g.u(-pi<double>(), pi<double>());
      Box near = b;
      near.center = b.center + unit_from_angle(ang) * std::fmax(0.0, depth - eps);
      ASSERT_TRUE(brute_box_box(a, near)) << i << " " << k;
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(PhysicsCollision, BoxCircleAndCircleCircleMatchBruteForce) {
  Gen g(9);
  int box_hits = 0;
  for (int i = 0; i < 20000; ++i) {
    const Box b = g.box();
    const Circle<double> c = g.circle(), d = g.circle();
    const bool expect = brute_box_circle(b, c);
    ASSERT_EQ(box_circle_overlap(b, c), expect) << i;
    box_hits += expect;
    ASSERT_EQ(circle_circle_overlap(c, d), distance(c.center, d.center) <= c.radius + d.radius);
  }
  EXPECT_GT(box_hits, 2000);
  EXPECT_LT(box_hits, 18000);
}

TEST(PhysicsCollision, BoxSegmentAndCircleSegmentMatchBruteForce) {
  Gen g(13);
  int hits = 0;
  for (int i = 0; i < 20000; ++i) {
    const Box b = g.box();
    const Segment<double> s = g.segment();
    const bool expect = brute_box_segment(b, s);
    ASSERT_EQ(box_segment_overlap(b, s), expect) << i;
    hits += expect;
    const Circle<double> c = g.circle();
    ASSERT_EQ(circle_segment_overlap(c, s), dist_point_segment(c.center, s.a, s.b) <= c.radius);
  }
  EXPECT_GT(hits, 2000);
  EXPECT_LT(hits, 18000);
  // a segment entirely inside the box, and a degenerate (point) segment
  const Box b{{1, 1}, {2, 1}, 0.3};
  EXPECT_TRUE(box_segment_overlap(b, Segment<double>{{1.1, 1.0}, {0.9, 1.1}}));
  EXPECT_TRUE(box_segment_overlap(b, Segment<double>{{1.0, 1.0}, {1.0, 1.0}}));
  EXPECT_FALSE(box_segment_overlap(b, Segment<double>{{9.0, 1.0}, {9.0, 1.0}}));
}

// Off road: the box reaches the half-plane when its support point along the normal does,
// computed here from the support function h_x |n.a_x| + h_y |n.a_y| instead of the corners.
TEST(PhysicsCollision, BoxHalfPlaneMatchesSupportFunction) {
  Gen g(21);
  for (int i = 0; i < 20000; ++i) {
    const Box b = g.box();
    const V n = unit_from_angle(g.u(-4, 4));
    const HalfPlane<double> h{{g.u(-4, 4), g.u(-4, 4)}, n};
    const V ax = unit_from_angle(b.heading), ay = perp(ax);
    const double support = dot(b.center - h.point, n) + b.half.x * std::fabs(dot(n, ax)) +
                           b.half.y * std::fabs(dot(n, ay));
    ASSERT_NEAR(box_half_plane_depth(b, h), support, 1e-12);
    if (std::fabs(support) > 1e-9) {
      ASSERT_EQ(box_half_plane_overlap(b, h), support > 0);
    }
  }
  // a lane edge at y = 2 with the road below: a car straddling it is off road, one a hair
  // inside is not
  const HalfPlane<double> edge{{0, 2}, {0, 1}};
  EXPECT_TRUE(box_half_plane_overlap(Box{{0, 1.5}, {2.5, 1.0}, 0.0}, edge));
  EXPECT_TRUE(box_half_plane_overlap(Box{{0, 1.0}, {2.5, 1.0}, 0.0}, edge));  // touching
  EXPECT_FALSE(box_half_plane_overlap(Box{{0, 1.0 - 1e-9}, {2.5, 1.0}, 0.0}, edge));
  // turning the same car makes a corner cross
  EXPECT_TRUE(box_half_plane_overlap(Box{{0, 0.9}, {2.5, 1.0}, 0.1}, edge));
}

TEST(PhysicsCollision, TouchingAndNearTouching) {
  // axis-aligned: exactly touching faces overlap, a nanometre apart they do not
  const Box a{{0, 0}, {1, 1}, 0.0};
  EXPECT_TRUE(box_box_overlap(a, Box{{2.0, 0.5}, {1, 1}, 0.0}));
  EXPECT_FALSE(box_box_overlap(a, Box{{2.0 + 1e-9, 0.5}, {1, 1}, 0.0}));
  double depth;
  V axis;
  ASSERT_TRUE(box_box_penetration(a, Box{{2.0 - 1e-9, 0.5}, {1, 1}, 0.0}, &depth, &axis));
  EXPECT_NEAR(depth, 1e-9, 1e-15);
  EXPECT_NEAR(axis.x, 1.0, 1e-15);
  // corners meeting exactly
  EXPECT_TRUE(box_box_overlap(a, Box{{2.0, 2.0}, {1, 1}, 0.0}));
  EXPECT_FALSE(box_box_overlap(a, Box{{2.0, 2.0 + 1e-9}, {1, 1}, 0.0}));
  // a diamond whose vertex approaches a face (the face axes alone would not separate these)
  const double r2 = std::sqrt(2.0);
  for (double gap : {1e-7, -1e-7}) {
    const Box diamond{{1.0 + r2 + gap, 0.3}, {1, 1}, pi<double>() / 4};
    EXPECT_EQ(box_box_overlap(a, diamond), gap < 0) << gap;
    EXPECT_EQ(brute_box_box(a, diamond), gap < 0) << gap;
  }
  // a diamond's face against the square's corner along the diagonal: the square's own axes
  // overlap, only the diamond's axis separates
  for (double gap : {1e-7, -1e-7}) {
    const double c = (r2 + 1.0 + gap) / r2;
    const Box tilted{{c, c}, {1, 1}, pi<double>() / 4};
    EXPECT_EQ(box_box_overlap(a, tilted), gap < 0) << gap;
    EXPECT_EQ(brute_box_box(a, tilted), gap < 0) << gap;
  }
  // circles tangent to a face and to a corner
  EXPECT_TRUE(box_circle_overlap(a, Circle<double>{{1.5, 0.2}, 0.5}));
  EXPECT_FALSE(box_circle_overlap(a, Circle<double>{{1.5 + 1e-9, 0.2}, 0.5}));
  const double k = 0.5 / r2;
  EXPECT_TRUE(box_circle_overlap(a, Circle<double>{{1 + k - 1e-9, 1 + k - 1e-9}, 0.5}));
  EXPECT_FALSE(box_circle_overlap(a, Circle<double>{{1 + k + 1e-9, 1 + k + 1e-9}, 0.5}));
  // near the corner, the square's bounding region is not enough: this circle is inside the
  // expanded box but outside the rounded corner
  EXPECT_FALSE(box_circle_overlap(a, Circle<double>{{1.45, 1.45}, 0.5}));
  EXPECT_TRUE(circle_circle_overlap(Circle<double>{{0, 0}, 1}, Circle<double>{{3, 0}, 2}));
  EXPECT_FALSE(circle_circle_overlap(Circle<double>{{0, 0}, 1}, Circle<double>{{3 + 1e-9, 0}, 2}));
  // a segment grazing a corner
  EXPECT_TRUE(box_segment_overlap(a, Segment<double>{{1, 1}, {3, 3}}));
  EXPECT_FALSE(box_segment_overlap(a, Segment<double>{{1 + 1e-9, 1}, {3, 3}}));
  EXPECT_TRUE(box_segment_overlap(a, Segment<double>{{0, 1}, {0, 5}}));
}

TEST(PhysicsCollision, FloatAgreesWithDoubleAwayFromContact) {
  Gen g(77);
  int compared = 0;
  for (int i = 0; i < 5000; ++i) {
    const Box a = g.box(), b = g.box();
    double depth;
    const bool hit = box_box_penetration(a, b, &depth, static_cast<V*>(nullptr));
    // skip near-contact cases where float rounding may legitimately flip the answer
    if (hit && depth < 1e-3) continue;
    if (!hit) {
      Box grown = b;
      grown.half = grown.half + V{1e-3, 1e-3};
      if (box_box_overlap(a, grown)) continue;
    }
    const OrientedBox<float> af{{float(a.center.x), float(a.center.y)},
                                {float(a.half.x), float(a.half.y)},
                                float(a.heading)};
    const OrientedBox<float> bf{{float(b.center.x), float(b.center.y)},
                                {float(b.half.x), float(b.half.y)},
                                float(b.heading)};
    ASSERT_EQ(box_box_overlap(af, bf), hit) << i;
    ++compared;
  }
  EXPECT_GT(compared, 4000);
}

}  // namespace
}  // namespace convoy::physics
