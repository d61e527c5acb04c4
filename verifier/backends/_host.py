"""The kernels of ``kernels/`` built for the host CPU and launched over a thread pool: the machinery
behind backend ``emu`` (the test backend); ``HostKeyStore`` also serves the ``cpu`` backend's zip215
batch verifier (``verifier.backends._zip215_batch``).

Each entry file is one ``EmuKernelSpec`` (entry file, symbol, ctypes argument types), built by
``verifier.backends._native.build_emu_library`` with the host C++ compiler and ``-DVERIFIER_EMU`` (each
inline-PTX primitive has a portable twin), cached by source digest. A launch cuts the grid into ranges
of thread blocks run on a ``PriorityPool`` (ctypes releases the GIL).
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends._abi import ED25519_POLICY_CODES, MAX_ITEMS, POINT_BYTES
from verifier.backends._native import build_emu_library
from verifier.backends.pool import PriorityPool
from verifier.batch import EcdsaBatch, Ed25519Batch, MerkleBatch
from verifier.errors import LimitExceededError
from verifier.schemes import HostContext, NoKeyStore
from verifier.verdict import Policy

__all__ = [
    "BLOCK_DIM",
    "EmuKernel",
    "EmuKernelSpec",
    "HostEcdsa",
    "HostEd25519",
    "HostKeyStore",
    "HostMerkle",
    "MERKLE_KERNEL",
    "run_ed25519",
    "run_merkle",
]

BLOCK_DIM = 64
# Items per pool task at most: about 40 ms of the host Ed25519 kernel (benchmarks/NOTES.md, "Sizes in code").
_TASK_ITEMS = 256
_PTR = ctypes.c_void_p


@dataclasses.dataclass(frozen=True)
class EmuKernelSpec:
    """One ``VERIFIER_KERNEL`` of one entry file: ``<symbol>_emu(block_begin, block_end, block_dim, *args)``."""

    entry: str  # file under kernels/, e.g. "ed25519_verify.cu"
    symbol: str  # kernel name, e.g. "ed25519_verify_kernel"
    argtypes: tuple[Any, ...]  # ctypes types of the kernel's own parameters
    defines: tuple[str, ...] = ()  # -D options for the build


_ED25519 = EmuKernelSpec(
    entry="ed25519_verify.cu",
    symbol="ed25519_verify_kernel",
    # keys, sigs, msgs, offsets, malformed, out, n, policy, key_slots, store_keys, store_points,
    # store_status, store_rows
    argtypes=(
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        ctypes.c_uint32,
        ctypes.c_int,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        ctypes.c_uint32,
    ),
)

_STORE_KEYS = EmuKernelSpec(
    entry="ed25519_verify.cu",
    symbol="ed25519_store_keys_kernel",
    # keys, slots, n, store_keys, store_points, store_status, store_rows
    argtypes=(_PTR, _PTR, ctypes.c_uint32, _PTR, _PTR, _PTR, ctypes.c_uint32),
)

# One kernel per curve (index 0 secp256k1, 1 P-256); parameters: keys, key_offsets, sigs, sig_offsets,
# digests, malformed, out, n, low_s.
ECDSA_KERNELS = tuple(
    EmuKernelSpec(
        entry="ecdsa_verify.cu",
        symbol=f"ecdsa_{curve}_verify_kernel",
        argtypes=(_PTR, _PTR, _PTR, _PTR, _PTR, _PTR, _PTR, ctypes.c_uint32, ctypes.c_int),
    )
    for curve in ("secp256k1", "p256")
)

MERKLE_KERNEL = EmuKernelSpec(
    entry="merkle_verify.cu",
    symbol="merkle_verify_kernel",
    # leaf_hashes, leaf_data, leaf_offsets, leaf_indices, tree_sizes, path_hashes, path_offsets, roots,
    # root_indices, malformed, out, n, num_roots
    argtypes=(
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        _PTR,
        ctypes.c_uint32,
        ctypes.c_uint32,
    ),
)


class EmuKernel:
    """A kernel built for the host and launched over a thread pool, one range of blocks per task."""

    def __init__(self, spec: EmuKernelSpec, pool: PriorityPool, workers: int, block_dim: int = BLOCK_DIM):
        self.spec = spec
        self.block_dim = block_dim
        self._pool = pool
        self._workers = workers
        self._lib = build_emu_library(spec.entry, spec.defines)  # keeps the library loaded
        fn = getattr(self._lib, f"{spec.symbol}_emu")
        fn.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, *spec.argtypes]
        fn.restype = None
        self._fn = fn

    def launch(self, n: int, *args: Any) -> None:
        """Run the grid covering ``n`` items; returns when every block has run."""
        if n == 0:
            return
        blocks = -(-n // self.block_dim)
        # A few tasks per thread even out message lengths; tasks of at most _TASK_ITEMS items keep each
        # one short, so more urgent work queued on the pool starts within one task.
        tasks = min(blocks, max(4 * self._workers, -(-n // _TASK_ITEMS)))
        bounds = np.linspace(0, blocks, tasks + 1, dtype=np.int64)
        if tasks == 1:
            self._fn(0, blocks, self.block_dim, *args)
            return
        futures = [
            self._pool.submit(self._fn, int(a), int(b), self.block_dim, *args)
            for a, b in itertools.pairwise(bounds)
            if b > a
        ]
        for f in futures:
            f.result()


def _ptr(a: npt.NDArray[Any], offset: int = 0) -> int:
    """The address of ``a``'s data, ``offset`` bytes in."""
    return int(a.ctypes.data) + offset


