"""The Merkle kernel on a GPU: every test of test_emu_merkle.py, rerun against CUDA.

Two ways in, each a ``verify`` parameter: ``backend`` is ``CudaBackend.verify_merkle`` (roots table
shared, large batches split, device buffers reused); ``kernel`` compiles kernels/merkle_verify.cu with
CuPy and launches it directly on copies of the batch's columns, so the kernel is checked on its own even
where the backend is not. Without CuPy or a usable GPU every test skips and says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from verifier.batch import MerkleBatch

from tests.backends import test_emu_merkle as _emu
from tests.backends.test_emu_merkle import (  # noqa: F401 - collected here, run with this module's `verify`
    test_batch_slices_and_shared_roots_table,
    test_every_index_of_every_small_tree,
    test_leaf_data_hash_every_length_near_block_boundaries,
    test_malformed_flag_and_empty_batch,
    test_random_trees_every_mutation,
    test_rfc6962_hasher_vectors,
    test_rfc6962_reference_tree,
    test_same_verdicts_as_cpu_backend,
    test_shape_and_directions_match_spec_loop_exhaustively,
    test_shape_matches_spec_loop_at_64_bits,
    test_transparency_dev_inclusion_vectors,
)

pytestmark = pytest.mark.gpu

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
        dev(batch.leaf_hashes, np.uint8), dev(batch.leaf_data, np.uint8), dev(batch.leaf_offsets, np.uint64),
        dev(batch.leaf_indices, np.uint64), dev(batch.tree_sizes, np.uint64), dev(batch.path_hashes, np.uint8),
        dev(batch.path_offsets, np.uint64), dev(batch.roots, np.uint8), dev(batch.root_indices, np.uint32),
        dev(batch.malformed, np.uint8), out, np.uint32(n), np.uint32(batch.roots.shape[0]),
    )
    kernel(((n + _BLOCK_DIM - 1) // _BLOCK_DIM,), (_BLOCK_DIM,), args)
    result: npt.NDArray[np.uint8] = out.get()
    return result


@pytest.fixture(scope="module")
def cuda_backend(cupy: Any) -> Any:
    try:
        from verifier.backends.cuda import CudaBackend
    except ImportError as exc:
        _skip(f"verifier.backends.cuda cannot be imported ({exc})")
    backend = CudaBackend()
    yield backend
    backend.close()


@pytest.fixture(params=["backend", "kernel"])
def verify(request: pytest.FixtureRequest) -> _emu.Verify:
    if request.param == "kernel":
        cp, kernel = request.getfixturevalue("cupy"), request.getfixturevalue("raw_kernel")
        return lambda batch: _kernel_verify(cp, kernel, batch)
    backend = request.getfixturevalue("cuda_backend")
    verify_merkle: _emu.Verify = backend.verify_merkle
    return verify_merkle


def test_repeated_batches_same_verdicts(verify: _emu.Verify) -> None:
    """A 20,000-proof batch, run twice: the second run (device buffers reused) gives the same verdicts."""
    import random

    from tests.support.faults import make_merkle_batch

    fb = make_merkle_batch(random.Random(7), 20_000, fault_rate=0.3, max_leaves=5000)
    batch = MerkleBatch.from_items(**fb.from_items_kwargs())
    first = verify(batch)
    assert not fb.mismatches(first.tolist())
    assert np.array_equal(verify(batch), first)
