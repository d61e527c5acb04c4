"""What is timed: peers (straight single-thread loops), the engine, a gRPC server, and CUDA kernels.

Every runner returns a zero-argument call that verifies one batch and returns how many items were valid,
so that the same timing code measures them all and checks they agree on the items.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from verifier import schemes
from verifier.bench.environment import REPO_ROOT
from verifier.bench.workload import EcdsaWorkload, Ed25519Workload, MerkleWorkload, Workload
from verifier.engine import Engine
from verifier.schemes.merkle_rfc9162 import NODE_PREFIX
from verifier.verdict import Verdict

__all__ = [
    "Call",
    "KernelTimer",
    "ServerProcess",
    "engine_call",
    "grpc_call",
    "kernel_timer",
    "peer_call",
]

Call = Callable[[], int]


# ------------------------------------------------------------------------------------------------ peers


def _signature_peer(
    w: Ed25519Workload, n: int, check: Callable[[bytes, bytes, bytes], object], rejected: type[Exception]
) -> Call:
    """A plain loop over Python objects: ``check(pk, sig, msg)`` per item, valid unless it raises
    ``rejected``."""
    items = w.items(n)
    keys, sigs, msgs = items.key_list, items.sig_list, items.messages

    def run() -> int:
        ok = 0
        for pk, sig, msg in zip(keys, sigs, msgs, strict=True):
            try:
                check(pk, sig, msg)
                ok += 1
            except rejected:
                pass
        return ok

    return run


def _pynacl(w: Ed25519Workload, n: int) -> Call:
    from nacl.bindings import crypto_sign_open
    from nacl.exceptions import BadSignatureError

    return _signature_peer(w, n, lambda pk, sig, msg: crypto_sign_open(sig + msg, pk), BadSignatureError)


def _cryptography(w: Ed25519Workload, n: int) -> Call:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return _signature_peer(
        w, n, lambda pk, sig, msg: Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg), InvalidSignature
    )


def _hashlib(w: MerkleWorkload, n: int) -> Call:
    """RFC 9162 section 2.1.3.2 as a plain loop over Python objects with hashlib."""
    items = w.items(n)
    rows = list(zip(items.leaf_hashes, items.leaf_indices, items.tree_sizes, items.paths, strict=True))
    root = items.root
    sha256 = hashlib.sha256
    node = NODE_PREFIX

    def run() -> int:
        ok = 0
        for leaf, index, size, path in rows:
            if index >= size:
                continue
            fn, sn, r = index, size - 1, leaf
            for p in path:
                if sn == 0:
                    break
                if fn & 1 or fn == sn:
                    r = sha256(node + p + r).digest()
                    if not fn & 1:
                        while fn and not fn & 1:
                            fn >>= 1
                            sn >>= 1
                else:
                    r = sha256(node + r + p).digest()
                fn >>= 1
                sn >>= 1
            else:
                if sn == 0 and r == root:
                    ok += 1
        return ok

    return run


def _ecdsa_peer(w: EcdsaWorkload, n: int, check: Callable[[bytes, bytes, bytes], bool]) -> Call:
    items = w.items(n)
    rows = list(zip(items.public_keys, items.signatures, items.digests, strict=True))

    def run() -> int:
        return sum(1 for key, sig, digest in rows if check(key, sig, digest))

    return run


def _coincurve(w: EcdsaWorkload, n: int) -> Call:
    """coincurve's public API per item (libsecp256k1; the key parsed each time, as a caller would)."""
    import coincurve

    return _ecdsa_peer(
        w, n, lambda key, sig, digest: coincurve.PublicKey(key).verify(sig, digest, hasher=None)
    )


def _cryptography_p256(w: EcdsaWorkload, n: int) -> Call:
    """cryptography per item (OpenSSL), the key decoded each time."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    algorithm = ec.ECDSA(utils.Prehashed(hashes.SHA256()))

    def check(key: bytes, sig: bytes, digest: bytes) -> bool:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key).verify(sig, digest, algorithm)
        except InvalidSignature:
            return False
        return True

    return _ecdsa_peer(w, n, check)


# (scheme, peer) -> the peer's loop over the workload's items.
_PEERS: dict[tuple[str, str], Callable[[Any, int], Call]] = {
    ("ed25519", "pynacl"): _pynacl,
    ("ed25519", "cryptography"): _cryptography,
    ("merkle", "hashlib"): _hashlib,
    ("ecdsa-secp256k1", "coincurve"): _coincurve,
    ("ecdsa-p256", "cryptography"): _cryptography_p256,
}


def peer_call(peer: str, w: Workload, n: int) -> Call:
    try:
        return _PEERS[(w.kind, peer)](w, n)
    except KeyError:
        raise ValueError(f"no peer {peer!r} for {w.kind}") from None


# ------------------------------------------------------------------------------------------------ engine


def engine_call(engine: Engine, w: Workload, n: int) -> Call:
    """``Engine.verify_*`` on a packed batch, as the server calls it once a request is decoded; the
    backend's own copies (host to device and back) are inside the call."""
    scheme, batch = schemes.scheme(w.kind), w.batch(n)
    return lambda: engine.verify(scheme, batch).valid_count


