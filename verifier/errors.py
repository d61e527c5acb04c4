"""Exceptions mean "could not compute"; a bad signature or proof is a verdict, never an exception.

``STATUS`` is the one table of the gRPC status each error is answered with (the server, ``status_of``)
and that the client turns back into an error (``error_for``). Anything else a request raises is an
internal bug, answered UNKNOWN and logged, never taken for the caller's fault.
"""

from __future__ import annotations

__all__ = [
    "VerifierError",
    "InvalidRequestError",
    "LimitExceededError",
    "UnsupportedPolicyError",
    "BackendUnavailableError",
    "KernelError",
    "SelfTestError",
    "DeadlineExceededError",
    "PortInUseError",
    "PermissionDeniedError",
    "UnavailableError",
    "UnknownValidatorSetError",
    "STATUS",
    "error_for",
    "status_of",
]


class VerifierError(Exception):
    """Base of every error this package raises."""


class InvalidRequestError(VerifierError, ValueError):
    """The request as a whole is malformed (columns of different lengths, offsets out of range...)."""


class LimitExceededError(VerifierError, ValueError):
    """The request is over a configured limit (items, bytes)."""


class UnsupportedPolicyError(VerifierError, NotImplementedError):
    """The policy is known but this build or backend does not implement it (yet)."""


class BackendUnavailableError(VerifierError, RuntimeError):
    """A backend that was asked for by name cannot be used on this machine."""


class KernelError(VerifierError, RuntimeError):
    """A device kernel failed (launch failure, out of memory, device lost)."""


class SelfTestError(VerifierError, RuntimeError):
    """A backend returned a wrong answer on the startup known-answer test."""


class DeadlineExceededError(VerifierError, TimeoutError):
    """The caller's deadline passed before its work reached a device; the work was dropped."""


class PortInUseError(VerifierError, OSError):
    """The server cannot listen on an address and port it was given: another process holds the port (the
    usual case), or the system refuses it (a privileged port, an address this host does not have). The
    message is one line naming which listener (gRPC or metrics), the address and port, and why."""


class PermissionDeniedError(VerifierError, PermissionError):
    """The caller may not do this (consensus priority, RegisterValidatorSet): ``ConsensusAccess`` says why."""

    reason = "permission"


class UnavailableError(VerifierError):
    """The server cannot take work yet (its backend is warming up) or any more (it is stopping)."""


class UnknownValidatorSetError(InvalidRequestError, KeyError):
    """A validator-set hash that the registry does not hold (never registered, or evicted)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


# Error -> name of its grpc.StatusCode, most specific first (this module imports no gRPC).
STATUS: tuple[tuple[type[VerifierError], str], ...] = (
    (UnknownValidatorSetError, "NOT_FOUND"),
    (PermissionDeniedError, "PERMISSION_DENIED"),
    (UnavailableError, "UNAVAILABLE"),
    (LimitExceededError, "RESOURCE_EXHAUSTED"),
    (DeadlineExceededError, "DEADLINE_EXCEEDED"),
    (InvalidRequestError, "INVALID_ARGUMENT"),
    (UnsupportedPolicyError, "UNIMPLEMENTED"),
    (VerifierError, "INTERNAL"),
)
_ERRORS: dict[str, type[VerifierError]] = {}
for _error, _code in STATUS:
    _ERRORS.setdefault(_code, _error)


def status_of(exc: BaseException) -> str | None:
    """The status code name ``exc`` is answered with; None for anything that is not a ``VerifierError``."""
    return next((code for error, code in STATUS if isinstance(exc, error)), None)


def error_for(code: str) -> type[VerifierError]:
    """The error a status code name stands for (``VerifierError`` for a code no error maps to)."""
    return _ERRORS.get(code, VerifierError)
