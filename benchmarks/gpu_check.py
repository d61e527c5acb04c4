"""The Python half of scripts/gpu_check.sh: the environment, compiling every build-time variant, the
integer-multiply micro-benchmark, and merging what each stage saved into one results file.

    python benchmarks/gpu_check.py env --backend cuda|emu          # GPU, driver, clocks, CuPy, NVRTC
    python benchmarks/gpu_check.py compile --backend cuda|emu      # every variant, in parallel, timed
    python benchmarks/gpu_check.py imad                            # IMAD / IMAD.HI / IADD3.X / IMAD.WIDE rates
    python benchmarks/gpu_check.py merge PARTS_DIR OUT_FILE        # one benchmarks/results document

Each command saves its records through benchmarks/_common.save (into $VERIFIER_RESULTS_DIR, which the
shell script points at its parts directory), so a stage killed by its timeout keeps what came before.
Variants (kernels/common/arith.cuh): ``ptx`` / ``wide`` products, each with the main loop's doublings
unrolled or as a loop (``-loop``); the first is the backend's default.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

from benchmarks._common import commit, environment, save  # noqa: E402

# name -> (VERIFIER_CUDA_ARITH, VERIFIER_CUDA_DBL_LOOP)
VARIANTS = {"ptx": ("ptx", 0), "wide": ("wide", 0), "ptx-loop": ("ptx", 1), "wide-loop": ("wide", 1)}
ECDSA_MODULES = {"ecdsa-secp256k1": 0, "ecdsa-p256": 1}  # the compile stage's other jobs: curve by name

_IMAD_SOURCE = r"""
// One kernel per instruction under test; 8 independent chains per thread so that issue rate, not
// latency, bounds it. Each asm statement is one PTX instruction that ptxas maps to the SASS named.
#define CHAINS 8
extern "C" __global__ void bench_imad(unsigned *out, unsigned iters) {          // IMAD
  unsigned x[CHAINS], m = 0x9e3779b1u + threadIdx.x, c = 0x7f4a7c15u;
  for (int k = 0; k < CHAINS; ++k) x[k] = threadIdx.x * (k + 3);
  for (unsigned i = 0; i < iters; ++i)
#pragma unroll
    for (int k = 0; k < CHAINS; ++k) asm volatile("mad.lo.u32 %0, %0, %1, %2;" : "+r"(x[k]) : "r"(m), "r"(c));
  unsigned r = 0;
  for (int k = 0; k < CHAINS; ++k) r ^= x[k];
  out[blockIdx.x * blockDim.x + threadIdx.x] = r;
}
extern "C" __global__ void bench_imad_hi(unsigned *out, unsigned iters) {       // IMAD.HI
  unsigned x[CHAINS], m = 0x9e3779b1u + threadIdx.x, c = 0x7f4a7c15u;
  for (int k = 0; k < CHAINS; ++k) x[k] = threadIdx.x * (k + 3) + 0x12345u;
  for (unsigned i = 0; i < iters; ++i)
#pragma unroll
    for (int k = 0; k < CHAINS; ++k) asm volatile("mad.hi.u32 %0, %0, %1, %2;" : "+r"(x[k]) : "r"(m), "r"(c));
  unsigned r = 0;
  for (int k = 0; k < CHAINS; ++k) r ^= x[k];
  out[blockIdx.x * blockDim.x + threadIdx.x] = r;
}
extern "C" __global__ void bench_iadd3_x(unsigned *out, unsigned iters) {       // IADD3 + IADD3.X
  unsigned lo[CHAINS], hi[CHAINS], a = 0x9e3779b1u + threadIdx.x, b = 0x7f4a7c15u;
  for (int k = 0; k < CHAINS; ++k) { lo[k] = threadIdx.x * (k + 3); hi[k] = k; }
  for (unsigned i = 0; i < iters; ++i)
#pragma unroll
    for (int k = 0; k < CHAINS; ++k)
      asm volatile("add.cc.u32 %0, %0, %2;\n\taddc.u32 %1, %1, %3;" : "+r"(lo[k]), "+r"(hi[k]) : "r"(a), "r"(b));
  unsigned r = 0;
  for (int k = 0; k < CHAINS; ++k) r ^= lo[k] ^ hi[k];
  out[blockIdx.x * blockDim.x + threadIdx.x] = r;
}
extern "C" __global__ void bench_imad_wide(unsigned *out, unsigned iters) {     // IMAD.WIDE.U32
  unsigned long long x[CHAINS];
  unsigned m = 0x9e3779b1u + threadIdx.x;
  for (int k = 0; k < CHAINS; ++k) x[k] = threadIdx.x * (k + 3);
  for (unsigned i = 0; i < iters; ++i)
#pragma unroll
    for (int k = 0; k < CHAINS; ++k) {
      unsigned lo = (unsigned)x[k];
      asm volatile("mad.wide.u32 %0, %1, %2, %0;" : "+l"(x[k]) : "r"(lo), "r"(m));
    }
  unsigned r = 0;
  for (int k = 0; k < CHAINS; ++k) r ^= (unsigned)x[k] ^ (unsigned)(x[k] >> 32);
  out[blockIdx.x * blockDim.x + threadIdx.x] = r;
}
"""
# kernel -> (SASS it measures, instructions per chain step)
_IMAD_KERNELS = {
    "bench_imad": ("IMAD", 1),
    "bench_imad_hi": ("IMAD.HI", 1),
    "bench_iadd3_x": ("IADD3 + IADD3.X", 2),
    "bench_imad_wide": ("IMAD.WIDE.U32", 1),
}
_IMAD_CHAINS = 8


def _nvidia_smi() -> dict[str, str]:
    fields = "name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,memory.total,power.limit,pstate"
    try:
        out = subprocess.run(
            ["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"nvidia-smi: {exc}"}
    values = [v.strip() for v in out.stdout.splitlines()[0].split(",")] if out.stdout.strip() else []
    return (
        dict(zip(fields.split(","), values, strict=True))
        if values
        else {"error": out.stderr.strip() or "no output"}
    )


def cmd_env(args: argparse.Namespace) -> int:
    record: dict[str, Any] = {"kind": "environment", "backend": args.backend, "environment": environment()}
    if args.backend == "cuda":
        record["nvidia_smi"] = _nvidia_smi()
        try:
            import cupy

            record["cupy"] = cupy.__version__
            record["cuda_runtime"] = int(cupy.cuda.runtime.runtimeGetVersion())
            record["cuda_driver"] = int(cupy.cuda.runtime.driverGetVersion())
            record["nvrtc"] = list(cupy.cuda.nvrtc.getVersion())
        except Exception as exc:  # noqa: BLE001 - recorded, the next stages say what follows from it
            record["cupy_error"] = f"{type(exc).__name__}: {exc}"
    for key, value in record.items():
        print(f"env: {key}: {value}")
    save("gpu-check-env", args.device_name or args.backend, [record])
    return 0


def cmd_compile_one(args: argparse.Namespace) -> int:
    """Compile one variant (or one ECDSA curve's module, default variant) and print one JSON line (run in a
    process of its own by ``compile``)."""
    t = time.perf_counter()
    if args.variant in ECDSA_MODULES:
        record = _compile_ecdsa(args.backend, ECDSA_MODULES[args.variant])
        print(json.dumps({"seconds": time.perf_counter() - t, **record}))
        return 0
    arith, loop = VARIANTS[args.variant]
    if args.backend == "cuda":
        from verifier.backends.cuda._module import import_cupy, variant_defines
        from verifier.backends.cuda.ed25519 import Ed25519Kernel

        kernel = Ed25519Kernel(import_cupy(), variant=variant_defines(arith, loop))
        fn = kernel.function
        record = {
            "registers": int(fn.num_regs),
            "local_bytes": int(fn.local_size_bytes),
            "defines": list(kernel.variant),
        }
    else:
        from verifier.backends._host import HostEd25519
        from verifier.backends.pool import PriorityPool

        HostEd25519(PriorityPool(1), 1, defines=(f"VERIFIER_DBL_LOOP={loop}",))
        record = {
            "defines": [f"VERIFIER_DBL_LOOP={loop}"],
            "note": "host build: products are always the portable C",
        }
    print(json.dumps({"seconds": time.perf_counter() - t, **record}))
    return 0


def _compile_ecdsa(backend: str, curve: int) -> dict[str, Any]:
    if backend == "cuda":
        from verifier.backends.cuda._module import import_cupy
        from verifier.backends.cuda.ecdsa import compile_curve

        fn = compile_curve(import_cupy(), curve)
        return {"registers": int(fn.num_regs), "local_bytes": int(fn.local_size_bytes)}
    from verifier.backends._native import build_emu_library

    build_emu_library("ecdsa_verify.cu")
    return {"note": "host build: both curves in one library"}


def _compile_one(backend: str, name: str) -> dict[str, Any]:
    """One variant compiled in a process of its own: NVRTC is single-threaded, so the variants build in
    parallel, and each lands in CuPy's kernel cache for the stages after."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "compile-one", "--backend", backend, "--variant", name],
        capture_output=True,
        text=True,
    )
    record: dict[str, Any] = {
        "kind": "compile",
        "backend": backend,
        "variant": name,
        "wall_seconds": time.perf_counter() - t0,
    }
    if proc.returncode == 0 and proc.stdout.strip():
        record.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    else:
        record["error"] = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return record


