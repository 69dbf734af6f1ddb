// VecEnv is the batched environment contract (DESIGN.md section 5): reset(seed) and
// step(actions) over num_envs environments at once, with device-resident, batch-first
// buffers and Gymnasium's SAME_STEP auto-reset: when an episode ends, the returned obs is
// already the next episode's first and the last one is in final_obs (valid where
// terminated or truncated is set), with the finished episode's return and length.
//
// This header is the host-side interface only (no kernels); the one implementation is the
// BatchedEnv<E> template in sim/batched_env.h, instantiated per env in .cu files.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "sim/array.h"
#include "sim/config.h"
#include "sim/device.h"
#include "sim/spaces.h"
#include "sim/step_status.h"

namespace convoy {

// How an episode ended, for envs that say (EnvSpec::has_outcome): success and collision rates.
enum class EpisodeOutcome : std::uint8_t {
  kNone = 0,       // nothing notable, e.g. the time limit
  kSuccess = 1,    // the task was achieved
  kCollision = 2,  // hit something
  kOffRoad = 3,    // left the drivable area
};

struct EnvSpec {
  std::string name;                                                    // "CartPole-v1"
  std::string description;                                             // one line
  Space observation_space;                                             // per env
  Space action_space;                                                  // per env
  std::int64_t max_episode_steps = 0;                                  // truncation limit
  double reward_threshold = std::numeric_limits<double>::quiet_NaN();  // NaN: none
  int state_dim = 0;         // doubles exchanged by get_state / set_state (per scene)
  bool has_outcome = false;  // the env reports how episodes end (final_outcome)
  // Controlled agents per scene. A multi-agent env flattens its agents into the batch: row
  // scene * agents_per_env + agent, so num_envs (rows) is scenes x agents_per_env.
  int agents_per_env = 1;
  std::vector<ConfigKey> config_keys;

  // Capabilities, declared by the env type (sim/env_contract.h detects them), so tools need not
  // guess them from key names.
  // The config words that switch the env to its scripted baseline (which then ignores the
  // actions), e.g. {"ego_policy=autopilot"}; empty when it has none.
  std::vector<std::string> baseline_config;
  bool multi_agent = false;       // takes several agents per scene (agents_per_env may be > 1)
  bool goal_conditioned = false;  // obs = observation | achieved_goal | desired_goal (HER)

  bool has_baseline() const { return !baseline_config.empty(); }
};

// config with spec.baseline_config's words set over it: the env's scripted baseline.
Config with_baseline(const EnvSpec& spec, Config config);

// Device buffers of num_envs rows that VecEnv::step_compose fills (sim/autoreset.h says what
// each holds): obs_out (x obs_dim) may be null (SAME_STEP); done may be the step's own d_skip.
struct StepOutputs {
  float* obs_out = nullptr;
  std::uint8_t* done = nullptr;
  double* episode_return = nullptr;
  std::int32_t* episode_length = nullptr;
};

class VecEnv {
 public:
  static constexpr std::int64_t kMaxEnvs = std::int64_t(1) << 31;

  VecEnv(const Device& device, std::int64_t num_envs, EnvSpec spec);
  virtual ~VecEnv() = default;
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  const EnvSpec& spec() const { return spec_; }
  const Device& device() const { return device_; }
  std::int64_t num_envs() const { return num_envs_; }  // rows: scenes x agents_per_env
  int agents_per_env() const { return spec_.agents_per_env; }
  std::int64_t num_scenes() const { return num_envs_ / spec_.agents_per_env; }
  std::int64_t obs_dim() const { return spec_.observation_space.flat_dim(); }
  std::int64_t act_dim() const { return spec_.action_space.flat_dim(); }
  bool discrete_actions() const { return spec_.action_space.is_discrete(); }

  // Starts episode 0 of every env from seed; env i draws from Philox stream (seed, i).
  virtual void reset(std::uint64_t seed) = 0;
  // Same with one seed per env: env i draws from stream (seeds[i], i).
  virtual void reset(const std::vector<std::uint64_t>& seeds) = 0;

  // Steps every env. The array must be on this env's device and hold num_envs x act_dim
  // elements of the action space's dtype (int32 for Discrete, float32 for Box). Invalid
  // actions (NaN or infinite, a discrete index out of range) throw convoy::Error naming the
  // first bad env and value, and leave every buffer and state as it was.
  void step(const DeviceArray<std::int32_t>& actions);
  void step(const DeviceArray<float>& actions);
  // Same, from a raw device pointer of the right dtype (for bindings that share memory).
  // Envs where the optional device mask d_skip is non-zero are left as they are (reward 0,
  // not terminated or truncated, obs unchanged) and their actions are ignored: this is how
  // Gymnasium's NEXT_STEP auto-reset mode is built on top of SAME_STEP.
  // On CUDA step_raw does not wait: actions are validated on the device, and invalid ones
  // leave this env as it was through this and every later step until check_steps() (or
  // step(), step_compose()) throws their error. The CPU validates first and throws at once.
  virtual void step_raw(const void* d_actions, const std::uint8_t* d_skip = nullptr) = 0;

