// Observation and reward normalisation, as Gymnasium's NormalizeObservation and
// NormalizeReward wrappers (and Stable-Baselines3's VecNormalize) do it:
//
// - RunningMeanStd keeps a per-dimension mean and population variance with their sample
//   count, in double. A batch is folded in with Chan et al.'s parallel update, so two
//   statistics (two ranks', two halves of a run) merge into the one a single pass over all
//   samples gives, up to rounding. It starts empty (count 0, mean 0, var 1): merging into
//   an empty one copies the other exactly, which keeps "merge == one pass" free of
//   Gymnasium's count = 1e-4 pseudo-sample.
// - ObsNormalizer: (x - mean) / sqrt(var + 1e-8), clipped to +-10 (kClip).
// - RewardScaler: each env's discounted return R <- gamma R + r, reset to 0 after the step
//   that ends an episode (terminated or truncated); the return statistics take every R, and
//   the reward is divided by sqrt(var(R) + 1e-8) and clipped to +-10 (the mean is not
//   subtracted: scaling must not change the sign of a reward).
//
// Host code over host buffers; the statistics are plain vectors so a checkpoint saves them as
// they are. rl::Ppo runs the same arithmetic as device functors (rl/ppo_kernels.cu:
// normalize_obs, rms_update, discount_returns / scale_rewards) on its device and keeps these
// structs as host copies.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace convoy::rl {

struct RunningMeanStd {
  std::vector<double> mean;  // (dim)
  std::vector<double> var;   // (dim) population variance
  double count = 0;          // samples seen

  RunningMeanStd() = default;
  explicit RunningMeanStd(std::int64_t dim)
      : mean(static_cast<std::size_t>(dim), 0.0), var(static_cast<std::size_t>(dim), 1.0) {}

  std::int64_t dim() const { return static_cast<std::int64_t>(mean.size()); }

  // Chan's parallel combination of two (mean, var, count) summaries.
  void merge(const RunningMeanStd& other) {
    if (other.count <= 0) return;
    if (count <= 0) {
      *this = other;
      return;
    }
    const double n = count + other.count;
    const double wa = count / n, wb = other.count / n;
    for (std::size_t k = 0; k < mean.size(); ++k) {
      const double delta = other.mean[k] - mean[k];
      mean[k] += delta * wb;
      var[k] = var[k] * wa + other.var[k] * wb + delta * delta * wa * wb;
    }
    count = n;
  }

  // Folds in `rows` samples of dim() floats (row-major), through their two-pass moments.
  template <class T>
  void update(const T* x, std::int64_t rows) {
    if (rows <= 0) return;
    RunningMeanStd batch(dim());
    const std::size_t d = mean.size();
    for (std::size_t k = 0; k < d; ++k) batch.mean[k] = 0.0;
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::size_t k = 0; k < d; ++k) batch.mean[k] += static_cast<double>(x[i * d + k]);
    }
    for (std::size_t k = 0; k < d; ++k) batch.mean[k] /= static_cast<double>(rows);
    for (std::size_t k = 0; k < d; ++k) batch.var[k] = 0.0;
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::size_t k = 0; k < d; ++k) {
        const double e = static_cast<double>(x[i * d + k]) - batch.mean[k];
        batch.var[k] += e * e;
      }
    }
    for (std::size_t k = 0; k < d; ++k) batch.var[k] /= static_cast<double>(rows);
    batch.count = static_cast<double>(rows);
    merge(batch);
  }
};

constexpr double kNormEps = 1e-8;  // under the square root, as Gymnasium's wrappers
constexpr double kNormClip = 10.0;

// out = clip((x - mean) / sqrt(var + 1e-8), +-10) for `rows` rows of rms.dim() floats.
inline void normalize_obs(const RunningMeanStd& rms, const float* x, std::int64_t rows,
                          float* out) {
  const std::size_t d = rms.mean.size();
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::size_t k = 0; k < d; ++k) {
      const double z =
          (static_cast<double>(x[i * d + k]) - rms.mean[k]) / std::sqrt(rms.var[k] + kNormEps);
      out[i * d + k] = static_cast<float>(std::clamp(z, -kNormClip, kNormClip));
    }
  }
}

struct RewardScaler {
  RunningMeanStd return_rms{1};
  std::vector<double> returns;  // (num_envs) discounted return of the episode in flight
  double gamma = 0.99;

  RewardScaler() = default;
  RewardScaler(std::int64_t num_envs, double discount)
      : returns(static_cast<std::size_t>(num_envs), 0.0), gamma(discount) {}

  // Scales one step's rewards of every env into out (may alias reward) and updates the
  // statistics; done[i] (terminated or truncated) ends env i's return after this step.
  void scale(const float* reward, const std::uint8_t* terminated, const std::uint8_t* truncated,
             float* out) {
    const std::int64_t n = static_cast<std::int64_t>(returns.size());
    for (std::int64_t i = 0; i < n; ++i) returns[i] = returns[i] * gamma + reward[i];
    return_rms.update(returns.data(), n);
    const double scale = 1.0 / std::sqrt(return_rms.var[0] + kNormEps);
    for (std::int64_t i = 0; i < n; ++i) {
      out[i] = static_cast<float>(std::clamp(reward[i] * scale, -kNormClip, kNormClip));
      if (terminated[i] || truncated[i]) returns[i] = 0.0;
    }
  }
};

}  // namespace convoy::rl