def cmd_compile(args: argparse.Namespace) -> int:
    names = list(VARIANTS) if args.backend == "cuda" else ["ptx", "ptx-loop"]  # emu: only the loop matters
    # The longest builds, each ECDSA curve's module, in parallel too (emu: one library holds both curves).
    names += list(ECDSA_MODULES) if args.backend == "cuda" else ["ecdsa-secp256k1"]
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        records = list(pool.map(lambda n: _compile_one(args.backend, n), names))
    for r in records:
        extra = (
            f"{r.get('registers', '-')} registers, {r.get('local_bytes', '-')} B local"
            if "registers" in r
            else ""
        )
        print(
            f"compile: {r['variant']:<10} {r.get('seconds', float('nan')):7.1f} s  {extra} {r.get('error', '')}"
        )
    save("gpu-check-compile", args.device_name or args.backend, records)
    return 0 if all("error" not in r for r in records) else 1


def _clock_khz(cp: Any, props: dict[str, Any]) -> int:
    """The SM clock in kHz: cudaDeviceProp.clockRate (gone from CUDA 13's struct), else the device
    attribute cudaDevAttrClockRate (13), else 0 (then no per-clock figure)."""
    if props.get("clockRate"):
        return int(props["clockRate"])
    try:
        return int(cp.cuda.runtime.deviceGetAttribute(13, 0))
    except Exception:  # noqa: BLE001 - an older or newer runtime without it: rates still stand
        return 0


