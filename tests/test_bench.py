"""The benchmark suite (issue 7): a tiny quick run end to end, the output schema, the crossover file.

No timing assertions: only that every figure exists, is positive, and that every backend and peer counted
the same verdicts on the same items.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from verifier.backends.cpu import CpuBackend
from verifier.bench import load_crossover, main, report, runners
from verifier.bench.kinds import BENCH_KINDS
from verifier.bench.suite import RunResult
from verifier.bench.timing import VerdictMismatchError, measure, measure_concurrent
from verifier.bench.workload import INVALID_EVERY, Ed25519Workload, MerkleWorkload
from verifier.schemes import ED25519, MERKLE
from verifier.verdict import Policy, Verdict

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, str]:
    out = tmp_path_factory.mktemp("bench")
    argv = [
        "--quick",
        "--out",
        str(out),
        "--batches",
        "1",
        "8",
        "100",
        "--cuda-batches",
        "1",
        "100",
        "--message-bytes",
        "32",
        "--depths",
        "8",
        "--threads",
        "1",
        "2",
        "--repeats",
        "2",
        "--min-time",
        "0",
        "--grpc-clients",
        "2",
        "--backends",
        "cpu",
        "cuda",
    ]
    return main(argv), out, " ".join(argv)


def _doc(out: Path) -> dict[str, Any]:
    (path,) = out.glob("suite-*.json")
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def test_quick_run_writes_json_markdown_plots_and_crossover(quick_run: tuple[int, Path, str]) -> None:
    rc, out, _ = quick_run
    assert rc == 0
    (md,) = out.glob("suite-*.md")
    text = md.read_text()
    assert "## Crossover" in text and "| series |" in text
    pngs = sorted(out.glob("suite-*.png"))
    assert [p.name.rsplit("-", 1)[1] for p in pngs] == ["latency.png", "throughput.png"]
    for p in pngs:
        data = p.read_bytes()
        assert data.startswith(_PNG_MAGIC) and len(data) > 1000
        assert p.name in text  # the Markdown embeds its plots
    assert (out / "crossover.json").stat().st_size > 0


def test_json_schema(quick_run: tuple[int, Path, str]) -> None:
    doc = _doc(quick_run[1])
    for field in ("device", "commit", "date", "environment", "config", "results", "skipped"):
        assert field in doc, field
    assert isinstance(doc["device"], str) and doc["device"]
    datetime.datetime.fromisoformat(doc["date"])
    assert doc["environment"]["cores"] >= 1 and doc["environment"]["cpu"]
    assert doc["results"]
    peers = {p for k in BENCH_KINDS.values() for p in k.peers}
    param_fields = {k.param_field for k in BENCH_KINDS.values()}
    assert {r["kind"] for r in doc["results"]} == set(BENCH_KINDS)  # every scheme is measured
    for r in doc["results"]:
        assert r["kind"] in BENCH_KINDS
        assert r["backend"] in peers | {"cpu", "emu", "cuda"}
        assert r["scope"] in ("peer", "engine", "grpc", "kernel")
        assert isinstance(r["batch"], int) and r["batch"] >= 1
        own = BENCH_KINDS[r["kind"]].param_field
        assert own in r and not (param_fields - {own}) & set(r), r
        assert "threads" in r
        assert r["items_per_second"] > 0, r
        assert r["items_per_second_min"] <= r["items_per_second"] <= r["items_per_second_max"]
        assert r["repetitions"] == 2
        assert r["ratio"] is not None and r["ratio"] > 0
        assert r["ratio_to"] == BENCH_KINDS[r["kind"]].reference_peer
        if r["scope"] in ("engine", "grpc"):
            assert 0 < r["latency_p50_ms"] <= r["latency_p99_ms"]
        if r["scope"] == "grpc":
            assert r["clients"] == 2


def test_every_scope_backend_and_thread_count_measured(quick_run: tuple[int, Path, str]) -> None:
    doc = _doc(quick_run[1])
    seen = {
        (r["kind"], r["backend"], r["scope"], r["threads"] if r["scope"] == "engine" else None)
        for r in doc["results"]
    }
    for want in [
        ("ed25519", "pynacl", "peer", None),
        ("ed25519", "cryptography", "peer", None),
        ("merkle", "hashlib", "peer", None),
        ("ed25519", "cpu", "engine", 1),
        ("ed25519", "cpu", "engine", 2),
        ("ed25519", "cpu", "grpc", None),
        ("merkle", "cpu", "engine", 1),
        ("merkle", "cpu", "engine", 2),
        ("merkle", "cpu", "grpc", None),
        ("ecdsa-secp256k1", "coincurve", "peer", None),
        ("ecdsa-secp256k1", "cpu", "engine", 2),
        ("ecdsa-p256", "cryptography", "peer", None),
        ("ecdsa-p256", "cpu", "grpc", None),
    ]:
        assert want in seen, want
    peers = [r for r in doc["results"] if r["scope"] == "peer" and r["backend"] == "pynacl"]
    assert sorted(r["batch"] for r in peers) == sorted({1, 8, 100} | ({1, 100} if _has_gpu(doc) else set()))


def _has_gpu(doc: dict[str, Any]) -> bool:
    return any(r["backend"] == "cuda" for r in doc["results"])


def test_peers_and_backends_counted_the_same_verdicts(quick_run: tuple[int, Path, str]) -> None:
    doc = _doc(quick_run[1])
    groups: dict[tuple[str, int, int], set[tuple[int, int]]] = {}
    for r in doc["results"]:
        param = r.get("message_bytes", r.get("depth"))
        groups.setdefault((r["kind"], param, r["batch"]), set()).add((r["valid_count"], r["invalid_count"]))
    assert groups
    for (kind, param, batch), counts in groups.items():
        assert len(counts) == 1, (kind, param, batch, counts)
        ((valid, invalid),) = counts
        assert valid + invalid == batch
        assert invalid == batch // INVALID_EVERY  # the planted invalid items, no more, no fewer


def test_without_gpu_cuda_is_skipped_with_a_reason_and_no_crossover(quick_run: tuple[int, Path, str]) -> None:
    out = quick_run[1]
    doc = _doc(out)
    if _has_gpu(doc):
        pytest.skip("this machine has a usable GPU: cuda was measured")
    reasons = [s for s in doc["skipped"] if s["backend"] == "cuda"]
    assert reasons and all(s["reason"] for s in reasons)
    cross = json.loads((out / "crossover.json").read_text())
    for field in ("device", "kind", "crossover_batch", "measured_at", "commit"):
        assert field in cross, field
    assert cross["crossover_batch"] is None
    assert load_crossover(out / "crossover.json") is None
    assert load_crossover(out / "crossover.json", kind="merkle") is None
    assert "**none** (no GPU measured" in next(out.glob("suite-*.md")).read_text()


# ------------------------------------------------------------------------------------------------ units


def test_workloads_are_what_the_cpu_backend_and_the_peers_say() -> None:
    backend = CpuBackend(workers=1)
    try:
        ed = Ed25519Workload(32, pool=100, seed=3)
        n = 150  # past the pool: items 0..99 then 0..49 again, item 63 the one invalid
        verdicts = backend.run(ED25519, ed.batch(n), Policy.LIBSODIUM)
        assert int(np.count_nonzero(verdicts == Verdict.OK)) == ed.expected_valid(n) == n - 1
        assert set(np.unique(verdicts)) <= {Verdict.OK, Verdict.EQUATION_FAILED}
        assert runners.peer_call("pynacl", ed, n)() == ed.expected_valid(n)
        assert runners.peer_call("cryptography", ed, n)() == ed.expected_valid(n)
        for depth in (1, 8, 20):
            mk = MerkleWorkload(depth, pool=70, seed=3)
            verdicts = backend.run(MERKLE, mk.batch(n))
            assert int(np.count_nonzero(verdicts == Verdict.OK)) == mk.expected_valid(n)
            assert set(np.unique(verdicts)) <= {Verdict.OK, Verdict.ROOT_MISMATCH}
            assert runners.peer_call("hashlib", mk, n)() == mk.expected_valid(n)
    finally:
        backend.close()


def test_measure_rejects_a_wrong_verdict_count() -> None:
    with pytest.raises(VerdictMismatchError):
        measure(lambda: 3, 4, 4, what="x", warmup=0, repeats=1, min_time=0)
    with pytest.raises(VerdictMismatchError):
        measure_concurrent([lambda: 4, lambda: 3], 4, 4, what="x", warmup=0, repeats=1, min_time=0)
    sample = measure_concurrent([lambda: 4, lambda: 4], 4, 4, what="x", warmup=1, repeats=2, min_time=0)
    assert len(sample.rates) == 2 and sample.calls == 4 and sample.valid == 4


def _run(results: list[dict[str, Any]], skipped: list[dict[str, str]] | None = None) -> RunResult:
    return RunResult(
        "dev",
        "abc",
        "2026-01-01T00:00:00+00:00",
        {"cpu": "x", "cores": 2},
        {"quick": True},
        results,
        skipped or [],
    )


def _rec(backend: str, batch: int, ips: float, threads: int | None = None) -> dict[str, Any]:
    return {
        "kind": "ed25519",
        "backend": backend,
        "scope": "engine",
        "threads": threads,
        "batch": batch,
        "message_bytes": 128,
        "items_per_second": ips,
    }


def test_crossover_is_the_smallest_batch_from_which_the_gpu_always_wins() -> None:
    cpu = [_rec("cpu", b, 1000.0, 2) for b in (1, 4, 16, 64)] + [
        _rec("cpu", b, 400.0, 1) for b in (1, 4, 16, 64)
    ]
    gpu = [
        _rec("cuda", b, r) for b, r in ((1, 10.0), (4, 2000.0), (16, 900.0), (64, 5000.0), (1024, 90000.0))
    ]
    (c,) = report.find_crossovers(_run(cpu + gpu)).values()
    assert (c.batch, c.backend, c.against) == (64, "cuda", "cpu 2 threads")
    never = [_rec("cuda", b, 10.0) for b in (1, 4)]
    (c,) = report.find_crossovers(_run(cpu + never)).values()
    assert c.batch is None and "never" in c.note
    (c,) = report.find_crossovers(
        _run(cpu, [{"kind": "all", "backend": "cuda", "scope": "engine", "reason": "no CuPy"}])
    ).values()
    assert c.batch is None and c.backend is None and "no GPU" in c.note


def test_crossover_file_round_trip_and_a_cpu_run_keeps_a_gpu_figure(tmp_path: Path) -> None:
    path = tmp_path / "crossover.json"
    cpu = [_rec("cpu", b, 1000.0, 2) for b in (1, 64)]
    gpu_run = _run(cpu + [_rec("cuda", 1, 1.0), _rec("cuda", 64, 1e6)])
    written, _ = report.write_crossover(gpu_run, report.find_crossovers(gpu_run), path)
    assert written == path and load_crossover(path) == 64 and load_crossover(path, kind="merkle") is None
    cpu_run = _run(cpu)
    written, note = report.write_crossover(cpu_run, report.find_crossovers(cpu_run), path)
    assert written is None and "no GPU" in note
    assert load_crossover(path) == 64
    merkle = [{**r, "kind": "merkle", "depth": 20} for r in gpu_run.results]
    for r in merkle:
        del r["message_bytes"]
    merkle[-1]["items_per_second"] = 1.0  # the GPU never wins at Merkle here
    merkle_run = _run(merkle)
    written, _ = report.write_crossover(merkle_run, report.find_crossovers(merkle_run), path)
    assert written == path  # a run of one kind on the same device keeps the other kind's figure
    assert load_crossover(path) == 64 and load_crossover(path, kind="merkle") is None
    assert set(json.loads(path.read_text())["kinds"]) == {"ed25519", "merkle"}


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        "[]",
        '{"kind": "ed25519", "crossover_batch": true}',
        '{"kinds": {"ed25519": {"crossover_batch": -4}}}',
    ],
)
def test_load_crossover_is_none_for_anything_unusable(tmp_path: Path, content: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    assert load_crossover(path) is None
    assert load_crossover(tmp_path / "missing.json") is None


def test_load_crossover_reads_the_flat_form_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        '{"device": "d", "kind": "ed25519", "crossover_batch": 4096, "measured_at": "t", "commit": "c"}'
    )
    assert load_crossover(path) == 4096
    monkeypatch.setenv("VERIFIER_CROSSOVER_FILE", str(path))
    assert load_crossover() == 4096
    assert load_crossover(kind="merkle") is None


def test_cuda_paths_on_a_fake_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cuda engine and kernel scopes, end to end on the fake CuPy of the cuda backend's tests (the
    emu kernel behind it: figures meaningless, code path real), and the crossover they produce."""
    from tests.support.fake_cupy import FakeCupy

    monkeypatch.setitem(sys.modules, "cupy", FakeCupy())
    # the self-test also runs Merkle, which this fake does not launch; the self-test has tests of its own
    monkeypatch.setattr("verifier.selftest.run_selftest", lambda backend: None)
    out = tmp_path / "out"
    rc = main(
        [
            "--quick",
            "--out",
            str(out),
            "--kinds",
            "ed25519",
            "--backends",
            "cpu",
            "cuda",
            "--scopes",
            "kernel",
            "engine",
            "--batches",
            "1",
            "8",
            "--cuda-batches",
            "1",
            "8",
            "--message-bytes",
            "32",
            "--threads",
            "1",
            "--repeats",
            "1",
            "--min-time",
            "0",
            "--no-plots",
        ]
    )
    assert rc == 0
    doc = _doc(out)
    assert "Fake GPU" in doc["device"] and doc["environment"]["gpu"] == "Fake GPU"
    cuda = {(r["scope"], r["batch"]) for r in doc["results"] if r["backend"] == "cuda"}
    assert cuda == {("engine", 1), ("engine", 8), ("kernel", 1), ("kernel", 8)}, doc["skipped"]
    kernel = [r for r in doc["results"] if r["scope"] == "kernel"]
    assert all(r["kernel_timer"] and r["items_per_second"] > 0 for r in kernel)
    counts = {(r["batch"], r["valid_count"]) for r in doc["results"]}
    assert len(counts) == len({b for b, _ in counts})  # one verdict count per batch size, whoever counted
    cross = json.loads((out / "crossover.json").read_text())
    assert cross["kinds"]["ed25519"]["backend"] == "cuda"
    assert cross["crossover_batch"] == load_crossover(out / "crossover.json")


