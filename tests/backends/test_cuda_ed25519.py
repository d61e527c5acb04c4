"""Backend ``cuda`` for Ed25519: the emu differential suite on the GPU, and its host logic without one.

* GPU tests (marked ``gpu``): every test of tests/backends/test_emu_ed25519.py re-run through
  ``CudaBackend`` (vectors, ZIP-215 small-order set, hostile encodings, check order, offsets, concurrency),
  the random planted-fault test at 2^20 = 1,048,576 items per policy (65,536 distinct items, tiled and
  shuffled), and a batch split over many launches. Without CuPy or a usable GPU they skip and print why.
* Host tests (no GPU): ``CudaBackend`` driven through a minimal fake of the CuPy calls it makes, whose
  kernel launch runs the emu build of the same kernel. They check the backend's own logic: chunking at
  ``max_batch`` across two stream slots, buffer reuse as batches grow and shrink, message-offset slicing,
  and CUDA errors wrapped once as ``KernelError`` naming kernel and batch size.
"""

from __future__ import annotations

import contextlib
import ctypes
import random
import sys
import types
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.backends import test_emu_ed25519 as _emu
from tests.support.faults import make_ed25519_batch
from tests.support.gpu import as_gpu_test
from verifier.backends.base import Backend
from verifier.batch import Ed25519Batch
from verifier.errors import BackendUnavailableError, KernelError
from verifier.schemes import ED25519
from verifier.verdict import Policy, Verdict

UNIQUE_RANDOM_ITEMS = 65_536  # read by test_emu_ed25519.test_planted_faults_random


