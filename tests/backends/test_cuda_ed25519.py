"""Backend ``cuda`` for Ed25519: what only the CUDA backend shows, on the GPU and without one.

* GPU test (marked ``gpu``): a batch split over many launches. The differential suite (vectors, ZIP-215
  small-order set, hostile encodings, check order, offsets, concurrency, the random planted-fault test at
  2^20 = 1,048,576 items per policy) runs on backend ``cuda`` as on every backend, in
  tests/backends/test_ed25519.py. Without CuPy or a usable GPU they skip and print why.
* Host tests (no GPU): ``CudaBackend`` driven through a minimal fake of the CuPy calls it makes
  (tests/support/fake_cupy.py), whose kernel launch runs the emu build of the same kernel. They check the
  backend's own logic: chunking at ``max_batch`` across two stream slots, buffer reuse as batches grow
  and shrink, message-offset slicing, and CUDA errors wrapped once as ``KernelError`` naming kernel and
  batch size.
"""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

from tests.support.backends import Backends
from tests.support.ed25519_cases import planted_fault_batch
from tests.support.fake_cupy import FakeCupy, install
from tests.support.faults import make_ed25519_batch
from verifier.batch import Ed25519Batch
from verifier.errors import BackendUnavailableError, KernelError
from verifier.schemes import ED25519
from verifier.verdict import Policy, Verdict


@pytest.mark.gpu
def test_split_batches_on_device(backends: Backends, seed: int) -> None:
    """100,000 items through a backend whose launches take at most 7,777: same verdicts as one launch."""
    from verifier.backends.cuda import CudaBackend

    backend = backends.get("cuda")
    batch, expected, _, _ = planted_fault_batch(random.Random(seed), 100_000, 20_000)
    small = CudaBackend(max_batch=7_777)
    try:
        for pol in (Policy.LIBSODIUM, Policy.ZIP215):
            assert np.array_equal(small.run(ED25519, batch, pol), expected[pol])
            assert np.array_equal(backend.run(ED25519, batch, pol), expected[pol])
    finally:
        small.close()


# ------------------------------------------------------------------------------- fake CuPy, no GPU


@pytest.fixture
def fake_cupy(monkeypatch: pytest.MonkeyPatch) -> FakeCupy:
    return install(monkeypatch)


