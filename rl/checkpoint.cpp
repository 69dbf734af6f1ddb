#include "rl/checkpoint.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sim/error.h"

namespace convoy::rl {

namespace {

constexpr char kMagic[] = "CONVOY-CHECKPOINT\n";  // 18 bytes, then version, size, payload, crc
constexpr std::size_t kMagicSize = sizeof(kMagic) - 1;

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <class T>
void put_vector(std::string& out, const std::vector<T>& v) {
  put(out, static_cast<std::uint64_t>(v.size()));
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
void put_rms(std::string& out, const RunningMeanStd& r) {
  put_vector(out, r.mean);
  put_vector(out, r.var);
  put(out, r.count);
}
void put_bytes(std::string& out, const std::string& b) {
  put(out, static_cast<std::uint64_t>(b.size()));
  out += b;
}

// Reads from the verified payload; running past its end means the writer and reader
// disagree, which the checksum already rules out for files this code wrote.
struct Reader {
  const std::string& data;
  std::size_t pos = 0;
  const std::string& path;
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, data.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> vector() {
    const auto n = get<std::uint64_t>();
    if (n > (data.size() - pos) / sizeof(T)) bad();
    std::vector<T> v(static_cast<std::size_t>(n));
    if (n > 0) std::memcpy(v.data(), data.data() + pos, v.size() * sizeof(T));
    pos += v.size() * sizeof(T);
    return v;
  }
  std::vector<float> floats() { return vector<float>(); }
  RunningMeanStd rms() {
    RunningMeanStd r;
    r.mean = vector<double>();
    r.var = vector<double>();
    r.count = get<double>();
    if (r.mean.size() != r.var.size()) bad();
    return r;
  }
  std::string bytes() {
    const auto n = get<std::uint64_t>();
    need(static_cast<std::size_t>(n));
    std::string b = data.substr(pos, static_cast<std::size_t>(n));
    pos += static_cast<std::size_t>(n);
    return b;
  }
  void need(std::size_t n) {
    if (data.size() - pos < n) bad();
  }
  [[noreturn]] void bad() { throw Error("checkpoint '" + path + "' is malformed inside"); }
};

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  std::ostringstream header;
  header << "env=" << c.env << "\nalgo=" << c.algo << "\n";
  for (const auto& [k, v] : c.env_config) header << "env." << k << "=" << v << "\n";
  for (const auto& [k, v] : c.learner_config) header << "learner." << k << "=" << v << "\n";
  std::string payload;
  const std::string h = header.str();
  put(payload, static_cast<std::uint64_t>(h.size()));
  payload += h;
  put(payload, c.global_step);
  put(payload, c.iteration);
  put(payload, c.adam_steps);
  put_vector(payload, c.params);
  put_vector(payload, c.adam_m);
  put_vector(payload, c.adam_v);
  put_rms(payload, c.obs_rms);
  put_rms(payload, c.return_rms);
  put_vector(payload, c.discounted_returns);
  put_bytes(payload, c.env_state);
  put(payload, static_cast<std::uint64_t>(c.blobs.size()));
  for (const auto& [name, bytes] : c.blobs) {
    put_bytes(payload, name);
    put_bytes(payload, bytes);
  }

  std::string file(kMagic, kMagicSize);
  put(file, Checkpoint::kVersion);
  put(file, static_cast<std::uint64_t>(payload.size()));
  file += payload;
  const auto crc =
      static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(file.data() + kMagicSize),
                                       static_cast<uInt>(file.size() - kMagicSize)));
  put(file, crc);

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error("cannot write checkpoint '" + path + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("cannot move checkpoint into place at '" + path + "'");
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open checkpoint '" + path + "'");
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < kMagicSize || file.compare(0, kMagicSize, kMagic) != 0) {
    throw Error("'" + path + "' is not a Convoy checkpoint");
  }
  const std::size_t fixed = kMagicSize + sizeof(std::uint32_t) + sizeof(std::uint64_t);
  if (file.size() < fixed + sizeof(std::uint32_t)) {
    throw Error("checkpoint '" + path + "' is truncated (" + std::to_string(file.size()) +
                " bytes)");
  }
  std::uint32_t version;
  std::uint64_t size;
  std::memcpy(&version, file.data() + kMagicSize, sizeof(version));
  std::memcpy(&size, file.data() + kMagicSize + sizeof(version), sizeof(size));
  if (version != Checkpoint::kVersion) {
    throw Error("checkpoint '" + path + "' has format version " + std::to_string(version) +
                (version < Checkpoint::kVersion ? " (older)" : " (newer)") +
                "; this convoy reads version " + std::to_string(Checkpoint::kVersion));
  }
  if (file.size() != fixed + size + sizeof(std::uint32_t)) {
    throw Error("checkpoint '" + path + "' is truncated or padded: " + std::to_string(file.size()) +
                " bytes, expected " + std::to_string(fixed + size + sizeof(std::uint32_t)));
  }
  std::uint32_t stored;
  std::memcpy(&stored, file.data() + fixed + size, sizeof(stored));
  const auto crc =
      static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(file.data() + kMagicSize),
                                       static_cast<uInt>(fixed - kMagicSize + size)));
  if (crc != stored) {
    throw Error("checkpoint '" + path + "' is corrupted (checksum mismatch)");
  }

  const std::string payload = file.substr(fixed, static_cast<std::size_t>(size));
  Reader r{payload, 0, path};
  const auto hsize = r.get<std::uint64_t>();
  r.need(static_cast<std::size_t>(hsize));
  std::istringstream header(payload.substr(r.pos, static_cast<std::size_t>(hsize)));
  r.pos += static_cast<std::size_t>(hsize);
  Checkpoint c;
  std::string line;
  while (std::getline(header, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) r.bad();
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "env") {
      c.env = v;
    } else if (k == "algo") {
      c.algo = v;
    } else if (k.rfind("env.", 0) == 0) {
      c.env_config[k.substr(4)] = v;
    } else if (k.rfind("learner.", 0) == 0) {
      c.learner_config[k.substr(8)] = v;
    } else {
      r.bad();
    }
  }
  c.global_step = r.get<std::int64_t>();
  c.iteration = r.get<std::int64_t>();
  c.adam_steps = r.get<std::int64_t>();
  c.params = r.floats();
  c.adam_m = r.floats();
  c.adam_v = r.floats();
  c.obs_rms = r.rms();
  c.return_rms = r.rms();
  c.discounted_returns = r.vector<double>();
  c.env_state = r.bytes();
  const auto nblobs = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < nblobs; ++i) {
    std::string name = r.bytes();
    c.blobs[std::move(name)] = r.bytes();
  }
  if (r.pos != payload.size()) r.bad();
  return c;
}

}  // namespace convoy::rl
