// physics/diffdrive.h and physics/math.h: unicycle geometry (lines, turns in place, closed
// circles), wheel-speed conversions and limits, exact arcs against RK4; angle wrapping.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "physics/diffdrive.h"

namespace convoy::physics {
namespace {

DiffDriveParams<double> wide_open() {
  DiffDriveParams<double> p{};
  p.wheel_radius = 0.05;
  p.axle_width = 0.3;
  p.v_min = -10;
  p.v_max = 10;
  p.omega_max = 10;
  p.wheel_speed_max = 1e6;
  return p;
}

TEST(PhysicsMath, WrapAngleStaysInHalfOpenRange) {
  EXPECT_DOUBLE_EQ(wrap_angle(pi<double>()), -pi<double>());
  EXPECT_DOUBLE_EQ(wrap_angle(-pi<double>()), -pi<double>());
  EXPECT_NEAR(wrap_angle(3 * pi<double>() / 2), -pi<double>() / 2, 1e-15);
  EXPECT_NEAR(wrap_angle(-7.0), -7.0 + 2 * pi<double>(), 1e-15);
  EXPECT_NEAR(wrap_angle(100.0), 100.0 - 32 * pi<double>(), 1e-13);
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> d(-1e3, 1e3);
  for (int i = 0; i < 10000; ++i) {
    const double a = d(gen);
    const double w = wrap_angle(a);
    ASSERT_GE(w, -pi<double>());
    ASSERT_LT(w, pi<double>());
    ASSERT_NEAR(std::sin(w), std::sin(a), 1e-12);
    ASSERT_NEAR(std::cos(w), std::cos(a), 1e-12);
    const float wf = wrap_angle(static_cast<float>(a));
    ASSERT_GE(wf, -pi<float>());
    ASSERT_LT(wf, pi<float>());
  }
}

TEST(PhysicsMath, Vec2Operations) {
  const Vec2d a{3, 4}, b{-1, 2};
  EXPECT_DOUBLE_EQ(length(a), 5);
  EXPECT_DOUBLE_EQ(dot(a, b), 5);
  EXPECT_DOUBLE_EQ(cross(a, b), 10);
  EXPECT_DOUBLE_EQ(cross(b, a), -10);
  EXPECT_TRUE((a + b == Vec2d{2, 6}));
  EXPECT_TRUE((a - b == Vec2d{4, 2}));
  EXPECT_TRUE((2.0 * a == Vec2d{6, 8}));
  EXPECT_TRUE((perp(a) == Vec2d{-4, 3}));
  const Vec2d r = rotate(a, pi<double>() / 2);
  EXPECT_NEAR(r.x, -4, 1e-15);
  EXPECT_NEAR(r.y, 3, 1e-15);
  const Vec2d back = unrotate(r, std::cos(pi<double>() / 2), std::sin(pi<double>() / 2));
  EXPECT_NEAR(back.x, 3, 1e-15);
  EXPECT_NEAR(back.y, 4, 1e-15);
  EXPECT_NEAR(length(normalized(a)), 1, 1e-15);
  EXPECT_TRUE((normalized(Vec2d{0, 0}) == Vec2d{0, 0}));
  EXPECT_NEAR(angle_of(Vec2d{0, -2}), -pi<double>() / 2, 1e-15);
  EXPECT_DOUBLE_EQ(clamp(5.0, -1.0, 2.0), 2.0);
  EXPECT_DOUBLE_EQ(clamp(-5.0, -1.0, 2.0), -1.0);
  EXPECT_TRUE(std::isnan(clamp(std::nan(""), -1.0, 2.0)));
}

TEST(PhysicsDiffDrive, StraightLine) {
  const DiffDriveParams<double> p = wide_open();
  for (bool exact : {true, false}) {
    double x[3] = {1.0, 2.0, 0.4};
    for (int i = 0; i < 100; ++i) step_diffdrive(p, x, 0.5, 0.0, 0.1, exact);
    EXPECT_NEAR(x[kDdX], 1.0 + 5.0 * std::cos(0.4), 1e-12);
    EXPECT_NEAR(x[kDdY], 2.0 + 5.0 * std::sin(0.4), 1e-12);
    EXPECT_NEAR(x[kDdTheta], 0.4, 1e-15);
  }
}

TEST(PhysicsDiffDrive, PureRotationStaysInPlace) {
  const DiffDriveParams<double> p = wide_open();
  double x[3] = {1.0, 2.0, 0.0};
  step_diffdrive(p, x, 0.0, 1.5, 1.0);
  EXPECT_DOUBLE_EQ(x[kDdX], 1.0);
  EXPECT_DOUBLE_EQ(x[kDdY], 2.0);
  EXPECT_NEAR(x[kDdTheta], 1.5, 1e-15);
  // equal and opposite wheel speeds are a pure rotation
  double v, w;
  wheels_to_twist(p, -4.0, 4.0, &v, &w);
  EXPECT_DOUBLE_EQ(v, 0.0);
  EXPECT_NEAR(w, 0.05 * 8.0 / 0.3, 1e-15);
}

// Constant twist: a circle of radius v / omega, closed after 2 pi / omega, with the far point
// one diameter away halfway round; exact at any step size, RK4 close with small steps.
TEST(PhysicsDiffDrive, CircleReturnsToStartAfterOnePeriod) {
  const DiffDriveParams<double> p = wide_open();
  const double v = 1.2, omega = 0.8, period = 2 * pi<double>() / omega;
  for (int n : {1, 7, 100}) {
    double x[3] = {0.5, -1.0, 2.0};
    for (int i = 0; i < n; ++i) step_diffdrive(p, x, v, omega, period / n);
    EXPECT_NEAR(x[kDdX], 0.5, 1e-12) << n;
    EXPECT_NEAR(x[kDdY], -1.0, 1e-12) << n;
    EXPECT_NEAR(wrap_angle(x[kDdTheta] - 2.0), 0.0, 1e-12) << n;
    double h[3] = {0.5, -1.0, 2.0};
    for (int i = 0; i < n; ++i) step_diffdrive(p, h, v, omega, period / 2 / n);
    EXPECT_NEAR(std::hypot(h[kDdX] - 0.5, h[kDdY] + 1.0), 2 * v / omega, 1e-12) << n;
  }
  double x[3] = {0.5, -1.0, 2.0};
  for (int i = 0; i < 200; ++i) step_diffdrive(p, x, v, omega, period / 200, false, 1);
  EXPECT_NEAR(x[kDdX], 0.5, 1e-7);
  EXPECT_NEAR(x[kDdY], -1.0, 1e-7);
  // negative omega runs the circle clockwise: the centre is on the right
  double c[3] = {0, 0, 0};
  step_diffdrive(p, c, v, -omega, period / 2);
  EXPECT_NEAR(c[kDdX], 0.0, 1e-12);
  EXPECT_NEAR(c[kDdY], -2 * v / omega, 1e-12);
}

TEST(PhysicsDiffDrive, ExactArcMatchesFineRk4ForRandomTwists) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> dv(-2, 2), dw(-3, 3), dth(-3, 3);
  for (int i = 0; i < 200; ++i) {
    const double v = dv(gen), omega = i % 10 == 0 ? 1e-9 * dw(gen) : dw(gen), th = dth(gen);
    double a[3] = {0, 0, th}, b[3] = {0, 0, th};
    step_diffdrive_exact(a, v, omega, 0.5);
    integrate(DiffDriveDynamics<double>{v, omega}, b, 0.5, 200, Integrator::kRk4);
    for (int k = 0; k < 3; ++k) ASSERT_NEAR(a[k], b[k], 1e-10) << i << " " << k;
  }
}

TEST(PhysicsDiffDrive, WheelSpeedsRoundTripAndLimits) {
  const DiffDriveParams<double> p = small_diffdrive_robot<double>();
  double wl, wr, v, w;
  twist_to_wheels(p, 0.1, 1.0, &wl, &wr);
  wheels_to_twist(p, wl, wr, &v, &w);
  EXPECT_NEAR(v, 0.1, 1e-15);
  EXPECT_NEAR(w, 1.0, 1e-14);
  // twist clamps
  v = 5.0, w = -9.0;
  limit_twist(p, &v, &w);
  EXPECT_LE(v, p.v_max);
  EXPECT_GE(w, -p.omega_max);
  // wheel limit scales the whole twist, keeping curvature
  DiffDriveParams<double> q = p;
  q.wheel_speed_max = 5.0;
  v = 0.2, w = 2.0;
  limit_twist(q, &v, &w);
  twist_to_wheels(q, v, w, &wl, &wr);
  EXPECT_NEAR(std::fmax(std::fabs(wl), std::fabs(wr)), 5.0, 1e-12);
  EXPECT_NEAR(v / w, 0.1, 1e-12);
  std::mt19937 gen(11);
  std::uniform_real_distribution<double> d(-20, 20);
  for (int i = 0; i < 1000; ++i) {
    v = d(gen), w = d(gen);
    limit_twist(q, &v, &w);
    twist_to_wheels(q, v, w, &wl, &wr);
    ASSERT_LE(std::fabs(wl), q.wheel_speed_max + 1e-12);
    ASSERT_LE(std::fabs(wr), q.wheel_speed_max + 1e-12);
    ASSERT_LE(std::fabs(w), q.omega_max + 1e-12);
    ASSERT_GE(v, q.v_min - 1e-12);
    ASSERT_LE(v, q.v_max + 1e-12);
  }
  // a step with an oversized command moves no farther than v_max dt
  double x[3] = {0, 0, 0};
  step_diffdrive(p, x, 100.0, 0.0, 1.0);
  EXPECT_NEAR(x[kDdX], p.v_max, 1e-12);
}

}  // namespace
}  // namespace convoy::physics
