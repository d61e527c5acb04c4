"""``verifier bench``: the benchmark suite (GPU against CPU and against peers, with tables and plots).

Sweeps kind (ed25519, merkle) x backend (cpu with 1..N threads, emu when asked, cuda) x batch size x message
size or proof depth, in the scopes kernel (CUDA events), engine (Python API, copies included) and grpc (a
``verifier serve`` child process on loopback and concurrent ``verifier.Client`` threads); peers measured
in the same run on the same items: PyNaCl and ``cryptography`` single thread, hashlib for Merkle.

Writes into ``--out`` (default ``./bench-out/``, so a trial run changes nothing the repository or the
server uses): ``<prefix>-<date>.json`` (every record), ``<prefix>.md`` (tables), ``<prefix>-throughput.png``
and ``<prefix>-latency.png``, where ``<prefix>`` is ``suite-<device>[-quick]``; and the crossover batch
size to ``--crossover-out`` (default ``<out>/crossover.json``). ``load_crossover()`` reads the router's
from ``benchmarks/results/crossover.json`` (or ``$VERIFIER_CROSSOVER_FILE``): ``--out benchmarks/results``
records a run there, the checked-in figures and the crossover ``verifier serve`` uses.

    python -m verifier.bench --quick                 # < 1 minute, CPU; what CI runs
    python -m verifier.bench                         # the full sweep (minutes; on a quiet machine)
    python -m verifier.bench --kinds merkle --backends cuda --scopes kernel engine
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from verifier.crossover import CROSSOVER_ENV, default_crossover_path, load_crossover

__all__ = [
    "CROSSOVER_ENV",
    "DEFAULT_OUT",
    "add_arguments",
    "default_crossover_path",
    "load_crossover",
    "main",
    "run_args",
]

DEFAULT_OUT = "bench-out"  # relative to the working directory

_DESCRIPTION = "The benchmark suite: GPU against CPU and against peers, side by side, with tables and plots."
_FULL_BATCHES = [4**i for i in range(8)]  # 1 .. 16384
_FULL_CUDA_BATCHES = [4**i for i in range(11)]  # 1 .. 2^20
_QUICK_BATCHES = [1, 16, 256, 1024]
_QUICK_CUDA_BATCHES = [1, 64, 4096, 65536]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, for ``verifier bench`` or ``python -m verifier.bench``."""
    from verifier.bench.kinds import KINDS
    from verifier.bench.suite import BACKENDS, SCOPES

    a = parser.add_argument
    a(
        "--quick",
        action="store_true",
        help="CI mode, under a minute on 2 cores: batches 1 16 256 1024, message 128 B, depth 20, threads 1 and all, "
        "2 repetitions (options given explicitly still win)",
    )
    a(
        "--out",
        type=Path,
        default=None,
        help=f"output directory (default ./{DEFAULT_OUT}; benchmarks/results to record the figures and the "
        "crossover that verifier serve reads)",
    )
    a("--crossover-out", type=Path, default=None, help="crossover file (default <out>/crossover.json)")
    a("--kinds", nargs="+", choices=KINDS, default=None, help=f"default: {' '.join(KINDS)}")
    a(
        "--backends",
        nargs="+",
        choices=BACKENDS,
        default=None,
        help="default: cpu cuda (cuda is skipped, with the reason recorded, when no GPU is usable); "
        "emu is measured only when named here",
    )
    a(
        "--scopes",
        nargs="+",
        choices=SCOPES,
        default=None,
        help="default: kernel engine grpc (kernel is cuda only)",
    )
    a(
        "--threads",
        type=_positive_int,
        nargs="+",
        default=None,
        help="cpu thread counts (default 1 2 4 .. cores)",
    )
    a(
        "--batches",
        type=_positive_int,
        nargs="+",
        default=None,
        help="cpu/emu batch sizes (default 1 4 16 .. 16384)",
    )
    a(
        "--cuda-batches",
        type=_positive_int,
        nargs="+",
        default=None,
        help="cuda batch sizes (default 1 4 16 .. 1048576)",
    )
    a(
        "--message-bytes",
        type=_positive_int,
        nargs="+",
        default=None,
        help="Ed25519 message sizes (default 32 128 1232)",
    )
    a("--depths", type=_positive_int, nargs="+", default=None, help="Merkle proof depths (default 8 20 32)")
    a("--repeats", type=int, default=None, help="timed repetitions per figure (default 5; quick 2)")
    a("--warmup", type=int, default=None, help="untimed calls before (default 1)")
    a(
        "--min-time",
        type=float,
        default=None,
        help="seconds each repetition runs at least (default 0.2; quick 0.05)",
    )
    a(
        "--grpc-clients",
        type=int,
        default=None,
        help="concurrent client threads in scope grpc (default 4; quick 2)",
    )
    a("--grpc-max-batch", type=int, default=None, help="largest batch sent over gRPC (default 65536)")
    a(
        "--peer-max-batch",
        type=int,
        default=None,
        help="largest batch the single-thread peers run (default 16384; quick 4096); larger batches take the "
        "peer's figure at this size for their ratio",
    )
    a("--seed", type=int, default=0, help="items seed (default 0)")
    a("--no-plots", action="store_true", help="skip the PNG plots (matplotlib not needed)")
    a("--no-progress", action="store_true", help="no progress bar on stderr")


