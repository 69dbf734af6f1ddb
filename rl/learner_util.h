// Small pieces the learners (PPO, SAC, DQN) share: distinct initialisation seeds per network
// and scoped settings of Eigen's GEMM and the CPU backend's thread counts.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "rl/mlp.h"
#include "sim/config.h"
#include "sim/device.h"

namespace convoy::rl {

// The MLP of a learner's config (hidden_layers x hidden_size, activation): in -> out.
template <class LearnerConfig>
MlpSpec net_spec(const LearnerConfig& c, int in, int out) {
  MlpSpec s;
  s.input_dim = in;
  s.hidden.assign(static_cast<std::size_t>(c.hidden_layers), c.hidden_size);
  s.output_dim = out;
  s.activation = c.activation;
  return s;
}

// A learner's settings from `config` (LearnerConfig::read_config reads each key with its range),
// refusing unknown keys: PpoConfig::from_config and SacConfig::from_config.
template <class LearnerConfig>
LearnerConfig read_learner_config(const Config& config, const char* section) {
  ConfigReader reader(config, section);
  LearnerConfig c;
  c.read_config(reader);
  reader.finish();
  return c;
}

// splitmix64: distinct init seeds per network (Mlp::init_orthogonal keys its draws by
// (seed, layer), so the same seed would give two networks' first layers the same W).
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t salt) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (salt + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (z ^ (z >> 31)) & ((std::uint64_t(1) << 56) - 1);
}

// Runs Eigen's GEMMs on `threads` threads (0: its default) for the guard's lifetime, then
// hands them back to Eigen's default (nothing in Convoy sets Eigen's count otherwise).
class GemmThreads {
 public:
  explicit GemmThreads(int threads) : set_(threads > 0) {
    if (set_) Eigen::setNbThreads(threads);
  }
  ~GemmThreads() {
    if (set_) Eigen::setNbThreads(-1);  // negative: back to omp_get_max_threads()
  }
  GemmThreads(const GemmThreads&) = delete;
  GemmThreads& operator=(const GemmThreads&) = delete;

 private:
  bool set_;
};

// Sets the CPU backend's OpenMP threads for the guard's lifetime (0: leaves them).
class CpuThreads {
 public:
  explicit CpuThreads(int threads) : saved_(cpu_threads()), set_(threads > 0) {
    if (set_) set_cpu_threads(threads);
  }
  ~CpuThreads() {
    if (set_) set_cpu_threads(saved_);
  }
  CpuThreads(const CpuThreads&) = delete;
  CpuThreads& operator=(const CpuThreads&) = delete;

 private:
  int saved_;
  bool set_;
};

}  // namespace convoy::rl
