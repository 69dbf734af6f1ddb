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
