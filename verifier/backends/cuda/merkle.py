"""The Merkle kernel on the GPU: roots table uploaded once, proofs in chunks on two streams, verdicts back.

Same shape as ``ed25519.py``: a batch is cut into chunks (at most ``max_batch`` proofs and about
``chunk_bytes`` of path hashes and leaf data each, so that even one big batch overlaps the copies of one
chunk with the kernel of the other); chunk j runs on stream j % 2 with that stream's own grow-only device
and pinned buffers, reused by every later batch. The roots table (``batch.roots``, shared by every proof)
is uploaded once per call, before any chunk, and read by all of them. The kernel re-bases offsets on
their first entry, so a chunk's offsets are uploaded as sliced. Calls are serialized by a lock (one set
of buffers).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends.cuda._module import (
    DeviceBuffer,
    PinnedBuffer,
    check_aligned,
    check_offsets,
    clear,
    compile_kernels,
    kernel_errors,
    run_chunks,
    sync_slots,
    upload,
)
from verifier.backends.pool import PriorityLock
from verifier.batch import HASH_SIZE, MerkleBatch
from verifier.schemes import CudaContext, NoKeyStore
from verifier.verdict import Policy

__all__ = ["ENTRY", "KERNEL", "MerkleKernel", "plan_chunks"]

ENTRY = "merkle_verify.cu"
KERNEL = "merkle_verify_kernel"
_MAX_ITEMS_PER_LAUNCH = 2**31  # n is a uint32 kernel argument; grid x up to 2^31 - 1 blocks
_DEFAULT_CHUNK_BYTES = 128 << 20  # path + leaf bytes per chunk: ~128K depth-32 proofs


def plan_chunks(
    n: int,
    path_offsets: npt.NDArray[np.uint64],
    leaf_offsets: npt.NDArray[np.uint64] | None,
    max_items: int,
    max_bytes: int,
) -> list[tuple[int, int]]:
    """Item ranges [a, b) covering [0, n): each at most ``max_items`` items and, unless one item alone is
    bigger, at most ``max_bytes`` of path hashes and of leaf data."""
    chunks = []
    hashes = max(1, max_bytes // HASH_SIZE)
    a = 0
    while a < n:
        b = min(n, a + max_items)
        b = min(b, int(np.searchsorted(path_offsets, path_offsets[a] + np.uint64(hashes), side="right")) - 1)
        if leaf_offsets is not None:
            b = min(
                b,
                int(np.searchsorted(leaf_offsets, leaf_offsets[a] + np.uint64(max_bytes), side="right")) - 1,
            )
        b = max(b, a + 1)
        chunks.append((a, b))
        a = b
    return chunks


class _Slot:
    """One stream with its own device and pinned buffers."""

    def __init__(self, cp: ModuleType) -> None:
        self.stream = cp.cuda.Stream(non_blocking=True)
        self.d_leaf, self.h_leaf = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)  # hashes or data
        self.d_leaf_offsets, self.h_leaf_offsets = DeviceBuffer(cp, np.uint64), PinnedBuffer(cp, np.uint64)
        self.d_indices, self.h_indices = DeviceBuffer(cp, np.uint64), PinnedBuffer(cp, np.uint64)
        self.d_sizes, self.h_sizes = DeviceBuffer(cp, np.uint64), PinnedBuffer(cp, np.uint64)
        self.d_path, self.h_path = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_path_offsets, self.h_path_offsets = DeviceBuffer(cp, np.uint64), PinnedBuffer(cp, np.uint64)
        self.d_root_indices, self.h_root_indices = DeviceBuffer(cp, np.uint32), PinnedBuffer(cp, np.uint32)
        self.d_malformed, self.h_malformed = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_out, self.h_out = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.pending: tuple[int, int] | None = None  # (a, b) whose verdicts are in flight to h_out


class MerkleKernel(NoKeyStore):
    """``merkle_verify_kernel`` compiled for the current device, with reusable buffers."""

    policies: frozenset[Policy] = frozenset()

    def __init__(
        self,
        cp: ModuleType,
        *,
        block_dim: int = 128,
        max_batch: int = 1 << 20,
        streams: int = 2,
        chunk_bytes: int = _DEFAULT_CHUNK_BYTES,
    ) -> None:
        if not 1 <= max_batch <= _MAX_ITEMS_PER_LAUNCH:
            raise ValueError(f"max_batch must be in [1, {_MAX_ITEMS_PER_LAUNCH}], got {max_batch}")
        self._cp = cp
        self.block_dim = block_dim
        self.max_batch = max_batch
        self.chunk_bytes = chunk_bytes
        self.function = compile_kernels(cp, ENTRY, [KERNEL])[KERNEL]
        self._slots = [_Slot(cp) for _ in range(max(1, streams))]
        self._d_roots, self._h_roots = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self._lock = PriorityLock()  # the most urgent waiting call goes next

    def launch(
        self,
        stream: Any,
        n: int,
        leaf_hashes: Any,
        leaf_data: Any,
        leaf_offsets: Any,
        leaf_indices: Any,
        tree_sizes: Any,
        path_hashes: Any,
        path_offsets: Any,
        roots: Any,
        num_roots: int,
        root_indices: Any,
        malformed: Any,
        out: Any,
    ) -> None:
        """Enqueue the kernel on ``stream`` over device arrays (also used by the kernel benchmark).
        Pass ``np.uint64(0)`` for a null pointer: leaf_hashes or leaf_data/leaf_offsets, malformed."""
        grid = (n + self.block_dim - 1) // self.block_dim
        with stream:
            self.function(
                (grid,),
                (self.block_dim,),
                (
                    leaf_hashes,
                    leaf_data,
                    leaf_offsets,
                    leaf_indices,
                    tree_sizes,
                    path_hashes,
                    path_offsets,
                    roots,
                    root_indices,
                    malformed,
                    out,
                    np.uint32(n),
                    np.uint32(num_roots),
                ),
            )

    def verify(self, batch: MerkleBatch) -> npt.NDArray[np.uint8]:
        n = len(batch)
        out = np.zeros(n, dtype=np.uint8)
        if n == 0:
            return out
        null = np.uint64(0)
        by_hash = batch.leaf_hashes is not None
        leaf_hashes = np.ascontiguousarray(batch.leaf_hashes, dtype=np.uint8) if by_hash else None
        leaf_offsets = None if by_hash else np.ascontiguousarray(batch.leaf_offsets, dtype=np.uint64)
        indices = np.ascontiguousarray(batch.leaf_indices, dtype=np.uint64)
        sizes = np.ascontiguousarray(batch.tree_sizes, dtype=np.uint64)
        path_offsets = np.ascontiguousarray(batch.path_offsets, dtype=np.uint64)
        root_indices = np.ascontiguousarray(batch.root_indices, dtype=np.uint32)
        malformed = np.ascontiguousarray(batch.malformed, dtype=np.bool_).view(np.uint8)
        any_malformed = bool(malformed.any())
        roots = np.ascontiguousarray(batch.roots, dtype=np.uint8).reshape(-1)
        check_offsets("path_offsets", path_offsets, batch.path_hashes.shape[0])
        if leaf_offsets is not None:
            assert batch.leaf_data is not None
            check_offsets("leaf_offsets", leaf_offsets, batch.leaf_data.size)
        chunks = plan_chunks(n, path_offsets, leaf_offsets, self.max_batch, self.chunk_bytes)

        def enqueue(slot: _Slot, a: int, b: int) -> Any:
            s = slot.stream
            if leaf_hashes is not None:
                d_leaf_hashes = upload(slot.d_leaf, slot.h_leaf, leaf_hashes[a:b], s)
                d_leaf_data = d_leaf_offsets = null
            else:
                assert batch.leaf_data is not None and leaf_offsets is not None
                l0, l1 = int(leaf_offsets[a]), int(leaf_offsets[b])  # from 0 (MerkleBatch re-bases them)
                d_leaf_hashes = null
                d_leaf_data = upload(slot.d_leaf, slot.h_leaf, batch.leaf_data[l0:l1], s)
                d_leaf_offsets = upload(slot.d_leaf_offsets, slot.h_leaf_offsets, leaf_offsets[a : b + 1], s)
            p0, p1 = int(path_offsets[a]), int(path_offsets[b])
            d_path = upload(slot.d_path, slot.h_path, batch.path_hashes[p0:p1], s)
            d_path_offsets = upload(slot.d_path_offsets, slot.h_path_offsets, path_offsets[a : b + 1], s)
            d_indices = upload(slot.d_indices, slot.h_indices, indices[a:b], s)
            d_sizes = upload(slot.d_sizes, slot.h_sizes, sizes[a:b], s)
            d_root_indices = upload(slot.d_root_indices, slot.h_root_indices, root_indices[a:b], s)
            d_malformed = (
                upload(slot.d_malformed, slot.h_malformed, malformed[a:b], s) if any_malformed else null
            )
            d_out = clear(slot.d_out.ensure(b - a)[: b - a], s)
            check_aligned(d_path, "path_hashes")
            if leaf_hashes is not None:
                check_aligned(d_leaf_hashes, "leaf_hashes")
            self.launch(
                s,
                b - a,
                d_leaf_hashes,
                d_leaf_data,
                d_leaf_offsets,
                d_indices,
                d_sizes,
                d_path,
                d_path_offsets,
                d_roots,
                batch.roots.shape[0],
                d_root_indices,
                d_malformed,
                d_out,
            )
            return d_out

        with self._lock, kernel_errors(KERNEL, n, self._slots):
            first = self._slots[0].stream
            d_roots = upload(self._d_roots, self._h_roots, roots, first)
            check_aligned(d_roots, "roots")
            first.synchronize()  # the table is read by every chunk, on either stream
            run_chunks(self._slots, chunks, out, enqueue)
        return out

    @classmethod
    def runner(cls, ctx: CudaContext) -> MerkleKernel:
        """Scheme merkle's CUDA runner (``Scheme.cuda``)."""
        return cls(ctx.cp, block_dim=ctx.block_dim, max_batch=ctx.max_batch)

    def run(self, batch: MerkleBatch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        return self.verify(batch)

    def close(self) -> None:
        with self._lock:
            sync_slots(self._slots)
            self._slots = []
