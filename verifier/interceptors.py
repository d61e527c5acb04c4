"""Server interceptor that records every call, whatever its service (verifier.v1, health, reflection):

- metrics (metrics.py defines them): the call's status code and duration when it ends, whether it is still
  in flight, and for a stream each message received and sent (``verifier_stream_messages_total``);
- the request id: the caller's ``x-request-id`` metadata, else a new one, sent back in the trailing
  metadata as ``x-request-id``;
- the access log (``AccessLog``): one INFO line per call when it ends (a stream: one line, with its message
  counts), on logger ``verifier.access``, unless turned off; and a WARNING for a client error (the call's
  status, or a VerifyStream batch's own error) on logger ``verifier.service``, at most one line per method
  and code per interval, saying how many it held back.

Items and verdict counts come from the answers themselves, read by a ``tally`` function the server passes
in (service.py knows its messages; this module never imports generated code).

A call whose handler is cancelled is recorded as DEADLINE_EXCEEDED when its deadline has passed, else
CANCELLED. (A stream whose connection goes away may instead just see its requests end, and is then
recorded with the code it ends with.)"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import grpc

from verifier.admission import Throttled
from verifier.logs import FIELDS
from verifier.metrics import Metrics

__all__ = ["REQUEST_ID", "AccessLog", "CallInterceptor", "Tally"]

REQUEST_ID = "x-request-id"
_MAX_REQUEST_ID = 128  # a caller's id longer than this is cut (it is logged and sent back)
_OK = grpc.StatusCode.OK.name
# Codes that say the caller asked for something wrong or not allowed: logged at WARNING.
_CLIENT_ERRORS = frozenset(
    c.name
    for c in (
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.UNIMPLEMENTED,
    )
)
_CODE_NAMES = {c.value[0]: c.name for c in grpc.StatusCode}
_IDENTITY_KEYS = ("x509_subject", "x509_common_name")

_access_log = logging.getLogger("verifier.access")


@dataclasses.dataclass(frozen=True)
class Tally:
    """What one answer (a unary response, or one stream message) says: ``items`` answered, how many of them
    are ``valid`` / ``invalid`` (None where the answer does not say), and a stream message's own ``error``
    (status code name, message) when it failed as a whole."""

    items: int = 0
    valid: int | None = None
    invalid: int | None = None
    error: tuple[str, str] | None = None


TallyFn = Callable[[Any], "Tally | None"]


def _no_tally(response: Any) -> Tally | None:
    return None


def _code_name(code: Any) -> str | None:
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return _CODE_NAMES.get(code) if code is not None else None  # some grpcio versions hand back the integer


def _status_name(context: grpc.aio.ServicerContext, default: grpc.StatusCode) -> str:
    return _code_name(context.code()) or str(default.name)


def _ended_name(context: grpc.aio.ServicerContext) -> str:
    """The code of a call whose handler was cancelled: its deadline passed, or its caller went away."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        return str(grpc.StatusCode.DEADLINE_EXCEEDED.name)
    return str(grpc.StatusCode.CANCELLED.name)


