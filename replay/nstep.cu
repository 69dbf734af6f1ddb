#include <cstring>
#include <string>
#include <vector>

#include "replay/nstep.h"
#include "sim/error.h"
#include "sim/parallel.h"

namespace convoy {

namespace {

struct NStepPushKernel {
  int n;
  float gamma;
  std::int64_t obs_dim, act_dim;
  Transitions t;
  std::int32_t *head, *count, *q_steps;
  float *q_obs, *q_act, *q_ret, *q_disc, *q_next;
  std::uint8_t *q_closed, *q_done;
  float *out_obs, *out_act, *out_ret, *out_next;
  std::uint8_t *out_done, *out_steps;

  CONVOY_HD void operator()(std::int64_t i) const {
    const std::int64_t base = i * n;
    // the new start at the queue's tail
    const std::int64_t s = base + (head[i] + count[i]) % n;
    for (std::int64_t k = 0; k < obs_dim; ++k) q_obs[s * obs_dim + k] = t.obs[i * obs_dim + k];
    for (std::int64_t k = 0; k < act_dim; ++k) q_act[s * act_dim + k] = t.actions[i * act_dim + k];
    q_ret[s] = 0.0f;
    q_disc[s] = 1.0f;
    q_steps[s] = 0;
    q_closed[s] = 0;
    q_done[s] = 0;
    count[i] += 1;
    const bool ended = t.terminated[i] != 0 || t.truncated[i] != 0;
    for (std::int32_t j = 0; j < count[i]; ++j) {
      const std::int64_t e = base + (head[i] + j) % n;
      if (q_closed[e]) continue;
      q_ret[e] += q_disc[e] * t.rewards[i];
      q_disc[e] *= gamma;
      q_steps[e] += 1;
      if (ended) {
        q_closed[e] = 1;
        q_done[e] = t.terminated[i] != 0 ? 1 : 0;
        for (std::int64_t k = 0; k < obs_dim; ++k) {
          q_next[e * obs_dim + k] = t.final_obs[i * obs_dim + k];
        }
      }
    }
    if (count[i] < n) return;
    // the oldest leaves: open means n rewards without an episode end, so it bootstraps from
    // the step's next observation
    const std::int64_t e = base + head[i];
    const float* next = q_closed[e] ? q_next + e * obs_dim : t.next_obs + i * obs_dim;
    for (std::int64_t k = 0; k < obs_dim; ++k) {
      out_obs[i * obs_dim + k] = q_obs[e * obs_dim + k];
      out_next[i * obs_dim + k] = next[k];
    }
    for (std::int64_t k = 0; k < act_dim; ++k) out_act[i * act_dim + k] = q_act[e * act_dim + k];
    out_ret[i] = q_ret[e];
    out_done[i] = q_closed[e] ? q_done[e] : 0;
    out_steps[i] = static_cast<std::uint8_t>(q_steps[e]);
    head[i] = (head[i] + 1) % n;
    count[i] -= 1;
  }
};

template <class T>
void put(std::string& out, const DeviceArray<T>& a) {
  const std::vector<T> h = a.to_host();
  out.append(reinterpret_cast<const char*>(h.data()), h.size() * sizeof(T));
}

template <class T>
void get(const std::string& in, std::size_t& pos, DeviceArray<T>& a) {
  std::vector<T> h(static_cast<std::size_t>(a.size()));
  std::memcpy(h.data(), in.data() + pos, h.size() * sizeof(T));
  pos += h.size() * sizeof(T);
  a.copy_from_host(h);
}

constexpr char kNStepTag[8] = {'c', 'v', 'y', 'n', 's', 't', 'p', '1'};

}  // namespace

NStepWriter::NStepWriter(const Device& device, std::int64_t num_envs, int n, double gamma,
                         std::int64_t obs_dim, std::int64_t act_dim)
    : device_(device),
      num_envs_(num_envs),
      n_(n),
      gamma_(static_cast<float>(gamma)),
      obs_dim_(obs_dim),
      act_dim_(act_dim) {
  if (n < 1 || n > kMaxSteps) {
    throw Error("NStepWriter: n_step = " + std::to_string(n) + " is invalid; allowed: 1.." +
                std::to_string(kMaxSteps));
  }
  if (!(gamma >= 0 && gamma <= 1)) {
    throw Error("NStepWriter: gamma = " + std::to_string(gamma) + " is invalid; allowed: [0, 1]");
  }
  if (num_envs < 1 || obs_dim < 1 || act_dim < 1) {
    throw Error("NStepWriter: num_envs, obs_dim and act_dim must be >= 1");
  }
  const std::int64_t q = num_envs * n;
  head_ = DeviceArray<std::int32_t>(device, num_envs);
  count_ = DeviceArray<std::int32_t>(device, num_envs);
  q_obs_ = DeviceArray<float>(device, q * obs_dim);
  q_act_ = DeviceArray<float>(device, q * act_dim);
  q_ret_ = DeviceArray<float>(device, q);
  q_disc_ = DeviceArray<float>(device, q);
  q_next_ = DeviceArray<float>(device, q * obs_dim);
  q_steps_ = DeviceArray<std::int32_t>(device, q);
  q_closed_ = DeviceArray<std::uint8_t>(device, q);
  q_done_ = DeviceArray<std::uint8_t>(device, q);
  out_obs_ = DeviceArray<float>(device, num_envs * obs_dim);
  out_act_ = DeviceArray<float>(device, num_envs * act_dim);
  out_ret_ = DeviceArray<float>(device, num_envs);
  out_next_ = DeviceArray<float>(device, num_envs * obs_dim);
  out_done_ = DeviceArray<std::uint8_t>(device, num_envs);
  out_trunc_ = DeviceArray<std::uint8_t>(device, num_envs);
  out_steps_ = DeviceArray<std::uint8_t>(device, num_envs);
  for (auto* a : {&head_, &count_, &q_steps_}) a->zero();
  for (auto* a : {&q_obs_, &q_act_, &q_ret_, &q_disc_, &q_next_}) a->zero();
  for (auto* a : {&q_closed_, &q_done_, &out_done_, &out_trunc_, &out_steps_}) a->zero();
}

Transitions NStepWriter::push(const Transitions& step) {
  if (step.rows != num_envs_) {
    throw Error("NStepWriter::push: " + std::to_string(step.rows) + " rows given; the writer has " +
                std::to_string(num_envs_) + " envs");
  }
  if (!step.obs || !step.actions || !step.rewards || !step.next_obs || !step.final_obs ||
      !step.terminated || !step.truncated) {
    throw Error("NStepWriter::push: every Transitions pointer must be set");
  }
  for_each_index(device_, num_envs_,
                 NStepPushKernel{n_,
                                 gamma_,
                                 obs_dim_,
                                 act_dim_,
                                 step,
                                 head_.data(),
                                 count_.data(),
                                 q_steps_.data(),
                                 q_obs_.data(),
                                 q_act_.data(),
                                 q_ret_.data(),
                                 q_disc_.data(),
                                 q_next_.data(),
                                 q_closed_.data(),
                                 q_done_.data(),
                                 out_obs_.data(),
                                 out_act_.data(),
                                 out_ret_.data(),
                                 out_next_.data(),
                                 out_done_.data(),
                                 out_steps_.data()});
  ++pushes_;
  Transitions out;
  out.rows = pushes_ >= n_ ? num_envs_ : 0;
  out.obs = out_obs_.data();
  out.actions = out_act_.data();
  out.rewards = out_ret_.data();
  out.next_obs = out_next_.data();
  out.final_obs = out_next_.data();  // resolved already; out_trunc_ is all 0
  out.terminated = out_done_.data();
  out.truncated = out_trunc_.data();
  out.steps = out_steps_.data();
  return out;
}

std::string NStepWriter::save_state() const {
  std::string out(kNStepTag, sizeof(kNStepTag));
  for (const std::int64_t v :
       {num_envs_, static_cast<std::int64_t>(n_), obs_dim_, act_dim_, pushes_}) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  put(out, head_);
  put(out, count_);
  put(out, q_obs_);
  put(out, q_act_);
  put(out, q_ret_);
  put(out, q_disc_);
  put(out, q_next_);
  put(out, q_steps_);
  put(out, q_closed_);
  put(out, q_done_);
  return out;
}

void NStepWriter::load_state(const std::string& bytes) {
  const std::size_t head = sizeof(kNStepTag) + 5 * sizeof(std::int64_t);
  if (bytes.size() < head || std::memcmp(bytes.data(), kNStepTag, sizeof(kNStepTag)) != 0) {
    throw Error("NStepWriter::load_state: not an n-step writer's state");
  }
  std::int64_t v[5];
  std::memcpy(v, bytes.data() + sizeof(kNStepTag), sizeof(v));
  if (v[0] != num_envs_ || v[1] != n_ || v[2] != obs_dim_ || v[3] != act_dim_ || v[4] < 0) {
    throw Error("NStepWriter::load_state: the state holds " + std::to_string(v[0]) + " envs, n " +
                std::to_string(v[1]) + ", obs " + std::to_string(v[2]) + ", actions " +
                std::to_string(v[3]) + "; this writer has " + std::to_string(num_envs_) +
                " envs, n " + std::to_string(n_) + ", obs " + std::to_string(obs_dim_) +
                ", actions " + std::to_string(act_dim_));
  }
  const std::int64_t q = num_envs_ * n_;
  const std::size_t size =
      head + static_cast<std::size_t>(2 * num_envs_) * sizeof(std::int32_t) +
      static_cast<std::size_t>(q) *
          ((2 * obs_dim_ + act_dim_ + 2) * sizeof(float) + sizeof(std::int32_t) + 2);
  if (bytes.size() != size) throw Error("NStepWriter::load_state: the state is malformed");
  std::size_t pos = head;
  get(bytes, pos, head_);
  get(bytes, pos, count_);
  get(bytes, pos, q_obs_);
  get(bytes, pos, q_act_);
  get(bytes, pos, q_ret_);
  get(bytes, pos, q_disc_);
  get(bytes, pos, q_next_);
  get(bytes, pos, q_steps_);
  get(bytes, pos, q_closed_);
  get(bytes, pos, q_done_);
  pushes_ = v[4];
}

}  // namespace convoy
