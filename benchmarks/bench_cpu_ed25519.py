"""CPU backend against raw single-thread PyNaCl, measured in one run.

Target (issue 2): the CPU backend's items/s at batch 4096 is at least 0.85 x cores x raw single-thread
PyNaCl. Prints a table and writes benchmarks/results/cpu-ed25519-<date>.json. Usage:

    .venv/bin/python benchmarks/bench_cpu_ed25519.py [--batch 4096] [--message-bytes 64] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nacl.signing  # noqa: E402
from nacl.bindings import crypto_sign_open  # noqa: E402

from benchmarks._common import cpu_model, save  # noqa: E402
from verifier.backends.cpu import CpuBackend  # noqa: E402
from verifier.batch import Ed25519Batch  # noqa: E402
from verifier.schemes import ED25519  # noqa: E402
from verifier.verdict import Policy, Verdict  # noqa: E402


def _items(n: int, message_bytes: int) -> tuple[list[bytes], list[bytes], list[bytes]]:
    keys = [nacl.signing.SigningKey.generate() for _ in range(64)]
    msgs = [os.urandom(message_bytes) for _ in range(n)]
    sks = [keys[i % len(keys)] for i in range(n)]
    return (
        [bytes(k.verify_key) for k in sks],
        [k.sign(m).signature for k, m in zip(sks, msgs, strict=True)],
        msgs,
    )


def _rate(fn, n: int, repeat: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    rates = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - t))
    return statistics.median(rates), min(rates), max(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--message-bytes", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    keys, sigs, msgs = _items(args.batch, args.message_bytes)

    def raw() -> None:
        for pk, sig, msg in zip(keys, sigs, msgs, strict=True):
            crypto_sign_open(sig + msg, pk)

    backend = CpuBackend()
    batch = Ed25519Batch.from_items(keys, sigs, msgs)

    def engine_call() -> None:
        out = backend.run(ED25519, batch, Policy.LIBSODIUM)
        assert (out == Verdict.OK).all()

    cores = os.cpu_count() or 1
    raw_med, raw_lo, raw_hi = _rate(raw, args.batch, args.repeat)
    cpu_med, cpu_lo, cpu_hi = _rate(engine_call, args.batch, args.repeat)
    target = 0.85 * cores * raw_med
    print(
        f"CPU: {cpu_model()}, {cores} cores; batch {args.batch}, {args.message_bytes}-byte messages, "
        f"median of {args.repeat}"
    )
    print(f"{'what':<34}{'items/s':>12}{'min':>12}{'max':>12}{'x raw':>8}")
    print(f"{'raw PyNaCl, 1 thread':<34}{raw_med:>12,.0f}{raw_lo:>12,.0f}{raw_hi:>12,.0f}{1:>8.2f}")
    print(
        f"{f'cpu backend, {backend.workers} threads':<34}{cpu_med:>12,.0f}{cpu_lo:>12,.0f}{cpu_hi:>12,.0f}"
        f"{cpu_med / raw_med:>8.2f}"
    )
    verdict = "met" if cpu_med >= target else "NOT met"
    print(
        f"target 0.85 x {cores} cores x raw = {target:,.0f} items/s: {verdict} "
        f"({cpu_med / (cores * raw_med):.2f} x cores x raw)"
    )
    if not args.no_save:
        common = {
            "kind": "ed25519",
            "scope": "engine",
            "batch": args.batch,
            "message_bytes": args.message_bytes,
        }
        path = save(
            "cpu-ed25519",
            f"cpu: {cpu_model()} ({cores} cores)",
            [
                {
                    **common,
                    "backend": "pynacl-1-thread",
                    "items_per_second": raw_med,
                    "min": raw_lo,
                    "max": raw_hi,
                },
                {
                    **common,
                    "backend": "cpu",
                    "threads": backend.workers,
                    "items_per_second": cpu_med,
                    "min": cpu_lo,
                    "max": cpu_hi,
                    "ratio_to_pynacl": cpu_med / raw_med,
                    "efficiency_per_core": cpu_med / (cores * raw_med),
                },
            ],
        )
        print(f"saved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
