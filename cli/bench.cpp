// `convoy bench`: steps one env with uniformly random actions drawn on the device and
// prints env-steps/s. The timed loop is what a user pays per step: drawing the actions,
// validating them and stepping (dynamics, rewards, auto-reset, observations).
//
// `convoy bench --replay uniform|prioritized` times a replay buffer instead, filled to
// capacity first: add() of --batch rows, sample() of --batch rows, update_priorities() of
// --batch rows and sample() then update_priorities() (a PER learner's step), each for
// --seconds, in transitions/s. bench/replay_vs_cpprb.py runs it against cpprb.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "envs/registry.h"
#include "replay/prioritized.h"
#include "sim/array.h"
#include "sim/error.h"

namespace convoy::cli {

namespace {

struct BenchOptions {
  std::string env;
  std::string replay;  // uniform or prioritized: time a replay buffer instead of an env
  std::int64_t capacity = 1 << 20;
  std::int64_t batch = 256;
  std::int64_t obs_dim = 17, act_dim = 6;
  double seconds = 2.0;  // per replay operation
  std::int64_t num_envs = 4096;
  std::int64_t steps = 1000;
  std::string device = "auto";
  int threads = 0;
  std::uint64_t seed = 0;
  bool json = false;
  std::vector<std::string> config;
};

void run_bench(const BenchOptions& o) {
  if (o.num_envs < 1 || o.num_envs > VecEnv::kMaxEnvs) {
    throw Error("--num-envs " + std::to_string(o.num_envs) + " is invalid; allowed: 1.." +
                std::to_string(VecEnv::kMaxEnvs));
  }
  if (o.steps < 1) {
    throw Error("--steps " + std::to_string(o.steps) + " is invalid; allowed: >= 1");
  }
  if (o.threads < 0) {
    throw Error("--threads " + std::to_string(o.threads) + " is invalid; allowed: >= 1");
  }
  const Config config = Config::parse(o.config);
  const Device device = Device::parse(o.device);
  if (o.threads > 0) set_cpu_threads(o.threads);
  auto env = env_registry().make(o.env, device, o.num_envs, config);

  const std::int64_t n_act = env->num_envs() * env->act_dim();
  DeviceArray<std::int32_t> int_actions;
  DeviceArray<float> float_actions;
  void* actions = nullptr;
  if (env->discrete_actions()) {
    int_actions = DeviceArray<std::int32_t>(device, n_act);
    actions = int_actions.data();
  } else {
    float_actions = DeviceArray<float>(device, n_act);
    actions = float_actions.data();
  }

  env->reset(o.seed);
  const std::int64_t warmup = std::min<std::int64_t>(10, o.steps);
  for (std::int64_t s = 0; s < warmup; ++s) {
    env->sample_actions(o.seed, static_cast<std::uint64_t>(s), actions);
    env->step_raw(actions);
  }
  synchronize(device);

  using clock = std::chrono::steady_clock;
  const bool show_progress = !o.json && isatty(fileno(stderr));
  const auto t0 = clock::now();
  auto last_report = t0;
  for (std::int64_t s = 0; s < o.steps; ++s) {
    env->sample_actions(o.seed, static_cast<std::uint64_t>(warmup + s), actions);
    env->step_raw(actions);
    if (show_progress && (s & 15) == 0) {
      const auto now = clock::now();
      if (now - last_report > std::chrono::seconds(1)) {
        std::fprintf(stderr, "\r  step %lld / %lld", static_cast<long long>(s),
                     static_cast<long long>(o.steps));
        last_report = now;
      }
    }
  }
  synchronize(device);
  env->check_steps();  // sampled actions are valid; this only reports a broken env
  const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
  if (show_progress) std::fprintf(stderr, "\r%40s\r", "");

  const double env_steps = static_cast<double>(o.num_envs) * static_cast<double>(o.steps);
  const double rate = env_steps / seconds;
  const int threads = cpu_threads();
  if (o.json) {
    std::printf(
        "{\"env\": \"%s\", \"device\": \"%s\", \"num_envs\": %lld, \"steps\": %lld, "
        "\"threads\": %d, \"seconds\": %.6f, \"env_steps_per_second\": %.1f}\n",
        o.env.c_str(), device.str().c_str(), static_cast<long long>(o.num_envs),
        static_cast<long long>(o.steps), threads, seconds, rate);
  } else {
    std::printf("%s on %s (%d threads): %lld envs x %lld steps in %.3f s = %.3fM env-steps/s\n",
                o.env.c_str(), device.str().c_str(), threads, static_cast<long long>(o.num_envs),
                static_cast<long long>(o.steps), seconds, rate / 1e6);
  }
}

// Calls `op` (one call moves `rows` transitions) for `seconds` after 3 warm-up calls;
// transitions/s.
double rate(const Device& device, double seconds, std::int64_t rows,
            const std::function<void()>& op) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 3; ++i) op();
  synchronize(device);
  std::int64_t calls = 0;
  const auto t0 = clock::now();
  double elapsed = 0;
  do {
    op();
    ++calls;
    if (device.is_cuda() && (calls & 63) != 0) continue;  // launches queue; time them in bulk
    synchronize(device);
    elapsed = std::chrono::duration<double>(clock::now() - t0).count();
  } while (elapsed < seconds);
  return static_cast<double>(calls) * static_cast<double>(rows) / elapsed;
}

