// The Ed25519 group: points of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19)
// in ref10's coordinate systems, point decoding (any 255-bit y, reduced mod p) and canonical encoding, the
// small-order blocklist of libsodium, and the double scalar multiplication [a]A + [b]B of verification.
//
// Coordinates (Hisil-Wong-Carter-Dawson 2008, "Twisted Edwards curves revisited", a = -1; formulas as in
// ref10 / EFD add-2008-hwcd-3 and dbl-2008-hwcd). All are complete on this curve (d is not a square), so
// identity, small-order and mixed-order points need no special cases; every field element obeys the
// fe25519 bound (< 2^256).
//   ge25519_p2      (X : Y : Z)          x = X/Z, y = Y/Z
//   ge25519_p3      (X : Y : Z : T)      same, with T = XY/Z
//   ge25519_p1p1    ((X : Z), (Y : T))   x = X/Z, y = Y/T  (the output of add/dbl before the final muls)
//   ge25519_cached  (Y+X, Y-X, Z, 2dT)   a p3 point prepared as the second operand of an addition
//   ge25519_precomp (y+x, y-x, 2dxy)     an affine point prepared for a mixed addition (Z = 1)
// `_vartime` functions branch on their (public) inputs: never use them on secrets.
#ifndef VERIFIER_KERNELS_EC_GE25519_CUH
#define VERIFIER_KERNELS_EC_GE25519_CUH

#include "ff/fe25519.cuh"
#include "ff/sc25519.cuh"
#include "ec/ge25519_base_table.cuh"

typedef struct {
  fe25519 X, Y, Z;
} ge25519_p2;
typedef struct {
  fe25519 X, Y, Z, T;
} ge25519_p3;
typedef struct {
  fe25519 X, Y, Z, T;
} ge25519_p1p1;
typedef struct {
  fe25519 YplusX, YminusX, Z, T2d;
} ge25519_cached;
typedef struct {
  fe25519 yplusx, yminusx, xy2d;
} ge25519_precomp;

// libsodium's small-order blocklist (ed25519_ref10.c ge25519_has_small_order) as y-values (bit 255 is
// ignored when comparing): 0, 1, the y of the two order-8 points
// 2707385501144840649318225287225658788936804267575313519463743609750303402022 and
// 55188659117513257062467267217118295137698188065244968500265048394206261417927, p-1, p, p+1.
VERIFIER_CONSTANT uint32_t ge25519_small_order_y[7][8] = {
    {0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u},
    {0x00000001u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u},
    {0x8f95e826u, 0xb027b2c2u, 0x89f4c345u, 0xf098eff2u, 0x05acdfd5u, 0x3933c6d3u, 0x880238b1u, 0x05fc536du},
    {0x706a17c7u, 0x4fd84d3du, 0x760b3cbau, 0x0f67100du, 0xfa53202au, 0xc6cc392cu, 0x77fdc74eu, 0x7a03ac92u},
    {0xffffffecu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x7fffffffu},
    {0xffffffedu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x7fffffffu},
    {0xffffffeeu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x7fffffffu},
};

// 1 iff the encoding s (bit 255 ignored) has y in libsodium's blocklist (docs/RULES.md section 1 steps 3 and 5).
// This matches all 8 small-order points, either sign bit, and the non-canonical y = p, p + 1.
VERIFIER_DEVICE int ge25519_has_small_order(const uint8_t s[32]) {
  uint32_t y[8];
  for (int i = 0; i < 8; ++i) y[i] = arith_load_le32(s + 4 * i);
  y[7] &= 0x7fffffffu;
  int hit = 0;
  for (int k = 0; k < 7; ++k) {
    uint32_t diff = 0;
    for (int i = 0; i < 8; ++i) diff |= y[i] ^ ge25519_small_order_y[k][i];
    hit |= diff == 0;
  }
  return hit;
}

// 1 iff the y of encoding s (bit 255 ignored) is < p (docs/RULES.md section 1 step 4; libsodium
// ge25519_is_canonical): y >= p only when limbs 1..7 are all ones (top one 0x7fffffff) and limb 0 >= p's.
VERIFIER_DEVICE int ge25519_is_canonical(const uint8_t s[32]) {
  uint32_t all = arith_load_le32(s + 28) | 0x80000000u;
  for (int i = 1; i < 7; ++i) all &= arith_load_le32(s + 4 * i);
  return !(all == 0xffffffffu && arith_load_le32(s) >= 0xffffffedu);
}

