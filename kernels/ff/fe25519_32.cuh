// GF(2^255 - 19) on 8 x 32-bit limbs: the representation of the GPU build and of backend emu (included by
// ff/fe25519.cuh, which adds what does not depend on the representation).
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
#ifndef VERIFIER_KERNELS_FF_FE25519_32_CUH
#define VERIFIER_KERNELS_FF_FE25519_32_CUH

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

// h = the value of w (8 little-endian 32-bit words, any value < 2^256); here the words themselves.
VERIFIER_DEVICE void fe25519_from_words(fe25519 *h, const uint32_t w[8]) {
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) h->v[i] = w[i];
}

// w = a value < 2^256 congruent to f (not necessarily canonical); here the limbs themselves.
VERIFIER_DEVICE void fe25519_to_words(uint32_t w[8], const fe25519 *f) {
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) w[i] = f->v[i];
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

// f = g if b == 1, unchanged if b == 0 (mask select, no branch).
VERIFIER_DEVICE void fe25519_cmov(fe25519 *f, const fe25519 *g, uint32_t b) {
  uint32_t mask = 0u - b;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) f->v[i] ^= mask & (f->v[i] ^ g->v[i]);
}

#endif  // VERIFIER_KERNELS_FF_FE25519_32_CUH
