// rl/event_file.h: CRC-32C against RFC 3720's test vectors (B.4) and the common check value,
// and the TFRecord framing of the event file (lengths and masked checksums), decoded by hand.
#include "rl/event_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace convoy::rl {
namespace {

TEST(Crc32c, MatchesRfc3720TestVectors) {
  unsigned char b[32];
  std::memset(b, 0, 32);
  EXPECT_EQ(crc32c(b, 32), 0x8A9136AAu);
  std::memset(b, 0xff, 32);
  EXPECT_EQ(crc32c(b, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) b[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(crc32c(b, 32), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) b[i] = static_cast<unsigned char>(31 - i);
  EXPECT_EQ(crc32c(b, 32), 0x113FDB5Cu);
  const unsigned char pdu[48] = {0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0, 0, 0, 0,
                                 0x14, 0,    0, 0, 0, 0, 4, 0, 0, 0, 0, 0x14, 0, 0, 0, 0x18,
                                 0x28, 0,    0, 0, 0, 0, 0, 0, 2, 0, 0, 0,    0, 0, 0, 0};
  EXPECT_EQ(crc32c(pdu, 48), 0xD9963A56u);  // an iSCSI SCSI Read (10) command PDU
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  // continuing a CRC over a second piece equals one pass
  EXPECT_EQ(crc32c("456789", 6, crc32c("123", 3)), 0xE3069283u);
}

template <class T>
T read_le(const std::string& s, std::size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof(T));
  return v;
}

TEST(EventFile, RecordsAreFramedWithMaskedCrcs) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "convoy_event_file_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path;
  {
    EventFileWriter w(dir.string());
    w.add_scalars(256, {{"charts/episodic_return", 21.5}, {"losses/value_loss", 0.25}});
    w.add_session_start(512);
    w.flush();
    path = w.path();
    EventFileWriter second(dir.string());  // same second: a distinct name
    EXPECT_NE(second.path(), path);
  }
  EXPECT_EQ(std::filesystem::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u);
  std::ifstream in(path, std::ios::binary);
  const std::string f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t at = 0;
  std::vector<std::string> records;
  while (at < f.size()) {
    ASSERT_LE(at + 12, f.size());
    const auto len = read_le<std::uint64_t>(f, at);
    EXPECT_EQ(read_le<std::uint32_t>(f, at + 8), masked_crc32c(f.data() + at, 8));
    ASSERT_LE(at + 12 + len + 4, f.size());
    const std::string rec = f.substr(at + 12, len);
    EXPECT_EQ(read_le<std::uint32_t>(f, at + 12 + len), masked_crc32c(rec.data(), rec.size()));
    records.push_back(rec);
    at += 12 + len + 4;
  }
  ASSERT_EQ(records.size(), 3u);
  EXPECT_NE(records[0].find("brain.Event:2"), std::string::npos);
  EXPECT_NE(records[1].find("charts/episodic_return"), std::string::npos);
  // the float 21.5 right after its tag: Value.simple_value is field 2, fixed32 (key 0x15)
  const std::size_t tag = records[1].find("charts/episodic_return") + 22;
  EXPECT_EQ(static_cast<unsigned char>(records[1][tag]), 0x15);
  EXPECT_EQ(read_le<float>(records[1], tag + 1), 21.5f);
  // the step is field 2 as a varint after the 9-byte wall_time: 256 = 0x80 0x02
  EXPECT_EQ(records[1].substr(9, 3), std::string("\x10\x80\x02", 3));
  // session_log (field 7) { status (1) = START (1) }
  EXPECT_NE(records[2].find(std::string("\x3a\x02\x08\x01", 4)), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace convoy::rl
