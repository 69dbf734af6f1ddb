// convoy._core: the pybind11 module under the `convoy` Python package. It exposes the
// registry and the VecEnv engine with zero-copy views of its buffers (valid until the next
// step): numpy arrays on the CPU, DeviceBuffer objects that speak DLPack (__dlpack__,
// __dlpack_device__) and __cuda_array_interface__ on CUDA. A view keeps the buffers it shows
// alive, past close() and the env object itself. The Gymnasium VectorEnv on top is pure Python
// (bindings/convoy/vector.py). The GIL is released while the engine works; calls on one env
// from several threads take turns (Engine::mutex), different envs run at the same time. Every
// call that runs the engine returns with the device synchronised: on CUDA the views are
// complete on any stream, and actions read in place may be released.
#include <dlpack/dlpack.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "envs/registry.h"
#include "replay/prioritized.h"
#include "rl/checkpoint.h"
#include "sim/autoreset.h"
#include "sim/error.h"
#include "train/learner.h"
#include "train/policy.h"
#include "train/run.h"

namespace py = pybind11;

namespace convoy::python {
namespace {

// kDLBool (DLPack 0.8); the dlpack.h found at build time may be 0.6, which lacks the name.
constexpr std::uint8_t kDLBoolCode = 6;

// numpy's array-interface typestr of a DLPack dtype ("<f4", "|b1"...), as
// __cuda_array_interface__ and DeviceBuffer.typestr give it.
std::string typestr(DLDataType dtype) {
  const char kind = dtype.code == kDLFloat      ? 'f'
                    : dtype.code == kDLInt      ? 'i'
                    : dtype.code == kDLBoolCode ? 'b'
                                                : 'u';
  const int bytes = dtype.bits / 8;
  return std::string(bytes == 1 ? "|" : "<") + kind + std::to_string(bytes);
}

// A zero-copy view of one engine buffer for DLPack consumers (torch.from_dlpack, cupy,
// numpy.from_dlpack) and, on CUDA, __cuda_array_interface__ consumers. `owner` keeps the
// buffer's memory alive as long as the view or any consumer's tensor lives; the contents are
// those of the last step (valid until the next one). Streams: every call that writes these
// buffers returns with the device synchronised (PyVecEnv::run), so no work on them is pending
// when a consumer gets them, on any stream.
struct DeviceBuffer {
  std::shared_ptr<const void> owner;
  void* data = nullptr;
  std::vector<std::int64_t> shape;
  DLDataType dtype{};
  Device device = Device::cpu();

  py::tuple dlpack_device() const {
    return py::make_tuple(static_cast<int>(device.is_cuda() ? kDLCUDA : kDLCPU),
                          device.is_cuda() ? device.index() : 0);
  }

  py::dict cuda_array_interface() const {
    if (!device.is_cuda()) {
      throw py::attribute_error("__cuda_array_interface__: this buffer is in CPU memory");
    }
    py::dict d;
    py::list dims;
    for (auto v : shape) dims.append(v);
    d["shape"] = py::tuple(dims);
    d["typestr"] = typestr(dtype);
    d["data"] = py::make_tuple(reinterpret_cast<std::uintptr_t>(data), false);
    d["version"] = 3;
    d["strides"] = py::none();  // C-contiguous
    // CAI v3: None means the consumer needs no synchronisation, true only because the call
    // that last wrote the buffer synchronised the device before it returned
    d["stream"] = py::none();
    return d;
  }

  // __dlpack__'s stream (the array API's rules): the consumer's stream on CUDA (None: the
  // legacy default stream; 1 legacy default, 2 per-thread default, > 2 a stream handle; -1:
  // the producer must not synchronise; 0 is ambiguous and refused); on the CPU only None or -1.
  // The producer must make the consumer's stream wait for its pending work on the buffer:
  // there is none (the device was synchronised when the last write returned), so any valid
  // stream needs nothing more.
  void check_stream(const py::object& stream) const {
    if (stream.is_none()) return;
    if (!py::isinstance<py::int_>(stream)) {
      throw py::buffer_error("__dlpack__: stream must be an int or None");
    }
    const auto s = stream.cast<std::int64_t>();
    if (device.is_cpu() && s != -1) {
      throw py::buffer_error("__dlpack__: stream must be None (or -1) for a CPU buffer");
    }
    if (s == 0 || s < -1) {
      throw py::buffer_error("__dlpack__: stream=" + std::to_string(s) +
                             " is invalid for CUDA; allowed: None, -1 (no synchronisation), 1 "
                             "(legacy default), 2 (per-thread default) or a stream handle");
    }
  }

  // The legacy "dltensor" capsule (DLPack 0.6; consumers that ask for a versioned one accept
  // it).
  py::capsule dlpack(py::object stream, py::object /*max_version*/, py::object dl_device,
                     py::object copy) const {
    if (!copy.is_none() && copy.cast<bool>()) {
      throw py::buffer_error("__dlpack__(copy=True): Convoy's buffers are exported without a copy");
    }
    if (!dl_device.is_none() && !dl_device.equal(dlpack_device())) {
      throw py::buffer_error("__dlpack__: dl_device " + std::string(py::str(dl_device)) +
                             " differs from the buffer's " + std::string(py::str(dlpack_device())));
    }
    check_stream(stream);
    struct Holder {
      DLManagedTensor tensor;
      std::vector<std::int64_t> shape;
      std::shared_ptr<const void> owner;  // no Python object: consumers free from any thread
    };
    auto* h = new Holder{};
    h->shape = shape;
    h->owner = owner;
    h->tensor.dl_tensor.data = data;
    h->tensor.dl_tensor.device = {device.is_cuda() ? kDLCUDA : kDLCPU,
                                  device.is_cuda() ? device.index() : 0};
    h->tensor.dl_tensor.ndim = static_cast<int>(shape.size());
    h->tensor.dl_tensor.dtype = dtype;
    h->tensor.dl_tensor.shape = h->shape.data();
    h->tensor.dl_tensor.strides = nullptr;  // compact, row-major
    h->tensor.dl_tensor.byte_offset = 0;
    h->tensor.manager_ctx = h;
    h->tensor.deleter = [](DLManagedTensor* t) { delete static_cast<Holder*>(t->manager_ctx); };
    // a capsule nobody consumed (still named "dltensor") frees its tensor itself
    return py::capsule(&h->tensor, "dltensor", [](PyObject* cap) {
      if (PyCapsule_IsValid(cap, "dltensor")) {
        auto* t = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
        if (t && t->deleter) t->deleter(t);
      }
    });
  }
};

template <class T>
DLDataType dl_dtype() {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return {kDLFloat, static_cast<std::uint8_t>(8 * sizeof(T)), 1};
  } else if constexpr (std::is_signed_v<T>) {
    return {kDLInt, static_cast<std::uint8_t>(8 * sizeof(T)), 1};
  } else {
    return {kDLUInt, static_cast<std::uint8_t>(8 * sizeof(T)), 1};
  }
}

// How a buffer is shown, on every device alike: its own element type, or bool for the engine's
// 0/1 byte flags (terminated, truncated, done), as Gymnasium's terminations and truncations are.
enum class Shown { kAsIs, kBool };

template <class T>
DLDataType shown_dtype(Shown shown) {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    if (shown == Shown::kBool) return {kDLBoolCode, 8, 1};
  }
  return dl_dtype<T>();
}

