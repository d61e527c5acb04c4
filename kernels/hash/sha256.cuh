// SHA-256 (FIPS 180-4) on big-endian words held in registers: the compression function, a two-compression
// fast path for a fixed 65-byte message (an RFC 9162 node: 0x01 || left || right), and a streaming hash of
// one prefix byte followed by any number of bytes (an RFC 9162 leaf: 0x00 || data).
//
// A digest is `uint32_t h[8]`, h[0] holding digest bytes 0..3 big-endian, as FIPS 180-4 section 6.2.2
// leaves H(N); sha256_load_digest / sha256_digest_equal move between bytes and that form. Every input is
// public (proofs, leaves, roots): the code branches on lengths freely and makes no constant-time claim.
#ifndef VERIFIER_KERNELS_HASH_SHA256_CUH
#define VERIFIER_KERNELS_HASH_SHA256_CUH

#include "common/portable.cuh"

#if defined(VERIFIER_EMU)
#include <cstring>
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "sha256_load_digest assumes a little-endian host");
#endif

// Full unrolling lets the compiler keep the 16-word schedule window in registers and fold the constant
// message words of the node hash's second block (see sha256_node).
#if defined(__CUDACC__)
#define SHA256_UNROLL _Pragma("unroll")
#else
#define SHA256_UNROLL _Pragma("GCC unroll 64")
#endif

#define SHA256_BLOCK_BYTES 64
#define SHA256_DIGEST_BYTES 32

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
// primes. Indexed with compile-time constants only (every loop over it is unrolled), so nvcc turns each
// use into an immediate operand rather than a constant-bank load.
VERIFIER_CONSTANT uint32_t SHA256_K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

// FIPS 180-4 section 5.3.3: H(0), the first 32 bits of the fractional parts of the square roots of the
// first 8 primes. Spelled out as immediates in sha256_init so that the first rounds of a hash fold.
#define SHA256_H0_0 0x6a09e667u
#define SHA256_H0_1 0xbb67ae85u
#define SHA256_H0_2 0x3c6ef372u
#define SHA256_H0_3 0xa54ff53au
#define SHA256_H0_4 0x510e527fu
#define SHA256_H0_5 0x9b05688cu
#define SHA256_H0_6 0x1f83d9abu
#define SHA256_H0_7 0x5be0cd19u

// FIPS 180-4 section 5.1.1: the padding starts with one 1 bit (byte 0x80), and the last 8 bytes of the
// last block hold the message length in bits, big-endian.
#define SHA256_PAD_BYTE 0x80u
#define SHA256_LENGTH_BYTES 8

VERIFIER_DEVICE uint32_t sha256_rotr(uint32_t x, unsigned n) {
#if defined(__CUDACC__)
  return __funnelshift_r(x, x, n);
#else
  return (x >> n) | (x << (32u - n));
#endif
}

// (hi << 24) | (lo >> 8): the word that straddles two big-endian words when a message is shifted by one
// byte (the RFC 9162 prefix). One SHF on the GPU.
VERIFIER_DEVICE uint32_t sha256_shift_in_byte(uint32_t hi, uint32_t lo) {
#if defined(__CUDACC__)
  return __funnelshift_r(lo, hi, 8);
#else
  return (hi << 24) | (lo >> 8);
#endif
}

VERIFIER_DEVICE uint32_t sha256_bswap32(uint32_t x) {
#if defined(__CUDACC__)
  return __byte_perm(x, 0u, 0x0123u);
#else
  return __builtin_bswap32(x);
#endif
}

// FIPS 180-4 section 4.1.2, functions (4.2)-(4.7).
VERIFIER_DEVICE uint32_t sha256_ch(uint32_t x, uint32_t y, uint32_t z) { return z ^ (x & (y ^ z)); }
VERIFIER_DEVICE uint32_t sha256_maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) | (z & (x | y)); }
VERIFIER_DEVICE uint32_t sha256_big_sigma0(uint32_t x) {
  return sha256_rotr(x, 2) ^ sha256_rotr(x, 13) ^ sha256_rotr(x, 22);
}
VERIFIER_DEVICE uint32_t sha256_big_sigma1(uint32_t x) {
  return sha256_rotr(x, 6) ^ sha256_rotr(x, 11) ^ sha256_rotr(x, 25);
}
VERIFIER_DEVICE uint32_t sha256_small_sigma0(uint32_t x) { return sha256_rotr(x, 7) ^ sha256_rotr(x, 18) ^ (x >> 3); }
VERIFIER_DEVICE uint32_t sha256_small_sigma1(uint32_t x) {
  return sha256_rotr(x, 17) ^ sha256_rotr(x, 19) ^ (x >> 10);
}

