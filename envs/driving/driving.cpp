// Registers the driving envs: one line each (their engines: envs/driving/<env>.cu).
#include "envs/driving/driving.h"

#include "envs/registry.h"

namespace convoy {

void register_driving_envs(Registry& registry) {
  registry.add(envs::highway_entry());
  registry.add(envs::highway_fast_entry());
  registry.add(envs::merge_entry());
  registry.add(envs::parking_entry());
  registry.add(envs::racetrack_entry());
  registry.add(envs::intersection_entry());
}

}  // namespace convoy
