"""Closed-loop load generator: N concurrent clients against a real server on loopback.

Each client sends Ed25519 batches of mixed sizes (bad signatures planted at known positions), waits
for the answer, checks every verdict against what it planted, and sends the next. Bounded by a request
count and a time limit. Reports items/s, latency p50/p99/p999, errors, and proves that nothing was lost
or duplicated (every item answered exactly once, with its expected verdict). It also measures the
in-process CPU engine at the largest batch size in the same run, for the over-gRPC/in-process ratio.

    .venv/bin/python benchmarks/loadgen.py --clients 4 --seconds 20 --batch-sizes 1024
    .venv/bin/python benchmarks/loadgen.py --target HOST:PORT ...   # an already running server
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nacl.signing  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._common import cpu_model, save  # noqa: E402
from verifier.client import Client  # noqa: E402
from verifier.verdict import Verdict  # noqa: E402

_POOL = 4096


def _pool(seed: int) -> tuple[list[bytes], list[bytes], list[bytes]]:
    rng = random.Random(seed)
    keys = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(32)]
    msgs = [rng.randbytes(rng.choice((32, 64, 128))) for _ in range(_POOL)]
    signers = [keys[i % 32] for i in range(_POOL)]
    return [bytes(k.verify_key) for k in signers], [k.sign(m).signature for k, m in zip(signers, msgs)], msgs


def start_server(backend: str) -> tuple[subprocess.Popen[str], str]:
    """``verifier serve`` in its own process on a free loopback port; returns it and its target."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "verifier", "serve", "--port", "0", "--metrics-port", "0", "--backend", backend],
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        match = re.search(r" on ([\d.]+):(\d+) with backend", line)
        if match:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining its log
            return proc, f"{match[1]}:{match[2]}"
    proc.kill()
    raise RuntimeError("the server did not report where it listens")


def run_load(target: str, clients: int, batch_sizes: list[int], seconds: float, max_requests: int, seed: int) -> dict[str, Any]:
    keys, sigs, msgs = _pool(seed)
    lock = threading.Lock()
    stats: dict[str, Any] = {"items": 0, "requests": 0, "errors": 0, "mismatched": 0, "lost": 0, "latencies": []}
    stop_at = time.monotonic() + seconds
    counter = iter(range(max_requests))

    def client_loop(cid: int) -> None:
        rng = random.Random(seed * 1000 + cid)
        with Client(target, timeout=60) as client:
            while time.monotonic() < stop_at:
                with lock:
                    if next(counter, None) is None:
                        return
                n = rng.choice(batch_sizes)
                start = rng.randrange(_POOL - n + 1) if n <= _POOL else 0
                idx = [(start + i) % _POOL for i in range(n)]
                bad = set(rng.sample(range(n), k=min(n, rng.randint(0, 3))))
                m = [msgs[j] + (b"!" if i in bad else b"") for i, j in enumerate(idx)]
                t0 = time.perf_counter()
                try:
                    result = client.verify_ed25519([keys[j] for j in idx], [sigs[j] for j in idx], m)
                except Exception:  # noqa: BLE001 - counted and reported, the run goes on
                    with lock:
                        stats["errors"] += 1
                    continue
                latency = time.perf_counter() - t0
                expected = np.full(n, Verdict.OK, np.uint8)
                expected[list(bad)] = Verdict.EQUATION_FAILED
                with lock:
                    stats["requests"] += 1
                    stats["latencies"].append(latency)
                    stats["lost"] += abs(len(result) - n)
                    stats["items"] += len(result)
                    stats["mismatched"] += int(np.count_nonzero(result.verdicts != expected)) if len(result) == n else n

    elapsed = _run_clients(client_loop, clients)
    return {
        **stats,
        "seconds": elapsed,
        "items_per_second": stats["items"] / elapsed,
        **_latency_percentiles(stats.pop("latencies"), (50, 99, 99.9)),
    }


