"""The ECDSA kernel on the GPU (kernels/ecdsa_verify.cu, both curves): the runner of the two ECDSA schemes
on backend cuda. Same shape as ``merkle.py``: a batch is cut into chunks of at most ``max_batch`` items,
chunk j on stream j % 2 with that stream's own grow-only device and pinned buffers; the kernel re-bases
each chunk's key and signature offsets on their first entry. Calls are serialized by a lock (one set of
buffers) that the most urgent caller gets next.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.backends.cuda._module import (
    DeviceBuffer,
    PinnedBuffer,
    check_offsets,
    clear,
    compile_kernels,
    kernel_errors,
    run_chunks,
    sync_slots,
    upload,
    variant_defines,
)
from verifier.backends.pool import PriorityLock
from verifier.batch import EcdsaBatch
from verifier.schemes import CudaContext, NoKeyStore
from verifier.verdict import Policy

__all__ = ["ENTRY", "KERNELS", "EcdsaKernel", "compile_curve"]

ENTRY = "ecdsa_verify.cu"
KERNELS = ("ecdsa_secp256k1_verify_kernel", "ecdsa_p256_verify_kernel")  # by curve: 0 secp256k1, 1 P-256
_MAX_ITEMS_PER_LAUNCH = 2**31  # n is a uint32 kernel argument; grid x up to 2^31 - 1 blocks


def compile_curve(cp: ModuleType, curve: int) -> Any:
    """The kernel of ``curve`` (0 secp256k1, 1 P-256) compiled and loaded, from a module built with only
    that kernel (``-DECDSA_CURVE``): half the compile time of the whole entry."""
    name = KERNELS[curve]
    return compile_kernels(cp, ENTRY, [name], (*variant_defines(), f"ECDSA_CURVE={curve}"))[name]


class _Slot:
    """One stream with its own device and pinned buffers."""

    def __init__(self, cp: ModuleType) -> None:
        self.stream = cp.cuda.Stream(non_blocking=True)
        self.d_keys, self.h_keys = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_key_offsets, self.h_key_offsets = DeviceBuffer(cp, np.uint64), PinnedBuffer(cp, np.uint64)
        self.d_sigs, self.h_sigs = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_sig_offsets, self.h_sig_offsets = DeviceBuffer(cp, np.uint64), PinnedBuffer(cp, np.uint64)
        self.d_digests, self.h_digests = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_malformed, self.h_malformed = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.d_out, self.h_out = DeviceBuffer(cp, np.uint8), PinnedBuffer(cp, np.uint8)
        self.pending: tuple[int, int] | None = None  # (a, b) whose verdicts are in flight to h_out


class EcdsaKernel(NoKeyStore):
    """The ECDSA kernel of one curve (0: ``ecdsa_secp256k1_verify_kernel``, 1: ``ecdsa_p256_verify_kernel``)
    compiled for the current device, with reusable buffers. ``low_s``: per policy, whether it requires
    s <= n/2."""

    def __init__(
        self,
        cp: ModuleType,
        curve: int,
        low_s: dict[Policy, bool],
        *,
        block_dim: int = 128,
        max_batch: int = 1 << 20,
        streams: int = 2,
    ) -> None:
        if not 1 <= max_batch <= _MAX_ITEMS_PER_LAUNCH:
            raise ValueError(f"max_batch must be in [1, {_MAX_ITEMS_PER_LAUNCH}], got {max_batch}")
        self._cp = cp
        self.curve = curve
        self._low_s = low_s
        self.policies = frozenset(low_s)
        self.block_dim = block_dim
        self.max_batch = max_batch
        self.kernel = KERNELS[curve]
        self.function = compile_curve(cp, curve)
        self._slots = [_Slot(cp) for _ in range(max(1, streams))]
        self._lock = PriorityLock()

    @classmethod
    def secp256k1(cls, ctx: CudaContext) -> EcdsaKernel:
        """Scheme ecdsa-secp256k1's CUDA runner (``Scheme.cuda``)."""
        low_s = {Policy.LIBSECP256K1: True, Policy.LAX: False}
        return cls(ctx.cp, 0, low_s, block_dim=ctx.block_dim, max_batch=ctx.max_batch)

    @classmethod
    def p256(cls, ctx: CudaContext) -> EcdsaKernel:
        """Scheme ecdsa-p256's CUDA runner (``Scheme.cuda``)."""
        low_s = {Policy.OPENSSL: False, Policy.FABRIC: True}
        return cls(ctx.cp, 1, low_s, block_dim=ctx.block_dim, max_batch=ctx.max_batch)

    def launch(
        self,
        stream: Any,
        n: int,
        keys: Any,
        key_offsets: Any,
        sigs: Any,
        sig_offsets: Any,
        digests: Any,
        malformed: Any,
        out: Any,
        low_s: bool,
    ) -> None:
        """Enqueue the kernel on ``stream`` over device arrays."""
        grid = (n + self.block_dim - 1) // self.block_dim
        with stream:
            self.function(
                (grid,),
                (self.block_dim,),
                (
                    keys,
                    key_offsets,
                    sigs,
                    sig_offsets,
                    digests,
                    malformed,
                    out,
                    np.uint32(n),
                    np.int32(int(low_s)),
                ),
            )

    def run(self, batch: EcdsaBatch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        assert policy is not None
        n = len(batch)
        out = np.zeros(n, dtype=np.uint8)
        if n == 0:
            return out
        low_s = self._low_s[policy]
        keys, sigs = np.ascontiguousarray(batch.public_keys), np.ascontiguousarray(batch.signatures)
        key_offsets = np.ascontiguousarray(batch.key_offsets, dtype=np.uint64)
        sig_offsets = np.ascontiguousarray(batch.signature_offsets, dtype=np.uint64)
        digests = np.ascontiguousarray(batch.digests, dtype=np.uint8)
        malformed = np.ascontiguousarray(batch.malformed, dtype=np.bool_).view(np.uint8)
        check_offsets("key_offsets", key_offsets, keys.size)
        check_offsets("signature_offsets", sig_offsets, sigs.size)

        def enqueue(slot: _Slot, a: int, b: int) -> Any:
            s = slot.stream
            k0, k1 = int(key_offsets[a]), int(key_offsets[b])
            s0, s1 = int(sig_offsets[a]), int(sig_offsets[b])
            d_keys = upload(slot.d_keys, slot.h_keys, keys[k0:k1], s)
            d_key_offsets = upload(slot.d_key_offsets, slot.h_key_offsets, key_offsets[a : b + 1], s)
            d_sigs = upload(slot.d_sigs, slot.h_sigs, sigs[s0:s1], s)
            d_sig_offsets = upload(slot.d_sig_offsets, slot.h_sig_offsets, sig_offsets[a : b + 1], s)
            d_digests = upload(slot.d_digests, slot.h_digests, digests[a:b], s)
            d_malformed = upload(slot.d_malformed, slot.h_malformed, malformed[a:b], s)
            d_out = clear(slot.d_out.ensure(b - a)[: b - a], s)
            self.launch(
                s, b - a, d_keys, d_key_offsets, d_sigs, d_sig_offsets, d_digests, d_malformed, d_out, low_s
            )
            return d_out

        chunks = [(a, min(n, a + self.max_batch)) for a in range(0, n, self.max_batch)]
        with self._lock, kernel_errors(self.kernel, n, self._slots):
            run_chunks(self._slots, chunks, out, enqueue)
        return out

    def close(self) -> None:
        with self._lock:
            sync_slots(self._slots)
            self._slots = []
