"""Settings of ``verifier serve`` and ``verifier health``, declared once.

Each ``Setting`` names a flag (``--max-items``); from it come the environment variable
(``VERIFIER_MAX_ITEMS``: the name upper-cased, dashes to underscores), the key of a ``--config`` TOML
file (``max-items`` or ``max_items``), the help text, the README's table and, through ``field``, the
``ServerConfig`` attribute it sets (whose default is the setting's default). A value is taken from the
first of: the flag, the environment, the config file, the default. A bad value from any of them is a
``SettingError`` naming the setting and where it came from (``VERIFIER_PORT: 'abc' is not an integer``);
only the settings a command uses are read, so a bad variable of one command never stops another.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import math
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from verifier.backends import BACKEND_NAMES
from verifier.ints import INT64_MAX

__all__ = [
    "COMMON_SETTINGS",
    "HEALTH_SETTINGS",
    "SERVE_SETTINGS",
    "ConfigFile",
    "Resolved",
    "Setting",
    "SettingError",
    "add_flags",
    "check_serve",
    "load_config_file",
    "markdown_table",
    "resolve",
    "server_config",
]

_ENV_PREFIX = "VERIFIER_"
_INT32_MAX = 2**31 - 1
_UINT32_MAX = 2**32 - 1
# gRPC takes durations as int32 milliseconds.
_MAX_SECONDS = _INT32_MAX // 1000
_SHOWN = 40  # characters of a bad value echoed in a message


class SettingError(ValueError):
    """A setting's value is unusable; the message names the setting and its source, on one line."""


