// Points of a short-Weierstrass curve y^2 = x^3 + a x + b over GF(p) in Jacobian coordinates
// (x = X/Z^2, y = Y/Z^3; Z = 0 is the point at infinity), coordinates in Montgomery form (ff/fp256.cuh):
// secp256k1 (a = 0) and P-256 (a = -3), one code for both.
//
// Formulas: doubling dbl-1998-cmo-2 with M = 3 X^2 + a Z^4 in each curve's form (a = 0, a = -3), addition
// add-1998-cmo-2 (the general Jacobian sum, falling back to doubling when both inputs are equal) and its
// mixed form for an affine point. Every input of signature verification is public, so the special cases
// (infinity, equal points, opposite points) branch.
//
// u1 G + u2 Q (Straus, one chain of doublings): G's multiples come from a fixed table in signed 7-bit
// windows (ec/weierstrass_g_tables.cuh, copied to shared memory per block), Q's from a table of 0..8 Q
// built per item in signed 4-bit windows. On secp256k1 the endomorphism halves the chain (GLV), and Q's
// table is put on one denominator so that every addition is a mixed one (wpoint_multiples_coz).
#ifndef VERIFIER_KERNELS_EC_WEIERSTRASS_CUH
#define VERIFIER_KERNELS_EC_WEIERSTRASS_CUH

#include "ec/weierstrass_g_tables.cuh"
#include "ff/fp256.cuh"

typedef struct {
  fp256 X, Y, Z;
} wpoint;

typedef struct {
  const fp256_modulus *p;  // the field
  const fp256_modulus *n;  // the group order
  fp256 a, b;              // the curve's a and b, in Montgomery form
  fp256 gx, gy;            // the generator, affine, in Montgomery form
  int hybrid_keys;         // whether SEC 1 hybrid keys (06/07) are accepted (libsecp256k1 does)
  const uint32_t *g_tables;  // k G (and on secp256k1 k lambda G), k = 1 .. WCURVE_G_ENTRIES: wcurve_g_entry
  int glv;                 // secp256k1: split scalars with the endomorphism (half the doublings)
  int a_minus_3;           // 1 for P-256 (a = -3), 0 for secp256k1 (a = 0): which doubling formula
} wcurve;

// Plain (not Montgomery) constants, little-endian limbs: b and G of both curves (a is 0 or -3).
VERIFIER_CONSTANT uint32_t wcurve_secp256k1_b[8] = {7u, 0u, 0u, 0u, 0u, 0u, 0u, 0u};
VERIFIER_CONSTANT uint32_t wcurve_secp256k1_gx[8] = {0x16f81798u, 0x59f2815bu, 0x2dce28d9u, 0x029bfcdbu,
                                                    0xce870b07u, 0x55a06295u, 0xf9dcbbacu, 0x79be667eu};
VERIFIER_CONSTANT uint32_t wcurve_secp256k1_gy[8] = {0xfb10d4b8u, 0x9c47d08fu, 0xa6855419u, 0xfd17b448u,
                                                    0x0e1108a8u, 0x5da4fbfcu, 0x26a3c465u, 0x483ada77u};
VERIFIER_CONSTANT uint32_t wcurve_p256_b[8] = {0x27d2604bu, 0x3bce3c3eu, 0xcc53b0f6u, 0x651d06b0u,
                                              0x769886bcu, 0xb3ebbd55u, 0xaa3a93e7u, 0x5ac635d8u};
VERIFIER_CONSTANT uint32_t wcurve_p256_gx[8] = {0xd898c296u, 0xf4a13945u, 0x2deb33a0u, 0x77037d81u,
                                               0x63a440f2u, 0xf8bce6e5u, 0xe12c4247u, 0x6b17d1f2u};
VERIFIER_CONSTANT uint32_t wcurve_p256_gy[8] = {0x37bf51f5u, 0xcbb64068u, 0x6b315eceu, 0x2bce3357u,
                                               0x7c0f9e16u, 0x8ee7eb4au, 0xfe1a7f9bu, 0x4fe342e2u};

