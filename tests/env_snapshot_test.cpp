// VecEnv::save_state / load_state: a snapshot taken mid-run and loaded into a fresh env of the
// same settings continues exactly as the original (obs, rewards, dones, episode bookkeeping,
// auto-reset seeds), for every registered env; foreign or damaged snapshots are refused and
// leave the env as it was.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "envs/registry.h"
#include "sim/error.h"
#include "sim/vec_env.h"

namespace convoy {
namespace {

std::unique_ptr<VecEnv> make(const std::string& name, std::int64_t n) {
  return env_registry().make(name, Device::cpu(), n, Config{});
}

// Everything step() returns, as bytes, after `steps` random steps from stream `seed`.
std::vector<std::string> run(VecEnv& env, std::uint64_t seed, int from, int steps) {
  std::vector<std::string> out;
  DeviceArray<std::int32_t> ia(Device::cpu(), env.num_envs() * env.act_dim());
  DeviceArray<float> fa(Device::cpu(), env.num_envs() * env.act_dim());
  void* a = env.discrete_actions() ? static_cast<void*>(ia.data()) : static_cast<void*>(fa.data());
  auto bytes = [](const auto& arr) {
    const auto h = arr.to_host();
    return std::string(reinterpret_cast<const char*>(h.data()), h.size() * sizeof(h[0]));
  };
  for (int t = from; t < from + steps; ++t) {
    env.sample_actions(seed, static_cast<std::uint64_t>(t), a);
    env.step_raw(a);
    out.push_back(bytes(env.obs()) + bytes(env.reward()) + bytes(env.terminated()) +
                  bytes(env.truncated()) + bytes(env.final_obs()) + bytes(env.episode_return()) +
                  bytes(env.episode_length()) + bytes(env.final_episode_return()));
  }
  return out;
}

TEST(EnvSnapshot, LoadedEnvContinuesExactlyAsTheSavedOne) {
  for (const std::string& name : env_registry().names()) {
    SCOPED_TRACE(name);
    auto env = make(name, 6);
    env->reset(11);
    run(*env, 3, 0, 45);  // past some episode ends (auto-resets draw from episode counters)
    const std::string snap = env->save_state();
    const auto want = run(*env, 3, 45, 80);
    auto fresh = make(name, 6);
    fresh->reset(999);  // a different state, overwritten whole by the snapshot
    fresh->load_state(snap);
    EXPECT_EQ(run(*fresh, 3, 45, 80), want);
    // and never reset at all
    auto unreset = make(name, 6);
    unreset->load_state(snap);
    EXPECT_EQ(run(*unreset, 3, 45, 80), want);
  }
}

TEST(EnvSnapshot, RefusesForeignOrDamagedSnapshotsChangingNothing) {
  auto env = make("HighwayFast-v0", 4);
  env->reset(1);
  const auto obs = env->obs().to_host();
  auto cartpole = make("CartPole-v1", 4);
  cartpole->reset(1);
  auto more = make("HighwayFast-v0", 5);
  more->reset(1);
  const std::string good = env->save_state();
  EXPECT_THROW(env->load_state(cartpole->save_state()), Error);
  EXPECT_THROW(env->load_state(more->save_state()), Error);
  EXPECT_THROW(env->load_state(good.substr(0, good.size() - 3)), Error);
  EXPECT_THROW(env->load_state(good + "x"), Error);
  EXPECT_THROW(env->load_state(""), Error);
  try {
    env->load_state(cartpole->save_state());
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not from a HighwayFast-v0 of 4 envs"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(env->obs().to_host(), obs);
  auto unreset = make("CartPole-v1", 4);
  EXPECT_THROW(unreset->save_state(), Error);  // nothing to save before reset()
}

}  // namespace
}  // namespace convoy
