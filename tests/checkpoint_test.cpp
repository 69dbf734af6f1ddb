// Checkpoints round-trip exactly, and truncated, corrupted, foreign or newer files are refused.
#include "rl/checkpoint.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sim/error.h"

namespace convoy::rl {
namespace {

std::string error_of(const std::string& path) {
  try {
    load_checkpoint(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class CheckpointFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "convoy_ckpt_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    c_.env = "HighwayFast-v0";
    c_.algo = "ppo";
    c_.env_config = {{"lanes", "4"}};
    c_.learner_config = {{"learning_rate", "0.001"}, {"num_envs", "8"}};
    c_.global_step = 123456;
    c_.iteration = 42;
    c_.adam_steps = 420;
    for (int i = 0; i < 1000; ++i) {
      c_.params.push_back(0.001f * i - 0.3f);
      c_.adam_m.push_back(1e-4f * i);
      c_.adam_v.push_back(1e-6f * i);
    }
    c_.obs_rms = RunningMeanStd(3);
    c_.obs_rms.update(std::vector<double>{1, 2, 3, 4, 5, 7}.data(), 2);
    c_.return_rms = RunningMeanStd(1);
    c_.return_rms.count = 17;
    c_.discounted_returns = {0.5, -1.25, 3.0};
    c_.env_state = std::string("convoy-env-state\n\0\x01binary", 25);
    c_.blobs["sac.counters"] = std::string(
        "\0\x01\x02"
        "counters",
        11);
    c_.blobs["sac.replay"] = "";
    save_checkpoint(path_, c_);
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
  Checkpoint c_;
};

TEST_F(CheckpointFile, RoundTripsExactly) {
  const Checkpoint r = load_checkpoint(path_);
  EXPECT_EQ(r.env, c_.env);
  EXPECT_EQ(r.algo, c_.algo);
  EXPECT_EQ(r.env_config, c_.env_config);
  EXPECT_EQ(r.learner_config, c_.learner_config);
  EXPECT_EQ(r.global_step, c_.global_step);
  EXPECT_EQ(r.iteration, c_.iteration);
  EXPECT_EQ(r.adam_steps, c_.adam_steps);
  EXPECT_EQ(r.params, c_.params);
  EXPECT_EQ(r.adam_m, c_.adam_m);
  EXPECT_EQ(r.adam_v, c_.adam_v);
  EXPECT_EQ(r.obs_rms.mean, c_.obs_rms.mean);
  EXPECT_EQ(r.obs_rms.var, c_.obs_rms.var);
  EXPECT_EQ(r.obs_rms.count, c_.obs_rms.count);
  EXPECT_EQ(r.return_rms.var, c_.return_rms.var);
  EXPECT_EQ(r.return_rms.count, 17.0);
  EXPECT_EQ(r.discounted_returns, c_.discounted_returns);
  EXPECT_EQ(r.env_state, c_.env_state);
  EXPECT_EQ(r.blobs, c_.blobs);
  std::ifstream tmp(path_ + ".tmp");
  EXPECT_FALSE(tmp.good());  // written under a temporary name, then renamed
}

TEST_F(CheckpointFile, RefusesTruncatedCorruptedForeignAndNewerFiles) {
  const std::string good = read_all(path_);
  write_all(path_, good.substr(0, good.size() - 100));
  EXPECT_NE(error_of(path_).find("truncated"), std::string::npos) << error_of(path_);
  write_all(path_, good.substr(0, 10));
  EXPECT_NE(error_of(path_).find("not a Convoy checkpoint"), std::string::npos);
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x20;
  write_all(path_, flipped);
  EXPECT_NE(error_of(path_).find("checksum"), std::string::npos) << error_of(path_);
  write_all(path_, "hello, I am a text file\n");
  EXPECT_NE(error_of(path_).find("not a Convoy checkpoint"), std::string::npos);
  std::string newer = good;
  newer[18] = 7;  // the version field follows the 18-byte magic
  write_all(path_, newer);
  EXPECT_NE(error_of(path_).find("format version 7 (newer)"), std::string::npos) << error_of(path_);
  std::string older = good;
  older[18] = 1;  // version 1 had no normalisers or env state
  write_all(path_, older);
  EXPECT_NE(error_of(path_).find("format version 1 (older)"), std::string::npos) << error_of(path_);
  older[18] = 2;  // version 2 had no named blobs (SAC's resume state)
  write_all(path_, older);
  EXPECT_NE(error_of(path_).find("format version 2 (older)"), std::string::npos) << error_of(path_);
  EXPECT_NE(error_of(path_ + ".missing").find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace convoy::rl
