"""Scheme ``ecdsa-p256``: ECDSA on P-256 (docs/RULES.md section 5), from ``VerifySignatures`` with
``scheme = SIGNATURE_SCHEME_ECDSA_P256``; columns in ``verifier.batch.EcdsaBatch``.

Policies: ``openssl`` (default), exactly OpenSSL's ``ECDSA_verify`` through ``cryptography`` (any s in
[1, n-1]: Canton, Corda, WebAuthn, TLS); ``fabric``, the same and s <= n/2, as Hyperledger Fabric's
``bccsp`` requires. A 64-byte signature is r || s, handed to OpenSSL as its DER encoding. The kernel
(``kernels/ecdsa_verify.cu``) runs on backends emu (host build) and cuda (``backends/cuda/ecdsa.py``; not
yet run on a GPU).
"""

from __future__ import annotations

import functools

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from verifier.batch import EcdsaBatch
from verifier.schemes import HostContext, Scheme
from verifier.schemes._ecdsa import LINE, P256, VERDICTS, Case, CpuEcdsa, known_answers
from verifier.verdict import Policy, Verdict

__all__ = ["SCHEME", "CpuP256", "check"]

_POLICIES = (Policy.OPENSSL, Policy.FABRIC)
_ALGORITHM = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
_CURVE = ec.SECP256R1()


@functools.lru_cache(maxsize=4096)
def _public_key(key: bytes) -> ec.EllipticCurvePublicKey | None:
    """The key OpenSSL decodes, or None; cached, since a batch names few distinct keys."""
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, key)
    except ValueError:
        return None


def check(key: bytes, sig: bytes, digest: bytes, policy: Policy) -> bool:
    """OpenSSL's verdict (and, under ``fabric``, s <= n/2)."""
    pk = _public_key(key)
    if pk is None:
        return False
    if len(sig) == 64:
        sig = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        pk.verify(sig, digest, _ALGORITHM)
    except (InvalidSignature, ValueError):
        return False
    return policy is not Policy.FABRIC or utils.decode_dss_signature(sig)[1] <= P256.n // 2


class CpuP256(CpuEcdsa):
    """The reference: OpenSSL through cryptography."""

    def __init__(self, ctx: HostContext) -> None:
        super().__init__(ctx, P256, frozenset(_POLICIES), check)


_KEY = bytes.fromhex("024c02e01e9daa1275664bfbf40d13d60d97c4988ca7d39d39317a338ae5ebcc24")
_KEY_UNCOMPRESSED = bytes.fromhex(
    "044c02e01e9daa1275664bfbf40d13d60d97c4988ca7d39d39317a338ae5ebcc24"
    "1c83d752502e9aea92a67c24e6220c65b1ed807bc5f6cb85e216aa5af4257888"
)
_DIGEST = bytes.fromhex("2548a52df7464a49b337ce98be46811e672fcbbb9fbe3f1a22bccc0440fcaa24")
_OTHER_DIGEST = bytes.fromhex("9940f9dfee1d6e5d904f112d1ea46afa3a73d298f669c887e2e4f62a18c063c2")
_R = "b79ae4200cdcf0ba043adf412a5451491b75ab2afbcbb93f744ea7ac1fccc73e"
_LOW_S = "4a8914c10f2d50a706d6417b5feb19364c11ac00e53a21a0468355942874764c"
_LOW_DER = bytes.fromhex("3045022100" + _R + "0220" + _LOW_S)
_HIGH_DER = bytes.fromhex(
    "3046022100" + _R + "022100b576eb3df0d2af59f929be84a014e6c970d54eacc1dd7ce4ad36752ed3eeaf05"
)
_COMPACT = bytes.fromhex(_R + _LOW_S)
_OK, _EQ = Verdict.OK, Verdict.EQUATION_FAILED
# (name, key, signature, digest, openssl verdict, fabric verdict); made once with cryptography 50.0.2
# (RFC 6979 signing) from a fixed private key and digests, verdicts checked in tests/schemes/.
_CASES: tuple[Case, ...] = (
    ("low-s-der", _KEY, _LOW_DER, _DIGEST, _OK, _OK),
    ("low-s-compact-uncompressed-key", _KEY_UNCOMPRESSED, _COMPACT, _DIGEST, _OK, _OK),
    ("high-s", _KEY, _HIGH_DER, _DIGEST, _OK, Verdict.HIGH_S),
    ("other-digest", _KEY, _LOW_DER, _OTHER_DIGEST, _EQ, _EQ),
    (
        "der-trailing-byte",
        _KEY,
        _LOW_DER + b"\x00",
        _DIGEST,
        Verdict.INVALID_SIGNATURE_ENCODING,
        Verdict.INVALID_SIGNATURE_ENCODING,
    ),
    ("s-zero", _KEY, _COMPACT[:32] + bytes(32), _DIGEST, Verdict.S_OUT_OF_RANGE, Verdict.S_OUT_OF_RANGE),
    (
        "key-hybrid-prefix",
        b"\x06" + _KEY_UNCOMPRESSED[1:],
        _LOW_DER,
        _DIGEST,
        Verdict.INVALID_PUBLIC_KEY,
        Verdict.INVALID_PUBLIC_KEY,
    ),
    ("key-short", _KEY[:32], _LOW_DER, _DIGEST, Verdict.MALFORMED_LENGTH, Verdict.MALFORMED_LENGTH),
)


SCHEME = Scheme(
    name="ecdsa-p256",
    title="ECDSA on P-256 (OpenSSL rules, or Hyperledger Fabric's low S)",
    rpc="VerifySignatures",
    batch=EcdsaBatch,
    policies=_POLICIES,
    verdicts=VERDICTS,
    malformed=Verdict.MALFORMED_LENGTH,
    cpu="verifier.schemes.ecdsa_p256:CpuP256",
    host="verifier.backends._host:HostEcdsa.p256",
    cuda="verifier.backends.cuda.ecdsa:EcdsaKernel.p256",
    known_answers=lambda: known_answers(_CASES, _POLICIES),
    line=LINE,
)
