// Replay buffers for off-policy learners (SAC). ReplayBuffer is the interface a learner
// codes against: add() one env step of num_envs transitions straight from the VecEnv's
// device buffers, sample() a batch that carries its slot indices and importance weights,
// and update_priorities() with the batch's TD errors. UniformReplayBuffer draws slots
// uniformly (weights all 1, update_priorities a no-op); PrioritizedReplayBuffer
// (replay/prioritized.h) implements the same three calls, so the learner does not change
// when it is swapped in.
//
// Storage is a device-resident ring of `capacity` transitions (replay/ring.h), and
// add/sample are for_each_index launches, so they are kernels on CUDA. A transition's
// next_obs is the env's final obs where its episode ended this step (the VecEnv's obs is
// already the next episode's first there), so truncated transitions bootstrap from the
// right state; only `terminated` is stored as done.
//
// Sampling is counter-based: row i of a batch draws from PhiloxStream(seed, i, counter,
// kReplay), so the same (seed, counter) gives the same batch on any thread count.
#pragma once

#include <cstdint>
#include <string>

#include "replay/ring.h"
#include "sim/array.h"
#include "sim/device.h"
#include "sim/vec_env.h"

namespace convoy {

// One env step of `rows` transitions, as pointers on the buffer's device.
struct Transitions {
  std::int64_t rows = 0;
  const float* obs = nullptr;                // (rows x obs_dim) obs the action was taken on
  const float* actions = nullptr;            // (rows x act_dim) as given to the env
  const float* rewards = nullptr;            // (rows)
  const float* next_obs = nullptr;           // (rows x obs_dim) the env's obs after the step
  const float* final_obs = nullptr;          // (rows x obs_dim) read where an episode ended
  const std::uint8_t* terminated = nullptr;  // (rows)
  const std::uint8_t* truncated = nullptr;   // (rows)
  // (rows) rewards summed into `rewards` (replay/nstep.h), 1..64; null: 1 (a one-step
  // transition). The learner bootstraps with gamma^steps.
  const std::uint8_t* steps = nullptr;
};

// The transitions of the step `env` just took: obs_before is a copy of env.obs() made
// before step() (rows x obs_dim), actions what was given to step().
Transitions env_transitions(const VecEnv& env, const float* obs_before, const float* actions);

// A sampled batch, on the buffer's device. sample() sizes it.
struct ReplayBatch {
  std::int64_t size = 0;
  DeviceArray<float> obs;             // (size x obs_dim)
  DeviceArray<float> actions;         // (size x act_dim)
  DeviceArray<float> rewards;         // (size)
  DeviceArray<float> next_obs;        // (size x obs_dim)
  DeviceArray<float> dones;           // (size) 1 where the episode terminated, else 0
  DeviceArray<float> steps;           // (size) rewards summed (n-step), 1 for one-step
  DeviceArray<std::int64_t> indices;  // (size) the slots drawn
  DeviceArray<float> weights;         // (size) importance weights (uniform: 1)
};

class ReplayBuffer {
 public:
  virtual ~ReplayBuffer() = default;

  // Stores t.rows transitions (at most capacity()), overwriting the oldest once full.
  virtual void add(const Transitions& t) = 0;
  // Draws batch_size transitions from the filled slots into `out` (resized as needed). The
  // buffer must hold at least one transition.
  virtual void sample(std::int64_t batch_size, std::uint64_t seed, std::uint64_t counter,
                      ReplayBatch& out) = 0;
  // |TD error| of each sampled slot (n of them, device pointers); uniform ignores it.
  virtual void update_priorities(const std::int64_t* d_indices, const float* d_td_errors,
                                 std::int64_t n) = 0;

  virtual const Device& device() const = 0;
  virtual std::int64_t capacity() const = 0;
  virtual std::int64_t size() const = 0;  // filled slots, <= capacity()
  virtual std::int64_t obs_dim() const = 0;
  virtual std::int64_t act_dim() const = 0;

  // The stored transitions and ring position as bytes, for checkpoints; load_state() on a
  // buffer of the same capacity and sizes continues exactly where save_state() was, and
  // refuses other bytes with a convoy::Error before changing anything. Buffers that cannot
  // be checkpointed throw.
  virtual std::string save_state() const;
  virtual void load_state(const std::string& bytes);
};

class UniformReplayBuffer final : public ReplayBuffer {
 public:
  static constexpr std::int64_t kMaxCapacity = ReplayRing::kMaxCapacity;

  // capacity in [1, kMaxCapacity], obs_dim and act_dim >= 1; anything else a convoy::Error.
  UniformReplayBuffer(const Device& device, std::int64_t capacity, std::int64_t obs_dim,
                      std::int64_t act_dim);

  void add(const Transitions& t) override { ring_.add(t); }
  void sample(std::int64_t batch_size, std::uint64_t seed, std::uint64_t counter,
              ReplayBatch& out) override;
  void update_priorities(const std::int64_t*, const float*, std::int64_t) override {}

  const Device& device() const override { return ring_.device(); }
  std::int64_t capacity() const override { return ring_.capacity(); }
  std::int64_t size() const override { return ring_.size(); }
  std::int64_t obs_dim() const override { return ring_.obs_dim(); }
  std::int64_t act_dim() const override { return ring_.act_dim(); }
  std::int64_t next_slot() const { return ring_.next_slot(); }  // where the next add() starts
  // The filled rows only (a buffer not yet full saves size() rows).
  std::string save_state() const override;
  void load_state(const std::string& bytes) override;

  // The stored rows, for tests and checkpoints.
  const DeviceArray<float>& obs() const { return ring_.obs(); }             // (capacity x obs_dim)
  const DeviceArray<float>& actions() const { return ring_.actions(); }     // (capacity x act_dim)
  const DeviceArray<float>& rewards() const { return ring_.rewards(); }     // (capacity)
  const DeviceArray<float>& next_obs() const { return ring_.next_obs(); }   // (capacity x obs_dim)
  const DeviceArray<std::uint8_t>& dones() const { return ring_.dones(); }  // (capacity)

 private:
  ReplayRing ring_;
};

}  // namespace convoy
