// Ed25519 signature verification of one item (RFC 8032 section 5.1.7) under the two policies of docs/RULES.md:
// libsodium (section 1: libsodium's checks in libsodium's order, cofactorless equation, R compared as
// sent) and zip215 (section 2: lenient decoding, no blocklist, cofactored equation). Returns the verdict
// code of kernels/verdict.cuh; the first failing check decides the reason.
#ifndef VERIFIER_KERNELS_EC_ED25519_CUH
#define VERIFIER_KERNELS_EC_ED25519_CUH

#include "common/arith.cuh"
#include "ec/ge25519.cuh"
#include "ec/key_store.cuh"
#include "ff/sc25519.cuh"
#include "hash/sha512.cuh"
#include "verdict.cuh"

// Policy codes: the kernel argument `policy` (verifier/backends/emu.py and cuda/ed25519.py pass them).
#define ED25519_POLICY_LIBSODIUM 0
#define ED25519_POLICY_ZIP215 1

// An item that passed its policy's checks, ready for the equation: -A, R decoded (zip215 only), S < L and
// k = SHA-512(R || A || M) mod L. A and R come from ge25519_frombytes_vartime, so Z = 1 (affine).
typedef struct {
  ge25519_p3 minus_A, R;
  uint32_t s[8], k[8];
} ed25519_prepared;

// docs/RULES.md 1.2 / 2.1, RFC 8032 5.1.7 step 1: S (the signature's second half) must be < L, never reduced.
VERIFIER_DEVICE int ed25519_load_s(uint32_t s[8], const uint8_t sig[64]) {
  for (int i = 0; i < 8; ++i) s[i] = arith_load_le32(sig + 32 + 4 * i);
  return sc25519_is_canonical(s);
}

// RFC 8032 5.1.7 step 2: k = SHA-512(R || A || M) mod L, over the bytes as sent. Also negates A in place
// (step 3 rearranged: R' = [S]B + [k](-A)).
VERIFIER_DEVICE void ed25519_challenge(ed25519_prepared *it, const uint8_t pk[32], const uint8_t sig[64],
                                       const uint8_t *m, uint64_t mlen) {
  uint8_t digest[64];
  sha512_ed25519_challenge(digest, sig, pk, m, mlen);
  uint32_t wide[16];
  for (int i = 0; i < 16; ++i) wide[i] = arith_load_le32(digest + 4 * i);
  sc25519_reduce(it->k, wide);
  fe25519_neg(&it->minus_A.X, &it->minus_A.X);
  fe25519_neg(&it->minus_A.T, &it->minus_A.T);
}

// Policy zip215, docs/RULES.md 2.1 to 2.4: S < L, then A and R decoded from any 255-bit y (taken mod p),
// no blocklist; A from the key store when it holds this key (`cached`: the row as key_store_get answered,
// KEY_STORE_EMPTY: decode pk here; decoded there by the same function). VERDICT_OK when *it is ready.
VERIFIER_DEVICE uint8_t ed25519_zip215_prepare(ed25519_prepared *it, const uint8_t pk[32], const uint8_t sig[64],
                                               const uint8_t *m, uint64_t mlen, int cached,
                                               const ge25519_p3 *cached_A) {
  if (!ed25519_load_s(it->s, sig)) return VERDICT_NON_CANONICAL_S;
  if (cached == KEY_STORE_DECODED) {
    it->minus_A = *cached_A;
  } else if (cached == KEY_STORE_UNDECODABLE || ge25519_frombytes_vartime(&it->minus_A, pk) != 0) {
    return VERDICT_UNDECODABLE_KEY;
  }
  if (ge25519_frombytes_vartime(&it->R, sig) != 0) return VERDICT_UNDECODABLE_R;
  ed25519_challenge(it, pk, sig, m, mlen);
  return VERDICT_OK;
}

// Policy libsodium, docs/RULES.md 1.2 to 1.6 in libsodium open.c's order: S < L, R blocklist, A canonical,
// A blocklist, A decodes. R itself is never decoded (it->R is left unset).
VERIFIER_DEVICE uint8_t ed25519_libsodium_prepare(ed25519_prepared *it, const uint8_t pk[32], const uint8_t sig[64],
                                                  const uint8_t *m, uint64_t mlen) {
  if (!ed25519_load_s(it->s, sig)) return VERDICT_NON_CANONICAL_S;
  if (ge25519_has_small_order(sig)) return VERDICT_SMALL_ORDER_R;
  if (!ge25519_is_canonical(pk)) return VERDICT_NON_CANONICAL_KEY;
  if (ge25519_has_small_order(pk)) return VERDICT_SMALL_ORDER_KEY;
  if (ge25519_frombytes_vartime(&it->minus_A, pk) != 0) return VERDICT_UNDECODABLE_KEY;
  ed25519_challenge(it, pk, sig, m, mlen);
  return VERDICT_OK;
}

