"""Settings of ``verifier serve``: flag > VERIFIER_<FLAG> > --config file > default, one table behind
the flags, the variables, the file's keys and the README; a bad value is one line and exit code 2."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import verifier.server
from verifier import config as settings
from verifier.cli import _parser, main

_README = Path(__file__).resolve().parents[1] / "README.md"


# main() configures the root logger: each test gets it back as it was (conftest.py).
pytestmark = pytest.mark.usefixtures("logging_restored")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No VERIFIER_<setting> of the calling shell leaks into a test."""
    for s in (*settings.SERVE_SETTINGS, *settings.HEALTH_SETTINGS):
        for name in (s.env, *s.aliases):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[verifier.server.ServerConfig]:
    """``verifier.server.serve`` replaced: the configs it would have run, in order."""
    seen: list[verifier.server.ServerConfig] = []

    async def fake_serve(config: verifier.server.ServerConfig) -> None:
        seen.append(config)

    monkeypatch.setattr(verifier.server, "serve", fake_serve)
    return seen


def _one_error_line(capsys: pytest.CaptureFixture[str], *parts: str) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    for part in parts:
        assert part in lines[0], lines[0]
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("VERIFIER_PORT", "abc", "VERIFIER_PORT: 'abc' is not an integer"),
        ("VERIFIER_PORT", "70000", "VERIFIER_PORT: 70000 is out of range (0..65535)"),
        ("VERIFIER_MAX_ITEMS", "0", "VERIFIER_MAX_ITEMS: 0 is out of range (1..2^32-1)"),
        ("VERIFIER_GRACE", "nan", "VERIFIER_GRACE: 'nan' is not a finite number"),
        ("VERIFIER_LOG_FORMAT", "xml", "VERIFIER_LOG_FORMAT: 'xml' is not one of text, json"),
        ("VERIFIER_ACCESS_LOG", "maybe", "VERIFIER_ACCESS_LOG: 'maybe' is not one of"),
        ("VERIFIER_BACKEND", "gpu", "VERIFIER_BACKEND: 'gpu' is not one of auto"),
        (
            "VERIFIER_TLS_CERT",
            "/nonexistent.pem",
            "VERIFIER_TLS_CERT: '/nonexistent.pem' is not a readable file",
        ),
    ],
)
def test_a_bad_variable_is_one_line_and_exit_code_2(
    env: str,
    value: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    served: list[Any],
) -> None:
    monkeypatch.setenv(env, value)
    assert main(["serve"]) == 2
    _one_error_line(capsys, message)
    assert served == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-items", "-5"], "--max-items: -5 is out of range (1..2^32-1)"),
        (["--port", "65536"], "--port: 65536 is out of range (0..65535)"),
        (["--keepalive-permit-without-calls", "2"], "--keepalive-permit-without-calls: '2' is not one of"),
        (["--max-connection-age", "1e12"], "--max-connection-age: '1e12' is out of range"),
        (["--consensus-priority", "closed"], "--consensus-priority: 'closed' is not one of open, bulk-only"),
        (["--tls-client-ca", __file__], "--tls-client-ca needs tls-cert and tls-key"),
        (["--metrics-tls-cert", __file__], "--metrics-tls-cert is set but metrics-tls-key is not"),
        (
            ["--metrics-tls-client-ca", __file__],
            "--metrics-tls-client-ca needs metrics-tls-cert and metrics-tls-key",
        ),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_code_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], served: list[Any]
) -> None:
    assert main(["serve", *argv]) == 2
    _one_error_line(capsys, message)
    assert served == []


