"""What the two ECDSA schemes share (docs/RULES.md section 5): the curves' constants, the strict DER
reader, the reason labels, and the CPU runner's loop over a batch.

Accept or reject is the reference library's alone (libsecp256k1 through coincurve, OpenSSL through
cryptography). A rejection is labelled by the cheap checks of section 5 in their order: encoding, r range,
s range, high S (low-S policies), the public key; when they all pass, the equation failed. The label never
changes accept or reject.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from verifier.batch import EcdsaBatch
from verifier.schemes import HostContext, KnownAnswers, LineFormat, NoKeyStore
from verifier.verdict import Policy, Verdict

__all__ = [
    "LINE",
    "P256",
    "SECP256K1",
    "VERDICTS",
    "Case",
    "CpuEcdsa",
    "Curve",
    "decode_point",
    "known_answers",
    "parse_signature",
    "reject_reason",
]

# A reference check: (public key, signature, digest, policy) -> accepted.
Check = Callable[[bytes, bytes, bytes, Policy], bool]
# Items per pool task at most (benchmarks/NOTES.md, "Sizes in code").
_MAX_ITEMS_PER_TASK = 256


@dataclasses.dataclass(frozen=True)
class Curve:
    """A short-Weierstrass curve y^2 = x^3 + a x + b over GF(p), of prime order n."""

    name: str
    p: int
    a: int
    b: int
    n: int
    hybrid_keys: bool  # whether the reference parses hybrid keys (06/07 || x || y)
    low_s_policies: frozenset[Policy]  # the policies that reject s > n/2


SECP256K1 = Curve(
    name="secp256k1",
    p=2**256 - 2**32 - 977,
    a=0,
    b=7,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    hybrid_keys=True,  # secp256k1_ec_pubkey_parse takes 06/07 keys whose prefix matches y's parity
    low_s_policies=frozenset({Policy.LIBSECP256K1}),
)
P256 = Curve(
    name="p256",
    p=2**256 - 2**224 + 2**192 + 2**96 - 1,
    a=-3,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    hybrid_keys=False,  # cryptography's from_encoded_point takes 02, 03 and 04 only
    low_s_policies=frozenset({Policy.FABRIC}),
)


def _der_integer(data: bytes, at: int) -> tuple[int, int] | None:
    """The non-negative INTEGER at ``data[at:]`` in strict DER, and where it ends; None if not."""
    if at + 2 > len(data) or data[at] != 0x02:
        return None
    length = data[at + 1]
    if length == 0 or length >= 0x80 or at + 2 + length > len(data):
        return None  # empty, long form (never minimal for a value this short), or past the end
    body = data[at + 2 : at + 2 + length]
    if body[0] & 0x80:
        return None  # negative
    if length > 1 and body[0] == 0 and not body[1] & 0x80:
        return None  # a padding zero the next byte does not need
    return int.from_bytes(body, "big"), at + 2 + length


def parse_signature(sig: bytes) -> tuple[int, int] | None:
    """(r, s) of a 64-byte r || s, or of a strict-DER ``SEQUENCE { INTEGER r, INTEGER s }`` with nothing
    after it; None for anything else (docs/RULES.md section 5.2). The values are not range-checked."""
    if len(sig) == 64:
        return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if len(sig) < 8 or sig[0] != 0x30 or sig[1] >= 0x80 or sig[1] != len(sig) - 2:
        return None
    r = _der_integer(sig, 2)
    if r is None:
        return None
    s = _der_integer(sig, r[1])
    if s is None or s[1] != len(sig):
        return None
    return r[0], s[0]


def decode_point(curve: Curve, key: bytes) -> tuple[int, int] | None:
    """The affine point a SEC 1 key encodes on ``curve``, or None (bad prefix or length, a coordinate >= p,
    off the curve, no square root for a compressed x, a hybrid prefix whose parity does not match)."""
    p = curve.p
    prefix = key[0] if key else -1
    if len(key) == 33 and prefix in (2, 3):
        x = int.from_bytes(key[1:], "big")
        if x >= p:
            return None
        rhs = (x * x * x + curve.a * x + curve.b) % p
        y = _sqrt_mod(rhs, p)
        if y is None:
            return None
        return x, y if y & 1 == prefix & 1 else p - y
    if len(key) == 65 and (prefix == 4 or (curve.hybrid_keys and prefix in (6, 7))):
        x, y = int.from_bytes(key[1:33], "big"), int.from_bytes(key[33:], "big")
        if x >= p or y >= p or (y * y - (x * x * x + curve.a * x + curve.b)) % p:
            return None
        if prefix in (6, 7) and y & 1 != prefix & 1:
            return None
        return x, y
    return None


def _sqrt_mod(v: int, p: int) -> int | None:
    """A square root of ``v`` modulo ``p`` (both curves have p = 3 mod 4), or None."""
    y = pow(v, (p + 1) // 4, p)
    return y if y * y % p == v % p else None


def reject_reason(curve: Curve, key: bytes, sig: bytes, policy: Policy) -> Verdict:
    """Why the reference rejected (key, sig): the first failing check of docs/RULES.md sections 5.2-5.6;
    EQUATION_FAILED (5.7) when they all pass. Called only after the reference rejected."""
    rs = parse_signature(sig)
    if rs is None:
        return Verdict.INVALID_SIGNATURE_ENCODING
    r, s = rs
    if not 1 <= r < curve.n:
        return Verdict.R_OUT_OF_RANGE
    if not 1 <= s < curve.n:
        return Verdict.S_OUT_OF_RANGE
    if policy in curve.low_s_policies and s > curve.n // 2:
        return Verdict.HIGH_S
    if decode_point(curve, key) is None:
        return Verdict.INVALID_PUBLIC_KEY
    return Verdict.EQUATION_FAILED


class CpuEcdsa(NoKeyStore):
    """A CPU reference runner: ``check`` (the reference library) per item over the pool's threads, each
    rejection labelled by ``reject_reason``."""

    def __init__(self, ctx: HostContext, curve: Curve, policies: frozenset[Policy], check: Check) -> None:
        self._ctx = ctx
        self.curve = curve
        self.policies = policies
        self._check = check

    def run(self, batch: EcdsaBatch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        assert policy is not None
        out = np.zeros(len(batch), dtype=np.uint8)
        self._ctx.split(len(batch), _MAX_ITEMS_PER_TASK, lambda a, b: self._chunk(batch, policy, a, b, out))
        return out

    def _chunk(
        self, batch: EcdsaBatch, policy: Policy, start: int, stop: int, out: npt.NDArray[np.uint8]
    ) -> None:
        # The chunk's columns as bytes once: slicing bytes per item costs less than slicing numpy.
        ko = batch.key_offsets[start : stop + 1].tolist()
        so = batch.signature_offsets[start : stop + 1].tolist()
        keys = batch.public_keys[ko[0] : ko[-1]].tobytes()
        sigs = batch.signatures[so[0] : so[-1]].tobytes()
        digests = batch.digests[start:stop].tobytes()
        malformed = batch.malformed[start:stop].tolist()
        check, curve = self._check, self.curve
        k0, s0 = ko[0], so[0]
        for j in range(stop - start):
            if malformed[j]:
                out[start + j] = Verdict.MALFORMED_LENGTH
                continue
            key = keys[ko[j] - k0 : ko[j + 1] - k0]
            sig = sigs[so[j] - s0 : so[j + 1] - s0]
            if check(key, sig, digests[32 * j : 32 * j + 32], policy):
                out[start + j] = Verdict.OK
            else:
                out[start + j] = reject_reason(curve, key, sig, policy)


def ecdsa_line(obj: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    """A ``verifier verify ecdsa`` line: hex public_key, signature, and digest (32 bytes) or message
    (hashed with SHA-256)."""
    import hashlib

    from verifier.batch import DIGEST_SIZE
    from verifier.lines import LineError, hex_field

    key, sig = hex_field(obj, "public_key"), hex_field(obj, "signature")
    if ("digest" in obj) == ("message" in obj):
        raise LineError("give exactly one of digest and message")
    if "digest" in obj:
        return key, sig, hex_field(obj, "digest", DIGEST_SIZE)
    return key, sig, hashlib.sha256(hex_field(obj, "message")).digest()


def ecdsa_line_batch(items: Any) -> EcdsaBatch:
    keys, sigs, digests = zip(*items, strict=True)
    return EcdsaBatch.from_items(list(keys), list(sigs), list(digests))


# What both ECDSA schemes declare alike: the verdicts they can return and their `verifier verify` lines.
VERDICTS = frozenset(
    {
        Verdict.OK,
        Verdict.MALFORMED_LENGTH,
        Verdict.INVALID_SIGNATURE_ENCODING,
        Verdict.R_OUT_OF_RANGE,
        Verdict.S_OUT_OF_RANGE,
        Verdict.HIGH_S,
        Verdict.INVALID_PUBLIC_KEY,
        Verdict.EQUATION_FAILED,
    }
)
LINE = LineFormat(
    fields="hex public_key, signature (64-byte r || s or DER), digest (32 bytes) or message (SHA-256)",
    parse=ecdsa_line,
    batch=ecdsa_line_batch,
)

# A known answer: (name, key, signature, digest, verdict under the first policy, under the second).
Case = tuple[str, bytes, bytes, bytes, Verdict, Verdict]


def known_answers(cases: Sequence[Case], policies: Sequence[Policy]) -> KnownAnswers:
    """The self-test of an ECDSA scheme from its cases, the two verdicts in ``policies``' order."""
    batch = EcdsaBatch.from_items([c[1] for c in cases], [c[2] for c in cases], [c[3] for c in cases])
    return KnownAnswers(
        names=tuple(c[0] for c in cases),
        batch=batch,
        expected={policies[0]: tuple(c[4] for c in cases), policies[1]: tuple(c[5] for c in cases)},
    )
