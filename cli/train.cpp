// `convoy train`: trains a policy with PPO (or SAC: cli/train_sac.cpp) on one env and ends by
// evaluating it against the env's scripted baseline (where it has one) and a random policy.
// Settings come from the checked-in preset presets/<algo>/<env>.conf, then from key=value words on
// the command line (learner keys as they are, env keys prefixed with "env."). Writes
// DIR/metrics.csv and DIR/summary.json.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/evaluation.h"
#include "cli/train_sac.h"
#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "rl/ppo.h"
#include "sim/array.h"
#include "sim/error.h"

namespace convoy::cli {

namespace {

struct TrainOptions {
  std::string env;
  std::string algo = "ppo";
  std::string device = "auto";
  std::int64_t num_envs = 0;     // 0: the preset's
  std::int64_t total_steps = 0;  // 0: the preset's
  std::int64_t seed = -1;        // -1: the preset's
  std::string out = "runs/latest";
  int eval_episodes = 20;
  std::vector<std::string> config;
};

// key=value lines of presets/<algo>/<env>.conf ('#' starts a comment); none if absent.
std::vector<std::string> read_preset(const std::string& algo, const std::string& env) {
  const std::filesystem::path path =
      std::filesystem::path(CONVOY_PRESET_DIR) / algo / (env + ".conf");
  std::vector<std::string> words;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    const auto b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos) words.push_back(line.substr(b, e - b + 1));
  }
  return words;
}

