#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "replay/replay.h"
#include "sim/error.h"
#include "sim/parallel.h"
#include "sim/rng.h"

namespace convoy {

namespace {

std::int64_t checked(const std::string& owner, const char* what, std::int64_t v, std::int64_t hi) {
  if (v < 1 || v > hi) {
    throw Error(owner + ": " + what + " = " + std::to_string(v) + " is invalid; allowed: 1.." +
                std::to_string(hi));
  }
  return v;
}

// Checks that the ring (2 obs, actions, reward and done per slot) and `extra` bytes fit on
// `device`; returns act_dim, so the ring's constructor checks before its first allocation.
std::int64_t fitting(const Device& device, const std::string& owner, std::int64_t capacity,
                     std::int64_t obs_dim, std::int64_t act_dim, std::uint64_t extra) {
  const std::uint64_t row = (2 * obs_dim + act_dim + 1) * sizeof(float) + sizeof(std::uint8_t);
  require_free_bytes(device, static_cast<std::uint64_t>(capacity) * row + extra,
                     owner + ": capacity " + std::to_string(capacity) + " x obs_dim " +
                         std::to_string(obs_dim) + " x act_dim " + std::to_string(act_dim));
  return act_dim;
}

// Row i of an env step into slot (pos + i) % capacity.
struct AddKernel {
  std::int64_t pos, capacity, obs_dim, act_dim;
  Transitions t;
  float *obs, *actions, *rewards, *next_obs;  // storage
  std::uint8_t* dones;
  CONVOY_HD void operator()(std::int64_t i) const {
    const std::int64_t slot = (pos + i) % capacity;
    const bool ended = t.terminated[i] != 0 || t.truncated[i] != 0;
    // where an episode ended, env obs is already the next episode's first
    const float* next = ended ? t.final_obs : t.next_obs;
    for (std::int64_t k = 0; k < obs_dim; ++k) {
      obs[slot * obs_dim + k] = t.obs[i * obs_dim + k];
      next_obs[slot * obs_dim + k] = next[i * obs_dim + k];
    }
    for (std::int64_t k = 0; k < act_dim; ++k) {
      actions[slot * act_dim + k] = t.actions[i * act_dim + k];
    }
    rewards[slot] = t.rewards[i];
    dones[slot] = pack_done(t.terminated[i] != 0, t.steps != nullptr ? t.steps[i] : 1);
  }
};

// Row i of a batch: a uniform slot among the filled ones, gathered.
struct SampleKernel {
  std::uint64_t seed, counter;
  std::uint32_t filled;
  RingRows ring;
  BatchRows batch;
  CONVOY_HD void operator()(std::int64_t i) const {
    PhiloxStream rng(seed, static_cast<std::uint64_t>(i), static_cast<std::uint32_t>(counter >> 32),
                     static_cast<std::uint32_t>(counter), RngPurpose::kReplay);
    batch.gather(ring, i, rng.below(filled));
    batch.weights[i] = 1.0f;
  }
};

template <class T>
void fit(DeviceArray<T>& a, const Device& device, std::int64_t n) {
  if (a.size() != n || !(a.device() == device)) a = DeviceArray<T>(device, n);
}

}  // namespace

Transitions env_transitions(const VecEnv& env, const float* obs_before, const float* actions) {
  Transitions t;
  t.rows = env.num_envs();
  t.obs = obs_before;
  t.actions = actions;
  t.rewards = env.reward().data();
  t.next_obs = env.obs().data();
  t.final_obs = env.final_obs().data();
  t.terminated = env.terminated().data();
  t.truncated = env.truncated().data();
  return t;
}

ReplayRing::ReplayRing(const Device& device, std::int64_t capacity, std::int64_t obs_dim,
                       std::int64_t act_dim, std::string owner, std::uint64_t extra_bytes)
    : owner_(std::move(owner)),
      device_(device),
      capacity_(checked(owner_, "capacity", capacity, kMaxCapacity)),
      obs_dim_(checked(owner_, "obs_dim", obs_dim, 1 << 24)),
      act_dim_(fitting(device, owner_, capacity_, obs_dim_,
                       checked(owner_, "act_dim", act_dim, 1 << 24), extra_bytes)),
      obs_(device, capacity * obs_dim),
      actions_(device, capacity * act_dim),
      rewards_(device, capacity),
      next_obs_(device, capacity * obs_dim),
      dones_(device, capacity) {}

std::int64_t ReplayRing::add(const Transitions& t) {
  if (t.rows < 1 || t.rows > capacity_) {
    throw Error(owner_ + "::add: " + std::to_string(t.rows) +
                " transitions at once is invalid; allowed: 1..capacity (" +
                std::to_string(capacity_) + ")");
  }
  if (!t.obs || !t.actions || !t.rewards || !t.next_obs || !t.final_obs || !t.terminated ||
      !t.truncated) {
    throw Error(owner_ + "::add: every Transitions pointer must be set");
  }
  for_each_index(device_, t.rows,
                 AddKernel{pos_, capacity_, obs_dim_, act_dim_, t, obs_.data(), actions_.data(),
                           rewards_.data(), next_obs_.data(), dones_.data()});
  const std::int64_t first = pos_;
  pos_ = (pos_ + t.rows) % capacity_;
  size_ = size_ + t.rows < capacity_ ? size_ + t.rows : capacity_;
  return first;
}

RingRows ReplayRing::rows() const {
  return RingRows{obs_dim_,        act_dim_,         obs_.data(),  actions_.data(),
                  rewards_.data(), next_obs_.data(), dones_.data()};
}

BatchRows ReplayRing::fit_batch(std::int64_t batch_size, ReplayBatch& out) const {
  fit(out.obs, device_, batch_size * obs_dim_);
  fit(out.actions, device_, batch_size * act_dim_);
  fit(out.rewards, device_, batch_size);
  fit(out.next_obs, device_, batch_size * obs_dim_);
  fit(out.dones, device_, batch_size);
  fit(out.steps, device_, batch_size);
  fit(out.indices, device_, batch_size);
  fit(out.weights, device_, batch_size);
  out.size = batch_size;
  return BatchRows{out.obs.data(),   out.actions.data(), out.rewards.data(), out.next_obs.data(),
                   out.dones.data(), out.steps.data(),   out.weights.data(), out.indices.data()};
}

UniformReplayBuffer::UniformReplayBuffer(const Device& device, std::int64_t capacity,
                                         std::int64_t obs_dim, std::int64_t act_dim)
    : ring_(device, capacity, obs_dim, act_dim, "UniformReplayBuffer") {}

std::string ReplayBuffer::save_state() const {
  throw Error("this replay buffer cannot be checkpointed");
}
void ReplayBuffer::load_state(const std::string&) {
  throw Error("this replay buffer cannot be restored from a checkpoint");
}

namespace {
constexpr char kReplayTag[8] = {'U', 'R', 'B', 'v', '1', 0, 0, 0};
template <class T>
void put_rows(std::string& out, const DeviceArray<T>& a, std::int64_t n) {
  const std::vector<T> h = a.to_host();
  out.append(reinterpret_cast<const char*>(h.data()), static_cast<std::size_t>(n) * sizeof(T));
}
template <class T>
void get_rows(const std::string& in, std::size_t& pos, DeviceArray<T>& a, std::int64_t n) {
  std::vector<T> h(static_cast<std::size_t>(a.size()), T(0));
  std::memcpy(h.data(), in.data() + pos, static_cast<std::size_t>(n) * sizeof(T));
  pos += static_cast<std::size_t>(n) * sizeof(T);
  a.copy_from_host(h);
}
}  // namespace

void ReplayRing::save(std::string& out) const {
  for (const std::int64_t v : {capacity_, obs_dim_, act_dim_, pos_, size_}) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  put_rows(out, obs_, size_ * obs_dim_);
  put_rows(out, actions_, size_ * act_dim_);
  put_rows(out, rewards_, size_);
  put_rows(out, next_obs_, size_ * obs_dim_);
  put_rows(out, dones_, size_);
}

std::size_t ReplayRing::check(const std::string& bytes, std::size_t pos) const {
  const std::size_t head = pos + 5 * sizeof(std::int64_t);
  if (bytes.size() < head) throw Error(owner_ + "::load_state: the state is malformed");
  std::int64_t v[5];
  std::memcpy(v, bytes.data() + pos, sizeof(v));
  if (v[0] != capacity_ || v[1] != obs_dim_ || v[2] != act_dim_) {
    throw Error(owner_ + "::load_state: the state holds capacity " + std::to_string(v[0]) +
                ", obs " + std::to_string(v[1]) + ", actions " + std::to_string(v[2]) +
                "; this buffer has capacity " + std::to_string(capacity_) + ", obs " +
                std::to_string(obs_dim_) + ", actions " + std::to_string(act_dim_));
  }
  const std::int64_t ring_pos = v[3], size = v[4];
  if (size < 0 || size > capacity_ || ring_pos < 0 || ring_pos >= capacity_ ||
      (size < capacity_ && ring_pos != size)) {
    throw Error(owner_ + "::load_state: the state is malformed");
  }
  const std::size_t end =
      head + static_cast<std::size_t>(size) * ((2 * obs_dim_ + act_dim_ + 1) * sizeof(float) + 1);
  if (bytes.size() < end) throw Error(owner_ + "::load_state: the state is malformed");
  return end;
}

void ReplayRing::load(const std::string& bytes, std::size_t pos) {
  std::int64_t v[5];
  std::memcpy(v, bytes.data() + pos, sizeof(v));
  const std::int64_t size = v[4];
  std::size_t p = pos + sizeof(v);
  get_rows(bytes, p, obs_, size * obs_dim_);
  get_rows(bytes, p, actions_, size * act_dim_);
  get_rows(bytes, p, rewards_, size);
  get_rows(bytes, p, next_obs_, size * obs_dim_);
  get_rows(bytes, p, dones_, size);
  pos_ = v[3];
  size_ = size;
}

std::string UniformReplayBuffer::save_state() const {
  std::string out(kReplayTag, sizeof(kReplayTag));
  ring_.save(out);
  return out;
}

void UniformReplayBuffer::load_state(const std::string& bytes) {
  if (bytes.size() < sizeof(kReplayTag) ||
      std::memcmp(bytes.data(), kReplayTag, sizeof(kReplayTag)) != 0) {
    throw Error("UniformReplayBuffer::load_state: not a uniform replay buffer's state");
  }
  if (ring_.check(bytes, sizeof(kReplayTag)) != bytes.size()) {
    throw Error("UniformReplayBuffer::load_state: the state is malformed");
  }
  ring_.load(bytes, sizeof(kReplayTag));
}

void UniformReplayBuffer::sample(std::int64_t batch_size, std::uint64_t seed, std::uint64_t counter,
                                 ReplayBatch& out) {
  if (ring_.size() < 1) throw Error("UniformReplayBuffer::sample: the buffer is empty");
  if (batch_size < 1 || batch_size > (std::int64_t(1) << 31)) {
    throw Error("UniformReplayBuffer::sample: batch_size = " + std::to_string(batch_size) +
                " is invalid; allowed: 1..2^31");
  }
  const BatchRows batch = ring_.fit_batch(batch_size, out);
  for_each_index(
      ring_.device(), batch_size,
      SampleKernel{seed, counter, static_cast<std::uint32_t>(ring_.size()), ring_.rows(), batch});
}

}  // namespace convoy
