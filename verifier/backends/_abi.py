"""Facts of the kernels' binary interface that every backend shares (CPU, host build, CUDA), kept out
of any one backend so that none imports another: the policy codes, the key-store geometry, the item limit
of one launch, the unwritten-slot check, and the CPU's name for device lists.
"""

from __future__ import annotations

import math
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
    "usable_cpus",
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


def _cgroup_cpus(root: str = "/sys/fs/cgroup") -> float | None:
    """The CPU quota of this process's cgroup, in CPUs (cgroup v2 ``cpu.max``, else v1's
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), or None when there is none."""
    try:
        with open(os.path.join(root, "cpu.max"), encoding="ascii") as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us"), encoding="ascii") as f:
            quota_us = int(f.read())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us"), encoding="ascii") as f:
            period_us = int(f.read())
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us


def usable_cpus(cgroup_root: str = "/sys/fs/cgroup") -> int:
    """CPUs this process may use: the ones it may run on (``sched_getaffinity``), at most its cgroup's
    quota rounded up (a container limited to 2 CPUs on a 64-core node gets 2 threads, not 64)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpus(cgroup_root)
    if quota is not None and quota > 0:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


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
