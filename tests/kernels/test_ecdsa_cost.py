"""kernels/tools/ecdsa_cost.py's host half: the kernel's own per-item function, built with the operation
counters of ff/fp256.cuh, verifies a signature of each curve and key form and reports its field
operations (the SASS half needs nvcc and a disassembler, and is a tool, not a test)."""

from __future__ import annotations

from pathlib import Path

from tests.support.kernel_shim import load_tool


def test_operation_counts_of_one_verification() -> None:
    mod = load_tool("ecdsa_cost")
    rows = {(r["curve"], r["key"]): r for r in mod._host_counts()}
    assert set(rows) == {(c, k) for c in ("secp256k1", "p256") for k in ("compressed", "uncompressed")}
    for curve in ("secp256k1", "p256"):
        c, u = rows[curve, "compressed"], rows[curve, "uncompressed"]
        # Decompressing the key costs a square root (~250 squarings) that the uncompressed form skips.
        assert c["sqr"] - u["sqr"] > 200, (curve, c, u)
        # Both double-scalar multiplications are thousands of operations: the counters are on.
        assert u["mul"] > 1000 and u["sqr"] > 500 and u["add"] > 1000
        # One inversion per verify (s^-1 mod n, ff/modinv.cuh), whatever the key form.
        assert c["inv"] == u["inv"] == 1, (curve, c, u)
    # GLV halves secp256k1's doublings: fewer squarings than P-256's.
    assert rows["secp256k1", "uncompressed"]["sqr"] < rows["p256", "uncompressed"]["sqr"]
    assert Path(mod.PROBE).is_file()
