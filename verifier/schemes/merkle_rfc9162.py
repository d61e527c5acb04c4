"""Scheme ``merkle``: RFC 9162 (RFC 6962) SHA-256 inclusion proofs (docs/RULES.md section 3), from
``VerifyMerkleProofs``; columns in ``verifier.batch.MerkleBatch``. No policies.

The one copy of the tree's facts (the domain-separation prefixes, leaf and node hashes, the tree root of
RFC 6962 section 2.1 that CometBFT's validator-set hash also uses) and the CPU reference, hashlib: it
holds the GIL for inputs this small, so a batch is one pass. Kernels: ``kernels/merkle_verify.cu``
(``HostMerkle`` on the host, ``cuda.merkle.MerkleKernel``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier import _selftest_vectors as _kat
from verifier.batch import HASH_SIZE, MerkleBatch
from verifier.lines import LineError, hex_field, hex_value, uint64_field
from verifier.schemes import HostContext, KnownAnswers, LineFormat, NoKeyStore, Scheme
from verifier.verdict import Policy, Verdict

__all__ = ["LEAF_PREFIX", "NODE_PREFIX", "SCHEME", "leaf_hash", "node_hash", "tree_root", "verify_one"]

# RFC 9162 section 2.1.1 domain separation prefixes.
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """MTH of RFC 6962 section 2.1 over leaf data: SHA-256("") when empty, the leaf hash of one leaf,
    else the node hash of the trees split at the largest power of two strictly below n."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(tree_root(leaves[:k]), tree_root(leaves[k:]))


def verify_one(leaf: bytes, leaf_index: int, tree_size: int, path: list[bytes], root: bytes) -> Verdict:
    """RFC 9162 section 2.1.3.2 inclusion-proof verification of the leaf hash ``leaf``, exactly as
    docs/RULES.md section 3 writes it."""
    if tree_size == 0 or leaf_index >= tree_size:
        return Verdict.MALFORMED_PROOF
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:  # path too long
            return Verdict.MALFORMED_PROOF
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # path too short
        return Verdict.MALFORMED_PROOF
    return Verdict.OK if r == root else Verdict.ROOT_MISMATCH


class CpuMerkle(NoKeyStore):
    """The reference. Columns are turned into bytes and lists once; per-item numpy indexing would cost
    more than the hashing."""

    policies: frozenset[Policy] = frozenset()

    def __init__(self, ctx: HostContext | None = None) -> None:
        del ctx  # one pass on the calling thread

    def run(self, batch: MerkleBatch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        n = len(batch)
        out = np.empty(n, dtype=np.uint8)
        roots = [r.tobytes() for r in batch.roots]
        paths = batch.path_hashes.tobytes()
        path_offsets = batch.path_offsets.tolist()
        indices, sizes = batch.leaf_indices.tolist(), batch.tree_sizes.tolist()
        root_of, malformed = batch.root_indices.tolist(), batch.malformed.tolist()
        if batch.leaf_hashes is not None:
            leaves = batch.leaf_hashes.tobytes()
            hashes = [leaves[32 * i : 32 * i + 32] for i in range(n)]
        else:
            assert batch.leaf_data is not None and batch.leaf_offsets is not None
            data, lo = batch.leaf_data.tobytes(), batch.leaf_offsets.tolist()
            hashes = [leaf_hash(data[lo[i] : lo[i + 1]]) for i in range(n)]
        for i in range(n):
            if malformed[i]:
                out[i] = Verdict.MALFORMED_PROOF
                continue
            a, b = path_offsets[i], path_offsets[i + 1]
            path = [paths[32 * j : 32 * j + 32] for j in range(a, b)]
            out[i] = verify_one(hashes[i], indices[i], sizes[i], path, roots[root_of[i]])
        return out


def _known_answers() -> KnownAnswers:
    cases = _kat.MERKLE_CASES
    batch = MerkleBatch.from_items(
        [c.leaf_index for c in cases],
        [c.tree_size for c in cases],
        [list(c.path) for c in cases],
        [c.root for c in cases],
        leaf_hashes=[c.leaf_hash for c in cases],
    )
    return KnownAnswers(
        names=tuple(c.name for c in cases),
        batch=batch,
        expected={None: tuple(Verdict[c.expected] for c in cases)},
    )


def _parse_line(obj: dict[str, Any]) -> tuple[bytes, int, int, list[bytes], bytes]:
    """(leaf hash, index, size, path, root); a line's ``leaf`` data is hashed here, so lines giving the
    hash and lines giving the data mix in one batch."""
    if ("leaf_hash" in obj) == ("leaf" in obj):
        raise LineError("give exactly one of leaf_hash and leaf")
    leaf = hex_field(obj, "leaf_hash", HASH_SIZE) if "leaf_hash" in obj else leaf_hash(hex_field(obj, "leaf"))
    path = obj.get("path")
    if not isinstance(path, list):
        raise LineError("path: missing or not a list of hex strings")
    hashes = [hex_value(h, f"path[{i}]", HASH_SIZE) for i, h in enumerate(path)]
    index, size = uint64_field(obj, "leaf_index"), uint64_field(obj, "tree_size")
    return leaf, index, size, hashes, hex_field(obj, "root", HASH_SIZE)


def _line_batch(items: Sequence[tuple[bytes, int, int, list[bytes], bytes]]) -> MerkleBatch:
    leaves, indices, sizes, paths, roots = zip(*items, strict=True)
    return MerkleBatch.from_items(
        list(indices), list(sizes), list(paths), list(roots), leaf_hashes=list(leaves)
    )


SCHEME = Scheme(
    name="merkle",
    title="RFC 9162 SHA-256 Merkle inclusion proofs",
    rpc="VerifyMerkleProofs",
    batch=MerkleBatch,
    policies=(),
    verdicts=frozenset({Verdict.OK, Verdict.MALFORMED_PROOF, Verdict.ROOT_MISMATCH}),
    malformed=Verdict.MALFORMED_PROOF,
    cpu="verifier.schemes.merkle_rfc9162:CpuMerkle",
    host="verifier.backends._host:HostMerkle.runner",
    cuda="verifier.backends.cuda.merkle:MerkleKernel.runner",
    known_answers=_known_answers,
    line=LineFormat(
        fields="hex leaf_hash (or leaf data), leaf_index, tree_size, path (list of hex), root",
        parse=_parse_line,
        batch=_line_batch,
    ),
)
