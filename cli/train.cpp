// `convoy train`: trains a policy with PPO (or SAC: cli/train_sac.cpp) on one env and ends by
// evaluating it against the env's scripted baseline (where it has one) and a random policy.
// Settings come from the checked-in preset presets/<algo>/<env>.conf, then from key=value words
// on the command line (learner keys as they are, env keys prefixed with "env."). Writes
// DIR/metrics.csv, a TensorBoard event file (DIR/events.out.tfevents.*), DIR/checkpoint.ckpt
// (every tenth of the run and at the end) and DIR/summary.json. --resume DIR continues a PPO
// or SAC run (the checkpoint says which) from its checkpoint to the same total, with the same
// bits as an uninterrupted run (same device and threads).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/evaluation.h"
#include "cli/train_sac.h"
#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "rl/event_file.h"
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
  std::string resume;           // a run's directory to continue
  bool out_given = false;       // --out on the command line
  bool algo_given = false;      // --algo on the command line
  std::int64_t stop_after = 0;  // stop after this iteration (0: the end)
};

// key=value lines of presets/<algo>/<env>.conf ('#' starts a comment); none if absent.
std::vector<std::string> read_preset(const std::string& algo, const std::string& env) {
  const std::filesystem::path path =
      std::filesystem::path(CONVOY_PRESET_DIR) / algo / (env + ".conf");
  return read_config_words(path.string());
}

// The metrics.csv columns, and the TensorBoard tag of each (CleanRL's names). Non-finite
// values (no episode finished, constant returns) are left out of the event file.
constexpr const char* kCsvHeader =
    "iteration,global_step,episodes,mean_return,mean_length,policy_loss,value_loss,"
    "entropy,approx_kl,clip_fraction,explained_variance,learning_rate,steps_per_second";

std::vector<std::pair<std::string, double>> tensorboard_scalars(const rl::PpoMetrics& m) {
  const std::vector<std::pair<std::string, double>> all = {
      {"charts/episodes", static_cast<double>(m.episodes)},
      {"charts/episodic_return", m.mean_episode_return},
      {"charts/episodic_length", m.mean_episode_length},
      {"losses/policy_loss", m.policy_loss},
      {"losses/value_loss", m.value_loss},
      {"losses/entropy", m.entropy},
      {"losses/approx_kl", m.approx_kl},
      {"losses/clipfrac", m.clip_fraction},
      {"losses/explained_variance", m.explained_variance},
      {"charts/learning_rate", m.learning_rate},
      {"charts/SPS", m.steps_per_second}};
  std::vector<std::pair<std::string, double>> finite;
  for (const auto& s : all) {
    if (std::isfinite(s.second)) finite.push_back(s);
  }
  return finite;
}

void write_csv_row(std::ostream& csv, const rl::PpoMetrics& m) {
  csv << m.iteration << ',' << m.global_step << ',' << m.episodes << ',' << m.mean_episode_return
      << ',' << m.mean_episode_length << ',' << m.policy_loss << ',' << m.value_loss << ','
      << m.entropy << ',' << m.approx_kl << ',' << m.clip_fraction << ',' << m.explained_variance
      << ',' << m.learning_rate << ',' << m.steps_per_second << '\n';
}

// The run to continue: DIR/checkpoint.ckpt, checked against everything the command line
// says before anything is written.
rl::Checkpoint resume_checkpoint(const TrainOptions& o) {
  const std::filesystem::path dir(o.resume);
  if (!std::filesystem::is_directory(dir)) {
    throw Error("train: --resume " + o.resume + ": no such directory");
  }
  const std::filesystem::path path = dir / "checkpoint.ckpt";
  if (!std::filesystem::exists(path)) {
    throw Error("train: --resume " + o.resume +
                ": holds no checkpoint.ckpt; allowed: a directory written by convoy train");
  }
  rl::Checkpoint c = rl::load_checkpoint(path.string());
  if (o.algo_given && c.algo != o.algo) {
    throw Error("train: --resume " + o.resume + " holds a " + c.algo + " run; allowed: " + o.algo);
  }
  if (c.algo != "ppo" && c.algo != "sac") {
    throw Error("train: --resume " + o.resume + " holds a " + c.algo +
                " run; allowed: ppo, sac runs");
  }
  if (!o.env.empty() && o.env != c.env) {
    throw Error("train: --env " + o.env + " but --resume " + o.resume + " trains " + c.env);
  }
  if (o.num_envs > 0 || o.total_steps > 0 || o.seed >= 0 || !o.config.empty()) {
    throw Error(
        "train: --resume takes every setting from the checkpoint; allowed with it: "
        "--env (the same), --out (the same directory), --eval-episodes, --stop-after");
  }
  if (o.out_given &&
      std::filesystem::weakly_canonical(o.out) != std::filesystem::weakly_canonical(dir)) {
    throw Error("train: --out " + o.out + " with --resume " + o.resume +
                "; a resumed run writes into its own directory");
  }
  if (c.env_state.empty()) {
    throw Error("train: --resume " + o.resume + ": the checkpoint holds no env state to resume");
  }
  return c;
}

