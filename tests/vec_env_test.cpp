// The VecEnv contract on every backend: determinism across thread counts, SAME_STEP
// auto-reset with final obs and episode statistics, and bad input that leaves state as it was.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "envs/registry.h"
#include "sim/error.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

const char* const kClassic[] = {"CartPole-v1", "Pendulum-v1", "Acrobot-v1",
                                "MountainCarContinuous-v0"};

// Everything observable about a VecEnv, copied to the host.
struct Snapshot {
  std::vector<float> obs, reward, final_obs;
  std::vector<std::uint8_t> terminated, truncated;
  std::vector<double> episode_return, final_return;
  std::vector<std::int32_t> episode_length, final_length;
  std::vector<std::vector<double>> states;
  bool operator==(const Snapshot& o) const {
    return obs == o.obs && reward == o.reward && final_obs == o.final_obs &&
           terminated == o.terminated && truncated == o.truncated &&
           episode_return == o.episode_return && final_return == o.final_return &&
           episode_length == o.episode_length && final_length == o.final_length &&
           states == o.states;
  }
};

Snapshot snapshot(const VecEnv& env) {
  Snapshot s{env.obs().to_host(),
             env.reward().to_host(),
             env.final_obs().to_host(),
             env.terminated().to_host(),
             env.truncated().to_host(),
             env.episode_return().to_host(),
             env.final_episode_return().to_host(),
             env.episode_length().to_host(),
             env.final_episode_length().to_host(),
             {}};
  for (std::int64_t i = 0; i < env.num_envs(); ++i) s.states.push_back(env.get_state(i));
  return s;
}

// A device buffer big enough for one batch of this env's actions, either dtype.
struct Actions {
  Actions(const VecEnv& env)
      : ints(env.device(), env.num_envs() * env.act_dim()),
        floats(env.device(), env.num_envs() * env.act_dim()),
        ptr(env.discrete_actions() ? static_cast<void*>(ints.data())
                                   : static_cast<void*>(floats.data())) {}
  DeviceArray<std::int32_t> ints;
  DeviceArray<float> floats;
  void* ptr;
};

Snapshot run(const std::string& name, const Device& device, int threads, std::int64_t steps) {
  set_cpu_threads(threads);
  auto env = env_registry().make(name, device, 64);
  Actions a(*env);
  env->reset(123);
  for (std::int64_t s = 0; s < steps; ++s) {
    env->sample_actions(7, static_cast<std::uint64_t>(s), a.ptr);
    env->step_raw(a.ptr);
  }
  Snapshot snap = snapshot(*env);
  set_cpu_threads(0);
  return snap;
}

TEST(Determinism, BitIdenticalAfter10000StepsAt1And2Threads) {
  for (const char* name : kClassic) {
    const Snapshot one = run(name, Device::cpu(), 1, 10000);
    const Snapshot two = run(name, Device::cpu(), 2, 10000);
    const Snapshot again = run(name, Device::cpu(), 2, 10000);
    EXPECT_TRUE(one == two) << name << ": 1 thread and 2 threads differ";
    EXPECT_TRUE(two == again) << name << ": two runs at 2 threads differ";
    // and the runs did something: episodes ended and returns were recorded
    std::int32_t max_len = 0;
    for (auto l : one.final_length) max_len = std::max(max_len, l);
    EXPECT_GT(max_len, 0) << name;
  }
}

class VecEnvOnBackend : public ::testing::TestWithParam<std::string> {};

TEST_P(VecEnvOnBackend, SeedsReproduceAndDiffer) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  auto env = env_registry().make("CartPole-v1", device, 16);
  env->reset(5);
  const auto first = env->obs().to_host();
  env->reset(6);
  const auto other = env->obs().to_host();
  env->reset(5);
  EXPECT_EQ(env->obs().to_host(), first);
  EXPECT_NE(other, first);
  for (float v : first) EXPECT_LE(std::fabs(v), 0.05f);
}

