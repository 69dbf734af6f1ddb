// Counter-based randomness: Philox4x32-10 (Salmon et al., SC'11; the Random123 reference),
// written once as CONVOY_HD code so the CPU and CUDA draw the same numbers at any thread
// count or launch shape.
//
// A stream is keyed by (seed, index) and counted by (episode, step, draw):
//   key     = { index, low 32 bits of seed }
//   counter = { draw block, step, episode, (high 32 bits of seed) << 8 | purpose }
// so seeds are distinct up to 2^56, `index` (env, agent, sample...) up to 2^32, and each
// purpose (reset, random actions, ...) gets its own numbers. Each Philox call yields four
// 32-bit words; the stream hands them out in order and bumps the draw block when empty.
#pragma once

#include <cmath>
#include <cstdint>

#include "sim/hd.h"

namespace convoy {

// The raw bijection: out = Philox4x32-10(counter, key).
CONVOY_HD_INLINE void philox4x32_10(const std::uint32_t ctr[4], const std::uint32_t key[2],
                                    std::uint32_t out[4]) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  std::uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  std::uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * c2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32),
                        lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32),
                        lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// What a stream is for; part of the counter so that purposes never share numbers.
// kInit: network parameter initialisation (rl/), keyed by layer index.
// kPolicy: a learner's action sampling, keyed by env, counted by (iteration, step).
// kShuffle: a learner's minibatch permutations, counted by (iteration, epoch).
// kReplay: replay-buffer sampling, keyed by batch row, counted by the sample call.
// kNoise: a learner's reparameterisation noise in its updates (SAC), keyed by batch row.
// kStep: an env's own randomness inside step (e.g. traffic spawning), keyed by scene, counted
// by (episode, step).
enum class RngPurpose : std::uint32_t {
  kReset = 1,
  kAction = 2,
  kInit = 3,
  kPolicy = 4,
  kShuffle = 5,
  kReplay = 6,
  kNoise = 7,
  kStep = 8,
  kTest = 255
};

class PhiloxStream {
 public:
  CONVOY_HD PhiloxStream(std::uint64_t seed, std::uint64_t index, std::uint32_t episode,
                         std::uint32_t step, RngPurpose purpose) {
    key_[0] = static_cast<std::uint32_t>(index);
    key_[1] = static_cast<std::uint32_t>(seed);
    ctr_[0] = 0;
    ctr_[1] = step;
    ctr_[2] = episode;
    ctr_[3] = (static_cast<std::uint32_t>(seed >> 32) << 8) | static_cast<std::uint32_t>(purpose);
  }

  CONVOY_HD std::uint32_t next_u32() {
    if (used_ == 4) {
      philox4x32_10(ctr_, key_, buf_);
      ++ctr_[0];
      used_ = 0;
    }
    return buf_[used_++];
  }
  // Uniform in [0, 1) with 24 random bits.
  CONVOY_HD float uniform_float() { return static_cast<float>(next_u32() >> 8) * 0x1.0p-24f; }
  // Uniform in [0, 1) with 53 random bits.
  CONVOY_HD double uniform_double() {
    const std::uint64_t hi = next_u32() >> 5, lo = next_u32() >> 6;
    return static_cast<double>((hi << 26) | lo) * 0x1.0p-53;
  }
  // Uniform in [lo, hi).
  CONVOY_HD double uniform(double lo, double hi) { return lo + (hi - lo) * uniform_double(); }
  // Uniform integer in [0, n) (Lemire's multiply-shift; bias below 2^-32 * n).
  CONVOY_HD std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(next_u32()) * n) >> 32);
  }
  // Standard normal (Box-Muller on two float draws; the first draw is kept away from 0).
  CONVOY_HD float normal() {
    const float u1 = (static_cast<float>(next_u32() >> 8) + 1.0f) * 0x1.0p-24f;
    const float u2 = uniform_float();
    return sqrtf(-2.0f * logf(u1)) * cosf(6.283185307179586f * u2);
  }

 private:
  std::uint32_t key_[2];
  std::uint32_t ctr_[4];
  std::uint32_t buf_[4] = {0, 0, 0, 0};
  int used_ = 4;
};

// The kStep streams of a multi-agent env's scenes, keyed as the engine keys them
// (sim/scene_kernels.h): scene c draws from its first row's seed (row c * agents), keyed by c,
// counted by the scene's episode and its steps into that episode. The engine builds the stream
// of E::step with it, and hands it to E::step_batch, whose per-scene stages then draw exactly the
// numbers E::step would. Read before the engine's bookkeeping of the step advances the counts.
struct SceneStepStreams {
  const std::uint64_t* seeds;    // (rows) each row's seed
  const std::uint32_t* episode;  // (scenes) episodes started since reset()
  const std::int32_t* elapsed;   // (scenes) steps into the current episode
  std::int32_t agents;           // rows per scene
  CONVOY_HD PhiloxStream operator()(std::int64_t c) const {
    return PhiloxStream(seeds[c * agents], static_cast<std::uint64_t>(c), episode[c],
                        static_cast<std::uint32_t>(elapsed[c]), RngPurpose::kStep);
  }
};

}  // namespace convoy
