// Registry: env name -> factory and spec. envs/registry.cpp fills the one Convoy uses
// (convoy::env_registry()); this header is the mechanism only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/device.h"
#include "sim/vec_env.h"

namespace convoy {

struct EnvEntry {
  EnvSpec spec;  // with default settings
  std::function<std::unique_ptr<VecEnv>(const Device&, std::int64_t, const Config&)> make;
};

class Registry {
 public:
  void add(EnvEntry entry);
  // Throws convoy::Error naming the unknown env and listing the known ones.
  const EnvEntry& find(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::vector<EnvEntry>& entries() const { return entries_; }

  // find(name).make(device, num_envs, config).
  std::unique_ptr<VecEnv> make(const std::string& name, const Device& device, std::int64_t num_envs,
                               const Config& config = {}) const;

 private:
  std::vector<EnvEntry> entries_;
};

}  // namespace convoy
