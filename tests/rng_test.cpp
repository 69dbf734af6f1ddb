#include "sim/rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace convoy {
namespace {

struct Kat {
  std::uint32_t ctr[4], key[2], expect[4];
};

// Random123's published known answers for Philox4x32-10 (kat_vectors).
TEST(Philox, KnownAnswerVectors) {
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    std::uint32_t out[4];
    philox4x32_10(k.ctr, k.key, out);
    for (int j = 0; j < 4; ++j) EXPECT_EQ(out[j], k.expect[j]) << "word " << j;
  }
}

TEST(Philox, StreamsAreReproducibleAndDistinct) {
  PhiloxStream a(42, 7, 3, 11, RngPurpose::kReset), b(42, 7, 3, 11, RngPurpose::kReset);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u32(), b.next_u32());
  // any change of seed, index, episode, step or purpose changes the numbers
  const PhiloxStream variants[] = {
      PhiloxStream(43, 7, 3, 11, RngPurpose::kReset),
      PhiloxStream(42, 8, 3, 11, RngPurpose::kReset),
      PhiloxStream(42, 7, 4, 11, RngPurpose::kReset),
      PhiloxStream(42, 7, 3, 12, RngPurpose::kReset),
      PhiloxStream(42, 7, 3, 11, RngPurpose::kAction),
      PhiloxStream(42ull | (1ull << 40), 7, 3, 11, RngPurpose::kReset)};
  std::set<std::uint32_t> firsts;
  PhiloxStream base(42, 7, 3, 11, RngPurpose::kReset);
  firsts.insert(base.next_u32());
  for (PhiloxStream v : variants) firsts.insert(v.next_u32());
  EXPECT_EQ(firsts.size(), 7u);
}

TEST(Philox, StreamMatchesRawCounterLayout) {
  // documented layout: key {index, seed lo}, counter {draw, step, episode, seed hi << 8 | purpose}
  const std::uint64_t seed = 0x0000000500000009ull;
  PhiloxStream s(seed, 3, 4, 6, RngPurpose::kAction);
  const std::uint32_t key[2] = {3, 9};
  for (std::uint32_t draw = 0; draw < 3; ++draw) {
    const std::uint32_t ctr[4] = {draw, 6, 4, (5u << 8) | 2u};
    std::uint32_t out[4];
    philox4x32_10(ctr, key, out);
    for (int j = 0; j < 4; ++j) EXPECT_EQ(s.next_u32(), out[j]);
  }
}

TEST(Philox, UniformAndNormalMoments) {
  PhiloxStream s(1, 0, 0, 0, RngPurpose::kTest);
  const int n = 200000;
  double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
  std::uint32_t counts[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < n; ++i) {
    const double u = s.uniform_double();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    const float f = s.uniform_float();
    ASSERT_GE(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    sum += u;
    sum2 += u * u;
    const double z = s.normal();
    ASSERT_TRUE(std::isfinite(z));
    nsum += z;
    nsum2 += z * z;
    counts[s.below(5)]++;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sum2 / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
  EXPECT_NEAR(nsum / n, 0.0, 0.01);
  EXPECT_NEAR(nsum2 / n, 1.0, 0.02);
  for (auto c : counts) EXPECT_NEAR(c / double(n), 0.2, 0.01);
}

}  // namespace
}  // namespace convoy
