"""A real server on a loopback port, run on its own event loop thread, for end-to-end tests; and
``verifier serve`` in a process of its own (``verifier.testing.ServeProcess``, the launcher the
benchmarks use too), for what only a process shows (signals, ports held by another process, the log
lines on standard error)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry

from verifier.schemes import ED25519
from verifier.server import ServerConfig, VerifierServer
from verifier.testing import READY, ServeProcess, free_port, serve_command

__all__ = [
    "READY",
    "GatedCpu",
    "RunningServer",
    "ServeProcess",
    "free_port",
    "running_server",
    "serve_command",
    "serve_process",
]


class RunningServer:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.registry = CollectorRegistry()
        self.loop = asyncio.new_event_loop()
        self.server: VerifierServer | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def target(self) -> str:
        assert self.server is not None and self.server.port
        return f"127.0.0.1:{self.server.port}"

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self._thread.start()

        async def create() -> VerifierServer:
            return VerifierServer(self.config, self.registry)  # the aio server binds to this loop

        self.server = self.run(create())
        self.run(self.server.start())

    def stop(self, grace: float = 5) -> None:
        if self.server is not None and self.server.engine is not None:
            self.run(self.server.stop(grace))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@contextmanager
def running_server(**config: Any) -> Iterator[RunningServer]:
    config.setdefault("port", 0)
    config.setdefault("metrics_port", 0)
    config.setdefault("backend", "cpu")
    server = RunningServer(ServerConfig(host="127.0.0.1", **config))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class GatedCpu:
    """A CPU backend whose Ed25519 batches wait while the gate is closed, for tests that need work held
    in flight (a request in the budget, a caller that gives up). ``install`` makes the next server use it."""

    def __init__(self) -> None:
        from verifier.backends.cpu import CpuBackend

        gate = self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()  # a batch reached the backend
        entered = self.entered

        class _Gated(CpuBackend):
            def run(self, scheme, batch, policy=None):  # type: ignore[no-untyped-def]
                if scheme is not ED25519:  # only signature batches are held (slowed)
                    return super().run(scheme, batch, policy)
                entered.set()
                gate.wait(60)
                return super().run(scheme, batch, policy)

        self.backend = _Gated()

    def install(self, monkeypatch: Any) -> None:
        monkeypatch.setattr("verifier.server.select_backend", lambda name: self.backend)


@contextmanager
def serve_process(command: Sequence[str] | None = None, ready: bool = True) -> Iterator[ServeProcess]:
    """A ``ServeProcess``, ready (unless ``ready`` is False) inside the block, stopped after it."""
    process = ServeProcess(command)
    try:
        if ready:
            process.wait_ready()
        yield process
    finally:
        process.close()