void run_train(const TrainOptions& o) {
  if (o.algo == "sac") {
    run_train_sac({o.env, o.device, o.num_envs, o.total_steps, o.seed, o.out, o.eval_episodes,
                   read_preset("sac", o.env), o.config});
    return;
  }
  if (o.algo != "ppo") {
    throw Error("train: --algo " + o.algo + " is not available; allowed: ppo, sac");
  }
  if (o.eval_episodes < 1 || o.eval_episodes > 100000) {
    throw Error("train: --eval-episodes " + std::to_string(o.eval_episodes) +
                " is invalid; allowed: 1..100000");
  }
  env_registry().find(o.env);  // unknown env: a clear error before anything else
  const Device device = Device::parse(o.device);
  if (device.is_cuda() && o.device != "auto") {
    throw Error("train: PPO runs on the CPU only so far; use --device cpu");
  }
  // preset, then the command line; "env.key=value" goes to the env, the rest to the learner
  std::vector<std::string> words = read_preset(o.algo, o.env);
  words.insert(words.end(), o.config.begin(), o.config.end());
  Config env_config, learner_config;
  const Config all = Config::parse(words);
  for (const auto& [k, v] : all.values()) {
    if (k.rfind("env.", 0) == 0) {
      env_config.set(k.substr(4), v);
    } else {
      learner_config.set(k, v);
    }
  }
  if (o.num_envs > 0) learner_config.set("num_envs", std::to_string(o.num_envs));
  if (o.total_steps > 0) learner_config.set("total_timesteps", std::to_string(o.total_steps));
  if (o.seed >= 0) learner_config.set("seed", std::to_string(o.seed));
  const rl::PpoConfig cfg = rl::PpoConfig::from_config(learner_config);

  std::filesystem::create_directories(o.out);
  auto env = env_registry().make(o.env, Device::cpu(), cfg.num_envs, env_config);
  rl::Ppo ppo(*env, cfg);

  std::ofstream csv(std::filesystem::path(o.out) / "metrics.csv");
  csv << "iteration,global_step,episodes,mean_return,mean_length,policy_loss,value_loss,"
         "entropy,approx_kl,clip_fraction,explained_variance,learning_rate,steps_per_second\n";
  const bool tty = isatty(fileno(stdout));
  const auto t0 = std::chrono::steady_clock::now();
  auto last_print = t0;
  double recent_return = NAN;
  const std::int64_t iterations = cfg.num_iterations();
  std::printf(
      "training %s with PPO on cpu: %lld envs, %lld env steps (%lld iterations), seed %llu\n",
      o.env.c_str(), static_cast<long long>(cfg.num_envs),
      static_cast<long long>(iterations * cfg.batch_size()), static_cast<long long>(iterations),
      static_cast<unsigned long long>(cfg.seed));
  const std::string ckpt_path = (std::filesystem::path(o.out) / "checkpoint.ckpt").string();
  auto save = [&] {
    rl::Checkpoint c;
    c.env = o.env;
    c.algo = o.algo;
    c.env_config = env_config.values();
    c.learner_config = learner_config.values();
    c.global_step = ppo.global_step();
    c.iteration = ppo.iteration();
    c.params = ppo.params().to_host();
    c.adam_m = ppo.optimizer().m().to_host();
    c.adam_v = ppo.optimizer().v().to_host();
    c.adam_steps = ppo.optimizer().steps();
    rl::save_checkpoint(ckpt_path, c);
  };
  const std::int64_t save_every = std::max<std::int64_t>(1, iterations / 10);
  for (std::int64_t it = 0; it < iterations; ++it) {
    const rl::PpoMetrics m = ppo.iterate();
    if ((it + 1) % save_every == 0 || it + 1 == iterations) save();
    if (m.episodes > 0) recent_return = m.mean_episode_return;
    csv << m.iteration << ',' << m.global_step << ',' << m.episodes << ',' << m.mean_episode_return
        << ',' << m.mean_episode_length << ',' << m.policy_loss << ',' << m.value_loss << ','
        << m.entropy << ',' << m.approx_kl << ',' << m.clip_fraction << ',' << m.explained_variance
        << ',' << m.learning_rate << ',' << m.steps_per_second << '\n';
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - t0).count();
    const bool last = it + 1 == iterations;
    if (tty || last || now - last_print > std::chrono::seconds(5)) {
      const int width = 30, done = static_cast<int>(width * (it + 1) / iterations);
      std::printf("%s[%s%s] %lld/%lld steps  %.0f steps/s  recent return %.2f  %.0f s%s",
                  tty ? "\r" : "", std::string(done, '#').c_str(),
                  std::string(width - done, '.').c_str(), static_cast<long long>(m.global_step),
                  static_cast<long long>(iterations * cfg.batch_size()), m.global_step / elapsed,
                  recent_return, elapsed, tty && !last ? "" : "\n");
      std::fflush(stdout);
      last_print = now;
    }
  }
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const PolicyComparison cmp =
      compare_policies(o.env, env_config, o.eval_episodes, cfg.seed + 1000003, ppo);
  print_comparison(cmp);
  std::ofstream(std::filesystem::path(o.out) / "summary.json")
      << comparison_json(cmp, ppo.global_step(), train_seconds) << "\n";
  std::printf("wrote %s/metrics.csv, summary.json and checkpoint.ckpt (%.1f s of training)\n",
              o.out.c_str(), train_seconds);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto opts = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "Train a policy (PPO or SAC) and evaluate it");
  cmd->add_option("--env", opts->env, "Environment name")->required();
  cmd->add_option("--algo", opts->algo, "ppo or sac (Box action spaces)")->capture_default_str();
  cmd->add_option("--device", opts->device, "cpu or auto (PPO runs on the CPU so far)")
      ->capture_default_str();
  cmd->add_option("--num-envs", opts->num_envs, "Parallel envs (default: the preset's)");
  cmd->add_option("--total-steps", opts->total_steps, "Env steps (default: the preset's)");
  cmd->add_option("--seed", opts->seed, "Seed (default: the preset's)");
  cmd->add_option("--out", opts->out, "Output directory")->capture_default_str();
  cmd->add_option("--eval-episodes", opts->eval_episodes, "Evaluation episodes")
      ->capture_default_str();
  cmd->add_option("config", opts->config, "Learner settings key=value, env settings env.key=value");
  cmd->callback([opts] { run_train(*opts); });
}

}  // namespace convoy::cli