def cmd_imad(args: argparse.Namespace) -> int:
    try:
        from verifier.backends.cuda._module import import_cupy, usable_device

        cp = import_cupy()
        info = usable_device(cp, 0)
    except Exception as exc:  # noqa: BLE001 - no GPU here (the dry run): say so and record it
        print(f"imad: skipped, needs a GPU: {exc}")
        save("gpu-check-imad", args.device_name or "none", [{"kind": "imad", "skipped": str(exc)}])
        return 0
    module = cp.RawModule(code=_IMAD_SOURCE, options=("--std=c++17",))
    props = cp.cuda.runtime.getDeviceProperties(0)
    sms, clock_khz = int(props["multiProcessorCount"]), _clock_khz(cp, props)
    block, blocks, iters = 256, sms * 8, args.iters
    out = cp.zeros(block * blocks, dtype=cp.uint32)
    records = []
    for name, (sass, per_step) in _IMAD_KERNELS.items():
        fn = module.get_function(name)
        fn((blocks,), (block,), (out, cp.uint32(16)))  # warm-up and load
        cp.cuda.Device().synchronize()
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn((blocks,), (block,), (out, cp.uint32(iters)))
        end.record()
        end.synchronize()
        seconds = cp.cuda.get_elapsed_time(start, end) / 1e3
        ops = float(block) * blocks * iters * _IMAD_CHAINS * per_step
        rate = ops / seconds
        per_clock_sm = rate / sms / (clock_khz * 1e3) if clock_khz else None
        print(
            f"imad: {sass:<16} {rate / 1e12:7.3f} T instr/s  {per_clock_sm or float('nan'):6.1f} per clock per SM"
        )
        records.append(
            {
                "kind": "imad",
                "sass": sass,
                "kernel": name,
                "instructions_per_second": rate,
                "per_clock_per_sm": per_clock_sm,
                "sms": sms,
                "clock_khz": clock_khz,
                "block": block,
                "blocks": blocks,
                "iters": iters,
                "chains": _IMAD_CHAINS,
                "seconds": seconds,
                "registers": int(fn.num_regs),
            }
        )
    save("gpu-check-imad", info.name, records)
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    """Every JSON document under PARTS, in order of writing, as one document: the records of each
    tagged with the file they came from."""
    parts = sorted(Path(args.parts).rglob("*.json"), key=lambda p: p.stat().st_mtime)
    results: list[dict[str, Any]] = []
    devices: list[str] = []
    for path in parts:
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            results.append(
                {"kind": "unreadable", "source": str(path.relative_to(args.parts)), "error": str(exc)}
            )
            continue
        if doc.get("device") and doc["device"] not in devices:
            devices.append(doc["device"])
        for r in doc.get("results", []):
            results.append({**r, "source": str(path.relative_to(args.parts))})
    device = next(
        (d for d in devices if d not in ("cuda", "emu", "none")), devices[0] if devices else "unknown"
    )
    out = {
        "device": device,
        "commit": commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": environment(),
        "stages": args.stages or [],
        "results": results,
    }
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"merge: {len(results)} records from {len(parts)} files -> {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("env", "compile"):
        p = sub.add_parser(name)
        p.add_argument("--backend", choices=("cuda", "emu"), default="cuda")
        p.add_argument("--device-name", default=os.environ.get("VERIFIER_CHECK_DEVICE"))
    p = sub.add_parser("compile-one")
    p.add_argument("--backend", choices=("cuda", "emu"), default="cuda")
    p.add_argument("--variant", choices=[*VARIANTS, *ECDSA_MODULES], required=True)
    p = sub.add_parser("imad")
    p.add_argument("--iters", type=int, default=1 << 16)
    p.add_argument("--device-name", default=os.environ.get("VERIFIER_CHECK_DEVICE"))
    p = sub.add_parser("merge")
    p.add_argument("parts")
    p.add_argument("out")
    p.add_argument("--stages", nargs="*")
    args = ap.parse_args(argv)
    commands = {
        "env": cmd_env,
        "compile": cmd_compile,
        "compile-one": cmd_compile_one,
        "imad": cmd_imad,
        "merge": cmd_merge,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
