#include <algorithm>
#include <string>

#include "rl/distributions.h"
#include "rl/launch.h"
#include "rl/math.h"
#include "rl/normalize.h"
#include "rl/ppo_kernels.h"
#include "rl/reduce.h"
#include "sim/error.h"
#include "sim/parallel.h"
#include "sim/rng.h"

namespace convoy::rl::ppo_kernels {

namespace {

template <class T>
CONVOY_HD_INLINE T clamp_to(T v, T lo, T hi) {  // std::clamp
  return v < lo ? lo : (hi < v ? hi : v);
}

struct SampleFn {
  SampleArgs a;
  CONVOY_HD void operator()(std::int64_t i) const {
    PhiloxStream rng(a.seed, static_cast<std::uint64_t>(i), a.iteration, a.step,
                     RngPurpose::kPolicy);
    const float* h = a.head + i * a.head_dim;
    if (a.discrete) {
      const int act = categorical_sample(h, a.head_dim, rng);
      a.actions[i] = static_cast<float>(act);
      a.log_probs[i] = categorical_log_prob(h, a.head_dim, act);
      a.env_actions_i[i] = act;
    } else {
      float* x = a.actions + i * a.act_dim;
      gaussian_sample(h, a.log_std, a.act_dim, rng, x);
      a.log_probs[i] = gaussian_log_prob(h, a.log_std, x, a.act_dim);
      float* ea = a.env_actions_f + i * a.act_dim;
      for (int k = 0; k < a.act_dim; ++k) {
        // std::min(std::max(x, low), high)
        const float m = x[k] < a.low[k] ? a.low[k] : x[k];
        ea[k] = a.high[k] < m ? a.high[k] : m;
      }
    }
  }
};

struct ArgmaxFn {
  int n;
  const float* logits;
  std::int32_t* out;
  CONVOY_HD void operator()(std::int64_t i) const {
    const float* h = logits + i * n;
    int best = 0;
    for (int k = 1; k < n; ++k) best = h[k] > h[best] ? k : best;
    out[i] = best;
  }
};

struct ClipRowsFn {
  int dim;
  const float *x, *low, *high;
  float* out;
  CONVOY_HD void operator()(std::int64_t e) const {
    const int k = static_cast<int>(e % dim);
    const float m = x[e] < low[k] ? low[k] : x[e];
    out[e] = high[k] < m ? high[k] : m;
  }
};

struct NormalizeObsFn {
  const double *mean, *var;
  const float* x;
  int dim;
  float* out;
  CONVOY_HD void operator()(std::int64_t e) const {
    const int k = static_cast<int>(e % dim);
    const double z = (static_cast<double>(x[e]) - mean[k]) / math::sqrt(var[k] + kNormEps);
    out[e] = static_cast<float>(clamp_to(z, -kNormClip, kNormClip));
  }
};

// RunningMeanStd::merge of a batch of bc samples with mean bm and population variance bv
// into (mean, var), which summarise `count` samples before it.
CONVOY_HD_INLINE void rms_merge(double bm, double bv, double bc, double count, double* mean,
                                double* var) {
  if (count <= 0) {
    *mean = bm;
    *var = bv;
    return;
  }
  const double n = count + bc;
  const double wa = count / n, wb = bc / n;
  const double delta = bm - *mean;
  *mean += delta * wb;
  *var = *var * wa + bv * wb + delta * delta * wa * wb;
}

// RunningMeanStd::update of column k: two-pass batch moments in row order, then Chan's merge.
template <class X>
struct RmsUpdateFn {
  const X* x;
  std::int64_t rows;
  int dim;
  double count;
  double *mean, *var;
  CONVOY_HD void operator()(std::int64_t k) const {
    double bm = 0.0;
    for (std::int64_t i = 0; i < rows; ++i) bm += static_cast<double>(x[i * dim + k]);
    bm /= static_cast<double>(rows);
    double bv = 0.0;
    for (std::int64_t i = 0; i < rows; ++i) {
      const double e = static_cast<double>(x[i * dim + k]) - bm;
      bv += e * e;
    }
    bv /= static_cast<double>(rows);
    rms_merge(bm, bv, static_cast<double>(rows), count, mean + k, var + k);
  }
};

// rms_update_chunked's merge of column k's batch moments (reduced over the rows beforehand).
struct RmsMergeFn {
  const reduce::Moments* batch;  // (dim)
  double count;
  double *mean, *var;
  CONVOY_HD void operator()(std::int64_t k) const {
    const reduce::Moments b = batch[k];
    rms_merge(b.mean, b.m2 / b.n, b.n, count, mean + k, var + k);
  }
};

struct DiscountFn {
  double gamma;
  const float* reward;
  double* returns;
  CONVOY_HD void operator()(std::int64_t i) const { returns[i] = returns[i] * gamma + reward[i]; }
};

struct ScaleRewardFn {
  const double* return_var;
  const float* reward;
  const std::uint8_t *term, *trunc;
  double* returns;
  float* out;
  CONVOY_HD void operator()(std::int64_t i) const {
    const double scale = 1.0 / math::sqrt(return_var[0] + kNormEps);
    out[i] = static_cast<float>(clamp_to(reward[i] * scale, -kNormClip, kNormClip));
    if (term[i] || trunc[i]) returns[i] = 0.0;
  }
};

struct EpisodeTermsFn {
  const std::uint8_t *term, *trunc;
  const double* ret;
  const std::int32_t* len;
  double* out;
  CONVOY_HD void operator()(std::int64_t i) const {
    const bool done = term[i] || trunc[i];
    out[i * 3 + 0] = done ? ret[i] : 0.0;
    out[i * 3 + 1] = done ? static_cast<double>(len[i]) : 0.0;
    out[i * 3 + 2] = done ? 1.0 : 0.0;
  }
};

struct MaskedFinalValuesFn {
  const std::uint8_t *term, *trunc;
  const float* values;
  float* fv;
  CONVOY_HD void operator()(std::int64_t i) const {
    fv[i] = trunc[i] && !term[i] ? values[i] : 0.0f;
  }
};

struct GatherFn {
  GatherArgs a;
  CONVOY_HD void operator()(std::int64_t r) const {
    const std::int64_t k = a.perm[r];
    for (int j = 0; j < a.obs_dim; ++j) a.mb_obs[r * a.obs_dim + j] = a.obs[k * a.obs_dim + j];
    for (int j = 0; j < a.act_dim; ++j) {
      a.mb_actions[r * a.act_dim + j] = a.actions[k * a.act_dim + j];
    }
    a.mb_log_probs[r] = a.log_probs[k];
    a.mb_advantages[r] = a.advantages[k];
    a.mb_values[r] = a.values[k];
    a.mb_returns[r] = a.returns[k];
  }
};

// ppo_loss's advantage normalisation, in three steps around two sums.
struct AdvDeviationFn {  // moments[0] holds sum A; writes (A - mean)^2
  const float* adv;
  double inv_b;
  const double* moments;
  double* dev;
  CONVOY_HD void operator()(std::int64_t i) const {
    const double mean = moments[0] * inv_b;
    const double d = adv[i] - mean;
    dev[i] = d * d;
  }
};
struct AdvFinishFn {  // moments = (sum A, sum dev^2) -> (mean, scale)
  bool norm_adv;
  std::int64_t rows;
  double inv_b;
  double* moments;
  CONVOY_HD void operator()(std::int64_t) const {
    if (!norm_adv) {
      moments[2] = 0.0;
      moments[3] = 1.0;
      return;
    }
    const double mean = moments[0] * inv_b;
    double var = moments[1];
    var = rows > 1 ? var / static_cast<double>(rows - 1) : 0.0;
    moments[2] = mean;
    moments[3] = 1.0 / (math::sqrt(var) + 1e-8);
  }
};

struct LossRowFn {
  LossArgs a;
  const double* moments;  // [2] mean, [3] scale
  float ent_coef, vf_coef, tb;
  double* row_terms;      // (rows x 6)
  double* row_abs;        // (rows)
  float* d_log_std_rows;  // (rows x head_dim) continuous
  CONVOY_HD void operator()(std::int64_t i) const {
    float* dls = nullptr;
    if (!a.discrete) {
      dls = d_log_std_rows + i * a.head_dim;
      for (int k = 0; k < a.head_dim; ++k) dls[k] = 0.0f;
    }
    const PpoRowTerms r = ppo_loss_row<float>(
        i, a.discrete, a.head_dim, a.head, a.log_std, a.values, a.actions, a.old_log_probs,
        a.advantages, a.old_values, a.returns, moments[2], moments[3], a.coefs.clip_coef,
        a.coefs.clip_vloss, ent_coef, vf_coef, tb, a.d_head, dls, a.d_values);
    double* t = row_terms + i * 6;
    t[0] = r.pg;
    t[1] = r.v;
    t[2] = r.entropy;
    t[3] = r.approx_kl;
    t[4] = r.old_approx_kl;
    t[5] = r.clipped;
    row_abs[i] = r.abs_log_ratio;
  }
};

struct EvRowsFn {  // pass 1: (y, y - yhat); pass 2: ((y - my)^2, (d - md)^2)
  const float *y, *yhat;
  bool second;
  double n;
  const double* sums;
  double* rows;
  CONVOY_HD void operator()(std::int64_t i) const {
    if (!second) {
      rows[i * 2 + 0] = static_cast<double>(y[i]);
      rows[i * 2 + 1] = static_cast<double>(y[i]) - yhat[i];
      return;
    }
    const double my = sums[0] / n, md = sums[1] / n;
    rows[i * 2 + 0] = (y[i] - my) * (y[i] - my);
    const double d = static_cast<double>(y[i]) - yhat[i] - md;
    rows[i * 2 + 1] = d * d;
  }
};

}  // namespace

void sample_actions(const Device& device, const SampleArgs& a) { launch(device, a.n, SampleFn{a}); }

void argmax_rows(const Device& device, std::int64_t rows, int n, const float* logits,
                 std::int32_t* out) {
  launch(device, rows, ArgmaxFn{n, logits, out});
}

void clip_rows(const Device& device, std::int64_t rows, int dim, const float* x, const float* low,
               const float* high, float* out) {
  launch(device, rows * dim, ClipRowsFn{dim, x, low, high, out});
}

void normalize_obs(const Device& device, const double* mean, const double* var, const float* x,
                   std::int64_t rows, int dim, float* out) {
  launch(device, rows * dim, NormalizeObsFn{mean, var, x, dim, out});
}

std::int64_t rms_chunked_scratch_size(int dim, int max_chunks) {
  constexpr int kPerMoments = static_cast<int>(sizeof(reduce::Moments) / sizeof(double));
  return static_cast<std::int64_t>(dim) * (max_chunks + 1) * kPerMoments;
}

std::int64_t rms_scratch_size(const Device& device, int dim) {
  return device.is_cuda() ? rms_chunked_scratch_size(dim, reduce::kCudaChunks) : 0;
}

namespace {

static_assert(sizeof(reduce::Moments) == 3 * sizeof(double) &&
                  alignof(reduce::Moments) == alignof(double),
              "rms_update_chunked keeps Moments in a double scratch");

template <class X>
void rms_update_chunked_impl(const Device& device, const X* x, std::int64_t rows, int dim,
                             double count, double* mean, double* var, DeviceArray<double>& scratch,
                             int max_chunks) {
  if (rows <= 0) return;
  if (max_chunks < 1 || scratch.size() < rms_chunked_scratch_size(dim, max_chunks) ||
      scratch.device() != device) {
    throw Error("rms_update of " + std::to_string(dim) + " columns in " +
                std::to_string(max_chunks) + " row ranges on " + device.str() +
                " with a scratch of " + std::to_string(scratch.size()) + " doubles on " +
                scratch.device().str() + "; allowed: max_chunks >= 1 and at least " +
                std::to_string(rms_chunked_scratch_size(dim, std::max(max_chunks, 1))) +
                " doubles on the same device");
  }
  // the batch's moments per column first, the per-(column, range) partials after them
  auto* batch = reinterpret_cast<reduce::Moments*>(scratch.data());
  reduce::columns_chunked<reduce::Moments, reduce::MergeMoments, reduce::ToMoments>(
      device, x, rows, dim, batch, false, batch + dim, max_chunks);
  launch(device, dim, RmsMergeFn{batch, count, mean, var});
}

template <class X>
void rms_update_impl(const Device& device, const X* x, std::int64_t rows, int dim, double count,
                     double* mean, double* var, DeviceArray<double>& scratch) {
  if (rows <= 0) return;
  if (device.is_cuda()) {
    rms_update_chunked_impl(device, x, rows, dim, count, mean, var, scratch, reduce::kCudaChunks);
    return;
  }
  launch(device, dim, RmsUpdateFn<X>{x, rows, dim, count, mean, var});
}

}  // namespace

void rms_update(const Device& device, const float* x, std::int64_t rows, int dim, double count,
                double* mean, double* var, DeviceArray<double>& scratch) {
  rms_update_impl(device, x, rows, dim, count, mean, var, scratch);
}
void rms_update(const Device& device, const double* x, std::int64_t rows, int dim, double count,
                double* mean, double* var, DeviceArray<double>& scratch) {
  rms_update_impl(device, x, rows, dim, count, mean, var, scratch);
}
void rms_update_chunked(const Device& device, const float* x, std::int64_t rows, int dim,
                        double count, double* mean, double* var, DeviceArray<double>& scratch,
                        int max_chunks) {
  rms_update_chunked_impl(device, x, rows, dim, count, mean, var, scratch, max_chunks);
}
void rms_update_chunked(const Device& device, const double* x, std::int64_t rows, int dim,
                        double count, double* mean, double* var, DeviceArray<double>& scratch,
                        int max_chunks) {
  rms_update_chunked_impl(device, x, rows, dim, count, mean, var, scratch, max_chunks);
}

void discount_returns(const Device& device, std::int64_t n, double gamma, const float* reward,
                      double* returns) {
  launch(device, n, DiscountFn{gamma, reward, returns});
}

void scale_rewards(const Device& device, std::int64_t n, const double* return_var,
                   const float* reward, const std::uint8_t* terminated,
                   const std::uint8_t* truncated, double* returns, float* out) {
  launch(device, n, ScaleRewardFn{return_var, reward, terminated, truncated, returns, out});
}

void episode_terms(const Device& device, std::int64_t n, const std::uint8_t* terminated,
                   const std::uint8_t* truncated, const double* final_return,
                   const std::int32_t* final_length, double* out) {
  launch(device, n, EpisodeTermsFn{terminated, truncated, final_return, final_length, out});
}

void masked_final_values(const Device& device, std::int64_t n, const std::uint8_t* terminated,
                         const std::uint8_t* truncated, const float* values, float* fv) {
  launch(device, n, MaskedFinalValuesFn{terminated, truncated, values, fv});
}

void gather_minibatch(const Device& device, const GatherArgs& a) {
  launch(device, a.rows, GatherFn{a});
}

LossScratch::LossScratch(const Device& device, std::int64_t rows, int act_dim)
    : row_terms(device, rows * 6),
      row_abs(device, rows),
      adv_dev(device, rows),
      adv_moments(device, 4),
      d_log_std_rows(device, rows * act_dim),
      scratch_d(device, reduce::scratch_size(device, 6)),
      scratch_f(device, reduce::scratch_size(device, act_dim)) {}

void minibatch_loss(const Device& device, const LossArgs& a, LossScratch& s) {
  const std::int64_t b = a.rows;
  const double inv_b = 1.0 / static_cast<double>(b);
  double* moments = s.adv_moments.data();
  if (a.coefs.norm_adv) {
    reduce::columns<double>(device, a.advantages, b, 1, moments, false, s.scratch_d.data());
    launch(device, b, AdvDeviationFn{a.advantages, inv_b, moments, s.adv_dev.data()});
    reduce::columns<double>(device, s.adv_dev.data(), b, 1, moments + 1, false, s.scratch_d.data());
  }
  launch(device, 1, AdvFinishFn{a.coefs.norm_adv, b, inv_b, moments});
  launch(device, b,
         LossRowFn{a, moments, static_cast<float>(a.coefs.ent_coef),
                   static_cast<float>(a.coefs.vf_coef), static_cast<float>(inv_b),
                   s.row_terms.data(), s.row_abs.data(), s.d_log_std_rows.data()});
  reduce::columns<double>(device, s.row_terms.data(), b, 6, a.stats, false, s.scratch_d.data());
  reduce::columns<double, reduce::Max>(device, s.row_abs.data(), b, 1, a.stats + 6, false,
                                       s.scratch_d.data());
  if (!a.discrete && a.d_head != nullptr) {
    // the rows' log-std gradients, added in row order as ppo_loss's loop adds them
    reduce::columns<float>(device, s.d_log_std_rows.data(), b, a.head_dim, a.d_log_std, true,
                           s.scratch_f.data());
  }
}

void explained_variance_sums(const Device& device, std::int64_t n, const float* y,
                             const float* yhat, DeviceArray<double>& rows,
                             DeviceArray<double>& scratch, double* out) {
  const double nd = static_cast<double>(n);
  launch(device, n, EvRowsFn{y, yhat, false, nd, out, rows.data()});
  reduce::columns<double>(device, rows.data(), n, 2, out, false, scratch.data());
  launch(device, n, EvRowsFn{y, yhat, true, nd, out, rows.data()});
  reduce::columns<double>(device, rows.data(), n, 2, out + 2, false, scratch.data());
}

std::int64_t reduce_scratch_size(const Device& device) { return reduce::scratch_size(device, 6); }

void sum_columns(const Device& device, const double* x, std::int64_t rows, int cols, double* out,
                 DeviceArray<double>& scratch) {
  reduce::columns<double>(device, x, rows, cols, out, false, scratch.data());
}

}  // namespace convoy::rl::ppo_kernels
