"""Backend ``emu``: the CUDA kernels of ``kernels/`` compiled for the host CPU. A TEST backend.

It exists so that CI and reviewers without a GPU run the real kernel arithmetic (field, scalar, curve,
SHA-512) of the ``cuda`` backend: the same sources, built and launched by ``verifier.backends._host``
(which the ``cpu`` backend also uses for policy zip215), on a pool of ``os.cpu_count()`` threads. It is
slow (a few thousand verifications per second per core) and never chosen by ``auto``.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import numpy.typing as npt

from verifier.backends._abi import DEFAULT_KEY_STORE_ROWS, cpu_model
from verifier.backends._host import BLOCK_DIM, MERKLE, EmuKernel, ed25519_kernel, run_ed25519, run_merkle
from verifier.backends.base import DeviceInfo
from verifier.backends.pool import PriorityPool
from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.errors import UnsupportedPolicyError
from verifier.verdict import Policy

__all__ = ["EmuBackend"]


class EmuBackend:
    """The kernels of ``kernels/`` on the host CPU (test backend); policies libsodium and zip215."""

    name = "emu"
    policies = frozenset({Policy.LIBSODIUM, Policy.ZIP215})

    def __init__(self, workers: int | None = None, block_dim: int = BLOCK_DIM, key_store_rows: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool = PriorityPool(self.workers, thread_name_prefix="verifier-emu")
        self._closed = threading.Event()
        rows = key_store_rows if key_store_rows is not None else DEFAULT_KEY_STORE_ROWS
        self._ed25519 = ed25519_kernel(self._pool, self.workers, block_dim, rows)  # builds now, not on first use
        self.key_store_rows = rows
        self._merkle = EmuKernel(MERKLE, self._pool, self.workers, block_dim)

    def devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(kind="cpu", name=f"emu on {cpu_model()}", workers=self.workers)]

    def verify_ed25519(self, batch: Ed25519Batch, policy: Policy) -> npt.NDArray[np.uint8]:
        """Verdict codes per item; ``malformed`` items get MALFORMED_LENGTH (SPEC.md sections 1 and 2)."""
        if policy not in self.policies:
            raise UnsupportedPolicyError(f"backend emu does not implement policy {policy!r}")
        return run_ed25519(self._ed25519, batch, policy)

    def verify_merkle(self, batch: MerkleBatch) -> npt.NDArray[np.uint8]:
        """Verdict codes per proof: OK, MALFORMED_PROOF or ROOT_MISMATCH (docs/RULES.md section 3)."""
        return run_merkle(self._merkle, batch)

    def store_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        self._ed25519.put_keys(slots, public_keys)

    def memory_in_use(self) -> int:
        return 0  # host memory only

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self._pool.shutdown(wait=True)