// numpy's dtype for the same choice
template <class T>
py::dtype shown_numpy_dtype(Shown shown) {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    if (shown == Shown::kBool) return py::dtype::of<bool>();
  }
  return py::dtype::of<T>();
}

template <class T>
DeviceBuffer device_buffer(std::shared_ptr<const void> owner, const DeviceArray<T>& a,
                           std::vector<std::int64_t> shape, Shown shown = Shown::kAsIs) {
  DeviceBuffer b;
  b.owner = std::move(owner);
  b.data = const_cast<T*>(a.data());
  b.shape = std::move(shape);
  b.dtype = shown_dtype<T>(shown);
  b.device = a.device();
  return b;
}

// One env and the binding's buffers around it, owned together by the PyVecEnv and by every view
// of them: close() drops the PyVecEnv's reference and the memory goes with the last view.
// `mutex` serialises everything that runs the engine or touches these buffers (PyVecEnv::run).
struct Engine {
  std::unique_ptr<VecEnv> env;
  DeviceArray<std::int32_t> int_actions;  // (num_envs x act_dim) CUDA copy of host actions
  DeviceArray<float> float_actions;       // (num_envs x act_dim) same, Box
  DeviceArray<std::uint8_t> skip;         // (num_envs) NEXT_STEP's skip mask = last done mask
  DeviceArray<float> obs_out;             // (num_envs x obs_dim) NEXT_STEP's composed obs
  DeviceArray<double> step_return;        // (num_envs) return of the episode that ended, else 0
  DeviceArray<std::int32_t> step_length;  // (num_envs) its length, else 0
  bool pending = false;  // NEXT_STEP: some envs show their fresh episode on the next step
  std::mutex mutex;

  // step_auto's outputs, made on first use (obs_out only for NEXT_STEP)
  void ensure_outputs(bool next_step) {
    if (step_return.size() == 0) {
      step_return = DeviceArray<double>(env->device(), env->num_envs());
      step_length = DeviceArray<std::int32_t>(env->device(), env->num_envs());
    }
    if (next_step && obs_out.size() == 0) {
      obs_out = DeviceArray<float>(env->device(), env->num_envs() * env->obs_dim());
    }
  }
};

// This step's actions as the engine reads them, prepared with the GIL held: `data` is on the
// env's device, or (stage) host memory that is copied to the device under the env's lock.
// `keep` is what `data` lives in; it is released after the step has completed.
struct Actions {
  const void* data = nullptr;
  bool stage = false;
  py::object keep;
};

class PyVecEnv {
 public:
  PyVecEnv(const std::string& env_id, std::int64_t num_envs, const std::string& device,
           const std::map<std::string, std::string>& config) {
    Config c;
    for (const auto& [k, v] : config) c.set(k, v);
    auto eng = std::make_shared<Engine>();
    eng->env = env_registry().make(env_id, Device::parse(device), num_envs, c);
    const VecEnv& e = *eng->env;
    const std::int64_t n_act = e.num_envs() * e.act_dim();
    if (e.discrete_actions()) {
      eng->int_actions = DeviceArray<std::int32_t>(e.device(), n_act);
    } else {
      eng->float_actions = DeviceArray<float>(e.device(), n_act);
    }
    eng->skip = DeviceArray<std::uint8_t>(e.device(), e.num_envs());
    synchronize(e.device());  // the zeroed buffers are complete before anyone views them
    engine_ = std::move(eng);
  }

  // The engine, for its constant facts (spec, sizes, device) and views; throws once closed.
  const std::shared_ptr<Engine>& engine() const {
    if (!engine_) throw Error("this env is closed; make a new one");
    return engine_;
  }
  const VecEnv& env() const { return *engine()->env; }
  // Drops this object's share of the engine: calls in flight finish, views stay readable, and
  // the memory goes when the last of them does.
  void close() { engine_.reset(); }
  bool closed() const { return !engine_; }

  // Runs f(Engine&) with the GIL released and the env's lock held, and returns once the device
  // has finished the work f queued (also when f throws): CUDA views are then complete on any
  // stream (DeviceBuffer) and actions read in place can be released. The lock is taken after
  // the GIL is released, so a thread waiting for it never holds up one that needs the GIL;
  // each env has its own, so different envs still run at the same time. With `waits`, f ends
  // with the device synchronised itself (a step's one host wait), so run adds none.
  template <class F>
  auto run(F&& f, bool waits = false) {
    std::shared_ptr<Engine> eng = engine();  // alive even if another thread closes meanwhile
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(eng->mutex);
    const Device device = eng->env->device();
    try {
      if constexpr (std::is_void_v<decltype(f(*eng))>) {
        f(*eng);
        if (!waits) synchronize(device);
      } else {
        auto result = f(*eng);
        if (!waits) synchronize(device);
        return result;
      }
    } catch (...) {
      try {
        synchronize(device);
      } catch (...) {  // the first error is the one to report
      }
      throw;
    }
  }

  void reset(std::uint64_t seed) {
    run([seed](Engine& g) {
      g.env->reset(seed);
      g.pending = false;
    });
  }
  void reset_seeds(const std::vector<std::uint64_t>& seeds) {
    run([&seeds](Engine& g) {
      g.env->reset(seeds);
      g.pending = false;
    });
  }

