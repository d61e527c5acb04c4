"""Slow, independent Ed25519 reference in pure Python integers (no PyNaCl, no libsodium).

Written from docs/RULES.md sections 1 and 2 and RFC 8032 section 5.1 so that the CPU backend (PyNaCl) and
the kernels can be checked against something that shares no code with either. Two verifiers:

* ``verify_libsodium(pk, sig, msg)``: libsodium 1.0.18..1.0.22 ``crypto_sign_verify_detached``
  (cofactorless, R compared byte for byte, 7-value small-order blocklist); reasons in docs/RULES.md order.
* ``verify_zip215(pk, sig, msg)``: ZIP-215 (any 255-bit y decoded mod p, no blocklist, cofactored).

Both return a ``Verdict``. Everything is variable time; all inputs are public. A verification costs a
few milliseconds, so use it on thousands of items, not millions; ``libsodium_reject_reason`` and
``zip215_reject_reason`` run only the cheap checks (one modular exponentiation per decode).

Points are extended twisted Edwards coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z
(RFC 8032 section 5.1.4), coordinates reduced mod p.
"""

from __future__ import annotations

import hashlib

from verifier.verdict import Verdict

__all__ = [
    "P",
    "L",
    "D",
    "SQRT_M1",
    "Point",
    "IDENTITY",
    "BASE",
    "point_add",
    "point_neg",
    "point_double",
    "point_eq",
    "is_identity",
    "scalar_mult",
    "base_mult",
    "encode",
    "decode",
    "decode_zip215",
    "recover_x",
    "SMALL_ORDER_POINTS",
    "SMALL_ORDER_CANONICAL_ENCODINGS",
    "SMALL_ORDER_NON_CANONICAL_ENCODINGS",
    "SMALL_ORDER_ENCODINGS",
    "LIBSODIUM_BLOCKLIST",
    "ORDER8_Y",
    "challenge",
    "sign_with_scalar",
    "public_key_from_seed",
    "sign",
    "libsodium_reject_reason",
    "zip215_reject_reason",
    "verify_libsodium",
    "verify_zip215",
    "verify",
]

