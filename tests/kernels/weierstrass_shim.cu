// Test-only shim: exports pieces of kernels/ec/weierstrass.cuh as extern "C" host functions for
// tests/kernels/test_weierstrass.py (built with g++ -DVERIFIER_EMU, like backend emu).
#include "common/portable.cuh"
#include "ec/weierstrass.cuh"

extern "C" {
// digits[0..count) = wscalar_digit(k, w) for w = 0..count-1.
void shim_scalar_digits(const uint32_t *k, int count, int *digits) {
  for (int w = 0; w < count; ++w) digits[w] = wscalar_digit(k, w);
}
}