void run_train(const TrainOptions& o) {
  const bool resuming = !o.resume.empty();
  rl::Checkpoint resume_from;
  if (resuming) {
    // the checkpoint says its algorithm; a SAC run continues in cli/train_sac.cpp
    resume_from = resume_checkpoint(o);
    if (resume_from.algo == "sac") {
      TrainSacOptions so{resume_from.env, o.device, 0, 0, -1, o.resume, o.eval_episodes, {}, {}};
      so.stop_after = o.stop_after;
      so.resume = &resume_from;
      run_train_sac(so);
      return;
    }
  }
  if (o.algo == "sac") {
    if (o.env.empty()) throw Error("train: --env is required");
    TrainSacOptions so{o.env,   o.device, o.num_envs,      o.total_steps,
                       o.seed,  o.out,    o.eval_episodes, read_preset("sac", o.env),
                       o.config};
    so.stop_after = o.stop_after;
    run_train_sac(so);
    return;
  }
  if (o.algo != "ppo") {
    throw Error("train: --algo " + o.algo + " is not available; allowed: ppo, sac");
  }
  if (o.eval_episodes < 1 || o.eval_episodes > 100000) {
    throw Error("train: --eval-episodes " + std::to_string(o.eval_episodes) +
                " is invalid; allowed: 1..100000");
  }
  if (o.stop_after < 0) {
    throw Error("train: --stop-after " + std::to_string(o.stop_after) +
                " is invalid; allowed: >= 1 (0: run to the end)");
  }
  if (!resuming && o.env.empty()) throw Error("train: --env is required (or --resume DIR)");
  // PPO (and SAC, cli/train_sac.cpp) trains on the device its envs live on: cpu, or cuda / cuda:K
  // when asked for (an unusable GPU is an error saying why). "auto" stays on the CPU: the presets'
  // few envs run faster there, and a run keeps the CPU's bits unless a GPU is asked for.
  const Device device = o.device == "auto" ? Device::cpu() : Device::parse(o.device);
  const std::string env_name = resuming ? resume_from.env : o.env;
  const std::string out_dir = resuming ? o.resume : o.out;
  env_registry().find(env_name);  // unknown env: a clear error before anything else

  Config env_config, learner_config;
  if (resuming) {
    for (const auto& [k, v] : resume_from.env_config) env_config.set(k, v);
    for (const auto& [k, v] : resume_from.learner_config) learner_config.set(k, v);
  } else {
    RunSettings settings =
        split_settings(read_preset(o.algo, env_name), o.config, o.num_envs, o.total_steps, o.seed);
    env_config = std::move(settings.env);
    learner_config = std::move(settings.learner);
  }
  const rl::PpoConfig cfg = rl::PpoConfig::from_config(learner_config);

  auto env = env_registry().make(env_name, device, cfg.num_envs, env_config);
  rl::Ppo ppo(*env, cfg);
  if (resuming) ppo.restore_checkpoint(resume_from);  // checks sizes before changing anything

  // files: only once everything above has been checked
  const std::filesystem::path dir(out_dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path csv_path = dir / "metrics.csv";
  if (resuming) {
    truncate_metrics(csv_path, kCsvHeader, ppo.iteration());
  } else {
    std::ofstream(csv_path) << kCsvHeader << "\n";
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
  if (resuming) events.add_session_start(ppo.global_step() + 1);

  const bool tty = isatty(fileno(stdout));
  const auto t0 = std::chrono::steady_clock::now();
  auto last_print = t0;
  double recent_return = NAN;
  const std::int64_t iterations = cfg.num_iterations();
  const std::int64_t first = ppo.iteration();
  const std::int64_t last_it =
      o.stop_after > 0 ? std::min<std::int64_t>(o.stop_after, iterations) : iterations;
  if (resuming) {
    std::printf("resuming %s at iteration %lld of %lld (%lld env steps done)\n", env_name.c_str(),
                static_cast<long long>(first), static_cast<long long>(iterations),
                static_cast<long long>(ppo.global_step()));
  }
  std::printf(
      "training %s with PPO on cpu: %lld envs, %lld env steps (%lld iterations), seed %llu\n",
      env_name.c_str(), static_cast<long long>(cfg.num_envs),
      static_cast<long long>(iterations * cfg.batch_size()), static_cast<long long>(iterations),
      static_cast<unsigned long long>(cfg.seed));
  const std::string ckpt_path = (dir / "checkpoint.ckpt").string();
  auto save = [&] {
    rl::Checkpoint c = ppo.make_checkpoint();
    c.env = env_name;
    c.algo = o.algo;
    c.env_config = env_config.values();
    c.learner_config = learner_config.values();
    rl::save_checkpoint(ckpt_path, c);
  };
  const std::int64_t save_every = std::max<std::int64_t>(1, iterations / 10);
  for (std::int64_t it = first; it < last_it; ++it) {
    const rl::PpoMetrics m = ppo.iterate();
    if ((it + 1) % save_every == 0 || it + 1 == last_it) save();
    if (m.episodes > 0) recent_return = m.mean_episode_return;
    write_csv_row(csv, m);
    csv.flush();
    events.add_scalars(m.global_step, tensorboard_scalars(m));
    events.flush();
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - t0).count();
    const bool last = it + 1 == last_it;
    if (tty || last || now - last_print > std::chrono::seconds(5)) {
      const int width = 30, done = static_cast<int>(width * (it + 1) / iterations);
      std::printf("%s[%s%s] %lld/%lld steps  %.0f steps/s  recent return %.2f  %.0f s%s",
                  tty ? "\r" : "", std::string(done, '#').c_str(),
                  std::string(width - done, '.').c_str(), static_cast<long long>(m.global_step),
                  static_cast<long long>(iterations * cfg.batch_size()),
                  (m.global_step - first * cfg.batch_size()) / elapsed, recent_return, elapsed,
                  tty && !last ? "" : "\n");
      std::fflush(stdout);
      last_print = now;
    }
  }
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (last_it < iterations) {
    std::printf("stopped after iteration %lld of %lld; continue with: convoy train --resume %s\n",
                static_cast<long long>(ppo.iteration()), static_cast<long long>(iterations),
                out_dir.c_str());
    return;
  }

  const PolicyComparison cmp =
      compare_policies(env_name, env_config, o.eval_episodes, cfg.seed + 1000003, ppo);
  print_comparison(cmp);
  std::ofstream(dir / "summary.json")
      << comparison_json(cmp, ppo.global_step(), train_seconds) << "\n";
  std::printf("wrote %s/metrics.csv, summary.json, checkpoint.ckpt and %s (%.1f s of training)\n",
              out_dir.c_str(), std::filesystem::path(events.path()).filename().c_str(),
              train_seconds);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto opts = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "Train a policy (PPO or SAC) and evaluate it");
  cmd->add_option("--env", opts->env, "Environment name (required unless --resume)");
  cmd->add_option("--algo", opts->algo, "ppo or sac (Box action spaces)")->capture_default_str();
  cmd->add_option(
         "--device", opts->device,
         "cpu, cuda, cuda:K or auto (the CPU: training keeps the CPU's bits unless a GPU is "
         "asked for)")
      ->capture_default_str();
  cmd->add_option("--num-envs", opts->num_envs, "Parallel envs (default: the preset's)");
  cmd->add_option("--total-steps", opts->total_steps, "Env steps (default: the preset's)");
  cmd->add_option("--seed", opts->seed, "Seed (default: the preset's)");
  cmd->add_option("--out", opts->out, "Output directory")->capture_default_str();
  cmd->add_option("--eval-episodes", opts->eval_episodes, "Evaluation episodes")
      ->capture_default_str();
  cmd->add_option("--resume", opts->resume,
                  "Continue the run in DIR from its checkpoint to the same total (bit-identical "
                  "to an uninterrupted run on the same device and thread count)");
  cmd->add_option("--stop-after", opts->stop_after,
                  "Stop after this iteration (SAC: chunk of 1% of the run) with a checkpoint, to "
                  "continue with --resume");
  cmd->add_option("config", opts->config, "Learner settings key=value, env settings env.key=value");
  cmd->callback([opts, cmd] {
    opts->out_given = cmd->count("--out") > 0;
    opts->algo_given = cmd->count("--algo") > 0;
    run_train(*opts);
  });
}

}  // namespace convoy::cli
