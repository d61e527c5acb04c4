"""The Merkle kernel on a GPU: every test of test_emu_merkle.py, rerun against CUDA.

Two ways in, each a ``verify`` parameter: ``backend`` is ``CudaBackend.verify_merkle`` (roots table
shared, large batches split, device buffers reused); ``kernel`` compiles kernels/merkle_verify.cu with
CuPy and launches it directly on copies of the batch's columns, so the kernel is checked on its own even
where the backend is not. Without CuPy or a usable GPU every test skips and says why.
"""

from __future__ import annotations

import ctypes
import dataclasses
import random
import sys
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from tests.backends import test_emu_merkle as _emu
from tests.support.faults import make_merkle_batch
from tests.support.gpu import as_gpu_test
from verifier.batch import MerkleBatch
from verifier.errors import BackendUnavailableError, KernelError
from verifier.schemes import MERKLE

_gpu = as_gpu_test


test_transparency_dev_inclusion_vectors = _gpu(_emu.test_transparency_dev_inclusion_vectors)
test_rfc6962_reference_tree = _gpu(_emu.test_rfc6962_reference_tree)
test_rfc6962_hasher_vectors = _gpu(_emu.test_rfc6962_hasher_vectors)
test_every_index_of_every_small_tree = _gpu(_emu.test_every_index_of_every_small_tree)
test_leaf_data_hash_every_length_near_block_boundaries = _gpu(
    _emu.test_leaf_data_hash_every_length_near_block_boundaries
)
test_shape_and_directions_match_spec_loop_exhaustively = _gpu(
    _emu.test_shape_and_directions_match_spec_loop_exhaustively
)
test_shape_matches_spec_loop_at_64_bits = _gpu(_emu.test_shape_matches_spec_loop_at_64_bits)
test_random_trees_every_mutation = _gpu(_emu.test_random_trees_every_mutation)
test_malformed_flag_and_empty_batch = _gpu(_emu.test_malformed_flag_and_empty_batch)
test_batch_slices_and_shared_roots_table = _gpu(_emu.test_batch_slices_and_shared_roots_table)
test_offsets_need_not_start_at_zero = _gpu(_emu.test_offsets_need_not_start_at_zero)
test_same_verdicts_as_cpu_backend = _gpu(_emu.test_same_verdicts_as_cpu_backend)

_BLOCK_DIM = 256


