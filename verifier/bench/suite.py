"""The sweep: kind x backend (x threads) x batch size x message size or proof depth, in three scopes.

Scopes:
  kernel   the CUDA kernel alone on device-resident buffers, timed with CUDA events (cuda only)
  engine   ``Engine.verify_*`` on a packed batch, as the server calls it; device copies included
  grpc     ``verifier.Client`` to a ``verifier serve`` child process on loopback, several client threads
  peer     the reference loops, single thread, on the same items: PyNaCl (crypto_sign_open) and
           ``cryptography`` (OpenSSL) for Ed25519, hashlib for Merkle
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from verifier import schemes
from verifier.backends import create_backend
from verifier.backends.cpu import CpuBackend
from verifier.bench import runners
from verifier.bench.environment import (
    commit,
    cpu_cores,
    cpu_model,
    cuda_environment,
    host_environment,
    now_utc,
)
from verifier.bench.kinds import bench_kind, param_of
from verifier.bench.timing import Progress, Sample, VerdictMismatchError, measure, measure_concurrent
from verifier.bench.workload import Workload
from verifier.engine import Engine, Limits
from verifier.errors import VerifierError

__all__ = ["BACKENDS", "SCOPES", "Record", "RunResult", "SweepConfig", "run_sweep"]

_log = logging.getLogger(__name__)

SCOPES = ("kernel", "engine", "grpc")
BACKENDS = ("cpu", "emu", "cuda")
POOL = 4096  # distinct items per workload; larger batches repeat them

Record = dict[str, Any]


@dataclasses.dataclass
class SweepConfig:
    kinds: list[str]
    backends: list[str]
    scopes: list[str]
    threads: list[int]
    batches: list[int]  # cpu and emu (and peers)
    cuda_batches: list[int]
    message_bytes: list[int]
    depths: list[int]
    key_bytes: list[int] = dataclasses.field(default_factory=lambda: [33])  # ECDSA: SEC 1 compressed keys
    repeats: int = 5
    warmup: int = 1
    min_time: float = 0.2
    grpc_clients: int = 4
    grpc_max_batch: int = 1 << 16
    peer_max_batch: int = 1 << 14
    seed: int = 0
    quick: bool = False
    progress: bool = True

    def params(self, kind: str) -> list[int]:
        values: list[int] = getattr(self, bench_kind(kind).config_field)
        return values


@dataclasses.dataclass
class RunResult:
    device: str
    commit: str
    date: str
    environment: dict[str, Any]
    config: dict[str, Any]
    results: list[Record]
    skipped: list[dict[str, str]]

    def document(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "commit": self.commit,
            "date": self.date,
            "environment": self.environment,
            "config": self.config,
            "results": self.results,
            "skipped": self.skipped,
        }


@dataclasses.dataclass
class _Task:
    label: str
    kind: str
    param: int
    batch: int
    fields: Record  # backend, scope, threads, clients
    run: Callable[[Workload], Sample]


def _workload(kind: str, param: int, pool: int, seed: int) -> Workload:
    workload: Workload = bench_kind(kind).workload(param, pool, seed)
    return workload


def _param_field(kind: str) -> str:
    return bench_kind(kind).param_field


_Skip = Callable[..., None]  # skip(backend, scope, reason, kind="all kinds")


def run_sweep(cfg: SweepConfig) -> RunResult:
    """Measure everything ``cfg`` asks for; what cannot run is listed in ``skipped`` with the reason."""
    started = now_utc()
    env = host_environment()
    gpu, gpu_why = cuda_environment()
    if gpu is not None:
        env.update(gpu)
    skipped: list[dict[str, str]] = []

    def skip(backend: str, scope: str, reason: str, kind: str = "all kinds") -> None:
        skipped.append({"kind": kind, "backend": backend, "scope": scope, "reason": reason})
        _log.debug("bench: %s %s %s skipped: %s", kind, backend, scope, reason)

    with ExitStack() as stack:
        engines, servers, kernel_timers = _start(cfg, stack, skip, skipped)
        results = _measure_tasks(cfg, list(_plan(cfg, engines, servers, kernel_timers)), skip)

    _add_ratios(results)
    cores = cpu_cores()
    cpu_desc = f"{cpu_model()} ({cores} cores)"
    device = (
        f"cuda: {gpu['gpu']}; cpu: {cpu_desc}"
        if gpu is not None and "cuda" in cfg.backends
        else f"cpu: {cpu_desc}"
    )
    if gpu is None and "cuda" in cfg.backends and not any(s["backend"] == "cuda" for s in skipped):
        skip("cuda", "all scopes", gpu_why)
    config = dataclasses.asdict(cfg)
    config.pop("progress", None)
    config["pool"] = POOL
    config["gpu_unavailable_reason"] = gpu_why or None
    return RunResult(device, commit(), started.isoformat(), env, config, results, skipped)


def _start(
    cfg: SweepConfig, stack: ExitStack, skip: _Skip, skipped: list[dict[str, str]]
) -> tuple[dict[str, Engine], dict[str, runners.ServerProcess], dict[str, tuple[runners.KernelTimer, str]]]:
    """The engines ("cpu:<threads>", "emu", "cuda"), servers and kernel timers the sweep measures, closed
    with ``stack``; what cannot start is skipped with its reason."""
    engines: dict[str, Engine] = {}
    servers: dict[str, runners.ServerProcess] = {}
    kernel_timers: dict[str, tuple[runners.KernelTimer, str]] = {}
    limits = Limits(max_items=max([*cfg.batches, *cfg.cuda_batches, 1]))
    if "cpu" in cfg.backends and "engine" in cfg.scopes:
        for t in cfg.threads:
            eng = Engine(CpuBackend(workers=t), limits)
            stack.callback(eng.close)
            engines[f"cpu:{t}"] = eng
    for name in ("emu", "cuda"):
        if name in cfg.backends and "engine" in cfg.scopes:
            try:
                from verifier.selftest import run_selftest

                backend = create_backend(name)
                run_selftest(backend)
                eng = Engine(backend, limits)
                stack.callback(eng.close)
                engines[name] = eng
            except VerifierError as exc:
                skip(name, "engine", str(exc))
    if "cuda" in cfg.backends and "kernel" in cfg.scopes:
        for kind in cfg.kinds:
            timer, source, why = runners.kernel_timer(kind)
            if timer is None:
                skip("cuda", "kernel", why, kind)
            else:
                kernel_timers[kind] = (timer, source)
    elif "kernel" in cfg.scopes and "cuda" not in cfg.backends:
        skip("cuda", "kernel", "backend cuda not asked for")
    if "grpc" in cfg.scopes:
        unavailable = {s["backend"] for s in skipped if s["scope"] == "engine"}
        for name in cfg.backends:
            if name in ("emu", "cuda") and name in unavailable:
                skip(name, "grpc", "backend unavailable (see engine)")
                continue
            try:
                servers[name] = runners.ServerProcess(name)
                stack.callback(servers[name].close)
            except (RuntimeError, OSError) as exc:
                skip(name, "grpc", str(exc))
    return engines, servers, kernel_timers


def _measure_tasks(cfg: SweepConfig, tasks: list[_Task], skip: _Skip) -> list[Record]:
    """Each task's record, in order; a task that fails (other than with wrong verdicts) is skipped."""
    progress = Progress(len(tasks), enabled=cfg.progress)
    results: list[Record] = []
    workloads: dict[tuple[str, int], Workload] = {}
    top = max([*cfg.batches, *cfg.cuda_batches, 1])
    try:
        for task in tasks:
            progress.step(task.label)
            key = (task.kind, task.param)
            if key not in workloads:
                workloads[key] = _workload(task.kind, task.param, min(POOL, top), cfg.seed)
            try:
                sample = task.run(workloads[key])
            except VerdictMismatchError:
                raise  # wrong answers: no figure of this run can be trusted
            except Exception as exc:  # noqa: BLE001  e.g. out of device memory at 2^20: the rest goes on
                skip(
                    task.fields["backend"],
                    task.fields["scope"],
                    f"batch {task.batch}, {_param_field(task.kind)} {task.param}: {type(exc).__name__}: {exc}",
                    task.kind,
                )
                progress.advance()
                continue
            results.append(
                {
                    "kind": task.kind,
                    **task.fields,
                    "batch": task.batch,
                    _param_field(task.kind): task.param,
                    **sample.summary(),
                    "valid_count": sample.valid,
                    "invalid_count": task.batch - sample.valid,
                }
            )
            progress.advance()
    finally:
        progress.close()
    return results


