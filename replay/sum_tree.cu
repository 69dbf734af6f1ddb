#include <limits>
#include <string>

#include "replay/sum_tree.h"
#include "sim/algorithms.h"
#include "sim/error.h"
#include "sim/parallel.h"

namespace convoy {

namespace {

// Node `node`'s sum and min from its two children.
CONVOY_HD_INLINE void pull(double* sum, double* min, std::int64_t node) {
  const std::int64_t l = 2 * node;
  sum[node] = sum[l] + sum[l + 1];
  min[node] = min[l] < min[l + 1] ? min[l] : min[l + 1];
}

constexpr double kInf = std::numeric_limits<double>::infinity();

struct KeysKernel {
  const std::int64_t* slots;
  std::int32_t *keys, *rows;
  CONVOY_HD void operator()(std::int64_t r) const {
    keys[r] = static_cast<std::int32_t>(slots[r]);
    rows[r] = static_cast<std::int32_t>(r);
  }
};

// The last row of each run of equal (sorted) slots writes that leaf.
struct LeafKernel {
  std::int64_t n, leaves;
  double inf;
  const std::int32_t *keys, *rows;
  const double* values;
  double *sum, *min;
  CONVOY_HD void operator()(std::int64_t r) const {
    if (r + 1 < n && keys[r + 1] == keys[r]) return;
    const double v = values[rows[r]];
    sum[leaves + keys[r]] = v;
    min[leaves + keys[r]] = v > 0.0 ? v : inf;
  }
};

// Every node of the level [first, 2 first).
struct LevelKernel {
  std::int64_t first;
  double *sum, *min;
  CONVOY_HD void operator()(std::int64_t j) const { pull(sum, min, first + j); }
};

// The parents `shift` levels above the sorted leaves, each by the first entry under it.
struct SparseLevelKernel {
  std::int64_t leaves;
  int shift;
  const std::int32_t* keys;
  double *sum, *min;
  CONVOY_HD void operator()(std::int64_t r) const {
    const std::int64_t parent = (leaves + keys[r]) >> shift;
    if (r > 0 && ((leaves + keys[r - 1]) >> shift) == parent) return;
    pull(sum, min, parent);
  }
};

struct FillKernel {
  std::int64_t first, capacity;
  double value;
  std::int64_t* slots;
  double* values;
  CONVOY_HD void operator()(std::int64_t r) const {
    slots[r] = (first + r) % capacity;
    values[r] = value;
  }
};

struct SetKernel {
  double* a;
  double value;
  CONVOY_HD void operator()(std::int64_t i) const { a[i] = value; }
};

struct FindKernel {
  SumTreeView tree;
  const double* u;
  std::int64_t* slots;
  CONVOY_HD void operator()(std::int64_t i) const { slots[i] = tree.find(u[i]); }
};

template <class T>
void fit(DeviceArray<T>& a, const Device& device, std::int64_t n) {
  if (a.size() < n) a = DeviceArray<T>(device, n);
}

std::int64_t checked_capacity(std::int64_t capacity) {
  if (capacity < 1 || capacity > SumTree::kMaxLeaves) {
    throw Error("SumTree: capacity = " + std::to_string(capacity) +
                " is invalid; allowed: 1..2^31");
  }
  return capacity;
}

std::int64_t pow2_at_least(std::int64_t n) {
  std::int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

std::uint64_t SumTree::bytes(std::int64_t capacity) {
  if (capacity < 1 || capacity > kMaxLeaves) return 0;
  return 2 * 2 * static_cast<std::uint64_t>(pow2_at_least(capacity)) * sizeof(double);
}

SumTree::SumTree(const Device& device, std::int64_t capacity)
    : device_(device),
      capacity_(checked_capacity(capacity)),
      leaves_(pow2_at_least(capacity)),
      sum_(device, 2 * leaves_),
      min_(device, 2 * leaves_) {
  sum_.zero();
  for_each_index(device_, 2 * leaves_, SetKernel{min_.data(), kInf});
}

void SumTree::update(const std::int64_t* d_slots, const double* d_values, std::int64_t n) {
  if (n < 0 || n >= (std::int64_t(1) << 31)) {
    throw Error("SumTree::update: " + std::to_string(n) +
                " priorities at once is invalid; allowed: 0..2^31-1");
  }
  if (n == 0) return;
  fit(keys_, device_, n);
  fit(rows_, device_, n);
  for_each_index(device_, n, KeysKernel{d_slots, keys_.data(), rows_.data()});
  // stable: within a run of equal slots the rows stay in batch order, so the run's last wins
  sort_by_key(device_, keys_.data(), rows_.data(), n);
  for_each_index(
      device_, n,
      LeafKernel{n, leaves_, kInf, keys_.data(), rows_.data(), d_values, sum_.data(), min_.data()});
  int shift = 1;
  for (std::int64_t first = leaves_ / 2; first >= 1; first /= 2, ++shift) {
    // a level no wider than the batch costs less whole than deduplicated
    if (first <= n) {
      for_each_index(device_, first, LevelKernel{first, sum_.data(), min_.data()});
    } else {
      for_each_index(device_, n,
                     SparseLevelKernel{leaves_, shift, keys_.data(), sum_.data(), min_.data()});
    }
  }
}

void SumTree::fill(std::int64_t first, std::int64_t n, double value) {
  if (n < 0 || n > capacity_ || first < 0 || first >= capacity_) {
    throw Error("SumTree::fill: " + std::to_string(n) + " slots from " + std::to_string(first) +
                " is invalid; allowed: up to capacity (" + std::to_string(capacity_) +
                ") from a slot below it");
  }
  fit(fill_slots_, device_, n);
  fit(fill_values_, device_, n);
  for_each_index(device_, n,
                 FillKernel{first, capacity_, value, fill_slots_.data(), fill_values_.data()});
  update(fill_slots_.data(), fill_values_.data(), n);
}

void SumTree::find(const double* d_u, std::int64_t n, std::int64_t* d_slots) const {
  for_each_index(device_, n, FindKernel{view(), d_u, d_slots});
}

void SumTree::rebuild() {
  for (std::int64_t first = leaves_ / 2; first >= 1; first /= 2) {
    for_each_index(device_, first, LevelKernel{first, sum_.data(), min_.data()});
  }
}

double SumTree::total() const {
  double v = 0;
  copy_bytes(&v, Device::cpu(), sum_.data() + 1, device_, sizeof(v));
  return v;
}

double SumTree::min_value() const {
  double v = 0;
  copy_bytes(&v, Device::cpu(), min_.data() + 1, device_, sizeof(v));
  return v;
}

std::vector<double> SumTree::leaf_values() const {
  std::vector<double> out(static_cast<std::size_t>(capacity_));
  copy_bytes(out.data(), Device::cpu(), sum_.data() + leaves_, device_,
             sizeof(double) * out.size());
  return out;
}

void SumTree::set_leaves(const std::vector<double>& values) {
  if (static_cast<std::int64_t>(values.size()) != capacity_) {
    throw Error("SumTree::set_leaves: " + std::to_string(values.size()) +
                " values for a capacity of " + std::to_string(capacity_));
  }
  std::vector<double> sum(static_cast<std::size_t>(2 * leaves_), 0.0);
  std::vector<double> min(static_cast<std::size_t>(2 * leaves_), kInf);
  for (std::size_t j = 0; j < values.size(); ++j) {
    sum[static_cast<std::size_t>(leaves_) + j] = values[j];
    min[static_cast<std::size_t>(leaves_) + j] = values[j] > 0.0 ? values[j] : kInf;
  }
  sum_.copy_from_host(sum);
  min_.copy_from_host(min);
  rebuild();
}

}  // namespace convoy
