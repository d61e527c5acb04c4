"""kernels/ec/weierstrass.cuh pieces on their own (host build); the point arithmetic as a whole is held to
the references by the ECDSA suites (tests/backends/test_ecdsa.py)."""

from __future__ import annotations

import ctypes
import random

from tests.support.kernel_shim import build_shim

_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1's group order


def test_signed_digits_recode_the_scalar(rng: random.Random) -> None:
    """Booth's radix-16 digits: each in [-8, 8], sum d_w 16^w = k, 65 digits for 256-bit scalars and 33 for
    the 128-bit GLV halves, for edge and random scalars."""
    lib = build_shim("weierstrass_shim.cu")
    edge = [0, 1, 7, 8, 9, 15, 16, 2**127, 2**128 - 1, 2**255, 2**256 - 1, _N - 1, (_N - 1) // 2]
    edge += [int("8" * 64, 16), int("7" * 64, 16), int("f0" * 32, 16), int("0f" * 32, 16)]
    for k in edge + [rng.randrange(2**256) for _ in range(300)] + [rng.randrange(2**128) for _ in range(300)]:
        count = 33 if k < 2**128 else 65
        limbs = (ctypes.c_uint32 * 8)(*[(k >> (32 * i)) & 0xFFFFFFFF for i in range(8)])
        digits = (ctypes.c_int * 65)()
        lib.shim_scalar_digits(limbs, 65, digits)
        assert all(-8 <= d <= 8 for d in digits), hex(k)
        assert all(d == 0 for d in digits[count:]), hex(k)
        assert sum(d * 16**w for w, d in enumerate(digits[:count])) == k, hex(k)