class _Invalid(ValueError):
    """A value's problem, before the source is known."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 4] + "...'"


def _bound(n: int) -> str:
    for bits in (31, 32, 63, 64):
        if n == 2**bits - 1:
            return f"2^{bits}-1"
    return str(n)


@dataclasses.dataclass(frozen=True)
class Int:
    low: int
    high: int = INT64_MAX

    def parse(self, value: object) -> int:
        if isinstance(value, str):
            try:
                n = int(value.strip(), 10)
            except ValueError:
                raise _Invalid(f"{_show(value)} is not an integer") from None
        elif isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            raise _Invalid(f"{_show(value)} is not an integer")
        if not self.low <= n <= self.high:
            raise _Invalid(f"{_show(n)} is out of range ({self.range})")
        return n

    @property
    def range(self) -> str:
        return f">= {self.low}" if self.high == INT64_MAX else f"{self.low}..{_bound(self.high)}"

    def show(self, value: Any) -> str:
        return str(value)


@dataclasses.dataclass(frozen=True)
class Float:
    low: float
    high: float

    def parse(self, value: object) -> float:
        if isinstance(value, str):
            try:
                x = float(value.strip())
            except ValueError:
                raise _Invalid(f"{_show(value)} is not a number") from None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            x = float(value)
        else:
            raise _Invalid(f"{_show(value)} is not a number")
        if not math.isfinite(x):
            raise _Invalid(f"{_show(value)} is not a finite number")
        if not self.low <= x <= self.high:
            raise _Invalid(f"{_show(value)} is out of range ({self.range})")
        return x

    @property
    def range(self) -> str:
        return f"{self.show(self.low)}..{self.show(self.high)}"

    def show(self, value: Any) -> str:
        return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclasses.dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]

    def parse(self, value: object) -> str:
        if isinstance(value, str) and value.strip().lower() in self.options:
            return value.strip().lower()
        raise _Invalid(f"{_show(value)} is not one of {', '.join(self.options)}")

    @property
    def range(self) -> str:
        return " \\| ".join(self.options)

    def show(self, value: Any) -> str:
        return str(value)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclasses.dataclass(frozen=True)
class Bool:
    """On or off. ``valued``: the flag takes 0 or 1 (``--keepalive-permit-without-calls 0``); otherwise
    it is a pair ``--access-log`` / ``--no-access-log``. Variables and files say 1/0, true/false, yes/no,
    on/off."""

    valued: bool = False

    def parse(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise _Invalid(f"{_show(value)} is not one of {', '.join(_TRUE)} or {', '.join(_FALSE)}")

    @property
    def range(self) -> str:
        return "0 \\| 1" if self.valued else "on \\| off"

    def show(self, value: Any) -> str:
        return str(int(value)) if self.valued else ("on" if value else "off")


@dataclasses.dataclass(frozen=True)
class Text:
    """A string; ``path``: a file name (the empty string stands for none), which must be readable
    when ``check`` (otherwise the server reads it and says what is wrong)."""

    path: bool = False
    empty: bool = True
    check: bool = True

    def parse(self, value: object) -> str:
        if not isinstance(value, str):
            raise _Invalid(f"{_show(value)} is not a string")
        if not value and not self.empty:
            raise _Invalid("must not be empty")
        if self.path and self.check and value and not (os.path.isfile(value) and os.access(value, os.R_OK)):
            raise _Invalid(f"{_show(value)} is not a readable file")
        return value

    @property
    def range(self) -> str:
        return "file" if self.path else ("" if self.empty else "non-empty")

    def show(self, value: Any) -> str:
        return str(value)


_FROM_FIELD = object()


@dataclasses.dataclass(frozen=True)
class Devices:
    """``all``, a count N >= 1, or a comma-separated list of device indices (``verifier serve --devices``)."""

    def parse(self, value: object) -> str:
        text = (
            str(value).strip().lower()
            if isinstance(value, (str, int)) and not isinstance(value, bool)
            else ""
        )
        if text == "" and value == "":
            return ""
        if text == "all":
            return text
        parts = [p.strip() for p in text.split(",")]
        if not parts or not all(p.isdigit() for p in parts):
            raise _Invalid(f"{_show(value)} is not all, a count or a list of device indices like 0,2")
        if len(parts) == 1 and not parts[0].startswith("0") and int(parts[0]) < 1:
            raise _Invalid("a count of devices is at least 1")
        return ",".join(parts)

    @property
    def range(self) -> str:
        return "all, N or i,j,..."

    def show(self, value: Any) -> str:
        return str(value)


Kind = Int | Float | Choice | Bool | Text | Devices


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str  # the flag without its dashes
    kind: Kind
    help: str
    field: str | None = None  # dotted ServerConfig attribute it sets; None: read by the command line
    default: Any = _FROM_FIELD
    unset: Any = None  # the value that stands for the field's None (e.g. 0 for no metrics endpoint)
    shown_default: str | None = None  # the README's and --help's words for the default
    aliases: tuple[str, ...] = ()  # deprecated environment variables, still read with a warning
    group: str = ""  # "" for serve's settings; "health" for health's own ([health] in the file)
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def dest(self) -> str:
        base = self.name.replace("-", "_")
        return f"{self.group}_{base}" if self.group else base

    @property
    def env(self) -> str:
        group = f"{self.group.upper()}_" if self.group else ""
        return f"{_ENV_PREFIX}{group}{self.name.upper().replace('-', '_')}"

    def default_value(self) -> Any:
        if self.default is not _FROM_FIELD:
            return self.default
        assert self.field is not None, self.name
        from verifier.server import ServerConfig

        value: Any = ServerConfig()
        for part in self.field.split("."):
            value = getattr(value, part)
        return self.unset if value is None else value

    def shown(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        return self.kind.show(self.default_value())

    def default_cell(self) -> str:
        """The default in the README's table: a value as code, words as words."""
        return self.shown_default if self.shown_default is not None else f"`{self.shown()}`"

    def help_text(self) -> str:
        extra = [f"default {self.shown()}"]
        if self.kind.range and not isinstance(self.kind, Choice | Bool | Text):
            extra.append(self.kind.range)
        extra.append(f"env {self.env}")
        return f"{self.help} ({'; '.join(extra)})".replace("%", "%%")


_PORT = Int(0, 65535)
_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

# Read by every command (the top-level --log-level too).
COMMON_SETTINGS: tuple[Setting, ...] = (
    Setting("log-level", Choice(_LOG_LEVELS), "log level", default="info"),
)

