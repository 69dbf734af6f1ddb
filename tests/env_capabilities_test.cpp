// The capabilities envs declare (EnvSpec::baseline_config, multi_agent, goal_conditioned): which
// envs have each, pinned here so a misspelt declaration cannot drop one unnoticed, and every
// declared baseline builds and drives its env.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "sim/array.h"
#include "sim/vec_env.h"

namespace convoy {
namespace {

using Names = std::set<std::string>;

template <class Pred>
Names envs_where(Pred pred) {
  Names out;
  for (const auto& e : env_registry().entries()) {
    if (pred(e.spec)) out.insert(e.spec.name);
  }
  return out;
}

// The envs `convoy eval` compared with a baseline before the capability existed: those with
// an ego_policy key, all switched by ego_policy=autopilot.
TEST(EnvCapabilities, BaselinesAreTheTrafficAndRobotEnvs) {
  const Names expected = {"DiffDriveNav-v0", "Highway-v0", "HighwayFast-v0", "Intersection-v0",
                          "Merge-v0",        "Parking-v0", "Racetrack-v0"};
  EXPECT_EQ(envs_where([](const EnvSpec& s) { return s.has_baseline(); }), expected);
  for (const auto& e : env_registry().entries()) {
    if (!e.spec.has_baseline()) continue;
    EXPECT_EQ(e.spec.baseline_config, std::vector<std::string>{"ego_policy=autopilot"})
        << e.spec.name;
  }
}

TEST(EnvCapabilities, MultiAgentAndGoalConditioned) {
  EXPECT_EQ(envs_where([](const EnvSpec& s) { return s.multi_agent; }), Names{"Intersection-v0"});
  EXPECT_EQ(envs_where([](const EnvSpec& s) { return s.goal_conditioned; }), Names{"Parking-v0"});
}

TEST(EnvCapabilities, WithBaselineOverridesTheSameKey) {
  const EnvSpec& spec = env_registry().find("Highway-v0").spec;
  Config c;
  c.set("ego_policy", "agent");
  c.set("lanes", "4");
  const Config b = with_baseline(spec, c);
  EXPECT_EQ(b.values().at("ego_policy"), "autopilot");
  EXPECT_EQ(b.values().at("lanes"), "4");
  EXPECT_EQ(with_baseline(env_registry().find("CartPole-v1").spec, c).values(), c.values());
}

// Each baseline builds, and drives: two copies fed different random actions stay identical.
TEST(EnvCapabilities, EveryBaselineBuildsAndIgnoresTheActions) {
  const std::int64_t n = 4;
  for (const auto& e : env_registry().entries()) {
    if (!e.spec.has_baseline()) continue;
    SCOPED_TRACE(e.spec.name);
    const Config config = with_baseline(e.spec, Config());
    auto a = env_registry().make(e.spec.name, Device::cpu(), n, config);
    auto b = env_registry().make(e.spec.name, Device::cpu(), n, config);
    EXPECT_TRUE(a->spec().has_baseline());
    a->reset(3);
    b->reset(3);
    // 4-byte words: int32 or float actions, as the env samples them
    DeviceArray<std::uint32_t> act_a(Device::cpu(), n * a->act_dim());
    DeviceArray<std::uint32_t> act_b(Device::cpu(), n * b->act_dim());
    for (std::uint64_t t = 0; t < 20; ++t) {
      a->sample_actions(1, t, act_a.data());
      b->sample_actions(2, t, act_b.data());
      a->step_raw(act_a.data());
      b->step_raw(act_b.data());
    }
    EXPECT_EQ(a->obs().to_host(), b->obs().to_host());
    EXPECT_EQ(a->reward().to_host(), b->reward().to_host());
  }
}

}  // namespace
}  // namespace convoy