  // Waits for the queued steps (on CUDA, the one host synchronisation) and throws the error
  // of invalid actions that device-side validation found since the last check, if any; the
  // env is then as it was before that step and steps again. Nothing to wait for on the CPU.
  void check_steps() { (void)finish_step(); }

  // step_raw followed by compose_step_outputs (sim/autoreset.h): what a Gymnasium vector env
  // returns, composed after the step. Returns how many envs' episodes ended. The engine does
  // both in one pass over blocks of envs on the CPU; the results are the same either way.
  virtual std::int64_t step_compose(const void* d_actions, const std::uint8_t* d_skip,
                                    const StepOutputs& out);

  // Fills a device buffer of num_envs x act_dim actions drawn uniformly from the action
  // space (Box bounds must be finite), from Philox stream (seed, env) at step `counter`.
  virtual void sample_actions(std::uint64_t seed, std::uint64_t counter, void* d_actions) = 0;

  // The full physical state of env i (spec().state_dim doubles) and its step count within
  // the episode. set_state also zeroes that env's episode return and length. For tests that
  // align Convoy with a reference implementation, and for debugging. For a multi-agent env,
  // i is a scene (0..num_scenes() - 1) and set_state zeroes all its agents' rows.
  virtual std::vector<double> get_state(std::int64_t env) const = 0;
  virtual void set_state(std::int64_t env, const std::vector<double>& state,
                         std::int32_t elapsed_steps) = 0;

  // The engine's whole state as host bytes: every env's state, its episode bookkeeping
  // (Philox seeds, episode counters, steps, returns, lengths) and the output buffers, so
  // that load_state() on an env built with the same name, settings and num_envs continues
  // exactly as the saved one would have, bit for bit (for `convoy train --resume`).
  // load_state refuses bytes from another env, shape or format with a convoy::Error and
  // then leaves this env as it was. The base class has no state to save and throws.
  virtual std::string save_state() const;
  virtual void load_state(const std::string& bytes);

  // Buffers, valid after reset() and updated by each step().
  const DeviceArray<float>& obs() const { return obs_; }        // (num_envs x obs_dim)
  const DeviceArray<float>& reward() const { return reward_; }  // (num_envs)
  const DeviceArray<std::uint8_t>& terminated() const { return terminated_; }  // (num_envs)
  const DeviceArray<std::uint8_t>& truncated() const { return truncated_; }    // (num_envs)
  const DeviceArray<float>& final_obs() const { return final_obs_; }  // (num_envs x obs_dim)
  const DeviceArray<double>& episode_return() const { return episode_return_; }  // (num_envs)
  const DeviceArray<std::int32_t>& episode_length() const { return episode_length_; }
  // Return and length of the episode that ended this step (valid where it ended).
  const DeviceArray<double>& final_episode_return() const { return final_episode_return_; }
  const DeviceArray<std::int32_t>& final_episode_length() const { return final_episode_length_; }
  // EpisodeOutcome of the episode that ended this step (valid where it ended; 0 when the env
  // has no outcome, see spec().has_outcome).
  const DeviceArray<std::uint8_t>& final_outcome() const { return final_outcome_; }

 protected:
  friend std::int64_t compose_step_outputs(VecEnv& env, float* obs_out, std::uint8_t* done,
                                           double* episode_return, std::int32_t* episode_length);

  void check_reset(const char* what) const;
  [[noreturn]] void throw_bad_action(const void* d_actions, const std::uint8_t* d_skip) const;
  // The convoy::Error for flat action element k whose raw 32 bits are `bits`.
  [[noreturn]] void throw_bad_action_at(std::int64_t k, std::uint32_t bits) const;
  // check_steps(), returning the episodes counted into status_.done_counter() since
  // status_.clear_done() (0 on the CPU path).
  std::int64_t finish_step();
  // Launches compose_step_outputs's kernels: their count goes to status_ (deferred) or is
  // returned (the CPU).
  std::int64_t compose_outputs(const StepOutputs& out);

  Device device_;
  std::int64_t num_envs_;
  EnvSpec spec_;
  bool was_reset_ = false;

  DeviceArray<float> obs_;
  DeviceArray<float> reward_;
  DeviceArray<std::uint8_t> terminated_;
  DeviceArray<std::uint8_t> truncated_;
  DeviceArray<float> final_obs_;
  DeviceArray<double> episode_return_;
  DeviceArray<std::int32_t> episode_length_;
  DeviceArray<double> final_episode_return_;
  DeviceArray<std::int32_t> final_episode_length_;
  DeviceArray<std::uint8_t> final_outcome_;

  // Validation on the device (CUDA, or CONVOY_DEFERRED_CHECKS=1 on the CPU): status_ holds
  // what it found (sim/step_status.h); steps launch behind its gate.
  bool deferred_checks_ = false;
  StepStatus status_;
};

}  // namespace convoy
