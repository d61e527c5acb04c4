// Multi-scalar multiplication sum_i [s_i] P_i on the Ed25519 group, for the host batch verifier
// (ec/ed25519_batch.cuh): Straus's interleaved windows (width-5 NAF, one shared chain of doublings) for a
// few points, Pippenger's bucket method (signed c-bit digits) for many. Host only: it allocates with
// std::vector and branches freely on its (public) inputs.
//
// Inputs: n points, each affine (Z = 1, as ge25519_frombytes_vartime returns them), and n scalars of
// 8 little-endian 32-bit limbs, each < 2^253 (reduced mod L, or shorter). Torsion components need no care
// here: the caller multiplies the sum by the cofactor.
//
// Costs, with M a field multiply (S a square, about 0.7M with 51-bit limbs): a mixed addition into a p3
// point is 7M, a full one 9M, a doubling 4S + 3M.
//   Straus:    per point 1 dbl + 7 adds (table of [1, 3, .., 15]P) and about b / 6 adds for a b-bit scalar;
//              plus 253 doublings shared by all points.
//   Pippenger: per point and c-bit window with a nonzero digit, one mixed addition (b / c per point for a
//              b-bit scalar); per window 2 * 2^(c-1) full additions to sum the buckets and c doublings.
// ge25519_msm_vartime picks the method and c by a cost model over these counts; the crossover is measured
// in benchmarks/bench_zip215_batch.py (benchmarks/NOTES.md, "ZIP-215 batch verification").
#ifndef VERIFIER_KERNELS_EC_GE25519_MSM_CUH
#define VERIFIER_KERNELS_EC_GE25519_MSM_CUH

#if defined(__CUDACC__)
#error "ec/ge25519_msm.cuh is host code (ec/ed25519_batch.cuh)"
#endif

#include <cstddef>
#include <vector>

#include "ec/ge25519.cuh"

// Scalar bits: every scalar is < 2^253 (a signed recoding may carry into bit 253).
#define GE25519_MSM_BITS 253

// The precomputed form of an affine point p (Z = 1): (y + x, y - x, 2dxy). Cost: 1M.
static inline void ge25519_msm_precomp(ge25519_precomp *r, const ge25519_p3 *p) {
  fe25519_add(&r->yplusx, &p->Y, &p->X);
  fe25519_sub(&r->yminusx, &p->Y, &p->X);
  fe25519_mul(&r->xy2d, &p->T, &fe25519_d2);
}

// r = -p, in place of its precomputed form: swap y + x and y - x, negate 2dxy.
static inline void ge25519_msm_precomp_neg(ge25519_precomp *r, const ge25519_precomp *p) {
  r->yplusx = p->yminusx;
  r->yminusx = p->yplusx;
  fe25519_neg(&r->xy2d, &p->xy2d);
}

// Bit `bit` of a 256-bit scalar (0 above 255).
static inline uint32_t ge25519_msm_bit(const uint32_t s[8], int bit) {
  return bit < 256 ? (s[bit >> 5] >> (bit & 31)) & 1u : 0u;
}

// `width` bits of s from `bit` (width <= 24; bits above 255 are 0).
static inline uint32_t ge25519_msm_bits(const uint32_t s[8], int bit, int width) {
  uint32_t v = 0;
  const int limb = bit >> 5, shift = bit & 31;
  if (limb < 8) v = s[limb] >> shift;
  if (shift != 0 && limb + 1 < 8) v |= s[limb + 1] << (32 - shift);
  return v & ((1u << width) - 1u);
}

