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


def test_short_commit_load_during_bulk_every_answer_right() -> None:
    """Commit callers (a valid commit and one with a planted bad signature, alternating) beside bulk
    callers: every commit answered, each with the right validity and error index."""
    import threading

    from benchmarks.loadgen import run_commit_load

    proc, target = start_server("cpu")
    try:
        bulk: dict[str, object] = {}
        worker = threading.Thread(target=lambda: bulk.update(
            run_load(target, clients=2, batch_sizes=[64, 300], seconds=3, max_requests=100, seed=6)))
        worker.start()
        commits = run_commit_load(target, clients=2, seconds=3, seed=6, priority="consensus")
        worker.join()
    finally:
        proc.terminate()
        proc.wait(30)
    assert commits["commits"] >= 4 and commits["wrong"] == 0 and commits["errors"] == 0, commits
    assert bulk["errors"] == 0 and bulk["mismatched"] == 0, bulk
