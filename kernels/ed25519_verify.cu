// Ed25519 batch verification: one item per thread, one verdict byte per item (ec/ed25519.cuh); and the
// key store's writer (ec/key_store.cuh).
#include "common/portable.cuh"
#include "ec/ed25519.cuh"
#include "ec/key_store.cuh"
#include "verdict.cuh"

// keys: n x 32 bytes; sigs: n x 64; msgs: concatenated messages, item i at msgs[offsets[i] - offsets[0]]
// with length offsets[i + 1] - offsets[i] (a slice of a bigger batch needs no rebasing); malformed: n
// flags (wrong key or signature length upstream); policy: ED25519_POLICY_LIBSODIUM or _ZIP215.
// key_slots: null, or n rows of the key store (KEY_STORE_NO_SLOT: none) that policy zip215 may take the
// decoded key from; store_keys / store_points / store_status: the store's store_rows rows (null: none).
VERIFIER_KERNEL ed25519_verify_kernel(const uint8_t *__restrict__ keys, const uint8_t *__restrict__ sigs,
                                      const uint8_t *__restrict__ msgs, const uint64_t *__restrict__ offsets,
                                      const uint8_t *__restrict__ malformed, uint8_t *__restrict__ out,
                                      uint32_t n, int policy, const uint32_t *__restrict__ key_slots,
                                      const uint8_t *__restrict__ store_keys,
                                      const ge25519_p3 *__restrict__ store_points,
                                      const uint8_t *__restrict__ store_status, uint32_t store_rows) {
  GE25519_BASE_TABLE_SHARED(base_table);
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (malformed[i]) {
    out[i] = VERDICT_MALFORMED_LENGTH;
    return;
  }
  const uint8_t *pk = keys + 32 * (uint64_t)i;
  ge25519_p3 cached_A;
  int cached = KEY_STORE_EMPTY;
  if (key_slots != 0 && policy == ED25519_POLICY_ZIP215) {
    cached = key_store_get(store_keys, store_points, store_status, store_rows, key_slots[i], pk, &cached_A);
  }
  const uint64_t begin = offsets[i] - offsets[0];
  out[i] = ed25519_verify_one_cached(pk, sigs + 64 * (uint64_t)i, msgs + begin, offsets[i + 1] - offsets[i],
                                     policy, base_table, cached, &cached_A);
}

VERIFIER_EMU_LAUNCHER(ed25519_verify_kernel,
                      (const uint8_t *keys, const uint8_t *sigs, const uint8_t *msgs, const uint64_t *offsets,
                       const uint8_t *malformed, uint8_t *out, uint32_t n, int policy, const uint32_t *key_slots,
                       const uint8_t *store_keys, const ge25519_p3 *store_points, const uint8_t *store_status,
                       uint32_t store_rows),
                      (keys, sigs, msgs, offsets, malformed, out, n, policy, key_slots, store_keys, store_points,
                       store_status, store_rows))

// Writes key i (32 bytes of keys) into row slots[i] of the store, decoded; slots must be < store_rows and
// distinct. Run while no ed25519_verify_kernel reads the store.
VERIFIER_KERNEL ed25519_store_keys_kernel(const uint8_t *__restrict__ keys, const uint32_t *__restrict__ slots,
                                          uint32_t n, uint8_t *__restrict__ store_keys,
                                          ge25519_p3 *__restrict__ store_points, uint8_t *__restrict__ store_status,
                                          uint32_t store_rows) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n || slots[i] >= store_rows) return;
  key_store_put(store_keys, store_points, store_status, slots[i], keys + 32 * (uint64_t)i);
}

VERIFIER_EMU_LAUNCHER(ed25519_store_keys_kernel,
                      (const uint8_t *keys, const uint32_t *slots, uint32_t n, uint8_t *store_keys,
                       ge25519_p3 *store_points, uint8_t *store_status, uint32_t store_rows),
                      (keys, slots, n, store_keys, store_points, store_status, store_rows))
