"""Backend selection: the only place a backend is chosen.

``select_backend("auto")`` takes CUDA when a GPU is usable and its self-test passes, else the CPU, with
one log line saying why. A backend asked for by name that cannot run raises ``BackendUnavailableError``.
``emu`` (the CUDA kernel sources built for the host CPU) is a test and review backend, never chosen by
``auto``.
"""

from __future__ import annotations

import importlib
import logging
import os

from verifier.backends.base import Backend, DeviceInfo
from verifier.errors import BackendUnavailableError, VerifierError

__all__ = ["Backend", "DeviceInfo", "BACKEND_NAMES", "select_backend", "create_backend"]

_log = logging.getLogger(__name__)

# name -> "module:Class"; imported lazily so that the CPU path never imports CuPy.
_REGISTRY = {
    "cpu": "verifier.backends.cpu:CpuBackend",
    "emu": "verifier.backends.emu:EmuBackend",
    "cuda": "verifier.backends.cuda:CudaBackend",
}
BACKEND_NAMES = ("auto", *_REGISTRY)
_ENV = "VERIFIER_BACKEND"


def create_backend(name: str) -> Backend:
    """Construct the named backend (not ``auto``); raises ``BackendUnavailableError`` if it cannot run."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise BackendUnavailableError(
            f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}"
        ) from None
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailableError(f"backend {name!r} cannot be imported: {exc}") from exc
    backend: Backend = getattr(module, cls_name)()
    return backend


def select_backend(name: str | None = None) -> Backend:
    """The backend for ``name`` (default: ``$VERIFIER_BACKEND``, else ``auto``), self-tested."""
    from verifier.selftest import run_selftest

    name = name or os.environ.get(_ENV) or "auto"
    if name != "auto":
        backend = create_backend(name)
        run_selftest(backend)
        return backend
    try:
        backend = create_backend("cuda")
        run_selftest(backend)
        return backend
    except VerifierError as exc:
        _log.info("backend auto: CUDA not used (%s); using cpu", exc)
    backend = create_backend("cpu")
    run_selftest(backend)
    return backend