# ------------------------------------------------------------------------------------------------ gRPC


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    """``verifier serve`` in a child process on a loopback port (its own interpreter, as in production);
    ready once gRPC health says SERVING (after the backend's warm-up and self-test)."""

    def __init__(self, backend: str, *, timeout: float = 180.0) -> None:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        self.backend = backend
        self.port = _free_port()
        self.target = f"127.0.0.1:{self.port}"
        self._log = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115  closed by close()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        cmd = [
            sys.executable,
            "-m",
            "verifier",
            "--log-level",
            "WARNING",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--metrics-port",
            "0",
            "--backend",
            backend,
            "--grace",
            "2",
        ]
        self._proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                if self._proc.poll() is not None:
                    raise RuntimeError(
                        f"server (backend {backend}) exited with {self._proc.returncode}: {self.log_tail()}"
                    )
                try:
                    status = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(
                        f"server (backend {backend}) not serving after {timeout:.0f} s: {self.log_tail()}"
                    )
                time.sleep(0.05)

    def log_tail(self, limit: int = 2000) -> str:
        self._log.flush()
        self._log.seek(0)
        text = self._log.read().decode(errors="replace").strip()
        return text[-limit:] or "(no output)"

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._log.close()


def grpc_call(client: Any, w: Workload, n: int) -> Call:
    """One request through ``verifier.Client`` (the public API: items packed by the client, sent, answered)."""
    if isinstance(w, Ed25519Workload):
        e = w.items(n)
        return lambda: int(client.verify_ed25519(e.public_keys, e.signatures, e.messages).valid_count)
    if isinstance(w, MerkleWorkload):
        m = w.items(n)
        return lambda: int(
            client.verify_merkle(
                m.leaf_indices, m.tree_sizes, m.paths, m.root, leaf_hashes=m.leaf_hashes
            ).valid_count
        )
    scheme, batch = schemes.scheme(w.kind), w.batch(n)  # schemes without a Python-objects call
    return lambda: int(client.verify(scheme, batch).valid_count)


# ------------------------------------------------------------------------------------------------ kernel


class KernelTimer(Protocol):
    """Seconds per launch of each timed repetition (CUDA events, device-resident buffers, warm-up excluded)
    and the verdicts of the last launch."""

    def __call__(self, batch: Any, repeats: int) -> tuple[list[float], npt.NDArray[np.uint8]]: ...


# A kernel benchmark module may expose this function (see KernelTimer); it is used as it is.
KERNEL_TIMER_NAME = "kernel_times"
_LAUNCHES_PER_REPETITION = 10


def _import_kernel_module(kind: str) -> tuple[Any, str]:
    from verifier.bench.kinds import bench_kind

    name = bench_kind(kind).kernel_module
    assert name is not None
    path = REPO_ROOT / Path(*name.split(".")).with_suffix(".py")
    if not path.exists():
        return None, f"{path.relative_to(REPO_ROOT)} is not in this checkout"
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        return importlib.import_module(name), ""
    except Exception as exc:  # noqa: BLE001  a module that fails to import is a skip, not a crash
        return None, f"{name} failed to import: {type(exc).__name__}: {exc}"


def _event_seconds(cp: Any, stream: Any, launch: Callable[[], None], repeats: int) -> list[float]:
    """Seconds per launch for each repetition of ``_LAUNCHES_PER_REPETITION`` launches, by CUDA events."""
    launch()  # warm-up (first launch loads the module)
    stream.synchronize()
    times: list[float] = []
    for _ in range(max(1, repeats)):
        start, end = cp.cuda.Event(), cp.cuda.Event()
        start.record(stream)
        for _ in range(_LAUNCHES_PER_REPETITION):
            launch()
        end.record(stream)
        end.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, end) / 1e3 / _LAUNCHES_PER_REPETITION)
    return times


def _device_timer(
    cp: Any, columns: Callable[[Any], tuple[Any, ...]], launch: Callable[[Any, int, list[Any], Any], None]
) -> KernelTimer:
    """A ``KernelTimer``: the batch's ``columns`` copied to the device once, then ``launch(stream, n,
    device_columns, out)`` timed by CUDA events, and the verdicts of the last launch."""

    def timer(batch: Any, repeats: int) -> tuple[list[float], npt.NDArray[np.uint8]]:
        n = len(batch)
        dev = [cp.asarray(np.ascontiguousarray(c)) for c in columns(batch)]
        out = cp.zeros(n, dtype=cp.uint8)
        stream = cp.cuda.Stream(non_blocking=True)
        times = _event_seconds(cp, stream, lambda: launch(stream, n, dev, out), repeats)
        verdicts: npt.NDArray[np.uint8] = out.get()
        return times, verdicts

    return timer