def _request_id(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == REQUEST_ID and isinstance(value, str) and value:
            return value[:_MAX_REQUEST_ID]
    return os.urandom(8).hex()


def _subject(context: grpc.aio.ServicerContext) -> str | None:
    """The client certificate's subject (mutual TLS), else its common name; None without one."""
    auth = context.auth_context() or {}
    for key in _IDENTITY_KEYS:
        for value in auth.get(key, ()):
            return bytes(value).decode("utf-8", "replace")
    return None


class AccessLog:
    """Where calls are logged: ``enabled`` turns the INFO line per call on or off (``ServerConfig.access_log``);
    client errors are logged at WARNING either way, at most once per method and code per ``interval`` s."""

    def __init__(self, enabled: bool = True, interval: float = 10.0) -> None:
        self.enabled = enabled
        self._warnings = Throttled(interval, logging.getLogger("verifier.service"))

    def wants_lines(self) -> bool:
        return self.enabled and _access_log.isEnabledFor(logging.INFO)

    def ended(self, fields: dict[str, Any]) -> None:
        if self.wants_lines():
            _access_log.info("call", extra={FIELDS: fields})

    def client_error(self, fields: dict[str, Any], code: str, message: str, key: str | None = None) -> None:
        """At most one line per ``key`` (default: method and code) per interval."""
        method = fields["method"]
        self._warnings.log(
            logging.WARNING,
            key or f"{method} {code}",
            f"client error: {method} {code}: {message}",
            dict(fields, code=code, details=message),
        )

    def unknown_method(self, details: grpc.HandlerCallDetails) -> None:
        """A call of a method no service here has (gRPC answers it UNIMPLEMENTED): logged like any client
        error, under one key whatever the name, which is the caller's and cut."""
        code = grpc.StatusCode.UNIMPLEMENTED.name
        fields = {
            "method": str(details.method)[:200],
            "request_id": _request_id(details.invocation_metadata),
            "code": code,
        }
        self.ended(fields)
        self.client_error(fields, code, "no such method", key="unknown method")


class _Call:
    """One call from its start to its end (a ``with`` block): in flight meanwhile, its answers tallied, and
    recorded once when the block ends, with the code the exception (or none) says."""

    def __init__(
        self,
        owner: CallInterceptor,
        service: str,
        method: str,
        context: grpc.aio.ServicerContext,
        streams: tuple[bool, bool],
    ) -> None:
        self._owner, self._service, self._method, self._context = owner, service, method, context
        self._streams = streams  # (client streams, server streams)
        self._start = time.perf_counter()
        self.request_id = _request_id(context.invocation_metadata())
        context.set_trailing_metadata(((REQUEST_ID, self.request_id),))
        # Read now, while the call is live: the context's peer and auth context read the core call, which a
        # stream's end may already have freed (reading them then crashed the process).
        self._peer, self._subject = context.peer(), _subject(context)
        self.items: int | None = None
        self.valid: int | None = None
        self.invalid: int | None = None
        self.received = self.sent = self.failed = 0
        owner.metrics.requests_in_flight.labels(service, method).inc()

    def __enter__(self) -> _Call:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            code = _status_name(self._context, grpc.StatusCode.OK)
        elif issubclass(kind, (asyncio.CancelledError, GeneratorExit)):
            code = _ended_name(self._context)
        else:
            code = _status_name(self._context, grpc.StatusCode.UNKNOWN)
        self._end(code)

    # ------------------------------------------------------------------ messages

    async def requests(self, iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """A client stream's requests, each counted as it arrives."""
        counter = self._owner.metrics.stream_messages.labels(self._service, self._method, "received")
        async for request in iterator:
            self.received += 1
            counter.inc()
            yield request

    def answered(self, response: Any, streamed: bool) -> None:
        """One answer sent (a stream message, or the unary response): counted and tallied."""
        if streamed:
            self.sent += 1
            self._owner.metrics.stream_messages.labels(self._service, self._method, "sent").inc()
        tally = self._owner.tally(response) if response is not None else None
        if tally is None:
            return
        if tally.error is not None:
            self.failed += 1
            code, message = tally.error
            if code in _CLIENT_ERRORS:
                self._owner.access.client_error(self._fields(code), code, message)
            return
        self.items = (self.items or 0) + tally.items
        if tally.valid is not None:
            self.valid = (self.valid or 0) + tally.valid
        if tally.invalid is not None:
            self.invalid = (self.invalid or 0) + tally.invalid

    # ------------------------------------------------------------------ the end

    def _end(self, code: str) -> None:
        seconds = time.perf_counter() - self._start
        metrics, access = self._owner.metrics, self._owner.access
        metrics.requests_in_flight.labels(self._service, self._method).dec()
        metrics.observe_request(self._service, self._method, code, seconds)
        if not access.wants_lines() and code not in _CLIENT_ERRORS:
            return
        fields = self._fields(code, seconds)
        details = _details(self._context) if code != _OK else None
        if details:
            fields["details"] = details
        access.ended(fields)
        if code in _CLIENT_ERRORS:
            access.client_error(fields, code, details or "")

    def _fields(self, code: str, seconds: float | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "method": f"/{self._service}/{self._method}",
            "peer": self._peer,
            "subject": self._subject,
            "request_id": self.request_id,
            "code": code,
            "duration_ms": None if seconds is None else round(seconds * 1000, 3),
            "items": self.items,
            "valid": self.valid,
            "invalid": self.invalid,
        }
        if self._streams[0]:
            fields["messages_received"] = self.received
        if self._streams[1]:
            fields.update(messages_sent=self.sent, messages_failed=self.failed)
        return {k: v for k, v in fields.items() if v is not None}  # what is not known is left out


def _details(context: grpc.aio.ServicerContext) -> str | None:
    try:
        details = context.details()
    except Exception:  # not every grpcio version keeps them readable
        return None
    if isinstance(details, bytes):
        details = details.decode("utf-8", "replace")
    return str(details) if details else None


class _Writes:
    """The servicer context as a writer-style streaming handler (health Watch) sees it: what it writes is
    counted; everything else is the context's own."""

    def __init__(self, context: grpc.aio.ServicerContext, call: _Call) -> None:
        self._context, self._call = context, call

    async def write(self, message: Any) -> None:
        await self._context.write(message)
        self._call.answered(message, streamed=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


_KINDS = (
    ("unary_unary", grpc.unary_unary_rpc_method_handler),
    ("unary_stream", grpc.unary_stream_rpc_method_handler),
    ("stream_unary", grpc.stream_unary_rpc_method_handler),
    ("stream_stream", grpc.stream_stream_rpc_method_handler),
)


class CallInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every async handler (unary, server-, client- and bidirectional streaming) so each call is
    recorded once (module docstring). ``tally`` reads an answer's items and verdict counts."""

    def __init__(
        self, metrics: Metrics, access: AccessLog | None = None, tally: TallyFn | None = None
    ) -> None:
        self.metrics = metrics
        self.access = access if access is not None else AccessLog()
        self.tally = tally if tally is not None else _no_tally

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:  # answered UNIMPLEMENTED by gRPC; not in the metrics (its name is the caller's)
            self.access.unknown_method(handler_call_details)
            return handler
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        found = next(((kind, make) for kind, make in _KINDS if getattr(handler, kind) is not None), None)
        if found is None:
            return handler
        kind, make = found
        inner = getattr(handler, kind)
        if not (inspect.iscoroutinefunction(inner) or inspect.isasyncgenfunction(inner)):
            return handler  # a synchronous handler: not served by this (asyncio) server's methods
        client_streams, server_streams = kind.startswith("stream"), kind.endswith("stream")
        if not server_streams:
            wrapped = self._unary(inner, service, method, client_streams)
        elif inspect.isasyncgenfunction(inner):
            wrapped = self._generator(inner, service, method, client_streams)
        else:
            wrapped = self._writer(inner, service, method, client_streams)
        return make(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _unary(self, inner: Any, service: str, method: str, client_streams: bool) -> Any:
        async def recorded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with _Call(self, service, method, context, (client_streams, False)) as call:
                response = await inner(call.requests(request) if client_streams else request, context)
                call.answered(response, streamed=False)
                return response

        return recorded

    def _generator(self, inner: Any, service: str, method: str, client_streams: bool) -> Any:
        async def recorded(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with _Call(self, service, method, context, (client_streams, True)) as call:
                responses = inner(call.requests(request) if client_streams else request, context)
                try:
                    async for response in responses:
                        yield response
                        call.answered(response, streamed=True)
                finally:
                    await responses.aclose()  # the handler's own cleanup runs now, not when it is collected

        return recorded

    def _writer(self, inner: Any, service: str, method: str, client_streams: bool) -> Any:
        async def recorded(request: Any, context: grpc.aio.ServicerContext) -> None:
            with _Call(self, service, method, context, (client_streams, True)) as call:
                await inner(call.requests(request) if client_streams else request, _Writes(context, call))

        return recorded
