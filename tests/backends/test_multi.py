"""Several devices behind one backend (verifier/backends/multi.py, ``verifier serve --devices``): the
least-loaded healthy device takes each batch; a device that fails mid-load is taken out, its batch re-run
on another, and every verdict stays right; with none left the engine falls back to the CPU; a device
that passes its self-test again comes back. Two ``emu`` devices stand in for GPUs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from tests.support.ed25519_cases import signed_items
from verifier.backends import create_devices
from verifier.backends.base import Backend
from verifier.backends.emu import EmuBackend
from verifier.backends.multi import MultiDevice, parse_devices
from verifier.batch import Ed25519Batch
from verifier.engine import Engine
from verifier.errors import BackendUnavailableError, KernelError
from verifier.schemes import ED25519
from verifier.testing import ServeProcess, serve_command


def test_parse_devices() -> None:
    assert parse_devices("all", 3) == [0, 1, 2]
    assert parse_devices("2", 8) == [0, 1]
    assert parse_devices("0", 8) == [0]
    assert parse_devices("0,2", 3) == [0, 2]
    for bad, msg in (("0,0", "twice"), ("4", "no device 3"), ("1,5", "no device 5")):
        with pytest.raises(ValueError, match=msg):
            parse_devices(bad, 3)
    with pytest.raises(BackendUnavailableError, match="one device"):
        create_devices("cpu", "2")


def _batch(n: int, seed: int) -> tuple[Ed25519Batch, np.ndarray]:
    pks, sigs, msgs, want = signed_items(n, seed, broken_every=4)
    return Ed25519Batch.from_items(pks, sigs, msgs), want


class Breakable:
    """A device that raises KernelError from its ``after``-th call on (None: never), until mended."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.policies = inner.policies
        self.calls = 0
        self.after: int | None = None

    @property
    def key_store_rows(self) -> int:
        return self.inner.key_store_rows

    def devices(self) -> Any:
        return self.inner.devices()

    def run(self, scheme: Any, batch: Any, policy: Any = None) -> Any:
        self.calls += 1
        if self.after is not None and self.calls >= self.after:
            raise KernelError("device lost (test)")
        return self.inner.run(scheme, batch, policy)

    def store_keys(self, *args: Any) -> None:
        self.inner.store_keys(*args)

    def memory_in_use(self) -> int:
        return 0

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def pair() -> Iterator[tuple[MultiDevice, list[Breakable]]]:
    devices = [Breakable(EmuBackend(workers=1)) for _ in range(2)]
    multi = MultiDevice(devices, probe_interval=0.05, selftest=lambda d: None)
    yield multi, devices
    multi.close()


def test_load_spreads_and_a_device_failing_mid_load_loses_nothing(
    pair: tuple[MultiDevice, list[Breakable]],
) -> None:
    multi, devices = pair
    served: dict[str, int] = {}
    changes: list[tuple[str, bool]] = []
    multi.batch_observers.append(lambda d, n: served.__setitem__(d, served.get(d, 0) + n))
    multi.health_observers.append(lambda d, ok: changes.append((d, ok)))
    devices[1].after = 6  # device 1 fails on its sixth batch, with batches in flight
    mended = threading.Event()

    def call(k: int) -> bool:
        batch, want = _batch(24, k)
        got = multi.run(ED25519, batch, ED25519.policies[1])  # zip215
        if k == 20:
            devices[1].after = None  # mended: its probe (a no-op self-test here) brings it back
            mended.set()
        return bool(np.array_equal(got, want))

    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(call, range(40)))
    assert all(results)
    assert served.get("0", 0) > 0 and served.get("1", 0) > 0, served
    assert ("1", False) in changes
    deadline = time.monotonic() + 5
    while not multi.healthy[1] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert multi.healthy == [True, True] and changes[-1] == ("1", True)


def test_no_device_left_falls_back_to_the_cpu(pair: tuple[MultiDevice, list[Breakable]]) -> None:
    multi, devices = pair
    for d in devices:
        d.after = 1
    batch, want = _batch(32, 7)
    with pytest.raises(KernelError, match="no healthy emu device"):
        multi.run(ED25519, batch, ED25519.policies[1])
    engine = Engine(multi, probe_interval=60)  # type: ignore[arg-type]
    try:
        result = engine.verify(ED25519, batch, "zip215")
        assert np.array_equal(result.verdicts, want) and result.backend == "cpu"
    finally:
        engine.cpu.close()


@pytest.mark.slow
def test_serve_on_two_emu_devices() -> None:
    """``verifier serve --backend emu --devices 2``: GetInfo lists both, metrics have each device's health."""

    import verifier

    server = ServeProcess(serve_command("--backend", "emu", "--devices", "2"))
    try:
        server.wait_ready(timeout=300)
        with verifier.Client(server.target) as client:
            assert len(client.info().devices) == 2
            batch, want = _batch(40, 3)
            pks = [bytes(k) for k in batch.public_keys]
            sigs = [bytes(s) for s in batch.signatures]
            msgs = [batch.message(i) for i in range(len(batch))]
            assert np.array_equal(client.verify_ed25519(pks, sigs, msgs, policy="zip215").verdicts, want)
        text = server.metrics()
        assert 'verifier_device_healthy{backend="emu",device="0"} 1.0' in text
        assert 'verifier_device_healthy{backend="emu",device="1"} 1.0' in text
    finally:
        server.terminate()
        server.wait_exit()


def test_several_fake_gpus_one_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--devices all`` on a fake CuPy with three GPUs: three CUDA backends behind MultiDevice, listed by
    index; GPU 1's launches fail, its batches move to the others, every verdict right; with every GPU
    failing the engine answers on the CPU."""
    from tests.support.fake_cupy import install

    fake = install(monkeypatch, merkle=True, ecdsa=True, devices=3)  # the self-test runs every scheme
    multi = create_devices("cuda", "all")
    assert isinstance(multi, MultiDevice)
    try:
        assert [d.index for d in multi.devices()] == [0, 1, 2]
        fake.fail_devices = {1}
        for k in range(9):
            batch, want = _batch(16, 100 + k)
            assert np.array_equal(multi.run(ED25519, batch, ED25519.policies[0]), want)
        assert multi.healthy == [True, False, True]
        fake.fail_devices = {0, 1, 2}
        engine = Engine(multi, probe_interval=60)
        batch, want = _batch(16, 7)
        result = engine.verify(ED25519, batch)
        assert np.array_equal(result.verdicts, want) and result.backend == "cpu"
        engine.cpu.close()
    finally:
        multi.close()
    with pytest.raises(BackendUnavailableError, match="no device 3"):
        create_devices("cuda", "0,3")
