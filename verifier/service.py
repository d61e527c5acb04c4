"""VerifierServicer: proto <-> batch, errors -> gRPC status, nothing else.

Work goes through the scheduler, which merges callers into device batches and runs them off the event
loop. The item limit is checked before any buffer is decoded; the byte limit is gRPC's own
``max_receive_message_length`` (RESOURCE_EXHAUSTED from the transport, naming both sizes). The caller's
deadline travels with its work: work still queued when it passes is dropped (DEADLINE_EXCEEDED).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import grpc

from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.errors import (
    DeadlineExceededError,
    InvalidRequestError,
    KernelError,
    LimitExceededError,
    UnsupportedPolicyError,
    VerifierError,
)
from verifier.result import VerifyResult
from verifier.scheduler import Priority, Scheduler
from verifier.v1 import verifier_pb2 as _pb2
from verifier.v1 import verifier_pb2_grpc as _pb2_grpc
from verifier.verdict import Policy

__all__ = ["VerifierServicer", "SERVICE_NAME"]

SERVICE_NAME = _pb2.DESCRIPTOR.services_by_name["Verifier"].full_name

_POLICIES: dict[int, Policy] = {
    _pb2.POLICY_UNSPECIFIED: Policy.LIBSODIUM,
    _pb2.POLICY_LIBSODIUM: Policy.LIBSODIUM,
    _pb2.POLICY_ZIP215: Policy.ZIP215,
}
# Exceptions -> status codes, most specific first; mapped here and nowhere else.
_STATUS: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (LimitExceededError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (DeadlineExceededError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (InvalidRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (UnsupportedPolicyError, grpc.StatusCode.UNIMPLEMENTED),
    (KernelError, grpc.StatusCode.INTERNAL),
    (VerifierError, grpc.StatusCode.INTERNAL),
    (ValueError, grpc.StatusCode.INVALID_ARGUMENT),
    (TypeError, grpc.StatusCode.INVALID_ARGUMENT),
)


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def _status_from_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for exc_type, code in _STATUS:
            if isinstance(exc, exc_type):
                raise _Abort(code, str(exc)) from exc
        raise


_PRIORITIES: dict[int, Priority] = {
    _pb2.PRIORITY_UNSPECIFIED: Priority.BULK,
    _pb2.PRIORITY_BULK: Priority.BULK,
    _pb2.PRIORITY_CONSENSUS: Priority.CONSENSUS,
}


def _priority(value: int) -> Priority:
    try:
        return _PRIORITIES[value]
    except KeyError:
        raise InvalidRequestError(f"priority: unknown value {value}; known: {', '.join(_pb2.Priority.keys())}") from None


def _fields(result: VerifyResult) -> dict[str, Any]:
    return dict(
        verdicts=result.verdicts.tobytes(),
        valid_count=result.valid_count,
        invalid_count=result.invalid_count,
        all_valid=result.all_valid,
        backend=result.backend,
    )


async def _verify_signatures(
    sched: Scheduler, request: _pb2.VerifySignaturesRequest, timeout: float | None
) -> _pb2.VerifySignaturesResponse:
    limit = sched.engine.limits.max_items
    if len(request.message_lengths) > limit:  # before any buffer is decoded
        raise LimitExceededError(f"request has {len(request.message_lengths)} items; the limit is {limit}")
    policy = _POLICIES.get(request.policy)
    if policy is None:
        raise InvalidRequestError(f"policy: unknown value {request.policy}; known: {', '.join(_pb2.Policy.keys())}")
    batch = Ed25519Batch.from_packed(request.public_keys, request.signatures, request.messages, request.message_lengths)
    result = await sched.verify_ed25519(batch, policy, priority=_priority(request.priority), timeout=timeout)
    return _pb2.VerifySignaturesResponse(**_fields(result))


async def _verify_merkle(
    sched: Scheduler, request: _pb2.VerifyMerkleProofsRequest, timeout: float | None
) -> _pb2.VerifyMerkleProofsResponse:
    limit = sched.engine.limits.max_items
    if len(request.leaf_indices) > limit:
        raise LimitExceededError(f"request has {len(request.leaf_indices)} items; the limit is {limit}")
    batch = MerkleBatch.from_packed(
        leaf_indices=request.leaf_indices,
        tree_sizes=request.tree_sizes,
        path_hashes=request.path_hashes,
        path_lengths=request.path_lengths,
        roots=request.roots,
        root_indices=request.root_indices,
        leaf_hashes=request.leaf_hashes,
        leaf_data=request.leaf_data,
        leaf_data_lengths=request.leaf_data_lengths,
    )
    result = await sched.verify_merkle(batch, priority=_priority(request.priority), timeout=timeout)
    return _pb2.VerifyMerkleProofsResponse(**_fields(result))


class VerifierServicer(_pb2_grpc.VerifierServicer):
    """``scheduler`` returns the scheduler, or None while the backend is still warming up."""

    def __init__(self, scheduler: Callable[[], Scheduler | None], version: str) -> None:
        self._scheduler = scheduler
        self._version = version

    async def _ready(self, context: grpc.aio.ServicerContext) -> Scheduler:
        sched = self._scheduler()
        if sched is None:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, "backend is warming up; watch grpc.health.v1")
        assert sched is not None
        return sched

    async def _unary(self, context: grpc.aio.ServicerContext, call: Any, request: Any) -> Any:
        sched = await self._ready(context)
        try:
            with _status_from_errors():
                return await call(sched, request, context.time_remaining())
        except _Abort as abort:
            await _abort(context, abort.code, str(abort))

    async def VerifySignatures(
        self, request: _pb2.VerifySignaturesRequest, context: grpc.aio.ServicerContext
    ) -> _pb2.VerifySignaturesResponse:
        response: _pb2.VerifySignaturesResponse = await self._unary(context, _verify_signatures, request)
        return response

    async def VerifyMerkleProofs(
        self, request: _pb2.VerifyMerkleProofsRequest, context: grpc.aio.ServicerContext
    ) -> _pb2.VerifyMerkleProofsResponse:
        response: _pb2.VerifyMerkleProofsResponse = await self._unary(context, _verify_merkle, request)
        return response

    async def VerifyStream(
        self, request_iterator: AsyncIterator[_pb2.StreamRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[_pb2.StreamResponse]:
        """Read ahead at most ``stream_window`` batches; answer each as it completes, with its id."""
        sched = await self._ready(context)
        window = asyncio.Semaphore(sched.config.stream_window)
        answers: asyncio.Queue[_pb2.StreamResponse | None] = asyncio.Queue()
        running: set[asyncio.Task[None]] = set()

        async def answer(request: _pb2.StreamRequest) -> None:
            try:
                answers.put_nowait(await _stream_one(sched, request))
            finally:
                window.release()

        async def read() -> None:
            try:
                async for request in request_iterator:
                    await window.acquire()  # a full window stops reading: HTTP/2 flow control slows the caller
                    task = asyncio.get_running_loop().create_task(answer(request))
                    running.add(task)
                    task.add_done_callback(running.discard)
                while running:
                    await asyncio.gather(*list(running), return_exceptions=True)
            finally:
                answers.put_nowait(None)

        reader = asyncio.get_running_loop().create_task(read())
        try:
            while (response := await answers.get()) is not None:
                yield response
            await reader  # re-raises what stopped the reader, if anything
        finally:
            reader.cancel()
            for task in list(running):
                task.cancel()

    async def GetInfo(self, request: _pb2.GetInfoRequest, context: grpc.aio.ServicerContext) -> _pb2.GetInfoResponse:
        sched = await self._ready(context)
        engine, cfg = sched.engine, sched.config
        return _pb2.GetInfoResponse(
            version=self._version,
            backend=engine.backend.name,
            devices=[
                _pb2.Device(
                    kind=d.kind,
                    name=d.name,
                    index=d.index,
                    memory_bytes=d.memory_bytes,
                    compute_capability=d.compute_capability,
                    workers=d.workers,
                )
                for d in engine.backend.devices()
            ],
            limits=_pb2.Limits(
                max_items=engine.limits.max_items, max_message_bytes=engine.limits.max_message_bytes
            ),
            policies=sorted(p.value for p in engine.policies),
            scheduling=_pb2.Scheduling(
                max_batch_items=cfg.max_batch_items,
                max_queue_delay_us=cfg.max_queue_delay_us,
                queue_capacity_items=cfg.queue_capacity_items,
                queue_capacity_bytes=cfg.queue_capacity_bytes,
                crossover_batch=engine.crossover_batch,
                stream_window=cfg.stream_window,
            ),
        )


async def _stream_one(sched: Scheduler, request: _pb2.StreamRequest) -> _pb2.StreamResponse:
    which = request.WhichOneof("batch")
    try:
        with _status_from_errors():
            if which == "signatures":
                return _pb2.StreamResponse(id=request.id, signatures=await _verify_signatures(sched, request.signatures, None))
            if which == "merkle_proofs":
                return _pb2.StreamResponse(
                    id=request.id, merkle_proofs=await _verify_merkle(sched, request.merkle_proofs, None)
                )
            raise InvalidRequestError("batch: neither signatures nor merkle_proofs is set")
    except _Abort as abort:
        return _pb2.StreamResponse(id=request.id, error=_pb2.StreamError(code=abort.code.value[0], message=str(abort)))


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("unreachable: context.abort raises")
