// Multi-limb integer primitives on little-endian 32-bit limbs (add, subtract, multiply with carry), the
// only place the kernels use inline PTX: on the GPU each call is one carry chain from
// common/arith_ptx.cuh; everywhere else (backend emu, and the twin test) the portable C++ twin below runs.
//
// Names: arith_<op>8 works on 8 limbs (256 bits). `_portable` is always compiled (the GPU twin test calls
// both); `_ptx` exists only under nvcc/NVRTC. The unsuffixed name picks `_ptx` in device code.
#ifndef VERIFIER_KERNELS_COMMON_ARITH_CUH
#define VERIFIER_KERNELS_COMMON_ARITH_CUH

#include "common/portable.cuh"
#include "common/arith_ptx.cuh"

#if defined(__CUDACC__)
#define VERIFIER_ARITH_FN __host__ __device__ __forceinline__
#else
#define VERIFIER_ARITH_FN static inline
#endif

// r = a + b mod 2^256; returns the carry out (0 or 1). r may alias a or b.
VERIFIER_ARITH_FN uint32_t arith_add8_portable(uint32_t r[8], const uint32_t a[8], const uint32_t b[8]) {
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) {
    t += (uint64_t)a[i] + b[i];
    r[i] = (uint32_t)t;
    t >>= 32;
  }
  return (uint32_t)t;
}

// r = a - b mod 2^256; returns the borrow out (0 or 1). r may alias a or b.
VERIFIER_ARITH_FN uint32_t arith_sub8_portable(uint32_t r[8], const uint32_t a[8], const uint32_t b[8]) {
  uint32_t borrow = 0;
  for (int i = 0; i < 8; ++i) {
    uint64_t t = (uint64_t)a[i] - b[i] - borrow;
    r[i] = (uint32_t)t;
    borrow = (uint32_t)(t >> 63);
  }
  return borrow;
}

// r = a + s mod 2^256 for a 32-bit s; returns the carry out. r may alias a.
VERIFIER_ARITH_FN uint32_t arith_add8_u32_portable(uint32_t r[8], const uint32_t a[8], uint32_t s) {
  uint64_t t = s;
  for (int i = 0; i < 8; ++i) {
    t += a[i];
    r[i] = (uint32_t)t;
    t >>= 32;
  }
  return (uint32_t)t;
}

// r = a - s mod 2^256 for a 32-bit s; returns the borrow out. r may alias a.
VERIFIER_ARITH_FN uint32_t arith_sub8_u32_portable(uint32_t r[8], const uint32_t a[8], uint32_t s) {
  uint32_t borrow = s;
  for (int i = 0; i < 8; ++i) {
    uint64_t t = (uint64_t)a[i] - borrow;
    r[i] = (uint32_t)t;
    borrow = (uint32_t)(t >> 63);
  }
  return borrow;
}

// r (9 limbs) = c + a * s. Never overflows: c + a*s <= (2^256 - 1) * 2^32 < 2^288. r must not alias a or c.
VERIFIER_ARITH_FN void arith_mad8_u32_portable(uint32_t r[9], const uint32_t a[8], uint32_t s, const uint32_t c[8]) {
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) {
    t += (uint64_t)a[i] * s + c[i];  // < 2^64: (2^32-1)^2 + 2 (2^32-1) = 2^64 - 1
    r[i] = (uint32_t)t;
    t >>= 32;
  }
  r[8] = (uint32_t)t;
}

// r (16 limbs) = a * b, schoolbook by rows. r must not alias a or b.
VERIFIER_ARITH_FN void arith_mul8_portable(uint32_t r[16], const uint32_t a[8], const uint32_t b[8]) {
  for (int i = 0; i < 16; ++i) r[i] = 0;
  for (int i = 0; i < 8; ++i) {
    uint64_t t = 0;
    for (int j = 0; j < 8; ++j) {
      t += (uint64_t)a[j] * b[i] + r[i + j];
      r[i + j] = (uint32_t)t;
      t >>= 32;
    }
    r[i + 8] = (uint32_t)t;
  }
}

// r (16 limbs) = a^2: cross products once, doubled, plus the squares. r must not alias a.
VERIFIER_ARITH_FN void arith_sqr8_portable(uint32_t r[16], const uint32_t a[8]) {
  for (int i = 0; i < 16; ++i) r[i] = 0;
  for (int i = 0; i < 7; ++i) {
    uint64_t t = 0;
    for (int j = i + 1; j < 8; ++j) {
      t += (uint64_t)a[i] * a[j] + r[i + j];
      r[i + j] = (uint32_t)t;
      t >>= 32;
    }
    r[i + 8] = (uint32_t)t;
  }
  uint32_t top = 0;
  for (int i = 0; i < 16; ++i) {  // double: the cross sum is < 2^511
    uint32_t next = r[i] >> 31;
    r[i] = (r[i] << 1) | top;
    top = next;
  }
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) {
    uint64_t sq = (uint64_t)a[i] * a[i];
    t += (uint64_t)r[2 * i] + (uint32_t)sq;
    r[2 * i] = (uint32_t)t;
    t >>= 32;
    t += (uint64_t)r[2 * i + 1] + (uint32_t)(sq >> 32);
    r[2 * i + 1] = (uint32_t)t;
    t >>= 32;
  }
}

