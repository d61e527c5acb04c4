// Arithmetic modulo a 256-bit odd modulus m, on 8 x 32-bit limbs in Montgomery form: the fields and the
// scalar groups of secp256k1 and P-256 (docs/RULES.md section 5), one code for all four moduli.
//
// Representation (fp256): x R mod m with R = 2^256, fully reduced (< m) after every operation, so
// equality is limb equality. A modulus (fp256_modulus) carries m, -m^-1 mod 2^32 (for the Montgomery
// reduction), R^2 mod m (to enter Montgomery form) and R mod m (the form of 1). A multiplication is the
// 512-bit product (common/arith.cuh's mul8 / sqr8: PTX carry chains on the GPU), then Montgomery
// reduction: eight rows, each adding q m (q chosen to clear one limb) to the product. For P-256's field
// prime the row q m is written out from its special form instead of multiplied limb by limb
// (fp256_row_p256_p: no product, since -p^-1 = 1 mod 2^32 makes q the limb itself); the other moduli take
// the general row. Both give the same value, so the representation is one for all four moduli.
//
// Every input of signature verification is public: nothing here needs to run in constant time, but
// nothing branches on limb values except the final conditional subtractions.
#ifndef VERIFIER_KERNELS_FF_FP256_CUH
#define VERIFIER_KERNELS_FF_FP256_CUH

#include "common/arith.cuh"
#include "ff/modinv.cuh"

typedef struct {
  uint32_t v[8];  // x R mod m, < m
} fp256;

// Operation counts for the cost model of kernels/tools/ecdsa_cost.py: only in a host build with
// -DVERIFIER_COUNT_OPS, per thread, by reduction form (fp256_form: 0 general, 1 P-256's p) and kind
// (0 multiplication, 1 squaring, 2 addition/subtraction/negation, 3 inversion by ff/modinv.cuh).
#define FP256_FORMS 2
#define FP256_KINDS 4
#if defined(VERIFIER_COUNT_OPS) && !defined(__CUDACC__)
static thread_local unsigned long long fp256_op_counts[FP256_FORMS][FP256_KINDS];
#define FP256_COUNT(kind, M) (++fp256_op_counts[fp256_form(M)][kind])
#else
#define FP256_COUNT(kind, M) ((void)0)
#endif

typedef struct {
  uint32_t m[8];    // the modulus, odd, 2^255 < m < 2^256
  uint32_t m_inv;   // -m^-1 mod 2^32
  uint32_t r2[8];   // R^2 mod m
  uint32_t one[8];  // R mod m: 1 in Montgomery form
} fp256_modulus;

