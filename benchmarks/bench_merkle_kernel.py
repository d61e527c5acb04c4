"""Merkle inclusion-proof kernel throughput (kernels/merkle_verify.cu), depth-32 proofs by default.

Scopes, each one row of the JSON written to benchmarks/results/:
  kernel      the kernel alone on device-resident buffers, timed with CUDA events over repeated launches
              (compilation and one warm-up launch excluded); reports node hashes/s (= proofs/s x depth).
  end_to_end  host numpy batch to numpy verdicts, copies included: through ``CudaBackend.verify_merkle``
              (backend "cuda") when it is available, and always through a plain copy-launch-copy path
              (backend "cuda-raw"). Compared with the host-to-device bandwidth measured on the same
              machine for the same number of bytes, pageable and pinned.
With ``--emu`` it measures the kernels built for the host (backend "emu", one host thread per core the
backend uses) instead. Without CuPy or a GPU it prints why and exits 0.

  python benchmarks/bench_merkle_kernel.py                       # batch 1M, depth 32
  python benchmarks/bench_merkle_kernel.py --batches 65536 1048576 --depth 32
  python benchmarks/bench_merkle_kernel.py --emu --batches 20000
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

from benchmarks._common import save  # noqa: E402
from verifier.batch import MerkleBatch  # noqa: E402
from verifier.errors import VerifierError  # noqa: E402
from verifier.schemes import MERKLE  # noqa: E402
from verifier.schemes.merkle_rfc9162 import node_hash  # noqa: E402
from verifier.verdict import Verdict  # noqa: E402

_PLANTED = 256  # proofs per batch with a true root (the rest get a random root: same work, ROOT_MISMATCH)


def synthetic_batch(n: int, depth: int, seed: int = 0) -> MerkleBatch:
    """n proofs of depth ``depth`` in a full tree of 2^depth leaves, leaf hashes given, one random root
    shared by all proofs except ``_PLANTED`` evenly spread ones whose true roots are computed here."""
    if not 1 <= depth <= 63:
        raise ValueError("depth must be in [1, 63]")
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, 1 << depth, n, dtype=np.uint64)
    leaves = np.frombuffer(rng.bytes(n * 32), dtype=np.uint8).reshape(n, 32)
    path = np.frombuffer(rng.bytes(n * depth * 32), dtype=np.uint8).reshape(n * depth, 32)
    planted = np.unique(np.linspace(0, n - 1, min(_PLANTED, n)).astype(np.int64))
    roots = [rng.bytes(32)]
    root_indices = np.zeros(n, dtype=np.uint32)
    for j, i in enumerate(planted):
        r, index = leaves[i].tobytes(), int(indices[i])
        for level in range(depth):  # full tree: the sibling is on the left iff bit `level` of index is set
            p = path[i * depth + level].tobytes()
            r = node_hash(p, r) if (index >> level) & 1 else node_hash(r, p)
        roots.append(r)
        root_indices[i] = j + 1
    return MerkleBatch(
        leaf_hashes=leaves,
        leaf_data=None,
        leaf_offsets=None,
        leaf_indices=indices,
        tree_sizes=np.full(n, 1 << depth, dtype=np.uint64),
        path_hashes=path,
        path_offsets=np.arange(n + 1, dtype=np.uint64) * np.uint64(depth),
        roots=np.frombuffer(b"".join(roots), dtype=np.uint8).reshape(-1, 32),
        root_indices=root_indices,
        malformed=np.zeros(n, dtype=np.bool_),
    )


def check_verdicts(batch: MerkleBatch, verdicts: np.ndarray, what: str) -> None:
    want = np.where(batch.root_indices > 0, np.uint8(Verdict.OK), np.uint8(Verdict.ROOT_MISMATCH))
    if not np.array_equal(np.asarray(verdicts), want):
        bad = int(np.argmax(np.asarray(verdicts) != want))
        raise SystemExit(f"{what}: wrong verdict at proof {bad}: {int(verdicts[bad])}, want {int(want[bad])}")


def h2d_bytes(batch: MerkleBatch) -> int:
    """Bytes a backend must move host to device for the batch (every column, the roots table once)."""
    cols: list[np.ndarray[Any, Any]] = [
        batch.leaf_indices,
        batch.tree_sizes,
        batch.path_hashes,
        batch.path_offsets,
        batch.roots,
        batch.root_indices,
    ]
    cols += [c for c in (batch.leaf_hashes, batch.leaf_data, batch.leaf_offsets) if c is not None]
    return int(sum(c.nbytes for c in cols))


def _row(backend: str, scope: str, n: int, depth: int, seconds: float, **extra: Any) -> dict[str, Any]:
    row = {
        "kind": "merkle",
        "backend": backend,
        "scope": scope,
        "batch": n,
        "depth": depth,
        "items_per_second": n / seconds,
        "node_hashes_per_second": n * depth / seconds,
        "ns_per_item": seconds / n * 1e9,
    }
    row.update(extra)
    print(
        f"  {backend:9s} {scope:10s} batch {n:>8d} depth {depth}: {n / seconds:,.0f} proofs/s, "
        f"{n * depth / seconds / 1e9:.3f} G node hashes/s"
        + "".join(f", {k} {v:.3g}" if isinstance(v, float) else f", {k} {v}" for k, v in extra.items())
    )
    return row


def _write(device: str, rows: list[dict[str, Any]]) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")[:40]
    path = save(f"merkle-{slug}", device, rows)
    print(f"wrote {path}")
    return path


# ------------------------------------------------------------------------------------------------ GPU


def _cupy() -> Any:
    """CuPy with a usable device, or None after printing why not."""
    try:
        import cupy as cp
    except ImportError as exc:
        print(f"bench_merkle_kernel: no GPU run: CuPy is not installed ({exc}); try --emu")
        return None
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            print("bench_merkle_kernel: no GPU run: no CUDA device; try --emu")
            return None
    except Exception as exc:  # CUDARuntimeError without a driver
        print(f"bench_merkle_kernel: no GPU run: CUDA unavailable ({exc}); try --emu")
        return None
    return cp


def _runner(cp: Any) -> Any:
    """The backend's own runner: the module compiled exactly as CudaBackend compiles it."""
    from verifier.backends.cuda.merkle import MerkleKernel

    return MerkleKernel(cp)


