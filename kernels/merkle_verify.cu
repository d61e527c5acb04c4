// RFC 9162 inclusion proofs: one proof per thread, one verdict byte per proof (merkle/merkle.cuh).
#include "common/portable.cuh"
#include "merkle/merkle.cuh"
#include "verdict.cuh"

// Proof i: its leaf is row i of leaf_hashes (n x 32), or, when leaf_hashes is null, the bytes
// leaf_data[leaf_offsets[i] - leaf_offsets[0] ..) of length leaf_offsets[i + 1] - leaf_offsets[i];
// leaf_indices[i], tree_sizes[i]; its path is rows path_offsets[i] - path_offsets[0] .. of path_hashes
// (32 bytes each), path_offsets[i + 1] - path_offsets[i] of them (offsets are re-based on their first
// entry, so a slice of a bigger batch needs no rebasing); its root is row root_indices[i] of roots
// (num_roots x 32, shared by all proofs); malformed: n flags (a hash of the wrong length upstream), or null.
// A root index out of range (a host bug) leaves VERDICT_UNSPECIFIED, which the backend reports.
VERIFIER_KERNEL merkle_verify_kernel(const uint8_t* __restrict__ leaf_hashes, const uint8_t* __restrict__ leaf_data,
                                     const uint64_t* __restrict__ leaf_offsets,
                                     const uint64_t* __restrict__ leaf_indices, const uint64_t* __restrict__ tree_sizes,
                                     const uint8_t* __restrict__ path_hashes, const uint64_t* __restrict__ path_offsets,
                                     const uint8_t* __restrict__ roots, const uint32_t* __restrict__ root_indices,
                                     const uint8_t* __restrict__ malformed, uint8_t* __restrict__ out, uint32_t n,
                                     uint32_t num_roots) {
  const uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (malformed != nullptr && malformed[i] != 0) {
    out[i] = VERDICT_MALFORMED_PROOF;
    return;
  }
  const uint32_t root = root_indices[i];
  if (root >= num_roots) {
    out[i] = VERDICT_UNSPECIFIED;
    return;
  }
  const uint64_t path_begin = path_offsets[i] - path_offsets[0];
  const uint64_t path_len = path_offsets[i + 1] - path_offsets[i];  // wraps to huge (malformed) if decreasing
  const uint8_t* leaf_hash = nullptr;
  const uint8_t* leaf = leaf_data;
  uint64_t leaf_len = 0;
  if (leaf_hashes != nullptr) {
    leaf_hash = leaf_hashes + i * SHA256_DIGEST_BYTES;
  } else {
    leaf += leaf_offsets[i] - leaf_offsets[0];
    leaf_len = leaf_offsets[i + 1] - leaf_offsets[i];
  }
  out[i] = merkle_verify_one(leaf_hash, leaf, leaf_len, leaf_indices[i], tree_sizes[i],
                             path_hashes + path_begin * SHA256_DIGEST_BYTES, path_len,
                             roots + uint64_t(root) * SHA256_DIGEST_BYTES);
}

VERIFIER_EMU_LAUNCHER(merkle_verify_kernel,
                      (const uint8_t* leaf_hashes, const uint8_t* leaf_data, const uint64_t* leaf_offsets,
                       const uint64_t* leaf_indices, const uint64_t* tree_sizes, const uint8_t* path_hashes,
                       const uint64_t* path_offsets, const uint8_t* roots, const uint32_t* root_indices,
                       const uint8_t* malformed, uint8_t* out, uint32_t n, uint32_t num_roots),
                      (leaf_hashes, leaf_data, leaf_offsets, leaf_indices, tree_sizes, path_hashes, path_offsets,
                       roots, root_indices, malformed, out, n, num_roots))
