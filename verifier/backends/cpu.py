"""The CPU backend: every scheme's reference runner (``Scheme.cpu``), over one thread pool.

Every other backend must return these verdicts item by item. For Ed25519 that is PyNaCl (libsodium) for
policy libsodium and, for policy zip215, which no maintained library implements, batch verification
built for the host from the project's kernel sources (``verifier.schemes.ed25519``); for Merkle proofs, hashlib
(``verifier.schemes.merkle_rfc9162``).
"""

from __future__ import annotations

import dataclasses

from verifier.backends._abi import DEFAULT_KEY_STORE_ROWS, cpu_model, usable_cpus
from verifier.backends.base import DeviceInfo, SchemeBackend
from verifier.backends.pool import PriorityPool
from verifier.schemes import SCHEMES, HostContext, Runner, load

__all__ = ["CpuBackend"]


class CpuBackend(SchemeBackend):
    """Reference backend. ``workers`` threads (default: every core) share a batch.

    ``zip215=False`` leaves out what needs the host build of the kernels (Ed25519 policy zip215).
    """

    name = "cpu"

    def __init__(
        self, workers: int | None = None, *, zip215: bool = True, key_store_rows: int | None = None
    ) -> None:
        self.workers = max(1, workers or usable_cpus())
        self._pool = PriorityPool(self.workers, thread_name_prefix="verifier-cpu")
        rows = key_store_rows if key_store_rows is not None else DEFAULT_KEY_STORE_ROWS
        # 16-item blocks for host kernels launched on the pool, so that a small batch still spreads over
        # every core (the zip215 batch verifier cuts its own chunks: verifier.backends._zip215_batch).
        ctx = HostContext(self._pool, self.workers, block_dim=16, key_store_rows=rows)

        def host(ref: str) -> Runner:
            return load(ref)(ctx)

        ctx = dataclasses.replace(ctx, host=host if zip215 else None)
        super().__init__({s.name: load(s.cpu)(ctx) for s in SCHEMES})

    def devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(kind="cpu", name=cpu_model(), workers=self.workers)]

    def close(self) -> None:
        super().close()
        self._pool.shutdown(wait=True)
