// Entry point: RFC 9162 inclusion proofs, one proof per thread (kernels/merkle/merkle.cuh).
#include "common/portable.cuh"
#include "merkle/merkle.cuh"
#include "verdict.cuh"

// Proof i: leaf i (row i of leaf_hashes (n, 32), or leaf_data[leaf_offsets[i] .. leaf_offsets[i + 1])
// when leaf_hashes is null), leaf_indices[i], tree_sizes[i], path rows path_offsets[i] ..
// path_offsets[i + 1] of path_hashes (P, 32), root row root_indices[i] of roots (num_roots, 32), and the
// host's per-item malformed flag (nullable: none set). Writes verdicts[i]; a root index out of range
// (a host bug) writes VERDICT_UNSPECIFIED, which the backend reports as an internal error.
VERIFIER_KERNEL merkle_verify_kernel(uint64_t n, const uint8_t* __restrict__ leaf_hashes,
                                     const uint8_t* __restrict__ leaf_data, const uint64_t* __restrict__ leaf_offsets,
                                     const uint64_t* __restrict__ leaf_indices, const uint64_t* __restrict__ tree_sizes,
                                     const uint8_t* __restrict__ path_hashes, const uint64_t* __restrict__ path_offsets,
                                     const uint8_t* __restrict__ roots, uint32_t num_roots,
                                     const uint32_t* __restrict__ root_indices, const uint8_t* __restrict__ malformed,
                                     uint8_t* __restrict__ verdicts) {
  const uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (malformed != nullptr && malformed[i] != 0) {
    verdicts[i] = VERDICT_MALFORMED_PROOF;
    return;
  }
  const uint32_t root = root_indices[i];
  if (root >= num_roots) {
    verdicts[i] = VERDICT_UNSPECIFIED;
    return;
  }
  const uint64_t path_begin = path_offsets[i];
  const uint64_t path_len = path_offsets[i + 1] - path_begin;  // wraps to huge (malformed) if not monotonic
  const uint8_t* leaf_hash = leaf_hashes != nullptr ? leaf_hashes + i * SHA256_DIGEST_BYTES : nullptr;
  const uint64_t leaf_begin = leaf_hashes != nullptr ? 0 : leaf_offsets[i];
  const uint64_t leaf_len = leaf_hashes != nullptr ? 0 : leaf_offsets[i + 1] - leaf_begin;
  verdicts[i] = merkle_verify_one(leaf_hash, leaf_data + leaf_begin, leaf_len, leaf_indices[i], tree_sizes[i],
                                  path_hashes + path_begin * SHA256_DIGEST_BYTES, path_len,
                                  roots + uint64_t(root) * SHA256_DIGEST_BYTES);
}

VERIFIER_EMU_LAUNCHER(merkle_verify_kernel,
                      (uint64_t n, const uint8_t* leaf_hashes, const uint8_t* leaf_data, const uint64_t* leaf_offsets,
                       const uint64_t* leaf_indices, const uint64_t* tree_sizes, const uint8_t* path_hashes,
                       const uint64_t* path_offsets, const uint8_t* roots, uint32_t num_roots,
                       const uint32_t* root_indices, const uint8_t* malformed, uint8_t* verdicts),
                      (n, leaf_hashes, leaf_data, leaf_offsets, leaf_indices, tree_sizes, path_hashes, path_offsets,
                       roots, num_roots, root_indices, malformed, verdicts))