VERIFIER_DEVICE void ge25519_p2_0(ge25519_p2 *h) {
  fe25519_0(&h->X);
  fe25519_1(&h->Y);
  fe25519_1(&h->Z);
}

VERIFIER_DEVICE void ge25519_p3_0(ge25519_p3 *h) {
  fe25519_0(&h->X);
  fe25519_1(&h->Y);
  fe25519_1(&h->Z);
  fe25519_0(&h->T);
}

VERIFIER_DEVICE void ge25519_cached_0(ge25519_cached *h) {
  fe25519_1(&h->YplusX);
  fe25519_1(&h->YminusX);
  fe25519_1(&h->Z);
  fe25519_0(&h->T2d);
}

// Decodes s into h (RFC 8032 section 5.1.3): y = the low 255 bits of s taken mod p (so a non-canonical y
// in [p, 2^255) decodes as y - p; policy libsodium has rejected those before calling this),
// x = sqrt((y^2 - 1) / (d y^2 + 1)) with the sign of bit 255; x = 0 with the sign bit set is accepted as
// x = 0 (ZIP-215; unreachable under policy libsodium, whose blocklist holds y = +-1). Returns 0, or -1 if
// there is no square root. Square root as ref10's ge25519_frombytes_negate_vartime (RFC 8032 5.1.3 step
// 2, with v^7): x = u v^3 (u v^7)^((p-5)/8). Cost: 1 exponentiation (251S + 11M) + 6M + 3S.
VERIFIER_DEVICE int ge25519_frombytes_vartime(ge25519_p3 *h, const uint8_t s[32]) {
  fe25519 u, v, v3, vxx, check;
  fe25519_frombytes(&h->Y, s);
  fe25519_1(&h->Z);
  fe25519_sq(&u, &h->Y);
  fe25519_mul(&v, &u, &fe25519_d);
  fe25519_sub(&u, &u, &h->Z);  // u = y^2 - 1
  fe25519_add(&v, &v, &h->Z);  // v = d y^2 + 1 (never 0: -1/d is not a square)

  fe25519_sq(&v3, &v);
  fe25519_mul(&v3, &v3, &v);        // v^3
  fe25519_sq(&h->X, &v3);
  fe25519_mul(&h->X, &h->X, &v);
  fe25519_mul(&h->X, &h->X, &u);    // u v^7
  fe25519_pow22523(&h->X, &h->X);   // (u v^7)^((p-5)/8)
  fe25519_mul(&h->X, &h->X, &v3);
  fe25519_mul(&h->X, &h->X, &u);    // x = u v^3 (u v^7)^((p-5)/8)

  fe25519_sq(&vxx, &h->X);
  fe25519_mul(&vxx, &vxx, &v);
  fe25519_sub(&check, &vxx, &u);  // v x^2 - u
  if (!fe25519_iszero(&check)) {
    fe25519_add(&check, &vxx, &u);  // v x^2 + u
    if (!fe25519_iszero(&check)) return -1;
    fe25519_mul(&h->X, &h->X, &fe25519_sqrtm1);
  }
  if (fe25519_isnegative(&h->X) != (s[31] >> 7)) fe25519_neg(&h->X, &h->X);  // -0 = 0
  fe25519_mul(&h->T, &h->X, &h->Y);
  return 0;
}

// s = the canonical encoding of h (RFC 8032 section 5.1.2): y < p, bit 255 = low bit of x.
// Cost: 1 inversion (254S + 11M) + 2M.
VERIFIER_DEVICE void ge25519_tobytes(uint8_t s[32], const ge25519_p2 *h) {
  fe25519 recip, x, y;
  fe25519_invert(&recip, &h->Z);
  fe25519_mul(&x, &h->X, &recip);
  fe25519_mul(&y, &h->Y, &recip);
  fe25519_tobytes(s, &y);
  s[31] ^= (uint8_t)(fe25519_isnegative(&x) << 7);
}

