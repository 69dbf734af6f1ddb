// `convoy train --algo sac`: the same outputs as PPO's run (progress line, DIR/metrics.csv,
// periodic and final checkpoints, DIR/summary.json with the evaluation against the baseline
// and a random policy), with SAC's losses in the CSV.
#include "cli/train_sac.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/evaluation.h"
#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "rl/sac.h"
#include "sim/error.h"

namespace convoy::cli {

namespace {

// Concatenates the three Adam groups' moments in parameter order: [actor | q1 q2 | log_alpha].
void adam_state(rl::Sac& sac, rl::Checkpoint& c) {
  for (rl::Adam<float>* a :
       {&sac.actor_optimizer(), &sac.critic_optimizer(), &sac.alpha_optimizer()}) {
    const auto m = a->m().to_host(), v = a->v().to_host();
    c.adam_m.insert(c.adam_m.end(), m.begin(), m.end());
    c.adam_v.insert(c.adam_v.end(), v.begin(), v.end());
  }
  c.adam_steps = sac.critic_optimizer().steps();
}

}  // namespace

RunSettings split_settings(const std::vector<std::string>& preset,
                           const std::vector<std::string>& command_line, std::int64_t num_envs,
                           std::int64_t total_steps, std::int64_t seed) {
  std::vector<std::string> words = preset;
  words.insert(words.end(), command_line.begin(), command_line.end());
  RunSettings s;
  const Config all = Config::parse(words);  // named: values() refers into it
  for (const auto& [k, v] : all.values()) {
    if (k.rfind("env.", 0) == 0) {
      s.env.set(k.substr(4), v);
    } else {
      s.learner.set(k, v);
    }
  }
  if (num_envs > 0) s.learner.set("num_envs", std::to_string(num_envs));
  if (total_steps > 0) s.learner.set("total_timesteps", std::to_string(total_steps));
  if (seed >= 0) s.learner.set("seed", std::to_string(seed));
  return s;
}

void run_train_sac(const TrainSacOptions& o) {
  if (o.eval_episodes < 1 || o.eval_episodes > 100000) {
    throw Error("train: --eval-episodes " + std::to_string(o.eval_episodes) +
                " is invalid; allowed: 1..100000");
  }
  env_registry().find(o.env);  // unknown env: a clear error before anything else
  const Device device = Device::parse(o.device);
  if (device.is_cuda() && o.device != "auto") {
    throw Error("train: SAC runs on the CPU only so far; use --device cpu");
  }
  const RunSettings settings =
      split_settings(o.preset, o.config, o.num_envs, o.total_steps, o.seed);
  const Config& env_config = settings.env;
  const Config& learner_config = settings.learner;
  const rl::SacConfig cfg = rl::SacConfig::from_config(learner_config);

  std::filesystem::create_directories(o.out);
  auto env = env_registry().make(o.env, Device::cpu(), cfg.num_envs, env_config);
  rl::Sac sac(*env, cfg);

  // one CSV row per chunk of about 1% of the run (at least one vector step)
  const std::int64_t vector_steps = std::max<std::int64_t>(1, cfg.total_timesteps / cfg.num_envs);
  const std::int64_t chunk = std::max<std::int64_t>(1, vector_steps / 100);
  const std::int64_t chunks = (vector_steps + chunk - 1) / chunk;
  const std::int64_t total = vector_steps * cfg.num_envs;
  std::ofstream csv(std::filesystem::path(o.out) / "metrics.csv");
  csv << "iteration,global_step,updates,episodes,mean_return,mean_length,qf1_loss,qf2_loss,"
         "qf1_value,actor_loss,alpha,alpha_loss,entropy,steps_per_second\n";
  const bool tty = isatty(fileno(stdout));
  std::printf(
      "training %s with SAC on cpu: %lld envs, %lld env steps (random until %lld), seed %llu\n",
      o.env.c_str(), static_cast<long long>(cfg.num_envs), static_cast<long long>(total),
      static_cast<long long>(cfg.learning_starts), static_cast<unsigned long long>(cfg.seed));
  const std::string ckpt_path = (std::filesystem::path(o.out) / "checkpoint.ckpt").string();
  auto save = [&] {
    rl::Checkpoint c;
    c.env = o.env;
    c.algo = "sac";
    c.env_config = env_config.values();
    c.learner_config = learner_config.values();
    c.global_step = sac.global_step();
    c.iteration = sac.updates();
    c.params = sac.params().to_host();
    adam_state(sac, c);
    rl::save_checkpoint(ckpt_path, c);
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto last_print = t0;
  double recent_return = NAN;
  const std::int64_t save_every = std::max<std::int64_t>(1, chunks / 10);
  std::int64_t done_steps = 0;
  for (std::int64_t it = 0; it < chunks; ++it) {
    const std::int64_t n = std::min(chunk, vector_steps - done_steps);
    const rl::SacMetrics m = sac.train(n);
    done_steps += n;
    const bool last = it + 1 == chunks;
    if ((it + 1) % save_every == 0 || last) save();
    if (m.episodes > 0) recent_return = m.mean_episode_return;
    csv << it + 1 << ',' << m.global_step << ',' << m.updates << ',' << m.episodes << ','
        << m.mean_episode_return << ',' << m.mean_episode_length << ',' << m.qf1_loss << ','
        << m.qf2_loss << ',' << m.qf1_value << ',' << m.actor_loss << ',' << m.alpha << ','
        << m.alpha_loss << ',' << m.entropy << ',' << m.steps_per_second << '\n';
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - t0).count();
    if (tty || last || now - last_print > std::chrono::seconds(5)) {
      const int width = 30, bar = static_cast<int>(width * (it + 1) / chunks);
      std::printf(
          "%s[%s%s] %lld/%lld steps  %.0f steps/s  recent return %.2f  alpha %.3f  %.0f s%s",
          tty ? "\r" : "", std::string(bar, '#').c_str(), std::string(width - bar, '.').c_str(),
          static_cast<long long>(m.global_step), static_cast<long long>(total),
          m.global_step / elapsed, recent_return, m.alpha, elapsed, tty && !last ? "" : "\n");
      std::fflush(stdout);
      last_print = now;
    }
  }
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const PolicyComparison cmp = compare_policies(
      o.env, env_config, o.eval_episodes, cfg.seed + 1000003, "sac", [&](VecEnv& e, void* a, int) {
        sac.act_deterministic(e.obs().data(), e.num_envs(), static_cast<float*>(a));
      });
  print_comparison(cmp);
  std::ofstream(std::filesystem::path(o.out) / "summary.json")
      << comparison_json(cmp, sac.global_step(), train_seconds) << "\n";
  std::printf("wrote %s/metrics.csv, summary.json and checkpoint.ckpt (%.1f s of training)\n",
              o.out.c_str(), train_seconds);
}

}  // namespace convoy::cli
