"""Hostile and saturating load against a ``verifier serve`` process, measured from outside (issue 11).

Every mode drives the server only through its gRPC port (generated stubs on raw channels, so nothing is
split or checked on the client side), its Prometheus endpoint and ``/proc/<pid>/status``; each returns
one record, printed and saved by ``benchmarks/loadgen.py --mode MODE``:

- ``flood``: K clients send requests that should be rejected (VerifyCommit with a commit_json of 64-128 MB
  of absent entries, VerifySignatures over the item limit) for S seconds, while a valid 150-validator
  commit is sent every 250 ms at PRIORITY_CONSENSUS. Server RSS idle / peak / after, every commit latency.
- ``commit-beside-bulk``: commit latency p50/p99 alone, then beside 2 clients sending 200,000-item bulk
  VerifySignatures requests continuously.
- ``deadlines``: under that saturation, M closed-loop clients send 64-item bulk calls with a 500 ms gRPC
  deadline: the share answered OK in time, DEADLINE_EXCEEDED, other codes.
- ``abandoned``: 200,000-item calls whose callers leave after 50-300 ms (a deadline, or a cancel): items
  the server verified (``verifier_items_total``) minus items delivered to callers who got an answer.
- ``stream-stall``: one VerifyStream that sends up to 1M tiny batches and never reads an answer: how much
  the server's RSS grows.

Each record states the issue's targets and whether they were met; nothing here asserts a figure. The
commit is generated (tests.support.cometbft_ref, as bench_commit.py and loadgen's commit load build it):
the recorded real commits in tests/vectors/cometbft have single-validator sets.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import os
import random
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import nacl.signing
import numpy as np

from verifier.testing import ServeProcess, serve_command

__all__ = [
    "MODES",
    "MODE_PARAMS",
    "PARAM_HELP",
    "QUICK",
    "QUICK_SERVE_ARGS",
    "Params",
    "Server",
    "absent_commit_json",
    "commit_case",
    "launch",
    "metric_delta",
    "over_limit_signatures",
    "parse_metrics",
    "proc_memory",
    "run_mode",
    "save_record",
    "signature_pool",
]

_MIB = 1 << 20
_POOL = 4096
_CHANNEL_OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
_COMMIT_TARGET_S = 3.0  # each commit beside the flood answered within this
_FLOOD_RSS_AFTER_MIB = 1024  # RSS held after the flood within this of idle
_FLOOD_RSS_PEAK_MIB = 4096  # and its peak within this of idle
_STREAM_GROWTH_MIB = 64
_DEADLINE_SHARE = 0.9
_RETRY_PAUSE_S = 0.01  # a closed-loop client waits this long after a refusal before sending again


@dataclasses.dataclass
class Params:
    """Knobs of every mode; each is a ``--flag`` of loadgen (``flood_clients`` -> ``--flood-clients``)."""

    seconds: float = 0.0  # how long the hostile load runs; 0: the mode's default (_SECONDS)
    seed: int = 1
    flood_clients: int = 2
    flood_commit_mib: str = "64,128"  # commit_json sizes, comma-separated; the clients take them in turn
    flood_sig_items: int = 0  # items of the over-limit VerifySignatures; 0: the server's max_items + 1
    flood_call_timeout: float = 60.0
    probe_interval_ms: float = 250.0
    probe_timeout: float = 10.0  # deadline of each commit probe
    settle_seconds: float = 5.0  # after the flood, before RSS "after" is read
    rss_limit_mib: float = 0.0  # stop the flood when the server passes this; 0: 60% of this machine's memory
    bulk_clients: int = 2
    bulk_items: int = 200_000
    bulk_policy: str = "zip215"
    warmup_seconds: float = 2.0  # saturation runs this long before anything is measured beside it
    samples: int = 40  # commit latencies per phase in commit-beside-bulk (fewer when --seconds runs out)
    deadline_clients: int = 4
    deadline_items: int = 64
    deadline_ms: float = 500.0
    abandon_clients: int = 2
    abandon_items: int = 200_000
    abandon_after_ms: str = "50,300"  # callers leave after a uniform time in this range
    drain_seconds: float = 30.0  # how long to wait for the server to go idle (before and after)
    stream_requests: int = 1_000_000
    stream_items: int = 0  # items per StreamRequest: 0 (an empty batch) or more


PARAM_HELP = {
    "flood_clients": "concurrent clients sending rejected large requests",
    "flood_commit_mib": "sizes of the absent-entry commit_json, comma-separated MiB, taken in turn",
    "flood_sig_items": "items of the over-limit VerifySignatures (0: the server's max_items + 1)",
    "flood_call_timeout": "deadline of each flood request, seconds",
    "probe_interval_ms": "a valid 150-validator commit is sent this often beside the flood",
    "probe_timeout": "deadline of each commit, seconds",
    "settle_seconds": "wait after the flood before RSS 'after' is read",
    "rss_limit_mib": "stop the flood when the server's RSS passes this (0: 60%% of this machine's memory)",
    "bulk_clients": "clients sending large bulk VerifySignatures continuously, no deadline",
    "bulk_items": "items per bulk request (valid signatures from a pool)",
    "bulk_policy": "policy of the bulk and short calls: zip215 (merged with commits) or libsodium",
    "warmup_seconds": "the saturation runs this long before anything is measured beside it",
    "samples": "commit latencies per phase (fewer when --seconds runs out)",
    "deadline_clients": "closed-loop clients sending short calls with a deadline",
    "deadline_items": "items per short call",
    "deadline_ms": "gRPC deadline of each short call",
    "abandon_clients": "clients sending large calls they leave",
    "abandon_items": "items per abandoned call",
    "abandon_after_ms": "callers leave (deadline, or cancel, alternating) after a uniform time in LO,HI ms",
    "drain_seconds": "at most this long waiting for the server's queue to empty, before and after",
    "stream_requests": "StreamRequests sent at most on the stream that never reads",
    "stream_items": "items per StreamRequest (0: an empty batch)",
}

_SECONDS = {
    "flood": 20.0,
    "commit-beside-bulk": 20.0,
    "deadlines": 15.0,
    "abandoned": 10.0,
    "stream-stall": 30.0,
}

# Small sizes that run each mode end to end in a few seconds (tests, smoke runs); the server is started
# with a small item limit so that the small flood requests are still over it.
QUICK = {
    "seconds": 3.0,
    "flood_clients": 1,
    "flood_commit_mib": "1",
    "flood_call_timeout": 20.0,
    "probe_timeout": 10.0,
    "settle_seconds": 1.0,
    "bulk_items": 3000,
    "warmup_seconds": 0.5,
    "samples": 5,
    "deadline_clients": 2,
    "abandon_clients": 1,
    "abandon_items": 4000,
    "drain_seconds": 10.0,
    "stream_requests": 20_000,
}
QUICK_SERVE_ARGS = ("--max-items=8192",)


# -------------------------------------------------------------------------------------- the server


@dataclasses.dataclass
class Server:
    """A server to measure: where it listens, its pid (for RSS; None when not on this machine) and its
    metrics URL; ``process`` when this process started it (``verifier.testing.ServeProcess``, its log's
    last lines in ``process.lines``)."""

    target: str
    pid: int | None = None
    metrics_url: str | None = None
    process: ServeProcess | None = None
    serve_args: list[str] = dataclasses.field(default_factory=list)
    killed_for_memory: bool = False

    @property
    def log_lines(self) -> int:
        return self.process.line_count if self.process is not None else 0

    def alive(self) -> bool:
        """Still running (unknown for a server elsewhere: True)."""
        if self.process is not None:
            return self.process.proc.poll() is None
        return self.pid is None or proc_memory(self.pid)["rss"] is not None  # a zombie has no VmRSS

    def close(self) -> None:
        if self.process is not None:
            self.process.close()


def launch(backend: str, serve_args: Sequence[str] = (), timeout: float = 120.0) -> Server:
    """``verifier serve`` in its own process on a free loopback port, with its metrics on a known free port
    (``serve_args`` come last, so they override); returns once it says where it listens."""
    process = ServeProcess(serve_command("--backend", backend, "--grace", "2", *serve_args), keep=40)
    try:
        process.wait_ready(timeout)
    except AssertionError as exc:
        process.close()
        raise RuntimeError(
            f"the server did not report where it listens (exit {process.proc.poll()}): {exc}"
        ) from None
    metrics = f"http://127.0.0.1:{process.metrics_port}/metrics" if process.metrics_port else None
    return Server(
        target=process.target,
        pid=process.proc.pid,
        metrics_url=metrics,
        process=process,
        serve_args=list(serve_args),
    )


def proc_memory(pid: int | None) -> dict[str, float | None]:
    """VmRSS and VmHWM of ``pid`` in MiB (None when unreadable: no pid, another machine, exited)."""
    out: dict[str, float | None] = {"rss": None, "hwm": None}
    if pid is None:
        return out
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for key, field in (("rss", "VmRSS:"), ("hwm", "VmHWM:")):
        match = re.search(rf"^{field}\s+(\d+) kB", text, re.M)
        out[key] = int(match[1]) / 1024 if match else None
    return out


def _mem_total_mib() -> float:
    match = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return int(match[1]) / 1024 if match else 8192.0


class RssWatch:
    """Samples the server's VmRSS every ``interval`` s on a thread while in the ``with`` block: the peak
    of the samples, and VmHWM at entry and exit. Past ``limit_mib`` it sets ``over_limit``; past 85% of
    this machine's memory it kills a server this process started (the machine is shared)."""

    def __init__(self, server: Server, interval: float = 0.05, limit_mib: float | None = None) -> None:
        self.server, self.interval, self.limit_mib = server, interval, limit_mib
        self.kill_mib = 0.85 * _mem_total_mib()
        self.over_limit = threading.Event()
        self.peak: float | None = None
        self.samples = 0
        self.before: dict[str, float | None] = {}
        self.after: dict[str, float | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssWatch:
        self.before = proc_memory(self.server.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.after = proc_memory(self.server.pid)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = proc_memory(self.server.pid)["rss"]
            if rss is None:
                continue
            self.samples += 1
            self.peak = rss if self.peak is None else max(self.peak, rss)
            if self.limit_mib and rss > self.limit_mib:
                self.over_limit.set()
            if rss > self.kill_mib and self.server.process is not None and self.server.alive():
                self.server.killed_for_memory = True
                self.server.process.proc.kill()

    def peak_mib(self) -> float | None:
        """The peak over the block: the samples' peak, or VmHWM when it rose during the block (then it
        is the exact peak, samples can miss a spike)."""
        hwm0, hwm1 = self.before.get("hwm"), self.after.get("hwm")
        if hwm0 is not None and hwm1 is not None and hwm1 > hwm0:
            return max(hwm1, self.peak or 0.0)
        return self.peak


# ------------------------------------------------------------------------------------------ metrics

Snapshot = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_metrics(text: str) -> Snapshot:
    """Prometheus text exposition -> {(sample name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    out: Snapshot = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = float(s.value)
    return out


def scrape(url: str | None, timeout: float = 5.0) -> Snapshot | None:
    """The server's metrics now; None when there is no endpoint or it does not answer."""
    if url is None:
        return None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return parse_metrics(r.read().decode())
    except (OSError, ValueError):
        return None


def metric_delta(
    before: Snapshot | None, after: Snapshot | None, name: str, by: str | None = None, **match: str
) -> dict[str, float]:
    """after - before of sample ``name`` over the label sets matching ``match``: {"": the sum} without
    ``by``; with it, the sum per value of label ``by``, values that did not move left out."""
    out: dict[str, float] = collections.defaultdict(float)
    for snap, sign in ((after or {}), 1.0), ((before or {}), -1.0):
        for (sample, labels), value in snap.items():
            d = dict(labels)
            if sample == name and all(d.get(k) == v for k, v in match.items()):
                out[d.get(by, "") if by else ""] += sign * value
    if by is None:
        return {"": out.get("", 0.0)}
    return {k: v for k, v in out.items() if v}


def _gauge(snap: Snapshot | None, name: str) -> float | None:
    values = [v for (sample, _), v in (snap or {}).items() if sample == name]
    return sum(values) if values else None


def wait_idle(server: Server, seconds: float) -> dict[str, Any]:
    """Waits (at most ``seconds``) until the server's queue is empty and ``verifier_items_total`` stopped
    moving for a second: whether it got there, how long it took, the queue depth at the end."""
    t0 = time.monotonic()
    last, still_since = None, t0
    snap = None
    while time.monotonic() - t0 < seconds:
        snap = scrape(server.metrics_url)
        if snap is None:
            return {"idle": None, "waited_s": time.monotonic() - t0, "queue_depth_items": None}
        items = metric_delta(None, snap, "verifier_items_total")[""]
        if items != last:
            last, still_since = items, time.monotonic()
        if _gauge(snap, "verifier_queue_depth_items") == 0 and time.monotonic() - still_since >= 1.0:
            return {"idle": True, "waited_s": time.monotonic() - t0, "queue_depth_items": 0.0}
        time.sleep(0.25)
    return {
        "idle": False,
        "waited_s": time.monotonic() - t0,
        "queue_depth_items": _gauge(snap, "verifier_queue_depth_items"),
    }


# ---------------------------------------------------------------------------------- requests, calls


def _pb() -> tuple[Any, Any]:
    from verifier.v1 import verifier_pb2, verifier_pb2_grpc

    return verifier_pb2, verifier_pb2_grpc


def signature_pool(seed: int) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """(keys, signatures, messages): 4096 valid Ed25519 signatures by 32 keys over 32/64/128-byte messages."""
    rng = random.Random(seed)
    keys = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(32)]
    msgs = [rng.randbytes(rng.choice((32, 64, 128))) for _ in range(_POOL)]
    signers = [keys[i % 32] for i in range(_POOL)]
    return (
        [bytes(k.verify_key) for k in signers],
        [k.sign(m).signature for k, m in zip(signers, msgs, strict=True)],
        msgs,
    )


def bulk_request(
    pool: tuple[list[bytes], list[bytes], list[bytes]], n: int, policy: str, offset: int = 0
) -> Any:
    """A VerifySignaturesRequest of ``n`` valid signatures from ``pool`` (repeating), priority unset (bulk)."""
    pb2, _ = _pb()
    keys, sigs, msgs = pool
    idx = [(offset + i) % len(keys) for i in range(n)]
    return pb2.VerifySignaturesRequest(
        public_keys=b"".join(keys[j] for j in idx),
        signatures=b"".join(sigs[j] for j in idx),
        messages=b"".join(msgs[j] for j in idx),
        message_lengths=[len(msgs[j]) for j in idx],
        policy={"zip215": pb2.POLICY_ZIP215, "libsodium": pb2.POLICY_LIBSODIUM}[policy],
    )


def absent_commit_json(size_bytes: int) -> bytes:
    """A bare /commit JSON object of about ``size_bytes`` whose entries are all ``{"block_id_flag":1}``
    (absent), the cheapest entry to send; well-formed, so only a limit refuses it."""
    head = (
        b'{"height":"1","round":0,"block_id":{"hash":"'
        + b"AB" * 32
        + b'","parts":{"total":1,"hash":"'
        + b"CD" * 32
        + b'"}},"signatures":['
    )
    entry = b'{"block_id_flag":1},'
    n = max(1, (size_bytes - len(head)) // len(entry))
    return head + entry * (n - 1) + entry[:-1] + b"]}"


def over_limit_signatures(n: int) -> Any:
    """A VerifySignaturesRequest of ``n`` items, every column full size (zero keys and signatures, empty
    messages): what a caller over the item limit sends."""
    pb2, _ = _pb()
    return pb2.VerifySignaturesRequest(
        public_keys=bytes(32 * n), signatures=bytes(64 * n), message_lengths=[0] * n
    )


def commit_case(
    client: Any, rng: random.Random, n_bad: int, priority: int, validators: int = 150
) -> tuple[Any, int | None]:
    """A generated commit of ``validators`` validators (5% absent, 5% nil, ``n_bad`` planted bad signatures),
    its set registered through ``client``: (VerifyCommitRequest with the protobuf commit and the set's hash,
    index of the first bad signature or None)."""
    from tests.support import cometbft_ref as ref
    from verifier import cometbft as cb
    from verifier import convert

    pb2, _ = _pb()
    gen = ref.generate(rng, validators, p_absent=0.05, p_nil=0.05, n_bad=n_bad)
    commit = cb.parse_commit(gen.commit_json())
    set_hash = client.register_validator_set(cb.parse_validators(ref.validators_json(gen.validators)))
    msg, header = convert.commit_to_proto(commit)
    request = pb2.VerifyCommitRequest(
        commit=msg, header=header, validator_set_hash=set_hash, priority=priority
    )
    return request, (min(gen.bad) if gen.bad else None)


def _consensus_commit(target: str, seed: int) -> Any:
    from verifier.client import Client

    pb2, _ = _pb()
    with Client(target, timeout=60) as client:
        request, _ = commit_case(client, random.Random(seed), 0, pb2.PRIORITY_CONSENSUS)
    return request


@contextlib.contextmanager
def _channel(target: str) -> Iterator[grpc.Channel]:
    """A channel of its own (one HTTP/2 connection) with no message-size limits, once it is ready."""
    channel = grpc.insecure_channel(target, options=_CHANNEL_OPTIONS)
    try:
        grpc.channel_ready_future(channel).result(timeout=15)
        yield channel
    finally:
        channel.close()


@contextlib.contextmanager
def _stub(target: str) -> Iterator[Any]:
    _, pb2_grpc = _pb()
    with _channel(target) as channel:
        yield pb2_grpc.VerifierStub(channel)


def _finish(future: Any, stop: threading.Event | None = None, within: float | None = None) -> tuple[str, Any]:
    """Waits for a call started with ``.future()``: (status code name, the response; or the error, or
    None). The call is cancelled ("STOPPED") when ``stop`` is set, or ("LEFT") after ``within`` seconds."""
    t_end = None if within is None else time.monotonic() + within
    while True:
        try:
            return "OK", future.result(timeout=0.05)
        except grpc.FutureTimeoutError:
            if (stop is not None and stop.is_set()) or (t_end is not None and time.monotonic() > t_end):
                future.cancel()
                return ("STOPPED" if stop is not None and stop.is_set() else "LEFT"), None
        except grpc.FutureCancelledError:
            return "CANCELLED", None
        except grpc.RpcError as exc:
            return exc.code().name, exc
        except Exception as exc:  # noqa: BLE001 - a client-side failure is an outcome too
            return type(exc).__name__, exc


class _Tally:
    """Counters and latency lists shared by client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.exceptions: list[str] = []
        self.details: dict[str, str] = {}  # the first error message seen per key

    def note(self, key: str, error: Any) -> None:
        """Keeps the first message of ``error`` (an RpcError or exception) under ``key``."""
        if key in self.details or error is None:
            return
        details = error.details() if isinstance(error, grpc.RpcError) else repr(error)
        with self.lock:
            self.details.setdefault(key, str(details)[:300])

    def add(self, key: str, n: int = 1, latency: float | None = None) -> None:
        with self.lock:
            self.counts[key] += n
            if latency is not None:
                self.latencies[key].append(latency)


@contextlib.contextmanager
def _workers(
    loop: Callable[[int, threading.Event], None], n: int, tally: _Tally
) -> Iterator[threading.Event]:
    """``loop(client_id, stop)`` on ``n`` threads for the ``with`` block; ``stop`` is set at its end."""
    stop = threading.Event()

    def guarded(cid: int) -> None:
        try:
            loop(cid, stop)
        except Exception as exc:  # noqa: BLE001 - reported in the record
            with tally.lock:
                tally.exceptions.append(repr(exc)[:300])

    threads = [threading.Thread(target=guarded, args=(c,), daemon=True) for c in range(n)]
    for t in threads:
        t.start()
    try:
        yield stop
    finally:
        stop.set()
        for t in threads:
            t.join(30)


def _percentiles(values: Sequence[float], prefix: str = "latency") -> dict[str, float | None]:
    if not values:
        return {f"{prefix}_p50_s": None, f"{prefix}_p99_s": None, f"{prefix}_max_s": None}
    a = np.asarray(values)
    return {
        f"{prefix}_p50_s": float(np.percentile(a, 50)),
        f"{prefix}_p99_s": float(np.percentile(a, 99)),
        f"{prefix}_max_s": float(a.max()),
    }


def _bulk_loop(
    target: str, request: Any, tally: _Tally, prefix: str
) -> Callable[[int, threading.Event], None]:
    """A client that sends ``request`` (VerifySignatures, no deadline) again and again until stopped."""
    n = len(request.message_lengths)

    def loop(cid: int, stop: threading.Event) -> None:
        with _stub(target) as stub:
            while not stop.is_set():
                t0 = time.perf_counter()
                code, resp = _finish(stub.VerifySignatures.future(request), stop)
                if code == "STOPPED":  # still in flight when the run ended
                    tally.add(f"{prefix}STOPPED at the end")
                    return
                tally.add(f"{prefix}{code}", latency=time.perf_counter() - t0)
                if code == "OK":
                    tally.add(f"{prefix.strip()}_items_ok", int(resp.verdicts.count(1)))
                    tally.add(f"{prefix.strip()}_items_wrong", n - int(resp.verdicts.count(1)))
                else:
                    tally.note(f"{prefix}{code}", resp)
                    stop.wait(_RETRY_PAUSE_S)

    return loop


def _codes(tally: _Tally, prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: v for k, v in tally.counts.items() if k.startswith(prefix)}


def _commit_once(stub: Any, request: Any, timeout: float) -> tuple[str, float]:
    """One commit probe: ("OK" valid, "INVALID" answered not valid, or the status code), seconds."""
    t0 = time.perf_counter()
    code, resp = _finish(stub.VerifyCommit.future(request, timeout=timeout))
    if code == "OK" and not resp.valid:
        code = "INVALID"
    return code, time.perf_counter() - t0


def _commit_summary(outcomes: Sequence[tuple[str, float]], target_s: float | None = None) -> dict[str, Any]:
    """Counts by outcome, latency percentiles of the valid answers; with ``target_s``, how many probes
    were not a valid answer within it."""
    ok = [lat for code, lat in outcomes if code == "OK"]
    out: dict[str, Any] = {
        "sent": len(outcomes),
        "answered_valid": len(ok),
        "answered_invalid": sum(c == "INVALID" for c, _ in outcomes),
        "errors": dict(collections.Counter(c for c, _ in outcomes if c not in ("OK", "INVALID"))),
        **_percentiles(ok),
    }
    if target_s is not None:
        out["target_s"] = target_s
        out["over_target"] = sum(1 for code, lat in outcomes if code != "OK" or lat > target_s)
    return out


class _Prober:
    """Sends ``request`` every ``interval`` s without waiting for answers, each with a ``timeout`` deadline;
    records each answer's outcome and latency."""

    def __init__(self, stub: Any, request: Any, interval: float, timeout: float) -> None:
        self.stub, self.request, self.interval, self.timeout = stub, request, interval, timeout
        self.outcomes: list[tuple[str, float]] = []
        self.sent = 0
        self._lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            t0 = time.perf_counter()
            future = self.stub.VerifyCommit.future(self.request, timeout=self.timeout)
            self.sent += 1
            future.add_done_callback(lambda f, t0=t0: self._done(f, t0))
            next_at += self.interval
            stop.wait(max(0.0, next_at - time.monotonic()))

    def _done(self, future: Any, t0: float) -> None:
        latency = time.perf_counter() - t0
        code, resp = _finish(future)
        if code == "OK" and not resp.valid:
            code = "INVALID"
        with self._lock:
            self.outcomes.append((code, latency))

    def wait(self, seconds: float) -> None:
        """Until every probe sent has its outcome (at most ``seconds``; each has a deadline anyway)."""
        t_end = time.monotonic() + seconds
        while len(self.outcomes) < self.sent and time.monotonic() < t_end:
            time.sleep(0.05)


def _message_dict(message: Any) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    return dict(
        MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    )


def _info(target: str) -> Any:
    pb2, _ = _pb()
    with _stub(target) as stub:
        return stub.GetInfo(pb2.GetInfoRequest(), timeout=15)


def _mib(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.0f} MiB"


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 1e3:,.1f} ms"


def _target(what: str, value: float | None, limit: float, unit: str, at_most: bool = True) -> dict[str, Any]:
    met = None if value is None else (value <= limit if at_most else value >= limit)
    return {"what": what, "value": value, "limit": limit, "unit": unit, "met": met}


# ------------------------------------------------------------------------------------------- modes


def _flood_loop(
    target: str, requests: list[Any], sizes: list[int], commits: int, timeout: float, tally: _Tally
) -> Callable[[int, threading.Event], None]:
    """A client that sends ``requests`` in turn (the first ``commits`` VerifyCommit, the rest
    VerifySignatures), each as soon as the last one ended, until stopped."""

    def loop(cid: int, stop: threading.Event) -> None:
        with _stub(target) as stub:
            k = cid
            while not stop.is_set():
                i = k % len(requests)
                k += 1
                method = "VerifyCommit" if i < commits else "VerifySignatures"
                t0 = time.perf_counter()
                code, resp = _finish(getattr(stub, method).future(requests[i], timeout=timeout), stop)
                key = f"{method} {'STOPPED at the end' if code == 'STOPPED' else code}"
                tally.add(key, latency=time.perf_counter() - t0)
                tally.note(key, None if code in ("OK", "STOPPED") else resp)
                tally.add("bytes_sent", sizes[i])
                if code == "UNAVAILABLE":  # the server is gone or restarting: do not spin
                    stop.wait(0.1)

    return loop


def run_flood(server: Server, p: Params) -> tuple[dict[str, Any], list[str]]:
    pb2, _ = _pb()
    info = _info(server.target)
    sig_items = p.flood_sig_items or int(info.limits.max_items) + 1
    probe = _consensus_commit(server.target, p.seed)
    blobs = [absent_commit_json(int(float(s) * _MIB)) for s in p.flood_commit_mib.split(",")]
    hostile = [
        pb2.VerifyCommitRequest(commit_json=b, chain_id="flood", validator_set_hash=probe.validator_set_hash)
        for b in blobs
    ] + [over_limit_signatures(sig_items)]
    sizes = [r.ByteSize() for r in hostile]
    tally = _Tally()
    flood = _flood_loop(server.target, hostile, sizes, len(blobs), p.flood_call_timeout, tally)
    limit = p.rss_limit_mib or 0.6 * _mem_total_mib()
    seconds = p.seconds or _SECONDS["flood"]
    with _stub(server.target) as probe_stub, RssWatch(server, limit_mib=limit) as watch:
        idle = [_commit_once(probe_stub, probe, p.probe_timeout) for _ in range(4)]
        prober = _Prober(probe_stub, probe, p.probe_interval_ms / 1e3, p.probe_timeout)
        t0 = time.monotonic()
        with _workers(flood, p.flood_clients, tally), _workers(lambda _c, s: prober.run(s), 1, tally):
            while time.monotonic() - t0 < seconds and not watch.over_limit.is_set() and server.alive():
                time.sleep(0.05)
            flood_s = time.monotonic() - t0
            ended_by = (
                "rss limit" if watch.over_limit.is_set() else "time" if server.alive() else "server exited"
            )
        prober.wait(p.probe_timeout + 5)
        time.sleep(p.settle_seconds)
    rss = {
        "idle": watch.before["rss"],
        "idle_hwm": watch.before["hwm"],
        "peak": watch.peak_mib(),
        "peak_sampled": watch.peak,
        "after": watch.after["rss"],
        "after_hwm": watch.after["hwm"],
        "samples": watch.samples,
        "settle_s": p.settle_seconds,
    }
    probes = _commit_summary(prober.outcomes, _COMMIT_TARGET_S)
    flood_codes = {k: v for k, v in tally.counts.items() if k != "bytes_sent"}
    record: dict[str, Any] = {
        "flood_seconds": flood_s,
        "flood_ended_by": ended_by,
        "rss_mib": rss,
        "rss_limit_mib": limit,
        "rss_limit_hit": watch.over_limit.is_set(),
        "flood": {
            "requests": sum(flood_codes.values()),
            "by_method_code": flood_codes,
            "bytes_sent": tally.counts["bytes_sent"],
            "request_bytes": sizes,
            "commit_json_entries": [b.count(b"block_id_flag") for b in blobs],
            "signature_items": sig_items,
            "first_error_details": tally.details,
            "latency": {k: _percentiles(v) for k, v in tally.latencies.items()},
        },
        "commit_probes_idle": _commit_summary(idle),
        "commit_probes": {
            **probes,
            "interval_ms": p.probe_interval_ms,
            "timeout_s": p.probe_timeout,
            "priority": "consensus",
            "validators": 150,
        },
        "client_exceptions": tally.exceptions,
        "targets": _flood_targets(rss, probes),
    }
    lines = [
        f"flood {flood_s:.1f} s: {record['flood']['requests']} hostile requests "
        f"({record['flood']['bytes_sent'] / _MIB:,.0f} MiB sent), {flood_codes}",
        f"  server RSS idle {_mib(rss['idle'])}, peak {_mib(rss['peak'])} (sampled {_mib(rss['peak_sampled'])}), "
        f"after {p.settle_seconds:g} s {_mib(rss['after'])}; the flood ended by {ended_by}",
        f"  commits every {p.probe_interval_ms:g} ms: {probes['sent']} sent, {probes['answered_valid']} valid, "
        f"max {_ms(probes['latency_max_s'])}, p99 {_ms(probes['latency_p99_s'])}, "
        f"{probes['over_target']} not answered within {_COMMIT_TARGET_S:g} s; errors {probes['errors']}",
    ]
    return record, lines


def _flood_targets(rss: dict[str, Any], probes: dict[str, Any]) -> list[dict[str, Any]]:
    idle = rss["idle"]
    after = None if idle is None or rss["after"] is None else rss["after"] - idle
    peak = None if idle is None or rss["peak"] is None else rss["peak"] - idle
    return [
        _target("RSS after the flood - idle RSS", after, _FLOOD_RSS_AFTER_MIB, "MiB"),
        _target("peak RSS - idle RSS", peak, _FLOOD_RSS_PEAK_MIB, "MiB"),
        _target("commits not answered valid within 3 s", probes["over_target"], 0, "commits"),
    ]


def run_commit_beside_bulk(server: Server, p: Params) -> tuple[dict[str, Any], list[str]]:
    probe = _consensus_commit(server.target, p.seed)
    bulk = bulk_request(signature_pool(p.seed), p.bulk_items, p.bulk_policy)
    seconds = p.seconds or _SECONDS["commit-beside-bulk"]
    tally = _Tally()

    def sample(stub: Any) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        t_end = time.monotonic() + seconds
        while len(out) < p.samples and (not out or time.monotonic() < t_end):
            out.append(_commit_once(stub, probe, p.probe_timeout))
        return out

    with _stub(server.target) as stub:
        for _ in range(2):
            _commit_once(stub, probe, p.probe_timeout)  # warm-up
        idle = sample(stub)
        with _workers(_bulk_loop(server.target, bulk, tally, "bulk "), p.bulk_clients, tally) as stop:
            stop.wait(p.warmup_seconds)
            t0 = time.monotonic()
            beside = sample(stub)
            beside_s = time.monotonic() - t0
    idle_s, beside_sum = _commit_summary(idle), _commit_summary(beside)
    p50, p99 = idle_s["latency_p50_s"], beside_sum["latency_p99_s"]
    budget = None if p50 is None else 4 * p50 + 0.05
    ratio = None if budget is None or p99 is None else p99 / budget
    bulk_codes = _codes(tally, "bulk ")
    record = {
        "commit_idle": idle_s,
        "commit_beside_bulk": beside_sum,
        "beside_seconds": beside_s,
        "bulk": {
            "clients": p.bulk_clients,
            "items_per_request": p.bulk_items,
            "policy": p.bulk_policy,
            "priority": "unset (bulk)",
            "codes": bulk_codes,
            "items_ok": tally.counts["bulk_items_ok"],
            "items_wrong": tally.counts["bulk_items_wrong"],
        },
        "p99_budget_s": budget,
        "p99_over_budget": ratio,
        "first_error_details": tally.details,
        "client_exceptions": tally.exceptions,
        "targets": [
            _target("commit p99 beside bulk / (4 x idle p50 + 50 ms)", ratio, 1.0, "ratio"),
            _target(
                "commit probes not answered valid beside bulk",
                beside_sum["sent"] - beside_sum["answered_valid"],
                0,
                "commits",
            ),
        ],
    }
    lines = [
        f"commit alone ({idle_s['sent']}): p50 {_ms(p50)}, p99 {_ms(idle_s['latency_p99_s'])}",
        f"commit beside {p.bulk_clients} x {p.bulk_items:,}-item bulk ({beside_sum['sent']}): "
        f"p50 {_ms(beside_sum['latency_p50_s'])}, p99 {_ms(p99)}; errors {beside_sum['errors']}",
        f"  p99 / (4 x p50 idle + 50 ms) = {'n/a' if ratio is None else f'{ratio:.2f}'} (target <= 1); "
        f"bulk answers {bulk_codes}",
    ]
    return record, lines


def run_deadlines(server: Server, p: Params) -> tuple[dict[str, Any], list[str]]:
    pool = signature_pool(p.seed)
    bulk = bulk_request(pool, p.bulk_items, p.bulk_policy)
    deadline = p.deadline_ms / 1e3
    seconds = p.seconds or _SECONDS["deadlines"]
    tally = _Tally()

    def caller(cid: int, stop: threading.Event) -> None:
        request = bulk_request(pool, p.deadline_items, p.bulk_policy, offset=cid * p.deadline_items)
        with _stub(server.target) as stub:
            while not stop.is_set():
                t0 = time.perf_counter()
                code, resp = _finish(stub.VerifySignatures.future(request, timeout=deadline), stop)
                latency = time.perf_counter() - t0
                if code == "STOPPED":
                    return
                if code == "OK":
                    right = len(resp.verdicts) == p.deadline_items and resp.all_valid
                    code = (
                        ("OK in time" if latency <= deadline else "OK late") if right else "OK wrong verdicts"
                    )
                tally.add(f"short {code}", latency=latency)
                tally.note(f"short {code}", None if code.startswith("OK") else resp)
                if code not in ("OK in time", "OK late", "DEADLINE_EXCEEDED"):
                    stop.wait(_RETRY_PAUSE_S)

    with _workers(_bulk_loop(server.target, bulk, tally, "bulk "), p.bulk_clients, tally) as stop:
        stop.wait(p.warmup_seconds)
        with _workers(caller, p.deadline_clients, tally) as stop_short:
            stop_short.wait(seconds)
    short = _codes(tally, "short ")
    calls = sum(short.values())
    in_time = short.get("OK in time", 0)
    share = in_time / calls if calls else None
    record: dict[str, Any] = {
        "short_calls": {
            "clients": p.deadline_clients,
            "items": p.deadline_items,
            "deadline_ms": p.deadline_ms,
            "priority": "unset (bulk)",
            "calls": calls,
            "ok_in_time": in_time,
            "deadline_exceeded": short.get("DEADLINE_EXCEEDED", 0),
            "codes": short,
            "share_ok_in_time": share,
            **_percentiles(tally.latencies.get("short OK in time", [])),
        },
        "saturation": {
            "clients": p.bulk_clients,
            "items_per_request": p.bulk_items,
            "policy": p.bulk_policy,
            "deadline": None,
            "codes": _codes(tally, "bulk "),
            "items_ok": tally.counts["bulk_items_ok"],
            "items_wrong": tally.counts["bulk_items_wrong"],
        },
        "seconds": seconds,
        "first_error_details": tally.details,
        "client_exceptions": tally.exceptions,
        "targets": [
            _target(
                "share of short-deadline calls answered OK in time",
                share,
                _DEADLINE_SHARE,
                "share",
                at_most=False,
            )
        ],
    }
    lines = [
        f"{p.deadline_clients} callers x {p.deadline_items} items, {p.deadline_ms:g} ms deadline, beside "
        f"{p.bulk_clients} x {p.bulk_items:,}-item bulk, {seconds:g} s: {calls} calls, {in_time} OK in time "
        f"({'n/a' if share is None else f'{share:.1%}'}, target >= {_DEADLINE_SHARE:.0%})",
        f"  codes {short}; saturating calls {record['saturation']['codes']}",
    ]
    return record, lines


def run_abandoned(server: Server, p: Params) -> tuple[dict[str, Any], list[str]]:
    if scrape(server.metrics_url) is None:
        raise RuntimeError("mode abandoned reads the server's metrics: start it here or give --metrics-url")
    idle_before = wait_idle(server, p.drain_seconds)
    pool = signature_pool(p.seed)
    request = bulk_request(pool, p.abandon_items, p.bulk_policy)
    lo, hi = (float(x) / 1e3 for x in p.abandon_after_ms.split(","))
    seconds = p.seconds or _SECONDS["abandoned"]
    tally = _Tally()

    def caller(cid: int, stop: threading.Event) -> None:
        rng = random.Random(p.seed * 1000 + cid)
        with _stub(server.target) as stub:
            k = 0
            while not stop.is_set():
                after = rng.uniform(lo, hi)
                how = "deadline" if k % 2 == 0 else "cancel"
                k += 1
                if how == "deadline":
                    code, resp = _finish(stub.VerifySignatures.future(request, timeout=after), stop)
                else:
                    code, resp = _finish(
                        stub.VerifySignatures.future(request, timeout=60), stop, within=after
                    )
                tally.add("items_sent", p.abandon_items)
                if code == "STOPPED":  # cancelled because the run ended: a caller that left too
                    tally.add(f"{how} STOPPED at the end")
                    return
                tally.add(f"{how} {code}")
                tally.note(f"{how} {code}", resp if code not in ("OK", "LEFT") else None)
                if code == "OK":
                    tally.add("items_delivered", len(resp.verdicts))
                elif code not in ("DEADLINE_EXCEEDED", "LEFT"):
                    stop.wait(_RETRY_PAUSE_S)

    before = scrape(server.metrics_url)
    with _workers(caller, p.abandon_clients, tally) as stop:
        stop.wait(seconds)
    drained = wait_idle(server, p.drain_seconds)
    after = scrape(server.metrics_url)
    verified = metric_delta(before, after, "verifier_items_total")[""]
    dropped = metric_delta(before, after, "verifier_items_dropped_total")[""]
    delivered = tally.counts["items_delivered"]
    # The server's own account of that work: a unit that started before its caller left (in flight when
    # it left), or after (the target: never).
    unclaimed = metric_delta(before, after, "verifier_items_unclaimed_total", by="started")
    started_after = unclaimed.get("after_caller_left", 0.0)
    record = {
        "clients": p.abandon_clients,
        "items_per_request": p.abandon_items,
        "leave_after_ms": [lo * 1e3, hi * 1e3],
        "leave_by": "deadline and cancel, alternating",
        "seconds": seconds,
        "requests": sum(v for k, v in tally.counts.items() if k.startswith(("deadline ", "cancel "))),
        "items_sent": tally.counts["items_sent"],
        "items_verified": verified,
        "items_delivered": delivered,
        "items_dropped": dropped,
        "items_neither_verified_nor_dropped": tally.counts["items_sent"] - verified - dropped,
        "items_verified_by_verdict": metric_delta(before, after, "verifier_items_total", by="verdict"),
        "items_verified_after_caller_left": verified - delivered,
        "items_unclaimed_by_unit_start": unclaimed,
        "client_codes": {k: v for k, v in tally.counts.items() if k.startswith(("deadline ", "cancel "))},
        "items_dropped_by_reason": metric_delta(before, after, "verifier_items_dropped_total", by="reason"),
        "items_dropped_by_kind_reason": {
            f"{kind}/{reason}": v
            for (kind, reason), v in _by_two(before, after, "verifier_items_dropped_total").items()
        },
        "requests_by_grpc_code": metric_delta(before, after, "verifier_requests_total", by="grpc_code"),
        "idle_before": idle_before,
        "drain_after": drained,
        "first_error_details": tally.details,
        "client_exceptions": tally.exceptions,
        "targets": [_target("items in units started after their caller left", started_after, 0, "items")],
    }
    lines = [
        f"{record['requests']} calls of {p.abandon_items:,} items left after {lo * 1e3:g}-{hi * 1e3:g} ms: "
        f"server verified {verified:,.0f} items, delivered {delivered:,}, "
        f"verified after the caller left {verified - delivered:,.0f}",
        f"  of which (server's count) in units started before the caller left "
        f"{unclaimed.get('before_caller_left', 0.0):,.0f}, after {started_after:,.0f}",
        f"  drained: {drained['idle']} after {drained['waited_s']:.1f} s (queue {drained['queue_depth_items']}); "
        f"dropped by reason {record['items_dropped_by_reason']}",
        f"  server codes {record['requests_by_grpc_code']}; client outcomes {record['client_codes']}",
    ]
    return record, lines


def _by_two(before: Snapshot | None, after: Snapshot | None, name: str) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = collections.defaultdict(float)
    for snap, sign in ((after or {}), 1.0), ((before or {}), -1.0):
        for (sample, labels), value in snap.items():
            if sample == name:
                d = dict(labels)
                out[(d.get("kind", ""), d.get("reason", ""))] += sign * value
    return {k: v for k, v in out.items() if v}


def run_stream_stall(server: Server, p: Params) -> tuple[dict[str, Any], list[str]]:
    pb2, _ = _pb()
    pool = signature_pool(p.seed)
    batch = (
        bulk_request(pool, p.stream_items, "libsodium") if p.stream_items else pb2.VerifySignaturesRequest()
    )
    # Serialized once (ids cycle through 4096 values): the sender is as fast as this process can push
    # messages, so what is measured is the server's reading, not the client's protobuf encoding.
    wire = [pb2.StreamRequest(id=i, signatures=batch).SerializeToString() for i in range(4096)]
    seconds = p.seconds or _SECONDS["stream-stall"]
    stop = threading.Event()
    sent = [0]

    def requests() -> Iterator[bytes]:
        for i in range(p.stream_requests):
            if stop.is_set():
                return
            sent[0] += 1
            yield wire[i % len(wire)]

    with _channel(server.target) as channel:
        stream = channel.stream_stream("/verifier.v1.Verifier/VerifyStream")  # bytes in, bytes out
        warm = list(stream(iter(wire[:100]), timeout=30))
        time.sleep(0.5)
        client0 = proc_memory(os.getpid())["rss"]
        with RssWatch(server) as watch:
            call = stream(requests(), timeout=seconds + 60)
            t0 = time.monotonic()
            trace = []
            while time.monotonic() - t0 < seconds and server.alive():
                time.sleep(0.5)
                trace.append((round(time.monotonic() - t0, 2), sent[0], proc_memory(server.pid)["rss"]))
            end, client1 = proc_memory(server.pid), proc_memory(os.getpid())["rss"]
            stop.set()
            call.cancel()
            time.sleep(2.0)
    rss = {
        "idle": watch.before["rss"],
        "peak": watch.peak_mib(),
        "end": end["rss"],
        "after_cancel": watch.after["rss"],
        "client_before": client0,
        "client_end": client1,
    }
    growth = None if rss["idle"] is None or rss["peak"] is None else rss["peak"] - rss["idle"]
    stalled = len(trace) >= 3 and trace[-1][1] == trace[-3][1] and sent[0] < p.stream_requests
    record = {
        "items_per_request": p.stream_items,
        "requests_max": p.stream_requests,
        "requests_sent": sent[0],
        "seconds": seconds,
        "requests_per_second": sent[0] / seconds,
        "sender_blocked_at_end": stalled,
        "warm_answers": len(warm),
        "rss_mib": rss,
        "rss_growth_mib": growth,
        "rss_growth_mib_per_100k_requests": None if growth is None or not sent[0] else growth * 1e5 / sent[0],
        "trace": [{"t_s": t, "requests_sent": n, "rss_mib": r} for t, n, r in trace],
        "targets": [
            _target("server RSS growth with a stream that never reads", growth, _STREAM_GROWTH_MIB, "MiB")
        ],
    }
    lines = [
        f"stream that never reads: {sent[0]:,} requests of {p.stream_items} items sent in {seconds:g} s"
        f"{' (the sender was blocked by flow control at the end)' if stalled else ''}",
        f"  server RSS idle {_mib(rss['idle'])}, peak {_mib(rss['peak'])} (growth {_mib(growth)}, target <= "
        f"{_STREAM_GROWTH_MIB} MiB), after cancel {_mib(rss['after_cancel'])}; "
        f"this client {_mib(client0)} -> {_mib(client1)}",
    ]
    return record, lines


MODES: dict[str, Callable[[Server, Params], tuple[dict[str, Any], list[str]]]] = {
    "flood": run_flood,
    "commit-beside-bulk": run_commit_beside_bulk,
    "deadlines": run_deadlines,
    "abandoned": run_abandoned,
    "stream-stall": run_stream_stall,
}

# The knobs each mode uses (recorded with its figures).
MODE_PARAMS = {
    "flood": (
        "seconds",
        "flood_clients",
        "flood_commit_mib",
        "flood_sig_items",
        "flood_call_timeout",
        "probe_interval_ms",
        "probe_timeout",
        "settle_seconds",
        "rss_limit_mib",
    ),
    "commit-beside-bulk": (
        "seconds",
        "samples",
        "bulk_clients",
        "bulk_items",
        "bulk_policy",
        "warmup_seconds",
        "probe_timeout",
    ),
    "deadlines": (
        "seconds",
        "bulk_clients",
        "bulk_items",
        "bulk_policy",
        "warmup_seconds",
        "deadline_clients",
        "deadline_items",
        "deadline_ms",
    ),
    "abandoned": (
        "seconds",
        "abandon_clients",
        "abandon_items",
        "abandon_after_ms",
        "bulk_policy",
        "drain_seconds",
    ),
    "stream-stall": ("seconds", "stream_requests", "stream_items"),
}


def run_mode(mode: str, server: Server, p: Params) -> tuple[dict[str, Any], list[str], str]:
    """Runs ``mode`` against ``server``: (record, lines to print, device description)."""
    info = _info(server.target)
    record, lines = MODES[mode](server, p)
    params = {k: getattr(p, k) for k in MODE_PARAMS[mode]}
    params["seconds"] = p.seconds or _SECONDS[mode]
    devices = ", ".join(f"{d.name} x{d.workers}" for d in info.devices)
    head = {
        "kind": "hostile-load",
        "mode": mode,
        "backend": info.backend,
        "scope": "grpc",
        "server_version": info.version,
        "server": "started by loadgen" if server.process is not None else f"external {server.target}",
        "serve_args": server.serve_args,
        "params": params,
        "server_limits": _message_dict(info.limits),
        "server_scheduling": _message_dict(info.scheduling),
        "server_alive_after": server.alive(),
        "server_killed_for_memory": server.killed_for_memory,
        "server_log_lines": server.log_lines,
    }
    return {**head, **record}, lines, f"{info.backend}: {devices}"


def save_record(
    name: str,
    device: str,
    results: list[dict[str, Any]],
    out: Path | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """benchmarks._common.save's form (device, commit, date, environment, results) into ``out`` (default
    benchmarks/results/)."""
    import datetime

    from benchmarks import _common

    if out is None:
        return _common.save(name, device, results, extra)
    now = datetime.datetime.now(datetime.timezone.utc)
    doc = {
        "device": device,
        "commit": _common.commit(),
        "date": now.isoformat(timespec="seconds"),
        "environment": _common.environment(),
        **(extra or {}),
        "results": results,
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{now:%Y%m%d}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
