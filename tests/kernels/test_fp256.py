"""kernels/ff/fp256.cuh, the Montgomery arithmetic of the ECDSA curves' fields and scalar groups, against
Python integers (host build): the constants, then add, sub, neg, mul, pow and inv (ff/modinv.cuh) on each
of the four moduli, with edge values (0, 1, m - 1, small, large) and random ones from the printed seed."""

from __future__ import annotations

import ctypes
import random

import pytest

from tests.support.kernel_shim import build_shim

MODULI = (
    2**256 - 2**32 - 977,  # secp256k1 p
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,  # secp256k1 n
    2**256 - 2**224 + 2**192 + 2**96 - 1,  # P-256 p
    0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,  # P-256 n
)
R = 2**256
U32x8 = ctypes.c_uint32 * 8


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    return build_shim("fp256_shim.cu")


def _limbs(x: int) -> ctypes.Array[ctypes.c_uint32]:
    return U32x8(*[(x >> (32 * i)) & 0xFFFFFFFF for i in range(8)])


def _value(a: ctypes.Array[ctypes.c_uint32]) -> int:
    return sum(int(w) << (32 * i) for i, w in enumerate(a))


def _values(m: int, rng: random.Random) -> list[int]:
    edge = [0, 1, 2, 3, m - 1, m - 2, (m - 1) // 2, (m + 1) // 2, 2**32 - 1, 2**32, 2**255 % m, 2**224 % m]
    return edge + [rng.randrange(m) for _ in range(300)]


@pytest.mark.parametrize("which", range(4))
def test_constants(lib: ctypes.CDLL, which: int) -> None:
    m = MODULI[which]
    out_m, r2, one, m_inv = U32x8(), U32x8(), U32x8(), ctypes.c_uint32()
    lib.shim_fp_constants(which, out_m, ctypes.byref(m_inv), r2, one)
    assert _value(out_m) == m
    assert (m * m_inv.value) % 2**32 == 2**32 - 1  # m_inv = -m^-1 mod 2^32
    assert _value(r2) == R * R % m and _value(one) == R % m


@pytest.mark.parametrize("which", range(4))
def test_arithmetic(lib: ctypes.CDLL, which: int, rng: random.Random) -> None:
    m = MODULI[which]
    xs = _values(m, rng)

    def mont(x: int) -> ctypes.Array[ctypes.c_uint32]:
        out = U32x8()
        lib.shim_fp_to_mont(which, out, _limbs(x))
        assert _value(out) == x * R % m
        return out

    def plain(a: ctypes.Array[ctypes.c_uint32]) -> int:
        out = U32x8()
        lib.shim_fp_from_mont(which, out, a)
        return _value(out)

    for x, y in zip(xs, [*xs[1:], xs[0]], strict=True):
        a, b, out = mont(x), mont(y), U32x8()
        assert plain(a) == x
        lib.shim_fp_add(which, out, a, b)
        assert plain(out) == (x + y) % m and _value(out) < m
        lib.shim_fp_sub(which, out, a, b)
        assert plain(out) == (x - y) % m and _value(out) < m
        lib.shim_fp_neg(which, out, a)
        assert plain(out) == -x % m
        lib.shim_fp_mul(which, out, a, b)
        assert plain(out) == x * y % m and _value(out) < m, (hex(x), hex(y))
    for x in xs[:40]:
        a, out = mont(x), U32x8()
        lib.shim_fp_inv(which, out, a)
        assert plain(out) == (pow(x, -1, m) if x else 0), hex(x)
        e = rng.randrange(R)
        lib.shim_fp_pow(which, out, a, _limbs(e))
        assert plain(out) == pow(x, e, m)


def test_load_be32(lib: ctypes.CDLL, rng: random.Random) -> None:
    for _ in range(50):
        x = rng.randrange(R)
        out = U32x8()
        buf = (ctypes.c_uint8 * 32)(*x.to_bytes(32, "big"))
        lib.shim_fp_load_be32(out, buf)
        assert _value(out) == x


@pytest.mark.parametrize("which", range(4))
def test_inversion(lib: ctypes.CDLL, which: int, rng: random.Random) -> None:
    """fp256_inv (ff/modinv.cuh's divsteps, then back to Montgomery form) against pow(x, -1, m): 0, 1,
    m - 1, every power of two below m, values next to m and to 2^k, long runs of ones and zeros, random."""
    m = MODULI[which]
    xs = [0, 1, 2, 3, m - 1, m - 2, (m + 1) // 2, (m - 1) // 2, m >> 1]
    xs += [2**k for k in range(256)] + [2**k - 1 for k in range(1, 256)] + [2**k + 1 for k in range(1, 255)]
    xs += [m - 2**k for k in range(255)] + [int("f" * i + "0" * (64 - i), 16) for i in range(1, 64)]
    xs = [x % m for x in xs]
    xs += [rng.randrange(m) for _ in range(3000)]
    out = U32x8()
    for x in xs:
        lib.shim_fp_inv(which, out, _limbs(x * R % m))
        assert _value(out) == (pow(x, -1, m) * R % m if x else 0), hex(x)
