"""Dynamic batching across callers (after NVIDIA Triton's dynamic batcher).

Requests are queued per (kind, policy). The first item of a queue waits at most ``max_queue_delay_us``
for others to join; then up to ``max_batch_items`` items (consensus-critical first, then bulk, each in
arrival order) are merged into one device batch, run on the engine off the event loop, and the verdicts
are cut back into each caller's answer, in its own order. A request larger than ``max_batch_items`` goes
alone (the engine chunks it). Up to ``max_inflight`` device batches run at once, so the next batch is
gathered while one computes.

The queue is bounded in items and in bytes: a request that does not fit is refused at once
(``LimitExceededError``, RESOURCE_EXHAUSTED), never buffered without bound. Work whose deadline passed
while queued is dropped before it reaches a device (``DeadlineExceededError``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import itertools
import logging
import time
from collections import deque
from typing import Any

import numpy as np

from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.engine import Engine
from verifier.errors import DeadlineExceededError, LimitExceededError, VerifierError
from verifier.result import VerifyResult
from verifier.verdict import Policy

__all__ = ["Priority", "Scheduler", "SchedulerConfig"]

_log = logging.getLogger(__name__)


class Priority(enum.IntEnum):
    BULK = 1
    CONSENSUS = 2


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


@dataclasses.dataclass(eq=False)
class _Entry:
    kind: str
    policy: Policy | None
    batch: Any
    priority: Priority
    deadline: float | None
    enqueued: float
    future: asyncio.Future[VerifyResult]

    @property
    def items(self) -> int:
        return len(self.batch)


_Key = tuple[str, str]


class Scheduler:
    def __init__(self, engine: Engine, config: SchedulerConfig | None = None, metrics: Any = None) -> None:
        self.engine = engine
        self.config = config or SchedulerConfig()
        self.metrics = metrics
        # key -> priority -> FIFO of entries
        self._queues: dict[_Key, dict[Priority, deque[_Entry]]] = {}
        self._queued_items = 0
        self._queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._inflight = asyncio.Semaphore(self.config.max_inflight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._seq = itertools.count()

    # ------------------------------------------------------------------ public

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="verifier-scheduler")

    async def close(self) -> None:
        """Finish everything queued and in flight, then stop the worker."""
        while self._queued_items or self._tasks:
            self._wakeup.set()
            await asyncio.sleep(0.001)
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None

    @property
    def queued_items(self) -> int:
        return self._queued_items

    async def verify_ed25519(
        self, batch: Ed25519Batch, policy: Policy, *, priority: Priority = Priority.BULK, timeout: float | None = None
    ) -> VerifyResult:
        self.engine.check_ed25519(batch, policy)
        return await self._submit("ed25519", policy, batch, priority, timeout)

    async def verify_merkle(
        self, batch: MerkleBatch, *, priority: Priority = Priority.BULK, timeout: float | None = None
    ) -> VerifyResult:
        self.engine.check_limits(len(batch))
        return await self._submit("merkle", None, batch, priority, timeout)

    # ------------------------------------------------------------------ queueing

    async def _submit(
        self, kind: str, policy: Policy | None, batch: Any, priority: Priority, timeout: float | None
    ) -> VerifyResult:
        if len(batch) == 0:
            return VerifyResult(np.zeros(0, np.uint8), self.engine.backend.name)
        cfg = self.config
        n, nbytes = len(batch), batch.nbytes
        if self._queued_items + n > cfg.queue_capacity_items:
            raise LimitExceededError(
                f"queue full: {self._queued_items} items queued, {n} more would pass the capacity of "
                f"{cfg.queue_capacity_items} items"
            )
        if self._queued_bytes + nbytes > cfg.queue_capacity_bytes:
            raise LimitExceededError(
                f"queue full: {self._queued_bytes} bytes queued, {nbytes} more would pass the capacity of "
                f"{cfg.queue_capacity_bytes} bytes"
            )
        now = time.monotonic()
        entry = _Entry(
            kind=kind,
            policy=policy,
            batch=batch,
            priority=priority,
            deadline=None if timeout is None else now + timeout,
            enqueued=now,
            future=asyncio.get_running_loop().create_future(),
        )
        key = self._key(kind, policy, batch)
        self._queues.setdefault(key, {Priority.CONSENSUS: deque(), Priority.BULK: deque()})[priority].append(entry)
        self._queued_items += n
        self._queued_bytes += nbytes
        self._observe_depth()
        self._wakeup.set()
        return await entry.future

    @staticmethod
    def _key(kind: str, policy: Policy | None, batch: Any) -> _Key:
        if kind == "merkle":
            return (kind, "hash" if batch.leaf_hashes is not None else "data")  # only like forms merge
        assert policy is not None
        return (kind, policy.value)

    def _observe_depth(self) -> None:
        if self.metrics is not None:
            self.metrics.queue_depth.set(self._queued_items)

    def _next_key(self) -> _Key | None:
        """The queue whose head should go next: any consensus work first, then the oldest bulk head."""
        best: tuple[int, float, _Key] | None = None
        for key, queues in self._queues.items():
            for prio in (Priority.CONSENSUS, Priority.BULK):
                if queues[prio]:
                    rank = (0 if prio is Priority.CONSENSUS else 1, queues[prio][0].enqueued, key)
                    if best is None or rank[:2] < best[:2]:
                        best = rank
                    break
        return None if best is None else best[2]

    def _take(self, key: _Key) -> list[_Entry]:
        """Pop entries for one device batch: consensus first, up to max_batch_items (at least one)."""
        queues = self._queues[key]
        taken: list[_Entry] = []
        total = 0
        for prio in (Priority.CONSENSUS, Priority.BULK):
            q = queues[prio]
            while q and (not taken or total + q[0].items <= self.config.max_batch_items):
                entry = q.popleft()
                taken.append(entry)
                total += entry.items
        for entry in taken:
            self._queued_items -= entry.items
            self._queued_bytes -= entry.batch.nbytes
        self._observe_depth()
        return taken

    def _items_waiting(self, key: _Key) -> int:
        return sum(e.items for q in self._queues[key].values() for e in q)

    async def _run(self) -> None:
        while True:
            # Hold a device slot before choosing work, so that what is chosen is the most urgent work
            # at the moment a device frees up (and queued work stays counted, and refusable, until then).
            await self._inflight.acquire()
            try:
                key = await self._gather()
                entries = self._take(key)
            except BaseException:
                self._inflight.release()
                raise
            task = asyncio.get_running_loop().create_task(self._dispatch(key, entries))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _gather(self) -> _Key:
        """Wait for work, then for others to join the head's batch (bulk only) up to the queue delay."""
        delay = self.config.max_queue_delay_us / 1e6
        while True:
            key = self._next_key()
            if key is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            queues = self._queues[key]
            head = (queues[Priority.CONSENSUS] or queues[Priority.BULK])[0]
            if head.priority is Priority.CONSENSUS or self._items_waiting(key) >= self.config.max_batch_items:
                return key
            remaining = head.enqueued + delay - time.monotonic()
            if remaining <= 0:
                return key
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                pass

    # ------------------------------------------------------------------ dispatch

    async def _dispatch(self, key: _Key, entries: list[_Entry]) -> None:
        try:
            now = time.monotonic()
            live = []
            for entry in entries:
                if entry.future.done():  # the caller went away (cancelled)
                    continue
                if entry.deadline is not None and now >= entry.deadline:
                    entry.future.set_exception(
                        DeadlineExceededError(f"deadline passed after {now - entry.enqueued:.3f} s in the queue")
                    )
                    continue
                live.append(entry)
                if self.metrics is not None:
                    self.metrics.queue_wait.labels(key[0]).observe(now - entry.enqueued)
            if not live:
                return
            kind, policy = live[0].kind, live[0].policy
            merged = type(live[0].batch).concat([e.batch for e in live])
            start = time.perf_counter()
            try:
                if kind == "ed25519":
                    assert policy is not None
                    result = await asyncio.to_thread(self.engine.verify_ed25519, merged, policy)
                else:
                    result = await asyncio.to_thread(self.engine.verify_merkle, merged)
            except VerifierError as exc:
                for entry in live:
                    if not entry.future.done():
                        entry.future.set_exception(exc)
                return
            if self.metrics is not None:
                self.metrics.batch_items.labels(kind).observe(len(merged))
                self.metrics.compute_seconds.labels(kind, result.backend).observe(time.perf_counter() - start)
            offset = 0
            for entry in live:
                part = VerifyResult(result.verdicts[offset : offset + entry.items], result.backend)
                offset += entry.items
                if not entry.future.done():
                    entry.future.set_result(part)
        except BaseException as exc:  # never leave a caller hanging
            for entry in entries:
                if not entry.future.done():
                    entry.future.set_exception(exc if isinstance(exc, Exception) else VerifierError(repr(exc)))
            raise
        finally:
            self._inflight.release()
