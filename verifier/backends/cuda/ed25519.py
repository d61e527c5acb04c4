"""The Ed25519 kernel on the GPU: staging through pinned buffers, launches on two streams, verdicts back.

A batch larger than ``max_batch`` items is cut into chunks; chunk j runs on stream j % 2 with that
stream's own device and pinned buffers, so the host staging and copies of one chunk overlap the kernel of
the other. Buffers grow to the largest chunk seen and are reused for every later batch. Calls are
serialized by a lock (one set of buffers) that the most urgent caller gets next (consensus first);
the engine may call from several threads.

The decoded-key store (kernels/ec/key_store.cuh) lives on the device, allocated once at ``store_rows``
rows; ``put_keys`` decodes keys into it with ``ed25519_store_keys_kernel`` and waits for it. A batch with
``key_slots`` uploads them with its chunk; one without passes a null pointer, written as ``np.uint64(0)``:
CuPy turns a ``None`` kernel argument into 0xffffffff, not NULL (cupy/cupy#9046).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends._abi import ED25519_POLICY_CODES
from verifier.backends.cuda._module import (
    DeviceBuffer,
    PinnedBuffer,
    check_offsets,
    clear,
    compile_kernels,
    kernel_errors,
    run_chunks,
    sync_slots,
    upload,
    variant_defines,
)
from verifier.backends.pool import PriorityLock
from verifier.batch import Ed25519Batch
from verifier.schemes import CudaContext
from verifier.verdict import Policy

__all__ = ["ENTRY", "KERNEL", "STORE_KERNEL", "Ed25519Kernel"]

ENTRY = "ed25519_verify.cu"
KERNEL = "ed25519_verify_kernel"
STORE_KERNEL = "ed25519_store_keys_kernel"
_POINT_BYTES = 128  # sizeof(ge25519_p3)
_NULL = np.uint64(0)
_MAX_ITEMS_PER_LAUNCH = 2**31  # n is a uint32 kernel argument; grid x up to 2^31 - 1 blocks


class _Slot:
    """One stream with its own device and pinned buffers."""

    def __init__(self, cp: ModuleType) -> None:
        self.stream = cp.cuda.Stream(non_blocking=True)
        self.d_keys, self.h_keys = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_sigs, self.h_sigs = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_msgs, self.h_msgs = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_offsets, self.h_offsets = DeviceBuffer(cp, np.uint64), PinnedBuffer(cp, np.uint64)
        self.d_malformed, self.h_malformed = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_slots, self.h_slots = DeviceBuffer(cp, np.uint32), PinnedBuffer(cp, np.uint32)
        self.d_out, self.h_out = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.pending: tuple[int, int] | None = None  # (a, b) whose verdicts are in flight to h_out


class Ed25519Kernel:
    """``ed25519_verify_kernel`` compiled for the current device, with reusable buffers: the runner of
    scheme ed25519 on backend cuda."""

    policies = frozenset(ED25519_POLICY_CODES)

    def __init__(
        self,
        cp: ModuleType,
        *,
        block_dim: int = 128,
        max_batch: int = 1 << 20,
        streams: int = 2,
        store_rows: int = 0,
        variant: Sequence[str] | None = None,
    ) -> None:
        """``variant``: the build-time variant's -D values (``_module.variant_defines``; default: the
        environment's)."""
        if not 1 <= max_batch <= _MAX_ITEMS_PER_LAUNCH:
            raise ValueError(f"max_batch must be in [1, {_MAX_ITEMS_PER_LAUNCH}], got {max_batch}")
        self._cp = cp
        self.block_dim = block_dim
        self.max_batch = max_batch
        self.variant = tuple(variant) if variant is not None else variant_defines()
        kernels = compile_kernels(cp, ENTRY, [KERNEL, STORE_KERNEL], self.variant)
        self.function, self._store_function = kernels[KERNEL], kernels[STORE_KERNEL]
        self._slots = [_Slot(cp) for _ in range(max(1, streams))]
        self._lock = PriorityLock()  # the most urgent waiting call goes next
        self.store_rows = store_rows
        rows = max(1, store_rows)
        self._store_keys = cp.zeros((rows, 32), dtype=np.uint8)
        self._store_points = cp.zeros((rows, _POINT_BYTES), dtype=np.uint8)
        self._store_status = cp.zeros(rows, dtype=np.uint8)

    def launch(
        self,
        stream: Any,
        n: int,
        keys: Any,
        sigs: Any,
        msgs: Any,
        offsets: Any,
        malformed: Any,
        out: Any,
        policy: int,
        key_slots: Any = _NULL,
    ) -> None:
        """Enqueue the kernel on ``stream`` over device arrays (also used by the kernel benchmark)."""
        grid = (n + self.block_dim - 1) // self.block_dim
        with stream:
            self.function(
                (grid,),
                (self.block_dim,),
                (
                    keys,
                    sigs,
                    msgs,
                    offsets,
                    malformed,
                    out,
                    np.uint32(n),
                    np.int32(policy),
                    key_slots,
                    self._store_keys,
                    self._store_points,
                    self._store_status,
                    np.uint32(self.store_rows),
                ),
            )

    def put_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        """Decode keys into rows ``slots`` of the device store; returns once they are written."""
        n = len(slots)
        if n == 0:
            return
        if int(np.max(slots)) >= self.store_rows:
            raise ValueError(f"slot {int(np.max(slots))} is outside the store's {self.store_rows} rows")
        cp = self._cp
        with self._lock, kernel_errors(STORE_KERNEL, n, self._slots):
            stream = self._slots[0].stream
            with stream:
                d_keys = cp.asarray(np.ascontiguousarray(public_keys, dtype=np.uint8).reshape(-1, 32))
                d_slots = cp.asarray(np.ascontiguousarray(slots, dtype=np.uint32))
                grid = (n + self.block_dim - 1) // self.block_dim
                self._store_function(
                    (grid,),
                    (self.block_dim,),
                    (
                        d_keys,
                        d_slots,
                        np.uint32(n),
                        self._store_keys,
                        self._store_points,
                        self._store_status,
                        np.uint32(self.store_rows),
                    ),
                )
            stream.synchronize()

    def verify(self, batch: Ed25519Batch, policy: int) -> npt.NDArray[np.uint8]:
        n = len(batch)
        out = np.zeros(n, dtype=np.uint8)
        if n == 0:
            return out
        keys, sigs, msgs, offsets, malformed, key_slots = batch.kernel_columns()
        check_offsets("message_offsets", offsets, msgs.size)

        def enqueue(slot: _Slot, a: int, b: int) -> Any:
            s = slot.stream
            # Offsets start at 0 (Ed25519Batch re-bases them); the kernel re-bases each chunk's own.
            m0, m1 = int(offsets[a]), int(offsets[b])
            d_keys = upload(slot.d_keys, slot.h_keys, keys[a:b], s)
            d_sigs = upload(slot.d_sigs, slot.h_sigs, sigs[a:b], s)
            d_msgs = upload(slot.d_msgs, slot.h_msgs, msgs[m0:m1], s)
            d_offsets = upload(slot.d_offsets, slot.h_offsets, offsets[a : b + 1], s)
            d_malformed = upload(slot.d_malformed, slot.h_malformed, malformed[a:b], s)
            d_out = clear(slot.d_out.ensure(b - a)[: b - a], s)
            d_slots = _NULL if key_slots is None else upload(slot.d_slots, slot.h_slots, key_slots[a:b], s)
            self.launch(s, b - a, d_keys, d_sigs, d_msgs, d_offsets, d_malformed, d_out, policy, d_slots)
            return d_out

        chunks = [(a, min(n, a + self.max_batch)) for a in range(0, n, self.max_batch)]
        with self._lock, kernel_errors(KERNEL, n, self._slots):
            run_chunks(self._slots, chunks, out, enqueue)
        return out

    @classmethod
    def runner(cls, ctx: CudaContext) -> Ed25519Kernel:
        """Scheme ed25519's CUDA runner (``Scheme.cuda``)."""
        return cls(ctx.cp, block_dim=ctx.block_dim, max_batch=ctx.max_batch, store_rows=ctx.key_store_rows)

    @property
    def key_store_rows(self) -> int:
        return self.store_rows

    def run(self, batch: Ed25519Batch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        assert policy is not None
        return self.verify(batch, ED25519_POLICY_CODES[policy])

    def close(self) -> None:
        with self._lock:
            sync_slots(self._slots)
            self._slots = []
