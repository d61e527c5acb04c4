"""Facts of the kernels' binary interface that every backend shares (CPU, host build, CUDA), kept out
of any one backend so that none imports another: the policy codes, the key-store geometry, the item limit
of one launch, the unwritten-slot check, and the CPU's name for device lists.
"""

from __future__ import annotations

import os
import platform

import numpy as np
import numpy.typing as npt

from verifier.errors import KernelError
from verifier.verdict import Policy, Verdict

__all__ = [
    "DEFAULT_KEY_STORE_ROWS",
    "ED25519_POLICY_CODES",
    "MAX_ITEMS",
    "POINT_BYTES",
    "check_written",
    "cpu_model",
]

# Values of the kernels' `policy` argument (kernels/ec/ed25519.cuh ED25519_POLICY_*).
ED25519_POLICY_CODES: dict[Policy, int] = {Policy.LIBSODIUM: 0, Policy.ZIP215: 1}
# Rows of the decoded-key store (validator sets' keys, decoded once): 161 bytes each.
DEFAULT_KEY_STORE_ROWS = int(os.environ.get("VERIFIER_KEY_STORE_ROWS") or 16384)
POINT_BYTES = 128  # sizeof(ge25519_p3): four field elements of 8 x 32-bit limbs (kernels/ec/ge25519.cuh)
MAX_ITEMS = 2**32 - 1  # the kernels take n as uint32


def check_written(out: npt.NDArray[np.uint8], kernel: str) -> None:
    """Zero never means valid: a slot the kernel left UNSPECIFIED is an internal error, never an answer."""
    missing = np.flatnonzero(out == Verdict.UNSPECIFIED)
    if missing.size:
        raise KernelError(
            f"{kernel} left {missing.size} of {out.size} verdicts unwritten, first at item {int(missing[0])}"
        )


def cpu_model() -> str:
    """The CPU's model name, for device lists and benchmark records."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
