// The env contract: what an env type E states for the engine (BatchedEnv<E>,
// sim/batched_env.h), checked at compile time. This comment is its reference; Capabilities<E>
// below checks it and is the one place that detects E's optional hooks. An env E only states
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
//                                float* reward, bool* terminated);
//                                // Action: std::int32_t (Discrete) or const float* (Box)
//     CONVOY_HD static void observe(const Params&, const View&, std::int64_t i, float* obs);
//     CONVOY_HD static void read_state(const View&, std::int64_t i, double* s);
//     CONVOY_HD static void write_state(const View&, std::int64_t i, const double* s);
//   };
//
// Optional hooks come in sets, declared whole or not at all (a set declared in part is a
// compile error, which also catches most misspellings):
//   - how an episode ended (EpisodeOutcome, EnvSpec::has_outcome), read when it ends:
//       static constexpr bool kHasOutcome = true;
//       CONVOY_HD static std::uint8_t outcome(const Params&, const View&, std::int64_t i);
//   - the config words of a scripted baseline (EnvSpec::baseline_config):
//       static constexpr const char* kBaseline = "ego_policy=autopilot";
//   - a goal-conditioned obs, the goals' offsets in it (EnvSpec::goal_conditioned):
//       static constexpr int kAchievedGoalOffset, kDesiredGoalOffset;
//   - CPU only, Discrete only: several envs per call (SIMD). step_block does what step does
//     for envs [begin, end) whose skip byte is clear, writing their reward and terminated flag;
//     the engine then runs the same bookkeeping as after step:
//       static bool vector_step_available();   // false: the engine uses step
//       static void step_block(const Params&, const View&, std::int64_t begin,
//                              std::int64_t end, const std::int32_t* actions,
//                              const std::uint8_t* skip /* or null */, float* reward,
//                              std::uint8_t* terminated);
//   - any device: the step of all envs as several launches (per env, per env x vehicle ...,
//     so that a GPU has thousands x tens of threads) over scratch in E::State. It does what
//     step does for every env whose skip byte is clear, writing their reward and terminated
//     flag; the engine then runs the episode bookkeeping. Action is std::int32_t for Discrete,
//     float (kActDim per env) for Box:
//       static bool step_batch_enabled(const Params&, const Device&);  // false: step
//       static void step_batch(const Device&, const Params&, const View&, State& /* scratch */,
//                              std::int64_t n, const Action* actions, const std::uint8_t* skip
//                              /* or null */, float* reward, std::uint8_t* terminated);
//   - any device, single-agent: the observation per env x lidar ray, so that a GPU gets a
//     thread per env x ray. obs_row is env i's row of obs_dim floats; observe_ray writes ray
//     k's elements only, observe_features every element no ray writes. Together they write
//     exactly what E::observe writes (E::observe is their composition, from the same per-ray
//     function), so the engine's staged step gives the per-env pass's results bit for bit:
//       static bool observe_batch_enabled(const Params&, const Device&);  // false: observe
//       static int observe_rays(const Params&);
//       CONVOY_HD static void observe_ray(const Params&, const View&, std::int64_t i, int k,
//                                         float* obs_row);
//       CONVOY_HD static void observe_features(const Params&, const View&, std::int64_t i,
//                                              float* obs_row);
//   - snapshots (save_state / load_state) take E's state through read_state / write_state,
//     which must then be E's whole state; an env whose State holds more (held commands,
//     timers, per-vehicle parameters) lists every array instead, in E::State:
//       template <class F> void for_each_array(F&& f) { f(x); f(y); ... }
//
// A multi-agent env also states `CONVOY_HD static int agents(const Params&)` (controlled agents
// per scene) and `static constexpr int kMaxAgents` (their most). Its State is sized by scenes;
// the VecEnv's rows are scenes x agents, agent-major within a scene (row = scene * agents +
// agent), so single-agent learners train on it unchanged. One call per scene handles all of its
// agents, with these signatures instead:
//     reset(params, view, scene, rng)                        as above
//     step(params, view, scene, const Action* a /* agents [x kActDim] */, float* reward
//          /* (agents) */, bool* terminated /* the scene's */, PhiloxStream& rng /* kStep, from
//          SceneStepStreams (sim/rng.h) */)
//     observe(params, view, scene, int agent, obs)
//     outcome(params, view, scene, int agent)                per agent, when kHasOutcome
//     read_state(view, scene, s), write_state(params, view, scene, s)   per scene
//     step_batch(device, params, view, state, scenes, const Action* actions /* rows */,
//          skip /* rows or null: a scene by its first row's byte */, const SceneStepStreams&
//          streams /* streams(c): scene c's */, reward /* (rows) */, terminated /* (rows) */)
//          writing each row's reward and its scene's termination into every row of the scene
// Episodes end per scene: all of a scene's rows terminate or truncate together and the scene
// auto-resets as a whole, from the seed of its first row. Its State lists its arrays
// (for_each_array) for snapshots.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "sim/array.h"
#include "sim/config.h"
#include "sim/device.h"
#include "sim/rng.h"
#include "sim/spaces.h"

