// The checked-in learner presets (presets/<algo>/<env>.conf, read by `convoy train`): each
// names a registered env, starts with a comment saying where its numbers come from, sets no
// key twice, and every key is one its learner (or, as env.key, its env) reads with a value in
// range, so that `convoy train --env X [--algo sac]` starts. Building the learner on the env
// also checks that the algorithm fits the env's spaces (SAC: a finite Box). No training.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "rl/ppo.h"
#include "rl/sac.h"
#include "sim/config.h"
#include "sim/error.h"
#include "train/run.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> preset_words(const fs::path& path) {
  return read_config_words(path.string());
}

// Builds the env and the learner from `words` by the runner of `convoy train` (env.key=value
// to the env, the rest to the learner); throws convoy::Error on an unknown key or a bad value.
void build_from_preset(const std::string& algo, const std::string& env_name,
                       const std::vector<std::string>& words) {
  train::RunOptions o;
  o.env = env_name;
  o.algo = algo;
  o.device = "cpu";
  o.settings = words;
  o.use_preset = false;
  o.eval_episodes = 0;
  o.progress = false;
  train::Run run(o);
}

std::vector<fs::path> preset_files() {
  std::vector<fs::path> files;
  for (const auto& algo_dir : fs::directory_iterator(CONVOY_PRESET_DIR)) {
    if (!algo_dir.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(algo_dir.path())) files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Presets, EveryPresetNamesKnownKeysAndBuilds) {
  const std::vector<fs::path> files = preset_files();
  ASSERT_GE(files.size(), 1u) << CONVOY_PRESET_DIR;
  const std::vector<std::string> envs = env_registry().names();
  const std::set<std::string> env_names(envs.begin(), envs.end());
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.string());
    EXPECT_EQ(path.extension(), ".conf");
    const std::string algo = path.parent_path().filename().string();
    const std::string env_name = path.stem().string();
    EXPECT_TRUE(env_names.count(env_name)) << env_name << " is not a registered env";
    if (!env_names.count(env_name)) continue;

    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    EXPECT_TRUE(first.rfind("# ", 0) == 0)
        << "a preset starts with a comment saying where its numbers come from: " << first;

    const std::vector<std::string> words = preset_words(path);
    EXPECT_FALSE(words.empty());
    std::map<std::string, int> count;
    for (const auto& w : words) ++count[w.substr(0, w.find('='))];
    for (const auto& [key, n] : count) EXPECT_EQ(n, 1) << key << " is set " << n << " times";

    try {
      build_from_preset(algo, env_name, words);
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

// The check above is not vacuous: a misspelt learner key, a misspelt env key and a value out
// of range in an otherwise valid preset are each refused.
TEST(Presets, BadPresetWordsAreRefused) {
  const std::vector<std::string> good =
      preset_words(fs::path(CONVOY_PRESET_DIR) / "ppo" / "CartPole-v1.conf");
  ASSERT_FALSE(good.empty());
  EXPECT_NO_THROW(build_from_preset("ppo", "CartPole-v1", good));
  for (const std::string bad :
       {"learning_rat=1e-3", "env.max_episode_step=10", "gamma=1.5", "norm_obs=maybe"}) {
    std::vector<std::string> words = good;
    words.push_back(bad);
    EXPECT_THROW(build_from_preset("ppo", "CartPole-v1", words), Error) << bad;
  }
  // SAC on a Discrete env cannot be built
  EXPECT_THROW(build_from_preset("sac", "CartPole-v1", {"total_timesteps=1000"}), Error);
  // nor does a SAC preset with a PPO-only key, a misspelt key or a value out of range
  const std::vector<std::string> sac_good =
      preset_words(fs::path(CONVOY_PRESET_DIR) / "sac" / "Pendulum-v1.conf");
  ASSERT_FALSE(sac_good.empty());
  EXPECT_NO_THROW(build_from_preset("sac", "Pendulum-v1", sac_good));
  for (const std::string bad : {"ent_coef=0.1", "alpah=0.5", "tau=2", "autotune=sometimes"}) {
    std::vector<std::string> words = sac_good;
    words.push_back(bad);
    EXPECT_THROW(build_from_preset("sac", "Pendulum-v1", words), Error) << bad;
  }
}

// Every SAC preset runs past its uniform-random warm-up by more than a batch (so that a preset
// run updates the networks at all) and keeps at least 10,000 transitions (or the whole run).
TEST(Presets, SacPresetsTrainPastTheirWarmUp) {
  int n = 0;
  for (const fs::path& path : preset_files()) {
    if (path.parent_path().filename() != "sac") continue;
    SCOPED_TRACE(path.string());
    ++n;
    Config learner_config;
    const Config all = Config::parse(preset_words(path));
    for (const auto& [k, v] : all.values()) {
      if (k.rfind("env.", 0) != 0) learner_config.set(k, v);
    }
    const rl::SacConfig cfg = rl::SacConfig::from_config(learner_config);
    EXPECT_GT(cfg.total_timesteps, cfg.learning_starts + cfg.batch_size);
    EXPECT_GE(cfg.buffer_size, std::min<std::int64_t>(cfg.total_timesteps, 10000));
  }
  EXPECT_GE(n, 1);
}

// Issue 4: `convoy train --env X` just works for every env Convoy ships.
TEST(Presets, EveryEnvHasAPpoPreset) {
  for (const std::string& name : env_registry().names()) {
    EXPECT_TRUE(fs::exists(fs::path(CONVOY_PRESET_DIR) / "ppo" / (name + ".conf"))) << name;
  }
}

}  // namespace
}  // namespace convoy