def test_a_bad_variable_in_a_real_process_is_one_line_not_a_traceback() -> None:
    env = {"PATH": "/usr/bin:/bin", "VERIFIER_PORT": "abc"}
    done = subprocess.run(
        [sys.executable, "-m", "verifier", "serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 2
    assert done.stderr == "verifier: VERIFIER_PORT: 'abc' is not an integer\n"


def test_another_commands_variable_does_not_stop_a_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """VERIFIER_PORT is serve's (and health's); info and verify do not read it."""
    monkeypatch.setenv("VERIFIER_PORT", "abc")
    monkeypatch.setenv("VERIFIER_MAX_ITEMS", "-1")
    monkeypatch.setenv("VERIFIER_HEALTH_TIMEOUT", "soon")
    assert main(["info", "--backend", "cpu"]) == 0
    lines = tmp_path / "in.jsonl"
    lines.write_text("{}\n")
    assert main(["verify", "ed25519", "--backend", "cpu", str(lines)]) == 0
    capsys.readouterr()
    assert main(["health"]) == 2  # health asks the server's port
    _one_error_line(capsys, "VERIFIER_HEALTH_TIMEOUT: 'soon' is not a number")


def test_every_range_is_enforced_at_both_ends() -> None:
    """Each numeric setting takes its bounds and refuses one step beyond them."""
    for s in (*settings.SERVE_SETTINGS, *settings.HEALTH_SETTINGS):
        kind = s.kind
        if not isinstance(kind, settings.Int | settings.Float):
            continue
        step = 1 if isinstance(kind, settings.Int) else 0.5
        for value, ok in (
            (kind.low, True),
            (kind.high, True),
            (kind.low - step, False),
            (kind.high + step, False),
        ):
            flags = argparse.Namespace(**{s.dest: str(value)})
            if ok:
                assert settings.resolve([s], flags, {}, None).values[s.dest] == value, s.name
            else:
                with pytest.raises(settings.SettingError, match=re.escape(f"{s.flag}: ")):
                    settings.resolve([s], flags, {}, None)


# ------------------------------------------------------------------------------------------- precedence


def test_flag_beats_environment_beats_file_beats_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[verifier.server.ServerConfig]
) -> None:
    cfg = tmp_path / "verifier.toml"
    cfg.write_text(
        'port = 6001\nmax-items = 7\nmax_inflight = 5\nlog-format = "json"\naccess_log = false\ngrace = 3\n'
    )
    monkeypatch.setenv("VERIFIER_MAX_ITEMS", "8")
    monkeypatch.setenv("VERIFIER_MAX_INFLIGHT", "6")
    assert main(["serve", "--config", str(cfg), "--max-inflight", "9"]) == 0
    got = served[-1]
    assert got.port == 6001  # file
    assert got.limits.max_items == 8  # environment over file
    assert got.scheduler.max_inflight == 9  # flag over environment
    assert (got.log_format, got.access_log, got.grace_seconds) == ("json", False, 3.0)
    assert got.metrics_port == 9464  # default
    monkeypatch.setenv("VERIFIER_CONFIG", str(cfg))  # the file named by its variable
    monkeypatch.delenv("VERIFIER_MAX_ITEMS")
    assert main(["serve", "--access-log"]) == 0
    assert served[-1].limits.max_items == 7 and served[-1].access_log is True


def test_the_new_serve_flags_reach_the_server_config(
    tmp_path: Path, served: list[verifier.server.ServerConfig]
) -> None:
    cert, key = tmp_path / "m.crt", tmp_path / "m.key"
    cert.write_text("cert")
    key.write_text("key")
    assert (
        main(
            [
                "serve",
                "--log-format",
                "json",
                "--no-access-log",
                "--reuse-port",
                "--metrics-host",
                "0.0.0.0",
                "--metrics-tls-cert",
                str(cert),
                "--metrics-tls-key",
                str(key),
                "--metrics-tls-client-ca",
                str(cert),
                "--metrics-port",
                "0",
                "--crossover-batch",
                "-1",
            ]
        )
        == 0
    )
    got = served[-1]
    assert (got.log_format, got.access_log, got.reuse_port, got.metrics_host) == (
        "json",
        False,
        True,
        "0.0.0.0",
    )
    assert (got.metrics_tls_cert, got.metrics_tls_key, got.metrics_tls_client_ca) == (
        str(cert),
        str(key),
        str(cert),
    )
    assert got.metrics_port is None and got.crossover_batch is None
    assert main(["serve", "--crossover-batch", "0"]) == 0
    defaults = verifier.server.ServerConfig()
    assert served[-1].metrics_host is None and served[-1].crossover_batch == 0
    assert (served[-1].access_log, served[-1].reuse_port) == (defaults.access_log, defaults.reuse_port)


def test_grace_seconds_is_a_deprecated_alias(
    monkeypatch: pytest.MonkeyPatch,
    served: list[verifier.server.ServerConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("VERIFIER_GRACE_SECONDS", "4")
    with caplog.at_level("WARNING"):
        assert main(["serve"]) == 0
    assert served[-1].grace_seconds == 4.0
    assert "VERIFIER_GRACE_SECONDS is deprecated: use VERIFIER_GRACE" in caplog.text
    monkeypatch.setenv("VERIFIER_GRACE", "5")
    assert main(["serve"]) == 0
    assert served[-1].grace_seconds == 5.0


# ------------------------------------------------------------------------------------------- the file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prot = 1\n", "prot: unknown setting (did you mean 'port'?)"),
        ("[limits]\nmax_items = 1\n", "limits: unknown setting"),
        ("config = 'other.toml'\n", "config: unknown setting"),
        ("port = 'abc'\n", "port: 'abc' is not an integer"),
        ("max-items = 0\n", "max-items: 0 is out of range"),
        ("port = true\n", "port: True is not an integer"),
        ("max-items = 1\nmax_items = 2\n", "max_items: given twice (also as 'max-items')"),
        ("[health]\ntimeout = 'x'\n", "health.timeout: 'x' is not a number"),
        ("[health]\nport = 1\n", "health.port: unknown setting"),
        ("port = \n", "not valid TOML"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_key(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], served: list[Any]
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert main(["serve", "--config", str(cfg)]) == 2
    _one_error_line(capsys, f"verifier: {cfg}: ", message)
    assert served == []


def test_a_missing_file_names_where_it_was_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VERIFIER_CONFIG", "/nonexistent/verifier.toml")
    assert main(["serve"]) == 2
    _one_error_line(capsys, "VERIFIER_CONFIG: '/nonexistent/verifier.toml' is not a readable file")


def test_file_names_in_the_file_are_relative_to_it(
    tmp_path: Path, served: list[verifier.server.ServerConfig]
) -> None:
    (tmp_path / "tls").mkdir()
    for name in ("server.crt", "server.key"):
        (tmp_path / "tls" / name).write_text(name)
    cfg = tmp_path / "verifier.toml"
    cfg.write_text('tls-cert = "tls/server.crt"\ntls_key = "tls/server.key"\n[health]\ntimeout = 2\n')
    assert main(["serve", "--config", str(cfg)]) == 0
    assert served[-1].tls_cert == str(tmp_path / "tls" / "server.crt")
    assert served[-1].tls_key == str(tmp_path / "tls" / "server.key")


# ------------------------------------------------------------------------------------------- startup


def test_a_port_in_use_is_one_line_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from verifier.errors import PortInUseError

    async def taken(config: verifier.server.ServerConfig) -> None:
        raise PortInUseError("gRPC port 127.0.0.1:50051 is already in use")

    monkeypatch.setattr(verifier.server, "serve", taken)
    assert main(["serve"]) == 2
    _one_error_line(capsys, "verifier: gRPC port 127.0.0.1:50051 is already in use")


def test_a_real_port_in_use_is_one_line_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process's listener on the metrics port: the server does not start, and says so once."""
    import socket

    from prometheus_client import CollectorRegistry

    real = verifier.server.serve
    monkeypatch.setattr(verifier.server, "serve", lambda config: real(config, CollectorRegistry()))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", "0", "--metrics-port", str(port), "--backend", "cpu"]) == 2
    err = capsys.readouterr().err
    mine = [line for line in err.splitlines() if line.startswith("verifier: ")]  # not the server's log lines
    assert len(mine) == 1 and "in use" in mine[0] and "Traceback" not in err, err


def test_a_server_that_cannot_start_is_one_line_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What only the server checks (here: --consensus-clients without mutual TLS) is one line too."""
    from prometheus_client import CollectorRegistry

    real = verifier.server.serve
    monkeypatch.setattr(verifier.server, "serve", lambda config: real(config, CollectorRegistry()))
    assert (
        main(
            [
                "serve",
                "--port",
                "0",
                "--metrics-port",
                "0",
                "--backend",
                "cpu",
                "--consensus-clients",
                __file__,
            ]
        )
        == 2
    )
    _one_error_line(capsys, "verifier: could not start: --consensus-clients needs mutual TLS")


def test_logging_goes_through_verifier_logs(monkeypatch: pytest.MonkeyPatch, served: list[Any]) -> None:
    from verifier import logs

    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(logs, "configure", lambda level, fmt: calls.append((level, fmt)))
    assert main(["serve", "--log-level", "DEBUG", "--log-format", "json"]) == 0
    assert main(["--log-level", "warning", "serve"]) == 0
    assert calls == [("debug", "json"), ("warning", "text")]


# ------------------------------------------------------------------------------------------- the README


def _readme_table(marker: str = "<!-- settings table") -> list[str]:
    text = _README.read_text()
    rows = text[text.index(marker) :].splitlines()[1:]
    return rows[: next(i for i, row in enumerate(rows) if not row.startswith("|"))]


def test_the_readme_tables_are_the_settings_tables() -> None:
    """The README's tables of settings are what ``markdown_table()`` renders (regenerate with
    ``python -c 'from verifier.config import markdown_table; print(*markdown_table(), sep=chr(10))'``)."""
    assert _readme_table() == settings.markdown_table()
    assert _readme_table("<!-- health settings table") == settings.markdown_table(settings.HEALTH_SETTINGS)


def test_the_settings_table_is_the_parser() -> None:
    """Every serve option is a row (flag, env, default); the parser's defaults are none (a missing flag
    leaves the variable, file or default to speak)."""
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    serve = sub.choices["serve"]
    options = {o for a in serve._actions for o in a.option_strings if o not in ("-h", "--help")}
    rows = {re.findall(r"`(--[a-z0-9-]+)`", row.split("|")[1])[0]: row for row in _readme_table()[2:]}
    flags = {s.flag for s in settings.SERVE_SETTINGS}
    negated = {
        f"--no-{s.name}"
        for s in settings.SERVE_SETTINGS
        if isinstance(s.kind, settings.Bool) and not s.kind.valued
    }
    assert options == flags | negated
    assert set(rows) == flags
    for s in settings.SERVE_SETTINGS:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", rows[s.flag])[1:-1]]
        assert cells[1].startswith(f"`{s.env}`") and s.env == "VERIFIER_" + s.name.upper().replace("-", "_")
        assert cells[2] == s.default_cell(), s.name
        assert s.kind.range == cells[3], s.name


def test_defaults_are_the_server_configs() -> None:
    """With nothing set, ``serve`` runs ServerConfig's defaults, except the crossover, which it reads
    from the benchmark's file."""
    values = settings.resolve(settings.SERVE_SETTINGS, argparse.Namespace(), {}, None).values
    config = settings.server_config(values)
    assert config == verifier.server.ServerConfig(crossover_batch=None)
