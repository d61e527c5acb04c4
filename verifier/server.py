"""The gRPC server: verifier.v1, grpc.health.v1, reflection (v1 and v1alpha), Prometheus metrics, graceful
shutdown.

Startup: the ports are checked, then opened (a port in use is ``PortInUseError``, one line naming it; the
gRPC port is not shared with another process unless ``reuse_port``), with health NOT_SERVING; the backend
is selected and self-tested off the event loop; then health turns SERVING, one log line gives every
effective setting and one says where the server listens and on which backend. SIGTERM/SIGINT: health turns
NOT_SERVING for good and open health Watch streams are sent that and ended, new RPCs are refused, accepted
ones finish (up to ``grace`` seconds; what is still running then is cancelled, and its queued work dropped),
then the process exits. Shaped after grpc/grpc examples/python/helloworld/
async_greeter_server_with_graceful_shutdown.py.

The transport is bounded by gRPC's own options (``grpc_options``): streams per connection, calls in the
whole server, keepalive pings a client may send, and how long an idle or old connection lives, so a
client holding streams open without sending (half-open) cannot hold the server's resources for long.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import functools
import logging
import signal
import socket
import ssl
import time
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

from verifier.admission import ConsensusAccess
from verifier.backends import select_backend
from verifier.backends.multi import MultiDevice
from verifier.cometbft import ValidatorSetRegistry
from verifier.crossover import load_crossover, route_crossovers
from verifier.engine import Engine, Limits
from verifier.errors import PortInUseError
from verifier.interceptors import AccessLog, CallInterceptor
from verifier.logs import FIELDS
from verifier.metrics import Metrics
from verifier.scheduler import Scheduler, SchedulerConfig
from verifier.schemes import SCHEMES
from verifier.service import SERVICE_NAME, VerifierServicer, method_handlers, release_set_keys, tally
from verifier.v1 import verifier_pb2 as _pb2

__all__ = ["ServerConfig", "VerifierServer", "serve"]

_log = logging.getLogger("verifier.server")


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 50051  # 0 picks a free port
    metrics_port: int | None = 9464  # None: no metrics endpoint
    metrics_host: str | None = None  # default: same as host
    backend: str = "auto"
    # Devices of the backend to use ("all", a count, or a list "0,2"); "" or None: its default device.
    devices: str | None = None
    limits: Limits = dataclasses.field(default_factory=Limits)
    scheduler: SchedulerConfig = dataclasses.field(default_factory=SchedulerConfig)
    # Device batches smaller than this run on the CPU (GPU backends only; policy zip215 scales it by the
    # CPU's zip215/libsodium rate); None: what `verifier bench` measured per kind
    # (verifier.crossover.load_crossover), else 0.
    crossover_batch: int | None = 0
    grace_seconds: float = 30.0
    # TLS: PEM files. With a client CA, clients must present a certificate it signed (mutual TLS).
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    # Validator sets RegisterValidatorSet keeps (least recently used evicted first).
    max_validator_sets: int = 64
    # A VerifyCommit or RegisterValidatorSet request larger than this is refused before it is parsed
    # (a 10,000-validator commit is 2.3 MB as JSON, 1.0 MB as protobuf, 1.6 MB with its validators inline).
    max_commit_bytes: int = 4 << 20
    # Commits and sets larger than this are parsed and walked one at a time on a thread of their own,
    # with at most commit_lane_waiting more waiting (beyond: RESOURCE_EXHAUSTED), so smaller ones never
    # queue behind them.
    commit_lane_bytes: int = 256 << 10
    commit_lane_waiting: int = 8
    # Wire bytes of requests accepted and not yet answered, all callers together.
    max_inflight_bytes: int = 1 << 30
    # HTTP/2 and connections (gRPC core options; 0 leaves gRPC's own default, which is no limit).
    max_concurrent_streams: int = 256  # streams one connection may have open
    max_concurrent_rpcs: int = 4096  # calls in progress in the whole server; more are RESOURCE_EXHAUSTED
    keepalive_min_interval_s: float = 10.0  # a client pinging more often, with no call open, gets a strike
    keepalive_max_ping_strikes: int = 2  # strikes before the connection is closed (GOAWAY)
    keepalive_permit_without_calls: bool = True  # keepalive pings allowed on a connection with no call
    max_connection_idle_s: float = 300.0  # a connection without calls this long is closed
    max_connection_age_s: float = 300.0  # a connection this old is asked to go away (GOAWAY): clients re-resolve and reach new replicas ...
    max_connection_age_grace_s: float = 60.0  # ... and closed this much later, calls still open or not
    # Who may claim PRIORITY_CONSENSUS and call RegisterValidatorSet (admission.ConsensusAccess): a file of
    # client certificate identities (needs tls_client_ca); without one, "open" or "bulk-only".
    consensus_clients: str | None = None
    consensus_priority: str = "open"
    # Operations (issue 12): logs, ports, the metrics endpoint.
    log_format: str = "text"  # text | json (one object per line)
    access_log: bool = True  # one INFO line per call (method, peer, request id, items, code, duration)
    reuse_port: bool = False  # SO_REUSEPORT: several processes on one port, only when asked for
    metrics_tls_cert: str | None = None  # PEM: serve /metrics over HTTPS
    metrics_tls_key: str | None = None
    metrics_tls_client_ca: str | None = None  # PEM: scrapers must present a certificate this CA signed

    def server_credentials(self) -> grpc.ServerCredentials | None:
        if not self.tls_cert and not self.tls_key:
            if self.tls_client_ca:
                raise ValueError("a TLS client CA needs a server certificate and key too")
            return None
        if not (self.tls_cert and self.tls_key):
            raise ValueError("TLS needs both a certificate and a key")
        with open(self.tls_cert, "rb") as f:
            cert = f.read()
        with open(self.tls_key, "rb") as f:
            key = f.read()
        ca = None
        if self.tls_client_ca:
            with open(self.tls_client_ca, "rb") as f:
                ca = f.read()
        return grpc.ssl_server_credentials(
            [(key, cert)], root_certificates=ca, require_client_auth=ca is not None
        )

    def grpc_options(self) -> list[tuple[str, int]]:
        """The grpc core channel arguments of the server: message sizes, streams, keepalive, connections."""

        def ms(seconds: float) -> int:
            return round(seconds * 1000)

        options = [
            ("grpc.max_receive_message_length", self.limits.max_message_bytes),
            ("grpc.max_send_message_length", self.limits.max_message_bytes),
            ("grpc.http2.min_ping_interval_without_data_ms", ms(self.keepalive_min_interval_s)),
            ("grpc.http2.max_ping_strikes", self.keepalive_max_ping_strikes),
            ("grpc.keepalive_permit_without_calls", int(self.keepalive_permit_without_calls)),
            ("grpc.so_reuseport", int(self.reuse_port)),  # gRPC's default is 1: a second server would share
        ]
        for name, value in (
            ("grpc.max_concurrent_streams", self.max_concurrent_streams),
            ("grpc.max_connection_idle_ms", ms(self.max_connection_idle_s)),
            ("grpc.max_connection_age_ms", ms(self.max_connection_age_s)),
            ("grpc.max_connection_age_grace_ms", ms(self.max_connection_age_grace_s)),
        ):
            if value > 0:
                options.append((name, value))
        return options

    def consensus_access(self) -> ConsensusAccess:
        return ConsensusAccess.from_config(
            self.consensus_clients, self.consensus_priority, bool(self.tls_client_ca)
        )

    def metrics_tls(self) -> dict[str, Any]:
        """start_http_server's TLS arguments (none for plain HTTP); the files are loaded once here, so a bad
        one is named before any port opens."""
        cert, key, ca = self.metrics_tls_cert, self.metrics_tls_key, self.metrics_tls_client_ca
        if not cert and not key:
            if ca:
                raise ValueError("a metrics TLS client CA needs a metrics certificate and key too")
            return {}
        if not (cert and key):
            raise ValueError("metrics TLS needs both a certificate and a key")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(cert, key)
            if ca:
                context.load_verify_locations(ca)
        except ssl.SSLError as exc:
            raise ValueError(
                f"metrics TLS: cannot load {cert}, {key}{', ' + ca if ca else ''}: {exc}"
            ) from None
        return {"certfile": cert, "keyfile": key, "client_cafile": ca, "client_auth_required": bool(ca)}

    def settings(self) -> dict[str, Any]:
        """Every setting, flattened (``limits.max_items``, ``scheduler.max_inflight``), for the startup line."""
        flat: dict[str, Any] = {}
        for name, value in dataclasses.asdict(self).items():
            if isinstance(value, dict):
                flat.update({f"{name}.{k}": v for k, v in value.items()})
            else:
                flat[name] = value
        return flat


def _bind_reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "is in use by another process"
    if exc.errno == errno.EACCES:
        return "cannot be bound: permission denied (a port below 1024 needs privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "cannot be bound: the address is not one of this host's"
    return f"cannot be bound: {exc.strerror or exc}"


def _check_port(what: str, host: str, port: int, reuse_port: bool = False) -> None:
    """``PortInUseError`` now, in one line, if ``host:port`` cannot be bound (every address it resolves to),
    rather than a gRPC core error later; the listener binds it for real right after."""
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(
            host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise PortInUseError(f"{what} address {host}:{port} cannot be resolved: {exc.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC and http.server do
            if reuse_port and hasattr(socket, "SO_REUSEPORT"):
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise PortInUseError(f"{what} port {host}:{port} {_bind_reason(exc)}") from None


class _Health(health_pb2_grpc.HealthServicer):  # type: ignore[misc]
    """grpc.health.v1 as grpc_health's aio servicer serves it (``set``, ``enter_graceful_shutdown``, Check,
    Watch), except that once shutdown has begun each open Watch stream is sent NOT_SERVING and then ended
    (status OK). grpc_health's keeps Watch streams open until the server cancels them, and the server's
    ``stop(grace)`` waits for every open call, so one watcher (a load balancer, an orchestrator) held every
    shutdown for the whole grace period. A watcher is written to outside the lock, so one that does not
    read holds up no other."""

    def __init__(self) -> None:
        self._status: dict[str, int] = {"": health_pb2.HealthCheckResponse.SERVING}
        self._changed = asyncio.Condition()
        self._closing = False

    def _current(self, service: str) -> int:
        return int(self._status.get(service, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN))

    async def Check(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        status = self._status.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service[:200]!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(self, request: Any, context: grpc.aio.ServicerContext) -> None:
        sent = None
        while True:
            async with self._changed:

                def changed(seen: Any = sent) -> bool:  # this iteration's value, bound now
                    return self._closing or self._current(request.service) != seen

                await self._changed.wait_for(changed)
                status, closing = self._current(request.service), self._closing
            if status != sent:
                await context.write(health_pb2.HealthCheckResponse(status=status))
                sent = status
            if closing:
                return

    async def set(self, service: str, status: int) -> None:
        """``service``'s status from now on; ignored once shutdown has begun."""
        async with self._changed:
            if not self._closing:
                self._status[service] = status
                self._changed.notify_all()

    async def enter_graceful_shutdown(self) -> None:
        """Every service NOT_SERVING for good; each Watch stream is sent that and ends."""
        async with self._changed:
            self._closing = True
            for service in self._status:
                self._status[service] = health_pb2.HealthCheckResponse.NOT_SERVING
            self._changed.notify_all()


_REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"
_REFLECTION_V1_FILE = "grpc_reflection/v1/reflection.proto"


def _add_v1_reflection_file() -> None:
    """grpc.reflection.v1's file in the default descriptor pool, so that v1 can be described as well as
    listed: v1alpha's, renamed. Its messages are v1alpha's field for field (names, numbers, types; grpc/grpc
    src/proto/grpc/reflection/v1/reflection.proto and v1alpha/reflection.proto differ in package, options
    and comments only; tests/test_reflection.py holds v1's fields), so the two are the same on the wire."""
    pool = descriptor_pool.Default()
    try:
        pool.FindServiceByName(_REFLECTION_V1)
        return  # already there (a grpcio-reflection that ships v1, or a second server in this process)
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old, new = f".{proto.package}.", ".grpc.reflection.v1."
    proto.name, proto.package = _REFLECTION_V1_FILE, "grpc.reflection.v1"
    proto.options.Clear()
    proto.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
    proto.options.java_package, proto.options.java_outer_classname = (
        "io.grpc.reflection.v1",
        "ServerReflectionProto",
    )
    proto.options.java_multiple_files = True
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = new + field.type_name.removeprefix(old)
    for service in proto.service:
        for method in service.method:
            method.input_type = new + method.input_type.removeprefix(old)
            method.output_type = new + method.output_type.removeprefix(old)
    pool.AddSerializedFile(proto.SerializeToString())


