"""The command line: JSON lines in, one JSON line out per input line, in order; never stops on bad input."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from tests.support.harness import running_server
from verifier.cli import main

SK = nacl.signing.SigningKey(b"\x22" * 32)
PK = bytes(SK.verify_key)


# main() configures the root logger: each test gets it back as it was (conftest.py).
pytestmark = pytest.mark.usefixtures("logging_restored")


def _sig_line(msg: bytes, **override: object) -> str:
    obj: dict[str, object] = {
        "public_key": PK.hex(),
        "signature": SK.sign(msg).signature.hex(),
        "message": msg.hex(),
    }
    obj.update(override)
    return json.dumps(obj)


ED25519_INPUT = [
    _sig_line(b"transfer 1"),
    "{not json",
    _sig_line(b"transfer 2", signature="zz" * 64),
    _sig_line(b"transfer 3", public_key=PK.hex()[:-2]),
    json.dumps({"public_key": PK.hex(), "message": ""}),
    "",
    "[1, 2]",
    _sig_line(b"transfer 4", message=b"transfer 5".hex(), id="tx-4"),
    _sig_line(b""),
]
ED25519_WANT = [
    ("OK", None),
    ("MALFORMED_LENGTH", "not valid JSON"),
    ("MALFORMED_LENGTH", "signature: not valid hex"),
    ("MALFORMED_LENGTH", "public_key: 31 bytes, expected 32"),
    ("MALFORMED_LENGTH", "signature: missing"),
    ("MALFORMED_LENGTH", "empty line"),
    ("MALFORMED_LENGTH", "not a JSON object"),
    ("EQUATION_FAILED", None),
    ("OK", None),
]


def _check(out: str, want: list[tuple[str, str | None]]) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in lines] == list(range(1, len(want) + 1))
    for record, (verdict, error) in zip(lines, want, strict=True):
        assert record["verdict"] == verdict, record
        assert record["valid"] is (verdict == "OK"), record
        if error:
            assert error in str(record["error"]), record
    return lines


def test_verify_ed25519_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(ED25519_INPUT) + "\n")
    assert main(["verify", "ed25519", "--backend", "cpu", "--batch-size", "3", str(path)]) == 0
    lines = _check(capsys.readouterr().out, ED25519_WANT)
    assert lines[7]["id"] == "tx-4"


def _merkle_lines() -> tuple[list[str], list[tuple[str, str | None]]]:
    leaves = [b"a", b"b", b"c"]
    lh = [hashlib.sha256(b"\x00" + x).digest() for x in leaves]
    n01 = hashlib.sha256(b"\x01" + lh[0] + lh[1]).digest()
    root = hashlib.sha256(b"\x01" + n01 + lh[2]).digest().hex()
    lines = [
        json.dumps(
            {
                "leaf": b"a".hex(),
                "leaf_index": 0,
                "tree_size": 3,
                "path": [lh[1].hex(), lh[2].hex()],
                "root": root,
            }
        ),
        json.dumps(
            {"leaf_hash": lh[2].hex(), "leaf_index": 2, "tree_size": 3, "path": [n01.hex()], "root": root}
        ),
        json.dumps(
            {
                "leaf_hash": lh[2].hex(),
                "leaf_index": 2,
                "tree_size": 3,
                "path": [n01.hex()],
                "root": "00" * 32,
            }
        ),
        json.dumps(
            {"leaf_hash": lh[2].hex(), "leaf_index": 3, "tree_size": 3, "path": [n01.hex()], "root": root}
        ),
        json.dumps(
            {
                "leaf_hash": lh[2].hex()[:-2],
                "leaf_index": 2,
                "tree_size": 3,
                "path": [n01.hex()],
                "root": root,
            }
        ),
        json.dumps({"leaf_hash": lh[2].hex(), "leaf_index": -1, "tree_size": 3, "path": [], "root": root}),
        json.dumps(
            {
                "leaf_hash": lh[2].hex(),
                "leaf": "00",
                "leaf_index": 0,
                "tree_size": 3,
                "path": [],
                "root": root,
            }
        ),
        json.dumps({"leaf_hash": lh[2].hex(), "leaf_index": 2, "tree_size": 3, "path": "nope", "root": root}),
    ]
    want: list[tuple[str, str | None]] = [
        ("OK", None),
        ("OK", None),
        ("ROOT_MISMATCH", None),
        ("MALFORMED_PROOF", None),
        ("MALFORMED_PROOF", "leaf_hash: 31 bytes, expected 32"),
        ("MALFORMED_PROOF", "leaf_index"),
        ("MALFORMED_PROOF", "exactly one of leaf_hash and leaf"),
        ("MALFORMED_PROOF", "path: missing or not a list"),
    ]
    return lines, want


def test_verify_ed25519_policy_zip215(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--policy zip215 (the CPU backend's host-kernel path): the self-test's cases, each with the verdict
    docs/RULES.md section 2 gives, where libsodium says otherwise for some."""
    from verifier import _selftest_vectors as kat

    cases = kat.ED25519_CASES
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {"public_key": c.public_key.hex(), "signature": c.signature.hex(), "message": c.message.hex()}
            )
            + "\n"
            for c in cases
        )
    )
    for policy in ("zip215", "libsodium"):
        assert main(["verify", "ed25519", "--backend", "cpu", "--policy", policy, str(path)]) == 0
        got = [json.loads(line)["verdict"] for line in capsys.readouterr().out.splitlines()]
        assert got == [c.zip215 if policy == "zip215" else c.libsodium for c in cases]
    assert any(c.zip215 != c.libsodium for c in cases)


