// x^-1 mod m for an odd 256-bit modulus m, by Bernstein and Yang's divsteps ("Fast constant-time gcd
// computation and modular inversion", 2019), the method of libsecp256k1's modinv32: about 26k SASS
// instructions on the GPU (sm_90) where Fermat's x^(m-2) takes ~330 field multiplications (~130k).
//
// A divstep maps (delta, f, g), f odd, to (1 - delta, g, (g - f) / 2) when delta > 0 and g is odd, else
// to (1 + delta, f, (g + (g odd) f) / 2). From (1, m, x), g reaches 0 and f = +-gcd(m, x) = +-1 within
// 741 steps for 256-bit inputs (the paper's Theorem 11.2: floor((49 d + 57) / 17) for d >= 46 bits); we
// run a fixed 25 batches of 30 (750), so every thread of a warp runs the same instructions. Each batch
// takes its 30 decisions from the low 30 bits of f and g alone, as a matrix t with
// 2^30 (f', g') = t (f, g), then applies t to the full f, g and to d, e, which track f = d x and g = e x
// (mod m): (d, e) <- (t (d, e) + m (md, me)) / 2^30, md and me chosen to make the division exact, keeping
// d and e in (-2m, m). At the end x^-1 = +-d.
//
// Numbers are 9 signed 30-bit limbs (sum v[i] 2^(30 i)): limbs 0..7 in [0, 2^30) after each update, the
// top limb signed. Every input of signature verification is public; nothing here branches on it except
// the last normalisation.
#ifndef VERIFIER_KERNELS_FF_MODINV_CUH
#define VERIFIER_KERNELS_FF_MODINV_CUH

#include "common/arith.cuh"

#define MODINV_M30 0x3fffffff
#define MODINV_BATCHES 25  // x 30 divsteps = 750 >= 741
// The probe of kernels/tools/ecdsa_cost.py unrolls the batches, so that its static SASS count is the
// dynamic one; the kernels keep them as a loop.
#if defined(MODINV_UNROLLED)
#define MODINV_BATCH_LOOP VERIFIER_UNROLL
#else
#define MODINV_BATCH_LOOP VERIFIER_NO_UNROLL
#endif

typedef struct {
  int32_t v[9];
} modinv_s30;

// 8 x 32-bit limbs (little-endian) into 9 x 30.
VERIFIER_DEVICE void modinv_from_u32(modinv_s30 *r, const uint32_t a[8]) {
  VERIFIER_UNROLL
  for (int i = 0; i < 9; ++i) {
    const int bit = 30 * i, limb = bit >> 5, shift = bit & 31;
    uint32_t w = a[limb] >> shift;
    if (shift > 2 && limb + 1 < 8) w |= a[limb + 1] << (32 - shift);
    r->v[i] = (int32_t)(w & MODINV_M30);
  }
}

// 9 x 30 (normalised, 0 <= a < 2^256) into 8 x 32.
VERIFIER_DEVICE void modinv_to_u32(uint32_t r[8], const modinv_s30 *a) {
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) r[i] = 0;
  VERIFIER_UNROLL
  for (int i = 0; i < 9; ++i) {
    const int bit = 30 * i, limb = bit >> 5, shift = bit & 31;
    const uint32_t w = (uint32_t)a->v[i];
    r[limb] |= w << shift;
    if (shift > 2 && limb + 1 < 8) r[limb + 1] |= w >> (32 - shift);
  }
}

// Limbs 0..7 back into [0, 2^30), the excess carried into the signed top limb. Each limb in (-2^31, 2^31 - 2^30).
VERIFIER_DEVICE void modinv_carry(modinv_s30 *a) {
  int32_t c = 0;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) {
    const int32_t x = a->v[i] + c;
    a->v[i] = x & MODINV_M30;
    c = x >> 30;  // arithmetic: floor division
  }
  a->v[8] += c;
}

// 30 divsteps from delta on the low bits of f (odd) and g; returns the new delta and sets t = (u, v, q, r)
// with 2^30 (f', g') = (u f + v g, q f + r g). |u| + |v| and |q| + |r| stay <= 2^30 (each step at most
// doubles one row and adds the two), so the entries fit 32 bits.
VERIFIER_DEVICE int modinv_divsteps_30(int delta, uint32_t f, uint32_t g, int32_t t[4]) {
  int32_t u = 1, v = 0, q = 0, r = 1;
  VERIFIER_UNROLL
  for (int i = 0; i < 30; ++i) {
    if (delta > 0 && (g & 1u)) {  // (f, g) <- (g, -f), then g + f below gives (g - f)
      delta = -delta;
      const uint32_t tf = f;
      f = g;
      g = 0u - tf;
      const int32_t tu = u, tv = v;
      u = q;
      v = r;
      q = -tu;
      r = -tv;
    }
    if (g & 1u) {
      g += f;
      q += u;
      r += v;
    }
    g >>= 1;  // only the low bits that later steps read matter
    u *= 2;
    v *= 2;
    ++delta;
  }
  t[0] = u;
  t[1] = v;
  t[2] = q;
  t[3] = r;
  return delta;
}