  // Plain step with an optional skip mask (bool/uint8 array (num_envs,)); the vector env uses
  // step_auto. actions: see prepare_actions.
  void step(py::object actions, py::object skip) {
    const Actions a = prepare_actions(actions);
    py::object keep_mask;
    const std::uint8_t* h_skip = nullptr;
    if (!skip.is_none()) {
      auto mask = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>(skip);
      if (mask.ndim() != 1 || mask.shape(0) != env().num_envs())
        throw py::value_error("skip mask must have shape (num_envs,)");
      h_skip = mask.data();
      keep_mask = mask;
    }
    try {
      run(
          [&a, h_skip](Engine& g) {
            const std::uint8_t* d_skip = nullptr;
            if (h_skip) {
              g.skip.copy_from_host(h_skip, g.env->num_envs());
              d_skip = g.skip.data();
            }
            g.env->step_raw(device_actions(g, a), d_skip);
            g.pending = false;
            g.env->check_steps();  // the step's one host wait: reports invalid actions on CUDA
          },
          /*waits=*/true);
    } catch (const Error& err) {
      throw py::value_error(err.what());
    }
  }

  // The vector env's step in one call: steps (skipping, in NEXT_STEP mode, the envs whose
  // episode ended last step: they show their fresh episode now), then composes in one device
  // pass what Gymnasium returns (sim/autoreset.h). Returns how many episodes ended.
  std::int64_t step_auto(py::object actions, bool next_step) {
    const Actions a = prepare_actions(actions);
    try {
      return run(
          [&a, next_step](Engine& g) {
            g.ensure_outputs(next_step);
            // skip becomes this step's done mask, the next step's skip mask (VecEnv::step_compose
            // reads an env's skip byte before it writes its done byte)
            const std::int64_t ended = g.env->step_compose(
                device_actions(g, a), next_step && g.pending ? g.skip.data() : nullptr,
                StepOutputs{next_step ? g.obs_out.data() : nullptr, g.skip.data(),
                            g.step_return.data(), g.step_length.data()});
            g.pending = ended > 0;
            return ended;
          },
          /*waits=*/true);  // step_compose's wait
    } catch (const Error& err) {
      throw py::value_error(err.what());
    }
  }

  // Allocates step_auto's outputs now (they are made on first use otherwise), so that views of
  // them can be taken before the first step.
  void step_buffers(bool next_step) {
    run([next_step](Engine& g) { g.ensure_outputs(next_step); });
  }

  void sample_actions(std::uint64_t seed, std::uint64_t counter, py::array out) {
    const std::int64_t n = env().num_envs() * env().act_dim();
    if (out.size() != n || !(out.flags() & py::array::c_style) || !out.writeable()) {
      throw py::value_error("sample_actions needs a writable C-contiguous array of " +
                            std::to_string(n) + " elements");
    }
    void* dst = out.mutable_data();
    run([=](Engine& g) {
      VecEnv& e = *g.env;
      if (e.device().is_cpu()) {
        e.sample_actions(seed, counter, dst);
      } else if (e.discrete_actions()) {
        e.sample_actions(seed, counter, g.int_actions.data());
        g.int_actions.copy_to_host(static_cast<std::int32_t*>(dst), n);
      } else {
        e.sample_actions(seed, counter, g.float_actions.data());
        g.float_actions.copy_to_host(static_cast<float*>(dst), n);
      }
    });
  }

  std::vector<double> get_state(std::int64_t i) {
    return run([i](Engine& g) { return g.env->get_state(i); });
  }
  void set_state(std::int64_t i, const std::vector<double>& state, std::int32_t elapsed) {
    run([&](Engine& g) { g.env->set_state(i, state, elapsed); });
  }

  // One buffer of the engine, shaped as given: a numpy view on the CPU; on CUDA a DeviceBuffer
  // (zero copy, DLPack / __cuda_array_interface__), or a numpy copy when host is true. Views
  // own a share of the engine. The dtype is chosen here, for both devices alike.
  template <class T>
  py::object buffer(const DeviceArray<T>& a, std::vector<py::ssize_t> shape, bool host,
                    Shown shown) {
    const std::shared_ptr<Engine> eng = engine();
    const py::dtype dtype = shown_numpy_dtype<T>(shown);
    if (a.device().is_cpu()) {
      return py::array(dtype, shape, {}, a.data(), keeper(eng));
    }
    if (!host) {
      return py::cast(
          device_buffer(eng, a, std::vector<std::int64_t>(shape.begin(), shape.end()), shown));
    }
    py::array out(dtype, shape);
    T* dst = static_cast<T*>(out.mutable_data());
    run([&a, dst](Engine&) { a.copy_to_host(dst, a.size()); });
    return out;
  }

 private:
  // A Python object that owns a share of the engine: the base of numpy views.
  static py::capsule keeper(const std::shared_ptr<Engine>& eng) {
    return py::capsule(new std::shared_ptr<const void>(eng),
                       [](void* p) { delete static_cast<std::shared_ptr<const void>*>(p); });
  }

  // The device pointer the engine reads this step's actions from: a's own, or the staging
  // buffer a's host actions are copied into (under the lock: the buffer is the env's).
  static const void* device_actions(Engine& g, const Actions& a) {
    if (!a.stage) return a.data;
    const std::int64_t n = g.env->num_envs() * g.env->act_dim();
    if (g.env->discrete_actions()) {
      g.int_actions.copy_from_host(static_cast<const std::int32_t*>(a.data), n);
      return g.int_actions.data();
    }
    g.float_actions.copy_from_host(static_cast<const float*>(a.data), n);
    return g.float_actions.data();
  }