// CartPole with a short time limit, so that both kinds of episode end occur often.
TEST_P(VecEnvOnBackend, AutoResetKeepsFinalObsAndEpisodeStatistics) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  const int kLimit = 30;
  auto env = env_registry().make("CartPole-v1", device, 32,
                                 Config::parse({"max_episode_steps=" + std::to_string(kLimit)}));
  const std::int64_t n = env->num_envs();
  Actions a(*env);
  env->reset(11);
  std::vector<double> ret(n, 0.0);
  std::vector<std::int32_t> len(n, 0);
  int terminations = 0, truncations = 0;
  for (int s = 0; s < 2000; ++s) {
    const auto prev = env->obs().to_host();
    env->sample_actions(3, s, a.ptr);
    env->step_raw(a.ptr);
    const auto obs = env->obs().to_host(), fin = env->final_obs().to_host();
    const auto rew = env->reward().to_host();
    const auto term = env->terminated().to_host(), trunc = env->truncated().to_host();
    const auto fret = env->final_episode_return().to_host();
    const auto flen = env->final_episode_length().to_host();
    const auto cret = env->episode_return().to_host();
    const auto clen = env->episode_length().to_host();
    for (std::int64_t i = 0; i < n; ++i) {
      ret[i] += rew[i];
      len[i] += 1;
      const bool done = term[i] || trunc[i];
      // the last obs follows from the previous one by one Euler step in x
      const float* last = done ? &fin[i * 4] : &obs[i * 4];
      ASSERT_NEAR(last[0], prev[i * 4] + 0.02 * prev[i * 4 + 1], 1e-5) << "env " << i;
      ASSERT_EQ(trunc[i] != 0, len[i] == kLimit) << "env " << i << " step " << s;
      const bool out = std::fabs(last[0]) > 2.4f || std::fabs(last[2]) > 0.2094395f;
      ASSERT_EQ(term[i] != 0, out) << "env " << i << " step " << s;
      if (done) {
        ASSERT_DOUBLE_EQ(fret[i], ret[i]) << "env " << i;
        ASSERT_EQ(flen[i], len[i]) << "env " << i;
        for (int j = 0; j < 4; ++j) ASSERT_LE(std::fabs(obs[i * 4 + j]), 0.05f);  // fresh episode
        ret[i] = 0.0;
        len[i] = 0;
        terminations += term[i];
        truncations += trunc[i];
      }
      ASSERT_DOUBLE_EQ(cret[i], ret[i]);
      ASSERT_EQ(clen[i], len[i]);
    }
  }
  EXPECT_GT(terminations, 100);
  EXPECT_GT(truncations, 10);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_P(VecEnvOnBackend, BadActionsAreRejectedAndStateIsUnchanged) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  {
    auto env = env_registry().make("CartPole-v1", device, 8);
    Actions a(*env);
    env->reset(1);
    for (int s = 0; s < 5; ++s) {
      env->sample_actions(1, s, a.ptr);
      env->step_raw(a.ptr);
    }
    const Snapshot before = snapshot(*env);
    for (std::int32_t bad : {2, -1}) {
      std::vector<std::int32_t> acts(8, 1);
      acts[3] = bad;
      a.ints.copy_from_host(acts);
      const std::string e = error_of([&] { env->step(a.ints); });
      EXPECT_NE(e.find("action " + std::to_string(bad) + " for env 3"), std::string::npos) << e;
      EXPECT_NE(e.find("Discrete(2)"), std::string::npos) << e;
      EXPECT_TRUE(snapshot(*env) == before);
    }
    EXPECT_NE(error_of([&] { env->step(a.floats); }).find("int32"), std::string::npos);
    EXPECT_NE(error_of([&] { env->set_state(0, {1.0}, 0); }).find("exactly 4"), std::string::npos);
    EXPECT_NE(error_of([&] {
                env->set_state(8, {0, 0, 0, 0}, 0);
              }).find("env index 8"),
              std::string::npos);
    EXPECT_TRUE(snapshot(*env) == before);
  }
  {
    auto env = env_registry().make("Pendulum-v1", device, 4);
    Actions a(*env);
    env->reset(2);
    const Snapshot before = snapshot(*env);
    for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
      a.floats.copy_from_host(std::vector<float>{0.5f, 0.0f, bad, 1.0f});
      const std::string e = error_of([&] { env->step(a.floats); });
      EXPECT_NE(e.find("action[0] for env 2 is"), std::string::npos) << e;
      EXPECT_NE(e.find("finite"), std::string::npos) << e;
      EXPECT_TRUE(snapshot(*env) == before);
    }
    // out-of-range finite torques are clipped, as Gymnasium does
    a.floats.copy_from_host(std::vector<float>{5.0f, -5.0f, 0.0f, 2.0f});
    EXPECT_NO_THROW(env->step(a.floats));
  }
}