// The curve `which` (0 secp256k1, 1 P-256) with its constants in Montgomery form; g_tables: the curve's
// wcurve_*_g_tables (ec/weierstrass_g_tables.cuh) or a copy of it (VERIFIER_SHARED_COPY).
VERIFIER_DEVICE void wcurve_init(wcurve *c, int which, const uint32_t *g_tables) {
  const uint32_t *b = which ? wcurve_p256_b : wcurve_secp256k1_b;
  const uint32_t *gx = which ? wcurve_p256_gx : wcurve_secp256k1_gx;
  const uint32_t *gy = which ? wcurve_p256_gy : wcurve_secp256k1_gy;
  c->p = which ? &fp256_p256_p : &fp256_secp256k1_p;
  c->n = which ? &fp256_p256_n : &fp256_secp256k1_n;
  uint32_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (which) {
    arith_sub8_u32(a, c->p->m, 3);  // a = -3 = p - 3
  }
  fp256_to_mont(&c->a, a, c->p);
  fp256_to_mont(&c->b, b, c->p);
  fp256_to_mont(&c->gx, gx, c->p);
  fp256_to_mont(&c->gy, gy, c->p);
  c->hybrid_keys = !which;
  c->g_tables = g_tables;
  c->glv = !which;
  c->a_minus_3 = which;
}

// The affine point k G (table 0) or k lambda G (table 1, secp256k1), 1 <= k <= WCURVE_G_ENTRIES: x at
// [0, 8), y at [8, 16) of the returned words, Montgomery form.
VERIFIER_DEVICE const uint32_t *wcurve_g_entry(const wcurve *c, int table, int k) {
  return c->g_tables + (table * WCURVE_G_ENTRIES + k - 1) * WCURVE_G_STRIDE;
}

VERIFIER_DEVICE void wpoint_set_infinity(wpoint *r, const wcurve *c) {
  fp256_set_one(&r->X, c->p);
  fp256_set_one(&r->Y, c->p);
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) r->Z.v[i] = 0;
}

VERIFIER_DEVICE int wpoint_is_infinity(const wpoint *a) { return fp256_is_zero(&a->Z); }

VERIFIER_DEVICE void wpoint_from_affine(wpoint *r, const fp256 *x, const fp256 *y, const wcurve *c) {
  r->X = *x;
  r->Y = *y;
  fp256_set_one(&r->Z, c->p);
}

// rhs = x^3 + a x + b.
VERIFIER_DEVICE void wcurve_rhs(fp256 *rhs, const fp256 *x, const wcurve *c) {
  const fp256_modulus *P = c->p;
  fp256 t, ax;
  fp256_sqr(&t, x, P);
  fp256_mul(&t, &t, x, P);
  fp256_mul(&ax, &c->a, x, P);
  fp256_add(&t, &t, &ax, P);
  fp256_add(rhs, &t, &c->b, P);
}

// r = 2a, by dbl-1998-cmo-2 with M = 3 X^2 + a Z^4 taken in the curve's own form: 3 X^2 for a = 0
// (secp256k1: 3M + 4S), 3 (X - Z^2)(X + Z^2) for a = -3 (P-256, dbl-2001-b's M: 4M + 4S). Against the
// general M (3 X^2 plus Z^4 times a: 2 more squarings and a multiplication) this saves 2S + 1M and 2S per
// doubling; the formula's other terms are the same.
VERIFIER_DEVICE void wpoint_double(wpoint *r, const wpoint *a, const wcurve *c) {
  const fp256_modulus *P = c->p;
  if (wpoint_is_infinity(a) || fp256_is_zero(&a->Y)) {  // 2 O = O; a point of order 2 doubles to O
    wpoint_set_infinity(r, c);
    return;
  }
  fp256 yy, yyyy, s, m, t, x3, y3, z3;
  fp256_sqr(&yy, &a->Y, P);
  fp256_sqr(&yyyy, &yy, P);
  fp256_mul(&s, &a->X, &yy, P);  // S = 4 X Y^2
  fp256_add(&s, &s, &s, P);
  fp256_add(&s, &s, &s, P);
  if (c->a_minus_3) {  // M = 3 (X - Z^2)(X + Z^2) = 3 X^2 - 3 Z^4
    fp256 zz, u;
    fp256_sqr(&zz, &a->Z, P);
    fp256_sub(&u, &a->X, &zz, P);
    fp256_add(&t, &a->X, &zz, P);
    fp256_mul(&t, &u, &t, P);
  } else {  // M = 3 X^2
    fp256_sqr(&t, &a->X, P);
  }
  fp256_add(&m, &t, &t, P);
  fp256_add(&m, &m, &t, P);
  fp256_sqr(&x3, &m, P);  // X3 = M^2 - 2 S
  fp256_sub(&x3, &x3, &s, P);
  fp256_sub(&x3, &x3, &s, P);
  fp256_sub(&t, &s, &x3, P);  // Y3 = M (S - X3) - 8 Y^4
  fp256_mul(&y3, &m, &t, P);
  fp256_add(&t, &yyyy, &yyyy, P);
  fp256_add(&t, &t, &t, P);
  fp256_add(&t, &t, &t, P);
  fp256_sub(&y3, &y3, &t, P);
  fp256_mul(&z3, &a->Y, &a->Z, P);  // Z3 = 2 Y Z
  fp256_add(&z3, &z3, &z3, P);
  r->X = x3;
  r->Y = y3;
  r->Z = z3;
}

