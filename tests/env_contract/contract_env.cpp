// A small env that keeps the contract (sim/env_contract.h) unless CONTRACT_CASE names a way to
// break it; env_contract_check.sh compiles each case and expects the error that names the
// member. Only compiled by that script, never linked.
#include <cstdint>

#include "sim/env_contract.h"

#ifndef CONTRACT_CASE
#define CONTRACT_CASE 0
#endif

struct ContractEnv {
  static constexpr const char* kName = "Contract-v0";
  static constexpr const char* kDescription = "an env for the contract check";
  static constexpr int kObsDim = 1, kActDim = 1, kStateDim = 1;
  static constexpr bool kDiscrete = true;
  struct Params {
    std::int32_t max_episode_steps = 10;
  };
  static Params read_params(convoy::ConfigReader&) { return {}; }
  static convoy::Space observation_space(const Params&) { return {}; }
  static convoy::Space action_space(const Params&) { return {}; }
  static double reward_threshold(const Params&) { return 0.0; }
  struct View {
    float* x;
  };
  struct State {
    State(const convoy::Device&, std::int64_t) {}
    View view() { return {nullptr}; }
  };
#if CONTRACT_CASE == 1  // a mistyped required member: the view not const
  static void reset(const Params&, View&, std::int64_t, convoy::PhiloxStream&) {}
#else
  static void reset(const Params&, const View&, std::int64_t, convoy::PhiloxStream&) {}
#endif
#if CONTRACT_CASE == 6  // another: the done flag as a byte
  static void step(const Params&, const View&, std::int64_t, std::int32_t, float*, std::uint8_t*) {}
#else
  static void step(const Params&, const View&, std::int64_t, std::int32_t, float*, bool*) {}
#endif
  static void observe(const Params&, const View&, std::int64_t, float*) {}
  static void read_state(const View&, std::int64_t, double*) {}
  static void write_state(const View&, std::int64_t, const double*) {}
#if CONTRACT_CASE == 2  // an optional hook misspelt: kHasOutcome without outcome
  static constexpr bool kHasOutcome = true;
  static std::uint8_t outcomes(const Params&, const View&, std::int64_t) { return 0; }
#elif CONTRACT_CASE == 3  // the other way: outcome without kHasOutcome
  static constexpr bool kHasOutcomes = true;
  static std::uint8_t outcome(const Params&, const View&, std::int64_t) { return 0; }
#elif CONTRACT_CASE == 4  // a set declared in part
  static bool step_batch_enable(const Params&, const convoy::Device&) { return true; }
  static void step_batch(const convoy::Device&, const Params&, const View&, State&, std::int64_t,
                         const std::int32_t*, const std::uint8_t*, float*, std::uint8_t*) {}
#elif CONTRACT_CASE == 5
  static constexpr int kAchievedGoalOffset = 0;
#endif
};

static_assert(!convoy::Capabilities<ContractEnv>::kMultiAgent, "instantiates the checks");
