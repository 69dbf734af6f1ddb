// The traffic library through its own API (physics/neighbours.h, physics/traffic_frame.h): a
// hand-built three-car scene on the straight road, with params of the test's own (the frame
// is generic over them), and no env around it.
#include <gtest/gtest.h>

#include <cstdint>

#include "physics/traffic_frame.h"

namespace convoy::physics::traffic {
namespace {

// What the frame reads of an env's params.
struct SceneParams {
  std::int32_t lanes = 3;
  std::int32_t vehicles = 3;
  std::int32_t substeps = 1;
  float dt = 0.2f;
  bool autopilot = true;  // car 0 drives by IDM/MOBIL too
  Range length = {kLength, kLength};
  Range width = {kWidth, kWidth};
  Kernels kernels = Kernels::kScene;
  bool random_idm() const { return false; }
};

// Car 0 at x 0 in lane 0 at 25 m/s, 20 m behind car 1 at 10 m/s; car 2 at x 50 in lane 1 at
// 25 m/s. Every car wants 25 m/s and is due for MOBIL in the first frame.
struct Scene {
  SceneParams p;
  State st{Device::cpu(), 1, 3};
  View s = st.view();
  Scene() {
    const float x[3] = {0.0f, 20.0f, 50.0f}, speed[3] = {25.0f, 10.0f, 25.0f};
    const std::int32_t lane[3] = {0, 0, 1};
    for (int v = 0; v < 3; ++v) {
      s.x[v] = x[v];
      s.y[v] = lane[v] * kLaneWidth;
      s.heading[v] = 0.0f;
      s.speed[v] = speed[v];
      s.target_speed[v] = 25.0f;
      s.delta[v] = 4.0f;
      s.lane_timer[v] = 1.0f;
      s.target_lane[v] = lane[v];
      s.length[v] = kLength;
      s.width[v] = kWidth;
    }
    s.accel[0] = s.steer[0] = 0.0f;
  }
};

TEST(PhysicsTrafficFrame, NeighboursAreTheNearestCarsPerLane) {
  const std::int32_t lane[3] = {0, 0, 1};
  const float x[3] = {0.0f, 20.0f, 50.0f};
  std::int32_t order[3], pos[3], front[9];
  neighbour_tables(lane, x, 3, 3, order, pos, front);
  EXPECT_EQ(order[0], 0);
  EXPECT_EQ(order[1], 1);
  EXPECT_EQ(order[2], 2);
  const Neighbours nb{lane, order, pos, front, 3};
  EXPECT_EQ(nb.ahead(0, 0), 1);  // the slow leader
  EXPECT_EQ(nb.ahead(0, 1), 2);  // the car in the lane to the right
  EXPECT_EQ(nb.ahead(1, 0), -1);
  EXPECT_EQ(nb.ahead(1, 1), 2);
  EXPECT_EQ(nb.ahead(2, 1), -1);
  EXPECT_EQ(nb.behind(2, 0), 1);  // the nearest in lane 0 behind car 2
  EXPECT_EQ(nb.behind(1, 0), 0);
  EXPECT_EQ(nb.behind(0, 1), -1);
  EXPECT_EQ(lane_of(3.9f, 3), 1);
  EXPECT_EQ(lane_of(-5.0f, 3), 0);  // clipped to the road
  EXPECT_EQ(lane_of(20.0f, 3), 2);
}

TEST(PhysicsTrafficFrame, OneFrameBrakesBehindTheSlowLeaderAndChangesLane) {
  Scene sc;
  const bool crashed = traffic_frame<true, false, StraightRoad>(sc.p, sc.s, 0);
  EXPECT_FALSE(crashed);
  // IDM: car 0 closes on its leader at 15 m/s, 20 m away, and brakes at the clip (6 m/s^2)
  EXPECT_FLOAT_EQ(sc.s.speed[0], 25.0f - 6.0f * 0.2f);
  // MOBIL: the empty road to the right (lane 1, its leader 50 m ahead at 25 m/s) pays; there
  // is no lane to the left
  EXPECT_EQ(sc.s.target_lane[0], 1);
  EXPECT_GT(sc.s.y[0], 0.0f);  // the lane keeper already steers it right (+y)
  EXPECT_GT(sc.s.heading[0], 0.0f);
  EXPECT_EQ(sc.s.lane_timer[0], 0.0f);  // MOBIL ran
  // car 2 leads its lane at its target speed: no acceleration, straight along x
  EXPECT_EQ(sc.s.target_lane[2], 1);
  EXPECT_FLOAT_EQ(sc.s.speed[2], 25.0f);
  EXPECT_FLOAT_EQ(sc.s.x[2], 50.0f + 25.0f * 0.2f);
  EXPECT_EQ(sc.s.y[2], kLaneWidth);
  // car 1 is slower than it wants: it accelerates on the free road ahead
  EXPECT_GT(sc.s.speed[1], 10.0f);
}

TEST(PhysicsTrafficFrame, PerVehicleStagesGiveTheFramesDecision) {
  Scene sc;
  const Cars c = cars_of(sc.s, 0);
  std::int32_t lane[3], order[3], pos[3], front[9];
  float power[3], acc[3], slip[3];
  frame_plan(sc.p, c, lane, order, pos, front, power);
  const Neighbours nb{lane, order, pos, front, 3};
  for (std::int32_t v = 0; v < 3; ++v) {
    vehicle_decide<true, false, StraightRoad>(sc.p, c, v, nb, power, acc, slip);
  }
  EXPECT_EQ(acc[0], -6.0f);
  EXPECT_GT(slip[0], 0.0f);  // towards lane 1
  EXPECT_EQ(sc.s.target_lane[0], 1);
  EXPECT_EQ(acc[2], 0.0f);
  EXPECT_EQ(slip[2], 0.0f);
}

}  // namespace
}  // namespace convoy::physics::traffic
