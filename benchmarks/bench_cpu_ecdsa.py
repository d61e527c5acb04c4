"""The CPU backend's ECDSA against this machine's limit for the raw reference libraries, in one run.

Target (issue 15): the ``cpu`` backend's items/s at batch 4096 is at least 0.9 of the machine's limit:
the raw library (coincurve for secp256k1, cryptography for P-256, key parsed per item as a caller would)
in one process per core, all at once. Rounds interleave the two, best of ``--repeat``; the 2 vCPUs here
are noisy, so the ratio is the figure, not the absolute rates. Prints a table and writes
benchmarks/results/cpu-ecdsa-<date>.json. Usage:

    .venv/bin/python benchmarks/bench_cpu_ecdsa.py [--batch 4096] [--repeat 5] [--processes N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import cpu_model, save  # noqa: E402
from verifier.backends.cpu import CpuBackend  # noqa: E402
from verifier.bench.kinds import bench_kind  # noqa: E402
from verifier.bench.runners import peer_call  # noqa: E402
from verifier.schemes import ECDSA_P256, ECDSA_SECP256K1, Scheme  # noqa: E402


def _raw_rate(args: tuple[str, int]) -> float:
    """One process: the scheme's reference peer over ``batch`` items, items/s of its best of 2 passes."""
    name, batch = args
    kind = bench_kind(name)
    run = peer_call(kind.peers[0], kind.workload(kind.primary_param, batch, 0), batch)
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return batch / best


def _limit(pool: multiprocessing.pool.Pool, name: str, batch: int, processes: int) -> float:
    """The raw library in ``processes`` processes at once: their rates added."""
    return sum(pool.map(_raw_rate, [(name, batch)] * processes))


def _backend_rate(be: CpuBackend, scheme: Scheme, batch: int) -> float:
    kind = bench_kind(scheme.name)
    b = kind.workload(kind.primary_param, batch, 0).batch(batch)
    be.run(scheme, b, None if not scheme.policies else scheme.policies[0])  # warm-up (and key cache)
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        be.run(scheme, b, scheme.policies[0])
        best = min(best, time.perf_counter() - start)
    return batch / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    be = CpuBackend()
    results = []
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        for scheme in (ECDSA_SECP256K1, ECDSA_P256):
            single, limit, backend = [], [], []
            for _ in range(args.repeat):  # interleaved rounds
                single.append(_raw_rate((scheme.name, args.batch)))
                limit.append(_limit(pool, scheme.name, args.batch, args.processes))
                backend.append(_backend_rate(be, scheme, args.batch))
            row = {
                "kind": scheme.name,
                "batch": args.batch,
                "peer": bench_kind(scheme.name).peers[0],
                "raw_one_process": max(single),
                "raw_limit": max(limit),
                "processes": args.processes,
                "backend_cpu": max(backend),
                "threads": be.workers,
                "ratio_to_limit": max(backend) / max(limit),
            }
            results.append(row)
            print(
                f"{scheme.name}: raw {row['peer']} 1 process {row['raw_one_process']:,.0f}/s, "
                f"{args.processes} processes {row['raw_limit']:,.0f}/s; cpu backend {row['backend_cpu']:,.0f}/s "
                f"= {row['ratio_to_limit']:.2f} x the limit"
            )
    be.close()
    path = save("cpu-ecdsa", f"cpu: {cpu_model()} ({os.cpu_count()} cores)", results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
