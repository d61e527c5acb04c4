"""Command line: ``verifier serve``, ``verifier verify ed25519|merkle|commit``, ``verifier info``, ``bench``.

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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import IO, Any

from verifier.backends import BACKEND_NAMES
from verifier.batch import HASH_SIZE, PUBLIC_KEY_SIZE, SIGNATURE_SIZE
from verifier.engine import Limits
from verifier.errors import VerifierError
from verifier.result import VerifyResult
from verifier.verdict import Policy, Verdict

__all__ = ["main"]

_U64_MAX = 2**64 - 1


class _LineError(ValueError):
    """A JSON line that cannot become an item; its text goes into the output line's ``error``."""


def _hex(obj: dict[str, Any], field: str, size: int | None = None) -> bytes:
    return _hex_value(obj.get(field), field, size)


def _hex_value(value: Any, field: str, size: int | None = None) -> bytes:
    """``value`` as bytes; ``size``: the length it must have."""
    if not isinstance(value, str):
        raise _LineError(f"{field}: missing or not a hex string")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise _LineError(f"{field}: not valid hex") from None
    if size is not None and len(data) != size:
        raise _LineError(f"{field}: {len(data)} bytes, expected {size}")
    return data


def _uint64(obj: dict[str, Any], field: str) -> int:
    value = obj.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _U64_MAX:
        raise _LineError(f"{field}: missing or not an integer in [0, 2^64)")
    return value


def _parse_object(line: str) -> dict[str, Any]:
    line = line.rstrip("\r\n")  # columns counted in the line as given
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        # Some of json's messages end in "at" themselves ("Invalid control character at").
        raise _LineError(f"not valid JSON: {exc.msg.removesuffix(' at')} at column {exc.pos + 1}") from None
    if not isinstance(obj, dict):
        raise _LineError("not a JSON object")
    return obj


def _parse_ed25519(obj: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    return (_hex(obj, "public_key", PUBLIC_KEY_SIZE), _hex(obj, "signature", SIGNATURE_SIZE),
            _hex(obj, "message"))


def _parse_merkle(obj: dict[str, Any]) -> tuple[bytes | None, bytes | None, int, int, list[bytes], bytes]:
    if ("leaf_hash" in obj) == ("leaf" in obj):
        raise _LineError("give exactly one of leaf_hash and leaf")
    leaf_hash = _hex(obj, "leaf_hash", HASH_SIZE) if "leaf_hash" in obj else None
    leaf = _hex(obj, "leaf") if "leaf" in obj else None
    path = obj.get("path")
    if not isinstance(path, list):
        raise _LineError("path: missing or not a list of hex strings")
    hashes = [_hex_value(h, f"path[{i}]", HASH_SIZE) for i, h in enumerate(path)]
    index, size = _uint64(obj, "leaf_index"), _uint64(obj, "tree_size")
    return leaf_hash, leaf, index, size, hashes, _hex(obj, "root", HASH_SIZE)


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
            except _LineError as exc:
                record.update(valid=False, verdict=malformed.name, error=str(exc))
        if items:
            result = verify(items)
            for pos, code in zip(positions, result.verdicts):
                verdict = Verdict(int(code))
                records[pos].update(valid=verdict is Verdict.OK, verdict=verdict.name)
        for record in records:
            out.write(json.dumps(record) + "\n")
        out.flush()
    return 0


def _verifier_calls(args: argparse.Namespace) -> tuple[Callable[..., VerifyResult], Callable[..., VerifyResult], Any]:
    """(verify_ed25519, verify_merkle, closer) on a remote server (--target) or a local engine."""
    if args.target:
        from verifier.client import Client

        client = Client(args.target)
        return client.verify_ed25519, client.verify_merkle, client.close
    from verifier import get_engine
    from verifier.batch import Ed25519Batch, MerkleBatch

    engine = get_engine(args.backend)

    def ed(keys: Any, sigs: Any, msgs: Any, *, policy: str) -> VerifyResult:
        return engine.verify_ed25519(Ed25519Batch.from_items(keys, sigs, msgs), policy)

    def mk(idx: Any, sizes: Any, paths: Any, roots: Any, **leaf: Any) -> VerifyResult:
        return engine.verify_merkle(MerkleBatch.from_items(idx, sizes, paths, roots, **leaf))

    return ed, mk, lambda: None


def _cmd_verify(args: argparse.Namespace) -> int:
    stream: IO[str] = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")
    ed, mk, close = _verifier_calls(args)
    try:
        if args.kind == "ed25519":
            def verify_ed(items: list[tuple[bytes, bytes, bytes]]) -> VerifyResult:
                keys, sigs, msgs = zip(*items)
                return ed(list(keys), list(sigs), list(msgs), policy=args.policy)

            return _run_lines(stream, sys.stdout, args.batch_size, _parse_ed25519, verify_ed, Verdict.MALFORMED_LENGTH)

        def verify_mk(items: list[Any]) -> VerifyResult:
            # Leaf hashes and leaf data may be mixed across lines: hash the data here into one column.
            import hashlib

            leaf_hashes = [h if h is not None else hashlib.sha256(b"\x00" + (d or b"")).digest() for h, d, *_ in items]
            return mk(
                [it[2] for it in items], [it[3] for it in items], [it[4] for it in items], [it[5] for it in items],
                leaf_hashes=leaf_hashes,
            )

        return _run_lines(stream, sys.stdout, args.batch_size, _parse_merkle, verify_mk, Verdict.MALFORMED_PROOF)
    finally:
        close()
        if stream is not sys.stdin:
            stream.close()


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
    "scheduling": ("max_batch_items", "max_queue_delay_us", "queue_capacity_items", "queue_capacity_bytes",
                   "crossover_batch", "stream_window", "crossover_batch_zip215", "crossover_batch_merkle"),
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
    }
    for section, fields in _INFO_SECTIONS.items():
        part = getattr(info, section)
        out[section] = {f: _plain(getattr(part, f)) for f in fields}
    return out


