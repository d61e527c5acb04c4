// Points of a short-Weierstrass curve y^2 = x^3 + a x + b over GF(p) in Jacobian coordinates
// (x = X/Z^2, y = Y/Z^3; Z = 0 is the point at infinity), coordinates in Montgomery form (ff/fp256.cuh):
// secp256k1 (a = 0) and P-256 (a = -3), one code for both.
//
// Formulas: doubling dbl-1998-cmo-2 with M = 3 X^2 + a Z^4 in each curve's form (a = 0, a = -3), addition
// add-1998-cmo-2 (the general Jacobian sum, falling back to doubling when both inputs are equal). Every input of signature
// verification is public, so the special cases (infinity, equal points, opposite points) branch.
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
  const uint32_t (*g_table)[2][8];  // k G for k = 1..15, affine, Montgomery form (ec/weierstrass_g_tables.cuh)
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

// The curve `which` (0 secp256k1, 1 P-256) with its constants in Montgomery form.
VERIFIER_DEVICE void wcurve_init(wcurve *c, int which) {
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
  c->g_table = which ? wcurve_p256_g_table : wcurve_secp256k1_g_table;
  c->glv = !which;
  c->a_minus_3 = which;
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
// Z3 = z H. Reads every input before writing r (r may alias a; u1, s1, z may point into a).
VERIFIER_DEVICE void wpoint_add_finish(wpoint *r, const wpoint *a, const fp256 *u1, const fp256 *s1,
                                       const fp256 *u2, const fp256 *s2, const fp256 *z, const wcurve *c) {
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
  wpoint_add_finish(r, a, &u1, &s1, &u2, &s2, &t, c);
}

// r = a + (x2, y2) for an affine point in Montgomery form (mixed addition, Z2 = 1: madd-1998-cmo).
VERIFIER_DEVICE void wpoint_add_affine(wpoint *r, const wpoint *a, const uint32_t x2[8], const uint32_t y2[8],
                                       const wcurve *c) {
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
  wpoint_add_finish(r, a, &a->X, &a->Y, &u2, &s2, &a->Z, c);  // U1 = X1, S1 = Y1, Z1 Z2 = Z1
}

// Signed 4-bit windows: digit w of a scalar k is d_w = -8 b(4w+3) + 4 b(4w+2) + 2 b(4w+1) + b(4w) + b(4w-1)
// (b(i): bit i of k, b(-1) = 0), so k = sum d_w 16^w with every d_w in [-8, 8] (Booth's radix-16 recoding:
// each digit from five bits, no carry from the digits below), and a table of 0 .. 8 multiples serves.
// A scalar below 2^(4W) takes W + 1 digits: digit W is b(4W - 1), 0 or 1.
#define WPOINT_TABLE 9

// d_w of k (8 limbs), in [-8, 8].
VERIFIER_DEVICE int wscalar_digit(const uint32_t k[8], int w) {
  const int bit = 4 * w - 1;
  uint32_t v;  // bits 4w - 1 .. 4w + 3
  if (bit < 0) {
    v = (k[0] & 15u) << 1;
  } else {
    const int limb = bit >> 5, shift = bit & 31;
    v = limb < 8 ? k[limb] >> shift : 0u;
    if (shift > 27 && limb + 1 < 8) v |= k[limb + 1] << (32 - shift);
    v &= 31u;
  }
  return (int)((v + 1) >> 1) - (int)((v >> 4) << 4);
}

// t[k] = k q for k = 0 .. 8 (the window table of the double-scalar multiplications): 2q by a doubling,
// the rest by additions.
VERIFIER_DEVICE void wpoint_multiples(wpoint t[WPOINT_TABLE], const wpoint *q, const wcurve *c) {
  wpoint_set_infinity(&t[0], c);
  t[1] = *q;
  wpoint_double(&t[2], q, c);
  for (int i = 3; i < WPOINT_TABLE; ++i) wpoint_add(&t[i], &t[i - 1], &t[1], c);
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

// acc += sign * phi^e (the affine table point x, y) for e in {0, 1} (phi(x, y) = (beta x, y)).
VERIFIER_DEVICE void wpoint_add_affine_signed(wpoint *acc, const uint32_t x[8], const uint32_t y[8], int phi,
                                              int neg, const wcurve *c) {
  const fp256_modulus *P = c->p;
  fp256 px, py;
  for (int i = 0; i < 8; ++i) {
    px.v[i] = x[i];
    py.v[i] = y[i];
  }
  if (phi) {
    fp256 beta;
    for (int i = 0; i < 8; ++i) beta.v[i] = wcurve_secp256k1_glv_beta_mont[i];
    fp256_mul(&px, &px, &beta, P);
  }
  if (neg) fp256_neg(&py, &py, P);
  wpoint_add_affine(acc, acc, px.v, py.v, c);
}

// acc += sign * phi^e (a Jacobian table point); phi(X : Y : Z) = (beta X : Y : Z).
VERIFIER_DEVICE void wpoint_add_signed(wpoint *acc, const wpoint *q, int phi, int neg, const wcurve *c) {
  const fp256_modulus *P = c->p;
  wpoint t = *q;
  if (phi) {
    fp256 beta;
    for (int i = 0; i < 8; ++i) beta.v[i] = wcurve_secp256k1_glv_beta_mont[i];
    fp256_mul(&t.X, &t.X, &beta, P);
  }
  if (neg) fp256_neg(&t.Y, &t.Y, P);
  wpoint_add(acc, acc, &t, c);
}

// r = u1 G + u2 Q for plain 256-bit scalars (Straus: one shared chain of doublings, signed 4-bit windows of
// both scalars, 65 digits each; G's multiples from the constant table, mixed additions; Q's built per item).
VERIFIER_DEVICE void wpoint_double_mul(wpoint *r, const uint32_t u1[8], const uint32_t u2[8], const wpoint *q,
                                       const wcurve *c) {
  wpoint tq[WPOINT_TABLE];
  wpoint_multiples(tq, q, c);
  wpoint acc;
  wpoint_set_infinity(&acc, c);
  for (int w = 64; w >= 0; --w) {
    for (int k = 0; k < 4; ++k) wpoint_double(&acc, &acc, c);  // free while acc is still infinity
    const int d1 = wscalar_digit(u1, w), d2 = wscalar_digit(u2, w);
    if (d1) {
      const int m = d1 < 0 ? -d1 : d1;
      wpoint_add_affine_signed(&acc, c->g_table[m - 1][0], c->g_table[m - 1][1], 0, d1 < 0, c);
    }
    if (d2) wpoint_add_signed(&acc, &tq[d2 < 0 ? -d2 : d2], 0, d2 < 0, c);
  }
  *r = acc;
}

// r = u1 G + u2 Q on secp256k1 with the endomorphism: four 128-bit scalars (the GLV halves of u1 and u2)
// on G, phi(G), Q and phi(Q), one chain of 128 doublings, signed 4-bit windows.
VERIFIER_DEVICE void wpoint_double_mul_glv(wpoint *r, const uint32_t u1[8], const uint32_t u2[8], const wpoint *q,
                                           const wcurve *c) {
  uint32_t k[4][8];
  int neg[4];
  wcurve_glv_split(k[0], &neg[0], k[1], &neg[1], u1, c);
  wcurve_glv_split(k[2], &neg[2], k[3], &neg[3], u2, c);
  wpoint tq[WPOINT_TABLE];
  wpoint_multiples(tq, q, c);
  wpoint acc;
  wpoint_set_infinity(&acc, c);
  for (int w = 32; w >= 0; --w) {  // 33 signed digits of each 128-bit half
    for (int j = 0; j < 4; ++j) wpoint_double(&acc, &acc, c);  // free while acc is still infinity
    for (int i = 0; i < 4; ++i) {  // G, phi(G), Q, phi(Q)
      const int d = wscalar_digit(k[i], w);
      if (!d) continue;
      const int m = d < 0 ? -d : d, sign = neg[i] ^ (d < 0);
      if (i < 2) {
        wpoint_add_affine_signed(&acc, c->g_table[m - 1][0], c->g_table[m - 1][1], i & 1, sign, c);
      } else {
        wpoint_add_signed(&acc, &tq[m], i & 1, sign, c);
      }
    }
  }
  *r = acc;
}

#endif  // VERIFIER_KERNELS_EC_WEIERSTRASS_CUH
