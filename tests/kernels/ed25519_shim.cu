// Test-only shim: exports the device functions of the Ed25519 kernel headers as extern "C" host
// functions for tests/kernels/test_ed25519_primitives.py (built with g++ -DVERIFIER_EMU, like backend emu).
#include "common/portable.cuh"
#include "ec/ed25519.cuh"
#include "ec/ge25519_msm.cuh"

extern "C" {

// Portable twins of common/arith.cuh.
uint32_t shim_add8(uint32_t *r, const uint32_t *a, const uint32_t *b) { return arith_add8_portable(r, a, b); }
uint32_t shim_sub8(uint32_t *r, const uint32_t *a, const uint32_t *b) { return arith_sub8_portable(r, a, b); }
uint32_t shim_add8_u32(uint32_t *r, const uint32_t *a, uint32_t s) { return arith_add8_u32_portable(r, a, s); }
uint32_t shim_sub8_u32(uint32_t *r, const uint32_t *a, uint32_t s) { return arith_sub8_u32_portable(r, a, s); }
void shim_mad8_u32(uint32_t *r, const uint32_t *a, uint32_t s, const uint32_t *c) { arith_mad8_u32_portable(r, a, s, c); }
void shim_mul8(uint32_t *r, const uint32_t *a, const uint32_t *b) { arith_mul8_portable(r, a, b); }
void shim_sqr8(uint32_t *r, const uint32_t *a) { arith_sqr8_portable(r, a); }

// ff/fe25519.cuh: operands and results are 8 limbs, any value < 2^256.
// Built twice: with 8 x 32-bit limbs (the default) and with -DVERIFIER_FE51 (5 x 51).
static fe25519 ld(const uint32_t *p) {
  fe25519 f;
  fe25519_from_words(&f, p);
  return f;
}
static void st(uint32_t *p, const fe25519 *f) { fe25519_to_words(p, f); }
void shim_fe_add(uint32_t *h, const uint32_t *f, const uint32_t *g) { fe25519 a = ld(f), b = ld(g), r; fe25519_add(&r, &a, &b); st(h, &r); }
void shim_fe_sub(uint32_t *h, const uint32_t *f, const uint32_t *g) { fe25519 a = ld(f), b = ld(g), r; fe25519_sub(&r, &a, &b); st(h, &r); }
void shim_fe_mul(uint32_t *h, const uint32_t *f, const uint32_t *g) { fe25519 a = ld(f), b = ld(g), r; fe25519_mul(&r, &a, &b); st(h, &r); }
void shim_fe_sq(uint32_t *h, const uint32_t *f) { fe25519 a = ld(f), r; fe25519_sq(&r, &a); st(h, &r); }
// h = (k f) (k g) (k f - k g) with each k f a chain of k - 1 additions: the largest uncarried sums the
// 5 x 51 representation accepts (ff/fe25519_51.cuh: sums of up to seven carried values).
void shim_fe_mul_sums(uint32_t *h, const uint32_t *f, const uint32_t *g, int k) {
  fe25519 a = ld(f), b = ld(g), sa = a, sb = b, r, d;
  for (int i = 1; i < k; ++i) {
    fe25519_add(&sa, &sa, &a);
    fe25519_add(&sb, &sb, &b);
  }
  fe25519_mul(&r, &sa, &sb);
  fe25519_sub(&d, &sa, &sb);
  fe25519_mul(&r, &r, &d);
  st(h, &r);
}
void shim_fe_neg(uint32_t *h, const uint32_t *f) { fe25519 a = ld(f), r; fe25519_neg(&r, &a); st(h, &r); }
void shim_fe_invert(uint32_t *h, const uint32_t *f) { fe25519 a = ld(f), r; fe25519_invert(&r, &a); st(h, &r); }
void shim_fe_pow22523(uint32_t *h, const uint32_t *f) { fe25519 a = ld(f), r; fe25519_pow22523(&r, &a); st(h, &r); }
void shim_fe_freeze(uint32_t *h, const uint32_t *f) { fe25519 a = ld(f); fe25519_freeze(h, &a); }
int shim_fe_iszero(const uint32_t *f) { fe25519 a = ld(f); return fe25519_iszero(&a); }
int shim_fe_isnegative(const uint32_t *f) { fe25519 a = ld(f); return fe25519_isnegative(&a); }

// ff/sc25519.cuh.
int shim_sc_is_canonical(const uint32_t *s) { return sc25519_is_canonical(s); }
void shim_sc_reduce(uint32_t *r, const uint32_t *x) { sc25519_reduce(r, x); }
void shim_sc_recode4(signed char *e, const uint32_t *s) { sc25519_recode_signed<4>(e, s); }
void shim_sc_recode8(signed char *e, const uint32_t *s) { sc25519_recode_signed<8>(e, s); }

// hash/sha512.cuh.
void shim_sha512_challenge(uint8_t *out, const uint8_t *r, const uint8_t *a, const uint8_t *m, uint64_t mlen) {
  sha512_ed25519_challenge(out, r, a, m, mlen);
}

// ec/ge25519.cuh.
int shim_ge_has_small_order(const uint8_t *s) { return ge25519_has_small_order(s); }
int shim_ge_is_canonical(const uint8_t *s) { return ge25519_is_canonical(s); }
// Decode s and re-encode it canonically; returns the decoder's status.
int shim_ge_roundtrip(uint8_t *out, const uint8_t *s) {
  ge25519_p3 p;
  if (ge25519_frombytes_vartime(&p, s) != 0) return -1;
  ge25519_p2 q = {p.X, p.Y, p.Z};
  ge25519_tobytes(out, &q);
  return 0;
}
// out = encode([a]A + [b]B) for A decoded from a_enc; returns -1 if A does not decode.
int shim_ge_double_scalarmult(uint8_t *out, const uint32_t *a, const uint8_t *a_enc, const uint32_t *b) {
  ge25519_p3 A;
  if (ge25519_frombytes_vartime(&A, a_enc) != 0) return -1;
  ge25519_p1p1 t;
  ge25519_p2 q;
  ge25519_double_scalarmult_vartime(&t, a, &A, b, ge25519_base_table);
  ge25519_p1p1_to_p2(&q, &t);
  ge25519_tobytes(out, &q);
  return 0;
}
// out = encode(p + q), encode(p - q), encode(2p) for decoded p, q (add, sub, dbl formulas); -1 if either fails.
int shim_ge_add_sub_dbl(uint8_t *sum, uint8_t *diff, uint8_t *dbl, const uint8_t *p_enc, const uint8_t *q_enc) {
  ge25519_p3 p, q;
  if (ge25519_frombytes_vartime(&p, p_enc) != 0 || ge25519_frombytes_vartime(&q, q_enc) != 0) return -1;
  ge25519_cached qc;
  ge25519_p1p1 t;
  ge25519_p2 r;
  ge25519_p3_to_cached(&qc, &q);
  ge25519_add(&t, &p, &qc);
  ge25519_p1p1_to_p2(&r, &t);
  ge25519_tobytes(sum, &r);
  ge25519_sub(&t, &p, &qc);
  ge25519_p1p1_to_p2(&r, &t);
  ge25519_tobytes(diff, &r);
  ge25519_p3_dbl(&t, &p);
  ge25519_p1p1_to_p2(&r, &t);
  ge25519_tobytes(dbl, &r);
  return 0;
}

// ec/ge25519_msm.cuh: out = encode(sum [scalars[i]] P_i), P_i decoded (ZIP-215) from encs[32 i..], scalars
// 8 limbs each (< 2^253). method 1: Straus, 2: Pippenger with window c, 0: ge25519_msm_vartime's choice.
// Returns -1 if a point does not decode.
int shim_ge_msm(uint8_t *out, const uint8_t *encs, const uint32_t *scalars, uint32_t n, int method, int c) {
  std::vector<ge25519_p3> pts(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (ge25519_frombytes_vartime(&pts[i], encs + 32 * i) != 0) return -1;
  }
  const uint32_t(*sc)[8] = reinterpret_cast<const uint32_t(*)[8]>(scalars);
  ge25519_p3 r;
  if (method == 1) {
    ge25519_msm_straus(&r, pts.data(), sc, n);
  } else if (method == 2) {
    ge25519_msm_pippenger(&r, pts.data(), sc, n, c);
  } else {
    ge25519_msm_vartime(&r, pts.data(), sc, n);
  }
  ge25519_p2 q = {r.X, r.Y, r.Z};
  ge25519_tobytes(out, &q);
  return 0;
}

}  // extern "C"
