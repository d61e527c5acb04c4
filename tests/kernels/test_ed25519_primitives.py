"""The device functions behind the Ed25519 kernel, one by one, against Python integers (host build).

Built from tests/kernels/ed25519_shim.cu with the emu flags, once per field representation (8 x 32-bit
limbs, and 5 x 51 with -DVERIFIER_FE51), so these are the portable twins of the PTX
primitives (tests/kernels/test_arith_ptx_sim.py and test_arith_twin_gpu.py cover the PTX). Each test
mixes fixed edge values (0, p - 1, p, 2^256 - 1, L - 1, L, ...) with random ones from the printed seed.
"""

from __future__ import annotations

import ctypes
import hashlib
import random

import pytest

from tests.support import ed25519_ref as ref
from tests.support.kernel_shim import build_shim

P, L = ref.P, ref.L
M256 = 2**256
U32x8 = ctypes.c_uint32 * 8
EDGE_256 = (
    0,
    1,
    2,
    19,
    37,
    38,
    39,
    P - 1,
    P,
    P + 1,
    2 * P - 1,
    2 * P,
    2 * P + 37,
    2**255 - 1,
    2**255,
    M256 - 39,
    M256 - 38,
    M256 - 37,
    M256 - 1,
    2**32 - 1,
    2**224,
    L - 1,
    L,
)


# Both field representations (kernels/ff/fe25519.cuh): 8 x 32-bit limbs (GPU, emu) and 5 x 51 (cpu).
@pytest.fixture(scope="module", params=["fe32", "fe51"])
def lib(request: pytest.FixtureRequest) -> ctypes.CDLL:
    return build_shim("ed25519_shim.cu", ("VERIFIER_FE51",) if request.param == "fe51" else ())


def limbs(x: int, n: int = 8) -> ctypes.Array[ctypes.c_uint32]:
    return (ctypes.c_uint32 * n)(*[(x >> (32 * i)) & 0xFFFFFFFF for i in range(n)])


def value(a: ctypes.Array[ctypes.c_uint32]) -> int:
    return sum(int(w) << (32 * i) for i, w in enumerate(a))


def sample(rng: random.Random, count: int) -> list[int]:
    """Edge values plus random ones of every size class (full width, near p, small)."""
    out = list(EDGE_256)
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:
            out.append(rng.getrandbits(256))
        elif kind == 1:
            out.append((P * rng.randrange(1, 3) + rng.randrange(-64, 64)) % M256)
        elif kind == 2:
            out.append(M256 - 1 - rng.getrandbits(rng.randrange(1, 64)))
        else:
            out.append(rng.getrandbits(rng.randrange(1, 256)))
    return out


def test_arith_portable_twins(lib: ctypes.CDLL, rng: random.Random) -> None:
    xs = sample(rng, 300)
    for a in xs:
        b = rng.choice(xs)
        s = rng.choice((0, 1, 19, 38, 0xFFFFFFFF, rng.getrandbits(32)))
        r, r9, r16 = limbs(0), limbs(0, 9), limbs(0, 16)
        assert lib.shim_add8(r, limbs(a), limbs(b)) == (a + b) >> 256 and value(r) == (a + b) % M256
        assert lib.shim_sub8(r, limbs(a), limbs(b)) == int(a < b) and value(r) == (a - b) % M256
        assert lib.shim_add8_u32(r, limbs(a), s) == (a + s) >> 256 and value(r) == (a + s) % M256
        assert lib.shim_sub8_u32(r, limbs(a), s) == int(a < s) and value(r) == (a - s) % M256
        lib.shim_mad8_u32(r9, limbs(a), s, limbs(b))
        assert value(r9) == b + a * s
        lib.shim_mul8(r16, limbs(a), limbs(b))
        assert value(r16) == a * b
        lib.shim_sqr8(r16, limbs(a))
        assert value(r16) == a * a


def test_fe25519_ops(lib: ctypes.CDLL, rng: random.Random) -> None:
    xs = sample(rng, 300)
    for f in xs:
        g = rng.choice(xs)
        h = limbs(0)
        for fn, want in (
            (lib.shim_fe_add, f + g),
            (lib.shim_fe_sub, f - g),
            (lib.shim_fe_mul, f * g),
        ):
            fn(h, limbs(f), limbs(g))
            assert value(h) < M256 and value(h) % P == want % P, (fn.__name__, hex(f), hex(g))
        lib.shim_fe_sq(h, limbs(f))
        assert value(h) % P == f * f % P
        lib.shim_fe_neg(h, limbs(f))
        assert value(h) % P == -f % P
        lib.shim_fe_freeze(h, limbs(f))
        assert value(h) == f % P, hex(f)
        assert lib.shim_fe_iszero(limbs(f)) == int(f % P == 0)
        assert lib.shim_fe_isnegative(limbs(f)) == (f % P) & 1


