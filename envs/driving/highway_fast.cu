// HighwayFast-v0's engine instantiations and registry entry (see envs/driving/driving.h): the
// Highway engine (envs/driving/highway.h) with highway-fast-v0's defaults.
#include "envs/driving/driving.h"
#include "envs/driving/highway.h"
#include "sim/variant_entry.h"

namespace convoy::envs {

template <bool Discrete>
using HighwayFast = Highway<Discrete, true>;

// action_type=discrete (default) or continuous, as Highway-v0's
EnvEntry highway_fast_entry() {
  return variant_entry<HighwayFast, true>("action_type", "continuous");
}

}  // namespace convoy::envs
