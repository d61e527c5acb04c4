"""Admission: what is decided about a request before it is decoded, and by whom it may be sent.

``InflightBudget`` bounds the wire bytes of requests accepted and not yet answered, all callers together;
``Lane`` runs big commits one at a time on their own thread, with a bounded number waiting;
``ConsensusAccess`` decides who may claim PRIORITY_CONSENSUS and call RegisterValidatorSet (``Caller``);
``Throttled`` logs a kind of bad request at most once per interval. The servicer (service.py) calls these;
the errors they raise map to gRPC status codes there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import grpc

from verifier import convert
from verifier.errors import LimitExceededError, PermissionDeniedError
from verifier.logs import FIELDS
from verifier.metrics import Metrics
from verifier.priority import Priority
from verifier.text import cut

__all__ = [
    "Caller",
    "ConsensusAccess",
    "InflightBudget",
    "Lane",
    "PermissionDeniedError",
    "RefusedError",
    "Throttled",
]

_log = logging.getLogger("verifier.service")
_LOG_INTERVAL_S = 10.0  # one line per kind of bad request per interval at most


class RefusedError(LimitExceededError):
    """Refused before decoding, for ``reason`` (a metrics label: commit_bytes, inflight_bytes, commit_lane)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Throttled:
    """A logger that writes at most one line per key per ``interval`` seconds, and says how many it held back
    (in the message, and as the ``held_back`` field of a line with ``fields``, verifier.logs.FIELDS)."""

    def __init__(self, interval: float = _LOG_INTERVAL_S, logger: logging.Logger | None = None) -> None:
        self.interval = interval
        self._logger = logger if logger is not None else _log
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(self, level: int, key: str, message: str, fields: dict[str, object] | None = None) -> None:
        now = time.monotonic()
        if now < self._next.get(key, 0.0):
            self._held[key] = self._held.get(key, 0) + 1
            return
        held = self._held.pop(key, 0)
        self._next[key] = now + self.interval
        if held:
            message += f" ({held} more like it in the last {self.interval:g} s not logged)"
        extra = None if fields is None else {FIELDS: dict(fields, held_back=held)}
        self._logger.log(level, "%s", message, extra=extra)


# ------------------------------------------------------------------------------------- admission


class InflightBudget:
    """Wire bytes of requests accepted and not yet answered, all callers together, at most ``limit``: a
    request that would pass it is refused (RESOURCE_EXHAUSTED) before it is decoded. Used on the loop only."""

    def __init__(self, limit: int, metrics: Metrics | None = None) -> None:
        self.limit = limit
        self.held = 0
        self._metrics = metrics

    def take(self, nbytes: int) -> None:
        if self.held + nbytes > self.limit:
            raise RefusedError(
                "inflight_bytes",
                f"in-flight budget: {self.held} bytes held, {nbytes} more would pass {self.limit} "
                "(--max-inflight-bytes)",
            )
        self.held += nbytes
        self._observe()

    def give(self, nbytes: int) -> None:
        self.held -= nbytes
        self._observe()

    def _observe(self) -> None:
        if self._metrics is not None:
            self._metrics.inflight_bytes.set(self.held)


class Lane:
    """Requests of more than ``threshold`` bytes, one at a time on a thread of their own; at most
    ``max_waiting`` wait for it, more are refused (RESOURCE_EXHAUSTED)."""

    def __init__(self, threshold: int, max_waiting: int) -> None:
        self.threshold = threshold
        self.max_waiting = max_waiting
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="verifier-commit-big")
        self._turn = asyncio.Semaphore(1)
        self._waiting = 0

    async def enter(self, nbytes: int) -> None:
        if self._turn.locked() and self._waiting >= self.max_waiting:
            raise RefusedError(
                "commit_lane",
                f"{self._waiting} requests of more than {self.threshold} bytes are waiting for the big-request "
                f"lane already; this one ({nbytes} bytes) is refused",
            )
        self._waiting += 1
        try:
            await self._turn.acquire()
        finally:
            self._waiting -= 1

    def leave(self) -> None:
        self._turn.release()