def test_fe25519_uncarried_sums(lib: ctypes.CDLL, rng: random.Random) -> None:
    """Products and differences of sums of up to seven values, each as large as its representation allows."""
    xs = [P - 1, 2**255 - 1, M256 - 1, *sample(rng, 60)]
    h = limbs(0)
    for f in xs:
        g = rng.choice(xs)
        for k in range(1, 8):
            lib.shim_fe_mul_sums(h, limbs(f), limbs(g), k)
            assert value(h) % P == (k * f) * (k * g) * (k * f - k * g) % P, (hex(f), hex(g), k)


def test_fe25519_exponentiations(lib: ctypes.CDLL, rng: random.Random) -> None:
    for f in sample(rng, 40):
        h = limbs(0)
        lib.shim_fe_invert(h, limbs(f))
        assert value(h) % P == pow(f, P - 2, P)
        lib.shim_fe_pow22523(h, limbs(f))
        assert value(h) % P == pow(f, (P - 5) // 8, P)


def test_sc25519_canonical_and_reduce(lib: ctypes.CDLL, rng: random.Random) -> None:
    for s in (*EDGE_256, L - 2, L - 1, L, L + 1, 2 * L, 2**252, 2**253):
        assert lib.shim_sc_is_canonical(limbs(s % M256)) == int(s % M256 < L), hex(s)
    top = (2**512 // L) * L  # the largest multiple of L below 2^512
    wide = [
        0,
        1,
        L - 1,
        L,
        L + 1,
        2**512 - 1,
        L * (2**259),
        L * (2**259) - 1,
        2**511,
        top,
        top - 1,
        2**512 - top - 1,
    ]
    assert max(wide) < 2**512
    wide += [rng.getrandbits(512) for _ in range(2000)] + [
        rng.getrandbits(rng.randrange(1, 512)) for _ in range(500)
    ]
    r = limbs(0)
    for x in wide:
        lib.shim_sc_reduce(r, limbs(x, 16))
        assert value(r) == x % L, hex(x)


@pytest.mark.parametrize("width", [4, 8])
def test_sc25519_signed_recoding(lib: ctypes.CDLL, rng: random.Random, width: int) -> None:
    n = 256 // width
    fn = lib.shim_sc_recode4 if width == 4 else lib.shim_sc_recode8
    for s in [0, 1, L - 1, 2**253 - 1, 2**252, *(rng.randrange(L) for _ in range(500))]:
        e = (ctypes.c_int8 * n)()
        fn(e, limbs(s))
        digits = list(e)
        assert all(-(2 ** (width - 1)) <= d < 2 ** (width - 1) for d in digits)
        assert sum(d << (width * i) for i, d in enumerate(digits)) == s


def test_sha512_challenge(lib: ctypes.CDLL, rng: random.Random) -> None:
    out = (ctypes.c_uint8 * 64)()
    lengths = [*range(300), 1000, 4095, 4096, 4097, 65536]
    for mlen in lengths:
        r, a, m = rng.randbytes(32), rng.randbytes(32), rng.randbytes(mlen)
        lib.shim_sha512_challenge(out, r, a, m, ctypes.c_uint64(mlen))
        assert bytes(out) == hashlib.sha512(r + a + m).digest(), mlen


def _encodings(rng: random.Random, count: int) -> list[bytes]:
    out = list(ref.SMALL_ORDER_ENCODINGS)
    out += [
        (y | (s << 255)).to_bytes(32, "little")
        for y in (0, 1, 2, P - 2, P - 1, P, P + 1, P + 18, 2**255 - 1)
        for s in (0, 1)
    ]
    out += [bytes(rng.randbytes(32)) for _ in range(count)]
    out += [ref.encode(ref.base_mult(rng.randrange(1, L))) for _ in range(count // 4)]
    return out


def test_ge25519_checks_and_decoding(lib: ctypes.CDLL, rng: random.Random) -> None:
    out = (ctypes.c_uint8 * 32)()
    for s in _encodings(rng, 400):
        y = int.from_bytes(s, "little") & (2**255 - 1)
        assert lib.shim_ge_has_small_order(s) == int(y in ref.LIBSODIUM_BLOCKLIST), s.hex()
        assert lib.shim_ge_is_canonical(s) == int(y < P), s.hex()
        want = ref.decode_zip215(s)
        rc = lib.shim_ge_roundtrip(out, s)
        assert (rc == 0) == (want is not None), s.hex()
        if want is not None:
            assert bytes(out) == ref.encode(want), s.hex()


def test_ge25519_group_law_including_small_order(lib: ctypes.CDLL, rng: random.Random) -> None:
    pts = [e for e in _encodings(rng, 60) if ref.decode_zip215(e) is not None]
    sums, diffs, dbls = ((ctypes.c_uint8 * 32)() for _ in range(3))
    for p_enc in pts:
        q_enc = rng.choice(pts)
        assert lib.shim_ge_add_sub_dbl(sums, diffs, dbls, p_enc, q_enc) == 0
        p, q = ref.decode_zip215(p_enc), ref.decode_zip215(q_enc)
        assert p is not None and q is not None
        assert bytes(sums) == ref.encode(ref.point_add(p, q))
        assert bytes(diffs) == ref.encode(ref.point_add(p, ref.point_neg(q)))
        assert bytes(dbls) == ref.encode(ref.point_double(p))


def test_ge25519_double_scalarmult(lib: ctypes.CDLL, rng: random.Random) -> None:
    """[a]A + [b]B for A in the prime subgroup, with a torsion component, or of small order."""
    out = (ctypes.c_uint8 * 32)()
    scalars = [0, 1, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, L - 1, 2**252, 2**253 - 1]
    cases = []
    for _ in range(40):
        a_pt = ref.base_mult(rng.randrange(1, L))
        kind = rng.randrange(3)
        if kind == 1:
            a_pt = ref.point_add(a_pt, rng.choice(ref.SMALL_ORDER_POINTS[1:]))
        elif kind == 2:
            a_pt = rng.choice(ref.SMALL_ORDER_POINTS)
        cases.append(
            (
                ref.encode(a_pt),
                rng.choice(scalars + [rng.randrange(L)]),
                rng.choice(scalars + [rng.randrange(L)]),
            )
        )
    for a_enc, a, b in cases:
        assert lib.shim_ge_double_scalarmult(out, limbs(a), a_enc, limbs(b)) == 0
        a_dec = ref.decode_zip215(a_enc)
        assert a_dec is not None
        want = ref.point_add(ref.scalar_mult(a, a_dec), ref.scalar_mult(b, ref.BASE))
        assert bytes(out) == ref.encode(want), (a_enc.hex(), a, b)


def _msm_points(rng: random.Random, n: int) -> list[bytes]:
    """Prime-order, small-order, mixed-order (torsion added) and non-canonical encodings, all decodable."""
    out: list[bytes] = []
    while len(out) < n:
        kind = rng.randrange(4)
        if kind == 0:
            out.append(ref.encode(ref.base_mult(rng.randrange(1, L))))
        elif kind == 1:
            out.append(rng.choice(ref.SMALL_ORDER_ENCODINGS))
        elif kind == 2:
            t = rng.choice(ref.SMALL_ORDER_POINTS)
            out.append(ref.encode(ref.point_add(ref.base_mult(rng.randrange(1, L)), t)))
        else:
            enc = rng.randbytes(32)
            if ref.decode_zip215(enc) is not None:
                out.append(enc)
    return out


@pytest.mark.parametrize("method", ["straus", "pippenger", "auto"])
def test_ge25519_msm(lib: ctypes.CDLL, rng: random.Random, method: str) -> None:
    """sum [s_i] P_i exactly (no reduction mod L: torsion components count), for 0..300 points, scalars of
    every length below 2^253 (0, 1, 128-bit, L - 1, 2^253 - 1), against Python integers."""
    out = (ctypes.c_uint8 * 32)()
    code, windows = {"straus": (1, [0]), "pippenger": (2, [2, 3, 5, 8, 11, 16]), "auto": (0, [0])}[method]
    for n in (0, 1, 2, 3, 7, 31, 32, 33, 64, 65, 150, 300):
        encs = _msm_points(rng, n)
        scalars = [
            rng.choice(
                (0, 1, 2, L - 1, 2**253 - 1, rng.getrandbits(128), rng.randrange(L), rng.getrandbits(253))
            )
            for _ in range(n)
        ]
        acc = ref.scalar_mult(0, ref.base_mult(1))  # the identity
        for enc, s in zip(encs, scalars, strict=True):
            point = ref.decode_zip215(enc)
            assert point is not None
            acc = ref.point_add(acc, ref.scalar_mult(s, point))
        want = ref.encode(acc)
        words = (ctypes.c_uint32 * (8 * max(n, 1)))(
            *[(s >> (32 * w)) & 0xFFFFFFFF for s in scalars for w in range(8)]
        )
        for c in windows:
            assert lib.shim_ge_msm(out, b"".join(encs), words, n, code, c) == 0
            assert bytes(out) == want, (method, n, c)
