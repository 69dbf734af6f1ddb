// The training layer (train/run.h, train/metrics.h): options are checked before anything is
// written, a callback can stop a run, a run stopped and resumed writes what a straight run
// writes, and a learner's metric table must carry the fields the sinks rely on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/error.h"
#include "train/learner.h"
#include "train/metrics.h"
#include "train/run.h"

namespace convoy::train {
namespace {

namespace fs = std::filesystem;

RunOptions cartpole(const std::string& out) {
  RunOptions o;
  o.env = "CartPole-v1";
  o.device = "cpu";
  o.total_steps = 2048;
  o.seed = 5;
  o.settings = {"num_envs=4", "num_steps=64"};
  o.use_preset = false;
  o.out = out;
  o.eval_episodes = 0;
  o.progress = false;
  return o;
}

std::string fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("convoy_train_run_test_" + name);
  fs::remove_all(dir);
  return dir.string();
}

// metrics.csv without its last (wall-clock steps_per_second) column
std::vector<std::string> rows_without_speed(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "metrics.csv");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}

std::string bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(TrainRun, BadOptionsAreErrorsBeforeAnyFile) {
  const std::string dir = fresh_dir("bad");
  auto expect_error = [&](RunOptions o, const std::string& words) {
    try {
      train::Run run(o);
      FAIL() << "no error for " << words;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir));
  };
  RunOptions o = cartpole(dir);
  o.algo = "a2c";
  expect_error(o, "allowed: ppo, sac, dqn");
  o = cartpole(dir);
  o.env = "Nope-v0";
  expect_error(o, "Nope-v0");
  o = cartpole(dir);
  o.settings.push_back("learning_rat=1");
  expect_error(o, "learning_rat");
  o = cartpole(dir);
  o.settings.push_back("env.gravity=3");
  expect_error(o, "gravity");
  o = cartpole(dir);
  o.eval_episodes = -1;
  expect_error(o, "--eval-episodes -1");
  o = cartpole(dir);
  o.device = "tpu";
  expect_error(o, "tpu");
  o = cartpole(dir);
  o.env.clear();
  expect_error(o, "--env is required");
}

TEST(TrainRun, CallbackStopsTheRunAndSeesTheLearnersFields) {
  train::Run run(cartpole(""));
  std::vector<double> steps;
  const bool ended = run.train([&](const Metrics& m) {
    EXPECT_EQ(m.fields, &run.learner().fields());
    steps.push_back(m.get("global_step"));
    return steps.size() < 3;
  });
  EXPECT_FALSE(ended);
  EXPECT_EQ(steps, (std::vector<double>{256, 512, 768}));
  EXPECT_EQ(run.learner().iteration(), 3);
  EXPECT_THROW(Metrics().get("x"), std::exception);
}

TEST(TrainRun, StoppedAndResumedWritesWhatAStraightRunWrites) {
  for (const std::string algo : {"ppo", "sac", "dqn"}) {
    SCOPED_TRACE(algo);
    RunOptions o = cartpole(fresh_dir(algo + "_straight"));
    if (algo == "sac") {
      o.env = "Pendulum-v1";
      o.algo = "sac";
      o.total_steps = 600;
      o.settings = {"num_envs=2", "learning_starts=200", "batch_size=32", "buffer_size=1000"};
    }
    if (algo == "dqn") {  // prioritized replay and n-step queues resume too
      o.algo = "dqn";
      o.total_steps = 600;
      o.settings = {"num_envs=2",      "learning_starts=200",         "batch_size=32",
                    "buffer_size=256", "replay=prioritized",          "n_step=3",
                    "hidden_size=32",  "target_network_frequency=40", "train_frequency=4"};
    }
    train::Run(o).train();
    RunOptions half = o;
    half.out = fresh_dir(algo + "_half");
    half.stop_after = 3;
    EXPECT_FALSE(train::Run(half).train());
    RunOptions resume;
    resume.resume = half.out;
    resume.device = "cpu";
    resume.eval_episodes = 0;
    resume.progress = false;
    train::Run resumed(resume);
    EXPECT_TRUE(resumed.resuming());
    EXPECT_EQ(resumed.learner().iteration(), 3);
    EXPECT_TRUE(resumed.train());
    EXPECT_EQ(bytes(fs::path(half.out) / "checkpoint.ckpt"),
              bytes(fs::path(o.out) / "checkpoint.ckpt"));
    const auto a = rows_without_speed(half.out), b = rows_without_speed(o.out);
    EXPECT_EQ(a, b);
    EXPECT_EQ(static_cast<std::int64_t>(a.size()), resumed.learner().num_iterations() + 1);
  }
}

TEST(TrainRun, EveryLearnersTableCarriesWhatTheSinksNeed) {
  for (const auto& e : learners()) {
    EXPECT_NO_THROW(check_fields(*e.fields, e.algo));
    EXPECT_FALSE(e.settings().empty()) << e.algo;
  }
  const std::vector<MetricField> missing = {{"global_step", true, nullptr, nullptr, ""},
                                            {"steps_per_second", false, nullptr, nullptr, ""}};
  EXPECT_THROW(check_fields(missing, "broken"), Error);
}

}  // namespace
}  // namespace convoy::train