def ed25519_timer(cp: Any) -> KernelTimer:
    """A timer over the cuda backend's own compiled Ed25519 kernel (``Ed25519Kernel.launch``, its block
    size), on device-resident copies of the batch, policy libsodium."""
    from verifier.backends._abi import ED25519_POLICY_CODES
    from verifier.backends.cuda.ed25519 import Ed25519Kernel
    from verifier.verdict import Policy

    ek = Ed25519Kernel(cp, streams=1)
    policy = ED25519_POLICY_CODES[Policy.LIBSODIUM]
    return _device_timer(
        cp,
        lambda b: (b.public_keys, b.signatures, b.messages, b.message_offsets, b.malformed.view(np.uint8)),
        lambda stream, n, d, out: ek.launch(stream, n, d[0], d[1], d[2], d[3], d[4], out, policy),
    )


def _ecdsa_timer(cp: Any, curve: int, low_s: bool) -> KernelTimer:
    """A timer over the cuda backend's compiled ECDSA kernel (``EcdsaKernel.launch``) on device-resident
    copies of the batch, under the curve's default policy."""
    from verifier.backends.cuda.ecdsa import EcdsaKernel

    ek = EcdsaKernel(cp, curve, {}, streams=1)
    return _device_timer(
        cp,
        lambda b: (
            b.public_keys,
            b.key_offsets,
            b.signatures,
            b.signature_offsets,
            b.digests,
            b.malformed.view(np.uint8),
        ),
        lambda stream, n, d, out: ek.launch(stream, n, d[0], d[1], d[2], d[3], d[4], d[5], out, low_s),
    )


def secp256k1_timer(cp: Any) -> KernelTimer:
    return _ecdsa_timer(cp, 0, True)  # libsecp256k1: low S


def p256_timer(cp: Any) -> KernelTimer:
    return _ecdsa_timer(cp, 1, False)  # openssl


def merkle_timer(cp: Any) -> KernelTimer:
    """A timer over the cuda backend's own compiled Merkle kernel (``MerkleKernel.launch``), leaf hashes
    given, on device-resident copies of the batch."""
    from verifier.backends.cuda.merkle import MerkleKernel

    null = np.uint64(0)
    mk = MerkleKernel(cp, streams=1)

    def merkle_timer(batch: Any, repeats: int) -> tuple[list[float], npt.NDArray[np.uint8]]:
        n = len(batch)
        dev = {
            k: cp.asarray(np.ascontiguousarray(getattr(batch, k)))
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
        out = cp.zeros(n, dtype=cp.uint8)
        stream = cp.cuda.Stream(non_blocking=True)

        def launch() -> None:
            mk.launch(
                stream,
                n,
                dev["leaf_hashes"],
                null,
                null,
                dev["leaf_indices"],
                dev["tree_sizes"],
                dev["path_hashes"],
                dev["path_offsets"],
                dev["roots"],
                int(batch.roots.shape[0]),
                dev["root_indices"],
                null,
                out,
            )

        times = _event_seconds(cp, stream, launch, repeats)
        verdicts: npt.NDArray[np.uint8] = out.get()
        return times, verdicts

    return merkle_timer


def kernel_timer(kind: str) -> tuple[KernelTimer | None, str, str]:
    """(timer, where it comes from, "") for ``kind``'s kernel-only figures, or (None, "", why not).

    The kernel benchmark module's ``kernel_times(batch, repeats)`` when it has one; else a timer over
    the cuda backend's own kernel class (``Ed25519Kernel`` / ``MerkleKernel``).
    """
    from verifier.bench.environment import cuda_environment
    from verifier.bench.kinds import bench_kind

    info, why = cuda_environment()
    if info is None:
        return None, "", why
    if bench_kind(kind).backend_timer is None:
        return None, "", f"scheme {kind} has no CUDA kernel yet"
    mod, why_not = _import_kernel_module(kind) if bench_kind(kind).kernel_module else (None, "")
    timer = getattr(mod, KERNEL_TIMER_NAME, None) if mod is not None else None
    if callable(timer) and mod is not None:
        return timer, f"{mod.__name__}.{KERNEL_TIMER_NAME}", ""
    import cupy as cp

    try:
        from verifier.schemes import load

        timer_ref = bench_kind(kind).backend_timer
        assert timer_ref is not None
        made: KernelTimer = load(timer_ref)(cp)  # type: ignore[assignment]
        return made, f"verifier.backends.cuda {kind} kernel launch", ""
    except Exception as exc:  # noqa: BLE001  a kernel that does not compile is a skip with its reason
        reasons = [
            r for r in (why_not, f"the cuda backend's kernel failed: {type(exc).__name__}: {exc}") if r
        ]
        return None, "", "; ".join(reasons)


def kernel_call_valid(verdicts: npt.NDArray[np.uint8]) -> int:
    return int(np.count_nonzero(np.asarray(verdicts) == Verdict.OK))
