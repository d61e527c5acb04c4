"""Shutdown: health turns NOT_SERVING and open Watch streams end at once, so an idle server exits at once
whatever the grace period; the grace period bounds only work already accepted, and the work of a call
still running when it ends is dropped."""

from __future__ import annotations

import threading
import time

import grpc
import nacl.signing
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.harness import running_server, serve_command, serve_process
from verifier.scheduler import SchedulerConfig
from verifier.schemes import ED25519
from verifier.v1 import verifier_pb2 as pb2
from verifier.v1 import verifier_pb2_grpc as pb2_grpc

SK = nacl.signing.SigningKey(b"\x66" * 32)
PK = bytes(SK.verify_key)


class _Watch:
    """A health Watch on a thread: the statuses it got, and how it ended (None: the stream ended OK)."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target)
        self.statuses: list[int] = []
        self.error: grpc.StatusCode | None = None
        self.serving = threading.Event()
        self._stream = health_pb2_grpc.HealthStub(self.channel).Watch(
            health_pb2.HealthCheckRequest(service="")
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for update in self._stream:
                self.statuses.append(update.status)
                if update.status == health_pb2.HealthCheckResponse.SERVING:
                    self.serving.set()
        except grpc.RpcError as exc:
            self.error = exc.code()

    def close(self) -> None:
        self._stream.cancel()
        self.channel.close()


def test_idle_server_with_an_open_watch_exits_within_2_s_of_sigterm() -> None:
    """The default grace period is 30 s; an orchestrator's open Watch no longer holds shutdown for it."""
    with serve_process(serve_command()) as server:
        watch = _Watch(server.target)
        try:
            assert watch.serving.wait(30), watch.statuses
            sent = time.monotonic()
            server.terminate()
            rc = server.wait_exit(30)
            took = time.monotonic() - sent
            watch.thread.join(10)
        finally:
            watch.close()
    assert rc == 0, server.lines
    assert took < 2.0, f"exit {took:.2f} s after SIGTERM:\n" + "\n".join(server.lines)
    # The watcher was told NOT_SERVING, then its stream ended (status OK), not cut off.
    assert watch.statuses == [
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    ]
    assert watch.error is None and not watch.thread.is_alive()
    assert any("verifier stopped" in line for line in server.lines)


def _slow_request(n: int) -> pb2.VerifySignaturesRequest:
    msgs = [b"slow %d" % i for i in range(n)]
    return pb2.VerifySignaturesRequest(
        public_keys=PK * n,
        signatures=b"".join(SK.sign(m).signature for m in msgs),
        messages=b"".join(msgs),
        message_lengths=[len(m) for m in msgs],
    )


def test_grace_bounds_accepted_work_and_what_is_left_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call of 8 units of 0.5 s each is accepted, then shutdown with grace 1 s: stop returns soon after the
    grace period (the unit in progress finishes; the rest is dropped, never computed), not after 4 s."""
    from verifier.backends.cpu import CpuBackend

    units: list[float] = []

    class SlowCpu(CpuBackend):
        def run(self, scheme, batch, policy=None):  # type: ignore[no-untyped-def]
            if scheme is not ED25519:  # only signature batches are held (slowed)
                return super().run(scheme, batch, policy)
            units.append(time.monotonic())
            time.sleep(0.5)
            return super().run(scheme, batch, policy)

    monkeypatch.setattr("verifier.server.select_backend", lambda name: SlowCpu())
    with running_server(scheduler=SchedulerConfig(max_batch_items=10, max_inflight=1)) as srv:
        assert srv.server is not None
        errors: list[grpc.StatusCode] = []

        def call() -> None:
            with grpc.insecure_channel(srv.target) as channel:
                try:
                    pb2_grpc.VerifierStub(channel).VerifySignatures(_slow_request(80), timeout=60)
                except grpc.RpcError as exc:
                    errors.append(exc.code())

        worker = threading.Thread(target=call)
        worker.start()
        deadline = time.monotonic() + 30
        while not units and time.monotonic() < deadline:  # accepted, and its first unit computing
            time.sleep(0.01)
        began = time.monotonic()
        srv.run(srv.server.stop(grace=1.0))
        took = time.monotonic() - began
        worker.join(10)
        dropped = srv.registry.get_sample_value(
            "verifier_items_dropped_total", {"scheme": "ed25519", "reason": "cancelled"}
        )
    assert 1.0 <= took < 2.5, took  # the grace period, then at most the unit in progress
    assert errors and errors[0] in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED), errors
    assert len(units) <= 4  # of 8: the rest was never started
    assert dropped is not None and dropped >= 40
