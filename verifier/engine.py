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
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from verifier.backends import Backend, create_backend, select_backend
from verifier.batch import NO_KEY_SLOT, Ed25519Batch, MerkleBatch
from verifier.errors import (
    KernelError,
    LimitExceededError,
    UnsupportedPolicyError,
)
from verifier.keyslots import KeySlots, StoreLock
from verifier.result import VerifyResult
from verifier.verdict import Policy, Verdict, parse_policy

__all__ = ["Engine", "Limits"]

_log = logging.getLogger(__name__)

B = TypeVar("B", Ed25519Batch, MerkleBatch)


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-request limits, reported by GetInfo."""

    max_items: int = 1 << 20
    max_message_bytes: int = 256 << 20  # one gRPC request message
    chunk_items: int = 1 << 16  # a larger batch is cut into chunks of this many items


def _scaled(crossover: int, ratio: float) -> int:
    """``crossover`` times ``ratio`` (<= 1), at least 1 when ``crossover`` is (0 stays 0: no routing)."""
    return 0 if crossover == 0 else max(1, min(crossover, round(crossover * ratio)))


class Engine:
    """Runs batches on one backend, with the CPU reference as the fallback."""

    def __init__(
        self,
        backend: Backend,
        limits: Limits | None = None,
        *,
        crossover_batch: int = 0,
        merkle_crossover_batch: int | None = None,
        probe_interval: float = 10.0,
    ) -> None:
        """``crossover_batch``: device batches of Ed25519 (policy libsodium, what ``verifier bench``
        measures) smaller than this run on the CPU; ``merkle_crossover_batch`` the same for proofs (None:
        the same number). Policy zip215's is derived here (``crossovers``)."""
        self.backend = backend
        self.limits = limits or Limits()
        on_device = backend.name != "cpu"
        self.crossover_batch = crossover_batch if on_device else 0
        self.probe_interval = probe_interval
        self.healthy = True
        self._probe: threading.Thread | None = None
        self._closed = threading.Event()
        self._health_lock = threading.Lock()
        # The CPU backend is made now, not when the device first fails or the first small batch comes:
        # it builds the host kernel for policy zip215, which must never happen on a request's time.
        self._fallback: Backend = backend if backend.name == "cpu" else create_backend("cpu")
        # Decoded keys of registered validator sets: the same rows on the device and its CPU fallback.
        self.key_slots = KeySlots(min(self._stores_rows()))
        self._store_lock = StoreLock()
        # Crossover per route, (kind, policy value or ""). The CPU runs zip215 slower than libsodium (host
        # kernel against PyNaCl), so below the same size the device already wins: its crossover is the
        # libsodium one times this CPU's measured rate ratio.
        merkle = merkle_crossover_batch if merkle_crossover_batch is not None else crossover_batch
        self.crossovers: dict[tuple[str, str], int] = {
            ("ed25519", Policy.LIBSODIUM.value): self.crossover_batch,
            ("ed25519", Policy.ZIP215.value): _scaled(self.crossover_batch, self._zip215_cpu_ratio()),
            ("merkle", ""): merkle if on_device else 0,
        }
        self.health_observers: list[Callable[[str, bool], None]] = []
        # Observers (metrics) get (kind, backend name, verdicts) for every answered batch.
        self.observers: list[Callable[[str, str, npt.NDArray[np.uint8]], None]] = []
        self.fallback_observers: list[Callable[[str, str, str], None]] = []

    @classmethod
    def create(cls, backend: str = "auto", limits: Limits | None = None) -> Engine:
        return cls(select_backend(backend), limits)

    @property
    def policies(self) -> frozenset[Policy]:
        return self.backend.policies

    def check_ed25519(self, batch: Ed25519Batch, policy: str | Policy) -> Policy:
        """Raise what verify_ed25519 would raise before any work; return the parsed policy."""
        pol = parse_policy(policy)
        if pol not in self.backend.policies:
            raise UnsupportedPolicyError(
                f"policy {pol.value!r} is not implemented by backend {self.backend.name!r} "
                f"(supported: {', '.join(sorted(p.value for p in self.backend.policies))})"
            )
        self.check_limits(len(batch))
        return pol

    def verify_ed25519(self, batch: Ed25519Batch, policy: str | Policy = Policy.LIBSODIUM) -> VerifyResult:
        pol = self.check_ed25519(batch, policy)
        cpu_can = pol in self._fallback.policies
        crossover = self.crossovers[("ed25519", pol.value)]

        def call(be: Backend, b: Ed25519Batch) -> Any:
            if b.key_slots is None:
                return be.verify_ed25519(b, pol)
            with self._store_lock.reading():  # the rows it names are not being rewritten meanwhile
                return be.verify_ed25519(b, pol)

        return self._run("ed25519", batch, call, crossover, cpu_can=cpu_can)

    def verify_merkle(self, batch: MerkleBatch) -> VerifyResult:
        self.check_limits(len(batch))
        return self._run("merkle", batch, lambda be, b: be.verify_merkle(b), self.crossovers[("merkle", "")])

    def check_limits(self, n: int) -> None:
        if n > self.limits.max_items:
            raise LimitExceededError(f"batch has {n} items; the limit is {self.limits.max_items} per request")

    def _cpu(self) -> Backend:
        return self._fallback

    def _stores(self) -> list[Backend]:
        return [self.backend] if self._fallback is self.backend else [self.backend, self._fallback]

    def _stores_rows(self) -> list[int]:
        return [getattr(b, "key_store_rows", 0) for b in self._stores()]

    def register_keys(self, public_keys: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
        """Decode ``public_keys`` (k, 32) once into every backend's key store; the rows, for
        ``Ed25519Batch.key_slots`` (``NO_KEY_SLOT`` for keys that did not fit). Waits for the batches
        being verified to finish, and holds new ones back while it writes (registration is rare).

        A backend that fails to store (``KernelError``) leaves its rows empty: its items decode their keys
        as without a store, so verdicts never depend on it."""
        slots = self.key_slots.allocate(len(public_keys))
        keep = slots != NO_KEY_SLOT
        if not keep.any():
            return slots
        with self._store_lock.writing():
            for backend in self._stores():
                try:
                    backend.store_keys(slots[keep], np.ascontiguousarray(public_keys)[keep])
                except KernelError as exc:
                    _log.error("backend %s could not store %d keys (they will be decoded per item): %s",
                               backend.name, int(keep.sum()), exc)
        return slots

    def release_keys(self, slots: npt.NDArray[np.uint32]) -> None:
        """Give rows back (a validator set left the registry). Their contents stay until rewritten, and a
        batch still naming them is safe: a row is used only for the key it holds."""
        self.key_slots.release(slots)

    def _zip215_cpu_ratio(self) -> float:
        """How fast this CPU runs zip215 relative to libsodium (about 0.4 on the dev VM), timed on 256
        signatures at startup; 1.0 when there is nothing to route or the CPU lacks zip215."""
        if self.crossover_batch == 0 or Policy.ZIP215 not in self._fallback.policies:
            return 1.0
        import time

        import nacl.signing

        key = nacl.signing.SigningKey(bytes(range(32)))
        msgs = [b"crossover %d" % i for i in range(256)]
        batch = Ed25519Batch.from_items([bytes(key.verify_key)] * 256, [key.sign(m).signature for m in msgs], msgs)
        best: dict[Policy, float] = {}
        for pol in (Policy.LIBSODIUM, Policy.ZIP215):
            self._fallback.verify_ed25519(batch, pol)  # warm-up
            for _ in range(3):
                t = time.perf_counter()
                self._fallback.verify_ed25519(batch, pol)
                best[pol] = min(best.get(pol, float("inf")), time.perf_counter() - t)
        ratio = best[Policy.LIBSODIUM] / best[Policy.ZIP215]
        _log.info("cpu runs zip215 at %.2fx its libsodium rate: zip215 crossover %d (libsodium %d)",
                  ratio, _scaled(self.crossover_batch, ratio), self.crossover_batch)
        return ratio

    def _run(
        self, kind: str, batch: B, call: Callable[[Backend, B], Any], crossover: int, cpu_can: bool = True
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
            backend = self.backend if (self.healthy and not small) or not cpu_can else self._cpu()
            try:
                verdicts = self._call_checked(kind, backend, chunk, call)
            except KernelError as exc:
                if backend.name == "cpu" or not cpu_can:
                    raise
                _log.error("%s batch of %d on %s failed, re-running on cpu: %s", kind, len(chunk), backend.name, exc)
                self._mark_unhealthy()
                for fobs in self.fallback_observers:
                    fobs(kind, backend.name, "cpu")
                backend = self._cpu()
                verdicts = self._call_checked(kind, backend, chunk, call)
            for obs in self.observers:
                obs(kind, backend.name, verdicts)
            parts.append(verdicts)
            if backend.name not in used:
                used.append(backend.name)
        out = parts[0] if len(parts) == 1 else (np.concatenate(parts) if parts else np.zeros(0, np.uint8))
        return VerifyResult(out, "+".join(used) or self.backend.name)

    @staticmethod
    def _call_checked(kind: str, backend: Backend, chunk: B, call: Callable[[Backend, B], Any]) -> npt.NDArray[np.uint8]:
        """The backend's verdicts, or ``KernelError`` when it answered the wrong shape or left a slot 0."""
        verdicts = np.asarray(call(backend, chunk), dtype=np.uint8)
        if verdicts.shape != (len(chunk),):
            raise KernelError(f"backend {backend.name} returned {verdicts.shape} verdicts for {len(chunk)} items")
        unwritten = int(np.count_nonzero(verdicts == Verdict.UNSPECIFIED))
        if unwritten:
            raise KernelError(f"backend {backend.name} left {unwritten} of {len(chunk)} {kind} verdicts unwritten")
        return verdicts

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
        from verifier.selftest import run_selftest

        while not self._closed.wait(self.probe_interval):
            try:
                run_selftest(self.backend)
            except Exception as exc:  # noqa: BLE001 - any failure keeps the device out
                _log.warning("backend %s still unhealthy: %s", self.backend.name, exc)
                continue
            _log.info("backend %s passed its self-test again; re-enabled", self.backend.name)
            with self._health_lock:
                self._set_health(True)
            return

    def close(self) -> None:
        self._closed.set()
        self.backend.close()
        if self._fallback is not self.backend:
            self._fallback.close()