def test_ecdsa_kernel_and_engine_scopes_on_a_fake_gpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ECDSA kinds on the fake CuPy (the emu build of kernels/ecdsa_verify.cu behind it): the kernel
    scope times the cuda backend's EcdsaKernel and its verdict counts equal the workload's."""
    from tests.support.fake_cupy import FakeCupy

    monkeypatch.setitem(sys.modules, "cupy", FakeCupy(ecdsa=True))
    monkeypatch.setattr("verifier.selftest.run_selftest", lambda backend: None)
    out = tmp_path / "out"
    argv = ["--quick", "--out", str(out), "--kinds", "ecdsa-secp256k1", "ecdsa-p256", "--backends", "cuda"]
    argv += ["--scopes", "kernel", "engine", "--cuda-batches", "8", "--repeats", "1", "--min-time", "0"]
    assert main([*argv, "--no-plots"]) == 0
    doc = _doc(out)
    seen = {(r["kind"], r["scope"]) for r in doc["results"] if r["backend"] == "cuda"}
    assert seen == {(k, s) for k in ("ecdsa-secp256k1", "ecdsa-p256") for s in ("kernel", "engine")}, doc[
        "skipped"
    ]
    for r in doc["results"]:  # item INVALID_EVERY - 1 is the workload's first invalid one
        assert r["valid_count"] == r["batch"] - (r["batch"] // INVALID_EVERY), r
