// Golden digests: bit-identity enforced, not claimed. Each case runs a fixed, seeded workload on
// the CPU and hashes (FNV-1a 64) every byte it defines; the hash must equal the one stored
// below, at 1 OpenMP thread and at 2. Env cases: every registered env with its defaults and the
// settings with code paths of their own (action types, observations, per-vehicle and per-ray
// kernels, autopilots, domain randomisation, multi-agent rows), stepped with the env's own random
// actions through step_raw and step_compose, with and without skip masks, across auto-resets and
// a reseed. Learner cases: PPO (discrete, continuous, normalisers) and SAC after a few updates:
// parameters, Adam moments and normaliser statistics.
//
// A digest changes only with a stated reason in the commit body. To regenerate, run
//   CONVOY_PRINT_DIGESTS=1 build/tests/convoy_tests --gtest_filter='*GoldenDigest*'
// and paste the printed lines over kDigests (cases print in table order and do not fail).
#include <gtest/gtest.h>
#include <omp.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "envs/classic/cartpole.h"
#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "rl/ppo.h"
#include "rl/sac.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/device.h"
#include "sim/parallel.h"
#include "sim/vec_env.h"

#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

namespace convoy {
namespace {

// The stored digests, by case name (EnvCase::name and learner_cases below make the names).
struct Golden {
  const char* name;
  std::uint64_t digest;
};
const Golden kDigests[] = {
    // clang-format off
    {"CartPole-v1", 0x6701a3b6d5273f98ull},
    {"CartPole-v1 sutton_barto_reward=true", 0xa8e0bfb10f68e59aull},
    {"Pendulum-v1", 0xbc369b01766cca8full},
    {"Pendulum-v1 max_episode_steps=40", 0x0ddaa7968284e89aull},
    {"MountainCarContinuous-v0", 0x1629568ebddda730ull},
    {"MountainCarContinuous-v0 max_episode_steps=60 goal_velocity=0.02", 0x089f923b3597a21cull},
    {"Acrobot-v1", 0x6022bf132268fae6ull},
    {"Acrobot-v1 max_episode_steps=40", 0x6b2e09c9696bd197ull},
    {"Highway-v0", 0xcfa1880889840cb3ull},
    {"HighwayFast-v0", 0xac4bc163a9dea5fcull},
    {"HighwayFast-v0 action_type=continuous", 0xd498508b25b2ea80ull},
    {"HighwayFast-v0 observation=lidar", 0x6cd26013b7072c84ull},
    {"HighwayFast-v0 observation=lidar obs_kernels=ray", 0x6cd26013b7072c84ull},
    {"HighwayFast-v0 kernels=vehicle", 0xac4bc163a9dea5fcull},
    {"HighwayFast-v0 kernels=vehicle action_type=continuous obs_kernels=ray", 0x72aa46c5e99e886eull},
    {"HighwayFast-v0 ego_policy=autopilot", 0xf3ffa89147702eb0ull},
    {"HighwayFast-v0 randomised", 0x8f2728edca4da893ull},
    {"HighwayFast-v0 kernels=vehicle randomised IDM", 0x8a92a2869c4b4c9full},
    {"Merge-v0", 0xa5ca891bcf6b4c7bull},
    {"Merge-v0 action_type=continuous", 0xa32ffa4e172fe63aull},
    {"Merge-v0 observation=lidar", 0x667f5d1909150a9dull},
    {"Merge-v0 observation=lidar obs_kernels=ray", 0x667f5d1909150a9dull},
    {"Merge-v0 kernels=vehicle", 0xa5ca891bcf6b4c7bull},
    {"Merge-v0 ego_policy=autopilot", 0xa27cde62e2383b6full},
    {"Parking-v0", 0x83c3a08ee172ec7aull},
    {"Parking-v0 vehicles=10 length_low=4 length_high=6 width_low=1.6 width_high=2.2", 0xe9898c9aa37f6d5bull},
    {"Parking-v0 ego_policy=autopilot vehicles=10", 0x3fae31b08787873aull},
    {"Racetrack-v0", 0xb420a52fb7db3a65ull},
    {"Racetrack-v0 action=accel_steer", 0x3d201751cb1a5638ull},
    {"Racetrack-v0 model=ks", 0x1a050bc72db192acull},
    {"Racetrack-v0 tyres=pacejka", 0x60d971de64ef16bbull},
    {"Racetrack-v0 kernels=ray", 0xb420a52fb7db3a65ull},
    {"Racetrack-v0 ego_policy=autopilot other_vehicles=3", 0x58d7e12d36ab21cfull},
    {"Racetrack-v0 lidar_fov=180 randomised", 0xb43e23f1e64e0a5full},
    {"Intersection-v0", 0x159e7c56725b6688ull},
    {"Intersection-v0 action_type=continuous", 0xedf4c238c56a287cull},
    {"Intersection-v0 kernels=vehicle", 0x159e7c56725b6688ull},
    {"Intersection-v0 agents_per_env=4", 0x4c946c83959667d0ull},
    {"Intersection-v0 agents_per_env=4 kernels=vehicle destination=random", 0x97d18714c59fe7bcull},
    {"Intersection-v0 ego_policy=autopilot", 0x11a215049e9dc175ull},
    {"Intersection-v0 randomised", 0x35d6e1039dee1bcfull},
    {"DiffDriveNav-v0", 0x71cf7a431be018c0ull},
    {"DiffDriveNav-v0 kernels=ray", 0x71cf7a431be018c0ull},
    {"DiffDriveNav-v0 ego_policy=autopilot", 0xce6de3629585845eull},
    {"DiffDriveNav-v0 max_episode_steps=25 obstacles_min=0 obstacles_max=12 fov=3.14", 0x04398862d8749d8dull},
    {"PointNav-v0", 0x889cf09304d5122full},
    {"PPO CartPole-v1", 0x8ba19225a388d5a9ull},
    {"PPO Pendulum-v1 norm_obs norm_reward target_kl", 0xd03da396c078496bull},
    {"PPO HighwayFast-v0 action_type=continuous", 0xa630458a6967271cull},
    {"SAC Pendulum-v1", 0x856c6b40db841f16ull},
    {"SAC HighwayFast-v0 action_type=continuous", 0x92b69bdea2b08aedull},
    // clang-format on
};

// Envs per run: more than kMinParallel (the 2-thread run forks) and than one compose block
// (kComposeBlock: the fused CPU step splits across threads by blocks), with a ragged last block
// and a ragged last group of CartPole's 4 SIMD lanes. Multi-agent rows round up to whole scenes.
constexpr std::int64_t kEnvs = 299;
static_assert(kEnvs > LaunchPolicy::kMinParallel && kEnvs > kComposeBlock,
              "the 2-thread runs must go parallel");
constexpr int kThreads[] = {1, 2};

// FNV-1a 64 over raw bytes (-0 and +0, NaN payloads all count).
class Fnv1a {
 public:
  void bytes(const void* data, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(data);
    for (std::size_t k = 0; k < n; ++k) h_ = (h_ ^ b[k]) * 0x100000001b3ull;
  }
  template <class T>
  void value(const T& v) {
    bytes(&v, sizeof v);
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    value(v.size());
    bytes(v.data(), v.size() * sizeof(T));
  }
  template <class T>
  void array(const DeviceArray<T>& a) {
    vec(a.to_host());
  }
  std::uint64_t digest() const { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ull;
};

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016llxull", static_cast<unsigned long long>(v));
  return buf;
}

// Where kDigests were recorded. Other platforms round differently (aarch64's g++ fuses a * b + c,
// another libm's sin or exp differs in the last bit), so elsewhere the cases skip.
constexpr const char* kRecordedOn = "x86-64, Debian 12: glibc 2.36, g++ 12.2 and nvcc 13.0";
#if defined(__x86_64__)
constexpr bool kRecordedPlatform = true;
#else
constexpr bool kRecordedPlatform = false;
#endif

std::string libc_version() {
#if defined(__GLIBC__)
  return std::string("glibc ") + gnu_get_libc_version();
#else
  return "not glibc";
#endif
}

bool print_mode() {
  const char* v = std::getenv("CONVOY_PRINT_DIGESTS");
  return v != nullptr && std::string(v) == "1";
}

// Why the stored digests of a case on `env` cannot hold here, or empty (always empty in print
// mode).
std::string skip_reason(const std::string& env) {
  if (print_mode()) return "";
  if (!kRecordedPlatform) return std::string("digests recorded on ") + kRecordedOn;
  if (env == "CartPole-v1" && !envs::CartPole::vector_step_available()) {
    return "CartPole-v1's digests are of its AVX2 block step (libmvec's sin and cos); this CPU "
           "or build steps it with the scalar ones";
  }
  return "";
}

// Runs `run` at each of kThreads and checks every digest against the stored one for `name`
// (or, in print mode, prints the table line).
template <class F>
void check_digest(const std::string& name, F run) {
  std::vector<std::uint64_t> got;
  for (const int threads : kThreads) {
    set_cpu_threads(threads);
    got.push_back(run());
  }
  set_cpu_threads(0);
  for (std::size_t k = 1; k < got.size(); ++k) {
    EXPECT_EQ(hex(got[k]), hex(got[0]))
        << name << ": " << hex(got[k]) << " at " << kThreads[k] << " threads but " << hex(got[0])
        << " at " << kThreads[0] << ": results must not depend on the thread count";
  }
  if (print_mode()) {
    std::printf("    {\"%s\", %s},\n", name.c_str(), hex(got[0]).c_str());
    return;
  }
  const Golden* stored = nullptr;
  for (const Golden& g : kDigests) {
    if (name == g.name) stored = &g;
  }
  ASSERT_NE(stored, nullptr) << "no golden digest for \"" << name
                             << "\": run with CONVOY_PRINT_DIGESTS=1 and add its line to kDigests";
  for (std::size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(hex(got[k]), hex(stored->digest))
        << "golden digest of \"" << name << "\" changed at " << kThreads[k] << " thread(s): got "
        << hex(got[k]) << ", stored " << hex(stored->digest)
        << ". A digest changes only with a stated reason in the commit body (then regenerate "
           "with CONVOY_PRINT_DIGESTS=1, tests/golden_digest_test.cpp says how). Recorded on "
        << kRecordedOn << "; this run's libc: " << libc_version();
  }
}

// ---- envs ----------------------------------------------------------------------------------

struct EnvCase {
  std::string env;
  std::string label;                // the name's tail instead of the settings (long ones)
  std::vector<std::string> config;  // key=value
  int steps = 0;