// Width-5 NAF of s (< 2^253): naf[i] in {0, +-1, +-3, .., +-15}, at most one nonzero in any 5 consecutive
// positions, s = sum naf[i] 2^i; 254 positions. Returns the highest nonzero position + 1 (0 for s = 0).
static inline int ge25519_msm_naf5(signed char naf[GE25519_MSM_BITS + 1], const uint32_t s[8]) {
  uint32_t k[9];
  for (int i = 0; i < 8; ++i) k[i] = s[i];
  k[8] = 0;
  int top = 0;
  for (int i = 0; i <= GE25519_MSM_BITS; ++i) {
    naf[i] = 0;
    if (k[0] & 1u) {
      int d = (int)(k[0] & 31u);
      if (d > 16) d -= 32;
      naf[i] = (signed char)d;
      top = i + 1;
      // k -= d (d odd in [-15, 15]); k stays >= 0.
      if (d > 0) {
        uint64_t borrow = (uint64_t)d;
        for (int j = 0; j < 9 && borrow; ++j) {
          const uint64_t t = (uint64_t)k[j] - borrow;
          k[j] = (uint32_t)t;
          borrow = (t >> 63) & 1u;
        }
      } else {
        uint64_t carry = (uint64_t)(-d);
        for (int j = 0; j < 9 && carry; ++j) {
          const uint64_t t = (uint64_t)k[j] + carry;
          k[j] = (uint32_t)t;
          carry = t >> 32;
        }
      }
    }
    for (int j = 0; j < 8; ++j) k[j] = (k[j] >> 1) | (k[j + 1] << 31);
    k[8] >>= 1;
  }
  return top;
}

// out = sum [scalars[i]] points[i] by Straus's method (see the top of this file).
static void ge25519_msm_straus(ge25519_p3 *out, const ge25519_p3 *points, const uint32_t (*scalars)[8], size_t n) {
  std::vector<ge25519_cached> table(8 * n);  // [1, 3, .., 15] points[i] at 8 i
  std::vector<signed char> naf((GE25519_MSM_BITS + 1) * n);
  int top = 0;
  for (size_t i = 0; i < n; ++i) {
    ge25519_cached *t = &table[8 * i];
    ge25519_p1p1 r;
    ge25519_p3 twice, u;
    ge25519_p3_to_cached(&t[0], &points[i]);
    ge25519_p3_dbl(&r, &points[i]);
    ge25519_p1p1_to_p3(&twice, &r);
    for (int j = 1; j < 8; ++j) {
      ge25519_add(&r, &twice, &t[j - 1]);
      ge25519_p1p1_to_p3(&u, &r);
      ge25519_p3_to_cached(&t[j], &u);
    }
    const int hi = ge25519_msm_naf5(&naf[(GE25519_MSM_BITS + 1) * i], scalars[i]);
    if (hi > top) top = hi;
  }
  ge25519_p2 acc;
  ge25519_p2_0(&acc);
  ge25519_p1p1 r;
  ge25519_p3 u;
  for (int bit = top - 1; bit >= 0; --bit) {
    ge25519_p2_dbl(&r, &acc);
    for (size_t i = 0; i < n; ++i) {
      const int d = naf[(GE25519_MSM_BITS + 1) * i + bit];
      if (d == 0) continue;
      ge25519_p1p1_to_p3(&u, &r);
      if (d > 0) {
        ge25519_add(&r, &u, &table[8 * i + (d >> 1)]);
      } else {
        ge25519_sub(&r, &u, &table[8 * i + ((-d) >> 1)]);
      }
    }
    ge25519_p1p1_to_p2(&acc, &r);
  }
  if (top == 0) {
    ge25519_p3_0(out);
    return;
  }
  ge25519_p1p1_to_p3(out, &r);
}

// r = a + b for p3 points (b converted to cached form). Cost: 9M.
static inline void ge25519_msm_add_p3(ge25519_p3 *r, const ge25519_p3 *a, const ge25519_p3 *b) {
  ge25519_cached bc;
  ge25519_p1p1 t;
  ge25519_p3_to_cached(&bc, b);
  ge25519_add(&t, a, &bc);
  ge25519_p1p1_to_p3(r, &t);
}

