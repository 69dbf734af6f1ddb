// physics/traffic.h against the closed forms of the IDM, numbers worked by hand from
// highway-env's formulas (behavior.py, IDMVehicle.acceleration / desired_gap / mobil), and a
// platoon driven the way highway-env steps its vehicles (position with the old speed, then
// speed += a dt, at 15 Hz).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "physics/traffic.h"

namespace convoy::physics {
namespace {

const IdmParams<double> kIdm = highway_env_idm<double>();
const MobilParams<double> kMobil = highway_env_mobil<double>();

TEST(PhysicsTrafficIdm, ConstantsAreHighwayEnvs) {
  EXPECT_EQ(kIdm.a_max, 3.0);
  EXPECT_EQ(kIdm.b, 5.0);
  EXPECT_EQ(kIdm.d0, 10.0);
  EXPECT_EQ(kIdm.time_gap, 1.5);
  EXPECT_EQ(kIdm.delta, 4.0);
  EXPECT_EQ(kIdm.acc_clip, 6.0);
  EXPECT_EQ(kMobil.politeness, 0.0);
  EXPECT_EQ(kMobil.min_acc_gain, 0.2);
  EXPECT_EQ(kMobil.max_braking_imposed, 2.0);
  EXPECT_EQ(kMobil.lane_change_delay, 1.0);
}

TEST(PhysicsTrafficIdm, FreeRoadIsAmaxTimesOneMinusSpeedRatioPowDelta) {
  for (double v0 : {10.0, 20.0, 30.0}) {
    for (double v = 0; v <= 1.5 * v0; v += 0.5) {
      const double expect = 3.0 * (1.0 - std::pow(v / v0, 4.0));
      EXPECT_NEAR(idm_acceleration_raw(kIdm, v, v0, false, 0.0, 0.0), expect, 1e-12) << v;
    }
    // no leader and at the target speed: no acceleration
    EXPECT_NEAR(idm_acceleration(kIdm, v0, v0, false, 0.0, 0.0), 0.0, 1e-12);
  }
  // from standstill the full comfortable acceleration; reversing counts as standing (max(v, 0))
  EXPECT_EQ(idm_acceleration(kIdm, 0.0, 20.0, false, 0.0, 0.0), 3.0);
  EXPECT_EQ(idm_acceleration(kIdm, -2.0, 20.0, false, 0.0, 0.0), 3.0);
  // highway-env: 3 (1 - (20/30)^4) = 3 (1 - 16/81) = 195/81 = 2.407407...
  EXPECT_NEAR(idm_acceleration(kIdm, 20.0, 30.0, false, 0.0, 0.0), 195.0 / 81.0, 1e-12);
}

// The float power IDM uses (a branch-free e^(y ln x) on the host, for vectorised frames):
// within half an ulp plus 2e-10 relative of the exact x^y, i.e. the correctly rounded float or,
// at a near tie, its neighbour, over speed ratios and exponents beyond what the driving envs use.
TEST(PhysicsTrafficIdm, FloatPowerIsWithinHalfAnUlpOfTheExactPower) {
  int not_nearest = 0, cases = 0;
  for (int i = 1; i <= 4000; ++i) {
    const float x = 0.001f * static_cast<float>(i) * static_cast<float>(i) / 800.0f;  // to 20
    for (float y = 1.0f; y <= 10.0f; y += 0.0625f) {
      const float got = idm_power(x, y);
      const double exact = std::pow(static_cast<double>(x), static_cast<double>(y));
      const float nearest = static_cast<float>(exact);
      if (std::isinf(nearest) || nearest < std::numeric_limits<float>::min()) {
        ASSERT_EQ(got, nearest) << x << "^" << y;
        continue;
      }
      const double ulp = std::nextafter(nearest, std::numeric_limits<float>::infinity()) - nearest;
      ASSERT_LE(std::fabs(got - exact), 0.5 * ulp + 2e-10 * exact) << x << "^" << y;
      not_nearest += got != nearest;
      ++cases;
    }
  }
  EXPECT_LT(not_nearest, cases / 1000);  // near ties only
  // the ends: 0^y = 0 (negative ratios do not occur: IDM clips the speed at 0), 1^y = 1,
  // overflow to infinity and underflow to 0 as powf
  EXPECT_EQ(idm_power(0.0f, 4.0f), 0.0f);
  EXPECT_EQ(idm_power(1.0f, 3.7f), 1.0f);
  EXPECT_EQ(idm_power(2.0f, 0.0f), 1.0f);
  EXPECT_EQ(idm_power(1e30f, 4.0f), std::numeric_limits<float>::infinity());
  EXPECT_EQ(idm_power(3e38f, 10.0f), std::numeric_limits<float>::infinity());
  EXPECT_EQ(idm_power(1e-30f, 4.0f), 0.0f);
  EXPECT_EQ(idm_power(1e-44f, 10.0f), 0.0f);
  EXPECT_EQ(idm_power(-1.0f, 4.0f), 0.0f);
  EXPECT_EQ(idm_power(1.5f, 1e4f), std::numeric_limits<float>::infinity());
  EXPECT_EQ(idm_power(0.5f, 1e4f), 0.0f);
  EXPECT_EQ(idm_power(4.0f, -0.5f), 0.5f);
  // what idm_free_road computes with it
  const IdmParams<float> p = highway_env_idm<float>();
  EXPECT_EQ(idm_free_road(p, 25.0f, 25.0f), 0.0f);
  EXPECT_NEAR(idm_free_road(p, 20.0f, 30.0f), 195.0f / 81.0f, 1e-6f);
}

TEST(PhysicsTrafficIdm, DesiredGapMatchesHandValues) {
  // d* = 10 + 20 * 1.5 + 20 * (20 - 15) / (2 sqrt(3 * 5)) = 40 + 100 / 7.745967 = 52.909944
  EXPECT_NEAR(desired_gap(kIdm, 20.0, 15.0), 52.909944487358054, 1e-12);
  // equal speeds: d0 + v T
  EXPECT_NEAR(desired_gap(kIdm, 25.0, 25.0), 47.5, 1e-12);
  // the leader pulling away shortens it, and nothing clamps it at zero (as in highway-env):
  // 10 + 15 - 10 * 40 / 7.745967 = 25 - 51.639778 = -26.639778
  EXPECT_NEAR(desired_gap(kIdm, 10.0, 50.0), -26.639777949432222, 1e-12);
  // the projected speed is the leader's velocity along the follower's heading
  EXPECT_NEAR(projected_speed(Vec2d{10.0, 10.0}, pi<double>() / 4), std::sqrt(200.0), 1e-12);
}

TEST(PhysicsTrafficIdm, BrakesWhenClosingOnASlowLeader) {
  // highway-env by hand: 3 (1 - (20/30)^4 - (52.909944 / 40)^2)
  //   = 3 (1 - 0.197531 - 1.749664) = -2.841584
  EXPECT_NEAR(idm_acceleration(kIdm, 20.0, 30.0, true, 40.0, 15.0), -2.8415842656963, 1e-9);
  // 10 m/s, target 20, leader at 10 m/s 25 m ahead:
  //   d* = 10 + 15 = 25, 3 (1 - (1/2)^4 - 1) = -0.1875
  EXPECT_NEAR(idm_acceleration(kIdm, 10.0, 20.0, true, 25.0, 10.0), -0.1875, 1e-12);
  // braking grows as the gap shrinks and as the closing speed grows
  double prev = 1e9;
  for (double d = 80; d >= 12; d -= 4) {
    const double a = idm_acceleration_raw(kIdm, 20.0, 30.0, true, d, 10.0);
    EXPECT_LT(a, prev);
    prev = a;
  }
  EXPECT_LT(idm_acceleration_raw(kIdm, 20.0, 30.0, true, 50.0, 5.0),
            idm_acceleration_raw(kIdm, 20.0, 30.0, true, 50.0, 15.0));
  EXPECT_LT(idm_acceleration(kIdm, 20.0, 30.0, true, 40.0, 15.0), 0.0);
}

TEST(PhysicsTrafficIdm, ClipsAtAccMax) {
  // raw: 3 (1 - (20/30)^4 - (52.909944 / 20)^2) = -18.58 -> -6
  EXPECT_LT(idm_acceleration_raw(kIdm, 20.0, 30.0, true, 20.0, 15.0), -18.0);
  EXPECT_EQ(idm_acceleration(kIdm, 20.0, 30.0, true, 20.0, 15.0), -6.0);
  // far above the target speed: 3 (1 - 2^4) = -45 -> -6
  EXPECT_EQ(idm_acceleration(kIdm, 40.0, 20.0, false, 0.0, 0.0), -6.0);
  // a stopped target speed is treated as 0.01 (utils.not_zero), never a division by zero
  EXPECT_EQ(idm_acceleration(kIdm, 5.0, 0.0, false, 0.0, 0.0), -6.0);
  EXPECT_EQ(idm_acceleration(kIdm, 0.0, 0.0, false, 0.0, 0.0), 3.0);
  // the clip never touches values inside +-6
  EXPECT_EQ(idm_acceleration(kIdm, 10.0, 20.0, true, 25.0, 10.0),
            idm_acceleration_raw(kIdm, 10.0, 20.0, true, 25.0, 10.0));
}

TEST(PhysicsTrafficIdm, EquilibriumGapAtEqualSpeeds) {
  for (double v0 : {20.0, 30.0}) {
    for (double v = 2; v < v0 - 1; v += 3) {
      const double expect = desired_gap(kIdm, v, v) / std::sqrt(1 - std::pow(v / v0, 4.0));
      EXPECT_NEAR(idm_equilibrium_distance(kIdm, v, v0), expect, 1e-12);
      EXPECT_NEAR(idm_acceleration_raw(kIdm, v, v0, true, expect, v), 0.0, 1e-12);
      // closer brakes, farther accelerates
      EXPECT_LT(idm_acceleration_raw(kIdm, v, v0, true, expect * 0.95, v), 0.0);
      EXPECT_GT(idm_acceleration_raw(kIdm, v, v0, true, expect * 1.05, v), 0.0);
    }
  }
  // 15 m/s behind a 15 m/s leader, target 25: 32.5 / sqrt(1 - 0.6^4) = 34.835650
  EXPECT_NEAR(idm_equilibrium_distance(kIdm, 15.0, 25.0), 34.835650107072105, 1e-9);
}

// Ten IDM cars on one lane, highway-env's stepping at 15 Hz for 60 s: the leader cruises to
// 15 m/s, the followers want 25 m/s; nobody overlaps (centres 5 m apart, the car length) and
// the platoon ends at the leader's speed with the equilibrium spacing.
TEST(PhysicsTrafficIdm, PlatoonNeverCollidesAndSettles) {
  constexpr int n = 10;
  double s[n], v[n], v0[n];
  for (int i = 0; i < n; ++i) {
    s[i] = -25.0 * i;  // leader at 0, each follower 25 m behind, all at 20 m/s
    v[i] = 20.0;
    v0[i] = i == 0 ? 15.0 : 25.0;
  }
  const double dt = 1.0 / 15.0;
  double min_gap = 1e9;
  for (int step = 0; step < 60 * 15; ++step) {
    double a[n];
    for (int i = 0; i < n; ++i) {
      a[i] = i == 0 ? idm_acceleration(kIdm, v[i], v0[i], false, 0.0, 0.0)
                    : idm_acceleration(kIdm, v[i], v0[i], true, s[i - 1] - s[i], v[i - 1]);
    }
    for (int i = 0; i < n; ++i) {
      s[i] += v[i] * dt;
      v[i] += a[i] * dt;
    }
    for (int i = 1; i < n; ++i) {
      min_gap = std::fmin(min_gap, s[i - 1] - s[i]);
      ASSERT_GT(s[i - 1] - s[i], 5.0) << "car " << i << " hit its leader at step " << step;
    }
  }
  EXPECT_GT(min_gap, 5.0);
  const double eq = idm_equilibrium_distance(kIdm, 15.0, 25.0);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(v[i], 15.0, 0.1) << i;
  for (int i = 1; i < n; ++i) EXPECT_NEAR(s[i - 1] - s[i], eq, 0.02 * eq) << i;
}

// ---- MOBIL --------------------------------------------------------------------------------

// Ego (0) on lane 1 behind a slow car (1); lane 0 has a faster leader (2) far ahead and a
// follower (3). Straight parallel lanes: s is shared.
struct Scene {
  int lane[4] = {1, 1, 0, 0};
  double s[4] = {0.0, 30.0, 200.0, -60.0};
  double v[4] = {20.0, 15.0, 25.0, 20.0};
  double v0[4] = {30.0, 15.0, 25.0, 30.0};
  MobilAccelerations<double> to_lane0() const {
    return mobil_accelerations(kIdm, lane, s, v, v0, 4, 0, 0);
  }
};

TEST(PhysicsTrafficMobil, FindsLeaderAndFollowerInALane) {
  Scene sc;
  int f, r;
  find_neighbours(sc.lane, sc.s, 4, 0, 0.0, 0, &f, &r);
  EXPECT_EQ(f, 2);
  EXPECT_EQ(r, 3);
  find_neighbours(sc.lane, sc.s, 4, 1, 0.0, 0, &f, &r);
  EXPECT_EQ(f, 1);
  EXPECT_EQ(r, -1);
  // the asker is skipped, and a vehicle level with the query point leads (s <= s_v)
  find_neighbours(sc.lane, sc.s, 4, 1, 0.0, -1, &f, &r);
  EXPECT_EQ(f, 0);
  // null lane array: one lane holds everything; the nearest on each side wins
  const double s[5] = {50.0, -10.0, 5.0, -3.0, 80.0};
  find_neighbours<double>(nullptr, s, 5, 0, 0.0, -1, &f, &r);
  EXPECT_EQ(f, 2);
  EXPECT_EQ(r, 3);
  find_neighbours<double>(nullptr, s, 5, 0, 100.0, -1, &f, &r);
  EXPECT_EQ(f, -1);
  EXPECT_EQ(r, 4);
}

TEST(PhysicsTrafficMobil, AccelerationsMatchHandValues) {
  const MobilAccelerations<double> a = Scene().to_lane0();
  // self_a: behind car 1 at 30 m: d* = 10 + 30 + 20 * 5 / 7.745967 = 52.909944,
  //   3 (1 - 0.197531 - (52.909944 / 30)^2) = 3 (1 - 0.197531 - 3.110582) = -6.924133
  EXPECT_NEAR(a.self_a, -6.924133344776961, 1e-9);
  // self_pred_a: behind car 2 at 200 m, closing -5: d* = 40 - 12.909944 = 27.090056,
  //   3 (1 - 0.197531 - 0.018347) = 2.352367
  EXPECT_NEAR(a.self_pred_a, 2.3523670743315557, 1e-9);
  // new_following_pred_a: car 3 behind the ego at 60 m, equal speeds: d* = 40,
  //   3 (1 - 16/81 - 4/9) = 3 * 29/81 = 1.074074
  EXPECT_NEAR(a.new_following_pred_a, 87.0 / 81.0, 1e-12);
  // new_following_a: car 3 behind car 2 at 260 m, closing -5: d* = 27.090056,
  //   3 (1 - 0.197531 - 0.010856) = 2.374839
  EXPECT_NEAR(a.new_following_a, 2.3748391629838266, 1e-9);
  // nobody follows the ego in lane 1
  EXPECT_EQ(a.old_following_a, 0.0);
  EXPECT_EQ(a.old_following_pred_a, 0.0);
}

TEST(PhysicsTrafficMobil, ChangesWhenTheGainIsEnoughAndSafe) {
  const MobilAccelerations<double> a = Scene().to_lane0();
  ASSERT_GE(a.new_following_pred_a, -2.0);
  ASSERT_GE(a.self_pred_a - a.self_a, 0.2);
  EXPECT_TRUE(mobil_should_change(kMobil, a));
}

TEST(PhysicsTrafficMobil, RefusesToMakeTheNewFollowerBrakeHarderThanTwo) {
  Scene sc;
  sc.s[3] = -15.0;  // follower 15 m behind at 25 m/s: d* = 47.5 + 25 * 5 / 7.745967 = 63.637
  sc.v[3] = 25.0;   //   3 (1 - (25/30)^4 - (63.637 / 15)^2) = -52.443
  const MobilAccelerations<double> a = sc.to_lane0();
  EXPECT_NEAR(a.new_following_pred_a, -52.44306025313174, 1e-9);
  EXPECT_GE(a.self_pred_a - a.self_a, 0.2);  // it would pay off for the ego
  EXPECT_FALSE(mobil_should_change(kMobil, a));
  // the threshold itself: -2 is acceptable, a hair below is not
  MobilAccelerations<double> b = Scene().to_lane0();
  b.new_following_pred_a = -2.0;
  EXPECT_TRUE(mobil_should_change(kMobil, b));
  b.new_following_pred_a = -2.0001;
  EXPECT_FALSE(mobil_should_change(kMobil, b));
}

TEST(PhysicsTrafficMobil, RefusesWhenTheGainIsBelowPointTwo) {
  Scene sc;
  sc.s[1] = 150.0;  // current leader 150 m ahead at 20 m/s: 3 (1 - 16/81 - (40/150)^2) = 2.194074
  sc.v[1] = 20.0;
  sc.s[2] = 200.0;  // new leader 200 m ahead at 20 m/s:     3 (1 - 16/81 - (40/200)^2) = 2.287407
  sc.v[2] = 20.0;   // gain 0.093333 < 0.2
  const MobilAccelerations<double> a = sc.to_lane0();
  EXPECT_NEAR(a.self_pred_a - a.self_a, 0.09333333333333327, 1e-9);
  EXPECT_GE(a.new_following_pred_a, -2.0);
  EXPECT_FALSE(mobil_should_change(kMobil, a));
  // the threshold itself, and politeness weighing the followers' gains
  MobilAccelerations<double> b{};
  b.self_pred_a = 0.2;
  EXPECT_TRUE(mobil_should_change(kMobil, b));
  b.self_pred_a = 0.1999;
  EXPECT_FALSE(mobil_should_change(kMobil, b));
  MobilParams<double> polite = kMobil;
  polite.politeness = 0.5;
  b.self_pred_a = 1.0;
  b.old_following_a = 0.0;
  b.old_following_pred_a = -1.7;  // the old follower would lose 1.7: 1 - 0.85 = 0.15 < 0.2
  EXPECT_TRUE(mobil_should_change(kMobil, b));
  EXPECT_FALSE(mobil_should_change(polite, b));
}

TEST(PhysicsTrafficMobil, ConsidersChangingOncePerDelay) {
  EXPECT_FALSE(mobil_due(kMobil, 0.5));
  EXPECT_FALSE(mobil_due(kMobil, 1.0));
  EXPECT_TRUE(mobil_due(kMobil, 1.0 + 1.0 / 15.0));
}

}  // namespace
}  // namespace convoy::physics
