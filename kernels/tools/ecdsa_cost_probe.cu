// Probes for the ECDSA cost model (kernels/tools/ecdsa_cost.py), not a kernel the service runs.
// Host build (-DVERIFIER_EMU -DVERIFIER_COUNT_OPS): ecdsa_cost_count verifies one item and reports how many
// field multiplications, squarings and additions it took (ff/fp256.cuh's counters). nvcc build: one tiny
// kernel per field operation (and a load/store-only baseline), whose SASS the tool counts.
#include "common/portable.cuh"
#include "ec/ecdsa.cuh"

#if defined(VERIFIER_EMU)
// out[FP256_KINDS * form + kind]: ff/fp256.cuh's counters (form: 0 general, 1 P-256's p).
extern "C" uint8_t ecdsa_cost_count(int curve, const uint8_t *key, uint32_t key_len, const uint8_t *sig,
                                    uint32_t sig_len, const uint8_t *digest, int low_s,
                                    unsigned long long out[FP256_KINDS * FP256_FORMS]) {
  wcurve c;
  wcurve_init(&c, curve, curve ? wcurve_p256_g_tables : wcurve_secp256k1_g_tables);
  for (int f = 0; f < FP256_FORMS; ++f) {
    for (int k = 0; k < FP256_KINDS; ++k) fp256_op_counts[f][k] = 0;
  }
  const uint8_t v = ecdsa_verify_one(key, key_len, sig, sig_len, digest, low_s, &c);
  for (int f = 0; f < FP256_FORMS; ++f) {
    for (int k = 0; k < FP256_KINDS; ++k) out[FP256_KINDS * f + k] = fp256_op_counts[f][k];
  }
  return v;
}
#else
#define ECDSA_COST_PROBE(name, body)                                                                    \
  extern "C" __global__ void name(const fp256 *__restrict__ a, const fp256 *__restrict__ b,            \
                                  fp256 *__restrict__ r) {                                               \
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;                                          \
    fp256 x = a[i], y = b[i];                                                                            \
    body;                                                                                                \
    r[i] = x;                                                                                            \
  }
// One probe per operation and reduction form: form 0 (the general row) on secp256k1's p, form 1 on
// P-256's p.
ECDSA_COST_PROBE(probe_base, (void)y)
ECDSA_COST_PROBE(probe_mul_0, fp256_mul(&x, &x, &y, &fp256_secp256k1_p))
ECDSA_COST_PROBE(probe_sqr_0, fp256_sqr(&x, &x, &fp256_secp256k1_p))
ECDSA_COST_PROBE(probe_add_0, fp256_add(&x, &x, &y, &fp256_secp256k1_p))
ECDSA_COST_PROBE(probe_mul_1, fp256_mul(&x, &x, &y, &fp256_p256_p))
ECDSA_COST_PROBE(probe_sqr_1, fp256_sqr(&x, &x, &fp256_p256_p))
ECDSA_COST_PROBE(probe_add_1, fp256_add(&x, &x, &y, &fp256_p256_p))
// The inversion's own part (ff/modinv.cuh, the same code for every modulus; its batches unrolled by
// -DMODINV_UNROLLED so that the static count is the dynamic one); fp256_inv's two multiplications count
// as multiplications.
ECDSA_COST_PROBE(probe_inv_0, (void)y; modinv_u256(x.v, x.v, fp256_secp256k1_p.m, fp256_secp256k1_p.m_inv))
ECDSA_COST_PROBE(probe_inv_1, (void)y; modinv_u256(x.v, x.v, fp256_p256_p.m, fp256_p256_p.m_inv))
#endif
