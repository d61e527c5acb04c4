"""Reference RFC 9162 Merkle trees and inclusion-proof verifier, straight from docs/RULES.md section 3.

hashlib only; shares no code with the backends. ``verify_inclusion`` returns OK, MALFORMED_PROOF or
ROOT_MISMATCH; ``Tree`` builds a tree once and hands out many proofs (the RFC 6962 tree is the
level-by-level tree in which an unpaired last node is carried up unchanged, never duplicated).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from verifier.verdict import Verdict

__all__ = [
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "HASH_SIZE",
    "EMPTY_ROOT",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "mth",
    "verify_inclusion",
    "Tree",
]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the recursive definition (RFC 9162 2.1.1): split at the largest power of two < n.

    Slow on big inputs (recursion); ``Tree`` is the fast path. Both must agree.
    """
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Root over already-hashed leaves (level by level, unpaired last node carried up)."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root_from_path(leaf_index: int, tree_size: int, leaf_hash_: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root that docs/RULES.md section 3's loop computes from a leaf hash and its path, or None where
    it rejects the shape (index >= size, path too long or too short). The shape tests use it to build
    accepting proofs for trees far too large to build (sizes up to 2^64 - 1)."""
    if leaf_index >= tree_size:
        return None
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash_
    for p in path:
        if sn == 0:
            return None  # path too long
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None  # else: path too short


def verify_inclusion(
    leaf_index: int,
    tree_size: int,
    path: Sequence[bytes],
    root: bytes,
    *,
    leaf_hash_: bytes | None = None,
    leaf: bytes | None = None,
) -> Verdict:
    """docs/RULES.md section 3 (RFC 9162 2.1.3.2). Give the leaf as ``leaf_hash_`` or as data ``leaf``.

    MALFORMED_PROOF: a hash (leaf hash, path entry, root) that is not 32 bytes, leaf_index >= tree_size
    (tree_size 0 included), a path too long or too short. ROOT_MISMATCH: well-formed, wrong root.
    """
    if (leaf_hash_ is None) == (leaf is None):
        raise ValueError("give exactly one of leaf_hash_ and leaf")
    r = leaf_hash(leaf) if leaf is not None else leaf_hash_
    assert r is not None
    if len(r) != HASH_SIZE or len(root) != HASH_SIZE or any(len(p) != HASH_SIZE for p in path):
        return Verdict.MALFORMED_PROOF
    if leaf_index < 0 or tree_size < 0:
        raise ValueError("leaf_index and tree_size are unsigned")
    if leaf_index >= tree_size:
        return Verdict.MALFORMED_PROOF
    computed = root_from_path(leaf_index, tree_size, r, path)
    if computed is None:
        return Verdict.MALFORMED_PROOF  # index >= size, or a path too long or too short
    return Verdict.OK if computed == root else Verdict.ROOT_MISMATCH


class Tree:
    """An RFC 9162 tree kept as levels: levels[0] = leaf hashes, levels[h][i] = node over the leaves
    [i*2^h, min((i+1)*2^h, n)), the unpaired last node of a level carried up unchanged."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        if not leaf_hashes:
            raise ValueError("a tree needs at least one leaf (the empty tree has no proofs)")
        self.levels: list[list[bytes]] = [list(leaf_hashes)]
        level = self.levels[0]
        while len(level) > 1:
            nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            self.levels.append(nxt)
            level = nxt

    @classmethod
    def from_leaves(cls, leaves: Sequence[bytes]) -> Tree:
        return cls([leaf_hash(x) for x in leaves])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def leaf_hash(self, index: int) -> bytes:
        return self.levels[0][index]

    def inclusion_path(self, index: int) -> list[bytes]:
        """PATH(index, D[n]) (RFC 9162 2.1.3.1), sibling first, leaf level upwards."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} not in a tree of {self.size}")
        path = []
        i = index
        for level in self.levels[:-1]:
            sibling = i ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            i >>= 1
        return path
