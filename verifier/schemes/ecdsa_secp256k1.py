"""Scheme ``ecdsa-secp256k1``: ECDSA on secp256k1 (docs/RULES.md section 5), from ``VerifySignatures``
with ``scheme = SIGNATURE_SCHEME_ECDSA_SECP256K1``; columns in ``verifier.batch.EcdsaBatch``.

Policies: ``libsecp256k1`` (default), exactly ``secp256k1_ecdsa_verify`` of the pinned libsecp256k1
(coincurve): strict DER or 64-byte r || s, r and s in [1, n-1], low S required (Bitcoin, Ethereum EIP-2,
Cosmos); ``lax``, the same with s normalised to low S first (what OpenSSL accepts). The reference is called
through coincurve's cffi bindings, which release the GIL, so a batch spreads over the pool's threads.
The kernel (``kernels/ecdsa_verify.cu``) runs on backends emu (host build) and cuda
(``backends/cuda/ecdsa.py``; not yet run on a GPU).
"""

from __future__ import annotations

import functools
from typing import Any

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from verifier.batch import EcdsaBatch
from verifier.schemes import HostContext, Scheme
from verifier.schemes._ecdsa import LINE, SECP256K1, VERDICTS, Case, CpuEcdsa, known_answers
from verifier.verdict import Policy, Verdict

__all__ = ["SCHEME", "CpuSecp256k1", "check"]

_CTX = GLOBAL_CONTEXT.ctx  # verification only reads the context: one shared by every thread
_POLICIES = (Policy.LIBSECP256K1, Policy.LAX)


@functools.lru_cache(maxsize=4096)
def _public_key(key: bytes) -> Any:
    """The key as libsecp256k1 parsed it, or None; cached, since ledgers' batches repeat signers (a
    parsed key is only read by verification, so threads may share it)."""
    pub = ffi.new("secp256k1_pubkey *")
    return pub if lib.secp256k1_ec_pubkey_parse(_CTX, pub, key, len(key)) else None


def check(key: bytes, sig: bytes, digest: bytes, policy: Policy) -> bool:
    """libsecp256k1's verdict: parse the key and the signature (compact or DER), normalise s under
    ``lax``, verify."""
    pub = _public_key(key)
    if pub is None:
        return False
    s = ffi.new("secp256k1_ecdsa_signature *")
    if len(sig) == 64:
        parsed = lib.secp256k1_ecdsa_signature_parse_compact(_CTX, s, sig)
    else:
        parsed = lib.secp256k1_ecdsa_signature_parse_der(_CTX, s, sig, len(sig))
    if not parsed:
        return False
    if policy is Policy.LAX:
        lib.secp256k1_ecdsa_signature_normalize(_CTX, s, s)
    return bool(lib.secp256k1_ecdsa_verify(_CTX, s, digest, pub))


class CpuSecp256k1(CpuEcdsa):
    """The reference: libsecp256k1 through coincurve."""

    def __init__(self, ctx: HostContext) -> None:
        super().__init__(ctx, SECP256K1, frozenset(_POLICIES), check)


_KEY = bytes.fromhex("038b10d1c04c365a197dfb073564bf7df0a2a97ec002d205a53be5e0caeb66825d")
_KEY_UNCOMPRESSED = bytes.fromhex(
    "048b10d1c04c365a197dfb073564bf7df0a2a97ec002d205a53be5e0caeb66825d"
    "29d6f1400889721eca8e4f67a90d2757469f6d28b4c18008e53583c87ec37233"
)
_DIGEST = bytes.fromhex("2548a52df7464a49b337ce98be46811e672fcbbb9fbe3f1a22bccc0440fcaa24")
_OTHER_DIGEST = bytes.fromhex("9940f9dfee1d6e5d904f112d1ea46afa3a73d298f669c887e2e4f62a18c063c2")
_R = "aab0acf5dadbc201af6af8bbe965d2ea87f346d0d59744c3285145ddb06390a7"
_LOW_S = "060304d551661fc383c45f0a13dd9566e46a9361e8a23c13d54695944d35f647"
_LOW_DER = bytes.fromhex("3045022100" + _R + "0220" + _LOW_S)
_HIGH_DER = bytes.fromhex(
    "3046022100" + _R + "022100f9fcfb2aae99e03c7c3ba0f5ec226a97d6444984c6a66427ea8bc8f883004afa"
)
_COMPACT = bytes.fromhex(_R + _LOW_S)
_OK, _EQ = Verdict.OK, Verdict.EQUATION_FAILED
# (name, key, signature, digest, libsecp256k1 verdict, lax verdict); keys and signatures made once with
# coincurve 21.0.0 from fixed private key and digests, verdicts checked in tests/schemes/.
_CASES: tuple[Case, ...] = (
    ("low-s-der", _KEY, _LOW_DER, _DIGEST, _OK, _OK),
    ("low-s-compact-uncompressed-key", _KEY_UNCOMPRESSED, _COMPACT, _DIGEST, _OK, _OK),
    ("high-s", _KEY, _HIGH_DER, _DIGEST, Verdict.HIGH_S, _OK),
    ("other-digest", _KEY, _LOW_DER, _OTHER_DIGEST, _EQ, _EQ),
    (
        "der-trailing-byte",
        _KEY,
        _LOW_DER + b"\x00",
        _DIGEST,
        Verdict.INVALID_SIGNATURE_ENCODING,
        Verdict.INVALID_SIGNATURE_ENCODING,
    ),
    ("r-zero", _KEY, bytes(32) + _COMPACT[32:], _DIGEST, Verdict.R_OUT_OF_RANGE, Verdict.R_OUT_OF_RANGE),
    (
        "key-x-above-p",
        b"\x02" + b"\xff" * 32,
        _LOW_DER,
        _DIGEST,
        Verdict.INVALID_PUBLIC_KEY,
        Verdict.INVALID_PUBLIC_KEY,
    ),
    ("digest-short", _KEY, _LOW_DER, _DIGEST[:31], Verdict.MALFORMED_LENGTH, Verdict.MALFORMED_LENGTH),
)


SCHEME = Scheme(
    name="ecdsa-secp256k1",
    title="ECDSA on secp256k1 (libsecp256k1 rules, or lax)",
    rpc="VerifySignatures",
    batch=EcdsaBatch,
    policies=_POLICIES,
    verdicts=VERDICTS,
    malformed=Verdict.MALFORMED_LENGTH,
    cpu="verifier.schemes.ecdsa_secp256k1:CpuSecp256k1",
    host="verifier.backends._host:HostEcdsa.secp256k1",
    cuda="verifier.backends.cuda.ecdsa:EcdsaKernel.secp256k1",
    known_answers=lambda: known_answers(_CASES, _POLICIES),
    line=LINE,
)