// The rest of a Jacobian addition a + b once both points are brought to a common denominator: U1, S1
// (a's X, Y scaled by b's Z), U2, S2 (b's, scaled by a's Z) and z = Z1 Z2. H = U2 - U1 and R = S2 - S1;
// H = 0 means a = +-b (then 2a or infinity). X3 = R^2 - H^3 - 2 U1 H^2, Y3 = R (U1 H^2 - X3) - S1 H^3,
// Z3 = z H; *h_out = H when h_out is not null (left alone in the two special cases). Reads every input
// before writing r (r may alias a; u1, s1, z may point into a).
VERIFIER_DEVICE void wpoint_add_finish(wpoint *r, const wpoint *a, const fp256 *u1, const fp256 *s1,
                                       const fp256 *u2, const fp256 *s2, const fp256 *z, fp256 *h_out,
                                       const wcurve *c) {
  const fp256_modulus *P = c->p;
  fp256 h, rr;
  fp256_sub(&h, u2, u1, P);
  fp256_sub(&rr, s2, s1, P);
  if (fp256_is_zero(&h)) {
    if (fp256_is_zero(&rr)) {
      wpoint_double(r, a, c);  // a == b
    } else {
      wpoint_set_infinity(r, c);  // a == -b
    }
    return;
  }
  fp256 hh, hhh, v, t, x3, y3, z3;
  fp256_sqr(&hh, &h, P);
  fp256_mul(&hhh, &hh, &h, P);
  fp256_mul(&v, u1, &hh, P);
  fp256_sqr(&x3, &rr, P);
  fp256_sub(&x3, &x3, &hhh, P);
  fp256_sub(&x3, &x3, &v, P);
  fp256_sub(&x3, &x3, &v, P);
  fp256_sub(&t, &v, &x3, P);
  fp256_mul(&y3, &rr, &t, P);
  fp256_mul(&t, s1, &hhh, P);
  fp256_sub(&y3, &y3, &t, P);
  fp256_mul(&z3, z, &h, P);
  if (h_out) *h_out = h;
  r->X = x3;
  r->Y = y3;
  r->Z = z3;
}

// r = a + b (any points; r may alias a or b).
VERIFIER_DEVICE void wpoint_add(wpoint *r, const wpoint *a, const wpoint *b, const wcurve *c) {
  const fp256_modulus *P = c->p;
  if (wpoint_is_infinity(a)) {
    *r = *b;
    return;
  }
  if (wpoint_is_infinity(b)) {
    *r = *a;
    return;
  }
  fp256 z1z1, z2z2, u1, u2, s1, s2, t;
  fp256_sqr(&z1z1, &a->Z, P);
  fp256_sqr(&z2z2, &b->Z, P);
  fp256_mul(&u1, &a->X, &z2z2, P);
  fp256_mul(&u2, &b->X, &z1z1, P);
  fp256_mul(&s1, &a->Y, &z2z2, P);
  fp256_mul(&s1, &s1, &b->Z, P);
  fp256_mul(&s2, &b->Y, &z1z1, P);
  fp256_mul(&s2, &s2, &a->Z, P);
  fp256_mul(&t, &a->Z, &b->Z, P);
  wpoint_add_finish(r, a, &u1, &s1, &u2, &s2, &t, 0, c);
}

