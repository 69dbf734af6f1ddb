// BatchedEnv<E> is the engine behind every VecEnv: it owns E's state (structure of arrays),
// validates actions, launches E's per-env stages with for_each_index and does the episode
// bookkeeping and SAME_STEP auto-reset inside the same per-env pass. An env E only states
// its physics and rules:
//
//   struct E {
//     static constexpr const char* kName, *kDescription;
//     static constexpr int kObsDim, kActDim, kStateDim;   // kActDim is 1 for Discrete;
//                        // kStateDim <= 0: sized by settings, static int state_dim(const Params&)
//     static constexpr bool kDiscrete;
//     struct Params { std::int32_t max_episode_steps; ... };   // by value into kernels
//     static Params read_params(ConfigReader&);
//     static Space observation_space(const Params&), action_space(const Params&);
//     static double reward_threshold(const Params&);          // NaN if none
//     struct View { ... raw SoA pointers ... };
//     struct State { State(const Device&, std::int64_t n[, const Params&]); View view(); };
//     CONVOY_HD static void reset(const Params&, const View&, std::int64_t i, PhiloxStream&);
//     CONVOY_HD static void step(const Params&, const View&, std::int64_t i, Action a,
//                                float* reward, bool* terminated);  // Action: int32 or const
//                                float*
//     CONVOY_HD static void observe(const Params&, const View&, std::int64_t i, float* obs);
//     CONVOY_HD static void read_state(const View&, std::int64_t i, double* s);
//     CONVOY_HD static void write_state(const View&, std::int64_t i, const double* s);
//     // optional: how an episode ended (EpisodeOutcome), read when it ends
//     static constexpr bool kHasOutcome = true;
//     CONVOY_HD static std::uint8_t outcome(const Params&, const View&, std::int64_t i);
//     // optional: the config words of a scripted baseline (EnvSpec::baseline_config)
//     static constexpr const char* kBaseline = "ego_policy=autopilot";
//     // optional: a goal-conditioned obs, the goals' offsets in it (EnvSpec::goal_conditioned)
//     static constexpr int kAchievedGoalOffset, kDesiredGoalOffset;
//     // optional, CPU only: several envs per call (SIMD); see HasStepBlock below
//     static bool vector_step_available();
//     static void step_block(...);
//     // optional, any device: the step of all envs as several launches (per env, per env x
//     // vehicle ...) over scratch in E::State; see HasStepBatch below
//     static bool step_batch_enabled(const Params&, const Device&);
//     static void step_batch(...);
//     // optional, any device: the observation per env x lidar ray; see HasObserveBatch below
//     static bool observe_batch_enabled(const Params&, const Device&);
//     static int observe_rays(const Params&);
//     CONVOY_HD static void observe_ray(...), observe_features(...);
//   };
//
// save_state / load_state snapshot the engine for checkpoints. They take E's state through
// read_state / write_state, which must then be E's whole state; an env whose State holds
// more (held commands, timers, per-vehicle parameters) lists every array instead:
//     template <class F> void for_each_array(F&& f) { f(x); f(y); ... }   // in E::State
//
// A multi-agent env also states `CONVOY_HD static int agents(const Params&)` (controlled agents
// per scene, at most its kMaxAgents). Its State is sized by scenes; the VecEnv's rows are
// scenes x agents, agent-major within a scene (row = scene * agents + agent), so single-agent
// learners train on it unchanged.
// One call per scene handles all of its agents, with these signatures instead:
//     reset(params, view, scene, rng)                        as above
//     step(params, view, scene, const Action* a /* agents [x kActDim] */, float* reward
//          /* (agents) */, bool* terminated /* the scene's */, PhiloxStream& rng /* kStep, from
//          SceneStepStreams (sim/rng.h) */)
//     step_batch(..., scenes, actions, skip, streams, reward, terminated)   optional: the step
//          as several launches (per scene, per scene x vehicle); see HasStepBatch
//     observe(params, view, scene, agent, obs)
//     outcome(params, view, scene, agent)                    per agent, when kHasOutcome
//     read_state(view, scene, s), write_state(params, view, scene, s)   per scene
// Episodes end per scene: all of a scene's rows terminate or truncate together and the scene
// auto-resets as a whole, from the seed of its first row. Its State lists its arrays
// (for_each_array) for snapshots.
//
// Include this only from .cu files: it launches kernels.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/array.h"
#include "sim/autoreset.h"
#include "sim/config.h"
#include "sim/parallel.h"
#include "sim/rng.h"
#include "sim/step_status.h"
#include "sim/vec_env.h"