  // This step's actions, in the action space's dtype (int32 for Discrete, float32 for Box).
  // Accepted: numpy arrays (or anything np.asarray takes) of shape (num_envs,) for Discrete and
  // (num_envs, act_dim) for Box ((num_envs,) too when act_dim is 1), copied to the device on
  // CUDA; and, on CUDA, any DLPack producer on this env's device (a torch or CuPy tensor) of
  // exactly that dtype and shape, read in place with no copy.
  Actions prepare_actions(py::object actions) {
    const VecEnv& e = env();
    if (e.device().is_cuda() && !py::isinstance<py::array>(actions) &&
        py::hasattr(actions, "__dlpack_device__")) {
      const auto dev = actions.attr("__dlpack_device__")().cast<std::pair<int, int>>();
      if (dev.first == kDLCUDA) return dlpack_actions(actions, dev.second);
    }
    py::array a = py::array::ensure(actions);
    if (!a) throw py::value_error(e.spec().name + ": actions must be an array");
    std::vector<std::int64_t> shape(a.shape(), a.shape() + a.ndim());
    check_action_shape(shape);
    const char kind = a.dtype().kind();
    py::array converted;
    if (e.discrete_actions()) {
      if (kind != 'i' && kind != 'u') {
        throw py::value_error(e.spec().name + ": actions have dtype " +
                              std::string(py::str(a.dtype())) + "; allowed: integers for " +
                              e.spec().action_space.str());
      }
      // int32 (C-contiguous) is used as it is: the engine validates every index itself
      // (VecEnv::step_raw, same message, state untouched); other integer dtypes are range
      // checked in their own width first, so a narrowing cast cannot wrap a bad value into range
      if (a.dtype().is(py::dtype::of<std::int32_t>()) && (a.flags() & py::array::c_style)) {
        converted = a;
      } else {
        converted = check_and_cast<std::int32_t>(a, e);
      }
    } else {
      if (kind != 'f') {
        throw py::value_error(e.spec().name + ": actions have dtype " +
                              std::string(py::str(a.dtype())) +
                              "; allowed: float32 or float64 for " + e.spec().action_space.str());
      }
      converted = py::array_t<float, py::array::c_style | py::array::forcecast>(a);
    }
    return Actions{converted.data(), e.device().is_cuda(), converted};
  }

  void check_action_shape(const std::vector<std::int64_t>& shape) const {
    const VecEnv& e = env();
    const std::int64_t n = e.num_envs(), d = e.act_dim();
    const bool ok = (shape.size() == 1 && shape[0] == n && (e.discrete_actions() || d == 1)) ||
                    (shape.size() == 2 && shape[0] == n && shape[1] == d && !e.discrete_actions());
    if (ok) return;
    std::string text = "(";
    for (auto v : shape) text += std::to_string(v) + ",";
    text += ")";
    throw py::value_error(e.spec().name + ": actions have shape " + text + "; expected (" +
                          std::to_string(n) +
                          (e.discrete_actions() ? ",)" : ", " + std::to_string(d) + ")"));
  }

  // A CUDA DLPack producer's memory, used in place. Out-of-range values are still caught by
  // the engine's own validation (VecEnv::step_raw), which leaves the state untouched. The
  // producer is asked for the legacy default stream, the one the engine's kernels run on; its
  // tensor is held (Actions::keep) until the step that reads it has completed (run).
  Actions dlpack_actions(py::object actions, int device_id) {
    const VecEnv& e = env();
    if (device_id != e.device().index()) {
      throw py::value_error(e.spec().name + ": actions are on cuda:" + std::to_string(device_id) +
                            "; allowed: this env's device " + e.device().str());
    }
    py::object cap;
    try {
      cap = actions.attr("__dlpack__")(py::arg("stream") = 1);  // our legacy default stream
    } catch (py::error_already_set&) {
      cap = actions.attr("__dlpack__")();
    }
    if (!PyCapsule_IsValid(cap.ptr(), "dltensor")) {
      throw py::value_error(e.spec().name +
                            ": actions' __dlpack__ did not return a DLPack capsule");
    }
    auto* t = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap.ptr(), "dltensor"));
    // consumed: the capsule no longer frees it; this holder calls the producer's deleter
    PyCapsule_SetName(cap.ptr(), "used_dltensor");
    auto release = std::shared_ptr<DLManagedTensor>(t, [](DLManagedTensor* m) {
      if (m->deleter) m->deleter(m);
    });
    Actions out;
    out.keep = py::capsule(new std::shared_ptr<DLManagedTensor>(release), [](void* p) {
      delete static_cast<std::shared_ptr<DLManagedTensor>*>(p);
    });
    const DLTensor& x = t->dl_tensor;
    const DLDataType want = e.discrete_actions() ? dl_dtype<std::int32_t>() : dl_dtype<float>();
    if (x.dtype.code != want.code || x.dtype.bits != want.bits || x.dtype.lanes != 1) {
      throw py::value_error(e.spec().name + ": CUDA actions must be " +
                            (e.discrete_actions() ? "int32" : "float32") + " (code " +
                            std::to_string(x.dtype.code) + ", " + std::to_string(x.dtype.bits) +
                            " bits given)");
    }
    std::vector<std::int64_t> shape(x.shape, x.shape + x.ndim);
    check_action_shape(shape);
    if (x.strides) {  // must be compact row-major
      std::int64_t expect = 1;
      for (int k = x.ndim - 1; k >= 0; --k) {
        if (x.shape[k] != 1 && x.strides[k] != expect) {
          throw py::value_error(e.spec().name + ": CUDA actions must be contiguous");
        }
        expect *= x.shape[k];
      }
    }
    out.data = static_cast<const char*>(x.data) + x.byte_offset;
    return out;
  }

  template <class T>
  static py::array check_and_cast(py::array actions, const VecEnv& e) {
    // range check in the caller's dtype before any narrowing cast
    auto as64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>(actions);
    const std::int64_t* p = as64.data();
    const std::int64_t n = e.spec().action_space.n;
    for (py::ssize_t k = 0; k < as64.size(); ++k) {
      if (p[k] < 0 || p[k] >= n) {
        throw py::value_error(e.spec().name + ": action " + std::to_string(p[k]) + " for env " +
                              std::to_string(k) + " is outside " + e.spec().action_space.str() +
                              "; allowed: integers 0.." + std::to_string(n - 1));
      }
    }
    return py::array_t<T, py::array::c_style | py::array::forcecast>(actions);
  }

  std::shared_ptr<Engine> engine_;  // null once closed
};

// A training run (train/run.h) for convoy.train: the runner trains, Python only gets the
// metrics through `callback`, one dict per iteration generated from the learner's field table.
class PyRun {
 public:
  PyRun(const train::RunOptions& options) : run_(options) {}