// 1 iff h is the identity (0 : 1): X = 0 and Y = Z.
VERIFIER_DEVICE int ge25519_is_identity(const ge25519_p2 *h) {
  fe25519 t;
  fe25519_sub(&t, &h->Y, &h->Z);
  return fe25519_iszero(&h->X) & fe25519_iszero(&t);
}

// Cost: 3M.
VERIFIER_DEVICE void ge25519_p1p1_to_p2(ge25519_p2 *r, const ge25519_p1p1 *p) {
  fe25519_mul(&r->X, &p->X, &p->T);
  fe25519_mul(&r->Y, &p->Y, &p->Z);
  fe25519_mul(&r->Z, &p->Z, &p->T);
}

// Cost: 4M.
VERIFIER_DEVICE void ge25519_p1p1_to_p3(ge25519_p3 *r, const ge25519_p1p1 *p) {
  fe25519_mul(&r->X, &p->X, &p->T);
  fe25519_mul(&r->Y, &p->Y, &p->Z);
  fe25519_mul(&r->Z, &p->Z, &p->T);
  fe25519_mul(&r->T, &p->X, &p->Y);
}

// Cost: 1M.
VERIFIER_DEVICE void ge25519_p3_to_cached(ge25519_cached *r, const ge25519_p3 *p) {
  fe25519_add(&r->YplusX, &p->Y, &p->X);
  fe25519_sub(&r->YminusX, &p->Y, &p->X);
  r->Z = p->Z;
  fe25519_mul(&r->T2d, &p->T, &fe25519_d2);
}

// r = 2p (dbl-2008-hwcd, a = -1). Cost: 4S (one doubled square as a square plus an add).
//   A = X^2, B = Y^2, C = 2 Z^2, E = (X+Y)^2 - A - B;  p1p1 = (E, B + A, B - A, C - (B - A))
VERIFIER_DEVICE void ge25519_p2_dbl(ge25519_p1p1 *r, const ge25519_p2 *p) {
  fe25519 t0;
  fe25519_sq(&r->X, &p->X);
  fe25519_sq(&r->Z, &p->Y);
  fe25519_sq(&r->T, &p->Z);
  fe25519_add(&r->T, &r->T, &r->T);
  fe25519_add(&r->Y, &p->X, &p->Y);
  fe25519_sq(&t0, &r->Y);
  fe25519_add(&r->Y, &r->Z, &r->X);
  fe25519_sub(&r->Z, &r->Z, &r->X);
  fe25519_sub(&r->X, &t0, &r->Y);
  fe25519_sub(&r->T, &r->T, &r->Z);
}

VERIFIER_DEVICE void ge25519_p3_dbl(ge25519_p1p1 *r, const ge25519_p3 *p) {
  ge25519_p2 q;
  q.X = p->X;
  q.Y = p->Y;
  q.Z = p->Z;
  ge25519_p2_dbl(r, &q);
}

// 1 iff [8]p is the identity, i.e. p has small order (the cofactored checks of ZIP-215): three doublings,
// then the identity test. Cost: 12S + 9M and two freezes.
VERIFIER_DEVICE int ge25519_mul8_is_identity(const ge25519_p2 *p) {
  ge25519_p2 q = *p;
  ge25519_p1p1 t;
  for (int i = 0; i < 3; ++i) {
    ge25519_p2_dbl(&t, &q);
    ge25519_p1p1_to_p2(&q, &t);
  }
  return ge25519_is_identity(&q);
}

// r = p + q (add-2008-hwcd-3, a = -1, k = 2d). Cost: 4M.
//   A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2), C = T1 2d T2, D = 2 Z1 Z2; p1p1 = (B - A, B + A, D + C, D - C)
VERIFIER_DEVICE void ge25519_add(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_cached *q) {
  fe25519 t0;
  fe25519_add(&r->X, &p->Y, &p->X);
  fe25519_sub(&r->Y, &p->Y, &p->X);
  fe25519_mul(&r->Z, &r->X, &q->YplusX);
  fe25519_mul(&r->Y, &r->Y, &q->YminusX);
  fe25519_mul(&r->T, &q->T2d, &p->T);
  fe25519_mul(&r->X, &p->Z, &q->Z);
  fe25519_add(&t0, &r->X, &r->X);
  fe25519_sub(&r->X, &r->Z, &r->Y);
  fe25519_add(&r->Y, &r->Z, &r->Y);
  fe25519_add(&r->Z, &t0, &r->T);
  fe25519_sub(&r->T, &t0, &r->T);
}