def _add_reflection(server: grpc.aio.Server, service_names: tuple[str, ...]) -> None:
    """Server reflection as grpc.reflection.v1alpha (grpcio-reflection's servicer, which has no v1) and as
    grpc.reflection.v1 (the same servicer under v1's name: the messages are the same on the wire), so tools
    that ask v1 first get an answer rather than UNIMPLEMENTED."""
    _add_v1_reflection_file()
    servicer = reflection.aio.ReflectionServicer((*service_names, reflection.SERVICE_NAME, _REFLECTION_V1))
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1 = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(_REFLECTION_V1, {"ServerReflectionInfo": v1}),)
    )


class VerifierServer:
    def __init__(self, config: ServerConfig, registry: CollectorRegistry | None = None) -> None:
        from verifier import __version__

        self.config = config
        self.metrics = Metrics(registry if registry is not None else CollectorRegistry())
        self.engine: Engine | None = None
        self.scheduler: Scheduler | None = None
        self.port: int | None = None
        self.metrics_port: int | None = None
        self._metrics_server: Any = None
        self._health = _Health()
        self._ready = asyncio.Event()
        self._listening = False  # the gRPC server started (stop says so in the log only then)
        access = config.consensus_access()  # a bad --consensus-* setting stops the server here
        self._metrics_tls = config.metrics_tls()  # and a bad metrics TLS setting
        self._server = grpc.aio.server(
            interceptors=[CallInterceptor(self.metrics, AccessLog(config.access_log), tally)],
            options=config.grpc_options(),
            maximum_concurrent_rpcs=config.max_concurrent_rpcs or None,
        )
        self.validator_sets = ValidatorSetRegistry(
            config.max_validator_sets, on_evict=lambda vals: release_set_keys(self.engine, vals)
        )
        self._servicer = VerifierServicer(
            lambda: self.scheduler,
            __version__,
            self.validator_sets,
            self.metrics,
            access=access,
            max_commit_bytes=config.max_commit_bytes,
            max_inflight_bytes=config.max_inflight_bytes,
            big_commit_bytes=config.commit_lane_bytes,
            big_commit_waiting=config.commit_lane_waiting,
        )
        handlers = method_handlers(self._servicer)
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
        self._server.add_registered_method_handlers(SERVICE_NAME, handlers)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        _add_reflection(self._server, (SERVICE_NAME, health.SERVICE_NAME))

    async def _set_health(self, status: int) -> None:
        for name in ("", SERVICE_NAME):
            await self._health.set(name, status)

    async def start(self) -> None:
        """Open the ports (health NOT_SERVING), then warm up the backend and turn SERVING."""
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        credentials = self._open_ports()
        await self._server.start()
        self._listening = True
        where = (self.config.backend, self.config.devices) if self.config.devices else (self.config.backend,)
        backend = await asyncio.to_thread(select_backend, *where)  # self-tested, each device
        engine = await self._start_engine(backend)
        await self._set_health(health_pb2.HealthCheckResponse.SERVING)
        self._ready.set()
        self._announce(engine, credentials is not None)

    def _open_ports(self) -> grpc.ServerCredentials | None:
        """Check both ports, then open them: gRPC (TLS when configured) and the metrics endpoint."""
        cfg = self.config
        credentials = cfg.server_credentials()
        metrics_host = cfg.metrics_host or cfg.host
        _check_port("gRPC", cfg.host, cfg.port, cfg.reuse_port)
        if cfg.metrics_port is not None:
            if cfg.metrics_port == cfg.port != 0:
                raise PortInUseError(f"metrics port {metrics_host}:{cfg.metrics_port} is the gRPC port too")
            _check_port("metrics", metrics_host, cfg.metrics_port)
        address = f"{cfg.host}:{cfg.port}"
        try:
            if credentials is None:
                self.port = self._server.add_insecure_port(address)
            else:
                self.port = self._server.add_secure_port(address, credentials)
        except RuntimeError:  # taken between the check and now; gRPC's own message has no reason
            raise PortInUseError(
                f"gRPC port {address} cannot be bound (in use, or not this host's)"
            ) from None
        if cfg.metrics_port is not None:
            try:
                self._metrics_server, _ = start_http_server(
                    cfg.metrics_port, addr=metrics_host, registry=self.metrics.registry, **self._metrics_tls
                )
            except OSError as exc:
                raise PortInUseError(
                    f"metrics port {metrics_host}:{cfg.metrics_port} {_bind_reason(exc)}"
                ) from None
            self.metrics_port = self._metrics_server.server_port
        return credentials

    async def _start_engine(self, backend: Any) -> Engine:
        cfg = self.config
        engine = await asyncio.to_thread(Engine, backend, cfg.limits)
        if engine.backend is not engine.cpu:  # a device: small batches go to the CPU below the crossovers
            if cfg.crossover_batch is None:  # as measured by `verifier bench`
                per_scheme = {s.name: load_crossover(kind=s.name) or 0 for s in SCHEMES}
            else:
                per_scheme = {s.name: cfg.crossover_batch for s in SCHEMES}
            engine.set_crossovers(await asyncio.to_thread(route_crossovers, per_scheme, engine.cpu))
        engine.observers.append(self.metrics.observe_verdicts)
        engine.fallback_observers.append(self.metrics.observe_fallback)
        engine.health_observers.append(self.metrics.set_health)
        if isinstance(backend, MultiDevice):
            self.metrics.set_devices(backend.name, backend.labels)
            backend.health_observers.append(functools.partial(self.metrics.set_device_health, backend.name))
            backend.batch_observers.append(functools.partial(self.metrics.observe_device_items, backend.name))
        self.metrics.set_backend(backend.name)
        self.metrics.watch_device_memory(
            backend.memory_in_use, sum(d.memory_bytes for d in backend.devices())
        )
        self.engine = engine
        sched_cfg = cfg.scheduler
        if isinstance(engine.backend, MultiDevice) and sched_cfg.max_inflight <= len(engine.backend.members):
            # Every device busy, and one more unit gathered meanwhile.
            sched_cfg = dataclasses.replace(sched_cfg, max_inflight=len(engine.backend.members) + 1)
            _log.info(
                "%d devices: --max-inflight raised to %d", len(engine.backend.members), sched_cfg.max_inflight
            )
        self.scheduler = Scheduler(engine, sched_cfg, self.metrics)
        # The unit size as resolved (a configured 0 means "by backend").
        knobs = dict(dataclasses.asdict(cfg.scheduler), max_batch_items=self.scheduler.unit_items)
        self.metrics.set_config(knobs, engine.crossovers)
        self.scheduler.start()
        return engine

    def effective_settings(self) -> dict[str, Any]:
        """``ServerConfig.settings()`` with what startup resolved: ports, backend, metrics host, unit size and
        crossovers (a configured 0 or None means "by backend" or "as measured")."""
        from verifier import __version__

        cfg = self.config
        settings: dict[str, Any] = {"version": __version__, **cfg.settings()}
        settings.update(
            port=self.port, metrics_port=self.metrics_port, metrics_host=cfg.metrics_host or cfg.host
        )
        if self.engine is not None and self.scheduler is not None:
            settings["backend"] = self.engine.backend.name
            settings["scheduler.max_batch_items"] = self.scheduler.unit_items
            del settings["crossover_batch"]  # as resolved, per scheme and policy:
            for (name, policy), items in self.engine.crossovers.items():
                settings[
                    ".".join(("crossover_batch", name, policy) if policy else ("crossover_batch", name))
                ] = items
        return settings

    def _announce(self, engine: Engine, tls: bool) -> None:
        """The settings line, then the line that says where the server listens (tests and tools parse it)."""
        cfg = self.config
        _log.info("settings", extra={FIELDS: self.effective_settings()})
        backend = engine.backend
        devices = ", ".join(f"{d.name} x{d.workers}" for d in backend.devices())
        metrics = ""
        if self.metrics_port:
            metrics = f"; metrics on {cfg.metrics_host or cfg.host}:{self.metrics_port}"
            if self._metrics_tls:
                metrics += " (HTTPS with client certificates)" if cfg.metrics_tls_client_ca else " (HTTPS)"
        if tls:
            metrics += "; TLS with client certificates" if cfg.tls_client_ca else "; TLS"
        _log.info(
            "verifier %s serving %s on %s:%d with backend %s (%s, self-test passed)%s",
            _pb2.DESCRIPTOR.package,
            SERVICE_NAME,
            cfg.host,
            self.port,
            backend.name,
            devices,
            metrics,
        )

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING for good and health Watch streams ended, refuse new RPCs, let accepted ones finish
        (``grace`` seconds at most; then they are cancelled and their queued work dropped), then release
        the backend."""
        started = time.monotonic()
        await self._health.enter_graceful_shutdown()
        await self._server.stop(self.config.grace_seconds if grace is None else grace)
        if self._metrics_server is not None:
            await asyncio.to_thread(self._metrics_server.shutdown)  # its loop polls every 0.5 s
            self._metrics_server.server_close()
        await asyncio.to_thread(self._servicer.close)
        if self.scheduler is not None:
            await self.scheduler.close()
        if self.engine is not None:
            await asyncio.to_thread(self.engine.close)
            self.engine = None
        if self._listening:
            _log.info("verifier stopped (%.2f s after shutdown began)", time.monotonic() - started)

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()


async def serve(config: ServerConfig, registry: CollectorRegistry | None = REGISTRY) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully."""
    server = VerifierServer(config, registry)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await server.start()
    except BaseException:
        await server.stop(0)
        raise
    await stopping.wait()
    _log.info("shutting down: finishing accepted requests (grace %.0f s)", config.grace_seconds)
    await server.stop()
