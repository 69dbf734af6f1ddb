// HighwayFast-v0's options: the lidar observation and domain randomisation at reset.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "envs/driving/highway.h"
#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

using L = envs::highway::StateLayout;

std::unique_ptr<VecEnv> make(std::int64_t n, std::vector<std::string> cfg = {}) {
  return env_registry().make("HighwayFast-v0", Device::cpu(), n, Config::parse(cfg));
}

TEST(HighwayLidar, ObservationSpaceIsCellsByTwo) {
  auto env = make(2, {"observation=lidar"});
  EXPECT_EQ(env->spec().observation_space.flat_dim(), 16 * 2);
  auto fine = make(2, {"observation=lidar", "lidar_cells=40"});
  EXPECT_EQ(fine->spec().observation_space.flat_dim(), 40 * 2);
  env->reset(1);
  for (float o : env->obs().to_host()) {
    EXPECT_GE(o, -1.0f);
    EXPECT_LE(o, 1.0f);
  }
}

// One car 30 m ahead in the ego's lane, slower by 5 m/s: ray 0 (along +x) sees its rear at
// 27.5 m closing at 5 m/s; the ray straight behind sees nothing.
TEST(HighwayLidar, CarAheadAppearsInTheForwardRay) {
  auto env = make(1, {"observation=lidar", "vehicles=1", "lidar_cells=16", "lidar_range=60"});
  env->reset(0);
  env->set_state(0, {100, 4, 0, 25, 25, 1, 130, 4, 0, 20, 20, 1}, 0);
  const auto obs = env->obs().to_host();
  EXPECT_NEAR(obs[0], 27.5f / 60.0f, 1e-5);
  EXPECT_NEAR(obs[1], -5.0f / 60.0f, 1e-5);
  EXPECT_EQ(obs[8 * 2], 1.0f);  // ray 8 points along -x: empty cells read [1, 1]
  EXPECT_EQ(obs[8 * 2 + 1], 1.0f);
  // the car is 2 m wide and 30 m away: the rays at +-22.5 degrees miss it
  EXPECT_EQ(obs[1 * 2], 1.0f);
  EXPECT_EQ(obs[15 * 2], 1.0f);
  // out of range: nothing seen
  env->set_state(0, {100, 4, 0, 25, 25, 1, 170, 4, 0, 20, 20, 1}, 0);
  EXPECT_EQ(env->obs().to_host()[0], 1.0f);
}

// A car in the lane to the right (y + 4, highway-env's frame), level with the ego: the ray at
// +90 degrees (index cells / 4) sees its near side 1 m away.
TEST(HighwayLidar, CarAlongsideAppearsInTheSideRay) {
  auto env = make(1, {"observation=lidar", "vehicles=1"});
  env->reset(0);
  env->set_state(0, {100, 0, 0, 25, 25, 0, 100, 4, 0, 25, 25, 1}, 0);
  const auto obs = env->obs().to_host();
  EXPECT_NEAR(obs[4 * 2], 3.0f / 60.0f, 1e-5);
  EXPECT_NEAR(obs[4 * 2 + 1], 0.0f, 1e-5);
  EXPECT_EQ(obs[12 * 2], 1.0f);
}

// Draws env i's reset for episode `episode` directly and returns the view's arrays.
struct Drawn {
  std::vector<float> x, length, width, idm_acc, time_gap, d0;
};
Drawn draw(const std::vector<std::string>& cfg, std::uint64_t seed, std::uint32_t episode) {
  const Config config = Config::parse(cfg);
  ConfigReader reader(config, "HighwayFast-v0");
  const auto p = envs::highway::read_params(reader, envs::highway::kHighwayFastDefaults);
  envs::highway::State st(Device::cpu(), 1, p.vehicles);
  PhiloxStream rng(seed, 0, episode, 0, RngPurpose::kReset);
  envs::Highway<true>::reset(p, st.view(), 0, rng);
  return {st.x.to_host(),       st.length.to_host(),   st.width.to_host(),
          st.idm_acc.to_host(), st.time_gap.to_host(), st.d0.to_host()};
}

const std::vector<std::string> kRanges = {"idm_time_headway_low=1.0",
                                          "idm_time_headway_high=2.0",
                                          "idm_distance_low=8",
                                          "idm_distance_high=14",
                                          "idm_acc_low=2",
                                          "idm_acc_high=4",
                                          "vehicle_length_low=4",
                                          "vehicle_length_high=7",
                                          "vehicle_width_low=1.8",
                                          "vehicle_width_high=2.6",
                                          "vehicles_density_low=0.5",
                                          "vehicles_density_high=2"};

