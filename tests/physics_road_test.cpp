// physics/road.h against references written here from scratch: projections are checked against
// a brute-force nearest point over a densely sampled centreline (refined around the best
// sample), headings against finite differences of positions, and every builder's lanes for
// continuity at their joins and for the layout facts of highway-env's scenes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "physics/road.h"

namespace convoy::physics {
namespace {

using V = Vec2d;
using Piece = LanePiece<double>;
using Storage = RoadStorage<double>;

double angle_diff(double a, double b) { return std::fabs(wrap_angle(a - b)); }

struct Gen {
  std::mt19937 rng;
  explicit Gen(unsigned seed) : rng(seed) {}
  double u(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  // a straight or an arc turning up to 270 degrees either way, radius 5..200 m
  Piece piece() {
    const V start{u(-50, 50), u(-50, 50)};
    const double heading = u(-4, 4);
    if (u(0, 1) < 0.3) return make_straight(start, heading, u(1, 100));
    const double radius = u(5, 200), sweep = u(0.05, 4.7) * (u(0, 1) < 0.5 ? -1 : 1);
    return {start, heading, radius * std::fabs(sweep), (sweep > 0 ? 1 : -1) / radius};
  }
};

// Nearest point of the centreline sampled every h metres, then refined by bisection-free local
// resampling around the best sample: returns the distance and its s.
double brute_nearest(const LaneChain<double>& lane, V q, double* s_best) {
  const double h = 0.05;
  const int n = static_cast<int>(lane.length / h) + 1;
  double best = 1e300, bs = 0;
  for (int i = 0; i <= n; ++i) {
    const double s = std::fmin(lane.length, i * h);
    const double d = distance(lane_position(lane, s), q);
    if (d < best) best = d, bs = s;
  }
  for (double step = h; step > 1e-9; step /= 10) {
    const double lo = std::fmax(0.0, bs - step), hi = std::fmin(lane.length, bs + step);
    for (int i = 0; i <= 20; ++i) {
      const double s = lo + (hi - lo) * i / 20;
      const double d = distance(lane_position(lane, s), q);
      if (d < best) best = d, bs = s;
    }
  }
  *s_best = bs;
  return best;
}

// A random chain with continuous heading: `count` pieces appended end to end.
int random_chain(Gen& g, Storage* st, RoadNetwork<double>* net, int count) {
  *net = st->network();
  road_begin_lane(net, 4.0);
  road_append(net, make_straight(V{g.u(-10, 10), g.u(-10, 10)}, g.u(-3, 3), g.u(5, 40)));
  for (int i = 1; i < count; ++i) {
    if (g.u(0, 1) < 0.4) {
      road_continue(net, g.u(5, 40), 0.0);
    } else {
      const double radius = g.u(20, 80);
      road_continue(net, radius * g.u(0.2, 1.2), (g.u(0, 1) < 0.5 ? -1 : 1) / radius);
    }
  }
  return net->num_lanes;
}

// Every lane of a network: consecutive pieces meet with the same position and heading, the s
// table adds up, and lane_position / lane_heading agree on both sides of each join.
void expect_continuous(const RoadNetwork<double>& net) {
  for (int k = 0; k < net.num_lanes; ++k) {
    const LaneChain<double> lane = road_lane(net, k);
    double s = 0;
    for (int i = 0; i < lane.count; ++i) {
      ASSERT_NEAR(lane.s0[i], s, 1e-9) << "lane " << k << " piece " << i;
      s += lane.pieces[i].length;
      if (i == 0) continue;
      const Piece& a = lane.pieces[i - 1];
      const Piece& b = lane.pieces[i];
      ASSERT_LT(distance(piece_end(a), b.start), 1e-9) << "lane " << k << " join " << i;
      ASSERT_LT(angle_diff(piece_heading(a, a.length), b.heading), 1e-12) << k << " " << i;
      const double e = 1e-7;
      ASSERT_LT(distance(lane_position(lane, lane.s0[i] - e), lane_position(lane, lane.s0[i] + e)),
                3e-7);
      ASSERT_LT(angle_diff(lane_heading(lane, lane.s0[i] - e), lane_heading(lane, lane.s0[i] + e)),
                1e-7);
    }
    ASSERT_NEAR(lane.length, s, 1e-9) << "lane " << k;
  }
}

TEST(PhysicsRoad, PieceRoundTripOnSegmentsAndArcs) {
  Gen g(1);
  int arcs = 0;
  for (int i = 0; i < 5000; ++i) {
    const Piece p = g.piece();
    arcs += p.curvature != 0;
    const double r = p.curvature == 0 ? 1e9 : 1 / std::fabs(p.curvature);
    // (s, d) -> world -> (s, d), including a little extrapolation beyond both ends
    const double s = g.u(-0.1, 1.1) * p.length, d = g.u(-0.9, 0.9) * std::fmin(r, 20.0);
    double s2, d2;
    piece_frenet(p, piece_position(p, s, d), &s2, &d2);
    ASSERT_NEAR(s2, s, 1e-8 * (1 + p.length)) << i;
    ASSERT_NEAR(d2, d, 1e-8 * (1 + r)) << i;
    // world -> (s, d) -> world for any point but the arc's centre
    const V q{g.u(-150, 150), g.u(-150, 150)};
    piece_frenet(p, q, &s2, &d2);
    ASSERT_LT(distance(piece_position(p, s2, d2), q), 1e-8) << i;
  }
  EXPECT_GT(arcs, 3000);
}

TEST(PhysicsRoad, PieceGeometryMatchesCircle) {
  // make_arc in highway-env's (centre, radius, angles) form lands on that circle
  const V c{3, -2};
  const Piece cw = make_arc(c, 10.0, 0.3, -1.2), ccw = make_arc(c, 10.0, 0.3, 2.0);
  for (const Piece& p : {cw, ccw}) {
    for (int i = 0; i <= 10; ++i) {
      const double s = p.length * i / 10;
      EXPECT_NEAR(distance(piece_position(p, s, 0.0), c), 10.0, 1e-12);
      // left offset moves towards the centre on a left turn, away on a right turn
      EXPECT_NEAR(distance(piece_position(p, s, 1.0), c), p.curvature > 0 ? 9.0 : 11.0, 1e-12);
    }
  }
  EXPECT_NEAR(ccw.length, 20.0, 1e-12);
  EXPECT_LT(distance(piece_end(ccw), c + unit_from_angle(2.3) * 10.0), 1e-12);
  EXPECT_LT(distance(piece_end(cw), c + unit_from_angle(-0.9) * 10.0), 1e-12);
  // straight: plain line, d to the left
  const Piece st = make_straight(V{1, 1}, pi<double>() / 2, 10.0);
  const V q = piece_position(st, 4.0, 2.0);
  EXPECT_NEAR(q.x, -1.0, 1e-12);
  EXPECT_NEAR(q.y, 5.0, 1e-12);
}

TEST(PhysicsRoad, HeadingIsTheDirectionOfTheCentreline) {
  Gen g(3);
  for (int t = 0; t < 50; ++t) {
    Storage st;
    RoadNetwork<double> net;
    random_chain(g, &st, &net, 6);
    const LaneChain<double> lane = road_lane(net, 0);
    for (int i = 0; i < 200; ++i) {
      const double s = g.u(0.001, lane.length - 0.001), e = 1e-6;
      const V dp = lane_position(lane, s + e) - lane_position(lane, s - e);
      ASSERT_LT(angle_diff(angle_of(dp), lane_heading(lane, s)), 1e-6) << t << " " << s;
    }
  }
}

TEST(PhysicsRoad, ChainRoundTripOnRandomPoints) {
  Gen g(7);
  int compared = 0;
  for (int t = 0; t < 200; ++t) {
    Storage st;
    RoadNetwork<double> net;
    random_chain(g, &st, &net, 1 + t % 7);
    const LaneChain<double> lane = road_lane(net, 0);
    for (int i = 0; i < 100; ++i) {
      // world -> (s, d) -> world anywhere around the chain
      const V q{g.u(-150, 150), g.u(-150, 150)};
      double s, d;
      lane_frenet(lane, q, &s, &d);
      ASSERT_LT(distance(lane_position(lane, s, d), q), 1e-8) << t << " " << i;
      // (s, d) -> world -> (s, d) close to the centreline (closer than any radius, 20 m)
      const double s0 = g.u(0, lane.length), d0 = g.u(-3, 3);
      const V p = lane_position(lane, s0, d0);
      double s1, d1;
      lane_frenet(lane, p, &s1, &d1);
      double sb;
      // a chain may come back near itself: only then may the nearest point be elsewhere
      if (std::fabs(brute_nearest(lane, p, &sb) - std::fabs(d0)) > 1e-6) continue;
      ASSERT_NEAR(s1, s0, 1e-7) << t << " " << i;
      ASSERT_NEAR(d1, d0, 1e-8) << t << " " << i;
      ++compared;
    }
  }
  EXPECT_GT(compared, 15000);
}

// The projection's foot is the nearest centreline point: same distance and s as a dense
// brute-force search, on random chains and on the racetrack.
TEST(PhysicsRoad, ProjectionMatchesBruteForceNearestPoint) {
  Gen g(11);
  int compared = 0;
  for (int t = 0; t < 30; ++t) {
    Storage st;
    RoadNetwork<double> net;
    if (t == 0) {
      net = st.network();
      ASSERT_EQ(build_racetrack(&net), 1);
    } else {
      random_chain(g, &st, &net, 2 + t % 6);
    }
    const LaneChain<double> lane = road_lane(net, 0);
    for (int i = 0; i < 40; ++i) {
      const V q =
          lane_position(lane, g.u(0, lane.length), g.u(-12, 12)) + V{g.u(-3, 3), g.u(-3, 3)};
      double s, d, sb;
      lane_frenet(lane, q, &s, &d);
      const double dist = brute_nearest(lane, q, &sb);
      // beyond the ends the lane extrapolates, where a clamped brute force cannot follow
      if (sb <= 1e-6 || sb >= lane.length - 1e-6) continue;
      ++compared;
      ASSERT_NEAR(std::fabs(d), dist, 1e-7) << t << " " << i;
      ASSERT_NEAR(s, sb, 1e-5) << t << " " << i;
    }
  }
  EXPECT_GT(compared, 900);
}

TEST(PhysicsRoad, OnLaneUsesHalfTheWidthAndTheEnds) {
  const Piece arc = make_arc(V{0, 0}, 20.0, 0.0, 1.5);
  const double zero = 0;
  const LaneChain<double> lane = single_piece_lane(&arc, &zero, 4.0);
  for (double s : {0.5, 10.0, 29.5}) {
    EXPECT_TRUE(on_lane(lane, lane_position(lane, s, 1.999)));
    EXPECT_TRUE(on_lane(lane, lane_position(lane, s, -1.999)));
    EXPECT_FALSE(on_lane(lane, lane_position(lane, s, 2.001)));
    EXPECT_FALSE(on_lane(lane, lane_position(lane, s, -2.001)));
    EXPECT_EQ(on_lane(arc, 4.0, lane_position(lane, s, 1.5)), true);
  }
  EXPECT_FALSE(on_lane(lane, lane_position(lane, -0.01, 0.0)));
  EXPECT_FALSE(on_lane(lane, lane_position(lane, 30.01, 0.0)));
  EXPECT_FALSE(on_lane(arc, 4.0, lane_position(lane, 30.01, 0.0)));
}

TEST(PhysicsRoad, HighwayLanesAreFourMetresApartLeftToRight) {
  Storage st;
  RoadNetwork<double> net = st.network();
  ASSERT_EQ(build_highway(&net, 4, 1000.0), 4);
  expect_continuous(net);
  for (int k = 0; k + 1 < 4; ++k) {
    const LaneChain<double> a = road_lane(net, k), b = road_lane(net, k + 1);
    EXPECT_EQ(a.width, 4.0);
    EXPECT_EQ(a.length, 1000.0);
    for (double s : {0.0, 123.0, 999.0}) {
      double sb, db;
      lane_frenet(a, lane_position(b, s), &sb, &db);
      EXPECT_NEAR(sb, s, 1e-12);
      EXPECT_NEAR(db, -4.0, 1e-12);  // lane k + 1 is 4 m to the right of lane k
      EXPECT_EQ(lane_heading(a, s), lane_heading(b, s));
      // a point 1.9 m right of lane k's centre is on k only, 2.1 m right on k + 1 only
      EXPECT_TRUE(on_lane(a, lane_position(a, s, -1.9)));
      EXPECT_FALSE(on_lane(b, lane_position(a, s, -1.9)));
      EXPECT_TRUE(on_lane(b, lane_position(a, s, -2.1)));
      EXPECT_FALSE(on_lane(a, lane_position(a, s, -2.1)));
    }
  }
  // lane 0 leftmost: highest y when driving along +x
  EXPECT_EQ(lane_position(road_lane(net, 0), 0.0).y, 0.0);
  EXPECT_EQ(lane_position(road_lane(net, 3), 0.0).y, -12.0);
}

TEST(PhysicsRoad, MergeRampJoinsBesideTheRightmostLane) {
  Storage st;
  RoadNetwork<double> net = st.network();
  const MergeParams<double> mp;
  ASSERT_EQ(build_merge(&net, mp), 3);
  expect_continuous(net);
  const LaneChain<double> right = road_lane(net, 1), ramp = road_lane(net, 2);
  EXPECT_EQ(right.length, 460.0);  // highway-env's ends 150 + 80 + 80 + 150
  ASSERT_EQ(ramp.count, 4);        // straight, S-bend (two arcs), acceleration lane
  // the ramp starts 6.5 m further right than the lane beside the rightmost one, parallel
  double s, d;
  lane_frenet(right, ramp.pieces[0].start, &s, &d);
  EXPECT_NEAR(s, 0.0, 1e-12);
  EXPECT_NEAR(d, -4.0 - 6.5, 1e-12);
  // the S-bend spans 80 m along the highway and leaves the ramp parallel again
  lane_frenet(right, ramp.pieces[3].start, &s, &d);
  EXPECT_NEAR(s, 230.0, 1e-9);
  EXPECT_LT(angle_diff(ramp.pieces[3].heading, 0.0), 1e-12);
  // the merging section runs exactly one lane right of the rightmost lane, so a lane change
  // from it lands on that lane; it ends at x = 310 while the highway goes on
  for (int i = 0; i <= 20; ++i) {
    const double sr = ramp.s0[3] + ramp.pieces[3].length * i / 20;
    lane_frenet(right, lane_position(ramp, sr), &s, &d);
    EXPECT_NEAR(d, -4.0, 1e-9) << i;
    EXPECT_LT(angle_diff(lane_heading(ramp, sr), lane_heading(right, s)), 1e-12);
    EXPECT_TRUE(on_lane(right, lane_position(ramp, sr, 2.0)));  // the shared edge
  }
  lane_frenet(right, lane_position(ramp, ramp.length), &s, &d);
  EXPECT_NEAR(s, 310.0, 1e-9);
  EXPECT_LT(s, right.length);
  // the ramp's whole lateral travel is 6.5 m, monotone towards the highway
  double prev = -1e9;
  for (int i = 0; i <= 200; ++i) {
    const V p = lane_position(ramp, ramp.length * i / 200);
    lane_frenet(right, p, &s, &d);
    EXPECT_GE(d, prev - 1e-12);
    prev = d;
  }
}

TEST(PhysicsRoad, IntersectionRoutesConnectApproachesToExits) {
  Storage st;
  RoadNetwork<double> net = st.network();
  ASSERT_EQ(build_intersection(&net), 20);
  expect_continuous(net);
  for (int arm = 0; arm < 4; ++arm) {
    const LaneChain<double> in = road_lane(net, intersection_approach(arm));
    // approaches end 11 m from the centre, 2 m right of the arm's axis, heading inwards
    const V end = lane_position(in, in.length);
    EXPECT_NEAR(length(end), std::hypot(11.0, 2.0), 1e-12);
    EXPECT_LT(angle_diff(lane_heading(in, 0.0), pi<double>() / 2 * (arm + 1)), 1e-12);
    for (int turn = 0; turn < 3; ++turn) {
      const LaneChain<double> route = road_lane(net, intersection_route(arm, turn));
      const LaneChain<double> out =
          road_lane(net, intersection_exit(intersection_route_exit(arm, turn)));
      ASSERT_EQ(route.count, 3);
      // starts where the approach starts, leaves it where it ends, ends where the exit ends
      EXPECT_LT(distance(lane_position(route, 0.0), lane_position(in, 0.0)), 1e-12);
      EXPECT_LT(distance(route.pieces[1].start, end), 1e-9);
      EXPECT_LT(distance(route.pieces[2].start, lane_position(out, 0.0)), 1e-9);
      EXPECT_LT(distance(lane_position(route, route.length), lane_position(out, out.length)), 1e-9);
      EXPECT_LT(angle_diff(lane_heading(route, route.length), lane_heading(out, out.length)),
                1e-12);
      double s, d;
      lane_frenet(out, lane_position(route, route.length - 1.0), &s, &d);
      EXPECT_NEAR(d, 0.0, 1e-9);
      // highway-env's radii: right turns 9 m (clockwise), left turns 13 m
      const double k = route.pieces[1].curvature;
      const double expect_k =
          turn == kTurnRight ? -1.0 / 9.0 : (turn == kTurnLeft ? 1.0 / 13.0 : 0.0);
      EXPECT_NEAR(k, expect_k, 1e-15) << arm << " " << turn;
      // a turn is a quarter circle: heading changes by -90, 0, +90 degrees
      const double turned = wrap_angle(lane_heading(route, route.length) - lane_heading(in, 0.0));
      EXPECT_NEAR(turned, (turn - 1) * pi<double>() / 2, 1e-9);
    }
  }
  // exits leave on the other side of the arm's axis: arm 1 (east) exit drives +x at y = -2
  const LaneChain<double> east = road_lane(net, intersection_exit(1));
  EXPECT_NEAR(lane_position(east, 0.0).x, 11.0, 1e-12);
  EXPECT_NEAR(lane_position(east, 0.0).y, -2.0, 1e-12);
  EXPECT_LT(angle_diff(lane_heading(east, 0.0), 0.0), 1e-12);
}

TEST(PhysicsRoad, RacetrackClosesOnItself) {
  Storage st;
  RoadNetwork<double> net = st.network();
  const RacetrackParams<double> rp;
  ASSERT_EQ(build_racetrack(&net, rp), 1);
  expect_continuous(net);
  const LaneChain<double> lane = road_lane(net, 0);
  EXPECT_EQ(lane.width, 5.0);
  EXPECT_LT(distance(lane_position(lane, lane.length), lane_position(lane, 0.0)), 1e-9);
  EXPECT_LT(angle_diff(lane_heading(lane, lane.length), lane_heading(lane, 0.0)), 1e-12);
  double sum = 0;
  for (int i = 0; i < lane.count; ++i) sum += lane.pieces[i].length;
  EXPECT_NEAR(lane.length, sum, 1e-12);
  // and by hand: straights, the bump's arcs (4 r theta) and two half-circles
  const double back = 60 + 4 * 30 * std::sin(0.5) + 40;
  EXPECT_NEAR(lane.length, 60 + 4 * 30 * 0.5 + 40 + 2 * pi<double>() * 40 + back, 1e-9);
  // it turns once counter-clockwise in total
  double turned = 0;
  for (int i = 0; i < lane.count; ++i) turned += lane.pieces[i].curvature * lane.pieces[i].length;
  EXPECT_NEAR(turned, 2 * pi<double>(), 1e-12);
}

TEST(PhysicsRoad, BuildersReportCapacityAndBadArguments) {
  RoadStorage<double, 8, 4> small;
  RoadNetwork<double> net = small.network();
  EXPECT_EQ(build_highway(&net, 4, 100.0), 4);
  EXPECT_EQ(build_highway(&net, 5, 100.0), kRoadCapacityExceeded);
  EXPECT_EQ(build_intersection(&net), kRoadCapacityExceeded);
  EXPECT_EQ(build_merge(&net), 3);
  EXPECT_EQ(build_racetrack(&net), 1);
  EXPECT_EQ(build_highway(&net, 0, 100.0), kRoadBadArgument);
  EXPECT_EQ(build_highway(&net, 2, -1.0), kRoadBadArgument);
  RacetrackParams<double> rp;
  rp.bump_angle = 2.0;
  EXPECT_EQ(build_racetrack(&net, rp), kRoadBadArgument);
  RoadStorage<double, 7, 4> tiny;  // the racetrack has 8 pieces
  net = tiny.network();
  EXPECT_EQ(build_racetrack(&net), kRoadCapacityExceeded);
}

}  // namespace
}  // namespace convoy::physics
