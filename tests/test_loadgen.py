"""A short run of the load generator: every item answered once with its planted verdict, no errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks import hostile
from benchmarks.loadgen import main, run_load, start_server


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


@pytest.mark.slow
def test_short_commit_load_during_bulk_every_answer_right() -> None:
    """Commit callers (a valid commit and one with a planted bad signature, alternating) beside bulk
    callers: every commit answered, each with the right validity and error index."""
    import threading

    from benchmarks.loadgen import run_commit_load

    proc, target = start_server("cpu")
    try:
        bulk: dict[str, object] = {}
        worker = threading.Thread(
            target=lambda: bulk.update(
                run_load(target, clients=2, batch_sizes=[64, 300], seconds=3, max_requests=100, seed=6)
            )
        )
        worker.start()
        commits = run_commit_load(target, clients=2, seconds=3, seed=6, priority="consensus")
        worker.join()
    finally:
        proc.terminate()
        proc.wait(30)
    assert commits["commits"] >= 4 and commits["wrong"] == 0 and commits["errors"] == 0, commits
    assert bulk["errors"] == 0 and bulk["mismatched"] == 0, bulk


# ------------------------------------------------------------------------------ hostile-load modes
# Each mode runs end to end at its --quick sizes and writes one record with the keys the issue's
# figures need. Nothing here asserts a speed or a target: only counts that must add up.

_RECORD_KEYS = {
    "kind",
    "mode",
    "backend",
    "params",
    "serve_args",
    "server_limits",
    "targets",
    "server_alive_after",
}


@pytest.fixture(scope="module")
def quick_server() -> Iterator[hostile.Server]:
    server = hostile.launch("cpu", hostile.QUICK_SERVE_ARGS)
    try:
        yield server
    finally:
        server.close()


def _run_mode(mode: str, out: Path, *extra: str) -> dict[str, Any]:
    assert main(["--mode", mode, "--quick", "--out", str(out), *extra]) == 0
    (path,) = out.glob(f"hostile-{mode}-*.json")
    doc = json.loads(path.read_text())
    assert {"device", "commit", "date", "environment", "results"} <= set(doc), doc.keys()
    (record,) = doc["results"]
    assert set(record) >= _RECORD_KEYS and record["mode"] == mode and record["quick"] is True, record
    assert record["server_alive_after"] is True
    assert all(t["met"] in (True, False) for t in record["targets"]), record["targets"]
    return dict(record)


def _against(server: hostile.Server) -> list[str]:
    assert server.metrics_url is not None and server.pid is not None
    return ["--target", server.target, "--server-pid", str(server.pid), "--metrics-url", server.metrics_url]


@pytest.mark.slow
def test_flood_mode_starts_its_server_with_the_serve_args_and_refuses_every_flood_request(
    tmp_path: Path,
) -> None:
    r = _run_mode("flood", tmp_path, "--serve-arg=--max-items=4096")
    assert r["serve_args"] == [*hostile.QUICK_SERVE_ARGS, "--max-items=4096"]
    assert int(r["server_limits"]["max_items"]) == 4096  # the last flag reached the server
    assert r["flood"]["signature_items"] == 4097
    codes = r["flood"]["by_method_code"]
    assert r["flood"]["requests"] == sum(codes.values()) > 0
    assert not [k for k in codes if k.endswith(" OK")], codes  # over the item limit: never answered
    probes = r["commit_probes"]
    assert probes["sent"] > 0 and probes["answered_invalid"] == 0, probes
    assert probes["sent"] == probes["answered_valid"] + sum(probes["errors"].values())
    rss = r["rss_mib"]
    assert rss["idle"] > 0 and rss["peak"] >= rss["idle"] and rss["after"] > 0 and rss["samples"] > 0, rss


def test_commit_beside_bulk_mode_gets_valid_commits_and_right_bulk_verdicts(
    quick_server: hostile.Server, tmp_path: Path
) -> None:
    r = _run_mode("commit-beside-bulk", tmp_path, *_against(quick_server))
    for phase in ("commit_idle", "commit_beside_bulk"):
        assert r[phase]["sent"] >= 1 and r[phase]["answered_invalid"] == 0, r[phase]
    assert r["bulk"]["items_wrong"] == 0 and r["bulk"]["items_ok"] % r["bulk"]["items_per_request"] == 0, r[
        "bulk"
    ]
    assert set(r) >= {"p99_budget_s", "p99_over_budget"}


@pytest.mark.slow
def test_deadlines_mode_counts_every_short_call_once(quick_server: hostile.Server, tmp_path: Path) -> None:
    r = _run_mode("deadlines", tmp_path, *_against(quick_server))
    short = r["short_calls"]
    assert short["calls"] == sum(short["codes"].values()) > 0, short
    assert short["ok_in_time"] + short["deadline_exceeded"] <= short["calls"]
    assert "OK wrong verdicts" not in short["codes"], short
    assert 0 <= short["share_ok_in_time"] <= 1


@pytest.mark.slow
def test_abandoned_mode_reads_the_servers_counters(quick_server: hostile.Server, tmp_path: Path) -> None:
    r = _run_mode("abandoned", tmp_path, *_against(quick_server))
    assert r["requests"] > 0 and r["items_sent"] == r["requests"] * r["items_per_request"], r
    assert 0 <= r["items_delivered"] <= r["items_sent"]
    assert r["items_verified_after_caller_left"] == r["items_verified"] - r["items_delivered"]
    assert sum(r["requests_by_grpc_code"].values()) >= r["requests"] - 1, r  # the server saw the calls


@pytest.mark.slow
def test_stream_stall_mode_sends_without_reading_and_samples_rss(
    quick_server: hostile.Server, tmp_path: Path
) -> None:
    r = _run_mode("stream-stall", tmp_path, *_against(quick_server))
    assert r["warm_answers"] == 100  # the warm-up stream, read to its end, got every answer
    assert 0 < r["requests_sent"] <= r["requests_max"]
    assert r["rss_mib"]["idle"] > 0 and r["rss_growth_mib"] is not None and r["trace"], r["rss_mib"]


def test_absent_commit_json_is_a_well_formed_commit_of_the_size_asked() -> None:
    from verifier import cometbft as cb

    blob = hostile.absent_commit_json(64 << 10)
    assert (64 << 10) - 20 < len(blob) <= 64 << 10
    commit = cb.parse_commit(blob)
    assert len(commit.signatures) == blob.count(b"block_id_flag") > 3000
    assert all(s.absent for s in commit.signatures)


def test_metric_delta_by_label_and_in_total() -> None:
    text = (
        'verifier_requests_total{grpc_code="OK",grpc_method="A",grpc_service="s"} %d\n'
        'verifier_requests_total{grpc_code="CANCELLED",grpc_method="A",grpc_service="s"} %d\n'
    )
    before, after = hostile.parse_metrics(text % (3, 1)), hostile.parse_metrics(text % (5, 1))
    assert hostile.metric_delta(before, after, "verifier_requests_total", by="grpc_code") == {"OK": 2.0}
    assert hostile.metric_delta(before, after, "verifier_requests_total") == {"": 2.0}
    assert hostile.metric_delta(None, None, "verifier_items_dropped_total", by="reason") == {}
