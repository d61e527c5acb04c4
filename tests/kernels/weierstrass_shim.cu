// Test-only shim: exports pieces of kernels/ec/weierstrass.cuh as extern "C" host functions for
// tests/kernels/test_weierstrass.py (built with g++ -DVERIFIER_EMU, like backend emu).
#include "common/portable.cuh"
#include "ec/weierstrass.cuh"

extern "C" {
// digits[0..count) = wscalar_digit(k, w, bits) for w = 0..count-1.
void shim_scalar_digits(const uint32_t *k, int count, int bits, int *digits) {
  for (int w = 0; w < count; ++w) digits[w] = wscalar_digit(k, w, bits);
}

// out[0..16) = x, y of wcurve_g_entry (curve 0 secp256k1, 1 P-256) as the kernels read it; returns the
// table's window width.
int shim_g_entry(int curve, int table, int k, uint32_t *out) {
  wcurve c;
  wcurve_init(&c, curve, curve ? wcurve_p256_g_tables : wcurve_secp256k1_g_tables);
  const uint32_t *e = wcurve_g_entry(&c, table, k);
  for (int i = 0; i < 16; ++i) out[i] = e[i];
  return WCURVE_G_WINDOW;
}
}