def _local_info(backend: str) -> Any:
    """What ``verifier serve --backend BACKEND`` with default settings would answer GetInfo here."""
    from verifier import __version__, get_engine
    from verifier.scheduler import Scheduler
    from verifier.server import ServerConfig

    engine = get_engine(backend)
    cfg = ServerConfig(backend=backend)
    knobs = cfg.scheduler
    unit_items = Scheduler(engine, knobs).unit_items  # resolved as the server resolves it
    return SimpleNamespace(
        version=__version__,
        backend=engine.backend.name,
        devices=engine.backend.devices(),
        limits=SimpleNamespace(max_items=engine.limits.max_items, max_message_bytes=engine.limits.max_message_bytes,
                               max_commit_bytes=cfg.max_commit_bytes, max_inflight_bytes=cfg.max_inflight_bytes),
        policies=sorted(p.value for p in engine.policies),
        scheduling=SimpleNamespace(
            max_batch_items=unit_items, max_queue_delay_us=knobs.max_queue_delay_us,
            queue_capacity_items=knobs.queue_capacity_items, queue_capacity_bytes=knobs.queue_capacity_bytes,
            crossover_batch=engine.crossovers[("ed25519", Policy.LIBSODIUM.value)],
            stream_window=knobs.stream_window,
            crossover_batch_zip215=engine.crossovers[("ed25519", Policy.ZIP215.value)],
            crossover_batch_merkle=engine.crossovers[("merkle", "")],
        ),
        validator_sets=SimpleNamespace(registered=0, max_sets=cfg.max_validator_sets,
                                       key_store_rows=engine.key_slots.rows, key_store_free=engine.key_slots.free),
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
    from verifier.scheduler import SchedulerConfig
    from verifier.server import ServerConfig, serve

    config = ServerConfig(
        host=args.host,
        port=args.port,
        metrics_port=args.metrics_port or None,
        backend=args.backend,
        limits=Limits(max_items=args.max_items, max_message_bytes=args.max_message_bytes),
        scheduler=SchedulerConfig(
            max_batch_items=args.max_batch_items,
            max_queue_delay_us=args.max_queue_delay_us,
            queue_capacity_items=args.queue_capacity_items,
            queue_capacity_bytes=args.queue_capacity_bytes,
            stream_window=args.stream_window,
            unit_target_ms=args.unit_target_ms,
            max_inflight=args.max_inflight,
            consensus_slots=args.consensus_slots,
        ),
        crossover_batch=args.crossover_batch if args.crossover_batch >= 0 else None,
        grace_seconds=args.grace,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
        max_validator_sets=args.max_validator_sets,
        max_commit_bytes=args.max_commit_bytes,
        max_inflight_bytes=args.max_inflight_bytes,
        max_concurrent_streams=args.max_concurrent_streams,
        max_concurrent_rpcs=args.max_concurrent_rpcs,
        keepalive_min_interval_s=args.keepalive_min_interval,
        keepalive_max_ping_strikes=args.keepalive_max_ping_strikes,
        keepalive_permit_without_calls=bool(args.keepalive_permit_without_calls),
        max_connection_idle_s=args.max_connection_idle,
        max_connection_age_s=args.max_connection_age,
        max_connection_age_grace_s=args.max_connection_age_grace,
        consensus_clients=args.consensus_clients,
        consensus_priority=args.consensus_priority,
    )
    asyncio.run(serve(config))
    return 0


def _env(name: str, default: str) -> str:
    return os.environ.get(f"VERIFIER_{name}", default)


def _add_hostile_load_flags(serve: argparse.ArgumentParser) -> None:
    """Request, transport and consensus-access limits of ``verifier serve`` (server.ServerConfig's)."""
    from verifier.server import ServerConfig

    cfg = ServerConfig()
    for flag, kind, default, what in (
        ("max-commit-bytes", int, cfg.max_commit_bytes, "bytes per VerifyCommit or RegisterValidatorSet request"),
        ("max-inflight-bytes", int, cfg.max_inflight_bytes,
         "wire bytes of requests accepted and not yet answered, all callers together"),
        ("max-concurrent-streams", int, cfg.max_concurrent_streams, "streams per connection (0: gRPC's default)"),
        ("max-concurrent-rpcs", int, cfg.max_concurrent_rpcs, "calls in progress in the server (0: no limit)"),
        ("keepalive-min-interval", float, cfg.keepalive_min_interval_s,
         "seconds a client must leave between keepalive pings with no data sent"),
        ("keepalive-max-ping-strikes", int, cfg.keepalive_max_ping_strikes,
         "pings too early before the connection is closed"),
        ("keepalive-permit-without-calls", int, int(cfg.keepalive_permit_without_calls),
         "1: keepalive pings allowed on a connection with no call open; 0: not"),
        ("max-connection-idle", float, cfg.max_connection_idle_s, "seconds a connection with no call open lives (0: no limit)"),
        ("max-connection-age", float, cfg.max_connection_age_s,
         "seconds after which a connection is asked to go away (0: never)"),
        ("max-connection-age-grace", float, cfg.max_connection_age_grace_s,
         "seconds its calls then get before the connection is closed (0: no limit)"),
    ):
        env = flag.upper().replace("-", "_")
        serve.add_argument(f"--{flag}", type=kind, default=kind(_env(env, str(default))),
                           help=f"{what} (default {default}; env VERIFIER_{env})")
    serve.add_argument("--consensus-clients", default=os.environ.get("VERIFIER_CONSENSUS_CLIENTS"),
                       help="with --tls-client-ca: file of client certificate subjects or names, one a line, that "
                       "may send PRIORITY_CONSENSUS and call RegisterValidatorSet (env VERIFIER_CONSENSUS_CLIENTS)")
    serve.add_argument("--consensus-priority", choices=["open", "bulk-only"],
                       default=_env("CONSENSUS_PRIORITY", cfg.consensus_priority),
                       help="without --consensus-clients: open (anyone may claim consensus priority) or bulk-only "
                       "(nobody; VerifyCommit runs at bulk) (default open; env VERIFIER_CONSENSUS_PRIORITY)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="verifier", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"), help="logging level (default INFO)")
    sub = parser.add_subparsers(dest="command")

    def backend_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--backend", choices=BACKEND_NAMES, default=_env("BACKEND", "auto"),
                       help="auto (CUDA when usable, else CPU), cpu, cuda, or emu (test backend)")

    serve = sub.add_parser("serve", help="run the gRPC server")
    serve.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=int(_env("PORT", "50051")), help="gRPC port (default 50051)")
    serve.add_argument("--metrics-port", type=int, default=int(_env("METRICS_PORT", "9464")),
                       help="Prometheus port (default 9464; 0 turns it off)")
    backend_arg(serve)
    defaults = Limits()
    serve.add_argument("--max-items", type=int, default=int(_env("MAX_ITEMS", str(defaults.max_items))),
                       help=f"items per request (default {defaults.max_items})")
    serve.add_argument("--max-message-bytes", type=int,
                       default=int(_env("MAX_MESSAGE_BYTES", str(defaults.max_message_bytes))),
                       help=f"bytes per request message (default {defaults.max_message_bytes})")
    serve.add_argument("--grace", type=float, default=float(_env("GRACE_SECONDS", "30")),
                       help="seconds accepted requests get to finish at shutdown (default 30)")
    from verifier.scheduler import SchedulerConfig

    knobs = SchedulerConfig()
    for flag, default, what in (
        ("max-batch-items", knobs.max_batch_items, "items per scheduling unit at most (0: by backend)"),
        ("unit-target-ms", knobs.unit_target_ms, "CPU backends: units sized to take about this long"),
        ("max-inflight", knobs.max_inflight, "units running at once, any priority"),
        ("consensus-slots", knobs.consensus_slots, "further units only consensus work may use"),
        ("max-queue-delay-us", knobs.max_queue_delay_us, "microseconds the first queued item waits for others"),
        ("queue-capacity-items", knobs.queue_capacity_items, "items the queues hold before refusing"),
        ("queue-capacity-bytes", knobs.queue_capacity_bytes, "bytes the queues hold before refusing"),
        ("stream-window", knobs.stream_window, "batches a stream may have in flight"),
        ("crossover-batch", -1, "device batches smaller than this run on the CPU (GPU backends); "
         "-1 reads it from the benchmark's crossover.json"),
    ):
        env = flag.upper().replace("-", "_")
        serve.add_argument(f"--{flag}", type=int, default=int(_env(env, str(default))),
                           help=f"{what} (default {default}; env VERIFIER_{env})")
    serve.add_argument("--max-validator-sets", type=int, default=int(_env("MAX_VALIDATOR_SETS", "64")),
                       help="validator sets RegisterValidatorSet keeps, least recently used evicted (default 64)")
    serve.add_argument("--tls-cert", default=os.environ.get("VERIFIER_TLS_CERT"), help="server certificate (PEM)")
    serve.add_argument("--tls-key", default=os.environ.get("VERIFIER_TLS_KEY"), help="server private key (PEM)")
    serve.add_argument("--tls-client-ca", default=os.environ.get("VERIFIER_TLS_CLIENT_CA"),
                       help="CA (PEM) that client certificates must chain to: turns on mutual TLS")
    _add_hostile_load_flags(serve)
    serve.set_defaults(func=_cmd_serve)

    verify = sub.add_parser("verify", help="verify JSON lines from a file or stdin")
    kinds = verify.add_subparsers(dest="kind", required=True)
    for kind, fields in (
        ("ed25519", "hex public_key, signature, message"),
        ("merkle", "hex leaf_hash (or leaf data), leaf_index, tree_size, path (list of hex), root"),
    ):
        p = kinds.add_parser(kind, help=f"one JSON object per line: {fields}")
        p.add_argument("file", nargs="?", default="-", help="JSON-lines file, or - for stdin (default)")
        backend_arg(p)
        if kind == "ed25519":
            p.add_argument("--policy", choices=[x.value for x in Policy], default=Policy.LIBSODIUM.value)
        p.add_argument("--target", help="verify on a server at HOST:PORT instead of in this process")
        p.add_argument("--batch-size", type=int, default=4096, help="lines verified together (default 4096)")
        p.set_defaults(func=_cmd_verify)
    commit = kinds.add_parser(
        "commit", help="a CometBFT commit against its validator set, as the node's /commit and /validators serve them"
    )
    commit.add_argument("--commit", required=True, help="JSON of /commit (the answer, its result or the commit), - for stdin")
    commit.add_argument("--validators", required=True, nargs="+",
                        help="JSON of /validators: one file per page, in order (or one file with a list)")
    commit.add_argument("--mode", choices=["full", "light", "trusting"], default="full",
                        help="full: VerifyCommit; light: VerifyCommitLight; trusting: VerifyCommitLightTrusting")
    commit.add_argument("--trust-level", help="trusting mode: fraction of the power that must sign, e.g. 1/3 (default)")
    commit.add_argument("--chain-id", help="chain the votes were signed for (default: the header's)")
    commit.add_argument("--height", type=int, help="the height expected (default: the header's)")
    backend_arg(commit)
    commit.add_argument("--target", help="verify on a server at HOST:PORT instead of in this process")
    commit.set_defaults(func=_cmd_verify_commit)

    import verifier.bench

    bench = sub.add_parser("bench", help="benchmark suite: GPU against CPU and peers, tables and plots")
    verifier.bench.add_arguments(bench)
    bench.set_defaults(func=verifier.bench.run_args)

    info = sub.add_parser("info", help="print version, backend, devices, limits, policies, scheduling, validator sets")
    backend_arg(info)
    info.add_argument("--target", help="ask a server at HOST:PORT instead of this machine")
    info.set_defaults(func=_cmd_info)
    return parser


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
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if getattr(args, "batch_size", 1) < 1:
        parser.error("--batch-size must be at least 1")
    try:
        code = int(args.func(args))
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except VerifierError as exc:
        print(f"verifier: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"verifier: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
