// ECDSA verification of one item on secp256k1 or P-256 (docs/RULES.md section 5): the checks of 5.2-5.7 in
// order, each failure its verdict, so the kernel labels exactly as the CPU backend does. Accept or reject
// must equal the references (libsecp256k1, OpenSSL); the differential tests hold it to that.
#ifndef VERIFIER_KERNELS_EC_ECDSA_CUH
#define VERIFIER_KERNELS_EC_ECDSA_CUH

#include "ec/weierstrass.cuh"
#include "verdict.cuh"

// r, s = the two INTEGERs of a strict-DER SEQUENCE (5.2) or of 64 bytes r || s, as 32-byte big-endian
// values; *big_r / *big_s set when an INTEGER does not fit 256 bits (then out of range, 5.3 / 5.4).
// Returns 0 when the encoding is not one of those.
VERIFIER_DEVICE int ecdsa_der_integer(const uint8_t *sig, uint32_t len, uint32_t *at, uint8_t out[32], int *big) {
  const uint32_t i = *at;
  if (i + 2 > len || sig[i] != 0x02) return 0;
  const uint32_t n = sig[i + 1];
  if (n == 0 || n >= 0x80 || i + 2 + n > len) return 0;
  const uint8_t *body = sig + i + 2;
  if (body[0] & 0x80) return 0;                              // negative
  if (n > 1 && body[0] == 0 && !(body[1] & 0x80)) return 0;  // a needless padding zero
  for (int k = 0; k < 32; ++k) out[k] = 0;
  *big = n > 33 || (n == 33 && body[0] != 0);
  if (!*big) {
    const uint32_t skip = n == 33 ? 1 : 0;  // the padding zero of a top-bit-set 256-bit value
    for (uint32_t k = skip; k < n; ++k) out[32 - n + k] = body[k];
  }
  *at = i + 2 + n;
  return 1;
}

VERIFIER_DEVICE int ecdsa_parse_signature(const uint8_t *sig, uint32_t len, uint8_t r[32], uint8_t s[32],
                                          int *big_r, int *big_s) {
  *big_r = *big_s = 0;
  if (len == 64) {
    for (int k = 0; k < 32; ++k) {
      r[k] = sig[k];
      s[k] = sig[32 + k];
    }
    return 1;
  }
  if (len < 8 || sig[0] != 0x30 || sig[1] >= 0x80 || sig[1] != len - 2) return 0;
  uint32_t at = 2;
  if (!ecdsa_der_integer(sig, len, &at, r, big_r)) return 0;
  if (!ecdsa_der_integer(sig, len, &at, s, big_s)) return 0;
  return at == len;
}

// 1 when 1 <= x < m (plain limbs).
VERIFIER_DEVICE int ecdsa_in_range(const uint32_t x[8], const fp256_modulus *M) {
  uint32_t acc = 0;
  for (int i = 0; i < 8; ++i) acc |= x[i];
  return acc != 0 && fp256_limbs_lt(x, M->m);
}

// The SEC 1 key (5.6) as a point, or 0: bad prefix or length, a coordinate >= p, off the curve, no square
// root for a compressed x, a hybrid key whose prefix disagrees with y's parity (or hybrid on P-256).
VERIFIER_DEVICE int ecdsa_decode_key(wpoint *q, const uint8_t *key, uint32_t len, const wcurve *c) {
  const fp256_modulus *P = c->p;
  const uint8_t prefix = len ? key[0] : 0;
  uint32_t x[8], y[8];
  fp256 xm, ym, rhs, yy;
  if (len == 33 && (prefix == 2 || prefix == 3)) {
    fp256_load_be32(x, key + 1);
    if (!fp256_limbs_lt(x, P->m)) return 0;
    fp256_to_mont(&xm, x, P);
    wcurve_rhs(&rhs, &xm, c);
    uint32_t e[8];  // (p + 1) / 4: both primes are 3 mod 4
    arith_add8_u32(e, P->m, 1);
    for (int i = 0; i < 8; ++i) e[i] = (e[i] >> 2) | (i < 7 ? e[i + 1] << 30 : 0);
    fp256_pow(&ym, &rhs, e, P);
    fp256_sqr(&yy, &ym, P);
    if (!fp256_eq(&yy, &rhs)) return 0;
    fp256_from_mont(y, &ym, P);
    if ((y[0] & 1) != (uint32_t)(prefix & 1)) fp256_neg(&ym, &ym, P);
    wpoint_from_affine(q, &xm, &ym, c);
    return 1;
  }
  const int hybrid = prefix == 6 || prefix == 7;
  if (len == 65 && (prefix == 4 || (hybrid && c->hybrid_keys))) {
    fp256_load_be32(x, key + 1);
    fp256_load_be32(y, key + 33);
    if (!fp256_limbs_lt(x, P->m) || !fp256_limbs_lt(y, P->m)) return 0;
    if (hybrid && (y[0] & 1) != (uint32_t)(prefix & 1)) return 0;
    fp256_to_mont(&xm, x, P);
    fp256_to_mont(&ym, y, P);
    wcurve_rhs(&rhs, &xm, c);
    fp256_sqr(&yy, &ym, P);
    if (!fp256_eq(&yy, &rhs)) return 0;
    wpoint_from_affine(q, &xm, &ym, c);
    return 1;
  }
  return 0;
}

