// CONVOY_HD marks functions that run on both backends: __host__ __device__ under nvcc,
// nothing under a plain C++ compiler. Kernel bodies, physics and env rules are written once
// with it and compiled twice (g++ for the CPU path, nvcc for both when CUDA is enabled).
#pragma once

#if defined(__CUDACC__)
#define CONVOY_HD __host__ __device__
#define CONVOY_HD_INLINE __host__ __device__ __forceinline__
#else
#define CONVOY_HD
#define CONVOY_HD_INLINE inline
#endif

// CONVOY_HD_INLINE that g++ inlines too: for the helpers of a hot per-env loop that g++ would
// otherwise leave as calls (nvcc's __forceinline__ already forces it). Used by the traffic
// frames (envs/driving/highway.h, intersection.h), where it was measured with callgrind.
#if defined(__CUDACC__) || !defined(__GNUC__)
#define CONVOY_FRAME_INLINE CONVOY_HD_INLINE
#else
#define CONVOY_FRAME_INLINE inline __attribute__((always_inline))
#endif
