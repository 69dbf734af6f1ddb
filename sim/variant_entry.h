// An env that is two engine instantiations behind one name, E<true> and E<false>, chosen by one
// setting (Highway-v0's action_type: Discrete or Box actions have different dtypes, so different
// kernels). Include only from .cu files: it instantiates the engine (sim/batched_env.h).
#pragma once

#include <memory>
#include <string>

#include "sim/batched_env.h"
#include "sim/registry.h"

namespace convoy {

// The registry entry of E: setting `key` = `other` builds E<!kDefault>, anything else (its
// default included) E<kDefault>, whose spec the listings show; read_params reports bad values.
template <template <bool> class E, bool kDefault>
EnvEntry variant_entry(std::string key, std::string other) {
  auto make = [key, other](const Device& device, std::int64_t n,
                           const Config& config) -> std::unique_ptr<VecEnv> {
    const auto it = config.values().find(key);
    if (it != config.values().end() && it->second == other) {
      return make_batched_env<E<!kDefault>>(device, n, config);
    }
    return make_batched_env<E<kDefault>>(device, n, config);
  };
  return {default_env_spec<E<kDefault>>(), make};
}

}  // namespace convoy
