"""The backends the differential suites of tests/backends/ run on, by name, each built once per session.

``BACKENDS`` names them; ``backend_params`` turns names into ``pytest.param`` values (``cuda`` marked
``gpu``) for the ``backend`` fixture of tests/backends/conftest.py, and ``merkle_ways`` parametrizes a
Merkle test over each backend's ``run(MERKLE, ...)`` and, on cuda, the kernel launched straight from CuPy.
``Backends`` builds a backend on first use and keeps it for the session; a backend ``cuda`` that cannot
start (no CuPy, no GPU) is a skip whose reason is printed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from verifier.backends.base import Backend
from verifier.batch import MerkleBatch
from verifier.errors import BackendUnavailableError

__all__ = ["BACKENDS", "Backends", "Verify", "backend_params", "merkle_ways"]

# A Merkle suite's way into the code under test (the ``verify`` fixture): a batch in, one verdict per proof out.
Verify = Callable[[MerkleBatch], npt.NDArray[np.uint8]]

BACKENDS: tuple[str, ...] = ("cpu", "emu", "cuda")
# Backends that may be missing on a machine (and then skip); any other that fails to start is an error.
_OPTIONAL = frozenset({"cuda"})


def _marks(name: str) -> tuple[pytest.MarkDecorator, ...]:
    return (pytest.mark.gpu,) if name == "cuda" else ()


def backend_params(names: Iterable[str] = BACKENDS) -> list[Any]:
    """``pytest.param(name)`` for each backend, ``cuda`` carrying the ``gpu`` mark."""
    return [pytest.param(n, id=n, marks=_marks(n)) for n in names]


def merkle_ways(names: Sequence[str] = BACKENDS) -> pytest.MarkDecorator:
    """Parametrize ``backend`` (indirect) and ``way`` for the ``verify`` fixture: ``way`` "run" is the
    backend's ``run(MERKLE, batch)``; on cuda also "kernel", kernels/merkle_verify.cu compiled by CuPy and
    launched on copies of the batch's columns, so the kernel is checked on its own, without the
    backend's chunking and buffers. Ids: the backend's name, and ``cuda-kernel``."""
    params = [pytest.param(n, "run", id=n, marks=_marks(n)) for n in names]
    if "cuda" in names:
        params.append(pytest.param("cuda", "kernel", id="cuda-kernel", marks=_marks("cuda")))
    return pytest.mark.parametrize(("backend", "way"), params, indirect=["backend"], scope="session")


def _build(name: str) -> Backend:
    from verifier.backends import create_backend

    return create_backend(name)


class Backends:
    """Each backend built on first use and kept until ``close``."""

    def __init__(self) -> None:
        self._built: dict[str, Backend] = {}
        self._unavailable: dict[str, str] = {}

    def get(self, name: str) -> Backend:
        """Backend ``name``; for one that may be missing (cuda) and is, a skip saying why."""
        if name in self._unavailable:
            pytest.skip(self._unavailable[name])
        if name not in self._built:
            try:
                self._built[name] = _build(name)
            except BackendUnavailableError as exc:
                if name not in _OPTIONAL:
                    raise
                self._unavailable[name] = str(exc)
                print(f"\nbackend {name}: skipped: {exc}")
                pytest.skip(str(exc))
        return self._built[name]

    def close(self) -> None:
        while self._built:
            _, backend = self._built.popitem()
            backend.close()
