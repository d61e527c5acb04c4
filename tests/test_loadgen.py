"""A short run of the load generator: every item answered once with its planted verdict, no errors."""

from __future__ import annotations

from benchmarks.loadgen import run_load, start_server


def test_short_load_run_loses_nothing() -> None:
    proc, target = start_server("cpu")
    try:
        report = run_load(target, clients=3, batch_sizes=[1, 7, 64, 300], seconds=4, max_requests=200, seed=5)
    finally:
        proc.terminate()
        proc.wait(30)
    assert report["requests"] > 10, report
    assert report["errors"] == 0 and report["lost"] == 0 and report["mismatched"] == 0, report
    assert report["items"] > 0 and report["latency_p99_s"] >= report["latency_p50_s"] > 0