  // Trains to the end of the run or until `callback(dict)` returns False (None: no
  // callback); an exception in the callback stops the run and is raised here. True when the
  // run's last iteration is done.
  bool train(py::object callback) {
    std::function<bool(const train::Metrics&)> f;
    std::shared_ptr<py::error_already_set> error;
    if (!callback.is_none()) {
      f = [&callback, &error](const train::Metrics& m) {
        py::gil_scoped_acquire hold;
        try {
          return !callback(metrics_dict(m)).equal(py::bool_(false));
        } catch (py::error_already_set& e) {
          error = std::make_shared<py::error_already_set>(std::move(e));
          return false;
        }
      };
    }
    bool ended = false;
    {
      py::gil_scoped_release release;
      ended = run_.train(f);
    }
    if (error) throw py::error_already_set(*error);
    return ended;
  }
  py::object act(py::array_t<float, py::array::c_style | py::array::forcecast> obs);
  void save(const std::string& path) { rl::save_checkpoint(path, run_.checkpoint()); }
  std::int64_t num_iterations() { return run_.learner().num_iterations(); }
  std::string algo() { return run_.learner().algo(); }

  static py::dict metrics_dict(const train::Metrics& m) {
    py::dict d;
    for (std::size_t i = 0; i < m.fields->size(); ++i) {
      const train::MetricField& f = (*m.fields)[i];
      if (f.integer) {
        d[f.name] = static_cast<std::int64_t>(m.values[i]);
      } else {
        d[f.name] = m.values[i];
      }
    }
    return d;
  }

 private:
  train::Run run_;
};

// Greedy actions from a batch of observations (batch x obs_dim, or one obs_dim row), by
// `act(obs, batch, out)`: an int / int32 array for Discrete spaces, float32 rows for Box.
template <class Act>
py::object act_on(py::array_t<float, py::array::c_style | py::array::forcecast> obs,
                  std::int64_t obs_dim, std::int64_t act_dim, bool discrete, Act&& act) {
  const bool single = obs.ndim() == 1;
  if ((single && obs.shape(0) != obs_dim) ||
      (!single && (obs.ndim() != 2 || obs.shape(1) != obs_dim))) {
    throw py::value_error("act: observations must have shape (" + std::to_string(obs_dim) +
                          ",) or (batch, " + std::to_string(obs_dim) + ")");
  }
  const std::int64_t batch = single ? 1 : obs.shape(0);
  if (discrete) {
    py::array_t<std::int32_t> out(batch);
    act(obs.data(), batch, static_cast<void*>(out.mutable_data()));
    if (single) return py::int_(out.at(0));
    return std::move(out);
  }
  py::array_t<float> out({batch, act_dim});
  act(obs.data(), batch, static_cast<void*>(out.mutable_data()));
  if (single) return out.attr("reshape")(act_dim);
  return std::move(out);
}

// A policy loaded from a checkpoint file (train/policy.h), for Policy.load and evaluation, on
// `device` ("cpu", "cuda", "cuda:K", "auto"; an unusable one is a ValueError saying why).
class PyCheckpointPolicy {
 public:
  PyCheckpointPolicy(const std::string& path, const std::string& device)
      : policy_(path, Device::parse(device)) {}
  py::object act(py::array_t<float, py::array::c_style | py::array::forcecast> obs) {
    return act_on(obs, policy_.obs_dim(), policy_.act_dim(), policy_.discrete(),
                  [this](const float* o, std::int64_t b, void* out) { policy_.act(o, b, out); });
  }
  // The same JSON object as `convoy eval --json` on the policy's device.
  std::string evaluate(int episodes, std::uint64_t seed) {
    if (episodes < 1 || episodes > 100000) {
      throw py::value_error("evaluate: episodes=" + std::to_string(episodes) +
                            " is invalid; allowed: 1..100000");
    }
    train::PolicyComparison c;
    {
      py::gil_scoped_release release;
      c = policy_.compare(episodes, seed);
    }
    return train::comparison_json(c, policy_.checkpoint().global_step, -1);
  }
  train::CheckpointPolicy& policy() { return policy_; }

 private:
  train::CheckpointPolicy policy_;
};

py::object PyRun::act(py::array_t<float, py::array::c_style | py::array::forcecast> obs) {
  train::Learner& l = run_.learner();
  return act_on(obs, l.env().obs_dim(), l.env().act_dim(), l.env().discrete_actions(),
                [&l](const float* o, std::int64_t b, void* out) { l.act(o, b, out); });
}

// A binding that returns one of the env's buffers, (num_envs) or (num_envs x obs_dim), as
// PyVecEnv::buffer does (argument `host`).
template <class T, class Get>
auto env_buffer(Get get, bool per_obs_element, Shown shown = Shown::kAsIs) {
  return [get, per_obs_element, shown](PyVecEnv& s, bool host) {
    const VecEnv& e = s.env();
    std::vector<py::ssize_t> shape{e.num_envs()};
    if (per_obs_element) shape.push_back(e.obs_dim());
    const DeviceArray<T>& a = get(s);
    return s.buffer(a, shape, host, shown);
  };
}

template <class T>
auto engine_buffer(const DeviceArray<T>& (VecEnv::*get)() const, bool per_obs_element,
                   Shown shown = Shown::kAsIs) {
  return env_buffer<T>([get](PyVecEnv& s) -> const DeviceArray<T>& { return (s.env().*get)(); },
                       per_obs_element, shown);
}

// step_auto's outputs: made first if no step has made them yet
template <class T>
auto output_buffer(DeviceArray<T> Engine::*get, bool next_step, bool per_obs_element,
                   Shown shown = Shown::kAsIs) {
  return env_buffer<T>(
      [get, next_step](PyVecEnv& s) -> const DeviceArray<T>& {
        s.step_buffers(next_step);
        return (*s.engine()).*get;
      },
      per_obs_element, shown);
}

py::dict space_dict(const Space& s) {
  py::dict d;
  if (s.is_discrete()) {
    d["kind"] = "discrete";
    d["n"] = s.n;
  } else {
    d["kind"] = "box";
    d["low"] = s.low;
    d["high"] = s.high;
    d["shape"] = py::tuple(py::cast(s.shape));
  }
  return d;
}

