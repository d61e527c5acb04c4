"""CuPy plumbing shared by the CUDA kernels: import, device check, compilation, reusable buffers.

* ``import_cupy()`` and ``usable_device()`` raise ``BackendUnavailableError`` with one clear line when CuPy
  is missing or no GPU is usable, so ``select_backend("auto")`` falls back to the CPU and a forced ``cuda``
  fails at startup.
* ``compile_kernels(entry, names)`` compiles ``kernels/<entry>`` as a CuPy ``RawModule`` (NVRTC,
  ``-I kernels``, ``--std=c++17``) NOW and loads every named kernel: CuPy would otherwise compile on the
  first launch, i.e. on the first request. The kernel-source digest goes in as ``-D`` so that CuPy's
  on-disk cache (keyed by the entry file's text and the options, not by included headers) never serves a
  binary built from older headers.
* ``DeviceBuffer`` / ``PinnedBuffer``: grow-only allocations reused across batches.
* ``upload()`` / ``download()``: pinned-staged asynchronous copies on a stream. ``stage()`` fills the
  pinned buffer on several threads for large columns: one host thread copies less than PCIe Gen5 moves
  (benchmarks/NOTES.md, "Host staging"), and a 1M-proof Merkle batch is 1 GB.
* ``run_chunks()``: the two-stream pipeline both kernels use: chunk j on slot j % slots, each slot's
  previous chunk collected before its buffers are reused, verdicts copied back without blocking.
* ``kernel_errors()`` / ``kernel_error()``: the one place CuPy/CUDA exceptions become ``KernelError``
  (naming kernel and batch).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from verifier.backends._native import kernel_sources_digest, kernels_dir
from verifier.backends.base import DeviceInfo
from verifier.errors import BackendUnavailableError, InvalidRequestError, KernelError, VerifierError

__all__ = [
    "ARITH_VARIANTS",
    "NVRTC_OPTIONS",
    "DeviceBuffer",
    "PinnedBuffer",
    "check_aligned",
    "check_offsets",
    "clear",
    "compile_kernels",
    "download",
    "import_cupy",
    "kernel_error",
    "kernel_errors",
    "run_chunks",
    "stage",
    "sync_slots",
    "upload",
    "usable_device",
    "variant_defines",
]

_log = logging.getLogger(__name__)
NVRTC_OPTIONS = ("--std=c++17",)

# Build-time variants of the device code (kernels/common/arith.cuh), so one GPU run can compare them:
# how products are computed ($VERIFIER_CUDA_ARITH: ptx carry chains, or wide 64-bit products) and whether
# the main loop's doublings are unrolled ($VERIFIER_CUDA_DBL_LOOP: 0 unrolled, 1 a loop).
ARITH_VARIANTS = {"ptx": 1, "wide": 2}
# wide until a GPU run says otherwise: on sm_90 it builds with fewer registers, no spills and less SASS
# than ptx (kernels/check_nvcc.sh reports both; figures in benchmarks/NOTES.md, "Sizes in code").
DEFAULT_ARITH = "wide"
DEFAULT_DBL_LOOP = 0


def variant_defines(arith: str | None = None, dbl_loop: int | None = None) -> tuple[str, ...]:
    """The -D values (without "-D") of one variant; unset arguments read the environment, then default."""
    arith = arith or os.environ.get("VERIFIER_CUDA_ARITH") or DEFAULT_ARITH
    if arith not in ARITH_VARIANTS:
        raise BackendUnavailableError(
            f"VERIFIER_CUDA_ARITH={arith!r}: expected one of {', '.join(ARITH_VARIANTS)}"
        )
    if dbl_loop is None:
        raw = os.environ.get("VERIFIER_CUDA_DBL_LOOP") or str(DEFAULT_DBL_LOOP)
        if raw not in ("0", "1"):
            raise BackendUnavailableError(f"VERIFIER_CUDA_DBL_LOOP={raw!r}: expected 0 or 1")
        dbl_loop = int(raw)
    return (f"VERIFIER_ARITH_MUL={ARITH_VARIANTS[arith]}", f"VERIFIER_DBL_LOOP={int(bool(dbl_loop))}")


def import_cupy() -> ModuleType:
    """CuPy, or ``BackendUnavailableError`` saying how to get it."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailableError(
            f"backend cuda needs CuPy (pip install 'verifier[cuda12]' or 'verifier[cuda13]'): {exc}"
        ) from exc
    module: ModuleType = cupy
    return module