@dataclasses.dataclass(frozen=True)
class Caller:
    """What one caller may do, as ``ConsensusAccess`` decided; ``rule`` says why not, for the messages."""

    may_claim_consensus: bool = True
    may_register: bool = True
    rule: str = ""

    def priority(self, value: int, default: Priority) -> tuple[Priority, bool]:
        """The priority a request with wire priority ``value`` gets, and whether it was demoted: an
        explicit PRIORITY_CONSENSUS the caller may not claim is PERMISSION_DENIED; a default of consensus
        (VerifyCommit's, when unspecified) becomes bulk."""
        prio = convert.priority(value, default)
        if prio is not Priority.CONSENSUS or self.may_claim_consensus:
            return prio, False
        if not convert.priority_given(value):
            return Priority.BULK, True
        raise PermissionDeniedError(f"priority: PRIORITY_CONSENSUS {self.rule}")

    def check_register(self) -> None:
        if not self.may_register:
            raise PermissionDeniedError(f"RegisterValidatorSet: {self.rule}")


_OPEN = Caller()
_IDENTITY_KEYS = ("x509_common_name", "x509_subject_alternative_name", "x509_subject")


class ConsensusAccess:
    """Who may claim PRIORITY_CONSENSUS and call RegisterValidatorSet; decided here and nowhere else.

    ``clients`` (``--consensus-clients``, with mutual TLS): the certificate identities (common name, a
    subject alternative name, or the whole subject) that may; any other caller is unlisted, its explicit
    PRIORITY_CONSENSUS and its RegisterValidatorSet are PERMISSION_DENIED and VerifyCommit's default
    priority is demoted to bulk for it. Without a list, ``bulk_only`` (``--consensus-priority bulk-only``)
    treats every caller as unlisted for priority, and anyone may register; otherwise everyone may do both."""

    def __init__(self, clients: Iterable[str] | None = None, *, bulk_only: bool = False) -> None:
        self.clients = None if clients is None else frozenset(clients)
        self.bulk_only = bulk_only
        self._bulk_only = Caller(
            may_claim_consensus=False,
            rule="is refused: this server runs with --consensus-priority bulk-only",
        )

    @classmethod
    def from_config(
        cls, clients_file: str | None, consensus_priority: str, mutual_tls: bool
    ) -> ConsensusAccess:
        """From ``--consensus-clients FILE`` (one identity per line; blank lines and ``#`` comments
        skipped) and ``--consensus-priority open|bulk-only``."""
        if consensus_priority not in ("open", "bulk-only"):
            raise ValueError(f"consensus priority must be open or bulk-only, not {cut(consensus_priority)!r}")
        clients = None
        if clients_file is not None:
            if not mutual_tls:
                raise ValueError(
                    "--consensus-clients needs mutual TLS (--tls-client-ca): it names client certificates"
                )
            with open(clients_file, encoding="utf-8") as f:
                clients = [s for line in f if (s := line.split("#", 1)[0].strip())]
        return cls(clients, bulk_only=consensus_priority == "bulk-only")

    def caller(self, context: grpc.aio.ServicerContext) -> Caller:
        if self.clients is None:
            return self._bulk_only if self.bulk_only else _OPEN
        identities = _identities(context)
        if any(identity in self.clients for identity in identities):
            return _OPEN
        who = ", ".join(cut(i) for i in identities[:3]) or "no certificate identity"
        return Caller(
            may_claim_consensus=False,
            may_register=False,
            rule=f"is reserved for the clients --consensus-clients lists; this client ({who}) is not listed",
        )


def _identities(context: grpc.aio.ServicerContext) -> list[str]:
    auth = context.auth_context() or {}
    return [v.decode("utf-8", "replace") for key in _IDENTITY_KEYS for v in auth.get(key, ())]
