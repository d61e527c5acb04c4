"""Several devices behind one backend (``verifier serve --devices``): each batch goes to the least-loaded
healthy device; a device that fails is taken out and the batch re-run on the next one.

Each device is a backend of its own (a ``CudaBackend`` per GPU with its streams, pinned buffers and key
store; an ``EmuBackend`` per host "device" with its own thread pool), self-tested before it is used.
``MultiDevice`` answers like any backend: when its last healthy device fails it raises ``KernelError``,
and the engine re-runs the batch on the CPU, as for one device. A device taken out is self-tested again
every ``probe_interval`` seconds and comes back when it passes. Load is the items a device is running
now; ties go to the device that was idle longest, so equal devices share work in turn.

One process per MIG slice is the way to use MIG: a CUDA process cannot span slices.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends.base import Backend, DeviceInfo
from verifier.errors import KernelError
from verifier.schemes import Scheme
from verifier.verdict import Policy

__all__ = ["MultiDevice", "parse_devices"]

_log = logging.getLogger(__name__)


def parse_devices(spec: str, available: int) -> list[int]:
    """Device indices for ``--devices``: "all", a count N (devices 0..N-1), or a list "0,2"."""
    text = spec.strip().lower()
    if text == "all":
        picked = list(range(available))
    elif "," in text or text.startswith("0"):
        picked = [int(part) for part in text.split(",") if part.strip()]
    else:
        picked = list(range(int(text)))
    if not picked:
        raise ValueError(f"--devices {spec!r}: no device")
    if len(set(picked)) != len(picked):
        raise ValueError(f"--devices {spec!r}: a device is named twice")
    missing = [i for i in picked if not 0 <= i < available]
    if missing:
        raise ValueError(f"--devices {spec!r}: no device {missing[0]} (this machine has {available})")
    return picked


class MultiDevice:
    """``devices``: backends of one kind, each self-tested. ``labels``: each one's name in metrics and
    logs (default its position)."""

    def __init__(
        self,
        devices: Sequence[Backend],
        labels: Sequence[str] | None = None,
        probe_interval: float = 10.0,
        selftest: Callable[[Backend], None] | None = None,
    ) -> None:
        if not devices:
            raise ValueError("MultiDevice needs at least one device")
        names = {d.name for d in devices}
        if len(names) != 1:
            raise ValueError(f"devices of one backend kind only, got {sorted(names)}")
        self.members = list(devices)
        self.labels = list(labels) if labels is not None else [str(i) for i in range(len(devices))]
        self.name = devices[0].name
        self.probe_interval = probe_interval
        self._selftest = selftest
        self.healthy = [True] * len(devices)
        self._load = [0] * len(devices)  # items running now, per device
        self._last = [0.0] * len(devices)  # when each last started a batch
        self._lock = threading.Lock()
        self._closed = threading.Event()
        # Observers (metrics): (device label, healthy) on every change; (device label, items) per batch.
        self.health_observers: list[Callable[[str, bool], None]] = []
        self.batch_observers: list[Callable[[str, int], None]] = []

    @property
    def policies(self) -> Mapping[str, frozenset[Policy]]:
        """What every device implements (all are of one kind: the same)."""
        first = self.members[0].policies
        return {name: pols for name, pols in first.items() if all(name in d.policies for d in self.members)}

    @property
    def key_store_rows(self) -> int:
        return min(d.key_store_rows for d in self.members)

    def devices(self) -> list[DeviceInfo]:
        """Every device, in order (GetInfo lists each)."""
        return [info for d in self.members for info in d.devices()]

    def _pick(self, tried: set[int]) -> int | None:
        with self._lock:
            ready = [i for i in range(len(self.members)) if self.healthy[i] and i not in tried]
            if not ready:
                return None
            best = min(ready, key=lambda i: (self._load[i], self._last[i]))
            self._last[best] = time.monotonic()
            return best

    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        tried: set[int] = set()
        errors: list[str] = []
        n = len(batch)
        while (i := self._pick(tried)) is not None:
            tried.add(i)
            with self._lock:
                self._load[i] += n
            try:
                out = self.members[i].run(scheme, batch, policy)
            except KernelError as exc:
                errors.append(f"device {self.labels[i]}: {exc}")
                _log.error(
                    "%s batch of %d on %s device %s failed, taking it out: %s",
                    scheme.name,
                    n,
                    self.name,
                    self.labels[i],
                    exc,
                )
                self._take_out(i)
                continue
            finally:
                with self._lock:
                    self._load[i] -= n
            for obs in self.batch_observers:
                obs(self.labels[i], n)
            return out
        raise KernelError(
            f"no healthy {self.name} device left for a {scheme.name} batch of {n}"
            + (f" ({'; '.join(errors)})" if errors else "")
        )

    def _take_out(self, i: int) -> None:
        with self._lock:
            if not self.healthy[i]:
                return
            self.healthy[i] = False
        for obs in self.health_observers:
            obs(self.labels[i], False)
        threading.Thread(
            target=self._probe, args=(i,), name=f"verifier-probe-{self.labels[i]}", daemon=True
        ).start()

    def _probe(self, i: int) -> None:
        from verifier.selftest import probe_until_passing

        what = f"{self.name} device {self.labels[i]}"
        if not probe_until_passing(self.members[i], self.probe_interval, self._closed, what, self._selftest):
            return
        with self._lock:
            self.healthy[i] = True
        for obs in self.health_observers:
            obs(self.labels[i], True)

    def store_keys(
        self, scheme: Scheme, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]
    ) -> None:
        """Into every device's store. One that fails keeps its rows empty (its items then decode their
        keys: verdicts never depend on a store)."""
        for label, d in zip(self.labels, self.members, strict=True):
            try:
                d.store_keys(scheme, slots, public_keys)
            except KernelError as exc:
                _log.error("%s device %s could not store %d keys: %s", self.name, label, len(slots), exc)

    def memory_in_use(self) -> int:
        return sum(d.memory_in_use() for d in self.members)

    def close(self) -> None:
        self._closed.set()
        for d in self.members:
            d.close()
