"""The startup self-test: passes on the reference, refuses a backend that gives one wrong verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from verifier import _selftest_vectors as kat
from verifier.backends import create_backend, select_backend
from verifier.backends.cpu import CpuBackend
from verifier.errors import BackendUnavailableError, SelfTestError
from verifier.schemes import ED25519, MERKLE, Scheme
from verifier.selftest import run_selftest
from verifier.verdict import Policy, Verdict


def test_known_answers_include_the_cofactor_case() -> None:
    split = [c for c in kat.ED25519_CASES if c.libsodium == "EQUATION_FAILED" and c.zip215 == "OK"]
    assert split, "the case where cofactorless and cofactored equations part must be in the self-test"
    assert {c.expected for c in kat.MERKLE_CASES} >= {"OK", "ROOT_MISMATCH", "MALFORMED_PROOF"}


def test_cpu_passes() -> None:
    run_selftest(CpuBackend(workers=1))


class CofactoredCpu(CpuBackend):
    """A CPU backend that (wrongly) accepts the torsion-R signature, as a cofactored libsodium would."""

    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        out = super().run(scheme, batch, policy)
        if scheme is not ED25519:
            return out
        for i, case in enumerate(kat.ED25519_CASES[: len(batch)]):
            if case.libsodium == "EQUATION_FAILED" and case.zip215 == "OK":
                out[i] = Verdict.OK
        return out


class SwappedMerkle(CpuBackend):
    def run(self, scheme: Scheme, batch: Any, policy: Policy | None = None) -> npt.NDArray[np.uint8]:
        out = super().run(scheme, batch, policy)
        if scheme is not MERKLE:
            return out
        out[out == Verdict.ROOT_MISMATCH] = Verdict.MALFORMED_PROOF
        return out


@pytest.mark.parametrize(
    ("backend", "match"), [(CofactoredCpu, "ed25519/libsodium/"), (SwappedMerkle, "merkle/")]
)
def test_a_wrong_backend_is_refused(backend: type[CpuBackend], match: str) -> None:
    with pytest.raises(SelfTestError, match=match):
        run_selftest(backend(workers=1))


def test_select_cpu_and_auto() -> None:
    assert select_backend("cpu").name == "cpu"
    assert select_backend("auto").name in ("cpu", "cuda")


def test_unknown_backend_is_refused_loudly() -> None:
    with pytest.raises(BackendUnavailableError, match="unknown backend 'tpu'"):
        create_backend("tpu")


def test_forced_cuda_without_gpu_raises() -> None:
    try:
        import cupy  # noqa: F401

        if cupy.cuda.runtime.getDeviceCount() > 0:
            pytest.skip("a GPU is usable here; the forced-cuda refusal is for machines without one")
    except Exception:
        pass
    with pytest.raises(BackendUnavailableError):
        select_backend("cuda")
