"""The one interface every backend implements (cpu, emu, cuda), and the class they share.

A backend holds one runner per scheme (``verifier.schemes.Runner``: the scheme's kernel, or reference
library, with its buffers) and answers ``run(scheme, batch, policy)`` by looking the scheme's runner up;
no backend has a method per kind of item.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from verifier.backends._abi import check_written
from verifier.errors import KernelError, UnsupportedPolicyError
from verifier.verdict import Policy

if TYPE_CHECKING:
    from verifier.schemes import Runner, Scheme

__all__ = ["Backend", "DeviceInfo", "SchemeBackend"]


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """What a backend runs on, as GetInfo reports it."""

    kind: str  # "cpu" or "cuda"
    name: str  # e.g. "AMD EPYC 7B13" or "NVIDIA H100 80GB HBM3"
    index: int = 0
    memory_bytes: int = 0
    compute_capability: str = ""
    workers: int = 1  # CPU threads, or SMs on a GPU


@runtime_checkable
class Backend(Protocol):
    """A backend turns a batch into one verdict byte per item.

    ``run`` returns a uint8 array of ``Verdict`` codes, one per item, in the batch's order. An item with
    ``batch.malformed[i]`` set gets its scheme's ``malformed`` verdict. A backend raises
    ``UnsupportedPolicyError`` for a scheme or policy it lacks, and ``KernelError`` when its device fails;
    it never returns a partial answer. Thread-safe: the engine may call it from several threads at once.
    A row of the key store is used for an item only when it holds that item's key, byte for byte
    (kernels/ec/key_store.cuh): a wrong slot never changes a verdict.
    """

    name: str
    # Per scheme name, the policies it implements (an empty set: a scheme without policies, served).
    policies: Mapping[str, frozenset[Policy]]

    @property
    def key_store_rows(self) -> int:
        """Rows of the decoded-key store that ``store_keys`` writes (0: none)."""
        ...

    def devices(self) -> list[DeviceInfo]: ...

    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]: ...

    def store_keys(
        self, scheme: Scheme, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]
    ) -> None:
        """Decode ``public_keys`` into rows ``slots`` of the scheme's key store, for items whose
        ``key_slots`` name them. Called with no verification running."""
        ...

    def memory_in_use(self) -> int:
        """Bytes of device memory this backend holds now (0 for the host backends)."""
        ...

    def close(self) -> None: ...


class SchemeBackend:
    """A backend over one runner per scheme (``runners`` by scheme name)."""

    name = ""

    def __init__(self, runners: Mapping[str, Runner]) -> None:
        self.runners = dict(runners)
        self.policies: Mapping[str, frozenset[Policy]] = {k: r.policies for k, r in self.runners.items()}

    @property
    def key_store_rows(self) -> int:
        rows = [r.key_store_rows for r in self.runners.values() if r.key_store_rows]
        return min(rows) if rows else 0

    def _runner(self, scheme: Scheme, policy: Policy | None) -> Runner:
        runner = self.runners.get(scheme.name)
        if runner is None:
            raise UnsupportedPolicyError(f"backend {self.name} does not implement scheme {scheme.name!r}")
        if scheme.policies and policy not in runner.policies:
            supported = ", ".join(sorted(p.value for p in runner.policies)) or "none"
            raise UnsupportedPolicyError(
                f"backend {self.name} does not implement policy {getattr(policy, 'value', policy)!r} "
                f"(supported: {supported})"
            )
        return runner

    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        """The runner's verdicts, checked once here for every backend: one per item and none left
        unwritten (zero never means valid), else ``KernelError``."""
        out = np.asarray(self._runner(scheme, policy).run(batch, policy), dtype=np.uint8)
        if out.shape != (len(batch),):
            raise KernelError(
                f"backend {self.name} returned {out.shape} {scheme.name} verdicts for {len(batch)} items"
            )
        check_written(out, f"backend {self.name} ({scheme.name})")
        return out

    def store_keys(
        self, scheme: Scheme, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]
    ) -> None:
        runner = self.runners.get(scheme.name)
        if runner is not None and runner.key_store_rows:
            runner.put_keys(slots, public_keys)

    def memory_in_use(self) -> int:
        return 0  # host memory only

    def close(self) -> None:
        for runner in self.runners.values():
            runner.close()
