"""Backend selection: the only place a backend is chosen.

``select_backend("auto")`` takes CUDA when a GPU is usable and its self-test passes, else the CPU, with
one log line saying why. A backend asked for by name that cannot run raises ``BackendUnavailableError``.
``emu`` (the CUDA kernel sources built for the host CPU) is a test and review backend, never chosen by
``auto``. ``devices`` ("all", a count, or a list "0,2"; ``verifier serve --devices``) builds one backend
per device, each self-tested, behind ``verifier.backends.multi.MultiDevice`` when there are several
(for ``emu``, host "devices" sharing the cores; ``cpu`` has one).
"""

from __future__ import annotations

import importlib
import logging
import os

from verifier.backends._abi import usable_cpus
from verifier.backends.base import Backend, DeviceInfo
from verifier.errors import BackendUnavailableError, VerifierError

__all__ = ["Backend", "DeviceInfo", "BACKEND_NAMES", "select_backend", "create_backend", "create_devices"]

_log = logging.getLogger(__name__)

# name -> "module:Class"; imported lazily so that the CPU path never imports CuPy.
_REGISTRY = {
    "cpu": "verifier.backends.cpu:CpuBackend",
    "emu": "verifier.backends.emu:EmuBackend",
    "cuda": "verifier.backends.cuda:CudaBackend",
}
BACKEND_NAMES = ("auto", *_REGISTRY)
_ENV = "VERIFIER_BACKEND"


def create_backend(name: str, **kwargs: object) -> Backend:
    """Construct the named backend (not ``auto``); raises ``BackendUnavailableError`` if it cannot run.
    ``kwargs`` go to its class (``device`` for cuda, ``workers`` for cpu and emu)."""
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
    backend: Backend = getattr(module, cls_name)(**kwargs)
    return backend


def _device_count(name: str) -> int:
    if name == "cuda":
        from verifier.backends.cuda._module import import_cupy

        try:
            return int(import_cupy().cuda.runtime.getDeviceCount())
        except Exception as exc:  # noqa: BLE001 - no driver, no device: unavailable, with the reason
            raise BackendUnavailableError(f"backend cuda: cannot count devices: {exc}") from exc
    if name == "emu":
        return usable_cpus()
    return 1


def create_devices(name: str, devices: str) -> Backend:
    """Backend ``name`` on the devices ``devices`` names, each self-tested: one backend, or a
    ``MultiDevice`` over several."""
    from verifier.backends.multi import MultiDevice, parse_devices
    from verifier.selftest import run_selftest

    try:
        picked = parse_devices(devices, _device_count(name))
    except ValueError as exc:
        if name == "cpu":
            raise BackendUnavailableError(
                f"backend cpu has one device (its threads share every core), not --devices {devices!r}"
            ) from exc
        raise BackendUnavailableError(f"backend {name}: {exc}") from exc
    members: list[Backend] = []
    try:
        for index in picked:
            if name == "cuda":
                member = create_backend(name, device=index)
            elif name == "emu":
                member = create_backend(name, workers=max(1, usable_cpus() // len(picked)))
            else:
                member = create_backend(name)
            members.append(member)
            run_selftest(member)
    except BaseException:
        for m in members:
            m.close()
        raise
    if len(members) == 1:
        return members[0]
    return MultiDevice(members, labels=[str(i) for i in picked])  # type: ignore[return-value]


def select_backend(name: str | None = None, devices: str | None = None) -> Backend:
    """The backend for ``name`` (default: ``$VERIFIER_BACKEND``, else ``auto``), self-tested; on the
    devices ``devices`` names (None: the backend's default device)."""
    from verifier.selftest import run_selftest

    name = name or os.environ.get(_ENV) or "auto"

    def make(which: str) -> Backend:
        if devices is not None:
            return create_devices(which, devices)
        backend = create_backend(which)
        run_selftest(backend)
        return backend

    if name != "auto":
        return make(name)
    try:
        return make("cuda")
    except VerifierError as exc:
        _log.info("backend auto: CUDA not used (%s); using cpu", exc)
    backend = create_backend("cpu")
    run_selftest(backend)
    return backend
