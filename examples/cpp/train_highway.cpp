// Convoy as a C++ library (find_package(Convoy), see CMakeLists.txt here): trains PPO on
// Highway-v0 briefly, saves a checkpoint, reloads it and evaluates the greedy policy beside
// the env's scripted baseline and a random policy.
//   train_highway [--steps N] [--out highway.ckpt]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/policy.h"
#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "rl/ppo.h"
#include "sim/config.h"
#include "sim/device.h"
#include "sim/error.h"

int main(int argc, char** argv) {
  std::int64_t steps = 8192;
  std::string path = "highway.ckpt";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--steps") steps = std::atoll(argv[i + 1]);
    if (flag == "--out") path = argv[i + 1];
  }
  try {
    // explicit settings (presets/ppo/Highway-v0.conf's, shorter): a checkpoint keeps them
    const convoy::Config env_config;  // Highway-v0's defaults
    const convoy::Config learner_config = convoy::Config::parse(
        {"num_envs=8", "num_steps=128", "num_minibatches=16", "update_epochs=10",
         "learning_rate=5e-4", "gamma=0.8", "total_timesteps=" + std::to_string(steps), "seed=1"});
    const auto cfg = convoy::rl::PpoConfig::from_config(learner_config);
    auto env =
        convoy::env_registry().make("Highway-v0", convoy::Device::cpu(), cfg.num_envs, env_config);
    convoy::rl::Ppo ppo(*env, cfg);
    for (std::int64_t it = 0; it < cfg.num_iterations(); ++it) {
      const convoy::rl::PpoMetrics m = ppo.iterate();
      std::printf("iteration %lld: %lld env steps, mean return %.2f\n",
                  static_cast<long long>(m.iteration), static_cast<long long>(m.global_step),
                  m.mean_episode_return);
    }

    convoy::rl::Checkpoint ckpt = ppo.make_checkpoint();
    ckpt.env = "Highway-v0";  // what CheckpointPolicy rebuilds the env and learner from
    ckpt.algo = "ppo";
    ckpt.env_config = env_config.values();
    ckpt.learner_config = learner_config.values();
    convoy::rl::save_checkpoint(path, ckpt);

    convoy::cli::CheckpointPolicy policy(path);
    convoy::cli::print_comparison(policy.compare(/*episodes=*/20, /*seed=*/1000003));
  } catch (const convoy::Error& e) {
    std::fprintf(stderr, "train_highway: %s\n", e.what());
    return 1;
  }
  return 0;
}
