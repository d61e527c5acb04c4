"""Startup known-answer test: a backend that gives one wrong verdict here is never used.

The cases (``verifier/_selftest_vectors.py``, generated and checked against PyNaCl and the independent
reference in the tests) include the signature where the two Ed25519 equations part: R = rB + T with T a
non-zero small-order point, which libsodium's cofactorless check rejects and ZIP-215 accepts. A PyNaCl
built against a libsodium that switched to the cofactored check fails here instead of in production.
"""

from __future__ import annotations

import logging

from verifier import _selftest_vectors as _kat
from verifier.backends.base import Backend
from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.errors import SelfTestError, VerifierError
from verifier.verdict import Policy, Verdict

__all__ = ["run_selftest"]

_log = logging.getLogger(__name__)


def _ed25519_failures(backend: Backend, policy: Policy) -> list[str]:
    cases = _kat.ED25519_CASES
    batch = Ed25519Batch.from_items(
        [c.public_key for c in cases], [c.signature for c in cases], [c.message for c in cases]
    )
    got = backend.verify_ed25519(batch, policy)
    failures = []
    for case, verdict in zip(cases, got):
        want = Verdict[case.libsodium if policy is Policy.LIBSODIUM else case.zip215]
        if int(verdict) != want:
            failures.append(f"ed25519/{policy.value}/{case.name}: got {_name(int(verdict))}, want {want.name}")
    return failures


def _merkle_failures(backend: Backend) -> list[str]:
    cases = _kat.MERKLE_CASES
    batch = MerkleBatch.from_items(
        [c.leaf_index for c in cases],
        [c.tree_size for c in cases],
        [list(c.path) for c in cases],
        [c.root for c in cases],
        leaf_hashes=[c.leaf_hash for c in cases],
    )
    got = backend.verify_merkle(batch)
    return [
        f"merkle/{case.name}: got {_name(int(v))}, want {case.expected}"
        for case, v in zip(cases, got)
        if int(v) != Verdict[case.expected]
    ]


def _name(code: int) -> str:
    try:
        return Verdict(code).name
    except ValueError:
        return f"invalid code {code}"


def run_selftest(backend: Backend) -> None:
    """Run every known answer on ``backend``; raise ``SelfTestError`` naming each wrong verdict."""
    failures: list[str] = []
    try:
        for policy in sorted(backend.policies):
            failures += _ed25519_failures(backend, policy)
        failures += _merkle_failures(backend)
    except VerifierError as exc:
        raise SelfTestError(f"backend {backend.name} failed its self-test: {exc}") from exc
    if failures:
        raise SelfTestError(f"backend {backend.name} failed its self-test: " + "; ".join(failures))
    _log.debug("backend %s passed its self-test", backend.name)
