"""Backend cpu's policy zip215: ZIP-215 batch verification with bisection (verifier/backends/_zip215_batch.py,
kernels/ec/ed25519_batch.cuh; docs/RULES.md section 2.6).

The differential suite of test_ed25519.py already runs it on every vector, the 196 small-order items,
the hostile encodings and 20,000 planted faults (backend cpu). Here, what is particular to batching:
* mixed batches of 1..4096 items (one batch equation each) with the bad items first, last, all, none, one
  or a few at random positions, or dense; every verdict is the item's single-verification verdict;
* a batch without a bad item passes its equation (no item is verified one by one), and one bad item costs
  at most one leaf of the bisection: a wrong multi-scalar multiplication would hide behind the fallback
  otherwise, since singles are exact anyway;
* the coefficients z_i: fresh OS randomness per call, distinct per item, and needed: two invalid items
  whose errors cancel under equal coefficients are rejected;
* chunking across threads gives the same verdicts.
Seeds are printed (replay: VERIFIER_TEST_SEED=<seed>).
"""

from __future__ import annotations

import inspect
import itertools
import random
import secrets
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from tests.support import ed25519_ref as ref
from tests.support.ed25519_cases import batch_of
from tests.support.faults import Ed25519FaultBatch, make_ed25519_batch, test_seed
from verifier.backends._zip215_batch import MAX_CHUNK_ITEMS, HostZip215Batch, chunk_bounds
from verifier.backends.cpu import CpuBackend
from verifier.backends.emu import EmuBackend
from verifier.backends.pool import PriorityPool
from verifier.batch import Ed25519Batch
from verifier.schemes import ED25519
from verifier.verdict import Policy, Verdict

_SIZES = (1, 2, 3, 4, 5, 8, 16, 17, 31, 32, 33, 64, 100, 150, 257, 1000, 1024, 4096)
_PATTERNS = ("none", "first", "last", "all", "one", "few", "dense")


@pytest.fixture(scope="module")
def pool() -> Iterator[PriorityPool]:
    p = PriorityPool(2, thread_name_prefix="test-zip215")
    yield p
    p.shutdown(wait=True)


@pytest.fixture(scope="module")
def whole(pool: PriorityPool) -> HostZip215Batch:
    """One batch equation per call, however big (one worker, chunks up to 4096)."""
    return HostZip215Batch(pool, 1, max_chunk=4096)


@pytest.fixture(scope="module")
def items() -> Ed25519FaultBatch:
    """Distinct items, half of them faulty (every planted kind), with their labelled zip215 verdicts."""
    value = test_seed()
    print(f"\n{__name__}: item seed {value} (replay with VERIFIER_TEST_SEED={value})")
    return make_ed25519_batch(random.Random(value), 900, fault_rate=0.5)


@pytest.fixture(scope="module")
def labels(items: Ed25519FaultBatch) -> npt.NDArray[np.uint8]:
    """The zip215 verdict of each item verified alone: its label, checked here against the single-item
    kernel (backend emu, one item per thread)."""
    want = np.array([int(v) for v in items.expected_zip215], dtype=np.uint8)
    emu = EmuBackend()
    try:
        alone = emu.run(ED25519, batch_of(items.public_keys, items.signatures, items.messages), Policy.ZIP215)
    finally:
        emu.close()
    bad = np.flatnonzero(alone != want)
    assert bad.size == 0, [items.describe(int(i)) for i in bad[:5]]
    return want