def _launch(cp: Any, runner: Any, d: dict[str, Any], n: int, block: int) -> None:
    null = np.uint64(0)
    runner.block_dim = block
    leaf_and_shape = (d["leaf_hashes"], null, null, d["leaf_indices"], d["tree_sizes"])
    path_and_roots = (d["path_hashes"], d["path_offsets"], d["roots"], d["roots"].shape[0], d["root_indices"])
    runner.launch(cp.cuda.get_current_stream(), n, *leaf_and_shape, *path_and_roots, null, d["out"])


def _to_device(cp: Any, batch: MerkleBatch) -> dict[str, Any]:
    d = {
        k: cp.asarray(getattr(batch, k))
        for k in (
            "leaf_hashes",
            "leaf_indices",
            "tree_sizes",
            "path_hashes",
            "path_offsets",
            "roots",
            "root_indices",
        )
    }
    d["out"] = cp.zeros(len(batch), dtype=cp.uint8)
    return d


def _h2d_bandwidth(cp: Any, nbytes: int) -> tuple[float, float]:
    """Best-of-3 host-to-device bytes/s for one copy of ``nbytes``: (pageable, pinned)."""
    import cupyx  # type: ignore[import-not-found]

    dev = cp.empty(nbytes, dtype=cp.uint8)
    pageable = np.ones(nbytes, dtype=np.uint8)
    pinned = cupyx.empty_pinned(nbytes, dtype=np.uint8)
    pinned[:] = 1
    out = []
    for host in (pageable, pinned):
        best = float("inf")
        for _ in range(3):
            cp.cuda.Device().synchronize()
            t = time.perf_counter()
            dev.set(host)
            cp.cuda.Device().synchronize()
            best = min(best, time.perf_counter() - t)
        out.append(nbytes / best)
    del dev, pinned
    return out[0], out[1]


def _h2d_fields(n: int, seconds: float, moved: int, pageable_bw: float, pinned_bw: float) -> dict[str, float]:
    """End-to-end rate against the rate each measured H2D bandwidth allows for the same bytes."""
    return {
        "h2d_bytes_per_item": moved / n,
        "h2d_pageable_bytes_per_second": pageable_bw,
        "h2d_pinned_bytes_per_second": pinned_bw,
        "fraction_of_pageable_h2d_bound": (n / seconds) / (pageable_bw / (moved / n)),
        "fraction_of_pinned_h2d_bound": (n / seconds) / (pinned_bw / (moved / n)),
    }


