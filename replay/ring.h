// The transition storage the replay buffers share: a device-resident ring of `capacity`
// transitions (structure of arrays) that add() fills from an env step, overwriting the
// oldest once full. Buffers differ only in how they pick slots; their sample kernels gather
// the picked rows with BatchRows::gather, so uniform and prioritized replay copy rows alike.
#pragma once

#include <cstdint>
#include <string>

#include "sim/array.h"
#include "sim/device.h"
#include "sim/hd.h"

namespace convoy {

struct Transitions;  // replay/replay.h
struct ReplayBatch;

// A slot's done byte: bit 0 the termination, bits 1..6 the rewards summed minus one (n-step
// transitions, replay/nstep.h), so one-step rings keep the 0/1 bytes they always stored and
// their checkpoints load unchanged.
CONVOY_HD_INLINE std::uint8_t pack_done(bool terminated, int steps) {
  return static_cast<std::uint8_t>((terminated ? 1 : 0) | ((steps - 1) << 1));
}

// The ring's rows as raw device pointers, for kernels.
struct RingRows {
  std::int64_t obs_dim, act_dim;
  const float *obs, *actions, *rewards, *next_obs;  // (capacity x obs_dim | act_dim | 1)
  const std::uint8_t* dones;                        // (capacity) pack_done
};

// A batch's rows as raw device pointers, for kernels.
struct BatchRows {
  float *obs, *actions, *rewards, *next_obs, *dones, *steps, *weights;
  std::int64_t* indices;
  // Batch row i from ring slot `slot` (every field but the weight).
  CONVOY_HD void gather(const RingRows& r, std::int64_t i, std::int64_t slot) const {
    for (std::int64_t k = 0; k < r.obs_dim; ++k) {
      obs[i * r.obs_dim + k] = r.obs[slot * r.obs_dim + k];
      next_obs[i * r.obs_dim + k] = r.next_obs[slot * r.obs_dim + k];
    }
    for (std::int64_t k = 0; k < r.act_dim; ++k) {
      actions[i * r.act_dim + k] = r.actions[slot * r.act_dim + k];
    }
    rewards[i] = r.rewards[slot];
    dones[i] = (r.dones[slot] & 1) ? 1.0f : 0.0f;
    steps[i] = static_cast<float>((r.dones[slot] >> 1) + 1);
    indices[i] = slot;
  }
};

class ReplayRing {
 public:
  static constexpr std::int64_t kMaxCapacity = std::int64_t(1) << 31;

  // capacity in [1, kMaxCapacity], obs_dim and act_dim >= 1, else a convoy::Error that
  // starts with `owner` (the buffer's class name). Before allocating, the ring's bytes plus
  // `extra_bytes` (what the owner allocates next, e.g. its sum tree) must fit in the device's
  // free memory, else a convoy::Error naming both byte counts.
  ReplayRing(const Device& device, std::int64_t capacity, std::int64_t obs_dim,
             std::int64_t act_dim, std::string owner, std::uint64_t extra_bytes = 0);

  // Stores t.rows transitions at next_slot() onwards (wrapping); returns the first slot.
  std::int64_t add(const Transitions& t);
  // Sizes `out` for `batch_size` rows on this ring's device.
  BatchRows fit_batch(std::int64_t batch_size, ReplayBatch& out) const;
  RingRows rows() const;

  // Sizes, ring position and the filled rows, appended to `out`.
  void save(std::string& out) const;
  // The end offset of a ring's bytes saved at `pos` in `bytes` by a ring of this shape;
  // a convoy::Error naming the mismatch otherwise. Changes nothing.
  std::size_t check(const std::string& bytes, std::size_t pos) const;
  // Loads bytes that check() accepted.
  void load(const std::string& bytes, std::size_t pos);

  const Device& device() const { return device_; }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t size() const { return size_; }
  std::int64_t obs_dim() const { return obs_dim_; }
  std::int64_t act_dim() const { return act_dim_; }
  std::int64_t next_slot() const { return pos_; }
  const std::string& owner() const { return owner_; }

  const DeviceArray<float>& obs() const { return obs_; }             // (capacity x obs_dim)
  const DeviceArray<float>& actions() const { return actions_; }     // (capacity x act_dim)
  const DeviceArray<float>& rewards() const { return rewards_; }     // (capacity)
  const DeviceArray<float>& next_obs() const { return next_obs_; }   // (capacity x obs_dim)
  const DeviceArray<std::uint8_t>& dones() const { return dones_; }  // (capacity) pack_done

 private:
  std::string owner_;
  Device device_;
  std::int64_t capacity_, obs_dim_, act_dim_;
  std::int64_t pos_ = 0, size_ = 0;
  DeviceArray<float> obs_, actions_, rewards_, next_obs_;
  DeviceArray<std::uint8_t> dones_;
};

}  // namespace convoy