// The verdict of (key, sig, digest) on curve c; low_s: the policy requires s <= n/2 (libsecp256k1, fabric).
VERIFIER_DEVICE uint8_t ecdsa_verify_one(const uint8_t *key, uint32_t key_len, const uint8_t *sig, uint32_t sig_len,
                                         const uint8_t *digest, int low_s, const wcurve *c) {
  const fp256_modulus *N = c->n;
  uint8_t rb[32], sb[32];
  int big_r, big_s;
  if (!ecdsa_parse_signature(sig, sig_len, rb, sb, &big_r, &big_s)) return VERDICT_INVALID_SIGNATURE_ENCODING;
  uint32_t r[8], s[8], e[8];
  fp256_load_be32(r, rb);
  fp256_load_be32(s, sb);
  if (big_r || !ecdsa_in_range(r, N)) return VERDICT_R_OUT_OF_RANGE;
  if (big_s || !ecdsa_in_range(s, N)) return VERDICT_S_OUT_OF_RANGE;
  if (low_s) {
    uint32_t half[8];  // floor(n / 2)
    for (int i = 0; i < 8; ++i) half[i] = (N->m[i] >> 1) | (i < 7 ? N->m[i + 1] << 31 : 0);
    if (fp256_limbs_lt(half, s)) return VERDICT_HIGH_S;
  }
  wpoint q;
  if (!ecdsa_decode_key(&q, key, key_len, c)) return VERDICT_INVALID_PUBLIC_KEY;
  // e = digest mod n: the digest is below 2^256 < 2n, so one subtraction at most.
  fp256_load_be32(e, digest);
  if (!fp256_limbs_lt(e, N->m)) arith_sub8(e, e, N->m);
  fp256 wm, em, rm, u1m, u2m;
  fp256_inv_plain(&wm, s, N);  // w = s^-1 mod n
  fp256_to_mont(&em, e, N);
  fp256_to_mont(&rm, r, N);
  fp256_mul(&u1m, &em, &wm, N);
  fp256_mul(&u2m, &rm, &wm, N);
  uint32_t u1[8], u2[8];
  fp256_from_mont(u1, &u1m, N);
  fp256_from_mont(u2, &u2m, N);
  wpoint rp;
  if (c->glv) {
    wpoint_double_mul_glv(&rp, u1, u2, &q, c);
  } else {
    wpoint_double_mul(&rp, u1, u2, &q, c);
  }
  if (wpoint_is_infinity(&rp)) return VERDICT_EQUATION_FAILED;
  // Accept when x(R) mod n == r, x(R) = X / Z^2 < p, without an inversion: X == r Z^2, or, when r + n
  // is below p (then x(R) = r + n also reduces to r), X == (r + n) Z^2.
  const fp256_modulus *P = c->p;
  fp256 zz, rm_p, t;
  fp256_sqr(&zz, &rp.Z, P);
  fp256_to_mont(&rm_p, r, P);  // r < n < p
  fp256_mul(&t, &rm_p, &zz, P);
  if (fp256_eq(&t, &rp.X)) return VERDICT_OK;
  uint32_t rn[8];
  const uint32_t carry = arith_add8(rn, r, N->m);
  if (!carry && fp256_limbs_lt(rn, P->m)) {
    fp256_to_mont(&rm_p, rn, P);
    fp256_mul(&t, &rm_p, &zz, P);
    if (fp256_eq(&t, &rp.X)) return VERDICT_OK;
  }
  return VERDICT_EQUATION_FAILED;
}

#endif  // VERIFIER_KERNELS_EC_ECDSA_CUH