def run_gpu(
    cp: Any, batches: list[int], depth: int, reps: int, blocks: list[int]
) -> tuple[str, list[dict[str, Any]]]:
    props = cp.cuda.runtime.getDeviceProperties(0)
    device = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    print(
        f"device {device}, compute capability {props['major']}.{props['minor']}, "
        f"{props['multiProcessorCount']} SMs"
    )
    kernel = _runner(cp)
    rows: list[dict[str, Any]] = []
    for n in batches:
        batch = synthetic_batch(n, depth)
        d = _to_device(cp, batch)
        best: tuple[float, int] | None = None
        for block in blocks:
            _launch(cp, kernel, d, n, block)  # warm-up (and first-launch module load)
            cp.cuda.Device().synchronize()
            start, end = cp.cuda.Event(), cp.cuda.Event()
            start.record()
            for _ in range(reps):
                _launch(cp, kernel, d, n, block)
            end.record()
            end.synchronize()
            seconds = cp.cuda.get_elapsed_time(start, end) / 1e3 / reps
            check_verdicts(batch, d["out"].get(), f"kernel block {block}")
            print(f"    block {block}: {seconds * 1e3:.3f} ms")
            if best is None or seconds < best[0]:
                best = (seconds, block)
        assert best is not None
        rows.append(_row("cuda", "kernel", n, depth, best[0], block_dim=best[1]))
        del d

        moved = h2d_bytes(batch)
        bw = _h2d_bandwidth(cp, moved)

        def extra(
            seconds: float, n: int = n, moved: int = moved, bw: tuple[float, float] = bw
        ) -> dict[str, float]:
            return _h2d_fields(n, seconds, moved, *bw)

        # plain path: a copy per column, one launch, copy the verdicts back (no pinning, no overlap)
        best_raw = float("inf")
        for _ in range(3):
            cp.cuda.Device().synchronize()
            t = time.perf_counter()
            d = _to_device(cp, batch)
            _launch(cp, kernel, d, n, best[1])
            out = d["out"].get()
            best_raw = min(best_raw, time.perf_counter() - t)
            del d
        check_verdicts(batch, out, "cuda-raw end to end")
        rows.append(_row("cuda-raw", "end_to_end", n, depth, best_raw, **extra(best_raw)))
        try:
            from verifier.backends.cuda import CudaBackend  # type: ignore[import-not-found,unused-ignore]

            backend = CudaBackend()
            backend.run(MERKLE, batch.slice(0, min(n, 1024)))  # warm-up
            best_be = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                out = backend.run(MERKLE, batch)
                best_be = min(best_be, time.perf_counter() - t)
            check_verdicts(batch, out, "CudaBackend end to end")
            rows.append(_row("cuda", "end_to_end", n, depth, best_be, **extra(best_be)))
            backend.close()
        except VerifierError as exc:
            print(f"  CudaBackend.verify_merkle not measured: {type(exc).__name__}: {exc}")
        cp.get_default_memory_pool().free_all_blocks()
    return device, rows


# ------------------------------------------------------------------------------------------------ emu


def run_emu(batches: list[int], depth: int) -> tuple[str, list[dict[str, Any]]]:
    from verifier.backends.emu import EmuBackend

    backend = EmuBackend()
    device = f"{platform.processor() or platform.machine()} (emu)"
    try:
        infos = backend.devices()
        if infos:
            device = f"{infos[0].name} ({infos[0].workers} threads)"
    except Exception:  # devices() is informative only
        pass
    rows = []
    for n in batches:
        batch = synthetic_batch(n, depth)
        backend.run(MERKLE, batch.slice(0, min(n, 64)))  # build and load the library
        t = time.perf_counter()
        out = backend.run(MERKLE, batch)
        seconds = time.perf_counter() - t
        check_verdicts(batch, out, "emu")
        rows.append(_row("emu", "end_to_end", n, depth, seconds))
    backend.close()
    return device, rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--batches", type=int, nargs="+", default=None, help="batch sizes (default 1048576; emu 20000)"
    )
    ap.add_argument("--depth", type=int, default=32, help="proof depth: tree of 2^depth leaves (default 32)")
    ap.add_argument("--reps", type=int, default=10, help="timed kernel launches per batch (default 10)")
    ap.add_argument("--blocks", type=int, nargs="+", default=[128, 256, 512], help="block sizes to try")
    ap.add_argument("--emu", action="store_true", help="measure the host build (backend emu) instead")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    if args.emu:
        device, rows = run_emu(args.batches or [20_000], args.depth)
    else:
        cp = _cupy()
        if cp is None:
            return 0
        device, rows = run_gpu(cp, args.batches or [1 << 20], args.depth, args.reps, args.blocks)
    if not args.no_write:
        _write(device, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
