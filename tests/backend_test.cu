// The backend primitives on every backend built: devices, DeviceArray copies,
// for_each_index, count_if_index, and the Thrust-backed reduce / scan / sort wrappers.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "sim/algorithms.h"
#include "sim/array.h"
#include "sim/error.h"
#include "sim/parallel.h"
#include "sim/rng.h"
#include "tests/test_util.h"

namespace convoy {
namespace {

TEST(Device, ParsesNamesAndRejectsOthers) {
  EXPECT_TRUE(Device::parse("cpu").is_cpu());
  EXPECT_EQ(Device::parse("cpu").str(), "cpu");
  const Device a = Device::parse("auto");
  EXPECT_EQ(a.is_cuda(), cuda_device_count() > 0);
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", ""}) {
    try {
      Device::parse(bad);
      if (std::string(bad).rfind("cuda", 0) != 0) ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("allowed"), std::string::npos) << e.what();
    }
  }
}

TEST(Device, CudaWithoutGpuIsAClearError) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a GPU is present; this checks the no-GPU path";
  try {
    Device::parse("cuda");
    FAIL() << "cuda accepted without a usable GPU";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("not usable"), std::string::npos) << m;
    EXPECT_NE(m.find(cuda_unavailable_reason()), std::string::npos) << m;
  }
}

class Backend : public ::testing::TestWithParam<std::string> {};

TEST_P(Backend, ArrayRoundTripAndForEachIndex) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  const std::int64_t n = 100003;
  std::vector<double> host(n);
  std::iota(host.begin(), host.end(), 0.0);
  DeviceArray<double> a(device, host);
  double* p = a.data();
  for_each_index(device, n, [=] CONVOY_HD(std::int64_t i) { p[i] = p[i] * 2.0 + 1.0; });
  const auto back = a.to_host();
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(back[i], 2.0 * i + 1.0);
  DeviceArray<unsigned long long> counter(device, 1);
  counter.zero();
  count_if_index_async(
      device, n,
      [=] CONVOY_HD(std::int64_t i) { return (static_cast<std::int64_t>(p[i]) % 4) == 1; },
      counter.data());
  count_if_index_async(
      device, n, [=] CONVOY_HD(std::int64_t i) { return i < 10; }, counter.data());
  EXPECT_EQ(counter.to_host()[0], static_cast<unsigned long long>((n + 1) / 2 + 10));
  DeviceArray<double> b(device, n);
  b.copy_from(a);
  EXPECT_EQ(b.to_host(), back);
  b.zero();
  EXPECT_EQ(reduce_sum(device, b.data(), n), 0.0);
  EXPECT_THROW(a.copy_from_host(host.data(), n + 1), Error);
}

// Records the order a launch visits its indices in (one thread).
struct RecordOrder {
  std::int64_t* out;
  std::int64_t* count;
  CONVOY_HD void operator()(std::int64_t i) const { out[(*count)++] = i; }
};
// Each index reads its neighbour's write: a race on a GPU, order-dependent on the CPU.
struct AddLeftNeighbour {
  double* p;
  CONVOY_HD void operator()(std::int64_t i) const { p[i + 1] += p[i]; }
};

// The shuffled launch mode (sim/parallel.h) visits every index once, in another order each
// launch, so a launch whose result depends on the order (a race on a GPU) changes its bits.
TEST(ShuffledLaunch, VisitsEveryIndexOnceInAnotherOrder) {
  const bool was = detail::shuffled_launch();
  detail::set_shuffled_launch(true);
  set_cpu_threads(1);
  const std::int64_t n = 1000;
  std::vector<std::int64_t> order(n), order2(n);
  std::int64_t count = 0;
  auto visit = [&count](std::vector<std::int64_t>& o) {
    count = 0;
    for_each_index(Device::cpu(), n, RecordOrder{o.data(), &count});
  };
  visit(order);
  visit(order2);
  std::vector<std::int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> identity(n);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(order, identity);
  EXPECT_NE(order, order2);
  // an order-dependent launch (each index reads its neighbour's write) gives other bits
  std::vector<double> x(n, 1.0);
  double* p = x.data();
  for_each_index(Device::cpu(), n - 1, AddLeftNeighbour{p});
  EXPECT_NE(x[n - 1], static_cast<double>(n));
  // the blocks of the CPU's block launches too
  std::vector<std::int64_t> blocks;
  for_each_block_cpu(n, 100, [&blocks](std::int64_t b, std::int64_t) {
    blocks.push_back(b);
    return std::int64_t{0};
  });
  EXPECT_EQ(blocks.size(), 10u);
  EXPECT_FALSE(std::is_sorted(blocks.begin(), blocks.end()));
  set_cpu_threads(0);
  detail::set_shuffled_launch(was);
}

TEST_P(Backend, PhiloxDrawsMatchTheHost) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  const std::int64_t n = 4096;
  DeviceArray<std::uint32_t> out(device, n * 4);
  std::uint32_t* o = out.data();
  for_each_index(device, n, [=] CONVOY_HD(std::int64_t i) {
    PhiloxStream s(99, static_cast<std::uint64_t>(i), 2, 3, RngPurpose::kTest);
    for (int k = 0; k < 4; ++k) o[i * 4 + k] = s.next_u32();
  });
  const auto got = out.to_host();
  for (std::int64_t i = 0; i < n; ++i) {
    PhiloxStream s(99, static_cast<std::uint64_t>(i), 2, 3, RngPurpose::kTest);
    for (int k = 0; k < 4; ++k) ASSERT_EQ(got[i * 4 + k], s.next_u32()) << i;
  }
}

TEST_P(Backend, ReduceScanSortMatchTheStandardLibrary) {
  CONVOY_DEVICE_OR_SKIP(device, GetParam());
  std::mt19937 gen(4);
  const std::int64_t n = 50001;
  std::vector<std::int32_t> ints(n);
  for (auto& v : ints) v = static_cast<std::int32_t>(gen() % 1000) - 500;
  DeviceArray<std::int32_t> d_ints(device, ints);
  EXPECT_EQ(reduce_sum(device, d_ints.data(), n), std::accumulate(ints.begin(), ints.end(), 0));
  EXPECT_EQ(reduce_max(device, d_ints.data(), n), *std::max_element(ints.begin(), ints.end()));
  std::vector<std::int32_t> scan(n);
  std::partial_sum(ints.begin(), ints.end(), scan.begin());
  inclusive_scan(device, d_ints.data(), d_ints.data(), n);
  EXPECT_EQ(d_ints.to_host(), scan);

  std::vector<float> keys(n);
  std::vector<std::int32_t> vals(n);
  for (std::int64_t i = 0; i < n; ++i) {
    keys[i] = static_cast<float>(gen() % 97);
    vals[i] = static_cast<std::int32_t>(i);
  }
  DeviceArray<float> d_keys(device, keys);
  DeviceArray<std::int32_t> d_vals(device, vals);
  sort_by_key(device, d_keys.data(), d_vals.data(), n);
  std::vector<std::int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return keys[a] < keys[b]; });
  EXPECT_EQ(d_vals.to_host(), order);

  std::vector<double> reals(n, 0.25);
  DeviceArray<double> d_reals(device, reals);
  EXPECT_DOUBLE_EQ(reduce_sum(device, d_reals.data(), n), 0.25 * n);
}

INSTANTIATE_TEST_SUITE_P(Backends, Backend, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace convoy