// out = sum [scalars[i]] points[i] by Pippenger's bucket method with c-bit signed digits (2 <= c <= 16).
static void ge25519_msm_pippenger(ge25519_p3 *out, const ge25519_p3 *points, const uint32_t (*scalars)[8], size_t n,
                                  int c) {
  const int windows = (GE25519_MSM_BITS + 1 + c - 1) / c;  // the top digit may take the recoding's carry
  const uint32_t half = 1u << (c - 1), full = 1u << c;
  // digits[w * n + i]: digit w of scalar i, in [-2^(c-1), 2^(c-1)].
  std::vector<int32_t> digits((size_t)windows * n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t carry = 0;
    for (int w = 0; w < windows; ++w) {
      const uint32_t v = ge25519_msm_bits(scalars[i], w * c, c) + carry;
      carry = v > half;
      digits[(size_t)w * n + i] = carry ? (int32_t)v - (int32_t)full : (int32_t)v;
    }
  }
  std::vector<ge25519_precomp> pre(n);
  for (size_t i = 0; i < n; ++i) ge25519_msm_precomp(&pre[i], &points[i]);

  std::vector<ge25519_p3> bucket(half);
  std::vector<unsigned char> used(half);
  ge25519_p3 acc;
  int acc_empty = 1;
  for (int w = windows - 1; w >= 0; --w) {
    if (!acc_empty) {  // acc = [2^c] acc
      ge25519_p2 q = {acc.X, acc.Y, acc.Z};
      ge25519_p1p1 t;
      for (int j = 0; j < c; ++j) {
        ge25519_p2_dbl(&t, &q);
        if (j + 1 < c) ge25519_p1p1_to_p2(&q, &t);
      }
      ge25519_p1p1_to_p3(&acc, &t);
    }
    std::fill(used.begin(), used.end(), 0);
    const int32_t *dw = &digits[(size_t)w * n];
    for (size_t i = 0; i < n; ++i) {
      const int32_t d = dw[i];
      if (d == 0) continue;
      const uint32_t b = (uint32_t)(d < 0 ? -d : d) - 1u;
      if (!used[b]) {
        bucket[b] = points[i];
        if (d < 0) {
          fe25519_neg(&bucket[b].X, &bucket[b].X);
          fe25519_neg(&bucket[b].T, &bucket[b].T);
        }
        used[b] = 1;
        continue;
      }
      ge25519_p1p1 t;
      if (d > 0) {
        ge25519_madd(&t, &bucket[b], &pre[i]);
      } else {
        ge25519_precomp neg;
        ge25519_msm_precomp_neg(&neg, &pre[i]);
        ge25519_madd(&t, &bucket[b], &neg);
      }
      ge25519_p1p1_to_p3(&bucket[b], &t);
    }
    // sum_b (b + 1) bucket[b] = sum over b from the top of the running sum of buckets >= b.
    ge25519_p3 running, sum;
    int running_empty = 1, sum_empty = 1;
    for (uint32_t b = half; b-- > 0;) {
      if (used[b]) {
        if (running_empty) {
          running = bucket[b];
          running_empty = 0;
        } else {
          ge25519_msm_add_p3(&running, &running, &bucket[b]);
        }
      }
      if (running_empty) continue;
      if (sum_empty) {
        sum = running;
        sum_empty = 0;
      } else {
        ge25519_msm_add_p3(&sum, &sum, &running);
      }
    }
    if (sum_empty) continue;
    if (acc_empty) {
      acc = sum;
      acc_empty = 0;
    } else {
      ge25519_msm_add_p3(&acc, &acc, &sum);
    }
  }
  if (acc_empty) {
    ge25519_p3_0(out);
  } else {
    *out = acc;
  }
}

// Pippenger's window for n points: the c that minimises the estimated additions
// windows(c) * (n + 2^c), windows(c) = ceil(254 / c).
static inline int ge25519_msm_window(size_t n) {
  int best = 2;
  double best_cost = 1e300;
  for (int c = 2; c <= 16; ++c) {
    const double windows = (double)((GE25519_MSM_BITS + c) / c);
    const double cost = windows * ((double)n + (double)(1u << c));
    if (cost < best_cost) {
      best_cost = cost;
      best = c;
    }
  }
  return best;
}

// Points up to which Straus's method is used (measured: benchmarks/NOTES.md, "ZIP-215 batch verification").
#ifndef GE25519_MSM_STRAUS_MAX
#define GE25519_MSM_STRAUS_MAX 64
#endif

// out = sum [scalars[i]] points[i] (n >= 0; the identity for n = 0).
static void ge25519_msm_vartime(ge25519_p3 *out, const ge25519_p3 *points, const uint32_t (*scalars)[8], size_t n) {
  if (n <= GE25519_MSM_STRAUS_MAX) {
    ge25519_msm_straus(out, points, scalars, n);
  } else {
    ge25519_msm_pippenger(out, points, scalars, n, ge25519_msm_window(n));
  }
}

#endif  // VERIFIER_KERNELS_EC_GE25519_MSM_CUH
