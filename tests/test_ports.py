"""Ports: a second server on a port in use fails at startup with one line naming the address and port (gRPC
and metrics alike), never a traceback and never a silent share of the port (SO_REUSEPORT is off unless
``reuse_port`` asks for it)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import grpc
import pytest
from prometheus_client import CollectorRegistry

from tests.support.harness import RunningServer, ServeProcess, running_server, serve_command, serve_process
from verifier.errors import PortInUseError, VerifierError
from verifier.server import ServerConfig, VerifierServer


@pytest.fixture(scope="module")
def first() -> Iterator[ServeProcess]:
    with serve_process(serve_command()) as server:
        yield server


def _second(*flags: str) -> tuple[int, list[str]]:
    process = ServeProcess(serve_command(*flags))
    try:
        rc = process.wait_exit(60)
    finally:
        process.close()
    return rc, list(process.lines)


@pytest.mark.parametrize("which", ["gRPC", "metrics"])
def test_a_second_server_on_a_port_in_use_stops_with_one_line_naming_it(
    first: ServeProcess, which: str
) -> None:
    port = first.port if which == "gRPC" else first.metrics_port
    rc, lines = _second("--port" if which == "gRPC" else "--metrics-port", str(port))
    assert rc == 2, lines  # the command line's exit code for a startup failure
    assert len(lines) == 1 and lines[0].endswith(
        f"{which} port 127.0.0.1:{port} is in use by another process"
    ), lines
    # The first server still has its port, and is still the only one answering on it.
    if which == "gRPC":
        with grpc.insecure_channel(first.target) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)


def _start(config: ServerConfig) -> RunningServer:
    server = RunningServer(config)
    try:
        server.start()
    except BaseException:
        server.stop(0)
        raise
    return server


def test_port_in_use_is_port_in_use_error_and_reuse_port_shares_on_purpose() -> None:
    """In one process: without ``reuse_port`` the second bind is refused (``PortInUseError``, a
    ``VerifierError`` and an ``OSError``); with it on both servers, both listen on the port."""
    with running_server(reuse_port=True) as one:
        assert one.server is not None and one.server.port
        port = one.server.port
        refused = RunningServer(ServerConfig(port=port, metrics_port=None, backend="cpu"))
        with pytest.raises(PortInUseError, match=f"gRPC port 127.0.0.1:{port} is in use") as info:
            refused.start()
        refused.stop(0)
        assert isinstance(info.value, VerifierError) and isinstance(info.value, OSError)
        two = _start(ServerConfig(port=port, metrics_port=None, backend="cpu", reuse_port=True))
        try:
            assert two.server is not None and two.server.port == port
        finally:
            two.stop(0)


def test_metrics_port_in_use_is_named_before_the_grpc_port_opens() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        async def start() -> None:
            server = VerifierServer(
                ServerConfig(port=0, metrics_port=port, backend="cpu"), CollectorRegistry()
            )
            try:
                await server.start()
            finally:
                assert server.port is None  # refused before gRPC bound anything
                await server.stop(0)

        with pytest.raises(
            PortInUseError, match=f"^metrics port 127.0.0.1:{port} is in use by another process$"
        ):
            asyncio.run(start())


def test_metrics_on_the_grpc_port_is_refused_naming_both() -> None:
    async def start() -> None:
        server = VerifierServer(
            ServerConfig(port=port, metrics_port=port, backend="cpu"), CollectorRegistry()
        )
        try:
            await server.start()
        finally:
            await server.stop(0)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PortInUseError, match=f"^metrics port 127.0.0.1:{port} is the gRPC port too$"):
        asyncio.run(start())