def _plan(
    cfg: SweepConfig,
    engines: dict[str, Engine],
    servers: dict[str, runners.ServerProcess],
    kernel_timers: dict[str, tuple[runners.KernelTimer, str]],
) -> Iterator[_Task]:
    cpu_batches = sorted(set(cfg.batches))
    cuda_batches = sorted(set(cfg.cuda_batches))
    gpu_active = "cuda" in engines or "cuda" in servers or bool(kernel_timers)
    peer_batches = sorted(
        b for b in set(cpu_batches) | (set(cuda_batches) if gpu_active else set()) if b <= cfg.peer_max_batch
    )
    timing = _Timing(cfg.warmup, cfg.repeats, cfg.min_time)

    def timed(
        make: Callable[[Workload, int], runners.Call], n: int, what: str
    ) -> Callable[[Workload], Sample]:
        return lambda w: measure(
            make(w, n),
            n,
            w.expected_valid(n),
            what=what,
            warmup=timing.warmup,
            repeats=timing.repeats,
            min_time=timing.min_time,
        )

    for kind in cfg.kinds:
        for param in cfg.params(kind):
            pdesc = f"{_param_field(kind).replace('_', ' ')} {param}"
            for n in peer_batches:
                for peer in bench_kind(kind).peers:
                    what = f"{kind} {peer} batch {n} {pdesc}"
                    yield _Task(
                        what,
                        kind,
                        param,
                        n,
                        {"backend": peer, "scope": "peer", "threads": 1},
                        timed(functools.partial(_peer, peer), n, what),
                    )
            for name, eng in engines.items():
                if kind not in eng.backend.policies:
                    continue  # no kernel for it there: the engine would run it on the CPU, under this name
                backend, _, threads = name.partition(":")
                for n in cuda_batches if backend == "cuda" else cpu_batches:
                    what = f"{kind} {backend}{'x' + threads if threads else ''} engine batch {n} {pdesc}"
                    fields = {
                        "backend": backend,
                        "scope": "engine",
                        "threads": int(threads) if threads else _workers(eng),
                    }
                    yield _Task(
                        what,
                        kind,
                        param,
                        n,
                        fields,
                        timed(functools.partial(runners.engine_call, eng), n, what),
                    )
            if kind in kernel_timers:
                timer, source = kernel_timers[kind]
                for n in cuda_batches:
                    what = f"{kind} cuda kernel batch {n} {pdesc}"
                    fields = {"backend": "cuda", "scope": "kernel", "threads": None, "kernel_timer": source}
                    yield _Task(what, kind, param, n, fields, _kernel_run(timer, n, cfg.repeats, what))
            for name, server in servers.items():
                runner = {"cpu": "cpu", "emu": "host", "cuda": "cuda"}[name]
                if getattr(schemes.scheme(kind), runner) is None:
                    continue  # no kernel for it on that backend: the server would run it on the CPU
                for n in cuda_batches if name == "cuda" else cpu_batches:
                    if n > cfg.grpc_max_batch:
                        continue
                    what = f"{kind} {name} grpc x{cfg.grpc_clients} clients batch {n} {pdesc}"
                    fields = {
                        "backend": name,
                        "scope": "grpc",
                        "threads": cpu_cores() if name == "cpu" else None,
                        "clients": cfg.grpc_clients,
                    }
                    yield _Task(
                        what,
                        kind,
                        param,
                        n,
                        fields,
                        _grpc_run(server.target, cfg.grpc_clients, n, what, timing),
                    )


