"""Re-collect an emu test as a GPU test: the same body, marked ``gpu``, using the importing module's fixtures."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest


def as_gpu_test(fn: Callable[..., None]) -> Callable[..., None]:
    """The emu test ``fn``, collected where this is called with the ``gpu`` mark (and that module's fixtures)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        fn(*args, **kwargs)

    wrapper.pytestmark = [*getattr(fn, "pytestmark", []), pytest.mark.gpu.mark]  # type: ignore[attr-defined]
    return wrapper
