#include "rl/distributions.h"
#include "rl/launch.h"
#include "rl/math.h"
#include "rl/reduce.h"
#include "rl/sac.h"
#include "rl/sac_kernels.h"
#include "sim/error.h"
#include "sim/parallel.h"

namespace convoy::rl::sac_kernels {

namespace {

template <class T>
struct NormalRowsFn {
  int dim;
  std::uint64_t seed;
  std::uint32_t c0, c1;
  RngPurpose purpose;
  T* eps;
  CONVOY_HD void operator()(std::int64_t i) const {
    PhiloxStream rng(seed, static_cast<std::uint64_t>(i), c0, c1, purpose);
    normal_noise(rng, dim, eps + i * dim);
  }
};

template <class T>
struct SampleRowsFn {
  int dim;
  const T *head, *eps, *scale, *bias;
  T *actions, *log_probs;
  CONVOY_HD void operator()(std::int64_t i) const {
    log_probs[i] =
        sac_sample_row(head + i * 2 * dim, eps + i * dim, dim, scale, bias, actions + i * dim);
  }
};

template <class T>
struct MeanRowsFn {
  int dim;
  const T *head, *scale, *bias;
  T* actions;
  CONVOY_HD void operator()(std::int64_t i) const {
    for (int k = 0; k < dim; ++k) {
      actions[i * dim + k] = math::tanh(head[i * 2 * dim + k]) * scale[k] + bias[k];
    }
  }
};

template <class T>
struct ConcatRowsFn {
  int obs_dim, act_dim;
  const T *obs, *actions;
  T* out;
  CONVOY_HD void operator()(std::int64_t i) const {
    const int in = obs_dim + act_dim;
    for (int k = 0; k < obs_dim; ++k) out[i * in + k] = obs[i * obs_dim + k];
    for (int k = 0; k < act_dim; ++k) out[i * in + obs_dim + k] = actions[i * act_dim + k];
  }
};

template <class T>
struct SoftTargetFn {
  const T *q1, *q2, *log_probs, *rewards, *dones;
  const double* alpha;
  T gamma;
  T* y;
  const T* steps;
  CONVOY_HD void operator()(std::int64_t i) const {
    const T al = static_cast<T>(alpha[0]);
    const T m = q2[i] < q1[i] ? q2[i] : q1[i];  // std::min(q1, q2)
    const T soft = m - al * log_probs[i];
    const T g = steps != nullptr ? math::discount_pow(gamma, steps[i]) : gamma;
    y[i] = rewards[i] + (T(1) - dones[i]) * g * soft;
  }
};

template <class T>
struct CriticRowFn {
  const T *q1, *q2, *y, *weights;
  T inv;
  T *dq1, *dq2, *td_abs;
  double* terms;  // (rows x 4)
  CONVOY_HD void operator()(std::int64_t i) const {
    const T w = weights != nullptr ? weights[i] : T(1);
    const T e1 = q1[i] - y[i], e2 = q2[i] - y[i];
    double* t = terms + i * 4;
    t[0] = static_cast<double>(w * e1 * e1);
    t[1] = static_cast<double>(w * e2 * e2);
    t[2] = static_cast<double>(q1[i]);
    t[3] = static_cast<double>(q2[i]);
    dq1[i] = T(2) * w * e1 * inv;
    dq2[i] = T(2) * w * e2 * inv;
    if (td_abs != nullptr) td_abs[i] = T(0.5) * (math::abs(e1) + math::abs(e2));
  }
};

template <class T>
struct ActorRowFn {
  const T *q1, *q2, *log_probs;
  const double* alpha;
  T inv;
  T *dq1, *dq2;
  double* terms;  // (rows x 2)
  CONVOY_HD void operator()(std::int64_t i) const {
    const T al = static_cast<T>(alpha[0]);
    const bool first = q1[i] <= q2[i];  // the min's gradient flows to the smaller Q
    terms[i * 2 + 0] = static_cast<double>(al * log_probs[i] - (first ? q1[i] : q2[i]));
    terms[i * 2 + 1] = static_cast<double>(log_probs[i]);
    dq1[i] = first ? -inv : T(0);
    dq2[i] = first ? T(0) : -inv;
  }
};

// out[c] += sums[c] / n for c < cols: a batch's means added to the running metric sums.
struct AddMeansFn {
  const double* sums;
  double n;
  double* out;
  CONVOY_HD void operator()(std::int64_t c) const { out[c] += sums[c] / n; }
};

template <class T>
struct ActorHeadGradFn {
  int obs_dim, act_dim;
  const T *head, *eps, *scale;
  const double* alpha;
  T inv;
  const T *dx1, *dx2;
  T *g_act, *dhead;
  CONVOY_HD void operator()(std::int64_t i) const {
    const int A = act_dim, in = obs_dim + act_dim;
    const T al = static_cast<T>(alpha[0]);
    T* ga = g_act + i * A;
    for (int k = 0; k < A; ++k) ga[k] = dx1[i * in + obs_dim + k] + dx2[i * in + obs_dim + k];
    T* dh = dhead + i * 2 * A;
    for (int k = 0; k < 2 * A; ++k) dh[k] = T(0);
    sac_sample_backward(head + i * 2 * A, eps + i * A, A, scale, al * inv, ga, dh);
  }
};

struct PolyakFn {
  const float* online;
  float* target;
  float tau;
  CONVOY_HD void operator()(std::int64_t i) const {
    target[i] = tau * online[i] + (1.0f - tau) * target[i];
  }
};

struct AlphaGradFn {
  const double* logp_sum;
  double rows, target_entropy;
  const float* log_alpha;
  float* grad;
  double* alpha_loss_sum;
  CONVOY_HD void operator()(std::int64_t) const {
    const double mean_logp = logp_sum[0] / rows;
    const double a = math::exp(static_cast<double>(log_alpha[0]));
    const double loss = -a * (mean_logp + target_entropy);
    alpha_loss_sum[0] += loss;
    grad[0] = static_cast<float>(loss);
  }
};

struct AlphaFromLogFn {
  const float* log_alpha;
  double* alpha;
  CONVOY_HD void operator()(std::int64_t) const {
    alpha[0] = math::exp(static_cast<double>(log_alpha[0]));
  }
};

struct EpisodeSumsFn {
  bool per_env;
  const std::uint8_t *term, *trunc;
  const double* ret;
  const std::int32_t* len;
  double* acc;
  CONVOY_HD void operator()(std::int64_t i) const {
    if (!(term[i] || trunc[i])) return;
    double* a = per_env ? acc + i * 3 : acc;
    a[0] += ret[i];
    a[1] += len[i];
    a[2] += 1.0;
  }
};

}  // namespace

template <class T>
void normal_rows(const Device& device, std::int64_t rows, int dim, std::uint64_t seed,
                 std::uint32_t c0, std::uint32_t c1, RngPurpose purpose, T* eps) {
  launch(device, rows, NormalRowsFn<T>{dim, seed, c0, c1, purpose, eps});
}

template <class T>
void sample_rows(const Device& device, std::int64_t rows, int dim, const T* head, const T* eps,
                 const T* scale, const T* bias, T* actions, T* log_probs) {
  launch(device, rows, SampleRowsFn<T>{dim, head, eps, scale, bias, actions, log_probs});
}

template <class T>
void mean_rows(const Device& device, std::int64_t rows, int dim, const T* head, const T* scale,
               const T* bias, T* actions) {
  launch(device, rows, MeanRowsFn<T>{dim, head, scale, bias, actions});
}

template <class T>
void concat_rows(const Device& device, std::int64_t rows, int obs_dim, int act_dim, const T* obs,
                 const T* actions, T* out) {
  launch(device, rows, ConcatRowsFn<T>{obs_dim, act_dim, obs, actions, out});
}

template <class T>
void soft_targets(const Device& device, std::int64_t rows, const T* q1, const T* q2,
                  const T* log_probs, const T* rewards, const T* dones, const double* alpha,
                  T gamma, T* y, const T* steps) {
  launch(device, rows, SoftTargetFn<T>{q1, q2, log_probs, rewards, dones, alpha, gamma, y, steps});
}

LossScratch::LossScratch(const Device& device, std::int64_t rows)
    : row_terms(device, rows * 4),
      sums(device, 4),
      scratch(device, reduce::scratch_size(device, 4)) {}

template <class T>
void critic_rows(const Device& device, std::int64_t rows, const T* q1, const T* q2, const T* y,
                 const T* weights, T inv, T* dq1, T* dq2, T* td_abs, LossScratch& s,
                 double* stats) {
  launch(device, rows,
         CriticRowFn<T>{q1, q2, y, weights, inv, dq1, dq2, td_abs, s.row_terms.data()});
  reduce::columns<double>(device, s.row_terms.data(), rows, 4, s.sums.data(), false,
                          s.scratch.data());
  launch(device, 4, AddMeansFn{s.sums.data(), static_cast<double>(rows), stats});
}

template <class T>
void actor_rows(const Device& device, std::int64_t rows, const T* q1, const T* q2,
                const T* log_probs, const double* alpha, T inv, T* dq1, T* dq2, LossScratch& s,
                double* stats) {
  launch(device, rows, ActorRowFn<T>{q1, q2, log_probs, alpha, inv, dq1, dq2, s.row_terms.data()});
  reduce::columns<double>(device, s.row_terms.data(), rows, 2, s.sums.data(), false,
                          s.scratch.data());
  launch(device, 2, AddMeansFn{s.sums.data(), static_cast<double>(rows), stats});
}

template <class T>
void actor_head_grad(const Device& device, std::int64_t rows, int obs_dim, int act_dim,
                     const T* head, const T* eps, const T* scale, const double* alpha, T inv,
                     const T* dx1, const T* dx2, T* g_act, T* dhead) {
  launch(
      device, rows,
      ActorHeadGradFn<T>{obs_dim, act_dim, head, eps, scale, alpha, inv, dx1, dx2, g_act, dhead});
}

void polyak(const Device& device, std::int64_t n, const float* online, float* target, float tau) {
  // every element on its own: the CPU's OpenMP loop gives the serial loop's bits
  for_each_index(device, n, PolyakFn{online, target, tau});
}

void alpha_grad(const Device& device, std::int64_t rows, const float* log_probs,
                const float* log_alpha, double target_entropy, LossScratch& s, float* grad,
                double* alpha_loss_sum) {
  reduce::columns<double>(device, log_probs, rows, 1, s.sums.data(), false, s.scratch.data());
  launch(device, 1,
         AlphaGradFn{s.sums.data(), static_cast<double>(rows), target_entropy, log_alpha, grad,
                     alpha_loss_sum});
}

void alpha_from_log(const Device& device, const float* log_alpha, double* alpha) {
  launch(device, 1, AlphaFromLogFn{log_alpha, alpha});
}

void episode_sums(const Device& device, std::int64_t n, bool per_env,
                  const std::uint8_t* terminated, const std::uint8_t* truncated,
                  const double* final_return, const std::int32_t* final_length, double* acc) {
  if (!per_env && device.is_cuda()) {
    throw Error("sac_kernels::episode_sums: CUDA needs per-env accumulators");
  }
  launch(device, n, EpisodeSumsFn{per_env, terminated, truncated, final_return, final_length, acc});
}

void episode_totals(const Device& device, std::int64_t n, const double* acc, LossScratch& s,
                    double* out) {
  reduce::columns<double>(device, acc, n, 3, out, true, s.scratch.data());
}

#define CONVOY_SAC_KERNELS(T)                                                                     \
  template void normal_rows<T>(const Device&, std::int64_t, int, std::uint64_t, std::uint32_t,    \
                               std::uint32_t, RngPurpose, T*);                                    \
  template void sample_rows<T>(const Device&, std::int64_t, int, const T*, const T*, const T*,    \
                               const T*, T*, T*);                                                 \
  template void mean_rows<T>(const Device&, std::int64_t, int, const T*, const T*, const T*, T*); \
  template void concat_rows<T>(const Device&, std::int64_t, int, int, const T*, const T*, T*);    \
  template void soft_targets<T>(const Device&, std::int64_t, const T*, const T*, const T*,        \
                                const T*, const T*, const double*, T, T*, const T*);              \
  template void critic_rows<T>(const Device&, std::int64_t, const T*, const T*, const T*,         \
                               const T*, T, T*, T*, T*, LossScratch&, double*);                   \
  template void actor_rows<T>(const Device&, std::int64_t, const T*, const T*, const T*,          \
                              const double*, T, T*, T*, LossScratch&, double*);                   \
  template void actor_head_grad<T>(const Device&, std::int64_t, int, int, const T*, const T*,     \
                                   const T*, const double*, T, const T*, const T*, T*, T*);

CONVOY_SAC_KERNELS(float)
CONVOY_SAC_KERNELS(double)
#undef CONVOY_SAC_KERNELS

}  // namespace convoy::rl::sac_kernels