def _mixed(
    rng: random.Random, items: Ed25519FaultBatch, labels: npt.NDArray[np.uint8], n: int, pattern: str
) -> tuple[Ed25519Batch, npt.NDArray[np.uint8], int]:
    """A batch of n items from ``items``: bad ones where ``pattern`` says, valid ones elsewhere. Returns the
    batch, its expected verdicts and how many bad items it holds."""
    good = np.flatnonzero(labels == Verdict.OK)
    bad = np.flatnonzero(labels != Verdict.OK)
    where = {
        "none": [],
        "first": [0],
        "last": [n - 1],
        "all": list(range(n)),
        "one": [rng.randrange(n)],
        "few": rng.sample(range(n), min(n, 3)),
        "dense": rng.sample(range(n), max(1, n // 3)),
    }[pattern]
    pick = [int(rng.choice(good)) for _ in range(n)]
    for pos in where:
        pick[pos] = int(rng.choice(bad))
    batch = batch_of(
        [items.public_keys[i] for i in pick],
        [items.signatures[i] for i in pick],
        [items.messages[i] for i in pick],
    )
    return batch, labels[pick], len(where)


@pytest.mark.parametrize("pattern", _PATTERNS)
def test_mixed_batches_match_single_verification(
    whole: HostZip215Batch, items: Ed25519FaultBatch, labels: npt.NDArray[np.uint8], seed: int, pattern: str
) -> None:
    rng = random.Random(f"{seed}-{pattern}")
    for n in _SIZES:
        batch, want, nbad = _mixed(rng, items, labels, n, pattern)
        result = whole.verify(batch)
        wrong = np.flatnonzero(result.verdicts != want)
        assert wrong.size == 0, (
            f"seed {seed}, {pattern}, n={n}: {wrong.size} wrong, first at {int(wrong[0])}: "
            f"got {Verdict(int(result.verdicts[wrong[0]])).name}, want {Verdict(int(want[wrong[0]])).name}"
        )
        if nbad == 0 and n >= 2:
            assert result.singles == 0, f"n={n}: a batch of valid signatures failed its equation"
        if nbad == 1:
            assert result.singles <= 2, f"n={n}: one bad item cost {result.singles} single verifications"


def test_batch_equation_at_every_size(
    whole: HostZip215Batch, items: Ed25519FaultBatch, labels: npt.NDArray[np.uint8]
) -> None:
    """Valid batches of every size from 2 to 80 (both multi-scalar methods and their switch) pass whole."""
    rng = random.Random(7)
    for n in range(2, 81):
        batch, want, _ = _mixed(rng, items, labels, n, "none")
        result = whole.verify(batch)
        assert (result.verdicts == want).all() and result.singles == 0, n


def test_small_order_and_torsion_items_batch_together(whole: HostZip215Batch) -> None:
    """The 196 small-order signatures (zip215 accepts each) in one batch: the cofactored equation accepts
    them together, with no fallback."""
    encs = ref.SMALL_ORDER_ENCODINGS
    batch = batch_of(
        [a for a in encs for _ in encs], [r + bytes(32) for _ in encs for r in encs], [b"z"] * 196
    )
    result = whole.verify(batch)
    assert (result.verdicts == Verdict.OK).all() and result.singles == 0


def _cancelling_pair(seed: int) -> Ed25519Batch:
    """Two invalid items whose errors cancel: S_1 + 1 and S_2 - 1 on two valid signatures, so that
    R'_1 - R_1 = B and R'_2 - R_2 = -B."""
    rng = random.Random(seed)
    while True:
        seeds = [rng.randbytes(32) for _ in range(2)]
        msgs = [b"pay 1", b"pay 2"]
        sigs = [ref.sign(s, m) for s, m in zip(seeds, msgs, strict=True)]
        s1, s2 = (int.from_bytes(sig[32:], "little") for sig in sigs)
        if s1 + 1 < ref.L and s2 >= 1:
            break
    sigs = [sigs[0][:32] + (s1 + 1).to_bytes(32, "little"), sigs[1][:32] + (s2 - 1).to_bytes(32, "little")]
    return batch_of([ref.public_key_from_seed(s) for s in seeds], sigs, msgs)


def test_random_coefficients_catch_cancelling_errors(
    pool: PriorityPool, whole: HostZip215Batch, seed: int
) -> None:
    batch = _cancelling_pair(seed)
    equal = HostZip215Batch(pool, 1, coefficients=lambda k: b"\x01" * k)
    assert list(equal.verify(batch).verdicts) == [Verdict.OK, Verdict.OK], (
        "the pair should cancel under equal z"
    )
    assert list(whole.verify(batch).verdicts) == [Verdict.EQUATION_FAILED, Verdict.EQUATION_FAILED]


def test_coefficients_fresh_per_call_and_distinct(pool: PriorityPool, items: Ed25519FaultBatch) -> None:
    drawn: list[bytes] = []

    def spy(k: int) -> bytes:
        drawn.append(secrets.token_bytes(k))
        return drawn[-1]

    runner = HostZip215Batch(pool, 1, coefficients=spy)
    batch = batch_of(items.public_keys[:100], items.signatures[:100], items.messages[:100])
    first, second = runner.verify(batch).verdicts, runner.verify(batch).verdicts
    assert (first == second).all()
    assert len(drawn) == 2 and all(len(d) == 1600 for d in drawn) and drawn[0] != drawn[1]
    assert len({drawn[0][16 * i : 16 * i + 16] for i in range(100)}) == 100
    assert inspect.signature(HostZip215Batch).parameters["coefficients"].default is secrets.token_bytes


def test_chunking_across_threads(items: Ed25519FaultBatch, labels: npt.NDArray[np.uint8], seed: int) -> None:
    """The cpu backend's own cutting (one chunk per thread, none over MAX_CHUNK_ITEMS) gives the same
    verdicts, with bad items in some chunks and not others."""
    assert chunk_bounds(150, 2) == [0, 75, 150]
    assert chunk_bounds(40, 2) == [0, 40]
    bounds = chunk_bounds(4096, 2)
    assert bounds[0] == 0 and bounds[-1] == 4096
    assert max(b - a for a, b in itertools.pairwise(bounds)) <= MAX_CHUNK_ITEMS
    rng = random.Random(f"{seed}-chunks")
    cpu = CpuBackend(workers=2)
    try:
        for n, pattern in ((150, "one"), (4096, "few"), (4096, "dense"), (3000, "none")):
            batch, want, _ = _mixed(rng, items, labels, n, pattern)
            got = cpu.run(ED25519, batch, Policy.ZIP215)
            assert (got == want).all(), (n, pattern)
    finally:
        cpu.close()
