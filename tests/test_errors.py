"""verifier.errors: the one status table, read both ways (server: error -> status; client: status -> error)."""

from __future__ import annotations

import grpc
import pytest

from verifier import errors


@pytest.mark.parametrize(("error", "code"), errors.STATUS)
def test_every_status_names_a_grpc_code_and_comes_back_as_the_error(
    error: type[errors.VerifierError], code: str
) -> None:
    assert isinstance(getattr(grpc.StatusCode, code), grpc.StatusCode)
    exc = error("x")
    assert errors.status_of(exc) == code
    assert issubclass(errors.error_for(code), errors.VerifierError)
    assert isinstance(exc, errors.error_for(code))  # the client raises this error or a base of it


def test_subclasses_take_their_bases_status_and_bugs_take_none() -> None:
    assert errors.status_of(errors.KernelError("launch")) == "INTERNAL"
    assert errors.status_of(errors.UnknownValidatorSetError("hash")) == "NOT_FOUND"  # before INVALID_ARGUMENT
    assert errors.error_for("NOT_FOUND") is errors.UnknownValidatorSetError
    # An internal bug is not the caller's fault: no status of its own (the server answers UNKNOWN).
    assert errors.status_of(ValueError("bug")) is None and errors.status_of(TypeError("bug")) is None
    assert errors.error_for("UNKNOWN") is errors.VerifierError