TEST(HighwayRandomisation, ValuesLandInTheirRangesAndVary) {
  std::set<float> lengths, gaps, accs, d0s, last_x;
  for (std::uint32_t episode = 0; episode < 20; ++episode) {
    const Drawn d = draw(kRanges, 3, episode);
    for (std::size_t v = 1; v < d.x.size(); ++v) {
      ASSERT_GE(d.time_gap[v], 1.0f);
      ASSERT_LE(d.time_gap[v], 2.0f);
      ASSERT_GE(d.d0[v], 8.0f);
      ASSERT_LE(d.d0[v], 14.0f);
      ASSERT_GE(d.idm_acc[v], 2.0f);
      ASSERT_LE(d.idm_acc[v], 4.0f);
      ASSERT_GE(d.length[v], 4.0f);
      ASSERT_LE(d.length[v], 7.0f);
      ASSERT_GE(d.width[v], 1.8f);
      ASSERT_LE(d.width[v], 2.6f);
      lengths.insert(d.length[v]);
      gaps.insert(d.time_gap[v]);
      accs.insert(d.idm_acc[v]);
      d0s.insert(d.d0[v]);
    }
    EXPECT_EQ(d.length[0], 5.0f);  // the ego keeps highway-env's size
    last_x.insert(d.x.back());
  }
  // per vehicle and per episode: hundreds of distinct draws
  EXPECT_GT(lengths.size(), 300u);
  EXPECT_GT(gaps.size(), 300u);
  EXPECT_GT(accs.size(), 300u);
  EXPECT_GT(d0s.size(), 300u);
  // the density varies per episode: the last car's spawn position spreads over a factor ~4
  EXPECT_GT(*last_x.rbegin() / *last_x.begin(), 2.0f);
}

TEST(HighwayRandomisation, SameSeedSameValues) {
  const Drawn a = draw(kRanges, 8, 2), b = draw(kRanges, 8, 2), c = draw(kRanges, 9, 2);
  EXPECT_EQ(a.length, b.length);
  EXPECT_EQ(a.time_gap, b.time_gap);
  EXPECT_EQ(a.x, b.x);
  EXPECT_NE(a.length, c.length);
}

TEST(HighwayRandomisation, DefaultsDrawNothingExtra) {
  const Drawn d = draw({}, 4, 0);
  for (std::size_t v = 0; v < d.x.size(); ++v) {
    EXPECT_EQ(d.time_gap[v], 1.5f);
    EXPECT_EQ(d.d0[v], 10.0f);
    EXPECT_EQ(d.idm_acc[v], 3.0f);
    EXPECT_EQ(d.length[v], 5.0f);
  }
}

// Timid traffic (long headway, low acceleration) keeps farther back than eager traffic: the
// randomised IDM parameters reach the dynamics.
TEST(HighwayRandomisation, IdmParametersChangeTheTraffic) {
  auto gap_after = [](std::vector<std::string> cfg) {
    cfg.push_back("vehicles=1");
    cfg.push_back("lanes=1");  // no overtaking
    cfg.push_back("ego_policy=autopilot");
    auto env = make(1, cfg);
    env->reset(0);
    // the ego (an IDM driver here) 60 m behind a car at 20 m/s, both in lane 0
    env->set_state(0, {100, 0, 0, 30, 30, 0, 160, 0, 0, 20, 20, 0}, 0);
    DeviceArray<std::int32_t> a(Device::cpu(), std::vector<std::int32_t>{1});
    for (int t = 0; t < 10; ++t) env->step(a);
    const auto st = env->get_state(0);
    return st[L::x(1)] - st[L::x(0)];
  };
  const double timid = gap_after({"idm_time_headway_low=2.9", "idm_time_headway_high=3.0"});
  const double eager = gap_after({"idm_time_headway_low=0.5", "idm_time_headway_high=0.6"});
  std::printf("gap after 10 s: timid %.1f m, eager %.1f m\n", timid, eager);
  EXPECT_GT(timid, eager + 15.0);
}

TEST(HighwayOptions, BadRangesAreClearErrors) {
  auto error_of = [](std::vector<std::string> cfg) {
    return test::error_message([&] { make(1, cfg); });
  };
  EXPECT_NE(error_of({"idm_acc_low=4", "idm_acc_high=2"}).find("idm_acc_low <= idm_acc_high"),
            std::string::npos);
  EXPECT_NE(error_of({"vehicle_length_low=-1"}).find("vehicle_length_low=-1"), std::string::npos);
  EXPECT_NE(error_of({"vehicles_density_high=0"}).find("vehicles_density_high=0"),
            std::string::npos);
  EXPECT_NE(error_of({"observation=camera"}).find("kinematics|lidar"), std::string::npos);
  EXPECT_NE(error_of({"lidar_cells=0"}).find("lidar_cells=0"), std::string::npos);
}

}  // namespace
}  // namespace convoy
