"""The engine: checks a batch against the limits, runs it on the chosen backend, and answers.

It imports no gRPC: the server, the CLI and the public Python API all call it. A batch larger than
``chunk_items`` is cut into chunks. Routing: a batch smaller than its route's crossover runs on the CPU,
where it costs less than a kernel launch (Solana's lesson); larger ones on the active backend. When the
backend fails (``KernelError``) or leaves a verdict unwritten, the chunk is re-run on the CPU reference,
so every item still gets its verdict, and the device is marked unhealthy: work goes to the CPU until a
background probe sees the device pass its self-test again.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends import Backend, create_backend, select_backend
from verifier.errors import (
    KernelError,
    LimitExceededError,
    UnsupportedPolicyError,
)
from verifier.keystore import KeyStore
from verifier.result import VerifyResult
from verifier.schemes import SCHEMES, Scheme, route
from verifier.verdict import Policy

__all__ = ["Engine", "Limits"]

_log = logging.getLogger(__name__)

Routes = Mapping[tuple[str, str], int]


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-request limits, reported by GetInfo."""

    max_items: int = 1 << 20
    max_message_bytes: int = 256 << 20  # one gRPC request message
    chunk_items: int = 1 << 16  # a larger batch is cut into chunks of this many items


class Engine:
    """Runs batches on one backend, with the CPU reference as the fallback."""

    def __init__(
        self,
        backend: Backend,
        limits: Limits | None = None,
        *,
        crossovers: Routes | None = None,
        probe_interval: float = 10.0,
    ) -> None:
        """``crossovers``: per route (scheme name, policy value or ""), device batches smaller than this
        run on the CPU (``verifier.crossover.route_crossovers`` resolves them; missing routes: 0)."""
        self.backend = backend
        self.limits = limits or Limits()
        self.probe_interval = probe_interval
        self.healthy = True
        self._probe: threading.Thread | None = None
        self._closed = threading.Event()
        self._health_lock = threading.Lock()
        # The CPU backend is made now, not when the device first fails or the first small batch comes:
        # it builds the host kernel for policy zip215, which must never happen on a request's time.
        self.cpu: Backend = backend if backend.name == "cpu" else create_backend("cpu")
        # Decoded keys of registered validator sets, per scheme with a key store: the same rows on the
        # device and its CPU fallback.
        rows = [b.key_store_rows for b in self._stores()]
        self.key_stores = {s.name: KeyStore(min(rows), self._key_writer(s)) for s in SCHEMES if s.key_store}
        self.crossovers: dict[tuple[str, str], int] = {}
        self.set_crossovers(crossovers or {})
        self.health_observers: list[Callable[[str, bool], None]] = []
        # Observers (metrics) get (scheme name, backend name, verdicts) for every answered batch.
        self.observers: list[Callable[[str, str, npt.NDArray[np.uint8]], None]] = []
        self.fallback_observers: list[Callable[[str, str, str], None]] = []

    @classmethod
    def create(cls, backend: str = "auto", limits: Limits | None = None) -> Engine:
        return cls(select_backend(backend), limits)

    def set_crossovers(self, crossovers: Routes) -> None:
        """Route by these crossovers from now on (0 everywhere when the backend is the CPU itself)."""
        on_device = self.backend is not self.cpu
        self.crossovers = {
            r: int(crossovers.get(r, 0)) if on_device else 0 for s in SCHEMES for r in s.routes()
        }

    @property
    def policies(self) -> frozenset[Policy]:
        """Every policy of every scheme served, on the backend or its CPU fallback (GetInfo's list)."""
        return frozenset().union(*self.backend.policies.values(), *self.cpu.policies.values())

    def _can(self, backend: Backend, scheme: Scheme, pol: Policy | None) -> bool:
        supported = backend.policies.get(scheme.name)
        return supported is not None and (pol is None or pol in supported)

    def check(self, scheme: Scheme, batch: Any, policy: str | Policy | None = None) -> Policy | None:
        """Raise what ``verify`` would raise before any work; return the parsed policy. A scheme the
        backend has no kernel for runs on the CPU."""
        pol = scheme.parse_policy(policy)
        if not (self._can(self.backend, scheme, pol) or self._can(self.cpu, scheme, pol)):
            supported = self.backend.policies.get(scheme.name)
            raise UnsupportedPolicyError(
                f"policy {getattr(pol, 'value', scheme.name)!r} is not implemented by backend {self.backend.name!r} "
                f"(supported: {', '.join(sorted(p.value for p in supported or ())) or 'none'})"
            )
        self.check_limits(len(batch))
        return pol

    def verify(self, scheme: Scheme, batch: Any, policy: str | Policy | None = None) -> VerifyResult:
        """``batch`` of ``scheme`` under ``policy`` (None: the scheme's default)."""
        return self.verify_checked(scheme, batch, self.check(scheme, batch, policy))

    def verify_checked(self, scheme: Scheme, batch: Any, pol: Policy | None) -> VerifyResult:
        """``verify`` of a batch that ``check`` passed, with the policy it returned (the scheduler checks
        once, when a request is submitted, not again for each unit)."""
        cpu_can = self._can(self.cpu, scheme, pol)
        # A scheme or policy the device lacks runs on the CPU whatever the batch size.
        crossover = (
            self.crossovers[route(scheme, pol)] if self._can(self.backend, scheme, pol) else sys.maxsize
        )
        store = self.key_stores.get(scheme.name)

        def call(be: Backend, b: Any) -> Any:
            if store is None or getattr(b, "key_slots", None) is None:
                return be.run(scheme, b, pol)
            with store.lock.reading():  # the rows it names are not being rewritten meanwhile
                return be.run(scheme, b, pol)

        return self._run(scheme, batch, call, crossover, cpu_can=cpu_can)

    def check_limits(self, n: int) -> None:
        if n > self.limits.max_items:
            raise LimitExceededError(f"batch has {n} items; the limit is {self.limits.max_items} per request")

    def _stores(self) -> list[Backend]:
        return [self.backend] if self.cpu is self.backend else [self.backend, self.cpu]

    def _key_writer(self, scheme: Scheme) -> Callable[[npt.NDArray[np.uint32], npt.NDArray[np.uint8]], None]:
        """Writes keys into every backend's store. A backend that fails to store (``KernelError``) leaves
        its rows empty: its items decode their keys as without a store, so verdicts never depend on it."""

        def write(slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
            for backend in self._stores():
                try:
                    backend.store_keys(scheme, slots, public_keys)
                except KernelError as exc:
                    _log.error(
                        "backend %s could not store %d keys (they will be decoded per item): %s",
                        backend.name,
                        len(slots),
                        exc,
                    )

        return write

    def _run(
        self,
        scheme: Scheme,
        batch: Any,
        call: Callable[[Backend, Any], Any],
        crossover: int,
        cpu_can: bool = True,
    ) -> VerifyResult:
        """``crossover``: chunks smaller than this run on the CPU. ``cpu_can``: whether the CPU backend can
        run this batch (policy zip215 needs its host kernel); when it cannot, small batches stay on the
        device and a device failure is an error."""
        n = len(batch)
        step = self.limits.chunk_items
        parts: list[npt.NDArray[np.uint8]] = []
        used: list[str] = []
        for start in range(0, n, step):
            chunk = batch if n <= step else batch.slice(start, min(n, start + step))
            small = len(chunk) < crossover
            backend = self.backend if (self.healthy and not small) or not cpu_can else self.cpu
            try:
                verdicts = call(backend, chunk)
            except KernelError as exc:
                if backend.name == "cpu" or not cpu_can:
                    raise
                _log.error(
                    "%s batch of %d on %s failed, re-running on cpu: %s",
                    scheme.name,
                    len(chunk),
                    backend.name,
                    exc,
                )
                self._mark_unhealthy()
                for fobs in self.fallback_observers:
                    fobs(scheme.name, backend.name, "cpu")
                backend = self.cpu
                verdicts = call(backend, chunk)
            for obs in self.observers:
                obs(scheme.name, backend.name, verdicts)
            parts.append(verdicts)
            if backend.name not in used:
                used.append(backend.name)
        out = parts[0] if len(parts) == 1 else (np.concatenate(parts) if parts else np.zeros(0, np.uint8))
        return VerifyResult(out, "+".join(used) or self.backend.name)

    def _set_health(self, healthy: bool) -> None:
        self.healthy = healthy
        for obs in self.health_observers:
            obs(self.backend.name, healthy)

    def _mark_unhealthy(self) -> None:
        """Route everything to the CPU and start the probe that re-enables the device."""
        with self._health_lock:
            if not self.healthy:
                return
            self._set_health(False)
            self._probe = threading.Thread(target=self._probe_loop, name="verifier-probe", daemon=True)
            self._probe.start()

    def _probe_loop(self) -> None:
        from verifier.selftest import probe_until_passing

        if probe_until_passing(
            self.backend, self.probe_interval, self._closed, f"backend {self.backend.name}"
        ):
            with self._health_lock:
                self._set_health(True)

    def close(self) -> None:
        self._closed.set()
        self.backend.close()
        if self.cpu is not self.backend:
            self.cpu.close()
