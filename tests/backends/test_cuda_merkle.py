"""Backend ``cuda`` for Merkle proofs: what only the CUDA backend shows, on the GPU and without one.

The differential suite runs on backend ``cuda`` as on every backend, in tests/backends/test_merkle.py, in
two ways (``tests.support.backends.merkle_ways``): ``cuda`` is ``CudaBackend.run`` (roots table shared,
large batches split, device buffers reused); ``cuda-kernel`` compiles kernels/merkle_verify.cu with CuPy
and launches it directly on copies of the batch's columns, so the kernel is checked on its own even where
the backend is not. Here, on the GPU (marked ``gpu``; without CuPy or a usable GPU it skips and says
why): a batch run twice through reused device buffers.

Without a GPU: the host logic of MerkleKernel (chunking by items and bytes over two stream slots, buffer
reuse, the roots table uploaded once, null pointers, error wrapping) through the fake CuPy of
tests/support/fake_cupy.py, whose Merkle launch runs the emu build of the same kernel.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from tests.support.backends import Verify, merkle_ways
from tests.support.fake_cupy import FakeCupy, install
from tests.support.faults import make_merkle_batch
from verifier.batch import MerkleBatch
from verifier.errors import KernelError
from verifier.schemes import MERKLE


@pytest.mark.gpu
@merkle_ways(["cuda"])
def test_repeated_batches_same_verdicts(verify: Verify) -> None:
    """A 20,000-proof batch, run twice: the second run (device buffers reused) gives the same verdicts."""
    fb = make_merkle_batch(random.Random(7), 20_000, fault_rate=0.3, max_leaves=5000)
    batch = MerkleBatch.from_items(**fb.from_items_kwargs())
    first = verify(batch)
    assert not fb.mismatches(first.tolist())
    assert np.array_equal(verify(batch), first)


# ------------------------------------------------------------------------------- fake CuPy, no GPU


@pytest.fixture
def fake_cupy(monkeypatch: pytest.MonkeyPatch) -> FakeCupy:
    return install(monkeypatch, merkle=True)


def test_plan_chunks_by_items_and_bytes() -> None:
    from verifier.backends.cuda.merkle import plan_chunks

    offs = np.array([0, 3, 3, 10, 11, 40, 41], dtype=np.uint64) + np.uint64(5)  # 6 proofs, not re-based
    assert plan_chunks(6, offs, None, 100, 10**9) == [(0, 6)]
    assert plan_chunks(6, offs, None, 4, 10**9) == [(0, 4), (4, 6)]
    # 7 hashes a chunk: proof 2 (7 hashes) fits alone, proof 4 (29) is over but goes alone
    assert plan_chunks(6, offs, None, 100, 7 * 32) == [(0, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    leaf = np.array([0, 100, 100, 100, 5000, 5001, 5002], dtype=np.uint64)  # proof 3 has 4,900 bytes
    assert plan_chunks(6, offs, leaf, 100, 1000) == [(0, 3), (3, 4), (4, 6)]


def test_host_logic_chunks_slots_reuse_and_roots(fake_cupy: FakeCupy, seed: int) -> None:
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


def test_host_logic_byte_chunks(fake_cupy: FakeCupy, seed: int) -> None:
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


def test_host_logic_wraps_cuda_errors_once(fake_cupy: FakeCupy) -> None:
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


def test_host_logic_unwritten_verdict_is_an_error(fake_cupy: FakeCupy) -> None:
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
