"""What ``verifier bench`` needs to know of each scheme, in one table: its workload, the parameter swept
(and how it is printed), the parameter the router's crossover is taken at, the peers it is compared with
(the first is the reference of the ratios), and its kernel benchmark module. Every other part of the
bench looks the scheme up here instead of branching on it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from verifier.bench.workload import Ed25519Workload, MerkleWorkload, P256Workload, Secp256k1Workload
from verifier.schemes import ECDSA_P256, ECDSA_SECP256K1, ED25519, MERKLE, SCHEMES, Scheme

__all__ = ["BENCH_KINDS", "KINDS", "BenchKind", "bench_kind", "param_of"]


@dataclasses.dataclass(frozen=True)
class BenchKind:
    scheme: Scheme
    workload: Any  # (param, pool, seed) -> Workload
    param_field: str  # the record's field, e.g. "message_bytes"
    param_label: str  # in table headings, e.g. "message bytes"
    param_short: str  # in plot titles, e.g. "message"
    unit: str  # after the value in plot titles, e.g. " B"
    config_field: str  # the SweepConfig list of values swept, e.g. "message_bytes"
    primary_param: int  # the crossover is taken at this value: typical vote sign-bytes, a ledger-sized tree
    peers: tuple[str, ...]  # libraries it is compared with; the first is the reference of the ratios
    kernel_module: str | None  # the kernel benchmark under benchmarks/ (None: no kernel yet)
    backend_timer: str | None  # "module:function" (cupy) -> KernelTimer over the cuda backend's kernel

    @property
    def name(self) -> str:
        return self.scheme.name

    @property
    def reference_peer(self) -> str:
        return self.peers[0]


BENCH_KINDS: dict[str, BenchKind] = {
    k.name: k
    for k in (
        BenchKind(
            ED25519,
            Ed25519Workload,
            "message_bytes",
            "message bytes",
            "message",
            " B",
            "message_bytes",
            128,
            ("pynacl", "cryptography"),
            "benchmarks.bench_ed25519_kernel",
            "verifier.bench.runners:ed25519_timer",
        ),
        BenchKind(
            MERKLE,
            MerkleWorkload,
            "depth",
            "depth",
            "depth",
            "",
            "depths",
            20,
            ("hashlib",),
            "benchmarks.bench_merkle_kernel",
            "verifier.bench.runners:merkle_timer",
        ),
        BenchKind(
            ECDSA_SECP256K1,
            Secp256k1Workload,
            "key_bytes",
            "key bytes",
            "key",
            " B",
            "key_bytes",
            33,
            ("coincurve",),
            None,
            "verifier.bench.runners:secp256k1_timer",
        ),
        BenchKind(
            ECDSA_P256,
            P256Workload,
            "key_bytes",
            "key bytes",
            "key",
            " B",
            "key_bytes",
            33,
            ("cryptography",),
            None,
            "verifier.bench.runners:p256_timer",
        ),
    )
}
KINDS = tuple(BENCH_KINDS)
assert set(KINDS) == {s.name for s in SCHEMES}, "every scheme has a bench entry"


def bench_kind(name: str) -> BenchKind:
    return BENCH_KINDS[name]


def param_of(record: dict[str, Any]) -> int:
    """The swept parameter's value in a result record."""
    return int(record[BENCH_KINDS[record["kind"]].param_field])