def usable_device(cp: ModuleType, index: int = 0) -> DeviceInfo:
    """Describe GPU ``index``, or raise ``BackendUnavailableError`` when there is none / no driver."""
    try:
        count = int(cp.cuda.runtime.getDeviceCount())
    except Exception as exc:  # CUDARuntimeError: no driver, no device, driver too old
        raise BackendUnavailableError(
            f"backend cuda: no usable CUDA device ({type(exc).__name__}: {exc})"
        ) from exc
    if count <= index:
        raise BackendUnavailableError(f"backend cuda: CUDA device {index} requested, {count} present")
    try:
        props = cp.cuda.runtime.getDeviceProperties(index)
    except Exception as exc:
        raise BackendUnavailableError(
            f"backend cuda: device {index} unusable ({type(exc).__name__}: {exc})"
        ) from exc
    name = props.get("name", b"")
    return DeviceInfo(
        kind="cuda",
        name=name.decode(errors="replace") if isinstance(name, bytes) else str(name),
        index=index,
        memory_bytes=int(props.get("totalGlobalMem", 0)),
        compute_capability=f"{props.get('major', 0)}.{props.get('minor', 0)}",
        workers=int(props.get("multiProcessorCount", 0)),
    )


def compile_kernels(
    cp: ModuleType, entry: str, names: Sequence[str], defines: Sequence[str] | None = None
) -> dict[str, Any]:
    """Compile ``kernels/<entry>`` and load ``names`` on the current device; returns name -> RawKernel.
    ``defines``: the -D values, by default ``variant_defines()`` (the environment's variant).

    A source that does not compile makes the backend unavailable (``BackendUnavailableError``)."""
    defines = variant_defines() if defines is None else tuple(defines)
    root = kernels_dir()
    options = (
        f"-I{root}",
        *NVRTC_OPTIONS,
        f"-DVERIFIER_KERNELS_DIGEST=0x{kernel_sources_digest()}ull",
        *(f"-D{d}" for d in defines),
    )
    try:
        module = cp.RawModule(code=(root / entry).read_text(), options=options)
        module.compile()  # now, not lazily on the first launch
        kernels = {name: module.get_function(name) for name in names}
        for name, k in kernels.items():  # touching an attribute loads the binary onto the device
            _log.info(
                "cuda: %s:%s compiled: %s registers, %s bytes local, %s bytes static shared",
                entry,
                name,
                k.num_regs,
                k.local_size_bytes,
                k.shared_size_bytes,
            )
    except VerifierError:
        raise
    except Exception as exc:
        raise BackendUnavailableError(f"backend cuda: {entry} failed to compile or load: {exc}") from exc
    return kernels


class DeviceBuffer:
    """A device array that only grows (by 1.5x), reused across batches."""

    def __init__(self, cp: ModuleType, dtype: Any, initial: int = 1) -> None:
        self._cp = cp
        self.dtype = np.dtype(dtype)
        self.array = cp.empty(max(1, initial), dtype=self.dtype)

    def ensure(self, count: int) -> Any:
        """A view of at least ``count`` elements (contents undefined)."""
        if count > self.array.size:
            self.array = None  # free first: a big batch should not need old + new
            self.array = self._cp.empty(max(count, int(count * 1.5)), dtype=self.dtype)
        return self.array[: max(1, count)]


class PinnedBuffer:
    """A page-locked host array (async copies need one), grow-only, reused across batches."""

    def __init__(self, cp: ModuleType, dtype: Any, initial: int = 1) -> None:
        self._cp = cp
        self.dtype = np.dtype(dtype)
        self._alloc(max(1, initial))

    def _alloc(self, count: int) -> None:
        self._mem = self._cp.cuda.alloc_pinned_memory(count * self.dtype.itemsize)
        self.array: npt.NDArray[Any] = np.frombuffer(self._mem, dtype=self.dtype, count=count)

    def ensure(self, count: int) -> npt.NDArray[Any]:
        if count > self.array.size:
            self._alloc(max(count, int(count * 1.5)))
        return self.array[: max(1, count)]


def kernel_error(kernel: str, n: int, exc: BaseException) -> KernelError:
    """The KernelError for a CuPy/CUDA failure while running ``kernel`` on ``n`` items."""
    return KernelError(f"{kernel} failed on a batch of {n} items: {type(exc).__name__}: {exc}")


_STAGE_THREADS = max(1, min(8, os.cpu_count() or 1))
_STAGE_PART_BYTES = 8 << 20  # below 2 parts of this, one thread: a hand-off costs more than it saves
_stage_pool: ThreadPoolExecutor | None = None
_stage_lock = threading.Lock()


