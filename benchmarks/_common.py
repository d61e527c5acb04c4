"""What every benchmark records with its figures: machine, commit, date; and where it writes them."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        )
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    from verifier.backends._abi import cpu_model

    return cpu_model()


def environment() -> dict[str, Any]:
    import nacl

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "pynacl": nacl.__version__,
        "platform": platform.platform(),
    }


def save(name: str, device: str, results: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> Path:
    """Write ``benchmarks/results/<name>-<date>.json`` in the shared form and return its path
    ($VERIFIER_RESULTS_DIR instead of benchmarks/results when set: scripts/gpu_check.sh collects there)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    doc = {
        "device": device,
        "commit": commit(),
        "date": now.isoformat(timespec="seconds"),
        "environment": environment(),
        **(extra or {}),
        "results": results,
    }
    where = (
        Path(os.environ["VERIFIER_RESULTS_DIR"]) if os.environ.get("VERIFIER_RESULTS_DIR") else RESULTS_DIR
    )
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{name}-{now:%Y%m%d}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
