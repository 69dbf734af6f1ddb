// Parking-v0's engine instantiation and registry entry (see envs/driving/driving.h).
#include "envs/driving/driving.h"
#include "envs/driving/parking.h"
#include "sim/batched_env.h"

namespace convoy::envs {

EnvEntry parking_entry() { return {default_env_spec<Parking>(), &make_batched_env<Parking>}; }

}  // namespace convoy::envs