// The prioritized replay buffer (replay/prioritized.h) on its own, for Python learners:
// numpy in and out (the buffer's rows live on its device; inputs are copied there and
// sampled batches copied back). Each sample() draws with the next counter of its seed.
class PyPrioritizedReplay {
 public:
  using FloatRows = py::array_t<float, py::array::c_style | py::array::forcecast>;

  PyPrioritizedReplay(std::int64_t capacity, std::int64_t obs_dim, std::int64_t act_dim,
                      double alpha, double beta0, double eps, std::int64_t beta_steps,
                      const std::string& device, std::uint64_t seed)
      : buffer_(Device::parse(device), capacity, obs_dim, act_dim,
                PrioritizedConfig{alpha, beta0, eps, beta_steps}),
        seed_(seed) {}

  // rows transitions: obs and next_obs (rows x obs_dim), actions (rows x act_dim), rewards and
  // dones (rows); next_obs is the true next observation (dones: the episode terminated there).
  void add(FloatRows obs, FloatRows actions, FloatRows rewards, FloatRows next_obs,
           py::array_t<bool, py::array::c_style | py::array::forcecast> dones) {
    const std::int64_t rows = rewards.size();
    check(obs, rows * buffer_.obs_dim(), "obs", "rows x obs_dim");
    check(next_obs, rows * buffer_.obs_dim(), "next_obs", "rows x obs_dim");
    check(actions, rows * buffer_.act_dim(), "actions", "rows x act_dim");
    if (dones.size() != rows) {
      throw py::value_error("add: dones has " + std::to_string(dones.size()) +
                            " values; allowed: one per reward (" + std::to_string(rows) + ")");
    }
    const Device& d = buffer_.device();
    std::vector<std::uint8_t> done(dones.data(), dones.data() + rows);
    DeviceArray<float> o(d, std::vector<float>(obs.data(), obs.data() + obs.size()));
    DeviceArray<float> a(d, std::vector<float>(actions.data(), actions.data() + actions.size()));
    DeviceArray<float> r(d, std::vector<float>(rewards.data(), rewards.data() + rows));
    DeviceArray<float> n(d, std::vector<float>(next_obs.data(), next_obs.data() + next_obs.size()));
    DeviceArray<std::uint8_t> t(d, done), never(d, std::vector<std::uint8_t>(rows, 0));
    Transitions tr;
    tr.rows = rows;
    tr.obs = o.data();
    tr.actions = a.data();
    tr.rewards = r.data();
    tr.next_obs = n.data();
    tr.final_obs = n.data();  // the true next obs either way
    tr.terminated = t.data();
    tr.truncated = never.data();
    py::gil_scoped_release release;
    buffer_.add(tr);
  }

  // copy = false: zero-copy DeviceBuffer views (DLPack; on CUDA device memory) instead of numpy
  // copies. Views keep their batch alive and never change: a sample() while views of the last
  // batch live draws into a new one.
  py::dict sample(std::int64_t batch_size, bool copy) {
    if (batch_size < 1 || batch_size > buffer_.size()) {
      throw py::value_error("sample: batch_size=" + std::to_string(batch_size) +
                            " is invalid; allowed: 1.." + std::to_string(buffer_.size()) +
                            " (the transitions stored)");
    }
    if (batch_.use_count() > 1) batch_ = std::make_shared<ReplayBatch>();
    {
      py::gil_scoped_release release;
      buffer_.sample(batch_size, seed_, counter_++, *batch_);
      synchronize(buffer_.device());  // DeviceBuffer's contract: nothing pending on any stream
    }
    const std::int64_t b = batch_size, od = buffer_.obs_dim(), ad = buffer_.act_dim();
    const ReplayBatch& x = *batch_;
    py::dict out;
    if (!copy) {
      out["obs"] = device_buffer(batch_, x.obs, {b, od});
      out["actions"] = device_buffer(batch_, x.actions, {b, ad});
      out["rewards"] = device_buffer(batch_, x.rewards, {b});
      out["next_obs"] = device_buffer(batch_, x.next_obs, {b, od});
      out["dones"] = device_buffer(batch_, x.dones, {b});
      out["indices"] = device_buffer(batch_, x.indices, {b});
      out["weights"] = device_buffer(batch_, x.weights, {b});
      return out;
    }
    out["obs"] = host(x.obs, {b, od});
    out["actions"] = host(x.actions, {b, ad});
    out["rewards"] = host(x.rewards, {b});
    out["next_obs"] = host(x.next_obs, {b, od});
    out["dones"] = host(x.dones, {b});
    out["indices"] = host(x.indices, {b});
    out["weights"] = host(x.weights, {b});
    return out;
  }

  void update_priorities(py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> idx,
                         FloatRows td_errors) {
    if (idx.size() != td_errors.size()) {
      throw py::value_error("update_priorities: " + std::to_string(idx.size()) + " indices but " +
                            std::to_string(td_errors.size()) + " td_errors; allowed: as many");
    }
    for (std::int64_t k = 0; k < idx.size(); ++k) {
      const std::int64_t i = idx.data()[k];
      if (i < 0 || i >= buffer_.size()) {
        throw py::value_error("update_priorities: index " + std::to_string(i) +
                              " is invalid; allowed: 0.." + std::to_string(buffer_.size() - 1));
      }
      if (!std::isfinite(td_errors.data()[k])) {
        throw py::value_error("update_priorities: td_errors[" + std::to_string(k) +
                              "] is not finite");
      }
    }
    const Device& d = buffer_.device();
    DeviceArray<std::int64_t> i(d, std::vector<std::int64_t>(idx.data(), idx.data() + idx.size()));
    DeviceArray<float> e(d,
                         std::vector<float>(td_errors.data(), td_errors.data() + td_errors.size()));
    py::gil_scoped_release release;
    buffer_.update_priorities(i.data(), e.data(), idx.size());
  }

  std::int64_t size() const { return buffer_.size(); }
  std::int64_t capacity() const { return buffer_.capacity(); }
  double beta() const { return buffer_.beta(); }
  double max_priority() const { return buffer_.max_priority(); }

 private:
  static void check(const FloatRows& a, std::int64_t want, const char* name, const char* shape) {
    if (a.size() != want) {
      throw py::value_error(std::string("add: ") + name + " has " + std::to_string(a.size()) +
                            " values; allowed: " + shape + " = " + std::to_string(want));
    }
  }
  template <class T>
  static py::array host(const DeviceArray<T>& a, std::vector<py::ssize_t> shape) {
    py::array_t<T> out(shape);
    a.copy_to_host(out.mutable_data(), a.size());
    return std::move(out);
  }

