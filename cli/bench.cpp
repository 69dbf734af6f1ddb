// `convoy bench`: steps one env with uniformly random actions drawn on the device and
// prints env-steps/s. The timed loop is what a user pays per step: drawing the actions,
// validating them and stepping (dynamics, rewards, auto-reset, observations).
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "envs/registry.h"
#include "sim/array.h"
#include "sim/error.h"

namespace convoy::cli {

namespace {

struct BenchOptions {
  std::string env;
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

}  // namespace

void add_bench_command(CLI::App& app) {
  auto opts = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Step an env with random actions and print env-steps/s");
  cmd->add_option("--env", opts->env, "Environment name (see `convoy envs`)")->required();
  cmd->add_option("--num-envs", opts->num_envs, "Number of parallel envs")->capture_default_str();
  cmd->add_option("--steps", opts->steps, "Timed steps of the whole batch")->capture_default_str();
  cmd->add_option("--device", opts->device, "cpu, cuda, cuda:K or auto")->capture_default_str();
  cmd->add_option("--threads", opts->threads, "CPU threads (default: all cores)");
  cmd->add_option("--seed", opts->seed, "Seed for resets and actions")->capture_default_str();
  cmd->add_flag("--json", opts->json, "Print one JSON object");
  cmd->add_option("config", opts->config, "Env settings as key=value");
  cmd->callback([opts] { run_bench(*opts); });
}

}  // namespace convoy::cli
