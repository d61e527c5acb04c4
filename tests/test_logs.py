"""Log lines: ``logs.configure`` (text and JSON), the access log (one line per call, a stream's when it ends,
request ids in and out, items and verdict counts, mTLS subject), client errors at WARNING once per interval,
the settings line, and JSON lines from a real server process parsed one by one."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import nacl.signing
import pytest

from tests.support.harness import RunningServer, ServeProcess, running_server
from tests.support.pki import make_pki
from verifier import logs
from verifier.interceptors import AccessLog, Tally
from verifier.server import ServerConfig
from verifier.service import tally
from verifier.v1 import verifier_pb2 as pb2
from verifier.v1 import verifier_pb2_grpc as pb2_grpc

SK = nacl.signing.SigningKey(b"\x55" * 32)
PK = bytes(SK.verify_key)
_RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_SERVICE = "/verifier.v1.Verifier/"


def _request(n: int, bad: int = 0) -> pb2.VerifySignaturesRequest:
    msgs = [b"payment %d" % i for i in range(n)]
    sigs = [SK.sign(m).signature for m in msgs]
    for i in range(bad):
        msgs[i] += b"!"
    return pb2.VerifySignaturesRequest(
        public_keys=PK * n,
        signatures=b"".join(sigs),
        messages=b"".join(msgs),
        message_lengths=[len(m) for m in msgs],
    )


@pytest.fixture
def restore_root() -> Iterator[None]:
    """The root logger as it was (configure changes its level and adds its own handler)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def _fields(record: logging.LogRecord) -> dict[str, object]:
    """The record's structured fields (the attribute ``extra={logs.FIELDS: ...}`` set)."""
    fields = getattr(record, logs.FIELDS)
    assert isinstance(fields, dict)
    return fields


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def calls(self, method: str) -> list[dict[str, object]]:
        return [
            _fields(r)
            for r in self.records
            if r.name == "verifier.access" and _fields(r).get("method") == _SERVICE + method
        ]

    def warnings(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == logging.WARNING]


