// A traffic frame's neighbour search (physics/traffic_frame.h): the cars of one scene sorted
// along the road, and each car's leaders in its own and both side lanes, what highway-env's
// Road.neighbour_vehicles answers.
#pragma once

#include <cstdint>

#include "sim/hd.h"

namespace convoy::physics::traffic {

constexpr int kMaxVehicles = 208;  // per-frame scratch size; read_params caps vehicles at 201
constexpr int kMaxLanes = 10;      // read_params caps lanes at 10

// One env's neighbours in a frame: the vehicles sorted by (x, index), and each one's leaders
// in its own and both side lanes, tabled, what Road.neighbour_vehicles answers. The followers
// in the side lanes are asked for only by MOBIL's safety check (when a change would pay), and
// are found then, by a walk back along the order from the car, about `lanes` steps. (Tabling
// the followers too, as before, cost 5% of a Highway-v0 env-step's instructions, callgrind; a
// walk for the leaders as well saved 1% more instructions but its exit mispredicted, 10% more
// mispredicted branches in all: see BENCHMARKS.md.)
struct Neighbours {
  const std::int32_t* lane;   // (vehicles) each car's nearest lane this frame
  const std::int32_t* order;  // (vehicles) the cars by (x, index)
  const std::int32_t* pos;    // (vehicles) pos[order[k]] = k
  const std::int32_t* front;  // (vehicles x 3) the nearest car at or ahead in lanes lane - 1,
                              // lane, lane + 1 (after the car in the order), or -1
  std::int32_t n;
  // the nearest car at or ahead of v in lane l, |l - lane[v]| <= 1, or -1
  CONVOY_HD_INLINE std::int32_t ahead(std::int32_t v, std::int32_t l) const {
    return front[3 * v + (l - lane[v] + 1)];
  }
  // the nearest car at or behind v (before v in the order) in lane l, or -1
  CONVOY_HD_INLINE std::int32_t behind(std::int32_t v, std::int32_t l) const {
    for (std::int32_t k = pos[v] - 1; k >= 0; --k) {
      if (lane[order[k]] == l) return order[k];
    }
    return -1;
  }
};

// Sorts the cars by x into order / pos and tables their leaders (see Neighbours); x and lane
// (n each) are read.
CONVOY_FRAME_INLINE void neighbour_tables(const std::int32_t* lane, const float* x, std::int32_t n,
                                          std::int32_t lanes, std::int32_t* order,
                                          std::int32_t* pos, std::int32_t* front) {
  // One sort by x instead of a scan of all cars per query (the scans were 60% of a frame).
  // Sort order is by (x, index); the scene barely changes between frames, so insertion sort
  // runs in about n steps. The keys are sorted alongside the order so the inner loop reads no
  // x through an index.
  // (Sorted in a local array, copied out below: sorting in `order` itself cost 40% more
  // instructions in the sort, callgrind.)
  std::int32_t sorted[kMaxVehicles];
  float key[kMaxVehicles];
  for (std::int32_t v = 0; v < n; ++v) {
    const float xv = x[v];
    std::int32_t j = v;
    while (j > 0 && key[j - 1] > xv) {
      sorted[j] = sorted[j - 1];
      key[j] = key[j - 1];
      --j;
    }
    sorted[j] = v;
    key[j] = xv;
  }
  // last[l + 1] is lane l's latest car, walking from the front; the slots for lanes -1 and
  // `lanes` stay -1, so the side lanes need no bounds checks. 64-bit slots: with 32-bit ones
  // g++ read two lanes' slots as one 8-byte load right after a 4-byte store to one of them, a
  // store-to-load forwarding stall that cost a quarter of the tables' time.
  std::int64_t last[kMaxLanes + 2];
  for (std::int32_t l = 0; l < lanes + 2; ++l) last[l] = -1;
  for (std::int32_t k = n - 1; k >= 0; --k) {
    const std::int32_t v = sorted[k], l = lane[v];
    order[k] = v;
    pos[v] = k;
    front[3 * v] = static_cast<std::int32_t>(last[l]);
    front[3 * v + 1] = static_cast<std::int32_t>(last[l + 1]);
    front[3 * v + 2] = static_cast<std::int32_t>(last[l + 2]);
    last[l + 1] = v;
  }
}

}  // namespace convoy::physics::traffic
