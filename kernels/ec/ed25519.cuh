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

// pk: 32 bytes, sig: R (32) || S (32), m: mlen bytes, base_table: GE25519_BASE_TABLE_SHARED. The caller
// handles wrong lengths (VERDICT_MALFORMED_LENGTH). Branches on its inputs (all public), so threads of a
// warp diverge only when their items are rejected at different steps. `cached`: under policy zip215,
// pk's row of the key store as key_store_get answered (KEY_STORE_EMPTY: decode pk here) with its point in
// *cached_A; policy libsodium ignores it (its key checks are on the bytes).
VERIFIER_DEVICE uint8_t ed25519_verify_one_cached(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *m,
                                                  uint64_t mlen, int policy, const uint32_t *base_table,
                                                  int cached, const ge25519_p3 *cached_A) {
  if (policy != ED25519_POLICY_LIBSODIUM && policy != ED25519_POLICY_ZIP215) return VERDICT_UNSPECIFIED;
  const uint8_t *r_bytes = sig;
  uint32_t s[8];
  for (int i = 0; i < 8; ++i) s[i] = arith_load_le32(sig + 32 + 4 * i);

  // docs/RULES.md 1.2 / 2.1, RFC 8032 5.1.7 step 1: S must be < L, never reduced.
  if (!sc25519_is_canonical(s)) return VERDICT_NON_CANONICAL_S;

  ge25519_p3 A, R;
  if (policy == ED25519_POLICY_ZIP215) {
    // docs/RULES.md 2.2 and 2.3: A then R decoded from any 255-bit y (taken mod p), no blocklist; A from the
    // key store when it holds this key (decoded there by the same function).
    if (cached == KEY_STORE_DECODED) {
      A = *cached_A;
    } else if (cached == KEY_STORE_UNDECODABLE || ge25519_frombytes_vartime(&A, pk) != 0) {
      return VERDICT_UNDECODABLE_KEY;
    }
    if (ge25519_frombytes_vartime(&R, r_bytes) != 0) return VERDICT_UNDECODABLE_R;
  } else {
    // docs/RULES.md 1.3 to 1.6, libsodium open.c order: R blocklist, A canonical, A blocklist, A decodes.
    // R itself is never decoded.
    if (ge25519_has_small_order(r_bytes)) return VERDICT_SMALL_ORDER_R;
    if (!ge25519_is_canonical(pk)) return VERDICT_NON_CANONICAL_KEY;
    if (ge25519_has_small_order(pk)) return VERDICT_SMALL_ORDER_KEY;
    if (ge25519_frombytes_vartime(&A, pk) != 0) return VERDICT_UNDECODABLE_KEY;
  }

  // RFC 8032 5.1.7 step 2: k = SHA-512(R || A || M) mod L, over the bytes as sent.
  uint8_t digest[64];
  sha512_ed25519_challenge(digest, r_bytes, pk, m, mlen);
  uint32_t wide[16], k[8];
  for (int i = 0; i < 16; ++i) wide[i] = arith_load_le32(digest + 4 * i);
  sc25519_reduce(k, wide);

  // Step 3 rearranged: R' = [S]B + [k](-A).
  fe25519_neg(&A.X, &A.X);
  fe25519_neg(&A.T, &A.T);
  ge25519_p1p1 t;
  ge25519_double_scalarmult_vartime(&t, k, &A, s, base_table);

  if (policy == ED25519_POLICY_ZIP215) {
    // docs/RULES.md 2.5: accept iff [8](R' - R) is the identity.
    ge25519_p3 rp;
    ge25519_cached rc;
    ge25519_p2 q;
    ge25519_p1p1_to_p3(&rp, &t);
    ge25519_p3_to_cached(&rc, &R);
    ge25519_sub(&t, &rp, &rc);
    ge25519_p1p1_to_p2(&q, &t);
    for (int i = 0; i < 3; ++i) {
      ge25519_p2_dbl(&t, &q);
      ge25519_p1p1_to_p2(&q, &t);
    }
    return ge25519_is_identity(&q) ? VERDICT_OK : VERDICT_EQUATION_FAILED;
  }
  // docs/RULES.md 1.8 and 1.9: encode R' canonically and compare with R as sent, all 32 bytes (cofactorless; a
  // non-canonical R never matches).
  ge25519_p2 q;
  uint8_t rcheck[32];
  ge25519_p1p1_to_p2(&q, &t);
  ge25519_tobytes(rcheck, &q);
  uint32_t diff = 0;
  for (int i = 0; i < 32; ++i) diff |= (uint32_t)(rcheck[i] ^ r_bytes[i]);
  return diff == 0 ? VERDICT_OK : VERDICT_EQUATION_FAILED;
}

VERIFIER_DEVICE uint8_t ed25519_verify_one(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *m,
                                           uint64_t mlen, int policy, const uint32_t *base_table) {
  return ed25519_verify_one_cached(pk, sig, m, mlen, policy, base_table, KEY_STORE_EMPTY, 0);
}

#endif  // VERIFIER_KERNELS_EC_ED25519_CUH
