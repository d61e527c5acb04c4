"""Rows of the backends' decoded-key stores, handed out to registered validator sets.

The engine owns one ``KeySlots`` and writes the same rows into every backend it may run a batch on (the
device and its CPU fallback), so an item's ``key_slots`` value means the same row on each. Rows are
written only under the write side of ``StoreLock`` and read (by kernels) under its read side: no kernel
ever sees a row half written. A row freed and handed to another set is caught by the kernel anyway: it
uses a row only when the row holds the item's very key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from verifier.batch import NO_KEY_SLOT

__all__ = ["KeySlots", "StoreLock"]


class KeySlots:
    """A free list of ``rows`` rows. ``allocate(k)`` gives k rows, or ``NO_KEY_SLOT`` for those that do
    not fit (their items then decode their keys, as without a store)."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self._free = list(range(rows - 1, -1, -1))  # pop() hands out low rows first
        self._in_use: set[int] = set()
        self._lock = threading.Lock()

    def allocate(self, k: int) -> npt.NDArray[np.uint32]:
        with self._lock:
            take = min(k, len(self._free))
            got = [self._free.pop() for _ in range(take)]
            self._in_use.update(got)
        return np.array(got + [NO_KEY_SLOT] * (k - take), dtype=np.uint32)

    def release(self, slots: npt.NDArray[np.uint32]) -> None:
        """Give rows back; a row already free is ignored, so releasing twice is harmless."""
        with self._lock:
            for s in slots:
                row = int(s)
                if row in self._in_use:
                    self._in_use.discard(row)
                    self._free.append(row)

    @property
    def free(self) -> int:
        with self._lock:
            return len(self._free)


class StoreLock:
    """Many readers (batches being verified) or one writer (rows being stored), phase-fair: a waiting
    writer holds back readers that arrive after it, and when a writer finishes, every reader that was
    waiting goes before the next writer. So registering never waits behind an endless stream of batches,
    and batches never wait behind an endless stream of registrations."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._readers_waiting = 0
        self._admitted = 0  # readers let in ahead of the next writer when the last one finished

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._readers_waiting += 1
            while self._writing or (self._writers_waiting and not self._admitted):
                self._cond.wait()
            self._readers_waiting -= 1
            if self._admitted:
                self._admitted -= 1
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers or self._admitted:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._admitted = self._readers_waiting
                self._cond.notify_all()