// docs/RULES.md 2.5: accept iff [8](R' - R) is the identity, for R' = [S]B + [k](-A) in t.
VERIFIER_DEVICE uint8_t ed25519_zip215_finish(const ge25519_p1p1 *t, const ge25519_p3 *R) {
  ge25519_p3 rp;
  ge25519_cached rc;
  ge25519_p2 q;
  ge25519_p1p1 u;
  ge25519_p1p1_to_p3(&rp, t);
  ge25519_p3_to_cached(&rc, R);
  ge25519_sub(&u, &rp, &rc);
  ge25519_p1p1_to_p2(&q, &u);
  return ge25519_mul8_is_identity(&q) ? VERDICT_OK : VERDICT_EQUATION_FAILED;
}

// docs/RULES.md 1.8 and 1.9: encode R' (in t) canonically and compare with R as sent, all 32 bytes
// (cofactorless; a non-canonical R never matches).
VERIFIER_DEVICE uint8_t ed25519_libsodium_finish(const ge25519_p1p1 *t, const uint8_t r_bytes[32]) {
  ge25519_p2 q;
  uint8_t rcheck[32];
  ge25519_p1p1_to_p2(&q, t);
  ge25519_tobytes(rcheck, &q);
  uint32_t diff = 0;
  for (int i = 0; i < 32; ++i) diff |= (uint32_t)(rcheck[i] ^ r_bytes[i]);
  return diff == 0 ? VERDICT_OK : VERDICT_EQUATION_FAILED;
}

// The zip215 equation of a prepared item, alone (the batch verifier's single check, ec/ed25519_batch.cuh).
VERIFIER_DEVICE uint8_t ed25519_zip215_equation(const ed25519_prepared *it, const uint32_t *base_table) {
  ge25519_p1p1 t;
  ge25519_double_scalarmult_vartime(&t, it->k, &it->minus_A, it->s, base_table);
  return ed25519_zip215_finish(&t, &it->R);
}

// pk: 32 bytes, sig: R (32) || S (32), m: mlen bytes, base_table: GE25519_BASE_TABLE_SHARED. The caller
// handles wrong lengths (VERDICT_MALFORMED_LENGTH). Branches on its inputs (all public), so threads of a
// warp diverge only when their items are rejected at different steps. `cached`: under policy zip215,
// pk's row of the key store as key_store_get answered (KEY_STORE_EMPTY: decode pk here) with its point in
// *cached_A; policy libsodium ignores it (its key checks are on the bytes). One call site of the double
// scalar multiplication for both policies (the policy is uniform per launch), so the GPU build inlines it once.
VERIFIER_DEVICE uint8_t ed25519_verify_one_cached(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *m,
                                                  uint64_t mlen, int policy, const uint32_t *base_table,
                                                  int cached, const ge25519_p3 *cached_A) {
  if (policy != ED25519_POLICY_LIBSODIUM && policy != ED25519_POLICY_ZIP215) return VERDICT_UNSPECIFIED;
  ed25519_prepared it;
  const uint8_t v = policy == ED25519_POLICY_ZIP215 ? ed25519_zip215_prepare(&it, pk, sig, m, mlen, cached, cached_A)
                                                    : ed25519_libsodium_prepare(&it, pk, sig, m, mlen);
  if (v != VERDICT_OK) return v;
  ge25519_p1p1 t;
  ge25519_double_scalarmult_vartime(&t, it.k, &it.minus_A, it.s, base_table);
  return policy == ED25519_POLICY_ZIP215 ? ed25519_zip215_finish(&t, &it.R) : ed25519_libsodium_finish(&t, sig);
}

VERIFIER_DEVICE uint8_t ed25519_verify_one(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *m,
                                           uint64_t mlen, int policy, const uint32_t *base_table) {
  return ed25519_verify_one_cached(pk, sig, m, mlen, policy, base_table, KEY_STORE_EMPTY, 0);
}

#endif  // VERIFIER_KERNELS_EC_ED25519_CUH