namespace convoy {

namespace detail {
// True for NaN and +-inf, by the bit pattern, so -ffast-math cannot fold it away.
CONVOY_HD_INLINE bool not_finite(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return (bits & 0x7f800000u) == 0x7f800000u;
}

// The state size exchanged by get_state / set_state: fixed (kStateDim > 0) or by settings.
template <class E>
int state_dim_of(const typename E::Params& p) {
  if constexpr (E::kStateDim > 0) {
    return E::kStateDim;
  } else {
    return E::state_dim(p);
  }
}
// E's State, sized by num_envs, or scenes for a multi-agent env (and by the settings where
// it takes them).
template <class E>
typename E::State make_state(const Device& d, std::int64_t n, const typename E::Params& p) {
  if constexpr (std::is_constructible_v<typename E::State, const Device&, std::int64_t,
                                        const typename E::Params&>) {
    return typename E::State(d, n, p);
  } else {
    return typename E::State(d, n);
  }
}
}  // namespace detail

// True when E declares kHasOutcome = true (and so outcome()).
template <class E, class = void>
struct has_outcome : std::false_type {};
template <class E>
struct has_outcome<E, std::enable_if_t<E::kHasOutcome>> : std::true_type {};

namespace detail {
// True where E declares agents(params): a multi-agent env (see the top of this file).
template <class E, class = void>
struct IsMultiAgent : std::false_type {};
template <class E>
struct IsMultiAgent<E, std::void_t<decltype(E::agents(std::declval<const typename E::Params&>()))>>
    : std::true_type {};

template <class E>
int agents_of(const typename E::Params& p) {
  if constexpr (IsMultiAgent<E>::value) {
    return E::agents(p);
  } else {
    return 1;
  }
}

// True where E declares kBaseline, the config words of its scripted baseline. The one place
// that looks for it; tests/env_capabilities_test.cpp pins which envs have one, so a misspelt
// member cannot drop a baseline unnoticed.
template <class E, class = void>
struct HasBaseline : std::false_type {};
template <class E>
struct HasBaseline<E, std::void_t<decltype(E::kBaseline)>> : std::true_type {};

// E::kBaseline ("key=value key=value") split into words; none where E has no baseline.
template <class E>
std::vector<std::string> baseline_words() {
  std::vector<std::string> words;
  if constexpr (HasBaseline<E>::value) {
    static_assert(E::kBaseline[0] != '\0', "kBaseline: declare it only for an env with one");
    std::istringstream in(E::kBaseline);
    for (std::string word; in >> word;) words.push_back(word);
  }
  return words;
}

// True where E declares where the goals sit in its obs (kAchievedGoalOffset,
// kDesiredGoalOffset): a goal-conditioned env, whose rewards a HER learner can recompute.
template <class E, class = void>
struct IsGoalConditioned : std::false_type {};
template <class E>
struct IsGoalConditioned<
    E, std::void_t<decltype(E::kAchievedGoalOffset), decltype(E::kDesiredGoalOffset)>>
    : std::true_type {};
}  // namespace detail

template <class E>
EnvSpec make_env_spec(const typename E::Params& params, std::vector<ConfigKey> keys) {
  EnvSpec s;
  s.name = E::kName;
  s.description = E::kDescription;
  s.observation_space = E::observation_space(params);
  s.action_space = E::action_space(params);
  s.max_episode_steps = params.max_episode_steps;
  s.reward_threshold = E::reward_threshold(params);
  s.state_dim = detail::state_dim_of<E>(params);
  s.has_outcome = has_outcome<E>::value;
  s.agents_per_env = detail::agents_of<E>(params);
  s.config_keys = std::move(keys);
  s.baseline_config = detail::baseline_words<E>();
  s.multi_agent = detail::IsMultiAgent<E>::value;
  s.goal_conditioned = detail::IsGoalConditioned<E>::value;
  return s;
}

namespace detail {

// The per-env stages of the engine, as functors over one env index. (Functors rather than
// lambdas: nvcc type-erases __host__ __device__ lambdas behind a function pointer on the host,
// which stopped the CPU loop from inlining the step; measured on CartPole at 65,536 envs,
// 1 thread: 29.2M env-steps/s with lambdas, see BENCHMARKS.md for the functor figure.)
template <class E>
struct EngineView {
  typename E::Params params;
  typename E::View state;
  std::int64_t obs_dim;
  const std::uint64_t* seeds;    // (num_envs) env i's Philox seed
  std::uint32_t* episode;        // (scenes) episodes started since reset()
  std::int32_t* elapsed;         // (scenes) steps into the current episode
  double* episode_return;        // (num_envs)
  std::int32_t* episode_length;  // (num_envs)
  double* final_return;          // (num_envs)
  std::int32_t* final_length;    // (num_envs)
  std::uint8_t* final_outcome;   // (num_envs) EpisodeOutcome of the episode that ended
  float* obs;                    // (num_envs x obs_dim)
  float* final_obs;              // (num_envs x obs_dim)
  float* reward;                 // (num_envs)
  std::uint8_t* terminated;      // (num_envs)
  std::uint8_t* truncated;       // (num_envs)
};

template <class E>
struct ResetKernel {
  EngineView<E> e;
  bool observe = true;  // false: the engine observes afterwards (HasObserveBatch)
  CONVOY_HD void operator()(std::int64_t i) const {
    PhiloxStream rng(e.seeds[i], static_cast<std::uint64_t>(i), 0, 0, RngPurpose::kReset);
    E::reset(e.params, e.state, i, rng);
    e.episode[i] = 0;
    e.elapsed[i] = 0;
    e.episode_return[i] = 0.0;
    e.episode_length[i] = 0;
    e.reward[i] = 0.0f;
    e.terminated[i] = 0;
    e.truncated[i] = 0;
    if (observe) E::observe(e.params, e.state, i, e.obs + i * e.obs_dim);
  }
};

// True where E offers its observation per lidar ray (see ObserveKernel below).
template <class E, class = void>
struct HasObserveBatch : std::false_type {};
template <class E>
struct HasObserveBatch<E, std::void_t<decltype(&E::observe_batch_enabled)>> : std::true_type {};

template <class E>
struct StepKernel {
  EngineView<E> e;
  const std::int32_t* a_int;  // (num_envs) for Discrete
  const float* a_float;       // (num_envs x kActDim) for Box
  const std::uint8_t* skip;   // (num_envs) or null: envs left as they are this step
  // the staged step (HasObserveBatch): finish only accounts; ObserveKernel and EndKernel follow.
  // (A flag rather than a kernel of its own: E::step keeps a single call site, so the staged
  // path cannot change how g++ inlines the default path's step.)
  bool deferred = false;
  CONVOY_HD void operator()(std::int64_t i) const {
    if (skip && skip[i]) {
      skipped(i);
      return;
    }
    // actions -> dynamics -> reward/done
    float r = 0.0f;
    bool term = false;
    if constexpr (E::kDiscrete) {
      E::step(e.params, e.state, i, a_int[i], &r, &term);
    } else {
      E::step(e.params, e.state, i, a_float + i * E::kActDim, &r, &term);
    }
    finish(i, r, term);
  }
  // Gymnasium's NEXT_STEP: this env shows its fresh episode; the action is ignored
  CONVOY_HD void skipped(std::int64_t i) const {
    e.reward[i] = 0.0f;
    e.terminated[i] = 0;
    e.truncated[i] = 0;
  }
  // After the dynamics gave reward r and termination term: bookkeeping, auto-reset, observe.
  CONVOY_HD void finish(std::int64_t i, float r, bool term) const {
    if constexpr (HasObserveBatch<E>::value) {  // the flag costs other envs nothing
      if (deferred) {
        account(i, r, term);
        return;
      }
    }
    // auto-reset (SAME_STEP): keep the last obs and the episode's totals, start the next
    if (account(i, r, term)) {
      E::observe(e.params, e.state, i, e.final_obs + i * e.obs_dim);
      restart(i);
    }
    // observe
    E::observe(e.params, e.state, i, e.obs + i * e.obs_dim);
  }
  // finish's episode bookkeeping, without observing or resetting; truncation as Gymnasium's
  // TimeLimit (may coincide with term). Returns whether the episode ended: then its totals and
  // outcome are in final_*, and restart(i) must follow once its final obs is taken.
  CONVOY_HD bool account(std::int64_t i, float r, bool term) const {
    const std::int32_t steps = e.elapsed[i] + 1;
    const bool trunc = steps >= e.params.max_episode_steps;
    const double ret = e.episode_return[i] + static_cast<double>(r);
    const std::int32_t len = e.episode_length[i] + 1;
    e.reward[i] = r;
    e.terminated[i] = term ? 1 : 0;
    e.truncated[i] = trunc ? 1 : 0;
    if (term || trunc) {
      e.final_return[i] = ret;
      e.final_length[i] = len;
      if constexpr (has_outcome<E>::value) e.final_outcome[i] = E::outcome(e.params, e.state, i);
      return true;
    }
    e.elapsed[i] = steps;
    e.episode_return[i] = ret;
    e.episode_length[i] = len;
    return false;
  }
  // The next episode of env i (its episode ended), from its seed's Philox stream.
  CONVOY_HD void restart(std::int64_t i) const {
    const std::uint32_t next_episode = e.episode[i] + 1;
    e.episode[i] = next_episode;
    PhiloxStream rng(e.seeds[i], static_cast<std::uint64_t>(i), next_episode, 0,
                     RngPurpose::kReset);
    E::reset(e.params, e.state, i, rng);
    e.elapsed[i] = 0;
    e.episode_return[i] = 0.0;
    e.episode_length[i] = 0;
  }
};

// True where E offers its observation per lidar ray, so that a GPU gets a thread per env x ray
// (single-agent envs only):
//     static bool observe_batch_enabled(const Params&, const Device&);  // false: E::observe
//     static int observe_rays(const Params&);                 // rays
//     CONVOY_HD static void observe_ray(params, view, i, int k, float* obs_row);  // ray k
//     CONVOY_HD static void observe_features(params, view, i, float* obs_row);    // the rest
// obs_row is env i's row of obs_dim floats; observe_ray writes ray k's elements only
// (obs_row[k], or with several features per ray, as Highway-v0's lidar, that ray's),
// observe_features every element no ray writes. Together they must write exactly what
// E::observe writes (E::observe is their composition, from the same per-ray function). When
// enabled the engine steps in stages instead of StepKernel's one pass: the dynamics and the
// bookkeeping (StepKernel with `deferred`), the obs of every stepped env
// (ObserveKernel over env x (rays + 1)), the ended episodes' obs copied into final_obs and
// their reset (EndKernel), then the obs of the reset envs (ObserveKernel again); reset()
// likewise resets, then observes. The results are the per-env pass's bit for bit.
// (HasObserveBatch is declared above StepKernel, which needs it.)

// Observation item j of env x (rays + 1): ray j % (rays + 1) of env j / (rays + 1), or the env's
// other features for the last item. Envs whose skip byte is set are left as they are; with
// `ended_only`, so are envs whose episode did not end this step (neither flag set).
template <class E>
struct ObserveKernel {
  EngineView<E> e;
  std::int32_t rays;
  const std::uint8_t* skip;  // (num_envs) or null
  bool ended_only;
  CONVOY_HD void operator()(std::int64_t j) const {
    const std::int64_t i = j / (rays + 1);
    const auto k = static_cast<std::int32_t>(j - i * (rays + 1));
    if (skip && skip[i]) return;
    if (ended_only && !(e.terminated[i] || e.truncated[i])) return;
    float* row = e.obs + i * e.obs_dim;
    if (k < rays) {
      E::observe_ray(e.params, e.state, i, k, row);
    } else {
      E::observe_features(e.params, e.state, i, row);
    }
  }
};

// The staged step's auto-reset: an env whose episode ended (not skipped: skipped() cleared its
// flags) keeps its obs, the final obs, in final_obs and starts its next episode.
template <class E>
struct EndKernel {
  StepKernel<E> k;
  CONVOY_HD void operator()(std::int64_t i) const {
    if (!(k.e.terminated[i] || k.e.truncated[i])) return;
    const float* src = k.e.obs + i * k.e.obs_dim;
    float* dst = k.e.final_obs + i * k.e.obs_dim;
    for (std::int64_t c = 0; c < k.e.obs_dim; ++c) dst[c] = src[c];
    k.restart(i);
  }
};

// True where E offers a CPU block step (several envs at once, SIMD):
//     static bool vector_step_available();   // false: the engine uses step
//     static void step_block(params, view, begin, end, const Action* actions,
//                            const std::uint8_t* skip /* or null */, float* reward,
//                            std::uint8_t* terminated);
// It does what step does for envs [begin, end) whose skip byte is clear, writing their reward
// and terminated flag; the engine then runs the same bookkeeping as after step.
template <class E, class = void>
struct HasStepBlock : std::false_type {};
template <class E>
struct HasStepBlock<E, std::void_t<decltype(&E::step_block)>> : std::true_type {};

// True where E offers a batch step on any device (several launches, e.g. per env and per env x
// vehicle, so that a GPU has thousands x tens of threads):
//     static bool step_batch_enabled(const Params&, const Device&);  // false: the engine uses step
//     static void step_batch(const Device&, params, view, E::State& /* its scratch */,
//                            std::int64_t n, const Action* actions, const std::uint8_t* skip
//                            /* or null */, float* reward, std::uint8_t* terminated);
// It does what step does for every env whose skip byte is clear, writing their reward and
// terminated flag; the engine then runs StepKernel's bookkeeping (FinishKernel). Action is
// std::int32_t for Discrete, float (kActDim per env) for Box.
// A multi-agent env's (see the top of this file) works on scenes and takes one more argument,
// the kStep streams its E::step would get (its spawning draws, say):
//     static void step_batch(const Device&, params, view, E::State&, std::int64_t scenes,
//                            const Action* actions /* rows [x kActDim] */, const std::uint8_t*
//                            skip /* rows or null: a scene by its first row's byte */,
//                            const SceneStepStreams& streams /* streams(c): scene c's */,
//                            float* reward /* (rows) */, std::uint8_t* terminated /* (rows) */);
// It writes each row's reward and its scene's termination into every row of the scene; the
// engine then runs MultiStepKernel's bookkeeping (MultiFinishKernel).
template <class E, class = void>
struct HasStepBatch : std::false_type {};
template <class E>
struct HasStepBatch<E, std::void_t<decltype(&E::step_batch)>> : std::true_type {};

// StepKernel's bookkeeping after E::step_batch or E::step_block wrote reward and terminated.
template <class E>
struct FinishKernel {
  StepKernel<E> k;
  CONVOY_HD void operator()(std::int64_t i) const {
    if (k.skip && k.skip[i]) {
      k.skipped(i);
    } else {
      k.finish(i, k.e.reward[i], k.e.terminated[i] != 0);
    }
  }
};

// The CPU block stage (host only): the step of a block of envs (E::step_block and StepKernel's
// bookkeeping when `vector`, StepKernel env by env otherwise), then, when `compose`, the Gymnasium
// outputs of the same block while they are in cache (sim/autoreset.h). Returns how many of the
// block's episodes ended (0 without compose).
template <class E>
struct BlockStepKernel {
  StepKernel<E> k;
  bool vector;
  bool compose;
  ComposeKernel outputs;
  std::int64_t operator()(std::int64_t begin, std::int64_t end) const {
    if constexpr (HasStepBlock<E>::value) {
      if (vector) {
        E::step_block(k.e.params, k.e.state, begin, end, k.a_int, k.skip, k.e.reward,
                      k.e.terminated);
        // a local copy whose address never escapes: the byte stores below cannot alias it, so
        // its pointers stay in registers instead of being reloaded after every store
        const StepKernel<E> kk = k;
        for (std::int64_t i = begin; i < end; ++i) {
          if (kk.skip && kk.skip[i]) {
            kk.skipped(i);
          } else {
            kk.finish(i, kk.e.reward[i], kk.e.terminated[i] != 0);
          }
        }
      }
    }
    if (!vector) {
      for (std::int64_t i = begin; i < end; ++i) k(i);
    }
    return compose ? outputs.block(begin, end) : 0;
  }
};

// The CPU block stage after E::step_batch (host only): StepKernel's bookkeeping of a block of
// envs, then their Gymnasium outputs (a kernel of its own: inside BlockStepKernel, this second
// inlined copy of finish cost CartPole-v1 33 instructions per env-step, callgrind, as g++ then
// stopped inlining the other).
template <class E>
struct BlockFinishKernel {
  FinishKernel<E> f;
  ComposeKernel outputs;
  std::int64_t operator()(std::int64_t begin, std::int64_t end) const {
    for (std::int64_t i = begin; i < end; ++i) f(i);
    return outputs.block(begin, end);
  }
};

// The same two stages for a multi-agent env, over scenes: scene c owns rows c * A .. c * A + A - 1
// and draws from the Philox stream of its first row's seed, keyed by the scene index.
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
        if constexpr (has_outcome<E>::value) {
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

// Uniform random actions from stream (seed, env) at (epoch, step).
template <class E>
struct SampleActionsKernel {
  std::uint64_t seed;
  std::uint32_t epoch, step;
  std::uint32_t n;        // Discrete(n)
  const float* low;       // (kActDim) Box bounds
  const float* high;      // (kActDim)
  std::int32_t* out_int;  // (num_envs)
  float* out_float;       // (num_envs x kActDim)
  CONVOY_HD void operator()(std::int64_t i) const {
    PhiloxStream rng(seed, static_cast<std::uint64_t>(i), epoch, step, RngPurpose::kAction);
    if constexpr (E::kDiscrete) {
      out_int[i] = static_cast<std::int32_t>(rng.below(n));
    } else {
      for (int k = 0; k < E::kActDim; ++k) {
        out_float[i * E::kActDim + k] = low[k] + (high[k] - low[k]) * rng.uniform_float();
      }
    }
  }
};

// True where action element k is invalid: a Discrete index out of range, a non-finite float.
template <class E>
struct InvalidActionKernel {
  const std::int32_t* a_int;
  const float* a_float;
  std::int32_t n;
  const std::uint8_t* skip;  // (num_envs) or null: envs whose actions are ignored
  CONVOY_HD bool operator()(std::int64_t k) const {
    if (skip && skip[k / E::kActDim]) return false;
    if constexpr (E::kDiscrete) {
      return a_int[k] < 0 || a_int[k] >= n;
    } else {
      return not_finite(a_float[k]);
    }
  }
};

template <class E>
struct ReadStateKernel {
  typename E::View state;
  std::int64_t env;
  double* out;  // (state_dim)
  CONVOY_HD void operator()(std::int64_t) const { E::read_state(state, env, out); }
};

template <class E>
struct WriteStateKernel {
  EngineView<E> e;
  std::int64_t env;
  const double* in;  // (state_dim)
  std::int32_t elapsed_steps;
  CONVOY_HD void operator()(std::int64_t) const {
    e.elapsed[env] = elapsed_steps;
    if constexpr (IsMultiAgent<E>::value) {
      E::write_state(e.params, e.state, env, in);
      // env is a scene: zero and observe each of its agents' rows
      const std::int32_t agents = E::agents(e.params);
      for (std::int32_t a = 0; a < agents; ++a) {
        const std::int64_t r = env * agents + a;
        e.episode_return[r] = 0.0;
        e.episode_length[r] = 0;
        E::observe(e.params, e.state, env, a, e.obs + r * e.obs_dim);
      }
    } else {
      E::write_state(e.state, env, in);
      e.episode_return[env] = 0.0;
      e.episode_length[env] = 0;
      E::observe(e.params, e.state, env, e.obs + env * e.obs_dim);
    }
  }
};

// E's whole state in one pass, through read_state / write_state (num_envs x state_dim).
template <class E>
struct ReadAllStatesKernel {
  typename E::View state;
  std::int64_t dim;
  double* out;
  CONVOY_HD void operator()(std::int64_t i) const { E::read_state(state, i, out + i * dim); }
};
template <class E>
struct WriteAllStatesKernel {
  typename E::View state;
  std::int64_t dim;
  const double* in;
  CONVOY_HD void operator()(std::int64_t i) const { E::write_state(state, i, in + i * dim); }
};

// Whether E::State lists its arrays (see the top of this file).
struct AnyArray {
  template <class T>
  void operator()(DeviceArray<T>&) const {}
};
template <class S, class = void>
struct HasForEachArray : std::false_type {};
template <class S>
struct HasForEachArray<
    S, std::void_t<decltype(std::declval<S&>().for_each_array(std::declval<AnyArray&>()))>>
    : std::true_type {};

// The snapshot format: a text tag, then each array as (uint64 bytes, raw bytes) in a fixed
// order. Reading checks every size before anything is written.
struct SnapshotWriter {
  std::string out;
  template <class T>
  void array(const DeviceArray<T>& a) {
    const std::uint64_t n = a.bytes();
    out.append(reinterpret_cast<const char*>(&n), sizeof(n));
    const std::size_t at = out.size();
    out.resize(at + n);
    if (n > 0) copy_bytes(&out[at], Device::cpu(), a.data(), a.device(), n);
  }
};
struct SnapshotReader {
  const std::string& in;
  std::size_t pos;
  bool ok = true;
  std::vector<std::pair<std::size_t, std::uint64_t>> chunks;  // (offset, bytes) per array
  template <class T>
  void array(const DeviceArray<T>& a) {
    std::uint64_t n = 0;
    if (in.size() - pos < sizeof(n)) {
      ok = false;
      return;
    }
    std::memcpy(&n, in.data() + pos, sizeof(n));
    pos += sizeof(n);
    if (n != a.bytes() || in.size() - pos < n) {
      ok = false;
      return;
    }
    chunks.emplace_back(pos, n);
    pos += n;
  }
};

}  // namespace detail

template <class E>
class BatchedEnv final : public VecEnv {
 public:
  using Params = typename E::Params;

