// The engine's snapshot of an env (VecEnv::save_state / load_state, checkpoints): a text tag
// naming the format, the env, its shape and its settings' sizes, then each array as (uint64
// bytes, raw bytes) in a fixed order. E's own state goes in through E::State's for_each_array
// or, without it, through read_state / write_state (sim/env_contract.h). Include only from .cu
// files: it launches kernels.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "sim/array.h"
#include "sim/env_contract.h"
#include "sim/hd.h"
#include "sim/parallel.h"

namespace convoy {
namespace detail {

// E's whole state in one pass, through read_state / write_state (num_envs x state_dim).
template <class E>
struct ReadAllStatesKernel {
  typename E::View state;
  std::int64_t dim;
  double* out;
  CONVOY_HD void operator()(std::int64_t i) const { E::read_state(state, i, out + i * dim); }
};
template <class E>
struct WriteAllStatesKernel {
  typename E::View state;
  std::int64_t dim;
  const double* in;
  CONVOY_HD void operator()(std::int64_t i) const { E::write_state(state, i, in + i * dim); }
};

// The snapshot format: a text tag, then each array as (uint64 bytes, raw bytes) in a fixed
// order. Reading checks every size before anything is written.
struct SnapshotWriter {
  std::string out;
  template <class T>
  void array(const DeviceArray<T>& a) {
    const std::uint64_t n = a.bytes();
    out.append(reinterpret_cast<const char*>(&n), sizeof(n));
    const std::size_t at = out.size();
    out.resize(at + n);
    if (n > 0) copy_bytes(&out[at], Device::cpu(), a.data(), a.device(), n);
  }
};
struct SnapshotReader {
  const std::string& in;
  std::size_t pos;
  bool ok = true;
  std::vector<std::pair<std::size_t, std::uint64_t>> chunks;  // (offset, bytes) per array
  template <class T>
  void array(const DeviceArray<T>& a) {
    std::uint64_t n = 0;
    if (in.size() - pos < sizeof(n)) {
      ok = false;
      return;
    }
    std::memcpy(&n, in.data() + pos, sizeof(n));
    pos += sizeof(n);
    if (n != a.bytes() || in.size() - pos < n) {
      ok = false;
      return;
    }
    chunks.emplace_back(pos, n);
    pos += n;
  }
};

// The snapshot's first line: a snapshot loads only into an env of the same name and shape.
template <class E>
std::string snapshot_tag(const std::string& name, std::int64_t num_envs, std::int64_t obs_dim,
                         int state_dim) {
  return "convoy-env-state 1 " + name + " envs=" + std::to_string(num_envs) +
         " obs=" + std::to_string(obs_dim) + " state=" + std::to_string(state_dim) +
         (Capabilities<E>::kListsArrays ? " arrays" : " read_state") + "\n";
}

// What a visit over the snapshot's arrays is for.
enum class SnapshotMode { kSave, kCheck, kLoad };

// Calls f on E's state in the snapshot: every array E::State lists, or else `buf`, a
// scenes x dim buffer of read_state / write_state, filled before f when saving and written
// back after f when loading.
template <class E, class F>
void visit_env_state(SnapshotMode mode, typename E::State& state, const Device& device,
                     std::int64_t scenes, std::int64_t dim, DeviceArray<double>& buf, F&& f) {
  if constexpr (Capabilities<E>::kListsArrays) {
    state.for_each_array(f);
  } else {
    if (buf.size() != scenes * dim) buf = DeviceArray<double>(device, scenes * dim);
    if (mode == SnapshotMode::kSave) {
      for_each_index(device, scenes, ReadAllStatesKernel<E>{state.view(), dim, buf.data()});
    }
    f(buf);
    if (mode == SnapshotMode::kLoad) {
      for_each_index(device, scenes, WriteAllStatesKernel<E>{state.view(), dim, buf.data()});
    }
  }
}

// The snapshot of the arrays visit(mode, f) calls f on, in its order, after `tag`.
template <class Visit>
std::string save_snapshot(std::string tag, Visit&& visit) {
  SnapshotWriter w{std::move(tag)};
  visit(SnapshotMode::kSave, [&](auto& a) { w.array(a); });
  return std::move(w.out);
}

// Loads `bytes`, whose tag of tag_size bytes the caller checked, into the arrays visit names.
// First checks every array's size, then copies: false, with nothing changed, where one does not
// match.
template <class Visit>
bool load_snapshot(const std::string& bytes, std::size_t tag_size, const Device& device,
                   Visit&& visit) {
  SnapshotReader r{bytes, tag_size, true, {}};
  visit(SnapshotMode::kCheck, [&](auto& a) { r.array(a); });
  if (!r.ok || r.pos != bytes.size()) return false;
  std::size_t k = 0;
  visit(SnapshotMode::kLoad, [&](auto& a) {
    if (r.chunks[k].second > 0) {
      copy_bytes(a.data(), a.device(), bytes.data() + r.chunks[k].first, Device::cpu(),
                 r.chunks[k].second);
    }
    ++k;
  });
  synchronize(device);
  return true;
}

}  // namespace detail
}  // namespace convoy