class HostKeyStore:
    """A decoded-key store in host memory (kernels/ec/key_store.cuh): ``rows`` rows of a key's 32 bytes,
    its decoded point (``point_bytes``: sizeof(ge25519_p3) in the build's field representation) and a
    status byte. At least one row is allocated, so the pointers are valid even with none."""

    def __init__(self, rows: int, point_bytes: int = POINT_BYTES) -> None:
        self.rows = rows
        self.keys = np.zeros((max(rows, 1), 32), dtype=np.uint8)
        self.points = np.zeros((max(rows, 1), point_bytes), dtype=np.uint8)
        self.status = np.zeros(max(rows, 1), dtype=np.uint8)

    def args(self) -> tuple[int, int, int, int]:
        """The store as a kernel takes it: keys, points, status, rows."""
        return _ptr(self.keys), _ptr(self.points), _ptr(self.status), self.rows

    def checked(
        self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
        """``slots`` and ``public_keys`` (k, 32) as a store writer takes them, each slot < rows."""
        slots = np.ascontiguousarray(slots, dtype=np.uint32)
        keys = np.ascontiguousarray(public_keys, dtype=np.uint8).reshape(-1, 32)
        if len(slots) != len(keys):
            raise ValueError(f"{len(slots)} slots for {len(keys)} keys")
        if len(slots) and int(slots.max()) >= self.rows:
            raise ValueError(f"slot {int(slots.max())} is outside the store's {self.rows} rows")
        return slots, keys


class HostEd25519:
    """The Ed25519 kernel built for the host (compiled now, or loaded from the cache), with its key store:
    ``rows`` decoded keys (kernels/ec/key_store.cuh) that items name in ``Ed25519Batch.key_slots``. The
    runner of scheme ed25519 on backend emu (both policies)."""

    policies = frozenset(ED25519_POLICY_CODES)

    def __init__(
        self,
        pool: PriorityPool,
        workers: int,
        block_dim: int = BLOCK_DIM,
        rows: int = 0,
        defines: tuple[str, ...] = (),
    ) -> None:
        """``defines``: -D values of a build-time variant (kernels/common/arith.cuh), e.g. VERIFIER_DBL_LOOP=1."""
        self.verify = EmuKernel(dataclasses.replace(_ED25519, defines=defines), pool, workers, block_dim)
        self._store = EmuKernel(_STORE_KEYS, pool, workers, block_dim)
        self.store = HostKeyStore(rows)

    @classmethod
    def runner(cls, ctx: HostContext) -> HostEd25519:
        """Scheme ed25519's host runner (``Scheme.host``): built now, not on first use."""
        return cls(ctx.pool, ctx.workers, ctx.block_dim, ctx.key_store_rows)  # type: ignore[arg-type]

    @property
    def key_store_rows(self) -> int:
        return self.store.rows

    def run(self, batch: Ed25519Batch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        assert policy is not None
        return run_ed25519(self, batch, policy)

    def close(self) -> None:
        return None  # the pool is the backend's

    def put_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        """Decode ``public_keys`` (k, 32) into rows ``slots`` (distinct, < rows). The caller makes sure no
        verification runs meanwhile (``Engine`` holds its store lock)."""
        slots, keys = self.store.checked(slots, public_keys)
        self._store.launch(len(keys), _ptr(keys), _ptr(slots), len(keys), *self.store.args())


class HostEcdsa(NoKeyStore):
    """The ECDSA kernel built for the host, for one curve: the runner of the ECDSA schemes on backend emu.
    ``low_s``: the policies that require s <= n/2 (the others take any s in [1, n-1])."""

    def __init__(
        self, pool: PriorityPool, workers: int, block_dim: int, curve: int, policies: dict[Policy, bool]
    ) -> None:
        self.kernel = EmuKernel(ECDSA_KERNELS[curve], pool, workers, block_dim)
        self.curve = curve
        self._low_s = policies
        self.policies = frozenset(policies)

    @classmethod
    def secp256k1(cls, ctx: HostContext) -> HostEcdsa:
        """Scheme ecdsa-secp256k1's host runner (``Scheme.host``)."""
        return cls(ctx.pool, ctx.workers, ctx.block_dim, 0, {Policy.LIBSECP256K1: True, Policy.LAX: False})  # type: ignore[arg-type]

    @classmethod
    def p256(cls, ctx: HostContext) -> HostEcdsa:
        """Scheme ecdsa-p256's host runner (``Scheme.host``)."""
        return cls(ctx.pool, ctx.workers, ctx.block_dim, 1, {Policy.OPENSSL: False, Policy.FABRIC: True})  # type: ignore[arg-type]

    def run(self, batch: EcdsaBatch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        assert policy is not None
        n, out = len(batch), _verdict_slots(len(batch), "ECDSA")
        if n == 0:
            return out

        def col(a: npt.NDArray[Any], dtype: Any) -> npt.NDArray[Any]:
            c = np.ascontiguousarray(a, dtype=dtype)
            return c if c.size else np.zeros(1, dtype=dtype)  # a valid pointer; no item reads it

        cols = [
            col(batch.public_keys, np.uint8),
            col(batch.key_offsets, np.uint64),
            col(batch.signatures, np.uint8),
            col(batch.signature_offsets, np.uint64),
            col(batch.digests, np.uint8),
            np.ascontiguousarray(batch.malformed, dtype=np.bool_).view(np.uint8),
        ]
        self.kernel.launch(n, *(_ptr(a) for a in cols), _ptr(out), n, int(self._low_s[policy]))
        return out


class HostMerkle(NoKeyStore):
    """The Merkle kernel built for the host: the runner of scheme merkle on backend emu."""

    policies: frozenset[Policy] = frozenset()

    def __init__(self, pool: PriorityPool, workers: int, block_dim: int = BLOCK_DIM) -> None:
        self.kernel = EmuKernel(MERKLE_KERNEL, pool, workers, block_dim)

    @classmethod
    def runner(cls, ctx: HostContext) -> HostMerkle:
        """Scheme merkle's host runner (``Scheme.host``)."""
        return cls(ctx.pool, ctx.workers, ctx.block_dim)  # type: ignore[arg-type]

    def run(self, batch: MerkleBatch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        return run_merkle(self.kernel, batch)


def _verdict_slots(n: int, kernel: str) -> npt.NDArray[np.uint8]:
    """``n`` zeroed verdict slots (UNSPECIFIED until the kernel writes them); a launch takes n as uint32."""
    if n > MAX_ITEMS:
        raise LimitExceededError(
            f"the host {kernel} kernel takes at most {MAX_ITEMS} items per call, got {n}"
        )
    return np.zeros(n, dtype=np.uint8)


def run_ed25519(kernel: HostEd25519, batch: Ed25519Batch, policy: Policy) -> npt.NDArray[np.uint8]:
    """The host-built Ed25519 kernel over ``batch``: one Verdict code per item (``SchemeBackend.run`` checks
    that every slot was written).

    Backend ``emu`` runs both policies here (backend ``cpu`` runs zip215 as batch verification,
    ``verifier.backends._zip215_batch``). Items with a ``key_slots`` row take their decoded key from the store when
    the row holds that very key (policy zip215).
    """
    n, out = len(batch), _verdict_slots(len(batch), "Ed25519")
    if n == 0:
        return out
    keys, sigs, msgs, offsets, malformed, slots = batch.kernel_columns()
    if msgs.size == 0:
        msgs = np.zeros(1, dtype=np.uint8)  # a valid pointer; no item reads it
    kernel.verify.launch(
        n,
        _ptr(keys),
        _ptr(sigs),
        _ptr(msgs),
        _ptr(offsets),
        _ptr(malformed),
        _ptr(out),
        n,
        ED25519_POLICY_CODES[policy],
        None if slots is None else _ptr(slots),
        *kernel.store.args(),
    )
    return out


def run_merkle(kernel: EmuKernel, batch: MerkleBatch) -> npt.NDArray[np.uint8]:
    """The host-built Merkle kernel over ``batch``: OK, MALFORMED_PROOF or ROOT_MISMATCH per proof
    (docs/RULES.md section 3)."""
    n, out = len(batch), _verdict_slots(len(batch), "Merkle")
    if n == 0:
        return out

    def col(a: npt.NDArray[Any] | None, dtype: Any) -> npt.NDArray[Any]:
        c = np.ascontiguousarray(a if a is not None else np.zeros(0), dtype=dtype)
        return c if c.size else np.zeros(1, dtype=dtype)  # a valid pointer; no item reads it

    by_hash = batch.leaf_hashes is not None
    leaf_hashes = col(batch.leaf_hashes, np.uint8)
    leaf_data, leaf_offsets = col(batch.leaf_data, np.uint8), col(batch.leaf_offsets, np.uint64)
    roots = col(batch.roots, np.uint8)
    keep = [
        col(batch.leaf_indices, np.uint64),
        col(batch.tree_sizes, np.uint64),
        col(batch.path_hashes, np.uint8),
        col(batch.path_offsets, np.uint64),
        roots,
        col(batch.root_indices, np.uint32),
        np.ascontiguousarray(batch.malformed, dtype=np.bool_).view(np.uint8),
    ]
    kernel.launch(
        n,
        _ptr(leaf_hashes) if by_hash else None,
        None if by_hash else _ptr(leaf_data),
        None if by_hash else _ptr(leaf_offsets),
        *(_ptr(a) for a in keep),
        _ptr(out),
        n,
        int(batch.roots.shape[0]),
    )
    return out