def test_verify_merkle_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    lines, want = _merkle_lines()
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["verify", "merkle", "--backend", "cpu", "-"]) == 0
    _check(capsys.readouterr().out, want)


def test_verify_against_a_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(ED25519_INPUT) + "\n")
    with running_server() as server:
        assert main(["verify", "ed25519", "--target", server.target, str(path)]) == 0
        _check(capsys.readouterr().out, ED25519_WANT)
        assert main(["info", "--target", server.target]) == 0
        info = json.loads(capsys.readouterr().out)
        assert info["backend"] == "cpu"
        assert info["policies"] == ["fabric", "lax", "libsecp256k1", "libsodium", "openssl", "zip215"]
        assert [s["name"] for s in info["schemes"]] == ["ed25519", "merkle", "ecdsa-secp256k1", "ecdsa-p256"]
        assert (
            info["schemes"][2]["policies"] == ["libsecp256k1", "lax"] and not info["schemes"][2]["on_device"]
        )


def test_info_local(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--backend", "cpu"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "cpu" and info["devices"][0]["kind"] == "cpu"
    assert info["limits"]["max_items"] > 0


def test_missing_file_is_an_error_not_a_crash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "ed25519", "--backend", "cpu", "/nonexistent/file.jsonl"]) == 1
    assert "No such file" in capsys.readouterr().err


