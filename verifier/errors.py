"""Exceptions mean "could not compute"; a bad signature or proof is a verdict, never an exception."""

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