void run_replay_bench(const BenchOptions& o) {
  if (o.replay != "uniform" && o.replay != "prioritized") {
    throw Error("--replay " + o.replay + " is invalid; allowed: uniform, prioritized");
  }
  if (o.capacity < 1) {
    throw Error("--capacity " + std::to_string(o.capacity) + " is invalid; allowed: >= 1");
  }
  if (o.batch < 1 || o.batch > o.capacity) {
    throw Error("--batch " + std::to_string(o.batch) + " is invalid; allowed: 1..capacity (" +
                std::to_string(o.capacity) + ")");
  }
  if (!(o.seconds > 0)) {
    throw Error("--seconds " + std::to_string(o.seconds) + " is invalid; allowed: > 0");
  }
  if (o.threads < 0) {
    throw Error("--threads " + std::to_string(o.threads) + " is invalid; allowed: >= 1");
  }
  const Device device = Device::parse(o.device);
  if (o.threads > 0) set_cpu_threads(o.threads);
  const bool per = o.replay == "prioritized";
  std::unique_ptr<ReplayBuffer> buffer;
  if (per) {  // alpha 0.6, beta0 0.4, eps 1e-6: the defaults, and cpprb's settings in the bench
    buffer = std::make_unique<PrioritizedReplayBuffer>(device, o.capacity, o.obs_dim, o.act_dim);
  } else {
    buffer = std::make_unique<UniformReplayBuffer>(device, o.capacity, o.obs_dim, o.act_dim);
  }

  // one add()'s rows and 8 sets of |TD errors|, random, made once on the host
  const std::int64_t n = o.batch;
  std::mt19937 gen(static_cast<std::uint32_t>(o.seed));
  std::normal_distribution<float> normal;
  auto randoms = [&](std::int64_t count) {
    std::vector<float> v(static_cast<std::size_t>(count));
    for (float& x : v) x = normal(gen);
    return DeviceArray<float>(device, v);
  };
  const DeviceArray<float> obs = randoms(n * o.obs_dim), next_obs = randoms(n * o.obs_dim);
  const DeviceArray<float> actions = randoms(n * o.act_dim), rewards = randoms(n);
  const DeviceArray<std::uint8_t> flags(device, std::vector<std::uint8_t>(n, 0));
  std::vector<DeviceArray<float>> td;
  for (int k = 0; k < 8; ++k) td.push_back(randoms(n));
  Transitions t;
  t.rows = n;
  t.obs = obs.data();
  t.actions = actions.data();
  t.rewards = rewards.data();
  t.next_obs = t.final_obs = next_obs.data();
  t.terminated = t.truncated = flags.data();

  while (buffer->size() < buffer->capacity()) buffer->add(t);
  ReplayBatch batch, fixed;
  std::uint64_t counter = 0, updates = 0;
  buffer->sample(n, o.seed, counter++, fixed);  // the slots the update-only loop rewrites
  const double insert = rate(device, o.seconds, n, [&] { buffer->add(t); });
  const double sample =
      rate(device, o.seconds, n, [&] { buffer->sample(n, o.seed, counter++, batch); });
  double update = NAN, sample_update = NAN;
  if (per) {
    update = rate(device, o.seconds, n, [&] {
      buffer->update_priorities(fixed.indices.data(), td[updates++ % td.size()].data(), n);
    });
    sample_update = rate(device, o.seconds, n, [&] {
      buffer->sample(n, o.seed, counter++, batch);
      buffer->update_priorities(batch.indices.data(), td[updates++ % td.size()].data(), n);
    });
  }

  const int threads = cpu_threads();
  auto json_rate = [](double r) {
    char s[32];
    std::snprintf(s, sizeof(s), "%.1f", r);
    return std::isnan(r) ? std::string("null") : std::string(s);
  };
  if (o.json) {
    std::printf(
        "{\"replay\": \"%s\", \"device\": \"%s\", \"threads\": %d, \"capacity\": %lld, "
        "\"batch\": %lld, \"obs_dim\": %lld, \"act_dim\": %lld, \"seconds_per_op\": %.3f, "
        "\"insert_per_second\": %.1f, \"sample_per_second\": %.1f, "
        "\"update_per_second\": %s, \"sample_update_per_second\": %s}\n",
        o.replay.c_str(), device.str().c_str(), threads, static_cast<long long>(o.capacity),
        static_cast<long long>(n), static_cast<long long>(o.obs_dim),
        static_cast<long long>(o.act_dim), o.seconds, insert, sample, json_rate(update).c_str(),
        json_rate(sample_update).c_str());
  } else {
    std::printf("%s replay on %s (%d threads): capacity %lld, batch %lld, obs %lld, act %lld\n",
                o.replay.c_str(), device.str().c_str(), threads, static_cast<long long>(o.capacity),
                static_cast<long long>(n), static_cast<long long>(o.obs_dim),
                static_cast<long long>(o.act_dim));
    std::printf("  insert         %10.3fM transitions/s\n", insert / 1e6);
    std::printf("  sample         %10.3fM transitions/s\n", sample / 1e6);
    if (per) {
      std::printf("  update         %10.3fM transitions/s\n", update / 1e6);
      std::printf("  sample+update  %10.3fM transitions/s\n", sample_update / 1e6);
    }
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto opts = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench", "Step an env with random actions and print env-steps/s (or time a replay buffer)");
  auto* env = cmd->add_option("--env", opts->env, "Environment name (see `convoy envs`)");
  auto* replay = cmd->add_option("--replay", opts->replay,
                                 "Time a replay buffer instead: uniform or prioritized");
  env->excludes(replay);
  replay->excludes(env);
  cmd->add_option("--capacity", opts->capacity, "Replay: buffer capacity (filled first)")
      ->capture_default_str();
  cmd->add_option("--batch", opts->batch, "Replay: rows per add, sample and update")
      ->capture_default_str();
  cmd->add_option("--obs-dim", opts->obs_dim, "Replay: observation size")->capture_default_str();
  cmd->add_option("--act-dim", opts->act_dim, "Replay: action size")->capture_default_str();
  cmd->add_option("--seconds", opts->seconds, "Replay: seconds timed per operation")
      ->capture_default_str();
  cmd->add_option("--num-envs", opts->num_envs, "Number of parallel envs")->capture_default_str();
  cmd->add_option("--steps", opts->steps, "Timed steps of the whole batch")->capture_default_str();
  cmd->add_option("--device", opts->device, "cpu, cuda, cuda:K or auto")->capture_default_str();
  cmd->add_option("--threads", opts->threads, "CPU threads (default: all cores)");
  cmd->add_option("--seed", opts->seed, "Seed for resets and actions")->capture_default_str();
  cmd->add_flag("--json", opts->json, "Print one JSON object");
  cmd->add_option("config", opts->config, "Env settings as key=value");
  cmd->callback([opts] {
    if (!opts->replay.empty()) return run_replay_bench(*opts);
    if (opts->env.empty()) throw Error("bench needs --env NAME or --replay uniform|prioritized");
    run_bench(*opts);
  });
}

}  // namespace convoy::cli
