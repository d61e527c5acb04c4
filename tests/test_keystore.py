"""verifier.keystore: the phase-fair store lock, and the key store's rows, per-set maps and eviction."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from verifier.batch import NO_KEY_SLOT
from verifier.keystore import KeyStore, StoreLock


def _started(target: Callable[[], object]) -> threading.Thread:
    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t


def _wait(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.001)


def test_readers_share_and_a_writer_waits_for_them() -> None:
    lock = StoreLock()
    inside: list[str] = []
    release = threading.Event()

    def reader(name: str) -> Callable[[], None]:
        def run() -> None:
            with lock.reading():
                inside.append(name)
                release.wait(10)

        return run

    readers = [_started(reader(f"r{i}")) for i in range(3)]
    _wait(lambda: len(inside) == 3, "three readers inside at once")
    wrote = threading.Event()

    def writer() -> None:
        with lock.writing():
            wrote.set()

    w = _started(writer)
    time.sleep(0.05)
    assert not wrote.is_set(), "a writer went in while readers held the lock"
    release.set()
    for t in (*readers, w):
        t.join(10)
    assert wrote.is_set()


def test_a_waiting_writer_holds_back_later_readers_and_then_lets_the_waiting_ones_in_first() -> None:
    """Phase-fair: a writer waiting behind a reader goes before readers that came after it; when it is
    done, those readers go before the next writer."""
    lock = StoreLock()
    order: list[str] = []
    first_in, release_first = threading.Event(), threading.Event()

    def first_reader() -> None:
        with lock.reading():
            first_in.set()
            release_first.wait(10)

    def writer(name: str, hold: float = 0.0) -> Callable[[], None]:
        def run() -> None:
            with lock.writing():
                order.append(name)
                time.sleep(hold)

        return run

    def late_reader() -> None:
        with lock.reading():
            order.append("late reader")

    r0 = _started(first_reader)
    first_in.wait(10)
    w1 = _started(writer("writer 1", hold=0.05))
    time.sleep(0.05)  # writer 1 is waiting now
    r1 = _started(late_reader)
    time.sleep(0.05)
    assert order == [], "the late reader went ahead of the waiting writer"
    release_first.set()
    _wait(lambda: order[:1] == ["writer 1"], "writer 1")
    w2 = _started(writer("writer 2"))  # arrives while writer 1 holds the lock, after the late reader
    for t in (r0, w1, r1, w2):
        t.join(10)
    assert order == ["writer 1", "late reader", "writer 2"], order


def _keys(n: int, tag: int = 0) -> npt.NDArray[np.uint8]:
    return np.array([[tag, i, *([7] * 30)] for i in range(n)], dtype=np.uint8)


class _Recorder:
    """A ``KeyStore`` writer that records what it was asked to write."""

    def __init__(self) -> None:
        self.writes: list[tuple[list[int], list[bytes]]] = []

    def __call__(self, slots: npt.NDArray[np.uint32], keys: npt.NDArray[np.uint8]) -> None:
        self.writes.append((slots.tolist(), [k.tobytes() for k in keys]))


def test_rows_per_set_overflow_slots_and_release() -> None:
    write = _Recorder()
    store = KeyStore(10, write)
    a = store.register(b"A", _keys(6, tag=1))
    b = store.register(b"B", _keys(6, tag=2))
    assert a.tolist() == list(range(6)) and b.tolist() == [6, 7, 8, 9, NO_KEY_SLOT, NO_KEY_SLOT]
    assert store.free == 0 and b"A" in store and b"C" not in store
    # Only the rows that fit are written; a set already held keeps its rows and is not written again.
    assert [w[0] for w in write.writes] == [list(range(6)), [6, 7, 8, 9]]
    assert store.register(b"A", _keys(6, tag=1)).tolist() == a.tolist() and len(write.writes) == 2
    # A batch's keys map to the rows of the set it names; keys the set lacks, and unknown sets, get none.
    batch_keys = np.concatenate([_keys(6, tag=1)[[4, 0]], _keys(1, tag=9)])
    assert store.slots(b"A", batch_keys).tolist() == [4, 0, NO_KEY_SLOT]  # type: ignore[union-attr]
    assert store.slots(b"C", batch_keys) is None
    store.release(b"A")
    store.release(b"A")  # twice: harmless
    assert store.free == 6 and store.slots(b"A", batch_keys) is None
    c = store.register(b"C", _keys(8, tag=3))
    assert sorted(c[:6].tolist()) == list(range(6)) and c[6:].tolist() == [NO_KEY_SLOT] * 2
    store.release(b"B")  # B's overflowed keys held no rows: only its 4 rows come back
    assert store.free == 4


def test_one_set_registered_from_many_threads_is_written_once() -> None:
    write = _Recorder()
    store = KeyStore(100, write)
    got: list[list[int]] = []
    threads = [_started(lambda: got.append(store.register(b"S", _keys(5)).tolist())) for _ in range(8)]
    for t in threads:
        t.join(10)
    assert len(write.writes) == 1 and all(g == got[0] for g in got) and len(got) == 8
    assert store.free == 95


def test_rows_are_written_under_the_write_lock() -> None:
    """A write waits for batches reading the store, so no kernel sees a row half written."""
    write = _Recorder()
    store = KeyStore(4, write)
    reading, release = threading.Event(), threading.Event()

    def batch() -> None:
        with store.lock.reading():
            reading.set()
            release.wait(10)

    r = _started(batch)
    reading.wait(10)
    w = _started(lambda: store.register(b"S", _keys(2)))
    time.sleep(0.05)
    assert write.writes == []
    release.set()
    for t in (r, w):
        t.join(10)
    assert [slots for slots, _ in write.writes] == [[0, 1]]
