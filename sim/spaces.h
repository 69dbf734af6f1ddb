// Spaces describe one env's observations and actions, as Gymnasium's Box and Discrete do.
// Buffers are batch-first: a Box of shape (d,) becomes [num_envs, d] float32; a Discrete(n)
// action becomes [num_envs] int32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convoy {

struct Space {
  enum class Kind { kBox, kDiscrete };
  Kind kind = Kind::kBox;
  std::vector<std::int64_t> shape;  // Box: element shape; Discrete: empty
  std::vector<float> low, high;     // Box: per-element bounds (may be +-inf)
  std::int64_t n = 0;               // Discrete: number of actions

  static Space box(std::vector<float> low, std::vector<float> high);
  static Space discrete(std::int64_t n);

  bool is_box() const { return kind == Kind::kBox; }
  bool is_discrete() const { return kind == Kind::kDiscrete; }
  // Elements per env in a batched buffer: the Box's size, or 1 for Discrete.
  std::int64_t flat_dim() const;
  // "float32" or "int32".
  const char* dtype() const { return is_box() ? "float32" : "int32"; }
  // Gymnasium's notation: "Box(-2.0, 2.0, (1,), float32)", "Discrete(2)".
  std::string str() const;
};

}  // namespace convoy
