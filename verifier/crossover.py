"""The crossover batch size the router uses: below it a device batch runs on the CPU. ``verifier bench``
measures it and writes ``crossover.json``; the server reads it at startup through ``load_crossover``
(here, so that serving never imports the benchmark package).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["CROSSOVER_ENV", "default_crossover_path", "load_crossover"]

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
