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
import secrets
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends._abi import MAX_ITEMS
from verifier.backends._host import HostKeyStore, _ptr
from verifier.backends._native import build_emu_library
from verifier.batch import Ed25519Batch
from verifier.errors import KernelError, LimitExceededError
from verifier.schemes import HostContext, split_bounds
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


def chunk_bounds(n: int, workers: int, max_chunk: int = MAX_CHUNK_ITEMS) -> list[int]:
    """Where a batch of ``n`` is cut (``HostContext.split``'s rule): one chunk per worker when each gets
    at least ``MIN_CHUNK_ITEMS``, and none over ``max_chunk``."""
    return split_bounds(n, workers, max_chunk, MIN_CHUNK_ITEMS)


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
        self._ctx = HostContext(pool, max(1, workers), block_dim=1, key_store_rows=rows)
        self._max_chunk = max_chunk
        self._coefficients = coefficients
        self._lib = build_emu_library(_ENTRY, (*_DEFINES, *defines))
        self._verify = self._lib.ed25519_zip215_batch
        self._verify.argtypes = list(_BATCH_ARGS)
        self._verify.restype = ctypes.c_uint32
        self._store = self._lib.ed25519_batch_store_keys
        self._store.argtypes = list(_STORE_ARGS)
        self._store.restype = None
        self._lib.ed25519_batch_point_bytes.restype = ctypes.c_uint
        self.store = HostKeyStore(rows, int(self._lib.ed25519_batch_point_bytes()))

    @classmethod
    def runner(cls, ctx: HostContext) -> HostZip215Batch:
        """Built now (or loaded from the build cache), not on first use."""
        return cls(ctx.pool, ctx.workers, ctx.key_store_rows)

    @property
    def key_store_rows(self) -> int:
        return self.store.rows

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

        singles: dict[int, int] = {}  # chunk start -> items it verified one by one

        def chunk(a: int, b: int) -> None:
            singles[a] = int(
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
                    *self.store.args(),
                )
            )

        self._ctx.split(n, self._max_chunk, chunk, MIN_CHUNK_ITEMS)
        if _FAILED in singles.values():
            raise KernelError(f"the ZIP-215 batch verifier could not allocate its scratch for {n} items")
        return BatchResult(out, sum(singles.values()))

    def put_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        """Decode ``public_keys`` (k, 32) into rows ``slots`` (distinct, < rows). The caller makes sure no
        verification runs meanwhile (``Engine`` holds its store lock)."""
        slots, keys = self.store.checked(slots, public_keys)
        if len(slots):
            self._store(_ptr(keys), _ptr(slots), len(keys), *self.store.args())

    def close(self) -> None:
        return None  # the pool is the backend's
