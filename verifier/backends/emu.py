"""Backend ``emu``: the CUDA kernels of ``kernels/`` compiled for the host CPU. A TEST backend.

Each entry file is one ``EmuKernelSpec`` (entry file, symbol, ctypes argument types) built in
``EmuBackend.__init__``: ``_ED25519`` (kernels/ed25519_verify.cu) and ``_MERKLE`` (kernels/merkle_verify.cu).

It exists so that CI and reviewers without a GPU run the real kernel arithmetic (field, scalar, curve,
SHA-512) of the ``cuda`` backend: the same sources, built by ``verifier.backends._native.build_emu_library``
with the host C++ compiler and ``-DVERIFIER_EMU`` (each inline-PTX primitive has a portable twin), cached
by source digest. A batch is cut into ranges of thread blocks run on a pool of ``os.cpu_count()`` threads
(ctypes releases the GIL). It is slow (a few thousand verifications per second per core) and never chosen
by ``auto``.
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends._native import build_emu_library
from verifier.backends.base import DeviceInfo
from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.errors import KernelError, LimitExceededError, UnsupportedPolicyError
from verifier.verdict import Policy, Verdict

__all__ = [
    "ED25519_POLICY_CODES", "EmuBackend", "EmuKernel", "EmuKernelSpec", "check_written", "ed25519_kernel", "run_ed25519",
]

# Values of the kernels' `policy` argument (kernels/ec/ed25519.cuh ED25519_POLICY_*).
ED25519_POLICY_CODES: dict[Policy, int] = {Policy.LIBSODIUM: 0, Policy.ZIP215: 1}
_BLOCK_DIM = 64
_MAX_ITEMS = 2**32 - 1  # the kernels take n as uint32
_P = ctypes.c_void_p


@dataclasses.dataclass(frozen=True)
class EmuKernelSpec:
    """One ``VERIFIER_KERNEL`` of one entry file: ``<symbol>_emu(block_begin, block_end, block_dim, *args)``."""

    entry: str  # file under kernels/, e.g. "ed25519_verify.cu"
    symbol: str  # kernel name, e.g. "ed25519_verify_kernel"
    argtypes: tuple[Any, ...]  # ctypes types of the kernel's own parameters
    defines: tuple[str, ...] = ()  # -D options for the build


_ED25519 = EmuKernelSpec(
    entry="ed25519_verify.cu",
    symbol="ed25519_verify_kernel",
    # keys, sigs, msgs, offsets, malformed, out, n, policy
    argtypes=(_P, _P, _P, _P, _P, _P, ctypes.c_uint32, ctypes.c_int),
)

_MERKLE = EmuKernelSpec(
    entry="merkle_verify.cu",
    symbol="merkle_verify_kernel",
    # leaf_hashes, leaf_data, leaf_offsets, leaf_indices, tree_sizes, path_hashes, path_offsets, roots,
    # root_indices, malformed, out, n, num_roots
    argtypes=(_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, ctypes.c_uint32, ctypes.c_uint32),
)


class EmuKernel:
    """A kernel built for the host and launched over a thread pool, one range of blocks per task."""

    def __init__(self, spec: EmuKernelSpec, pool: ThreadPoolExecutor, workers: int, block_dim: int = _BLOCK_DIM):
        self.spec = spec
        self.block_dim = block_dim
        self._pool = pool
        self._workers = workers
        self._lib = build_emu_library(spec.entry, spec.defines)  # keeps the library loaded
        fn = getattr(self._lib, f"{spec.symbol}_emu")
        fn.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, *spec.argtypes]
        fn.restype = None
        self._fn = fn

    def launch(self, n: int, *args: Any) -> None:
        """Run the grid covering ``n`` items; returns when every block has run."""
        if n == 0:
            return
        blocks = -(-n // self.block_dim)
        tasks = min(blocks, 4 * self._workers)  # a few tasks per thread evens out message lengths
        bounds = np.linspace(0, blocks, tasks + 1, dtype=np.int64)
        if tasks == 1:
            self._fn(0, blocks, self.block_dim, *args)
            return
        futures = [
            self._pool.submit(self._fn, int(a), int(b), self.block_dim, *args)
            for a, b in itertools.pairwise(bounds)
            if b > a
        ]
        for f in futures:
            f.result()


def _ptr(a: npt.NDArray[Any]) -> int:
    return int(a.ctypes.data)


def ed25519_kernel(pool: ThreadPoolExecutor, workers: int, block_dim: int = _BLOCK_DIM) -> EmuKernel:
    """The Ed25519 kernel built for the host (compiled now, or loaded from the cache)."""
    return EmuKernel(_ED25519, pool, workers, block_dim)


def run_ed25519(kernel: EmuKernel, batch: Ed25519Batch, policy: Policy) -> npt.NDArray[np.uint8]:
    """The host-built Ed25519 kernel over ``batch``: one Verdict code per item, every slot written.

    Backend ``emu`` runs both policies here; backend ``cpu`` runs policy ``zip215`` here, since libsodium
    (PyNaCl) cannot express it.
    """
    n = len(batch)
    if n > _MAX_ITEMS:
        raise LimitExceededError(f"the host Ed25519 kernel takes at most {_MAX_ITEMS} items per call, got {n}")
    out = np.zeros(n, dtype=np.uint8)
    if n == 0:
        return out
    keys = np.ascontiguousarray(batch.public_keys, dtype=np.uint8)
    sigs = np.ascontiguousarray(batch.signatures, dtype=np.uint8)
    msgs = np.ascontiguousarray(batch.messages, dtype=np.uint8)
    if msgs.size == 0:
        msgs = np.zeros(1, dtype=np.uint8)  # a valid pointer; no item reads it
    offsets = np.ascontiguousarray(batch.message_offsets, dtype=np.uint64)
    malformed = np.ascontiguousarray(batch.malformed, dtype=np.bool_).view(np.uint8)
    kernel.launch(
        n, _ptr(keys), _ptr(sigs), _ptr(msgs), _ptr(offsets), _ptr(malformed), _ptr(out), n,
        ED25519_POLICY_CODES[policy],
    )
    check_written(out, kernel.spec.symbol)
    return out


class EmuBackend:
    """The kernels of ``kernels/`` on the host CPU (test backend); policies libsodium and zip215."""

    name = "emu"
    policies = frozenset({Policy.LIBSODIUM, Policy.ZIP215})

    def __init__(self, workers: int | None = None, block_dim: int = _BLOCK_DIM) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="verifier-emu")
        self._closed = threading.Event()
        self._ed25519 = ed25519_kernel(self._pool, self.workers, block_dim)  # builds now, not on first use
        self._merkle = EmuKernel(_MERKLE, self._pool, self.workers, block_dim)

    def devices(self) -> list[DeviceInfo]:
        from verifier.backends.cpu import _cpu_model

        return [DeviceInfo(kind="cpu", name=f"emu on {_cpu_model()}", workers=self.workers)]

    def verify_ed25519(self, batch: Ed25519Batch, policy: Policy) -> npt.NDArray[np.uint8]:
        """Verdict codes per item; ``malformed`` items get MALFORMED_LENGTH (SPEC.md sections 1 and 2)."""
        if policy not in self.policies:
            raise UnsupportedPolicyError(f"backend emu does not implement policy {policy!r}")
        return run_ed25519(self._ed25519, batch, policy)

    def verify_merkle(self, batch: MerkleBatch) -> npt.NDArray[np.uint8]:
        """Verdict codes per proof: OK, MALFORMED_PROOF or ROOT_MISMATCH (SPEC.md section 3)."""
        n = len(batch)
        if n > _MAX_ITEMS:
            raise LimitExceededError(f"backend emu takes at most {_MAX_ITEMS} items per call, got {n}")
        out = np.zeros(n, dtype=np.uint8)
        if n == 0:
            return out

        def col(a: npt.NDArray[Any] | None, dtype: Any) -> npt.NDArray[Any]:
            c = np.ascontiguousarray(a if a is not None else np.zeros(0), dtype=dtype)
            return c if c.size else np.zeros(1, dtype=dtype)  # a valid pointer; no item reads it

        by_hash = batch.leaf_hashes is not None
        leaf_hashes = col(batch.leaf_hashes, np.uint8)
        leaf_data, leaf_offsets = col(batch.leaf_data, np.uint8), col(batch.leaf_offsets, np.uint64)
        roots = col(batch.roots, np.uint8)
        keep = [
            col(batch.leaf_indices, np.uint64), col(batch.tree_sizes, np.uint64), col(batch.path_hashes, np.uint8),
            col(batch.path_offsets, np.uint64), roots, col(batch.root_indices, np.uint32),
            np.ascontiguousarray(batch.malformed, dtype=np.bool_).view(np.uint8),
        ]
        self._merkle.launch(
            n, _ptr(leaf_hashes) if by_hash else None, None if by_hash else _ptr(leaf_data),
            None if by_hash else _ptr(leaf_offsets), *(_ptr(a) for a in keep), _ptr(out), n,
            int(batch.roots.shape[0]),
        )
        check_written(out, self._merkle.spec.symbol)
        return out

    def memory_in_use(self) -> int:
        return 0  # host memory only

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self._pool.shutdown(wait=True)


def check_written(out: npt.NDArray[np.uint8], kernel: str) -> None:
    """Zero never means valid: a slot the kernel left UNSPECIFIED is an internal error, never an answer."""
    missing = np.flatnonzero(out == Verdict.UNSPECIFIED)
    if missing.size:
        raise KernelError(
            f"{kernel} (host build) left {missing.size} of {out.size} verdicts unwritten, first at item {int(missing[0])}"
        )
