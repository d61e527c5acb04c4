"""The crossover batch size the router uses: below it a device batch runs on the CPU. ``verifier bench``
measures it per scheme and writes ``crossover.json``; the server reads it at startup through
``load_crossover`` (here, so that serving never imports the benchmark package) and resolves one per
route with ``route_crossovers``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from verifier.schemes import SCHEMES, Scheme, route
from verifier.verdict import Policy, Verdict

if TYPE_CHECKING:
    from verifier.backends.base import Backend

__all__ = ["CROSSOVER_ENV", "RateRatio", "default_crossover_path", "load_crossover", "route_crossovers"]

_log = logging.getLogger(__name__)
# (scheme, policy, CPU backend) -> the CPU's rate under policy over its rate under the scheme's default.
RateRatio = Callable[[Scheme, "Policy | None", "Backend"], float]
_TIMED_ITEMS = 256

CROSSOVER_ENV = "VERIFIER_CROSSOVER_FILE"
_REPO_ROOT = Path(__file__).resolve().parent.parent


def default_crossover_path() -> Path:
    """``$VERIFIER_CROSSOVER_FILE``, else ``benchmarks/results/crossover.json`` in the checkout."""
    env = os.environ.get(CROSSOVER_ENV)
    return Path(env) if env else _REPO_ROOT / "benchmarks" / "results" / "crossover.json"


def load_crossover(path: str | os.PathLike[str] | None = None, kind: str = "ed25519") -> int | None:
    """The crossover batch size for ``kind`` measured by the last ``verifier bench`` run, or None.

    None when the file is missing or unreadable, or the run found no crossover (no GPU measured, or the GPU
    never beat the CPU). Reads ``path``, else ``$VERIFIER_CROSSOVER_FILE``, else
    ``benchmarks/results/crossover.json``.
    """
    p = Path(path) if path is not None else default_crossover_path()
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    entry = doc.get("kinds", {}).get(kind) if isinstance(doc.get("kinds"), dict) else None
    if isinstance(entry, dict):
        value = entry.get("crossover_batch")
    elif doc.get("kind") == kind:
        value = doc.get("crossover_batch")
    else:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def route_crossovers(
    per_scheme: Mapping[str, int], cpu: Backend, rate_ratio: RateRatio | None = None
) -> dict[tuple[str, str], int]:
    """A crossover per route, from one per scheme (what the bench measures: the scheme's default policy).

    A scheme's other policies take that figure scaled by how fast the CPU runs them relative to the
    default (``rate_ratio``; by default timed here on the self-test's valid items, tiled to a batch of
    256). Ed25519 zip215 runs as batch verification on the CPU, several times libsodium's rate at that size,
    so its crossover is that much larger: below it the CPU beats the device. 0 stays 0 (no routing)."""
    ratio_of = rate_ratio or _cpu_rate_ratio
    out: dict[tuple[str, str], int] = {}
    for s in SCHEMES:
        base = int(per_scheme.get(s.name, 0))
        for pol in s.policies or (None,):
            ratio = 1.0 if base == 0 or pol == s.default_policy else ratio_of(s, pol, cpu)
            out[route(s, pol)] = 0 if base == 0 else max(1, round(base * ratio))
        if len(s.policies) > 1 and base:
            _log.info(
                "crossovers of %s: %s", s.name, ", ".join(f"{p.value} {out[route(s, p)]}" for p in s.policies)
            )
    return out


def _cpu_rate_ratio(s: Scheme, policy: Policy | None, cpu: Backend) -> float:
    """The CPU's rate under ``policy`` over its rate under the scheme's default (1.0 when it lacks one)."""
    default = s.default_policy
    if policy not in cpu.policies.get(s.name, ()) or default not in cpu.policies.get(s.name, ()):
        return 1.0
    kat = s.known_answers()
    valid = [i for i in range(len(kat.names)) if all(v[i] is Verdict.OK for v in kat.expected.values())]
    if not valid:
        return 1.0
    batch = kat.batch.take(np.resize(np.array(valid, dtype=np.intp), _TIMED_ITEMS))
    best: dict[Policy | None, float] = {}
    for pol in (default, policy):
        cpu.run(s, batch, pol)  # warm-up
        for _ in range(3):
            t = time.perf_counter()
            cpu.run(s, batch, pol)
            best[pol] = min(best.get(pol, float("inf")), time.perf_counter() - t)
    return best[default] / best[policy]
