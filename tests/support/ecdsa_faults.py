"""Planted ECDSA faults with their expected verdicts, for the differential tests of docs/RULES.md section 5.

Valid signatures are made once per pool with the signing side of the reference libraries (coincurve for
secp256k1, cryptography for P-256: signing is not what is tested), then each item takes one fault whose
verdict under each policy follows from how it was made, not from the code under test: a flipped digest
bit fails the equation, r = n is out of range, a DER integer with a needless zero is an encoding error,
and so on. Where a fault's outcome depends on the value it produced (a flipped r bit may leave r in range
or not; a flipped key bit may or may not land on the curve), the expectation is computed here from the
curve's equation, written independently of ``verifier.schemes._ecdsa``.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

from verifier.verdict import Policy, Verdict

__all__ = ["ECDSA_FAULT_KINDS", "EcdsaFaults", "make_ecdsa_faults"]

_OK, _EQ = Verdict.OK, Verdict.EQUATION_FAILED
_ENC, _KEY = Verdict.INVALID_SIGNATURE_ENCODING, Verdict.INVALID_PUBLIC_KEY


@dataclasses.dataclass(frozen=True)
class _Curve:
    p: int
    a: int
    b: int
    n: int
    strict: Policy  # the policy with the low-S rule
    lax: Policy
    hybrid: bool  # whether the reference parses 06/07 keys


_CURVES = {
    "ecdsa-secp256k1": _Curve(
        p=2**256 - 2**32 - 977,
        a=0,
        b=7,
        n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
        strict=Policy.LIBSECP256K1,
        lax=Policy.LAX,
        hybrid=True,
    ),
    "ecdsa-p256": _Curve(
        p=2**256 - 2**224 + 2**192 + 2**96 - 1,
        a=-3,
        b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        strict=Policy.FABRIC,
        lax=Policy.OPENSSL,
        hybrid=False,
    ),
}

ECDSA_FAULT_KINDS = (
    "valid",
    "valid_compact",
    "valid_uncompressed_key",
    "hybrid_key",
    "high_s",
    "digest_bit_flip",
    "r_bit_flip",
    "s_bit_flip",
    "r_zero",
    "r_n",
    "r_n_plus_small",
    "s_zero",
    "s_n",
    "s_n_plus_small",
    "key_x_bit_flip",
    "key_x_at_or_above_p",
    "key_off_curve",
    "key_infinity",
    "key_bad_prefix",
    "key_wrong_length",
    "digest_wrong_length",
    "der_trailing_byte",
    "der_long_form_length",
    "der_negative_integer",
    "der_padded_integer",
    "signature_garbage",
)


@dataclasses.dataclass(frozen=True)
class EcdsaFaults:
    public_keys: list[bytes]
    signatures: list[bytes]
    digests: list[bytes]
    kinds: list[str]
    expected: dict[Policy, list[Verdict]]  # per policy, one verdict per item


def _on_curve(c: _Curve, x: int, y: int) -> bool:
    return x < c.p and y < c.p and (y * y - x * x * x - c.a * x - c.b) % c.p == 0


def _lift_x(c: _Curve, x: int) -> int | None:
    """A y with (x, y) on the curve, or None (Euler's criterion on x^3 + ax + b)."""
    if x >= c.p:
        return None
    v = (x * x * x + c.a * x + c.b) % c.p
    if v and pow(v, (c.p - 1) // 2, c.p) != 1:
        return None
    return pow(v, (c.p + 1) // 4, c.p)


def _int_der(v: int) -> bytes:
    body = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if body[0] & 0x80:
        body = b"\x00" + body
    return b"\x02" + bytes([len(body)]) + body


def _der(r_part: bytes, s_part: bytes) -> bytes:
    content = r_part + s_part
    return b"\x30" + bytes([len(content)]) + content


def _sign(scheme: str, rng: random.Random, keys: int, pool: int) -> list[tuple[int, int, bytes, int, int]]:
    """``pool`` low-S signatures (x, y, digest, r, s) by ``keys`` keys."""
    out = []
    if scheme == "ecdsa-secp256k1":
        import coincurve
        from cryptography.hazmat.primitives.asymmetric import utils as cutils

        sks = [coincurve.PrivateKey(rng.randbytes(32)) for _ in range(keys)]
        points = [sk.public_key.point() for sk in sks]
        for i in range(pool):
            digest = rng.randbytes(32)
            r, s = cutils.decode_dss_signature(sks[i % keys].sign(digest, hasher=None))
            out.append((*points[i % keys], digest, r, s))
        return out
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    n = _CURVES[scheme].n
    p_keys = [ec.derive_private_key(rng.randrange(1, n), ec.SECP256R1()) for _ in range(keys)]
    nums = [k.public_key().public_numbers() for k in p_keys]
    algorithm = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
    for i in range(pool):
        digest = rng.randbytes(32)
        r, s = utils.decode_dss_signature(p_keys[i % keys].sign(digest, algorithm))
        out.append((nums[i % keys].x, nums[i % keys].y, digest, r, min(s, n - s)))
    return out


@dataclasses.dataclass
class _Item:
    """One item being made: a valid signature's parts, then its fault and the verdicts it produces."""

    c: _Curve
    x: int
    y: int
    digest: bytes
    r: int
    s: int
    key: bytes = b""
    sig: bytes = b""
    strict: Verdict = _OK  # under the low-S policy
    lax: Verdict = _OK

    def __post_init__(self) -> None:
        self.key = bytes([2 + (self.y & 1)]) + self.x.to_bytes(32, "big")
        self.sig = _der(_int_der(self.r), _int_der(self.s))

    def compact(self, r: int, s: int) -> None:
        self.sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def both(self, verdict: Verdict) -> None:
        self.strict = self.lax = verdict


def _uncompressed(it: _Item, rng: random.Random) -> None:
    it.key = b"\x04" + it.x.to_bytes(32, "big") + it.y.to_bytes(32, "big")


def _der_trailing_byte(it: _Item, rng: random.Random) -> None:
    it.sig += bytes([rng.randrange(256)])
    it.both(_ENC)


def _der_long_form(it: _Item, rng: random.Random) -> None:
    it.sig = b"\x30\x81" + it.sig[1:]  # the same length, in a needless long form
    it.both(_ENC)


def _hybrid(it: _Item, rng: random.Random) -> None:
    it.key = bytes([6 + (it.y & 1)]) + it.x.to_bytes(32, "big") + it.y.to_bytes(32, "big")
    it.both(_OK if it.c.hybrid else _KEY)


def _high_s(it: _Item, rng: random.Random) -> None:
    it.sig = _der(_int_der(it.r), _int_der(it.c.n - it.s))
    it.strict = Verdict.HIGH_S


def _digest_bit_flip(it: _Item, rng: random.Random) -> None:
    it.digest = (int.from_bytes(it.digest, "big") ^ (1 << rng.randrange(256))).to_bytes(32, "big")
    it.both(_EQ)


def _r_bit_flip(it: _Item, rng: random.Random) -> None:
    r2 = it.r ^ (1 << rng.randrange(256))
    it.compact(r2, it.s)
    it.both(_EQ if 1 <= r2 < it.c.n else Verdict.R_OUT_OF_RANGE)


def _s_bit_flip(it: _Item, rng: random.Random) -> None:
    s2 = it.s ^ (1 << rng.randrange(256))
    it.compact(it.r, s2)
    if not 1 <= s2 < it.c.n:
        it.both(Verdict.S_OUT_OF_RANGE)
    else:
        it.strict, it.lax = (Verdict.HIGH_S if s2 > it.c.n // 2 else _EQ), _EQ


def _r_out(value: Callable[[_Curve, random.Random], int]) -> Callable[[_Item, random.Random], None]:
    def fault(it: _Item, rng: random.Random) -> None:
        it.compact(value(it.c, rng), it.s)
        it.both(Verdict.R_OUT_OF_RANGE)

    return fault


def _s_out(value: Callable[[_Curve, random.Random], int]) -> Callable[[_Item, random.Random], None]:
    def fault(it: _Item, rng: random.Random) -> None:
        it.compact(it.r, value(it.c, rng))
        it.both(Verdict.S_OUT_OF_RANGE)

    return fault


def _key_x_bit_flip(it: _Item, rng: random.Random) -> None:
    x2 = it.x ^ (1 << rng.randrange(256))
    it.key = bytes([it.key[0]]) + x2.to_bytes(32, "big")
    it.both(_EQ if _lift_x(it.c, x2) is not None else _KEY)  # another point, or none


def _key_x_at_or_above_p(it: _Item, rng: random.Random) -> None:
    it.key = bytes([it.key[0]]) + (it.c.p + rng.randrange(1000)).to_bytes(32, "big")  # < 2^256 on both curves
    it.both(_KEY)


def _key_off_curve(it: _Item, rng: random.Random) -> None:
    y2 = (it.y + 1) % it.c.p
    it.key = b"\x04" + it.x.to_bytes(32, "big") + y2.to_bytes(32, "big")
    it.both(_EQ if _on_curve(it.c, it.x, y2) else _KEY)


def _key_infinity(it: _Item, rng: random.Random) -> None:
    it.key = b"\x04" + bytes(64)  # (0, 0): the affine stand-in some encoders use for infinity
    it.both(_KEY)


def _key_bad_prefix(it: _Item, rng: random.Random) -> None:
    it.key = bytes([rng.choice([0x00, 0x01, 0x04, 0x05, 0x08, 0xFF])]) + it.key[1:]
    it.both(_KEY)


def _key_wrong_length(it: _Item, rng: random.Random) -> None:
    it.key = it.key[: rng.choice([0, 1, 32])] if rng.random() < 0.5 else it.key + b"\x00"  # or 34 bytes
    it.both(Verdict.MALFORMED_LENGTH)


def _digest_wrong_length(it: _Item, rng: random.Random) -> None:
    it.digest = it.digest[: rng.randrange(32)] if rng.random() < 0.5 else it.digest + b"\x00"
    it.both(Verdict.MALFORMED_LENGTH)


def _der_negative(it: _Item, rng: random.Random) -> None:
    body = bytearray(it.r.to_bytes(32, "big"))
    body[0] |= 0x80
    it.sig = _der(b"\x02\x20" + bytes(body), _int_der(it.s))
    it.both(_ENC)


def _der_padded(it: _Item, rng: random.Random) -> None:
    r_part = _int_der(it.r)
    it.sig = _der(b"\x02" + bytes([r_part[1] + 1]) + b"\x00" + r_part[2:], _int_der(it.s))
    it.both(_ENC)


def _signature_garbage(it: _Item, rng: random.Random) -> None:
    length = rng.choice([0, 1, 8, 63, 65, 71, 80])
    it.sig = (
        bytes([rng.randrange(0x31, 256)]) + rng.randbytes(length - 1) if length else b""
    )  # never a SEQUENCE
    it.both(_ENC)


_FAULTS: dict[str, Callable[[_Item, random.Random], None]] = {
    "valid": lambda it, rng: None,
    "valid_compact": lambda it, rng: it.compact(it.r, it.s),
    "valid_uncompressed_key": _uncompressed,
    "hybrid_key": _hybrid,
    "high_s": _high_s,
    "digest_bit_flip": _digest_bit_flip,
    "r_bit_flip": _r_bit_flip,
    "s_bit_flip": _s_bit_flip,
    "r_zero": _r_out(lambda c, rng: 0),
    "r_n": _r_out(lambda c, rng: c.n),
    "r_n_plus_small": _r_out(lambda c, rng: c.n + rng.randrange(1, 1000)),
    "s_zero": _s_out(lambda c, rng: 0),
    "s_n": _s_out(lambda c, rng: c.n),
    "s_n_plus_small": _s_out(lambda c, rng: c.n + rng.randrange(1, 1000)),
    "key_x_bit_flip": _key_x_bit_flip,
    "key_x_at_or_above_p": _key_x_at_or_above_p,
    "key_off_curve": _key_off_curve,
    "key_infinity": _key_infinity,
    "key_bad_prefix": _key_bad_prefix,
    "key_wrong_length": _key_wrong_length,
    "digest_wrong_length": _digest_wrong_length,
    "der_trailing_byte": _der_trailing_byte,
    "der_long_form_length": _der_long_form,
    "der_negative_integer": _der_negative,
    "der_padded_integer": _der_padded,
    "signature_garbage": _signature_garbage,
}
assert tuple(_FAULTS) == ECDSA_FAULT_KINDS


def make_ecdsa_faults(scheme: str, rng: random.Random, n_items: int, pool: int = 256) -> EcdsaFaults:
    """``n_items`` items of ``scheme`` ("ecdsa-secp256k1" or "ecdsa-p256"), each a pool signature with one
    fault of ``ECDSA_FAULT_KINDS`` (uniformly), and each one's verdict under both policies."""
    c = _CURVES[scheme]
    base = _sign(scheme, rng, keys=16, pool=pool)
    items, kinds = [], []
    for _ in range(n_items):
        kind = rng.choice(ECDSA_FAULT_KINDS)
        it = _Item(c, *base[rng.randrange(pool)])
        _FAULTS[kind](it, rng)
        items.append(it)
        kinds.append(kind)
    return EcdsaFaults(
        public_keys=[it.key for it in items],
        signatures=[it.sig for it in items],
        digests=[it.digest for it in items],
        kinds=kinds,
        expected={c.strict: [it.strict for it in items], c.lax: [it.lax for it in items]},
    )
