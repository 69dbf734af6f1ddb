// Each classic env against trajectories written by Gymnasium itself (scripts/make-golden.py):
// the same state is injected into both, the same actions applied, and obs / reward /
// terminated / truncated must agree at atol 1e-5 at every step, episode ends included.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

struct GoldenCase {
  std::string env;
  std::string backend;
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.env << " on " << c.backend; }

class ClassicGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(ClassicGolden, MatchesGymnasium) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam().backend);
  const std::string name = GetParam().env;
  const std::string path = std::string(CONVOY_TEST_DATA_DIR) + "/golden_" + name + ".txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing " << path << " (run scripts/make-golden.py)";

  auto env = env_registry().make(name, device, 1);
  env->reset(0);
  const int obs_dim = static_cast<int>(env->obs_dim());
  const int act_dim = static_cast<int>(env->act_dim());
  DeviceArray<std::int32_t> int_action(device, act_dim);
  DeviceArray<float> float_action(device, act_dim);

  constexpr double kAtol = 1e-5;
  int steps = 0, terminations = 0, truncations = 0, line_no = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "env") {
      std::string id;
      int od, ad, disc;
      ls >> id >> od >> ad >> disc;
      ASSERT_EQ(id, name);
      ASSERT_EQ(od, obs_dim);
      ASSERT_EQ(ad, act_dim);
      ASSERT_EQ(disc != 0, env->discrete_actions());
    } else if (kind == "inject") {
      int elapsed;
      ls >> elapsed;
      std::vector<double> state(env->spec().state_dim);
      for (double& v : state) ls >> v;
      ASSERT_TRUE(ls) << path << ":" << line_no;
      env->set_state(0, state, elapsed);
    } else if (kind == "step") {
      std::vector<double> action(act_dim), obs(obs_dim);
      double reward;
      int term, trunc;
      for (double& v : action) ls >> v;
      for (double& v : obs) ls >> v;
      ls >> reward >> term >> trunc;
      ASSERT_TRUE(ls) << path << ":" << line_no;
      if (env->discrete_actions()) {
        int_action.copy_from_host(std::vector<std::int32_t>{static_cast<std::int32_t>(action[0])});
        env->step(int_action);
      } else {
        std::vector<float> a(action.begin(), action.end());
        float_action.copy_from_host(a);
        env->step(float_action);
      }
      const auto got_term = env->terminated().to_host()[0];
      const auto got_trunc = env->truncated().to_host()[0];
      ASSERT_EQ(got_term, term) << name << " terminated at " << path << ":" << line_no;
      ASSERT_EQ(got_trunc, trunc) << name << " truncated at " << path << ":" << line_no;
      // on an episode end Gymnasium returns the last obs; Convoy keeps it in final_obs
      const auto got_obs = (term || trunc) ? env->final_obs().to_host() : env->obs().to_host();
      for (int j = 0; j < obs_dim; ++j) {
        ASSERT_NEAR(got_obs[j], obs[j], kAtol)
            << name << " obs[" << j << "] at " << path << ":" << line_no;
      }
      ASSERT_NEAR(env->reward().to_host()[0], reward, kAtol)
          << name << " reward at " << path << ":" << line_no;
      ++steps;
      terminations += term;
      truncations += trunc;
    }
  }
  EXPECT_GE(steps, 1000);
  EXPECT_GE(truncations, 1);
  if (name != "Pendulum-v1") {
    EXPECT_GE(terminations, 1);
  }
}

std::vector<GoldenCase> cases() {
  std::vector<GoldenCase> out;
  for (const auto& backend : test::backends()) {
    for (const char* env :
         {"CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0"}) {
      out.push_back({env, backend});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Gymnasium, ClassicGolden, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           std::string n = info.param.env + "_" + info.param.backend;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace convoy
