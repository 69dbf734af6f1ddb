#include "rl/event_file.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "sim/error.h"

namespace convoy::rl {

namespace {

std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

// protocol buffer wire encoding: key = field << 3 | wire type
void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
template <class T>
void put_fixed(std::string& out, T v) {  // little-endian, as the machine (x86-64, aarch64)
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void put_key(std::string& out, int field, int wire_type) {
  put_varint(out, static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire_type));
}
void put_bytes_field(std::string& out, int field, const std::string& bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

// Event's wall_time (1, double) and step (2, int64)
std::string event_header(std::int64_t step) {
  std::string e;
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  put_key(e, 1, 1);
  put_fixed(e, now);
  put_key(e, 2, 0);
  put_varint(e, static_cast<std::uint64_t>(step));
  return e;
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc) {
  static const std::array<std::uint32_t, 256> table = make_crc32c_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::uint32_t masked_crc32c(const void* data, std::size_t size) {
  const std::uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

EventFileWriter::EventFileWriter(const std::string& dir) {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  const std::string base =
      (std::filesystem::path(dir) / ("events.out.tfevents." + std::to_string(secs) + "." + host))
          .string();
  path_ = base;
  for (int k = 1; std::filesystem::exists(path_); ++k) path_ = base + "." + std::to_string(k);
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw Error("cannot write TensorBoard event file '" + path_ + "'");
  std::string e = event_header(0);
  put_bytes_field(e, 3, "brain.Event:2");
  write_record(e);
  flush();
}

void EventFileWriter::add_scalars(std::int64_t step,
                                  const std::vector<std::pair<std::string, double>>& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string v;
    put_bytes_field(v, 1, tag);
    put_key(v, 2, 5);
    put_fixed(v, static_cast<float>(value));
    put_bytes_field(summary, 1, v);
  }
  std::string e = event_header(step);
  put_bytes_field(e, 5, summary);
  write_record(e);
}

void EventFileWriter::add_session_start(std::int64_t step) {
  std::string log;
  put_key(log, 1, 0);
  put_varint(log, 1);  // SessionLog.START
  std::string e = event_header(step);
  put_bytes_field(e, 7, log);
  write_record(e);
}

void EventFileWriter::flush() {
  out_.flush();
  if (!out_) throw Error("cannot write TensorBoard event file '" + path_ + "'");
}

void EventFileWriter::write_record(const std::string& event) {
  std::string r;
  const std::uint64_t len = event.size();
  put_fixed(r, len);
  put_fixed(r, masked_crc32c(r.data(), sizeof(len)));
  r += event;
  put_fixed(r, masked_crc32c(event.data(), event.size()));
  out_.write(r.data(), static_cast<std::streamsize>(r.size()));
}

}  // namespace convoy::rl
