"""The kernels compile under NVRTC, the compiler CuPy's RawModule uses (backend cuda), without a GPU.

nvcc (kernels/check_nvcc.sh) and NVRTC differ: NVRTC has no system headers (common/portable.cuh defines
the integer types itself under __CUDACC_RTC__) and takes the same options CudaBackend passes
(``-I kernels``, ``--std=c++17``, the build-time variant's ``-D`` values). Uses libnvrtc through ctypes: found via $VERIFIER_NVRTC_LIB, the
``nvidia-cuda-nvrtc`` wheel or the loader path; skips (printing why) when there is none.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import site
import sys
from pathlib import Path

import pytest

from verifier.backends._native import kernels_dir
from verifier.backends.cuda._module import variant_defines

_ROOT = Path(__file__).resolve().parents[2]
ENTRIES = [
    ("kernels/ed25519_verify.cu", "ed25519_verify_kernel", "ptx", 0),
    ("kernels/ed25519_verify.cu", "ed25519_verify_kernel", "wide", 0),
    ("kernels/ed25519_verify.cu", "ed25519_verify_kernel", "wide", 1),
    ("kernels/ed25519_verify.cu", "ed25519_store_keys_kernel", "ptx", 0),
    ("kernels/merkle_verify.cu", "merkle_verify_kernel", "ptx", 0),
    ("tests/kernels/arith_twin_kernel.cu", "arith_twin_kernel", "ptx", 0),
]


def _find_nvrtc() -> ctypes.CDLL | None:
    candidates = [os.environ.get("VERIFIER_NVRTC_LIB", "")]
    for base in [
        *site.getsitepackages(),
        *sys.path,
        "/usr/local/cuda/lib64",
        "/usr/local/cuda/targets/x86_64-linux/lib",
    ]:
        candidates += sorted(
            glob.glob(os.path.join(base, "nvidia", "*", "lib", "libnvrtc.so*")), reverse=True
        )
        candidates += sorted(glob.glob(os.path.join(base, "libnvrtc.so*")), reverse=True)
    found = ctypes.util.find_library("nvrtc")
    if found:
        candidates.append(found)
    for c in candidates:
        if c and "builtins" not in c:
            try:
                return ctypes.CDLL(c)
            except OSError:
                continue
    return None


@pytest.fixture(scope="module")
def nvrtc() -> ctypes.CDLL:
    lib = _find_nvrtc()
    if lib is None:
        print("\ntest_nvrtc_compile: skipped: libnvrtc not found (set VERIFIER_NVRTC_LIB)")
        pytest.skip("libnvrtc not found (set VERIFIER_NVRTC_LIB)")
    return lib


@pytest.mark.parametrize(("entry", "kernel", "arith", "dbl_loop"), ENTRIES)
def test_compiles_under_nvrtc(nvrtc: ctypes.CDLL, entry: str, kernel: str, arith: str, dbl_loop: int) -> None:
    arch = "compute_90"  # the front end is what differs from nvcc; one architecture keeps CI quick
    src = (_ROOT / entry).read_bytes()
    prog = ctypes.c_void_p()
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(prog), src, entry.encode(), 0, None, None) == 0
    opts = [f"-I{kernels_dir()}".encode(), b"--std=c++17", f"--gpu-architecture={arch}".encode()]
    opts += [f"-D{d}".encode() for d in variant_defines(arith, dbl_loop)]
    arr = (ctypes.c_char_p * len(opts))(*opts)
    rc = nvrtc.nvrtcCompileProgram(prog, len(opts), arr)
    size = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetProgramLog(prog, log)
    text = log.value.decode(errors="replace")
    assert rc == 0, f"NVRTC failed on {entry} for {arch}:\n{text}"
    assert "warning" not in text.lower(), text
    psize = ctypes.c_size_t()
    assert nvrtc.nvrtcGetPTXSize(prog, ctypes.byref(psize)) == 0
    ptx = ctypes.create_string_buffer(psize.value)
    assert nvrtc.nvrtcGetPTX(prog, ptx) == 0
    assert f".entry {kernel}(" in ptx.value.decode()
    nvrtc.nvrtcDestroyProgram(ctypes.byref(prog))