def test_serve_process_logs_once_and_stops_on_sigterm() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "verifier", "serve", "--port", "0", "--metrics-port", "0", "--backend", "cpu"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "serving" in line or not line:
                break
        match = re.search(r"on 127\.0\.0\.1:(\d+) with backend cpu", line)
        assert match, f"no listening line, got {line!r}"
        from verifier.client import Client

        with Client(f"127.0.0.1:{match[1]}") as client:
            assert client.verify_ed25519([PK], [SK.sign(b"m").signature], [b"m"]).all_valid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        rest = proc.stderr.read()
        assert "verifier stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_flags_and_environment_reach_the_server_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hostile-load flags (and their VERIFIER_<NAME> variables) land in ServerConfig; the defaults are
    ServerConfig's own."""
    import verifier.server

    seen: list[verifier.server.ServerConfig] = []

    async def fake_serve(config: verifier.server.ServerConfig) -> None:
        seen.append(config)

    monkeypatch.setattr(verifier.server, "serve", fake_serve)
    assert main(["serve"]) == 0
    defaults = verifier.server.ServerConfig()
    for name in (
        "max_commit_bytes",
        "max_inflight_bytes",
        "max_concurrent_streams",
        "max_concurrent_rpcs",
        "keepalive_min_interval_s",
        "keepalive_max_ping_strikes",
        "keepalive_permit_without_calls",
        "max_connection_idle_s",
        "max_connection_age_s",
        "max_connection_age_grace_s",
        "consensus_clients",
        "consensus_priority",
    ):
        assert getattr(seen[0], name) == getattr(defaults, name), name
    monkeypatch.setenv("VERIFIER_MAX_COMMIT_BYTES", "1000")
    monkeypatch.setenv("VERIFIER_CONSENSUS_PRIORITY", "bulk-only")
    assert (
        main(
            [
                "serve",
                "--max-inflight-bytes",
                "5000",
                "--max-concurrent-streams",
                "8",
                "--max-connection-age",
                "90",
                "--keepalive-permit-without-calls",
                "0",
                "--consensus-clients",
                "clients.txt",
            ]
        )
        == 0
    )
    config = seen[1]
    assert (config.max_commit_bytes, config.max_inflight_bytes, config.max_concurrent_streams) == (
        1000,
        5000,
        8,
    )
    assert config.max_connection_age_s == 90.0 and config.keepalive_permit_without_calls is False
    assert config.consensus_priority == "bulk-only" and config.consensus_clients == "clients.txt"


def test_scheduler_flags_reach_the_scheduler_config(monkeypatch: pytest.MonkeyPatch) -> None:
    import verifier.server
    from verifier.scheduler import SchedulerConfig

    seen: list[verifier.server.ServerConfig] = []

    async def fake_serve(config: verifier.server.ServerConfig) -> None:
        seen.append(config)

    monkeypatch.setattr(verifier.server, "serve", fake_serve)
    assert main(["serve"]) == 0
    assert seen[0].scheduler == SchedulerConfig()
    monkeypatch.setenv("VERIFIER_CONSENSUS_SLOTS", "3")
    assert main(["serve", "--max-inflight", "4", "--unit-target-ms", "20", "--max-batch-items", "512"]) == 0
    knobs = seen[1].scheduler
    assert (knobs.max_inflight, knobs.consensus_slots, knobs.unit_target_ms, knobs.max_batch_items) == (
        4,
        3,
        20,
        512,
    )


