// GF(2^255 - 19) on 5 x 51-bit limbs in 64-bit words, products in unsigned __int128: the representation
// of the host build behind backend cpu's policy zip215 (-DVERIFIER_FE51; included by ff/fe25519.cuh, which
// adds what does not depend on the representation). The layout of libsodium's and donna's 64-bit code: a
// product is 25 64 x 64 -> 128-bit multiplies (15 for a square) with the wrap-around terms premultiplied
// by 19 (2^255 = 19 mod p), against 64 32 x 32 -> 64-bit ones plus the 2^256 = 38 fold on 8 x 32 limbs,
// which a 64-bit CPU would run as 64 separate multiplies. GPUs have no 64 x 64 -> 128 multiply, so the
// CUDA build never sees this file (and refuses it).
//
// Representation (fe25519): v[0] + v[1] 2^51 + ... + v[4] 2^204, congruent to the element mod p.
// Bounds: fe25519_mul/sq/sub/neg/frombytes/from_words return "carried" limbs, each < 2^51 + 2^15;
// fe25519_add returns the limb-wise sum of its inputs, uncarried. Every function accepts limbs < 2^54,
// i.e. sums of up to eight carried values: the group formulas (ec/ge25519.cuh) add at most three.
// With limbs < 2^54 a multiply's column sums stay < 2^115 and the last carry times 19 fits in 64 bits.
// Nothing here branches on field values.
#ifndef VERIFIER_KERNELS_FF_FE25519_51_CUH
#define VERIFIER_KERNELS_FF_FE25519_51_CUH

#if defined(__CUDACC__)
#error "ff/fe25519_51.cuh is for the host build only (VERIFIER_FE51 with -DVERIFIER_EMU)"
#endif

#include "common/arith.cuh"

typedef struct {
  uint64_t v[5];  // see the bounds above; canonical (< p, limbs < 2^51) only after fe25519_freeze
} fe25519;

typedef unsigned __int128 fe25519_u128;
#define FE25519_MASK51 0x7ffffffffffffull

// d, 2d and sqrt(-1) as in fe25519_32.cuh, in 51-bit limbs (kernels/tools/gen_ge25519_base_table.py
// --constants prints both forms).
VERIFIER_CONSTANT fe25519 fe25519_d = {
    {0x34dca135978a3ull, 0x1a8283b156ebdull, 0x5e7a26001c029ull, 0x739c663a03cbbull, 0x52036cee2b6ffull}};
VERIFIER_CONSTANT fe25519 fe25519_d2 = {
    {0x69b9426b2f159ull, 0x35050762add7aull, 0x3cf44c0038052ull, 0x6738cc7407977ull, 0x2406d9dc56dffull}};
VERIFIER_CONSTANT fe25519 fe25519_sqrtm1 = {
    {0x61b274a0ea0b0ull, 0x0d5a5fc8f189dull, 0x7ef5e9cbd0c60ull, 0x78595a6804c9eull, 0x2b8324804fc1dull}};

VERIFIER_DEVICE void fe25519_0(fe25519 *h) {
  for (int i = 0; i < 5; ++i) h->v[i] = 0;
}

VERIFIER_DEVICE void fe25519_1(fe25519 *h) {
  fe25519_0(h);
  h->v[0] = 1;
}

// One carry pass: limbs < 2^51 except v[0] < 2^51 + 19 * (v[4] >> 51). Takes limbs < 2^63.
VERIFIER_DEVICE void fe25519_carry(fe25519 *h) {
  uint64_t c;
  c = h->v[0] >> 51; h->v[0] &= FE25519_MASK51; h->v[1] += c;
  c = h->v[1] >> 51; h->v[1] &= FE25519_MASK51; h->v[2] += c;
  c = h->v[2] >> 51; h->v[2] &= FE25519_MASK51; h->v[3] += c;
  c = h->v[3] >> 51; h->v[3] &= FE25519_MASK51; h->v[4] += c;
  c = h->v[4] >> 51; h->v[4] &= FE25519_MASK51; h->v[0] += 19 * c;
}

