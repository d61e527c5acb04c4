"""The Ed25519 kernel (kernels/ed25519_verify.cu) built for the host: what only the host build shows.

The differential suite (vectors, ZIP-215 small-order set, hostile encodings, planted faults, key store,
offsets, ...) runs on backend ``emu`` as on every backend, in tests/backends/test_ed25519.py. Here, white
box: the key-store row is what the kernel reads (on emu and on the CPU backend's zip215 path, the same host
build), an unwritten verdict is an error, and the build-time variant with the doublings as a loop gives the
same verdicts.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from tests.support import ed25519_ref as ref
from tests.support.ed25519_cases import batch_of, names, planted_fault_batch
from verifier.errors import KernelError
from verifier.schemes import ED25519
from verifier.verdict import Policy, Verdict

_POLICIES = (Policy.LIBSODIUM, Policy.ZIP215)


@pytest.mark.parametrize("which", ["emu", "cpu"])
def test_key_store_row_is_what_the_kernel_uses(which: str) -> None:
    """White box: the kernel really takes A from the row (a corrupted point turns a valid signature into
    EQUATION_FAILED under zip215), only for the key the row holds (another key naming that row still
    verifies), and policy libsodium never looks at it."""
    from verifier.backends.cpu import CpuBackend
    from verifier.backends.emu import EmuBackend

    be: Any = EmuBackend(workers=1) if which == "emu" else CpuBackend(workers=1)
    try:
        host = be.runners["ed25519"] if which == "emu" else be.runners["ed25519"]._zip215
        seeds = [bytes([1]) * 32, bytes([2]) * 32]
        pks = [ref.public_key_from_seed(s) for s in seeds]
        batch = batch_of(pks, [ref.sign(s, b"m") for s in seeds], [b"m", b"m"])
        be.store_keys(ED25519, np.array([5], dtype=np.uint32), np.frombuffer(pks[0], np.uint8).reshape(1, 32))
        assert int(host.store.status[5]) == 1 and host.store.keys[5].tobytes() == pks[0]
        host.store.points[5, :32] ^= 0x01  # flip a bit of X
        slotted = batch.with_key_slots([5, 5])
        assert names(be.run(ED25519, slotted, Policy.ZIP215)) == {"EQUATION_FAILED": 1, "OK": 1}
        assert int(be.run(ED25519, slotted, Policy.ZIP215)[1]) == Verdict.OK  # pk[1] is not the row's key
        assert names(be.run(ED25519, slotted, Policy.LIBSODIUM)) == {"OK": 2}
        assert names(be.run(ED25519, batch, Policy.ZIP215)) == {"OK": 2}  # no slots: decoded per item
    finally:
        be.close()


def test_unwritten_slot_is_a_kernel_error() -> None:
    """An unknown policy code makes the kernel write UNSPECIFIED (zero); the backend turns that into an
    error, never into an answer."""
    from verifier.backends import _abi, emu

    be = emu.EmuBackend(workers=1)
    try:
        saved = dict(_abi.ED25519_POLICY_CODES)
        _abi.ED25519_POLICY_CODES[Policy.ZIP215] = 7
        seed = bytes(32)
        batch = batch_of([ref.public_key_from_seed(seed)], [ref.sign(seed, b"m")], [b"m"])
        with pytest.raises(KernelError, match=r"backend emu \(ed25519\) left 1 of 1 verdicts unwritten"):
            be.run(ED25519, batch, Policy.ZIP215)
    finally:
        _abi.ED25519_POLICY_CODES.update(saved)
        be.close()


def test_the_loop_variant_of_the_main_loop_gives_the_same_verdicts(rng: random.Random) -> None:
    """VERIFIER_DBL_LOOP=1 (the doublings as a loop that is not unrolled, a build-time variant the GPU check
    compares) built for the host: the same verdicts as the default build on planted faults, both policies."""
    from verifier.backends._host import HostEd25519, run_ed25519
    from verifier.backends.pool import PriorityPool

    pool = PriorityPool(2)
    try:
        looped = HostEd25519(pool, 2, defines=("VERIFIER_DBL_LOOP=1",))
        batch, expected, kinds, _ = planted_fault_batch(rng, 3000, None)
        for pol in _POLICIES:
            got = run_ed25519(looped, batch, pol)
            bad = np.flatnonzero(got != expected[pol])
            assert bad.size == 0, [(kinds[i], int(got[i]), int(expected[pol][i])) for i in bad[:10]]
    finally:
        pool.shutdown()
