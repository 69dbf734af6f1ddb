#include "sim/registry.h"

#include "sim/error.h"

namespace convoy {

void Registry::add(EnvEntry entry) {
  for (const auto& e : entries_) {
    if (e.spec.name == entry.spec.name) throw Error("env '" + e.spec.name + "' registered twice");
  }
  entries_.push_back(std::move(entry));
}

const EnvEntry& Registry::find(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.spec.name == name) return e;
  }
  std::string known;
  for (const auto& e : entries_) known += (known.empty() ? "" : ", ") + e.spec.name;
  throw Error("unknown env '" + name + "'; allowed: " + known);
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.spec.name);
  return out;
}

std::unique_ptr<VecEnv> Registry::make(const std::string& name, const Device& device,
                                       std::int64_t num_envs, const Config& config) const {
  return find(name).make(device, num_envs, config);
}

}  // namespace convoy