def stage(dst: npt.NDArray[Any], src: npt.NDArray[Any]) -> None:
    """``dst[:] = src`` for 1-D arrays of one dtype, cut over up to 8 threads when large (np.copyto
    releases the GIL)."""
    global _stage_pool
    parts = min(_STAGE_THREADS, src.nbytes // _STAGE_PART_BYTES)
    if parts < 2:
        np.copyto(dst, src)
        return
    with _stage_lock:
        if _stage_pool is None:
            _stage_pool = ThreadPoolExecutor(_STAGE_THREADS, thread_name_prefix="verifier-stage")
        pool = _stage_pool
    bounds = np.linspace(0, src.size, parts + 1, dtype=np.int64).tolist()
    futures = [pool.submit(np.copyto, dst[a:b], src[a:b]) for a, b in itertools.pairwise(bounds)]
    for f in futures:
        f.result()


def upload(dev: DeviceBuffer, host: PinnedBuffer, src: npt.NDArray[Any], stream: Any) -> Any:
    """Copy ``src`` into the pinned buffer, then asynchronously to the device; returns the device view."""
    n = src.size
    h = host.ensure(n)
    d = dev.ensure(n)
    if n:
        stage(h[:n], src.reshape(-1))
        d[:n].set(h[:n], stream=stream)
    return d


def clear(dev: Any, stream: Any) -> Any:
    """Zero ``dev`` on ``stream`` before a kernel writes it: a verdict slot the kernel leaves unwritten then
    reads UNSPECIFIED and the backend's check catches it, instead of a verdict of an earlier batch."""
    with stream:
        dev.fill(0)
    return dev


def check_offsets(column: str, offsets: npt.NDArray[Any], total: int) -> None:
    """Offsets a kernel indexes with never decrease and end within their data (``total`` elements): a batch
    that breaks this would make the kernel read out of bounds and could take the CUDA context down, so it
    is refused on the host (the batch types build them right; this guards internal callers)."""
    if offsets.size and (int(offsets[-1]) > total or bool((offsets[1:] < offsets[:-1]).any())):
        raise InvalidRequestError(
            f"{column}: offsets must not decrease and must end within the data ({total}); "
            f"they run {int(offsets[0])}..{int(offsets[-1])}"
        )


def check_aligned(dev: Any, column: str, alignment: int = 16) -> None:
    """The Merkle kernel loads 32-byte rows as two 16-byte vectors (__ldg of uint4): a row must start on a
    16-byte boundary. CuPy's allocations are 256-byte aligned and the views used start at them."""
    ptr = int(dev.data.ptr)
    if ptr % alignment:
        raise KernelError(f"{column}: device pointer {ptr:#x} is not {alignment}-byte aligned")


def download(dev: Any, host: npt.NDArray[Any], stream: Any) -> None:
    """Enqueue device -> pinned host on ``stream`` without waiting (CuPy >= 13: ``blocking=False``; older
    CuPy blocks here, which is still correct, only without overlap)."""
    try:
        dev.get(stream=stream, out=host, blocking=False)
    except TypeError:
        dev.get(stream=stream, out=host)


class Slot(Protocol):
    """One stream with its own buffers; ``pending`` is the (a, b) whose verdicts are in flight to h_out."""

    stream: Any
    h_out: PinnedBuffer
    pending: tuple[int, int] | None


def _collect(slot: Slot, out: npt.NDArray[np.uint8]) -> None:
    if slot.pending is None:
        return
    slot.stream.synchronize()
    a, b = slot.pending
    out[a:b] = slot.h_out.array[: b - a]
    slot.pending = None


def run_chunks(
    slots: Sequence[Slot],
    chunks: Iterable[tuple[int, int]],
    out: npt.NDArray[np.uint8],
    enqueue: Callable[[Any, int, int], Any],
) -> None:
    """Run chunk j = (a, b) on ``slots[j % len(slots)]``: ``enqueue(slot, a, b)`` stages its inputs and
    launches on ``slot.stream``, returning the device verdicts, which are copied back without blocking.
    A slot's previous chunk is collected into ``out`` before its buffers are reused, and all at the end."""
    for j, (a, b) in enumerate(chunks):
        slot = slots[j % len(slots)]
        _collect(slot, out)
        d_out = enqueue(slot, a, b)
        download(d_out[: b - a], slot.h_out.ensure(b - a)[: b - a], slot.stream)
        slot.pending = (a, b)
    for slot in slots:
        _collect(slot, out)


@contextmanager
def kernel_errors(kernel: str, n: int, slots: Sequence[Slot]) -> Iterator[None]:
    """Turn a CuPy/CUDA failure inside into ``kernel_error(kernel, n, exc)``, dropping in-flight chunks."""
    try:
        yield
    except VerifierError:
        raise
    except Exception as exc:  # CuPy / CUDA runtime, driver, out of memory
        for slot in slots:
            slot.pending = None
        raise kernel_error(kernel, n, exc) from exc


def sync_slots(slots: Sequence[Slot]) -> None:
    for slot in slots:
        slot.stream.synchronize()