namespace convoy {
namespace contract {

// detected<Op, E>: Op<E> is well formed (the detection idiom).
template <class, template <class> class Op, class E>
struct Detect : std::false_type {};
template <template <class> class Op, class E>
struct Detect<std::void_t<Op<E>>, Op, E> : std::true_type {};
template <template <class> class Op, class E>
constexpr bool detected = Detect<void, Op, E>::value;
// Op<E> is well formed and is R, or converts to it.
template <template <class> class Op, class E, class R, class = void>
struct Returns : std::false_type {};
template <template <class> class Op, class E, class R>
struct Returns<Op, E, R, std::enable_if_t<std::is_convertible_v<Op<E>, R>>> : std::true_type {};
template <template <class> class Op, class E, class R>
constexpr bool returns = Returns<Op, E, R>::value;

template <class T>
T& lv();  // an lvalue of T in the unevaluated calls below
template <class E>
using P = const typename E::Params&;
template <class E>
using V = const typename E::View&;
using I = std::int64_t;
// the action one env's step takes, and the element type of a batch of actions
template <class E>
using StepAction = std::conditional_t<E::kDiscrete, std::int32_t, const float*>;
template <class E>
using ActionElem = std::conditional_t<E::kDiscrete, std::int32_t, float>;

// required members
template <class E>
using Name = decltype(E::kName);
template <class E>
using Description = decltype(E::kDescription);
template <class E>
using Dims = std::integer_sequence<int, E::kObsDim, E::kActDim, E::kStateDim>;
template <class E>
using Discrete = std::bool_constant<E::kDiscrete>;
template <class E>
using MaxEpisodeSteps = decltype(lv<typename E::Params>().max_episode_steps);
template <class E>
using ReadParams = std::enable_if_t<
    std::is_same_v<decltype(E::read_params(lv<ConfigReader>())), typename E::Params>>;
template <class E>
using ObservationSpace = decltype(E::observation_space(lv<P<E>>()));
template <class E>
using ActionSpace = decltype(E::action_space(lv<P<E>>()));
template <class E>
using RewardThreshold = decltype(E::reward_threshold(lv<P<E>>()));
template <class E>
using StateView =
    std::enable_if_t<std::is_same_v<decltype(lv<typename E::State>().view()), typename E::View>>;
template <class E>
using StateDim = decltype(E::state_dim(lv<P<E>>()));
template <class E>
using Reset = decltype(E::reset(lv<P<E>>(), lv<V<E>>(), I{}, lv<PhiloxStream>()));
template <class E>
using Step = decltype(E::step(lv<P<E>>(), lv<V<E>>(), I{}, StepAction<E>{}, (float*)nullptr,
                              (bool*)nullptr));
template <class E>
using SceneStep = decltype(E::step(lv<P<E>>(), lv<V<E>>(), I{}, (const ActionElem<E>*)nullptr,
                                   (float*)nullptr, (bool*)nullptr, lv<PhiloxStream>()));
template <class E>
using Observe = decltype(E::observe(lv<P<E>>(), lv<V<E>>(), I{}, (float*)nullptr));
template <class E>
using AgentObserve = decltype(E::observe(lv<P<E>>(), lv<V<E>>(), I{}, 0, (float*)nullptr));
template <class E>
using ReadState = decltype(E::read_state(lv<V<E>>(), I{}, (double*)nullptr));
template <class E>
using WriteState = decltype(E::write_state(lv<V<E>>(), I{}, (const double*)nullptr));
template <class E>
using SceneWriteState =
    decltype(E::write_state(lv<P<E>>(), lv<V<E>>(), I{}, (const double*)nullptr));

// optional hooks: their names (to catch a set declared in part), then their signatures
template <class E>
using HasOutcomeFlag = std::enable_if_t<E::kHasOutcome>;
template <class E>
using HasOutcomeName = decltype(E::kHasOutcome);
template <class E>
using OutcomeName = decltype(&E::outcome);
template <class E>
using Outcome = decltype(E::outcome(lv<P<E>>(), lv<V<E>>(), I{}));
template <class E>
using AgentOutcome = decltype(E::outcome(lv<P<E>>(), lv<V<E>>(), I{}, 0));
template <class E>
using Baseline = decltype(E::kBaseline);
template <class E>
using AchievedGoal = decltype(E::kAchievedGoalOffset);
template <class E>
using DesiredGoal = decltype(E::kDesiredGoalOffset);
template <class E>
using AgentsName = decltype(&E::agents);
template <class E>
using Agents = decltype(E::agents(lv<P<E>>()));
template <class E>
using MaxAgents = std::integral_constant<int, E::kMaxAgents>;
template <class E>
using StepBlockName = decltype(&E::step_block);
template <class E>
using VectorStepName = decltype(&E::vector_step_available);
template <class E>
using VectorStep = decltype(E::vector_step_available());
template <class E>
using StepBlock =
    decltype(E::step_block(lv<P<E>>(), lv<V<E>>(), I{}, I{}, (const std::int32_t*)nullptr,
                           (const std::uint8_t*)nullptr, (float*)nullptr, (std::uint8_t*)nullptr));
template <class E>
using StepBatchName = decltype(&E::step_batch);
template <class E>
using StepBatchEnabledName = decltype(&E::step_batch_enabled);
template <class E>
using StepBatchEnabled = decltype(E::step_batch_enabled(lv<P<E>>(), lv<const Device>()));
template <class E>
using StepBatch =
    decltype(E::step_batch(lv<const Device>(), lv<P<E>>(), lv<V<E>>(), lv<typename E::State>(), I{},
                           (const ActionElem<E>*)nullptr, (const std::uint8_t*)nullptr,
                           (float*)nullptr, (std::uint8_t*)nullptr));
template <class E>
using SceneStepBatch =
    decltype(E::step_batch(lv<const Device>(), lv<P<E>>(), lv<V<E>>(), lv<typename E::State>(), I{},
                           (const ActionElem<E>*)nullptr, (const std::uint8_t*)nullptr,
                           lv<const SceneStepStreams>(), (float*)nullptr, (std::uint8_t*)nullptr));
template <class E>
using ObserveBatchEnabledName = decltype(&E::observe_batch_enabled);
template <class E>
using ObserveRaysName = decltype(&E::observe_rays);
template <class E>
using ObserveRayName = decltype(&E::observe_ray);
template <class E>
using ObserveFeaturesName = decltype(&E::observe_features);
template <class E>
using ObserveBatchEnabled = decltype(E::observe_batch_enabled(lv<P<E>>(), lv<const Device>()));
template <class E>
using ObserveRays = decltype(E::observe_rays(lv<P<E>>()));
template <class E>
using ObserveRay = decltype(E::observe_ray(lv<P<E>>(), lv<V<E>>(), I{}, 0, (float*)nullptr));
template <class E>
using ObserveFeatures = decltype(E::observe_features(lv<P<E>>(), lv<V<E>>(), I{}, (float*)nullptr));

// Whether a State lists its arrays for snapshots: for_each_array takes any array visitor.
struct AnyArray {
  template <class T>
  void operator()(DeviceArray<T>&) const {}
};
template <class E>
using ForEachArray = decltype(lv<typename E::State>().for_each_array(lv<AnyArray>()));
template <class E>
using StateCtor = decltype(typename E::State(lv<const Device>(), I{}));
template <class E>
using StateCtorParams = decltype(typename E::State(lv<const Device>(), I{}, lv<P<E>>()));

template <class E>
constexpr bool goal_offsets_fit() {
  if constexpr (detected<AchievedGoal, E> && detected<DesiredGoal, E> && E::kObsDim > 0) {
    return E::kAchievedGoalOffset >= 0 && E::kAchievedGoalOffset < E::kObsDim &&
           E::kDesiredGoalOffset >= 0 && E::kDesiredGoalOffset < E::kObsDim;
  } else {
    return true;
  }
}
template <class E>
constexpr bool state_dim_declared() {
  if constexpr (detected<Dims, E>) {
    return E::kStateDim > 0 || returns<StateDim, E, int>;
  } else {
    return true;
  }
}
template <class E>
constexpr bool baseline_nonempty() {
  if constexpr (detected<Baseline, E>) {
    return E::kBaseline[0] != '\0';
  } else {
    return true;
  }
}

}  // namespace contract

// E's capabilities, from the hooks it declares: the only place that looks for them, so the
// engine reads these flags and never probes E itself. Instantiating it checks the contract
// above; each broken rule is a compile error that names the member.
template <class E>
struct Capabilities {
  template <template <class> class Op>
  static constexpr bool has = contract::detected<Op, E>;
  template <template <class> class Op, class R>
  static constexpr bool gives = contract::returns<Op, E, R>;
  using Void = void;

