// Mlp<T>: a multilayer perceptron whose parameters are a view into a caller-owned flat
// buffer. Every linear layer is W (out x in, row-major) followed by b (out), at fixed offsets
// from the start of the network's segment, so parameters, gradients and Adam moments each
// stay one contiguous DeviceArray (one all-reduce, one optimiser step, one checkpoint write).
//
// Activations are batch-first, row-major: x is (batch x input_dim), y is (batch x
// output_dim). forward() keeps what backward() needs in a caller-owned MlpWorkspace;
// backward() accumulates into the flat gradient (+=), so several losses or minibatches can
// add into one buffer before the optimiser step.
//
// T is float for training and double for gradient checks. Every pointer (params, x, dy,
// dparams, dx) lives on the network's device. The CPU path runs through Eigen (GEMMs and
// elementwise parts, as it always has: its bits are what the CPU tests and runs pin); the
// CUDA path runs the GEMMs through cuBLAS and the bias add, activations, derivative scaling
// and bias gradient as the for_each_index functors of rl/mlp_device.cu, all on the default
// stream, so nothing in forward/backward waits for the GPU or copies to the host.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/array.h"
#include "sim/device.h"

namespace convoy::rl {

enum class Activation { kNone, kTanh, kRelu, kElu };

// "none", "tanh", "relu", "elu"; anything else is a convoy::Error naming the allowed values.
Activation parse_activation(const std::string& name);
std::string activation_name(Activation a);

struct MlpSpec {
  int input_dim = 0;
  std::vector<int> hidden;  // widths of the hidden layers, input side first
  int output_dim = 0;
  Activation activation = Activation::kTanh;         // after every hidden layer
  Activation output_activation = Activation::kNone;  // after the last layer

  // Throws convoy::Error naming the bad field when a width is not positive.
  void validate() const;
};

// Where one linear layer's parameters sit, relative to the start of the network's segment.
struct LinearLayout {
  int in = 0;
  int out = 0;
  std::int64_t weight_offset = 0;  // W: (out x in), row-major
  std::int64_t bias_offset = 0;    // b: (out)
};

// The activations one forward pass keeps for backward: the input copy, every layer's
// output, two gradient scratch rows and the bias gradient's column-sum scratch. Sized for at
// most `capacity` rows.
template <class T>
class MlpWorkspace {
 public:
  MlpWorkspace() = default;
  std::int64_t capacity() const { return capacity_; }
  std::int64_t batch() const { return batch_; }
  const Device& device() const { return buffer_.device(); }

 private:
  template <class>
  friend class Mlp;
  DeviceArray<T> buffer_;
  std::vector<std::int64_t> act_offset_;  // layer l's input starts at buffer_ + act_offset_[l]
  std::int64_t delta_offset_[2] = {0, 0};
  std::int64_t sum_offset_ = 0;  // mlp_device::add_column_sums' scratch
  std::int64_t capacity_ = 0;
  std::int64_t batch_ = 0;  // rows of the last forward pass
};

template <class T>
class Mlp {
 public:
  Mlp(const MlpSpec& spec, const Device& device);

  const MlpSpec& spec() const { return spec_; }
  const Device& device() const { return device_; }
  const std::vector<LinearLayout>& layers() const { return layers_; }
  std::int64_t num_params() const { return num_params_; }

  MlpWorkspace<T> make_workspace(std::int64_t max_batch) const;

  // Orthogonal weights (torch.nn.init.orthogonal_: QR of a Gaussian matrix, columns
  // sign-corrected by diag(R)) scaled by hidden_gain for hidden layers and output_gain for
  // the last one; biases 0. The Gaussian draws come from Philox keyed by (seed, layer), so
  // the same seed gives bit-identical parameters on every device (built on the host in double,
  // cast to T, copied to `params` on the device). CleanRL: output_gain 0.01 for a policy
  // head, 1.0 for a value head.
  void init_orthogonal(T* params, std::uint64_t seed, double output_gain,
                       double hidden_gain = std::sqrt(2.0)) const;

  // y = f(... f(x W0^T + b0) ...) for `batch` rows of x (batch x input_dim). Returns the
  // output rows (batch x output_dim), which live in `ws` until its next forward.
  const T* forward(const T* params, const T* x, std::int64_t batch, MlpWorkspace<T>& ws) const;

  // Given dy = dL/dy (batch x output_dim) for the last forward on `ws`, adds dL/dparams into
  // dparams (same layout as params) and, when dx is not null, writes dL/dx (batch x
  // input_dim) there.
  void backward(const T* params, const T* dy, MlpWorkspace<T>& ws, T* dparams,
                T* dx = nullptr) const;

 private:
  MlpSpec spec_;
  Device device_;
  std::vector<LinearLayout> layers_;
  std::vector<Activation> activations_;  // after each layer
  std::int64_t num_params_ = 0;
  int max_width_ = 0;
};

extern template class Mlp<float>;
extern template class Mlp<double>;

}  // namespace convoy::rl
