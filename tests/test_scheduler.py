"""The dynamic batcher: merging across callers, priorities, bounded queues, deadlines."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import nacl.signing
import numpy as np
import numpy.typing as npt
import pytest

from verifier.backends.cpu import CpuBackend
from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.engine import Engine
from verifier.errors import DeadlineExceededError, LimitExceededError
from verifier.metrics import Metrics
from verifier.scheduler import Priority, Scheduler, SchedulerConfig
from verifier.schemes import ED25519, MERKLE, Scheme
from verifier.verdict import Policy, Verdict

SK = nacl.signing.SigningKey(b"\x33" * 32)
PK = bytes(SK.verify_key)


def _batch(n: int, bad: tuple[int, ...] = (), tag: int = 0) -> Ed25519Batch:
    msgs = [bytes([tag]) + os.urandom(20) for _ in range(n)]
    sigs = [SK.sign(m).signature for m in msgs]
    for i in bad:
        msgs[i] = msgs[i] + b"x"
    return Ed25519Batch.from_items([PK] * n, sigs, msgs)


class RecordingCpu(CpuBackend):
    """Records each device batch (size and first message byte, which tags its caller); can be held."""

    def __init__(self) -> None:
        super().__init__(workers=1)
        self.batches: list[tuple[int, list[int]]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        if scheme is not ED25519:  # only signature batches are held (slowed)
            return super().run(scheme, batch, policy)
        self.entered.set()
        self.gate.wait(10)
        tags = [int(batch.messages[int(o)]) for o in batch.message_offsets[:-1]] if len(batch) else []
        self.batches.append((len(batch), tags))
        return super().run(scheme, batch, policy)


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def _one_unit_at_a_time(backend: CpuBackend, metrics: Metrics | None = None) -> Scheduler:
    """A started scheduler with one slot (none kept for consensus), units of 4 items and no gathering
    delay, so the order of units is the order of choice. Call inside the event loop."""
    config = SchedulerConfig(max_queue_delay_us=0, max_inflight=1, consensus_slots=0, max_batch_items=4)
    sched = Scheduler(Engine(backend), config, metrics)
    sched.start()
    return sched


def test_concurrent_callers_are_merged_and_answered_in_their_own_order() -> None:
    backend = RecordingCpu()

    async def main() -> None:
        sched = Scheduler(Engine(backend), SchedulerConfig(max_queue_delay_us=50_000, max_batch_items=1000))
        sched.start()
        bads = [(i % 5,) for i in range(20)]
        results = await asyncio.gather(
            *(sched.verify(ED25519, _batch(5, bads[i], tag=i), Policy.LIBSODIUM) for i in range(20))
        )
        for i, result in enumerate(results):
            assert np.flatnonzero(~result.valid).tolist() == [i % 5]
            assert result.verdict(i % 5) is Verdict.EQUATION_FAILED
        await sched.close()

    _run(main())
    assert sum(n for n, _ in backend.batches) == 100
    assert len(backend.batches) < 20, f"20 callers should share device batches, got {backend.batches}"


def test_consensus_goes_ahead_of_bulk() -> None:
    backend = RecordingCpu()

    async def main() -> None:
        sched = _one_unit_at_a_time(backend)  # no reserved slot: consensus must win the one slot as it frees
        backend.gate.clear()
        first = asyncio.ensure_future(sched.verify(ED25519, _batch(4, tag=0), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.entered.wait, 5)  # the device is busy with batch 0
        bulk = [
            asyncio.ensure_future(sched.verify(ED25519, _batch(4, tag=1 + i), Policy.LIBSODIUM))
            for i in range(3)
        ]
        await asyncio.sleep(0.01)
        urgent = asyncio.ensure_future(
            sched.verify(ED25519, _batch(4, tag=9), Policy.LIBSODIUM, priority=Priority.CONSENSUS)
        )
        await asyncio.sleep(0.01)
        backend.gate.set()
        await asyncio.gather(first, urgent, *bulk)
        await sched.close()

    _run(main())
    order = [tags[0] for _, tags in backend.batches]
    assert order[0] == 0 and order[1] == 9, order


def test_full_queue_refuses_at_once_naming_the_numbers() -> None:
    backend = RecordingCpu()

    async def main() -> None:
        sched = Scheduler(
            Engine(backend), SchedulerConfig(max_queue_delay_us=0, max_inflight=1, queue_capacity_items=100)
        )
        sched.start()
        backend.gate.clear()
        busy = asyncio.ensure_future(sched.verify(ED25519, _batch(10), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.entered.wait, 5)
        queued = asyncio.ensure_future(sched.verify(ED25519, _batch(80), Policy.LIBSODIUM))
        await asyncio.sleep(0.01)
        assert sched.queued_items == 80
        with pytest.raises(
            LimitExceededError, match="queue full: 80 items queued, 30 more would pass the capacity of 100"
        ):
            await sched.verify(ED25519, _batch(30), Policy.LIBSODIUM)
        backend.gate.set()
        assert (await busy).all_valid and (await queued).all_valid
        await sched.close()

    _run(main())


def test_work_past_its_deadline_never_reaches_the_device() -> None:
    backend = RecordingCpu()

    async def main() -> None:
        sched = Scheduler(Engine(backend), SchedulerConfig(max_queue_delay_us=0, max_inflight=1))
        sched.start()
        backend.gate.clear()
        busy = asyncio.ensure_future(sched.verify(ED25519, _batch(3, tag=1), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.entered.wait, 5)
        late = asyncio.ensure_future(sched.verify(ED25519, _batch(7, tag=2), Policy.LIBSODIUM, timeout=0.02))
        await asyncio.sleep(0.1)
        backend.gate.set()
        assert (await busy).all_valid
        with pytest.raises(DeadlineExceededError, match="deadline passed"):
            await late
        await sched.close()

    _run(main())
    assert [tags for _, tags in backend.batches] == [[1, 1, 1]]


def test_a_request_larger_than_a_unit_is_cut_into_units_and_merkle_too() -> None:
    backend = RecordingCpu()

    async def main() -> None:
        sched = Scheduler(Engine(backend), SchedulerConfig(max_batch_items=8, max_queue_delay_us=1000))
        sched.start()
        big, small = await asyncio.gather(
            sched.verify(ED25519, _batch(20, bad=(19,)), Policy.LIBSODIUM),
            sched.verify(ED25519, _batch(3), Policy.LIBSODIUM),
        )
        assert np.flatnonzero(~big.valid).tolist() == [19] and small.all_valid
        proofs = MerkleBatch.from_items([0, 5], [1, 3], [[], []], b"r" * 32, leaf_hashes=[b"h" * 32] * 2)
        merkle = await sched.verify(MERKLE, proofs)
        assert [Verdict(int(v)) for v in merkle.verdicts] == [Verdict.ROOT_MISMATCH, Verdict.MALFORMED_PROOF]
        await sched.close()

    _run(main())
    assert all(n <= 8 for n, _ in backend.batches), backend.batches
    assert sum(n for n, _ in backend.batches) == 23


class GatedCpu(RecordingCpu):
    """Holds a device batch while its first tag is in ``hold`` (until ``release``); others run at once."""

    def __init__(self, hold: set[int]) -> None:
        super().__init__()
        self.hold = hold
        self.release = threading.Event()
        self.held = threading.Event()

    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        if scheme is not ED25519:  # only signature batches are held (slowed)
            return super().run(scheme, batch, policy)
        first = int(batch.messages[0]) if len(batch) else -1
        if first in self.hold:
            self.held.set()
            self.release.wait(10)
        return super().run(scheme, batch, policy)


def _dropped(metrics: Metrics, reason: str) -> float:
    return (
        metrics.registry.get_sample_value(
            "verifier_items_dropped_total", {"scheme": "ed25519", "reason": reason}
        )
        or 0.0
    )


def test_consensus_runs_in_its_reserved_slot_while_bulk_holds_the_others() -> None:
    backend = GatedCpu(hold={1})

    async def main() -> None:
        sched = Scheduler(
            Engine(backend), SchedulerConfig(max_queue_delay_us=0, max_inflight=1, consensus_slots=1)
        )
        sched.start()
        bulk = asyncio.ensure_future(sched.verify(ED25519, _batch(4, tag=1), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.held.wait, 5)  # the one bulk slot is taken
        more_bulk = asyncio.ensure_future(sched.verify(ED25519, _batch(4, tag=2), Policy.LIBSODIUM))
        urgent = await asyncio.wait_for(
            sched.verify(ED25519, _batch(4, tag=9), Policy.LIBSODIUM, priority=Priority.CONSENSUS), 5
        )
        assert urgent.all_valid and not bulk.done() and not more_bulk.done()
        backend.release.set()
        assert (await bulk).all_valid and (await more_bulk).all_valid
        await sched.close()

    _run(main())
    assert [tags[0] for _, tags in backend.batches] == [9, 1, 2]


def test_a_unit_never_mixes_consensus_and_bulk_items() -> None:
    backend = RecordingCpu()

    async def main() -> None:
        sched = Scheduler(Engine(backend), SchedulerConfig(max_queue_delay_us=20_000, max_batch_items=1000))
        sched.start()
        calls = [
            sched.verify(
                ED25519,
                _batch(5, tag=i),
                Policy.LIBSODIUM,
                priority=Priority.CONSENSUS if i % 2 else Priority.BULK,
            )
            for i in range(12)
        ]
        assert all(r.all_valid for r in await asyncio.gather(*calls))
        await sched.close()

    _run(main())
    assert sum(n for n, _ in backend.batches) == 60
    for _, tags in backend.batches:
        assert len({t % 2 for t in tags}) == 1, backend.batches


def test_within_a_class_the_earliest_deadline_goes_first() -> None:
    backend = GatedCpu(hold={0})

    async def main() -> None:
        sched = _one_unit_at_a_time(backend)
        busy = asyncio.ensure_future(sched.verify(ED25519, _batch(4, tag=0), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.held.wait, 5)
        queued = [
            asyncio.ensure_future(
                sched.verify(ED25519, _batch(4, tag=tag), Policy.LIBSODIUM, timeout=timeout)
            )
            for tag, timeout in ((1, None), (2, 20.0), (3, 5.0))
        ]
        await asyncio.sleep(0.01)
        backend.release.set()
        assert all(r.all_valid for r in await asyncio.gather(busy, *queued))
        await sched.close()

    _run(main())
    assert [tags[0] for _, tags in backend.batches] == [0, 3, 2, 1]


def test_a_cancelled_big_request_stops_within_one_unit() -> None:
    backend = GatedCpu(hold={7})
    metrics = Metrics()

    async def main() -> None:
        sched = _one_unit_at_a_time(backend, metrics)
        big = asyncio.ensure_future(sched.verify(ED25519, _batch(40, tag=7), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.held.wait, 5)  # its first unit is on the device
        big.cancel()
        await asyncio.sleep(0.01)
        assert sched.queued_items == 0
        backend.release.set()
        after = await sched.verify(ED25519, _batch(2, tag=8), Policy.LIBSODIUM)
        assert after.all_valid
        await sched.close()

    _run(main())
    assert [n for n, _ in backend.batches] == [4, 2], backend.batches
    assert _dropped(metrics, "cancelled") == 36
    unclaimed = {
        started: metrics.registry.get_sample_value(
            "verifier_items_unclaimed_total", {"scheme": "ed25519", "started": started}
        )
        for started in ("before_caller_left", "after_caller_left")
    }
    assert unclaimed == {
        "before_caller_left": 4,
        "after_caller_left": None,
    }  # the unit on the device when it left


def test_a_deadline_passing_mid_request_answers_at_once_and_drops_the_rest() -> None:
    backend = GatedCpu(hold={7})
    metrics = Metrics()

    async def main() -> None:
        sched = _one_unit_at_a_time(backend, metrics)
        with pytest.raises(DeadlineExceededError, match="deadline passed after 0.1.. s in progress"):
            await asyncio.wait_for(sched.verify(ED25519, _batch(40, tag=7), Policy.LIBSODIUM, timeout=0.1), 5)
        assert not backend.release.is_set()  # answered while its unit was still held on the device
        backend.release.set()
        await sched.close()

    _run(main())
    assert [n for n, _ in backend.batches] == [4]
    assert _dropped(metrics, "deadline") == 36


class SlowCpu(CpuBackend):
    """Verifies at about 1,000 items/s, so that the measured rate is known."""

    def __init__(self) -> None:
        super().__init__(workers=1)

    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        if scheme is not ED25519:  # only signature batches are held (slowed)
            return super().run(scheme, batch, policy)
        time.sleep(len(batch) / 1000)
        return super().run(scheme, batch, policy)


def test_a_deadline_the_measured_rate_cannot_meet_is_refused_before_any_work() -> None:
    backend = SlowCpu()
    metrics = Metrics()

    async def main() -> None:
        sched = Scheduler(Engine(backend), SchedulerConfig(max_queue_delay_us=0, max_batch_items=64), metrics)
        sched.start()
        assert (await sched.verify(ED25519, _batch(64), Policy.LIBSODIUM)).all_valid  # measures ~1,000/s
        # Refused as it reaches a unit (the deadline's own answer would read "deadline passed").
        with pytest.raises(
            DeadlineExceededError, match=r"deadline cannot be met: 2000 items left at the measured"
        ):
            await sched.verify(ED25519, _batch(2000), Policy.LIBSODIUM, timeout=0.5)
        assert (await sched.verify(ED25519, _batch(64), Policy.LIBSODIUM, timeout=5.0)).all_valid
        await sched.close()

    _run(main())
    assert _dropped(metrics, "deadline_unmeetable") == 2000


def test_under_mixed_churn_every_answer_is_right_and_nothing_stays_counted() -> None:
    """Random sizes, classes, deadlines and cancellations: each call that is answered has exactly its own
    verdicts, and when all is settled no item or byte is still counted as queued."""
    import random

    rng = random.Random(11)
    backend = CpuBackend(workers=2, zip215=False)
    metrics = Metrics()

    async def main() -> None:
        sched = Scheduler(
            Engine(backend), SchedulerConfig(max_queue_delay_us=200, max_batch_items=32), metrics
        )
        sched.start()
        calls = []
        for i in range(120):
            n = rng.choice((1, 3, 17, 64, 150))
            bad = tuple(sorted(rng.sample(range(n), min(n, 2))))
            prio = rng.choice((Priority.BULK, Priority.CONSENSUS))
            timeout = rng.choice((None, 10.0, 0.0005))
            task = asyncio.ensure_future(
                sched.verify(
                    ED25519, _batch(n, bad, tag=i % 250), Policy.LIBSODIUM, priority=prio, timeout=timeout
                )
            )
            calls.append((task, bad))
            if rng.random() < 0.15:
                asyncio.get_running_loop().call_later(rng.random() * 0.01, task.cancel)
        answered = 0
        for task, bad in calls:
            try:
                result = await task
            except (asyncio.CancelledError, DeadlineExceededError):
                continue
            answered += 1
            assert np.flatnonzero(~result.valid).tolist() == list(bad)
        assert answered > 30
        await sched.close()
        assert sched.queued_items == 0
        assert set(sched._waiting_items.values()) <= {0}  # noqa: SLF001
        assert sched._queued_bytes == 0  # noqa: SLF001

    _run(main())


def test_on_the_cpu_units_are_sized_by_the_measured_rate() -> None:
    """max_batch_items 0 on a CPU backend: the first unit is 256 items, later ones what the measured rate
    verifies in unit_target_ms (here ~1,000 items/s x 100 ms = ~100 items), never above 4,096."""
    backend = SlowCpu()
    seen: list[int] = []
    verify = backend.run

    def recording(scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        seen.append(len(batch))
        return verify(scheme, batch, policy)

    backend.run = recording  # type: ignore[method-assign]

    async def main() -> None:
        sched = Scheduler(
            Engine(backend), SchedulerConfig(max_queue_delay_us=0, max_inflight=1, unit_target_ms=100)
        )
        sched.start()
        assert sched.unit_items == 4096
        result = await sched.verify(ED25519, _batch(1000, bad=(999,)), Policy.LIBSODIUM)
        assert np.flatnonzero(~result.valid).tolist() == [999]
        await sched.close()

    _run(main())
    assert sum(seen) == 1000 and seen[0] == 256, seen
    assert all(60 <= n <= 200 for n in seen[3:-1]), seen
