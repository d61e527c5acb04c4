"""The service under hostile and heavy load (issue 11): memory bounded whatever the input, checks before
decoding, bad bytes as INVALID_ARGUMENT, big commits in their own lane, streams and connections bounded,
and every call's end recorded with its real code."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import random
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support import cometbft_ref as ref
from tests.support.harness import GatedCpu, RunningServer, running_server
from verifier import convert, service
from verifier.batch import Ed25519Batch
from verifier.engine import Limits
from verifier.scheduler import SchedulerConfig
from verifier.server import ServerConfig
from verifier.v1 import verifier_pb2 as pb2
from verifier.v1 import verifier_pb2_grpc as pb2_grpc

MB = 1 << 20
_SERVICE = "verifier.v1.Verifier"


def _raw(channel: grpc.Channel, method: str) -> Any:
    """A unary method that sends and returns bytes as they are (no serializer either way)."""
    return channel.unary_unary(f"/{_SERVICE}/{method}")


def _expect(call: Any, raw: bytes, code: grpc.StatusCode, *matches: str, timeout: float = 60) -> str:
    with pytest.raises(grpc.RpcError) as info:
        call(raw, timeout=timeout)
    details = info.value.details() or ""
    assert info.value.code() == code, details
    for match in matches:
        assert match in details, details
    return details


def _sample(server: RunningServer, name: str, **labels: str) -> float:
    return server.registry.get_sample_value(name, labels) or 0.0


def _signatures(n_bytes: int) -> pb2.VerifySignaturesRequest:
    return pb2.VerifySignaturesRequest(
        public_keys=b"k" * 32, signatures=b"s" * 64, messages=b"x" * n_bytes, message_lengths=[n_bytes]
    )


def _proof() -> pb2.VerifyMerkleProofsRequest:
    leaf = b"\x07" * 32
    return pb2.VerifyMerkleProofsRequest(
        leaf_hashes=leaf, leaf_indices=[0], tree_sizes=[1], path_lengths=[0], roots=leaf
    )


def _wait_for(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# ------------------------------------------------------------------------------------------ memory


def _rejected_requests() -> list[tuple[str, bytes, grpc.StatusCode, str]]:
    """Requests of several MB, each refused or rejected somewhere else on its way in."""
    big = b"m" * (3 * MB)
    return [
        (
            "VerifySignatures",
            pb2.VerifySignaturesRequest(messages=big, message_lengths=[1] * 1001).SerializeToString(),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "request has 1001 items",
        ),
        (
            "VerifySignatures",
            # policy=7 names no Policy: the wrong type is the point, the server must reject it.
            pb2.VerifySignaturesRequest(messages=big, message_lengths=[1], policy=7).SerializeToString(),  # type: ignore[arg-type]
            grpc.StatusCode.INVALID_ARGUMENT,
            "policy: unknown value 7",
        ),
        ("VerifySignatures", b"\xff" * (3 * MB), grpc.StatusCode.INVALID_ARGUMENT, "not a valid"),
        ("VerifySignatures", b"\xff" * (9 * MB), grpc.StatusCode.RESOURCE_EXHAUSTED, "in-flight budget"),
        (
            "VerifyMerkleProofs",
            pb2.VerifyMerkleProofsRequest(
                path_hashes=big[: 3 * MB - 1], leaf_indices=[0], tree_sizes=[1], path_lengths=[0]
            ).SerializeToString(),
            grpc.StatusCode.INVALID_ARGUMENT,
            "path_hashes holds",
        ),
        (
            "VerifyCommit",
            pb2.VerifyCommitRequest(commit_json=big).SerializeToString(),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "--max-commit-bytes",
        ),
        (
            "VerifyCommit",
            pb2.VerifyCommitRequest(
                commit_json=b'{"height": "' + big[:MB] + b'"}', validator_set_hash=b"\x01" * 32
            ).SerializeToString(),
            grpc.StatusCode.INVALID_ARGUMENT,
            "commit",
        ),
        (
            "RegisterValidatorSet",
            pb2.RegisterValidatorSetRequest(validators_json=b"[" + big[:MB]).SerializeToString(),
            grpc.StatusCode.INVALID_ARGUMENT,
            "validators_json: not JSON",
        ),
    ]


def test_rejected_requests_leave_nothing_behind_with_the_collector_off() -> None:
    """With the cyclic collector off, rejected multi-MB requests of every kind (refused before decoding,
    malformed bytes, rejected while converting, bad JSON on the commit threads, bad batches in a stream)
    leave nothing behind: no reference cycle keeps a request, or the frames holding it, alive."""
    config = dict(
        limits=Limits(max_items=1000, max_message_bytes=32 * MB),
        max_commit_bytes=2 * MB,
        max_inflight_bytes=8 * MB,
    )
    with running_server(**config) as server, grpc.insecure_channel(server.target) as channel:
        cases = _rejected_requests()
        stream_batch = pb2.StreamRequest(
            id=5, signatures=pb2.VerifySignaturesRequest(messages=b"s" * (2 * MB), message_lengths=[7])
        ).SerializeToString()
        stream = channel.stream_stream(
            f"/{_SERVICE}/VerifyStream", response_deserializer=pb2.StreamResponse.FromString
        )

        def round_of_all() -> None:
            for method, raw, code, match in cases:
                _expect(_raw(channel, method), raw, code, match)
            answers = list(stream(iter([stream_batch] * 3), timeout=60))
            assert [a.error.code for a in answers] == [grpc.StatusCode.INVALID_ARGUMENT.value[0]] * 3

        gc.collect()
        gc.disable()
        tracemalloc.start()
        try:
            round_of_all()  # first use: label sets, caches, threads
            time.sleep(0.2)
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(4):
                round_of_all()
            time.sleep(0.2)
            after = tracemalloc.get_traced_memory()[0]
            gc.collect()
            collected = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
            gc.enable()
        sent = 4 * (sum(len(c[1]) for c in cases) + 3 * len(stream_batch))
        print(
            f"\n{sent / MB:.0f} MB rejected: {(after - before) / MB:.2f} MB held with the collector off, "
            f"{(after - collected) / MB:.2f} MB of it in cycles"
        )
        assert after - before < 2 * MB, (
            f"{(after - before) / MB:.1f} MB held after {sent / MB:.0f} MB of rejected requests"
        )
        assert server.server is not None and server.server._servicer.budget.held == 0


# ------------------------------------------------------------------------------ checks before decoding


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(
        limits=Limits(max_items=300), max_commit_bytes=512 << 10, commit_lane_bytes=64 << 10
    ) as s:
        yield s


@pytest.fixture(scope="module")
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.target) as ch:
        yield ch


def test_garbage_bytes_are_invalid_argument_counted_and_logged_once(
    server: RunningServer, channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    """Bytes that are not the method's message: INVALID_ARGUMENT naming the message, counted as such in
    verifier_requests_total and verifier_malformed_requests_total, and one WARNING per interval at most,
    with no traceback, however many arrive."""
    labels = dict(grpc_service=_SERVICE, grpc_method="VerifySignatures", grpc_code="INVALID_ARGUMENT")
    before = _sample(server, "verifier_requests_total", **labels)
    malformed = _sample(server, "verifier_malformed_requests_total", grpc_method="VerifySignatures")
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            _expect(
                _raw(channel, "VerifySignatures"),
                b"\x0a\xff\xff",
                grpc.StatusCode.INVALID_ARGUMENT,
                "request is not a valid verifier.v1.VerifySignaturesRequest: ",
            )
        for method, message in (
            ("VerifyMerkleProofs", "VerifyMerkleProofsRequest"),
            ("GetInfo", "GetInfoRequest"),
            ("VerifyCommit", "VerifyCommitRequest"),
            ("RegisterValidatorSet", "RegisterValidatorSetRequest"),
        ):
            _expect(
                _raw(channel, method),
                b"\x0b",
                grpc.StatusCode.INVALID_ARGUMENT,
                f"not a valid verifier.v1.{message}",
            )
    assert _sample(server, "verifier_requests_total", **labels) == before + 20
    assert (
        _sample(server, "verifier_malformed_requests_total", grpc_method="VerifySignatures") == malformed + 20
    )
    lines = [r for r in caplog.records if "VerifySignatures" in r.getMessage()]
    assert 1 <= len(lines) <= 2, [r.getMessage() for r in lines]  # one per 10 s interval
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in caplog.records)
    assert not any("Traceback" in r.getMessage() for r in caplog.records)
    # The server still answers a good request.
    assert pb2_grpc.VerifierStub(channel).GetInfo(pb2.GetInfoRequest(), timeout=10).limits.max_items == 300


def test_commit_size_limit_comes_before_parsing(server: RunningServer, channel: grpc.Channel) -> None:
    """Over --max-commit-bytes, VerifyCommit and RegisterValidatorSet are RESOURCE_EXHAUSTED naming both
    sizes and the flag, even for bytes that would not parse: nothing was decoded. GetInfo reports the limit."""
    garbage = b"\xff" * ((512 << 10) + 1)
    for method in ("VerifyCommit", "RegisterValidatorSet"):
        before = _sample(server, "verifier_requests_refused_total", grpc_method=method, reason="commit_bytes")
        _expect(
            _raw(channel, method),
            garbage,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"{method} request is {len(garbage)} bytes; the limit is {512 << 10} (--max-commit-bytes)",
        )
        assert (
            _sample(server, "verifier_requests_refused_total", grpc_method=method, reason="commit_bytes")
            == before + 1
        )
    limits = pb2_grpc.VerifierStub(channel).GetInfo(pb2.GetInfoRequest(), timeout=10).limits
    assert (
        limits.max_commit_bytes == 512 << 10
        and limits.max_inflight_bytes == ServerConfig().max_inflight_bytes
    )


def test_json_commit_entries_are_counted_before_decoding(channel: grpc.Channel) -> None:
    """A commit_json naming more entries than the item limit is refused on the count, before json.loads:
    here the document is not even JSON, and the answer is still the limit's."""
    doc = b'{"block_id_flag": 1} ' * 301 + b"{not json"
    _expect(
        _raw(channel, "VerifyCommit"),
        pb2.VerifyCommitRequest(commit_json=doc, validator_set_hash=b"\x01" * 32).SerializeToString(),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "request has 301 commit signatures; the limit is 300",
    )