  BatchedEnv(const Device& device, std::int64_t num_envs, const Params& params, EnvSpec spec)
      : VecEnv(device, num_envs, std::move(spec)),
        params_(params),
        state_(detail::make_state<E>(device, num_scenes(), params)),
        seeds_(device, num_envs_),
        episode_(device, num_scenes()),
        elapsed_(device, num_scenes()) {
    seeds_.zero();
    episode_.zero();
    elapsed_.zero();
    // slots an env leaves unused (inactive vehicles) are snapshotted too: never uninitialised
    if constexpr (detail::HasForEachArray<typename E::State>::value) {
      state_.for_each_array([](auto& a) { a.zero(); });
    }
    const Space& a = spec_.action_space;
    if (a.is_box()) {
      act_low_ = DeviceArray<float>(device, a.low);
      act_high_ = DeviceArray<float>(device, a.high);
    }
  }

  void reset(std::uint64_t seed) override {
    seeds_.copy_from_host(std::vector<std::uint64_t>(static_cast<std::size_t>(num_envs_), seed));
    launch_reset();
    was_reset_ = true;
  }

  void reset(const std::vector<std::uint64_t>& seeds) override {
    if (static_cast<std::int64_t>(seeds.size()) != num_envs_) {
      throw Error(spec_.name + ": reset got " + std::to_string(seeds.size()) +
                  " seeds; allowed: one seed, or exactly num_envs = " + std::to_string(num_envs_));
    }
    seeds_.copy_from_host(seeds);
    launch_reset();
    was_reset_ = true;
  }