// Build-time choices for device code, passed as -D by verifier/backends/cuda/_module.py (NVRTC) and
// kernels/check_nvcc.sh, so one GPU run can compare them:
//   VERIFIER_ARITH_MUL  1: products (mul8, sqr8, mad8_u32) as inline-PTX carry chains (mad.lo.cc /
//                          madc.hi.cc; on sm_90 each becomes an IMAD or IMAD.HI plus an IADD3.X);
//                       2: products as the portable C with 64-bit partial products (IMAD.WIDE).
//                       Additions and subtractions are PTX carry chains in both.
//   VERIFIER_DBL_LOOP   0: the main loop's four doublings unrolled; 1: one doubling in a loop that is
//                          not unrolled (a smaller kernel, for the instruction cache).
// The host build (backend emu, the cpu backend's zip215 path) always runs the portable twins.
#if defined(__CUDA_ARCH__)
#if !defined(VERIFIER_ARITH_MUL) || !defined(VERIFIER_DBL_LOOP)
#error "define VERIFIER_ARITH_MUL (1: PTX carry chains, 2: 64-bit products) and VERIFIER_DBL_LOOP (0 or 1)"
#endif
#define VERIFIER_ARITH_IMPL(name) name##_ptx
#if VERIFIER_ARITH_MUL == 1
#define VERIFIER_ARITH_MUL_IMPL(name) name##_ptx
#elif VERIFIER_ARITH_MUL == 2
#define VERIFIER_ARITH_MUL_IMPL(name) name##_portable
#else
#error "VERIFIER_ARITH_MUL must be 1 (PTX carry chains) or 2 (64-bit products)"
#endif
#else
#define VERIFIER_ARITH_IMPL(name) name##_portable
#define VERIFIER_ARITH_MUL_IMPL(name) name##_portable
#endif
#if !defined(VERIFIER_DBL_LOOP)
#define VERIFIER_DBL_LOOP 0
#endif

VERIFIER_DEVICE uint32_t arith_add8(uint32_t r[8], const uint32_t a[8], const uint32_t b[8]) {
  return VERIFIER_ARITH_IMPL(arith_add8)(r, a, b);
}
VERIFIER_DEVICE uint32_t arith_sub8(uint32_t r[8], const uint32_t a[8], const uint32_t b[8]) {
  return VERIFIER_ARITH_IMPL(arith_sub8)(r, a, b);
}
VERIFIER_DEVICE uint32_t arith_add8_u32(uint32_t r[8], const uint32_t a[8], uint32_t s) {
  return VERIFIER_ARITH_IMPL(arith_add8_u32)(r, a, s);
}
VERIFIER_DEVICE uint32_t arith_sub8_u32(uint32_t r[8], const uint32_t a[8], uint32_t s) {
  return VERIFIER_ARITH_IMPL(arith_sub8_u32)(r, a, s);
}
VERIFIER_DEVICE void arith_mad8_u32(uint32_t r[9], const uint32_t a[8], uint32_t s, const uint32_t c[8]) {
  VERIFIER_ARITH_MUL_IMPL(arith_mad8_u32)(r, a, s, c);
}
VERIFIER_DEVICE void arith_mul8(uint32_t r[16], const uint32_t a[8], const uint32_t b[8]) {
  VERIFIER_ARITH_MUL_IMPL(arith_mul8)(r, a, b);
}
VERIFIER_DEVICE void arith_sqr8(uint32_t r[16], const uint32_t a[8]) { VERIFIER_ARITH_MUL_IMPL(arith_sqr8)(r, a); }

// Little-endian byte <-> limb helpers: byte loads, so packed columns need no alignment.
VERIFIER_DEVICE uint32_t arith_load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
VERIFIER_DEVICE void arith_store_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

// Full unrolling on the GPU (static indices keep small arrays in registers), or none; no-ops for the
// host build.
#if defined(__CUDACC__)
#define VERIFIER_UNROLL _Pragma("unroll")
#define VERIFIER_NO_UNROLL _Pragma("unroll 1")
#else
#define VERIFIER_UNROLL
#define VERIFIER_NO_UNROLL
#endif

#endif  // VERIFIER_KERNELS_COMMON_ARITH_CUH