// r = p - q: ge25519_add with -q = (Y-X, Y+X, Z, -2dT). Cost: 4M.
VERIFIER_DEVICE void ge25519_sub(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_cached *q) {
  fe25519 t0;
  fe25519_add(&r->X, &p->Y, &p->X);
  fe25519_sub(&r->Y, &p->Y, &p->X);
  fe25519_mul(&r->Z, &r->X, &q->YminusX);
  fe25519_mul(&r->Y, &r->Y, &q->YplusX);
  fe25519_mul(&r->T, &q->T2d, &p->T);
  fe25519_mul(&r->X, &p->Z, &q->Z);
  fe25519_add(&t0, &r->X, &r->X);
  fe25519_sub(&r->X, &r->Z, &r->Y);
  fe25519_add(&r->Y, &r->Z, &r->Y);
  fe25519_sub(&r->Z, &t0, &r->T);
  fe25519_add(&r->T, &t0, &r->T);
}

// r = p + q for an affine q (madd-2008-hwcd-3: Z2 = 1). Cost: 3M.
VERIFIER_DEVICE void ge25519_madd(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_precomp *q) {
  fe25519 t0;
  fe25519_add(&r->X, &p->Y, &p->X);
  fe25519_sub(&r->Y, &p->Y, &p->X);
  fe25519_mul(&r->Z, &r->X, &q->yplusx);
  fe25519_mul(&r->Y, &r->Y, &q->yminusx);
  fe25519_mul(&r->T, &q->xy2d, &p->T);
  fe25519_add(&t0, &p->Z, &p->Z);
  fe25519_sub(&r->X, &r->Z, &r->Y);
  fe25519_add(&r->Y, &r->Z, &r->Y);
  fe25519_add(&r->Z, &t0, &r->T);
  fe25519_sub(&r->T, &t0, &r->T);
}

// |d| and a 0/1 flag for d < 0, without a branch.
VERIFIER_DEVICE uint32_t ge25519_digit_abs(int d, uint32_t *negative) {
  uint32_t neg = (uint32_t)d >> 31;
  *negative = neg;
  return (uint32_t)((d ^ -(int)neg) + (int)neg);
}

// t = [d] * (the point whose multiples 0..8 are in table), d in [-8, 8]. The index varies per thread but
// the instruction stream does not: negation is a swap and a masked negate.
VERIFIER_DEVICE void ge25519_cached_select(ge25519_cached *t, const ge25519_cached table[9], int d) {
  uint32_t neg;
  uint32_t idx = ge25519_digit_abs(d, &neg);
  const ge25519_cached *e = &table[idx];
  fe25519 minus_t2d;
  t->YplusX = e->YplusX;
  t->YminusX = e->YminusX;
  fe25519_cmov(&t->YplusX, &e->YminusX, neg);
  fe25519_cmov(&t->YminusX, &e->YplusX, neg);
  t->Z = e->Z;
  t->T2d = e->T2d;
  fe25519_neg(&minus_t2d, &e->T2d);
  fe25519_cmov(&t->T2d, &minus_t2d, neg);
}

// t = [d]B from the base table (ec/ge25519_base_table.cuh layout, in shared memory on the GPU),
// d in [-128, 127].
VERIFIER_DEVICE void ge25519_base_select(ge25519_precomp *t, const uint32_t *table, int d) {
  uint32_t neg;
  uint32_t idx = ge25519_digit_abs(d, &neg);
  const uint32_t *e = table + 24 * idx;
  fe25519 plus, minus, xy2d, minus_xy2d;
  fe25519_from_words(&plus, e);
  fe25519_from_words(&minus, e + 8);
  fe25519_from_words(&xy2d, e + 16);
  t->yplusx = plus;
  t->yminusx = minus;
  fe25519_cmov(&t->yplusx, &minus, neg);
  fe25519_cmov(&t->yminusx, &plus, neg);
  t->xy2d = xy2d;
  fe25519_neg(&minus_xy2d, &xy2d);
  fe25519_cmov(&t->xy2d, &minus_xy2d, neg);
}

