// Test-only shim: exports kernels/ff/fp256.cuh as extern "C" host functions for tests/kernels/test_fp256.py
// (built with g++ -DVERIFIER_EMU, like backend emu). `which` picks the modulus: 0 secp256k1 p, 1 secp256k1
// n, 2 P-256 p, 3 P-256 n. Field elements cross as 8 limbs, in Montgomery form unless the name says plain.
#include "common/portable.cuh"
#include "ff/fp256.cuh"

static const fp256_modulus *modulus(int which) {
  static const fp256_modulus *all[4] = {&fp256_secp256k1_p, &fp256_secp256k1_n, &fp256_p256_p, &fp256_p256_n};
  return all[which];
}
static fp256 ld(const uint32_t *p) {
  fp256 f;
  for (int i = 0; i < 8; ++i) f.v[i] = p[i];
  return f;
}
static void st(uint32_t *p, const fp256 *f) {
  for (int i = 0; i < 8; ++i) p[i] = f->v[i];
}

extern "C" {
void shim_fp_constants(int which, uint32_t *m, uint32_t *m_inv, uint32_t *r2, uint32_t *one) {
  const fp256_modulus *M = modulus(which);
  for (int i = 0; i < 8; ++i) {
    m[i] = M->m[i];
    r2[i] = M->r2[i];
    one[i] = M->one[i];
  }
  *m_inv = M->m_inv;
}
void shim_fp_to_mont(int which, uint32_t *r, const uint32_t *plain) { fp256 a; fp256_to_mont(&a, plain, modulus(which)); st(r, &a); }
void shim_fp_from_mont(int which, uint32_t *plain, const uint32_t *a) { fp256 x = ld(a); fp256_from_mont(plain, &x, modulus(which)); }
void shim_fp_add(int which, uint32_t *r, const uint32_t *a, const uint32_t *b) { fp256 x = ld(a), y = ld(b), z; fp256_add(&z, &x, &y, modulus(which)); st(r, &z); }
void shim_fp_sub(int which, uint32_t *r, const uint32_t *a, const uint32_t *b) { fp256 x = ld(a), y = ld(b), z; fp256_sub(&z, &x, &y, modulus(which)); st(r, &z); }
void shim_fp_neg(int which, uint32_t *r, const uint32_t *a) { fp256 x = ld(a), z; fp256_neg(&z, &x, modulus(which)); st(r, &z); }
void shim_fp_mul(int which, uint32_t *r, const uint32_t *a, const uint32_t *b) { fp256 x = ld(a), y = ld(b), z; fp256_mul(&z, &x, &y, modulus(which)); st(r, &z); }
void shim_fp_inv(int which, uint32_t *r, const uint32_t *a) { fp256 x = ld(a), z; fp256_inv(&z, &x, modulus(which)); st(r, &z); }
void shim_fp_pow(int which, uint32_t *r, const uint32_t *a, const uint32_t *e) { fp256 x = ld(a), z; fp256_pow(&z, &x, e, modulus(which)); st(r, &z); }
int shim_fp_is_zero(const uint32_t *a) { fp256 x = ld(a); return fp256_is_zero(&x); }
void shim_fp_load_be32(uint32_t *x, const uint8_t *p) { fp256_load_be32(x, p); }
}
