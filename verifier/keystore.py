"""The decoded-key store of registered validator sets: rows, lock, each set's key-to-row map, eviction.

A scheme with ``key_store`` (Ed25519) has kernels that read public keys decoded once into a store of
rows (kernels/ec/key_store.cuh). ``KeyStore`` hands those rows to registered sets, writes each set's keys
into every backend the engine may run its batches on (the device and its CPU fallback, so a row means the
same on each), maps a batch's keys to their rows, and gives a set's rows back when it leaves the
registry. Rows are written only under the write side of ``StoreLock`` and read (by kernels) under its
read side: no kernel ever sees a row half written. A row freed and handed to another set is caught by the
kernel anyway: it uses a row only when the row holds the item's very key, so a stale or wrong row never
changes a verdict.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from verifier.batch import NO_KEY_SLOT

__all__ = ["KeyStore", "StoreLock"]

# (slots, keys): write decoded keys into rows ``slots`` of every store; called under the write lock.
Writer = Callable[[npt.NDArray[np.uint32], npt.NDArray[np.uint8]], None]


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


class KeyStore:
    """``rows`` rows of decoded keys, written through ``write``, held by registered sets (by owner id:
    the set's hash). A set that does not fit gets ``NO_KEY_SLOT`` for its keys: their items decode the
    keys per item, as without a store, with the same verdicts."""

    def __init__(self, rows: int, write: Writer) -> None:
        self.rows = rows
        self._write = write
        self._free = list(range(rows - 1, -1, -1))  # pop() hands out low rows first
        self._owners: dict[bytes, tuple[npt.NDArray[np.uint32], dict[bytes, int]]] = {}
        self._lock = threading.Lock()  # the free list and the owners
        self._registering = threading.Lock()  # one registration at a time: a set is stored once
        self.lock = StoreLock()

    @property
    def free(self) -> int:
        with self._lock:
            return len(self._free)

    def __contains__(self, owner: bytes) -> bool:
        with self._lock:
            return owner in self._owners

    def register(self, owner: bytes, public_keys: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
        """Rows for ``public_keys`` (k, 32) of set ``owner``, decoded into every store (once: a set already
        held keeps its rows). Waits for the batches being verified to finish, and holds new ones back while
        it writes (registration is rare)."""
        with self._registering:
            with self._lock:
                held = self._owners.get(owner)
                if held is not None:
                    return held[0]
                take = min(len(public_keys), len(self._free))
                got = [self._free.pop() for _ in range(take)]
            slots = np.array(got + [NO_KEY_SLOT] * (len(public_keys) - take), dtype=np.uint32)
            keep = slots != NO_KEY_SLOT
            if keep.any():
                with self.lock.writing():
                    self._write(slots[keep], np.ascontiguousarray(public_keys)[keep])
            by_key = {bytes(k): int(s) for k, s in zip(np.asarray(public_keys), slots, strict=True)}
            with self._lock:
                self._owners[owner] = (slots, by_key)
            return slots

    def release(self, owner: bytes) -> None:
        """Give ``owner``'s rows back (its set left the registry); releasing twice is harmless. Their
        contents stay until rewritten, and a batch still naming them is safe (see the module)."""
        with self._lock:
            held = self._owners.pop(owner, None)
            if held is not None:
                self._free.extend(int(s) for s in held[0] if s != NO_KEY_SLOT)

    def slots(self, owner: bytes, public_keys: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32] | None:
        """The row of each key (``NO_KEY_SLOT`` for a key ``owner`` did not register), or None when
        ``owner`` holds no rows."""
        with self._lock:
            held = self._owners.get(owner)
        if held is None:
            return None
        by_key = held[1]
        return np.array([by_key.get(pk.tobytes(), NO_KEY_SLOT) for pk in public_keys], dtype=np.uint32)
