"""kernels/ec/weierstrass.cuh pieces on their own (host build); the point arithmetic as a whole is held to
the references by the ECDSA suites (tests/backends/test_ecdsa.py)."""

from __future__ import annotations

import ctypes
import random

import pytest

from tests.support.kernel_shim import build_shim, load_tool

_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1's group order


@pytest.mark.parametrize("bits", [4, 7])
def test_signed_digits_recode_the_scalar(rng: random.Random, bits: int) -> None:
    """Booth's recoding in signed b-bit windows (4: Q's, 7: G's): each digit in [-2^(b-1), 2^(b-1)],
    sum d_w 2^(b w) = k, ceil((B + 1) / b) digits for B-bit scalars (B = 256, or 128 for the GLV halves),
    for edge and random scalars."""
    lib = build_shim("weierstrass_shim.cu")
    half = 2 ** (bits - 1)
    edge = [
        0,
        1,
        7,
        8,
        9,
        15,
        16,
        63,
        64,
        65,
        127,
        128,
        2**127,
        2**128 - 1,
        2**255,
        2**256 - 1,
        _N - 1,
        (_N - 1) // 2,
    ]
    edge += [int("8" * 64, 16), int("7" * 64, 16), int("f0" * 32, 16), int("0f" * 32, 16)]
    edge += [
        sum(1 << i for i in range(256) if i % bits == bits - 1),
        sum(1 << i for i in range(0, 256, bits)),
    ]
    total = -(-257 // bits)
    for k in edge + [rng.randrange(2**256) for _ in range(300)] + [rng.randrange(2**128) for _ in range(300)]:
        count = -(-(129 if k < 2**128 else 257) // bits)
        limbs = (ctypes.c_uint32 * 8)(*[(k >> (32 * i)) & 0xFFFFFFFF for i in range(8)])
        digits = (ctypes.c_int * total)()
        lib.shim_scalar_digits(limbs, total, bits, digits)
        assert all(-half <= d <= half for d in digits), hex(k)
        assert all(d == 0 for d in digits[count:]), hex(k)
        assert sum(d * 2 ** (bits * w) for w, d in enumerate(digits[:count])) == k, hex(k)


@pytest.mark.parametrize("curve", ["secp256k1", "p256"])
def test_g_entries_as_the_kernels_read_them(curve: str) -> None:
    """wcurve_g_entry(table, k) is k G (table 0) or k lambda G (table 1, secp256k1), affine, in Montgomery
    form, for every k the window width allows; the points themselves are checked from first principles in
    test_weierstrass_tables.py."""
    lib = build_shim("weierstrass_shim.cu")
    tool = load_tool("gen_weierstrass_tables")
    p = tool.CURVES[curve][0]
    r = 2**256 % p
    beta = tool.GLV["beta"]
    out = (ctypes.c_uint32 * 16)()
    width = lib.shim_g_entry(0, 0, 1, out)
    assert width == tool.WINDOW
    points = tool.table(curve)
    assert len(points) == 2 ** (width - 1)
    tables = [points] + ([[(beta * x % p, y) for x, y in points]] if curve == "secp256k1" else [])
    for t, entries in enumerate(tables):
        for k, (x, y) in enumerate(entries, start=1):
            lib.shim_g_entry(0 if curve == "secp256k1" else 1, t, k, out)
            got_x = sum(out[i] << (32 * i) for i in range(8))
            got_y = sum(out[8 + i] << (32 * i) for i in range(8))
            assert (got_x, got_y) == (x * r % p, y * r % p), (t, k)
