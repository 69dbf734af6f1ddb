#include "rl/mlp.h"

#include <Eigen/Dense>
#include <algorithm>

#include "rl/mlp_device.h"
#include "sim/error.h"
#include "sim/rng.h"

namespace convoy::rl {

namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatMap = Eigen::Map<RowMat<T>>;
template <class T>
using ConstMatMap = Eigen::Map<const RowMat<T>>;
template <class T>
using RowVecMap = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;
template <class T>
using ConstRowVecMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;

// y <- f(y) in place.
template <class T>
void apply_activation(Activation a, MatMap<T> y) {
  auto v = y.array();
  switch (a) {
    case Activation::kNone:
      break;
    case Activation::kTanh:
      v = v.tanh();
      break;
    case Activation::kRelu:
      v = v.max(T(0));
      break;
    case Activation::kElu:
      v = (v > T(0)).select(v, v.exp() - T(1));
      break;
  }
}

// delta <- delta * f'(z), with f'(z) written in terms of the output y = f(z) (all four
// activations allow it, so forward keeps only outputs).
template <class T>
void scale_by_derivative(Activation a, ConstMatMap<T> y, MatMap<T> delta) {
  auto d = delta.array();
  const auto v = y.array();
  switch (a) {
    case Activation::kNone:
      break;
    case Activation::kTanh:
      d *= T(1) - v.square();
      break;
    case Activation::kRelu:
      d = (v > T(0)).select(d, T(0));
      break;
    case Activation::kElu:  // z < 0: f'(z) = e^z = y + 1
      d = (v > T(0)).select(d, d * (v + T(1)));
      break;
  }
}

// An (rows x cols) matrix with orthonormal rows (rows <= cols) or columns (rows >= cols), as
// torch.nn.init.orthogonal_ builds it: QR of a Gaussian matrix, Q's columns multiplied by
// the signs of diag(R) so that the result is uniform over the orthogonal group.
Eigen::MatrixXd orthogonal_matrix(int rows, int cols, PhiloxStream& rng) {
  Eigen::MatrixXd g(rows, cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) g(r, c) = static_cast<double>(rng.normal());
  }
  const bool wide = rows < cols;
  if (wide) g.transposeInPlace();
  const Eigen::Index m = g.rows(), n = g.cols();  // m >= n
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(m, n);
  const Eigen::MatrixXd& r = qr.matrixQR();  // R is its upper triangle
  for (Eigen::Index j = 0; j < n; ++j) {
    if (r(j, j) < 0) q.col(j) *= -1.0;
  }
  if (wide) q.transposeInPlace();
  return q;
}

}  // namespace

Activation parse_activation(const std::string& name) {
  if (name == "none") return Activation::kNone;
  if (name == "tanh") return Activation::kTanh;
  if (name == "relu") return Activation::kRelu;
  if (name == "elu") return Activation::kElu;
  throw Error("activation '" + name + "' is unknown; allowed: none, tanh, relu, elu");
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::kNone:
      return "none";
    case Activation::kTanh:
      return "tanh";
    case Activation::kRelu:
      return "relu";
    case Activation::kElu:
      return "elu";
  }
  return "?";
}

void MlpSpec::validate() const {
  if (input_dim <= 0) {
    throw Error("MlpSpec input_dim " + std::to_string(input_dim) + " is invalid; allowed: >= 1");
  }
  if (output_dim <= 0) {
    throw Error("MlpSpec output_dim " + std::to_string(output_dim) + " is invalid; allowed: >= 1");
  }
  for (std::size_t i = 0; i < hidden.size(); ++i) {
    if (hidden[i] <= 0) {
      throw Error("MlpSpec hidden[" + std::to_string(i) + "] " + std::to_string(hidden[i]) +
                  " is invalid; allowed: >= 1");
    }
  }
}

template <class T>
Mlp<T>::Mlp(const MlpSpec& spec, const Device& device) : spec_(spec), device_(device) {
  spec_.validate();
  std::vector<int> widths{spec_.input_dim};
  widths.insert(widths.end(), spec_.hidden.begin(), spec_.hidden.end());
  widths.push_back(spec_.output_dim);
  std::int64_t offset = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    LinearLayout layer;
    layer.in = widths[l];
    layer.out = widths[l + 1];
    layer.weight_offset = offset;
    offset += static_cast<std::int64_t>(layer.in) * layer.out;
    layer.bias_offset = offset;
    offset += layer.out;
    layers_.push_back(layer);
    activations_.push_back(l + 2 == widths.size() ? spec_.output_activation : spec_.activation);
  }
  num_params_ = offset;
  max_width_ = *std::max_element(widths.begin(), widths.end());
}

template <class T>
MlpWorkspace<T> Mlp<T>::make_workspace(std::int64_t max_batch) const {
  if (max_batch <= 0) {
    throw Error("MLP workspace batch " + std::to_string(max_batch) + " is invalid; allowed: >= 1");
  }
  MlpWorkspace<T> ws;
  std::int64_t offset = 0;
  ws.act_offset_.push_back(0);
  offset += max_batch * layers_.front().in;
  for (const LinearLayout& layer : layers_) {
    ws.act_offset_.push_back(offset);
    offset += max_batch * layer.out;
  }
  for (auto& d : ws.delta_offset_) {
    d = offset;
    offset += max_batch * max_width_;
  }
  ws.sum_offset_ = offset;
  offset += mlp_device::column_sums_scratch_size(device_, max_width_);
  ws.buffer_ = DeviceArray<T>(device_, offset);
  ws.capacity_ = max_batch;
  return ws;
}

