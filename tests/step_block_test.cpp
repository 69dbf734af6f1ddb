// The CPU's fast paths against the plain ones: CartPole's AVX2 block step (libmvec sin/cos)
// against its scalar step, and the engine's fused step-and-compose pass against step_raw
// followed by compose_step_outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "envs/classic/cartpole.h"
#include "envs/registry.h"
#include "sim/autoreset.h"
#include "sim/device.h"
#include "sim/rng.h"

namespace convoy {
namespace {

using envs::CartPole;

// n CartPoles in host SoA arrays.
struct Poles {
  std::vector<double> x, xd, th, td;
  explicit Poles(std::int64_t n) : x(n), xd(n), th(n), td(n) {}
  CartPole::View view() { return {x.data(), xd.data(), th.data(), td.data()}; }
};

TEST(CartPoleStepBlock, MatchesTheScalarStepWithinSinCosRounding) {
  if (!CartPole::vector_step_available()) {
    GTEST_SKIP() << "no AVX2 CPU or no libmvec in this build: the engine uses the scalar step";
  }
  for (const std::int64_t n : {1, 3, 4, 7, 300}) {  // whole groups of four and every tail
    for (const bool sutton : {false, true}) {
      CartPole::Params p;
      p.sutton_barto_reward = sutton;
      Poles scalar(n), block(n);
      std::vector<std::int32_t> actions(n);
      std::vector<std::uint8_t> skip(n);
      PhiloxStream rng(42, static_cast<std::uint64_t>(n), 0, 0, RngPurpose::kInit);
      for (std::int64_t i = 0; i < n; ++i) {
        // wide states, so that some envs cross the thresholds this step
        scalar.x[i] = rng.uniform(-2.5, 2.5);
        scalar.xd[i] = rng.uniform(-3.0, 3.0);
        scalar.th[i] = rng.uniform(-0.25, 0.25);
        scalar.td[i] = rng.uniform(-3.0, 3.0);
        actions[i] = rng.below(2);
        skip[i] = rng.below(4) == 0 ? 1 : 0;
      }
      block = scalar;
      std::vector<float> reward(n, -7.0f);
      std::vector<std::uint8_t> term(n, 9);
      CartPole::step_block(p, block.view(), 0, n, actions.data(), skip.data(), reward.data(),
                           term.data());
      int crossed = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        if (skip[i]) {  // untouched, nothing written
          EXPECT_EQ(block.x[i], scalar.x[i]);
          EXPECT_EQ(block.xd[i], scalar.xd[i]);
          EXPECT_EQ(block.th[i], scalar.th[i]);
          EXPECT_EQ(block.td[i], scalar.td[i]);
          EXPECT_EQ(reward[i], -7.0f);
          EXPECT_EQ(term[i], 9);
          continue;
        }
        float r = 0.0f;
        bool t = false;
        CartPole::step(p, scalar.view(), i, actions[i], &r, &t);
        const auto close = [](double a, double b) {
          return std::fabs(a - b) <= 1e-13 * std::max(1.0, std::fabs(b));
        };
        EXPECT_TRUE(close(block.x[i], scalar.x[i])) << "env " << i;
        EXPECT_TRUE(close(block.xd[i], scalar.xd[i])) << "env " << i;
        EXPECT_TRUE(close(block.th[i], scalar.th[i])) << "env " << i;
        EXPECT_TRUE(close(block.td[i], scalar.td[i])) << "env " << i;
        EXPECT_EQ(term[i] != 0, t) << "env " << i;
        EXPECT_EQ(reward[i], r) << "env " << i;
        crossed += t ? 1 : 0;
      }
      if (n == 300) {
        EXPECT_GT(crossed, 10) << "the test should cover terminations";
      }
    }
  }
}

// Everything step_compose returns and leaves in the env, for the comparison below.
struct Outputs {
  std::vector<float> obs_out, obs, reward, final_obs;
  std::vector<std::uint8_t> done, terminated, truncated;
  std::vector<double> ret;
  std::vector<std::int32_t> len;
  std::int64_t ended = 0;
  bool operator==(const Outputs& o) const {
    return obs_out == o.obs_out && obs == o.obs && reward == o.reward && final_obs == o.final_obs &&
           done == o.done && terminated == o.terminated && truncated == o.truncated &&
           ret == o.ret && len == o.len && ended == o.ended;
  }
};

// `steps` NEXT_STEP steps (the done mask of a step is the next one's skip mask), either
// through the fused VecEnv::step_compose or through step_raw + compose_step_outputs.
std::vector<Outputs> run_next_step(const std::string& name, std::int64_t n, int steps, bool fused) {
  const Device cpu = Device::cpu();
  auto env = env_registry().make(name, cpu, n);
  env->reset(11);
  DeviceArray<std::int32_t> ai(cpu, n * env->act_dim());
  DeviceArray<float> af(cpu, n * env->act_dim());
  void* actions = env->discrete_actions() ? static_cast<void*>(ai.data()) : af.data();
  DeviceArray<float> obs_out(cpu, n * env->obs_dim());
  DeviceArray<std::uint8_t> done(cpu, n);
  DeviceArray<double> ret(cpu, n);
  DeviceArray<std::int32_t> len(cpu, n);
  std::vector<Outputs> trace;
  bool pending = false;
  for (int s = 0; s < steps; ++s) {
    env->sample_actions(5, static_cast<std::uint64_t>(s), actions);
    const std::uint8_t* skip = pending ? done.data() : nullptr;
    Outputs o;
    if (fused) {
      o.ended = env->step_compose(actions, skip,
                                  StepOutputs{obs_out.data(), done.data(), ret.data(), len.data()});
    } else {
      env->step_raw(actions, skip);
      o.ended = compose_step_outputs(*env, obs_out.data(), done.data(), ret.data(), len.data());
    }
    pending = o.ended > 0;
    o.obs_out = obs_out.to_host();
    o.obs = env->obs().to_host();
    o.reward = env->reward().to_host();
    o.final_obs = env->final_obs().to_host();
    o.done = done.to_host();
    o.terminated = env->terminated().to_host();
    o.truncated = env->truncated().to_host();
    o.ret = ret.to_host();
    o.len = len.to_host();
    trace.push_back(std::move(o));
  }
  return trace;
}

TEST(StepCompose, FusedPassEqualsStepThenCompose) {
  // CartPole takes the block step where the CPU allows; Pendulum and Highway the per-env one;
  // 1,000 envs are several blocks and a partial one
  for (const char* name : {"CartPole-v1", "Pendulum-v1", "HighwayFast-v0"}) {
    const int steps = std::string(name) == "HighwayFast-v0" ? 60 : 400;
    const std::int64_t n = std::string(name) == "HighwayFast-v0" ? 70 : 1000;
    const auto fused = run_next_step(name, n, steps, true);
    const auto plain = run_next_step(name, n, steps, false);
    std::int64_t ended = 0;
    for (int s = 0; s < steps; ++s) {
      ASSERT_TRUE(fused[s] == plain[s]) << name << ": step " << s << " differs";
      ended += fused[s].ended;
    }
    EXPECT_GT(ended, 0) << name << ": episodes should end (and be composed) in the run";
  }
}

}  // namespace
}  // namespace convoy
