// TensorBoard event files: `tensorboard --logdir DIR` reads the scalars `convoy train` logs
// per iteration (CleanRL's tags: charts/episodic_return, losses/value_loss, ...).
//
// The file is TFRecord framing (uint64 length, masked CRC-32C of the length, the record,
// masked CRC-32C of the record; little-endian) around Event protocol buffers:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
//             Summary summary = 5; SessionLog session_log = 7; }
//   Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }
//   SessionLog { Status status = 1; }  (START = 1)
// The first record is the file_version event "brain.Event:2".
//
// Why hand-written: these five fields are all Convoy writes, and their wire format is fixed
// by TensorBoard's readers; libprotobuf would add protoc code generation and a runtime
// library to the build (and to the staged GPU-check dependencies) for about forty lines of
// varint and fixed-width encoding. Debian has no CRC-32C library package either (no
// libcrc32c; libcrcutil is a generic CRC toolkit, again one more shared library to stage),
// so CRC-32C is the 256-entry table form below. tests/python/test_tensorboard.py reads the
// files back with TensorBoard's own EventAccumulator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace convoy::rl {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continuing from `crc` (0 to start).
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);
// TFRecord's masking: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
std::uint32_t masked_crc32c(const void* data, std::size_t size);

class EventFileWriter {
 public:
  // Creates DIR/events.out.tfevents.<unix seconds>.<host> (".N" appended if that exists)
  // and writes the file_version record. Throws convoy::Error when it cannot.
  explicit EventFileWriter(const std::string& dir);

  // One Event at `step` holding a scalar per (tag, value).
  void add_scalars(std::int64_t step, const std::vector<std::pair<std::string, double>>& scalars);
  // A SessionLog START at `step`: TensorBoard then drops data this directory logged at or
  // after `step` before a restart (what a resumed run rewrites).
  void add_session_start(std::int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& event);

  std::string path_;
  std::ofstream out_;
};

}  // namespace convoy::rl
