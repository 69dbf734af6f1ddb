// Racetrack-v0's engine instantiations and registry entry (see envs/driving/driving.h).
#include "envs/driving/driving.h"
#include "envs/driving/racetrack.h"
#include "sim/variant_entry.h"

namespace convoy::envs {

// action=steer (default) is Box(1), action=accel_steer Box(2): two instantiations
EnvEntry racetrack_entry() { return variant_entry<Racetrack, false>("action", "accel_steer"); }

}  // namespace convoy::envs
