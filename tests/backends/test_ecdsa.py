"""The ECDSA schemes (docs/RULES.md section 5) on every backend that has them (cpu: libsecp256k1 and
OpenSSL; emu: kernels/ecdsa_verify.cu built for the host; cuda once it has a runner): every Wycheproof
case under every policy against the verdict recorded from the reference libraries, with each rejection's
reason the rules' cheap checks give, and 20,000 planted faults per scheme, reason by reason.
"""

from __future__ import annotations

import dataclasses
import os
import random
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from tests.support.ecdsa_faults import ECDSA_FAULT_KINDS, make_ecdsa_faults
from tests.support.vectors import ecdsa_vectors
from verifier.backends.base import Backend
from verifier.batch import EcdsaBatch
from verifier.schemes import ECDSA_P256, ECDSA_SECP256K1, Scheme
from verifier.schemes._ecdsa import P256, SECP256K1, Curve, decode_point, parse_signature, reject_reason
from verifier.verdict import Policy, Verdict

_CURVES: dict[str, Curve] = {ECDSA_SECP256K1.name: SECP256K1, ECDSA_P256.name: P256}
_ECDSA = pytest.mark.parametrize("scheme", [ECDSA_SECP256K1, ECDSA_P256], ids=lambda s: s.name)


def _run(backend: Backend, scheme: Scheme, batch: Any, policy: Policy) -> npt.NDArray[np.uint8]:
    if scheme.name not in backend.policies:
        pytest.skip(f"backend {backend.name} has no {scheme.name} kernel yet (the engine runs it on the CPU)")
    return backend.run(scheme, batch, policy)


@_ECDSA
def test_every_wycheproof_case_every_policy(backend: Backend, scheme: Scheme) -> None:
    """Accept exactly where the reference library accepted (recorded in *.expected.json), and every
    rejection labelled by the first failing check of section 5."""
    vectors = ecdsa_vectors(scheme.name)
    batch = EcdsaBatch.from_items(
        [v.public_key for v in vectors], [v.signature for v in vectors], [v.digest for v in vectors]
    )
    curve = _CURVES[scheme.name]
    for policy in scheme.policies:
        got = _run(backend, scheme, batch, policy)
        wrong = [
            f"{v.name}: {Verdict(int(code)).name}, recorded valid={v.valid[policy.value]}"
            for v, code in zip(vectors, got, strict=True)
            if (int(code) == Verdict.OK) != v.valid[policy.value]
        ]
        assert not wrong, wrong[:10]
        for v, code in zip(vectors, got, strict=True):
            if int(code) != Verdict.OK:
                assert Verdict(int(code)) is reject_reason(curve, v.public_key, v.signature, policy), v.name
        for v in vectors:  # the cheap checks never refuse what the reference accepts (RULES.md 5)
            if parse_signature(v.signature) is None or decode_point(curve, v.public_key) is None:
                assert not v.valid[policy.value], v.name
        valid = int(np.count_nonzero(got == Verdict.OK))
        assert valid == sum(v.valid[policy.value] for v in vectors) and valid > 90, (policy, valid)


@_ECDSA
def test_a_policy_with_the_low_s_rule_rejects_exactly_the_high_s_the_other_accepts(
    backend: Backend, scheme: Scheme
) -> None:
    vectors = ecdsa_vectors(scheme.name)
    batch = EcdsaBatch.from_items(
        [v.public_key for v in vectors], [v.signature for v in vectors], [v.digest for v in vectors]
    )
    strict, lax = (
        _run(backend, scheme, batch, p)
        for p in sorted(scheme.policies, key=lambda p: p not in _CURVES[scheme.name].low_s_policies)
    )
    diff = np.flatnonzero(strict != lax)
    # Where they part, the low-S policy says HIGH_S (checked before the equation) and the other accepts,
    # or finds the equation failed.
    assert set(strict[diff].tolist()) == {Verdict.HIGH_S}
    assert set(lax[diff].tolist()) <= {Verdict.OK, Verdict.EQUATION_FAILED}
    assert int(np.count_nonzero(lax[diff] == Verdict.OK)) > 10
    assert not np.any((lax == Verdict.OK) & (strict != Verdict.OK) & (strict != Verdict.HIGH_S))


@_ECDSA
def test_planted_faults_reason_by_reason(backend: Backend, scheme: Scheme, seed: int) -> None:
    """20,000 items (2^20 on a GPU) with one planted fault each (tests/support/ecdsa_faults.py):
    every verdict, under both policies, is the one the fault was made to produce."""
    # 20,000 distinct items on the host backends (or $VERIFIER_ECDSA_ITEMS); 2^20 on a GPU, 65,536
    # distinct ones tiled (a million Python-built items would take most of a minute).
    n = int(os.environ.get("VERIFIER_ECDSA_ITEMS") or 20_000)
    faults = make_ecdsa_faults(scheme.name, random.Random(seed), 65_536 if backend.name == "cuda" else n)
    if backend.name == "cuda":
        tiles = (1 << 20) // 65_536
        faults = dataclasses.replace(
            faults,
            public_keys=faults.public_keys * tiles,
            signatures=faults.signatures * tiles,
            digests=faults.digests * tiles,
            kinds=faults.kinds * tiles,
            expected={p: v * tiles for p, v in faults.expected.items()},
        )
        n = 1 << 20
    batch = EcdsaBatch.from_items(faults.public_keys, faults.signatures, faults.digests)
    for policy in scheme.policies:
        got = _run(backend, scheme, batch, policy)
        want = faults.expected[policy]
        wrong = [
            f"{i} {faults.kinds[i]}: got {Verdict(int(got[i])).name}, want {want[i].name}"
            for i in range(n)
            if int(got[i]) != want[i]
        ]
        assert not wrong, f"seed {seed}, {policy.value}: {len(wrong)} wrong, e.g. {wrong[:5]}"
    assert set(faults.kinds) == set(ECDSA_FAULT_KINDS)


@_ECDSA
@pytest.mark.parametrize("key_bytes", [33, 65])
def test_distinct_valid_signatures_agree_with_the_cpu(
    backend: Backend, cpu_reference: Backend | None, scheme: Scheme, key_bytes: int
) -> None:
    """4,096 distinct signatures (distinct digests, 64 keys, every 64th digest changed after signing):
    the planted faults reuse 256 signatures, so this is where many distinct u1, u2 (and, on secp256k1,
    GLV splits) meet the equation."""
    if cpu_reference is None:
        pytest.skip("the backend under test is the CPU reference itself")
    from verifier.bench.kinds import bench_kind

    batch = bench_kind(scheme.name).workload(key_bytes, 4096, key_bytes).batch(4096)
    for policy in scheme.policies:
        got = _run(backend, scheme, batch, policy)
        want = cpu_reference.run(scheme, batch, policy)
        assert np.array_equal(got, want), np.flatnonzero(got != want)[:10]
        assert int(np.count_nonzero(got == Verdict.OK)) == 4096 - 4096 // 64
