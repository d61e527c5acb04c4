"""Startup known-answer test: a backend that gives one wrong verdict here is never used.

Every scheme's known answers (``Scheme.known_answers``), under every policy the backend implements. The
Ed25519 and Merkle cases (``verifier/_selftest_vectors.py``, generated and checked against PyNaCl and the independent
reference in the tests) include the signature where the two Ed25519 equations part: R = rB + T with T a
non-zero small-order point, which libsodium's cofactorless check rejects and ZIP-215 accepts. A PyNaCl
built against a libsodium that switched to the cofactored check fails here instead of in production.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from verifier.backends.base import Backend
from verifier.errors import SelfTestError, VerifierError
from verifier.schemes import SCHEMES, Scheme
from verifier.verdict import Policy, Verdict

__all__ = ["probe_until_passing", "run_selftest"]

_log = logging.getLogger(__name__)


def _failures(backend: Backend, scheme: Scheme, policy: Policy | None) -> list[str]:
    kat = scheme.known_answers()
    got = backend.run(scheme, kat.batch, policy)
    where = f"{scheme.name}/{policy.value}" if policy is not None else scheme.name
    return [
        f"{where}/{name}: got {_name(int(verdict))}, want {want.name}"
        for name, verdict, want in zip(kat.names, got, kat.expected[policy], strict=True)
        if int(verdict) != want
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
        for scheme in SCHEMES:
            if scheme.name not in backend.policies:
                continue  # no kernel for it on this backend: the engine runs it on the CPU
            policies = sorted(backend.policies.get(scheme.name, ())) if scheme.policies else [None]
            for policy in policies:
                failures += _failures(backend, scheme, policy)
    except VerifierError as exc:
        raise SelfTestError(f"backend {backend.name} failed its self-test: {exc}") from exc
    if failures:
        raise SelfTestError(f"backend {backend.name} failed its self-test: " + "; ".join(failures))
    _log.debug("backend %s passed its self-test", backend.name)


def probe_until_passing(
    backend: Backend,
    interval: float,
    closed: threading.Event,
    what: str,
    test: Callable[[Backend], None] | None = None,
) -> bool:
    """Self-test ``backend`` (``test``, default ``run_selftest``) every ``interval`` seconds until it
    passes (True) or ``closed`` is set (False): the probe that brings a failed device back. Logs each
    failure as "<what> still unhealthy: ..." and the pass once; ``what`` names the device ("backend
    cuda", "cuda device 1")."""
    check = test or run_selftest
    while not closed.wait(interval):
        try:
            check(backend)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the device out
            _log.warning("%s still unhealthy: %s", what, exc)
            continue
        _log.info("%s passed its self-test again; back in service", what)
        return True
    return False
