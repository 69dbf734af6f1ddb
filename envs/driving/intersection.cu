// Intersection-v0's engine instantiations and registry entry (see envs/driving/driving.h).
#include "envs/driving/driving.h"
#include "envs/driving/intersection.h"
#include "sim/variant_entry.h"

namespace convoy::envs {

// action_type=discrete (default) or continuous: int32 or float32 actions, two instantiations
EnvEntry intersection_entry() {
  return variant_entry<Intersection, true>("action_type", "continuous");
}

}  // namespace convoy::envs
