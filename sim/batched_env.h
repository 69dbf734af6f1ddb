// BatchedEnv<E> is the engine behind every VecEnv: it owns E's state (structure of arrays),
// validates actions, launches E's stages with for_each_index and does the episode bookkeeping
// and SAME_STEP auto-reset. E states its physics and rules by the contract in
// sim/env_contract.h; the engine reads what E offers from Capabilities<E> only. The stages'
// kernels are in sim/engine_kernels.h (sim/scene_kernels.h for multi-agent envs), snapshots in
// sim/snapshot.h. step() reads as its stages in order: see run_stages below.
//
// Include this only from .cu files: it launches kernels.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/array.h"
#include "sim/autoreset.h"
#include "sim/config.h"
#include "sim/engine_kernels.h"
#include "sim/env_contract.h"
#include "sim/env_spec.h"
#include "sim/parallel.h"
#include "sim/rng.h"
#include "sim/scene_kernels.h"
#include "sim/snapshot.h"
#include "sim/step_status.h"
#include "sim/vec_env.h"

namespace convoy {

namespace detail {
// E's State, sized by num_envs, or scenes for a multi-agent env (and by the settings where
// it takes them).
template <class E>
typename E::State make_state(const Device& d, std::int64_t n, const typename E::Params& p) {
  if constexpr (Capabilities<E>::kStateTakesParams) {
    return typename E::State(d, n, p);
  } else {
    return typename E::State(d, n);
  }
}
}  // namespace detail

template <class E>
class BatchedEnv final : public VecEnv {
  using Caps = Capabilities<E>;  // instantiating it checks E against the contract

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
    if constexpr (Caps::kListsArrays) {
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
    reset_stages();
    was_reset_ = true;
  }

  void reset(const std::vector<std::uint64_t>& seeds) override {
    if (static_cast<std::int64_t>(seeds.size()) != num_envs_) {
      throw Error(spec_.name + ": reset got " + std::to_string(seeds.size()) +
                  " seeds; allowed: one seed, or exactly num_envs = " + std::to_string(num_envs_));
    }
    seeds_.copy_from_host(seeds);
    reset_stages();
    was_reset_ = true;
  }

  void step_raw(const void* d_actions, const std::uint8_t* d_skip = nullptr) override {
    act(d_actions, d_skip);
    const LaunchGate gate(deferred_checks_ ? status_.gate() : nullptr);
    run_stages(d_actions, d_skip, nullptr);
  }

  // On the CPU, single-agent envs step and compose in one pass over blocks of envs.
  std::int64_t step_compose(const void* d_actions, const std::uint8_t* d_skip,
                            const StepOutputs& out) override {
    // multi-agent envs and the staged step (per-ray obs) compose after it, as on CUDA
    if (Caps::kMultiAgent || !device_.is_cpu() || batch_observe()) {
      return VecEnv::step_compose(d_actions, d_skip, out);
    }
    act(d_actions, d_skip);
    std::int64_t ended = 0;
    {
      const LaunchGate gate(deferred_checks_ ? status_.gate() : nullptr);
      const detail::ComposeKernel compose = detail::compose_kernel(*this, out);
      ended = run_stages(d_actions, d_skip, &compose);
    }
    finish_step();  // deferred checks: a bad action's error
    return ended;
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
    return detail::save_snapshot(
        snapshot_tag(), [&](detail::SnapshotMode m, auto&& f) { self.visit_snapshot(m, f); });
  }

  void load_state(const std::string& bytes) override {
    const std::string tag = snapshot_tag();
    if (bytes.compare(0, tag.size(), tag) != 0) {
      throw Error(spec_.name + ": the saved env state is not from a " + spec_.name + " of " +
                  std::to_string(num_envs_) + " envs with these settings");
    }
    if (!detail::load_snapshot(bytes, tag.size(), device_,
                               [&](detail::SnapshotMode m, auto&& f) { visit_snapshot(m, f); })) {
      throw Error(spec_.name + ": the saved env state is malformed (" +
                  std::to_string(bytes.size()) + " bytes)");
    }
    was_reset_ = true;
  }