  void step_raw(const void* d_actions, const std::uint8_t* d_skip = nullptr) override {
    check_step(d_actions, d_skip);
    const LaunchGate gate(deferred_checks_ ? status_.gate() : nullptr);
    if constexpr (detail::IsMultiAgent<E>::value) {
      const detail::MultiStepKernel<E> k{view(), agents_per_env(),
                                         static_cast<const std::int32_t*>(d_actions),
                                         static_cast<const float*>(d_actions), d_skip};
      if (batch_step()) {
        run_step_batch(d_actions, d_skip);
        for_each_index(device_, num_scenes(), detail::MultiFinishKernel<E>{k});
        return;
      }
      for_each_index(device_, num_scenes(), k);
    } else {
      const detail::StepKernel<E> k = step_kernel(d_actions, d_skip);
      if (batch_observe()) {
        run_staged_step(k, d_actions, d_skip);
        return;
      }
      if (batch_step()) {
        run_step_batch(d_actions, d_skip);
        for_each_index(device_, num_envs_, detail::FinishKernel<E>{k});
        return;
      }
      if (device_.is_cpu() && vector_step()) {
        for_each_block_cpu(num_envs_, kComposeBlock,
                           detail::BlockStepKernel<E>{k, true, false, {}});
        return;
      }
      for_each_index(device_, num_envs_, k);
    }
  }

