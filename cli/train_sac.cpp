// `convoy train --algo sac`: the same outputs as PPO's run (progress line, DIR/metrics.csv,
// periodic and final checkpoints, a TensorBoard event file, DIR/summary.json with the
// evaluation against the baseline and a random policy), with SAC's losses in the CSV;
// --stop-after and --resume as PPO's, bit-identical to an uninterrupted run.
#include "cli/train_sac.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/evaluation.h"
#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "rl/event_file.h"
#include "rl/sac.h"
#include "sim/error.h"

namespace convoy::cli {

namespace {

constexpr const char* kSacCsvHeader =
    "iteration,global_step,updates,episodes,mean_return,mean_length,qf1_loss,qf2_loss,"
    "qf1_value,actor_loss,alpha,alpha_loss,entropy,steps_per_second";

// CleanRL's sac_continuous_action.py tags; non-finite values are left out.
std::vector<std::pair<std::string, double>> tensorboard_scalars(const rl::SacMetrics& m) {
  const std::vector<std::pair<std::string, double>> all = {
      {"charts/episodes", static_cast<double>(m.episodes)},
      {"charts/episodic_return", m.mean_episode_return},
      {"charts/episodic_length", m.mean_episode_length},
      {"losses/qf1_loss", m.qf1_loss},
      {"losses/qf2_loss", m.qf2_loss},
      {"losses/qf1_values", m.qf1_value},
      {"losses/qf2_values", m.qf2_value},
      {"losses/qf_loss", 0.5 * (m.qf1_loss + m.qf2_loss)},
      {"losses/actor_loss", m.actor_loss},
      {"losses/alpha", m.alpha},
      {"losses/alpha_loss", m.alpha_loss},
      {"charts/SPS", m.steps_per_second}};
  std::vector<std::pair<std::string, double>> finite;
  for (const auto& s : all) {
    if (std::isfinite(s.second)) finite.push_back(s);
  }
  return finite;
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

void truncate_metrics(const std::filesystem::path& csv, const std::string& header,
                      std::int64_t iteration) {
  std::ifstream in(csv);
  std::string line, kept = header + "\n";
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {
      first = false;
      continue;
    }
    // rows this convoy wrote start with the iteration; anything else is dropped
    char* end = nullptr;
    const long long it = std::strtoll(line.c_str(), &end, 10);
    if (end != line.c_str() && *end == ',' && it <= iteration) kept += line + "\n";
  }
  const std::filesystem::path tmp = csv.string() + ".tmp";
  std::ofstream(tmp) << kept;
  std::filesystem::rename(tmp, csv);
}

void run_train_sac(const TrainSacOptions& o) {
  if (o.eval_episodes < 1 || o.eval_episodes > 100000) {
    throw Error("train: --eval-episodes " + std::to_string(o.eval_episodes) +
                " is invalid; allowed: 1..100000");
  }
  env_registry().find(o.env);  // unknown env: a clear error before anything else
  // SAC trains on the device its envs live on, as PPO (cli/train.cpp): cpu, or cuda / cuda:K
  // when asked for (an unusable GPU is the device's own error, before any file); "auto" stays
  // on the CPU, so a run keeps the CPU's bits unless a GPU is asked for.
  const Device device = o.device == "auto" ? Device::cpu() : Device::parse(o.device);
  if (o.stop_after < 0) {
    throw Error("train: --stop-after " + std::to_string(o.stop_after) +
                " is invalid; allowed: >= 1 (0: run to the end)");
  }
  const bool resuming = o.resume != nullptr;
  Config env_config, learner_config;
  if (resuming) {
    for (const auto& [k, v] : o.resume->env_config) env_config.set(k, v);
    for (const auto& [k, v] : o.resume->learner_config) learner_config.set(k, v);
  } else {
    RunSettings settings = split_settings(o.preset, o.config, o.num_envs, o.total_steps, o.seed);
    env_config = std::move(settings.env);
    learner_config = std::move(settings.learner);
  }
  const rl::SacConfig cfg = rl::SacConfig::from_config(learner_config);

  auto env = env_registry().make(o.env, device, cfg.num_envs, env_config);
  rl::Sac sac(*env, cfg);
  if (resuming) sac.restore_checkpoint(*o.resume);  // checks sizes before changing anything

  // one CSV row per chunk of about 1% of the run (at least one vector step)
  const std::int64_t vector_steps = std::max<std::int64_t>(1, cfg.total_timesteps / cfg.num_envs);
  const std::int64_t chunk = std::max<std::int64_t>(1, vector_steps / 100);
  const std::int64_t chunks = (vector_steps + chunk - 1) / chunk;
  const std::int64_t total = vector_steps * cfg.num_envs;
  const std::int64_t first = (sac.global_step() / cfg.num_envs + chunk - 1) / chunk;
  const std::int64_t last_it =
      o.stop_after > 0 ? std::min<std::int64_t>(o.stop_after, chunks) : chunks;

  // files: only once everything above has been checked
  const std::filesystem::path dir(o.out);
  std::filesystem::create_directories(dir);
  const std::filesystem::path csv_path = dir / "metrics.csv";
  if (resuming) {
    truncate_metrics(csv_path, kSacCsvHeader, first);
  } else {
    std::ofstream(csv_path) << kSacCsvHeader << "\n";
    // a fresh run replaces the directory's earlier TensorBoard logs along with its metrics
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      if (f.path().filename().string().rfind("events.out.tfevents.", 0) == 0) {
        std::filesystem::remove(f.path());
      }
    }
  }
  std::ofstream csv(csv_path, std::ios::app);
  rl::EventFileWriter events(dir.string());
  // a restart: TensorBoard drops what this directory logged after the checkpoint
  if (resuming) events.add_session_start(sac.global_step() + 1);
  if (resuming) {
    std::printf("resuming %s at chunk %lld of %lld (%lld env steps done)\n", o.env.c_str(),
                static_cast<long long>(first), static_cast<long long>(chunks),
                static_cast<long long>(sac.global_step()));
  }
  const bool tty = isatty(fileno(stdout));
  std::printf(
      "training %s with SAC on %s: %lld envs, %lld env steps (random until %lld), seed %llu\n",
      o.env.c_str(), device.str().c_str(), static_cast<long long>(cfg.num_envs),
      static_cast<long long>(total), static_cast<long long>(cfg.learning_starts),
      static_cast<unsigned long long>(cfg.seed));
  const std::string ckpt_path = (std::filesystem::path(o.out) / "checkpoint.ckpt").string();
  auto save = [&] {
    rl::Checkpoint c = sac.make_checkpoint();
    c.env = o.env;
    c.algo = "sac";
    c.env_config = env_config.values();
    c.learner_config = learner_config.values();
    rl::save_checkpoint(ckpt_path, c);
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto last_print = t0;
  double recent_return = NAN;
  const std::int64_t save_every = std::max<std::int64_t>(1, chunks / 10);
  std::int64_t done_steps = sac.global_step() / cfg.num_envs;
  const std::int64_t start_step = sac.global_step();
  for (std::int64_t it = first; it < last_it; ++it) {
    const std::int64_t n = std::min(chunk, vector_steps - done_steps);
    const rl::SacMetrics m = sac.train(n);
    done_steps += n;
    const bool last = it + 1 == last_it;
    if ((it + 1) % save_every == 0 || last) save();
    if (m.episodes > 0) recent_return = m.mean_episode_return;
    csv << it + 1 << ',' << m.global_step << ',' << m.updates << ',' << m.episodes << ','
        << m.mean_episode_return << ',' << m.mean_episode_length << ',' << m.qf1_loss << ','
        << m.qf2_loss << ',' << m.qf1_value << ',' << m.actor_loss << ',' << m.alpha << ','
        << m.alpha_loss << ',' << m.entropy << ',' << m.steps_per_second << '\n';
    csv.flush();
    events.add_scalars(m.global_step, tensorboard_scalars(m));
    events.flush();
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - t0).count();
    if (tty || last || now - last_print > std::chrono::seconds(5)) {
      const int width = 30, bar = static_cast<int>(width * (it + 1) / chunks);
      std::printf(
          "%s[%s%s] %lld/%lld steps  %.0f steps/s  recent return %.2f  alpha %.3f  %.0f s%s",
          tty ? "\r" : "", std::string(bar, '#').c_str(), std::string(width - bar, '.').c_str(),
          static_cast<long long>(m.global_step), static_cast<long long>(total),
          (m.global_step - start_step) / elapsed, recent_return, m.alpha, elapsed,
          tty && !last ? "" : "\n");
      std::fflush(stdout);
      last_print = now;
    }
  }
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (last_it < chunks) {
    std::printf("stopped after chunk %lld of %lld; continue with: convoy train --resume %s\n",
                static_cast<long long>(last_it), static_cast<long long>(chunks), o.out.c_str());
    return;
  }

  const PolicyComparison cmp = compare_policies(
      o.env, env_config, o.eval_episodes, cfg.seed + 1000003, "sac", [&](VecEnv& e, void* a, int) {
        sac.act_deterministic(e.obs().data(), e.num_envs(), static_cast<float*>(a));
      });
  print_comparison(cmp);
  std::ofstream(std::filesystem::path(o.out) / "summary.json")
      << comparison_json(cmp, sac.global_step(), train_seconds) << "\n";
  std::printf("wrote %s/metrics.csv, summary.json, checkpoint.ckpt and %s (%.1f s of training)\n",
              o.out.c_str(), std::filesystem::path(events.path()).filename().c_str(),
              train_seconds);
}

}  // namespace convoy::cli
