"""Command line: ``verifier serve``, ``verifier health``, ``verifier verify ed25519|merkle|commit``,
``verifier info``, ``bench``.

Settings of ``serve`` and ``health`` come from flags, ``VERIFIER_<FLAG>`` variables and a ``--config``
TOML file, in that order (``verifier.config``); a bad value is one line on stderr and exit code 2.

``verify ed25519|merkle`` reads JSON lines (a file or ``-`` for stdin) and prints one JSON line per input
line, in order. A line that is not valid JSON, has bad hex or wrong lengths gets ``valid: false`` with a
malformed verdict and an ``error``; it never stops the run. The exit code is 0 when the run completed,
whatever the verdicts; 1 when it could not run (backend unavailable, server unreachable, a file that
cannot be read as a commit or validator set); 2 for usage. A reader that stops early (``| head``) ends
the run quietly, exit code 0.

``verify commit`` reads what a CometBFT node serves at ``/commit`` and ``/validators`` (one file per
page), verifies the commit as CometBFT would (policy zip215) and prints one JSON object: valid, the first
error, the powers, and each signature's status and verdict. Its exit code says the answer: 0 valid, 3 not
valid (1 and 2 as above).

``health`` asks a server's ``grpc.health.v1`` (the address and TLS files from the server's own settings
unless given) and exits 0 when it is SERVING, 1 otherwise, with one line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from verifier import config as settings
from verifier import logs, schemes
from verifier.errors import PortInUseError, VerifierError
from verifier.lines import LineError
from verifier.result import VerifyResult
from verifier.schemes import Scheme
from verifier.verdict import Verdict

__all__ = ["main"]

_log = logging.getLogger("verifier.cli")


def _parse_object(line: str) -> dict[str, Any]:
    line = line.rstrip("\r\n")  # columns counted in the line as given
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        # Some of json's messages end in "at" themselves ("Invalid control character at").
        raise LineError(f"not valid JSON: {exc.msg.removesuffix(' at')} at column {exc.pos + 1}") from None
    if not isinstance(obj, dict):
        raise LineError("not a JSON object")
    return obj


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run_lines(
    stream: IO[str],
    out: IO[str],
    batch_size: int,
    parse: Callable[[dict[str, Any]], Any],
    verify: Callable[[list[Any]], VerifyResult],
    malformed: Verdict,
) -> int:
    number = 0
    for chunk in _chunks(stream, batch_size):
        records: list[dict[str, Any]] = []
        items: list[Any] = []
        positions: list[int] = []
        for line in chunk:
            number += 1
            record: dict[str, Any] = {"line": number}
            records.append(record)
            if not line.strip():
                record.update(valid=False, verdict=malformed.name, error="empty line")
                continue
            try:
                obj = _parse_object(line)
                if "id" in obj:
                    record["id"] = obj["id"]
                items.append(parse(obj))
                positions.append(len(records) - 1)
            except LineError as exc:
                record.update(valid=False, verdict=malformed.name, error=str(exc))
        if items:
            result = verify(items)
            for pos, code in zip(positions, result.verdicts, strict=True):
                verdict = Verdict(int(code))
                records[pos].update(valid=verdict is Verdict.OK, verdict=verdict.name)
        for record in records:
            out.write(json.dumps(record) + "\n")
        out.flush()
    return 0


def _verifier(
    args: argparse.Namespace,
) -> tuple[Callable[[Scheme, Any, str | None], VerifyResult], Callable[[], None]]:
    """(verify(scheme, batch, policy), closer) on a remote server (--target) or a local engine."""
    if args.target:
        from verifier.client import Client

        client = Client(args.target)
        return client.verify, client.close
    from verifier import get_engine

    return get_engine(args.backend).verify, lambda: None


def _cmd_verify(args: argparse.Namespace) -> int:
    scheme = schemes.ecdsa_scheme(args.curve) if args.kind == "ecdsa" else schemes.scheme(args.kind)
    policy = getattr(args, "policy", None)
    try:
        scheme.parse_policy(policy)
    except VerifierError as exc:
        print(f"verifier verify: {exc}", file=sys.stderr)
        return 2
    verify, close = _verifier(args)
    try:
        with contextlib.ExitStack() as files:
            stream = sys.stdin if args.file == "-" else files.enter_context(open(args.file, encoding="utf-8"))
            return _run_lines(
                stream,
                sys.stdout,
                args.batch_size,
                scheme.line.parse,
                lambda items: verify(scheme, scheme.line.batch(items), policy),
                scheme.malformed,
            )
    finally:
        close()


_COMMIT_INVALID_EXIT = 3


def _read_doc(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def _commit_json(result: Any, backend: str) -> dict[str, Any]:
    """A ``CommitResult`` as the JSON ``verify commit`` prints."""
    from verifier import cometbft as cb

    error = None
    if result.error is not None:
        e = result.error
        error = {"code": e.code.name, "message": e.message}
        for key in ("index", "first_index", "got", "needed", "expected", "actual"):
            if getattr(e, key) is not None:
                error[key] = getattr(e, key)
    signatures = []
    for i, status in enumerate(result.statuses):
        entry: dict[str, Any] = {"index": i, "status": cb.SignatureStatus(status).name}
        verdict = result.verdict(i)
        if verdict is not None:
            entry["verdict"] = verdict.name
        signatures.append(entry)
    return {
        "valid": result.valid,
        "error": error,
        "mode": str(result.mode),
        "chain_id": result.chain_id,
        "height": result.height,
        "signed_power": result.signed_power,
        "tallied_power": result.tallied_power,
        "total_power": result.total_power,
        "needed_power": result.needed_power,
        "validators_hash": result.validators_hash.hex().upper(),
        "backend": backend,
        "signatures": signatures,
    }


def _cmd_verify_commit(args: argparse.Namespace) -> int:
    from verifier import cometbft as cb

    commit_doc = _read_doc(args.commit)
    pages = [_read_doc(p) for p in args.validators]
    validators_doc = pages[0] if len(pages) == 1 else b"[" + b",".join(pages) + b"]"
    options: dict[str, Any] = dict(mode=args.mode, height=args.height)
    if args.trust_level is not None:
        options["trust_level"] = args.trust_level
    if args.target:
        from verifier.client import Client

        with Client(args.target) as client:
            result = client.verify_commit(commit_doc, validators_doc, chain_id=args.chain_id, **options)
        backend = "server " + args.target
    else:
        from verifier import get_engine
        from verifier.verdict import Policy

        engine = get_engine(args.backend)
        commit = cb.parse_commit(commit_doc)
        validators = cb.parse_validators(validators_doc)
        result = cb.verify_commit(
            args.chain_id, validators, commit, verify=cb.engine_verifier(engine, Policy.ZIP215), **options
        )
        backend = engine.backend.name
    print(json.dumps(_commit_json(result, backend), indent=2))
    return 0 if result.valid else _COMMIT_INVALID_EXIT


# GetInfo's answer as `info` prints it, from the server (--target) and from this machine alike: every
# field present, numbers as numbers. tests/test_cli.py checks it covers every GetInfoResponse field.
_INFO_SECTIONS: dict[str, tuple[str, ...]] = {
    "limits": ("max_items", "max_message_bytes", "max_commit_bytes", "max_inflight_bytes"),
    "scheduling": (
        "max_batch_items",
        "max_queue_delay_us",
        "queue_capacity_items",
        "queue_capacity_bytes",
        "crossover_batch",
        "stream_window",
        "crossover_batch_zip215",
        "crossover_batch_merkle",
    ),
    "validator_sets": ("registered", "max_sets", "key_store_rows", "key_store_free"),
}
_DEVICE_FIELDS = ("kind", "name", "index", "memory_bytes", "compute_capability", "workers")


def _plain(value: Any) -> Any:
    return value if isinstance(value, str) else int(value)


def info_dict(info: Any) -> dict[str, Any]:
    """``info`` (a GetInfoResponse, or the same attributes from ``_local_info``) as a JSON object."""
    out: dict[str, Any] = {
        "version": info.version,
        "backend": info.backend,
        "devices": [{f: _plain(getattr(d, f)) for f in _DEVICE_FIELDS} for d in info.devices],
        "policies": list(info.policies),
        "schemes": [
            {"name": s.name, "rpc": s.rpc, "policies": list(s.policies), "on_device": s.on_device}
            for s in info.schemes
        ],
    }
    for section, fields in _INFO_SECTIONS.items():
        part = getattr(info, section)
        out[section] = {f: _plain(getattr(part, f)) for f in fields}
    return out


def _local_info(backend: str) -> Any:
    """What ``verifier serve --backend BACKEND`` with default settings would answer GetInfo here."""
    from verifier import __version__, convert, get_engine
    from verifier.scheduler import Scheduler
    from verifier.server import ServerConfig

    engine = get_engine(backend)
    cfg = ServerConfig(backend=backend)
    return convert.info_response(
        engine,
        version=__version__,
        unit_items=Scheduler(engine, cfg.scheduler).unit_items,  # resolved as the server resolves it
        scheduling=cfg.scheduler,
        max_commit_bytes=cfg.max_commit_bytes,
        max_inflight_bytes=cfg.max_inflight_bytes,
        registered_sets=0,
        max_sets=cfg.max_validator_sets,
    )


def _cmd_info(args: argparse.Namespace) -> int:
    if args.target:
        from verifier.client import Client

        with Client(args.target) as client:
            info = info_dict(client.info())
    else:
        info = info_dict(_local_info(args.backend))
    print(json.dumps(info, indent=2))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import verifier.server

    config = settings.server_config(vars(args))
    try:
        asyncio.run(verifier.server.serve(config))
    except PortInUseError as exc:  # one line already, naming the listener, address and port
        print(f"verifier: {exc}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:  # a file the settings name, a port, TLS: before serving
        _log.debug("server did not start", exc_info=True)
        print(f"verifier: could not start: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    return 0


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _health_target(args: argparse.Namespace) -> str:
    """--target, else the server's --host and --port, a wildcard host asked on loopback."""
    if args.health_target:
        return str(args.health_target)
    if args.port == 0:
        raise settings.SettingError(
            f"{args.setting_sources['port']}: port 0 is picked at startup; give --target"
        )
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(args.host, args.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{args.port}"


def _health_credentials(args: argparse.Namespace) -> Any:
    """None for plaintext; TLS when the server has a certificate or a health TLS file is given. Trusted:
    --tls-ca, else the server's own certificate (and its client CA). With mutual TLS, the client
    certificate is --tls-cert/--tls-key, else the server's own pair."""
    import grpc

    ca, cert, key = args.health_tls_ca, args.health_tls_cert, args.health_tls_key
    if not (args.tls_cert or ca or cert or key):
        return None
    if bool(cert) != bool(key):
        have = "tls-cert" if cert else "tls-key"
        raise settings.SettingError(
            f"{args.setting_sources['health_' + have.replace('-', '_')]} is set but "
            f"{'tls-key' if cert else 'tls-cert'} is not: a client certificate needs its key"
        )
    if ca:
        roots: bytes | None = _read(ca)
    elif args.tls_cert:
        roots = _read(args.tls_cert) + (b"\n" + _read(args.tls_client_ca) if args.tls_client_ca else b"")
    else:
        roots = None  # the system's
    if not cert and args.tls_client_ca and args.tls_cert and args.tls_key:
        cert, key = args.tls_cert, args.tls_key
    if cert:
        return grpc.ssl_channel_credentials(roots, _read(key), _read(cert))
    return grpc.ssl_channel_credentials(roots)


@contextlib.contextmanager
def _native_stderr_discarded() -> Iterator[None]:
    """gRPC core logs a failed handshake itself, on file descriptor 2 (and GRPC_VERBOSITY is read when
    grpc loads, before any command runs): health's one line says it already."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield  # not a real file (tests capture it)
        return
    sys.stderr.flush()
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _cmd_health(args: argparse.Namespace) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    target = _health_target(args)
    credentials = _health_credentials(args)
    service = args.health_service
    options = (
        [("grpc.ssl_target_name_override", args.health_tls_server_name)]
        if args.health_tls_server_name
        else []
    )
    channel = (
        grpc.insecure_channel(target, options=options)
        if credentials is None
        else grpc.secure_channel(target, credentials, options=options)
    )
    try:
        with _native_stderr_discarded(), channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=args.health_timeout
            )
    except grpc.RpcError as exc:
        code = exc.code() if isinstance(exc, grpc.Call) else None
        name = code.name if code is not None else "ERROR"
        details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
        print(
            f"verifier health: {target} {service or '(server)'}: {name}: {_one_line(details or '')}",
            file=sys.stderr,
        )
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(f"verifier health: {target} {service or '(server)'}: {status}")
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1


_BACKEND = next(s for s in settings.SERVE_SETTINGS if s.name == "backend")
_CONFIG = next(s for s in settings.SERVE_SETTINGS if s.name == "config")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verifier", description=__doc__.splitlines()[0] if __doc__ else None
    )
    settings.add_flags(parser, settings.COMMON_SETTINGS)
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser(
        "serve",
        help="run the gRPC server",
        description="Run the gRPC server. Every flag also reads VERIFIER_<FLAG> and the "
        "--config file's key of its name: flag > environment > file > default.",
    )
    settings.add_flags(serve, settings.SERVE_SETTINGS)
    serve.set_defaults(
        func=_cmd_serve, settings=settings.SERVE_SETTINGS, server_settings=(), config_file=True
    )

    health = sub.add_parser(
        "health",
        help="ask a server's grpc.health.v1: exit 0 when SERVING, 1 otherwise",
        description="Ask a server's grpc.health.v1 Check; exit 0 when SERVING, 1 otherwise. "
        "Address and TLS come from the server's own settings (VERIFIER_HOST, VERIFIER_PORT, "
        "VERIFIER_TLS_*, the --config file) unless given.",
    )
    settings.add_flags(health, (_CONFIG, *settings.HEALTH_SETTINGS))
    health.set_defaults(
        func=_cmd_health,
        settings=(_CONFIG, *settings.COMMON_SETTINGS, *settings.HEALTH_SETTINGS),
        server_settings=settings.HEALTH_READS,
        config_file=True,
    )

    verify = sub.add_parser("verify", help="verify JSON lines from a file or stdin")
    kinds = verify.add_subparsers(dest="kind", required=True)
    ecdsa = [schemes.ecdsa_scheme(c) for c in schemes.CURVES]
    # One subcommand per scheme, and `ecdsa --curve C` for the ECDSA schemes together.
    for name, members in [(s.name, [s]) for s in schemes.SCHEMES] + [("ecdsa", ecdsa)]:
        p = kinds.add_parser(name, help=f"one JSON object per line: {members[0].line.fields}")
        p.add_argument("file", nargs="?", default="-", help="JSON-lines file, or - for stdin (default)")
        settings.add_flags(p, (_BACKEND,))
        if name == "ecdsa":
            p.add_argument("--curve", required=True, choices=list(schemes.CURVES))
        policies = list(dict.fromkeys(x.value for s in members for x in s.policies))
        if policies:
            p.add_argument(
                "--policy", choices=policies, default=None, help="default: the scheme's first policy"
            )
        p.add_argument("--target", help="verify on a server at HOST:PORT instead of in this process")
        p.add_argument("--batch-size", type=int, default=4096, help="lines verified together (default 4096)")
        p.set_defaults(func=_cmd_verify)
    commit = kinds.add_parser(
        "commit",
        help="a CometBFT commit against its validator set, as the node's /commit and /validators serve them",
    )
    commit.add_argument(
        "--commit", required=True, help="JSON of /commit (the answer, its result or the commit), - for stdin"
    )
    commit.add_argument(
        "--validators",
        required=True,
        nargs="+",
        help="JSON of /validators: one file per page, in order (or one file with a list)",
    )
    commit.add_argument(
        "--mode",
        choices=["full", "light", "trusting"],
        default="full",
        help="full: VerifyCommit; light: VerifyCommitLight; trusting: VerifyCommitLightTrusting",
    )
    commit.add_argument(
        "--trust-level", help="trusting mode: fraction of the power that must sign, e.g. 1/3 (default)"
    )
    commit.add_argument("--chain-id", help="chain the votes were signed for (default: the header's)")
    commit.add_argument("--height", type=int, help="the height expected (default: the header's)")
    settings.add_flags(commit, (_BACKEND,))
    commit.add_argument("--target", help="verify on a server at HOST:PORT instead of in this process")
    commit.set_defaults(func=_cmd_verify_commit)

    import verifier.bench

    bench = sub.add_parser("bench", help="benchmark suite: GPU against CPU and peers, tables and plots")
    verifier.bench.add_arguments(bench)
    bench.set_defaults(func=verifier.bench.run_args, settings=settings.COMMON_SETTINGS)

    info = sub.add_parser(
        "info", help="print version, backend, devices, limits, policies, scheduling, validator sets"
    )
    settings.add_flags(info, (_BACKEND,))
    info.add_argument("--target", help="ask a server at HOST:PORT instead of this machine")
    info.set_defaults(func=_cmd_info)
    return parser


def _resolve(args: argparse.Namespace, environ: Mapping[str, str]) -> settings.Resolved:
    """The command's settings (and, for health, the server's it reads) into ``args``."""
    own = getattr(args, "settings", (*settings.COMMON_SETTINGS, _BACKEND))
    file = settings.config_file(args, environ) if getattr(args, "config_file", False) else None
    resolved = settings.resolve(own, args, environ, file)
    server = settings.resolve(getattr(args, "server_settings", ()), args, environ, file, use_flags=False)
    for part in (server, resolved):
        vars(args).update(part.values)
    args.setting_sources = {**server.sources, **resolved.sources}
    return settings.Resolved(
        {**server.values, **resolved.values}, args.setting_sources, server.warnings + resolved.warnings
    )


def _quiet_stdout() -> None:
    """After the reader went away: point stdout at /dev/null so the exit flush cannot fail again
    (docs.python.org/3/library/signal.html, note on SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # not a real file (tests capture it)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["serve", *(argv if argv is not None else sys.argv[1:])])
    try:
        resolved = _resolve(args, os.environ)
        if args.command == "serve":
            settings.check_serve(resolved)
    except settings.SettingError as exc:
        print(f"verifier: {exc}", file=sys.stderr)
        return 2
    logs.configure(args.log_level, getattr(args, "log_format", "text"))  # both checked by resolve()
    for warning in resolved.warnings:
        _log.warning("%s", warning)
    if getattr(args, "batch_size", 1) < 1:
        parser.error("--batch-size must be at least 1")
    try:
        code = int(args.func(args))
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except settings.SettingError as exc:
        print(f"verifier: {exc}", file=sys.stderr)
        return 2
    except VerifierError as exc:
        print(f"verifier: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"verifier: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