TEST_P(VecEnvOnBackend, BadConstructionIsAClearError) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  const Registry& r = env_registry();
  EXPECT_NE(error_of([&] { r.make("CartPole-v1", device, 0); }).find("num_envs 0"),
            std::string::npos);
  const std::string unknown = error_of([&] { r.make("CartPoel-v1", device, 1); });
  EXPECT_NE(unknown.find("unknown env 'CartPoel-v1'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("CartPole-v1"), std::string::npos) << unknown;
  const std::string key =
      error_of([&] { r.make("CartPole-v1", device, 1, Config::parse({"gravty=1"})); });
  EXPECT_NE(key.find("unknown config key 'gravty'"), std::string::npos) << key;
  EXPECT_NE(key.find("max_episode_steps"), std::string::npos) << key;
  const std::string value =
      error_of([&] { r.make("Pendulum-v1", device, 1, Config::parse({"max_episode_steps=0"})); });
  EXPECT_NE(value.find("max_episode_steps=0"), std::string::npos) << value;
  auto env = r.make("CartPole-v1", device, 2);
  DeviceArray<std::int32_t> acts(device, 2);
  EXPECT_NE(error_of([&] { env->step(acts); }).find("before reset"), std::string::npos);
}

TEST_P(VecEnvOnBackend, PerEnvSeedsAndSkipMask) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  auto env = env_registry().make("CartPole-v1", device, 4);
  env->reset(9);
  const auto shared = env->obs().to_host();
  env->reset(std::vector<std::uint64_t>{9, 1, 9, 2});
  const auto mixed = env->obs().to_host();
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(mixed[0 * 4 + j], shared[0 * 4 + j]);  // env 0 and 2 keep seed 9's streams
    EXPECT_EQ(mixed[2 * 4 + j], shared[2 * 4 + j]);
  }
  EXPECT_NE(mixed[1 * 4], shared[1 * 4]);
  EXPECT_NE(error_of([&] {
              env->reset(std::vector<std::uint64_t>{1, 2});
            }).find("2 seeds"),
            std::string::npos);

  // a skipped env keeps its state and ignores its (even invalid) action
  const auto before = env->get_state(1);
  DeviceArray<std::int32_t> acts(device, std::vector<std::int32_t>{1, 7, 0, 1});
  DeviceArray<std::uint8_t> skip(device, std::vector<std::uint8_t>{0, 1, 0, 0});
  EXPECT_NO_THROW(env->step_raw(acts.data(), skip.data()));
  EXPECT_EQ(env->get_state(1), before);
  EXPECT_EQ(env->reward().to_host(), (std::vector<float>{1.0f, 0.0f, 1.0f, 1.0f}));
  EXPECT_EQ(env->episode_length().to_host()[1], 0);
  EXPECT_EQ(env->episode_length().to_host()[0], 1);
  // without the mask the same actions are an error naming env 1
  EXPECT_NE(error_of([&] { env->step(acts); }).find("for env 1"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, VecEnvOnBackend, ::testing::ValuesIn(test::backends()));

TEST(Registry, ListsClassicEnvsWithSpaces) {
  const Registry& r = env_registry();
  EXPECT_EQ(r.find("CartPole-v1").spec.action_space.str(), "Discrete(2)");
  EXPECT_EQ(r.find("Pendulum-v1").spec.action_space.str(), "Box(-2.0, 2.0, (1,), float32)");
  EXPECT_EQ(r.find("Acrobot-v1").spec.observation_space.flat_dim(), 6);
  EXPECT_EQ(r.find("MountainCarContinuous-v0").spec.max_episode_steps, 999);
  for (const char* name : kClassic) {
    const EnvSpec& s = r.find(name).spec;
    EXPECT_FALSE(s.config_keys.empty()) << name;
    EXPECT_EQ(s.config_keys[0].name, "max_episode_steps");
  }
}

}  // namespace
}  // namespace convoy