  static constexpr bool kMultiAgent = has<contract::AgentsName> || has<contract::Agents>;
  static constexpr bool kOutcome = has<contract::HasOutcomeFlag>;
  static constexpr bool kBaseline = has<contract::Baseline>;
  static constexpr bool kGoalConditioned = has<contract::AchievedGoal>;
  static constexpr bool kStepBlock = has<contract::StepBlockName>;
  static constexpr bool kStepBatch = has<contract::StepBatchName>;
  static constexpr bool kObserveBatch = has<contract::ObserveBatchEnabledName>;
  static constexpr bool kListsArrays = has<contract::ForEachArray>;
  static constexpr bool kStateTakesParams = has<contract::StateCtorParams>;

  // required members
  static_assert(gives<contract::Name, const char*>, "E::kName (const char*) missing");
  static_assert(gives<contract::Description, const char*>, "E::kDescription (const char*) missing");
  static_assert(has<contract::Dims>, "E::kObsDim, E::kActDim or E::kStateDim (int) missing");
  static_assert(has<contract::Discrete>, "E::kDiscrete (bool) missing");
  static_assert(gives<contract::MaxEpisodeSteps, std::int32_t>,
                "E::Params::max_episode_steps (std::int32_t) missing");
  static_assert(has<contract::ReadParams>,
                "E::read_params(ConfigReader&) -> Params missing or mistyped");
  static_assert(gives<contract::ObservationSpace, Space> && gives<contract::ActionSpace, Space>,
                "E::observation_space / action_space(const Params&) -> Space missing or mistyped");
  static_assert(gives<contract::RewardThreshold, double>,
                "E::reward_threshold(const Params&) -> double missing or mistyped");
  static_assert(has<contract::StateCtor> || kStateTakesParams,
                "E::State(const Device&, std::int64_t n[, const Params&]) missing");
  static_assert(has<contract::StateView>, "E::State::view() -> View missing or mistyped");
  static_assert(
      contract::state_dim_declared<E>(),
      "E::kStateDim <= 0 (sized by settings): E::state_dim(const Params&) -> int missing");
  static_assert(gives<contract::Reset, Void>,
                "E::reset(const Params&, const View&, std::int64_t, PhiloxStream&) missing or "
                "mistyped");
  static_assert(gives<contract::ReadState, Void>,
                "E::read_state(const View&, std::int64_t, double*) missing or mistyped");
  static_assert(kMultiAgent || gives<contract::Step, Void>,
                "E::step(const Params&, const View&, std::int64_t, Action, float* reward, bool* "
                "terminated) missing or mistyped (Action: std::int32_t, or const float* for Box)");
  static_assert(kMultiAgent || gives<contract::Observe, Void>,
                "E::observe(const Params&, const View&, std::int64_t, float*) missing or mistyped");
  static_assert(kMultiAgent || gives<contract::WriteState, Void>,
                "E::write_state(const View&, std::int64_t, const double*) missing or mistyped");

