"""verifier: batch verification of Ed25519 signatures and RFC 9162 Merkle proofs, on CUDA or the CPU.

    >>> import verifier
    >>> result = verifier.verify_ed25519(public_keys, signatures, messages)  # doctest: +SKIP
    >>> result.valid, result.verdicts  # doctest: +SKIP

``backend`` is ``auto`` (CUDA when usable, else CPU), ``cpu``, ``cuda`` or ``emu`` (the CUDA kernels built
for the host CPU, a test backend). ``verifier.Client`` makes the same calls over gRPC.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from verifier.batch import EcdsaBatch, Ed25519Batch, MerkleBatch
from verifier.client import Client
from verifier.engine import Engine, Limits
from verifier.errors import (
    BackendUnavailableError,
    InvalidRequestError,
    KernelError,
    LimitExceededError,
    SelfTestError,
    UnsupportedPolicyError,
    VerifierError,
)
from verifier.result import VerifyResult
from verifier.schemes import ED25519, MERKLE, ecdsa_scheme
from verifier.verdict import Policy, Verdict

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "verify_ed25519",
    "verify_merkle",
    "verify_ecdsa",
    "ecdsa_scheme",
    "EcdsaBatch",
    "get_engine",
    "Client",
    "Engine",
    "Limits",
    "Ed25519Batch",
    "MerkleBatch",
    "VerifyResult",
    "Verdict",
    "Policy",
    "VerifierError",
    "InvalidRequestError",
    "LimitExceededError",
    "UnsupportedPolicyError",
    "BackendUnavailableError",
    "KernelError",
    "SelfTestError",
]

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(backend: str = "auto") -> Engine:
    """The process-wide engine for ``backend``, created (and self-tested) on first use."""
    with _engines_lock:
        engine = _engines.get(backend)
        if engine is None:
            engine = _engines[backend] = Engine.create(backend)
        return engine


def verify_ed25519(
    public_keys: Any,
    signatures: Any,
    messages: Sequence[Any],
    *,
    backend: str = "auto",
    policy: str | Policy = Policy.LIBSODIUM,
) -> VerifyResult:
    """Verify n Ed25519 signatures; one verdict per item, in order.

    ``public_keys`` and ``signatures`` are sequences of bytes (or uint8 arrays of shape (n, 32) and
    (n, 64)); ``messages`` a sequence of bytes. A key or signature of the wrong length is that item's
    ``MALFORMED_LENGTH`` verdict, not an exception.
    """
    batch = Ed25519Batch.from_items(public_keys, signatures, messages)
    return get_engine(backend).verify(ED25519, batch, policy)


def verify_ecdsa(
    public_keys: Sequence[Any],
    signatures: Sequence[Any],
    digests: Sequence[Any] | None = None,
    *,
    messages: Sequence[Any] | None = None,
    curve: str = "secp256k1",
    policy: str | Policy | None = None,
    backend: str = "auto",
) -> VerifyResult:
    """Verify n ECDSA signatures on ``curve`` (``secp256k1`` or ``p256``); one verdict per item, in order.

    ``public_keys``: SEC 1 (33 or 65 bytes); ``signatures``: 64-byte r || s or DER; ``digests``: the
    32-byte hashes signed, or ``messages``, hashed here with SHA-256. ``policy``: ``libsecp256k1``
    (default) or ``lax`` on secp256k1, ``openssl`` (default) or ``fabric`` on P-256 (docs/RULES.md section
    5). A key or digest of the wrong length is that item's ``MALFORMED_LENGTH``, not an exception.
    """
    batch = EcdsaBatch.from_items(public_keys, signatures, digests, messages=messages)
    return get_engine(backend).verify(ecdsa_scheme(curve), batch, policy)


def verify_merkle(
    leaf_indices: Sequence[int],
    tree_sizes: Sequence[int],
    paths: Sequence[Sequence[Any]],
    roots: Any,
    *,
    leaf_hashes: Sequence[Any] | None = None,
    leaves: Sequence[Any] | None = None,
    backend: str = "auto",
) -> VerifyResult:
    """Verify n RFC 9162 inclusion proofs; one verdict per proof, in order.

    Give the leaves as ``leaf_hashes`` (32 bytes each) or as ``leaves`` (data, hashed as
    SHA-256(0x00 || data)). ``roots`` is one root for every proof, or one per proof.
    """
    batch = MerkleBatch.from_items(
        leaf_indices, tree_sizes, paths, roots, leaf_hashes=leaf_hashes, leaves=leaves
    )
    return get_engine(backend).verify(MERKLE, batch)