template <class T>
void Mlp<T>::init_orthogonal(T* params, std::uint64_t seed, double output_gain,
                             double hidden_gain) const {
  // built on the host in T, then copied to the device as one block per layer
  std::vector<T> host;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const LinearLayout& layer = layers_[l];
    PhiloxStream rng(seed, l, 0, 0, RngPurpose::kInit);
    const double gain = l + 1 == layers_.size() ? output_gain : hidden_gain;
    const Eigen::MatrixXd q = orthogonal_matrix(layer.out, layer.in, rng);
    const std::int64_t n = static_cast<std::int64_t>(layer.in) * layer.out + layer.out;
    host.assign(static_cast<std::size_t>(n), T(0));  // biases 0
    MatMap<T> w(host.data(), layer.out, layer.in);
    w = (gain * q).template cast<T>();
    copy_bytes(params + layer.weight_offset, device_, host.data(), Device::cpu(),
               sizeof(T) * static_cast<std::size_t>(n));
  }
}

template <class T>
const T* Mlp<T>::forward(const T* params, const T* x, std::int64_t batch,
                         MlpWorkspace<T>& ws) const {
  if (batch <= 0 || batch > ws.capacity_ || ws.device() != device_) {
    throw Error("MLP forward of " + std::to_string(batch) + " rows on " + device_.str() +
                " with a workspace for " + std::to_string(ws.capacity_) + " rows on " +
                ws.device().str() + "; allowed: 1.." + std::to_string(ws.capacity_) +
                " rows on the same device");
  }
  ws.batch_ = batch;
  T* base = ws.buffer_.data();
  // keep a copy of x: the first layer's weight gradient needs it
  copy_bytes(base + ws.act_offset_[0], device_, x, device_,
             sizeof(T) * static_cast<std::size_t>(batch * layers_.front().in));
  if (device_.is_cuda()) {
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const LinearLayout& layer = layers_[l];
      T* out = base + ws.act_offset_[l + 1];
      mlp_device::gemm_row_major<T>(device_, false, true, batch, layer.out, layer.in, T(1),
                                    base + ws.act_offset_[l], params + layer.weight_offset, T(0),
                                    out);
      mlp_device::bias_activation<T>(device_, activations_[l], params + layer.bias_offset, batch,
                                     layer.out, out);
    }
    return base + ws.act_offset_.back();
  }
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const LinearLayout& layer = layers_[l];
    ConstMatMap<T> in(base + ws.act_offset_[l], batch, layer.in);
    MatMap<T> out(base + ws.act_offset_[l + 1], batch, layer.out);
    ConstMatMap<T> w(params + layer.weight_offset, layer.out, layer.in);
    ConstRowVecMap<T> b(params + layer.bias_offset, layer.out);
    out.noalias() = in * w.transpose();
    out.rowwise() += b;
    apply_activation<T>(activations_[l], out);
  }
  return base + ws.act_offset_.back();
}

template <class T>
void Mlp<T>::backward(const T* params, const T* dy, MlpWorkspace<T>& ws, T* dparams, T* dx) const {
  const std::int64_t batch = ws.batch_;
  if (batch <= 0) throw Error("MLP backward before any forward on this workspace");
  T* base = ws.buffer_.data();
  int cur = 0;  // which delta scratch holds dL/d(layer output)
  copy_bytes(base + ws.delta_offset_[cur], device_, dy, device_,
             sizeof(T) * static_cast<std::size_t>(batch * layers_.back().out));
  if (device_.is_cuda()) {
    for (std::size_t l = layers_.size(); l-- > 0;) {
      const LinearLayout& layer = layers_[l];
      const T* in = base + ws.act_offset_[l];
      T* delta = base + ws.delta_offset_[cur];
      mlp_device::scale_by_derivative<T>(device_, activations_[l], base + ws.act_offset_[l + 1],
                                         batch, layer.out, delta);
      // dW (out x in) += delta^T (out x batch) * in (batch x in)
      mlp_device::gemm_row_major<T>(device_, true, false, layer.out, layer.in, batch, T(1), delta,
                                    in, T(1), dparams + layer.weight_offset);
      mlp_device::add_column_sums<T>(device_, delta, batch, layer.out, dparams + layer.bias_offset,
                                     base + ws.sum_offset_);
      if (l == 0 && dx == nullptr) break;
      // dprev (batch x in) = delta (batch x out) * W (out x in)
      T* prev = l == 0 ? dx : base + ws.delta_offset_[1 - cur];
      mlp_device::gemm_row_major<T>(device_, false, false, batch, layer.in, layer.out, T(1), delta,
                                    params + layer.weight_offset, T(0), prev);
      cur = 1 - cur;
    }
    return;
  }
  for (std::size_t l = layers_.size(); l-- > 0;) {
    const LinearLayout& layer = layers_[l];
    ConstMatMap<T> in(base + ws.act_offset_[l], batch, layer.in);
    ConstMatMap<T> out(base + ws.act_offset_[l + 1], batch, layer.out);
    MatMap<T> delta(base + ws.delta_offset_[cur], batch, layer.out);
    // through the activation: delta becomes dL/d(pre-activation)
    scale_by_derivative<T>(activations_[l], out, delta);
    MatMap<T> dw(dparams + layer.weight_offset, layer.out, layer.in);
    RowVecMap<T> db(dparams + layer.bias_offset, layer.out);
    dw.noalias() += delta.transpose() * in;
    db += delta.colwise().sum();
    // through the linear map, into the other scratch (or dx for the first layer)
    if (l == 0 && dx == nullptr) break;
    ConstMatMap<T> w(params + layer.weight_offset, layer.out, layer.in);
    T* prev = l == 0 ? dx : base + ws.delta_offset_[1 - cur];
    MatMap<T> dprev(prev, batch, layer.in);
    dprev.noalias() = delta * w;
    cur = 1 - cur;
  }
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace convoy::rl