SERVE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "config",
        Text(path=True),
        "TOML file of settings, keys named as these flags",
        default="",
        shown_default="none",
        metavar="FILE",
    ),
    *COMMON_SETTINGS,
    Setting("log-format", Choice(("text", "json")), "text, or json: one JSON object per line", "log_format"),
    Setting(
        "access-log",
        Bool(),
        "one INFO line per call (method, peer, request id, items, code, duration)",
        "access_log",
    ),
    Setting("host", Text(empty=False), "address to bind", "host", metavar="HOST"),
    Setting("port", _PORT, "gRPC port (0: a free port, logged)", "port"),
    Setting(
        "reuse-port", Bool(), "SO_REUSEPORT: let several processes share the port, on purpose", "reuse_port"
    ),
    Setting(
        "metrics-host",
        Text(),
        "address of the metrics endpoint",
        "metrics_host",
        unset="",
        shown_default="the --host",
        metavar="HOST",
    ),
    Setting("metrics-port", _PORT, "Prometheus port (0: no metrics endpoint)", "metrics_port", unset=0),
    Setting(
        "metrics-tls-cert",
        Text(path=True),
        "certificate (PEM): serve /metrics over HTTPS",
        "metrics_tls_cert",
        unset="",
        shown_default="none",
        metavar="FILE",
    ),
    Setting(
        "metrics-tls-key",
        Text(path=True),
        "its private key (PEM)",
        "metrics_tls_key",
        unset="",
        shown_default="none",
        metavar="FILE",
    ),
    Setting(
        "metrics-tls-client-ca",
        Text(path=True),
        "CA (PEM) scrapers' certificates must chain to: mutual TLS",
        "metrics_tls_client_ca",
        unset="",
        shown_default="none",
        metavar="FILE",
    ),
    Setting(
        "backend",
        Choice(BACKEND_NAMES),
        "auto (CUDA when usable, else CPU), cpu, cuda, or emu (test backend)",
        "backend",
    ),
    Setting(
        "devices",
        Devices(),
        "devices to use: all, a count N (0..N-1) or a list 0,2; emu: host devices sharing the cores",
        "devices",
        unset="",
        shown_default="the backend's default device",
        metavar="DEVICES",
    ),
    Setting("max-items", Int(1, _UINT32_MAX), "items per request", "limits.max_items"),
    Setting("max-message-bytes", Int(1, _INT32_MAX), "bytes per request message", "limits.max_message_bytes"),
    Setting(
        "grace",
        Float(0, 86400),
        "seconds accepted requests get to finish at shutdown",
        "grace_seconds",
        aliases=("VERIFIER_GRACE_SECONDS",),
    ),
    Setting(
        "max-batch-items",
        Int(0, _UINT32_MAX),
        "items per scheduling unit at most (0: by backend)",
        "scheduler.max_batch_items",
    ),
    Setting(
        "unit-target-ms",
        Int(0, 60_000),
        "CPU backends: units sized to take about this long (0: not by time)",
        "scheduler.unit_target_ms",
    ),
    Setting("max-inflight", Int(1, 1024), "units running at once, any priority", "scheduler.max_inflight"),
    Setting(
        "consensus-slots",
        Int(0, 1024),
        "further units only consensus work may use",
        "scheduler.consensus_slots",
    ),
    Setting(
        "max-queue-delay-us",
        Int(0, 10_000_000),
        "microseconds the first queued item waits for others",
        "scheduler.max_queue_delay_us",
    ),
    Setting(
        "queue-capacity-items",
        Int(1, _UINT32_MAX),
        "items the queues hold before refusing",
        "scheduler.queue_capacity_items",
    ),
    Setting(
        "queue-capacity-bytes",
        Int(1),
        "bytes the queues hold before refusing",
        "scheduler.queue_capacity_bytes",
    ),
    Setting("stream-window", Int(1, 65536), "batches a stream may have in flight", "scheduler.stream_window"),
    Setting(
        "crossover-batch",
        Int(-1, _UINT32_MAX),
        "device batches smaller than this run on the CPU (GPU backends); -1: the benchmark's crossover.json",
        "crossover_batch",
        default=-1,
        unset=-1,
    ),
    Setting(
        "max-validator-sets",
        Int(1, 1 << 20),
        "validator sets RegisterValidatorSet keeps (LRU)",
        "max_validator_sets",
    ),
    Setting(
        "tls-cert",
        Text(path=True),
        "server certificate (PEM): turns on TLS",
        "tls_cert",
        unset="",
        shown_default="none",
        metavar="FILE",
    ),
    Setting(
        "tls-key",
        Text(path=True),
        "server private key (PEM)",
        "tls_key",
        unset="",
        shown_default="none",
        metavar="FILE",
    ),
    Setting(
        "tls-client-ca",
        Text(path=True),
        "CA (PEM) client certificates must chain to: mutual TLS",
        "tls_client_ca",
        unset="",
        shown_default="none",
        metavar="FILE",
    ),
    Setting(
        "max-commit-bytes",
        Int(1),
        "bytes per VerifyCommit or RegisterValidatorSet request",
        "max_commit_bytes",
    ),
    Setting(
        "max-inflight-bytes",
        Int(1),
        "wire bytes of requests accepted and not yet answered, all callers",
        "max_inflight_bytes",
    ),
    Setting(
        "max-concurrent-streams",
        Int(0, _INT32_MAX),
        "streams per connection (0: gRPC's default)",
        "max_concurrent_streams",
    ),
    Setting(
        "max-concurrent-rpcs",
        Int(0, _INT32_MAX),
        "calls in progress in the server (0: no limit)",
        "max_concurrent_rpcs",
    ),
    Setting(
        "keepalive-min-interval",
        Float(0, _MAX_SECONDS),
        "seconds a client must leave between keepalive pings with no data sent",
        "keepalive_min_interval_s",
    ),
    Setting(
        "keepalive-max-ping-strikes",
        Int(0, _INT32_MAX),
        "pings too early before the connection is closed",
        "keepalive_max_ping_strikes",
    ),
    Setting(
        "keepalive-permit-without-calls",
        Bool(valued=True),
        "1: keepalive pings allowed on a connection with no call open; 0: not",
        "keepalive_permit_without_calls",
    ),
    Setting(
        "max-connection-idle",
        Float(0, _MAX_SECONDS),
        "seconds a connection with no call open lives (0: no limit)",
        "max_connection_idle_s",
    ),
    Setting(
        "max-connection-age",
        Float(0, _MAX_SECONDS),
        "seconds after which a connection is asked to go away (0: never)",
        "max_connection_age_s",
    ),
    Setting(
        "max-connection-age-grace",
        Float(0, _MAX_SECONDS),
        "seconds its calls then get before the connection is closed (0: no limit)",
        "max_connection_age_grace_s",
    ),
    # Read (and checked against --tls-client-ca) by the server at startup, whose errors are one line too.
    Setting(
        "consensus-clients",
        Text(path=True, check=False),
        "with --tls-client-ca: file of client certificate names, one a "
        "line, that may send PRIORITY_CONSENSUS and call RegisterValidatorSet",
        "consensus_clients",
        unset="",
        shown_default="none",
        metavar="FILE",
    ),
    Setting(
        "consensus-priority",
        Choice(("open", "bulk-only")),
        "without --consensus-clients: open (anyone may claim consensus priority) or bulk-only (nobody)",
        "consensus_priority",
    ),
)

