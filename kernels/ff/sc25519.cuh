// Scalars mod L = 2^252 + 27742317777372353535851937790883648493 (the order of the Ed25519 base point):
// the canonical check on S, the reduction of a 512-bit SHA-512 output mod L, and the signed fixed-window
// recoding that drives ge25519_double_scalarmult_vartime.
//
// Scalars are 8 little-endian 32-bit limbs. Nothing here is constant-time: scalars in verification are
// public. None of this is on the hot path (one reduction per signature), so it favours plain loops.
#ifndef VERIFIER_KERNELS_FF_SC25519_CUH
#define VERIFIER_KERNELS_FF_SC25519_CUH

#include "common/arith.cuh"

// L, little-endian limbs (RFC 8032 section 5.1).
VERIFIER_CONSTANT uint32_t sc25519_L[8] = {0x5cf5d3edu, 0x5812631au, 0xa2f79cd6u, 0x14def9deu,
                                           0x00000000u, 0x00000000u, 0x00000000u, 0x10000000u};
// Barrett constant mu = floor(2^512 / L), a 260-bit number (9 limbs); Python: (1 << 512) // L.
VERIFIER_CONSTANT uint32_t sc25519_mu[9] = {0x0a2c131bu, 0xed9ce5a3u, 0x086329a7u, 0x2106215du, 0xffffffebu,
                                            0xffffffffu, 0xffffffffu, 0xffffffffu, 0x0000000fu};

// 1 iff s < L (docs/RULES.md section 1 step 2: S is never reduced). Compares from the top limb.
VERIFIER_DEVICE int sc25519_is_canonical(const uint32_t s[8]) {
  for (int i = 7; i >= 0; --i) {
    if (s[i] < sc25519_L[i]) return 1;
    if (s[i] > sc25519_L[i]) return 0;
  }
  return 0;  // s == L
}

// 1 iff a >= b, for n-limb numbers.
VERIFIER_DEVICE int sc25519_geq_n(const uint32_t *a, const uint32_t *b, int n) {
  for (int i = n - 1; i >= 0; --i) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return 1;
}

// r = x mod L for a 512-bit x (16 limbs): Barrett reduction, HAC algorithm 14.42 with b = 2^32, k = 8:
// q = floor(floor(x / b^7) * mu / b^9); r = (x - q L) mod b^9, then at most two subtractions of L.
// Cost: about 81 + 72 wide products (partial products of q * L above b^9 are skipped).
VERIFIER_DEVICE void sc25519_reduce(uint32_t r[8], const uint32_t x[16]) {
  uint32_t q2[18];
  for (int i = 0; i < 18; ++i) q2[i] = 0;
  for (int i = 0; i < 9; ++i) {  // q2 = q1 * mu, q1 = x[7..16)
    uint64_t t = 0;
    for (int j = 0; j < 9; ++j) {
      t += (uint64_t)x[7 + i] * sc25519_mu[j] + q2[i + j];
      q2[i + j] = (uint32_t)t;
      t >>= 32;
    }
    q2[i + 9] = (uint32_t)t;
  }
  const uint32_t *q3 = q2 + 9;  // 9 limbs
  uint32_t r2[9];               // (q3 * L) mod b^9
  for (int i = 0; i < 9; ++i) r2[i] = 0;
  for (int i = 0; i < 9; ++i) {
    uint64_t t = 0;
    for (int j = 0; i + j < 9 && j < 8; ++j) {
      t += (uint64_t)q3[i] * sc25519_L[j] + r2[i + j];
      r2[i + j] = (uint32_t)t;
      t >>= 32;
    }
    if (i + 8 < 9) r2[i + 8] = (uint32_t)t;  // carry into the top limb only while it is in range
  }
  uint32_t rr[9];
  uint32_t borrow = 0;
  for (int i = 0; i < 9; ++i) {  // rr = x[0..9) - r2 mod b^9 (< 3L by HAC 14.44)
    uint64_t t = (uint64_t)x[i] - r2[i] - borrow;
    rr[i] = (uint32_t)t;
    borrow = (uint32_t)(t >> 63);
  }
  uint32_t l9[9];
  for (int i = 0; i < 8; ++i) l9[i] = sc25519_L[i];
  l9[8] = 0;
  for (int round = 0; round < 2; ++round) {
    if (sc25519_geq_n(rr, l9, 9)) {
      borrow = 0;
      for (int i = 0; i < 9; ++i) {
        uint64_t t = (uint64_t)rr[i] - l9[i] - borrow;
        rr[i] = (uint32_t)t;
        borrow = (uint32_t)(t >> 63);
      }
    }
  }
  for (int i = 0; i < 8; ++i) r[i] = rr[i];
}

// Signed fixed-window recoding: s = sum e[i] 2^(W i), e[i] in [-2^(W-1), 2^(W-1) - 1], 256/W digits.
// Requires s < 2^253 (any scalar < L): the top digit then absorbs the last carry (it stays <= 2^(W-3) + 1).
// Fixed windows (not sliding) keep the main loop's sequence of doublings and additions the same for
// every thread of a warp; only the table index differs.
template <int W>
VERIFIER_DEVICE void sc25519_recode_signed(signed char e[256 / W], const uint32_t s[8]) {
  int carry = 0;
  VERIFIER_UNROLL
  for (int i = 0; i < 256 / W; ++i) {
    int bit = i * W;  // W divides 32: a digit never straddles two limbs
    int d = (int)((s[bit >> 5] >> (bit & 31)) & ((1u << W) - 1u)) + carry;
    carry = (d + (1 << (W - 1))) >> W;
    e[i] = (signed char)(d - (carry << W));  // signed char, not int8_t: NVRTC has no <cstdint>
  }
}

#endif  // VERIFIER_KERNELS_FF_SC25519_CUH
