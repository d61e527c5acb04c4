"""Backend ``emu``: the CUDA kernels of ``kernels/`` compiled for the host CPU. A TEST backend.

It exists so that CI and reviewers without a GPU run the real kernel arithmetic (field, scalar, curve,
SHA-512) of the ``cuda`` backend: the same sources, built and launched by ``verifier.backends._host``
(each scheme's ``Scheme.host`` runner),
on a pool of one thread per usable CPU (``_abi.usable_cpus``: affinity and cgroup quota). It is slow (a few thousand verifications per second per core)
and never chosen by ``auto``.
"""

from __future__ import annotations

import threading

from verifier.backends._abi import DEFAULT_KEY_STORE_ROWS, cpu_model, usable_cpus
from verifier.backends._host import BLOCK_DIM
from verifier.backends.base import DeviceInfo, SchemeBackend
from verifier.backends.pool import PriorityPool
from verifier.schemes import SCHEMES, HostContext, load

__all__ = ["EmuBackend"]


class EmuBackend(SchemeBackend):
    """The kernels of ``kernels/`` on the host CPU (test backend), every scheme and policy."""

    name = "emu"

    def __init__(
        self, workers: int | None = None, block_dim: int = BLOCK_DIM, key_store_rows: int | None = None
    ) -> None:
        self.workers = max(1, workers or usable_cpus())
        self._pool = PriorityPool(self.workers, thread_name_prefix="verifier-emu")
        self._closed = threading.Event()
        rows = key_store_rows if key_store_rows is not None else DEFAULT_KEY_STORE_ROWS
        ctx = HostContext(self._pool, self.workers, block_dim, rows)
        super().__init__(
            {s.name: load(s.host)(ctx) for s in SCHEMES if s.host is not None}
        )  # builds now, not on first use

    def devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(kind="cpu", name=f"emu on {cpu_model()}", workers=self.workers)]

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            super().close()
            self._pool.shutdown(wait=True)