def test_a_line_error_says_what_is_wrong_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lengths, hex and JSON errors name the field and the column in the line (json's own "... at"
    messages are not doubled)."""
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(
            [
                _sig_line(b"m", signature="00" * 63),
                '{"public_key": "\x01"}',
                '{"public_key": "00",',
                json.dumps(
                    {
                        "leaf_hash": "00" * 32,
                        "leaf_index": 0,
                        "tree_size": 1,
                        "path": ["00" * 33],
                        "root": "00" * 32,
                    }
                ),
            ]
        )
        + "\n"
    )
    assert main(["verify", "ed25519", "--backend", "cpu", str(path)]) == 0
    errors = [json.loads(line).get("error") for line in capsys.readouterr().out.splitlines()]
    assert errors[:3] == [
        "signature: 63 bytes, expected 64",
        "not valid JSON: Invalid control character at column 17",
        "not valid JSON: Expecting property name enclosed in double quotes at column 21",
    ]
    assert main(["verify", "merkle", "--backend", "cpu", str(path)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[3])["error"] == "path[0]: 33 bytes, expected 32"


def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path: Path) -> None:
    """``verifier verify ... | head``: no "Broken pipe", no traceback, exit code 0."""
    path = tmp_path / "in.jsonl"
    path.write_text("{}\n" * 50_000)  # far more output than a pipe holds
    proc = subprocess.Popen(
        [sys.executable, "-m", "verifier", "verify", "ed25519", "--backend", "cpu", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["line"] == 1
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0
    assert "Broken pipe" not in err and "Traceback" not in err and "Exception ignored" not in err, err


def _shape(value: object) -> object:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_info_is_one_shape_from_a_server_and_from_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    """Every GetInfoResponse field, numbers as numbers, zeros included; a server with default settings
    reports what local ``info`` says it would."""
    from verifier.v1 import verifier_pb2 as pb2

    with running_server() as server:
        assert main(["info", "--target", server.target]) == 0
        remote = json.loads(capsys.readouterr().out)
    assert main(["info", "--backend", "cpu"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert _shape(local) == _shape(remote)

    def fields(descriptor: Any) -> object:
        return {f.name: fields(f.message_type) if f.message_type else None for f in descriptor.fields}

    def keys(value: object) -> object:
        if isinstance(value, list):
            return keys(value[0])
        return {k: keys(v) for k, v in value.items()} if isinstance(value, dict) else None

    assert keys(remote) == fields(pb2.GetInfoResponse.DESCRIPTOR)
    assert (
        isinstance(remote["limits"]["max_message_bytes"], int) and remote["validator_sets"]["registered"] == 0
    )
    assert remote["scheduling"]["crossover_batch"] == 0
    assert local == remote


def test_bench_writes_into_bench_out_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trial ``verifier bench`` leaves benchmarks/results (and the crossover ``serve`` reads) alone."""
    from verifier.bench import default_crossover_path

    monkeypatch.delenv("VERIFIER_CROSSOVER_FILE", raising=False)
    results = default_crossover_path().parent
    before = sorted(p.name for p in results.iterdir())
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "bench",
                "--kinds",
                "merkle",
                "--backends",
                "cpu",
                "--scopes",
                "engine",
                "--batches",
                "1",
                "--depths",
                "8",
                "--threads",
                "1",
                "--repeats",
                "1",
                "--warmup",
                "0",
                "--min-time",
                "0",
                "--no-plots",
                "--no-progress",
            ]
        )
        == 0
    )
    out = tmp_path / "bench-out"
    assert (
        (out / "crossover.json").is_file() and list(out.glob("suite-*.json")) and list(out.glob("suite-*.md"))
    )
    assert f"wrote bench-out{os.sep}crossover.json" in capsys.readouterr().out
    assert sorted(p.name for p in results.iterdir()) == before


