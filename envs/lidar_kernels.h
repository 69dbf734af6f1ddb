// The `kernels` setting of the envs whose observation is a lidar scan (DiffDriveNav-v0,
// Racetrack-v0; `obs_kernels` for Highway-v0 and Merge-v0 with observation=lidar, whose
// `kernels` says how the step runs): env observes each env in one call (E::observe, ray after
// ray), ray observes per env x ray plus per env for the other features (the env contract's
// per-ray hooks, sim/env_contract.h; a GPU thread each); auto is ray on CUDA and env on the CPU.
// Both give the same bits.
#pragma once

#include <cstdint>
#include <string>

#include "sim/config.h"
#include "sim/device.h"

// For the halves of an env's observe that the per-ray kernels call too (observe_features,
// a ray's return): inlined by g++ as well, or its inlining budget leaves them as calls from
// observe once the ray path's kernels exist (measured on Racetrack-v0's default CPU path:
// 38,263 instructions per env-step without this, 38,109 with it, 37,784 before the ray path).
#if defined(__CUDACC__) || !defined(__GNUC__)
#define CONVOY_OBS_INLINE __forceinline__
#else
#define CONVOY_OBS_INLINE inline __attribute__((always_inline))
#endif

namespace convoy::envs {

enum class LidarKernels : std::uint8_t { kAuto, kEnv, kRay };

// `key`'s value; `note` ends its description.
inline LidarKernels read_lidar_kernels(ConfigReader& r, const std::string& key = "kernels",
                                       const std::string& note = "") {
  const std::string doc =
      "how observations run: env (one call per env, ray after ray), ray (per env x lidar ray, "
      "thousands of envs x rays per launch); auto: ray on CUDA, env on the CPU" +
      note;
  const std::string k = r.choice(key, "auto", {"auto", "env", "ray"}, doc);
  return k == "env" ? LidarKernels::kEnv : k == "ray" ? LidarKernels::kRay : LidarKernels::kAuto;
}

// Whether observations run per ray on device d.
inline bool lidar_kernels_per_ray(LidarKernels k, const Device& d) {
  return k == LidarKernels::kRay || (k == LidarKernels::kAuto && d.is_cuda());
}

}  // namespace convoy::envs
