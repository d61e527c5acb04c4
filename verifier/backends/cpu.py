"""The CPU backend: PyNaCl (libsodium) for Ed25519 policy libsodium, hashlib for Merkle proofs, and the
host build of the project's Ed25519 kernel for policy zip215.

Every other backend must return these verdicts item by item. libsodium only says accept or reject, so a
rejection is labelled by re-running the cheap checks of SPEC.md section 1 in libsodium's order
(``_libsodium_reject_reason``); the label never changes accept/reject, which is PyNaCl's alone.
PyNaCl releases the GIL, so a batch is cut into one chunk per worker thread.

ZIP-215 (SPEC.md section 2) cannot be expressed with libsodium: it accepts non-canonical and small-order
encodings that every libsodium entry point refuses. No maintained Python package implements it, so policy
zip215 runs the kernel sources of ``kernels/`` compiled for the host (``verifier.backends._host``, shared with the test backend ``emu``), the code
that the differential tests check against the independent reference on every input. It is built (or
loaded from the cache) when the backend is constructed; without a host C++ compiler the backend offers
policy libsodium alone and says so in one log line.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from verifier.backends._abi import DEFAULT_KEY_STORE_ROWS, cpu_model
from verifier.backends._host import HostEd25519, ed25519_kernel, run_ed25519
from verifier.backends.base import DeviceInfo
from verifier.backends.pool import PriorityPool
from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.errors import BackendUnavailableError, UnsupportedPolicyError
from verifier.verdict import Policy, Verdict

__all__ = ["CpuBackend", "merkle_verify_one"]

_log = logging.getLogger(__name__)

# Curve25519 constants (RFC 8032 section 5.1).
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, -1, _P)) % _P
# libsodium's small-order blocklist (ed25519_ref10.c ge25519_has_small_order), as y-values of the
# 255-bit encoding: 0, 1, the two y of the order-8 points, p-1, p, p+1.
_BLOCKLIST = frozenset(
    {
        0,
        1,
        2707385501144840649318225287225658788936804267575313519463743609750303402022,
        55188659117513257062467267217118295137698188065244968500265048394206261417927,
        _P - 1,
        _P,
        _P + 1,
    }
)
_Y_MASK = (1 << 255) - 1
# Below this many items a batch runs on the calling thread: a pool hand-off costs more than it saves.
_MIN_ITEMS_PER_THREAD = 64
# libsodium verifies about 15-20k signatures/s per core here: 512 items is a task of ~30 ms.
_MAX_ITEMS_PER_TASK = 512

# RFC 9162 section 2.1.1 domain separation prefixes.
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_HASH_SIZE = 32


def _libsodium_reject_reason(pk: bytes, sig: bytes) -> Verdict:
    """Why libsodium rejected (pk, sig): the first failing check of SPEC.md section 1, steps 2-6.

    Called only after PyNaCl rejected, so when steps 2-6 all pass the equation failed.
    """
    if int.from_bytes(sig[32:], "little") >= _L:
        return Verdict.NON_CANONICAL_S
    if int.from_bytes(sig[:32], "little") & _Y_MASK in _BLOCKLIST:
        return Verdict.SMALL_ORDER_R
    y = int.from_bytes(pk, "little") & _Y_MASK
    if y >= _P:
        return Verdict.NON_CANONICAL_KEY
    if y in _BLOCKLIST:
        return Verdict.SMALL_ORDER_KEY
    # x^2 = (y^2 - 1) / (d y^2 + 1) must be a square (Euler's criterion; u = 0 is the square 0).
    yy = y * y % _P
    x2 = (yy - 1) * pow(_D * yy + 1, -1, _P) % _P
    if x2 != 0 and pow(x2, (_P - 1) // 2, _P) != 1:
        return Verdict.UNDECODABLE_KEY
    return Verdict.EQUATION_FAILED


def _ed25519_chunk(batch: Ed25519Batch, start: int, stop: int, out: npt.NDArray[np.uint8]) -> None:
    keys = batch.public_keys[start:stop].tobytes()
    sigs = batch.signatures[start:stop].tobytes()
    offsets = batch.message_offsets
    base = int(offsets[start])
    msgs = batch.messages[base : int(offsets[stop])].tobytes()
    malformed = batch.malformed
    for j, i in enumerate(range(start, stop)):
        if malformed[i]:
            out[i] = Verdict.MALFORMED_LENGTH
            continue
        pk = keys[32 * j : 32 * j + 32]
        sig = sigs[64 * j : 64 * j + 64]
        msg = msgs[int(offsets[i]) - base : int(offsets[i + 1]) - base]
        try:
            crypto_sign_open(sig + msg, pk)
            out[i] = Verdict.OK
        except BadSignatureError:
            out[i] = _libsodium_reject_reason(pk, sig)


def merkle_verify_one(
    leaf_hash: bytes, leaf_index: int, tree_size: int, path: list[bytes], root: bytes
) -> Verdict:
    """RFC 9162 section 2.1.3.2 inclusion-proof verification, exactly as SPEC.md section 3 writes it."""
    if tree_size == 0 or leaf_index >= tree_size:
        return Verdict.MALFORMED_PROOF
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash
    for p in path:
        if sn == 0:  # path too long
            return Verdict.MALFORMED_PROOF
        if fn & 1 or fn == sn:
            r = hashlib.sha256(_NODE_PREFIX + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # path too short
        return Verdict.MALFORMED_PROOF
    return Verdict.OK if r == root else Verdict.ROOT_MISMATCH


class CpuBackend:
    """Reference backend. ``workers`` threads (default: every core) share an Ed25519 batch.

    ``zip215=False`` leaves policy zip215 out (no host build of the kernel).
    """

    name = "cpu"

    def __init__(self, workers: int | None = None, *, zip215: bool = True, key_store_rows: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool = PriorityPool(self.workers, thread_name_prefix="verifier-cpu")
        self._zip215: HostEd25519 | None = None
        self.key_store_rows = 0
        if zip215:
            try:
                # 16-item blocks: a commit of ~100 signatures still spreads over every core (64 would not).
                rows = key_store_rows if key_store_rows is not None else DEFAULT_KEY_STORE_ROWS
                self._zip215 = ed25519_kernel(self._pool, self.workers, block_dim=16, rows=rows)
                self.key_store_rows = rows
            except BackendUnavailableError as exc:
                _log.warning("backend cpu: policy zip215 unavailable, serving libsodium only: %s", exc)
        self.policies = frozenset({Policy.LIBSODIUM} | ({Policy.ZIP215} if self._zip215 else set()))

    def devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(kind="cpu", name=cpu_model(), workers=self.workers)]

    def _run_chunks(
        self, n: int, work: Callable[[int, int, npt.NDArray[np.uint8]], None]
    ) -> npt.NDArray[np.uint8]:
        out = np.zeros(n, dtype=np.uint8)
        # One part per thread, and parts of at most _MAX_ITEMS_PER_TASK items, so that a consensus batch
        # submitted meanwhile waits for one short task, not for a bulk batch's share of a thread.
        parts = max(min(self.workers, max(1, n // _MIN_ITEMS_PER_THREAD)), -(-n // _MAX_ITEMS_PER_TASK))
        if parts == 1:
            work(0, n, out)
            return out
        bounds = np.linspace(0, n, parts + 1, dtype=np.int64)
        futures = [self._pool.submit(work, int(a), int(b), out) for a, b in zip(bounds[:-1], bounds[1:])]
        for f in futures:
            f.result()
        return out

    def verify_ed25519(self, batch: Ed25519Batch, policy: Policy) -> npt.NDArray[np.uint8]:
        if policy is Policy.LIBSODIUM:
            return self._run_chunks(len(batch), lambda a, b, out: _ed25519_chunk(batch, a, b, out))
        if policy is Policy.ZIP215 and self._zip215 is not None:
            return run_ed25519(self._zip215, batch, policy)
        raise UnsupportedPolicyError(
            f"backend cpu does not implement policy {getattr(policy, 'value', policy)!r} "
            f"(supported: {', '.join(sorted(p.value for p in self.policies))})"
        )

    def verify_merkle(self, batch: MerkleBatch) -> npt.NDArray[np.uint8]:
        # hashlib holds the GIL for inputs this small, so threads would not help: one pass. Columns are
        # turned into bytes and lists once; per-item numpy indexing would cost more than the hashing.
        n = len(batch)
        out = np.empty(n, dtype=np.uint8)
        roots = [r.tobytes() for r in batch.roots]
        paths = batch.path_hashes.tobytes()
        path_offsets = batch.path_offsets.tolist()
        indices, sizes = batch.leaf_indices.tolist(), batch.tree_sizes.tolist()
        root_of, malformed = batch.root_indices.tolist(), batch.malformed.tolist()
        if batch.leaf_hashes is not None:
            leaves = batch.leaf_hashes.tobytes()
            leaf_hash = [leaves[32 * i : 32 * i + 32] for i in range(n)]
        else:
            assert batch.leaf_data is not None and batch.leaf_offsets is not None
            data, lo = batch.leaf_data.tobytes(), batch.leaf_offsets.tolist()
            leaf_hash = [hashlib.sha256(_LEAF_PREFIX + data[lo[i] : lo[i + 1]]).digest() for i in range(n)]
        for i in range(n):
            if malformed[i]:
                out[i] = Verdict.MALFORMED_PROOF
                continue
            a, b = path_offsets[i], path_offsets[i + 1]
            path = [paths[32 * j : 32 * j + 32] for j in range(a, b)]
            out[i] = merkle_verify_one(leaf_hash[i], indices[i], sizes[i], path, roots[root_of[i]])
        return out

    def store_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        """Decode keys into the zip215 path's key store (nothing to do without one: items then decode)."""
        if self._zip215 is not None:
            self._zip215.put_keys(slots, public_keys)

    def memory_in_use(self) -> int:
        return 0  # host memory only

    def close(self) -> None:
        self._pool.shutdown(wait=True)
