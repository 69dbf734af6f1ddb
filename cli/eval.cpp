// `convoy eval`: loads a checkpoint written by `convoy train` and evaluates its policy against
// the env's scripted baseline and a random policy.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/evaluation.h"
#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "rl/ppo.h"
#include "rl/sac.h"
#include "sim/error.h"

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
  const Device device = Device::parse(o.device);
  if (device.is_cuda()) {
    throw Error("eval: the learners run on the CPU only so far; use --device cpu");
  }
  const rl::Checkpoint ckpt = rl::load_checkpoint(o.checkpoint);
  if (ckpt.algo != "ppo" && ckpt.algo != "sac") {
    throw Error("eval: checkpoint algorithm '" + ckpt.algo + "' is unknown; allowed: ppo, sac");
  }
  Config env_config, learner_config;
  for (const auto& [k, v] : ckpt.env_config) env_config.set(k, v);
  for (const auto& [k, v] : ckpt.learner_config) learner_config.set(k, v);
  auto wrong_size = [&](std::int64_t want) {
    return Error("eval: checkpoint '" + o.checkpoint + "' holds " +
                 std::to_string(ckpt.params.size()) + " parameters but its settings make " +
                 std::to_string(want));
  };
  const auto seed = static_cast<std::uint64_t>(o.seed);
  PolicyComparison c;
  if (ckpt.algo == "ppo") {
    const rl::PpoConfig cfg = rl::PpoConfig::from_config(learner_config);
    auto env = env_registry().make(ckpt.env, Device::cpu(), cfg.num_envs, env_config);
    rl::Ppo ppo(*env, cfg);
    if (static_cast<std::int64_t>(ckpt.params.size()) != ppo.num_params()) {
      throw wrong_size(ppo.num_params());
    }
    ppo.restore_checkpoint(ckpt, /*with_env_state=*/false);  // params + frozen obs statistics
    c = compare_policies(ckpt.env, env_config, o.episodes, seed, ppo);
  } else {
    rl::SacConfig cfg = rl::SacConfig::from_config(learner_config);
    cfg.buffer_size = cfg.num_envs;  // acting only: no replay needed
    auto env = env_registry().make(ckpt.env, Device::cpu(), cfg.num_envs, env_config);
    rl::Sac sac(*env, cfg);
    if (static_cast<std::int64_t>(ckpt.params.size()) != sac.num_params()) {
      throw wrong_size(sac.num_params());
    }
    sac.load_params(ckpt.params);
    c = compare_policies(
        ckpt.env, env_config, o.episodes, seed, "sac", [&](VecEnv& e, void* a, int) {
          sac.act_deterministic(e.obs().data(), e.num_envs(), static_cast<float*>(a));
        });
  }
  if (o.json) {
    std::printf("%s\n", comparison_json(c, ckpt.global_step, -1).c_str());
  } else {
    std::string algo = ckpt.algo;
    for (char& ch : algo) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    std::printf("%s, %s after %lld env steps (%s)\n", ckpt.env.c_str(), algo.c_str(),
                static_cast<long long>(ckpt.global_step), o.checkpoint.c_str());
    print_comparison(c);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto opts = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint against the baseline and random");
  cmd->add_option("--checkpoint", opts->checkpoint, "File written by convoy train")->required();
  cmd->add_option("--episodes", opts->episodes, "Evaluation episodes")->capture_default_str();
  cmd->add_option("--device", opts->device, "cpu (the learners run on the CPU so far)")
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Seed of the evaluation episodes")->capture_default_str();
  cmd->add_flag("--json", opts->json, "Print one JSON object");
  cmd->callback([opts] { run_eval(*opts); });
}

}  // namespace convoy::cli
