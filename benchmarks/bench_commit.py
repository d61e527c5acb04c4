"""CometBFT commit verification: a commit of N validators (default 150), in process and over gRPC.

Scope ``engine``: from the /commit JSON text to the answer in this process, per backend and mode: commits/s
and ms per commit (median of --repeat runs of --commits commits), wall and process CPU time, and the split:
parse the JSON, build the sign bytes. Twice: with the set's keys decoded per item, and with the set
registered in the engine's key store first (``engine_verifier(..., validators)``, as the server does for
a registered set). Beside it, this machine's limit for the old approach: the commit's
signatures verified by raw PyNaCl (libsodium, one at a time) in one process per core, all at once, as ms
for the whole set (issue 16's yardstick: a full commit in at most 1/1.5 of that). In full mode the
yardstick and the commit are also timed in turns (--rounds times each, best of each compared), so both
see the same moments of a noisy machine. The validator set is parsed once (as the registry does). Policy
zip215 (what CometBFT uses; on the cpu backend the host build of the kernel), or libsodium with
--policy libsodium for comparison.

Scope ``grpc`` (--grpc): a ``verifier serve`` child process on loopback; the set registered once, then
VerifyCommit with the protobuf commit and the set's hash: latency of one caller (p50/p99, request to
answer) and throughput of --clients concurrent callers (commits/s). Printed, not asserted.

    .venv/bin/python benchmarks/bench_commit.py [--validators 32 150 500] [--commits 50] [--repeat 5] [--rounds 7]
        [--backends cpu,emu] [--modes full,light] [--grpc] [--clients 4] [--save]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import random  # noqa: E402

import verifier  # noqa: E402
from benchmarks._common import cpu_model, save  # noqa: E402
from tests.support import cometbft_ref as ref  # noqa: E402
from verifier import cometbft as cb  # noqa: E402
from verifier.errors import BackendUnavailableError  # noqa: E402
from verifier.verdict import Policy  # noqa: E402


def _time(fn: Callable[[], Any], count: int, repeat: int) -> tuple[float, float]:
    """Median (wall seconds, process CPU seconds) per call, over ``repeat`` runs of ``count`` calls."""
    fn()  # warm-up
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(count):
            fn()
        walls.append((time.perf_counter() - w) / count)
        cpus.append((time.process_time() - c) / count)
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--validators", type=int, nargs="+", default=[150], help="set sizes to sweep (default 150)"
    )
    parser.add_argument("--commits", type=int, default=50, help="commits per timed run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--rounds",
        type=int,
        default=7,
        help="full mode: turns of (PyNaCl limit, --commits commits), best of each compared",
    )
    parser.add_argument("--backends", default="cpu,emu")
    parser.add_argument("--modes", default="full,light")
    parser.add_argument("--absent", type=float, default=0.0, help="fraction of absent votes")
    parser.add_argument("--policy", choices=["zip215", "libsodium"], default="zip215")
    parser.add_argument(
        "--grpc", action="store_true", help="also measure VerifyCommit through a local server"
    )
    parser.add_argument(
        "--clients", type=int, default=4, help="concurrent callers in the grpc throughput run"
    )
    parser.add_argument(
        "--save", action="store_true", help="write benchmarks/results/cometbft-commit-<date>.json"
    )
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    splits: dict[str, Any] = {}
    for n in args.validators:
        got, split = _one_size(n, args)
        results += got
        splits[str(n)] = split
    if args.save:
        gpu = next((r["device_name"] for r in results if r["backend"] == "cuda"), None)
        device = f"cuda: {gpu}" if gpu else f"cpu: {cpu_model()} ({os.cpu_count()} cores)"
        path = save("cometbft-commit", device, results, {"split_ms_by_validators": splits})
        print(f"wrote {path}")
    return 0


def _pynacl_rate(items: list[tuple[bytes, bytes]]) -> float:
    """One process: raw PyNaCl over ``items`` (signed message, key) again and again for about 0.3 s,
    signatures/s of the best of 2 passes."""
    from nacl.bindings import crypto_sign_open

    rounds = max(1, 600 // len(items))
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(rounds):
            for sm, pk in items:
                crypto_sign_open(sm, pk)
        best = min(best, (time.perf_counter() - start) / rounds)
    return len(items) / best


class _PynaclLimit:
    """This machine's limit for the old approach: the commit's signatures at the summed rate of one
    raw-PyNaCl process per core; ``sample()`` measures it once (ms for the whole set)."""

    def __init__(self, commit: cb.Commit, vals: cb.ValidatorSet) -> None:
        import multiprocessing

        pks, sigs, msgs = cb.plan_commit(None, vals, commit, mode="full").signatures()
        self._items = [(bytes(s) + m, bytes(k)) for k, s, m in zip(pks, sigs, msgs, strict=True)]
        self._cores = os.cpu_count() or 1
        self._pool = multiprocessing.get_context("spawn").Pool(self._cores)

    def sample(self) -> float:
        rate = sum(self._pool.map(_pynacl_rate, [self._items] * self._cores))
        return len(self._items) / rate * 1e3

    def close(self) -> None:
        self._pool.terminate()


def _ms_per_call(fn: Callable[[], Any], count: int) -> float:
    return _time(fn, count, 1)[0] * 1e3


def _interleaved(limit: _PynaclLimit, commit_ms: Callable[[], float], rounds: int) -> dict[str, float]:
    """The yardstick and a commit timing taken in turns, ``rounds`` times each, so that both see the same
    moments of this noisy machine: the best and the median of each, and the ratio of the bests."""
    limits, commits = [], []
    for _ in range(rounds):
        limits.append(limit.sample())
        commits.append(commit_ms())
    return {
        "pynacl_limit_ms_best": min(limits),
        "pynacl_limit_ms_median": statistics.median(limits),
        "ms_per_commit_best": min(commits),
        "ms_per_commit_median_of_rounds": statistics.median(commits),
        "ratio_best_to_best": min(limits) / min(commits),
        "rounds": rounds,
    }


def _one_size(validators: int, args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, float]]:
    gen = ref.generate(random.Random(1), validators, p_absent=args.absent, p_nil=0.0)
    commit_text = json.dumps(gen.commit_json())
    vals = cb.parse_validators(ref.validators_json(gen.validators, per_page=100))
    commit = cb.parse_commit(commit_text)
    present = [i for i, s in enumerate(commit.signatures) if not s.absent]
    print(
        f"commit of {validators} validators ({len(present)} signatures, "
        f"{len(commit_text)} bytes of JSON); CPU {cpu_model()}"
    )

    parse_w, parse_c = _time(lambda: cb.parse_commit(commit_text), args.commits, args.repeat)
    sb_w, sb_c = _time(lambda: commit.vote_sign_bytes_many(gen.chain_id, present), args.commits, args.repeat)
    print(f"  parse /commit JSON   {parse_w * 1e3:8.3f} ms   (cpu {parse_c * 1e3:.3f} ms)")
    print(f"  sign bytes (all)     {sb_w * 1e3:8.3f} ms   (cpu {sb_c * 1e3:.3f} ms)")
    limit = _PynaclLimit(commit, vals)
    limit_ms = min(limit.sample() for _ in range(3))
    print(f"  raw PyNaCl, {os.cpu_count()} processes {limit_ms:8.3f} ms for the {len(present)} signatures")

    results: list[dict[str, Any]] = []
    devices: dict[str, str] = {}
    for backend in args.backends.split(","):
        try:
            engine = verifier.get_engine(backend)
        except BackendUnavailableError as exc:
            print(f"  {backend}: unavailable ({exc})")
            continue
        policy = Policy(args.policy)
        if policy not in engine.policies:
            print(f"  {backend}: no policy {policy.value}")
            continue
        devices[backend] = engine.backend.devices()[0].name
        ways = (
            ("engine", cb.engine_verifier(engine, policy)),
            ("engine-registered", cb.engine_verifier(engine, policy, vals)),
        )
        # The signatures alone: the full commit's batch through each verify function (no parsing, no walk).
        pks, sigs, msgs = cb.plan_commit(None, vals, commit, mode="full").signatures()
        for scope, verify in ways:
            alone, _ = _time(functools.partial(verify, pks, sigs, msgs), args.commits, args.repeat)
            print(f"  {backend:4s} {scope:17s} the {len(msgs)} signatures alone {alone * 1e3:8.3f} ms")
            results.append(
                {
                    "kind": "cometbft-commit-signatures",
                    "backend": backend,
                    "scope": scope,
                    "policy": policy.value,
                    "validators": validators,
                    "signatures_verified": len(msgs),
                    "ms_per_batch": alone * 1e3,
                    "ratio_to_pynacl_limit": limit_ms / (alone * 1e3),
                }
            )
        for (scope, verify), mode in itertools.product(ways, args.modes.split(",")):

            def end_to_end(verify: cb.VerifyFn = verify, mode: str = mode) -> cb.CommitResult:
                r = cb.verify_commit(None, vals, cb.parse_commit(commit_text), verify=verify, mode=mode)
                assert r.valid, r.error
                return r

            checked = end_to_end().checked_count
            wall, cpu = _time(end_to_end, args.commits, args.repeat)
            turns = (
                _interleaved(limit, functools.partial(_ms_per_call, end_to_end, args.commits), args.rounds)
                if mode == "full"
                else {}
            )
            print(
                f"  {backend:4s} {policy.value:9s} {mode:8s} {wall * 1e3:8.3f} ms/commit  "
                f"{1 / wall:8.1f} commits/s  "
                f"(cpu {cpu * 1e3:.3f} ms; {checked} signatures verified"
                f"{'; set registered, keys stored' if scope != 'engine' else ''})"
            )
            results.append(
                {
                    "kind": "cometbft-commit",
                    "backend": backend,
                    "scope": scope,
                    "policy": policy.value,
                    "mode": mode,
                    "validators": validators,
                    "signatures_verified": checked,
                    "ms_per_commit": wall * 1e3,
                    "commits_per_s": 1 / wall,
                    "items_per_second": checked / wall,
                    "cpu_ms_per_commit": cpu * 1e3,
                    **({"interleaved_with_pynacl_limit": turns} if turns else {}),
                }
            )
            if turns:
                print(
                    f"  {'':4s} {'':9s} {mode:8s} interleaved, best of {args.rounds}: "
                    f"{turns['ms_per_commit_best']:.3f} ms/commit against the PyNaCl limit's "
                    f"{turns['pynacl_limit_ms_best']:.3f} ms: {turns['ratio_best_to_best']:.2f} x"
                )
        if args.grpc and policy is Policy.ZIP215:
            results += _grpc_scope(backend, commit, vals, args)
    limit.close()
    for r in results:
        r["device_name"] = devices.get(r["backend"], "")
    for r in results:
        if r["kind"] == "cometbft-commit" and r["scope"].startswith("engine"):
            r["ratio_to_pynacl_limit"] = limit_ms / r["ms_per_commit"]
    return results, {"parse_ms": parse_w * 1e3, "sign_bytes_ms": sb_w * 1e3, "pynacl_limit_ms": limit_ms}


_GRPC_MIN_TIME = 0.5  # seconds each timed repetition of the grpc scope runs at least


def _grpc_scope(
    backend: str, commit: cb.Commit, vals: cb.ValidatorSet, args: argparse.Namespace
) -> list[dict[str, Any]]:
    from verifier import convert
    from verifier.bench.runners import ServerProcess
    from verifier.bench.timing import measure, measure_concurrent
    from verifier.client import Client
    from verifier.v1 import verifier_pb2 as pb2

    server = ServerProcess(backend)
    out: list[dict[str, Any]] = []
    try:
        with Client(server.target) as client:
            set_hash = client.register_validator_set(vals)
            msg, header = convert.commit_to_proto(commit)
            stub = (
                client._stub
            )  # the request is built once: the figures are the server's, not the client's packing
            for mode in args.modes.split(","):
                request = pb2.VerifyCommitRequest(
                    commit=msg,
                    header=header,
                    validator_set_hash=set_hash,
                    mode=convert.MODE_VALUES[cb.Mode(mode)],
                )
                response = stub.VerifyCommit(request, timeout=60)
                assert response.valid, response.error
                checked = sum(1 for v in response.verdicts if v != cb.NOT_CHECKED)
                # One commit per call, checked valid on every call; the suite's own timers (median of
                # --repeat repetitions, latency of every call).
                what = f"VerifyCommit {backend} {mode}"

                def call(request: Any = request) -> int:
                    return int(stub.VerifyCommit(request, timeout=60).valid)

                one = measure(call, 1, 1, what=what, repeats=args.repeat, min_time=_GRPC_MIN_TIME).summary()
                many = measure_concurrent(
                    [call] * args.clients, 1, 1, what=what, repeats=args.repeat, min_time=_GRPC_MIN_TIME
                ).summary()
                p50, p99 = float(one["latency_p50_ms"]) / 1e3, float(one["latency_p99_ms"]) / 1e3
                rate = float(many["items_per_second"])
                print(
                    f"  {backend:4s} grpc      {mode:8s} one caller p50 {p50 * 1e3:7.3f} ms  p99 {p99 * 1e3:7.3f} ms;  "
                    f"{args.clients} callers {rate:8.1f} commits/s ({checked} signatures each; backend {response.backend})"
                )
                out.append(
                    {
                        "kind": "cometbft-commit",
                        "backend": backend,
                        "scope": "grpc",
                        "policy": "zip215",
                        "mode": mode,
                        "validators": len(vals),
                        "signatures_verified": checked,
                        "latency_ms_p50": p50 * 1e3,
                        "latency_ms_p99": p99 * 1e3,
                        "clients": args.clients,
                        "commits_per_s": rate,
                        "items_per_second": rate * checked,
                        "request": "protobuf commit + registered validator-set hash",
                    }
                )
    finally:
        server.close()
    return out


if __name__ == "__main__":
    sys.exit(main())
