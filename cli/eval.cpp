// `convoy eval`: loads a checkpoint written by `convoy train` and evaluates its policy against
// the env's scripted baseline and a random policy, on the CPU or a CUDA device (--device).
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "sim/error.h"
#include "train/evaluation.h"
#include "train/policy.h"

namespace convoy::cli {

namespace {

struct EvalOptions {
  std::string checkpoint;
  int episodes = 20;
  std::string device = "cpu";
  std::int64_t seed = 12345;
  bool json = false;
};

void run_eval(const EvalOptions& o) {
  if (o.episodes < 1 || o.episodes > 100000) {
    throw Error("eval: --episodes " + std::to_string(o.episodes) +
                " is invalid; allowed: 1..100000");
  }
  // cpu (the default), cuda / cuda:K (an unusable GPU is the device's own error, before the
  // checkpoint is read) or auto: cuda:0 when usable, else the CPU
  const Device device = Device::parse(o.device);
  train::CheckpointPolicy policy(o.checkpoint, device);
  const rl::Checkpoint& ckpt = policy.checkpoint();
  const train::PolicyComparison c = policy.compare(o.episodes, static_cast<std::uint64_t>(o.seed));
  if (o.json) {
    std::printf("%s\n", train::comparison_json(c, ckpt.global_step, -1).c_str());
  } else {
    std::string algo = ckpt.algo;
    for (char& ch : algo) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    std::printf("%s, %s after %lld env steps (%s), evaluated on %s\n", ckpt.env.c_str(),
                algo.c_str(), static_cast<long long>(ckpt.global_step), o.checkpoint.c_str(),
                c.device.c_str());
    train::print_comparison(c);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto opts = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint against the baseline and random");
  cmd->add_option("--checkpoint", opts->checkpoint, "File written by convoy train")->required();
  cmd->add_option("--episodes", opts->episodes, "Evaluation episodes")->capture_default_str();
  cmd->add_option("--device", opts->device,
                  "cpu, cuda, cuda:K or auto (cuda:0 when usable) for the evaluated envs and, "
                  "for PPO, the policy's forward")
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Seed of the evaluation episodes")->capture_default_str();
  cmd->add_flag("--json", opts->json, "Print one JSON object");
  cmd->callback([opts] { run_eval(*opts); });
}

}  // namespace convoy::cli