// h = the value of w (8 little-endian 32-bit words, any value < 2^256), carried.
VERIFIER_DEVICE void fe25519_from_words(fe25519 *h, const uint32_t w[8]) {
  uint64_t q[4];
  for (int i = 0; i < 4; ++i) q[i] = (uint64_t)w[2 * i] | ((uint64_t)w[2 * i + 1] << 32);
  h->v[0] = q[0] & FE25519_MASK51;
  h->v[1] = ((q[0] >> 51) | (q[1] << 13)) & FE25519_MASK51;
  h->v[2] = ((q[1] >> 38) | (q[2] << 26)) & FE25519_MASK51;
  h->v[3] = ((q[2] >> 25) | (q[3] << 39)) & FE25519_MASK51;
  h->v[4] = q[3] >> 12;  // bits 204..255: 52 bits, folded by the carry
  fe25519_carry(h);
}

// h = the 255 low bits of s (little-endian); bit 255 is ignored, as in ref10 (the value may be >= p).
VERIFIER_DEVICE void fe25519_frombytes(fe25519 *h, const uint8_t s[32]) {
  uint32_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = arith_load_le32(s + 4 * i);
  w[7] &= 0x7fffffffu;
  fe25519_from_words(h, w);
}

// h = f + g, limb by limb (no carry: see the bounds above).
VERIFIER_DEVICE void fe25519_add(fe25519 *h, const fe25519 *f, const fe25519 *g) {
  for (int i = 0; i < 5; ++i) h->v[i] = f->v[i] + g->v[i];
}

// h = f - g, carried: f + 8p - g with g's limbs < 2^54 < 8p's (8p = 2^54 - 152, 2^54 - 8, ...).
VERIFIER_DEVICE void fe25519_sub(fe25519 *h, const fe25519 *f, const fe25519 *g) {
  h->v[0] = f->v[0] + 0x3fffffffffff68ull - g->v[0];
  for (int i = 1; i < 5; ++i) h->v[i] = f->v[i] + 0x3ffffffffffff8ull - g->v[i];
  fe25519_carry(h);
}

// h = the carried limbs of the 128-bit column sums t[0..4] (each < 2^115).
VERIFIER_DEVICE void fe25519_carry_wide(fe25519 *h, fe25519_u128 t[5]) {
  uint64_t c;
  t[1] += (uint64_t)(t[0] >> 51);
  t[2] += (uint64_t)(t[1] >> 51);
  t[3] += (uint64_t)(t[2] >> 51);
  t[4] += (uint64_t)(t[3] >> 51);
  c = (uint64_t)(t[4] >> 51);  // < 2^64 / 19
  h->v[0] = ((uint64_t)t[0] & FE25519_MASK51) + 19 * c;
  h->v[1] = (uint64_t)t[1] & FE25519_MASK51;
  h->v[2] = (uint64_t)t[2] & FE25519_MASK51;
  h->v[3] = (uint64_t)t[3] & FE25519_MASK51;
  h->v[4] = (uint64_t)t[4] & FE25519_MASK51;
  c = h->v[0] >> 51;
  h->v[0] &= FE25519_MASK51;
  h->v[1] += c;
}

// h = f * g. Cost: 25 wide multiplies + 4 by 19.
VERIFIER_DEVICE void fe25519_mul(fe25519 *h, const fe25519 *f, const fe25519 *g) {
  const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
  const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
  const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
  fe25519_u128 t[5];
  t[0] = (fe25519_u128)f0 * g0 + (fe25519_u128)f1 * g4_19 + (fe25519_u128)f2 * g3_19 +
         (fe25519_u128)f3 * g2_19 + (fe25519_u128)f4 * g1_19;
  t[1] = (fe25519_u128)f0 * g1 + (fe25519_u128)f1 * g0 + (fe25519_u128)f2 * g4_19 + (fe25519_u128)f3 * g3_19 +
         (fe25519_u128)f4 * g2_19;
  t[2] = (fe25519_u128)f0 * g2 + (fe25519_u128)f1 * g1 + (fe25519_u128)f2 * g0 + (fe25519_u128)f3 * g4_19 +
         (fe25519_u128)f4 * g3_19;
  t[3] = (fe25519_u128)f0 * g3 + (fe25519_u128)f1 * g2 + (fe25519_u128)f2 * g1 + (fe25519_u128)f3 * g0 +
         (fe25519_u128)f4 * g4_19;
  t[4] = (fe25519_u128)f0 * g4 + (fe25519_u128)f1 * g3 + (fe25519_u128)f2 * g2 + (fe25519_u128)f3 * g1 +
         (fe25519_u128)f4 * g0;
  fe25519_carry_wide(h, t);
}