  std::string name() const {
    std::string s = env;
    if (!label.empty()) return s + " " + label;
    for (const std::string& kv : config) s += " " + kv;
    return s;
  }
};
void PrintTo(const EnvCase& c, std::ostream* os) { *os << c.name(); }

// Steps per run: 200, fewer for the envs that cost most per step (each case runs twice).
int default_steps(const std::string& env) {
  if (env == "Intersection-v0" || env == "Racetrack-v0") return 48;
  if (env == "HighwayFast-v0" || env == "Merge-v0") return 64;
  if (env == "Highway-v0") return 24;  // 51 vehicles, 15 frames a step
  if (env == "DiffDriveNav-v0" || env == "Parking-v0") return 64;
  return 200;
}

// The settings with code paths of their own, per env (docs/envs.md); steps are set by the env.
const std::vector<EnvCase>& variants() {
  static const std::vector<EnvCase> v = {
      {"CartPole-v1", "", {"sutton_barto_reward=true"}},
      {"Pendulum-v1", "", {"max_episode_steps=40"}},
      {"MountainCarContinuous-v0", "", {"max_episode_steps=60", "goal_velocity=0.02"}},
      {"Acrobot-v1", "", {"max_episode_steps=40"}},
      {"HighwayFast-v0", "", {"action_type=continuous"}},
      {"HighwayFast-v0", "", {"observation=lidar"}},
      {"HighwayFast-v0", "", {"observation=lidar", "obs_kernels=ray"}},
      {"HighwayFast-v0", "", {"kernels=vehicle"}},
      {"HighwayFast-v0",
       "kernels=vehicle action_type=continuous obs_kernels=ray",
       {"kernels=vehicle", "action_type=continuous", "observation=lidar", "obs_kernels=ray"}},
      {"HighwayFast-v0", "", {"ego_policy=autopilot"}},
      {"HighwayFast-v0",
       "randomised",
       {"vehicles_density_low=0.5", "vehicles_density_high=2", "idm_time_headway_low=1",
        "idm_time_headway_high=2", "idm_distance_low=6", "idm_distance_high=14", "idm_acc_low=2",
        "idm_acc_high=4", "vehicle_length_low=4", "vehicle_length_high=7", "vehicle_width_low=1.6",
        "vehicle_width_high=2.6"}},
      {"HighwayFast-v0",
       "kernels=vehicle randomised IDM",
       {"kernels=vehicle", "idm_time_headway_low=1", "idm_time_headway_high=2",
        "idm_distance_low=6", "idm_distance_high=14", "idm_acc_low=2", "idm_acc_high=4"}},
      {"Merge-v0", "", {"action_type=continuous"}},
      {"Merge-v0", "", {"observation=lidar"}},
      {"Merge-v0", "", {"observation=lidar", "obs_kernels=ray"}},
      {"Merge-v0", "", {"kernels=vehicle"}},
      {"Merge-v0", "", {"ego_policy=autopilot"}},
      {"Parking-v0",
       "",
       {"vehicles=10", "length_low=4", "length_high=6", "width_low=1.6", "width_high=2.2"}},
      {"Parking-v0", "", {"ego_policy=autopilot", "vehicles=10"}},
      {"Racetrack-v0", "", {"action=accel_steer"}},
      {"Racetrack-v0", "", {"model=ks"}},
      {"Racetrack-v0", "", {"tyres=pacejka"}},
      {"Racetrack-v0", "", {"kernels=ray"}},
      {"Racetrack-v0", "", {"ego_policy=autopilot", "other_vehicles=3"}},
      {"Racetrack-v0",
       "lidar_fov=180 randomised",
       {"lidar_fov=180", "n_rays=9", "friction_min=0.6", "friction_max=1", "length_min=0.4",
        "length_max=0.8", "width_min=0.25", "width_max=0.4", "other_vehicles=2"}},
      {"Intersection-v0", "", {"action_type=continuous"}},
      {"Intersection-v0", "", {"kernels=vehicle"}},
      {"Intersection-v0", "", {"agents_per_env=4"}},
      {"Intersection-v0", "", {"agents_per_env=4", "kernels=vehicle", "destination=random"}},
      {"Intersection-v0", "", {"ego_policy=autopilot"}},
      {"Intersection-v0",
       "randomised",
       {"spawn_probability_range=0.3", "idm_delta_low=3.5", "idm_delta_high=4.5",
        "idm_time_gap_low=1", "idm_time_gap_high=2"}},
      {"DiffDriveNav-v0", "", {"kernels=ray"}},
      {"DiffDriveNav-v0", "", {"ego_policy=autopilot"}},
      {"DiffDriveNav-v0",
       "",
       {"max_episode_steps=25", "obstacles_min=0", "obstacles_max=12", "fov=3.14"}},
  };
  return v;
}

// Every registered env with its defaults, then the variants, in registry order.
std::vector<EnvCase> env_cases() {
  std::vector<EnvCase> out;
  for (const std::string& env : env_registry().names()) {
    out.push_back({env, "", {}, default_steps(env)});
    for (EnvCase c : variants()) {
      if (c.env != env) continue;
      c.steps = default_steps(env);
      out.push_back(c);
    }
  }
  return out;
}

// The run: reset(seed), then steps cycling through step_raw, step_compose (SAME_STEP),
// step_raw with a skip mask and step_compose with the previous step's done as the mask
// (Gymnasium's NEXT_STEP), a per-env reseed halfway. Hashed: what each returns and the engine's
// buffers where the contract defines them (final obs, return, length and outcome only where an
// episode ended).
std::uint64_t env_digest(const EnvCase& c) {
  const Device cpu = Device::cpu();
  const int agents = env_registry().make(c.env, cpu, 4, Config::parse(c.config))->agents_per_env();
  const std::int64_t n = (kEnvs + agents - 1) / agents * agents;
  auto env = env_registry().make(c.env, cpu, n, Config::parse(c.config));
  const std::int64_t obs_dim = env->obs_dim();
  DeviceArray<std::int32_t> ai(cpu, n * env->act_dim());
  DeviceArray<float> af(cpu, n * env->act_dim());
  void* a = env->discrete_actions() ? static_cast<void*>(ai.data()) : static_cast<void*>(af.data());
  DeviceArray<std::uint8_t> skip(cpu, n), done(cpu, n);
  DeviceArray<float> obs_out(cpu, n * obs_dim);
  DeviceArray<double> ret(cpu, n);
  DeviceArray<std::int32_t> len(cpu, n);
  Fnv1a h;
  env->reset(7);
  h.array(env->obs());
  for (int t = 0; t < c.steps; ++t) {
    if (t == c.steps / 2) {
      std::vector<std::uint64_t> seeds(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) seeds[i] = 1000 + 3 * static_cast<std::uint64_t>(i);
      env->reset(seeds);
      h.array(env->obs());
    }
    env->sample_actions(11, static_cast<std::uint64_t>(t), a);
    // SAME_STEP composes without obs_out, NEXT_STEP with it
    const StepOutputs out{t % 4 == 3 ? obs_out.data() : nullptr, done.data(), ret.data(),
                          len.data()};
    switch (t % 4) {
      case 0:
        env->step_raw(a);
        break;
      case 1:
      case 3: {
        // at 3, done still holds step t - 1's: the NEXT_STEP mask
        const std::int64_t ended = env->step_compose(a, t % 4 == 3 ? done.data() : nullptr, out);
        h.value(ended);
        if (out.obs_out) h.array(obs_out);
        h.array(done);
        h.array(ret);
        h.array(len);
        break;
      }
      case 2: {
        // whole scenes skipped (a multi-agent scene is skipped by its first row)
        std::uint8_t* s = skip.data();
        for (std::int64_t i = 0; i < n; ++i) s[i] = (i / agents + t) % 7 == 0;
        env->step_raw(a, skip.data());
        break;
      }
    }
    h.array(env->obs());
    h.array(env->reward());
    h.array(env->terminated());
    h.array(env->truncated());
    h.array(env->episode_return());
    h.array(env->episode_length());
    const auto term = env->terminated().to_host(), trunc = env->truncated().to_host();
    const auto final_obs = env->final_obs().to_host();
    const auto final_ret = env->final_episode_return().to_host();
    const auto final_len = env->final_episode_length().to_host();
    const auto outcome = env->final_outcome().to_host();
    std::uint8_t* d = done.data();
    for (std::int64_t i = 0; i < n; ++i) {
      d[i] = static_cast<std::uint8_t>(term[i] | trunc[i]);
      if (!d[i]) continue;
      h.value(i);
      h.bytes(final_obs.data() + i * obs_dim, sizeof(float) * static_cast<std::size_t>(obs_dim));
      h.value(final_ret[i]);
      h.value(final_len[i]);
      h.value(outcome[i]);
    }
  }
  return h.digest();
}

class GoldenDigestEnv : public ::testing::TestWithParam<EnvCase> {};

TEST_P(GoldenDigestEnv, MatchesTheStoredDigest) {
  const EnvCase& c = GetParam();
  const std::string skip = skip_reason(c.env);
  if (!skip.empty()) GTEST_SKIP() << skip;
  check_digest(c.name(), [&] { return env_digest(c); });
}

std::string test_name(const std::string& case_name) {
  std::string s;
  for (const char ch : case_name) {
    s += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Envs, GoldenDigestEnv, ::testing::ValuesIn(env_cases()),
                         [](const auto& info) { return test_name(info.param.name()); });

// ---- learners ------------------------------------------------------------------------------

// What a learner carries between updates, from its checkpoint (the numbers, not the format):
// parameters, Adam's moments and step count, normaliser statistics; and its env's last obs.
std::uint64_t learner_digest(const rl::Checkpoint& c, const VecEnv& env) {
  Fnv1a h;
  h.value(c.global_step);
  h.value(c.iteration);
  h.vec(c.params);
  h.vec(c.adam_m);
  h.vec(c.adam_v);
  h.value(c.adam_steps);
  for (const rl::RunningMeanStd* s : {&c.obs_rms, &c.return_rms}) {
    h.vec(s->mean);
    h.vec(s->var);
    h.value(s->count);
  }
  h.vec(c.discounted_returns);
  h.array(env.obs());
  return h.digest();
}

struct LearnerCase {
  std::string name;
  std::string algo;  // ppo, sac
  std::string env;
  std::vector<std::string> env_config;
  std::vector<std::string> learner_config;  // key=value, as presets and `convoy train` take
  int rounds;                               // PPO: iterations; SAC: train() vector steps
};
void PrintTo(const LearnerCase& c, std::ostream* os) { *os << c.name; }

std::vector<LearnerCase> learner_cases() {
  // small networks and batches, so that each case takes a second or less; enough envs that the
  // env steps go parallel at 2 threads (SAC's cpu_threads=0 keeps the run's thread count: its
  // default, 1, would run both at one)
  const std::vector<std::string> ppo = {"num_envs=64",     "num_steps=16",   "num_minibatches=4",
                                        "update_epochs=2", "hidden_size=32", "total_timesteps=4096",
                                        "seed=3"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::vector<std::string> sac = {"num_envs=64",         "hidden_size=32",   "batch_size=64",
                                        "learning_starts=256", "buffer_size=4096", "seed=3",
                                        "cpu_threads=0"};
  return {
      {"PPO CartPole-v1", "ppo", "CartPole-v1", {}, ppo, 3},
      {"PPO Pendulum-v1 norm_obs norm_reward target_kl",
       "ppo",
       "Pendulum-v1",
       {"max_episode_steps=40"},
       with(ppo, {"norm_obs=true", "norm_reward=true", "target_kl=0.01", "anneal_clip=true"}),
       3},
      {"PPO HighwayFast-v0 action_type=continuous",
       "ppo",
       "HighwayFast-v0",
       {"action_type=continuous"},
       with(ppo, {"clip_vloss=false", "norm_adv=false"}),
       2},
      {"SAC Pendulum-v1", "sac", "Pendulum-v1", {}, sac, 24},
      {"SAC HighwayFast-v0 action_type=continuous",
       "sac",
       "HighwayFast-v0",
       {"action_type=continuous"},
       with(sac, {"autotune=false", "policy_frequency=1", "target_network_frequency=2"}),
       12},
  };
}

std::uint64_t run_learner(const LearnerCase& c) {
  const Config learner = Config::parse(c.learner_config);
  if (c.algo == "ppo") {
    const rl::PpoConfig cfg = rl::PpoConfig::from_config(learner);
    auto env = env_registry().make(c.env, Device::cpu(), cfg.num_envs, Config::parse(c.env_config));
    rl::Ppo ppo(*env, cfg);
    for (int i = 0; i < c.rounds; ++i) ppo.iterate();
    return learner_digest(ppo.make_checkpoint(), *env);
  }
  const rl::SacConfig cfg = rl::SacConfig::from_config(learner);
  auto env = env_registry().make(c.env, Device::cpu(), cfg.num_envs, Config::parse(c.env_config));
  rl::Sac sac(*env, cfg);
  // the random warm-up, then c.rounds steps of updates
  sac.train(cfg.learning_starts / cfg.num_envs + c.rounds);
  return learner_digest(sac.make_checkpoint(), *env);
}

class GoldenDigestLearner : public ::testing::TestWithParam<LearnerCase> {};

TEST_P(GoldenDigestLearner, MatchesTheStoredDigest) {
  const LearnerCase& c = GetParam();
  const std::string skip = skip_reason(c.env);
  if (!skip.empty()) GTEST_SKIP() << skip;
  check_digest(c.name, [&] { return run_learner(c); });
}

INSTANTIATE_TEST_SUITE_P(Learners, GoldenDigestLearner, ::testing::ValuesIn(learner_cases()),
                         [](const auto& info) { return test_name(info.param.name); });

// ---- the table itself ----------------------------------------------------------------------

// Every stored digest belongs to a case that runs (none is left behind when a case is renamed
// or dropped), and no two cases share a name.
TEST(GoldenDigest, EveryStoredDigestHasACase) {
  std::set<std::string> names;
  for (const EnvCase& c : env_cases()) EXPECT_TRUE(names.insert(c.name()).second) << c.name();
  for (const LearnerCase& c : learner_cases()) EXPECT_TRUE(names.insert(c.name).second) << c.name;
  std::set<std::string> stored;
  for (const Golden& g : kDigests) {
    EXPECT_TRUE(stored.insert(g.name).second) << "stored twice: " << g.name;
    EXPECT_TRUE(names.count(g.name)) << "a stored digest without a case: " << g.name;
  }
}

// The premise of the 2-thread runs: at kEnvs envs, the engine's loops split across 2 threads.
TEST(GoldenDigest, TwoThreadRunsGoParallel) {
  set_cpu_threads(2);
  std::vector<int> by_index(kEnvs, -1), by_block(kEnvs, -1);
  int* const bi = by_index.data();
  int* const bb = by_block.data();
  // blocks of one index: for_each_index's OpenMP loop (a g++ file may not instantiate a launch
  // in a CUDA-enabled build, sim/parallel.h)
  for_each_block_cpu(kEnvs, 1, [=](std::int64_t i, std::int64_t) {
    bi[i] = omp_get_thread_num();
    return std::int64_t{0};
  });
  for_each_block_cpu(kEnvs, kComposeBlock, [=](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) bb[i] = omp_get_thread_num();
    return std::int64_t{0};
  });
  set_cpu_threads(0);
  EXPECT_EQ(std::set<int>(by_index.begin(), by_index.end()).size(), 2u);
  EXPECT_EQ(std::set<int>(by_block.begin(), by_block.end()).size(), 2u);
}

}  // namespace
}  // namespace convoy