def _run_clients(loop: Any, clients: int) -> float:
    """``loop(client_id)`` on one thread per client, all at once; seconds until the last one returned."""
    threads = [threading.Thread(target=loop, args=(c,)) for c in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def _latency_percentiles(latencies: list[float], percents: tuple[float, ...]) -> dict[str, float]:
    """``latency_p50_s``, ``latency_p99_s``, ``latency_p999_s`` ... of ``latencies`` (0 when empty)."""
    lat = np.array(latencies or [0.0])
    return {f"latency_p{str(q).replace('.', '')}_s": float(np.percentile(lat, q)) for q in percents}


def run_commit_load(target: str, clients: int, seconds: float, seed: int, priority: str) -> dict[str, Any]:
    """``clients`` callers send VerifyCommit in a closed loop (150 validators, registered once; one commit
    valid, one with a planted bad signature, alternating) and check every answer; latency percentiles."""
    from tests.support import cometbft_ref as ref
    from verifier import cometbft as cb
    from verifier import convert
    from verifier.v1 import verifier_pb2 as pb2

    rng = random.Random(seed)
    prio = {"consensus": pb2.PRIORITY_CONSENSUS, "bulk": pb2.PRIORITY_BULK}[priority]
    cases: list[tuple[Any, int | None]] = []
    with Client(target, timeout=60) as client:
        for n_bad in (0, 1):
            gen = ref.generate(rng, 150, p_absent=0.05, p_nil=0.05, n_bad=n_bad)
            commit = cb.parse_commit(gen.commit_json())
            set_hash = client.register_validator_set(cb.parse_validators(ref.validators_json(gen.validators)))
            msg, header = convert.commit_to_proto(commit)
            request = pb2.VerifyCommitRequest(commit=msg, header=header, validator_set_hash=set_hash, priority=prio)
            cases.append((request, min(gen.bad) if gen.bad else None))
        stub = client._stub
        lock = threading.Lock()
        stats: dict[str, Any] = {"commits": 0, "errors": 0, "wrong": 0, "latencies": []}
        stop_at = time.monotonic() + seconds

        def loop(cid: int) -> None:
            k = cid
            while time.monotonic() < stop_at:
                request, bad = cases[k % 2]
                k += 1
                t0 = time.perf_counter()
                try:
                    r = stub.VerifyCommit(request, timeout=60)
                except Exception:  # noqa: BLE001 - counted and reported
                    with lock:
                        stats["errors"] += 1
                    continue
                latency = time.perf_counter() - t0
                right = r.valid if bad is None else (
                    not r.valid and r.error.code == pb2.COMMIT_ERROR_CODE_INVALID_SIGNATURE and r.error.index == bad)
                with lock:
                    stats["commits"] += 1
                    stats["wrong"] += 0 if right else 1
                    stats["latencies"].append(latency)

        elapsed = _run_clients(loop, clients)
    return {
        **stats, "priority": priority, "clients": clients, "seconds": elapsed,
        "commits_per_second": stats["commits"] / elapsed,
        **_latency_percentiles(stats.pop("latencies"), (50, 99)),
    }


def in_process_rate(batch: int, seconds: float, seed: int) -> float:
    from verifier import get_engine
    from verifier.batch import Ed25519Batch

    keys, sigs, msgs = _pool(seed)
    n = min(batch, _POOL)
    b = Ed25519Batch.from_items(keys[:n], sigs[:n], msgs[:n])
    engine = get_engine("cpu")
    engine.verify_ed25519(b)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        engine.verify_ed25519(b)
        done += n
    return done / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", help="an already running server (default: start one)")
    parser.add_argument("--backend", default="cpu", help="backend of the server this starts (default cpu)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch-sizes", default="1,16,256,1024", help="comma-separated (default 1,16,256,1024)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--requests", type=int, default=1_000_000, help="stop after this many requests")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("VERIFIER_TEST_SEED", "1")))
    parser.add_argument("--commit-clients", type=int, default=0,
                        help="also this many callers sending 150-validator VerifyCommit during the bulk load")
    parser.add_argument("--commit-priority", choices=["consensus", "bulk", "both"], default="consensus",
                        help="priority of those commits; both: one run with each (default consensus)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    proc = None
    target = args.target
    if target is None:
        proc, target = start_server(args.backend)
    commit_reports: list[dict[str, Any]] = []
    try:
        if args.commit_clients:
            report = {}
            priorities = ["consensus", "bulk"] if args.commit_priority == "both" else [args.commit_priority]
            for prio in priorities:
                bulk: dict[str, Any] = {}
                worker = threading.Thread(target=lambda: bulk.update(
                    run_load(target, args.clients, sizes, args.seconds, args.requests, args.seed)))
                worker.start()
                commit_reports.append(run_commit_load(target, args.commit_clients, args.seconds, args.seed, prio))
                worker.join()
                commit_reports[-1]["bulk_items_per_second"] = bulk["items_per_second"]
                report = bulk if not report else report
        else:
            report = run_load(target, args.clients, sizes, args.seconds, args.requests, args.seed)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    print(f"{args.clients} clients, batch sizes {sizes}, {report['seconds']:.1f} s against {target} (seed {args.seed})")
    print(f"  {report['requests']} requests, {report['items']} items: {report['items_per_second']:,.0f} items/s")
    print(f"  latency p50 {report['latency_p50_s'] * 1e3:.2f} ms, p99 {report['latency_p99_s'] * 1e3:.2f} ms, "
          f"p999 {report['latency_p999_s'] * 1e3:.2f} ms")
    print(f"  errors {report['errors']}, lost or duplicated {report['lost']}, wrong verdicts {report['mismatched']}")
    for c in commit_reports:
        print(f"  with {c['clients']} commit callers, priority {c['priority']}: {c['commits']} commits "
              f"({c['commits_per_second']:.1f}/s), latency p50 {c['latency_p50_s'] * 1e3:.1f} ms, "
              f"p99 {c['latency_p99_s'] * 1e3:.1f} ms; wrong {c['wrong']}, errors {c['errors']}; "
              f"bulk meanwhile {c['bulk_items_per_second']:,.0f} items/s")
    local = None
    if args.target is None and args.backend == "cpu" and not commit_reports:
        local = in_process_rate(max(sizes), min(5.0, args.seconds), args.seed)
        print(f"  in-process cpu engine at batch {max(sizes)}: {local:,.0f} items/s; "
              f"over gRPC / in-process = {report['items_per_second'] / local:.2f}")
    if not args.no_save:
        record = {"kind": "ed25519", "backend": args.backend, "scope": "grpc", "clients": args.clients,
                  "batch_sizes": sizes, "message_bytes": "32-128", **report}
        results = [record]
        if local is not None:
            results.append({"kind": "ed25519", "backend": "cpu", "scope": "engine", "batch": max(sizes),
                            "message_bytes": "32-128", "items_per_second": local})
        for c in commit_reports:
            results.append({"kind": "cometbft-commit", "backend": args.backend, "scope": "grpc", "validators": 150,
                            "bulk_clients": args.clients, "bulk_batch_sizes": sizes, **c})
        name = "loadgen-commits" if commit_reports else "loadgen"
        print("saved", save(name, f"cpu: {cpu_model()} ({os.cpu_count()} cores)", results))
    ok = report["errors"] == 0 and report["lost"] == 0 and report["mismatched"] == 0
    ok = ok and all(c["wrong"] == 0 and c["errors"] == 0 for c in commit_reports)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
