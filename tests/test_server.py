"""End to end over loopback: the real server, the client, health, reflection, errors and metrics."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import nacl.signing
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

import verifier
from tests.support.harness import RunningServer, running_server
from verifier.engine import Limits
from verifier.schemes import ED25519
from verifier.v1 import verifier_pb2 as pb2
from verifier.v1 import verifier_pb2_grpc as pb2_grpc
from verifier.verdict import Verdict

SK = nacl.signing.SigningKey(b"\x11" * 32)
PK = bytes(SK.verify_key)


def _items(n: int, msg_len: int = 40) -> tuple[list[bytes], list[bytes], list[bytes]]:
    msgs = [os.urandom(msg_len + i % 7) for i in range(n)]
    return [PK] * n, [SK.sign(m).signature for m in msgs], msgs


def _request(keys: list[bytes], sigs: list[bytes], msgs: list[bytes]) -> pb2.VerifySignaturesRequest:
    """The items as one packed VerifySignaturesRequest."""
    return pb2.VerifySignaturesRequest(
        public_keys=b"".join(keys),
        signatures=b"".join(sigs),
        messages=b"".join(msgs),
        message_lengths=[len(m) for m in msgs],
    )


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(limits=Limits(max_items=500, max_message_bytes=64 * 1024)) as s:
        yield s


@pytest.fixture(scope="module")
def stub(server: RunningServer) -> Iterator[pb2_grpc.VerifierStub]:
    with grpc.insecure_channel(server.target, [("grpc.max_send_message_length", -1)]) as channel:
        yield pb2_grpc.VerifierStub(channel)


def test_health_serving_after_warm_up(server: RunningServer) -> None:
    with grpc.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "verifier.v1.Verifier"):
            response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_and_describes_the_service(server: RunningServer) -> None:
    with grpc.insecure_channel(server.target) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        services = set(db.get_services())
        assert {"verifier.v1.Verifier", "grpc.health.v1.Health"} <= services
        proto = db.FindFileContainingSymbol("verifier.v1.Verifier")
        methods = {m.name for m in proto.service[0].method}
        assert methods >= {"VerifySignatures", "VerifyMerkleProofs", "GetInfo"}


def test_client_matches_local_engine_and_splits_large_batches(server: RunningServer) -> None:
    keys, sigs, msgs = _items(1300, msg_len=120)  # > max_items and > 64 KiB: several requests
    for i in (0, 499, 500, 1299):
        msgs[i] = msgs[i] + b"!"
    keys[7] = keys[7][:20]
    with verifier.Client(server.target) as client:
        remote = client.verify_ed25519(keys, sigs, msgs)
        info = client.info()
    local = verifier.verify_ed25519(keys, sigs, msgs, backend="cpu")
    assert np.array_equal(remote.verdicts, local.verdicts)
    assert np.flatnonzero(~remote.valid).tolist() == [0, 7, 499, 500, 1299]
    assert remote.verdict(7) is Verdict.MALFORMED_LENGTH
    assert info.backend == "cpu" and info.limits.max_items == 500 and "libsodium" in info.policies
    assert info.devices[0].kind == "cpu" and info.devices[0].workers >= 1


def test_client_merkle_both_leaf_forms(server: RunningServer) -> None:
    leaves = [b"a", b"b", b"c"]
    lh = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    n01 = hashlib.sha256(b"\x01" + lh[0] + lh[1]).digest()
    root = hashlib.sha256(b"\x01" + n01 + lh[2]).digest()
    args = ([0, 2, 2, 5, 1], [3, 3, 3, 3, 3], [[lh[1], lh[2]], [n01], [n01, n01], [n01], [lh[0], lh[2]]])
    with verifier.Client(server.target) as client:
        by_data = client.verify_merkle(*args, root, leaves=[b"a", b"c", b"c", b"c", b"x"])
        by_hash = client.verify_merkle(
            *args, [root] * 4 + [b"short"], leaf_hashes=[lh[0], lh[2], lh[2], lh[2], lh[1]]
        )
    names = lambda r: [Verdict(int(v)).name for v in r.verdicts]  # noqa: E731
    assert names(by_data) == ["OK", "OK", "MALFORMED_PROOF", "MALFORMED_PROOF", "ROOT_MISMATCH"]
    assert names(by_hash) == ["OK", "OK", "MALFORMED_PROOF", "MALFORMED_PROOF", "MALFORMED_PROOF"]


def _expect(code: grpc.StatusCode, match: str, call: object, request: object) -> None:
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=10)  # type: ignore[operator]
    assert info.value.code() == code, info.value.details()
    assert match in (info.value.details() or ""), info.value.details()


def test_request_level_errors_name_field_and_numbers(stub: pb2_grpc.VerifierStub) -> None:
    # Request fields as keyword arguments of the pb2 constructors (some deliberately out of range).
    ok: dict[str, Any] = dict(
        public_keys=PK * 2, signatures=b"\x00" * 128, messages=b"ab", message_lengths=[1, 1]
    )
    bad_cases: list[tuple[dict[str, Any], grpc.StatusCode, str]] = [
        (dict(ok, public_keys=PK), grpc.StatusCode.INVALID_ARGUMENT, "public_keys holds 32 bytes; 2 items"),
        (
            dict(ok, messages=b"abc"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "message_lengths sum to 2 bytes but messages holds 3",
        ),
        (dict(ok, policy=7), grpc.StatusCode.INVALID_ARGUMENT, "policy: unknown value 7"),
        (
            dict(
                public_keys=PK * 501, signatures=b"\x00" * 64 * 501, messages=b"", message_lengths=[0] * 501
            ),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "request has 501 items; the limit is 500",
        ),
        (
            dict(ok, messages=b"x" * 70_000, message_lengths=[35_000, 35_000]),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "65536",
        ),
    ]
    for fields, code, match in bad_cases:
        _expect(code, match, stub.VerifySignatures, pb2.VerifySignaturesRequest(**fields))
    merkle: dict[str, Any] = dict(
        leaf_indices=[0],
        tree_sizes=[1],
        path_hashes=b"",
        path_lengths=[0],
        roots=b"r" * 32,
        leaf_hashes=b"h" * 32,
    )
    _expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        "root_indices[0] = 4 but only 1 roots",
        stub.VerifyMerkleProofs,
        pb2.VerifyMerkleProofsRequest(**merkle, root_indices=[4]),
    )
    _expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        "leaf_indices 1, tree_sizes 2",
        stub.VerifyMerkleProofs,
        pb2.VerifyMerkleProofsRequest(**dict(merkle, tree_sizes=[1, 1])),
    )
    # The server is still healthy and answers the well-formed request.
    response = stub.VerifySignatures(pb2.VerifySignaturesRequest(**ok), timeout=10)
    assert list(response.verdicts) == [Verdict.EQUATION_FAILED] * 2 or list(response.verdicts)[0] != 0
    assert response.invalid_count == 2 and not response.all_valid


def test_zip215_over_grpc_on_the_cpu_backend(stub: pb2_grpc.VerifierStub) -> None:
    """Policy zip215 on backend cpu (host build of the kernel): the cases where the policies part, each
    answered as SPEC.md sections 1 and 2 say, in one request per policy."""
    from verifier import _selftest_vectors as kat

    cases = kat.ED25519_CASES
    fields: dict[str, Any] = dict(
        public_keys=b"".join(c.public_key for c in cases),
        signatures=b"".join(c.signature for c in cases),
        messages=b"".join(c.message for c in cases),
        message_lengths=[len(c.message) for c in cases],
    )
    for policy, want in (
        (pb2.POLICY_ZIP215, [c.zip215 for c in cases]),
        (pb2.POLICY_LIBSODIUM, [c.libsodium for c in cases]),
    ):
        response = stub.VerifySignatures(pb2.VerifySignaturesRequest(**fields, policy=policy), timeout=30)
        assert [Verdict(v).name for v in response.verdicts] == want
        assert response.backend == "cpu"
    assert any(c.libsodium != "OK" and c.zip215 == "OK" for c in cases)  # the policies do part here


def _promtool() -> str | None:
    import shutil
    from pathlib import Path

    local = Path(__file__).resolve().parents[1] / ".venv" / "tools" / "promtool"
    return (
        os.environ.get("VERIFIER_PROMTOOL")
        or shutil.which("promtool")
        or (str(local) if local.exists() else None)
    )


def test_metrics_pass_promtool_check(server: RunningServer, stub: pb2_grpc.VerifierStub) -> None:
    """`promtool check metrics` (Prometheus' own linter: names, units, suffixes, help) is clean on a
    scrape taken after every kind of request, so every labelled series exists. promtool comes from
    scripts/fetch_promtool.sh (Debian's prometheus package), PATH or $VERIFIER_PROMTOOL."""
    import subprocess

    promtool = _promtool()
    if promtool is None:
        reason = "promtool not found (run scripts/fetch_promtool.sh, or put promtool on PATH)"
        print(f"\ntest_metrics_pass_promtool_check: skipped: {reason}")
        pytest.skip(reason)
    pks, sigs, msgs = _items(3)
    stub.VerifySignatures(_request(pks, sigs, msgs))
    stub.VerifyMerkleProofs(
        pb2.VerifyMerkleProofsRequest(
            leaf_indices=[0],
            tree_sizes=[1],
            path_hashes=b"",
            path_lengths=[0],
            roots=b"r" * 32,
            leaf_hashes=b"r" * 32,
        )
    )
    with pytest.raises(grpc.RpcError):
        stub.VerifySignatures(pb2.VerifySignaturesRequest(public_keys=b"x"), timeout=10)
    with urllib.request.urlopen(f"http://127.0.0.1:{server.server.metrics_port}/metrics", timeout=10) as r:  # type: ignore[union-attr]
        text = r.read()
    assert b"verifier_items_total" in text and b"verifier_commits_total" in text
    proc = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, timeout=60, check=False
    )
    problems = (proc.stdout + proc.stderr).decode()
    assert proc.returncode == 0 and not problems.strip(), problems


def test_empty_request_is_answered(stub: pb2_grpc.VerifierStub) -> None:
    response = stub.VerifySignatures(pb2.VerifySignaturesRequest(), timeout=10)
    assert response.verdicts == b"" and response.all_valid and response.valid_count == 0


def test_metrics_endpoint(server: RunningServer, stub: pb2_grpc.VerifierStub) -> None:
    keys, sigs, msgs = _items(3)
    stub.VerifySignatures(
        _request(keys, sigs, msgs),
        timeout=10,
    )
    assert server.server is not None
    text = (
        urllib.request.urlopen(f"http://127.0.0.1:{server.server.metrics_port}/metrics", timeout=5)
        .read()
        .decode()
    )
    assert 'verifier_backend_info{backend="cpu"} 1.0' in text
    assert 'verifier_items_total{backend="cpu",scheme="ed25519",verdict="ok"}' in text
    assert 'grpc_code="OK",grpc_method="VerifySignatures",grpc_service="verifier.v1.Verifier"' in text
    assert 'verifier_request_duration_seconds_bucket{grpc_method="VerifySignatures"' in text


def test_an_internal_bug_is_internal_not_the_callers_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ValueError inside the server is a bug: INTERNAL (the scheduler's unit failed) with its type named,
    never INVALID_ARGUMENT; the client raises a plain VerifierError, not InvalidRequestError."""
    from verifier.backends.cpu import CpuBackend

    class BuggyCpu(CpuBackend):
        def run(self, scheme, batch, policy=None):  # type: ignore[no-untyped-def]
            if scheme is not ED25519:
                return super().run(scheme, batch, policy)
            raise ValueError("an off-by-one somewhere")

    monkeypatch.setattr("verifier.server.select_backend", lambda name: BuggyCpu())
    with running_server() as srv, grpc.insecure_channel(srv.target) as channel:
        keys, sigs, msgs = _items(3)
        request = _request(keys, sigs, msgs)
        with pytest.raises(grpc.RpcError) as info:
            pb2_grpc.VerifierStub(channel).VerifySignatures(request, timeout=30)
        assert info.value.code() == grpc.StatusCode.INTERNAL
        assert "ValueError('an off-by-one somewhere')" in (info.value.details() or "")
        with verifier.Client(srv.target) as client, pytest.raises(verifier.VerifierError) as raised:
            client.verify_ed25519(keys, sigs, msgs)
        assert not isinstance(raised.value, verifier.InvalidRequestError)


def test_shutdown_finishes_accepted_requests_and_turns_not_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier.backends.cpu import CpuBackend

    class SlowCpu(CpuBackend):
        def run(self, scheme, batch, policy=None):  # type: ignore[no-untyped-def]
            if scheme is not ED25519:  # only signature batches are held (slowed)
                return super().run(scheme, batch, policy)
            time.sleep(1.0)
            return super().run(scheme, batch, policy)

    monkeypatch.setattr("verifier.server.select_backend", lambda name: SlowCpu())
    with running_server() as srv:
        keys, sigs, msgs = _items(50)
        results: dict[str, object] = {}
        statuses: list[int] = []
        channel = grpc.insecure_channel(srv.target)
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))

        def watch_health() -> None:
            try:
                for update in watch:
                    statuses.append(update.status)
            except grpc.RpcError:
                pass

        def call() -> None:
            with verifier.Client(srv.target) as client:
                results["r"] = client.verify_ed25519(keys, sigs, msgs)

        watcher = threading.Thread(target=watch_health)
        watcher.start()
        worker = threading.Thread(target=call)
        worker.start()
        time.sleep(0.5)  # the request is accepted and inside the slow backend
        assert srv.server is not None
        srv.run(srv.server.stop(grace=10))
        worker.join(10)
        watcher.join(10)
        channel.close()
        result = results["r"]
        assert isinstance(result, verifier.VerifyResult) and result.all_valid and len(result) == 50
        assert statuses[0] == health_pb2.HealthCheckResponse.SERVING
        assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses


def test_grafana_dashboard_uses_only_metrics_the_server_exports(server: RunningServer) -> None:
    import json
    import re
    from pathlib import Path

    dashboard = json.loads(
        (Path(__file__).resolve().parent.parent / "deploy/grafana/verifier-dashboard.json").read_text()
    )
    used = {
        m
        for p in dashboard["panels"]
        for t in p["targets"]
        for m in re.findall(r"verifier_[a-z_]+", t["expr"])
    }
    assert server.server is not None
    exported = {metric.name for metric in server.registry.collect()}  # family names, no _total/_bucket
    families = {re.sub(r"_(total|bucket|sum|count)$", "", m) for m in used}
    assert used and families <= exported, families - exported
    # Every label a query groups by or a legend names is a label of some exported metric (or le).
    from prometheus_client.metrics import MetricWrapperBase

    declared = [m for m in vars(server.server.metrics).values() if isinstance(m, MetricWrapperBase)]
    labels = {"le"} | {label for m in declared for label in m._labelnames}
    named = {
        label.strip()
        for p in dashboard["panels"]
        for t in p["targets"]
        for group in re.findall(r"by \(([^)]*)\)", t["expr"])
        + re.findall(r"{{(\w+)}}", t.get("legendFormat", ""))
        for label in group.split(",")
    }
    assert named <= labels, named - labels


def _sample(server: RunningServer, name: str, **labels: str) -> float:
    return server.registry.get_sample_value(name, labels) or 0.0


def test_every_rpc_is_in_the_request_metrics_and_streams_per_message(server: RunningServer) -> None:
    """VerifyStream, health Check and Watch, and reflection are counted like unary calls (once, when they
    end, with their code and duration); each stream message is counted too, received and sent."""
    stream = dict(grpc_service="verifier.v1.Verifier", grpc_method="VerifyStream")
    watch = dict(grpc_service="grpc.health.v1.Health", grpc_method="Watch")
    reflect = dict(
        grpc_service="grpc.reflection.v1alpha.ServerReflection", grpc_method="ServerReflectionInfo"
    )
    counters = {
        "stream calls": ("verifier_requests_total", dict(stream, grpc_code="OK")),
        "stream received": ("verifier_stream_messages_total", dict(stream, direction="received")),
        "stream sent": ("verifier_stream_messages_total", dict(stream, direction="sent")),
        "stream durations": ("verifier_request_duration_seconds_count", stream),
        "watch calls": ("verifier_requests_total", dict(watch, grpc_code="CANCELLED")),
        "watch sent": ("verifier_stream_messages_total", dict(watch, direction="sent")),
        "check calls": (
            "verifier_requests_total",
            dict(grpc_service="grpc.health.v1.Health", grpc_method="Check", grpc_code="OK"),
        ),
        "reflection calls": ("verifier_requests_total", dict(reflect, grpc_code="OK")),
    }
    before = {k: _sample(server, name, **labels) for k, (name, labels) in counters.items()}
    keys, sigs, msgs = _items(2)
    batch = _request(keys, sigs, msgs)
    with grpc.insecure_channel(server.target) as channel:
        answers = list(
            pb2_grpc.VerifierStub(channel).VerifyStream(
                iter([pb2.StreamRequest(id=i, signatures=batch) for i in range(3)]), timeout=30
            )
        )
        assert len(answers) == 3
        health = health_pb2_grpc.HealthStub(channel)
        health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        watch_call = health.Watch(health_pb2.HealthCheckRequest(), timeout=30)
        assert next(watch_call).status == health_pb2.HealthCheckResponse.SERVING
        watch_call.cancel()
        reflect_info = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        assert (
            len(
                list(
                    reflect_info(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
                )
            )
            == 1
        )
    deadline = time.monotonic() + 10  # the cancelled Watch is recorded once the server has seen it end
    while (
        _sample(server, *counters["watch calls"][:1], **counters["watch calls"][1]) == before["watch calls"]
    ):
        assert time.monotonic() < deadline, "the cancelled Watch was never recorded"
        time.sleep(0.05)
    after = {k: _sample(server, name, **labels) for k, (name, labels) in counters.items()}
    grew = {k: after[k] - before[k] for k in counters}
    assert grew == {
        "stream calls": 1,
        "stream received": 3,
        "stream sent": 3,
        "stream durations": 1,
        "watch calls": 1,
        "watch sent": 1,
        "check calls": 1,
        "reflection calls": 1,
    }, grew


def test_metrics_over_tls_and_mutual_tls(tmp_path: Path) -> None:
    """metrics_tls_cert/key serve /metrics over HTTPS only; with metrics_tls_client_ca a scraper must
    present a certificate that CA signed."""
    import ssl

    from tests.support.pki import make_pki

    pki = make_pki(tmp_path)
    tls = dict(metrics_tls_cert=pki["server_crt"], metrics_tls_key=pki["server_key"])

    def scrape(scheme: str, port: int, client: bool = False) -> bytes:
        context = ssl.create_default_context(cafile=pki["ca_crt"])
        if client:
            context.load_cert_chain(pki["client_crt"], pki["client_key"])
        with urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/metrics", timeout=10, context=context) as r:
            return bytes(r.read())

    with running_server(**tls) as srv:
        assert srv.server is not None and srv.server.metrics_port
        assert b"verifier_backend_info" in scrape("https", srv.server.metrics_port)
        with pytest.raises((ConnectionError, urllib.error.URLError, http.client.HTTPException)):
            scrape("http", srv.server.metrics_port)  # no plaintext
    with running_server(**tls, metrics_tls_client_ca=pki["ca_crt"]) as srv:
        assert srv.server is not None and srv.server.metrics_port
        assert b"verifier_backend_info" in scrape("https", srv.server.metrics_port, client=True)
        with pytest.raises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
            scrape("https", srv.server.metrics_port)  # no client certificate


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        (dict(metrics_tls_cert="c.pem"), "metrics TLS needs both a certificate and a key"),
        (dict(metrics_tls_client_ca="ca.pem"), "metrics TLS client CA needs a metrics certificate and key"),
    ],
)
def test_metrics_tls_settings_are_checked_before_any_port_opens(settings: dict[str, str], match: str) -> None:
    from verifier.server import ServerConfig

    with pytest.raises(ValueError, match=match):
        ServerConfig(**settings).metrics_tls()  # type: ignore[arg-type]


def test_metrics_host_is_where_metrics_listen() -> None:
    with running_server(metrics_host="localhost") as srv:
        assert srv.server is not None and srv.server.metrics_port
        text = urllib.request.urlopen(
            f"http://localhost:{srv.server.metrics_port}/metrics", timeout=10
        ).read()
        assert b"verifier_backend_info" in text
        assert srv.server.effective_settings()["metrics_host"] == "localhost"
