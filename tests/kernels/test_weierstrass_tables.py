"""The generated constants of kernels/ec/weierstrass_g_tables.cuh, from first principles: each table
entry is k G on its curve (independent double-and-add with Python integers), and secp256k1's GLV
constants split every scalar into halves below 2^128 that recombine to it."""

from __future__ import annotations

import random

import pytest

from tests.support.kernel_shim import load_tool

N_SECP256K1 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _mul(p: int, a: int, k: int, point: tuple[int, int]) -> tuple[int, int] | None:
    """k point by double-and-add in affine coordinates (None: infinity)."""

    def add(u: tuple[int, int] | None, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if u is None or v is None:
            return u or v
        (x1, y1), (x2, y2) = u, v
        if x1 == x2 and (y1 + y2) % p == 0:
            return None
        lam = (3 * x1 * x1 + a) * pow(2 * y1, -1, p) if u == v else (y2 - y1) * pow(x2 - x1, -1, p)
        lam %= p
        x3 = (lam * lam - x1 - x2) % p
        return x3, (lam * (x1 - x3) - y1) % p

    out: tuple[int, int] | None = None
    for bit in bin(k)[2:]:
        out = add(out, out)
        if bit == "1":
            out = add(out, point)
    return out


@pytest.mark.parametrize("curve", ["secp256k1", "p256"])
def test_table_entries_are_multiples_of_the_generator(curve: str) -> None:
    tool = load_tool("gen_weierstrass_tables")
    p, a, gx, gy = tool.CURVES[curve]
    b = {"secp256k1": 7, "p256": 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B}[curve]
    assert (gy * gy - gx**3 - a * gx - b) % p == 0  # G is on the curve
    for k, point in enumerate(tool.table(curve), start=1):
        assert point == _mul(p, a, k, (gx, gy)), k


def test_glv_constants_and_split(rng: random.Random) -> None:
    glv = load_tool("gen_weierstrass_tables").GLV
    p, _a, gx, gy = load_tool("gen_weierstrass_tables").CURVES["secp256k1"]
    n, lam, beta = N_SECP256K1, glv["lambda"], glv["beta"]
    assert pow(lam, 3, n) == 1 and lam != 1 and pow(beta, 3, p) == 1 and beta != 1
    assert _mul(p, 0, lam, (gx, gy)) == (beta * gx % p, gy)
    for _ in range(10_000):
        k = rng.randrange(n)
        c1 = (k * glv["g1"] + (1 << 383)) >> 384
        c2 = (k * glv["g2"] + (1 << 383)) >> 384
        k2 = (c1 * glv["minus_b1"] + c2 * glv["minus_b2"]) % n
        k1 = (k - k2 * lam) % n
        assert (k1 + k2 * lam) % n == k
        assert min(k1, n - k1) < 2**128 and min(k2, n - k2) < 2**128
