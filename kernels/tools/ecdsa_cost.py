"""A cost model of the ECDSA kernels from their SASS, for predictions before any GPU run (issue 15).

1. Counts the field operations of one verification per curve and key form, by running the kernel's own
   per-item function (ec/ecdsa.cuh ecdsa_verify_one) on the host with -DVERIFIER_COUNT_OPS
   (kernels/tools/ecdsa_cost_probe.cu).
2. Compiles one probe kernel per field operation with nvcc (sm_90; the default "wide" arithmetic, or
   --arith ptx) and counts its SASS instructions, minus a load/store-only baseline, by class: IMAD-class
   (IMAD, IMAD.WIDE, IMAD.HI, IMAD.X: the integer multiplier) and the rest.
3. Multiplies: instructions per verify, and verifies/s on an H200 at perfect issue (132 SMs, 4 schedulers
   each issuing one warp instruction per clock, 1.98 GHz) and under the multiplier's rate (taken as half
   the issue rate: 64 IMAD lanes per clock per SM). Point-formula glue, table selects, branches and
   local-memory traffic are not counted: the figures are upper bounds.

    .venv/bin/python kernels/tools/ecdsa_cost.py [--arch 90] [--arith wide|ptx] [--json OUT] [--nvdisasm PATH]

Needs nvcc and a disassembler: ``nvdisasm`` or ``cuobjdump`` on PATH (CUDA toolkit), or
``pip install --target DIR nvidia-cuda-nvdisasm`` and ``--nvdisasm DIR/nvidia/cu13/bin/nvdisasm``.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]  # kernels/
PROBE = ROOT / "tools" / "ecdsa_cost_probe.cu"
SMS, SCHEDULERS, CLOCK_HZ = 132, 4, 1.98e9  # H200 SXM
IMAD_RATE = 0.5  # IMAD-class lanes per clock, as a fraction of the issue rate (assumption, see above)
OPS = ("mul", "sqr", "add", "inv")
# ff/fp256.cuh's reduction forms, in fp256_form's order: the general row (secp256k1's p and both group
# orders; the probe measures it on secp256k1's p), then P-256's p written out.
FORMS = ("general", "p256_p")
ARITH = {"wide": 2, "ptx": 1}  # common/arith.cuh's build-time variants (VERIFIER_ARITH_MUL)


def _host_counts() -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT.parent))
    from verifier.backends._native import build_emu_library

    lib = build_emu_library("tools/ecdsa_cost_probe.cu", ("VERIFIER_COUNT_OPS",))
    fn = lib.ecdsa_cost_count
    fn.restype = ctypes.c_uint8
    rows = []
    digest = hashlib.sha256(b"cost model").digest()
    for curve, name in ((0, "secp256k1"), (1, "p256")):
        for compressed in (True, False):
            key, sig = _sign(name, digest, compressed)
            counts = (ctypes.c_ulonglong * (len(OPS) * len(FORMS)))()
            verdict = fn(curve, key, len(key), sig, len(sig), digest, 0, counts)
            if verdict != 1:
                raise SystemExit(f"{name}: the probe's signature did not verify (verdict {verdict})")
            by_form = {
                form: {op: counts[len(OPS) * f + k] for k, op in enumerate(OPS)}
                for f, form in enumerate(FORMS)
            }
            rows.append(
                {
                    "curve": name,
                    "key": "compressed" if compressed else "uncompressed",
                    **{op: sum(c[op] for c in by_form.values()) for op in OPS},
                    "by_form": by_form,
                }
            )
    return rows


def _sign(curve: str, digest: bytes, compressed: bool) -> tuple[bytes, bytes]:
    """A valid (key, 64-byte r || s) over ``digest``, low s."""
    if curve == "secp256k1":
        import coincurve

        sk = coincurve.PrivateKey(b"\x11" * 32)
        der = sk.sign(digest, hasher=None)
        r, s = _der_rs(der)
        return sk.public_key.format(compressed=compressed), r + s
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    key = ec.derive_private_key(0x1111, ec.SECP256R1())
    der = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    r_int, s_int = utils.decode_dss_signature(der)
    fmt = (
        serialization.PublicFormat.CompressedPoint
        if compressed
        else serialization.PublicFormat.UncompressedPoint
    )
    pub = key.public_key().public_bytes(serialization.Encoding.X962, fmt)
    return pub, r_int.to_bytes(32, "big") + s_int.to_bytes(32, "big")


def _der_rs(der: bytes) -> tuple[bytes, bytes]:
    i = 2
    out = []
    for _ in range(2):
        n = der[i + 1]
        out.append(int.from_bytes(der[i + 2 : i + 2 + n], "big").to_bytes(32, "big"))
        i += 2 + n
    return out[0], out[1]


def _disassembler(given: str | None) -> list[str]:
    if given:
        return [given]
    for name, flags in (("nvdisasm", []), ("cuobjdump", ["-sass"])):
        found = shutil.which(name)
        if found:
            return [found, *flags]
    raise SystemExit("no nvdisasm or cuobjdump on PATH (see --nvdisasm)")


def _sass_counts(arch: str, disasm: list[str], arith: str = "wide") -> dict[str, dict[str, int]]:
    nvcc = shutil.which("nvcc") or "/usr/local/bin/nvcc"
    with tempfile.TemporaryDirectory() as tmp:
        cubin = Path(tmp) / "probe.cubin"
        subprocess.run(
            [nvcc, f"-arch=sm_{arch}", "-std=c++17", f"-I{ROOT}", f"-DVERIFIER_ARITH_MUL={ARITH[arith]}",
             "-DVERIFIER_DBL_LOOP=0", "-DMODINV_UNROLLED", "--cubin", "-o", str(cubin), str(PROBE)],
            check=True,
        )  # fmt: skip
        sass = subprocess.run([*disasm, str(cubin)], check=True, capture_output=True, text=True).stdout
    per: dict[str, dict[str, int]] = {}
    current = None
    for line in sass.splitlines():
        m = re.search(r"Function : (\w+)", line) or re.match(r"\s*\.text\.(\w+):", line)
        if m:
            current = m.group(1)
            per[current] = {"total": 0, "imad": 0}
            continue
        m = re.search(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)", line)
        if m and current:
            op = m.group(1)
            if op.startswith("NOP") or op == "EXIT" or op.startswith("BRA"):
                continue
            per[current]["total"] += 1
            per[current]["imad"] += op.startswith("IMAD")
    base = per["probe_base"]
    return {  # "mul_secp256k1_p": the probe probe_mul_1's counts, minus the baseline's
        f"{op}_{FORMS[int(f)]}": {k: v[k] - base[k] for k in v}
        for name, v in per.items()
        if name != "probe_base"
        for op, f in [name.removeprefix("probe_").split("_")]
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--arch", default="90")
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--arith", choices=list(ARITH), default="wide", help="the products' variant (default wide)"
    )
    ap.add_argument(
        "--nvdisasm", help="the disassembler to use (default: nvdisasm or cuobjdump -sass on PATH)"
    )
    args = ap.parse_args()
    ops = _host_counts()
    sass = _sass_counts(args.arch, _disassembler(args.nvdisasm), args.arith)
    issue = SMS * SCHEDULERS * 32 * CLOCK_HZ  # thread instructions per second
    print(f"SASS per field operation (sm_{args.arch}, {args.arith}, minus load/store): " + ", ".join(
        f"{k} {v['total']} ({v['imad']} IMAD)" for k, v in sass.items()))  # fmt: skip
    for row in ops:
        counts = [(row["by_form"][f][op], sass[f"{op}_{f}"]) for f in FORMS for op in OPS]
        total = sum(n * cost["total"] for n, cost in counts)
        imad = sum(n * cost["imad"] for n, cost in counts)
        row["sass_instructions"] = total
        row["imad_instructions"] = imad
        row["bound_issue_per_s"] = issue / total
        row["bound_imad_per_s"] = issue * IMAD_RATE / imad
        print(
            f"{row['curve']:9s} {row['key']:12s} {row['mul']:5d} mul {row['sqr']:5d} sqr {row['add']:5d} add: "
            f"{total / 1e3:7.1f}k SASS ({imad / 1e3:6.1f}k IMAD) -> at most "
            f"{min(row['bound_issue_per_s'], row['bound_imad_per_s']) / 1e6:5.1f}M verifies/s on an H200"
        )
    if args.json:
        args.json.write_text(json.dumps({"sass_per_op": sass, "per_verify": ops}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