@pytest.fixture
def records() -> Iterator[_Records]:
    """Every record of verifier.access and verifier.service, INFO and up, whatever the root's level."""
    handler = _Records()
    loggers = [logging.getLogger(name) for name in ("verifier.access", "verifier.service")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


# ------------------------------------------------------------------------------------------ configure


def test_json_lines_have_time_level_logger_message_and_fields(restore_root: None) -> None:
    out = io.StringIO()
    logs.configure("debug", "json", stream=out)
    log = logging.getLogger("verifier.test")
    log.debug("plain %s", "line")
    log.info(
        "call", extra={logs.FIELDS: {"method": "/a/B", "items": 3, "peer": 'ipv4:"x"', "level": "forged"}}
    )
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3, out.getvalue()  # one object per line, the traceback inside its line
    for line in lines:
        assert _RFC3339_UTC.match(line["time"]), line["time"]
        assert list(line)[:4] == ["time", "level", "logger", "message"] and line["logger"] == "verifier.test"
    assert lines[0]["level"] == "DEBUG" and lines[0]["message"] == "plain line"
    assert (
        lines[1]["level"] == "INFO" and lines[1]["items"] == 3 and lines[1]["peer"] == 'ipv4:"x"'
    )  # a field never replaces the four first keys
    assert (
        lines[2]["level"] == "ERROR"
        and "Traceback" in lines[2]["exception"]
        and "ValueError: boom" in lines[2]["exception"]
    )


def test_text_lines_append_fields_and_configure_replaces_only_its_own_handler(restore_root: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    other = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(other)  # someone else's (a test's capture): left in place
    logs.configure("INFO", "text", stream=first)
    logs.configure("WARNING", "text", stream=second)
    log = logging.getLogger("verifier.test")
    log.info("not at WARNING")
    log.warning("call", extra={logs.FIELDS: {"code": "OK", "details": "two words", "items": None}})
    assert first.getvalue() == ""
    line = second.getvalue().rstrip("\n")
    assert re.fullmatch(
        r"\S+Z WARNING verifier\.test: call code=OK details=\"two words\" items=null", line
    ), line
    assert other in logging.getLogger().handlers
    assert sum(isinstance(h, logs._Handler) for h in logging.getLogger().handlers) == 1
    logging.getLogger().removeHandler(other)


@pytest.mark.parametrize(
    ("level", "fmt", "match"), [("loud", "text", "log level"), ("INFO", "xml", "log format")]
)
def test_bad_level_or_format_is_a_value_error_naming_it(
    level: str, fmt: str, match: str, restore_root: None
) -> None:
    before = list(logging.getLogger().handlers)
    with pytest.raises(ValueError, match=match):
        logs.configure(level, fmt)
    assert logging.getLogger().handlers == before


# ------------------------------------------------------------------------------------------ the access log


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as s:
        yield s


@pytest.fixture(scope="module")
def stub(server: RunningServer) -> Iterator[pb2_grpc.VerifierStub]:
    with grpc.insecure_channel(server.target) as channel:
        yield pb2_grpc.VerifierStub(channel)


def _trailing(call: grpc.Call) -> dict[str, str]:
    return {k: v for k, v in call.trailing_metadata() or ()}


def test_a_unary_call_is_one_line_with_its_request_id_items_and_verdicts(
    stub: pb2_grpc.VerifierStub, records: _Records
) -> None:
    response, call = stub.VerifySignatures.with_call(
        _request(5, bad=2), metadata=[("x-request-id", "req-42")], timeout=30
    )
    assert _trailing(call)["x-request-id"] == "req-42"  # the caller's id comes back
    (line,) = records.calls("VerifySignatures")
    assert line["request_id"] == "req-42" and line["code"] == "OK"
    assert (
        (line["items"], line["valid"], line["invalid"])
        == (5, 3, 2)
        == (len(response.verdicts), 3, response.invalid_count)
    )
    assert str(line["peer"]).startswith("ipv4:127.0.0.1:") and "subject" not in line  # no client certificate
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    _, call = stub.GetInfo.with_call(pb2.GetInfoRequest(), timeout=10)
    (info,) = records.calls("GetInfo")
    assert (
        re.fullmatch(r"[0-9a-f]{16}", str(info["request_id"]))
        and _trailing(call)["x-request-id"] == info["request_id"]
    )
    assert "items" not in info  # not known for GetInfo: left out


def test_a_stream_is_one_line_when_it_ends_with_its_message_counts(
    stub: pb2_grpc.VerifierStub, records: _Records
) -> None:
    batches = [
        pb2.StreamRequest(id=1, signatures=_request(3, bad=1)),
        pb2.StreamRequest(id=2, signatures=_request(2)),
        pb2.StreamRequest(id=3, signatures=pb2.VerifySignaturesRequest(public_keys=b"x")),
    ]
    answers = list(stub.VerifyStream(iter(batches), metadata=[("x-request-id", "stream-7")], timeout=30))
    assert len(answers) == 3
    (line,) = records.calls("VerifyStream")
    assert line["request_id"] == "stream-7" and line["code"] == "OK"
    assert (line["messages_received"], line["messages_sent"], line["messages_failed"]) == (3, 3, 1)
    assert (line["items"], line["valid"], line["invalid"]) == (5, 4, 1)
    # The failed batch is a client error of its own.
    assert any("VerifyStream INVALID_ARGUMENT" in w.getMessage() for w in records.warnings())


def test_client_errors_are_warnings_once_per_interval(stub: pb2_grpc.VerifierStub, records: _Records) -> None:
    bad = pb2.VerifySignaturesRequest(public_keys=PK, message_lengths=[0, 0])
    for i in range(15):
        with pytest.raises(grpc.RpcError) as info:
            stub.VerifySignatures(bad, metadata=[("x-request-id", f"bad-{i}")], timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert _trailing(info.value)["x-request-id"] == f"bad-{i}"
    lines = records.calls("VerifySignatures")
    assert len(lines) == 15 and all(x["code"] == "INVALID_ARGUMENT" for x in lines)
    assert "public_keys holds 32 bytes" in str(lines[0]["details"])
    warned = [w for w in records.warnings() if "VerifySignatures INVALID_ARGUMENT" in w.getMessage()]
    assert len(warned) == 1  # one per method and code per 10 s
    for w in warned:
        assert w.name == "verifier.service" and "public_keys holds 32 bytes" in w.getMessage()
        assert w.fields["request_id"] == "bad-0" and w.exc_info is None  # type: ignore[attr-defined]


def test_a_held_back_warning_is_counted_in_the_next_line(records: _Records) -> None:
    access = AccessLog(interval=0.2)
    fields = {"method": "/x/Y", "request_id": "r"}
    for _ in range(4):
        access.client_error(fields, "NOT_FOUND", "no such set")
    time.sleep(0.25)
    access.client_error(fields, "NOT_FOUND", "no such set")
    lines = records.warnings()
    assert [w.fields["held_back"] for w in lines] == [0, 3]  # type: ignore[attr-defined]
    assert lines[1].getMessage().endswith("(3 more like it in the last 0.2 s not logged)")


def test_every_service_is_logged_and_unknown_methods_too(server: RunningServer, records: _Records) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(server.target) as channel:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        with pytest.raises(grpc.RpcError) as info:
            channel.unary_unary("/verifier.v1.Verifier/NoSuchMethod")(b"", timeout=10)
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    methods = [r.fields["method"] for r in records.records if r.name == "verifier.access"]  # type: ignore[attr-defined]
    assert methods == ["/grpc.health.v1.Health/Check", "/verifier.v1.Verifier/NoSuchMethod"]


def test_access_log_off_keeps_the_client_error_warnings(records: _Records) -> None:
    with running_server(access_log=False) as server, grpc.insecure_channel(server.target) as channel:
        stub = pb2_grpc.VerifierStub(channel)
        stub.VerifySignatures(_request(2), timeout=30)
        with pytest.raises(grpc.RpcError):
            stub.VerifySignatures(pb2.VerifySignaturesRequest(public_keys=b"x"), timeout=10)
    assert not [r for r in records.records if r.name == "verifier.access"]
    assert [w for w in records.warnings() if "VerifySignatures INVALID_ARGUMENT" in w.getMessage()]


def test_mutual_tls_subject_is_logged(tmp_path: Path, records: _Records) -> None:
    pki = make_pki(tmp_path)
    with running_server(
        tls_cert=pki["server_crt"], tls_key=pki["server_key"], tls_client_ca=pki["ca_crt"]
    ) as server:
        creds = grpc.ssl_channel_credentials(
            Path(pki["ca_crt"]).read_bytes(),
            Path(pki["client_key"]).read_bytes(),
            Path(pki["client_crt"]).read_bytes(),
        )
        with grpc.secure_channel(server.target, creds) as channel:
            pb2_grpc.VerifierStub(channel).VerifySignatures(_request(1), timeout=30)
    (line,) = records.calls("VerifySignatures")
    assert line["subject"] == "CN=client"


def test_tally_reads_every_answer_of_the_service() -> None:
    """What the access log says of each answer: items and verdict counts (a commit's entries never checked
    are neither valid nor invalid), a set's validators, a stream batch's error; nothing for others."""
    sigs = pb2.VerifySignaturesResponse(verdicts=bytes([1, 8, 1]), valid_count=2, invalid_count=1)
    assert tally(sigs) == Tally(3, 2, 1)
    assert tally(pb2.VerifyCommitResponse(verdicts=bytes([1, 1, 0xFF, 8]))) == Tally(4, 2, 1)
    assert tally(pb2.RegisterValidatorSetResponse(validators=7)) == Tally(7)
    assert tally(pb2.StreamResponse(id=1, signatures=sigs)) == Tally(3, 2, 1)
    failed = pb2.StreamResponse(id=2, error=pb2.StreamError(code=8, message="queue full"))
    assert tally(failed) == Tally(error=("RESOURCE_EXHAUSTED", "queue full"))
    assert tally(pb2.GetInfoResponse()) is None and tally(pb2.StreamResponse(id=3)) is None


# ------------------------------------------------------------------------------------------ a real process

_JSON_SERVER = """
import asyncio
from verifier import logs
from verifier.server import ServerConfig, serve
logs.configure("INFO", "json")
asyncio.run(serve(ServerConfig(port=0, metrics_port=0, backend="cpu", log_format="json")))
"""


def test_a_server_process_writes_only_json_lines_with_its_settings_and_calls() -> None:
    process = ServeProcess([sys.executable, "-c", _JSON_SERVER])
    try:
        process.wait_ready()
        with grpc.insecure_channel(process.target) as channel:
            pb2_grpc.VerifierStub(channel).VerifySignatures(
                _request(4, bad=1), metadata=[("x-request-id", "p-1")], timeout=30
            )
        process.wait_for('"logger": "verifier.access"')
        process.terminate()
        assert process.wait_exit(60) == 0
    finally:
        process.close()
    lines = [json.loads(line) for line in process.lines]  # every line is one JSON object
    assert all(_RFC3339_UTC.match(x["time"]) and x["level"] and x["logger"] for x in lines)
    (settings,) = [x for x in lines if x["message"] == "settings"]
    assert set(ServerConfig().settings()) - {"crossover_batch"} <= set(settings)  # every setting, flattened
    assert (
        settings["port"] == process.port and settings["backend"] == "cpu" and settings["log_format"] == "json"
    )
    assert settings["scheduler.max_batch_items"] > 0 and "crossover_batch.ed25519.libsodium" in settings
    (call,) = [x for x in lines if x["logger"] == "verifier.access"]
    assert call["method"] == _SERVICE + "VerifySignatures" and call["request_id"] == "p-1"
    assert (call["items"], call["valid"], call["invalid"], call["code"]) == (4, 3, 1, "OK")
    messages = [x["message"] for x in lines]
    assert messages.index("settings") < next(i for i, m in enumerate(messages) if " serving " in m)
    assert messages[-1].startswith("verifier stopped")
