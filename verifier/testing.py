"""Launch ``verifier serve`` in a process of its own and wait for its ready line: the one launcher the
tests (``tests/support/harness.py``) and the benchmarks (``benchmarks/hostile.py``, ``loadgen.py``) use.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

__all__ = ["READY", "ServeProcess", "free_port", "serve_command"]

# The line the server logs when it is ready (README): where it listens, the backend, the metrics port.
READY = re.compile(
    r"serving \S+ on ([\w.:\[\]-]+):(\d+) with backend (\w+)(?:.*?; metrics on [\w.:\[\]-]+:(\d+))?"
)


def free_port() -> int:
    """A loopback port free a moment ago (for ``--metrics-port``, where 0 means no metrics endpoint)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_command(*flags: str) -> list[str]:
    """``verifier serve`` on free loopback ports with the CPU backend; ``flags`` come last and override."""
    metrics = str(free_port())
    return [
        sys.executable,
        "-m",
        "verifier",
        "serve",
        "--port",
        "0",
        "--metrics-port",
        metrics,
        "--backend",
        "cpu",
        *flags,
    ]


class ServeProcess:
    """A server process (``command``, by default ``serve_command()``) whose standard error is read on a
    thread into ``lines``; ``wait_ready`` returns once the ready line is seen (its ports are then set)."""

    def __init__(
        self, command: Sequence[str] | None = None, env: dict[str, str] | None = None, keep: int | None = None
    ) -> None:
        """``keep``: the last lines kept in ``lines`` (None: all; a long benchmark keeps a tail);
        ``line_count`` counts them all."""
        self.command = list(command) if command is not None else serve_command()
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self.line_count = 0
        self.port: int | None = None
        self.metrics_port: int | None = None
        self._seen = threading.Condition()
        self.proc = subprocess.Popen(
            self.command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self.line_count += 1
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
                for line in list(self.lines):
                    if match := regex.search(line):
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"no line matching {pattern!r}; the process wrote:\n" + "\n".join(self.lines)
                    )
                self._seen.wait(min(left, 0.5))

    def wait_ready(self, timeout: float = 60) -> None:
        match = self.wait_for(READY.pattern, timeout)
        self.port = int(match[2])
        self.metrics_port = int(match[4]) if match[4] else None

    def metrics(self, timeout: float = 10) -> str:
        """The text of the server's /metrics endpoint (it must have one: ``serve_command`` gives it a port)."""
        import urllib.request

        assert self.metrics_port is not None, "the server has no metrics endpoint"
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=timeout) as r:
            return str(r.read().decode())

    def calls_served(self, timeout: float = 10) -> float:
        """verifier_requests_total of the verifier.v1.Verifier service (health and reflection left out)."""
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in self.metrics(timeout).splitlines()
            if line.startswith("verifier_requests_total{") and 'grpc_service="verifier.v1.Verifier"' in line
        )

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