def _config(args: argparse.Namespace) -> Any:
    from verifier.bench.environment import cpu_cores
    from verifier.bench.kinds import KINDS
    from verifier.bench.suite import SweepConfig

    quick = bool(args.quick)
    cores = cpu_cores()
    threads = sorted({*(2**i for i in range(cores.bit_length()) if 2**i <= cores), cores})

    def pick(value: Any, full: Any, fast: Any) -> Any:
        return value if value is not None else (fast if quick else full)

    return SweepConfig(
        kinds=pick(args.kinds, list(KINDS), list(KINDS)),
        backends=pick(args.backends, ["cpu", "cuda"], ["cpu", "cuda"]),
        scopes=pick(args.scopes, ["kernel", "engine", "grpc"], ["kernel", "engine", "grpc"]),
        threads=sorted(set(pick(args.threads, threads, sorted({1, cores})))),
        batches=sorted(set(pick(args.batches, _FULL_BATCHES, _QUICK_BATCHES))),
        cuda_batches=sorted(set(pick(args.cuda_batches, _FULL_CUDA_BATCHES, _QUICK_CUDA_BATCHES))),
        message_bytes=pick(args.message_bytes, [32, 128, 1232], [128]),
        depths=pick(args.depths, [8, 20, 32], [20]),
        repeats=max(1, pick(args.repeats, 5, 2)),
        warmup=max(0, pick(args.warmup, 1, 1)),
        min_time=max(0.0, pick(args.min_time, 0.2, 0.05)),
        grpc_clients=max(1, pick(args.grpc_clients, 4, 2)),
        grpc_max_batch=pick(args.grpc_max_batch, 1 << 16, 1 << 16),
        peer_max_batch=pick(args.peer_max_batch, 1 << 14, 4096),
        seed=args.seed,
        quick=quick,
        progress=not args.no_progress,
    )


def run_args(args: argparse.Namespace) -> int:
    """Run the suite with parsed ``add_arguments`` options; print where everything went. Exit status."""
    from verifier.bench import report
    from verifier.bench.suite import run_sweep
    from verifier.bench.timing import VerdictMismatchError

    cfg = _config(args)
    if any(d > 63 for d in cfg.depths):
        print("verifier bench: --depths must be at most 63 (tree sizes are 64-bit)", file=sys.stderr)
        return 2
    out: Path = args.out if args.out is not None else Path(DEFAULT_OUT)
    try:
        run = run_sweep(cfg)
    except VerdictMismatchError as exc:
        print(f"verifier bench: verdicts disagree, figures discarded: {exc}", file=sys.stderr)
        return 1
    crossovers = report.find_crossovers(run)
    prefix = report.output_prefix(run, out)
    date = run.date[:10].replace("-", "")
    json_path = report.write_json(run, out / f"{prefix}-{date}.json", crossovers)
    plots: list[Path] = []
    if not args.no_plots:
        try:
            plots = report.write_plots(run, crossovers, out / prefix)
        except ImportError as exc:
            print(
                f"verifier bench: no plots: matplotlib is not installed ({exc}); "
                "pip install 'verifier[bench]'",
                file=sys.stderr,
            )
    md_path = report.write_markdown(run, crossovers, plots, out / f"{prefix}.md")
    cross_path, cross_note = report.write_crossover(
        run, crossovers, args.crossover_out or out / "crossover.json"
    )

    print(f"{report.hardware_line(run)}; commit {run.commit}; {len(run.results)} figures")
    print("\n".join(report._summary_table(run)))
    for c in crossovers.values():
        print(
            f"crossover {c.kind} {c.param_field} {c.param}: {c.batch if c.batch is not None else 'none'} ({c.note})"
        )
    for s in run.skipped:
        print(f"skipped {s['kind']} {s['backend']} {s['scope']}: {s['reason']}")
    print(f"wrote {json_path}")
    print(f"wrote {md_path}")
    for p in plots:
        print(f"wrote {p}")
    print(f"wrote {cross_path}" if cross_path is not None else f"crossover: {cross_note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verifier bench",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    return run_args(args)
