// What a Gymnasium vector env returns after VecEnv::step, composed on the env's device in one
// pass over the envs, so the Python wrapper adds no per-env work of its own:
//   - NEXT_STEP (Gymnasium's SyncVectorEnv default): the engine has already reset an env whose
//     episode ended (SAME_STEP inside); Gymnasium shows that env's terminal obs now and the
//     fresh episode's first obs on the next step, ignoring that step's action. obs_out gets the
//     final obs where an episode ended and the engine's obs elsewhere; done (the next step's
//     skip mask for VecEnv::step_raw) keeps the engine's fresh obs untouched for one step.
//   - both modes: done = terminated | truncated, and the ended episodes' return and length
//     (0 elsewhere), the arrays behind infos["episode"].
#pragma once

#include <cstdint>

#include "sim/vec_env.h"

namespace convoy {

// All pointers are device buffers of env.num_envs() rows (obs_out: x obs_dim); obs_out may be
// null (SAME_STEP). Returns how many envs' episodes ended this step. Synchronous.
std::int64_t compose_step_outputs(const VecEnv& env, float* obs_out, std::uint8_t* done,
                                  double* episode_return, std::int32_t* episode_length);

}  // namespace convoy
