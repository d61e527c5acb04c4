"""A minimal fake of the CuPy calls ``CudaBackend`` makes, for its host logic without a GPU.

Device arrays are numpy arrays; streams, events and the device are context managers that record what
happened; each kernel launch runs the emu build (``verifier.backends._native.build_emu_library``) of the
same kernel on the arrays' buffers. ``FakeCupy`` counts launches (``launches``: items per launch;
``slot_launches``: Ed25519 launches with key slots; ``num_roots`` and ``null_args``: per Merkle launch)
and can fail a launch (``fail_launch``; ``fail_devices``: only on those device indices) or leave one
Ed25519 verdict unwritten (``skip_write``). ``devices``: how many GPUs it reports (``--devices``). The Merkle
kernel is faked only with ``FakeCupy(merkle=True)``; otherwise a launch of it fails the test.
``install`` puts a fake in ``sys.modules["cupy"]`` for one test.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import types
from typing import Any

import numpy as np
import pytest

__all__ = [
    "FakeArray",
    "FakeCupy",
    "FakeDevice",
    "FakeKernel",
    "FakeMerkleKernel",
    "FakeStoreKernel",
    "FakeStream",
    "UnusedKernel",
    "install",
]


class FakeArray:
    """The slice of cupy.ndarray the backend uses: empty, [:n], size, set(), get()."""

    def __init__(self, host: np.ndarray) -> None:
        self.host = host

    @property
    def size(self) -> int:
        return int(self.host.size)

    def __getitem__(self, key: slice) -> FakeArray:
        return FakeArray(self.host[key])

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        assert isinstance(stream, FakeStream) and arr.shape == self.host.shape
        np.copyto(self.host, arr)

    def get(self, stream: Any = None, out: np.ndarray | None = None, blocking: bool = True) -> np.ndarray:
        if out is None:
            return self.host.copy()
        assert isinstance(stream, FakeStream) and not blocking  # the backend must not wait per chunk
        np.copyto(out, self.host)
        return out

    @property
    def data(self) -> Any:  # cupy.ndarray.data.ptr: the device address (here the host buffer's)
        return types.SimpleNamespace(ptr=int(self.host.ctypes.data))

    def fill(self, value: int) -> None:
        assert FakeStream.current is not None, "fill outside a stream context"
        self.host.fill(value)


class FakeDevice(contextlib.nullcontext):  # type: ignore[type-arg]
    current: list[int] = [0]  # the device of the innermost ``with``, as cupy's current device

    def __init__(self, index: int = 0) -> None:
        super().__init__()
        self.index = index

    def __enter__(self) -> None:
        FakeDevice.current.append(self.index)

    def __exit__(self, *exc: object) -> None:
        FakeDevice.current.pop()

    def synchronize(self) -> None:
        pass


class FakeStream:
    current: FakeStream | None = None

    def __init__(self, non_blocking: bool = False) -> None:
        self.synchronized = 0

    def __enter__(self) -> FakeStream:
        FakeStream.current = self
        return self

    def __exit__(self, *exc: object) -> None:
        FakeStream.current = None

    def synchronize(self) -> None:
        self.synchronized += 1


class FakeKernel:
    """ed25519_verify_kernel, run by its emu build on the fake arrays."""

    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __init__(self, fake: FakeCupy) -> None:
        from verifier.backends._native import build_emu_library

        self._fake = fake
        self._fn = build_emu_library("ed25519_verify.cu").ed25519_verify_kernel_emu
        p, u32 = ctypes.c_void_p, ctypes.c_uint32
        self._fn.argtypes = [
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_uint,
            p,
            p,
            p,
            p,
            p,
            p,
            u32,
            ctypes.c_int,
            p,
            p,
            p,
            p,
            u32,
        ]

    def __call__(self, grid: tuple[int], block: tuple[int], args: tuple[Any, ...]) -> None:
        assert FakeStream.current is not None, "launch outside a stream context"
        self._fake.launches.append(int(args[6]))
        if self._fake.fail_launch or FakeDevice.current[-1] in self._fake.fail_devices:
            raise RuntimeError("cudaErrorLaunchFailure: unspecified launch failure")
        ptrs = [int(a.host.ctypes.data) for a in args[:6]]
        assert grid[0] * block[0] >= int(args[6])
        slots = args[8]
        # CuPy passes None as 0xffffffff, not NULL (cupy/cupy#9046): the backend must pass 0 for "none".
        assert slots is not None and (
            isinstance(slots, FakeArray) or (isinstance(slots, np.uint64) and slots == 0)
        )
        if isinstance(slots, FakeArray):
            self._fake.slot_launches += 1
        store = [int(a.host.ctypes.data) for a in args[9:12]]
        out = args[5].host
        before = out.copy()
        self._fn(
            0,
            grid[0],
            block[0],
            *ptrs,
            int(args[6]),
            int(args[7]),
            int(slots.host.ctypes.data) if isinstance(slots, FakeArray) else None,
            *store,
            int(args[12]),
        )
        if self._fake.skip_write is not None:  # a thread that never wrote its verdict
            out[self._fake.skip_write] = before[self._fake.skip_write]


class FakeStoreKernel:
    """ed25519_store_keys_kernel, run by its emu build on the fake arrays."""

    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __init__(self) -> None:
        from verifier.backends._native import build_emu_library

        self._fn = build_emu_library("ed25519_verify.cu").ed25519_store_keys_kernel_emu
        p, u32 = ctypes.c_void_p, ctypes.c_uint32
        self._fn.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, p, p, u32, p, p, p, u32]

    def __call__(self, grid: tuple[int], block: tuple[int], args: tuple[Any, ...]) -> None:
        assert FakeStream.current is not None, "launch outside a stream context"
        keys, slots, n, sk, sp, ss, rows = args
        self._fn(
            0,
            grid[0],
            block[0],
            int(keys.host.ctypes.data),
            int(slots.host.ctypes.data),
            int(n),
            int(sk.host.ctypes.data),
            int(sp.host.ctypes.data),
            int(ss.host.ctypes.data),
            int(rows),
        )


class FakeMerkleKernel:
    """merkle_verify_kernel, run by its emu build on the fake arrays; records each launch's item count,
    roots-table size and null pointer arguments."""

    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __init__(self, fake: FakeCupy) -> None:
        from verifier.backends._native import build_emu_library

        self._fake = fake
        self._fn = build_emu_library("merkle_verify.cu").merkle_verify_kernel_emu
        p = ctypes.c_void_p
        self._fn.argtypes = [
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_uint,
            *[p] * 11,
            ctypes.c_uint32,
            ctypes.c_uint32,
        ]

    def __call__(self, grid: tuple[int], block: tuple[int], args: tuple[Any, ...]) -> None:
        assert FakeStream.current is not None, "launch outside a stream context"
        n, num_roots = int(args[11]), int(args[12])
        self._fake.launches.append(n)
        self._fake.num_roots.append(num_roots)
        if self._fake.fail_launch or FakeDevice.current[-1] in self._fake.fail_devices:
            raise RuntimeError("cudaErrorLaunchFailure: unspecified launch failure")
        assert grid[0] * block[0] >= n
        ptrs = [
            None if isinstance(a, np.uint64) and int(a) == 0 else int(a.host.ctypes.data) for a in args[:11]
        ]
        self._fake.null_args.append(tuple(k for k, q in enumerate(ptrs) if q is None))
        self._fn(0, grid[0], block[0], *ptrs, n, num_roots)


class FakeEcdsaKernel:
    """An ECDSA kernel (one per curve), run by its emu build on the fake arrays, built with the module's
    ECDSA_CURVE define as the backend compiles it; records each launch's item count."""

    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __init__(self, fake: FakeCupy, name: str, defines: tuple[str, ...]) -> None:
        from verifier.backends._native import build_emu_library

        self._fake = fake
        self._fn = getattr(build_emu_library("ecdsa_verify.cu", defines), f"{name}_emu")
        p = ctypes.c_void_p
        self._fn.argtypes = [
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_uint,
            *[p] * 7,
            ctypes.c_uint32,
            ctypes.c_int,
        ]

    def __call__(self, grid: tuple[int], block: tuple[int], args: tuple[Any, ...]) -> None:
        assert FakeStream.current is not None, "launch outside a stream context"
        n = int(args[7])
        self._fake.launches.append(n)
        if self._fake.fail_launch or FakeDevice.current[-1] in self._fake.fail_devices:
            raise RuntimeError("cudaErrorLaunchFailure: unspecified launch failure")
        assert grid[0] * block[0] >= n
        self._fn(0, grid[0], block[0], *(int(a.host.ctypes.data) for a in args[:7]), n, int(args[8]))


