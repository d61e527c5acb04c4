"""verifier/backends/cuda/_module.py without a GPU: the pinned-staging copy.

``stage`` cuts large columns over several threads; every byte must land where one ``np.copyto`` would put
it, whatever the size (around the thresholds, odd splits) and dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from verifier.backends.cuda import _module


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.uint64])
def test_stage_copies_every_byte(dtype: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_module, "_STAGE_PART_BYTES", 1 << 12)  # small parts, so tests cut often
    monkeypatch.setattr(_module, "_STAGE_THREADS", 3)
    rng = np.random.default_rng(5)
    item = np.dtype(dtype).itemsize
    for n in (
        0,
        1,
        (1 << 12) // item - 1,
        (1 << 13) // item,
        (1 << 13) // item + 1,
        3 * (1 << 12) // item + 7,
        100_003,
    ):
        src: npt.NDArray[Any] = rng.integers(0, 255, size=n).astype(dtype)
        dst: npt.NDArray[Any] = np.zeros(
            n + 5, dtype=dtype
        )  # a view shorter than its buffer, as upload passes
        _module.stage(dst[:n], src)
        assert np.array_equal(dst[:n], src) and not dst[n:].any(), (np.dtype(dtype).name, n)


def test_stage_uses_threads_for_large_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above two parts the copy is cut (so the pool exists); below, it is one np.copyto on this thread."""
    monkeypatch.setattr(_module, "_STAGE_PART_BYTES", 1 << 12)
    monkeypatch.setattr(_module, "_STAGE_THREADS", 4)
    monkeypatch.setattr(_module, "_stage_pool", None)
    _module.stage(np.zeros(1 << 12, np.uint8), np.ones(1 << 12, np.uint8))
    assert _module._stage_pool is None
    dst = np.zeros(1 << 16, np.uint8)
    _module.stage(dst, np.full(1 << 16, 7, np.uint8))
    assert _module._stage_pool is not None and (dst == 7).all()


def test_offsets_that_decrease_or_overrun_are_refused_on_the_host() -> None:
    from verifier.errors import InvalidRequestError

    _module.check_offsets(
        "message_offsets", np.array([0, 3, 3, 9], np.uint64), 9
    )  # fine: equal steps allowed
    _module.check_offsets("message_offsets", np.zeros(0, np.uint64), 0)
    with pytest.raises(InvalidRequestError, match="message_offsets: offsets must not decrease"):
        _module.check_offsets("message_offsets", np.array([0, 5, 4, 9], np.uint64), 9)
    with pytest.raises(
        InvalidRequestError, match=r"path_offsets: .*end within the data \(8\); they run 0..9"
    ):
        _module.check_offsets("path_offsets", np.array([0, 9], np.uint64), 8)


def test_misaligned_device_rows_are_a_kernel_error() -> None:
    from types import SimpleNamespace

    from verifier.errors import KernelError

    _module.check_aligned(SimpleNamespace(data=SimpleNamespace(ptr=0x7F0000000100)), "roots")
    with pytest.raises(KernelError, match="roots: device pointer 0x7f0000000108 is not 16-byte aligned"):
        _module.check_aligned(SimpleNamespace(data=SimpleNamespace(ptr=0x7F0000000108)), "roots")


def test_variant_defines_read_the_environment_and_refuse_unknown_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from verifier.errors import BackendUnavailableError

    monkeypatch.delenv("VERIFIER_CUDA_ARITH", raising=False)
    monkeypatch.delenv("VERIFIER_CUDA_DBL_LOOP", raising=False)
    assert _module.variant_defines() == (
        "VERIFIER_ARITH_MUL=2",
        "VERIFIER_DBL_LOOP=0",
    )  # wide: no spills on sm_90
    monkeypatch.setenv("VERIFIER_CUDA_ARITH", "wide")
    monkeypatch.setenv("VERIFIER_CUDA_DBL_LOOP", "1")
    assert _module.variant_defines() == ("VERIFIER_ARITH_MUL=2", "VERIFIER_DBL_LOOP=1")
    assert _module.variant_defines("ptx", 0) == ("VERIFIER_ARITH_MUL=1", "VERIFIER_DBL_LOOP=0")
    monkeypatch.setenv("VERIFIER_CUDA_ARITH", "fast")
    with pytest.raises(BackendUnavailableError, match="VERIFIER_CUDA_ARITH='fast'"):
        _module.variant_defines()
