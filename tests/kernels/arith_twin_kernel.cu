// Test-only GPU shim: runs every primitive of kernels/common/arith.cuh twice per thread, as its inline-PTX
// chain and as its portable twin, so tests/kernels/test_arith_twin_gpu.py can compare them on a device.
#include "common/portable.cuh"
#include "common/arith.cuh"

#if !defined(__CUDACC__)
#error "arith_twin_kernel.cu is a GPU-only test shim"
#endif

// Words per item in each output: add8 (8 + carry), sub8 (8 + borrow), add8_u32 (9), sub8_u32 (9),
// mad8_u32 (9), mul8 (16), sqr8 (16).
#define ARITH_TWIN_WORDS 77

template <bool PTX>
__device__ void arith_twin_one(uint32_t *o, const uint32_t *a, const uint32_t *b, uint32_t s) {
  uint32_t r[16];
  o[8] = PTX ? arith_add8_ptx(r, a, b) : arith_add8_portable(r, a, b);
  for (int i = 0; i < 8; ++i) o[i] = r[i];
  o[17] = PTX ? arith_sub8_ptx(r, a, b) : arith_sub8_portable(r, a, b);
  for (int i = 0; i < 8; ++i) o[9 + i] = r[i];
  o[26] = PTX ? arith_add8_u32_ptx(r, a, s) : arith_add8_u32_portable(r, a, s);
  for (int i = 0; i < 8; ++i) o[18 + i] = r[i];
  o[35] = PTX ? arith_sub8_u32_ptx(r, a, s) : arith_sub8_u32_portable(r, a, s);
  for (int i = 0; i < 8; ++i) o[27 + i] = r[i];
  if (PTX) arith_mad8_u32_ptx(r, a, s, b); else arith_mad8_u32_portable(r, a, s, b);
  for (int i = 0; i < 9; ++i) o[36 + i] = r[i];
  if (PTX) arith_mul8_ptx(r, a, b); else arith_mul8_portable(r, a, b);
  for (int i = 0; i < 16; ++i) o[45 + i] = r[i];
  if (PTX) arith_sqr8_ptx(r, a); else arith_sqr8_portable(r, a);
  for (int i = 0; i < 16; ++i) o[61 + i] = r[i];
}

// a, b: n x 8 limbs; s: n words; out_ptx, out_portable: n x ARITH_TWIN_WORDS.
extern "C" __global__ void arith_twin_kernel(const uint32_t *a, const uint32_t *b, const uint32_t *s,
                                             uint32_t *out_ptx, uint32_t *out_portable, uint32_t n) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  arith_twin_one<true>(out_ptx + ARITH_TWIN_WORDS * (uint64_t)i, a + 8 * (uint64_t)i, b + 8 * (uint64_t)i, s[i]);
  arith_twin_one<false>(out_portable + ARITH_TWIN_WORDS * (uint64_t)i, a + 8 * (uint64_t)i, b + 8 * (uint64_t)i, s[i]);
}