  // On the CPU, single-agent envs step and compose in one pass over blocks of envs.
  std::int64_t step_compose(const void* d_actions, const std::uint8_t* d_skip,
                            const StepOutputs& out) override {
    if constexpr (detail::IsMultiAgent<E>::value) {
      return VecEnv::step_compose(d_actions, d_skip, out);
    } else {
      // the staged step (per-ray obs) composes after it, as on CUDA
      if (!device_.is_cpu() || batch_observe()) {
        return VecEnv::step_compose(d_actions, d_skip, out);
      }
      check_step(d_actions, d_skip);
      std::int64_t ended = 0;
      {
        const LaunchGate gate(deferred_checks_ ? status_.gate() : nullptr);
        if (batch_step()) {
          run_step_batch(d_actions, d_skip);
          ended = for_each_block_cpu(
              num_envs_, kComposeBlock,
              detail::BlockFinishKernel<E>{detail::FinishKernel<E>{step_kernel(d_actions, d_skip)},
                                           detail::compose_kernel(*this, out)});
        } else {
          ended = for_each_block_cpu(
              num_envs_, kComposeBlock,
              detail::BlockStepKernel<E>{step_kernel(d_actions, d_skip), vector_step(), true,
                                         detail::compose_kernel(*this, out)});
        }
      }
      finish_step();  // deferred checks: a bad action's error
      return ended;
    }
  }