HEALTH_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "target",
        Text(),
        "server to ask",
        default="",
        group="health",
        metavar="HOST:PORT",
        shown_default="the server's --host:--port (0.0.0.0 and :: asked on loopback)",
    ),
    Setting(
        "service",
        Text(),
        "service name to check ('' for the whole server)",
        default="verifier.v1.Verifier",
        group="health",
        metavar="NAME",
    ),
    Setting("timeout", Float(0.1, 3600), "seconds to wait for the answer", default=4.0, group="health"),
    Setting(
        "tls-ca",
        Text(path=True),
        "CA (PEM) the server's certificate must chain to",
        default="",
        group="health",
        shown_default="the server's --tls-cert and --tls-client-ca",
        metavar="FILE",
    ),
    Setting(
        "tls-cert",
        Text(path=True),
        "client certificate (PEM) for mutual TLS",
        default="",
        group="health",
        shown_default="with mutual TLS, the server's --tls-cert",
        metavar="FILE",
    ),
    Setting(
        "tls-key",
        Text(path=True),
        "its private key (PEM)",
        default="",
        group="health",
        shown_default="with mutual TLS, the server's --tls-key",
        metavar="FILE",
    ),
    Setting(
        "tls-server-name",
        Text(),
        "name the server's certificate must hold",
        default="",
        group="health",
        metavar="NAME",
        shown_default="the target's host",
    ),
)

