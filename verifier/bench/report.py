"""Outputs of a run: the JSON document, a Markdown table, PNG plots, and the crossover file."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from verifier.bench.environment import slug
from verifier.bench.kinds import KINDS, bench_kind, param_of
from verifier.bench.suite import Record, RunResult

__all__ = [
    "Crossover",
    "Outputs",
    "find_crossovers",
    "series_label",
    "write_crossover",
    "write_json",
    "write_markdown",
    "write_plots",
]

_PEERS = {"pynacl", "cryptography", "hashlib"}


@dataclasses.dataclass(frozen=True)
class Crossover:
    kind: str
    param_field: str
    param: int
    batch: int | None
    backend: str | None  # the candidate that had to beat the CPU; None when none was measured
    against: str | None  # the CPU series it was compared with
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "crossover_batch": self.batch,
            "backend": self.backend,
            "against": self.against,
            "scope": "engine",
            self.param_field: self.param,
            "note": self.note,
        }


@dataclasses.dataclass(frozen=True)
class Outputs:
    json: Path
    markdown: Path
    plots: list[Path]
    crossover: Path | None


def _param_field(kind: str) -> str:
    return bench_kind(kind).param_field


def _param(r: Record) -> int:
    return param_of(r)


def series_key(r: Record) -> tuple[str, str, int | None, int | None]:
    return (r["backend"], r["scope"], r.get("threads"), r.get("clients"))


def series_label(r: Record) -> str:
    backend, scope, threads, clients = series_key(r)
    if scope == "peer":
        return {
            "pynacl": "PyNaCl 1 thread",
            "cryptography": "cryptography 1 thread",
            "hashlib": "hashlib 1 thread",
        }.get(backend, backend)
    if scope == "grpc":
        return f"{backend} gRPC ({clients} clients)"
    if backend == "cpu" and threads:
        return f"cpu {threads} thr {scope}"
    return f"{backend} {scope}"


def _series_order(key: tuple[str, str, int | None, int | None]) -> tuple[int, int, int, int]:
    backend, scope, threads, _ = key
    b = {"pynacl": 0, "cryptography": 1, "hashlib": 0, "cpu": 2, "emu": 3, "cuda": 4}.get(backend, 5)
    s = {"peer": 0, "engine": 1, "kernel": 2, "grpc": 3}.get(scope, 4)
    return (b, s, threads or 0, 0)


def _groups(results: list[Record]) -> dict[tuple[str, int], list[Record]]:
    out: dict[tuple[str, int], list[Record]] = {}
    for r in results:
        out.setdefault((r["kind"], _param(r)), []).append(r)
    return out


def _series(records: Iterable[Record]) -> dict[tuple[str, str, int | None, int | None], list[Record]]:
    out: dict[tuple[str, str, int | None, int | None], list[Record]] = {}
    for r in records:
        out.setdefault(series_key(r), []).append(r)
    for rows in out.values():
        rows.sort(key=lambda r: r["batch"])
    return dict(sorted(out.items(), key=lambda kv: _series_order(kv[0])))


# ------------------------------------------------------------------------------------------------ crossover


def find_crossovers(run: RunResult) -> dict[tuple[str, int], Crossover]:
    """Per (kind, parameter): the smallest batch from which the candidate beats the best CPU series at
    every larger batch measured (engine scope). The candidate is cuda when it was measured, else emu when
    asked for; with neither the crossover is None. Past the largest CPU batch measured, the CPU's figure
    at that batch stands in (its throughput is flat there)."""
    out: dict[tuple[str, int], Crossover] = {}
    for (kind, param), rows in _groups(run.results).items():
        engine = [r for r in rows if r["scope"] == "engine"]
        cpu = [r for r in engine if r["backend"] == "cpu"]
        field = _param_field(kind)
        cand_name = next((b for b in ("cuda", "emu") if any(r["backend"] == b for r in engine)), None)
        if not cpu:
            out[(kind, param)] = Crossover(kind, field, param, None, cand_name, None, "no CPU engine figures")
            continue
        best_threads = max(int(r["threads"] or 1) for r in cpu)
        cpu_rate = {r["batch"]: r["items_per_second"] for r in cpu if int(r["threads"] or 1) == best_threads}
        against = f"cpu {best_threads} threads"
        if cand_name is None:
            why = [s["reason"] for s in run.skipped if s["backend"] == "cuda"]
            note = "no GPU measured" + (f" ({why[0]})" if why else "")
            out[(kind, param)] = Crossover(kind, field, param, None, None, against, note)
            continue
        cand = sorted((r["batch"], r["items_per_second"]) for r in engine if r["backend"] == cand_name)
        wins: list[tuple[int, bool]] = []
        for batch, rate in cand:
            below = [b for b in cpu_rate if b <= batch]
            ref = cpu_rate[max(below)] if below else cpu_rate[min(cpu_rate)]
            wins.append((batch, rate > ref))
        crossover: int | None = None
        for batch, won in reversed(wins):
            if not won:
                break
            crossover = batch
        top = cand[-1][0] if cand else 0
        note = (
            f"{cand_name} beats {against} from batch {crossover}"
            if crossover is not None
            else f"{cand_name} never beat {against} up to batch {top}"
        )
        out[(kind, param)] = Crossover(kind, field, param, crossover, cand_name, against, note)
    return out


def _primary(crossovers: dict[tuple[str, int], Crossover], kind: str) -> Crossover | None:
    mine = [c for (k, _), c in crossovers.items() if k == kind]
    if not mine:
        return None
    return next((c for c in mine if c.param == bench_kind(kind).primary_param), mine[0])


def write_crossover(
    run: RunResult, crossovers: dict[tuple[str, int], Crossover], path: Path
) -> tuple[Path | None, str]:
    """Write the crossover file the server's router reads. A run that measured no GPU does not replace a
    file that holds a GPU's crossover (a CPU-only CI run must not erase the H100's figure)."""
    kinds: dict[str, Any] = {}
    for kind in dict.fromkeys(k for k, _ in crossovers):
        c = _primary(crossovers, kind)
        assert c is not None
        entry = c.as_dict()
        entry["by_param"] = {str(p): x.batch for (k, p), x in sorted(crossovers.items()) if k == kind}
        kinds[kind] = entry
    if not kinds:
        return None, "no figures to compute a crossover from"
    old = _read_json(path)
    measured_gpu = any(v["backend"] is not None for v in kinds.values())
    raw = old.get("kinds")
    old_kinds: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if not measured_gpu and any(isinstance(v, dict) and v.get("backend") for v in old_kinds.values()):
        return (
            None,
            f"kept {path}: it holds figures measured on {old.get('device')}; this run measured no GPU",
        )
    if old.get("device") == run.device:  # a run of one kind keeps the other kinds of the same machine
        kinds = {k: v for k, v in old_kinds.items() if k not in kinds} | kinds
    first = next((k for k in KINDS if k in kinds), next(iter(kinds)))  # the first scheme: the legacy fields
    doc = {
        "device": run.device,
        "kind": first,
        "crossover_batch": kinds[first]["crossover_batch"],
        "measured_at": run.date,
        "commit": run.commit,
        "kinds": kinds,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path, ""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


# ------------------------------------------------------------------------------------------------ JSON, Markdown


def write_json(run: RunResult, path: Path, crossovers: dict[tuple[str, int], Crossover]) -> Path:
    doc = run.document()
    doc["crossover"] = [c.as_dict() | {"kind": c.kind} for c in crossovers.values()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path


def _fmt_rate(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e4:
        return f"{v / 1e3:.0f} k"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k"
    return f"{v:.0f}"


def _cell(r: Record | None) -> str:
    if r is None:
        return ""
    ratio = f" ({r['ratio']:.2f}x)" if r.get("ratio") is not None else ""
    return _fmt_rate(r["items_per_second"]) + ratio


def _summary_table(run: RunResult) -> list[str]:
    """One row per series, one column per (kind, parameter): items/s at the largest batch both measured."""
    groups = _groups(run.results)
    cols = sorted(groups, key=lambda kp: (kp[0], kp[1]))
    series = _series(run.results)
    head = ["series"] + [f"{k} {bench_kind(k).param_short} {p}{bench_kind(k).unit}" for k, p in cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rows in series.values():
        cells = [series_label(rows[0])]
        for kind, param in cols:
            mine = [r for r in rows if r["kind"] == kind and _param(r) == param]
            best = max(mine, key=lambda r: r["batch"]) if mine else None
            cells.append(_cell(best) + (f" @{best['batch']}" if best else ""))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _batch_table(rows: list[Record], cell: Callable[[Record | None], str]) -> list[str]:
    """A Markdown table: one row per batch size, one column per series, ``cell`` of each record."""
    series = _series(rows)
    batches = sorted({r["batch"] for r in rows})
    head = ["batch"] + [series_label(v[0]) for v in series.values()]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for b in batches:
        cells = [f"{b:,}"] + [cell(next((r for r in v if r["batch"] == b), None)) for v in series.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _full_table(rows: list[Record]) -> list[str]:
    return _batch_table(rows, _cell)


def _latency_table(rows: list[Record]) -> list[str]:
    rows = [r for r in rows if r["scope"] in ("engine", "grpc", "kernel") and "latency_p50_ms" in r]
    if not rows:
        return []
    return _batch_table(
        rows, lambda r: "" if r is None else f"{r['latency_p50_ms']:.3g} / {r['latency_p99_ms']:.3g}"
    )


def hardware_line(run: RunResult) -> str:
    env = run.environment
    parts = [f"CPU {env.get('cpu')} ({env.get('cores')} cores)"]
    if env.get("gpu"):
        gpu = (
            f"GPU {env['gpu']} (driver {env.get('driver', '?')}, CUDA {env.get('cuda_runtime', '?')}, "
            f"CuPy {env.get('cupy', '?')})"
        )
        parts.insert(0, gpu)
    return "; ".join(parts)


def markdown(
    run: RunResult, crossovers: dict[tuple[str, int], Crossover], plots: list[Path], base: Path
) -> str:
    cfg = run.config
    out = [
        f"# verifier benchmark{' (quick)' if cfg.get('quick') else ''}",
        "",
        (
            f"{hardware_line(run)}; commit `{run.commit}`, {run.date}. Python {run.environment.get('python')}, "
            f"PyNaCl {run.environment.get('pynacl')}, cryptography {run.environment.get('cryptography')}"
            f" ({run.environment.get('openssl', 'OpenSSL')})."
        ),
        "",
        (
            f"Items/s, median of {cfg['repeats']} repetitions after {cfg['warmup']} warm-up call(s), each repetition "
            f"at least {cfg['min_time']} s; in brackets the ratio to single-thread PyNaCl (Ed25519) or the hashlib "
            "loop (Merkle) on the same items. engine: `Engine.verify_*` on a packed batch (device copies included); "
            "gRPC: `verifier.Client` threads against `verifier serve` on loopback; kernel: CUDA events, "
            "device-resident buffers. One item in 64 is invalid, and every figure was checked to count the same "
            "verdicts."
        ),
        "",
        "## Crossover",
        "",
    ]
    for c in crossovers.values():
        field = bench_kind(c.kind).param_label
        out.append(
            f"- {c.kind}, {field} {c.param}: **{c.batch if c.batch is not None else 'none'}** ({c.note})"
        )
    out += ["", "## Summary (largest batch measured per series)", "", *_summary_table(run), ""]
    if plots:
        out += ["## Plots", ""] + [f"![{p.stem}]({_rel(p, base)})" for p in plots] + [""]
    for (kind, param), rows in sorted(_groups(run.results).items()):
        field = bench_kind(kind).param_label
        out += [
            f"## {kind}, {field} {param}: items/s (x {bench_kind(kind).reference_peer})",
            "",
            *_full_table(rows),
            "",
        ]
        lat = _latency_table(rows)
        if lat:
            out += [f"Latency per call, ms (p50 / p99), {kind} {field} {param}:", "", *lat, ""]
    if run.skipped:
        out += ["## Not measured", ""]
        out += [f"- {s['kind']} {s['backend']} {s['scope']}: {s['reason']}" for s in run.skipped]
        out.append("")
    return "\n".join(out)


def _rel(p: Path, base: Path) -> str:
    try:
        return str(p.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(p)


def write_markdown(
    run: RunResult, crossovers: dict[tuple[str, int], Crossover], plots: list[Path], path: Path
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(run, crossovers, plots, path.parent))
    return path


# ------------------------------------------------------------------------------------------------ plots


def _grid(run: RunResult) -> tuple[list[str], dict[str, list[int]]]:
    groups = _groups(run.results)
    kinds = sorted({k for k, _ in groups})
    params = {k: sorted(p for kk, p in groups if kk == k) for k in kinds}
    return kinds, params


def write_plots(run: RunResult, crossovers: dict[tuple[str, int], Crossover], prefix: Path) -> list[Path]:
    """``<prefix>-throughput.png`` and ``<prefix>-latency.png``: one panel per kind and parameter."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    kinds, params = _grid(run)
    if not kinds:
        return []
    ncols = max(len(v) for v in params.values())
    groups = _groups(run.results)
    paths: list[Path] = []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    all_keys = list(_series(run.results))
    color_of = {k: colors[i % len(colors)] for i, k in enumerate(all_keys)}
    title = f"{hardware_line(run)} - commit {run.commit}"

    for what in ("throughput", "latency"):
        fig, axes = plt.subplots(len(kinds), ncols, figsize=(5.2 * ncols, 4.2 * len(kinds)), squeeze=False)
        for i, kind in enumerate(kinds):
            for j in range(ncols):
                ax = axes[i][j]
                if j >= len(params[kind]):
                    ax.set_visible(False)
                    continue
                param = params[kind][j]
                rows = groups[(kind, param)]
                field, unit = bench_kind(kind).param_short, bench_kind(kind).unit
                ax.set_title(f"{kind}, {field} {param}{unit}", fontsize=10)
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.xaxis.set_major_formatter(FuncFormatter(_batch_tick))
                ax.set_xlabel("batch size (items)")
                ax.grid(True, which="both", alpha=0.3)
                if what == "throughput":
                    _throughput_panel(ax, rows, color_of, crossovers.get((kind, param)))
                else:
                    _latency_panel(ax, rows, color_of)
                ax.legend(fontsize=7, loc="best")
        fig.suptitle(f"{'Throughput' if what == 'throughput' else 'Latency per call'}: {title}", fontsize=9)
        fig.tight_layout()
        path = prefix.with_name(f"{prefix.name}-{what}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def _throughput_panel(ax: Any, rows: list[Record], color_of: dict[Any, str], cross: Crossover | None) -> None:
    ax.set_ylabel("items/s")
    for key, srs in _series(rows).items():
        xs = [r["batch"] for r in srs]
        ys = [r["items_per_second"] for r in srs]
        lo = [r["items_per_second"] - r.get("items_per_second_min", r["items_per_second"]) for r in srs]
        hi = [r.get("items_per_second_max", r["items_per_second"]) - r["items_per_second"] for r in srs]
        style = "--" if key[1] == "peer" else ":" if key[1] == "grpc" else "-"
        ax.errorbar(
            xs,
            ys,
            yerr=[lo, hi],
            fmt=style,
            marker="o",
            markersize=3,
            capsize=2,
            color=color_of[key],
            label=series_label(srs[0]),
            linewidth=1.2,
        )
    if cross is None:
        return
    if cross.batch is not None:
        ax.axvline(cross.batch, color="black", linestyle="-.", linewidth=1)
        ax.annotate(
            f"crossover {cross.batch:,}\n({cross.backend} > {cross.against})",
            xy=(cross.batch, 0.98),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            ha="left",
            va="top",
        )
    else:
        short = cross.note.split(" (")[0]  # the reason's detail is in the Markdown and the JSON
        ax.text(
            0.02,
            0.98,
            f"crossover: none\n{_wrap(short)}",
            transform=ax.transAxes,
            fontsize=7,
            va="top",
            ha="left",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"},
        )


def _latency_panel(ax: Any, rows: list[Record], color_of: dict[Any, str]) -> None:
    ax.set_ylabel("ms per call (one batch)")
    for key, srs in _series(rows).items():
        srs = [r for r in srs if "latency_p50_ms" in r]
        if key[1] == "peer" or not srs:
            continue
        xs = [r["batch"] for r in srs]
        label = series_label(srs[0])
        ax.plot(
            xs,
            [r["latency_p50_ms"] for r in srs],
            "-o",
            markersize=3,
            color=color_of[key],
            label=f"{label} p50",
        )
        ax.plot(
            xs, [r["latency_p99_ms"] for r in srs], "--", color=color_of[key], label=f"{label} p99", alpha=0.8
        )


def _batch_tick(x: float, _pos: int) -> str:
    n = round(x)
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20}M"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10}k"
    return f"{n}"


def _wrap(text: str, width: int = 48) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return "\n".join(lines[:4])


def output_prefix(run: RunResult, out: Path) -> str:
    env = run.environment
    name = (
        env.get("gpu")
        if env.get("gpu") and "cuda" in run.device
        else f"cpu-{env.get('cpu')}-{env.get('cores')}c"
    )
    kinds = run.config.get("kinds") or []
    only = "" if sorted(kinds) == sorted(KINDS) else "-" + "-".join(kinds)
    return f"suite-{slug(str(name))}{only}{'-quick' if run.config.get('quick') else ''}"
