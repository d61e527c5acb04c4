"""Backend ``cpu``'s policy zip215: ZIP-215 batch verification (``kernels/host/ed25519_batch.cu``,
``kernels/ec/ed25519_batch.cuh``; docs/RULES.md section 2.6) built for the host with 5 x 51-bit field
limbs (``-DVERIFIER_FE51``, ``kernels/ff/fe25519_51.cuh``).

A batch is cut into one chunk per worker thread (more for big batches, so that no task runs long), each
verified as one random linear combination with bisection on failure; every item gets its exact
single-verification verdict. The 128-bit coefficients come from the OS CSPRNG (``secrets``), fresh for
every call. Registered validator keys are decoded once into this runner's own key store (points in the
5 x 51 layout, so not shareable with backend emu's).
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import secrets
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends._abi import MAX_ITEMS
from verifier.backends._native import build_emu_library
from verifier.batch import Ed25519Batch
from verifier.errors import KernelError, LimitExceededError
from verifier.schemes import HostContext
from verifier.verdict import Policy

__all__ = ["BatchResult", "HostZip215Batch", "MAX_CHUNK_ITEMS", "MIN_CHUNK_ITEMS", "chunk_bounds"]

_ENTRY = "host/ed25519_batch.cu"
_DEFINES = ("VERIFIER_FE51",)
_PTR = ctypes.c_void_p
_FAILED = 0xFFFFFFFF  # ed25519_zip215_batch's ED25519_BATCH_FAILED
# Items per chunk (one pool task, one batch equation) at most: about 25 ms on this project's 2-vCPU
# machine; the batch gains little per item above it (benchmarks/NOTES.md, "ZIP-215 batch verification").
MAX_CHUNK_ITEMS = 1024
# Below this many items per thread a batch is not split across threads.
MIN_CHUNK_ITEMS = 32

# ed25519_zip215_batch(keys, sigs, msgs, offsets, malformed, out, n, z, key_slots, store_keys,
#                      store_points, store_status, store_rows)
_BATCH_ARGS = (
    _PTR,
    _PTR,
    _PTR,
    _PTR,
    _PTR,
    _PTR,
    ctypes.c_uint32,
    _PTR,
    _PTR,
    _PTR,
    _PTR,
    _PTR,
    ctypes.c_uint32,
)
# ed25519_batch_store_keys(keys, slots, n, store_keys, store_points, store_status, store_rows)
_STORE_ARGS = (_PTR, _PTR, ctypes.c_uint32, _PTR, _PTR, _PTR, ctypes.c_uint32)


def _ptr(a: npt.NDArray[Any], offset: int = 0) -> int:
    return int(a.ctypes.data) + offset


def chunk_bounds(n: int, workers: int, max_chunk: int = MAX_CHUNK_ITEMS) -> list[int]:
    """Where a batch of ``n`` is cut: one chunk per worker when each gets at least ``MIN_CHUNK_ITEMS``,
    and none over ``max_chunk``."""
    parts = max(min(workers, max(1, n // MIN_CHUNK_ITEMS)), -(-n // max_chunk), 1)
    return [n * i // parts for i in range(parts + 1)]


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """One call's verdicts, and how many items the bisection verified one by one (0 when no batch
    equation failed; every item of a 1-item chunk counts)."""

    verdicts: npt.NDArray[np.uint8]
    singles: int


class HostZip215Batch:
    """Policy zip215 on the host: batch equations over a thread pool, with a decoded-key store of ``rows``
    rows that items name in ``Ed25519Batch.key_slots``."""

    policies = frozenset({Policy.ZIP215})

    def __init__(
        self,
        pool: Any,
        workers: int,
        rows: int = 0,
        coefficients: Callable[[int], bytes] = secrets.token_bytes,
        max_chunk: int = MAX_CHUNK_ITEMS,
        defines: tuple[str, ...] = (),
    ) -> None:
        """``coefficients(k)``: k random bytes for the z_i (16 per item); the OS CSPRNG unless a test
        watches it. ``max_chunk``: items per batch equation at most. ``defines``: extra -D values of a
        build variant (the benchmark's, e.g. GE25519_MSM_STRAUS_MAX=0)."""
        self._pool = pool
        self._max_chunk = max_chunk
        self._workers = max(1, workers)
        self._coefficients = coefficients
        self._lib = build_emu_library(_ENTRY, (*_DEFINES, *defines))
        self._verify = self._lib.ed25519_zip215_batch
        self._verify.argtypes = list(_BATCH_ARGS)
        self._verify.restype = ctypes.c_uint32
        self._store = self._lib.ed25519_batch_store_keys
        self._store.argtypes = list(_STORE_ARGS)
        self._store.restype = None
        self._lib.ed25519_batch_point_bytes.restype = ctypes.c_uint
        point_bytes = int(self._lib.ed25519_batch_point_bytes())
        self.rows = rows
        self.store_keys = np.zeros((max(rows, 1), 32), dtype=np.uint8)
        self.store_points = np.zeros((max(rows, 1), point_bytes), dtype=np.uint8)
        self.store_status = np.zeros(max(rows, 1), dtype=np.uint8)

    @classmethod
    def runner(cls, ctx: HostContext) -> HostZip215Batch:
        """Built now (or loaded from the build cache), not on first use."""
        return cls(ctx.pool, ctx.workers, ctx.key_store_rows)

    @property
    def key_store_rows(self) -> int:
        return self.rows

    def run(self, batch: Ed25519Batch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        if policy is not Policy.ZIP215:
            raise ValueError(f"the ZIP-215 batch verifier runs policy zip215 only, not {policy}")
        return self.verify(batch).verdicts

    def verify(self, batch: Ed25519Batch) -> BatchResult:
        """Policy zip215 over ``batch``, chunk by chunk on the pool."""
        n = len(batch)
        if n > MAX_ITEMS:
            raise LimitExceededError(
                f"the ZIP-215 batch verifier takes at most {MAX_ITEMS} items per call, got {n}"
            )
        out = np.zeros(n, dtype=np.uint8)
        if n == 0:
            return BatchResult(out, 0)
        keys, sigs, msgs, offsets, malformed, slots = batch.kernel_columns()
        if msgs.size == 0:
            msgs = np.zeros(1, dtype=np.uint8)  # a valid pointer; no item reads it
        z = np.frombuffer(self._coefficients(16 * n), dtype=np.uint8)
        if z.size != 16 * n:
            raise ValueError(f"coefficient source gave {z.size} bytes, not {16 * n}")

        def chunk(a: int, b: int) -> int:
            return int(
                self._verify(
                    _ptr(keys, 32 * a),
                    _ptr(sigs, 64 * a),
                    _ptr(msgs, int(offsets[a] - offsets[0])),
                    _ptr(offsets, 8 * a),
                    _ptr(malformed, a),
                    _ptr(out, a),
                    b - a,
                    _ptr(z, 16 * a),
                    None if slots is None else _ptr(slots, 4 * a),
                    _ptr(self.store_keys),
                    _ptr(self.store_points),
                    _ptr(self.store_status),
                    self.rows,
                )
            )

        bounds = chunk_bounds(n, self._workers, self._max_chunk)
        if len(bounds) == 2:
            singles = [chunk(0, n)]
        else:
            futures = [self._pool.submit(chunk, a, b) for a, b in itertools.pairwise(bounds)]
            singles = [f.result() for f in futures]
        if _FAILED in singles:
            raise KernelError(f"the ZIP-215 batch verifier could not allocate its scratch for {n} items")
        return BatchResult(out, sum(singles))

    def put_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        """Decode ``public_keys`` (k, 32) into rows ``slots`` (distinct, < rows). The caller makes sure no
        verification runs meanwhile (``Engine`` holds its store lock)."""
        slots = np.ascontiguousarray(slots, dtype=np.uint32)
        keys = np.ascontiguousarray(public_keys, dtype=np.uint8).reshape(-1, 32)
        if len(slots) != len(keys):
            raise ValueError(f"{len(slots)} slots for {len(keys)} keys")
        if len(slots) and int(slots.max()) >= self.rows:
            raise ValueError(f"slot {int(slots.max())} is outside the store's {self.rows} rows")
        if len(slots):
            self._store(
                _ptr(keys),
                _ptr(slots),
                len(keys),
                _ptr(self.store_keys),
                _ptr(self.store_points),
                _ptr(self.store_status),
                self.rows,
            )

    def close(self) -> None:
        return None  # the pool is the backend's
