// convoy._core: the pybind11 module under the `convoy` Python package. It exposes the
// registry and the VecEnv engine with zero-copy numpy views of the CPU buffers (valid until
// the next step; the views keep the env alive). The Gymnasium VectorEnv on top is pure
// Python (bindings/convoy/vector.py). The GIL is released while the engine steps.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "rl/ppo.h"
#include "sim/error.h"

namespace py = pybind11;

namespace convoy::python {
namespace {

class PyVecEnv {
 public:
  PyVecEnv(const std::string& env_id, std::int64_t num_envs, const std::string& device,
           const std::map<std::string, std::string>& config) {
    Config c;
    for (const auto& [k, v] : config) c.set(k, v);
    env_ = env_registry().make(env_id, Device::parse(device), num_envs, c);
    const std::int64_t n_act = env_->num_envs() * env_->act_dim();
    if (env_->discrete_actions()) {
      int_actions_ = DeviceArray<std::int32_t>(env_->device(), n_act);
    } else {
      float_actions_ = DeviceArray<float>(env_->device(), n_act);
    }
    skip_ = DeviceArray<std::uint8_t>(env_->device(), env_->num_envs());
  }

  VecEnv& env() {
    if (!env_) throw Error("this env is closed; make a new one");
    return *env_;
  }
  void close() { env_.reset(); }
  bool closed() const { return !env_; }

  void reset(std::uint64_t seed) { env().reset(seed); }
  void reset_seeds(const std::vector<std::uint64_t>& seeds) { env().reset(seeds); }

  // actions: a numpy array of shape (num_envs,) for Discrete, (num_envs, act_dim) for Box
  // ((num_envs,) too when act_dim is 1). skip: optional bool/uint8 array (num_envs,).
  void step(py::array actions, py::object skip) {
    VecEnv& e = env();
    const std::int64_t n = e.num_envs(), d = e.act_dim();
    const bool shape_ok =
        (actions.ndim() == 1 && actions.shape(0) == n && (e.discrete_actions() || d == 1)) ||
        (actions.ndim() == 2 && actions.shape(0) == n && actions.shape(1) == d &&
         !e.discrete_actions());
    if (!shape_ok) {
      std::string shape = "(";
      for (py::ssize_t k = 0; k < actions.ndim(); ++k)
        shape += std::to_string(actions.shape(k)) + ",";
      shape += ")";
      throw py::value_error(e.spec().name + ": actions have shape " + shape + "; expected (" +
                            std::to_string(n) +
                            (e.discrete_actions() ? ",)" : ", " + std::to_string(d) + ")"));
    }
    const char kind = actions.dtype().kind();
    const void* src = nullptr;
    py::array converted;
    if (e.discrete_actions()) {
      if (kind != 'i' && kind != 'u') {
        throw py::value_error(e.spec().name + ": actions have dtype " +
                              std::string(py::str(actions.dtype())) + "; allowed: integers for " +
                              e.spec().action_space.str());
      }
      converted = check_and_cast<std::int32_t>(actions, e);
    } else {
      if (kind != 'f') {
        throw py::value_error(e.spec().name + ": actions have dtype " +
                              std::string(py::str(actions.dtype())) +
                              "; allowed: float32 or float64 for " + e.spec().action_space.str());
      }
      converted = py::array_t<float, py::array::c_style | py::array::forcecast>(actions);
    }
    src = converted.data();
    const std::uint8_t* d_skip = nullptr;
    if (!skip.is_none()) {
      auto mask = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>(skip);
      if (mask.ndim() != 1 || mask.shape(0) != n)
        throw py::value_error("skip mask must have shape (num_envs,)");
      skip_.copy_from_host(mask.data(), n);
      d_skip = skip_.data();
    }
    const void* d_actions = src;
    if (e.device().is_cuda()) {
      // the host array goes to the device first (DLPack input is a later step)
      if (e.discrete_actions()) {
        int_actions_.copy_from_host(static_cast<const std::int32_t*>(src), n * d);
        d_actions = int_actions_.data();
      } else {
        float_actions_.copy_from_host(static_cast<const float*>(src), n * d);
        d_actions = float_actions_.data();
      }
    }
    try {
      py::gil_scoped_release release;
      e.step_raw(d_actions, d_skip);
    } catch (const Error& err) {
      throw py::value_error(err.what());
    }
  }