// r = [a]A + [b]B (B the base point), as a p1p1 point. a and b are scalars < 2^253 (8 limbs each).
//
// One shared chain of 252 doublings with fixed signed windows, the same sequence for every thread:
// a in radix 2^4 (64 digits in [-8, 8], a 9-entry table of [0..8]A in cached form, local memory), b in
// radix 2^8 (32 digits in [-128, 127], the 129-entry base table), added at every other radix-16 window.
// Cost: table 1 dbl + 6 add + 8 to_cached = 4S + 76M; per radix-16 window 4 dbl (16S + 13M with the
// conversions) + one add (4M + 4M or 3M) + every other window one madd (3M + 3M): about 1500M + 1024S for
// the loop, versus ref10's sliding windows whose per-thread branches would diverge within a warp.
// (Named _vartime after ref10: the table index is data-dependent; inputs are public.)
VERIFIER_DEVICE void ge25519_double_scalarmult_vartime(ge25519_p1p1 *r, const uint32_t a[8], const ge25519_p3 *A,
                                                       const uint32_t b[8], const uint32_t *base_table) {
  signed char ea[64], eb[32];
  sc25519_recode_signed<4>(ea, a);
  sc25519_recode_signed<8>(eb, b);

  ge25519_cached Ai[9];  // [j]A for j = 0..8
  ge25519_p1p1 t;
  ge25519_p3 u;
  ge25519_cached_0(&Ai[0]);
  ge25519_p3_to_cached(&Ai[1], A);
  ge25519_p3_dbl(&t, A);
  ge25519_p1p1_to_p3(&u, &t);
  ge25519_p3_to_cached(&Ai[2], &u);
  for (int j = 3; j <= 8; ++j) {
    ge25519_add(&t, &u, &Ai[1]);
    ge25519_p1p1_to_p3(&u, &t);
    ge25519_p3_to_cached(&Ai[j], &u);
  }

  ge25519_p2 acc;
  ge25519_cached ca;
  ge25519_precomp cb;
  ge25519_p3_0(&u);
  for (int i = 63; i >= 0; --i) {
    if (i != 63) {
#if VERIFIER_DBL_LOOP
      // One copy of the doubling (common/arith.cuh: VERIFIER_DBL_LOOP); d is uniform across the warp.
      VERIFIER_NO_UNROLL
      for (int d = 0; d < 4; ++d) {
        ge25519_p2_dbl(&t, &acc);
        if (d != 3) ge25519_p1p1_to_p2(&acc, &t);
      }
#else
      ge25519_p2_dbl(&t, &acc);
      ge25519_p1p1_to_p2(&acc, &t);
      ge25519_p2_dbl(&t, &acc);
      ge25519_p1p1_to_p2(&acc, &t);
      ge25519_p2_dbl(&t, &acc);
      ge25519_p1p1_to_p2(&acc, &t);
      ge25519_p2_dbl(&t, &acc);
#endif
      ge25519_p1p1_to_p3(&u, &t);
    }
    ge25519_cached_select(&ca, Ai, ea[i]);
    ge25519_add(&t, &u, &ca);
    if ((i & 1) == 0) {
      ge25519_p1p1_to_p3(&u, &t);
      ge25519_base_select(&cb, base_table, eb[i >> 1]);
      ge25519_madd(&t, &u, &cb);
    }
    if (i != 0) ge25519_p1p1_to_p2(&acc, &t);
  }
  *r = t;
}

// Declares `name`, a `const uint32_t *` to the base table: on the GPU a copy in shared memory loaded by the
// whole block (use before any thread returns: it ends with __syncthreads), on the host the table itself.
#define GE25519_BASE_TABLE_SHARED(name) VERIFIER_SHARED_COPY(name, ge25519_base_table, GE25519_BASE_TABLE_WORDS)

#endif  // VERIFIER_KERNELS_EC_GE25519_CUH
