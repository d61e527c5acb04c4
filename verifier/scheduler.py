"""Dynamic batching across callers (after NVIDIA Triton's dynamic batcher), with consensus isolation.

Requests are queued per (scheme, policy, batch form) and per priority class, and cut into **scheduling units** of at
most ``unit_items`` items (``max_batch_items``; by default 65,536 on a GPU; on the CPU backends what the
measured rate verifies in ``unit_target_ms``, 64 to 4,096 items).
A unit holds items of one priority class only: consensus work (quorum certificates) is never merged
with bulk work, so it never waits for bulk items to be computed beside it. Within a class, requests are
taken earliest deadline first (a request without a deadline counts as due ``_NO_DEADLINE_DUE`` seconds
after it arrived, so it is not starved for ever); small requests of one class merge into one unit. The
first bulk item of a queue waits at most ``max_queue_delay_us`` for others to join; consensus goes at once.

Up to ``max_inflight`` units run at once, so the next unit is gathered while one computes, and
``consensus_slots`` more are kept for consensus work alone: a quorum certificate never waits for a
device slot held by bulk. On the CPU backends the unit's tasks carry the same order into the backend's
pool (``verifier.backends.pool``), where a consensus unit's tasks go ahead of a running bulk unit's.

The queue is bounded in items and in bytes: a request that does not fit is refused at once
(``LimitExceededError``, RESOURCE_EXHAUSTED), never buffered without bound. Work of a caller that went
away (cancelled) or whose deadline passed is dropped at the next unit boundary, queued or in progress,
and answered ``DeadlineExceededError``; with ``refuse_late``, a request whose remaining items cannot be
verified before its deadline at the rate measured on recent units is refused as it reaches a unit,
rather than computed for nobody. Every dropped item is counted (``verifier_items_dropped_total``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import itertools
import logging
import time
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from verifier.backends.pool import WorkOrder, work_order
from verifier.engine import Engine
from verifier.errors import DeadlineExceededError, LimitExceededError, VerifierError
from verifier.priority import Priority
from verifier.result import VerifyResult
from verifier.schemes import Scheme
from verifier.verdict import Policy

__all__ = ["Priority", "Scheduler", "SchedulerConfig"]

_log = logging.getLogger(__name__)

# Unit sizes when max_batch_items is 0: a GPU wants large batches; on the CPU 4,096 items are about
# 0.1-0.3 s of work, so a caller that leaves costs at most that much.
_DEVICE_UNIT_ITEMS = 1 << 16
_CPU_UNIT_ITEMS = 1 << 12
_HOST_BACKENDS = frozenset({"cpu", "emu"})
# Ordering only: a request without a deadline is taken as if it were due this long after it arrived.
_NO_DEADLINE_DUE = 30.0
# Measured rate: exponential moving average over units, weight of the newest unit.
_RATE_WEIGHT = 0.2
_MIN_MEASURED_UNIT = 1024
_MIN_TIMED_UNIT = 64
_FIRST_TIMED_UNIT = 256  # until a rate is known
# Refused as late only when the estimate passes the time left this many times over: a wrong refusal loses
# a verdict the caller could have had, while work let through is still dropped when the deadline passes.
_LATE_MARGIN = 2.0


@dataclasses.dataclass(frozen=True)
class SchedulerConfig:
    # Items per scheduling unit (one device batch) at most: larger requests are cut into units, and a
    # caller that left is dropped at the next unit boundary. 0: by backend (65,536 on a GPU, 4,096 on the
    # CPU backends, where a unit of 65,536 would run for seconds).
    max_batch_items: int = 0
    max_queue_delay_us: int = 500
    queue_capacity_items: int = 4 << 20
    queue_capacity_bytes: int = 1 << 30
    max_inflight: int = 2  # units of any priority running at once
    consensus_slots: int = 1  # further units that only consensus work may use
    stream_window: int = 8
    # Refuse a unit at once (DEADLINE_EXCEEDED) when the measured rate says it cannot finish in time.
    refuse_late: bool = True
    # CPU backends with max_batch_items 0: units sized to take about this long at the measured rate
    # (between 64 items and 4,096), so a caller with a short deadline waits at most that for a slot.
    unit_target_ms: int = 100


class _Key(NamedTuple):
    """One queue: requests of one scheme, policy and batch form (only like forms merge)."""

    scheme: Scheme
    policy: Policy | None
    form: str


@dataclasses.dataclass(eq=False)
class _Request:
    """One caller's batch while it is being cut into units; answered when its last unit is back."""

    key: _Key
    batch: Any
    priority: Priority
    deadline: float | None
    enqueued: float
    order: tuple[float, int]  # (due, arrival): the earliest-deadline-first key within its class
    future: asyncio.Future[VerifyResult]
    next: int = 0  # first item not yet in a unit
    running: int = 0  # its units being computed
    parts: list[tuple[int, npt.NDArray[np.uint8]]] = dataclasses.field(default_factory=list)
    backends: list[str] = dataclasses.field(default_factory=list)
    timer: asyncio.TimerHandle | None = None
    started: bool = False
    left: float | None = None  # when it was answered other than with its verdicts (cancelled, failed)

    @property
    def items(self) -> int:
        return len(self.batch)

    @property
    def remaining(self) -> int:
        return self.items - self.next

    @property
    def finished(self) -> bool:
        return self.future.done()


