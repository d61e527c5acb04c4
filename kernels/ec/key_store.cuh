// A store of decoded public keys (ZIP-215 decoding), so that a validator set that signs many commits has
// its keys decoded once, on the device that verifies them. Row r holds the key's 32 bytes as sent, its
// decoded point, and a status. Rows are written by ed25519_store_keys_kernel (ed25519_verify.cu) while no
// verification runs (the host excludes it), and read by ed25519_verify_kernel for the items that name a
// row in `key_slots`.
//
// A row is used only when its status says it holds a key and its 32 bytes equal the item's key, byte for
// byte; anything else (no row, a row out of range, an empty row, another key) decodes the key from the
// item's bytes as if there were no store. So a wrong or stale slot costs speed, never a verdict.
#ifndef VERIFIER_KERNELS_EC_KEY_STORE_CUH
#define VERIFIER_KERNELS_EC_KEY_STORE_CUH

#include "ec/ge25519.cuh"

#define KEY_STORE_EMPTY 0        // the row holds nothing
#define KEY_STORE_DECODED 1      // the key decodes (ZIP-215): the point is valid
#define KEY_STORE_UNDECODABLE 2  // the key is not a curve point under ZIP-215 decoding
#define KEY_STORE_NO_SLOT 0xffffffffu  // an item's key_slots value: no row

// Decode pk (ZIP-215: any 255-bit y, reduced mod p) into row `slot`; the status is written last.
VERIFIER_DEVICE void key_store_put(uint8_t *keys, ge25519_p3 *points, uint8_t *status, uint32_t slot,
                                   const uint8_t pk[32]) {
  status[slot] = KEY_STORE_EMPTY;
  ge25519_p3 a;
  const int bad = ge25519_frombytes_vartime(&a, pk);
  for (int i = 0; i < 32; ++i) keys[32 * (uint64_t)slot + i] = pk[i];
  if (!bad) points[slot] = a;
  status[slot] = bad ? KEY_STORE_UNDECODABLE : KEY_STORE_DECODED;
}

// The row for `pk` at `slot`, or KEY_STORE_EMPTY when the store cannot answer for it (see above).
VERIFIER_DEVICE int key_store_get(const uint8_t *keys, const ge25519_p3 *points, const uint8_t *status,
                                  uint32_t rows, uint32_t slot, const uint8_t pk[32], ge25519_p3 *out) {
  if (keys == 0 || slot >= rows) return KEY_STORE_EMPTY;
  const int st = status[slot];
  if (st != KEY_STORE_DECODED && st != KEY_STORE_UNDECODABLE) return KEY_STORE_EMPTY;
  uint32_t diff = 0;
  for (int i = 0; i < 32; ++i) diff |= (uint32_t)(keys[32 * (uint64_t)slot + i] ^ pk[i]);
  if (diff != 0) return KEY_STORE_EMPTY;
  if (st == KEY_STORE_DECODED) *out = points[slot];
  return st;
}

#endif  // VERIFIER_KERNELS_EC_KEY_STORE_CUH
