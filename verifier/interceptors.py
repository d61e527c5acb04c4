"""Server interceptor that records each unary RPC's status code and duration (metrics.py defines them)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
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


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps unary-unary handlers; streaming ones (health Watch, reflection) pass through unrecorded."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        inner = handler.unary_unary
        metrics = self._metrics

        async def recorded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            code = grpc.StatusCode.UNKNOWN.name
            try:
                response = await inner(request, context)
                code = _status_name(context, grpc.StatusCode.OK)
                return response
            except BaseException:
                code = _status_name(context, grpc.StatusCode.UNKNOWN)
                raise
            finally:
                metrics.observe_request(service, method, code, time.perf_counter() - start)

        return grpc.unary_unary_rpc_method_handler(
            recorded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