  PrioritizedReplayBuffer buffer_;
  std::uint64_t seed_, counter_ = 0;
  std::shared_ptr<ReplayBatch> batch_ = std::make_shared<ReplayBatch>();
};

// Documented settings (an env's config keys, a learner's settings) as a list of dicts.
py::list config_key_list(const std::vector<ConfigKey>& keys) {
  py::list out;
  for (const auto& k : keys) {
    py::dict kd;
    kd["name"] = k.name;
    kd["type"] = k.type;
    kd["default"] = k.default_value;
    kd["allowed"] = k.allowed;
    kd["doc"] = k.doc;
    out.append(kd);
  }
  return out;
}

py::dict spec_dict(const EnvSpec& s) {
  py::dict d;
  d["id"] = s.name;
  d["description"] = s.description;
  d["observation_space"] = space_dict(s.observation_space);
  d["action_space"] = space_dict(s.action_space);
  d["max_episode_steps"] = s.max_episode_steps;
  d["has_outcome"] = s.has_outcome;
  d["agents_per_env"] = s.agents_per_env;
  d["has_baseline"] = s.has_baseline();
  d["baseline_config"] = s.baseline_config;
  d["multi_agent"] = s.multi_agent;
  d["goal_conditioned"] = s.goal_conditioned;
  d["reward_threshold"] = std::isnan(s.reward_threshold)
                              ? py::object(py::none())
                              : py::object(py::float_(s.reward_threshold));
  d["config_keys"] = config_key_list(s.config_keys);
  return d;
}

}  // namespace
}  // namespace convoy::python

