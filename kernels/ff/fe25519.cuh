// Arithmetic in GF(p), p = 2^255 - 19: the field of Curve25519/Ed25519.
//
// Two representations with one interface (fe25519, fe25519_0/1, frombytes, from_words, to_words, add,
// sub, mul, sq, freeze, cmov and the constants d, 2d, sqrt(-1)):
//   ff/fe25519_32.cuh  8 x 32-bit limbs: the GPU build and backend emu (the default);
//   ff/fe25519_51.cuh  5 x 51-bit limbs with 128-bit products: the host build with -DVERIFIER_FE51, behind
//                      backend cpu's policy zip215 (ec/ed25519_batch.cuh).
// This file adds what is written once over that interface: negation, repeated squaring, encoding, the
// zero and sign tests, and the two exponentiations. The differential suites run both (backend emu builds
// the first, backend cpu the second; tests/kernels/test_ed25519_primitives.py builds both).
#ifndef VERIFIER_KERNELS_FF_FE25519_CUH
#define VERIFIER_KERNELS_FF_FE25519_CUH

#include "common/arith.cuh"

#if defined(VERIFIER_FE51)
#include "ff/fe25519_51.cuh"
#else
#include "ff/fe25519_32.cuh"
#endif

// h = -f.
VERIFIER_DEVICE void fe25519_neg(fe25519 *h, const fe25519 *f) {
  fe25519 zero;
  fe25519_0(&zero);
  fe25519_sub(h, &zero, f);
}

// h = f^(2^n), n >= 1.
VERIFIER_DEVICE void fe25519_sqn(fe25519 *h, const fe25519 *f, int n) {
  fe25519_sq(h, f);
  for (int i = 1; i < n; ++i) fe25519_sq(h, h);
}

// s = canonical little-endian encoding of f (bit 255 clear).
VERIFIER_DEVICE void fe25519_tobytes(uint8_t s[32], const fe25519 *f) {
  uint32_t t[8];
  fe25519_freeze(t, f);
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) arith_store_le32(s + 4 * i, t[i]);
}

// 1 iff f = 0 (mod p).
VERIFIER_DEVICE int fe25519_iszero(const fe25519 *f) {
  uint32_t t[8];
  fe25519_freeze(t, f);
  uint32_t acc = 0;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) acc |= t[i];
  return acc == 0;
}

// The "sign" of f (RFC 8032 section 5.1.2): the low bit of its canonical value.
VERIFIER_DEVICE int fe25519_isnegative(const fe25519 *f) {
  uint32_t t[8];
  fe25519_freeze(t, f);
  return (int)(t[0] & 1u);
}

// h = z^(2^252 - 3) = z^((p-5)/8), for the square root in point decoding. Addition chain of ref10
// (fe25519_pow22523). Cost: 251S + 11M.
VERIFIER_DEVICE void fe25519_pow22523(fe25519 *h, const fe25519 *z) {
  fe25519 t0, t1, t2;
  fe25519_sq(&t0, z);             // 2
  fe25519_sqn(&t1, &t0, 2);       // 8
  fe25519_mul(&t1, z, &t1);       // 9
  fe25519_mul(&t0, &t0, &t1);     // 11
  fe25519_sq(&t0, &t0);           // 22
  fe25519_mul(&t0, &t1, &t0);     // 31 = 2^5 - 1
  fe25519_sqn(&t1, &t0, 5);       // 2^10 - 2^5
  fe25519_mul(&t0, &t1, &t0);     // 2^10 - 1
  fe25519_sqn(&t1, &t0, 10);      // 2^20 - 2^10
  fe25519_mul(&t1, &t1, &t0);     // 2^20 - 1
  fe25519_sqn(&t2, &t1, 20);      // 2^40 - 2^20
  fe25519_mul(&t1, &t2, &t1);     // 2^40 - 1
  fe25519_sqn(&t1, &t1, 10);      // 2^50 - 2^10
  fe25519_mul(&t0, &t1, &t0);     // 2^50 - 1
  fe25519_sqn(&t1, &t0, 50);      // 2^100 - 2^50
  fe25519_mul(&t1, &t1, &t0);     // 2^100 - 1
  fe25519_sqn(&t2, &t1, 100);     // 2^200 - 2^100
  fe25519_mul(&t1, &t2, &t1);     // 2^200 - 1
  fe25519_sqn(&t1, &t1, 50);      // 2^250 - 2^50
  fe25519_mul(&t0, &t1, &t0);     // 2^250 - 1
  fe25519_sqn(&t0, &t0, 2);       // 2^252 - 4
  fe25519_mul(h, &t0, z);         // 2^252 - 3
}

// h = z^(p-2) = 1/z (0 for z = 0). Same chain ending in 2^255 - 21: 254S + 11M.
VERIFIER_DEVICE void fe25519_invert(fe25519 *h, const fe25519 *z) {
  fe25519 t0, t1, t2, z11;
  fe25519_sq(&t0, z);             // 2
  fe25519_sqn(&t1, &t0, 2);       // 8
  fe25519_mul(&t1, z, &t1);       // 9
  fe25519_mul(&z11, &t0, &t1);    // 11
  fe25519_sq(&t0, &z11);          // 22
  fe25519_mul(&t0, &t1, &t0);     // 2^5 - 1
  fe25519_sqn(&t1, &t0, 5);
  fe25519_mul(&t0, &t1, &t0);     // 2^10 - 1
  fe25519_sqn(&t1, &t0, 10);
  fe25519_mul(&t1, &t1, &t0);     // 2^20 - 1
  fe25519_sqn(&t2, &t1, 20);
  fe25519_mul(&t1, &t2, &t1);     // 2^40 - 1
  fe25519_sqn(&t1, &t1, 10);
  fe25519_mul(&t0, &t1, &t0);     // 2^50 - 1
  fe25519_sqn(&t1, &t0, 50);
  fe25519_mul(&t1, &t1, &t0);     // 2^100 - 1
  fe25519_sqn(&t2, &t1, 100);
  fe25519_mul(&t1, &t2, &t1);     // 2^200 - 1
  fe25519_sqn(&t1, &t1, 50);
  fe25519_mul(&t0, &t1, &t0);     // 2^250 - 1
  fe25519_sqn(&t0, &t0, 5);       // 2^255 - 32
  fe25519_mul(h, &t0, &z11);      // 2^255 - 21 = p - 2
}

#endif  // VERIFIER_KERNELS_FF_FE25519_CUH
