#include "rl/dqn_kernels.h"
#include "rl/launch.h"
#include "rl/math.h"
#include "rl/reduce.h"
#include "sim/parallel.h"
#include "sim/rng.h"

namespace convoy::rl::dqn_kernels {

namespace {

// Q_a of one row of raw outputs.
CONVOY_HD_INLINE float q_of(const float* h, int a, int actions, bool dueling) {
  if (!dueling) return h[a];
  float mean = 0.0f;
  for (int k = 0; k < actions; ++k) mean += h[1 + k];
  return h[0] + h[1 + a] - mean / static_cast<float>(actions);
}

CONVOY_HD_INLINE int argmax_q(const float* h, int actions, bool dueling) {
  // the dueling mean is the same for every action: compare V + A_a alone
  int best = 0;
  const float* v = dueling ? h + 1 : h;
  for (int k = 1; k < actions; ++k) {
    if (v[k] > v[best]) best = k;
  }
  return best;
}

struct ExploreFn {
  int actions, heads;
  bool dueling;
  const float* q;
  float epsilon;
  std::uint64_t seed, step;
  std::int32_t* out;
  float* out_f;
  CONVOY_HD void operator()(std::int64_t i) const {
    PhiloxStream rng(seed, static_cast<std::uint64_t>(i), static_cast<std::uint32_t>(step >> 32),
                     static_cast<std::uint32_t>(step), RngPurpose::kPolicy);
    const float u = rng.uniform_float();
    int a;
    if (q == nullptr || u < epsilon) {
      a = static_cast<int>(rng.below(static_cast<std::uint32_t>(actions)));
    } else {
      a = argmax_q(q + i * heads, actions, dueling);
    }
    out[i] = a;
    out_f[i] = static_cast<float>(a);
  }
};

struct GreedyFn {
  int actions, heads;
  bool dueling;
  const float* q;
  std::int32_t* out;
  CONVOY_HD void operator()(std::int64_t i) const {
    out[i] = argmax_q(q + i * heads, actions, dueling);
  }
};

struct TargetFn {
  int actions, heads;
  bool dueling;
  const float *target_next, *online_next, *rewards, *dones, *steps;
  float gamma;
  float* y;
  CONVOY_HD void operator()(std::int64_t i) const {
    const float* t = target_next + i * heads;
    float next;
    if (online_next != nullptr) {
      next = q_of(t, argmax_q(online_next + i * heads, actions, dueling), actions, dueling);
    } else {
      next = q_of(t, argmax_q(t, actions, dueling), actions, dueling);
    }
    const float g = steps != nullptr ? math::discount_pow(gamma, steps[i]) : gamma;
    y[i] = rewards[i] + (1.0f - dones[i]) * g * next;
  }
};

struct LossRowFn {
  int actions, heads;
  bool dueling, huber;
  const float *q, *taken, *y, *weights;
  float inv;
  float *dheads, *td_abs;
  double* terms;  // (rows x 2)
  CONVOY_HD void operator()(std::int64_t i) const {
    const float* h = q + i * heads;
    const int a = static_cast<int>(taken[i]);
    const float qa = q_of(h, a, actions, dueling);
    const float e = qa - y[i];
    const float w = weights != nullptr ? weights[i] : 1.0f;
    const float ae = math::abs(e);
    float loss, grad;
    if (huber) {
      loss = ae < 1.0f ? 0.5f * e * e : ae - 0.5f;
      grad = e < -1.0f ? -1.0f : (e > 1.0f ? 1.0f : e);
    } else {
      loss = e * e;
      grad = 2.0f * e;
    }
    terms[i * 2 + 0] = static_cast<double>(w * loss);
    terms[i * 2 + 1] = static_cast<double>(qa);
    if (td_abs != nullptr) td_abs[i] = ae;
    const float g = w * grad * inv;  // dL/dQ_a
    float* d = dheads + i * heads;
    if (!dueling) {
      for (int k = 0; k < actions; ++k) d[k] = k == a ? g : 0.0f;
      return;
    }
    // Q_a = V + A_a - mean(A): dV = g, dA_k = g ([k == a] - 1 / actions)
    d[0] = g;
    const float share = g / static_cast<float>(actions);
    for (int k = 0; k < actions; ++k) d[1 + k] = (k == a ? g : 0.0f) - share;
  }
};

struct AddMeansFn {
  const double* sums;
  double n;
  double* out;
  CONVOY_HD void operator()(std::int64_t c) const { out[c] += sums[c] / n; }
};

int heads_of(int actions, bool dueling) { return dueling ? actions + 1 : actions; }

}  // namespace

void explore(const Device& device, std::int64_t rows, int actions, bool dueling, const float* heads,
             double epsilon, std::uint64_t seed, std::uint64_t step, std::int32_t* out,
             float* out_f) {
  launch(device, rows,
         ExploreFn{actions, heads_of(actions, dueling), dueling, epsilon >= 1.0 ? nullptr : heads,
                   static_cast<float>(epsilon), seed, step, out, out_f});
}

void greedy(const Device& device, std::int64_t rows, int actions, bool dueling, const float* heads,
            std::int32_t* out) {
  launch(device, rows, GreedyFn{actions, heads_of(actions, dueling), dueling, heads, out});
}

void targets(const Device& device, std::int64_t rows, int actions, bool dueling,
             const float* target_next, const float* online_next, const float* rewards,
             const float* dones, const float* steps, float gamma, float* y) {
  launch(device, rows,
         TargetFn{actions, heads_of(actions, dueling), dueling, target_next, online_next, rewards,
                  dones, steps, gamma, y});
}

void loss_rows(const Device& device, std::int64_t rows, int actions, bool dueling, bool huber,
               const float* heads, const float* taken, const float* y, const float* weights,
               float* dheads, float* td_abs, sac_kernels::LossScratch& s, double* stats) {
  launch(device, rows,
         LossRowFn{actions, heads_of(actions, dueling), dueling, huber, heads, taken, y, weights,
                   1.0f / static_cast<float>(rows), dheads, td_abs, s.row_terms.data()});
  reduce::columns<double>(device, s.row_terms.data(), rows, 2, s.sums.data(), false,
                          s.scratch.data());
  launch(device, 2, AddMeansFn{s.sums.data(), static_cast<double>(rows), stats});
}

}  // namespace convoy::rl::dqn_kernels
