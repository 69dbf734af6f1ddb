// Convoy as a C++ library (find_package(Convoy), see CMakeLists.txt here): trains PPO on
// HighwayFast-v0 through the training layer (the runner behind `convoy train`), saves a
// checkpoint, reloads it and evaluates the greedy policy beside the env's scripted baseline
// and a random policy.
//   train_highway [--steps N] [--out DIR]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "rl/checkpoint.h"
#include "sim/error.h"
#include "train/policy.h"
#include "train/run.h"

int main(int argc, char** argv) {
  convoy::train::RunOptions run;
  run.env = "HighwayFast-v0";
  run.algo = "ppo";
  run.device = "cpu";
  run.total_steps = 8192;
  run.out = "highway-run";  // metrics.csv, TensorBoard events, checkpoint.ckpt
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--steps") run.total_steps = std::atoll(argv[i + 1]);
    if (flag == "--out") run.out = argv[i + 1];
  }
  // explicit settings (presets/ppo/HighwayFast-v0.conf's, fewer envs): no preset file needed
  run.use_preset = false;
  run.settings = {
      "num_envs=8", "num_steps=128", "num_minibatches=16", "update_epochs=10", "learning_rate=5e-4",
      "gamma=0.8",  "seed=1"};
  run.progress = false;  // the callback below prints instead
  try {
    convoy::train::Run trainer(run);
    trainer.train([](const convoy::train::Metrics& m) {
      std::printf("iteration %g: %g env steps, mean return %.2f\n", m.get("iteration"),
                  m.get("global_step"), m.get("mean_return"));
      return true;  // false would stop the run here
    });
    const std::string path = run.out + "/saved.ckpt";
    convoy::rl::save_checkpoint(path, trainer.checkpoint());

    convoy::train::CheckpointPolicy policy(path);
    convoy::train::print_comparison(policy.compare(/*episodes=*/20, /*seed=*/1000003));
  } catch (const convoy::Error& e) {
    std::fprintf(stderr, "train_highway: %s\n", e.what());
    return 1;
  }
  return 0;
}
