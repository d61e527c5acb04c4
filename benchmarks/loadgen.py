"""Closed-loop load generator: N concurrent clients against a real server on loopback.

Each client sends Ed25519 batches of mixed sizes (bad signatures planted at known positions), waits
for the answer, checks every verdict against what it planted, and sends the next. Bounded by a request
count and a time limit. Reports items/s, latency p50/p99/p999, errors, and proves that nothing was lost
or duplicated (every item answered exactly once, with its expected verdict). It also measures the
in-process CPU engine at the largest batch size in the same run, for the over-gRPC/in-process ratio.

    .venv/bin/python benchmarks/loadgen.py --clients 4 --seconds 20 --batch-sizes 1024
    .venv/bin/python benchmarks/loadgen.py --target HOST:PORT ...   # an already running server

Hostile and saturating load (issue 11; benchmarks/hostile.py holds the modes), each one record in
benchmarks/results/hostile-<mode>-<date>.json (--out DIR elsewhere); --serve-arg passes flags to the
server this starts, --quick runs small sizes in a few seconds:

    .venv/bin/python benchmarks/loadgen.py --mode flood [--flood-clients 2] [--flood-commit-mib 64,128]
    .venv/bin/python benchmarks/loadgen.py --mode commit-beside-bulk [--bulk-clients 2 --bulk-items 200000]
    .venv/bin/python benchmarks/loadgen.py --mode deadlines [--deadline-clients 4 --deadline-ms 500]
    .venv/bin/python benchmarks/loadgen.py --mode abandoned [--abandon-items 200000 --abandon-after-ms 50,300]
    .venv/bin/python benchmarks/loadgen.py --mode stream-stall [--stream-requests 1000000]
    .venv/bin/python benchmarks/loadgen.py --mode flood --serve-arg=--max-commit-bytes=4194304
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks import hostile  # noqa: E402
from benchmarks._common import cpu_model  # noqa: E402
from verifier.client import Client  # noqa: E402
from verifier.schemes import ED25519  # noqa: E402
from verifier.verdict import Verdict  # noqa: E402


def start_server(backend: str, serve_args: Sequence[str] = ()) -> tuple[subprocess.Popen[str], str]:
    """``verifier serve`` in its own process on a free loopback port; returns it and its target."""
    server = hostile.launch(backend, serve_args)
    assert server.process is not None
    return server.process.proc, server.target


def run_load(
    target: str, clients: int, batch_sizes: list[int], seconds: float, max_requests: int, seed: int
) -> dict[str, Any]:
    keys, sigs, msgs = hostile.signature_pool(seed)
    lock = threading.Lock()
    stats: dict[str, Any] = {
        "items": 0,
        "requests": 0,
        "errors": 0,
        "mismatched": 0,
        "lost": 0,
        "latencies": [],
    }
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
                start = rng.randrange(len(keys) - n + 1) if n <= len(keys) else 0
                idx = [(start + i) % len(keys) for i in range(n)]
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
                    stats["mismatched"] += (
                        int(np.count_nonzero(result.verdicts != expected)) if len(result) == n else n
                    )

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
    from verifier.v1 import verifier_pb2 as pb2

    rng = random.Random(seed)
    prio = {"consensus": pb2.PRIORITY_CONSENSUS, "bulk": pb2.PRIORITY_BULK}[priority]
    with Client(target, timeout=60) as client:
        cases = [hostile.commit_case(client, rng, n_bad, prio) for n_bad in (0, 1)]
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
                right = (
                    r.valid
                    if bad is None
                    else (
                        not r.valid
                        and r.error.code == pb2.COMMIT_ERROR_CODE_INVALID_SIGNATURE
                        and r.error.index == bad
                    )
                )
                with lock:
                    stats["commits"] += 1
                    stats["wrong"] += 0 if right else 1
                    stats["latencies"].append(latency)

        elapsed = _run_clients(loop, clients)
    return {
        **stats,
        "priority": priority,
        "clients": clients,
        "seconds": elapsed,
        "commits_per_second": stats["commits"] / elapsed,
        **_latency_percentiles(stats.pop("latencies"), (50, 99)),
    }


def in_process_rate(batch: int, seconds: float, seed: int) -> float:
    from verifier import get_engine
    from verifier.batch import Ed25519Batch

    keys, sigs, msgs = hostile.signature_pool(seed)
    n = min(batch, len(keys))
    b = Ed25519Batch.from_items(keys[:n], sigs[:n], msgs[:n])
    engine = get_engine("cpu")
    engine.verify(ED25519, b)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        engine.verify(ED25519, b)
        done += n
    return done / (time.perf_counter() - t0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode",
        choices=["load", *hostile.MODES],
        default="load",
        help="load: the closed-loop load above (default); the others: hostile load, see benchmarks/hostile.py",
    )
    parser.add_argument("--target", help="an already running server (default: start one)")
    parser.add_argument("--backend", default="cpu", help="backend of the server this starts (default cpu)")
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        metavar="FLAG",
        help="a flag for the server this starts, e.g. --serve-arg=--max-commit-bytes=4194304 (repeatable)",
    )
    parser.add_argument("--server-pid", type=int, help="with --target on this machine: its pid, for RSS")
    parser.add_argument(
        "--metrics-url", help="with --target: its Prometheus endpoint, http://HOST:PORT/metrics"
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--batch-sizes", default="1,16,256,1024", help="comma-separated (default 1,16,256,1024)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="how long the load runs (default 20; hostile modes: their own, 10-30)",
    )
    parser.add_argument("--requests", type=int, default=1_000_000, help="stop after this many requests")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("VERIFIER_TEST_SEED", "1")))
    parser.add_argument(
        "--commit-clients",
        type=int,
        default=0,
        help="also this many callers sending 150-validator VerifyCommit during the bulk load",
    )
    parser.add_argument(
        "--commit-priority",
        choices=["consensus", "bulk", "both"],
        default="consensus",
        help="priority of those commits; both: one run with each (default consensus)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"hostile modes: small sizes, a few seconds (the server this starts gets {' '.join(hostile.QUICK_SERVE_ARGS)})",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="directory of the record (default benchmarks/results)"
    )
    parser.add_argument("--no-save", action="store_true")
    group = parser.add_argument_group("hostile modes")
    defaults = hostile.Params()
    for field in dataclasses.fields(hostile.Params):
        if field.name in ("seconds", "seed"):
            continue
        default = getattr(defaults, field.name)
        used = ", ".join(m for m, names in hostile.MODE_PARAMS.items() if field.name in names)
        group.add_argument(
            "--" + field.name.replace("_", "-"),
            type=type(default),
            default=None,
            help=f"{used}: {hostile.PARAM_HELP[field.name]} (default {default}; "
            f"--quick {hostile.QUICK.get(field.name, default)})",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.mode != "load":
        return _main_hostile(args)
    return _main_load(args)


def _main_hostile(args: argparse.Namespace) -> int:
    """One hostile mode against the server: printed, and saved as one record."""
    values = {
        **(hostile.QUICK if args.quick else {}),
        **{
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(hostile.Params)
            if getattr(args, f.name, None) is not None
        },
    }
    params = hostile.Params(**values)
    if args.target is None:
        server = hostile.launch(
            args.backend, [*(hostile.QUICK_SERVE_ARGS if args.quick else ()), *args.serve_arg]
        )
    else:
        server = hostile.Server(args.target, pid=args.server_pid, metrics_url=args.metrics_url)
    try:
        record, lines, device = hostile.run_mode(args.mode, server, params)
    finally:
        server.close()
    record["quick"] = args.quick
    print(f"{args.mode} against {server.target} ({device}; seed {params.seed})")
    for line in lines:
        print(" ", line)
    for t in record["targets"]:
        print(
            f"  target {t['what']}: {t['value']} (limit {t['limit']} {t['unit']}): "
            + {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        )
    if not args.no_save:
        print("saved", hostile.save_record(f"hostile-{args.mode}", device, [record], args.out))
    return 0


def _main_load(args: argparse.Namespace) -> int:
    if args.seconds is None:
        args.seconds = 20.0
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    proc = None
    target = args.target
    if target is None:
        proc, target = start_server(args.backend, args.serve_arg)
    commit_reports: list[dict[str, Any]] = []
    try:
        if args.commit_clients:
            report: dict[str, Any] = {}
            priorities = ["consensus", "bulk"] if args.commit_priority == "both" else [args.commit_priority]
            for prio in priorities:
                bulk: dict[str, Any] = {}
                worker = threading.Thread(
                    target=lambda into=bulk: into.update(
                        run_load(target, args.clients, sizes, args.seconds, args.requests, args.seed)
                    )
                )
                worker.start()
                commit_reports.append(
                    run_commit_load(target, args.commit_clients, args.seconds, args.seed, prio)
                )
                worker.join()
                commit_reports[-1]["bulk_items_per_second"] = bulk["items_per_second"]
                report = report or bulk
        else:
            report = run_load(target, args.clients, sizes, args.seconds, args.requests, args.seed)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    print(
        f"{args.clients} clients, batch sizes {sizes}, {report['seconds']:.1f} s against {target} (seed {args.seed})"
    )
    print(
        f"  {report['requests']} requests, {report['items']} items: {report['items_per_second']:,.0f} items/s"
    )
    print(
        f"  latency p50 {report['latency_p50_s'] * 1e3:.2f} ms, p99 {report['latency_p99_s'] * 1e3:.2f} ms, "
        f"p999 {report['latency_p999_s'] * 1e3:.2f} ms"
    )
    print(
        f"  errors {report['errors']}, lost or duplicated {report['lost']}, wrong verdicts {report['mismatched']}"
    )
    for c in commit_reports:
        print(
            f"  with {c['clients']} commit callers, priority {c['priority']}: {c['commits']} commits "
            f"({c['commits_per_second']:.1f}/s), latency p50 {c['latency_p50_s'] * 1e3:.1f} ms, "
            f"p99 {c['latency_p99_s'] * 1e3:.1f} ms; wrong {c['wrong']}, errors {c['errors']}; "
            f"bulk meanwhile {c['bulk_items_per_second']:,.0f} items/s"
        )
    local = None
    if args.target is None and args.backend == "cpu" and not commit_reports:
        local = in_process_rate(max(sizes), min(5.0, args.seconds), args.seed)
        print(
            f"  in-process cpu engine at batch {max(sizes)}: {local:,.0f} items/s; "
            f"over gRPC / in-process = {report['items_per_second'] / local:.2f}"
        )
    if not args.no_save:
        record = {
            "kind": "ed25519",
            "backend": args.backend,
            "scope": "grpc",
            "clients": args.clients,
            "batch_sizes": sizes,
            "message_bytes": "32-128",
            **report,
        }
        results = [record]
        if local is not None:
            results.append(
                {
                    "kind": "ed25519",
                    "backend": "cpu",
                    "scope": "engine",
                    "batch": max(sizes),
                    "message_bytes": "32-128",
                    "items_per_second": local,
                }
            )
        for c in commit_reports:
            results.append(
                {
                    "kind": "cometbft-commit",
                    "backend": args.backend,
                    "scope": "grpc",
                    "validators": 150,
                    "bulk_clients": args.clients,
                    "bulk_batch_sizes": sizes,
                    **c,
                }
            )
        name = "loadgen-commits" if commit_reports else "loadgen"
        print(
            "saved",
            hostile.save_record(name, f"cpu: {cpu_model()} ({os.cpu_count()} cores)", results, args.out),
        )
    ok = report["errors"] == 0 and report["lost"] == 0 and report["mismatched"] == 0
    ok = ok and all(c["wrong"] == 0 and c["errors"] == 0 for c in commit_reports)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
