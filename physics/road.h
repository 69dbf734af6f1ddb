// Lanes and road networks for the driving envs. A lane's centreline is made of pieces of constant
// curvature (a straight has curvature 0, an arc 1/radius, signed: > 0 turns left) laid end to
// end; every query is in Frenet coordinates (s, d): s the arc length along the centreline from
// the lane's start, d the signed lateral offset, positive to the left of the direction of travel.
// Builders lay out the scenes of highway-env (straight highway, merge-v0, intersection-v0) and a
// closed racetrack into caller-owned arrays, so the same plain data can be passed to kernels.
//
// Convoy's world frame is y-up with counter-clockwise angles (math.h's perp is the left normal).
// highway-env draws with y pointing down, so its y coordinates appear mirrored here: its lane k
// at y = 4k is this header's lane k at y = -4k, still the k-th lane from the left.
#pragma once

#include "physics/math.h"
#include "sim/hd.h"

namespace convoy::physics {

// highway-env's AbstractLane.DEFAULT_WIDTH.
template <class T>
CONVOY_HD_INLINE constexpr T default_lane_width() {
  return T(4);
}

// One piece of constant curvature. Its arc, if any, must turn by less than a full circle: the
// projection below is unique only within one turn.
template <class T>
struct LanePiece {
  Vec2<T> start;  // m, centreline at s = 0
  T heading;      // rad, direction of travel at s = 0
  T length;       // m, along the centreline
  T curvature;    // 1/m, signed, > 0 turns left; exactly 0 for a straight
};

template <class T>
CONVOY_HD_INLINE LanePiece<T> make_straight(Vec2<T> start, T heading, T length) {
  return {start, heading, length, T(0)};
}

// Arc about centre, from angle phi0 (of start - centre) turning by sweep (rad, > 0 counter-
// clockwise), the form highway-env's CircularLane takes.
template <class T>
CONVOY_HD_INLINE LanePiece<T> make_arc(Vec2<T> centre, T radius, T phi0, T sweep) {
  const T dir = sweep > T(0) ? T(1) : T(-1);
  // counter-clockwise travel heads 90 degrees ahead of the radius vector, clockwise behind it
  return {centre + unit_from_angle(phi0) * radius, wrap_angle(phi0 + dir * pi<T>() / T(2)),
          radius * math::abs(sweep), dir / radius};
}

// ---------------------------------------------------------------------------------------------
// one piece

template <class T>
CONVOY_HD_INLINE T piece_heading(const LanePiece<T>& p, T s) {
  return wrap_angle(p.heading + p.curvature * s);
}

// World point at (s, d). On an arc the left normal turns with s, so the offset point sits on
// the circle of radius (1 - curvature d) / |curvature| about the centre; written without the
// centre so that it is exact for a straight and needs no atan2.
template <class T>
CONVOY_FRAME_INLINE Vec2<T> piece_position(const LanePiece<T>& p, T s, T d) {
  const Vec2<T> u0 = unit_from_angle(p.heading);
  if (p.curvature == T(0)) return p.start + u0 * s + perp(u0) * d;
  const Vec2<T> us = unit_from_angle(p.heading + p.curvature * s);
  return p.start + (perp(u0) - perp(us)) / p.curvature + perp(us) * d;
}

template <class T>
CONVOY_HD_INLINE Vec2<T> piece_end(const LanePiece<T>& p) {
  return piece_position(p, p.length, T(0));
}

// (s, d) of a world point. s is not clamped: beyond the ends a straight extends along its line
// and an arc along its circle. An arc's angle is measured from its middle so that points before
// the start get s < 0 and points past the end s > length, instead of wrapping around. The arc's
// centre itself has no projection (d = 1/curvature, s arbitrary).
template <class T>
CONVOY_HD_INLINE void piece_frenet(const LanePiece<T>& p, Vec2<T> q, T* s, T* d) {
  const Vec2<T> u0 = unit_from_angle(p.heading);
  if (p.curvature == T(0)) {
    const Vec2<T> r = q - p.start;
    *s = dot(r, u0);
    *d = dot(r, perp(u0));
    return;
  }
  const T k = p.curvature;
  const Vec2<T> centre = p.start + perp(u0) / k;
  const Vec2<T> a = p.start - centre, v = q - centre;  // radius vectors at s = 0 and of q
  const T half_sweep = k * p.length / T(2);
  const T turned = wrap_angle(math::atan2(cross(a, v), dot(a, v)) - half_sweep) + half_sweep;
  *s = turned / k;
  *d = T(1) / k - sign(k) * length(v);
}

// ---------------------------------------------------------------------------------------------
// a lane: pieces laid end to end

template <class T>
struct LaneChain {
  const LanePiece<T>* pieces;  // (count), each starting where the previous one ends
  const T* s0;                 // (count) lane s at which each piece starts; s0[0] = 0
  int count;
  T width;   // m
  T length;  // m, s0[count - 1] + pieces[count - 1].length
};

// A chain of one piece (the pointers must outlive the view).
template <class T>
CONVOY_HD_INLINE LaneChain<T> single_piece_lane(const LanePiece<T>* piece, const T* zero, T width) {
  return {piece, zero, 1, width, piece->length};
}

// The piece that holds s: s before the start falls to the first, past the end to the last.
// Linear scan: lanes have a handful of pieces.
template <class T>
CONVOY_HD_INLINE int lane_piece_at(const LaneChain<T>& lane, T s) {
  int i = 0;
  while (i + 1 < lane.count && lane.s0[i + 1] <= s) ++i;
  return i;
}

template <class T>
CONVOY_HD_INLINE Vec2<T> lane_position(const LaneChain<T>& lane, T s, T d = T(0)) {
  const int i = lane_piece_at(lane, s);
  return piece_position(lane.pieces[i], s - lane.s0[i], d);
}

template <class T>
CONVOY_HD_INLINE T lane_heading(const LaneChain<T>& lane, T s) {
  const int i = lane_piece_at(lane, s);
  return piece_heading(lane.pieces[i], s - lane.s0[i]);
}

// (s, d) of the nearest centreline point. Each piece offers its nearest point with s clamped to
// the piece; the closest wins. Only the first and last pieces extrapolate, so a point beyond the
// lane's ends gets s < 0 or s > length. Where two pieces meet with the same heading (every
// builder's lanes) the nearest point's offset is along the normal, so lane_position inverts it.
template <class T>
CONVOY_HD_INLINE void lane_frenet(const LaneChain<T>& lane, Vec2<T> q, T* s, T* d) {
  T best = T(0), best_s = T(0), best_d = T(0);
  for (int i = 0; i < lane.count; ++i) {
    const LanePiece<T>& p = lane.pieces[i];
    T si, di;
    piece_frenet(p, q, &si, &di);
    const T sc = clamp(si, T(0), p.length);
    T dist2;
    if (sc == si) {
      dist2 = di * di;
    } else {
      dist2 = length_sq(q - piece_position(p, sc, T(0)));
      const bool extrapolate = (i == 0 && si < T(0)) || (i == lane.count - 1 && si > p.length);
      if (!extrapolate) {
        // clamped to a join: measure the offset from the join along its normal
        const Vec2<T> n = perp(unit_from_angle(piece_heading(p, sc)));
        si = sc;
        di = dot(q - piece_position(p, sc, T(0)), n);
      }
    }
    if (i == 0 || dist2 < best) {
      best = dist2;
      best_s = lane.s0[i] + si;
      best_d = di;
    }
  }
  *s = best_s;
  *d = best_d;
}

// highway-env's on_lane without its margins: within half the width of the centreline and
// between the lane's ends.
template <class T>
CONVOY_HD_INLINE bool on_lane(const LaneChain<T>& lane, Vec2<T> q) {
  T s, d;
  lane_frenet(lane, q, &s, &d);
  return math::abs(d) <= lane.width / T(2) && s >= T(0) && s <= lane.length;
}

// The same for a lone piece.
template <class T>
CONVOY_HD_INLINE bool on_lane(const LanePiece<T>& p, T width, Vec2<T> q) {
  T s, d;
  piece_frenet(p, q, &s, &d);
  return math::abs(d) <= width / T(2) && s >= T(0) && s <= p.length;
}

// ---------------------------------------------------------------------------------------------
// road networks: lanes over one shared piece array, written by the builders

// Builders return the number of lanes written, or one of these.
enum RoadBuildError : int {
  kRoadCapacityExceeded = -1,  // the arrays are too small for the layout
  kRoadBadArgument = -2,       // a count or length out of range (e.g. zero lanes)
};

// Enough for every builder below at its defaults (the intersection needs 44 pieces, 20 lanes).
constexpr int kRoadMaxPieces = 64;
constexpr int kRoadMaxLanes = 32;

// Caller-owned arrays the builders fill; lane k is pieces [lane_first[k], + lane_count[k]).
template <class T>
struct RoadNetwork {
  LanePiece<T>* pieces;  // (piece_capacity)
  T* piece_s0;           // (piece_capacity) s within its lane at which each piece starts
  int piece_capacity;
  int* lane_first;  // (lane_capacity) index of the lane's first piece
  int* lane_count;  // (lane_capacity) number of pieces in the lane
  T* lane_width;    // (lane_capacity) m
  T* lane_length;   // (lane_capacity) m
  int lane_capacity;
  int num_pieces;
  int num_lanes;
};

// Fixed-size storage for one network, for hosts and tests that want it on the stack.
template <class T, int kPieces = kRoadMaxPieces, int kLanes = kRoadMaxLanes>
struct RoadStorage {
  LanePiece<T> pieces[kPieces];
  T piece_s0[kPieces];
  int lane_first[kLanes], lane_count[kLanes];
  T lane_width[kLanes], lane_length[kLanes];
  RoadNetwork<T> network() {
    return {pieces,     piece_s0,    kPieces, lane_first, lane_count,
            lane_width, lane_length, kLanes,  0,          0};
  }
};

template <class T>
CONVOY_HD_INLINE LaneChain<T> road_lane(const RoadNetwork<T>& net, int k) {
  const int f = net.lane_first[k];
  return {net.pieces + f, net.piece_s0 + f, net.lane_count[k], net.lane_width[k],
          net.lane_length[k]};
}

// Opens an empty lane; false when the lane table is full.
template <class T>
CONVOY_HD_INLINE bool road_begin_lane(RoadNetwork<T>* net, T width) {
  if (net->num_lanes >= net->lane_capacity) return false;
  const int k = net->num_lanes++;
  net->lane_first[k] = net->num_pieces;
  net->lane_count[k] = 0;
  net->lane_width[k] = width;
  net->lane_length[k] = T(0);
  return true;
}

// Appends a piece to the lane opened last; false when the piece array is full.
template <class T>
CONVOY_HD_INLINE bool road_append(RoadNetwork<T>* net, const LanePiece<T>& p) {
  if (net->num_pieces >= net->piece_capacity || net->num_lanes == 0) return false;
  const int k = net->num_lanes - 1;
  net->pieces[net->num_pieces] = p;
  net->piece_s0[net->num_pieces] = net->lane_length[k];
  ++net->num_pieces;
  ++net->lane_count[k];
  net->lane_length[k] += p.length;
  return true;
}

// Appends a piece that starts where the open lane's last piece ends, with its heading (turtle
// style), so consecutive pieces join with continuous position and heading by construction.
template <class T>
CONVOY_HD_INLINE bool road_continue(RoadNetwork<T>* net, T length, T curvature) {
  if (net->num_pieces == 0) return false;
  const LanePiece<T>& last = net->pieces[net->num_pieces - 1];
  return road_append(
      net, LanePiece<T>{piece_end(last), piece_heading(last, last.length), length, curvature});
}

// A straight multi-lane highway along +x from x = 0: lane k's centre at y = -k lane_width, lane 0
// leftmost (highway-env's StraightRoad / highway-v0 road).
template <class T>
CONVOY_HD_INLINE int build_highway(RoadNetwork<T>* net, int lanes, T length,
                                   T lane_width = default_lane_width<T>()) {
  if (lanes < 1 || !(length > T(0)) || !(lane_width > T(0))) return kRoadBadArgument;
  net->num_pieces = net->num_lanes = 0;
  for (int k = 0; k < lanes; ++k) {
    const Vec2<T> start = {T(0), -T(k) * lane_width};
    if (!road_begin_lane(net, lane_width) ||
        !road_append(net, make_straight(start, T(0), length))) {
      return kRoadCapacityExceeded;
    }
  }
  return net->num_lanes;
}

// merge-v0's layout (highway-env envs/merge_env.py, _make_road): a highway of `lanes` straight
// lanes before + converging + merge + after long, and an on-ramp (lane index `lanes`) that runs
// parallel to it, converges by ramp_shift over the converging stretch and then runs as an
// acceleration lane right beside the rightmost lane for the merge stretch, where it ends.
// highway-env shapes the convergence as half a sine period; here it is two opposite arcs of
// equal radius (an S-bend), which keeps every piece a segment or an arc with continuous heading.
template <class T>
struct MergeParams {
  int lanes = 2;
  T before = T(150);      // m, ramp and highway side by side, apart
  T converging = T(80);   // m (along x), the ramp's S-bend
  T merge = T(80);        // m, the ramp beside the rightmost lane
  T after = T(150);       // m, highway beyond the ramp's end
  T ramp_shift = T(6.5);  // m, lateral travel of the S-bend (2 x highway-env's amplitude 3.25)
  T lane_width = default_lane_width<T>();
};

template <class T>
CONVOY_HD_INLINE int build_merge(RoadNetwork<T>* net, const MergeParams<T>& mp = MergeParams<T>()) {
  if (!(mp.converging > T(0)) || !(mp.ramp_shift > T(0)) || !(mp.before > T(0)) ||
      !(mp.merge > T(0)) || !(mp.after >= T(0))) {
    return kRoadBadArgument;
  }
  const T total = mp.before + mp.converging + mp.merge + mp.after;
  const int n = build_highway(net, mp.lanes, total, mp.lane_width);
  if (n < 0) return n;
  // the acceleration lane is the next lane to the right of the rightmost one
  const T y_merge = -T(mp.lanes) * mp.lane_width;
  // each half of the S-bend covers half the length and half the shift: a chord at angle
  // theta/2 with tan(theta/2) = shift / converging, so the arcs turn by theta
  const T half_dx = mp.converging / T(2);
  const T theta = T(2) * math::atan(mp.ramp_shift / mp.converging);
  const T radius = half_dx / math::sin(theta);
  bool ok =
      road_begin_lane(net, mp.lane_width) &&
      road_append(net, make_straight(Vec2<T>{T(0), y_merge - mp.ramp_shift}, T(0), mp.before));
  ok = ok && road_continue(net, radius * theta, T(1) / radius);
  ok = ok && road_continue(net, radius * theta, -T(1) / radius);
  ok = ok && road_continue(net, mp.merge, T(0));
  return ok ? net->num_lanes : kRoadCapacityExceeded;
}

// intersection-v0's layout (highway-env envs/intersection_env.py, _make_road), mirrored to
// right-hand traffic in a y-up frame. Four arms, arm k pointing from the centre along the angle
// -90 + 90 k degrees (0 south, 1 east, 2 north, 3 west). Per arm, lanes 4 wide beside the arm's
// axis: an approach lane driving in on the right, an exit lane driving out on the other side,
// both access_length long and ending outer_distance from the centre. Routes run approach ->
// turn -> exit as one lane: right turn onto arm k + 1 (radius 9), straight onto arm k + 2, left
// turn onto arm k + 3 (radius 13), the radii of highway-env.
enum IntersectionTurn : int { kTurnRight = 0, kTurnStraight = 1, kTurnLeft = 2 };

template <class T>
struct IntersectionParams {
  T lane_width = default_lane_width<T>();
  T right_turn_radius = T(9);  // m, lane_width + 5 in highway-env
  T access_length = T(100);    // m
};

// Lane indices inside the network build_intersection writes.
CONVOY_HD_INLINE constexpr int intersection_approach(int arm) { return arm; }
CONVOY_HD_INLINE constexpr int intersection_exit(int arm) { return 4 + arm; }
CONVOY_HD_INLINE constexpr int intersection_route(int arm, int turn) { return 8 + 3 * arm + turn; }
// The arm a route from `arm` leaves by.
CONVOY_HD_INLINE constexpr int intersection_route_exit(int arm, int turn) {
  return (arm + 1 + turn) % 4;
}

template <class T>
CONVOY_HD_INLINE int build_intersection(RoadNetwork<T>* net,
                                        const IntersectionParams<T>& ip = IntersectionParams<T>()) {
  if (!(ip.lane_width > T(0)) || !(ip.right_turn_radius > ip.lane_width / T(2)) ||
      !(ip.access_length > T(0))) {
    return kRoadBadArgument;
  }
  net->num_pieces = net->num_lanes = 0;
  const T half = ip.lane_width / T(2);
  // the turns start and end outer_distance from the centre, on the lanes' centrelines
  const T outer = ip.right_turn_radius + half;
  const T r_left = ip.right_turn_radius + ip.lane_width;
  // an arm's geometry in the frame of arm 0 (south, traffic coming in heading +y), rotated
  auto rot = [](Vec2<T> v, int arm) {
    const int a = ((arm % 4) + 4) % 4;
    const T c = a == 0 ? T(1) : (a == 2 ? T(-1) : T(0));
    const T s = a == 1 ? T(1) : (a == 3 ? T(-1) : T(0));
    return rotate(v, c, s);
  };
  auto arm_angle = [](int arm) { return T(arm) * pi<T>() / T(2); };
  const T north = pi<T>() / T(2), south = -pi<T>() / T(2);
  auto approach = [&](int arm) {
    return make_straight(rot(Vec2<T>{half, -(outer + ip.access_length)}, arm),
                         wrap_angle(north + arm_angle(arm)), ip.access_length);
  };
  auto exit_lane = [&](int arm) {
    return make_straight(rot(Vec2<T>{-half, -outer}, arm), wrap_angle(south + arm_angle(arm)),
                         ip.access_length);
  };
  for (int arm = 0; arm < 4; ++arm) {
    if (!road_begin_lane(net, ip.lane_width) || !road_append(net, approach(arm))) {
      return kRoadCapacityExceeded;
    }
  }
  for (int arm = 0; arm < 4; ++arm) {
    if (!road_begin_lane(net, ip.lane_width) || !road_append(net, exit_lane(arm))) {
      return kRoadCapacityExceeded;
    }
  }
  for (int arm = 0; arm < 4; ++arm) {
    for (int turn = 0; turn < 3; ++turn) {
      const LanePiece<T> in = approach(arm);
      LanePiece<T> mid;
      if (turn == kTurnRight) {
        // clockwise quarter about the corner (outer, -outer)
        mid = make_arc(rot(Vec2<T>{outer, -outer}, arm), ip.right_turn_radius,
                       pi<T>() + arm_angle(arm), -pi<T>() / T(2));
      } else if (turn == kTurnStraight) {
        mid = make_straight(piece_end(in), in.heading, T(2) * outer);
      } else {
        // counter-clockwise quarter about (-outer, -outer): radius outer + half reaches the
        // approach's centreline at x = half and the west exit's at y = half
        mid = make_arc(rot(Vec2<T>{-outer, -outer}, arm), r_left, arm_angle(arm), pi<T>() / T(2));
      }
      const LanePiece<T> out = exit_lane(intersection_route_exit(arm, turn));
      if (!road_begin_lane(net, ip.lane_width) || !road_append(net, in) || !road_append(net, mid) ||
          !road_append(net, out)) {
        return kRoadCapacityExceeded;
      }
    }
  }
  return net->num_lanes;
}

// A closed circuit of one lane, counter-clockwise: a straight, a bump (left, right, left arcs
// whose turns cancel and whose lateral travel returns to the line), a second straight, a
// half-circle, the long back straight and a half-circle home. The bump's chord is
// 4 bump_radius sin(bump_angle), so the back straight is straight_a + that + straight_b and the
// loop closes exactly. Not highway-env's racetrack-v0 layout, which mixes more radii; the same
// kind of road for the same lane-keeping task.
template <class T>
struct RacetrackParams {
  T width = T(5);         // m, highway-env racetrack-v0's lane width
  T straight_a = T(60);   // m
  T straight_b = T(40);   // m
  T bump_radius = T(30);  // m
  T bump_angle = T(0.5);  // rad, turned by the bump's first and last arcs
  T turn_radius = T(40);  // m, the two half-circles
};

template <class T>
CONVOY_HD_INLINE T racetrack_back_straight(const RacetrackParams<T>& rp) {
  return rp.straight_a + T(4) * rp.bump_radius * math::sin(rp.bump_angle) + rp.straight_b;
}

template <class T>
CONVOY_HD_INLINE int build_racetrack(RoadNetwork<T>* net,
                                     const RacetrackParams<T>& rp = RacetrackParams<T>()) {
  if (!(rp.width > T(0)) || !(rp.straight_a > T(0)) || !(rp.straight_b > T(0)) ||
      !(rp.bump_radius > rp.width) || !(rp.bump_angle > T(0)) ||
      !(rp.bump_angle < pi<T>() / T(2)) || !(rp.turn_radius > rp.width)) {
    return kRoadBadArgument;
  }
  net->num_pieces = net->num_lanes = 0;
  const T kb = T(1) / rp.bump_radius, kt = T(1) / rp.turn_radius;
  const T lb = rp.bump_radius * rp.bump_angle, lt = pi<T>() * rp.turn_radius;
  bool ok = road_begin_lane(net, rp.width) &&
            road_append(net, make_straight(Vec2<T>{T(0), T(0)}, T(0), rp.straight_a));
  ok = ok && road_continue(net, lb, kb) && road_continue(net, T(2) * lb, -kb) &&
       road_continue(net, lb, kb);
  ok = ok && road_continue(net, rp.straight_b, T(0)) && road_continue(net, lt, kt);
  ok = ok && road_continue(net, racetrack_back_straight(rp), T(0)) && road_continue(net, lt, kt);
  return ok ? net->num_lanes : kRoadCapacityExceeded;
}

}  // namespace convoy::physics