def _thread_of(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[str]:
    threads: list[str] = []
    inner = getattr(module, name)

    def spy(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return inner(*args)

    monkeypatch.setattr(module, name, spy)
    return threads


def test_big_requests_are_decoded_off_the_event_loop(
    server: RunningServer, channel: grpc.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request over 64 KiB is parsed and converted on a decode thread, a small one on the loop (where a
    thread hop costs more than the work): while a big one is stuck decoding, health checks and small calls
    are answered."""
    stuck, release = threading.Event(), threading.Event()
    parsed: list[str] = []
    inner = convert.parse

    def parse(*args: Any) -> Any:
        parsed.append(threading.current_thread().name)
        if parsed[-1].startswith("verifier-decode"):
            stuck.set()
            release.wait(60)
        return inner(*args)

    monkeypatch.setattr(convert, "parse", parse)
    converted = _thread_of(monkeypatch, Ed25519Batch, "from_packed")  # the columns wrapped
    stub = pb2_grpc.VerifierStub(channel)
    big = stub.VerifySignatures.future(_signatures(200_000), timeout=60)
    try:
        _wait_for(stuck.is_set, what="the big request on a decode thread")
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        assert stub.VerifySignatures(_signatures(100), timeout=10).invalid_count == 1
    finally:
        release.set()
    assert big.result(60).invalid_count == 1
    loop_thread = server._thread.name
    assert parsed == [parsed[0], loop_thread] and parsed[0].startswith("verifier-decode"), parsed
    assert converted == [loop_thread, converted[1]] and converted[1].startswith("verifier-decode"), converted


def _commit_docs(n: int, seed: int) -> tuple[bytes, bytes]:
    gen = ref.generate(random.Random(seed), n, p_absent=0.0, p_nil=0.0)
    return json.dumps(gen.commit_json()).encode(), json.dumps(ref.validators_json(gen.validators)).encode()


def test_small_commits_never_queue_behind_big_ones(
    server: RunningServer, channel: grpc.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits over the lane threshold (64 KiB here) are read one at a time on their own thread: while one
    is stuck there, a small commit is answered, at most 8 big ones wait, and the next is refused
    (RESOURCE_EXHAUSTED naming the lane)."""
    release = threading.Event()
    inner = service._read_commit
    big_threads: list[str] = []

    def read(raw: bytes, *args: Any) -> Any:
        name = threading.current_thread().name
        if name.startswith("verifier-commit-big"):
            big_threads.append(name)
            release.wait(60)
        return inner(raw, *args)

    monkeypatch.setattr(service, "_read_commit", read)
    big = pb2.VerifyCommitRequest(
        commit_json=b" " * (100 << 10) + b"{}", validator_set_hash=b"\x01" * 32
    ).SerializeToString()
    stub = pb2_grpc.VerifierStub(channel)
    pending = [
        _raw(channel, "VerifyCommit").future(big, timeout=60) for _ in range(9)
    ]  # one in the lane, 8 waiting
    try:
        _wait_for(lambda: len(big_threads) == 1, what="the first big commit in its lane")
        _wait_for(lambda: server.server._servicer._big._waiting == 8, what="8 big commits waiting")  # type: ignore[union-attr]
        _expect(
            _raw(channel, "VerifyCommit"),
            big,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "requests of more than 65536 bytes are waiting for the big-request lane",
        )
        commit, validators = _commit_docs(20, seed=3)
        answer = stub.VerifyCommit(
            pb2.VerifyCommitRequest(commit_json=commit, validators_json=validators), timeout=30
        )
        assert answer.valid  # answered while the big lane is stuck
    finally:
        release.set()
    for future in pending:
        with pytest.raises(grpc.RpcError) as info:
            future.result(60)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # "{}" is no commit
    assert len(big_threads) == 9 and len(set(big_threads)) == 1


# ------------------------------------------------------------------------------ in-flight budget


def test_inflight_budget_refuses_and_is_given_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """While one request's bytes are held (its batch stuck in the backend), another that would pass the
    budget is refused before decoding, saying how much is held; the bytes come back when the answer is
    sent, and when the caller gives up."""
    gated = GatedCpu()
    gated.install(monkeypatch)
    with running_server(max_inflight_bytes=3 * MB) as server, grpc.insecure_channel(server.target) as channel:
        stub = pb2_grpc.VerifierStub(channel)
        first = _signatures(2 * MB)
        size = first.ByteSize()
        for ending in ("answered", "cancelled"):
            gated.entered.clear()
            gated.open.clear()
            future = stub.VerifySignatures.future(first, timeout=60)
            _wait_for(gated.entered.is_set, what="the first batch in the backend")
            assert _sample(server, "verifier_inflight_request_bytes") == size
            _expect(
                stub.VerifySignatures,
                _signatures(2 * MB),
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"in-flight budget: {size} bytes held, {size} more would pass {3 * MB} (--max-inflight-bytes)",
            )
            assert stub.VerifyMerkleProofs(_proof(), timeout=30).valid_count == 1  # small ones still fit
            if ending == "cancelled":
                future.cancel()
                _wait_for(
                    lambda: _sample(server, "verifier_inflight_request_bytes") == 0, what="the budget back"
                )
                gated.open.set()
            else:
                gated.open.set()
                assert future.result(60).invalid_count == 1
                _wait_for(
                    lambda: _sample(server, "verifier_inflight_request_bytes") == 0, what="the budget back"
                )
        assert (
            _sample(
                server,
                "verifier_requests_refused_total",
                grpc_method="VerifySignatures",
                reason="inflight_bytes",
            )
            == 2
        )


# ------------------------------------------------------------------------------ calls that end early


def test_expired_and_cancelled_calls_are_recorded_with_their_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call whose deadline passes while its batch is in the backend is DEADLINE_EXCEEDED in
    verifier_requests_total, one its caller cancels CANCELLED (not UNKNOWN); VerifyStream calls are
    recorded too, with their duration."""
    gated = GatedCpu()
    gated.install(monkeypatch)
    with running_server() as server, grpc.insecure_channel(server.target) as channel:
        stub = pb2_grpc.VerifierStub(channel)

        def count(method: str, code: str) -> float:
            return _sample(
                server, "verifier_requests_total", grpc_service=_SERVICE, grpc_method=method, grpc_code=code
            )

        gated.open.clear()
        try:
            with pytest.raises(grpc.RpcError) as info:
                stub.VerifySignatures(_signatures(10), timeout=0.5)
            assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            _wait_for(
                lambda: count("VerifySignatures", "DEADLINE_EXCEEDED") == 1, what="DEADLINE_EXCEEDED recorded"
            )
            future = stub.VerifySignatures.future(_signatures(10), timeout=60)
            _wait_for(
                lambda: (
                    _sample(
                        server,
                        "verifier_requests_in_flight",
                        grpc_service=_SERVICE,
                        grpc_method="VerifySignatures",
                    )
                    == 1
                ),
                what="the call at the server",
            )
            future.cancel()
            _wait_for(lambda: count("VerifySignatures", "CANCELLED") == 1, what="CANCELLED recorded")
        finally:
            gated.open.set()
        assert count("VerifySignatures", "UNKNOWN") == 0
        answers = list(
            stub.VerifyStream(iter([pb2.StreamRequest(id=1, signatures=_signatures(10))]), timeout=30)
        )
        assert [a.id for a in answers] == [1]
        _wait_for(lambda: count("VerifyStream", "OK") == 1, what="the stream recorded")
        assert (
            _sample(
                server,
                "verifier_request_duration_seconds_count",
                grpc_service=_SERVICE,
                grpc_method="VerifyStream",
            )
            == 1
        )


# ------------------------------------------------------------------------------ streams and connections


@pytest.mark.slow
def test_a_stream_that_never_reads_stops_being_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller sends batches and never reads the answers: once what the transport holds for it is full,
    the server stops reading its stream (a batch leaves the window when its answer is sent, not when it is
    queued). Then the caller reads, and every batch is answered."""
    pulled = _thread_of(monkeypatch, convert, "stream_request_id")  # called once per batch the server reads
    total = 20_000
    batch = pb2.StreamRequest(signatures=pb2.VerifySignaturesRequest())
    with running_server(scheduler=SchedulerConfig(stream_window=4)) as server:
        # No BDP probing: the caller's receive window stays at its initial 64 KiB.
        with grpc.insecure_channel(server.target, [("grpc.http2.bdp_probe", 0)]) as channel:
            sent = [0]

            def requests() -> Iterator[pb2.StreamRequest]:
                for i in range(total):
                    batch.id = i
                    sent[0] += 1
                    yield batch

            answers = pb2_grpc.VerifierStub(channel).VerifyStream(requests(), timeout=120)
            seen = -1
            while len(pulled) != seen:  # until the server stops reading
                seen = len(pulled)
                time.sleep(1.0)
            print(f"\n{sent[0]} batches sent, {len(pulled)} read by the server, none of the answers read")
            assert len(pulled) < total // 2
            ids = sorted(a.id for a in answers)
            assert ids == list(range(total))
        assert server.server is not None and server.server._servicer.budget.held == 0


def test_half_open_streams_are_bounded_per_connection() -> None:
    """Two thousand streams that send headers and never a body, on one connection: the server holds at
    most --max-concurrent-streams of them, and another client's calls and streams are all answered."""
    limit = 64
    with running_server(max_concurrent_streams=limit) as server:

        def open_streams() -> float:
            return _sample(
                server, "verifier_requests_in_flight", grpc_service=_SERVICE, grpc_method="VerifyStream"
            )

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        stop = asyncio.Event()

        async def half_open() -> None:
            async with grpc.aio.insecure_channel(server.target) as ch:
                calls = [ch.stream_stream(f"/{_SERVICE}/VerifyStream")() for _ in range(2000)]
                await stop.wait()
                for call in calls:
                    call.cancel()

        attacker = asyncio.run_coroutine_threadsafe(half_open(), loop)
        try:
            _wait_for(lambda: open_streams() >= limit, what=f"{limit} half-open streams at the server")
            time.sleep(1.0)  # room for more to arrive, were they let through
            assert open_streams() == limit
            with grpc.insecure_channel(server.target) as channel:
                stub = pb2_grpc.VerifierStub(channel)
                for i in range(20):
                    assert stub.VerifySignatures(_signatures(i), timeout=10).invalid_count == 1
                answers = list(
                    stub.VerifyStream(iter([pb2.StreamRequest(id=9, signatures=_signatures(3))]), timeout=10)
                )
                assert [a.id for a in answers] == [9]
        finally:
            loop.call_soon_threadsafe(stop.set)
            attacker.result(60)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)


@pytest.mark.slow
def test_max_connection_age_ends_half_open_streams() -> None:
    """A stream held open without a body ends when its connection reaches --max-connection-age plus its
    grace (UNAVAILABLE at the caller); the server records it as ended, no longer in flight."""
    with running_server(max_connection_age_s=1.0, max_connection_age_grace_s=1.0) as server:

        async def held_open() -> grpc.StatusCode:
            async with grpc.aio.insecure_channel(server.target) as ch:
                call = ch.stream_stream(f"/{_SERVICE}/VerifyStream")()
                with pytest.raises(grpc.aio.AioRpcError):
                    await asyncio.wait_for(call.read(), 60)
                code: grpc.StatusCode = await call.code()
                return code

        assert asyncio.run(held_open()) == grpc.StatusCode.UNAVAILABLE
        _wait_for(
            lambda: (
                _sample(
                    server, "verifier_requests_in_flight", grpc_service=_SERVICE, grpc_method="VerifyStream"
                )
                == 0
            ),
            what="the stream ended at the server",
        )
        ended = {
            code: _sample(
                server,
                "verifier_requests_total",
                grpc_service=_SERVICE,
                grpc_method="VerifyStream",
                grpc_code=code,
            )
            for code in ("CANCELLED", "OK", "UNKNOWN")
        }
        assert sum(ended.values()) == 1 and ended["UNKNOWN"] == 0, (
            ended
        )  # gRPC cancels it, or ends its requests


def test_grpc_options_carry_the_transport_limits() -> None:
    options = dict(ServerConfig().grpc_options())
    assert options["grpc.max_concurrent_streams"] == 256
    assert options["grpc.http2.min_ping_interval_without_data_ms"] == 10_000
    assert options["grpc.http2.max_ping_strikes"] == 2 and options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.max_connection_idle_ms"] == 300_000
    assert (options["grpc.max_connection_age_ms"], options["grpc.max_connection_age_grace_ms"]) == (
        300_000,
        60_000,
    )
    unlimited = dict(
        ServerConfig(max_concurrent_streams=0, max_connection_age_s=0, max_connection_idle_s=0).grpc_options()
    )
    assert not {
        "grpc.max_concurrent_streams",
        "grpc.max_connection_age_ms",
        "grpc.max_connection_idle_ms",
    } & set(unlimited)