@pytest.mark.slow
def test_host_logic_chunks_slots_and_reuse(fake_cupy: FakeCupy, seed: int) -> None:
    from verifier.backends.cuda import CudaBackend

    rng = random.Random(seed)
    be = CudaBackend(max_batch=777, block_dim=64)
    try:
        assert be.devices()[0].name == "Fake GPU"
        sizes = [3000, 50, 2333, 777, 778, 1]  # grow, shrink, exact multiples: buffers are reused
        for n in sizes:
            fb = make_ed25519_batch(rng, n)
            batch = Ed25519Batch.from_items(fb.public_keys, fb.signatures, fb.messages)
            for pol in (Policy.LIBSODIUM, Policy.ZIP215):
                fake_cupy.launches.clear()
                got = be.run(ED25519, batch, pol)
                assert not fb.mismatches(pol.value, got.tolist()), fb.mismatches(pol.value, got.tolist())[:5]
                assert sum(fake_cupy.launches) == n and max(fake_cupy.launches) <= 777
                assert len(fake_cupy.launches) == -(-n // 777)
    finally:
        be.close()


def test_host_logic_key_store(fake_cupy: FakeCupy, seed: int) -> None:
    """Keys stored on the (fake) device, items naming their rows, right and wrong: the same verdicts as
    without rows, slots uploaded with each chunk."""
    from verifier.backends.cuda import CudaBackend

    rng = random.Random(seed)
    be = CudaBackend(max_batch=300, block_dim=64, key_store_rows=64)
    try:
        fb = make_ed25519_batch(rng, 1000, fault_rate=0.4)
        batch = Ed25519Batch.from_items(fb.public_keys, fb.signatures, fb.messages)
        distinct = list(dict.fromkeys(k for k in fb.public_keys if len(k) == 32))[:64]
        be.store_keys(
            ED25519,
            np.arange(len(distinct), dtype=np.uint32),
            np.frombuffer(b"".join(distinct), np.uint8).reshape(-1, 32),
        )
        row = {k: i for i, k in enumerate(distinct)}
        right = [row.get(k, 0xFFFFFFFF) for k in fb.public_keys]
        wrong = [rng.randrange(70) for _ in fb.public_keys]  # other keys' rows, empty rows, out of range
        for slots in (right, wrong):
            got = be.run(ED25519, batch.with_key_slots(slots), Policy.ZIP215)
            assert not fb.mismatches("zip215", got.tolist()), fb.mismatches("zip215", got.tolist())[:5]
        assert fake_cupy.slot_launches == 2 * -(-1000 // 300)
    finally:
        be.close()


def test_host_logic_wraps_cuda_errors_once(fake_cupy: FakeCupy) -> None:
    from verifier.backends.cuda import CudaBackend

    be = CudaBackend(max_batch=100)
    seed = bytes(32)
    from tests.support import ed25519_ref as ref

    batch = Ed25519Batch.from_items(
        [ref.public_key_from_seed(seed)] * 250, [ref.sign(seed, b"m")] * 250, [b"m"] * 250
    )
    fake_cupy.fail_launch = True
    with pytest.raises(KernelError, match=r"ed25519_verify_kernel failed on a batch of 250 items"):
        be.run(ED25519, batch, Policy.LIBSODIUM)
    fake_cupy.fail_launch = False
    assert set(be.run(ED25519, batch, Policy.LIBSODIUM).tolist()) == {1}  # usable again afterwards
    be.close()


def test_unavailable_without_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError
    from verifier.backends.cuda import CudaBackend

    with pytest.raises(BackendUnavailableError, match="needs CuPy"):
        CudaBackend()


def test_unavailable_without_device(fake_cupy: FakeCupy) -> None:
    from verifier.backends.cuda import CudaBackend

    def no_device() -> int:
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake_cupy.cuda.runtime.getDeviceCount = no_device
    with pytest.raises(BackendUnavailableError, match="no usable CUDA device"):
        CudaBackend()


def test_kernel_benchmark_runs_its_cuda_path(fake_cupy: FakeCupy, capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/bench_ed25519_kernel.py end to end on the fake (timings meaningless, code path real)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ed25519_kernel.py"
    spec = importlib.util.spec_from_file_location("_bench_ed25519_kernel", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--batch", "300", "--repeat", "2", "--message-bytes", "0", "100", "--no-save"]) == 0
    out = capsys.readouterr().out
    assert "Fake GPU" in out and out.count("M verifies/s") == 2


def test_a_verdict_the_kernel_did_not_write_is_caught_even_after_an_earlier_batch(
    fake_cupy: FakeCupy,
) -> None:
    """The device verdict buffer is reused: it is zeroed before each launch, so a slot a thread leaves
    unwritten reads UNSPECIFIED (a KernelError) instead of the previous batch's OK."""
    import nacl.signing

    from verifier.backends.cuda import CudaBackend

    key = nacl.signing.SigningKey(b"\x09" * 32)
    msgs = [b"m%d" % i for i in range(8)]
    batch = Ed25519Batch.from_items([bytes(key.verify_key)] * 8, [key.sign(m).signature for m in msgs], msgs)
    be = CudaBackend(block_dim=64)
    try:
        assert (be.run(ED25519, batch, Policy.LIBSODIUM) == Verdict.OK).all()
        fake_cupy.skip_write = 3
        with pytest.raises(KernelError, match="left 1 of 8"):
            be.run(ED25519, batch, Policy.LIBSODIUM)
    finally:
        be.close()
