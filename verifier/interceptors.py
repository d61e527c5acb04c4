"""Server interceptor that records each call's status code, duration and whether it is still in flight
(metrics.py defines them): unary calls and bidirectional streams (VerifyStream). A call whose handler is
cancelled is recorded as DEADLINE_EXCEEDED when its deadline has passed, else CANCELLED. (A stream whose
connection goes away may instead just see its requests end, and is then recorded with the code it ends
with.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from verifier.metrics import Metrics

__all__ = ["MetricsInterceptor"]


def _status_name(context: grpc.aio.ServicerContext, default: grpc.StatusCode) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    for status in grpc.StatusCode:  # some grpcio versions hand back the integer value
        if code is not None and status.value[0] == code:
            return str(status.name)
    return str(default.name)


def _ended_name(context: grpc.aio.ServicerContext) -> str:
    """The code of a call whose handler was cancelled: its deadline passed, or its caller went away."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        return str(grpc.StatusCode.DEADLINE_EXCEEDED.name)
    return str(grpc.StatusCode.CANCELLED.name)


class _Record:
    """One call's record: in flight from creation, observed once by ``end``."""

    def __init__(self, metrics: Metrics, service: str, method: str) -> None:
        self._metrics, self._service, self._method = metrics, service, method
        self._start = time.perf_counter()
        metrics.requests_in_flight.labels(service, method).inc()

    def end(self, code: str) -> None:
        self._metrics.requests_in_flight.labels(self._service, self._method).dec()
        self._metrics.observe_request(self._service, self._method, code, time.perf_counter() - self._start)


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps unary-unary and stream-stream handlers; server-streaming ones (health Watch) pass through."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, service, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._stream(handler.stream_stream, service, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _unary(self, inner: Any, service: str, method: str) -> Any:
        metrics = self._metrics

        async def recorded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            record = _Record(metrics, service, method)
            code = grpc.StatusCode.UNKNOWN.name
            try:
                response = await inner(request, context)
                code = _status_name(context, grpc.StatusCode.OK)
                return response
            except asyncio.CancelledError:
                code = _ended_name(context)
                raise
            except BaseException:
                code = _status_name(context, grpc.StatusCode.UNKNOWN)
                raise
            finally:
                record.end(code)

        return recorded

    def _stream(self, inner: Any, service: str, method: str) -> Any:
        metrics = self._metrics

        async def recorded(request_iterator: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            record = _Record(metrics, service, method)
            code = grpc.StatusCode.UNKNOWN.name
            responses = inner(request_iterator, context)
            try:
                async for response in responses:
                    yield response
                code = _status_name(context, grpc.StatusCode.OK)
            except (asyncio.CancelledError, GeneratorExit):
                code = _ended_name(context)
                raise
            except BaseException:
                code = _status_name(context, grpc.StatusCode.UNKNOWN)
                raise
            finally:
                record.end(code)
                await responses.aclose()  # the handler's own cleanup runs now, not when it is collected

        return recorded
