// replay/replay.h: the uniform replay buffer's ring (wrap-around, only filled slots
// sampled), uniformity (chi-square on slot counts), determinism for the same key, the
// truncated transition's next_obs taken from the env's final obs, and its errors.
#include "replay/replay.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "envs/registry.h"
#include "sim/error.h"

namespace convoy {
namespace {

// `rows` transitions whose every field encodes `tag + row`, with `ended` rows ending.
struct FakeStep {
  std::vector<float> obs, actions, rewards, next_obs, final_obs;
  std::vector<std::uint8_t> terminated, truncated;
  Transitions view() const {
    Transitions t;
    t.rows = static_cast<std::int64_t>(rewards.size());
    t.obs = obs.data();
    t.actions = actions.data();
    t.rewards = rewards.data();
    t.next_obs = next_obs.data();
    t.final_obs = final_obs.data();
    t.terminated = terminated.data();
    t.truncated = truncated.data();
    return t;
  }
};

FakeStep fake_step(int rows, int obs_dim, int act_dim, float tag) {
  FakeStep s;
  for (int i = 0; i < rows; ++i) {
    for (int k = 0; k < obs_dim; ++k) {
      s.obs.push_back(tag + i);
      s.next_obs.push_back(tag + i + 0.5f);
      s.final_obs.push_back(-(tag + i));
    }
    for (int k = 0; k < act_dim; ++k) s.actions.push_back(tag + i + 0.25f);
    s.rewards.push_back(tag + i);
    s.terminated.push_back(0);
    s.truncated.push_back(0);
  }
  return s;
}

TEST(UniformReplay, RingWrapsAroundAndOverwritesTheOldest) {
  UniformReplayBuffer rb(Device::cpu(), 10, 2, 1);
  EXPECT_EQ(rb.size(), 0);
  rb.add(fake_step(4, 2, 1, 0).view());    // slots 0..3: 0..3
  rb.add(fake_step(4, 2, 1, 100).view());  // slots 4..7: 100..103
  EXPECT_EQ(rb.size(), 8);
  EXPECT_EQ(rb.next_slot(), 8);
  rb.add(fake_step(4, 2, 1, 200).view());  // slots 8, 9, 0, 1: 200..203
  EXPECT_EQ(rb.size(), 10);
  EXPECT_EQ(rb.next_slot(), 2);
  const auto r = rb.rewards().to_host();
  const std::vector<float> want = {202, 203, 2, 3, 100, 101, 102, 103, 200, 201};
  EXPECT_EQ(r, want);
  const auto obs = rb.obs().to_host(), next = rb.next_obs().to_host();
  for (int slot = 0; slot < 10; ++slot) {
    EXPECT_EQ(obs[2 * slot], want[slot]);
    EXPECT_EQ(obs[2 * slot + 1], want[slot]);
    EXPECT_EQ(next[2 * slot], want[slot] + 0.5f);
    EXPECT_EQ(rb.actions().to_host()[slot], want[slot] + 0.25f);
  }
}

TEST(UniformReplay, SamplesOnlyFilledSlotsWithUnitWeights) {
  UniformReplayBuffer rb(Device::cpu(), 1000, 3, 2);
  rb.add(fake_step(7, 3, 2, 10).view());
  ReplayBatch b;
  rb.sample(4096, 5, 1, b);
  ASSERT_EQ(b.size, 4096);
  const auto idx = b.indices.to_host();
  const auto r = b.rewards.to_host(), w = b.weights.to_host();
  const auto obs = b.obs.to_host(), act = b.actions.to_host(), next = b.next_obs.to_host();
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 4096; ++i) {
    ASSERT_GE(idx[i], 0);
    ASSERT_LT(idx[i], 7);
    ++seen[idx[i]];
    // the row is the slot's transition, gathered whole
    EXPECT_EQ(r[i], 10.0f + idx[i]);
    EXPECT_EQ(obs[3 * i + 2], 10.0f + idx[i]);
    EXPECT_EQ(next[3 * i], 10.5f + idx[i]);
    EXPECT_EQ(act[2 * i + 1], 10.25f + idx[i]);
    EXPECT_EQ(w[i], 1.0f);
  }
  for (int s : seen) EXPECT_GT(s, 0);
  // the no-op priority update is accepted
  rb.update_priorities(b.indices.data(), b.weights.data(), b.size);
}

// Pearson's chi-square over 50 slots from 50,000 draws (49 degrees of freedom): its 99.9%
// quantile is 85.4; a sampler that skipped or favoured slots would exceed it by far.
TEST(UniformReplay, DrawsAreUniformChiSquare) {
  const int slots = 50, draws = 50000;
  UniformReplayBuffer rb(Device::cpu(), 64, 1, 1);
  rb.add(fake_step(slots, 1, 1, 0).view());
  std::vector<double> counts(slots, 0.0);
  ReplayBatch b;
  for (int call = 0; call < draws / 1000; ++call) {
    rb.sample(1000, 42, static_cast<std::uint64_t>(call), b);
    for (std::int64_t i : b.indices.to_host()) counts[static_cast<std::size_t>(i)] += 1.0;
  }
  const double expected = static_cast<double>(draws) / slots;
  double chi2 = 0.0;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 85.4);
  EXPECT_GT(chi2, 20.0);  // 0.1% quantile is 23.0: not suspiciously even either
}

