"""What every run records: CPU model and cores, GPU name, driver, CUDA and CuPy versions, commit, date."""

from __future__ import annotations

import datetime
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

__all__ = [
    "REPO_ROOT",
    "commit",
    "cpu_cores",
    "cpu_model",
    "cuda_environment",
    "host_environment",
    "now_utc",
    "slug",
]

REPO_ROOT = Path(__file__).resolve().parents[2]


def commit() -> str:
    """Short commit of the checkout, ``-dirty`` when tracked files differ from it; ``unknown`` outside git."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def cpu_model() -> str:
    from verifier.backends._abi import cpu_model

    return cpu_model()


def cpu_cores() -> int:
    """Cores this process may run on (the affinity mask where there is one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def host_environment() -> dict[str, Any]:
    import cryptography
    import grpc
    import nacl
    import numpy

    env: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": cpu_cores(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pynacl": nacl.__version__,
        "cryptography": cryptography.__version__,
        "numpy": numpy.__version__,
        "grpcio": grpc.__version__,
    }
    try:
        from cryptography.hazmat.backends.openssl.backend import backend as openssl

        env["openssl"] = openssl.openssl_version_text()
    except Exception:  # noqa: BLE001, S110  informative only
        pass
    return env


def cuda_environment() -> tuple[dict[str, Any] | None, str]:
    """(GPU facts, "") when CuPy sees a device, else (None, why not)."""
    try:
        import cupy as cp  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        return None, f"CuPy is not installed ({exc})"
    try:
        count = int(cp.cuda.runtime.getDeviceCount())
    except Exception as exc:  # noqa: BLE001  CUDARuntimeError when there is no driver
        return None, f"CUDA is unavailable ({type(exc).__name__}: {exc})"
    if count < 1:
        return None, "no CUDA device"
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    info: dict[str, Any] = {
        "gpu": name,
        "gpu_count": count,
        "compute_capability": f"{props.get('major')}.{props.get('minor')}",
        "multiprocessors": props.get("multiProcessorCount"),
        "gpu_memory_bytes": props.get("totalGlobalMem"),
        "cupy": getattr(cp, "__version__", "unknown"),
    }
    for field, query in (("cuda_runtime", "runtimeGetVersion"), ("cuda_driver_api", "driverGetVersion")):
        try:
            info[field] = _cuda_version(int(getattr(cp.cuda.runtime, query)()))
        except Exception:  # noqa: BLE001  informative only
            info[field] = "unknown"
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                check=True,
                timeout=20,
            )
            info["driver"] = out.stdout.strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            pass
    return info, ""


def _cuda_version(v: int) -> str:
    return f"{v // 1000}.{v % 1000 // 10}"


def slug(text: str, limit: int = 48) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "unknown"