_BY_NAME = {s.name: s for s in SERVE_SETTINGS}
# What `verifier health` reads of the server's settings (environment and file only; no flags).
HEALTH_READS = tuple(_BY_NAME[n] for n in ("host", "port", "tls-cert", "tls-key", "tls-client-ca"))


def add_flags(parser: argparse.ArgumentParser, settings: Iterable[Setting]) -> None:
    """One flag per setting; values stay strings until ``resolve`` (absent flags leave no attribute)."""
    for s in settings:
        if isinstance(s.kind, Bool) and not s.kind.valued:
            parser.add_argument(
                s.flag,
                dest=s.dest,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=s.help_text(),
            )
        else:
            parser.add_argument(
                s.flag, dest=s.dest, default=argparse.SUPPRESS, metavar=_metavar(s), help=s.help_text()
            )


def _metavar(s: Setting) -> str:
    if s.metavar:
        return s.metavar
    if isinstance(s.kind, Choice):
        return "{" + ",".join(s.kind.options) + "}"
    return {Int: "N", Float: "S", Bool: "0|1"}.get(type(s.kind), "TEXT")


@dataclasses.dataclass
class ConfigFile:
    """A ``--config`` file's values, parsed and checked; key (setting dest) -> (value, source)."""

    path: str
    values: dict[str, tuple[Any, str]]


