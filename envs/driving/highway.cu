// Highway-v0's engine instantiations and registry entry (see envs/driving/driving.h).
#include "envs/driving/driving.h"
#include "envs/driving/highway.h"
#include "sim/variant_entry.h"

namespace convoy::envs {

// action_type=discrete (default) or continuous: int32 or float32 actions, two instantiations
EnvEntry highway_entry() { return variant_entry<Highway, true>("action_type", "continuous"); }

}  // namespace convoy::envs
