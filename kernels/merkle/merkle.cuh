// RFC 9162 (Certificate Transparency v2, same tree as RFC 6962) inclusion-proof verification for one
// proof in one thread: merkle_verify_one() returns OK, MALFORMED_PROOF or ROOT_MISMATCH (docs/RULES.md
// section 3), hashing the leaf from its data when no leaf hash is given.
//
// Every input is public; the code branches on index, size and path length freely.
#ifndef VERIFIER_KERNELS_MERKLE_MERKLE_CUH
#define VERIFIER_KERNELS_MERKLE_MERKLE_CUH

#include "common/portable.cuh"
#include "hash/sha256.cuh"
#include "verdict.cuh"

// RFC 9162 section 2.1.1 (RFC 6962 section 2.1): domain separation of leaf and interior-node hashes.
#define RFC9162_LEAF_HASH_PREFIX 0x00u  // leaf hash = SHA-256(0x00 || leaf bytes)
#define RFC9162_NODE_HASH_PREFIX 0x01u  // node hash = SHA-256(0x01 || left || right)

// A proof holds at most one hash per bit of a 64-bit tree size.
#define MERKLE_MAX_PATH_HASHES 64u

VERIFIER_DEVICE unsigned merkle_bit_length(uint64_t x) {  // bits.Len64: 0 for 0
#if defined(__CUDACC__)
  return 64u - unsigned(__clzll(static_cast<long long>(x)));
#else
  return x == 0 ? 0u : 64u - unsigned(__builtin_clzll(x));
#endif
}

VERIFIER_DEVICE unsigned merkle_popcount(uint64_t x) {
#if defined(__CUDACC__)
  return unsigned(__popcll(x));
#else
  return unsigned(__builtin_popcountll(x));
#endif
}

// The shape of a proof for leaf `index` of a tree of `size` leaves (index < size): the first `inner`
// path hashes are siblings below the point where the leaf's path and the last leaf's path meet, placed by
// the bits of `index`; the remaining `border` hashes are left siblings on the right border of the tree.
// This is transparency-dev/merkle proof/verify.go decompInclProof (inner = Len64(index ^ (size - 1)),
// border = OnesCount64(index >> inner)); it computes the same directions and the same required length as
// the RFC 9162 section 2.1.3.2 loop of docs/RULES.md (tests/backends/test_merkle.py checks the two agree
// on every index of every size up to 600, and on random 64-bit ones).
struct merkle_shape {
  unsigned inner;
  unsigned border;
};

VERIFIER_DEVICE merkle_shape merkle_proof_shape(uint64_t index, uint64_t size) {
  merkle_shape s;
  s.inner = merkle_bit_length(index ^ (size - 1u));
  s.border = s.inner >= 64u ? 0u : merkle_popcount(index >> s.inner);
  return s;
}

// Verify one inclusion proof (docs/RULES.md section 3; RFC 9162 section 2.1.3.2).
//   leaf_hash:  the 32-byte leaf hash (16-byte aligned on the GPU), or nullptr to hash leaf_data instead
//   leaf_data, leaf_len: the leaf bytes, hashed as SHA-256(0x00 || data) when leaf_hash is nullptr
//   path, path_len: path_len 32-byte sibling hashes, leaf level first (16-byte aligned on the GPU)
//   root: the 32-byte expected root (16-byte aligned on the GPU)
// Returns VERDICT_MALFORMED_PROOF when size is 0, index >= size, or path_len differs from the length the
// (index, size) pair requires (a path too long or too short); else VERDICT_OK when the computed root
// equals `root`, else VERDICT_ROOT_MISMATCH. The shape is decided before any hashing, so a malformed proof
// costs nothing. Does not check the caller's per-item `malformed` flag (hash lengths): the kernel does.
// Cost: path_len node hashes (2 compressions each) + ceil((leaf_len + 10) / 64) compressions for leaf data.
VERIFIER_DEVICE uint8_t merkle_verify_one(const uint8_t* __restrict__ leaf_hash, const uint8_t* __restrict__ leaf_data,
                                          uint64_t leaf_len, uint64_t index, uint64_t size,
                                          const uint8_t* __restrict__ path, uint64_t path_len,
                                          const uint8_t* __restrict__ root) {
  // docs/RULES.md section 3.3: an index outside the tree (size 0 included) is malformed; so is a path
  // that would climb past the root or stop below it (the wrong length).
  if (size == 0 || index >= size) return VERDICT_MALFORMED_PROOF;
  const merkle_shape shape = merkle_proof_shape(index, size);
  if (path_len != uint64_t(shape.inner + shape.border)) return VERDICT_MALFORMED_PROOF;

  uint32_t r[8];
  if (leaf_hash != nullptr) {
    sha256_load_digest(leaf_hash, r);
  } else {
    sha256_prefixed(RFC9162_LEAF_HASH_PREFIX, leaf_data, leaf_len, r);
  }

  // Levels [0, inner): the sibling is on the left iff bit `level` of index is set (the node is a right
  // child). Levels [inner, path_len): right border, the sibling is always on the left.
  const unsigned n = unsigned(path_len);  // <= MERKLE_MAX_PATH_HASHES after the shape check
  for (unsigned level = 0; level < n; ++level) {
    uint32_t p[8];
    sha256_load_digest(path + uint64_t(level) * SHA256_DIGEST_BYTES, p);
    const bool sibling_left = level >= shape.inner || ((index >> level) & 1u) != 0;
    uint32_t left[8], right[8];
    SHA256_UNROLL
    for (int i = 0; i < 8; ++i) {
      left[i] = sibling_left ? p[i] : r[i];
      right[i] = sibling_left ? r[i] : p[i];
    }
    sha256_node(RFC9162_NODE_HASH_PREFIX, left, right, r);
  }

  uint32_t want[8];
  sha256_load_digest(root, want);
  return sha256_digest_equal(r, want) ? VERDICT_OK : VERDICT_ROOT_MISMATCH;
}

#endif  // VERIFIER_KERNELS_MERKLE_MERKLE_CUH
