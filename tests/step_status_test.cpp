// The step's device-side checks (sim/step_status.h): invalid actions found without a host wait
// leave the env exactly as it was, through later steps too, until check_steps() reports them
// with the message the CPU gives at once. Run on the CPU with deferred checks forced, so the
// path every CUDA step takes is tested here; on a GPU the same checks run on CUDA, and a step
// must issue no allocation and at most one host synchronisation (the counters of sim/device.h).
#include "sim/step_status.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "sim/array.h"
#include "sim/autoreset.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

// Envs made inside the scope validate on the device's path (CPU) or the CPU's (default).
struct DeferredScope {
  explicit DeferredScope(bool on) : was(deferred_checks_requested()) { set_deferred_checks(on); }
  ~DeferredScope() { set_deferred_checks(was); }
  bool was;
};

struct Case {
  std::string env;
  std::vector<std::string> cfg;
};

// One env per step path of the engine: the fused CPU block step (CartPole, Box actions in
// Pendulum), per-vehicle stages (step_batch), per-ray observation (staged), multi-agent.
std::vector<Case> cases() {
  return {{"CartPole-v1", {}},
          {"Pendulum-v1", {}},
          {"HighwayFast-v0", {"kernels=vehicle"}},
          {"HighwayFast-v0", {"action_type=continuous"}},
          {"DiffDriveNav-v0", {"kernels=ray"}},
          {"Intersection-v0", {"kernels=vehicle"}}};
}

std::unique_ptr<VecEnv> make(const Case& c, const Device& d, std::int64_t n, bool deferred) {
  const DeferredScope scope(deferred);
  return env_registry().make(c.env, d, n, Config::parse(c.cfg));
}

// Every output buffer and the engine's snapshot, as bytes.
std::string everything(const VecEnv& env) {
  std::string s = env.save_state();
  auto add = [&s](const auto& a) {
    const auto h = a.to_host();
    s.append(reinterpret_cast<const char*>(h.data()), h.size() * sizeof(h[0]));
  };
  add(env.obs());
  add(env.reward());
  add(env.terminated());
  add(env.truncated());
  add(env.final_obs());
  return s;
}

// Valid actions of step t, and the same with one element made invalid.
std::vector<std::uint32_t> actions(VecEnv& env, std::uint64_t t) {
  DeviceArray<std::uint32_t> a(env.device(), env.num_envs() * env.act_dim());
  env.sample_actions(99, t, a.data());
  return a.to_host();
}
std::vector<std::uint32_t> spoiled(const VecEnv& env, std::vector<std::uint32_t> a) {
  const std::size_t k = a.size() / 2 + (env.act_dim() > 1 ? 1 : 0);
  if (env.discrete_actions()) {
    const auto bad = static_cast<std::int32_t>(env.spec().action_space.n + 3);
    std::memcpy(&a[k], &bad, sizeof(bad));
  } else {
    const float bad = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(&a[k], &bad, sizeof(bad));
  }
  // a second bad element later: the first one is named
  if (k + 2 < a.size()) a[k + 2] = env.discrete_actions() ? 0x7fffffffu : 0x7f800000u;
  return a;
}

std::string error_of(const std::function<void()>& f) { return test::error_message(f); }

// Where two envs' bytes differ ("same" when they do not), without printing megabytes.
std::string diff(const VecEnv& a, const VecEnv& b) {
  const std::string x = everything(a), y = everything(b);
  if (x == y) return "same";
  std::size_t i = 0;
  while (i < x.size() && i < y.size() && x[i] == y[i]) ++i;
  return "differ at byte " + std::to_string(i) + " of " + std::to_string(x.size()) + "/" +
         std::to_string(y.size());
}

class StepStatusOnCpu : public ::testing::TestWithParam<Case> {};