  void sample_actions(std::uint64_t seed, std::uint64_t counter, void* d_actions) override {
    if constexpr (!E::kDiscrete) {
      for (std::size_t k = 0; k < spec_.action_space.low.size(); ++k) {
        if (detail::not_finite(spec_.action_space.low[k]) ||
            detail::not_finite(spec_.action_space.high[k])) {
          throw Error(spec_.name + ": cannot sample uniform actions from the unbounded " +
                      spec_.action_space.str());
        }
      }
    }
    const detail::SampleActionsKernel<E> k{seed,
                                           static_cast<std::uint32_t>(counter >> 32),
                                           static_cast<std::uint32_t>(counter),
                                           static_cast<std::uint32_t>(spec_.action_space.n),
                                           act_low_.data(),
                                           act_high_.data(),
                                           static_cast<std::int32_t*>(d_actions),
                                           static_cast<float*>(d_actions)};
    for_each_index(device_, num_envs_, k);
  }

  std::vector<double> get_state(std::int64_t env) const override {
    check_reset("get_state()");
    check_env(env);
    DeviceArray<double> buf(device_, spec_.state_dim);
    for_each_index(
        device_, 1,
        detail::ReadStateKernel<E>{const_cast<typename E::State&>(state_).view(), env, buf.data()});
    return buf.to_host();
  }

  void set_state(std::int64_t env, const std::vector<double>& state,
                 std::int32_t elapsed_steps) override {
    check_reset("set_state()");
    check_env(env);
    if (static_cast<int>(state.size()) != spec_.state_dim) {
      throw Error(spec_.name + ": set_state got " + std::to_string(state.size()) +
                  " values; allowed: exactly " + std::to_string(spec_.state_dim));
    }
    if (elapsed_steps < 0 || elapsed_steps >= params_.max_episode_steps) {
      throw Error(spec_.name + ": elapsed_steps " + std::to_string(elapsed_steps) +
                  " is invalid; allowed: 0.." + std::to_string(params_.max_episode_steps - 1));
    }
    DeviceArray<double> buf(device_, state);
    for_each_index(device_, 1, detail::WriteStateKernel<E>{view(), env, buf.data(), elapsed_steps});
    synchronize(device_);
  }

  std::string save_state() const override {
    check_reset("save_state()");
    auto& self = const_cast<BatchedEnv&>(*this);
    detail::SnapshotWriter w{snapshot_tag()};
    self.visit_snapshot(Snapshot::kSave, [&](auto& a) { w.array(a); });
    return std::move(w.out);
  }