def _skip(reason: str) -> None:
    print(f"\ntest_cuda_ed25519: skipped: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    """A real CudaBackend, or a skip that says why there is none."""
    try:
        from verifier.backends.cuda import CudaBackend

        be = CudaBackend()
    except BackendUnavailableError as exc:
        _skip(str(exc))
    yield be
    be.close()


@pytest.fixture(scope="module")
def random_items() -> int:
    return 1 << 20


_gpu = as_gpu_test


test_every_vector_both_policies = _gpu(_emu.test_every_vector_both_policies)
test_zip215_small_order_196 = _gpu(_emu.test_zip215_small_order_196)
test_hostile_encodings_and_check_order = _gpu(_emu.test_hostile_encodings_and_check_order)
test_planted_faults_random = _gpu(_emu.test_planted_faults_random)
test_message_offsets_need_not_start_at_zero = _gpu(_emu.test_message_offsets_need_not_start_at_zero)
test_empty_and_malformed_only = _gpu(_emu.test_empty_and_malformed_only)
test_concurrent_calls_agree = _gpu(_emu.test_concurrent_calls_agree)
test_policies_declared = _gpu(_emu.test_policies_declared)
test_libsodium_accepts_imply_zip215_accepts = _gpu(_emu.test_libsodium_accepts_imply_zip215_accepts)
test_key_store_never_changes_a_verdict = _gpu(_emu.test_key_store_never_changes_a_verdict)


@pytest.mark.gpu
def test_split_batches_on_device(backend: Backend, seed: int) -> None:
    """100,000 items through a backend whose launches take at most 7,777: same verdicts as one launch."""
    from verifier.backends.cuda import CudaBackend

    batch, expected, _, _ = _emu.planted_fault_batch(random.Random(seed), 100_000, 20_000)
    small = CudaBackend(max_batch=7_777)
    try:
        for pol in (Policy.LIBSODIUM, Policy.ZIP215):
            assert np.array_equal(small.run(ED25519, batch, pol), expected[pol])
            assert np.array_equal(backend.run(ED25519, batch, pol), expected[pol])
    finally:
        small.close()


# ------------------------------------------------------------------------------- fake CuPy, no GPU


class _FakeArray:
    """The slice of cupy.ndarray the backend uses: empty, [:n], size, set(), get()."""

    def __init__(self, host: np.ndarray) -> None:
        self.host = host

    @property
    def size(self) -> int:
        return int(self.host.size)

    def __getitem__(self, key: slice) -> _FakeArray:
        return _FakeArray(self.host[key])

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        assert isinstance(stream, _FakeStream) and arr.shape == self.host.shape
        np.copyto(self.host, arr)

    def get(self, stream: Any = None, out: np.ndarray | None = None, blocking: bool = True) -> np.ndarray:
        if out is None:
            return self.host.copy()
        assert isinstance(stream, _FakeStream) and not blocking  # the backend must not wait per chunk
        np.copyto(out, self.host)
        return out

    @property
    def data(self) -> Any:  # cupy.ndarray.data.ptr: the device address (here the host buffer's)
        return types.SimpleNamespace(ptr=int(self.host.ctypes.data))

    def fill(self, value: int) -> None:
        assert _FakeStream.current is not None, "fill outside a stream context"
        self.host.fill(value)


class _FakeDevice(contextlib.nullcontext):  # type: ignore[type-arg]
    def __init__(self, index: int = 0) -> None:
        super().__init__()

    def synchronize(self) -> None:
        pass


class _FakeStream:
    current: _FakeStream | None = None

    def __init__(self, non_blocking: bool = False) -> None:
        self.synchronized = 0

    def __enter__(self) -> _FakeStream:
        _FakeStream.current = self
        return self

    def __exit__(self, *exc: object) -> None:
        _FakeStream.current = None

    def synchronize(self) -> None:
        self.synchronized += 1


class _FakeKernel:
    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __init__(self, fake: _FakeCupy) -> None:
        from verifier.backends._native import build_emu_library

        self._fake = fake
        self._fn = build_emu_library("ed25519_verify.cu").ed25519_verify_kernel_emu
        p, u32 = ctypes.c_void_p, ctypes.c_uint32
        self._fn.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, p, p, p, p, p, p, u32, ctypes.c_int,
                             p, p, p, p, u32]

    def __call__(self, grid: tuple[int], block: tuple[int], args: tuple[Any, ...]) -> None:
        assert _FakeStream.current is not None, "launch outside a stream context"
        self._fake.launches.append(int(args[6]))
        if self._fake.fail_launch:
            raise RuntimeError("cudaErrorLaunchFailure: unspecified launch failure")
        ptrs = [int(a.host.ctypes.data) for a in args[:6]]
        assert grid[0] * block[0] >= int(args[6])
        slots = args[8]
        # CuPy passes None as 0xffffffff, not NULL (cupy/cupy#9046): the backend must pass 0 for "none".
        assert slots is not None and (isinstance(slots, _FakeArray) or (isinstance(slots, np.uint64) and slots == 0))
        if isinstance(slots, _FakeArray):
            self._fake.slot_launches += 1
        store = [int(a.host.ctypes.data) for a in args[9:12]]
        out = args[5].host
        before = out.copy()
        self._fn(0, grid[0], block[0], *ptrs, int(args[6]), int(args[7]),
                 int(slots.host.ctypes.data) if isinstance(slots, _FakeArray) else None, *store, int(args[12]))
        if self._fake.skip_write is not None:  # a thread that never wrote its verdict
            out[self._fake.skip_write] = before[self._fake.skip_write]


class _FakeStoreKernel:
    """ed25519_store_keys_kernel, run by its emu build on the fake arrays."""

    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __init__(self) -> None:
        from verifier.backends._native import build_emu_library

        self._fn = build_emu_library("ed25519_verify.cu").ed25519_store_keys_kernel_emu
        p, u32 = ctypes.c_void_p, ctypes.c_uint32
        self._fn.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, p, p, u32, p, p, p, u32]

    def __call__(self, grid: tuple[int], block: tuple[int], args: tuple[Any, ...]) -> None:
        assert _FakeStream.current is not None, "launch outside a stream context"
        keys, slots, n, sk, sp, ss, rows = args
        self._fn(0, grid[0], block[0], int(keys.host.ctypes.data), int(slots.host.ctypes.data), int(n),
                 int(sk.host.ctypes.data), int(sp.host.ctypes.data), int(ss.host.ctypes.data), int(rows))


class _UnusedKernel:
    """A kernel these tests compile (the backend builds every module) but never launch."""

    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __call__(self, *args: Any) -> None:
        raise AssertionError("this fake kernel is not launched by the Ed25519 tests")


class _FakeCupy(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("cupy")
        self.launches: list[int] = []
        self.slot_launches = 0
        self.fail_launch = False
        self.skip_write: int | None = None
        fake = self

        class RawModule:
            def __init__(self, code: str, options: tuple[str, ...]) -> None:
                self.code = code
                assert any(o.startswith("-I") for o in options) and "--std=c++17" in options

            def compile(self) -> None:
                pass

            def get_function(self, name: str) -> Any:
                assert name in self.code
                # CudaBackend also builds the Merkle runner; its host logic is tested in test_cuda_merkle.py.
                if name == "ed25519_verify_kernel":
                    return _FakeKernel(fake)
                return _FakeStoreKernel() if name == "ed25519_store_keys_kernel" else _UnusedKernel()

        runtime = types.SimpleNamespace(
            getDeviceCount=lambda: 1,
            getDeviceProperties=lambda i: {"name": b"Fake GPU", "totalGlobalMem": 1 << 30, "major": 9, "minor": 0,
                                           "multiProcessorCount": 2},
        )
        class Event:
            def record(self, stream: Any = None) -> None:
                pass

            def synchronize(self) -> None:
                pass

        self.RawModule = RawModule
        self.uint8 = np.uint8
        self.cuda = types.SimpleNamespace(
            Event=Event,
            get_elapsed_time=lambda start, end: 1.0,
            runtime=runtime,
            Stream=_FakeStream,
            Device=_FakeDevice,
            alloc_pinned_memory=lambda nbytes: bytearray(nbytes),
        )

    def asarray(self, a: np.ndarray) -> _FakeArray:
        return _FakeArray(np.ascontiguousarray(a).copy())

    def zeros(self, n: int, dtype: Any) -> _FakeArray:
        return _FakeArray(np.zeros(n, dtype=dtype))

    def empty(self, n: int, dtype: Any) -> _FakeArray:
        return _FakeArray(np.full(n, 0xA5, dtype=dtype) if np.dtype(dtype) == np.uint8 else np.empty(n, dtype=dtype))


@pytest.fixture
def fake_cupy(monkeypatch: pytest.MonkeyPatch) -> _FakeCupy:
    fake = _FakeCupy()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    return fake


def test_host_logic_chunks_slots_and_reuse(fake_cupy: _FakeCupy, seed: int) -> None:
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


def test_host_logic_key_store(fake_cupy: _FakeCupy, seed: int) -> None:
    """Keys stored on the (fake) device, items naming their rows, right and wrong: the same verdicts as
    without rows, slots uploaded with each chunk."""
    from verifier.backends.cuda import CudaBackend

    rng = random.Random(seed)
    be = CudaBackend(max_batch=300, block_dim=64, key_store_rows=64)
    try:
        fb = make_ed25519_batch(rng, 1000, fault_rate=0.4)
        batch = Ed25519Batch.from_items(fb.public_keys, fb.signatures, fb.messages)
        distinct = list(dict.fromkeys(k for k in fb.public_keys if len(k) == 32))[:64]
        be.store_keys(ED25519, np.arange(len(distinct), dtype=np.uint32), np.frombuffer(b"".join(distinct), np.uint8).reshape(-1, 32))
        row = {k: i for i, k in enumerate(distinct)}
        right = [row.get(k, 0xFFFFFFFF) for k in fb.public_keys]
        wrong = [rng.randrange(70) for _ in fb.public_keys]  # other keys' rows, empty rows, out of range
        for slots in (right, wrong):
            got = be.run(ED25519, batch.with_key_slots(slots), Policy.ZIP215)
            assert not fb.mismatches("zip215", got.tolist()), fb.mismatches("zip215", got.tolist())[:5]
        assert fake_cupy.slot_launches == 2 * -(-1000 // 300)
    finally:
        be.close()


def test_host_logic_wraps_cuda_errors_once(fake_cupy: _FakeCupy) -> None:
    from verifier.backends.cuda import CudaBackend

    be = CudaBackend(max_batch=100)
    seed = bytes(32)
    from tests.support import ed25519_ref as ref

    batch = Ed25519Batch.from_items([ref.public_key_from_seed(seed)] * 250, [ref.sign(seed, b"m")] * 250, [b"m"] * 250)
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


def test_unavailable_without_device(fake_cupy: _FakeCupy) -> None:
    from verifier.backends.cuda import CudaBackend

    def no_device() -> int:
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake_cupy.cuda.runtime.getDeviceCount = no_device
    with pytest.raises(BackendUnavailableError, match="no usable CUDA device"):
        CudaBackend()


def test_kernel_benchmark_runs_its_cuda_path(fake_cupy: _FakeCupy, capsys: pytest.CaptureFixture[str]) -> None:
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


def test_a_verdict_the_kernel_did_not_write_is_caught_even_after_an_earlier_batch(fake_cupy: _FakeCupy) -> None:
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
