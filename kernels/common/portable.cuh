// Maps the few CUDA built-ins the kernels use, so that the same sources build with nvcc (backend `cuda`)
// or with a host C++ compiler and -DVERIFIER_EMU (backend `emu`, for CI and reviewers without a GPU).
#ifndef VERIFIER_KERNELS_COMMON_PORTABLE_CUH
#define VERIFIER_KERNELS_COMMON_PORTABLE_CUH

#if defined(__CUDACC__)
// nvcc / NVRTC: the real built-ins. NVRTC (CuPy's RawModule) has no <cstdint>.
#if defined(__CUDACC_RTC__)
typedef unsigned char uint8_t;
typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
#else
#include <cstdint>
#endif
#define VERIFIER_DEVICE __device__ __forceinline__
#define VERIFIER_CONSTANT __constant__
// A read-only table that each thread indexes on its own: global memory (constant memory would serialize a
// warp's distinct addresses), usually copied to shared memory per block with VERIFIER_SHARED_COPY.
#define VERIFIER_TABLE __device__ const
#define VERIFIER_KERNEL extern "C" __global__ void
#define VERIFIER_EMU_LAUNCHER(kernel, params, args)
// Declares `const uint32_t *name`: a copy of the table src (words 32-bit words) in shared memory, loaded
// by the whole block. It ends with __syncthreads, so it must come before any thread of the block returns.
#define VERIFIER_SHARED_COPY(name, src, words)                                                     \
  __shared__ uint32_t name##_smem[words];                                                          \
  for (unsigned name##_i = threadIdx.x; name##_i < (words); name##_i += blockDim.x)                \
    name##_smem[name##_i] = (src)[name##_i];                                                       \
  __syncthreads();                                                                                 \
  const uint32_t *name = name##_smem

#elif defined(VERIFIER_EMU)
#include <cstdint>
#include <cstddef>
#define VERIFIER_DEVICE static inline
#define VERIFIER_CONSTANT static const
#define VERIFIER_TABLE static const
#define VERIFIER_KERNEL static void
#define __restrict__ __restrict

struct verifier_dim3 {
  unsigned x, y, z;
};
// One emulated CUDA thread at a time per host thread; host threads run disjoint block ranges.
[[maybe_unused]] static thread_local verifier_dim3 threadIdx = {0, 0, 0};
[[maybe_unused]] static thread_local verifier_dim3 blockIdx = {0, 0, 0};
[[maybe_unused]] static thread_local verifier_dim3 blockDim = {1, 1, 1};

#define VERIFIER_UNWRAP(...) __VA_ARGS__
// Exports `<kernel>_emu(block_begin, block_end, block_dim, params...)`, which runs blocks
// [block_begin, block_end) of a 1-D grid, each thread of a block in turn. Kernels launched this way must
// not depend on cooperation between the threads of a block (no __syncthreads, no shared scratch).
#define VERIFIER_EMU_LAUNCHER(kernel, params, args)                                                  \
  extern "C" void kernel##_emu(unsigned block_begin, unsigned block_end, unsigned block_dim,        \
                               VERIFIER_UNWRAP params) {                                             \
    blockDim.x = block_dim;                                                                          \
    for (unsigned b = block_begin; b < block_end; ++b) {                                             \
      blockIdx.x = b;                                                                                \
      for (unsigned t = 0; t < block_dim; ++t) {                                                     \
        threadIdx.x = t;                                                                             \
        kernel args;                                                                                 \
      }                                                                                              \
    }                                                                                                \
  }

// One emulated thread at a time reads the table itself.
#define VERIFIER_SHARED_COPY(name, src, words) const uint32_t *name = (src)

#else
#error "build with nvcc/NVRTC (backend cuda) or with -DVERIFIER_EMU (backend emu)"
#endif

#endif  // VERIFIER_KERNELS_COMMON_PORTABLE_CUH
