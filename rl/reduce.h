// Column reductions that stay on the device: out[c] = op over rows r of x[r * cols + c], for
// the learners' statistics (loss terms, advantage moments, gradient norms, the log-std
// gradient, the normalisers' batch moments) that must not round-trip to the host inside a
// training loop. sim/algorithms.h's reduce_sum hands its result to the host, which is why these
// exist.
//
// The CPU runs one index per column that walks its rows in order, so a sum accumulates in
// exactly the order of the serial loop it replaces (bit-identical CPU results). CUDA first
// reduces `chunks` row ranges per column in parallel, then each column's partials in order.
// Both run the same functors; only the number of chunks differs. Call from .cu files only
// (they launch through for_each_index).
#pragma once

#include <cstdint>

#include "sim/device.h"
#include "sim/hd.h"
#include "sim/parallel.h"

namespace convoy::rl::reduce {

struct Sum {
  template <class A>
  CONVOY_HD_INLINE static A init() {
    return A(0);
  }
  template <class A>
  CONVOY_HD_INLINE static A apply(A acc, A v) {
    return acc + v;
  }
};
struct Max {  // of non-negative values (|log ratio|): starts at 0
  template <class A>
  CONVOY_HD_INLINE static A init() {
    return A(0);
  }
  template <class A>
  CONVOY_HD_INLINE static A apply(A acc, A v) {
    return acc < v ? v : acc;  // std::max(acc, v)
  }
};
struct Identity {
  template <class A, class X>
  CONVOY_HD_INLINE static A map(X x) {
    return static_cast<A>(x);
  }
};
struct Square {
  template <class A, class X>
  CONVOY_HD_INLINE static A map(X x) {
    return static_cast<A>(x) * x;
  }
};

// Count, mean and sum of squared deviations from the mean of a run of values, for a column's
// variance without the cancellation of sum x^2 - (sum x)^2 / n. MergeMoments is Chan et
// al.'s combination of two runs (with a single value, Welford's update); ToMoments makes a
// value a run of one.
struct Moments {
  double n, mean, m2;
};
struct MergeMoments {
  template <class A>
  CONVOY_HD_INLINE static A init() {
    return A{0.0, 0.0, 0.0};
  }
  template <class A>
  CONVOY_HD_INLINE static A apply(A a, A b) {
    if (b.n == 0) return a;  // an empty row range
    if (a.n == 0) return b;
    const double n = a.n + b.n;
    const double delta = b.mean - a.mean;
    return A{n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * b.n / n)};
  }
};
struct ToMoments {
  template <class A, class X>
  CONVOY_HD_INLINE static A map(X x) {
    return A{1.0, static_cast<double>(x), 0.0};
  }
};

// Partial (column c, chunk k) over rows [k * len, min(rows, (k + 1) * len)), starting from
// start[i] when start is not null (the CPU's single chunk, accumulating into out).
template <class A, class X, class Op, class Map>
struct ChunkFn {
  const X* x;
  std::int64_t rows, len;
  int cols, chunks;
  const A* start;
  A* partial;  // (cols x chunks)
  CONVOY_HD void operator()(std::int64_t i) const {
    const int c = static_cast<int>(i / chunks);
    const std::int64_t k = i % chunks;
    const std::int64_t end = (k + 1) * len < rows ? (k + 1) * len : rows;
    A acc = start != nullptr ? start[i] : Op::template init<A>();
    for (std::int64_t r = k * len; r < end; ++r) {
      acc = Op::apply(acc, Map::template map<A>(x[r * cols + c]));
    }
    partial[i] = acc;
  }
};

// out[c] = (accumulate ? out[c] : init) op partial[c][0] op partial[c][1] ...
template <class A, class Op>
struct FinishFn {
  const A* partial;
  int chunks;
  bool accumulate;
  A* out;
  CONVOY_HD void operator()(std::int64_t c) const {
    A acc = accumulate ? out[c] : Op::template init<A>();
    for (int k = 0; k < chunks; ++k) acc = Op::apply(acc, partial[c * chunks + k]);
    out[c] = acc;
  }
};

// Row ranges per column on CUDA; the scratch a reduction of `cols` columns needs.
inline constexpr int kCudaChunks = 512;
inline std::int64_t scratch_size(const Device& device, int cols) {
  return device.is_cuda() ? static_cast<std::int64_t>(cols) * kCudaChunks : 0;
}

// The CUDA path of columns() on any device, with at most max_chunks row ranges per column
// (scratch: cols * max_chunks elements). The CPU runs it only in tests.
template <class A, class Op = Sum, class Map = Identity, class X>
void columns_chunked(const Device& device, const X* x, std::int64_t rows, int cols, A* out,
                     bool accumulate, A* scratch, int max_chunks) {
  const int chunks = static_cast<int>(rows < max_chunks ? (rows > 0 ? rows : 1) : max_chunks);
  const std::int64_t len = (rows + chunks - 1) / chunks;
  for_each_index(device, static_cast<std::int64_t>(cols) * chunks,
                 ChunkFn<A, X, Op, Map>{x, rows, len, cols, chunks, nullptr, scratch});
  for_each_index(device, cols, FinishFn<A, Op>{scratch, chunks, accumulate, out});
}

// out[c] (on the device) = op over the column, in A; with accumulate, starting from out[c].
// scratch: scratch_size(device, cols) elements (unused on the CPU).
template <class A, class Op = Sum, class Map = Identity, class X>
void columns(const Device& device, const X* x, std::int64_t rows, int cols, A* out,
             bool accumulate = false, A* scratch = nullptr) {
  if (!device.is_cuda()) {
    // one chunk per column, in the caller's thread: the serial loop's order, no OpenMP fork
    const ChunkFn<A, X, Op, Map> f{x, rows, rows, cols, 1, accumulate ? out : nullptr, out};
    for (int c = 0; c < cols; ++c) f(c);
    return;
  }
  columns_chunked<A, Op, Map>(device, x, rows, cols, out, accumulate, scratch, kCudaChunks);
}

}  // namespace convoy::rl::reduce
