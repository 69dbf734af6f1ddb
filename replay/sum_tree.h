// SumTree: the sum tree and min tree of prioritized replay (Schaul et al. 2016), resident on
// one device. Leaves are the capacity's slots padded to a power of two; node k has children
// 2k and 2k+1, the root is node 1 and leaf j is node leaves() + j. Both trees are built in
// one class because every update rewrites the same nodes of each.
//
// Values are doubles at every node. A parent is always recomputed as left + right from its
// children (never adjusted by a delta), so the root equals a fresh rebuild of the current
// leaves bit for bit however many updates came before: there is no drift to bound and no
// rebuild policy is needed. The min tree skips zero leaves (they are never sampled) and
// holds +inf over never-written ones.
//
// update() is one sort plus one launch per level: the (leaf, batch row) pairs are stably
// sorted by leaf so that the last row of each run of equal leaves writes it (the last in the
// batch wins, deterministically); a level's parents are then written by the first sorted
// entry under each, or, where the level has no more nodes than the batch has rows, by one
// thread per node of the level. Either way each parent has one writer.
//
// Lookups descend from the root, one thread per query: a query u in [0, total) ends on the
// leaf i with sum[:i] <= u < sum[:i+1] (prefix sums in tree order). The descent never enters
// a zero subtree (it goes left when the right child is zero), so it never returns a
// zero-priority or never-written slot, even where rounding put u past a child's sum.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/array.h"
#include "sim/device.h"
#include "sim/hd.h"

namespace convoy {

// The trees as raw device pointers, for kernels.
struct SumTreeView {
  std::int64_t leaves;  // a power of two
  const double* sum;    // (2 x leaves) node 0 unused
  const double* min;    // (2 x leaves) node 0 unused

  CONVOY_HD double total() const { return sum[1]; }
  CONVOY_HD double min_value() const { return min[1]; }
  // The leaf holding prefix point u (the caller keeps u in [0, total()), total() > 0).
  CONVOY_HD std::int64_t find(double u) const {
    std::int64_t node = 1;
    while (node < leaves) {
      const std::int64_t left = 2 * node;
      if (u < sum[left] || sum[left + 1] == 0.0) {
        node = left;
      } else {
        u -= sum[left];
        node = left + 1;
      }
    }
    return node - leaves;
  }
  // find() of G points at once, level by level and branch-free: one descent is a chain of
  // dependent loads, so on a CPU G of them side by side overlap their cache misses. The same
  // comparisons and subtractions as find(), so the same leaves bit for bit.
  template <int G>
  CONVOY_HD void find_group(const double* u, std::int64_t* leaf) const {
    double v[G];
    std::int64_t node[G];
    for (int k = 0; k < G; ++k) {
      v[k] = u[k];
      node[k] = 1;
    }
    for (std::int64_t width = 1; width < leaves; width *= 2) {  // every descent is as deep
      for (int k = 0; k < G; ++k) {
        const std::int64_t left = 2 * node[k];
        const double s = sum[left];
        const bool right = !(v[k] < s) && sum[left + 1] != 0.0;
        v[k] = right ? v[k] - s : v[k];
        node[k] = left + (right ? 1 : 0);
      }
    }
    for (int k = 0; k < G; ++k) leaf[k] = node[k] - leaves;
  }
};

class SumTree {
 public:
  static constexpr std::int64_t kMaxLeaves = std::int64_t(1) << 31;

  // capacity in [1, kMaxLeaves]; leaves() is the next power of two. All leaves start at 0.
  SumTree(const Device& device, std::int64_t capacity);
  // What the constructor allocates for `capacity` (the sum and min trees); 0 for a capacity
  // it refuses. Owners check it against free memory before building the tree.
  static std::uint64_t bytes(std::int64_t capacity);

  // Sets leaf d_slots[r] to d_values[r] (>= 0, finite) for r < n, device pointers; where a
  // slot repeats, the last row wins. Slots must lie in [0, capacity); n in [0, 2^31).
  void update(const std::int64_t* d_slots, const double* d_values, std::int64_t n);
  // Sets the leaves [first, first + n) modulo capacity all to `value` (the ring's add).
  void fill(std::int64_t first, std::int64_t n, double value);
  // Leaves of u[0..n) (device pointers) into d_slots; the tree's total must be > 0.
  void find(const double* d_u, std::int64_t n, std::int64_t* d_slots) const;
  // Recomputes every internal node from the leaves.
  void rebuild();

  SumTreeView view() const { return SumTreeView{leaves_, sum_.data(), min_.data()}; }
  const Device& device() const { return device_; }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t leaves() const { return leaves_; }
  double total() const;                     // the root sum (copied to the host)
  double min_value() const;                 // the smallest non-zero leaf; +inf when none
  std::vector<double> leaf_values() const;  // (capacity) copied to the host
  // Replaces every leaf with values (capacity of them, host) and rebuilds.
  void set_leaves(const std::vector<double>& values);

 private:
  Device device_;
  std::int64_t capacity_, leaves_;
  DeviceArray<double> sum_, min_;
  DeviceArray<std::int32_t> keys_, rows_;  // update()'s sort scratch
  DeviceArray<std::int64_t> fill_slots_;
  DeviceArray<double> fill_values_;
};

}  // namespace convoy