  void sample_actions(std::uint64_t seed, std::uint64_t counter, py::array out) {
    VecEnv& e = env();
    const std::int64_t n = e.num_envs() * e.act_dim();
    if (out.size() != n || !(out.flags() & py::array::c_style) || !out.writeable()) {
      throw py::value_error("sample_actions needs a writable C-contiguous array of " +
                            std::to_string(n) + " elements");
    }
    void* dst = out.mutable_data();
    if (e.device().is_cpu()) {
      e.sample_actions(seed, counter, dst);
    } else if (e.discrete_actions()) {
      e.sample_actions(seed, counter, int_actions_.data());
      int_actions_.copy_to_host(static_cast<std::int32_t*>(dst), n);
    } else {
      e.sample_actions(seed, counter, float_actions_.data());
      float_actions_.copy_to_host(static_cast<float*>(dst), n);
    }
  }

  // A view (CPU) or a host copy (CUDA) of one engine buffer, shaped as given.
  template <class T>
  py::array buffer(py::object self, const DeviceArray<T>& a, std::vector<py::ssize_t> shape) {
    if (a.device().is_cpu()) {
      return py::array_t<T>(shape, a.data(), self);  // zero copy; `self` keeps the env alive
    }
    py::array_t<T> out(shape);
    a.copy_to_host(out.mutable_data(), a.size());
    return std::move(out);
  }

 private:
  template <class T>
  static py::array check_and_cast(py::array actions, VecEnv& e) {
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

  std::unique_ptr<VecEnv> env_;
  DeviceArray<std::int32_t> int_actions_;
  DeviceArray<float> float_actions_;
  DeviceArray<std::uint8_t> skip_;
};

// A PPO learner on its own env (CPU), stepped one iteration at a time from Python.
class PyPpo {
 public:
  PyPpo(const std::string& env_id, const std::map<std::string, std::string>& env_config,
        const std::map<std::string, std::string>& learner_config) {
    Config ec, lc;
    for (const auto& [k, v] : env_config) ec.set(k, v);
    for (const auto& [k, v] : learner_config) lc.set(k, v);
    config_ = rl::PpoConfig::from_config(lc);
    env_ = env_registry().make(env_id, Device::cpu(), config_.num_envs, ec);
    ppo_ = std::make_unique<rl::Ppo>(*env_, config_);
  }
  std::int64_t num_iterations() const { return config_.num_iterations(); }
  py::dict iterate() {
    rl::PpoMetrics m;
    {
      py::gil_scoped_release release;
      m = ppo_->iterate();
    }
    py::dict d;
    d["iteration"] = m.iteration;
    d["global_step"] = m.global_step;
    d["episodes"] = m.episodes;
    d["mean_episode_return"] = m.mean_episode_return;
    d["mean_episode_length"] = m.mean_episode_length;
    d["policy_loss"] = m.policy_loss;
    d["value_loss"] = m.value_loss;
    d["entropy"] = m.entropy;
    d["approx_kl"] = m.approx_kl;
    d["clip_fraction"] = m.clip_fraction;
    d["explained_variance"] = m.explained_variance;
    d["learning_rate"] = m.learning_rate;
    d["steps_per_second"] = m.steps_per_second;
    return d;
  }
  // Greedy actions for a batch of observations (batch x obs_dim, or one obs_dim row).
  py::object act(py::array_t<float, py::array::c_style | py::array::forcecast> obs) {
    const std::int64_t d = env_->obs_dim();
    const bool single = obs.ndim() == 1;
    if ((single && obs.shape(0) != d) || (!single && (obs.ndim() != 2 || obs.shape(1) != d))) {
      throw py::value_error("act: observations must have shape (" + std::to_string(d) +
                            ",) or (batch, " + std::to_string(d) + ")");
    }
    const std::int64_t batch = single ? 1 : obs.shape(0);
    if (env_->discrete_actions()) {
      py::array_t<std::int32_t> out(batch);
      ppo_->act_deterministic(obs.data(), batch, out.mutable_data());
      if (single) return py::int_(out.at(0));
      return std::move(out);
    }
    py::array_t<float> out({batch, env_->act_dim()});
    ppo_->act_deterministic(obs.data(), batch, out.mutable_data());
    if (single) return out.attr("reshape")(env_->act_dim());
    return std::move(out);
  }

