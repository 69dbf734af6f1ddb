// `convoy train`: the command line of the runner (train/run.h), which does the work: presets,
// settings, device, checkpoints, --resume, metrics (DIR/metrics.csv, a TensorBoard event
// file, the progress line) and the closing evaluation (DIR/summary.json).
#include <memory>
#include <string>

#include "cli/commands.h"
#include "sim/error.h"
#include "train/learner.h"
#include "train/run.h"

namespace convoy::cli {

void add_train_command(CLI::App& app) {
  auto opts = std::make_shared<train::RunOptions>();
  opts->out = "runs/latest";
  auto* cmd = app.add_subcommand("train", "Train a policy (PPO, SAC or DQN) and evaluate it");
  cmd->add_option("--env", opts->env, "Environment name (required unless --resume)");
  cmd->add_option("--algo", opts->algo,
                  train::learner_names() + " (sac: Box action spaces; dqn: Discrete)")
      ->capture_default_str();
  cmd->add_option("--device", opts->device,
                  "cpu, cuda, cuda:K or auto (cuda:0 when a GPU is usable, else the CPU)")
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
  cmd->add_flag(
      "--no-preset", [opts](std::int64_t) { opts->use_preset = false; },
      "Ignore presets/<algo>/<env>.conf: the learner's defaults and the words given");
  cmd->add_option("config", opts->settings,
                  "Learner settings key=value, env settings env.key=value");
  // the learners' settings, from the one declaration each (their read_config)
  std::string footer = "\nLearner settings (key=value):";
  for (const auto& e : train::learners()) {
    footer += "\n  " + e.algo + ": " + e.description;
    std::string metrics;
    for (const auto& f : *e.fields) metrics += (metrics.empty() ? "" : ", ") + std::string(f.name);
    footer += "\n    metrics.csv / callback: " + metrics;
    for (const auto& k : e.settings()) {
      footer += "\n    " + k.name + "=" + k.default_value + "  " + k.allowed + "  " + k.doc;
    }
  }
  cmd->footer(footer);
  cmd->callback([opts, cmd] {
    if (opts->eval_episodes < 1) {
      throw Error("train: --eval-episodes " + std::to_string(opts->eval_episodes) +
                  " is invalid; allowed: 1..100000");
    }
    opts->out_given = cmd->count("--out") > 0;
    opts->algo_given = cmd->count("--algo") > 0;
    train::Run(*opts).execute();
  });
}

}  // namespace convoy::cli
