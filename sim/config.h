// Typed key=value configuration. Config holds what the user wrote; ConfigReader is how an
// env or learner reads its settings: each read names the key, its default, its allowed range
// and a one-line doc, so the same code validates input and documents it (`convoy envs`).
// Every bad value or unknown key is a convoy::Error that names the key, the value and what
// is allowed.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace convoy {

class Config {
 public:
  Config() = default;
  // Parses "key=value" words; a word without '=' or with an empty key is an error.
  static Config parse(const std::vector<std::string>& words);
  void set(const std::string& key, const std::string& value) { values_[key] = value; }
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

// The key=value words of a settings file such as a preset (presets/<algo>/<env>.conf): one
// per line, '#' starts a comment, surrounding blanks and blank lines are skipped. A file that
// cannot be read gives no words.
std::vector<std::string> read_config_words(const std::string& path);

// One documented setting, as listed by `convoy envs`.
struct ConfigKey {
  std::string name;
  std::string type;           // "int", "float", "bool", "choice"
  std::string default_value;  // as text
  std::string allowed;        // "[1, 100000]", "true|false", "a|b"
  std::string doc;
};

class ConfigReader {
 public:
  // `owner` names what is being configured ("CartPole-v1") in error messages.
  ConfigReader(const Config& config, std::string owner);

  double real(const std::string& key, double def, double lo, double hi, const std::string& doc);
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi,
                       const std::string& doc);
  bool boolean(const std::string& key, bool def, const std::string& doc);
  std::string choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& allowed, const std::string& doc);

  // Throws for any key in the config that no read asked for, listing the known keys.
  void finish() const;
  const std::vector<ConfigKey>& keys() const { return keys_; }

 private:
  const std::string* find(const std::string& key);
  [[noreturn]] void bad(const std::string& key, const std::string& value,
                        const std::string& allowed) const;

  const Config& config_;
  std::string owner_;
  std::vector<ConfigKey> keys_;
  std::set<std::string> read_;
};

}  // namespace convoy