@dataclasses.dataclass(eq=False)
class _Unit:
    key: _Key
    priority: Priority
    pieces: list[tuple[_Request, int, int]]  # (request, start, stop)
    started: float = 0.0

    @property
    def items(self) -> int:
        return sum(b - a for _, a, b in self.pieces)


class Scheduler:
    def __init__(self, engine: Engine, config: SchedulerConfig | None = None, metrics: Any = None) -> None:
        self.engine = engine
        self.config = config or SchedulerConfig()
        self.metrics = metrics
        host = engine.backend.name in _HOST_BACKENDS
        self.unit_items = max(
            1, self.config.max_batch_items or (_CPU_UNIT_ITEMS if host else _DEVICE_UNIT_ITEMS)
        )
        # Units sized by time rather than items: on the CPU, 4,096 items take from ~30 ms (zip215, batch
        # verification) to ~0.3 s (libsodium, one by one) on two cores (benchmarks/NOTES.md, "Sizes in code").
        self._timed_units = host and not self.config.max_batch_items and self.config.unit_target_ms > 0
        # key -> priority -> heap of (order, request)
        self._queues: dict[_Key, dict[Priority, list[tuple[tuple[float, int], _Request]]]] = {}
        self._waiting_items: dict[
            tuple[_Key, Priority], int
        ] = {}  # items not yet in a unit, per queue and class
        self._queued_bytes = 0  # bytes of requests not yet answered
        self._running = 0
        self._rates: dict[_Key, float] = {}  # items/s per queue, measured
        self._last_done: dict[_Key, float] = {}  # when the queue's latest unit finished
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._seq = itertools.count()

    # ------------------------------------------------------------------ public

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="verifier-scheduler")

    async def close(self) -> None:
        """Finish everything queued and in flight, then stop the worker."""
        while self.queued_items or self._tasks:
            self._wakeup.set()
            await asyncio.sleep(0.001)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    @property
    def queued_items(self) -> int:
        return sum(self._waiting_items.values())

    async def verify(
        self,
        scheme: Scheme,
        batch: Any,
        policy: str | Policy | None = None,
        *,
        priority: Priority = Priority.BULK,
        timeout: float | None = None,
    ) -> VerifyResult:
        """``batch`` of ``scheme`` under ``policy`` (None: the scheme's default), merged with other
        callers' work of the same scheme, policy and batch form."""
        pol = self.engine.check(scheme, batch, policy)
        return await self._submit(_Key(scheme, pol, batch.form), batch, priority, timeout)

    # ------------------------------------------------------------------ queueing

    async def _submit(self, key: _Key, batch: Any, priority: Priority, timeout: float | None) -> VerifyResult:
        if len(batch) == 0:
            return VerifyResult(np.zeros(0, np.uint8), self.engine.backend.name)
        cfg = self.config
        n, nbytes = len(batch), batch.nbytes
        queued = self.queued_items
        if queued + n > cfg.queue_capacity_items:
            raise LimitExceededError(
                f"queue full: {queued} items queued, {n} more would pass the capacity of "
                f"{cfg.queue_capacity_items} items"
            )
        if self._queued_bytes + nbytes > cfg.queue_capacity_bytes:
            raise LimitExceededError(
                f"queue full: {self._queued_bytes} bytes queued, {nbytes} more would pass the capacity of "
                f"{cfg.queue_capacity_bytes} bytes"
            )
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        deadline = None if timeout is None else now + max(0.0, timeout)
        due = deadline if deadline is not None else now + _NO_DEADLINE_DUE
        req = _Request(
            key=key,
            batch=batch,
            priority=priority,
            deadline=deadline,
            enqueued=now,
            order=(due, next(self._seq)),
            future=loop.create_future(),
        )
        queues = self._queues.setdefault(key, {Priority.CONSENSUS: [], Priority.BULK: []})
        heapq.heappush(queues[priority], (req.order, req))
        self._count_waiting(req, n)
        self._queued_bytes += nbytes
        req.future.add_done_callback(lambda _f, r=req: self._settled(r))  # type: ignore[misc]
        if deadline is not None:
            req.timer = loop.call_at(loop.time() + (deadline - now), self._expire, req)
        self._observe_depth()
        self._wakeup.set()
        return await req.future

    def _settled(self, req: _Request) -> None:
        """The request's future is done (answered, failed, or cancelled by its caller): give back what it
        holds, and count what was never put into a unit."""
        if req.timer is not None:
            req.timer.cancel()
        if req.future.cancelled() or req.future.exception() is not None:
            req.left = time.monotonic()
        if req.remaining:
            late = req.deadline is not None and time.monotonic() >= req.deadline
            self._drop(req, "deadline" if late or not req.future.cancelled() else "cancelled")
        self._queued_bytes -= req.batch.nbytes
        self._wakeup.set()

    def _drop(self, req: _Request, reason: str) -> None:
        n = req.remaining
        req.next = req.items  # no further unit takes it; its heap entry is popped lazily
        self._count_waiting(req, -n)
        self._observe_depth()
        if self.metrics is not None and n:
            self.metrics.items_dropped.labels(req.key.scheme.name, reason).inc(n)

    def _fail(self, req: _Request, exc: Exception, reason: str) -> None:
        if not req.finished:
            self._drop(req, reason)
            req.future.set_exception(exc)

    def _expire(self, req: _Request) -> None:
        waited = time.monotonic() - req.enqueued
        where = "in progress" if req.started else "in the queue"
        self._fail(req, DeadlineExceededError(f"deadline passed after {waited:.3f} s {where}"), "deadline")

    def _observe_depth(self) -> None:
        if self.metrics is not None:
            self.metrics.queue_depth.set(self.queued_items)

    # ------------------------------------------------------------------ choosing work

    def _head(self, heap: list[tuple[tuple[float, int], _Request]]) -> _Request | None:
        """The most urgent request of a heap still holding items (finished ones are popped here)."""
        while heap and (heap[0][1].remaining == 0 or heap[0][1].finished):
            heapq.heappop(heap)
        return heap[0][1] if heap else None

    def _next(self, priority: Priority) -> tuple[_Key, _Request] | None:
        """Of one class, the queue whose head is due first."""
        best: tuple[_Key, _Request] | None = None
        for key, queues in self._queues.items():
            head = self._head(queues[priority])
            if head is not None and (best is None or head.order < best[1].order):
                best = (key, head)
        return best

    def _count_waiting(self, req: _Request, n: int) -> None:
        where = (req.key, req.priority)
        self._waiting_items[where] = self._waiting_items.get(where, 0) + n

    def _ready(self) -> tuple[_Key, Priority] | float | None:
        """What may start now: (key, class); else seconds until a gathering bulk unit is due; else None."""
        cfg = self.config
        if self._running < cfg.max_inflight + cfg.consensus_slots:
            consensus = self._next(Priority.CONSENSUS)
            if consensus is not None:
                return consensus[0], Priority.CONSENSUS
        if self._running >= cfg.max_inflight:
            return None
        bulk = self._next(Priority.BULK)
        if bulk is None:
            return None
        key, head = bulk
        remaining = head.enqueued + cfg.max_queue_delay_us / 1e6 - time.monotonic()
        if remaining <= 0 or self._waiting_items.get((key, Priority.BULK), 0) >= self._unit_size(key):
            return key, Priority.BULK
        return remaining

    def _take(self, key: _Key, priority: Priority) -> _Unit:
        """Up to ``unit_items`` items of one class, earliest deadline first; requests that left, are past
        their deadline, or cannot meet it at the measured rate are answered and skipped."""
        heap = self._queues[key][priority]
        unit = _Unit(key, priority, [])
        room = self._unit_size(key)
        now = time.monotonic()
        while room and (req := self._head(heap)) is not None:
            if req.deadline is not None and now >= req.deadline:
                self._expire(req)
                continue
            if not self._can_meet(req, now):
                self._fail(req, DeadlineExceededError(self._late_message(req, now)), "deadline_unmeetable")
                continue
            n = min(req.remaining, room)
            unit.pieces.append((req, req.next, req.next + n))
            req.next += n
            self._count_waiting(req, -n)
            req.running += 1
            room -= n
            if not req.started:
                req.started = True
                if self.metrics is not None:
                    self.metrics.queue_wait.labels(key.scheme.name).observe(now - req.enqueued)
        unit.started = time.monotonic()
        self._observe_depth()
        return unit

    def _unit_size(self, key: _Key) -> int:
        """Items in the next unit of queue ``key``: ``unit_items``, or on the CPU what the measured rate
        verifies in ``unit_target_ms`` (``_FIRST_TIMED_UNIT`` until a rate is known)."""
        if not self._timed_units:
            return self.unit_items
        rate = self._rates.get(key)
        if rate is None:
            return min(self.unit_items, _FIRST_TIMED_UNIT)
        # The rate is the queue's whole throughput; up to max_inflight units share it.
        share = rate / max(1, self.config.max_inflight)
        return max(_MIN_TIMED_UNIT, min(self.unit_items, int(share * self.config.unit_target_ms / 1e3)))

    def _can_meet(self, req: _Request, now: float) -> bool:
        rate = self._rates.get(req.key)
        if not self.config.refuse_late or req.deadline is None or rate is None:
            return True
        return req.remaining / rate <= _LATE_MARGIN * (req.deadline - now)

    def _late_message(self, req: _Request, now: float) -> str:
        rate = self._rates[req.key]
        return (
            f"deadline cannot be met: {req.remaining} items left at the measured {rate:.0f} items/s need "
            f"{req.remaining / rate:.3f} s, {max(0.0, req.deadline - now) if req.deadline else 0.0:.3f} s remain"
        )

    async def _run(self) -> None:
        while True:
            ready = self._ready()
            if ready is None or isinstance(ready, float):
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), None if ready is None else ready)
                continue
            unit = self._take(*ready)
            if not unit.pieces:
                continue
            self._running += 1
            task = asyncio.get_running_loop().create_task(self._dispatch(unit))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ dispatch

    async def _dispatch(self, unit: _Unit) -> None:
        try:
            await self._compute(unit)
        except BaseException as exc:  # never leave a caller hanging
            error = exc if isinstance(exc, VerifierError) else VerifierError(f"unit failed: {exc!r}")
            for req, _, _ in unit.pieces:
                self._fail(req, error, "failed")
            del exc, error
            raise
        finally:
            for req, _, _ in unit.pieces:
                req.running -= 1
            self._running -= 1
            self._wakeup.set()

    async def _compute(self, unit: _Unit) -> None:
        scheme, policy = unit.key.scheme, unit.key.policy
        first = unit.pieces[0][0]
        merged = type(first.batch).concat(
            [r.batch if (a, b) == (0, r.items) else r.batch.slice(a, b) for r, a, b in unit.pieces]
        )
        due = min(r.order[0] for r, _, _ in unit.pieces)
        # Carried by asyncio.to_thread into the engine's thread, and read by the CPU backends' pool.
        work_order.set(WorkOrder(0 if unit.priority is Priority.CONSENSUS else 1, due))
        start = time.monotonic()
        try:
            result = await asyncio.to_thread(self.engine.verify_checked, scheme, merged, policy)
        except VerifierError as exc:
            for req, _, _ in unit.pieces:
                self._fail(req, exc, "failed")
            return
        end = time.monotonic()
        seconds = end - start
        self._measure(unit.key, len(merged), start, end)
        if self.metrics is not None:
            self.metrics.batch_items.labels(scheme.name).observe(len(merged))
            self.metrics.compute_seconds.labels(scheme.name, result.backend).observe(seconds)
        offset = 0
        for req, a, b in unit.pieces:
            if req.finished:
                self._unclaimed(unit, req, b - a)
            req.parts.append((a, result.verdicts[offset : offset + (b - a)]))
            offset += b - a
            if result.backend not in req.backends:
                req.backends.append(result.backend)
            if req.next == req.items and req.running == 1 and not req.finished:
                req.future.set_result(self._answer(req))

    def _unclaimed(self, unit: _Unit, req: _Request, items: int) -> None:
        """Verified for a caller who has gone: counted by whether the unit started before it left."""
        if self.metrics is None:
            return
        after = req.left is not None and req.left < unit.started
        self.metrics.items_unclaimed.labels(
            unit.key.scheme.name, "after_caller_left" if after else "before_caller_left"
        ).inc(items)

    def _measure(self, key: _Key, items: int, start: float, end: float) -> None:
        """The queue's throughput, all its units together: a unit's items over the time since the queue's
        previous unit finished (or since it started, if later), so units sharing the device are not each
        taken for the whole rate; never more than the slots times the unit's own rate. Large units only:
        small ones say more about overheads (and, on a GPU, run on the CPU below the crossover)."""
        smallest = _MIN_TIMED_UNIT if self._timed_units else min(self.unit_items // 2, _MIN_MEASURED_UNIT)
        previous = self._last_done.get(key, start)
        self._last_done[key] = max(previous, end)
        slots = self.config.max_inflight + self.config.consensus_slots
        span = max(end - max(start, previous), (end - start) / max(1, slots))
        if span <= 0 or items < smallest:
            return
        rate = items / span
        old = self._rates.get(key)
        weight = _RATE_WEIGHT * min(1.0, items / _MIN_MEASURED_UNIT)  # small units move it less
        self._rates[key] = rate if old is None else (1 - weight) * old + weight * rate

    @staticmethod
    def _answer(req: _Request) -> VerifyResult:
        parts = sorted(req.parts, key=lambda p: p[0])
        verdicts = parts[0][1] if len(parts) == 1 else np.concatenate([v for _, v in parts])
        return VerifyResult(verdicts, "+".join(req.backends))
