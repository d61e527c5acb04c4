"""The dynamic batcher: merging across callers, priorities, bounded queues, deadlines."""

from __future__ import annotations

import asyncio
import os
import threading

import nacl.signing
import numpy as np
import numpy.typing as npt
import pytest

from verifier.backends.cpu import CpuBackend
from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.engine import Engine
from verifier.errors import DeadlineExceededError, LimitExceededError
from verifier.scheduler import Priority, Scheduler, SchedulerConfig
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

    def verify_ed25519(self, batch: Ed25519Batch, policy: Policy) -> npt.NDArray[np.uint8]:
        self.entered.set()
        self.gate.wait(10)
        tags = [int(batch.messages[int(o)]) for o in batch.message_offsets[:-1]] if len(batch) else []
        self.batches.append((len(batch), tags))
        return super().verify_ed25519(batch, policy)


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_concurrent_callers_are_merged_and_answered_in_their_own_order() -> None:
    backend = RecordingCpu()

    async def main() -> None:
        sched = Scheduler(Engine(backend), SchedulerConfig(max_queue_delay_us=50_000, max_batch_items=1000))
        sched.start()
        bads = [(i % 5,) for i in range(20)]
        results = await asyncio.gather(*(sched.verify_ed25519(_batch(5, bads[i], tag=i), Policy.LIBSODIUM) for i in range(20)))
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
        sched = Scheduler(Engine(backend), SchedulerConfig(max_queue_delay_us=0, max_inflight=1, max_batch_items=4))
        sched.start()
        backend.gate.clear()
        first = asyncio.ensure_future(sched.verify_ed25519(_batch(4, tag=0), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.entered.wait, 5)  # the device is busy with batch 0
        bulk = [asyncio.ensure_future(sched.verify_ed25519(_batch(4, tag=1 + i), Policy.LIBSODIUM)) for i in range(3)]
        await asyncio.sleep(0.01)
        urgent = asyncio.ensure_future(
            sched.verify_ed25519(_batch(4, tag=9), Policy.LIBSODIUM, priority=Priority.CONSENSUS)
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
        sched = Scheduler(Engine(backend), SchedulerConfig(max_queue_delay_us=0, max_inflight=1, queue_capacity_items=100))
        sched.start()
        backend.gate.clear()
        busy = asyncio.ensure_future(sched.verify_ed25519(_batch(10), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.entered.wait, 5)
        queued = asyncio.ensure_future(sched.verify_ed25519(_batch(80), Policy.LIBSODIUM))
        await asyncio.sleep(0.01)
        assert sched.queued_items == 80
        with pytest.raises(LimitExceededError, match="queue full: 80 items queued, 30 more would pass the capacity of 100"):
            await sched.verify_ed25519(_batch(30), Policy.LIBSODIUM)
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
        busy = asyncio.ensure_future(sched.verify_ed25519(_batch(3, tag=1), Policy.LIBSODIUM))
        await asyncio.to_thread(backend.entered.wait, 5)
        late = asyncio.ensure_future(sched.verify_ed25519(_batch(7, tag=2), Policy.LIBSODIUM, timeout=0.02))
        await asyncio.sleep(0.1)
        backend.gate.set()
        assert (await busy).all_valid
        with pytest.raises(DeadlineExceededError, match="deadline passed"):
            await late
        await sched.close()

    _run(main())
    assert [tags for _, tags in backend.batches] == [[1, 1, 1]]


def test_a_request_larger_than_a_device_batch_goes_alone_and_merkle_too() -> None:
    backend = RecordingCpu()

    async def main() -> None:
        sched = Scheduler(Engine(backend), SchedulerConfig(max_batch_items=8, max_queue_delay_us=1000))
        sched.start()
        big, small = await asyncio.gather(
            sched.verify_ed25519(_batch(20, bad=(19,)), Policy.LIBSODIUM),
            sched.verify_ed25519(_batch(3), Policy.LIBSODIUM),
        )
        assert np.flatnonzero(~big.valid).tolist() == [19] and small.all_valid
        proofs = MerkleBatch.from_items([0, 5], [1, 3], [[], []], b"r" * 32, leaf_hashes=[b"h" * 32] * 2)
        merkle = await sched.verify_merkle(proofs)
        assert [Verdict(int(v)) for v in merkle.verdicts] == [Verdict.ROOT_MISMATCH, Verdict.MALFORMED_PROOF]
        await sched.close()

    _run(main())
    assert sorted(n for n, _ in backend.batches) == [3, 20]
