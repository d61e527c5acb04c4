"""A thread pool and a lock that serve the most urgent work first: consensus before bulk, then the
earliest deadline.

The CPU backends cut a batch into short tasks (tens of milliseconds each) on this pool. The scheduler
sets ``work_order`` before it hands a unit to the engine (``asyncio.to_thread`` carries the context
variable into the worker thread), and ``submit`` reads it, so a consensus unit's tasks go ahead of the
queued tasks of a bulk unit already running: a quorum certificate waits for at most the tasks in
progress, never for a whole bulk batch. Outside the scheduler (the Python API, the CLI, the self-test)
every task has the same order and the pool is FIFO, like ``ThreadPoolExecutor``.

The CUDA kernel runners hold one set of buffers each and take calls one at a time: ``PriorityLock``
hands the runner to the most urgent waiting call, so a consensus unit waits for the unit running on the
device, not for the bulk units queued behind it.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import math
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, NamedTuple

__all__ = ["PriorityLock", "PriorityPool", "WorkOrder", "work_order"]


class WorkOrder(NamedTuple):
    """Sorts ascending: ``rank`` 0 (consensus) before 1 (bulk), then the earlier ``due`` time."""

    rank: int = 1
    due: float = math.inf


_NO_ORDER = WorkOrder()  # a NamedTuple: immutable, so one default is safe to share
work_order: contextvars.ContextVar[WorkOrder] = contextvars.ContextVar(
    "verifier_work_order", default=_NO_ORDER
)

_Task = tuple[WorkOrder, int, "Future[Any]", Callable[..., Any], tuple[Any, ...]]


class PriorityPool:
    """``workers`` threads taking tasks in ``(work_order, submission)`` order; ``submit`` as in
    ``concurrent.futures.ThreadPoolExecutor`` (the subset the backends use)."""

    def __init__(self, workers: int, thread_name_prefix: str = "verifier-pool") -> None:
        self._heap: list[_Task] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{thread_name_prefix}_{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            heapq.heappush(self._heap, (work_order.get(), next(self._seq), future, fn, args))
            self._cond.notify()
        return future

    def queued(self) -> int:
        """Tasks waiting for a thread (not counting those running)."""
        with self._cond:
            return len(self._heap)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closed:
                    self._cond.wait()
                if not self._heap:
                    return  # closed and drained
                _, _, future, fn, args = heapq.heappop(self._heap)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiter, as ThreadPoolExecutor does
                future.set_exception(exc)
                del exc  # no frame of this loop keeps the exception (and what it references) alive
            else:
                future.set_result(result)
                del result

    def shutdown(self, wait: bool = True) -> None:
        """Run what was submitted, then stop the threads."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            for t in self._threads:
                if t is not threading.current_thread():
                    t.join()


class PriorityLock:
    """A non-reentrant lock granted to the waiter with the smallest ``(work_order, arrival)``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._waiters: list[tuple[WorkOrder, int]] = []
        self._seq = itertools.count()

    def acquire(self) -> None:
        me = (work_order.get(), next(self._seq))
        with self._cond:
            heapq.heappush(self._waiters, me)
            while self._held or self._waiters[0] != me:
                self._cond.wait()
            heapq.heappop(self._waiters)
            self._held = True

    def release(self) -> None:
        with self._cond:
            if not self._held:
                raise RuntimeError("release of an unheld PriorityLock")
            self._held = False
            self._cond.notify_all()

    def __enter__(self) -> PriorityLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
