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

// CONVOY_FRAME_CLONES: a hot per-env function compiled twice on x86-64 hosts, for AVX2 and for
// the baseline, the loader choosing one (g++'s target_clones). AVX2 without FMA rounds every
// operation as the baseline does, so results are bit-identical. Measured on Highway-v0's frame:
// 8% fewer instructions per env-step (callgrind) and 5% more env-steps/s (BENCHMARKS.md).
// Also in nvcc's host pass (the CUDA-enabled build's CPU path); not in its device pass.
#if !defined(__CUDA_ARCH__) && defined(__GNUC__) && defined(__x86_64__)
#define CONVOY_FRAME_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CONVOY_FRAME_CLONES
#endif
