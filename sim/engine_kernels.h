// The engine's per-env stages as functors over one index, launched by BatchedEnv<E>
// (sim/batched_env.h) with for_each_index: reset, the step (dynamics -> account -> auto-reset ->
// observe in one pass, or its stages apart), the per-ray observation, the CPU block passes, and
// the small kernels of actions and get_state / set_state. Multi-agent envs' per-scene versions
// are in sim/scene_kernels.h. Host and device code alike; no launches here.
#pragma once

#include <cstdint>
#include <cstring>

#include "sim/autoreset.h"
#include "sim/env_contract.h"
#include "sim/hd.h"
#include "sim/rng.h"

namespace convoy {
namespace detail {

// True for NaN and +-inf, by the bit pattern, so -ffast-math cannot fold it away.
CONVOY_HD_INLINE bool not_finite(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return (bits & 0x7f800000u) == 0x7f800000u;
}

// The per-env stages of the engine, as functors over one env index. (Functors rather than
// lambdas: nvcc type-erases __host__ __device__ lambdas behind a function pointer on the host,
// which stops the CPU loop from inlining the step; BENCHMARKS.md has the figures.)
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
  bool observe = true;  // false: the engine observes afterwards (Capabilities::kObserveBatch)
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

template <class E>
struct StepKernel {
  EngineView<E> e;
  const std::int32_t* a_int;  // (num_envs) for Discrete
  const float* a_float;       // (num_envs x kActDim) for Box
  const std::uint8_t* skip;   // (num_envs) or null: envs left as they are this step
  // the staged step (kObserveBatch): finish only accounts; ObserveKernel and EndKernel follow.
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
    if constexpr (Capabilities<E>::kObserveBatch) {  // the flag costs other envs nothing
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
      if constexpr (Capabilities<E>::kOutcome)
        e.final_outcome[i] = E::outcome(e.params, e.state, i);
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

// The staged step (Capabilities::kObserveBatch, the observation per env x ray): the dynamics
// and the bookkeeping (StepKernel with `deferred`), the obs of every stepped env (ObserveKernel
// over env x (rays + 1)), the ended episodes' obs copied into final_obs and their reset
// (EndKernel), then the obs of the reset envs (ObserveKernel again); reset() likewise resets,
// then observes. The results are the per-env pass's bit for bit.

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
    if constexpr (Capabilities<E>::kStepBlock) {
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
// envs, then their Gymnasium outputs (a kernel of its own: a second inlined copy of finish
// inside BlockStepKernel made g++ stop inlining the first).
template <class E>
struct BlockFinishKernel {
  FinishKernel<E> f;
  ComposeKernel outputs;
  std::int64_t operator()(std::int64_t begin, std::int64_t end) const {
    for (std::int64_t i = begin; i < end; ++i) f(i);
    return outputs.block(begin, end);
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
    if constexpr (Capabilities<E>::kMultiAgent) {
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

}  // namespace detail
}  // namespace convoy
