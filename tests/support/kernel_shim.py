"""Builds a test-only .cu shim under tests/kernels/ for the host (g++ -DVERIFIER_EMU), once per content; and
loads a kernels/tools/ script as a module."""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

from verifier.backends._native import kernel_sources_digest, kernels_dir

_SHIMS = Path(__file__).resolve().parents[1] / "kernels"  # tests/kernels/, where the .cu shims are
_FLAGS = ("-std=c++17", "-O2", "-fPIC", "-shared", "-x", "c++", "-DVERIFIER_EMU", "-Wall", "-Wextra")


def build_shim(name: str, defines: tuple[str, ...] = ()) -> ctypes.CDLL:
    """Compile tests/kernels/<name> against kernels/ (with ``-D`` ``defines``) into the cache, keyed by both
    sources and the flags, and load it."""
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no host C++ compiler (g++/c++) on PATH")
    src = _SHIMS / name
    flags = (*_FLAGS, *(f"-D{d}" for d in defines))
    digest = hashlib.sha256(src.read_bytes() + kernel_sources_digest(flags).encode()).hexdigest()[:16]
    base = Path(os.environ.get("VERIFIER_CACHE_DIR") or Path.home() / ".cache" / "verifier") / "emu"
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"shim-{src.stem}-{digest}.so"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=base)
        os.close(fd)
        cmd = [cxx, *flags, f"-I{kernels_dir()}", str(src), "-o", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            os.unlink(tmp)
            raise AssertionError(f"shim build failed:\n{' '.join(cmd)}\n{proc.stderr[-4000:]}")
        os.replace(tmp, target)
    return ctypes.CDLL(str(target))


def load_tool(name: str) -> ModuleType:
    """kernels/tools/<name>.py as a module (loaded once per test session)."""
    key = f"_verifier_tool_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, kernels_dir() / "tools" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]
