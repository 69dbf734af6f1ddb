#include <mutex>
#include <string>
#include <vector>

#include "rl/math.h"
#include "rl/mlp_device.h"
#include "rl/reduce.h"
#include "sim/error.h"
#include "sim/parallel.h"

#if CONVOY_HAVE_CUDA && defined(__CUDACC__)
#include <cublas_v2.h>
#endif

namespace convoy::rl::mlp_device {

namespace {

template <class T>
CONVOY_HD_INLINE T activate_value(Activation f, T v) {
  switch (f) {
    case Activation::kNone:
      return v;
    case Activation::kTanh:
      return math::tanh(v);
    case Activation::kRelu:
      return v > T(0) ? v : T(0);
    case Activation::kElu:
      return v > T(0) ? v : math::exp(v) - T(1);
  }
  return v;
}

template <class T>
struct BiasActivationFn {
  Activation f;
  const T* bias;
  int cols;
  T* y;
  CONVOY_HD void operator()(std::int64_t i) const {
    y[i] = activate_value(f, y[i] + bias[i % cols]);
  }
};

template <class T>
struct ScaleByDerivativeFn {
  Activation f;
  const T* y;
  T* delta;
  CONVOY_HD void operator()(std::int64_t i) const {
    const T v = y[i];
    switch (f) {
      case Activation::kNone:
        break;
      case Activation::kTanh:
        delta[i] *= T(1) - v * v;
        break;
      case Activation::kRelu:
        delta[i] = v > T(0) ? delta[i] : T(0);
        break;
      case Activation::kElu:  // z < 0: f'(z) = e^z = y + 1
        delta[i] = v > T(0) ? delta[i] : delta[i] * (v + T(1));
        break;
    }
  }
};

#if CONVOY_HAVE_CUDA && defined(__CUDACC__)
[[noreturn]] void cublas_fail(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(std::string("cuBLAS call ") + call + " failed at " + file + ":" +
              std::to_string(line) + ": " + cublasGetStatusString(status) + " (" +
              std::to_string(static_cast<int>(status)) + ")");
}

#define CONVOY_CUBLAS_CHECK(call)                                    \
  do {                                                               \
    const cublasStatus_t convoy_cublas_status_ = (call);             \
    if (convoy_cublas_status_ != CUBLAS_STATUS_SUCCESS) {            \
      cublas_fail(convoy_cublas_status_, #call, __FILE__, __LINE__); \
    }                                                                \
  } while (0)

// One handle per GPU, created on first use; handles live until the process ends (a static
// destructor running after the CUDA context is gone would fail).
cublasHandle_t handle_for(const Device& device) {
  static std::mutex mutex;
  static std::vector<cublasHandle_t> handles;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto k = static_cast<std::size_t>(device.index());
  if (handles.size() <= k) handles.resize(k + 1, nullptr);
  if (handles[k] == nullptr) {
    activate(device);
    CONVOY_CUBLAS_CHECK(cublasCreate(&handles[k]));
  }
  return handles[k];
}

void gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
               const float* alpha, const float* a, int lda, const float* b, int ldb,
               const float* beta, float* c, int ldc) {
  CONVOY_CUBLAS_CHECK(cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
}
void gemm_call(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
               const double* alpha, const double* a, int lda, const double* b, int ldb,
               const double* beta, double* c, int ldc) {
  CONVOY_CUBLAS_CHECK(cublasDgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
}
#endif

int sum_chunks(const Device& device) { return device.is_cuda() ? reduce::kCudaChunks : 1; }

int checked_int(std::int64_t v, const char* what) {
  if (v < 0 || v > 0x7fffffff) {
    throw Error(std::string("Mlp GEMM ") + what + " " + std::to_string(v) +
                " is out of cuBLAS's int range");
  }
  return static_cast<int>(v);
}

}  // namespace

template <class T>
void gemm_row_major(const Device& device, bool trans_a, bool trans_b, std::int64_t m,
                    std::int64_t n, std::int64_t k, T alpha, const T* a, const T* b, T beta, T* c) {
  const int mi = checked_int(m, "rows"), ni = checked_int(n, "cols"), ki = checked_int(k, "depth");
  if (!device.is_cuda()) {
    throw Error("Mlp GEMM through cuBLAS on " + device.str() + "; the CPU path uses Eigen");
  }
#if CONVOY_HAVE_CUDA && defined(__CUDACC__)
  // Row-major C is column-major C^T = op(B)^T op(A)^T: swap the operands, keep the flags.
  cublasHandle_t h = handle_for(device);
  activate(device);
  const int lda = trans_a ? mi : ki, ldb = trans_b ? ki : ni;
  gemm_call(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, ni, mi, ki,
            &alpha, b, ldb, a, lda, &beta, c, ni);
#else
  (void)trans_a, (void)trans_b, (void)mi, (void)ni, (void)ki, (void)alpha, (void)a, (void)b,
      (void)beta, (void)c;
  throw Error("Mlp GEMM on " + device.str() + ": this file was not compiled with CUDA");
#endif
}

template <class T>
void bias_activation(const Device& device, Activation f, const T* bias, std::int64_t rows, int cols,
                     T* y) {
  for_each_index(device, rows * cols, BiasActivationFn<T>{f, bias, cols, y});
}

template <class T>
void scale_by_derivative(const Device& device, Activation f, const T* y, std::int64_t rows,
                         int cols, T* delta) {
  if (f == Activation::kNone) return;
  for_each_index(device, rows * cols, ScaleByDerivativeFn<T>{f, y, delta});
}

// The CPU's single row range per column adds the column's sum to db (db + (d_0 + d_1 + ...),
// the order of the loop this replaced); CUDA adds its partials to db one by one.
template <class T>
void add_column_sums(const Device& device, const T* delta, std::int64_t rows, int cols, T* db,
                     T* scratch) {
  reduce::columns_chunked<T>(device, delta, rows, cols, db, true, scratch, sum_chunks(device));
}

std::int64_t column_sums_scratch_size(const Device& device, int cols) {
  return static_cast<std::int64_t>(cols) * sum_chunks(device);
}

#define CONVOY_MLP_DEVICE_INSTANTIATE(T)                                                        \
  template void gemm_row_major<T>(const Device&, bool, bool, std::int64_t, std::int64_t,        \
                                  std::int64_t, T, const T*, const T*, T, T*);                  \
  template void bias_activation<T>(const Device&, Activation, const T*, std::int64_t, int, T*); \
  template void scale_by_derivative<T>(const Device&, Activation, const T*, std::int64_t, int,  \
                                       T*);                                                     \
  template void add_column_sums<T>(const Device&, const T*, std::int64_t, int, T*, T*);
CONVOY_MLP_DEVICE_INSTANTIATE(float)
CONVOY_MLP_DEVICE_INSTANTIATE(double)
#undef CONVOY_MLP_DEVICE_INSTANTIATE

}  // namespace convoy::rl::mlp_device
