"""The one interface every backend implements (cpu, emu, cuda)."""

from __future__ import annotations

import dataclasses
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.verdict import Policy

__all__ = ["Backend", "DeviceInfo"]


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

    ``verify_ed25519`` and ``verify_merkle`` return a uint8 array of ``Verdict`` codes, one per item, in
    the batch's order. An item with ``batch.malformed[i]`` set must get ``MALFORMED_LENGTH`` (Ed25519) or
    ``MALFORMED_PROOF`` (Merkle). A backend raises ``UnsupportedPolicyError`` for a policy it lacks, and
    ``KernelError`` when its device fails; it never returns a partial answer. Thread-safe: the engine may
    call it from several threads at once. A row of the key store is used for an item only when it holds
    that item's key, byte for byte (kernels/ec/key_store.cuh): a wrong slot never changes a verdict.
    """

    name: str
    policies: frozenset[Policy]
    key_store_rows: int  # rows of the decoded-key store that ``store_keys`` writes (0: none)

    def devices(self) -> list[DeviceInfo]: ...

    def verify_ed25519(self, batch: Ed25519Batch, policy: Policy) -> npt.NDArray[np.uint8]: ...

    def verify_merkle(self, batch: MerkleBatch) -> npt.NDArray[np.uint8]: ...

    def store_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        """Decode ``public_keys`` (k, 32) into rows ``slots`` of the key store, for items whose
        ``Ed25519Batch.key_slots`` name them (policy zip215). Called with no verification running."""
        ...

    def memory_in_use(self) -> int:
        """Bytes of device memory this backend holds now (0 for the host backends)."""
        ...

    def close(self) -> None: ...
