"""``CudaBackend``: the kernels of ``kernels/`` on one NVIDIA GPU through CuPy.

Construction imports CuPy, checks the device and compiles every kernel module (so a broken toolchain or a
missing GPU fails at startup with ``BackendUnavailableError``, never on a request). The startup
known-answer self-test is the caller's: ``verifier.backends.select_backend`` runs
``verifier.selftest.run_selftest`` on the new backend.

Options (arguments, else environment): ``max_batch`` / ``$VERIFIER_CUDA_MAX_BATCH`` (items per kernel
launch; larger batches are split, default 1,048,576), ``block_dim`` / ``$VERIFIER_CUDA_BLOCK_DIM``
(threads per block, default 128), ``device`` / ``$VERIFIER_CUDA_DEVICE`` (default 0), ``key_store_rows`` /
``$VERIFIER_KEY_STORE_ROWS`` (decoded keys kept on the device for registered validator sets, default
16,384 rows of 161 bytes).

Each scheme's kernel has a runner (compiled module, streams, reusable buffers), made by its
``Scheme.cuda`` (``Ed25519Kernel`` in cuda/ed25519.py, ``MerkleKernel`` in cuda/merkle.py), all built
here at construction.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends._abi import DEFAULT_KEY_STORE_ROWS
from verifier.backends.base import DeviceInfo, SchemeBackend
from verifier.backends.cuda._module import import_cupy, usable_device
from verifier.schemes import SCHEMES, CudaContext, Scheme, load
from verifier.verdict import Policy

__all__ = ["CudaBackend"]

_DEFAULT_MAX_BATCH = 1 << 20
_DEFAULT_BLOCK_DIM = 128


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value, 0) if value else default


class CudaBackend(SchemeBackend):
    """Every scheme's CUDA runner (``Scheme.cuda``) on one GPU; verdicts equal the CPU backend's."""

    name = "cuda"

    def __init__(
        self,
        device: int | None = None,
        *,
        max_batch: int | None = None,
        block_dim: int | None = None,
        key_store_rows: int | None = None,
    ) -> None:
        cp = import_cupy()
        self._cp = cp
        index = device if device is not None else _env_int("VERIFIER_CUDA_DEVICE", 0)
        self._info = usable_device(cp, index)
        self.max_batch = max_batch or _env_int("VERIFIER_CUDA_MAX_BATCH", _DEFAULT_MAX_BATCH)
        self.block_dim = block_dim or _env_int("VERIFIER_CUDA_BLOCK_DIM", _DEFAULT_BLOCK_DIM)
        rows = key_store_rows if key_store_rows is not None else DEFAULT_KEY_STORE_ROWS
        self._device = cp.cuda.Device(index)
        ctx = CudaContext(cp, self.block_dim, self.max_batch, rows)
        with self._device:
            super().__init__({s.name: load(s.cuda)(ctx) for s in SCHEMES if s.cuda is not None})
        self._closed = threading.Event()

    def devices(self) -> list[DeviceInfo]:
        return [self._info]

    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        with self._device:
            return super().run(scheme, batch, policy)

    def store_keys(
        self, scheme: Scheme, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]
    ) -> None:
        with self._device:
            super().store_keys(scheme, slots, public_keys)

    def memory_in_use(self) -> int:
        """Bytes CuPy's memory pool holds on the device: the kernels' reused buffers (grow-only), plus
        blocks the pool keeps for reuse. Other processes' memory is not counted."""
        with self._device:
            return int(self._cp.get_default_memory_pool().total_bytes())

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            with self._device:
                super().close()