PYBIND11_MODULE(_core, m) {
  using convoy::python::PyVecEnv;
  namespace cp = convoy::python;
  m.doc() = "Convoy's C++ engine (use the `convoy` package rather than this module)";
  py::register_exception<convoy::Error>(m, "ConvoyError", PyExc_ValueError);

  m.def(
      "list_envs",
      [] {
        py::list out;
        for (const auto& e : convoy::env_registry().entries()) out.append(cp::spec_dict(e.spec));
        return out;
      },
      "Every registered env's spec as a dict.");
  m.def("cuda_device_count", &convoy::cuda_device_count);
  m.def("built_with_cuda", &convoy::built_with_cuda);
  m.def("set_cpu_threads", &convoy::set_cpu_threads, py::arg("threads"));
  m.def("cpu_threads", &convoy::cpu_threads);

  py::class_<cp::PyPrioritizedReplay>(m, "PrioritizedReplay")
      .def(py::init<std::int64_t, std::int64_t, std::int64_t, double, double, double, std::int64_t,
                    const std::string&, std::uint64_t>(),
           py::arg("capacity"), py::arg("obs_dim"), py::arg("act_dim"), py::arg("alpha") = 0.6,
           py::arg("beta0") = 0.4, py::arg("eps") = 1e-6, py::arg("beta_steps") = 100000,
           py::arg("device") = "cpu", py::arg("seed") = 0)
      .def("add", &cp::PyPrioritizedReplay::add, py::arg("obs"), py::arg("actions"),
           py::arg("rewards"), py::arg("next_obs"), py::arg("dones"))
      .def("sample", &cp::PyPrioritizedReplay::sample, py::arg("batch_size"),
           py::arg("copy") = true)
      .def("update_priorities", &cp::PyPrioritizedReplay::update_priorities, py::arg("indices"),
           py::arg("td_errors"))
      .def("__len__", &cp::PyPrioritizedReplay::size)
      .def_property_readonly("capacity", &cp::PyPrioritizedReplay::capacity)
      .def_property_readonly("beta", &cp::PyPrioritizedReplay::beta)
      .def_property_readonly("max_priority", &cp::PyPrioritizedReplay::max_priority);

  py::class_<cp::PyRun>(m, "Run")
      .def(py::init([](const std::string& env_id, const std::string& algo,
                       const std::vector<std::string>& settings, std::int64_t total_steps,
                       std::int64_t seed, const std::string& device, bool use_preset,
                       const std::string& preset_dir, const std::string& out, bool progress) {
             convoy::train::RunOptions o;
             o.env = env_id;
             o.algo = algo;
             o.settings = settings;
             o.total_steps = total_steps;
             o.seed = seed;
             o.device = device;
             o.use_preset = use_preset;
             o.preset_dir = preset_dir;
             o.out = out;
             o.progress = progress;
             o.eval_episodes = 0;
             return std::make_unique<cp::PyRun>(o);
           }),
           py::arg("env_id"), py::arg("algo"), py::arg("settings"), py::arg("total_steps"),
           py::arg("seed"), py::arg("device"), py::arg("use_preset"), py::arg("preset_dir"),
           py::arg("out"), py::arg("progress"))
      .def_property_readonly("num_iterations", &cp::PyRun::num_iterations)
      .def_property_readonly("algo", &cp::PyRun::algo)
      .def("train", &cp::PyRun::train, py::arg("callback"))
      .def("act", &cp::PyRun::act, py::arg("obs"))
      .def("save", &cp::PyRun::save, py::arg("path"));
  m.def(
      "learner_settings",
      [](const std::string& algo) {
        return cp::config_key_list(convoy::train::find_learner(algo).settings());
      },
      py::arg("algo"), "A learner's settings (name, type, default, allowed, doc).");
  m.def(
      "learner_metrics",
      [](const std::string& algo) {
        py::list out;
        for (const auto& f : *convoy::train::find_learner(algo).fields) {
          py::dict fd;
          fd["name"] = f.name;
          fd["tensorboard"] = f.tensorboard ? py::object(py::str(f.tensorboard)) : py::none();
          fd["doc"] = f.help;
          out.append(fd);
        }
        return out;
      },
      py::arg("algo"), "The metrics a learner reports each iteration (name, tensorboard, doc).");

  py::class_<cp::PyCheckpointPolicy>(m, "CheckpointPolicy")
      .def(py::init<const std::string&, const std::string&>(), py::arg("path"),
           py::arg("device") = "cpu")
      .def_property_readonly("env_id",
                             [](cp::PyCheckpointPolicy& p) { return p.policy().env_name(); })
      .def_property_readonly("algo", [](cp::PyCheckpointPolicy& p) { return p.policy().algo(); })
      .def_property_readonly(
          "global_step",
          [](cp::PyCheckpointPolicy& p) { return p.policy().checkpoint().global_step; })
      .def_property_readonly(
          "env_config", [](cp::PyCheckpointPolicy& p) { return p.policy().env_config().values(); })
      .def_property_readonly("device",
                             [](cp::PyCheckpointPolicy& p) { return p.policy().device().str(); })
      .def("act", &cp::PyCheckpointPolicy::act, py::arg("obs"))
      .def("evaluate", &cp::PyCheckpointPolicy::evaluate, py::arg("episodes"), py::arg("seed"));

  py::class_<PyVecEnv>(m, "VecEnv")
      .def(py::init<const std::string&, std::int64_t, const std::string&,
                    const std::map<std::string, std::string>&>(),
           py::arg("env_id"), py::arg("num_envs"), py::arg("device") = "auto",
           py::arg("config") = std::map<std::string, std::string>{})
      .def_property_readonly("spec", [](PyVecEnv& s) { return cp::spec_dict(s.env().spec()); })
      .def_property_readonly("num_envs", [](PyVecEnv& s) { return s.env().num_envs(); })
      .def_property_readonly("agents_per_env", [](PyVecEnv& s) { return s.env().agents_per_env(); })
      .def_property_readonly("device", [](PyVecEnv& s) { return s.env().device().str(); })
      .def_property_readonly("closed", &PyVecEnv::closed)
      .def("close", &PyVecEnv::close)
      .def("reset", &PyVecEnv::reset, py::arg("seed"))
      .def("reset_seeds", &PyVecEnv::reset_seeds, py::arg("seeds"))
      .def("step", &PyVecEnv::step, py::arg("actions"), py::arg("skip") = py::none())
      .def("sample_actions", &PyVecEnv::sample_actions, py::arg("seed"), py::arg("counter"),
           py::arg("out"))
      .def("get_state", &PyVecEnv::get_state, py::arg("env"))
      .def("set_state", &PyVecEnv::set_state, py::arg("env"), py::arg("state"),
           py::arg("elapsed_steps") = 0)
      .def("step_auto", &PyVecEnv::step_auto, py::arg("actions"), py::arg("next_step"))
      .def("step_buffers", &PyVecEnv::step_buffers, py::arg("next_step"))
      .def("obs", cp::engine_buffer(&convoy::VecEnv::obs, true), py::arg("host") = false)
      .def("final_obs", cp::engine_buffer(&convoy::VecEnv::final_obs, true),
           py::arg("host") = false)
      .def("reward", cp::engine_buffer(&convoy::VecEnv::reward, false), py::arg("host") = false)
      .def("terminated", cp::engine_buffer(&convoy::VecEnv::terminated, false, cp::Shown::kBool),
           py::arg("host") = false)
      .def("truncated", cp::engine_buffer(&convoy::VecEnv::truncated, false, cp::Shown::kBool),
           py::arg("host") = false)
      .def("final_episode_return", cp::engine_buffer(&convoy::VecEnv::final_episode_return, false),
           py::arg("host") = false)
      .def("final_episode_length", cp::engine_buffer(&convoy::VecEnv::final_episode_length, false),
           py::arg("host") = false)
      .def("final_outcome", cp::engine_buffer(&convoy::VecEnv::final_outcome, false),
           py::arg("host") = false)
      .def("obs_out", cp::output_buffer(&cp::Engine::obs_out, true, true), py::arg("host") = false)
      .def("done", cp::output_buffer(&cp::Engine::skip, false, false, cp::Shown::kBool),
           py::arg("host") = false)
      .def("step_episode_return", cp::output_buffer(&cp::Engine::step_return, false, false),
           py::arg("host") = false)
      .def("step_episode_length", cp::output_buffer(&cp::Engine::step_length, false, false),
           py::arg("host") = false)
      .def(
          "dlpack_view",
          [](PyVecEnv& s, const std::string& name) {
            // any buffer as a DeviceBuffer, on either device (the CPU ones are numpy views
            // elsewhere; this is how the DLPack export is tested without a GPU)
            const std::shared_ptr<cp::Engine>& g = s.engine();
            const convoy::VecEnv& e = *g->env;
            const std::int64_t n = e.num_envs();
            if (name == "obs") return cp::device_buffer(g, e.obs(), {n, e.obs_dim()});
            if (name == "reward") return cp::device_buffer(g, e.reward(), {n});
            if (name == "terminated") {
              return cp::device_buffer(g, e.terminated(), {n}, cp::Shown::kBool);
            }
            if (name == "episode_return") return cp::device_buffer(g, e.episode_return(), {n});
            if (name == "episode_length") return cp::device_buffer(g, e.episode_length(), {n});
            throw py::value_error("dlpack_view: unknown buffer '" + name +
                                  "'; allowed: obs, reward, terminated, episode_return, "
                                  "episode_length");
          },
          py::arg("name"));

  py::class_<cp::DeviceBuffer>(m, "DeviceBuffer",
                               "A zero-copy view of a Convoy buffer for DLPack consumers "
                               "(torch.from_dlpack, cupy.from_dlpack, numpy.from_dlpack) and "
                               "__cuda_array_interface__ consumers; valid until the next step.")
      .def_property_readonly("shape",
                             [](const cp::DeviceBuffer& b) {
                               py::list l;
                               for (auto v : b.shape) l.append(v);
                               return py::tuple(l);
                             })
      .def_property_readonly("typestr",
                             [](const cp::DeviceBuffer& b) { return cp::typestr(b.dtype); })
      .def_property_readonly("device", [](const cp::DeviceBuffer& b) { return b.device.str(); })
      .def("__dlpack_device__", &cp::DeviceBuffer::dlpack_device)
      .def("__dlpack__", &cp::DeviceBuffer::dlpack, py::kw_only(), py::arg("stream") = py::none(),
           py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(),
           py::arg("copy") = py::none())
      .def_property_readonly("__cuda_array_interface__", &cp::DeviceBuffer::cuda_array_interface);
}
