// ZIP-215 batch verification on the host (docs/RULES.md section 2.6): the cpu backend's policy zip215.
//
// Items whose checks fail before the equation (S >= L, A or R undecodable) get that verdict alone, from
// the same functions as single verification (ed25519_zip215_prepare). The others, with per-item random
// 128-bit z_i (the caller's, from the OS CSPRNG per call), are accepted together when
//     [8] ( [sum z_i S_i] B + sum [z_i k_i] (-A_i) + sum [z_i] (-R_i) ) = identity,
// i.e. [8] sum z_i (R'_i - R_i) = 0 with R'_i = [S_i]B + [k_i](-A_i), one multi-scalar multiplication
// (ec/ge25519_msm.cuh). Why this is exact:
//   - every item valid: each [8](R'_i - R_i) is the identity (that is ZIP-215's single-item equation), so
//     the sum is too, for any z: a batch of valid signatures is always accepted. The cofactor is what makes
//     this hold for small-order and mixed-order A and R: the cofactorless equation would not be linear in
//     the torsion parts, and scalars reduced mod L would change torsion components that [8] removes.
//   - some item j invalid: Q_j = [8](R'_j - R_j) is a nonzero point of the prime-order subgroup, so for any
//     fixed other z_i at most one residue of z_j mod L makes the sum vanish; z_j uniform over 2^128 values
//     (L > 2^252) hits it with probability at most 2^-128.
// A failed batch is bisected: halves are batch-checked again, and a half of at most two items, or the
// halves of a node whose two halves both failed (bad items dense), are verified one by one with the
// single-item equation (ed25519_zip215_equation). So every rejection is a single verification's verdict,
// and an acceptance is wrong with probability at most 2^-128 per failed check. When the left half of a
// failed node passes, the right half must hold the bad item and is split without being checked.
//
// Host only (std::vector); the GPU verifies one signature per thread (ed25519_verify.cu).
#ifndef VERIFIER_KERNELS_EC_ED25519_BATCH_CUH
#define VERIFIER_KERNELS_EC_ED25519_BATCH_CUH

#if defined(__CUDACC__)
#error "ec/ed25519_batch.cuh is host code (kernels/host/ed25519_batch.cu)"
#endif

#include <cstddef>
#include <vector>

#include "ec/ed25519.cuh"
#include "ec/ge25519_msm.cuh"

// A node of at most this many items is verified item by item when its batch failed.
#define ED25519_BATCH_LEAF 2

// r (8 limbs) = a (4 limbs: a 128-bit z) * b (8 limbs) mod L.
static inline void ed25519_batch_mul_mod_l(uint32_t r[8], const uint32_t a[4], const uint32_t b[8]) {
  uint32_t wide[16] = {0};
  for (int i = 0; i < 4; ++i) {
    uint64_t t = 0;
    for (int j = 0; j < 8; ++j) {
      t += (uint64_t)a[i] * b[j] + wide[i + j];
      wide[i + j] = (uint32_t)t;
      t >>= 32;
    }
    wide[i + 8] = (uint32_t)t;
  }
  sc25519_reduce(r, wide);
}

