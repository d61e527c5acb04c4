"""Fixtures of the backend suites: ``backend``, parametrized over every backend, so that a differential
suite (test_ed25519.py, test_merkle.py) is written once and runs on each.

``backend`` is session-scoped and each backend is built once (``tests.support.backends.Backends``);
``cuda`` carries the ``gpu`` mark and, without CuPy or a usable GPU, skips with the reason printed.
The per-backend settings of the suites are fixtures keyed by the backend: ``cpu_reference`` (the CPU
backend to cross-check against, None on cpu itself) and ``random_items`` / ``unique_random_items`` (the
size of the random planted-fault run). ``verify`` is a Merkle suite's way into the backend
(``tests.support.backends.merkle_ways``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from tests.support.backends import Backends, Verify, backend_params
from verifier.backends.base import Backend
from verifier.batch import MerkleBatch
from verifier.schemes import MERKLE

# The random planted-fault run, per backend: (items, distinct items; None: all distinct). The host backends
# check 20,000 (or $VERIFIER_ED25519_ITEMS); cuda 2^20 = 1,048,576 per policy, 65,536 distinct items tiled
# and shuffled (a million Python-built signatures would take minutes).
_RANDOM_ITEMS: dict[str, tuple[int | None, int | None]] = {
    "cpu": (None, None),
    "emu": (None, None),
    "cuda": (1 << 20, 65_536),
}
_MERKLE_BLOCK_DIM = 256  # of the kernel launched straight from CuPy


@pytest.fixture(scope="session")
def backends() -> Iterator[Backends]:
    cache = Backends()
    yield cache
    cache.close()


@pytest.fixture(scope="session", params=backend_params())
def backend(request: pytest.FixtureRequest, backends: Backends) -> Backend:
    """The backend under test: cpu, emu, then cuda (marked gpu; a skip saying why where it cannot start)."""
    return backends.get(request.param)


@pytest.fixture(scope="session")
def cpu_reference(backend: Backend, backends: Backends) -> Backend | None:
    """The CPU backend, to cross-check the backend under test against; None when that is the CPU backend."""
    return None if backend.name == "cpu" else backends.get("cpu")


@pytest.fixture(scope="session")
def random_items(backend: Backend) -> int:
    """How many random planted-fault items one run checks on this backend."""
    return _RANDOM_ITEMS[backend.name][0] or int(os.environ.get("VERIFIER_ED25519_ITEMS") or 20_000)


@pytest.fixture(scope="session")
def unique_random_items(backend: Backend) -> int | None:
    """How many of them are distinct (None: all)."""
    return _RANDOM_ITEMS[backend.name][1]


# ------------------------------------------------------------------------------ Merkle: the ways in


@pytest.fixture
def verify(backend: Backend, way: str, request: pytest.FixtureRequest) -> Verify:
    """``backend.run(MERKLE, batch)`` (way "run"), or the CuPy-compiled kernel alone (way "kernel")."""
    if way == "kernel":
        cp, kernel = request.getfixturevalue("cupy"), request.getfixturevalue("merkle_raw_kernel")
        return lambda batch: _kernel_verify(cp, kernel, batch)
    return lambda batch: backend.run(MERKLE, batch)


def _skip(reason: str) -> None:
    print(f"\nmerkle kernel: skipped: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def merkle_raw_kernel(cupy: Any) -> Any:
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
    kernel(((n + _MERKLE_BLOCK_DIM - 1) // _MERKLE_BLOCK_DIM,), (_MERKLE_BLOCK_DIM,), args)
    result: npt.NDArray[np.uint8] = out.get()
    return result