// The four moduli of the ECDSA curves, in one array: nvcc cannot tell two separate __constant__ objects
// apart at compile time (it compares their generic addresses at run time), but folds a comparison of two
// elements of one array, so fp256_form below costs nothing once the modulus is known. Limbs computed
// with Python integers (kernels/tools/gen_fp256_moduli.py prints them; tests/kernels/test_fp256.py checks
// them).
#define FP256_SECP256K1_P 0
#define FP256_SECP256K1_N 1
#define FP256_P256_P 2
#define FP256_P256_N 3
VERIFIER_CONSTANT fp256_modulus fp256_moduli[4] = {
    {  // secp256k1_p
        {0xfffffc2fu, 0xfffffffeu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
        0xd2253531u,
        {0x000e90a1u, 0x000007a2u, 0x00000001u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u},
        {0x000003d1u, 0x00000001u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u}},
    {  // secp256k1_n
        {0xd0364141u, 0xbfd25e8cu, 0xaf48a03bu, 0xbaaedce6u, 0xfffffffeu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
        0x5588b13fu,
        {0x67d7d140u, 0x896cf214u, 0x0e7cf878u, 0x741496c2u, 0x5bcd07c6u, 0xe697f5e4u, 0x81c69bc5u, 0x9d671cd5u},
        {0x2fc9bebfu, 0x402da173u, 0x50b75fc4u, 0x45512319u, 0x00000001u, 0x00000000u, 0x00000000u, 0x00000000u}},
    {  // p256_p
        {0xffffffffu, 0xffffffffu, 0xffffffffu, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000001u, 0xffffffffu},
        0x00000001u,
        {0x00000003u, 0x00000000u, 0xffffffffu, 0xfffffffbu, 0xfffffffeu, 0xffffffffu, 0xfffffffdu, 0x00000004u},
        {0x00000001u, 0x00000000u, 0x00000000u, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xfffffffeu, 0x00000000u}},
    {  // p256_n
        {0xfc632551u, 0xf3b9cac2u, 0xa7179e84u, 0xbce6faadu, 0xffffffffu, 0xffffffffu, 0x00000000u, 0xffffffffu},
        0xee00bc4fu,
        {0xbe79eea2u, 0x83244c95u, 0x49bd6fa6u, 0x4699799cu, 0x2b6bec59u, 0x2845b239u, 0xf3d95620u, 0x66e12d94u},
        {0x039cdaafu, 0x0c46353du, 0x58e8617bu, 0x43190552u, 0x00000000u, 0x00000000u, 0xffffffffu, 0x00000000u}},
};
#define fp256_secp256k1_p (fp256_moduli[FP256_SECP256K1_P])
#define fp256_secp256k1_n (fp256_moduli[FP256_SECP256K1_N])
#define fp256_p256_p (fp256_moduli[FP256_P256_P])
#define fp256_p256_n (fp256_moduli[FP256_P256_N])

// The reduction form of M: 1 for P-256's p, 0 (the general row) for any other. Where the modulus is a
// known constant after inlining (each ECDSA kernel is compiled for one curve), the comparison folds and
// only that form's code is emitted. (secp256k1's p = 2^256 - 2^32 - 977 takes the general row: written
// out, its row q p = q 2^256 - q (2^32 + 977) plus the add cost more on sm_90 than eight IMAD.WIDE
// multiply-adds, 478 against 433 instructions per multiplication; benchmarks/NOTES.md, "ECDSA".)
VERIFIER_DEVICE int fp256_form(const fp256_modulus *M) { return M == &fp256_p256_p ? 1 : 0; }

// qm = q p for P-256's p = 2^256 - 2^224 + 2^192 + 2^96 - 1 (limbs ffffffff x 3, 0 x 3, 1, ffffffff): no
// product. For q != 0: (-q, ffffffff, ffffffff, q - 1, 0, 0, q, -q, q - 1), as the rows of q ffffffff
// (= (q - 1) 2^32 + (2^32 - q)) carry into each other; all zero for q = 0.
VERIFIER_DEVICE void fp256_row_p256_p(uint32_t qm[9], uint32_t q) {
  const uint32_t nz = 0u - (uint32_t)(q != 0);  // all ones when q != 0
  qm[0] = 0u - q;
  qm[1] = nz;
  qm[2] = nz;
  qm[3] = q + nz;  // q - 1, or 0
  qm[4] = 0u;
  qm[5] = 0u;
  qm[6] = q;
  qm[7] = 0u - q;
  qm[8] = q + nz;
}

// 1 when a < b (8 limbs each, unsigned), else 0.
VERIFIER_DEVICE int fp256_limbs_lt(const uint32_t a[8], const uint32_t b[8]) {
  for (int i = 7; i >= 0; --i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return 0;
}

VERIFIER_DEVICE int fp256_is_zero(const fp256 *a) {
  uint32_t acc = 0;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) acc |= a->v[i];
  return acc == 0;
}

VERIFIER_DEVICE int fp256_eq(const fp256 *a, const fp256 *b) {
  uint32_t acc = 0;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) acc |= a->v[i] ^ b->v[i];
  return acc == 0;
}

// r = t - m when t (with carry bit `hi` above it) is >= m, else t: the final step of every operation.
VERIFIER_DEVICE void fp256_reduce_once(fp256 *r, const uint32_t t[8], uint32_t hi, const fp256_modulus *M) {
  uint32_t u[8];
  const uint32_t borrow = arith_sub8(u, t, M->m);
  const int take = hi || !borrow;  // t + hi 2^256 >= m
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) r->v[i] = take ? u[i] : t[i];
}

VERIFIER_DEVICE void fp256_add(fp256 *r, const fp256 *a, const fp256 *b, const fp256_modulus *M) {
  FP256_COUNT(2, M);
  uint32_t t[8];
  const uint32_t carry = arith_add8(t, a->v, b->v);
  fp256_reduce_once(r, t, carry, M);
}

VERIFIER_DEVICE void fp256_sub(fp256 *r, const fp256 *a, const fp256 *b, const fp256_modulus *M) {
  FP256_COUNT(2, M);
  uint32_t t[8], u[8];
  const uint32_t borrow = arith_sub8(t, a->v, b->v);
  arith_add8(u, t, M->m);  // t + m, correct when a < b
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) r->v[i] = borrow ? u[i] : t[i];
}

VERIFIER_DEVICE void fp256_neg(fp256 *r, const fp256 *a, const fp256_modulus *M) {
  fp256 zero;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) zero.v[i] = 0;
  fp256_sub(r, &zero, a, M);
}

