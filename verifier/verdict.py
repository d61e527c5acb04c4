"""Verdict codes: why an item was accepted or rejected.

The numbers are part of the wire format. They are identical here, in ``kernels/verdict.cuh`` and in the
``Verdict`` enum of ``protos/verifier/v1/verifier.proto``; ``tests/test_verdict.py`` checks all three.
Zero never means valid: a slot nobody wrote reads ``UNSPECIFIED`` and is an internal error.
"""

from __future__ import annotations

import enum

__all__ = ["Verdict", "Policy", "parse_policy"]


class Verdict(enum.IntEnum):
    UNSPECIFIED = 0
    OK = 1
    # Ed25519, in the order libsodium checks (SPEC.md section 1).
    MALFORMED_LENGTH = 2  # public key not 32 bytes or signature not 64 bytes
    NON_CANONICAL_S = 3  # S >= L
    SMALL_ORDER_R = 4  # R on the 7-value small-order blocklist (libsodium policy)
    NON_CANONICAL_KEY = 5  # A's y >= p (libsodium policy)
    SMALL_ORDER_KEY = 6  # A on the small-order blocklist (libsodium policy)
    UNDECODABLE_KEY = 7  # A is not the encoding of a curve point
    EQUATION_FAILED = 8  # the verification equation does not hold
    UNDECODABLE_R = 9  # R is not the encoding of a curve point (zip215 policy only)
    # Merkle inclusion proofs (SPEC.md section 3).
    MALFORMED_PROOF = 10  # index >= size, size 0, path too long or too short, hash not 32 bytes
    ROOT_MISMATCH = 11  # well-formed proof whose computed root differs
    # ECDSA on secp256k1 and P-256 (docs/RULES.md section 5), in the order of its checks; a key or digest of
    # the wrong length is MALFORMED_LENGTH, a failed equation EQUATION_FAILED.
    INVALID_SIGNATURE_ENCODING = 12  # neither 64 bytes (r || s) nor strict DER
    R_OUT_OF_RANGE = 13  # r not in [1, n-1]
    S_OUT_OF_RANGE = 14  # s not in [1, n-1]
    HIGH_S = 15  # s > n/2 under a low-S policy (libsecp256k1, fabric)
    INVALID_PUBLIC_KEY = 16  # bad prefix, coordinate >= p, not on the curve, infinity


class Policy(enum.StrEnum):
    """Acceptance rules: Ed25519's (docs/RULES.md sections 1 and 2) and ECDSA's (section 5). Each scheme
    takes some of them (``Scheme.policies``)."""

    LIBSODIUM = "libsodium"
    ZIP215 = "zip215"
    LIBSECP256K1 = "libsecp256k1"
    LAX = "lax"
    OPENSSL = "openssl"
    FABRIC = "fabric"


def parse_policy(policy: str | Policy) -> Policy:
    """``policy`` as a ``Policy``; an unknown name is ``InvalidRequestError`` listing the known ones."""
    from verifier.errors import InvalidRequestError

    try:
        return Policy(policy)
    except ValueError:
        known = ", ".join(p.value for p in Policy)
        raise InvalidRequestError(f"unknown policy {policy!r}; known policies: {known}") from None