VERIFIER_DEVICE void sha256_init(uint32_t state[8]) {
  state[0] = SHA256_H0_0;
  state[1] = SHA256_H0_1;
  state[2] = SHA256_H0_2;
  state[3] = SHA256_H0_3;
  state[4] = SHA256_H0_4;
  state[5] = SHA256_H0_5;
  state[6] = SHA256_H0_6;
  state[7] = SHA256_H0_7;
}

// FIPS 180-4 section 6.2.2: one block. `w` holds the block's 16 big-endian words on entry and is used as
// the rolling schedule window W[t mod 16] (clobbered). Cost: 64 rounds + 48 schedule steps. Inlined and
// unrolled into its caller, so words that are compile-time constants there fold into the schedule.
VERIFIER_DEVICE void sha256_compress(uint32_t state[8], uint32_t w[16]) {
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  SHA256_UNROLL
  for (int t = 0; t < 64; ++t) {
    if (t >= 16) {
      w[t & 15] += sha256_small_sigma1(w[(t - 2) & 15]) + w[(t - 7) & 15] + sha256_small_sigma0(w[(t - 15) & 15]);
    }
    const uint32_t t1 = h + sha256_big_sigma1(e) + sha256_ch(e, f, g) + SHA256_K[t] + w[t & 15];
    const uint32_t t2 = sha256_big_sigma0(a) + sha256_maj(a, b, c);
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

// SHA-256(prefix || left || right) for one prefix byte and two digests: a 65-byte message, two blocks.
// Block 1 is the prefix, all of `left` and 31 bytes of `right`, each word straddling two input words.
// Block 2 is right's last byte, the 0x80 pad byte, zeros and the bit length 65 * 8 = 520 = 0x208
// (FIPS 180-4 section 5.1.1): only W[0] varies, W[1..14] = 0 and W[15] = 0x208 are immediates, so after
// unrolling the compiler drops the zero terms of the schedule (W[16] = W[0], W[17] = sigma1(0x208), ...).
// Cost: 2 compressions, the second with a mostly constant schedule. `out` may alias `left` or `right`.
#define SHA256_NODE_MESSAGE_BYTES 65
#define SHA256_NODE_LAST_WORD (SHA256_NODE_MESSAGE_BYTES * 8u)  // bit length, 520 = 0x208
VERIFIER_DEVICE void sha256_node(uint8_t prefix, const uint32_t left[8], const uint32_t right[8], uint32_t out[8]) {
  uint32_t w[16];
  w[0] = (uint32_t(prefix) << 24) | (left[0] >> 8);
  SHA256_UNROLL
  for (int i = 1; i < 8; ++i) w[i] = sha256_shift_in_byte(left[i - 1], left[i]);
  w[8] = sha256_shift_in_byte(left[7], right[0]);
  SHA256_UNROLL
  for (int i = 9; i < 16; ++i) w[i] = sha256_shift_in_byte(right[i - 9], right[i - 8]);
  const uint32_t last = (right[7] << 24) | (SHA256_PAD_BYTE << 16);

  uint32_t state[8];
  sha256_init(state);
  sha256_compress(state, w);

  w[0] = last;
  SHA256_UNROLL
  for (int i = 1; i < 15; ++i) w[i] = 0u;
  w[15] = SHA256_NODE_LAST_WORD;
  sha256_compress(state, w);
  SHA256_UNROLL
  for (int i = 0; i < 8; ++i) out[i] = state[i];
}

// Byte j of the padded message prefix || data[0..len) (FIPS 180-4 section 5.1.1), for j below the start
// of the length field. Used only for the one or two blocks at the ends of the message.
VERIFIER_DEVICE uint32_t sha256_prefixed_byte(uint8_t prefix, const uint8_t* data, uint64_t len, uint64_t j) {
  if (j == 0) return prefix;
  if (j - 1 < len) return data[j - 1];
  if (j - 1 == len) return SHA256_PAD_BYTE;
  return 0u;
}

// SHA-256(prefix || data[0..len)): streaming over (len + 1 + 1 + 8) rounded up to 64 bytes, i.e.
// (len + 72) / 64 compressions. Interior blocks (every byte from data) load without per-byte checks; the
// first block (holding the prefix) and the tail blocks go through sha256_prefixed_byte. Data is read one
// byte at a time (it has no alignment), which is cheap next to the compressions.
// Out of line on the GPU: inlined into the Merkle kernel, its hoisted byte loads raise the whole kernel's
// registers and halve the node-hash loop's occupancy (benchmarks/NOTES.md, "Merkle", Registers).
#if defined(__CUDACC__)
#define SHA256_OUT_OF_LINE __device__ __noinline__
#else
#define SHA256_OUT_OF_LINE static inline
#endif
SHA256_OUT_OF_LINE void sha256_prefixed(uint8_t prefix, const uint8_t* __restrict__ data, uint64_t len,
                                     uint32_t out[8]) {
  const uint64_t total = len + 1;                      // message bytes
  const uint64_t blocks = (total + 1 + SHA256_LENGTH_BYTES + SHA256_BLOCK_BYTES - 1) / SHA256_BLOCK_BYTES;
  const uint64_t bits = total * 8u;                    // total < 2^61 for any buffer that fits in memory
  uint32_t state[8];
  sha256_init(state);
  for (uint64_t blk = 0; blk < blocks; ++blk) {
    const uint64_t base = blk * SHA256_BLOCK_BYTES;   // message offset of the block
    uint32_t w[16];
    if (base >= 1 && base + SHA256_BLOCK_BYTES <= total) {
      const uint8_t* p = data + (base - 1);
      SHA256_UNROLL
      for (int k = 0; k < 16; ++k) {
        w[k] = (uint32_t(p[4 * k]) << 24) | (uint32_t(p[4 * k + 1]) << 16) | (uint32_t(p[4 * k + 2]) << 8) |
               uint32_t(p[4 * k + 3]);
      }
    } else {
      const bool last = blk + 1 == blocks;
      for (int k = 0; k < 16; ++k) {
        if (last && k == 14) {
          w[k] = uint32_t(bits >> 32);
        } else if (last && k == 15) {
          w[k] = uint32_t(bits);
        } else {
          const uint64_t j = base + 4u * uint64_t(k);
          w[k] = (sha256_prefixed_byte(prefix, data, len, j) << 24) |
                 (sha256_prefixed_byte(prefix, data, len, j + 1) << 16) |
                 (sha256_prefixed_byte(prefix, data, len, j + 2) << 8) | sha256_prefixed_byte(prefix, data, len, j + 3);
        }
      }
    }
    sha256_compress(state, w);
  }
  SHA256_UNROLL
  for (int i = 0; i < 8; ++i) out[i] = state[i];
}

// 32 digest bytes -> 8 big-endian words. `p` must be 16-byte aligned on the GPU: it is read with two
// 16-byte loads through the read-only cache (every caller passes row i of an (n, 32) device array).
VERIFIER_DEVICE void sha256_load_digest(const uint8_t* __restrict__ p, uint32_t h[8]) {
#if defined(__CUDACC__)
  const uint4 lo = __ldg(reinterpret_cast<const uint4*>(p));
  const uint4 hi = __ldg(reinterpret_cast<const uint4*>(p) + 1);
  h[0] = sha256_bswap32(lo.x);
  h[1] = sha256_bswap32(lo.y);
  h[2] = sha256_bswap32(lo.z);
  h[3] = sha256_bswap32(lo.w);
  h[4] = sha256_bswap32(hi.x);
  h[5] = sha256_bswap32(hi.y);
  h[6] = sha256_bswap32(hi.z);
  h[7] = sha256_bswap32(hi.w);
#else
  uint32_t raw[8];
  std::memcpy(raw, p, sizeof raw);
  for (int i = 0; i < 8; ++i) h[i] = sha256_bswap32(raw[i]);  // the emu build runs on little-endian hosts
#endif
}

// Whether two digests in word form are equal (all 8 words compared, no early exit).
VERIFIER_DEVICE bool sha256_digest_equal(const uint32_t x[8], const uint32_t y[8]) {
  uint32_t diff = 0;
  SHA256_UNROLL
  for (int i = 0; i < 8; ++i) diff |= x[i] ^ y[i];
  return diff == 0;
}

#endif  // VERIFIER_KERNELS_HASH_SHA256_CUH
