#include "sim/config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sim/error.h"

namespace convoy {

Config Config::parse(const std::vector<std::string>& words) {
  Config c;
  for (const auto& w : words) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error("config '" + w + "' is not a setting; allowed: key=value");
    }
    c.set(w.substr(0, eq), w.substr(eq + 1));
  }
  return c;
}

ConfigReader::ConfigReader(const Config& config, std::string owner)
    : config_(config), owner_(std::move(owner)) {}

const std::string* ConfigReader::find(const std::string& key) {
  read_.insert(key);
  auto it = config_.values().find(key);
  return it == config_.values().end() ? nullptr : &it->second;
}

void ConfigReader::bad(const std::string& key, const std::string& value,
                       const std::string& allowed) const {
  throw Error(owner_ + ": config " + key + "=" + value + " is invalid; allowed: " + allowed);
}

namespace {
std::string num_str(double x) {
  std::ostringstream o;
  o << x;
  return o.str();
}
}  // namespace

double ConfigReader::real(const std::string& key, double def, double lo, double hi,
                          const std::string& doc) {
  const std::string allowed = "a number in [" + num_str(lo) + ", " + num_str(hi) + "]";
  keys_.push_back({key, "float", num_str(def), "[" + num_str(lo) + ", " + num_str(hi) + "]", doc});
  const std::string* v = find(key);
  if (!v) return def;
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || errno == ERANGE || !std::isfinite(x) || x < lo || x > hi) {
    bad(key, *v, allowed);
  }
  return x;
}

std::int64_t ConfigReader::integer(const std::string& key, std::int64_t def, std::int64_t lo,
                                   std::int64_t hi, const std::string& doc) {
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  keys_.push_back({key, "int", std::to_string(def), range, doc});
  const std::string* v = find(key);
  if (!v) return def;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno == ERANGE || x < lo || x > hi) {
    bad(key, *v, "an integer in " + range);
  }
  return x;
}

bool ConfigReader::boolean(const std::string& key, bool def, const std::string& doc) {
  keys_.push_back({key, "bool", def ? "true" : "false", "true|false", doc});
  const std::string* v = find(key);
  if (!v) return def;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  bad(key, *v, "true, false, 1 or 0");
}

std::string ConfigReader::choice(const std::string& key, const std::string& def,
                                 const std::vector<std::string>& allowed, const std::string& doc) {
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
  keys_.push_back({key, "choice", def, list, doc});
  const std::string* v = find(key);
  if (!v) return def;
  for (const auto& a : allowed) {
    if (*v == a) return a;
  }
  bad(key, *v, "one of " + list);
}

void ConfigReader::finish() const {
  for (const auto& [key, value] : config_.values()) {
    if (read_.count(key)) continue;
    std::string known;
    for (const auto& k : keys_) known += (known.empty() ? "" : ", ") + k.name;
    throw Error(owner_ + ": unknown config key '" + key + "' (value '" + value +
                "'); allowed keys: " + (known.empty() ? "none" : known));
  }
}

std::vector<std::string> read_config_words(const std::string& path) {
  std::vector<std::string> words;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    const auto b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos) words.push_back(line.substr(b, e - b + 1));
  }
  return words;
}

}  // namespace convoy