TEST_P(StepStatusOnCpu, DeferredChecksLeaveTheEnvAsTheCpuChecksDo) {
  const Case c = GetParam();
  const Device cpu = Device::cpu();
  const std::int64_t n = 96;
  auto host = make(c, cpu, n, false);  // validates on the host, throws at once
  auto dev = make(c, cpu, n, true);    // validates as CUDA does
  host->reset(7);
  dev->reset(7);
  DeviceArray<std::uint32_t> a(cpu, n * host->act_dim());
  auto step_both = [&](std::uint64_t t) {
    a.copy_from_host(actions(*host, t));
    host->step_raw(a.data());
    dev->step_raw(a.data());
    dev->check_steps();
  };
  for (std::uint64_t t = 0; t < 5; ++t) step_both(t);
  ASSERT_EQ(diff(*host, *dev), "same") << c.env;

  // a bad step: the host refuses it at once, the deferred env records it and stays gated
  a.copy_from_host(spoiled(*host, actions(*host, 5)));
  const std::string want = error_of([&] { host->step_raw(a.data()); });
  ASSERT_NE(want, "(no error)");
  EXPECT_EQ(error_of([&] { dev->step_raw(a.data()); }), "(no error)");
  a.copy_from_host(actions(*host, 6));  // later valid steps are skipped too
  dev->step_raw(a.data());
  dev->step_raw(a.data());
  EXPECT_EQ(error_of([&] { dev->check_steps(); }), want);
  EXPECT_EQ(diff(*host, *dev), "same") << c.env;
  EXPECT_EQ(error_of([&] { dev->check_steps(); }), "(no error)");  // reported once

  // the same through step_compose, which reports at once
  DeviceArray<std::uint8_t> done(cpu, n);
  DeviceArray<double> ret(cpu, n);
  DeviceArray<std::int32_t> len(cpu, n);
  const StepOutputs out{nullptr, done.data(), ret.data(), len.data()};
  a.copy_from_host(spoiled(*host, actions(*host, 7)));
  const std::string want2 = error_of([&] { host->step_compose(a.data(), nullptr, out); });
  EXPECT_EQ(error_of([&] { dev->step_compose(a.data(), nullptr, out); }), want2);
  EXPECT_EQ(diff(*host, *dev), "same") << c.env;

  // and both go on alike, counting the same ended episodes
  for (std::uint64_t t = 8; t < 60; ++t) {
    a.copy_from_host(actions(*host, t));
    const std::int64_t h = host->step_compose(a.data(), nullptr, out);
    const std::int64_t d = dev->step_compose(a.data(), nullptr, out);
    ASSERT_EQ(h, d) << c.env << " step " << t;
  }
  EXPECT_EQ(diff(*host, *dev), "same") << c.env;
}

INSTANTIATE_TEST_SUITE_P(Paths, StepStatusOnCpu, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string s = i.param.env + std::to_string(i.index);
                           for (char& ch : s) {
                             if (ch == '-') ch = '_';
                           }
                           return s;
                         });

class StepCounts : public ::testing::TestWithParam<std::string> {};

// On CUDA a step allocates nothing and waits on the device at most once (none for step_raw,
// whose caller needs no host answer). On the CPU nothing reaches the CUDA wrappers at all.
TEST_P(StepCounts, NoAllocationAndAtMostOneHostWaitPerStep) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  for (const Case& c : cases()) {
    auto env = env_registry().make(c.env, device, 256, Config::parse(c.cfg));
    env->reset(1);
    const std::int64_t n = env->num_envs();
    DeviceArray<std::uint32_t> a(device, n * env->act_dim());
    DeviceArray<std::uint8_t> done(device, n);
    DeviceArray<double> ret(device, n);
    DeviceArray<std::int32_t> len(device, n);
    const StepOutputs out{nullptr, done.data(), ret.data(), len.data()};
    for (int t = 0; t < 3; ++t) {  // first use of any lazily sized scratch
      env->sample_actions(3, t, a.data());
      env->step_compose(a.data(), nullptr, out);
    }
    const CudaCallCounts before = cuda_call_counts();
    const int steps = 10;
    for (int t = 0; t < steps; ++t) {
      env->sample_actions(3, 100 + t, a.data());
      env->step_compose(a.data(), nullptr, out);
    }
    const CudaCallCounts mid = cuda_call_counts();
    for (int t = 0; t < steps; ++t) {
      env->sample_actions(3, 200 + t, a.data());
      env->step_raw(a.data());
    }
    const CudaCallCounts raw = cuda_call_counts();
    env->check_steps();
    const CudaCallCounts after = cuda_call_counts();
    EXPECT_EQ(mid.allocations, before.allocations) << c.env;
    EXPECT_LE(mid.host_syncs - before.host_syncs, static_cast<std::uint64_t>(steps)) << c.env;
    EXPECT_EQ(raw.allocations, mid.allocations) << c.env;
    EXPECT_EQ(raw.host_syncs, mid.host_syncs) << c.env;
    EXPECT_LE(after.host_syncs - raw.host_syncs, 1u) << c.env;
    if (device.is_cpu()) {
      EXPECT_EQ(after.allocations, 0u);
      EXPECT_EQ(after.host_syncs, 0u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StepCounts, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace convoy