// r = a + (x2, y2) for an affine point in Montgomery form (mixed addition, Z2 = 1: madd-1998-cmo);
// h_out as in wpoint_add_finish (then r's Z is a's times *h_out).
VERIFIER_DEVICE void wpoint_add_affine(wpoint *r, const wpoint *a, const uint32_t x2[8], const uint32_t y2[8],
                                       fp256 *h_out, const wcurve *c) {
  const fp256_modulus *P = c->p;
  fp256 bx, by;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) {
    bx.v[i] = x2[i];
    by.v[i] = y2[i];
  }
  if (wpoint_is_infinity(a)) {
    wpoint_from_affine(r, &bx, &by, c);
    return;
  }
  fp256 z1z1, u2, s2;
  fp256_sqr(&z1z1, &a->Z, P);
  fp256_mul(&u2, &bx, &z1z1, P);
  fp256_mul(&s2, &by, &z1z1, P);
  fp256_mul(&s2, &s2, &a->Z, P);
  wpoint_add_finish(r, a, &a->X, &a->Y, &u2, &s2, &a->Z, h_out, c);  // U1 = X1, S1 = Y1, Z1 Z2 = Z1
}

// Signed windows of b bits: digit w of a scalar k is d_w = -2^(b-1) k(bw + b-1) + sum_{j < b-1} 2^j k(bw + j)
// + k(bw - 1) (k(i): bit i of k, k(-1) = 0), so k = sum d_w 2^(bw) with every d_w in [-2^(b-1), 2^(b-1)]
// (Booth's recoding: each digit from b + 1 bits, no carry from the digits below), and a table of the
// multiples 1 .. 2^(b-1) serves. A scalar below 2^B takes the digits w < ceil((B + 1) / b).
// Q's digits are 4 bits wide (its table is built per item); G's are WCURVE_G_WINDOW bits (a fixed table).
#define WPOINT_Q_WINDOW 4
#define WPOINT_TABLE 9  // Q's table: 0 Q .. 8 Q

// d_w of k (8 limbs) in signed b-bit windows, in [-2^(b-1), 2^(b-1)]; 2 <= b <= 8.
VERIFIER_DEVICE int wscalar_digit(const uint32_t k[8], int w, int b) {
  const int bit = b * w - 1;
  uint32_t v;  // bits bw - 1 .. bw + b - 1
  if (bit < 0) {
    v = k[0] << 1;
  } else {
    const int limb = bit >> 5, shift = bit & 31;
    v = limb < 8 ? k[limb] >> shift : 0u;
    if (shift > 31 - b && limb + 1 < 8) v |= k[limb + 1] << (32 - shift);
  }
  v &= (2u << b) - 1u;
  return (int)((v + 1) >> 1) - (int)((v >> b) << b);
}

// t[k] = k q for k = 0 .. 8 (the window table of the double-scalar multiplications): 2q by a doubling,
// the rest by additions.
VERIFIER_DEVICE void wpoint_multiples(wpoint t[WPOINT_TABLE], const wpoint *q, const wcurve *c) {
  wpoint_set_infinity(&t[0], c);
  t[1] = *q;
  wpoint_double(&t[2], q, c);
  for (int i = 3; i < WPOINT_TABLE; ++i) wpoint_add(&t[i], &t[i - 1], &t[1], c);
}

// Q's multiples on one denominator, for a = 0 (secp256k1): x[k - 1], y[k - 1] and z with
// k q = (x_k / z^2, y_k / z^3) for k = 1 .. 8, from an affine q (Z = 1). On the curve
// E': y^2 = x^3 + b z^6, the image of E under (x, y) -> (x z^2, y z^3), these are the affine points
// (x_k, y_k), so an accumulator on E' adds them with mixed additions (11 field operations instead of the
// general 16). The formulas never read b and a stays 0, so the same code runs on E' (G's entries are
// mapped there by wpoint_add_g's iso = z^2, z^3), and a point (X : Y : Z') on E' is (X : Y : Z' z) on E.
// Built as libsecp256k1's odd-multiples table is: 2q, then 3q .. 8q by mixed additions of q, keeping each
// step's H = Z_(k+1) / Z_k, then each entry brought to z = Z_8 by the product of the later ratios.
// (q has prime order n, so no step meets the special cases: k q = +-q only for k = 1 or -1 mod n.)
VERIFIER_DEVICE void wpoint_multiples_coz(fp256 x[8], fp256 y[8], fp256 *z, const wpoint *q, const wcurve *c) {
  const fp256_modulus *P = c->p;
  fp256 ratio[7];  // ratio[k - 1] = Z_(k+1) / Z_k
  wpoint t;
  x[0] = q->X;
  y[0] = q->Y;
  wpoint_double(&t, q, c);
  ratio[0] = t.Z;  // Z_1 = 1
  x[1] = t.X;
  y[1] = t.Y;
  for (int k = 3; k <= 8; ++k) {
    wpoint_add_affine(&t, &t, q->X.v, q->Y.v, &ratio[k - 2], c);
    x[k - 1] = t.X;
    y[k - 1] = t.Y;
  }
  *z = t.Z;
  fp256 f = ratio[6], ff, fff;  // f = Z_8 / Z_k, for k = 7 down to 1
  for (int k = 7; k >= 1; --k) {
    if (k < 7) fp256_mul(&f, &f, &ratio[k - 1], P);
    fp256_sqr(&ff, &f, P);
    fp256_mul(&fff, &ff, &f, P);
    fp256_mul(&x[k - 1], &x[k - 1], &ff, P);
    fp256_mul(&y[k - 1], &y[k - 1], &fff, P);
  }
}