// h = f^2. Cost: 15 wide multiplies.
VERIFIER_DEVICE void fe25519_sq(fe25519 *h, const fe25519 *f) {
  const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
  const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f3_19 = 19 * f3, f4_19 = 19 * f4;
  fe25519_u128 t[5];
  t[0] = (fe25519_u128)f0 * f0 + (fe25519_u128)f1_2 * f4_19 + (fe25519_u128)(2 * f2) * f3_19;
  t[1] = (fe25519_u128)f0_2 * f1 + (fe25519_u128)(2 * f2) * f4_19 + (fe25519_u128)f3 * f3_19;
  t[2] = (fe25519_u128)f0_2 * f2 + (fe25519_u128)f1 * f1 + (fe25519_u128)(2 * f3) * f4_19;
  t[3] = (fe25519_u128)f0_2 * f3 + (fe25519_u128)f1_2 * f2 + (fe25519_u128)f4 * f4_19;
  t[4] = (fe25519_u128)f0_2 * f4 + (fe25519_u128)f1_2 * f3 + (fe25519_u128)f2 * f2;
  fe25519_carry_wide(h, t);
}

// out = the canonical value of f, in [0, p), as 8 little-endian 32-bit words.
VERIFIER_DEVICE void fe25519_freeze(uint32_t out[8], const fe25519 *f) {
  fe25519 t = *f;
  fe25519_carry(&t);
  fe25519_carry(&t);  // now t < 2^255 + small, every limb < 2^51 except v[0] < 2^51 + 19
  fe25519_carry(&t);  // limbs < 2^51: t < 2^255, so t < 2p
  // t >= p iff t + 19 >= 2^255: compute q = (t + 19) >> 255 through the carries, then t += 19 q mod 2^255.
  uint64_t q = (t.v[0] + 19) >> 51;
  q = (t.v[1] + q) >> 51;
  q = (t.v[2] + q) >> 51;
  q = (t.v[3] + q) >> 51;
  q = (t.v[4] + q) >> 51;
  t.v[0] += 19 * q;
  uint64_t c;
  c = t.v[0] >> 51; t.v[0] &= FE25519_MASK51; t.v[1] += c;
  c = t.v[1] >> 51; t.v[1] &= FE25519_MASK51; t.v[2] += c;
  c = t.v[2] >> 51; t.v[2] &= FE25519_MASK51; t.v[3] += c;
  c = t.v[3] >> 51; t.v[3] &= FE25519_MASK51; t.v[4] += c;
  t.v[4] &= FE25519_MASK51;
  const uint64_t q0 = t.v[0] | (t.v[1] << 51);
  const uint64_t q1 = (t.v[1] >> 13) | (t.v[2] << 38);
  const uint64_t q2 = (t.v[2] >> 26) | (t.v[3] << 25);
  const uint64_t q3 = (t.v[3] >> 39) | (t.v[4] << 12);
  const uint64_t q64[4] = {q0, q1, q2, q3};
  for (int i = 0; i < 4; ++i) {
    out[2 * i] = (uint32_t)q64[i];
    out[2 * i + 1] = (uint32_t)(q64[i] >> 32);
  }
}

// w = the canonical value of f (any value < 2^256 congruent to f would do; this one is canonical).
VERIFIER_DEVICE void fe25519_to_words(uint32_t w[8], const fe25519 *f) { fe25519_freeze(w, f); }

// f = g if b == 1, unchanged if b == 0 (mask select, no branch).
VERIFIER_DEVICE void fe25519_cmov(fe25519 *f, const fe25519 *g, uint32_t b) {
  const uint64_t mask = 0ull - (uint64_t)b;
  for (int i = 0; i < 5; ++i) f->v[i] ^= mask & (f->v[i] ^ g->v[i]);
}

#endif  // VERIFIER_KERNELS_FF_FE25519_51_CUH