 private:
  rl::PpoConfig config_;
  std::unique_ptr<VecEnv> env_;
  std::unique_ptr<rl::Ppo> ppo_;
};

// A binding that returns one of the env's buffers, (num_envs) or (num_envs x obs_dim).
template <class T>
auto env_buffer(const DeviceArray<T>& (VecEnv::*get)() const, bool per_obs_element) {
  return [get, per_obs_element](py::object self) {
    auto& s = self.cast<PyVecEnv&>();
    const VecEnv& e = s.env();
    std::vector<py::ssize_t> shape{e.num_envs()};
    if (per_obs_element) shape.push_back(e.obs_dim());
    return s.buffer(self, (e.*get)(), shape);
  };
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

py::dict spec_dict(const EnvSpec& s) {
  py::dict d;
  d["id"] = s.name;
  d["description"] = s.description;
  d["observation_space"] = space_dict(s.observation_space);
  d["action_space"] = space_dict(s.action_space);
  d["max_episode_steps"] = s.max_episode_steps;
  d["reward_threshold"] = std::isnan(s.reward_threshold)
                              ? py::object(py::none())
                              : py::object(py::float_(s.reward_threshold));
  py::list keys;
  for (const auto& k : s.config_keys) {
    py::dict kd;
    kd["name"] = k.name;
    kd["type"] = k.type;
    kd["default"] = k.default_value;
    kd["allowed"] = k.allowed;
    kd["doc"] = k.doc;
    keys.append(kd);
  }
  d["config_keys"] = keys;
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

  py::class_<cp::PyPpo>(m, "Ppo")
      .def(py::init<const std::string&, const std::map<std::string, std::string>&,
                    const std::map<std::string, std::string>&>(),
           py::arg("env_id"), py::arg("env_config"), py::arg("learner_config"))
      .def_property_readonly("num_iterations", &cp::PyPpo::num_iterations)
      .def("iterate", &cp::PyPpo::iterate)
      .def("act", &cp::PyPpo::act, py::arg("obs"));

  py::class_<PyVecEnv>(m, "VecEnv")
      .def(py::init<const std::string&, std::int64_t, const std::string&,
                    const std::map<std::string, std::string>&>(),
           py::arg("env_id"), py::arg("num_envs"), py::arg("device") = "auto",
           py::arg("config") = std::map<std::string, std::string>{})
      .def_property_readonly("spec", [](PyVecEnv& s) { return cp::spec_dict(s.env().spec()); })
      .def_property_readonly("num_envs", [](PyVecEnv& s) { return s.env().num_envs(); })
      .def_property_readonly("device", [](PyVecEnv& s) { return s.env().device().str(); })
      .def_property_readonly("closed", &PyVecEnv::closed)
      .def("close", &PyVecEnv::close)
      .def("reset", &PyVecEnv::reset, py::arg("seed"))
      .def("reset_seeds", &PyVecEnv::reset_seeds, py::arg("seeds"))
      .def("step", &PyVecEnv::step, py::arg("actions"), py::arg("skip") = py::none())
      .def("sample_actions", &PyVecEnv::sample_actions, py::arg("seed"), py::arg("counter"),
           py::arg("out"))
      .def("get_state", [](PyVecEnv& s, std::int64_t i) { return s.env().get_state(i); })
      .def(
          "set_state",
          [](PyVecEnv& s, std::int64_t i, const std::vector<double>& state, std::int32_t elapsed) {
            s.env().set_state(i, state, elapsed);
          },
          py::arg("env"), py::arg("state"), py::arg("elapsed_steps") = 0)
      .def("obs", cp::env_buffer(&convoy::VecEnv::obs, true))
      .def("final_obs", cp::env_buffer(&convoy::VecEnv::final_obs, true))
      .def("reward", cp::env_buffer(&convoy::VecEnv::reward, false))
      .def("terminated", cp::env_buffer(&convoy::VecEnv::terminated, false))
      .def("truncated", cp::env_buffer(&convoy::VecEnv::truncated, false))
      .def("final_episode_return", cp::env_buffer(&convoy::VecEnv::final_episode_return, false))
      .def("final_episode_length", cp::env_buffer(&convoy::VecEnv::final_episode_length, false))
      .def("final_outcome", cp::env_buffer(&convoy::VecEnv::final_outcome, false));
}