  void load_state(const std::string& bytes) override {
    const std::string tag = snapshot_tag();
    if (bytes.compare(0, tag.size(), tag) != 0) {
      throw Error(spec_.name + ": the saved env state is not from a " + spec_.name + " of " +
                  std::to_string(num_envs_) + " envs with these settings");
    }
    // first check every array's size, then copy: a bad snapshot changes nothing
    detail::SnapshotReader r{bytes, tag.size(), true, {}};
    visit_snapshot(Snapshot::kCheck, [&](auto& a) { r.array(a); });
    if (!r.ok || r.pos != bytes.size()) {
      throw Error(spec_.name + ": the saved env state is malformed (" +
                  std::to_string(bytes.size()) + " bytes)");
    }
    std::size_t k = 0;
    visit_snapshot(Snapshot::kLoad, [&](auto& a) {
      if (r.chunks[k].second > 0) {
        copy_bytes(a.data(), a.device(), bytes.data() + r.chunks[k].first, Device::cpu(),
                   r.chunks[k].second);
      }
      ++k;
    });
    synchronize(device_);
    was_reset_ = true;
  }

 private:
  void check_step(const void* d_actions, const std::uint8_t* d_skip) {
    check_reset("step()");
    if (d_actions == nullptr) throw Error(spec_.name + ": step() got a null action pointer");
    if (deferred_checks_) {
      validate_on_device(d_actions, d_skip);
    } else {
      validate_actions(d_actions, d_skip);
    }
  }
  // Validation without a host wait (sim/step_status.h): records the first invalid element
  // and closes the gate. Behind the gate itself, so a recorded error is never overwritten.
  void validate_on_device(const void* d_actions, const std::uint8_t* d_skip) {
    const LaunchGate gate(status_.gate());
    const detail::InvalidActionKernel<E> invalid{
        static_cast<const std::int32_t*>(d_actions), static_cast<const float*>(d_actions),
        static_cast<std::int32_t>(spec_.action_space.n), d_skip};
    for_each_index(device_, num_envs_ * E::kActDim,
                   FlagInvalidKernel<detail::InvalidActionKernel<E>>{invalid, status_.words()});
    for_each_index(device_, 1,
                   CloseGateKernel{static_cast<const std::uint32_t*>(d_actions), status_.words()});
  }
  detail::StepKernel<E> step_kernel(const void* d_actions, const std::uint8_t* d_skip) {
    return {view(), static_cast<const std::int32_t*>(d_actions),
            static_cast<const float*>(d_actions), d_skip};
  }
  // E's CPU block step runs (HasStepBlock): only where the CPU supports it
  static bool vector_step() {
    if constexpr (detail::HasStepBlock<E>::value) {
      return E::vector_step_available();
    } else {
      return false;
    }
  }

  // E's batch step runs (HasStepBatch): where E enables it for these settings and device
  bool batch_step() const {
    if constexpr (detail::HasStepBatch<E>::value) {
      return E::step_batch_enabled(params_, device_);
    } else {
      return false;
    }
  }
  void run_step_batch(const void* d_actions, const std::uint8_t* d_skip) {
    if constexpr (detail::HasStepBatch<E>::value) {
      using Action = std::conditional_t<E::kDiscrete, std::int32_t, float>;
      if constexpr (detail::IsMultiAgent<E>::value) {
        const SceneStepStreams streams{seeds_.data(), episode_.data(), elapsed_.data(),
                                       agents_per_env()};
        E::step_batch(device_, params_, state_.view(), state_, num_scenes(),
                      static_cast<const Action*>(d_actions), d_skip, streams, reward_.data(),
                      terminated_.data());
      } else {
        E::step_batch(device_, params_, state_.view(), state_, num_envs_,
                      static_cast<const Action*>(d_actions), d_skip, reward_.data(),
                      terminated_.data());
      }
    }
  }

  // E's per-ray observation runs (HasObserveBatch): where E enables it for these settings
  bool batch_observe() const {
    if constexpr (detail::HasObserveBatch<E>::value) {
      return E::observe_batch_enabled(params_, device_);
    } else {
      return false;
    }
  }
  // obs of the envs not skipped (all with skip null), or with ended_only of those whose
  // episode ended this step, per env x ray
  void observe_rows(const std::uint8_t* d_skip, bool ended_only) {
    if constexpr (detail::HasObserveBatch<E>::value) {
      const std::int32_t rays = E::observe_rays(params_);
      for_each_index(device_, num_envs_ * (rays + 1),
                     detail::ObserveKernel<E>{view(), rays, d_skip, ended_only});
    }
  }
  // The step in stages (see HasObserveBatch): dynamics and bookkeeping, obs, final obs and
  // auto-reset, the reset envs' obs.
  void run_staged_step(const detail::StepKernel<E>& k, const void* d_actions,
                       const std::uint8_t* d_skip) {
    detail::StepKernel<E> dk = k;
    dk.deferred = true;
    if (batch_step()) {
      run_step_batch(d_actions, d_skip);
      for_each_index(device_, num_envs_, detail::FinishKernel<E>{dk});
    } else {
      for_each_index(device_, num_envs_, dk);
    }
    observe_rows(d_skip, false);
    for_each_index(device_, num_envs_, detail::EndKernel<E>{k});
    observe_rows(d_skip, true);
  }

  // Names the format, the env, its shape and its settings' sizes.
  std::string snapshot_tag() const {
    return "convoy-env-state 1 " + spec_.name + " envs=" + std::to_string(num_envs_) +
           " obs=" + std::to_string(obs_dim()) + " state=" + std::to_string(spec_.state_dim) +
           (detail::HasForEachArray<typename E::State>::value ? " arrays" : " read_state") + "\n";
  }