// The base point B, decoded once (affine).
static const ge25519_p3 *ed25519_batch_base(void) {
  static const ge25519_p3 base = [] {
    // RFC 8032 section 5.1: y = 4/5, x positive.
    static const uint8_t enc[32] = {0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
    ge25519_p3 b;
    ge25519_frombytes_vartime(&b, enc);
    return b;
  }();
  return &base;
}

struct ed25519_batch {
  const ed25519_prepared *items;  // every item of the call
  const uint32_t (*z)[4];         // its random 128-bit coefficient (little-endian limbs)
  uint8_t *out;                   // verdicts, by item
  uint32_t singles;               // items verified one by one (the bisection's leaves)
  std::vector<ge25519_p3> points; // scratch of the batch equation
  std::vector<uint32_t> scalars;  // 8 limbs per point
};

// 1 iff the items idx[0..m) pass the batch equation (m >= 1).
static int ed25519_batch_check(ed25519_batch *b, const uint32_t *idx, size_t m) {
  const size_t npoints = 2 * m + 1;
  b->points.resize(npoints);
  b->scalars.resize(8 * npoints);
  ge25519_p3 *pts = b->points.data();
  uint32_t(*sc)[8] = reinterpret_cast<uint32_t(*)[8]>(b->scalars.data());
  // sum z_i S_i accumulated exactly (each product < 2^381, the sum < 2^413) and reduced once.
  uint64_t acc[16] = {0};
  for (size_t j = 0; j < m; ++j) {
    const ed25519_prepared *it = &b->items[idx[j]];
    const uint32_t *z = b->z[idx[j]];
    pts[1 + 2 * j] = it->minus_A;
    ed25519_batch_mul_mod_l(sc[1 + 2 * j], z, it->k);
    pts[2 + 2 * j] = it->R;
    fe25519_neg(&pts[2 + 2 * j].X, &it->R.X);
    fe25519_neg(&pts[2 + 2 * j].T, &it->R.T);
    for (int w = 0; w < 8; ++w) sc[2 + 2 * j][w] = w < 4 ? z[w] : 0u;
    for (int i = 0; i < 4; ++i) {
      for (int w = 0; w < 8; ++w) acc[i + w] += (uint64_t)z[i] * it->s[w] & 0xffffffffull;
      for (int w = 0; w < 8; ++w) acc[i + w + 1] += ((uint64_t)z[i] * it->s[w]) >> 32;
    }
    if ((j & 0x3fff) == 0x3fff || j + 1 == m) {  // carry before a column could pass 2^64
      uint64_t carry = 0;
      for (int w = 0; w < 16; ++w) {
        acc[w] += carry;
        carry = acc[w] >> 32;
        acc[w] &= 0xffffffffull;
      }
    }
  }
  uint32_t wide[16];
  for (int w = 0; w < 16; ++w) wide[w] = (uint32_t)acc[w];
  pts[0] = *ed25519_batch_base();
  sc25519_reduce(sc[0], wide);

  ge25519_p3 sum;
  ge25519_msm_vartime(&sum, pts, sc, npoints);
  const ge25519_p2 q = {sum.X, sum.Y, sum.Z};
  return ge25519_mul8_is_identity(&q);
}

static void ed25519_batch_singles(ed25519_batch *b, const uint32_t *idx, size_t m) {
  b->singles += (uint32_t)m;
  for (size_t j = 0; j < m; ++j) b->out[idx[j]] = ed25519_zip215_equation(&b->items[idx[j]], ge25519_base_table);
}

static void ed25519_batch_mark_ok(ed25519_batch *b, const uint32_t *idx, size_t m) {
  for (size_t j = 0; j < m; ++j) b->out[idx[j]] = VERDICT_OK;
}

// Verdicts for idx[0..m); `failed`: this node's batch is known to fail (its parent failed and its sibling
// passed), so it is split without being checked.
static void ed25519_batch_bisect(ed25519_batch *b, const uint32_t *idx, size_t m, int failed) {
  if (m == 0) return;
  if (m <= ED25519_BATCH_LEAF && (failed || m == 1)) {
    ed25519_batch_singles(b, idx, m);
    return;
  }
  if (!failed && ed25519_batch_check(b, idx, m)) {
    ed25519_batch_mark_ok(b, idx, m);
    return;
  }
  if (m <= ED25519_BATCH_LEAF) {
    ed25519_batch_singles(b, idx, m);
    return;
  }
  const size_t half = m / 2;
  const uint32_t *left = idx, *right = idx + half;
  const size_t nl = half, nr = m - half;
  if (ed25519_batch_check(b, left, nl)) {
    ed25519_batch_mark_ok(b, left, nl);
    ed25519_batch_bisect(b, right, nr, 1);
  } else if (ed25519_batch_check(b, right, nr)) {
    ed25519_batch_mark_ok(b, right, nr);
    ed25519_batch_bisect(b, left, nl, 1);
  } else {  // both halves fail: bad items are dense here, and one by one is cheaper than more halving
    ed25519_batch_singles(b, idx, m);
  }
}

#endif  // VERIFIER_KERNELS_EC_ED25519_BATCH_CUH
