// make_env_spec<E>: the EnvSpec (sim/vec_env.h) of an env type, read from its contract
// (sim/env_contract.h) and its settings: spaces, sizes and the capabilities tools show.
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "sim/config.h"
#include "sim/env_contract.h"
#include "sim/vec_env.h"

namespace convoy {

namespace detail {
// The state size exchanged by get_state / set_state: fixed (kStateDim > 0) or by settings.
template <class E>
int state_dim_of(const typename E::Params& p) {
  if constexpr (E::kStateDim > 0) {
    return E::kStateDim;
  } else {
    return E::state_dim(p);
  }
}
template <class E>
int agents_of(const typename E::Params& p) {
  if constexpr (Capabilities<E>::kMultiAgent) {
    return E::agents(p);
  } else {
    return 1;
  }
}

// E::kBaseline ("key=value key=value") split into words; none where E has no baseline.
// tests/env_capabilities_test.cpp pins which envs have one.
template <class E>
std::vector<std::string> baseline_words() {
  std::vector<std::string> words;
  if constexpr (Capabilities<E>::kBaseline) {
    std::istringstream in(E::kBaseline);
    for (std::string word; in >> word;) words.push_back(word);
  }
  return words;
}
}  // namespace detail

template <class E>
EnvSpec make_env_spec(const typename E::Params& params, std::vector<ConfigKey> keys) {
  using Caps = Capabilities<E>;
  EnvSpec s;
  s.name = E::kName;
  s.description = E::kDescription;
  s.observation_space = E::observation_space(params);
  s.action_space = E::action_space(params);
  s.max_episode_steps = params.max_episode_steps;
  s.reward_threshold = E::reward_threshold(params);
  s.state_dim = detail::state_dim_of<E>(params);
  s.has_outcome = Caps::kOutcome;
  s.agents_per_env = detail::agents_of<E>(params);
  s.config_keys = std::move(keys);
  s.baseline_config = detail::baseline_words<E>();
  s.multi_agent = Caps::kMultiAgent;
  s.goal_conditioned = Caps::kGoalConditioned;
  return s;
}

// E's spec with default settings, for listings.
template <class E>
EnvSpec default_env_spec() {
  const Config empty;
  ConfigReader reader(empty, E::kName);
  const typename E::Params params = E::read_params(reader);
  return make_env_spec<E>(params, reader.keys());
}

}  // namespace convoy