TEST(UniformReplay, SameKeySameBatch) {
  UniformReplayBuffer rb(Device::cpu(), 500, 2, 1);
  for (int k = 0; k < 5; ++k) rb.add(fake_step(100, 2, 1, 1000.0f * k).view());
  ReplayBatch a, b, c, d;
  rb.sample(256, 9, 3, a);
  rb.sample(256, 9, 3, b);
  rb.sample(256, 9, 4, c);
  rb.sample(256, 10, 3, d);
  EXPECT_EQ(a.indices.to_host(), b.indices.to_host());
  EXPECT_EQ(a.obs.to_host(), b.obs.to_host());
  EXPECT_NE(a.indices.to_host(), c.indices.to_host());
  EXPECT_NE(a.indices.to_host(), d.indices.to_host());
  // and on one thread
  const int threads = cpu_threads();
  set_cpu_threads(1);
  ReplayBatch e;
  rb.sample(256, 9, 3, e);
  set_cpu_threads(threads);
  EXPECT_EQ(a.indices.to_host(), e.indices.to_host());
}

TEST(UniformReplay, EndedTransitionsTakeFinalObsAndOnlyTerminationIsDone) {
  UniformReplayBuffer rb(Device::cpu(), 8, 1, 1);
  FakeStep s = fake_step(4, 1, 1, 1);
  s.terminated = {1, 0, 0, 1};
  s.truncated = {0, 1, 0, 1};
  rb.add(s.view());
  const auto next = rb.next_obs().to_host();
  const auto done = rb.dones().to_host();
  EXPECT_EQ(next[0], -1.0f);  // terminated: final obs
  EXPECT_EQ(next[1], -2.0f);  // truncated: final obs, not the next episode's first
  EXPECT_EQ(next[2], 3.5f);   // still running: the env's obs
  EXPECT_EQ(next[3], -4.0f);
  EXPECT_EQ(done[0], 1);
  EXPECT_EQ(done[1], 0);  // truncation is not done: it bootstraps
  EXPECT_EQ(done[2], 0);
  EXPECT_EQ(done[3], 1);
}

// With a real env: a truncated step's stored next_obs is the env's final obs, which differs
// from the reset obs the env shows after the step.
TEST(UniformReplay, TruncatedEnvStepStoresFinalObs) {
  auto env =
      env_registry().make("Pendulum-v1", Device::cpu(), 3, Config::parse({"max_episode_steps=5"}));
  env->reset(3);
  UniformReplayBuffer rb(Device::cpu(), 100, env->obs_dim(), env->act_dim());
  DeviceArray<float> before(Device::cpu(), env->num_envs() * env->obs_dim());
  DeviceArray<float> actions(Device::cpu(), env->num_envs() * env->act_dim());
  actions.zero();
  for (int t = 0; t < 5; ++t) {
    before.copy_from(env->obs());
    env->step(actions);
    rb.add(env_transitions(*env, before.data(), actions.data()));
  }
  const auto trunc = env->truncated().to_host();
  const auto fin = env->final_obs().to_host(), obs = env->obs().to_host();
  const auto next = rb.next_obs().to_host();
  const std::int64_t d = env->obs_dim();
  for (std::int64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(trunc[i]);
    const std::int64_t slot = 4 * 3 + i;
    for (std::int64_t k = 0; k < d; ++k) EXPECT_EQ(next[slot * d + k], fin[i * d + k]);
    EXPECT_NE(std::memcmp(&next[slot * d], &obs[i * d], sizeof(float) * d), 0);
    EXPECT_EQ(rb.dones().to_host()[slot], 0);
  }
}

TEST(UniformReplay, BadArgumentsAreClearErrors) {
  EXPECT_THROW(UniformReplayBuffer(Device::cpu(), 0, 2, 1), Error);
  EXPECT_THROW(UniformReplayBuffer(Device::cpu(), 10, 0, 1), Error);
  UniformReplayBuffer rb(Device::cpu(), 4, 1, 1);
  ReplayBatch b;
  EXPECT_THROW(rb.sample(8, 1, 1, b), Error);                 // empty
  EXPECT_THROW(rb.add(fake_step(5, 1, 1, 0).view()), Error);  // more rows than capacity
  try {
    UniformReplayBuffer(Device::cpu(), -3, 2, 1);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("capacity = -3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace convoy
