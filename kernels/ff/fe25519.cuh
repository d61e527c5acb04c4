// Arithmetic in GF(p), p = 2^255 - 19: the field of Curve25519/Ed25519, on 8 x 32-bit limbs.
//
// Representation (fe25519): v[0] + v[1] 2^32 + ... + v[7] 2^224, any value < 2^256 that is congruent to
// the element mod p. Every function accepts any such value (no other limb bound) and returns one; only
// fe25519_freeze / fe25519_tobytes produce the canonical value < p. Reduction folds with
// 2^256 = 38 (mod p), so a product costs one 8x8-limb multiply (64 32x32->64 products; 36 for a square)
// plus one 8-limb multiply-by-38 row and a carry fold. Chosen over ref10's 10 x 25.5-bit limbs because
// GPUs multiply 32 x 32 bits natively with carry chains (mad.lo.cc / madc.hi.cc, common/arith.cuh):
// 64 wide products instead of 100, and no per-limb carry pass.
//
// Nothing here branches on field values (selects are masks), though callers may: every input of
// signature verification is public.
#ifndef VERIFIER_KERNELS_FF_FE25519_CUH
#define VERIFIER_KERNELS_FF_FE25519_CUH

#include "common/arith.cuh"

typedef struct {
  uint32_t v[8];  // < 2^256, congruent mod p; canonical (< p) only after fe25519_freeze
} fe25519;

// d = -121665/121666 mod p (RFC 8032 section 5.1), 2d, and sqrt(-1) = 2^((p-1)/4) mod p; limbs computed
// with Python integers (kernels/tools/gen_ge25519_base_table.py prints them with --constants).
VERIFIER_CONSTANT fe25519 fe25519_d = {{0x135978a3u, 0x75eb4dcau, 0x4141d8abu, 0x00700a4du, 0x7779e898u,
                                        0x8cc74079u, 0x2b6ffe73u, 0x52036ceeu}};
VERIFIER_CONSTANT fe25519 fe25519_d2 = {{0x26b2f159u, 0xebd69b94u, 0x8283b156u, 0x00e0149au, 0xeef3d130u,
                                         0x198e80f2u, 0x56dffce7u, 0x2406d9dcu}};
VERIFIER_CONSTANT fe25519 fe25519_sqrtm1 = {{0x4a0ea0b0u, 0xc4ee1b27u, 0xad2fe478u, 0x2f431806u, 0x3dfbd7a7u,
                                             0x2b4d0099u, 0x4fc1df0bu, 0x2b832480u}};

VERIFIER_DEVICE void fe25519_0(fe25519 *h) {
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) h->v[i] = 0;
}

VERIFIER_DEVICE void fe25519_1(fe25519 *h) {
  fe25519_0(h);
  h->v[0] = 1;
}

// h = the 255 low bits of s (little-endian); bit 255 is ignored, as in ref10. The result may be >= p
// (allowed: callers that need a canonical y check ge25519_is_canonical first).
VERIFIER_DEVICE void fe25519_frombytes(fe25519 *h, const uint8_t s[32]) {
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) h->v[i] = arith_load_le32(s + 4 * i);
  h->v[7] &= 0x7fffffffu;
}

// h = f + g. Cost: two 8-limb carry chains. A carry out of 2^256 is folded back as 38.
VERIFIER_DEVICE void fe25519_add(fe25519 *h, const fe25519 *f, const fe25519 *g) {
  uint32_t c = arith_add8(h->v, f->v, g->v);
  c = arith_add8_u32(h->v, h->v, 38u * c);
  h->v[0] += 38u * c;  // c = 1 only if the sum wrapped to < 38: cannot carry again
}

// h = f - g. A borrow (the result is short by 2^256 = 38 mod p) is folded back by subtracting 38.
VERIFIER_DEVICE void fe25519_sub(fe25519 *h, const fe25519 *f, const fe25519 *g) {
  uint32_t b = arith_sub8(h->v, f->v, g->v);
  b = arith_sub8_u32(h->v, h->v, 38u * b);
  h->v[0] -= 38u * b;  // b = 1 only if the value wrapped to >= 2^256 - 38: cannot borrow again
}

VERIFIER_DEVICE void fe25519_neg(fe25519 *h, const fe25519 *f) {
  fe25519 zero;
  fe25519_0(&zero);
  fe25519_sub(h, &zero, f);
}

// h = t mod p, up to the representation: t (16 limbs) = lo + 2^256 hi = lo + 38 hi (mod p).
VERIFIER_DEVICE void fe25519_reduce_wide(fe25519 *h, const uint32_t t[16]) {
  uint32_t u[9];
  arith_mad8_u32(u, t + 8, 38u, t);  // u = lo + 38 hi < 39 * 2^256, so u[8] <= 38
  uint32_t c = arith_add8_u32(h->v, u, 38u * u[8]);
  h->v[0] += 38u * c;  // c = 1 only if the sum wrapped to < 38 * 39: cannot carry again
}

// h = f * g. Cost: 1M = 64 wide products + 8 for the fold.
VERIFIER_DEVICE void fe25519_mul(fe25519 *h, const fe25519 *f, const fe25519 *g) {
  uint32_t t[16];
  arith_mul8(t, f->v, g->v);
  fe25519_reduce_wide(h, t);
}

// h = f^2. Cost: 1S = 36 wide products + 8 for the fold.
VERIFIER_DEVICE void fe25519_sq(fe25519 *h, const fe25519 *f) {
  uint32_t t[16];
  arith_sqr8(t, f->v);
  fe25519_reduce_wide(h, t);
}

// h = f^(2^n), n >= 1.
VERIFIER_DEVICE void fe25519_sqn(fe25519 *h, const fe25519 *f, int n) {
  fe25519_sq(h, f);
  for (int i = 1; i < n; ++i) fe25519_sq(h, h);
}

// out = the canonical value of f, in [0, p). Two conditional subtractions of p, done with masks:
// f = f_lo + 2^255 b = f_lo + 19 b (mod p) gives t < 2^255 + 19 < 2p; then t >= p iff t + 19 >= 2^255.
VERIFIER_DEVICE void fe25519_freeze(uint32_t out[8], const fe25519 *f) {
  uint32_t t[8], u[8];
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) t[i] = f->v[i];
  uint32_t top = t[7] >> 31;
  t[7] &= 0x7fffffffu;
  arith_add8_u32(t, t, 19u * top);
  arith_add8_u32(u, t, 19u);
  uint32_t ge = 0u - (u[7] >> 31);  // all ones iff t >= p
  u[7] &= 0x7fffffffu;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) out[i] = (u[i] & ge) | (t[i] & ~ge);
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

// f = g if b == 1, unchanged if b == 0 (mask select, no branch).
VERIFIER_DEVICE void fe25519_cmov(fe25519 *f, const fe25519 *g, uint32_t b) {
  uint32_t mask = 0u - b;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) f->v[i] ^= mask & (f->v[i] ^ g->v[i]);
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