// k1 + k2 lambda = k (mod n) with |k1|, |k2| < 2^128 (secp256k1's GLV split, as libsecp256k1's
// secp256k1_scalar_split_lambda): each returned as its magnitude and a sign (1: the value is -magnitude).
VERIFIER_DEVICE void wcurve_glv_split(uint32_t k1[8], int *neg1, uint32_t k2[8], int *neg2, const uint32_t k[8],
                                      const wcurve *c) {
  const fp256_modulus *N = c->n;
  uint32_t t[16], c1[8], c2[8];
  arith_mul8(t, k, wcurve_secp256k1_glv_g1);  // c1 = round(k g1 / 2^384)
  for (int i = 0; i < 8; ++i) c1[i] = i < 4 ? t[12 + i] : 0;
  arith_add8_u32(c1, c1, t[11] >> 31);
  arith_mul8(t, k, wcurve_secp256k1_glv_g2);
  for (int i = 0; i < 8; ++i) c2[i] = i < 4 ? t[12 + i] : 0;
  arith_add8_u32(c2, c2, t[11] >> 31);
  fp256 a, b, x, y;  // Montgomery form mod n
  fp256_to_mont(&a, c1, N);
  fp256_to_mont(&b, wcurve_secp256k1_glv_minus_b1, N);
  fp256_mul(&x, &a, &b, N);
  fp256_to_mont(&a, c2, N);
  fp256_to_mont(&b, wcurve_secp256k1_glv_minus_b2, N);
  fp256_mul(&y, &a, &b, N);
  fp256_add(&x, &x, &y, N);  // k2
  fp256_to_mont(&b, wcurve_secp256k1_glv_lambda, N);
  fp256_mul(&y, &x, &b, N);  // k2 lambda
  fp256_to_mont(&a, k, N);
  fp256_sub(&a, &a, &y, N);  // k1 = k - k2 lambda
  fp256_from_mont(k1, &a, N);
  fp256_from_mont(k2, &x, N);
  uint32_t half[8];  // floor(n / 2): above it, a value stands for its negative
  for (int i = 0; i < 8; ++i) half[i] = (N->m[i] >> 1) | (i < 7 ? N->m[i + 1] << 31 : 0);
  *neg1 = fp256_limbs_lt(half, k1);
  *neg2 = fp256_limbs_lt(half, k2);
  if (*neg1) arith_sub8(k1, N->m, k1);
  if (*neg2) arith_sub8(k2, N->m, k2);
}

// acc += d T for a digit d != 0 of G's scalar, T = G (table 0) or lambda G (table 1); neg flips the sign.
// iso: null, or Z^2 and Z^3 of wpoint_multiples_coz's Z, for an accumulator on its isomorphic curve (the
// entry (x, y) is taken there as (x Z^2, y Z^3)).
VERIFIER_DEVICE void wpoint_add_g(wpoint *acc, int table, int d, int neg, const fp256 iso[2], const wcurve *c) {
  const fp256_modulus *P = c->p;
  const uint32_t *e = wcurve_g_entry(c, table, d < 0 ? -d : d);
  fp256 x, y;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) {
    x.v[i] = e[i];
    y.v[i] = e[8 + i];
  }
  if (iso) {
    fp256_mul(&x, &x, &iso[0], P);
    fp256_mul(&y, &y, &iso[1], P);
  }
  if ((d < 0) ^ neg) fp256_neg(&y, &y, P);
  wpoint_add_affine(acc, acc, x.v, y.v, 0, c);
}

// acc += (-1)^neg q (a Jacobian table point).
VERIFIER_DEVICE void wpoint_add_signed(wpoint *acc, const wpoint *q, int neg, const wcurve *c) {
  wpoint t = *q;
  if (neg) fp256_neg(&t.Y, &t.Y, c->p);
  wpoint_add(acc, acc, &t, c);
}

