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
#include <cstring>

#include "sim/hd.h"
#include "sim/vec_env.h"

namespace convoy {

// All pointers are device buffers of env.num_envs() rows (obs_out: x obs_dim); obs_out may be
// null (SAME_STEP). Returns how many envs' episodes ended this step. Synchronous (on CUDA its
// one host wait also reports invalid actions of the steps before it, as check_steps does).
std::int64_t compose_step_outputs(VecEnv& env, float* obs_out, std::uint8_t* done,
                                  double* episode_return, std::int32_t* episode_length);

namespace detail {

// CPU: done, the ended episodes' return and length (0 elsewhere) for envs [begin, end);
// returns how many ended. The selects are bit masks (all ones where done: +0.0 and 0
// elsewhere) and the arrays restrict-qualified: GCC 12 vectorises the loop only so (with
// `d ? x : 0.0` it ran unvectorised, 20 instructions per env). The outputs are the caller's
// buffers and never alias the engine's.
inline std::int64_t compose_flags(const std::uint8_t* __restrict term,
                                  const std::uint8_t* __restrict trunc,
                                  const double* __restrict fret,
                                  const std::int32_t* __restrict flen,
                                  std::uint8_t* __restrict done, double* __restrict ret,
                                  std::int32_t* __restrict len, std::int64_t begin,
                                  std::int64_t end) {
  std::int64_t ended = 0;
  for (std::int64_t i = begin; i < end; ++i) {
    const auto d = static_cast<std::uint8_t>((term[i] | trunc[i]) != 0);
    const std::uint64_t mask = 0 - static_cast<std::uint64_t>(d);
    std::uint64_t bits;
    std::memcpy(&bits, fret + i, sizeof bits);
    bits &= mask;
    std::memcpy(ret + i, &bits, sizeof bits);
    len[i] = flen[i] & static_cast<std::int32_t>(mask);
    done[i] = d;
    ended += d;
  }
  return ended;
}

// The composition of one env (CUDA: one thread each) or of a block of envs (CPU).
struct ComposeKernel {
  std::int64_t obs_dim;
  const float* obs;
  const float* final_obs;
  const std::uint8_t* terminated;
  const std::uint8_t* truncated;
  const double* final_return;
  const std::int32_t* final_length;
  StepOutputs out;

  CONVOY_HD void operator()(std::int64_t i) const {
    const bool d = terminated[i] || truncated[i];
    out.done[i] = d ? 1 : 0;
    out.episode_return[i] = d ? final_return[i] : 0.0;
    out.episode_length[i] = d ? final_length[i] : 0;
    if (out.obs_out) {
      const float* src = (d ? final_obs : obs) + i * obs_dim;
      float* dst = out.obs_out + i * obs_dim;
      for (std::int64_t k = 0; k < obs_dim; ++k) dst[k] = src[k];
    }
  }

  // CPU: envs [begin, end) with the same results as operator(), in passes the compiler can
  // vectorise (the flags and totals), one copy of the block's obs and a copy of the final obs
  // of the few envs that ended. Returns how many ended.
  std::int64_t block(std::int64_t begin, std::int64_t end) const {
    const std::int64_t ended =
        compose_flags(terminated, truncated, final_return, final_length, out.done,
                      out.episode_return, out.episode_length, begin, end);
    if (out.obs_out == nullptr) return ended;
    std::memcpy(out.obs_out + begin * obs_dim, obs + begin * obs_dim,
                sizeof(float) * static_cast<std::size_t>((end - begin) * obs_dim));
    if (ended == 0) return ended;
    for (std::int64_t i = begin; i < end; ++i) {
      if (out.done[i]) {
        std::memcpy(out.obs_out + i * obs_dim, final_obs + i * obs_dim,
                    sizeof(float) * static_cast<std::size_t>(obs_dim));
      }
    }
    return ended;
  }
};

ComposeKernel compose_kernel(const VecEnv& env, const StepOutputs& out);

}  // namespace detail

}  // namespace convoy
