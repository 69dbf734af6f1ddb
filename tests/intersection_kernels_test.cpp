// Intersection-v0's per-vehicle kernels (kernels=vehicle: step_batch's launches per scene and
// per scene x slot) against the per-scene step (kernels=scene) on the CPU: the same pieces in
// the same order per vehicle and the same spawning draws, so bit-identical observations,
// rewards, flags and episode statistics of every row, with multi-agent scenes, auto-resets,
// NEXT_STEP skips and step_compose, at 1 and 2 threads. The CUDA equivalence is in
// cuda_equivalence_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "envs/driving/intersection.h"
#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

struct KernelsCase {
  std::string name;  // for the test's name
  std::vector<std::string> cfg;
};

// test::kernels_trace (tests/test_util.h) of case c with kernels=`kernels` over 24 rows (8
// scenes at 3 agents, 6 at 4), restarted midway from per-row seeds (a scene draws from its
// first row's seed, so the multi-agent cases check which row that is)
std::vector<std::uint32_t> trace(const KernelsCase& c, const std::string& kernels, int threads,
                                 int steps, std::int64_t* episodes = nullptr) {
  std::vector<std::string> cfg = c.cfg;
  cfg.push_back("kernels=" + kernels);
  return test::kernels_trace("Intersection-v0", cfg, threads, steps, true, episodes);
}

void PrintTo(const KernelsCase& c, std::ostream* os) { *os << c.name; }

class IntersectionKernels : public ::testing::TestWithParam<KernelsCase> {};

TEST_P(IntersectionKernels, PerVehicleMatchesPerSceneBitForBit) {
  const KernelsCase& c = GetParam();
  // episodes last at most 13 steps (duration 13 s at 1 Hz): many auto-resets
  const int steps = 240;
  std::int64_t episodes = 0;
  const auto scene = trace(c, "scene", 1, steps, &episodes);
  // episodes end (crashes, arrivals, the time limit), so auto-resets are exercised: the
  // step_compose steps alone (half of them) end each row's episode several times
  EXPECT_GT(episodes, 3 * 24) << c.name;
  const auto vehicle = trace(c, "vehicle", 1, steps);
  ASSERT_EQ(vehicle.size(), scene.size());
  const std::size_t first1 = test::first_difference(scene, vehicle);
  EXPECT_EQ(first1, vehicle.size())
      << c.name << " threads=1: first difference at " << first1 << " of " << vehicle.size();
  // at 2 threads over 26 steps only (restarted at 13): each step is 2 + 3 x frames OpenMP
  // loops, which cost milliseconds each when another process holds a core
  const auto scene26 = trace(c, "scene", 1, 26), vehicle26 = trace(c, "vehicle", 2, 26);
  ASSERT_EQ(vehicle26.size(), scene26.size());
  const std::size_t first = test::first_difference(scene26, vehicle26);
  EXPECT_EQ(first, vehicle26.size())
      << c.name << " threads=2: first difference at " << first << " of " << vehicle26.size();
}

const std::vector<std::string> kRandomIdm = {"idm_delta_low=2", "idm_delta_high=6",
                                             "idm_time_gap_low=0.8", "idm_time_gap_high=2.5"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

INSTANTIATE_TEST_SUITE_P(
    Intersection, IntersectionKernels,
    ::testing::Values(
        KernelsCase{"Discrete", {}}, KernelsCase{"Continuous", {"action_type=continuous"}},
        KernelsCase{"ThreeAgents", {"agents_per_env=3", "destination=random"}},
        KernelsCase{"FourAgentsContinuous", {"agents_per_env=4", "action_type=continuous"}},
        KernelsCase{"RandomIdm",
                    with({"spawn_probability=0.9", "spawn_probability_range=0.1"}, kRandomIdm)},
        KernelsCase{"AutopilotTwoAgentsRandomIdm",
                    with({"ego_policy=autopilot", "agents_per_env=2"}, kRandomIdm)}),
    [](const auto& info) { return info.param.name; });

// s where every route enters the crossing, at the default settings
double entry_of() {
  const Config c;
  ConfigReader r(c, "Intersection-v0");
  return envs::intersection::read_params(r).entry;
}

// A crash stops the step on both paths: two agents meet in the crossing, both rows terminate
// with the crash reward, and the other scene goes on.
TEST(IntersectionKernels, CrashEndsTheSceneOnBothPaths) {
  std::vector<std::vector<float>> results;
  for (const std::string kernels : {"scene", "vehicle"}) {
    auto env = env_registry().make(
        "Intersection-v0", Device::cpu(), 4,
        Config::parse({"agents_per_env=2", "vehicles=0", "initial_vehicle_count=0",
                       "spawn_probability=0", "kernels=" + kernels}));
    env->reset(1);
    // per slot [route, s, speed, target_speed, delta, time_gap]: south and east straight on at
    // 9 m/s, both 9 m (1 s) from where their paths cross
    const double entry = entry_of();
    const std::vector<double> st = {1, entry + 4.0, 9, 9, 4, 1.5, 3 + 1, entry, 9, 9, 4, 1.5};
    env->set_state(0, st, 0);
    DeviceArray<std::int32_t> idle(Device::cpu(), std::vector<std::int32_t>(4, 1));
    env->step(idle);
    const auto term = env->terminated().to_host();
    EXPECT_EQ(term[0], 1) << kernels;
    EXPECT_EQ(term[1], 1) << kernels;
    EXPECT_EQ(term[2], 0) << kernels;
    const auto outcome = env->final_outcome().to_host();
    EXPECT_EQ(outcome[0], static_cast<std::uint8_t>(EpisodeOutcome::kCollision)) << kernels;
    EXPECT_EQ(outcome[1], static_cast<std::uint8_t>(EpisodeOutcome::kCollision)) << kernels;
    std::vector<float> r = env->reward().to_host();
    const auto fin = env->final_obs().to_host();
    r.insert(r.end(), fin.begin(), fin.end());
    results.push_back(r);
  }
  EXPECT_EQ(results[0], results[1]);
}

// The scratch is rewritten every step before it is read, so snapshots leave it out: a
// snapshot taken mid-run and loaded back replays the same steps.
TEST(IntersectionKernels, SnapshotsReplayWithoutTheScratch) {
  // one thread: 3 x frames OpenMP loops a step cost milliseconds each on a busy machine
  set_cpu_threads(1);
  auto env = env_registry().make("Intersection-v0", Device::cpu(), 16,
                                 Config::parse({"agents_per_env=2", "kernels=vehicle"}));
  std::vector<float> first, second;
  test::snapshot_replay(*env, 3, 4, 7, 30, &first, &second);
  EXPECT_EQ(second, first);
  set_cpu_threads(0);
}

TEST(IntersectionKernels, BadKernelsValueIsAClearError) {
  const std::string msg = test::error_message([] {
    env_registry().make("Intersection-v0", Device::cpu(), 1, Config::parse({"kernels=gpu"}));
  });
  EXPECT_NE(msg.find("kernels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gpu"), std::string::npos) << msg;
  EXPECT_NE(msg.find("scene"), std::string::npos) << msg;
  EXPECT_NE(msg.find("vehicle"), std::string::npos) << msg;
}

}  // namespace
}  // namespace convoy
