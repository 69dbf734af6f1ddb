// `convoy train`: trains a policy with PPO on one env and ends by evaluating it against the
// env's scripted baseline (where it has one) and a random policy. Settings come from the
// checked-in preset presets/ppo/<env>.conf, then from key=value words on the command line
// (learner keys as they are, env keys prefixed with "env."). Writes DIR/metrics.csv and
// DIR/summary.json.
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
#include "envs/registry.h"
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

struct EvalResult {
  double mean = 0, std = 0, early_end_rate = 0, mean_length = 0;
};

// One episode in each of `episodes` envs (seeded apart from training), acting by `policy`
// (obs -> action buffer) until every env has finished once.
EvalResult evaluate(const std::string& env_name, const Config& env_config, int episodes,
                    std::uint64_t seed, const std::function<void(VecEnv&, void*, int)>& policy) {
  auto env = env_registry().make(env_name, Device::cpu(), episodes, env_config);
  DeviceArray<std::int32_t> ia(Device::cpu(), env->num_envs() * env->act_dim());
  DeviceArray<float> fa(Device::cpu(), env->num_envs() * env->act_dim());
  void* actions =
      env->discrete_actions() ? static_cast<void*>(ia.data()) : static_cast<void*>(fa.data());
  env->reset(seed);
  std::vector<double> ret(episodes, NAN);
  std::vector<double> len(episodes, 0);
  int left = episodes, early = 0;
  for (int t = 0; left > 0 && t < 1000000; ++t) {
    policy(*env, actions, t);
    env->step_raw(actions);
    const auto term = env->terminated().to_host(), trunc = env->truncated().to_host();
    const auto r = env->final_episode_return().to_host();
    const auto l = env->final_episode_length().to_host();
    for (int i = 0; i < episodes; ++i) {
      if (!std::isnan(ret[i]) || !(term[i] || trunc[i])) continue;
      ret[i] = r[i];
      len[i] = l[i];
      early += term[i] && !trunc[i];
      --left;
    }
  }
  EvalResult e;
  for (int i = 0; i < episodes; ++i) {
    e.mean += ret[i] / episodes;
    e.mean_length += len[i] / episodes;
  }
  for (int i = 0; i < episodes; ++i) e.std += (ret[i] - e.mean) * (ret[i] - e.mean) / episodes;
  e.std = std::sqrt(e.std);
  e.early_end_rate = static_cast<double>(early) / episodes;
  return e;
}

void run_train(const TrainOptions& o) {
  if (o.algo != "ppo") {
    throw Error("train: --algo " + o.algo + " is not available yet; allowed: ppo");
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
  for (std::int64_t it = 0; it < iterations; ++it) {
    const rl::PpoMetrics m = ppo.iterate();
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

  // evaluation: the trained policy (greedy), the scripted baseline, a random policy
  const std::uint64_t eval_seed = cfg.seed + 1000003;
  const EvalResult trained =
      evaluate(o.env, env_config, o.eval_episodes, eval_seed, [&](VecEnv& e, void* a, int) {
        if (e.discrete_actions()) {
          ppo.act_deterministic(e.obs().data(), e.num_envs(), static_cast<std::int32_t*>(a));
        } else {
          ppo.act_deterministic(e.obs().data(), e.num_envs(), static_cast<float*>(a));
        }
      });
  auto random_policy = [&](VecEnv& e, void* a, int t) {
    e.sample_actions(eval_seed, static_cast<std::uint64_t>(t), a);
  };
  const EvalResult random = evaluate(o.env, env_config, o.eval_episodes, eval_seed, random_policy);
  bool has_baseline = false;
  EvalResult baseline;
  for (const auto& k : env_registry().find(o.env).spec.config_keys) {
    if (k.name == "ego_policy") has_baseline = true;
  }
  if (has_baseline) {
    Config autopilot = env_config;
    autopilot.set("ego_policy", "autopilot");
    baseline = evaluate(o.env, autopilot, o.eval_episodes, eval_seed, random_policy);
  }

  std::printf("evaluation over %d episodes (return mean +- std, early ends):\n", o.eval_episodes);
  std::printf("  PPO       %8.2f +- %6.2f  %4.0f%%\n", trained.mean, trained.std,
              100 * trained.early_end_rate);
  if (has_baseline) {
    std::printf("  baseline  %8.2f +- %6.2f  %4.0f%%\n", baseline.mean, baseline.std,
                100 * baseline.early_end_rate);
  }
  std::printf("  random    %8.2f +- %6.2f  %4.0f%%\n", random.mean, random.std,
              100 * random.early_end_rate);
  std::ofstream js(std::filesystem::path(o.out) / "summary.json");
  js << "{\"env\": \"" << o.env << "\", \"algo\": \"ppo\", \"env_steps\": " << ppo.global_step()
     << ", \"train_seconds\": " << train_seconds << ", \"episodes\": " << o.eval_episodes
     << ", \"mean_return\": " << trained.mean << ", \"std_return\": " << trained.std
     << ", \"early_end_rate\": " << trained.early_end_rate
     << ", \"baseline_mean_return\": " << (has_baseline ? std::to_string(baseline.mean) : "null")
     << ", \"random_mean_return\": " << random.mean << "}\n";
  std::printf("wrote %s/metrics.csv and %s/summary.json (%.1f s of training)\n", o.out.c_str(),
              o.out.c_str(), train_seconds);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto opts = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "Train a policy (PPO) and evaluate it");
  cmd->add_option("--env", opts->env, "Environment name")->required();
  cmd->add_option("--algo", opts->algo, "ppo")->capture_default_str();
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