// r = u1 G + u2 Q for plain 256-bit scalars (Straus): one chain of doublings over the bit positions,
// Q's signed 4-bit digits added at the positions 4w (its table 0..8 Q built per item), G's signed
// WCURVE_G_WINDOW-bit digits at the positions WCURVE_G_WINDOW w (the fixed table, mixed additions). The
// positions are the same in every thread, so a warp doubles and adds in step.
VERIFIER_DEVICE void wpoint_double_mul(wpoint *r, const uint32_t u1[8], const uint32_t u2[8], const wpoint *q,
                                       const wcurve *c) {
  wpoint tq[WPOINT_TABLE];
  wpoint_multiples(tq, q, c);
  wpoint acc;
  wpoint_set_infinity(&acc, c);
  for (int pos = 256; pos >= 0; --pos) {  // the top digit of a 256-bit scalar: 4-bit digit 64, at 256
    wpoint_double(&acc, &acc, c);          // free while acc is still infinity
    if (pos % WCURVE_G_WINDOW == 0) {
      const int d = wscalar_digit(u1, pos / WCURVE_G_WINDOW, WCURVE_G_WINDOW);
      if (d) wpoint_add_g(&acc, 0, d, 0, 0, c);
    }
    if (pos % WPOINT_Q_WINDOW == 0) {
      const int d = wscalar_digit(u2, pos / WPOINT_Q_WINDOW, WPOINT_Q_WINDOW);
      if (d) wpoint_add_signed(&acc, &tq[d < 0 ? -d : d], d < 0, c);
    }
  }
  *r = acc;
}

// r = u1 G + u2 Q on secp256k1 with the endomorphism: four 128-bit scalars (the GLV halves of u1 and u2)
// on G, lambda G, Q and phi(Q), one chain of doublings over the positions 128 .. 0, digits as above. The
// accumulator runs on wpoint_multiples_coz's isomorphic curve, so every addition is a mixed one; q affine.
VERIFIER_DEVICE void wpoint_double_mul_glv(wpoint *r, const uint32_t u1[8], const uint32_t u2[8], const wpoint *q,
                                           const wcurve *c) {
  const fp256_modulus *P = c->p;
  uint32_t k[4][8];
  int neg[4];
  wcurve_glv_split(k[0], &neg[0], k[1], &neg[1], u1, c);
  wcurve_glv_split(k[2], &neg[2], k[3], &neg[3], u2, c);
  fp256 qx[8], qy[8], z, iso[2];
  wpoint_multiples_coz(qx, qy, &z, q, c);
  fp256_sqr(&iso[0], &z, P);
  fp256_mul(&iso[1], &iso[0], &z, P);
  fp256 beta;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) beta.v[i] = wcurve_secp256k1_glv_beta_mont[i];
  wpoint acc;
  wpoint_set_infinity(&acc, c);
  for (int pos = 128; pos >= 0; --pos) {  // the top digit of a 128-bit half: 4-bit digit 32, at 128
    wpoint_double(&acc, &acc, c);          // free while acc is still infinity
    if (pos % WCURVE_G_WINDOW == 0) {
      for (int i = 0; i < 2; ++i) {  // G, lambda G
        const int d = wscalar_digit(k[i], pos / WCURVE_G_WINDOW, WCURVE_G_WINDOW);
        if (d) wpoint_add_g(&acc, i, d, neg[i], iso, c);
      }
    }
    if (pos % WPOINT_Q_WINDOW == 0) {
      for (int i = 2; i < 4; ++i) {  // Q, phi(Q) = (beta x, y)
        const int d = wscalar_digit(k[i], pos / WPOINT_Q_WINDOW, WPOINT_Q_WINDOW);
        if (!d) continue;
        const int m = (d < 0 ? -d : d) - 1;
        fp256 x = qx[m], y = qy[m];
        if (i == 3) fp256_mul(&x, &x, &beta, P);
        if (neg[i] ^ (d < 0)) fp256_neg(&y, &y, P);
        wpoint_add_affine(&acc, &acc, x.v, y.v, 0, c);
      }
    }
  }
  fp256_mul(&acc.Z, &acc.Z, &z, P);  // back from the isomorphic curve
  *r = acc;
}

#endif  // VERIFIER_KERNELS_EC_WEIERSTRASS_CUH
