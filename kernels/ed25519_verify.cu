// Ed25519 batch verification: one item per thread, one verdict byte per item (ec/ed25519.cuh).
#include "common/portable.cuh"
#include "ec/ed25519.cuh"
#include "verdict.cuh"

// keys: n x 32 bytes; sigs: n x 64; msgs: concatenated messages, item i at msgs[offsets[i] - offsets[0]]
// with length offsets[i + 1] - offsets[i] (a slice of a bigger batch needs no rebasing); malformed: n
// flags (wrong key or signature length upstream); policy: ED25519_POLICY_LIBSODIUM or _ZIP215.
VERIFIER_KERNEL ed25519_verify_kernel(const uint8_t *__restrict__ keys, const uint8_t *__restrict__ sigs,
                                      const uint8_t *__restrict__ msgs, const uint64_t *__restrict__ offsets,
                                      const uint8_t *__restrict__ malformed, uint8_t *__restrict__ out,
                                      uint32_t n, int policy) {
  GE25519_BASE_TABLE_SHARED(base_table);
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (malformed[i]) {
    out[i] = VERDICT_MALFORMED_LENGTH;
    return;
  }
  const uint64_t begin = offsets[i] - offsets[0];
  out[i] = ed25519_verify_one(keys + 32 * (uint64_t)i, sigs + 64 * (uint64_t)i, msgs + begin,
                              offsets[i + 1] - offsets[i], policy, base_table);
}

VERIFIER_EMU_LAUNCHER(ed25519_verify_kernel,
                      (const uint8_t *keys, const uint8_t *sigs, const uint8_t *msgs, const uint64_t *offsets,
                       const uint8_t *malformed, uint8_t *out, uint32_t n, int policy),
                      (keys, sigs, msgs, offsets, malformed, out, n, policy))