  // a multi-agent env's per-scene signatures
  static_assert(!kMultiAgent || (gives<contract::Agents, int> && has<contract::MaxAgents>),
                "E::agents(const Params&) -> int and E::kMaxAgents (int) come together");
  static_assert(!kMultiAgent || gives<contract::SceneStep, Void>,
                "multi-agent E::step(const Params&, const View&, std::int64_t scene, const "
                "Action*, float* reward, bool* terminated, PhiloxStream&) missing or mistyped");
  static_assert(!kMultiAgent || gives<contract::AgentObserve, Void>,
                "multi-agent E::observe(const Params&, const View&, std::int64_t scene, int agent, "
                "float*) missing or mistyped");
  static_assert(!kMultiAgent || gives<contract::SceneWriteState, Void>,
                "multi-agent E::write_state(const Params&, const View&, std::int64_t scene, const "
                "double*) missing or mistyped");
  static_assert(!kMultiAgent || kListsArrays,
                "a multi-agent E::State lists its arrays: for_each_array(F&&) missing");

  // optional hooks, declared as whole sets
  static_assert(!has<contract::HasOutcomeName> || has<contract::OutcomeName> ||
                    has<contract::Outcome> || has<contract::AgentOutcome>,
                "E::kHasOutcome is declared: E::outcome missing");
  static_assert(!(has<contract::OutcomeName> || has<contract::Outcome>) || kOutcome,
                "E::outcome is declared without E::kHasOutcome = true: the engine would not call "
                "it");
  static_assert(!kOutcome || (kMultiAgent ? gives<contract::AgentOutcome, std::uint8_t>
                                          : gives<contract::Outcome, std::uint8_t>),
                "E::outcome(const Params&, const View&, std::int64_t[, int agent]) -> "
                "std::uint8_t mistyped");
  static_assert(contract::baseline_nonempty<E>(),
                "E::kBaseline: declare it only for an env with "
                "one");
  static_assert(has<contract::AchievedGoal> == has<contract::DesiredGoal>,
                "E::kAchievedGoalOffset and E::kDesiredGoalOffset come together");
  static_assert(contract::goal_offsets_fit<E>(),
                "E::kAchievedGoalOffset / kDesiredGoalOffset outside 0..kObsDim-1");
  static_assert(kStepBlock == has<contract::VectorStepName>,
                "E::step_block and E::vector_step_available() come together");
  static_assert(!kStepBlock || (gives<contract::VectorStep, bool> &&
                                gives<contract::StepBlock, Void> && !kMultiAgent),
                "E::step_block(const Params&, const View&, std::int64_t begin, std::int64_t end, "
                "const std::int32_t*, const std::uint8_t* skip, float*, std::uint8_t*) mistyped "
                "(single-agent, Discrete envs only)");
  static_assert(kStepBatch == has<contract::StepBatchEnabledName>,
                "E::step_batch and E::step_batch_enabled(const Params&, const Device&) come "
                "together");
  static_assert(!kStepBatch || (gives<contract::StepBatchEnabled, bool> &&
                                (kMultiAgent ? gives<contract::SceneStepBatch, Void>
                                             : gives<contract::StepBatch, Void>)),
                "E::step_batch or E::step_batch_enabled mistyped (see sim/env_contract.h)");
  static_assert(kObserveBatch == has<contract::ObserveRaysName> &&
                    kObserveBatch == has<contract::ObserveRayName> &&
                    (!kObserveBatch || has<contract::ObserveFeaturesName>),
                "E::observe_batch_enabled, observe_rays, observe_ray and observe_features come "
                "together");
  static_assert(!kObserveBatch ||
                    (gives<contract::ObserveBatchEnabled, bool> &&
                     gives<contract::ObserveRays, int> && gives<contract::ObserveRay, Void> &&
                     gives<contract::ObserveFeatures, Void> && !kMultiAgent),
                "E::observe_batch_enabled(const Params&, const Device&), observe_rays(const "
                "Params&), observe_ray(const Params&, const View&, std::int64_t, int, float*) or "
                "observe_features(const Params&, const View&, std::int64_t, float*) mistyped "
                "(single-agent envs only)");
};

}  // namespace convoy