def load_config_file(path: str, source: str) -> ConfigFile:
    """Read and check the whole file: every key a setting (serve's at the top, health's under
    ``[health]``), every value valid; ``source`` names where the path came from. A relative file name
    in it is taken relative to the file's directory."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise SettingError(f"{source}: {_show(path)}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, tuple[Any, str]] = {}
    allowed = {s.name: s for s in SERVE_SETTINGS if s.name != "config"}
    _load_table(doc, allowed, path, "", values)
    return ConfigFile(path, values)


def _load_table(
    doc: Mapping[str, Any],
    allowed: Mapping[str, Setting],
    path: str,
    prefix: str,
    values: dict[str, tuple[Any, str]],
) -> None:
    seen: dict[str, str] = {}
    for key, value in doc.items():
        name = key.replace("_", "-")
        label = f"{path}: {prefix}{key}"
        if not prefix and name == "health" and isinstance(value, dict):
            _load_table(value, {s.name: s for s in HEALTH_SETTINGS}, path, "health.", values)
            continue
        setting = allowed.get(name)
        if setting is None:
            near = difflib.get_close_matches(name, list(allowed), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise SettingError(f"{label}: unknown setting{hint}")
        if name in seen:
            raise SettingError(f"{label}: given twice (also as {seen[name]!r})")
        seen[name] = key
        if isinstance(setting.kind, Text) and setting.kind.path and isinstance(value, str) and value:
            value = os.path.join(os.path.dirname(path), value)  # relative to the file (absolute stays)
        values[setting.dest] = (_parse(setting, value, label), label)


def _parse(setting: Setting, value: object, source: str) -> Any:
    try:
        return setting.kind.parse(value)
    except _Invalid as exc:
        raise SettingError(f"{source}: {exc}") from None


@dataclasses.dataclass
class Resolved:
    values: dict[str, Any]  # setting dest -> value
    sources: dict[str, str]  # setting dest -> the flag, variable or file key it came from, or "default"
    warnings: list[str]


def resolve(
    settings: Sequence[Setting],
    flags: argparse.Namespace,
    environ: Mapping[str, str],
    config: ConfigFile | None,
    *,
    use_flags: bool = True,
) -> Resolved:
    """Each setting from its flag, else its variable (or a deprecated alias), else the file, else its
    default. Only these settings are read."""
    out = Resolved({}, {}, [])
    for s in settings:
        given = getattr(flags, s.dest, None) if use_flags else None
        if given is not None:
            value, source = given, s.flag
        elif s.env in environ:
            value, source = environ[s.env], s.env
            out.warnings += [
                f"{alias} is deprecated and ignored beside {s.env}" for alias in s.aliases if alias in environ
            ]
        elif alias := next((a for a in s.aliases if a in environ), None):
            value, source = environ[alias], alias
            out.warnings.append(f"{alias} is deprecated: use {s.env}")
        elif config is not None and s.dest in config.values:
            out.values[s.dest], out.sources[s.dest] = config.values[s.dest]
            continue
        else:
            out.values[s.dest], out.sources[s.dest] = s.default_value(), "default"
            continue
        out.values[s.dest], out.sources[s.dest] = _parse(s, value, source), source
    return out


def config_file(flags: argparse.Namespace, environ: Mapping[str, str]) -> ConfigFile | None:
    """The ``--config`` file (or ``$VERIFIER_CONFIG``), loaded; None when neither names one."""
    setting = _BY_NAME["config"]
    resolved = resolve([setting], flags, environ, None)
    path = resolved.values[setting.dest]
    return load_config_file(path, resolved.sources[setting.dest]) if path else None


def _label(r: Resolved, name: str) -> str:
    source = r.sources[_BY_NAME[name].dest]
    return f"--{name}" if source == "default" else source


def check_serve(r: Resolved) -> None:
    """Settings that need one another (a certificate needs its key, mutual TLS needs TLS)."""
    v = r.values
    for cert, key in (("tls-cert", "tls-key"), ("metrics-tls-cert", "metrics-tls-key")):
        if bool(v[cert.replace("-", "_")]) != bool(v[key.replace("-", "_")]):
            have, lack = (cert, key) if v[cert.replace("-", "_")] else (key, cert)
            raise SettingError(
                f"{_label(r, have)} is set but {lack} is not: TLS needs both a certificate and a key"
            )
    if v["tls_client_ca"] and not v["tls_cert"]:
        raise SettingError(
            f"{_label(r, 'tls-client-ca')} needs tls-cert and tls-key: mutual TLS is TLS first"
        )
    if v["metrics_tls_client_ca"] and not v["metrics_tls_cert"]:
        raise SettingError(
            f"{_label(r, 'metrics-tls-client-ca')} needs metrics-tls-cert and metrics-tls-key: mutual TLS is TLS first"
        )


def server_config(values: Mapping[str, Any]) -> Any:
    """The ``ServerConfig`` of resolved serve settings (those with a ``field``)."""
    from verifier.engine import Limits
    from verifier.scheduler import SchedulerConfig
    from verifier.server import ServerConfig

    parts: dict[str, dict[str, Any]] = {"": {}, "limits": {}, "scheduler": {}}
    for s in SERVE_SETTINGS:
        if s.field is None:
            continue
        value = values[s.dest]
        if s.unset is not None and value == s.unset:
            value = None
        group, _, attr = s.field.rpartition(".")
        parts[group][attr] = value
    return ServerConfig(
        **parts[""], limits=Limits(**parts["limits"]), scheduler=SchedulerConfig(**parts["scheduler"])
    )


def markdown_table(settings: Iterable[Setting] = SERVE_SETTINGS) -> list[str]:
    """The README's rows: flag, variable, default, range, meaning."""
    rows = ["| flag | environment | default | range | meaning |", "| --- | --- | --- | --- | --- |"]
    for s in settings:
        flag = (
            f"`{s.flag}` / `--no-{s.name}`"
            if isinstance(s.kind, Bool) and not s.kind.valued
            else f"`{s.flag}`"
        )
        env = f"`{s.env}`" + "".join(f" (deprecated: `{a}`)" for a in s.aliases)
        rows.append(f"| {flag} | {env} | {s.default_cell()} | {s.kind.range} | {s.help} |")
    return rows