  // Calls f on every array of the snapshot in its fixed order. Without E::State's
  // for_each_array, E's state goes through a scenes x state_dim buffer of read_state /
  // write_state: filled before f when saving, written back after f when loading.
  enum class Snapshot { kSave, kCheck, kLoad };
  template <class F>
  void visit_snapshot(Snapshot mode, F&& f) {
    f(obs_);
    f(reward_);
    f(terminated_);
    f(truncated_);
    f(final_obs_);
    f(episode_return_);
    f(episode_length_);
    f(final_episode_return_);
    f(final_episode_length_);
    f(seeds_);
    f(episode_);
    f(elapsed_);
    if constexpr (detail::HasForEachArray<typename E::State>::value) {
      state_.for_each_array(f);
    } else {
      const std::int64_t dim = spec_.state_dim;
      DeviceArray<double>& buf = state_buf();
      if (mode == Snapshot::kSave) {
        for_each_index(device_, num_scenes(),
                       detail::ReadAllStatesKernel<E>{state_.view(), dim, buf.data()});
      }
      f(buf);
      if (mode == Snapshot::kLoad) {
        for_each_index(device_, num_scenes(),
                       detail::WriteAllStatesKernel<E>{state_.view(), dim, buf.data()});
      }
    }
  }
  DeviceArray<double>& state_buf() {
    if (state_buf_.size() != num_scenes() * spec_.state_dim) {
      state_buf_ = DeviceArray<double>(device_, num_scenes() * spec_.state_dim);
    }
    return state_buf_;
  }
  void launch_reset() {
    if constexpr (detail::IsMultiAgent<E>::value) {
      for_each_index(device_, num_scenes(), detail::MultiResetKernel<E>{view(), agents_per_env()});
    } else {
      if (batch_observe()) {
        for_each_index(device_, num_envs_, detail::ResetKernel<E>{view(), false});
        observe_rows(nullptr, false);
      } else {
        for_each_index(device_, num_envs_, detail::ResetKernel<E>{view()});
      }
    }
  }

  detail::EngineView<E> view() {
    return {params_,
            state_.view(),
            obs_dim(),
            seeds_.data(),
            episode_.data(),
            elapsed_.data(),
            episode_return_.data(),
            episode_length_.data(),
            final_episode_return_.data(),
            final_episode_length_.data(),
            final_outcome_.data(),
            obs_.data(),
            final_obs_.data(),
            reward_.data(),
            terminated_.data(),
            truncated_.data()};
  }

  void validate_actions(const void* d_actions, const std::uint8_t* d_skip) const {
    if constexpr (E::kDiscrete && E::kActDim == 1) {
      if (device_.is_cpu()) {
        // CPU, one index per env: a branch-free loop the compiler vectorises, on the calling
        // thread (at 4,096 CartPole envs the parallel count_if cost 12 instructions per env
        // plus an OpenMP fork/join, a sixth of the whole step)
        const auto* a = static_cast<const std::int32_t*>(d_actions);
        const auto n = static_cast<std::uint32_t>(spec_.action_space.n);
        unsigned bad = 0;
        if (d_skip == nullptr) {
          for (std::int64_t i = 0; i < num_envs_; ++i) {
            bad |= static_cast<unsigned>(static_cast<std::uint32_t>(a[i]) >= n);
          }
        } else {
          for (std::int64_t i = 0; i < num_envs_; ++i) {
            bad |= static_cast<unsigned>(static_cast<std::uint32_t>(a[i]) >= n) &
                   static_cast<unsigned>(d_skip[i] == 0);
          }
        }
        if (bad) throw_bad_action(d_actions, d_skip);
        return;
      }
    }
    const detail::InvalidActionKernel<E> invalid{
        static_cast<const std::int32_t*>(d_actions), static_cast<const float*>(d_actions),
        static_cast<std::int32_t>(spec_.action_space.n), d_skip};
    unsigned long long bad = 0;  // the CPU: a host counter
    count_if_index_async(device_, num_envs_ * E::kActDim, invalid, &bad);
    if (bad > 0) throw_bad_action(d_actions, d_skip);
  }

  // get_state / set_state index envs, or scenes for a multi-agent env.
  void check_env(std::int64_t env) const {
    const std::int64_t n = num_scenes();
    if (env < 0 || env >= n) {
      throw Error(spec_.name + ": " + (n == num_envs_ ? "env" : "scene") + " index " +
                  std::to_string(env) + " is invalid; allowed: 0.." + std::to_string(n - 1));
    }
  }

  Params params_;
  typename E::State state_;
  DeviceArray<std::uint64_t> seeds_;       // (num_envs) Philox seed of each env
  DeviceArray<std::uint32_t> episode_;     // (scenes) episodes started since reset()
  DeviceArray<std::int32_t> elapsed_;      // (scenes) steps into the current episode
  DeviceArray<float> act_low_, act_high_;  // (act_dim) Box bounds for sampling
  DeviceArray<double> state_buf_;          // (num_envs x state_dim) snapshots, made on use
};

// Reads E's settings from `config` (throwing on bad or unknown keys) and builds the env.
template <class E>
std::unique_ptr<VecEnv> make_batched_env(const Device& device, std::int64_t num_envs,
                                         const Config& config) {
  ConfigReader reader(config, E::kName);
  const typename E::Params params = E::read_params(reader);
  reader.finish();
  return std::make_unique<BatchedEnv<E>>(device, num_envs, params,
                                         make_env_spec<E>(params, reader.keys()));
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