// (f, g) <- t (f, g) / 2^30 (exact).
VERIFIER_DEVICE void modinv_update_fg(modinv_s30 *f, modinv_s30 *g, const int32_t t[4]) {
  const int64_t u = t[0], v = t[1], q = t[2], r = t[3];
  int64_t cf = u * f->v[0] + v * g->v[0], cg = q * f->v[0] + r * g->v[0];
  cf >>= 30;  // the low 30 bits are zero
  cg >>= 30;
  VERIFIER_UNROLL
  for (int i = 1; i < 9; ++i) {
    cf += u * f->v[i] + v * g->v[i];
    cg += q * f->v[i] + r * g->v[i];
    f->v[i - 1] = (int32_t)((uint32_t)cf & MODINV_M30);
    g->v[i - 1] = (int32_t)((uint32_t)cg & MODINV_M30);
    cf >>= 30;
    cg >>= 30;
  }
  f->v[8] = (int32_t)cf;
  g->v[8] = (int32_t)cg;
}

// (d, e) <- (t (d, e) + m (md, me)) / 2^30, d and e in (-2m, m) before and after. A negative d (or e) is
// taken as d + m, in (-m, m), by starting md at u (and me at q); then md, me are lowered by what makes
// the low 30 bits zero (m_inv30 = m^-1 mod 2^30). With |u| + |v| <= 2^30 the sum lies in
// (-2^31 m, 2^30 m), so the quotient in (-2m, m).
VERIFIER_DEVICE void modinv_update_de(modinv_s30 *d, modinv_s30 *e, const int32_t t[4], const modinv_s30 *m,
                                      uint32_t m_inv30) {
  const int32_t u = t[0], v = t[1], q = t[2], r = t[3];
  const int32_t sd = d->v[8] >> 31, se = e->v[8] >> 31;  // -1 when negative
  int32_t md = (u & sd) + (v & se), me = (q & sd) + (r & se);
  int64_t cd = (int64_t)u * d->v[0] + (int64_t)v * e->v[0];
  int64_t ce = (int64_t)q * d->v[0] + (int64_t)r * e->v[0];
  md -= (int32_t)((m_inv30 * (uint32_t)cd + (uint32_t)md) & MODINV_M30);
  me -= (int32_t)((m_inv30 * (uint32_t)ce + (uint32_t)me) & MODINV_M30);
  cd += (int64_t)m->v[0] * md;
  ce += (int64_t)m->v[0] * me;
  cd >>= 30;  // the low 30 bits are zero
  ce >>= 30;
  VERIFIER_UNROLL
  for (int i = 1; i < 9; ++i) {
    cd += (int64_t)u * d->v[i] + (int64_t)v * e->v[i] + (int64_t)m->v[i] * md;
    ce += (int64_t)q * d->v[i] + (int64_t)r * e->v[i] + (int64_t)m->v[i] * me;
    d->v[i - 1] = (int32_t)((uint32_t)cd & MODINV_M30);
    e->v[i - 1] = (int32_t)((uint32_t)ce & MODINV_M30);
    cd >>= 30;
    ce >>= 30;
  }
  d->v[8] = (int32_t)cd;
  e->v[8] = (int32_t)ce;
}

// a <- a + sign m (sign +1 or -1), carried.
VERIFIER_DEVICE void modinv_add_m(modinv_s30 *a, const modinv_s30 *m, int32_t sign) {
  VERIFIER_UNROLL
  for (int i = 0; i < 9; ++i) a->v[i] += sign * m->v[i];
  modinv_carry(a);
}

// r = x^-1 mod m (plain 8-limb integers, 0 <= x < m; x = 0 gives 0); m odd, 2^255 < m < 2^256,
// m_inv32 = -m^-1 mod 2^32 (fp256_modulus's m_inv).
VERIFIER_DEVICE void modinv_u256(uint32_t r[8], const uint32_t x[8], const uint32_t m_limbs[8], uint32_t m_inv32) {
  modinv_s30 m, f, g, d, e;
  modinv_from_u32(&m, m_limbs);
  modinv_from_u32(&g, x);
  f = m;
  VERIFIER_UNROLL
  for (int i = 0; i < 9; ++i) d.v[i] = e.v[i] = 0;
  e.v[0] = 1;
  const uint32_t m_inv30 = (0u - m_inv32) & MODINV_M30;
  int delta = 1;
  MODINV_BATCH_LOOP
  for (int b = 0; b < MODINV_BATCHES; ++b) {
    int32_t t[4];
    delta = modinv_divsteps_30(delta, (uint32_t)f.v[0], (uint32_t)g.v[0], t);
    modinv_update_de(&d, &e, t, &m, m_inv30);
    modinv_update_fg(&f, &g, t);
  }
  // g = 0 and f = +-1: x^-1 = sign(f) d, with d in (-2m, m); bring it to [0, m).
  if (f.v[8] < 0) {
    VERIFIER_UNROLL
    for (int i = 0; i < 9; ++i) d.v[i] = -d.v[i];
    modinv_carry(&d);  // now in (-m, 2m)
  }
  if (d.v[8] < 0) modinv_add_m(&d, &m, 1);
  if (d.v[8] < 0) modinv_add_m(&d, &m, 1);
  modinv_s30 t = d;
  modinv_add_m(&t, &m, -1);
  if (t.v[8] >= 0) d = t;
  modinv_to_u32(r, &d);
}

#endif  // VERIFIER_KERNELS_FF_MODINV_CUH