 private:
  // The step, stage by stage, as E's capabilities (sim/env_contract.h) and the device choose:
  //   act       the actions validated, before any stage (act(), on the host or the device)
  //   dynamics  E::step per env (scene); E::step_batch's launches (per env x vehicle ...);
  //             or on the CPU E::step_block per block of envs
  //   account   reward, terminated / truncated (Gymnasium's TimeLimit), episode totals, outcome
  //   reset     SAME_STEP auto-reset of the envs whose episode ended, final obs kept
  //   observe   E::observe per env (scene), or per env x ray
  //   compose   Gymnasium's outputs; given `compose` (the CPU, single-agent), per block of envs
  // Stages joined by '+' run in one pass per env (one launch), while its state is in registers.
  // Returns how many episodes ended where it composes, else 0.
  std::int64_t run_stages(const void* d_actions, const std::uint8_t* d_skip,
                          const detail::ComposeKernel* compose) {
    if constexpr (Caps::kMultiAgent) {
      const detail::MultiStepKernel<E> k{view(), agents_per_env(),
                                         static_cast<const std::int32_t*>(d_actions),
                                         static_cast<const float*>(d_actions), d_skip};
      if (batch_step()) {
        dynamics_batch(d_actions, d_skip);
        // account + reset + observe, per scene
        for_each_index(device_, num_scenes(), detail::MultiFinishKernel<E>{k});
      } else {
        // dynamics + account + reset + observe, per scene
        for_each_index(device_, num_scenes(), k);
      }
      return 0;
    } else {
      const detail::StepKernel<E> k = step_kernel(d_actions, d_skip);
      if (batch_observe()) {
        dynamics_and_account(k, d_actions, d_skip);
        observe_rays(d_skip, false);
        reset_ended(k);
        observe_rays(d_skip, true);  // the first obs of the envs just reset
        return 0;
      }
      if (batch_step()) {
        dynamics_batch(d_actions, d_skip);
        // account + reset + observe [+ compose], per env
        if (compose) {
          return for_each_block_cpu(
              num_envs_, kComposeBlock,
              detail::BlockFinishKernel<E>{detail::FinishKernel<E>{k}, *compose});
        }
        for_each_index(device_, num_envs_, detail::FinishKernel<E>{k});
        return 0;
      }
      // dynamics + account + reset + observe [+ compose], per env or per block of envs
      if (compose) {
        return for_each_block_cpu(num_envs_, kComposeBlock,
                                  detail::BlockStepKernel<E>{k, vector_step(), true, *compose});
      }
      if (device_.is_cpu() && vector_step()) {
        for_each_block_cpu(num_envs_, kComposeBlock,
                           detail::BlockStepKernel<E>{k, true, false, {}});
        return 0;
      }
      for_each_index(device_, num_envs_, k);
      return 0;
    }
  }

  // act: the actions checked before any stage runs
  void act(const void* d_actions, const std::uint8_t* d_skip) {
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
  // Which of E's optional stages run, for these settings and this device: the CPU block step
  // (where the CPU supports it), the batch step, the per-ray observation.
  static bool vector_step() {
    if constexpr (Caps::kStepBlock) {
      return E::vector_step_available();
    } else {
      return false;
    }
  }
  bool batch_step() const {
    if constexpr (Caps::kStepBatch) {
      return E::step_batch_enabled(params_, device_);
    } else {
      return false;
    }
  }
  // dynamics: E::step_batch's launches (per env x vehicle ...), writing reward and terminated
  void dynamics_batch(const void* d_actions, const std::uint8_t* d_skip) {
    if constexpr (Caps::kStepBatch) {
      using Action = std::conditional_t<E::kDiscrete, std::int32_t, float>;
      if constexpr (Caps::kMultiAgent) {
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
  bool batch_observe() const {
    if constexpr (Caps::kObserveBatch) {
      return E::observe_batch_enabled(params_, device_);
    } else {
      return false;
    }
  }
  // observe, per env x ray: the envs not skipped (all with skip null), or with ended_only those
  // whose episode ended this step
  void observe_rays(const std::uint8_t* d_skip, bool ended_only) {
    if constexpr (Caps::kObserveBatch) {
      const std::int32_t rays = E::observe_rays(params_);
      for_each_index(device_, num_envs_ * (rays + 1),
                     detail::ObserveKernel<E>{view(), rays, d_skip, ended_only});
    }
  }
  // The staged step's first stages: dynamics + account per env, or dynamics per env x vehicle
  // then account per env; neither observes nor resets (StepKernel's `deferred`).
  void dynamics_and_account(const detail::StepKernel<E>& k, const void* d_actions,
                            const std::uint8_t* d_skip) {
    detail::StepKernel<E> dk = k;
    dk.deferred = true;
    if (batch_step()) {
      dynamics_batch(d_actions, d_skip);
      for_each_index(device_, num_envs_, detail::FinishKernel<E>{dk});
    } else {
      for_each_index(device_, num_envs_, dk);
    }
  }
  // reset: the envs whose episode ended keep their obs as final obs and start the next one
  void reset_ended(const detail::StepKernel<E>& k) {
    for_each_index(device_, num_envs_, detail::EndKernel<E>{k});
  }
  // reset(): E::reset + observe per env (scene), or E::reset per env, then observe per env x ray
  void reset_stages() {
    if constexpr (Caps::kMultiAgent) {
      for_each_index(device_, num_scenes(), detail::MultiResetKernel<E>{view(), agents_per_env()});
    } else {
      if (batch_observe()) {
        for_each_index(device_, num_envs_, detail::ResetKernel<E>{view(), false});
        observe_rays(nullptr, false);
      } else {
        for_each_index(device_, num_envs_, detail::ResetKernel<E>{view()});
      }
    }
  }

  std::string snapshot_tag() const {
    return detail::snapshot_tag<E>(spec_.name, num_envs_, obs_dim(), spec_.state_dim);
  }
  // Calls f on every array of the snapshot in its fixed order (the format: sim/snapshot.h).
  template <class F>
  void visit_snapshot(detail::SnapshotMode mode, F&& f) {
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
    detail::visit_env_state<E>(mode, state_, device_, num_scenes(), spec_.state_dim, state_buf_, f);
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
        // thread (a parallel count_if's fork/join costs more than the check)
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

}  // namespace convoy
