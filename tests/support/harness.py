"""A real server on a loopback port, run on its own event loop thread, for end-to-end tests; and
``verifier serve`` in a process of its own (``ServeProcess``), for what only a process shows (signals,
ports held by another process, the log lines on standard error)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry

from verifier.schemes import ED25519
from verifier.server import ServerConfig, VerifierServer


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


# The line the server logs when it is ready (README): where it listens, the backend, the metrics port.
READY = re.compile(r"serving \S+ on ([\w.:\[\]-]+):(\d+) with backend (\w+)(?:.*?; metrics on [\w.:\[\]-]+:(\d+))?")


def free_port() -> int:
    """A loopback port free a moment ago (for ``--metrics-port``, where 0 means no metrics endpoint)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_command(*flags: str) -> list[str]:
    """``verifier serve`` on free loopback ports with the CPU backend; ``flags`` come last and override."""
    metrics = str(free_port())
    return [sys.executable, "-m", "verifier", "serve", "--port", "0", "--metrics-port", metrics, "--backend", "cpu", *flags]


class ServeProcess:
    """A server process (``command``, by default ``serve_command()``) whose standard error is read on a
    thread into ``lines``; ``wait_ready`` returns once the ready line is seen (its ports are then set)."""

    def __init__(self, command: Sequence[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.command = list(command) if command is not None else serve_command()
        self.lines: list[str] = []
        self.port: int | None = None
        self.metrics_port: int | None = None
        self._seen = threading.Condition()
        self.proc = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    @property
    def target(self) -> str:
        assert self.port is not None
        return f"127.0.0.1:{self.port}"

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line matching ``pattern``, waiting for it (AssertionError, with the lines, if the
        process ends or ``timeout`` passes first)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for line in self.lines:
                    if match := regex.search(line):
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line matching {pattern!r}; the process wrote:\n" + "\n".join(self.lines))
                self._seen.wait(min(left, 0.5))

    def wait_ready(self, timeout: float = 60) -> None:
        match = self.wait_for(READY.pattern, timeout)
        self.port = int(match[2])
        self.metrics_port = int(match[4]) if match[4] else None

    def wait_exit(self, timeout: float = 60) -> int:
        rc = self.proc.wait(timeout)
        self._reader.join(10)
        return rc

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def close(self) -> None:
        """SIGTERM, then SIGKILL if it is still running 30 s later."""
        self.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(10)


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
