"""Ed25519 verification kernel throughput (kernels/ed25519_verify.cu), kernel only.

Backend ``cuda`` (default): the kernel on device-resident buffers of ``--batch`` valid signatures (65,536
distinct ones signed with PyNaCl, tiled), timed with CUDA events over ``--repeat`` launches after one
warm-up launch (compilation excluded), for each message size in ``--message-bytes``. Every verdict is
checked to be OK. Backend ``emu``: the same kernel built for the host through ``EmuBackend`` on a small
batch (host-side packing included, it is negligible there). Writes benchmarks/results/ed25519-kernel-<date>.json
with device, commit, date and one record per point: {kind: "ed25519", backend, scope: "kernel", batch,
message_bytes, items_per_second, ...}. Without CuPy or a GPU, ``--backend cuda`` prints why and exits 0.

  python benchmarks/bench_ed25519_kernel.py                          # batch 1M, messages 32, 64, 128 bytes
  python benchmarks/bench_ed25519_kernel.py --policy zip215 --block-dim 64 128 256
  python benchmarks/bench_ed25519_kernel.py --backend emu --batch 4096
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

from benchmarks._common import save  # noqa: E402
from verifier.batch import Ed25519Batch  # noqa: E402
from verifier.errors import BackendUnavailableError  # noqa: E402
from verifier.schemes import ED25519  # noqa: E402
from verifier.verdict import Policy, Verdict  # noqa: E402

_DISTINCT = 65_536


def signed_batch(n: int, message_bytes: int, distinct: int = _DISTINCT, seed: int = 1) -> Ed25519Batch:
    """n valid (key, signature, message) items: ``distinct`` signed with PyNaCl, then tiled."""
    from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

    rng = np.random.default_rng(seed)
    d = min(n, distinct)
    keys = np.empty((d, 32), dtype=np.uint8)
    sigs = np.empty((d, 64), dtype=np.uint8)
    msgs = np.frombuffer(rng.bytes(d * message_bytes), dtype=np.uint8).reshape(d, message_bytes)
    for i in range(d):
        pk, sk = crypto_sign_seed_keypair(rng.bytes(32))
        keys[i] = np.frombuffer(pk, dtype=np.uint8)
        sigs[i] = np.frombuffer(crypto_sign(msgs[i].tobytes(), sk)[:64], dtype=np.uint8)
    idx = np.arange(n) % d
    return Ed25519Batch(
        public_keys=keys[idx],
        signatures=sigs[idx],
        messages=msgs[idx].reshape(-1),
        message_offsets=np.arange(n + 1, dtype=np.uint64) * np.uint64(message_bytes),
        malformed=np.zeros(n, dtype=np.bool_),
    )


def bench_cuda(args: argparse.Namespace) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    from verifier.backends._abi import ED25519_POLICY_CODES
    from verifier.backends.cuda._module import import_cupy, usable_device
    from verifier.backends.cuda.ed25519 import Ed25519Kernel

    cp = import_cupy()
    info = usable_device(cp, args.device)
    results: list[dict[str, Any]] = []
    with cp.cuda.Device(args.device):
        for block_dim in args.block_dim:
            runner = Ed25519Kernel(cp, block_dim=block_dim, max_batch=args.batch)
            fn = runner.function
            print(f"{info.name}: block {block_dim}, {fn.num_regs} registers, {fn.local_size_bytes} B local")
            for mb in args.message_bytes:
                batch = signed_batch(args.batch, mb)
                n = len(batch)
                keys, sigs, msgs, offsets, malformed = (
                    cp.asarray(a)
                    for a in (
                        batch.public_keys,
                        batch.signatures,
                        batch.messages,
                        batch.message_offsets,
                        batch.malformed.view(np.uint8),
                    )
                )
                out = cp.zeros(n, dtype=cp.uint8)
                # Those copies ran on the legacy default stream, which a non-blocking stream does not wait
                # for: finish them before the first launch reads the inputs.
                cp.cuda.Device(args.device).synchronize()
                stream = cp.cuda.Stream(non_blocking=True)
                policy = ED25519_POLICY_CODES[Policy(args.policy)]
                runner.launch(stream, n, keys, sigs, msgs, offsets, malformed, out, policy)  # warm-up
                stream.synchronize()
                start, end = cp.cuda.Event(), cp.cuda.Event()
                start.record(stream)
                for _ in range(args.repeat):
                    runner.launch(stream, n, keys, sigs, msgs, offsets, malformed, out, policy)
                end.record(stream)
                end.synchronize()
                ms = cp.cuda.get_elapsed_time(start, end)
                verdicts = out.get()
                ok = int(np.count_nonzero(verdicts == Verdict.OK))
                if ok != n:
                    raise SystemExit(f"kernel verdicts wrong: {ok} of {n} OK for valid signatures")
                rate = n * args.repeat / (ms / 1e3)
                print(
                    f"  batch {n:>9,}  message {mb:>4} B  {rate / 1e6:8.2f} M verifies/s  {1e9 / rate:8.1f} ns/item"
                )
                results.append(
                    {
                        "kind": "ed25519",
                        "backend": "cuda",
                        "scope": "kernel",
                        "batch": n,
                        "message_bytes": mb,
                        "items_per_second": rate,
                        "ns_per_item": 1e9 / rate,
                        "policy": args.policy,
                        "block_dim": block_dim,
                        "registers": int(fn.num_regs),
                        "repeat": args.repeat,
                        "variant": " ".join(runner.variant),
                    }
                )
            runner.close()
    extra = {
        "gpu": {
            "name": info.name,
            "compute_capability": info.compute_capability,
            "sms": info.workers,
            "memory_bytes": info.memory_bytes,
        }
    }
    return info.name, results, extra


def bench_emu(args: argparse.Namespace) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    from verifier.backends.emu import EmuBackend

    be = EmuBackend()
    name = be.devices()[0].name
    results: list[dict[str, Any]] = []
    try:
        for mb in args.message_bytes:
            batch = signed_batch(args.batch, mb)
            be.run(ED25519, batch, Policy(args.policy))  # warm-up (the build is cached by then)
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                verdicts = be.run(ED25519, batch, Policy(args.policy))
            dt = time.perf_counter() - t0
            assert int(np.count_nonzero(verdicts == Verdict.OK)) == len(batch)
            rate = len(batch) * args.repeat / dt
            print(
                f"{name} ({be.workers} threads): batch {len(batch):,} message {mb} B  {rate:,.0f} verifies/s"
            )
            results.append(
                {
                    "kind": "ed25519",
                    "backend": "emu",
                    "scope": "kernel",
                    "batch": len(batch),
                    "message_bytes": mb,
                    "items_per_second": rate,
                    "ns_per_item": 1e9 / rate,
                    "policy": args.policy,
                    "threads": be.workers,
                    "repeat": args.repeat,
                }
            )
    finally:
        be.close()
    return name, results, {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("cuda", "emu"), default="cuda")
    ap.add_argument("--batch", type=int, default=None, help="items per launch (cuda 1,048,576; emu 4,096)")
    ap.add_argument("--message-bytes", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--repeat", type=int, default=None, help="timed launches per point (cuda 10; emu 1)")
    ap.add_argument("--policy", choices=[p.value for p in Policy], default=Policy.LIBSODIUM.value)
    ap.add_argument("--block-dim", type=int, nargs="+", default=[128])
    ap.add_argument("--device", type=int, default=0)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    args.batch = args.batch or (1 << 20 if args.backend == "cuda" else 4096)
    args.repeat = args.repeat or (10 if args.backend == "cuda" else 1)
    try:
        device, results, extra = bench_cuda(args) if args.backend == "cuda" else bench_emu(args)
    except BackendUnavailableError as exc:
        print(f"bench_ed25519_kernel: no GPU benchmark here: {exc}")
        print("bench_ed25519_kernel: run on a machine with CuPy and a CUDA GPU, or use --backend emu")
        return 0
    if not args.no_save:
        path = save(f"ed25519-kernel-{args.backend}", device, results, extra)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