# ------------------------------------------------------------------------------------------- health


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from tests.support.pki import make_pki

    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def server_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets the VERIFIER_* variables a server runs with, as a container would for both commands."""
    for name in list(os.environ):
        if name.startswith("VERIFIER_") and name not in ("VERIFIER_KERNELS_DIR", "VERIFIER_CACHE_DIR"):
            monkeypatch.delenv(name)

    def put(**env: object) -> None:
        for key, value in env.items():
            monkeypatch.setenv(f"VERIFIER_{key.upper()}", str(value))

    return put


_SERVER_LOG = re.compile(r"\S+ [A-Z]+ verifier\.[a-z.]+: ")  # the in-process server's log lines (logs.py)


def _health(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["health", *argv])
    got = capsys.readouterr()
    out, err = (
        "\n".join(line for line in text.splitlines() if not _SERVER_LOG.match(line))
        for text in (got.out, got.err)
    )
    assert len((out + "\n" + err).strip().splitlines()) == 1, got
    return code, out.strip(), err.strip()


def test_health_plaintext_from_the_servers_settings(
    server_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_server() as server:
        port = server.server.port  # type: ignore[union-attr]
        server_env(host="0.0.0.0", port=port)  # a wildcard host is asked on loopback
        assert _health(capsys) == (0, f"verifier health: 127.0.0.1:{port} verifier.v1.Verifier: SERVING", "")
        assert _health(capsys, "--service", "")[0] == 0
        code, _, err = _health(capsys, "--service", "other.Service")
        assert code == 1 and "NOT_FOUND" in err
        cfg = tmp_path / "verifier.toml"
        cfg.write_text(f"port = {port}\n[health]\ntimeout = 10\n")
        server_env(port="abc")  # a bad variable is health's concern too
        assert main(["health"]) == 2
        assert "VERIFIER_PORT: 'abc' is not an integer" in capsys.readouterr().err
        os.environ.pop("VERIFIER_PORT")
        assert _health(capsys, "--config", str(cfg))[0] == 0  # the port from the server's file
        assert _health(capsys, "--target", server.target)[0] == 0
    code, _, err = _health(capsys, "--target", f"127.0.0.1:{port}", "--timeout", "2")
    assert code == 1 and err.startswith(
        f"verifier health: 127.0.0.1:{port} verifier.v1.Verifier: UNAVAILABLE"
    )
    server_env(port=0)
    assert main(["health"]) == 2
    assert "port 0 is picked at startup; give --target" in capsys.readouterr().err


def test_health_over_tls_and_mutual_tls(
    pki: dict[str, str], server_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_server(tls_cert=pki["server_crt"], tls_key=pki["server_key"]) as server:
        server_env(port=server.server.port, tls_cert=pki["server_crt"], tls_key=pki["server_key"])  # type: ignore[union-attr]
        assert _health(capsys)[0] == 0  # trusts the server's own certificate
        assert _health(capsys, "--tls-ca", pki["ca_crt"])[0] == 0
        code, _, err = _health(capsys, "--tls-ca", pki["other_ca_crt"])
        assert code == 1 and "UNAVAILABLE" in err
        assert _health(capsys, "--tls-ca", pki["ca_crt"], "--tls-server-name", "localhost")[0] == 0
        code, _, err = _health(capsys, "--tls-server-name", "elsewhere.example")
        assert code == 1 and "UNAVAILABLE" in err
    mutual = dict(tls_cert=pki["server_crt"], tls_key=pki["server_key"], tls_client_ca=pki["ca_crt"])
    with running_server(**mutual) as server:
        server_env(port=server.server.port, **mutual)  # type: ignore[union-attr]
        assert _health(capsys)[0] == 0  # the server's own pair, which the client CA signed
        assert _health(capsys, "--tls-cert", pki["client_crt"], "--tls-key", pki["client_key"])[0] == 0
        server_env(health_tls_cert=pki["selfsigned_crt"], health_tls_key=pki["selfsigned_key"])
        code, _, err = _health(capsys)
        assert code == 1 and "UNAVAILABLE" in err  # a client certificate the CA did not sign
        assert (
            _health(capsys, "--tls-cert", pki["client_crt"], "--tls-key", pki["client_key"])[0] == 0
        )  # flags win
        os.environ.pop("VERIFIER_HEALTH_TLS_KEY")
        assert main(["health", "--tls-cert", pki["client_crt"]]) == 2
        assert "--tls-cert is set but tls-key is not" in capsys.readouterr().err


def test_health_in_a_process_prints_one_line(pki: dict[str, str]) -> None:
    """gRPC core's own handshake log does not reach stderr beside health's line."""
    with running_server(tls_cert=pki["server_crt"], tls_key=pki["server_key"]) as server:
        env = dict(os.environ, VERIFIER_PORT=str(server.server.port), VERIFIER_TLS_CERT=pki["server_crt"])  # type: ignore[union-attr]
        done = subprocess.run(
            [sys.executable, "-m", "verifier", "health", "--tls-ca", pki["other_ca_crt"]],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            cwd=Path(__file__).resolve().parents[1],
        )
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "UNAVAILABLE" in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("host", "target"),
    [
        ("0.0.0.0", "127.0.0.1:7"),
        ("::", "[::1]:7"),
        ("[::]", "[::1]:7"),
        ("::1", "[::1]:7"),
        ("verifier.internal", "verifier.internal:7"),
        ("10.0.0.5", "10.0.0.5:7"),
    ],
)
def test_health_asks_a_wildcard_host_on_loopback(host: str, target: str) -> None:
    from verifier.cli import _health_target

    args = argparse.Namespace(health_target="", host=host, port=7, setting_sources={})
    assert _health_target(args) == target