def _peer(peer: str, w: Workload, n: int) -> runners.Call:
    return runners.peer_call(peer, w, n)


def _workers(engine: Engine) -> int | None:
    devices = engine.backend.devices()
    return devices[0].workers if devices else None


@dataclasses.dataclass(frozen=True)
class _Timing:
    warmup: int
    repeats: int
    min_time: float


def _grpc_run(target: str, clients: int, n: int, what: str, timing: _Timing) -> Callable[[Workload], Sample]:
    from verifier.client import Client

    def run(w: Workload) -> Sample:
        with ExitStack() as stack:
            conns = [stack.enter_context(Client(target, timeout=600)) for _ in range(clients)]
            calls = [runners.grpc_call(c, w, n) for c in conns]
            return measure_concurrent(
                calls,
                n,
                w.expected_valid(n),
                what=what,
                warmup=timing.warmup,
                repeats=timing.repeats,
                min_time=timing.min_time,
            )

    return run


def _kernel_run(timer: runners.KernelTimer, n: int, repeats: int, what: str) -> Callable[[Workload], Sample]:
    from verifier.bench.timing import _check

    def run(w: Workload) -> Sample:
        times, verdicts = timer(w.batch(n), max(1, repeats))
        valid = runners.kernel_call_valid(verdicts)
        _check(valid, w.expected_valid(n), what)
        return Sample([n / t for t in times], list(times), len(times), valid)

    return run


def _add_ratios(results: list[Record]) -> None:
    """``ratio``: items/s over the reference peer's (PyNaCl; hashlib for Merkle) on the same items; where
    the peer was not run at that batch size (past ``peer_max_batch``), its figure at the largest batch it
    ran (a straight loop's rate does not depend on the batch size) and ``ratio_reference_batch`` says so."""
    refs: dict[tuple[str, int], dict[int, float]] = {}
    for r in results:
        if r["scope"] == "peer" and r["backend"] == bench_kind(r["kind"]).reference_peer:
            refs.setdefault((r["kind"], _param(r)), {})[r["batch"]] = r["items_per_second"]
    for r in results:
        table = refs.get((r["kind"], _param(r)))
        r["ratio_to"] = bench_kind(r["kind"]).reference_peer
        if not table:
            r["ratio"] = None
            continue
        batch = (
            r["batch"]
            if r["batch"] in table
            else max(b for b in table if b <= r["batch"])
            if any(b <= r["batch"] for b in table)
            else min(table)
        )
        r["ratio"] = r["items_per_second"] / table[batch]
        if batch != r["batch"]:
            r["ratio_reference_batch"] = batch


def _param(r: Record) -> int:
    return param_of(r)


def default_out() -> Path:
    return Path("benchmarks") / "results"
