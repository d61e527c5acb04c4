"""The CPU backends' pool: consensus tasks first, then the earliest due, then FIFO."""

from __future__ import annotations

import contextvars
import threading
import time

import nacl.signing
import pytest

from verifier.backends.cpu import CpuBackend
from verifier.backends.pool import PriorityLock, PriorityPool, WorkOrder, work_order
from verifier.batch import Ed25519Batch
from verifier.schemes import ED25519
from verifier.verdict import Policy


def _submit_as(pool: PriorityPool, order: WorkOrder, fn, *args):  # type: ignore[no-untyped-def]
    ctx = contextvars.copy_context()
    ctx.run(work_order.set, order)
    return ctx.run(pool.submit, fn, *args)


def test_tasks_run_consensus_first_then_earliest_due_then_in_submission_order() -> None:
    pool = PriorityPool(1)
    gate = threading.Event()
    ran: list[str] = []
    blocker = pool.submit(gate.wait, 5)  # the one thread is busy while the others queue
    time.sleep(0.05)
    futures = [
        _submit_as(pool, order, ran.append, name)
        for name, order in (
            ("bulk-late", WorkOrder(1, 20.0)),
            ("bulk-a", WorkOrder()),
            ("bulk-soon", WorkOrder(1, 5.0)),
            ("consensus", WorkOrder(0, 30.0)),
            ("bulk-b", WorkOrder()),
        )
    ]
    assert pool.queued() == 5
    gate.set()
    for f in [blocker, *futures]:
        f.result(5)
    pool.shutdown()
    assert ran == ["consensus", "bulk-soon", "bulk-late", "bulk-a", "bulk-b"]


def test_an_exception_reaches_the_waiter_and_the_pool_goes_on() -> None:
    pool = PriorityPool(2)
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(5)
    assert pool.submit(lambda: 42).result(5) == 42
    pool.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(lambda: None)


def test_a_consensus_batch_overtakes_a_running_bulk_batch_on_the_cpu() -> None:
    backend = CpuBackend(workers=1, zip215=False)
    key = nacl.signing.SigningKey(b"\x05" * 32)
    msgs = [b"m%d" % i for i in range(512)]
    sig = [key.sign(m).signature for m in msgs]
    small = Ed25519Batch.from_items([bytes(key.verify_key)] * 1024, sig * 2, msgs * 2)
    bulk = Ed25519Batch.concat([small] * 16)  # 32 tasks of 512 items on the one thread
    finished: dict[str, float] = {}

    def run(name: str, batch: Ed25519Batch, order: WorkOrder) -> None:
        work_order.set(order)
        verdicts = backend.run(ED25519, batch, Policy.LIBSODIUM)
        assert (verdicts == 1).all()
        finished[name] = time.monotonic()

    bulk_thread = threading.Thread(
        target=contextvars.copy_context().run, args=(run, "bulk", bulk, WorkOrder())
    )
    bulk_thread.start()
    give_up = time.monotonic() + 30
    while (
        backend._pool.queued() < 8 and time.monotonic() < give_up
    ):  # bulk tasks queued behind the running one
        time.sleep(0.001)
    assert backend._pool.queued() >= 8
    contextvars.copy_context().run(run, "consensus", small, WorkOrder(0))
    bulk_thread.join(60)
    backend.close()
    assert finished["consensus"] < finished["bulk"]


def test_the_lock_goes_to_the_most_urgent_waiter() -> None:
    lock = PriorityLock()
    got: list[str] = []
    lock.acquire()  # held by the "running unit" while three calls line up

    def wait_for_lock(name: str, order: WorkOrder) -> None:
        work_order.set(order)
        with lock:
            got.append(name)

    threads = []
    for name, order in (
        ("bulk-a", WorkOrder()),
        ("bulk-soon", WorkOrder(1, 1.0)),
        ("consensus", WorkOrder(0)),
    ):
        t = threading.Thread(target=contextvars.copy_context().run, args=(wait_for_lock, name, order))
        t.start()
        threads.append(t)
        time.sleep(0.05)  # each is waiting before the next comes
    lock.release()
    for t in threads:
        t.join(5)
    assert got == ["consensus", "bulk-soon", "bulk-a"]
    with pytest.raises(RuntimeError, match="unheld"):
        lock.release()
