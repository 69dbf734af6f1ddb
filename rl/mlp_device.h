// The parts of rl::Mlp that run on a Device through for_each_index and cuBLAS, compiled
// once in rl/mlp_device.cu (nvcc when CUDA is on, g++ otherwise). Pointers are on `device`.
//
// The elementwise parts (bias add + activation, derivative scaling, bias gradient) are
// CONVOY_HD functors, so the same code runs on both backends; the CPU Mlp still runs them
// through Eigen because Eigen's vectorised tanh/exp round differently from tanhf/expf and
// the CPU bits must not change. The GEMMs are cuBLAS on CUDA (one handle per GPU, created on
// first use under a mutex); gemm_row_major on the CPU is a convoy::Error (the CPU Mlp uses
// Eigen).
#pragma once

#include <cstdint>

#include "rl/mlp.h"
#include "sim/device.h"

namespace convoy::rl::mlp_device {

// C (M x N) = alpha * op(A) * op(B) + beta * C, all row-major and densely packed: A is
// (M x K), or (K x M) when trans_a; B is (K x N), or (N x K) when trans_b. CUDA only.
template <class T>
void gemm_row_major(const Device& device, bool trans_a, bool trans_b, std::int64_t m,
                    std::int64_t n, std::int64_t k, T alpha, const T* a, const T* b, T beta, T* c);

// y[r, j] = f(y[r, j] + bias[j]) for `rows` rows of `cols`.
template <class T>
void bias_activation(const Device& device, Activation f, const T* bias, std::int64_t rows, int cols,
                     T* y);

// delta <- delta * f'(z), with f' written in terms of the output y = f(z).
template <class T>
void scale_by_derivative(const Device& device, Activation f, const T* y, std::int64_t rows,
                         int cols, T* delta);

// db[j] += sum over rows of delta[r, j]: rl/reduce.h's column reduction, which on the CPU sums
// each column in row order and on CUDA sums row ranges in parallel, then their partials.
// scratch: column_sums_scratch_size(device, cols) elements.
template <class T>
void add_column_sums(const Device& device, const T* delta, std::int64_t rows, int cols, T* db,
                     T* scratch);
std::int64_t column_sums_scratch_size(const Device& device, int cols);

}  // namespace convoy::rl::mlp_device
