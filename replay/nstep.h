// NStepWriter: n-step transitions formed on the device as envs step, before they reach a
// replay buffer. Each env keeps a queue of its last n starts; every push() adds the step's
// reward to each open start (gamma^k r_{t+k}) and
//   - where the episode ended this step, closes every open start: next_obs is the true final
//     observation, done = terminated (a truncation bootstraps, a termination does not);
//   - once the queue holds n starts, emits the oldest, closing it first if still open (it
//     then has n rewards and bootstraps from the step's next observation).
// So after the first n - 1 pushes every push emits exactly one transition per env (the
// row count never depends on the data: no host round trip), in start order; starts closed
// by an episode end leave during the next episode's first steps. A transition's `steps`
// (m <= n rewards summed) goes with it into the buffer, where the learner bootstraps with
// gamma^m. Starts still in the queues when training stops are never emitted.
//
// The queues live on the writer's device; push() is one for_each_index launch, one thread
// per env, so any number of envs insert at once, and the same inputs give the same bits on
// any thread count.
#pragma once

#include <cstdint>
#include <string>

#include "replay/replay.h"
#include "sim/array.h"
#include "sim/device.h"

namespace convoy {

class NStepWriter {
 public:
  static constexpr int kMaxSteps = 64;  // fits the ring's packed done byte (replay/ring.h)

  // n in [1, kMaxSteps], gamma in [0, 1]; anything else is a convoy::Error naming it.
  NStepWriter(const Device& device, std::int64_t num_envs, int n, double gamma,
              std::int64_t obs_dim, std::int64_t act_dim);

  // Takes one env step of num_envs rows (replay/replay.h's Transitions, on this device) and
  // returns the n-step transitions ready for ReplayBuffer::add: num_envs rows, or rows = 0
  // during the first n - 1 pushes. The returned pointers stay valid until the next push().
  Transitions push(const Transitions& step);

  int n() const { return n_; }
  std::int64_t num_envs() const { return num_envs_; }
  std::int64_t pushes() const { return pushes_; }
  // The queues and the push count, for checkpoints; load_state() refuses bytes of another
  // shape with a convoy::Error before changing anything.
  std::string save_state() const;
  void load_state(const std::string& bytes);

 private:
  Device device_;
  std::int64_t num_envs_;
  int n_;
  float gamma_;
  std::int64_t obs_dim_, act_dim_;
  std::int64_t pushes_ = 0;
  // per env: queue head and length; per (env, slot): the start's obs, action, return,
  // discount so far (gamma^k), rewards summed (k), closed and done flags, next_obs
  DeviceArray<std::int32_t> head_, count_;
  DeviceArray<float> q_obs_, q_act_, q_ret_, q_disc_, q_next_;
  DeviceArray<std::int32_t> q_steps_;
  DeviceArray<std::uint8_t> q_closed_, q_done_;
  // the emitted rows
  DeviceArray<float> out_obs_, out_act_, out_ret_, out_next_;
  DeviceArray<std::uint8_t> out_done_, out_trunc_, out_steps_;
};

}  // namespace convoy