def _skip(reason: str) -> None:
    print(f"test_cuda_merkle: skipped: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cupy() -> Any:
    try:
        import cupy as cp
    except ImportError as exc:
        _skip(f"CuPy is not installed ({exc})")
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError: no driver / no device
        _skip(f"no usable CUDA device ({type(exc).__name__}: {exc})")
    if count < 1:
        _skip("no CUDA device")
    return cp


@pytest.fixture(scope="module")
def raw_kernel(cupy: Any) -> Any:
    from verifier.backends._native import kernels_dir

    kd = kernels_dir()
    module = cupy.RawModule(code=(kd / "merkle_verify.cu").read_text(), options=(f"-I{kd}", "--std=c++17"))
    module.compile()  # compile now, not lazily on the first launch
    return module.get_function("merkle_verify_kernel")


def _kernel_verify(cp: Any, kernel: Any, batch: MerkleBatch) -> npt.NDArray[np.uint8]:
    n = len(batch)
    if n == 0:
        return np.zeros(0, dtype=np.uint8)
    null = np.uint64(0)

    def dev(a: Any, dtype: Any) -> Any:
        return null if a is None else cp.asarray(np.ascontiguousarray(a, dtype=dtype))

    out = cp.zeros(n, dtype=cp.uint8)
    # Keep every device array alive until the kernel has finished (the launch is asynchronous).
    args = (
        dev(batch.leaf_hashes, np.uint8),
        dev(batch.leaf_data, np.uint8),
        dev(batch.leaf_offsets, np.uint64),
        dev(batch.leaf_indices, np.uint64),
        dev(batch.tree_sizes, np.uint64),
        dev(batch.path_hashes, np.uint8),
        dev(batch.path_offsets, np.uint64),
        dev(batch.roots, np.uint8),
        dev(batch.root_indices, np.uint32),
        dev(batch.malformed, np.uint8),
        out,
        np.uint32(n),
        np.uint32(batch.roots.shape[0]),
    )
    kernel(((n + _BLOCK_DIM - 1) // _BLOCK_DIM,), (_BLOCK_DIM,), args)
    result: npt.NDArray[np.uint8] = out.get()
    return result


@pytest.fixture(scope="module")
def cuda_backend(cupy: Any) -> Any:
    from verifier.backends.cuda import CudaBackend

    try:
        backend = CudaBackend()
    except BackendUnavailableError as exc:
        _skip(str(exc))
    yield backend
    backend.close()


@pytest.fixture(params=["backend", "kernel"])
def verify(request: pytest.FixtureRequest) -> _emu.Verify:
    if request.param == "kernel":
        cp, kernel = request.getfixturevalue("cupy"), request.getfixturevalue("raw_kernel")
        return lambda batch: _kernel_verify(cp, kernel, batch)
    backend = request.getfixturevalue("cuda_backend")
    return lambda batch: backend.run(MERKLE, batch)


@pytest.mark.gpu
def test_repeated_batches_same_verdicts(verify: _emu.Verify) -> None:
    """A 20,000-proof batch, run twice: the second run (device buffers reused) gives the same verdicts."""
    import random

    from tests.support.faults import make_merkle_batch

    fb = make_merkle_batch(random.Random(7), 20_000, fault_rate=0.3, max_leaves=5000)
    batch = MerkleBatch.from_items(**fb.from_items_kwargs())
    first = verify(batch)
    assert not fb.mismatches(first.tolist())
    assert np.array_equal(verify(batch), first)


# ------------------------------------------------------------------------------- fake CuPy, no GPU
# The host logic of MerkleKernel (chunking by items and bytes over two stream slots, buffer reuse, the
# roots table uploaded once, null pointers, error wrapping) through test_cuda_ed25519.py's fake CuPy, whose
# Merkle launch here runs the emu build of the same kernel.


class _FakeMerkleKernel:
    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __init__(self, fake: Any) -> None:
        from verifier.backends._native import build_emu_library

        self._fake = fake
        self._fn = build_emu_library("merkle_verify.cu").merkle_verify_kernel_emu
        p = ctypes.c_void_p
        self._fn.argtypes = [
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_uint,
            *[p] * 11,
            ctypes.c_uint32,
            ctypes.c_uint32,
        ]

    def __call__(self, grid: tuple[int], block: tuple[int], args: tuple[Any, ...]) -> None:
        from tests.backends.test_cuda_ed25519 import _FakeStream

        assert _FakeStream.current is not None, "launch outside a stream context"
        n, num_roots = int(args[11]), int(args[12])
        self._fake.launches.append(n)
        self._fake.num_roots.append(num_roots)
        if self._fake.fail_launch:
            raise RuntimeError("cudaErrorLaunchFailure: unspecified launch failure")
        assert grid[0] * block[0] >= n
        ptrs = [
            None if isinstance(a, np.uint64) and int(a) == 0 else int(a.host.ctypes.data) for a in args[:11]
        ]
        self._fake.null_args.append(tuple(k for k, q in enumerate(ptrs) if q is None))
        self._fn(0, grid[0], block[0], *ptrs, n, num_roots)


@pytest.fixture
def fake_cupy(monkeypatch: pytest.MonkeyPatch) -> Any:
    from tests.backends.test_cuda_ed25519 import _FakeCupy

    fake: Any = _FakeCupy()
    fake.num_roots = []
    fake.null_args = []
    ed25519_module = fake.RawModule

    class RawModule:
        def __init__(self, code: str, options: tuple[str, ...]) -> None:
            self.merkle = "merkle_verify_kernel" in code
            self.inner: Any = None if self.merkle else ed25519_module(code, options)
            assert any(o.startswith("-I") for o in options) and "--std=c++17" in options

        def compile(self) -> None:
            pass

        def get_function(self, name: str) -> Any:
            if self.merkle:
                assert name == "merkle_verify_kernel"
                return _FakeMerkleKernel(fake)
            return self.inner.get_function(name)

    fake.RawModule = RawModule
    monkeypatch.setitem(sys.modules, "cupy", fake)
    return fake


def test_plan_chunks_by_items_and_bytes() -> None:
    from verifier.backends.cuda.merkle import plan_chunks

    offs = np.array([0, 3, 3, 10, 11, 40, 41], dtype=np.uint64) + np.uint64(5)  # 6 proofs, not re-based
    assert plan_chunks(6, offs, None, 100, 10**9) == [(0, 6)]
    assert plan_chunks(6, offs, None, 4, 10**9) == [(0, 4), (4, 6)]
    # 7 hashes a chunk: proof 2 (7 hashes) fits alone, proof 4 (29) is over but goes alone
    assert plan_chunks(6, offs, None, 100, 7 * 32) == [(0, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    leaf = np.array([0, 100, 100, 100, 5000, 5001, 5002], dtype=np.uint64)  # proof 3 has 4,900 bytes
    assert plan_chunks(6, offs, leaf, 100, 1000) == [(0, 3), (3, 4), (4, 6)]


def test_host_logic_chunks_slots_reuse_and_roots(fake_cupy: Any, seed: int) -> None:
    from verifier.backends.cuda import CudaBackend
    from verifier.backends.cuda.merkle import plan_chunks

    rng = random.Random(seed)
    be = CudaBackend(max_batch=777, block_dim=64)
    try:
        for n, leaf_form in (
            (3000, "hash"),
            (50, "data"),
            (2333, "data"),
            (777, "hash"),
            (778, "hash"),
            (1, "data"),
        ):
            fb = make_merkle_batch(rng, n, fault_rate=0.4, max_leaves=20_000, leaf_form=leaf_form)
            batch = MerkleBatch.from_items(**fb.from_items_kwargs())
            fake_cupy.launches.clear()
            fake_cupy.num_roots.clear()
            fake_cupy.null_args.clear()
            got = be.run(MERKLE, batch)
            assert not fb.mismatches(got.tolist()), fb.mismatches(got.tolist())[:3]
            assert sum(fake_cupy.launches) == n and max(fake_cupy.launches) <= 777
            assert len(fake_cupy.launches) == -(-n // 777)
            assert set(fake_cupy.num_roots) == {batch.roots.shape[0]}  # one table for every chunk
            nulls = (1, 2) if leaf_form == "hash" else (0,)  # leaf data/offsets, or leaf hashes
            any_bad = bool(batch.malformed.any())
            assert len(fake_cupy.null_args) == len(
                plan_chunks(n, batch.path_offsets, batch.leaf_offsets, 777, 1 << 27)
            )
            for null_args in fake_cupy.null_args:  # malformed flags are sent only when one is set
                assert null_args == (nulls if any_bad else (*nulls, 9)), (null_args, leaf_form, any_bad)
    finally:
        be.close()


def test_host_logic_byte_chunks(fake_cupy: Any, seed: int) -> None:
    """Chunks cut by path and leaf bytes, not only by count; more chunks than stream slots."""
    from verifier.backends.cuda.merkle import MerkleKernel

    fb = make_merkle_batch(random.Random(seed), 2000, fault_rate=0.3, max_leaves=50_000, leaf_form="data")
    batch = MerkleBatch.from_items(**fb.from_items_kwargs())
    runner = MerkleKernel(fake_cupy, block_dim=32, max_batch=10_000, chunk_bytes=4096)
    try:
        for _ in range(2):  # the second run reuses every buffer
            fake_cupy.launches.clear()
            got = runner.verify(batch)
            assert not fb.mismatches(got.tolist()), fb.mismatches(got.tolist())[:3]
            assert len(fake_cupy.launches) > 10 and sum(fake_cupy.launches) == 2000
    finally:
        runner.close()


def test_host_logic_wraps_cuda_errors_once(fake_cupy: Any) -> None:
    from verifier.backends.cuda import CudaBackend

    be = CudaBackend(max_batch=100)
    fb = make_merkle_batch(random.Random(3), 250, fault_rate=0.0, max_leaves=100)
    batch = MerkleBatch.from_items(**fb.from_items_kwargs())
    fake_cupy.fail_launch = True
    with pytest.raises(KernelError, match=r"merkle_verify_kernel failed on a batch of 250 items"):
        be.run(MERKLE, batch)
    fake_cupy.fail_launch = False
    assert set(be.run(MERKLE, batch).tolist()) == {1}  # usable again afterwards
    be.close()


def test_host_logic_unwritten_verdict_is_an_error(fake_cupy: Any) -> None:
    """A root index past the table leaves UNSPECIFIED in the kernel; the backend raises, never answers."""
    from verifier.backends.cuda import CudaBackend

    fb = make_merkle_batch(random.Random(4), 10, fault_rate=0.0, max_leaves=100)
    batch = MerkleBatch.from_items(**fb.from_items_kwargs())
    bad = dataclasses.replace(batch, root_indices=np.full(10, batch.roots.shape[0], dtype=np.uint32))
    be = CudaBackend()
    try:
        with pytest.raises(KernelError, match=r"backend cuda \(merkle\) left 10 of 10 verdicts unwritten"):
            be.run(MERKLE, bad)
    finally:
        be.close()