# Field and group constants (RFC 8032 section 5.1).
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # order of the prime subgroup
D = (-121665 * pow(121666, P - 2, P)) % P  # d = -121665/121666
SQRT_M1 = pow(2, (P - 1) // 4, P)  # a square root of -1 mod p (2 is a non-residue)

_Y_MASK = (1 << 255) - 1
_PUBLIC_KEY_SIZE = 32
_SIGNATURE_SIZE = 64

Point = tuple[int, int, int, int]

IDENTITY: Point = (0, 1, 1, 0)


def _inv(x: int) -> int:
    return pow(x, P - 2, P)


def point_add(p1: Point, p2: Point) -> Point:
    """Complete addition for a = -1 (RFC 8032 5.1.4; add-2008-hwcd-3, 8M + 1 mul by 2d)."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = b - a, dd - c, dd + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_double(p1: Point) -> Point:
    """Doubling for a = -1 (RFC 8032 5.1.4; dbl-2008-hwcd, 4M + 4S)."""
    x1, y1, z1, _ = p1
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_neg(p1: Point) -> Point:
    x, y, z, t = p1
    return ((-x) % P, y, z, (-t) % P)


def point_eq(p1: Point, p2: Point) -> bool:
    x1, y1, z1, _ = p1
    x2, y2, z2, _ = p2
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def is_identity(p1: Point) -> bool:
    x, y, z, _ = p1
    return x % P == 0 and (y - z) % P == 0


def _from_affine(x: int, y: int) -> Point:
    return (x % P, y % P, 1, x * y % P)


def scalar_mult(k: int, p1: Point) -> Point:
    """[k]P for any integer k >= 0 (4-bit fixed window, variable time). k is NOT reduced mod L."""
    if k < 0:
        raise ValueError("scalar must be non-negative")
    table = [IDENTITY, p1]
    for _ in range(14):
        table.append(point_add(table[-1], p1))
    q = IDENTITY
    for shift in range(((k.bit_length() + 3) // 4) * 4 - 4, -4, -4):
        q = point_double(point_double(point_double(point_double(q))))
        w = (k >> shift) & 15
        if w:
            q = point_add(q, table[w])
    return q


def recover_x(y: int, sign: int) -> int | None:
    """x with x^2 = (y^2 - 1) / (d y^2 + 1) and x mod 2 = sign, for 0 <= y < p (RFC 8032 5.1.3 step 2-4).

    None when no square root exists. x = 0 with sign = 1 is returned as 0; the callers decide.
    """
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    vxx = v * x * x % P
    if vxx == u:
        pass
    elif vxx == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None
    if (x & 1) != sign:
        x = (-x) % P
    return x


def decode(s: bytes) -> Point | None:
    """RFC 8032 5.1.3 strict decoding: 32 bytes, y < p, square root exists, no x = 0 with sign 1.

    (Under the libsodium policy the last rule is never reached: y = +-1, the only x = 0 points, are
    on the blocklist.)
    """
    if len(s) != 32:
        return None
    n = int.from_bytes(s, "little")
    y, sign = n & _Y_MASK, n >> 255
    if y >= P:
        return None
    x = recover_x(y, sign)
    if x is None or (x == 0 and sign == 1):
        return None
    return _from_affine(x, y)


def decode_zip215(s: bytes) -> Point | None:
    """ZIP-215 decoding (docs/RULES.md section 2): any 255-bit y taken mod p; x = 0 with sign 1 gives x = 0."""
    if len(s) != 32:
        return None
    n = int.from_bytes(s, "little")
    y, sign = (n & _Y_MASK) % P, n >> 255
    x = recover_x(y, sign)
    if x is None:
        return None
    return _from_affine(x, y)


def encode(p1: Point) -> bytes:
    """Canonical encoding (RFC 8032 5.1.2): y < p, top bit = x mod 2."""
    x, y, z, _ = p1
    zi = _inv(z)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


# Base point: y = 4/5, x even (RFC 8032 5.1).
_BY = 4 * _inv(5) % P
_BX = recover_x(_BY, 0)
assert _BX is not None
BASE: Point = _from_affine(_BX, _BY)

# Fixed-base table: _BASE_TABLE[i][w] = [w * 16^i]B, i < 64, w < 16 (built once, ~1000 additions).
_BASE_TABLE: list[list[Point]] = []
_row_base = BASE
for _i in range(64):
    _row = [IDENTITY, _row_base]
    for _w in range(14):
        _row.append(point_add(_row[-1], _row_base))
    _BASE_TABLE.append(_row)
    _row_base = point_add(_row[-1], _row_base)  # 16 * previous base
del _row_base, _row, _i, _w


def base_mult(k: int) -> Point:
    """[k]B; k is reduced mod L first (B has order L)."""
    k %= L
    q = IDENTITY
    i = 0
    while k:
        w = k & 15
        if w:
            q = point_add(q, _BASE_TABLE[i][w])
        k >>= 4
        i += 1
    return q


assert is_identity(scalar_mult(L, BASE)) and not is_identity(BASE)
assert encode(BASE) == bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")


def _find_order8_point() -> Point:
    """A point of order 8: [L]Q for the first decodable y = 2, 3, ... whose [L]Q has order 8.

    The torsion subgroup of edwards25519 is cyclic of order 8, so [j]T8 for j = 0..7 are all of it.
    """
    y = 2
    while True:
        x = recover_x(y, 0)
        if x is not None:
            t = scalar_mult(L, _from_affine(x, y))
            if not is_identity(scalar_mult(4, t)):
                return t
        y += 1


_T8 = _find_order8_point()

# SMALL_ORDER_POINTS[j] = [j]T8: order 8 / gcd(j, 8). Index arithmetic mod 8 is the group law on them.
SMALL_ORDER_POINTS: tuple[Point, ...] = tuple(scalar_mult(j, _T8) for j in range(8))
assert is_identity(SMALL_ORDER_POINTS[0]) and all(is_identity(scalar_mult(8, t)) for t in SMALL_ORDER_POINTS)

# The 8 canonical encodings, in the order of SMALL_ORDER_POINTS.
SMALL_ORDER_CANONICAL_ENCODINGS: tuple[bytes, ...] = tuple(encode(t) for t in SMALL_ORDER_POINTS)


def _enc_int(y: int, sign: int) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


# The 6 non-canonical encodings of small-order points that ZIP-215 decoding accepts (y = 1 or p-1 with
# the sign bit set though x = 0; y = p (= 0) and y = p+1 (= 1) with either sign bit).
SMALL_ORDER_NON_CANONICAL_ENCODINGS: tuple[bytes, ...] = (
    _enc_int(1, 1),
    _enc_int(P - 1, 1),
    _enc_int(P, 0),
    _enc_int(P, 1),
    _enc_int(P + 1, 0),
    _enc_int(P + 1, 1),
)

# All 14 (docs/RULES.md section 2: as both A and R with S = 0 they give the 196 ZIP-215 signatures).
SMALL_ORDER_ENCODINGS: tuple[bytes, ...] = (
    SMALL_ORDER_CANONICAL_ENCODINGS + SMALL_ORDER_NON_CANONICAL_ENCODINGS
)

# y-coordinates of the order-8 points (libsodium's blocklist entries "order 8").
_order8_y = sorted(
    {int.from_bytes(SMALL_ORDER_CANONICAL_ENCODINGS[j], "little") & _Y_MASK for j in (1, 3, 5, 7)}
)
ORDER8_Y: tuple[int, int] = (_order8_y[0], _order8_y[1])
assert len(ORDER8_Y) == 2 and ORDER8_Y[0] + ORDER8_Y[1] == P

# docs/RULES.md section 1 check 3: the 7 y-values (top bit masked) libsodium refuses for R and A.
LIBSODIUM_BLOCKLIST: frozenset[int] = frozenset({0, 1, P - 1, P, P + 1, ORDER8_Y[0], ORDER8_Y[1]})


def challenge(r_bytes: bytes, a_bytes: bytes, msg: bytes) -> int:
    """k = SHA-512(R || A || M) mod L, over the bytes as sent (RFC 8032 5.1.7 step 2)."""
    return int.from_bytes(hashlib.sha512(r_bytes + a_bytes + msg).digest(), "little") % L


def sign_with_scalar(a: int, r: int, a_bytes: bytes, r_bytes: bytes, msg: bytes) -> bytes:
    """R || S with S = (r + k*a) mod L, k = challenge(R, A, M).

    The caller picks any encodings A and R (e.g. aB + T, rB + T for a small-order T); the signature
    satisfies the equation only for the parts of A and R that are a and r times B.
    """
    s = (r + challenge(r_bytes, a_bytes, msg) * a) % L
    return r_bytes + s.to_bytes(32, "little")


def _expand_seed(seed: bytes) -> tuple[int, bytes]:
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def public_key_from_seed(seed: bytes) -> bytes:
    """RFC 8032 5.1.5."""
    a, _ = _expand_seed(seed)
    return encode(base_mult(a))


def sign(seed: bytes, msg: bytes) -> bytes:
    """RFC 8032 5.1.6 (deterministic)."""
    a, prefix = _expand_seed(seed)
    a_bytes = encode(base_mult(a))
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % L
    r_bytes = encode(base_mult(r))
    return sign_with_scalar(a, r, a_bytes, r_bytes, msg)


def _y(s: bytes) -> int:
    return int.from_bytes(s, "little") & _Y_MASK


def libsodium_reject_reason(pk: bytes, sig: bytes) -> Verdict | None:
    """docs/RULES.md section 1 checks 1-6, in order; None when all pass (then the equation decides)."""
    # 1. Lengths.
    if len(pk) != _PUBLIC_KEY_SIZE or len(sig) != _SIGNATURE_SIZE:
        return Verdict.MALFORMED_LENGTH
    # 2. S < L, never reduced.
    if int.from_bytes(sig[32:], "little") >= L:
        return Verdict.NON_CANONICAL_S
    # 3. R not decoded; masked y against the blocklist.
    if _y(sig[:32]) in LIBSODIUM_BLOCKLIST:
        return Verdict.SMALL_ORDER_R
    # 4. A canonical.
    y_a = _y(pk)
    if y_a >= P:
        return Verdict.NON_CANONICAL_KEY
    # 5. A not on the blocklist.
    if y_a in LIBSODIUM_BLOCKLIST:
        return Verdict.SMALL_ORDER_KEY
    # 6. A decodes.
    if recover_x(y_a, pk[31] >> 7) is None:
        return Verdict.UNDECODABLE_KEY
    return None


def zip215_reject_reason(pk: bytes, sig: bytes) -> Verdict | None:
    """docs/RULES.md section 2 checks before the equation: lengths, S < L, A decodes, R decodes."""
    if len(pk) != _PUBLIC_KEY_SIZE or len(sig) != _SIGNATURE_SIZE:
        return Verdict.MALFORMED_LENGTH
    if int.from_bytes(sig[32:], "little") >= L:
        return Verdict.NON_CANONICAL_S
    if recover_x(_y(pk) % P, pk[31] >> 7) is None:
        return Verdict.UNDECODABLE_KEY
    if recover_x(_y(sig[:32]) % P, sig[31] >> 7) is None:
        return Verdict.UNDECODABLE_R
    return None


def verify_libsodium(pk: bytes, sig: bytes, msg: bytes) -> Verdict:
    """Policy ``libsodium`` (docs/RULES.md section 1): cofactorless, R compared as bytes."""
    reason = libsodium_reject_reason(pk, sig)
    if reason is not None:
        return reason
    a_point = decode(pk)
    assert a_point is not None  # check 6 passed; y = +-1 (x = 0) is blocklisted
    s = int.from_bytes(sig[32:], "little")
    # 7. k = SHA-512(R || A || M) mod L.
    k = challenge(sig[:32], pk, msg)
    # 8. R' = [S]B - [k]A, encoded canonically.
    r_check = encode(point_add(base_mult(s), scalar_mult(k, point_neg(a_point))))
    # 9. Byte-for-byte comparison with R as sent.
    return Verdict.OK if r_check == sig[:32] else Verdict.EQUATION_FAILED


def verify_zip215(pk: bytes, sig: bytes, msg: bytes) -> Verdict:
    """Policy ``zip215`` (docs/RULES.md section 2): lenient decoding, no blocklist, cofactored equation."""
    reason = zip215_reject_reason(pk, sig)
    if reason is not None:
        return reason
    a_point = decode_zip215(pk)
    r_point = decode_zip215(sig[:32])
    assert a_point is not None and r_point is not None
    s = int.from_bytes(sig[32:], "little")
    k = challenge(sig[:32], pk, msg)
    # [8]([S]B - R - [k]A) == identity.
    q = point_add(point_add(base_mult(s), point_neg(r_point)), scalar_mult(k, point_neg(a_point)))
    q = point_double(point_double(point_double(q)))
    return Verdict.OK if is_identity(q) else Verdict.EQUATION_FAILED


def verify(policy: str, pk: bytes, sig: bytes, msg: bytes) -> Verdict:
    """Dispatch on a ``verifier.verdict.Policy`` value ("libsodium" or "zip215")."""
    if policy == "libsodium":
        return verify_libsodium(pk, sig, msg)
    if policy == "zip215":
        return verify_zip215(pk, sig, msg)
    raise ValueError(f"unknown policy {policy!r}")
