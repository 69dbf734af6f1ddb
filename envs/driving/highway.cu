// Highway-v0's engine instantiations and registry entry (see envs/driving/driving.h);
// HighwayFast-v0's are in highway_fast.cu, so the two compile in parallel.
#include "envs/driving/driving.h"
#include "envs/driving/highway.h"
#include "sim/variant_entry.h"

namespace convoy::envs {

template <bool Discrete>
using HighwayV0 = Highway<Discrete, false>;

// action_type=discrete (default) or continuous: int32 or float32 actions, two instantiations
EnvEntry highway_entry() { return variant_entry<HighwayV0, true>("action_type", "continuous"); }

}  // namespace convoy::envs
