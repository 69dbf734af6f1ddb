// A multi-agent env's engine stages, over scenes (sim/env_contract.h): scene c owns rows
// c * A .. c * A + A - 1, ends and auto-resets as a whole, and draws from the Philox stream of its
// first row's seed, keyed by the scene index. Launched by BatchedEnv<E> (sim/batched_env.h).
#pragma once

#include <cstdint>

#include "sim/engine_kernels.h"
#include "sim/env_contract.h"
#include "sim/hd.h"
#include "sim/rng.h"

namespace convoy {
namespace detail {

template <class E>
struct MultiResetKernel {
  EngineView<E> e;
  std::int32_t agents;
  CONVOY_HD void operator()(std::int64_t c) const {
    const std::int64_t row0 = c * agents;
    PhiloxStream rng(e.seeds[row0], static_cast<std::uint64_t>(c), 0, 0, RngPurpose::kReset);
    E::reset(e.params, e.state, c, rng);
    e.episode[c] = 0;
    e.elapsed[c] = 0;
    for (std::int32_t a = 0; a < agents; ++a) {
      const std::int64_t r = row0 + a;
      e.episode_return[r] = 0.0;
      e.episode_length[r] = 0;
      e.reward[r] = 0.0f;
      e.terminated[r] = 0;
      e.truncated[r] = 0;
      E::observe(e.params, e.state, c, a, e.obs + r * e.obs_dim);
    }
  }
};

template <class E>
struct MultiStepKernel {
  static constexpr int kMaxAgents = E::kMaxAgents;
  EngineView<E> e;
  std::int32_t agents;
  const std::int32_t* a_int;  // (num_envs) for Discrete
  const float* a_float;       // (num_envs x kActDim) for Box
  const std::uint8_t* skip;   // (num_envs) or null: a scene is skipped by its first row's flag
  CONVOY_HD void operator()(std::int64_t c) const {
    const std::int64_t row0 = c * agents;
    if (skip && skip[row0]) {
      skipped(c);
      return;
    }
    // actions -> dynamics -> reward/done, all agents of the scene at once
    float r[kMaxAgents];
    bool term = false;
    PhiloxStream step_rng = streams()(c);
    if constexpr (E::kDiscrete) {
      E::step(e.params, e.state, c, a_int + row0, r, &term, step_rng);
    } else {
      E::step(e.params, e.state, c, a_float + row0 * E::kActDim, r, &term, step_rng);
    }
    finish(c, r, term);
  }
  // the kStep streams of E::step (and of E::step_batch's per-scene stages)
  CONVOY_HD SceneStepStreams streams() const { return {e.seeds, e.episode, e.elapsed, agents}; }
  // a skipped scene (its first row's skip byte set) is left as it is
  CONVOY_HD void skipped(std::int64_t c) const {
    const std::int64_t row0 = c * agents;
    for (std::int32_t a = 0; a < agents; ++a) {
      e.reward[row0 + a] = 0.0f;
      e.terminated[row0 + a] = 0;
      e.truncated[row0 + a] = 0;
    }
  }
  // After the dynamics gave the rewards r (agents) and the scene's termination: bookkeeping,
  // auto-reset, observe.
  CONVOY_HD void finish(std::int64_t c, const float* r, bool term) const {
    const std::int64_t row0 = c * agents;
    // the scene's bookkeeping; every row of it ends together
    const std::int32_t steps = e.elapsed[c] + 1;
    const bool trunc = steps >= e.params.max_episode_steps;
    const bool done = term || trunc;
    for (std::int32_t a = 0; a < agents; ++a) {
      const std::int64_t i = row0 + a;
      const double ret = e.episode_return[i] + static_cast<double>(r[a]);
      const std::int32_t len = e.episode_length[i] + 1;
      e.reward[i] = r[a];
      e.terminated[i] = term ? 1 : 0;
      e.truncated[i] = trunc ? 1 : 0;
      if (done) {
        E::observe(e.params, e.state, c, a, e.final_obs + i * e.obs_dim);
        e.final_return[i] = ret;
        e.final_length[i] = len;
        if constexpr (Capabilities<E>::kOutcome) {
          e.final_outcome[i] = E::outcome(e.params, e.state, c, a);
        }
        e.episode_return[i] = 0.0;
        e.episode_length[i] = 0;
      } else {
        e.episode_return[i] = ret;
        e.episode_length[i] = len;
      }
    }
    // auto-reset (SAME_STEP) of the whole scene
    if (done) {
      const std::uint32_t next_episode = e.episode[c] + 1;
      e.episode[c] = next_episode;
      PhiloxStream rng(e.seeds[row0], static_cast<std::uint64_t>(c), next_episode, 0,
                       RngPurpose::kReset);
      E::reset(e.params, e.state, c, rng);
      e.elapsed[c] = 0;
    } else {
      e.elapsed[c] = steps;
    }
    for (std::int32_t a = 0; a < agents; ++a) {
      E::observe(e.params, e.state, c, a, e.obs + (row0 + a) * e.obs_dim);
    }
  }
};

// MultiStepKernel's bookkeeping after a multi-agent E::step_batch wrote each row's reward and
// its scene's termination (in every row of the scene).
template <class E>
struct MultiFinishKernel {
  MultiStepKernel<E> k;
  CONVOY_HD void operator()(std::int64_t c) const {
    const std::int64_t row0 = c * k.agents;
    if (k.skip && k.skip[row0]) {
      k.skipped(c);
      return;
    }
    float r[MultiStepKernel<E>::kMaxAgents];
    for (std::int32_t a = 0; a < k.agents; ++a) r[a] = k.e.reward[row0 + a];
    k.finish(c, r, k.e.terminated[row0] != 0);
  }
};

}  // namespace detail
}  // namespace convoy
