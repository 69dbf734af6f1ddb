// `convoy envs`: every registered env with its spaces and config keys.
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "envs/registry.h"

namespace convoy::cli {
namespace {
// The capabilities an env declares, as words: "outcome baseline(ego_policy=autopilot) ...".
std::string env_features(const EnvSpec& s) {
  std::string out;
  auto add = [&out](const std::string& word) { out += (out.empty() ? "" : " ") + word; };
  if (s.has_outcome) add("outcome");
  if (s.has_baseline()) {
    std::string words;
    for (const auto& w : s.baseline_config) words += (words.empty() ? "" : " ") + w;
    add("baseline(" + words + ")");
  }
  if (s.multi_agent) add("multi_agent");
  if (s.goal_conditioned) add("goal_conditioned");
  return out;
}
}  // namespace

void add_envs_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("envs", "List the environments, their spaces and config keys");
  auto* verbose = cmd->add_flag("--keys", "Also list each env's config keys");
  cmd->callback([verbose] {
    for (const auto& e : env_registry().entries()) {
      const EnvSpec& s = e.spec;
      std::printf("%s\n  %s\n  observation: %s\n  action:      %s\n  max_episode_steps: %lld",
                  s.name.c_str(), s.description.c_str(), s.observation_space.str().c_str(),
                  s.action_space.str().c_str(), static_cast<long long>(s.max_episode_steps));
      if (!std::isnan(s.reward_threshold))
        std::printf("  reward_threshold: %g", s.reward_threshold);
      std::printf("\n");
      const std::string features = env_features(s);
      if (!features.empty()) std::printf("  features: %s\n", features.c_str());
      if (*verbose) {
        for (const auto& k : s.config_keys) {
          std::printf("    %s=%s  (%s in %s) %s\n", k.name.c_str(), k.default_value.c_str(),
                      k.type.c_str(), k.allowed.c_str(), k.doc.c_str());
        }
      }
    }
  });
}

}  // namespace convoy::cli
