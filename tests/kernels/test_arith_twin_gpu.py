"""On a GPU: each inline-PTX primitive of kernels/common/arith.cuh equals its portable twin, bit for bit.

tests/kernels/arith_twin_kernel.cu runs both versions of every primitive in the same thread over 2^20
inputs (edge values, then random, from the printed seed) and the outputs are compared; a sample is also
checked against Python integers. Skips, printing why, without CuPy or a usable GPU.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from verifier.backends._native import kernels_dir
from verifier.backends.cuda._module import variant_defines

pytestmark = pytest.mark.gpu
_WORDS = 77
_N = 1 << 20


@pytest.fixture(scope="module")
def cupy() -> Any:
    try:
        import cupy as cp
    except ImportError as exc:
        print(f"\ntest_arith_twin_gpu: skipped: CuPy is not installed ({exc})")
        pytest.skip(f"CuPy is not installed ({exc})")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device")
    except Exception as exc:  # noqa: BLE001 - CUDARuntimeError and friends: any failure means no GPU
        print(f"\ntest_arith_twin_gpu: skipped: no usable CUDA device ({exc})")
        pytest.skip(f"no usable CUDA device ({exc})")
    return cp


def _edge_words(rng: random.Random, n: int) -> np.ndarray:
    edge = [0, 1, 2**32 - 1, 2**256 - 1, 2**255 - 19, 2**255, 2**256 - 38, 2**224, 2**128 - 1, 2**32]
    vals = edge + [rng.getrandbits(256) for _ in range(4096)]
    out = (
        np.frombuffer(np.random.default_rng(rng.getrandbits(64)).bytes(32 * n), dtype=np.uint32)
        .reshape(n, 8)
        .copy()
    )
    for i, v in enumerate(vals):
        out[i] = [(v >> (32 * k)) & 0xFFFFFFFF for k in range(8)]
    return out


def test_ptx_primitives_equal_portable_twins(cupy: Any, seed: int) -> None:
    cp = cupy
    rng = random.Random(seed)
    a, b = _edge_words(rng, _N), _edge_words(rng, _N)[::-1].copy()
    s = np.frombuffer(np.random.default_rng(seed).bytes(4 * _N), dtype=np.uint32).copy()
    s[:6] = [0, 1, 19, 38, 2**32 - 1, 2**31]
    src = (Path(__file__).parent / "arith_twin_kernel.cu").read_text()
    options = (f"-I{kernels_dir()}", "--std=c++17", *(f"-D{d}" for d in variant_defines()))
    module = cp.RawModule(code=src, options=options)
    module.compile()
    kernel = module.get_function("arith_twin_kernel")
    d_ptx = cp.zeros(_N * _WORDS, dtype=cp.uint32)
    d_port = cp.ones(_N * _WORDS, dtype=cp.uint32)
    kernel(
        ((_N + 255) // 256,),
        (256,),
        (cp.asarray(a), cp.asarray(b), cp.asarray(s), d_ptx, d_port, np.uint32(_N)),
    )
    ptx, port = d_ptx.get().reshape(_N, _WORDS), d_port.get().reshape(_N, _WORDS)
    bad = np.flatnonzero((ptx != port).any(axis=1))
    assert bad.size == 0, f"seed {seed}: {bad.size} items differ, first {int(bad[0])}"

    def num(words: np.ndarray) -> int:
        return sum(int(w) << (32 * k) for k, w in enumerate(words))

    for i in list(range(64)) + rng.sample(range(_N), 2000):
        x, y, z = num(a[i]), num(b[i]), int(s[i])
        o = ptx[i]
        assert num(o[0:8]) + (int(o[8]) << 256) == x + y
        assert num(o[9:17]) == (x - y) % 2**256 and int(o[17]) == int(x < y)
        assert num(o[18:26]) + (int(o[26]) << 256) == x + z
        assert num(o[27:35]) == (x - z) % 2**256 and int(o[35]) == int(x < z)
        assert num(o[36:45]) == y + x * z
        assert num(o[45:61]) == x * y
        assert num(o[61:77]) == x * x
