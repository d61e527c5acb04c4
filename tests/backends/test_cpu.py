"""The CPU backend: what only the reference shows.

Every public Ed25519 vector with libsodium's reason labelled by the independent reference, planted faults
item by item against PyNaCl, the Merkle vectors and RFC 6962 tree, and the backend without the host build
of the kernel (no C++ compiler): policy libsodium alone. The Ed25519 and Merkle differential suites run on
this backend as on every backend (tests/backends/test_ed25519.py, test_merkle.py); its policy zip215 runs
the host build of the kernel (PyNaCl cannot express ZIP-215), checked there against the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pytest

from tests.support import ed25519_ref
from tests.support.backends import Backends
from tests.support.vectors import ed25519_vectors
from verifier.backends.cpu import CpuBackend
from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.errors import UnsupportedPolicyError
from verifier.schemes import ED25519, MERKLE
from verifier.verdict import Policy, Verdict


@pytest.fixture(scope="module")
def cpu(backends: Backends) -> CpuBackend:
    return cast(CpuBackend, backends.get("cpu"))


def test_without_the_host_kernel_only_libsodium() -> None:
    """``zip215=False`` (what a machine without a C++ compiler gets): libsodium only, zip215 refused by name."""
    be = CpuBackend(workers=1, zip215=False)
    try:
        assert be.policies["ed25519"] == frozenset({Policy.LIBSODIUM})
        with pytest.raises(UnsupportedPolicyError, match="zip215"):
            be.run(ED25519, Ed25519Batch.from_items([], [], []), Policy.ZIP215)
    finally:
        be.close()


def test_no_compiler_leaves_zip215_out(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No host compiler: the backend still starts, serving libsodium, with one log line saying why."""
    from verifier.backends import _zip215_batch
    from verifier.errors import BackendUnavailableError

    def no_compiler(*args: object, **kwargs: object) -> None:
        raise BackendUnavailableError("backend emu needs a host C++ compiler (g++, c++ or clang++) on PATH")

    # Policy zip215's batch verifier is built by verifier.backends._native.build_emu_library.
    monkeypatch.setattr(_zip215_batch, "build_emu_library", no_compiler)
    with caplog.at_level("WARNING", logger="verifier.schemes.ed25519"):
        be = CpuBackend(workers=1)
    try:
        assert be.policies["ed25519"] == frozenset({Policy.LIBSODIUM})
        assert [r.getMessage() for r in caplog.records if "zip215 unavailable" in r.getMessage()]
    finally:
        be.close()


def test_every_ed25519_vector(cpu: CpuBackend) -> None:
    vectors = ed25519_vectors()
    batch = Ed25519Batch.from_items(
        [v.public_key for v in vectors], [v.signature for v in vectors], [v.message for v in vectors]
    )
    got = cpu.run(ED25519, batch, Policy.LIBSODIUM)
    wrong = []
    for v, code in zip(vectors, got, strict=True):
        verdict = Verdict(int(code))
        if (verdict is Verdict.OK) != v.expected_valid_libsodium:
            wrong.append(f"{v.name}: {verdict.name}, vector says valid={v.expected_valid_libsodium}")
        elif verdict is not Verdict.OK:
            want = ed25519_ref.verify_libsodium(v.public_key, v.signature, v.message)
            if verdict is not want:
                wrong.append(f"{v.name}: reason {verdict.name}, reference says {want.name}")
    assert not wrong, wrong
    assert len(vectors) >= 1000 and int(np.count_nonzero(got != Verdict.OK)) > 50


@pytest.mark.slow
def test_planted_ed25519_faults_reason_by_reason(cpu: CpuBackend, rng: object) -> None:
    import random

    from tests.support.faults import make_ed25519_batch, pynacl_accepts

    assert isinstance(rng, random.Random)
    planted = make_ed25519_batch(rng, 20_000, fault_rate=0.3)
    batch = Ed25519Batch.from_items(planted.public_keys, planted.signatures, planted.messages)
    got = cpu.run(ED25519, batch, Policy.LIBSODIUM)
    assert not planted.mismatches("libsodium", got.tolist())[:20]
    # And straight against PyNaCl, item by item, on a slice that holds every kind.
    for i in range(0, len(planted), 7):
        ok = pynacl_accepts(planted.public_keys[i], planted.signatures[i], planted.messages[i])
        assert ok == (got[i] == Verdict.OK), planted.describe(i)
    assert len(set(planted.kinds)) > 15


@pytest.mark.parametrize("leaf_form", ["hash", "data"])
def test_planted_merkle_faults(cpu: CpuBackend, rng: object, leaf_form: str) -> None:
    import random

    from tests.support.faults import make_merkle_batch

    assert isinstance(rng, random.Random)
    planted = make_merkle_batch(rng, 5_000, leaf_form=leaf_form)
    got = cpu.run(MERKLE, MerkleBatch.from_items(**planted.from_items_kwargs()))
    assert not planted.mismatches(got.tolist())[:20]
    assert {Verdict.OK, Verdict.ROOT_MISMATCH, Verdict.MALFORMED_PROOF} <= set(planted.expected)


def test_threads_follow_the_cpu_quota_not_the_node(tmp_path: Path) -> None:
    """A container limited to 1.5 CPUs on a bigger node gets 2 threads (cgroup v2 cpu.max, or v1's cfs
    files), never more than it may run on; no quota: the CPUs it may run on."""
    import os

    from verifier.backends._abi import usable_cpus

    affinity = len(os.sched_getaffinity(0))
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert usable_cpus(str(v2)) == min(affinity, 2)
    (v2 / "cpu.max").write_text("max 100000\n")
    assert usable_cpus(str(v2)) == affinity
    (v2 / "cpu.max").write_text("50000 100000\n")
    assert usable_cpus(str(v2)) == 1
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert usable_cpus(str(v1)) == 1
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert usable_cpus(str(v1)) == affinity
    assert usable_cpus(str(tmp_path / "none")) == affinity
