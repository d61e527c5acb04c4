// ECDSA batch verification: one kernel per curve (secp256k1, P-256), so each is compiled with only its own
// path (GLV on secp256k1); one item per thread, one verdict byte per item (ec/ecdsa.cuh). -DECDSA_CURVE=0
// (or 1) builds only secp256k1's (or P-256's) kernel: the GPU backend compiles each curve's module on its
// own, half the compile time each and in parallel where it can; without it (the host build) both.
#include "common/portable.cuh"
#include "ec/ecdsa.cuh"
#include "verdict.cuh"

// keys / sigs: concatenated, item i at keys[key_offsets[i] - key_offsets[0]] with length
// key_offsets[i + 1] - key_offsets[i] (and the same for sigs); digests: n x 32 bytes; malformed: n flags
// (a key or digest of the wrong length upstream); low_s: the policy requires s <= n/2 (libsecp256k1,
// fabric); g_tables: the curve's tables of G's multiples (VERIFIER_SHARED_COPY). `curve` is a constant at
// each call, so inlining specializes everything below it.
VERIFIER_DEVICE void ecdsa_verify_item(const uint8_t *keys, const uint64_t *key_offsets, const uint8_t *sigs,
                                       const uint64_t *sig_offsets, const uint8_t *digests, const uint8_t *malformed,
                                       uint8_t *out, uint32_t n, int low_s, int curve, const uint32_t *g_tables) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (malformed[i]) {
    out[i] = VERDICT_MALFORMED_LENGTH;
    return;
  }
  wcurve c;
  wcurve_init(&c, curve, g_tables);
  const uint64_t k0 = key_offsets[i] - key_offsets[0], s0 = sig_offsets[i] - sig_offsets[0];
  out[i] = ecdsa_verify_one(keys + k0, (uint32_t)(key_offsets[i + 1] - key_offsets[i]), sigs + s0,
                            (uint32_t)(sig_offsets[i + 1] - sig_offsets[i]), digests + 32 * (uint64_t)i, low_s, &c);
}

// One curve's kernel `name` (curve 0 or 1, its G tables `tables` of `words` words) and its emu launcher.
#define ECDSA_VERIFY_KERNEL(name, curve, tables, words)                                                    \
  VERIFIER_KERNEL name(const uint8_t *__restrict__ keys, const uint64_t *__restrict__ key_offsets,         \
                       const uint8_t *__restrict__ sigs, const uint64_t *__restrict__ sig_offsets,         \
                       const uint8_t *__restrict__ digests, const uint8_t *__restrict__ malformed,         \
                       uint8_t *__restrict__ out, uint32_t n, int low_s) {                                 \
    VERIFIER_SHARED_COPY(g_tables, tables, words);                                                         \
    ecdsa_verify_item(keys, key_offsets, sigs, sig_offsets, digests, malformed, out, n, low_s, curve,       \
                      g_tables);                                                                           \
  }                                                                                                        \
  VERIFIER_EMU_LAUNCHER(name,                                                                              \
                        (const uint8_t *keys, const uint64_t *key_offsets, const uint8_t *sigs,            \
                         const uint64_t *sig_offsets, const uint8_t *digests, const uint8_t *malformed,    \
                         uint8_t *out, uint32_t n, int low_s),                                             \
                        (keys, key_offsets, sigs, sig_offsets, digests, malformed, out, n, low_s))

#if !defined(ECDSA_CURVE) || ECDSA_CURVE == 0
ECDSA_VERIFY_KERNEL(ecdsa_secp256k1_verify_kernel, 0, wcurve_secp256k1_g_tables, WCURVE_SECP256K1_G_WORDS)
#endif
#if !defined(ECDSA_CURVE) || ECDSA_CURVE == 1
ECDSA_VERIFY_KERNEL(ecdsa_p256_verify_kernel, 1, wcurve_p256_g_tables, WCURVE_P256_G_WORDS)
#endif
