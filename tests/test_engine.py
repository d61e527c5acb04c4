"""Engine: limits, policies, chunking, and the CPU fallback when a backend fails."""

from __future__ import annotations

import os
import time
from typing import Any

import nacl.signing
import numpy as np
import numpy.typing as npt
import pytest

import verifier
from verifier.backends.base import DeviceInfo
from verifier.backends.cpu import CpuBackend
from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.crossover import route_crossovers
from verifier.engine import Engine, Limits
from verifier.errors import InvalidRequestError, KernelError, LimitExceededError, UnsupportedPolicyError
from verifier.schemes import ED25519, MERKLE
from verifier.verdict import Policy, Verdict


def _signed(n: int, bad: tuple[int, ...] = ()) -> Ed25519Batch:
    sk = nacl.signing.SigningKey(bytes(range(32)))
    msgs = [os.urandom(i % 70) for i in range(n)]
    sigs = [sk.sign(m).signature for m in msgs]
    for i in bad:
        sigs[i] = bytes([sigs[i][0] ^ 1]) + sigs[i][1:]
    return Ed25519Batch.from_items([bytes(sk.verify_key)] * n, sigs, msgs)


class FaultyBackend(CpuBackend):
    """A device stand-in that fails on command (raises, or leaves a verdict slot unwritten) while
    ``broken`` is set, and answers like the CPU reference otherwise."""

    name = "faulty"

    def __init__(self, mode: str, key_store_rows: int | None = None) -> None:
        super().__init__(workers=1, key_store_rows=key_store_rows)
        self.mode = mode
        self.broken = True
        self.calls = 0
        self.runners = {name: _FaultyRunner(self, runner) for name, runner in self.runners.items()}

    def devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(kind="cuda", name="fake")]

    def _fail(self, n: int) -> npt.NDArray[np.uint8]:
        self.calls += 1
        if self.mode == "raise":
            raise KernelError(f"launch failed (batch {n})")
        out = np.full(n, Verdict.OK, np.uint8)
        out[n // 2] = Verdict.UNSPECIFIED  # one slot the kernel never wrote
        return out


class _FaultyRunner:
    """A scheme's runner in ``FaultyBackend``: fails while the backend is ``broken``."""

    def __init__(self, backend: FaultyBackend, runner: Any) -> None:
        self.backend, self.runner = backend, runner
        self.policies, self.key_store_rows = runner.policies, runner.key_store_rows
        self.put_keys, self.close = runner.put_keys, runner.close

    def run(self, batch: Any, policy: Policy | None) -> npt.NDArray[np.uint8]:
        return self.backend._fail(len(batch)) if self.backend.broken else self.runner.run(batch, policy)


@pytest.fixture(scope="module")
def cpu_engine() -> Engine:
    return Engine(CpuBackend(), Limits(max_items=1000, chunk_items=37))


def test_chunked_batch_keeps_order(cpu_engine: Engine) -> None:
    batch = _signed(300, bad=(0, 36, 37, 299))
    result = cpu_engine.verify(ED25519, batch)
    assert np.flatnonzero(~result.valid).tolist() == [0, 36, 37, 299]
    assert result.counts() == {Verdict.OK: 296, Verdict.EQUATION_FAILED: 4}
    assert result.backend == "cpu"


def test_item_limit(cpu_engine: Engine) -> None:
    with pytest.raises(LimitExceededError, match="batch has 1001 items; the limit is 1000"):
        cpu_engine.verify(ED25519, _signed(1001))


def test_unknown_and_unsupported_policies(cpu_engine: Engine) -> None:
    with pytest.raises(InvalidRequestError, match="unknown policy 'ed448'"):
        cpu_engine.verify(ED25519, _signed(1), "ed448")
    assert cpu_engine.verify(ED25519, _signed(1), "zip215").all_valid  # the CPU's host-kernel path
    no_zip215 = Engine(CpuBackend(workers=1, zip215=False))
    try:
        with pytest.raises(
            UnsupportedPolicyError, match="policy 'zip215' is not implemented by backend 'cpu'"
        ):
            no_zip215.verify(ED25519, _signed(1), "zip215")
    finally:
        no_zip215.close()


def test_empty_batch(cpu_engine: Engine) -> None:
    result = cpu_engine.verify(ED25519, _signed(0))
    assert len(result) == 0 and result.all_valid


@pytest.mark.parametrize("mode", ["raise", "unwritten"])
def test_failed_backend_is_rerun_on_cpu_then_probed_back(mode: str) -> None:
    faulty = FaultyBackend(mode)
    engine = Engine(faulty, Limits(chunk_items=50), probe_interval=0.05)
    seen: list[tuple[str, str, str]] = []
    health: list[bool] = []
    engine.fallback_observers.append(lambda *a: seen.append(a))
    engine.health_observers.append(lambda name, ok: health.append(ok))
    result = engine.verify(ED25519, _signed(120, bad=(5, 119)))
    assert np.flatnonzero(~result.valid).tolist() == [5, 119]
    assert result.verdict(5) is Verdict.EQUATION_FAILED
    assert result.backend == "cpu"
    # The first chunk failed on the device; the device is then out, so the other chunks went to the CPU.
    assert faulty.calls == 1 and seen == [("ed25519", "faulty", "cpu")] and not engine.healthy
    faulty.broken = False  # the device recovers; the probe's self-test passes and re-enables it
    deadline = time.monotonic() + 10
    while not engine.healthy and time.monotonic() < deadline:
        time.sleep(0.02)
    assert engine.healthy and health == [False, True]
    again = engine.verify(ED25519, _signed(10, bad=(3,)))
    assert again.backend == "faulty" and np.flatnonzero(~again.valid).tolist() == [3]
    engine.close()


def test_small_batches_go_to_the_cpu() -> None:
    healthy = FaultyBackend("raise")
    healthy.broken = False
    engine = Engine(healthy, crossovers={("ed25519", "libsodium"): 16})
    assert engine.verify(ED25519, _signed(15)).backend == "cpu"
    assert engine.verify(ED25519, _signed(16)).backend == "faulty"


@pytest.mark.parametrize("ratio", [0.25, 3.0])
def test_crossover_per_route(ratio: float) -> None:
    """zip215's crossover is libsodium's scaled by the CPU's zip215/libsodium rate (given here; the server
    times it): above 1 (the CPU's batch verification) a batch that goes to the device under libsodium stays
    on the CPU under zip215, below 1 the other way round; Merkle has its own."""
    healthy = FaultyBackend("raise")
    healthy.broken = False
    engine = Engine(healthy)
    engine.set_crossovers(
        route_crossovers({"ed25519": 200, "merkle": 7}, engine.cpu, lambda s, p, cpu: ratio)
    )
    try:
        zip215 = engine.crossovers[("ed25519", "zip215")]
        assert engine.crossovers[("ed25519", "libsodium")] == 200 and engine.crossovers[("merkle", "")] == 7
        assert zip215 == round(200 * ratio)
        between = _signed(min(zip215, 200))
        assert engine.verify(ED25519, between, "zip215").backend == ("faulty" if ratio < 1 else "cpu")
        assert engine.verify(ED25519, between, "libsodium").backend == ("cpu" if ratio < 1 else "faulty")
        assert engine.verify(ED25519, _signed(zip215), "zip215").backend == "faulty"
        proofs = MerkleBatch.from_items([0] * 7, [1] * 7, [[]] * 7, b"\x00" * 32, leaves=[b"x"] * 7)
        assert engine.verify(MERKLE, proofs).backend == "faulty"
        assert engine.verify(MERKLE, proofs.slice(0, 6)).backend == "cpu"
    finally:
        engine.close()


def test_cpu_rate_ratio_is_measured() -> None:
    """Without a given ratio, route_crossovers times the CPU: a positive crossover for every route of a
    scheme that has one (its size is a benchmark's business, not a test's)."""
    cpu = CpuBackend(workers=1)
    try:
        routes = route_crossovers({"ed25519": 200}, cpu)
        assert routes[("ed25519", "libsodium")] == 200 and routes[("ed25519", "zip215")] >= 1
        assert routes[("merkle", "")] == 0
    finally:
        cpu.close()


def test_cpu_engine_never_routes() -> None:
    assert Engine(CpuBackend(workers=1)).crossovers == {
        ("ed25519", "libsodium"): 0,
        ("ed25519", "zip215"): 0,
        ("merkle", ""): 0,
        ("ecdsa-secp256k1", "libsecp256k1"): 0,
        ("ecdsa-secp256k1", "lax"): 0,
        ("ecdsa-p256", "openssl"): 0,
        ("ecdsa-p256", "fabric"): 0,
    }


def test_public_api_round_trip() -> None:
    sk = nacl.signing.SigningKey(b"\x07" * 32)
    msgs = [b"pay 10", b"pay 20", b""]
    sigs = [sk.sign(m).signature for m in msgs]
    keys: list[Any] = [bytes(sk.verify_key)] * 3
    keys[2] = keys[2][:31]
    result = verifier.verify_ed25519(keys, sigs, msgs, backend="cpu")
    assert result.valid.tolist() == [True, True, False]
    assert result.verdict(2) is Verdict.MALFORMED_LENGTH
    merkle = verifier.verify_merkle([0], [1], [[]], b"\x00" * 32, leaves=[b"x"], backend="cpu")
    assert merkle.verdict(0) is Verdict.ROOT_MISMATCH


# ------------------------------------------------------------------------------------- key store


def _many_signers(n: int, bad: tuple[int, ...] = ()) -> tuple[Ed25519Batch, list[bytes]]:
    keys = [nacl.signing.SigningKey(bytes([i % 256, i // 256]) * 16) for i in range(n)]
    msgs = [b"vote %d" % i for i in range(n)]
    sigs = [k.sign(m).signature for k, m in zip(keys, msgs, strict=True)]
    for i in bad:
        sigs[i] = bytes([sigs[i][0] ^ 4]) + sigs[i][1:]
    pks = [bytes(k.verify_key) for k in keys]
    return Ed25519Batch.from_items(pks, sigs, msgs), pks


def _keys(pks: list[bytes]) -> npt.NDArray[np.uint8]:
    return np.frombuffer(b"".join(pks), np.uint8).reshape(-1, 32)


def test_register_keys_rows_both_backends_and_overflow() -> None:
    faulty = FaultyBackend("raise", key_store_rows=10)  # a small store: 10 rows
    faulty.broken = False
    engine = Engine(faulty)
    store = engine.key_stores[ED25519.name]
    try:
        batch, pks = _many_signers(12, bad=(3,))
        slots = store.register(b"set", _keys(pks))
        assert slots[:10].tolist() == list(range(10)) and slots[10:].tolist() == [0xFFFFFFFF] * 2
        assert store.free == 0
        # The device's store and the CPU fallback's hold the same rows.
        for be in (faulty, engine.cpu):
            runner = be.runners[ED25519.name]  # type: ignore[attr-defined]
            held = getattr(runner, "runner", runner)._zip215.store.keys
            assert [held[i].tobytes() for i in range(10)] == pks[:10]
        want = engine.verify(
            ED25519, batch, Policy.ZIP215
        ).verdicts.tolist()  # no rows: keys decoded per item
        assert want.count(Verdict.OK) == 11
        named = store.slots(b"set", batch.public_keys)
        assert named is not None and named.tolist() == slots.tolist()
        assert engine.verify(ED25519, batch.with_key_slots(slots), Policy.ZIP215).verdicts.tolist() == want
        faulty.broken = True  # the device fails: the CPU re-runs the batch, with its own store
        assert engine.verify(ED25519, batch.with_key_slots(slots), Policy.ZIP215).verdicts.tolist() == want
        store.release(b"set")
        assert store.free == 10 and store.slots(b"set", batch.public_keys) is None
        store.release(b"set")  # twice: harmless, no row is handed out twice afterwards
        assert store.free == 10
        again = store.register(b"other", _keys(pks))
        assert len(set(again[:10].tolist())) == 10 and again[10:].tolist() == [0xFFFFFFFF] * 2
    finally:
        engine.close()


def test_registering_while_verifying_never_changes_a_verdict(seed: int) -> None:
    """Writers re-register overlapping rows with other keys while readers verify batches naming those
    rows: the store lock keeps rows whole, the kernel's key comparison keeps stale rows harmless."""
    import random
    import threading

    rng = random.Random(seed)
    engine = Engine(CpuBackend(workers=2))
    batch, pks = _many_signers(200, bad=(7, 150))
    others = [bytes(nacl.signing.SigningKey(rng.randbytes(32)).verify_key) for _ in range(200)]
    want = engine.verify(ED25519, batch, Policy.ZIP215).verdicts.tolist()  # no rows: keys decoded per item
    assert want.count(Verdict.OK) == 198
    store = engine.key_stores[ED25519.name]
    slots = store.register(b"set", _keys(pks))
    wrong: list[Any] = []
    answered: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            got = engine.verify(ED25519, batch.with_key_slots(slots), Policy.ZIP215).verdicts.tolist()
            answered.append(1)
            if got != want:
                wrong.append(got)

    def writer() -> int:
        keys = [pks, others]
        k = 0
        while k < 30 or len(answered) < 30:
            k += 1
            store.release(b"set")
            again = store.register(b"set", _keys(keys[k % 2]))
            assert sorted(again.tolist()) == sorted(
                slots.tolist()
            )  # the same rows, other keys every other time
        return k

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    k = writer()
    stop.set()
    for t in threads:
        t.join()
    engine.close()
    assert not wrong, f"seed {seed}: {len(wrong)} batches answered wrong"
    print(f"\n{k} re-registrations while {len(answered)} batches were verified; all right")
