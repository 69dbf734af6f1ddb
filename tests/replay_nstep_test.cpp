// replay/nstep.h: n-step transitions against a host reference built from whole trajectories
// (many envs, terminations and truncations at random steps), the packed done byte through a
// replay buffer, the checkpoint round trip, bad settings, and CPU-vs-CUDA (skipped without
// a GPU).
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "replay/nstep.h"
#include "replay/replay.h"
#include "sim/error.h"
#include "test_util.h"

namespace convoy {
namespace {

constexpr int kObs = 2;

// One env step of `envs` rows with distinct observations: obs of env i at step t is
// (1000 i + t, -t); where the episode ends the env's obs is the next episode's first and the
// true final obs is tagged 0.5 off.
struct HostStep {
  std::vector<float> obs, act, rew, next, fin;
  std::vector<std::uint8_t> term, trunc;
};

struct Emitted {
  std::vector<float> obs, next;
  float act, ret;
  int done, steps;
};

struct Trajectories {
  std::vector<HostStep> steps;
};

Trajectories random_steps(int envs, int T, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> reward(-1.0f, 1.0f);
  std::uniform_int_distribution<int> end(0, 9);
  Trajectories tr;
  std::vector<int> t_in_episode(static_cast<std::size_t>(envs), 0);
  for (int t = 0; t < T; ++t) {
    HostStep s;
    for (int i = 0; i < envs; ++i) {
      const float base = 1000.0f * i + static_cast<float>(t);
      s.obs.insert(s.obs.end(), {base, -static_cast<float>(t)});
      s.act.push_back(static_cast<float>(i * 7 + t % 5));
      s.rew.push_back(reward(rng));
      const int e = end(rng);
      const bool term = e == 0, trunc = e == 1;
      s.term.push_back(term ? 1 : 0);
      s.trunc.push_back(trunc ? 1 : 0);
      s.next.insert(s.next.end(), {base + 1.0f, -static_cast<float>(t + 1)});
      s.fin.insert(s.fin.end(), {base + 0.5f, -static_cast<float>(t + 1)});
    }
    tr.steps.push_back(s);
  }
  return tr;
}

// The reference: for every start t of env i, m = rewards up to n or the episode's end.
std::vector<std::vector<Emitted>> reference(const Trajectories& tr, int envs, int n, float gamma) {
  std::vector<std::vector<Emitted>> out(static_cast<std::size_t>(envs));
  const int T = static_cast<int>(tr.steps.size());
  for (int i = 0; i < envs; ++i) {
    for (int t = 0; t < T; ++t) {
      Emitted e;
      const HostStep& s0 = tr.steps[static_cast<std::size_t>(t)];
      e.obs = {s0.obs[2 * i], s0.obs[2 * i + 1]};
      e.act = s0.act[static_cast<std::size_t>(i)];
      float ret = 0.0f, disc = 1.0f;
      int m = 0;
      bool complete = false;
      for (int k = t; k < T && m < n; ++k) {
        const HostStep& s = tr.steps[static_cast<std::size_t>(k)];
        ret += disc * s.rew[static_cast<std::size_t>(i)];
        disc *= gamma;
        ++m;
        const bool ended =
            s.term[static_cast<std::size_t>(i)] || s.trunc[static_cast<std::size_t>(i)];
        if (ended) {
          e.next = {s.fin[2 * i], s.fin[2 * i + 1]};
          e.done = s.term[static_cast<std::size_t>(i)];
          complete = true;
          break;
        }
        if (m == n) {
          e.next = {s.next[2 * i], s.next[2 * i + 1]};
          e.done = 0;
          complete = true;
        }
      }
      if (!complete) continue;
      e.ret = ret;
      e.steps = m;
      out[static_cast<std::size_t>(i)].push_back(e);
    }
  }
  return out;
}

// Pushes every step through a writer on `device`; returns each env's emitted rows in order.
std::vector<std::vector<Emitted>> run_writer(NStepWriter& w, const Device& device,
                                             const Trajectories& tr, int envs, int from = 0,
                                             int to = -1,
                                             std::vector<std::vector<Emitted>>* into = nullptr) {
  std::vector<std::vector<Emitted>> out(static_cast<std::size_t>(envs));
  if (into == nullptr) into = &out;
  if (to < 0) to = static_cast<int>(tr.steps.size());
  for (int t = from; t < to; ++t) {
    const HostStep& s = tr.steps[static_cast<std::size_t>(t)];
    DeviceArray<float> obs(device, s.obs), act(device, s.act), rew(device, s.rew),
        next(device, s.next), fin(device, s.fin);
    DeviceArray<std::uint8_t> term(device, s.term), trunc(device, s.trunc);
    Transitions in;
    in.rows = envs;
    in.obs = obs.data();
    in.actions = act.data();
    in.rewards = rew.data();
    in.next_obs = next.data();
    in.final_obs = fin.data();
    in.terminated = term.data();
    in.truncated = trunc.data();
    const Transitions o = w.push(in);
    if (o.rows == 0) continue;
    EXPECT_EQ(o.rows, envs);
    const auto host = [&](const float* p, std::int64_t k) {
      std::vector<float> h(static_cast<std::size_t>(k));
      copy_bytes(h.data(), Device::cpu(), p, device, sizeof(float) * h.size());
      return h;
    };
    const auto host8 = [&](const std::uint8_t* p) {
      std::vector<std::uint8_t> h(static_cast<std::size_t>(envs));
      copy_bytes(h.data(), Device::cpu(), p, device, h.size());
      return h;
    };
    const auto o_obs = host(o.obs, envs * kObs), o_next = host(o.next_obs, envs * kObs);
    const auto o_act = host(o.actions, envs), o_ret = host(o.rewards, envs);
    const auto o_done = host8(o.terminated), o_trunc = host8(o.truncated), o_steps = host8(o.steps);
    for (int i = 0; i < envs; ++i) {
      EXPECT_EQ(o_trunc[static_cast<std::size_t>(i)], 0);
      Emitted e;
      e.obs = {o_obs[2 * i], o_obs[2 * i + 1]};
      e.next = {o_next[2 * i], o_next[2 * i + 1]};
      e.act = o_act[static_cast<std::size_t>(i)];
      e.ret = o_ret[static_cast<std::size_t>(i)];
      e.done = o_done[static_cast<std::size_t>(i)];
      e.steps = o_steps[static_cast<std::size_t>(i)];
      (*into)[static_cast<std::size_t>(i)].push_back(e);
    }
  }
  return out;
}

void expect_prefix(const std::vector<std::vector<Emitted>>& got,
                   const std::vector<std::vector<Emitted>>& want, int T, int n) {
  for (std::size_t i = 0; i < want.size(); ++i) {
    // one row per push once the queue is full: T - n + 1 rows, the reference's first ones
    ASSERT_EQ(got[i].size(), static_cast<std::size_t>(T - n + 1)) << "env " << i;
    ASSERT_GE(want[i].size(), got[i].size());
    for (std::size_t k = 0; k < got[i].size(); ++k) {
      const Emitted &g = got[i][k], &w = want[i][k];
      EXPECT_EQ(g.obs, w.obs) << "env " << i << " row " << k;
      EXPECT_EQ(g.next, w.next) << "env " << i << " row " << k;
      EXPECT_EQ(g.act, w.act) << "env " << i << " row " << k;
      EXPECT_EQ(g.ret, w.ret) << "env " << i << " row " << k;  // same float products, same bits
      EXPECT_EQ(g.done, w.done) << "env " << i << " row " << k;
      EXPECT_EQ(g.steps, w.steps) << "env " << i << " row " << k;
    }
  }
}

TEST(NStep, MatchesTheTrajectoryReference) {
  constexpr int kEnvs = 7, kT = 200;
  const Trajectories tr = random_steps(kEnvs, kT, 3);
  for (const int n : {1, 2, 3, 5, 16}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    NStepWriter w(Device::cpu(), kEnvs, n, 0.9, kObs, 1);
    const auto got = run_writer(w, Device::cpu(), tr, kEnvs);
    expect_prefix(got, reference(tr, kEnvs, n, 0.9f), kT, n);
    EXPECT_EQ(w.pushes(), kT);
  }
}

// One-step transitions through the writer equal the plain add: next obs resolved to the final
// obs where the episode ended, done = terminated.
TEST(NStep, OneStepIsThePlainTransition) {
  const Trajectories tr = random_steps(3, 40, 5);
  NStepWriter w(Device::cpu(), 3, 1, 0.99, kObs, 1);
  const auto got = run_writer(w, Device::cpu(), tr, 3);
  for (int i = 0; i < 3; ++i) {
    for (int t = 0; t < 40; ++t) {
      const HostStep& s = tr.steps[static_cast<std::size_t>(t)];
      const Emitted& e = got[static_cast<std::size_t>(i)][static_cast<std::size_t>(t)];
      const bool ended =
          s.term[static_cast<std::size_t>(i)] || s.trunc[static_cast<std::size_t>(i)];
      EXPECT_EQ(e.next[0], ended ? s.fin[2 * i] : s.next[2 * i]);
      EXPECT_EQ(e.done, s.term[static_cast<std::size_t>(i)]);
      EXPECT_EQ(e.ret, s.rew[static_cast<std::size_t>(i)]);
      EXPECT_EQ(e.steps, 1);
    }
  }
}

// The step count reaches the learner: a buffer stores it in the done byte and the batch
// carries dones and steps apart.
TEST(NStep, StepsSurviveTheReplayBuffer) {
  constexpr int kEnvs = 4, kT = 60, kN = 3;
  const Trajectories tr = random_steps(kEnvs, kT, 11);
  UniformReplayBuffer rb(Device::cpu(), 4096, kObs, 1);
  std::map<std::pair<float, float>, Emitted> by_obs;  // the reference, by start obs
  for (const auto& env : reference(tr, kEnvs, kN, 0.5f)) {
    for (const Emitted& e : env) by_obs[{e.obs[0], e.obs[1]}] = e;
  }
  NStepWriter w(Device::cpu(), kEnvs, kN, 0.5, kObs, 1);
  for (int t = 0; t < kT; ++t) {
    const HostStep& s = tr.steps[static_cast<std::size_t>(t)];
    Transitions in;
    in.rows = kEnvs;
    in.obs = s.obs.data();
    in.actions = s.act.data();
    in.rewards = s.rew.data();
    in.next_obs = s.next.data();
    in.final_obs = s.fin.data();
    in.terminated = s.term.data();
    in.truncated = s.trunc.data();
    const Transitions o = w.push(in);
    if (o.rows > 0) rb.add(o);
  }
  ASSERT_EQ(rb.size(), kEnvs * (kT - kN + 1));
  ReplayBatch b;
  rb.sample(256, 1, 1, b);
  const auto obs = b.obs.to_host(), dones = b.dones.to_host(), steps = b.steps.to_host(),
             rew = b.rewards.to_host();
  int multi = 0;
  for (int k = 0; k < 256; ++k) {
    const auto it = by_obs.find({obs[2 * k], obs[2 * k + 1]});
    ASSERT_NE(it, by_obs.end());
    EXPECT_EQ(dones[static_cast<std::size_t>(k)], static_cast<float>(it->second.done));
    EXPECT_EQ(steps[static_cast<std::size_t>(k)], static_cast<float>(it->second.steps));
    EXPECT_EQ(rew[static_cast<std::size_t>(k)], it->second.ret);
    multi += it->second.steps > 1;
  }
  EXPECT_GT(multi, 0);
}

TEST(NStep, CheckpointContinuesExactly) {
  constexpr int kEnvs = 5, kT = 80, kN = 4;
  const Trajectories tr = random_steps(kEnvs, kT, 17);
  NStepWriter straight(Device::cpu(), kEnvs, kN, 0.97, kObs, 1);
  const auto want = run_writer(straight, Device::cpu(), tr, kEnvs);
  NStepWriter first(Device::cpu(), kEnvs, kN, 0.97, kObs, 1);
  std::vector<std::vector<Emitted>> got(kEnvs);
  run_writer(first, Device::cpu(), tr, kEnvs, 0, 33, &got);
  const std::string state = first.save_state();
  NStepWriter second(Device::cpu(), kEnvs, kN, 0.97, kObs, 1);
  second.load_state(state);
  EXPECT_EQ(second.pushes(), 33);
  run_writer(second, Device::cpu(), tr, kEnvs, 33, kT, &got);
  for (int i = 0; i < kEnvs; ++i) {
    ASSERT_EQ(got[static_cast<std::size_t>(i)].size(), want[static_cast<std::size_t>(i)].size());
    for (std::size_t k = 0; k < want[static_cast<std::size_t>(i)].size(); ++k) {
      EXPECT_EQ(got[static_cast<std::size_t>(i)][k].ret, want[static_cast<std::size_t>(i)][k].ret);
      EXPECT_EQ(got[static_cast<std::size_t>(i)][k].next,
                want[static_cast<std::size_t>(i)][k].next);
    }
  }
  // another shape is refused before anything changes
  NStepWriter other(Device::cpu(), kEnvs, kN + 1, 0.97, kObs, 1);
  EXPECT_THROW(other.load_state(state), Error);
  EXPECT_EQ(other.pushes(), 0);
  EXPECT_THROW(second.load_state("garbage"), Error);
}

TEST(NStep, BadSettingsNameTheValue) {
  const auto message = [](auto f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message([] { NStepWriter(Device::cpu(), 2, 0, 0.9, 2, 1); }).find("n_step = 0"),
            std::string::npos);
  EXPECT_NE(message([] { NStepWriter(Device::cpu(), 2, 65, 0.9, 2, 1); }).find("1..64"),
            std::string::npos);
  EXPECT_NE(message([] { NStepWriter(Device::cpu(), 2, 3, 1.5, 2, 1); }).find("gamma"),
            std::string::npos);
  NStepWriter w(Device::cpu(), 2, 3, 0.9, 2, 1);
  Transitions t;
  t.rows = 3;
  EXPECT_NE(message([&] { w.push(t); }).find("3 rows given"), std::string::npos);
}

TEST(NStepCuda, MatchesTheCpu) {
  CONVOY_DEVICE_OR_SKIP(gpu, "cuda");
  constexpr int kEnvs = 33, kT = 120, kN = 5;
  const Trajectories tr = random_steps(kEnvs, kT, 23);
  NStepWriter c(Device::cpu(), kEnvs, kN, 0.9, kObs, 1), g(gpu, kEnvs, kN, 0.9, kObs, 1);
  const auto want = run_writer(c, Device::cpu(), tr, kEnvs);
  const auto got = run_writer(g, gpu, tr, kEnvs);
  expect_prefix(got, want, kT, kN);
}

}  // namespace
}  // namespace convoy
