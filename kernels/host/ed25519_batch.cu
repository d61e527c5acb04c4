// ZIP-215 batch verification for the host (ec/ed25519_batch.cuh): backend cpu's policy zip215, built with
// -DVERIFIER_EMU -DVERIFIER_FE51 (verifier/backends/_zip215_batch.py). Exports plain C functions, not
// kernels: one call verifies one chunk of a batch on the calling thread; the caller runs chunks in parallel.
#include "common/portable.cuh"
#include "ec/ed25519_batch.cuh"
#include "ec/key_store.cuh"
#include "verdict.cuh"

#if !defined(VERIFIER_EMU)
#error "kernels/host/ed25519_batch.cu is host code: build with -DVERIFIER_EMU"
#endif

extern "C" {

// sizeof(ge25519_p3): the key store's bytes per point in this build's field representation.
unsigned ed25519_batch_point_bytes(void) { return (unsigned)sizeof(ge25519_p3); }

// Columns as ed25519_verify_kernel takes them (keys n x 32, sigs n x 64, msgs with offsets[0..n], item i's
// message at msgs[offsets[i] - offsets[0]], malformed flags, the key store), plus z: n x 16 bytes, each
// item's random 128-bit coefficient (little-endian). Writes one verdict per item to out; returns how many
// items were verified one by one after a failed batch equation (0 when the batch held no bad item), or
// ED25519_BATCH_FAILED when it could not allocate its scratch (no exception crosses into the caller).
#define ED25519_BATCH_FAILED 0xffffffffu
uint32_t ed25519_zip215_batch(const uint8_t *keys, const uint8_t *sigs, const uint8_t *msgs, const uint64_t *offsets,
                          const uint8_t *malformed, uint8_t *out, uint32_t n, const uint8_t *z,
                          const uint32_t *key_slots, const uint8_t *store_keys, const ge25519_p3 *store_points,
                          const uint8_t *store_status, uint32_t store_rows) try {
  std::vector<ed25519_prepared> items(n);
  std::vector<uint32_t> coef(4 * (size_t)n);
  std::vector<uint32_t> idx;
  idx.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (malformed[i]) {
      out[i] = VERDICT_MALFORMED_LENGTH;
      continue;
    }
    const uint8_t *pk = keys + 32 * (uint64_t)i;
    ge25519_p3 cached_A;
    int cached = KEY_STORE_EMPTY;
    if (key_slots != 0) {
      cached = key_store_get(store_keys, store_points, store_status, store_rows, key_slots[i], pk, &cached_A);
    }
    const uint64_t begin = offsets[i] - offsets[0];
    const uint8_t v = ed25519_zip215_prepare(&items[i], pk, sigs + 64 * (uint64_t)i, msgs + begin,
                                             offsets[i + 1] - offsets[i], cached, &cached_A);
    if (v != VERDICT_OK) {
      out[i] = v;
      continue;
    }
    for (int w = 0; w < 4; ++w) coef[4 * (size_t)i + w] = arith_load_le32(z + 16 * (uint64_t)i + 4 * w);
    idx.push_back(i);
  }
  ed25519_batch b;
  b.items = items.data();
  b.z = reinterpret_cast<const uint32_t(*)[4]>(coef.data());
  b.out = out;
  b.singles = 0;
  ed25519_batch_bisect(&b, idx.data(), idx.size(), 0);
  return b.singles;
} catch (...) {  // std::bad_alloc: the caller reports it as a backend failure
  return ED25519_BATCH_FAILED;
}

// Writes key i (32 bytes of keys) into row slots[i] of the store, decoded (ec/key_store.cuh); slots must be
// < store_rows and distinct. Run while no ed25519_zip215_batch reads the store.
void ed25519_batch_store_keys(const uint8_t *keys, const uint32_t *slots, uint32_t n, uint8_t *store_keys,
                              ge25519_p3 *store_points, uint8_t *store_status, uint32_t store_rows) {
  for (uint32_t i = 0; i < n; ++i) {
    if (slots[i] < store_rows) key_store_put(store_keys, store_points, store_status, slots[i], keys + 32 * (uint64_t)i);
  }
}

}  // extern "C"
