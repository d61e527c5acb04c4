"""The engine fixture of the CometBFT tests: each commit check runs on every backend that can run here."""

from __future__ import annotations

import pytest

from tests.support.cometbft import backend_verify
from verifier import cometbft as cb
from verifier.verdict import Policy


@pytest.fixture(
    params=[("cpu", Policy.ZIP215), ("emu", Policy.ZIP215), ("cpu", Policy.LIBSODIUM)],
    ids=["cpu-zip215", "emu-zip215", "cpu-libsodium"],
)
def engine_verify(request: pytest.FixtureRequest) -> cb.VerifyFn:
    """The engine of a backend with a policy (zip215 on every backend; libsodium on cpu as a cross-check)."""
    backend, policy = request.param
    print(f"backend {backend}, policy {policy.value}")
    return backend_verify(backend, policy)
