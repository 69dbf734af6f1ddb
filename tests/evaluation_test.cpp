// `convoy eval`'s evaluation (train/evaluation.h, train/policy.h) on a device: a checkpoint
// evaluated on the CPU gives the numbers of the learner it was taken from, an explicit cpu
// device the default's, and on CUDA (skipped without a GPU) the CPU's within a stated tolerance.
#include "train/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "envs/registry.h"
#include "rl/checkpoint.h"
#include "rl/ppo.h"
#include "rl/sac.h"
#include "tests/test_util.h"
#include "train/learner.h"
#include "train/policy.h"

namespace convoy::train {
namespace {

using Settings = std::map<std::string, std::string>;

Config config_of(const Settings& s) {
  Config c;
  for (const auto& [k, v] : s) c.set(k, v);
  return c;
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "convoy_evaluation_test_" + name + ".ckpt";
}

// A PPO checkpoint of `env_name` after `iterations` iterations on the CPU, as `convoy train`
// writes it; the learner stays in *out for the comparison with its in-memory evaluation.
std::string ppo_checkpoint(const std::string& env_name, const Settings& learner, int iterations,
                           const std::string& name, std::unique_ptr<Learner>* out) {
  *out = find_learner("ppo").make(env_name, Config(), config_of(learner), Device::cpu(), false);
  for (int i = 0; i < iterations; ++i) (*out)->iterate();
  rl::Checkpoint c = (*out)->make_checkpoint();
  c.env = env_name;
  c.algo = "ppo";
  c.learner_config = learner;
  const std::string path = temp_path(name);
  rl::save_checkpoint(path, c);
  return path;
}

const Settings kCartPole = {
    {"num_envs", "4"}, {"num_steps", "128"}, {"seed", "3"}, {"total_timesteps", "4096"}};
const Settings kPendulum = {{"num_envs", "4"},    {"num_steps", "64"},
                            {"seed", "5"},        {"total_timesteps", "1024"},
                            {"norm_obs", "true"}, {"num_minibatches", "2"}};

void expect_same(const EvalResult& a, const EvalResult& b, const char* what) {
  EXPECT_EQ(a.mean, b.mean) << what;
  EXPECT_EQ(a.std, b.std) << what;
  EXPECT_EQ(a.mean_length, b.mean_length) << what;
  EXPECT_EQ(a.early_end_rate, b.early_end_rate) << what;
}

TEST(Evaluation, CheckpointOnTheCpuMatchesItsLearnerAndTheDefaultDevice) {
  std::unique_ptr<Learner> ppo;
  const std::string path = ppo_checkpoint("CartPole-v1", kCartPole, 8, "cpu", &ppo);
  const PolicyComparison learner = compare_policies("CartPole-v1", Config(), 10, 77, *ppo);
  CheckpointPolicy by_default(path), on_cpu(path, Device::cpu());
  const PolicyComparison a = by_default.compare(10, 77), b = on_cpu.compare(10, 77);
  std::remove(path.c_str());
  EXPECT_EQ(a.device, "cpu");
  EXPECT_EQ(b.device, "cpu");
  expect_same(a.trained, learner.trained, "checkpoint vs learner");
  expect_same(a.trained, b.trained, "default vs explicit cpu");
  expect_same(a.random, b.random, "random");
  // the trained policy does better than chance after 4096 steps (greedy from 8 iterations)
  EXPECT_GT(a.trained.mean, a.random.mean);
  EXPECT_NE(comparison_json(b, 0, -1).find("\"device\": \"cpu\""), std::string::npos);
}

// --- on CUDA (skips without a GPU) ---------------------------------------------------------
//
// The envs' physics differ from the CPU's in the last bits of sin/cos/FMA and the PPO's GEMMs
// in rounding (tests/cuda_equivalence_test.cpp, tests/ppo_test.cpp), so a greedy action on a
// near-tie or a state on a termination threshold can send one episode elsewhere. Tolerance:
// every mean return within 5% of the CPU's (+0.5 absolute); the random policy's actions are
// the same Philox draws on both devices.
void expect_near_cpu(const PolicyComparison& cpu, const PolicyComparison& gpu) {
  EXPECT_EQ(gpu.device, "cuda:0");
  EXPECT_EQ(gpu.episodes, cpu.episodes);
  const auto near = [](double want, double got, const char* what) {
    EXPECT_NEAR(got, want, 0.05 * std::fabs(want) + 0.5) << what;
  };
  near(cpu.trained.mean, gpu.trained.mean, "trained mean return");
  near(cpu.random.mean, gpu.random.mean, "random mean return");
  EXPECT_EQ(gpu.has_baseline, cpu.has_baseline);
}

void expect_ppo_cuda_matches_cpu(const std::string& env_name, const Settings& learner,
                                 int iterations, const std::string& name) {
  CONVOY_DEVICE_OR_SKIP(gpu, "cuda");
  std::unique_ptr<Learner> ppo;
  const std::string path = ppo_checkpoint(env_name, learner, iterations, name, &ppo);
  CheckpointPolicy on_cpu(path, Device::cpu()), on_gpu(path, gpu);
  std::remove(path.c_str());
  EXPECT_EQ(on_gpu.device(), gpu);
  expect_near_cpu(on_cpu.compare(12, 2024), on_gpu.compare(12, 2024));
}

TEST(EvaluationCuda, PpoCartPoleMatchesTheCpu) {
  expect_ppo_cuda_matches_cpu("CartPole-v1", kCartPole, 8, "cuda_cartpole");
}

TEST(EvaluationCuda, PpoPendulumWithNormalisedObsMatchesTheCpu) {
  expect_ppo_cuda_matches_cpu("Pendulum-v1", kPendulum, 4, "cuda_pendulum");
}

// SAC acts on the GPU too (its networks live where the evaluated envs do).
TEST(EvaluationCuda, SacPendulumMatchesTheCpu) {
  CONVOY_DEVICE_OR_SKIP(gpu, "cuda");
  const Settings learner = {{"num_envs", "2"}, {"seed", "9"}, {"buffer_size", "2"}};
  rl::SacConfig cfg = rl::SacConfig::from_config(config_of(learner));
  auto env = env_registry().make("Pendulum-v1", Device::cpu(), cfg.num_envs, Config());
  rl::Sac sac(*env, cfg);
  rl::Checkpoint c;
  c.env = "Pendulum-v1";
  c.algo = "sac";
  c.learner_config = learner;
  c.params = sac.params().to_host();
  const std::string path = temp_path("cuda_sac");
  rl::save_checkpoint(path, c);
  CheckpointPolicy on_cpu(path, Device::cpu()), on_gpu(path, gpu);
  std::remove(path.c_str());
  expect_near_cpu(on_cpu.compare(6, 31), on_gpu.compare(6, 31));
}

}  // namespace
}  // namespace convoy::train
