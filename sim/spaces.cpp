#include "sim/spaces.h"

#include <algorithm>
#include <cstdio>

#include "sim/error.h"

namespace convoy {

Space Space::box(std::vector<float> low, std::vector<float> high) {
  if (low.size() != high.size() || low.empty()) {
    throw Error("Box bounds must be non-empty and of equal length (got " +
                std::to_string(low.size()) + " and " + std::to_string(high.size()) + ")");
  }
  Space s;
  s.kind = Kind::kBox;
  s.shape = {static_cast<std::int64_t>(low.size())};
  s.low = std::move(low);
  s.high = std::move(high);
  return s;
}

Space Space::discrete(std::int64_t n) {
  if (n < 1) throw Error("Discrete(" + std::to_string(n) + ") is invalid; allowed: n >= 1");
  Space s;
  s.kind = Kind::kDiscrete;
  s.n = n;
  return s;
}

std::int64_t Space::flat_dim() const {
  if (is_discrete()) return 1;
  std::int64_t d = 1;
  for (auto e : shape) d *= e;
  return d;
}

namespace {
std::string bound_str(const std::vector<float>& v) {
  const bool same = std::all_of(v.begin(), v.end(), [&](float x) { return x == v[0]; });
  auto one = [](float x) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", x);
    std::string s(buf);
    if (s.find_first_of(".ein") == std::string::npos) s += ".0";
    return s;
  };
  if (same) return one(v[0]);
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + one(v[i]);
  return out + "]";
}
}  // namespace

std::string Space::str() const {
  if (is_discrete()) return "Discrete(" + std::to_string(n) + ")";
  std::string shp = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) shp += std::to_string(shape[i]) + ",";
  shp += ")";
  return "Box(" + bound_str(low) + ", " + bound_str(high) + ", " + shp + ", float32)";
}

}  // namespace convoy