class UnusedKernel:
    """A kernel the tests compile (the backend builds every module) but never launch."""

    num_regs, local_size_bytes, shared_size_bytes = 0, 0, 0

    def __call__(self, *args: Any) -> None:
        raise AssertionError("this fake kernel is not launched by these tests (FakeCupy(merkle=False))")


class FakeCupy(types.ModuleType):
    def __init__(self, *, merkle: bool = False, ecdsa: bool = False) -> None:
        super().__init__("cupy")
        self.merkle = merkle
        self.ecdsa = ecdsa
        self.device_count = 1
        self.launches: list[int] = []
        self.slot_launches = 0
        self.num_roots: list[int] = []
        self.null_args: list[tuple[int, ...]] = []
        self.fail_launch = False
        self.fail_devices: set[int] = set()
        self.skip_write: int | None = None
        fake = self

        class RawModule:
            def __init__(self, code: str, options: tuple[str, ...]) -> None:
                self.code = code
                self.options = options
                assert any(o.startswith("-I") for o in options) and "--std=c++17" in options

            def compile(self) -> None:
                pass

            def get_function(self, name: str) -> Any:
                assert name in self.code
                if name == "ed25519_verify_kernel":
                    return FakeKernel(fake)
                if name == "ed25519_store_keys_kernel":
                    return FakeStoreKernel()
                if name == "merkle_verify_kernel" and fake.merkle:
                    return FakeMerkleKernel(fake)
                if name.startswith("ecdsa_") and fake.ecdsa:
                    curve = tuple(o[2:] for o in self.options if o.startswith("-DECDSA_CURVE="))
                    return FakeEcdsaKernel(fake, name, curve)
                return UnusedKernel()

        runtime = types.SimpleNamespace(
            getDeviceCount=lambda: fake.device_count,
            getDeviceProperties=lambda i: {
                "name": b"Fake GPU",
                "totalGlobalMem": 1 << 30,
                "major": 9,
                "minor": 0,
                "multiProcessorCount": 2,
            },
        )

        class Event:
            def record(self, stream: Any = None) -> None:
                pass

            def synchronize(self) -> None:
                pass

        self.RawModule = RawModule
        self.uint8 = np.uint8
        self.cuda = types.SimpleNamespace(
            Event=Event,
            get_elapsed_time=lambda start, end: 1.0,
            runtime=runtime,
            Stream=FakeStream,
            Device=FakeDevice,
            alloc_pinned_memory=lambda nbytes: bytearray(nbytes),
        )

    def asarray(self, a: np.ndarray) -> FakeArray:
        return FakeArray(np.ascontiguousarray(a).copy())

    def zeros(self, n: int, dtype: Any) -> FakeArray:
        return FakeArray(np.zeros(n, dtype=dtype))

    def empty(self, n: int, dtype: Any) -> FakeArray:
        return FakeArray(
            np.full(n, 0xA5, dtype=dtype) if np.dtype(dtype) == np.uint8 else np.empty(n, dtype=dtype)
        )


def install(
    monkeypatch: pytest.MonkeyPatch, *, merkle: bool = False, ecdsa: bool = False, devices: int = 1
) -> FakeCupy:
    """A new ``FakeCupy`` as ``import cupy`` for the rest of the test."""
    fake = FakeCupy(merkle=merkle, ecdsa=ecdsa)
    fake.device_count = devices
    monkeypatch.setitem(sys.modules, "cupy", fake)
    return fake
