"""A fleet on loopback: ``--servers`` ``verifier serve`` processes (backend cpu) behind one
``verifier.Client`` with round_robin, ``--clients`` callers sending Ed25519 batches (a third of the items
broken) and commits by a registered set's hash; one server is killed (SIGKILL) a third of the way in.

Prints and saves: calls and items per second before and after the kill, per-server call counts (from each
server's metrics), latency p50/p99, and the two numbers that must be zero: wrong verdicts and calls that
failed. Writes benchmarks/results/fleet-<date>.json. The same scenario, smaller, is a test
(tests/test_client.py).

    .venv/bin/python benchmarks/fleet.py [--servers 3] [--clients 4] [--calls 150] [--batch 64]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import verifier  # noqa: E402
from benchmarks._common import cpu_model, save  # noqa: E402
from tests.support import cometbft_ref as ref  # noqa: E402
from tests.support.ed25519_cases import signed_items  # noqa: E402
from verifier import cometbft as cb  # noqa: E402
from verifier.testing import ServeProcess  # noqa: E402


def _served(server: ServeProcess) -> float:
    try:
        return server.calls_served(timeout=5)
    except OSError:
        return float("nan")  # the killed one


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--calls", type=int, default=150, help="calls per client (every 5th a commit)")
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    servers = [ServeProcess() for _ in range(args.servers)]
    for s in servers:
        s.wait_ready(timeout=300)
    targets = [s.target for s in servers]
    gen = ref.generate(random.Random(3), 100, p_absent=0.0, p_nil=0.0)
    vals = cb.parse_validators(ref.validators_json(gen.validators, per_page=100))
    commit_json = json.dumps(gen.commit_json())
    inputs = [signed_items(args.batch, k, message_bytes=100) for k in range(16)]

    lock = threading.Lock()
    done: list[tuple[float, float]] = []  # (end time, latency) of each call
    wrong, failed = [0], [0]
    kill_at = args.clients * args.calls // 3
    killed_at: list[float] = []

    def caller(k: int) -> None:
        with verifier.Client(targets, timeout=60) as client:
            set_hash = client.register_validator_set(vals)
            for j in range(args.calls):
                start = time.perf_counter()
                try:
                    if j % 5 == 4:
                        ok = client.verify_commit(commit_json, validator_set_hash=set_hash).valid
                    else:
                        pks, sigs, msgs, want = inputs[(k + j) % len(inputs)]
                        got = client.verify_ed25519(pks, sigs, msgs, policy="zip215").verdicts
                        ok = bool(np.array_equal(got, want))
                except verifier.VerifierError:
                    with lock:
                        failed[0] += 1
                    continue
                end = time.perf_counter()
                with lock:
                    done.append((end, end - start))
                    wrong[0] += not ok
                    if len(done) == kill_at and not killed_at:
                        servers[1].proc.kill()
                        killed_at.append(end)

    before = [_served(s) for s in servers]
    t0 = time.perf_counter()
    threads = [threading.Thread(target=caller, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    per_server = [_served(s) - b for s, b in zip(servers, before, strict=True)]
    for s in servers:
        s.terminate()
    for s in servers:
        if s.proc.poll() is None:
            s.wait_exit()

    kill = killed_at[0] if killed_at else t0 + elapsed
    pre = [lat for end, lat in done if end <= kill]
    post = [lat for end, lat in done if end > kill]
    lat = sorted(lat for _, lat in done)
    row: dict[str, Any] = {
        "kind": "fleet",
        "servers": args.servers,
        "clients": args.clients,
        "calls": len(done) + failed[0],
        "batch": args.batch,
        "wrong_verdicts": wrong[0],
        "failed_calls": failed[0],
        "calls_per_s_before_kill": len(pre) / max(kill - t0, 1e-9),
        "calls_per_s_after_kill": len(post) / max(t0 + elapsed - kill, 1e-9),
        "latency_ms_p50": statistics.median(lat) * 1e3,
        "latency_ms_p99": lat[int(0.99 * (len(lat) - 1))] * 1e3,
        "calls_per_server": per_server,
    }
    print(
        f"{args.servers} servers, {args.clients} callers, {row['calls']} calls ({args.batch} items or a "
        f"100-validator commit each); server 1 killed after {kill_at} calls"
    )
    print(
        f"  before the kill {row['calls_per_s_before_kill']:.0f} calls/s, after {row['calls_per_s_after_kill']:.0f}; "
        f"p50 {row['latency_ms_p50']:.1f} ms, p99 {row['latency_ms_p99']:.1f} ms"
    )
    print(f"  calls served per server (metrics; nan: killed) {per_server}")
    print(f"  wrong verdicts {wrong[0]}, failed calls {failed[0]}")
    path = save("fleet", f"cpu: {cpu_model()} ({os.cpu_count()} cores), loopback", [row])
    print(f"wrote {path}")
    return 0 if wrong[0] == 0 and failed[0] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
