"""Builds the kernel sources in ``kernels/`` for the host (backend ``emu``) and locates them for CUDA.

The emu build compiles one entry file (e.g. ``ed25519_verify.cu``) as C++ with ``-DVERIFIER_EMU`` into a
shared library, cached under ``$VERIFIER_CACHE_DIR`` (default ``~/.cache/verifier``) by a hash of every
kernel source, the flags and the compiler, so a changed header rebuilds and an unchanged one does not.
Each kernel exports ``<kernel>_emu(block_begin, block_end, block_dim, params...)``
(``kernels/common/portable.cuh``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from verifier.errors import BackendUnavailableError

__all__ = ["kernels_dir", "kernel_sources_digest", "build_emu_library"]

# -O3, measured faster than -O2 on the Ed25519 kernel (benchmarks/NOTES.md, "Sizes in code"); no
# -march=native, since a cache directory may be shared by machines of different CPUs.
_EMU_FLAGS = ("-std=c++17", "-O3", "-fPIC", "-shared", "-x", "c++", "-DVERIFIER_EMU", "-Wall", "-Wextra")
_build_lock = threading.Lock()


def kernels_dir() -> Path:
    """``$VERIFIER_KERNELS_DIR``, else ``kernels/`` beside the package (a source checkout)."""
    env = os.environ.get("VERIFIER_KERNELS_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "kernels"
    if not (path / "common" / "portable.cuh").is_file():
        raise BackendUnavailableError(f"kernel sources not found at {path} (set VERIFIER_KERNELS_DIR)")
    return path


def kernel_sources_digest(extra: tuple[str, ...] = ()) -> str:
    """SHA-256 over every .cu/.cuh file's path and bytes, plus ``extra`` strings."""
    root = kernels_dir()
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.cu*")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for item in extra:
        h.update(item.encode() + b"\0")
    return h.hexdigest()[:16]


def _cache_dir() -> Path:
    base = os.environ.get("VERIFIER_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "verifier")
    path = Path(base) / "emu"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_emu_library(entry: str, defines: tuple[str, ...] = ()) -> ctypes.CDLL:
    """Compile ``kernels/<entry>`` for the host (once per source digest) and load it."""
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
    if cxx is None:
        raise BackendUnavailableError("backend emu needs a host C++ compiler (g++, c++ or clang++) on PATH")
    flags = (*_EMU_FLAGS, *(f"-D{d}" for d in defines))
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False).stdout
    digest = kernel_sources_digest((entry, cxx, version, *flags))
    target = _cache_dir() / f"{Path(entry).stem}-{digest}.so"
    with _build_lock:
        if not target.exists():
            root = kernels_dir()
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
            os.close(fd)
            cmd = [cxx, *flags, f"-I{root}", str(root / entry), "-o", tmp]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                os.unlink(tmp)
                raise BackendUnavailableError(
                    f"emu build of {entry} failed:\n{' '.join(cmd)}\n{proc.stderr[-4000:]}"
                )
            os.replace(tmp, target)  # atomic: a concurrent process sees the old name or the whole file
    return ctypes.CDLL(str(target))