// Montgomery reduction of a 512-bit T (16 limbs, T < m R): r = T R^-1 mod m. Eight rounds, each adding
// q m (q = T[i] m_inv) to clear limb i: for P-256's p the row q m written out (fp256_row_p256_p) and
// added, for the other moduli one 8x1-limb multiply-add of common/arith.cuh (a PTX carry chain on the
// GPU); then a carry into the limbs above. T is overwritten.
VERIFIER_DEVICE void fp256_redc(fp256 *r, uint32_t T[16], const fp256_modulus *M) {
  const int form = fp256_form(M);
  uint32_t carry = 0;  // out of limb i + 8 of row i, into limb i + 9
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) {
    const uint32_t q = T[i] * M->m_inv;
    uint32_t row[9];
    if (form == 0) {
      arith_mad8_u32(row, M->m, q, T + i);  // T[i..i+7] + q m
    } else {
      uint32_t qm[9];
      fp256_row_p256_p(qm, q);
      row[8] = qm[8] + arith_add8(row, T + i, qm);  // q m < 2^32 m: no carry out of limb 8
    }
    VERIFIER_UNROLL
    for (int j = 0; j < 8; ++j) T[i + j] = row[j];  // T[i] is now 0
    // The row's top limb, and the previous row's carry, which belongs at limb i + 8: no row reads limbs
    // above its own eight, so each carry waits one row instead of running up to limb 15 (no branch).
    const uint64_t c = (uint64_t)T[i + 8] + row[8] + carry;
    T[i + 8] = (uint32_t)c;
    carry = (uint32_t)(c >> 32);
  }
  fp256_reduce_once(r, T + 8, carry, M);  // T R^-1 < 2m: the last carry is bit 256
}

// r = a b R^-1 mod m: the 512-bit product (common/arith.cuh's mul8: PTX carry chains on the GPU), then
// Montgomery reduction. Inputs < m; r may alias a or b.
VERIFIER_DEVICE void fp256_mul(fp256 *r, const fp256 *a, const fp256 *b, const fp256_modulus *M) {
  FP256_COUNT(0, M);
  uint32_t T[16];
  arith_mul8(T, a->v, b->v);
  fp256_redc(r, T, M);
}

VERIFIER_DEVICE void fp256_sqr(fp256 *r, const fp256 *a, const fp256_modulus *M) {
  FP256_COUNT(1, M);
  uint32_t T[16];
  arith_sqr8(T, a->v);  // cross products once
  fp256_redc(r, T, M);
}

// r = x R mod m for a plain x < m.
VERIFIER_DEVICE void fp256_to_mont(fp256 *r, const uint32_t x[8], const fp256_modulus *M) {
  fp256 a, r2;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) {
    a.v[i] = x[i];
    r2.v[i] = M->r2[i];
  }
  fp256_mul(r, &a, &r2, M);
}

// x = a R^-1 mod m: the plain value, < m.
VERIFIER_DEVICE void fp256_from_mont(uint32_t x[8], const fp256 *a, const fp256_modulus *M) {
  fp256 one, out;
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) one.v[i] = i == 0;
  fp256_mul(&out, a, &one, M);
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) x[i] = out.v[i];
}

VERIFIER_DEVICE void fp256_set_one(fp256 *r, const fp256_modulus *M) {
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) r->v[i] = M->one[i];
}

// r = a^e for a plain 256-bit exponent e (left to right, 4-bit fixed windows). r may alias a.
VERIFIER_DEVICE void fp256_pow(fp256 *r, const fp256 *a, const uint32_t e[8], const fp256_modulus *M) {
  fp256 table[16];
  fp256_set_one(&table[0], M);
  table[1] = *a;
  for (int i = 2; i < 16; ++i) fp256_mul(&table[i], &table[i - 1], a, M);
  fp256 acc;
  fp256_set_one(&acc, M);
  for (int w = 63; w >= 0; --w) {
    for (int k = 0; k < 4; ++k) fp256_sqr(&acc, &acc, M);
    const uint32_t digit = (e[w >> 3] >> (4 * (w & 7))) & 15;
    fp256_mul(&acc, &acc, &table[digit], M);
  }
  *r = acc;
}

// r = x^-1 in Montgomery form, for a plain 0 <= x < m (0 gives 0): ff/modinv.cuh's inverse, then into
// Montgomery form.
VERIFIER_DEVICE void fp256_inv_plain(fp256 *r, const uint32_t x[8], const fp256_modulus *M) {
  FP256_COUNT(3, M);
  uint32_t t[8];
  modinv_u256(t, x, M->m, M->m_inv);
  fp256_to_mont(r, t, M);
}

// r = a^-1, Montgomery form in and out; a = 0 gives 0. r may alias a.
VERIFIER_DEVICE void fp256_inv(fp256 *r, const fp256 *a, const fp256_modulus *M) {
  uint32_t x[8];
  fp256_from_mont(x, a, M);
  fp256_inv_plain(r, x, M);
}

// x = the 32 bytes at p as a big-endian integer (the encoding of SEC 1 coordinates, r, s and digests).
VERIFIER_DEVICE void fp256_load_be32(uint32_t x[8], const uint8_t *p) {
  VERIFIER_UNROLL
  for (int i = 0; i < 8; ++i) {
    const uint8_t *q = p + 4 * (7 - i);
    x[i] = ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
  }
}

#endif  // VERIFIER_KERNELS_FF_FP256_CUH
