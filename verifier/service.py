"""VerifierServicer: request bytes -> checks -> values -> scheduler -> answer; errors -> gRPC status.

Requests arrive as their wire bytes (``method_handlers`` registers every method without a deserializer),
so what is cheap is checked before anything is decoded: who may claim consensus priority or register a set
(``ConsensusAccess``), the commit size limit (``max_commit_bytes``, VerifyCommit and RegisterValidatorSet)
and the in-flight budget (``InflightBudget``: wire bytes of requests accepted and not yet answered). Then
the bytes are decoded (protobuf, convert.*, JSON), on a thread when there are more than
``decode_on_thread_bytes`` of them, so health checks and small calls never wait for a big input. Bytes that
are not the method's message are INVALID_ARGUMENT, counted and logged at most once per interval. Commits
of more than ``big_commit_bytes`` are parsed and walked one at a time on their own thread (``_Lane``), so
small commits never queue behind them. The item limit is checked before any buffer is decoded; the
caller's deadline travels with its work.

A failure is mapped to (code, message) inside its except block, the exception is cut from its traceback
and the exceptions before it, and the status is set on the context, never raised: no exception outlives
the call holding the frames that hold the request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
import numpy as np
from google.protobuf.message import Message

from verifier import cometbft as cb
from verifier import convert
from verifier.admission import (
    Caller,
    ConsensusAccess,
    InflightBudget,
    Lane,
    RefusedError,
    Throttled,
)
from verifier.batch import Ed25519Batch
from verifier.engine import Engine
from verifier.errors import (
    InvalidRequestError,
    UnavailableError,
    UnsupportedPolicyError,
    status_of,
)
from verifier.interceptors import Tally
from verifier.metrics import Metrics
from verifier.scheduler import Priority, Scheduler
from verifier.schemes import ED25519
from verifier.text import cut_message
from verifier.v1 import verifier_pb2 as _pb2
from verifier.verdict import Policy

__all__ = [
    "SERVICE_NAME",
    "VerifierServicer",
    "method_handlers",
    "release_set_keys",
    "tally",
]

SERVICE_NAME = _pb2.DESCRIPTOR.services_by_name["Verifier"].full_name

_log = logging.getLogger("verifier.service")
_T = TypeVar("_T")

_DECODE_ON_THREAD_BYTES = 64 << 10  # requests larger than this are decoded off the event loop
_BIG_COMMIT_BYTES = 256 << 10  # commits and sets larger than this take the big lane
_BIG_COMMIT_WAITING = 8  # requests waiting for the big lane beyond the one in it; more are refused


@dataclasses.dataclass(frozen=True)
class _Failure:
    code: grpc.StatusCode
    message: str


def _forget(exc: BaseException) -> None:
    """Cut ``exc`` and the exceptions before it from their tracebacks and from each other, so that wherever
    one is still referenced from (a future, a reference cycle) it keeps no frame, and no frame's request,
    alive."""
    pending, seen = [exc], set()
    while pending:
        e = pending.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        pending.extend(x for x in (e.__cause__, e.__context__) if x is not None)
        e.__traceback__ = e.__cause__ = e.__context__ = None


# ------------------------------------------------------------------------------------------ commits


def release_set_keys(engine: Engine | None, validators: cb.ValidatorSet) -> None:
    """A set left the registry: give its rows of the key store back."""
    if engine is not None:
        engine.key_stores[ED25519.name].release(validators.hash)


def _read_commit(
    raw: bytes, registry: cb.ValidatorSetRegistry, max_items: int, caller: Caller
) -> tuple[convert.CommitCall, bool]:
    """A VerifyCommitRequest's bytes as the walk's arguments at the priority the caller gets (and
    whether it was demoted)."""
    request = convert.parse(_pb2.VerifyCommitRequest, raw)
    call = convert.commit_call(request, registry, max_items)
    prio, demoted = caller.priority(request.priority, Priority.CONSENSUS)
    return dataclasses.replace(call, priority=prio), demoted


def _read_validator_set(raw: bytes, max_items: int) -> cb.ValidatorSet:
    request = convert.parse(_pb2.RegisterValidatorSetRequest, raw)
    which = request.WhichOneof("validators_source")
    if which is None:
        raise InvalidRequestError("validators_source: neither validators nor validators_json is set")
    source = request.validators if which == "validators" else None
    doc = request.validators_json if which == "validators_json" else None
    return convert.validator_set(source, doc, max_items, which)


def _plan_commit(call: convert.CommitCall, engine: Engine) -> tuple[cb.CommitPlan, Ed25519Batch | None]:
    """The commit walked up to its signature batch (on a worker thread): the plan, and the batch to
    verify (None when the walk alone decides), naming the rows of the set's decoded keys when it is
    registered."""
    plan = cb.plan_commit(
        call.chain_id,
        call.validators,
        call.commit,
        mode=call.mode,
        height=call.height,
        block_id=call.block_id,
        trust_level=call.trust_level,
    )
    if plan.result is not None or not plan.collected:
        return plan, None
    keys, sigs, messages = plan.signatures()
    batch = Ed25519Batch.from_items(keys, sigs, messages)
    slots = engine.key_stores[ED25519.name].slots(call.validators.hash, batch.public_keys)
    return plan, batch if slots is None else batch.with_key_slots(slots)


async def _verify_commit(
    sched: Scheduler, pool: ThreadPoolExecutor, call: convert.CommitCall, timeout: float | None
) -> _pb2.VerifyCommitResponse:
    """Plan, await, finish: the walk on a thread of ``pool``, its one signature batch through the
    scheduler (merged with other callers' work) under policy zip215 on the event loop, the tally on
    ``pool`` again. No thread waits for the scheduler."""
    loop = asyncio.get_running_loop()
    if Policy.ZIP215 not in sched.engine.backend.policies.get(ED25519.name, ()):
        raise UnsupportedPolicyError(
            f"commits need policy zip215, which backend {sched.engine.backend.name!r} does not implement"
        )
    plan, batch = await loop.run_in_executor(pool, _plan_commit, call, sched.engine)
    backend = ""
    verdicts = np.zeros(0, np.uint8)
    if batch is not None:
        answered = await sched.verify(ED25519, batch, Policy.ZIP215, priority=call.priority, timeout=timeout)
        backend, verdicts = answered.backend, answered.verdicts
    result = await loop.run_in_executor(pool, cb.finish_commit, plan, verdicts)
    return convert.commit_response(result, backend)


# ------------------------------------------------------------------------------------------ servicer

_Work = Callable[[Scheduler, bytes, Caller, "float | None"], Awaitable[Any]]


class VerifierServicer:
    """``scheduler`` returns the scheduler, or None while the backend is still warming up. Every method
    takes the request's wire bytes (``method_handlers``)."""

    def __init__(
        self,
        scheduler: Callable[[], Scheduler | None],
        version: str,
        validator_sets: cb.ValidatorSetRegistry | None = None,
        metrics: Metrics | None = None,
        *,
        access: ConsensusAccess | None = None,
        max_commit_bytes: int = 4 << 20,
        max_inflight_bytes: int = 1 << 30,
        decode_on_thread_bytes: int = _DECODE_ON_THREAD_BYTES,
        big_commit_bytes: int = _BIG_COMMIT_BYTES,
        big_commit_waiting: int = _BIG_COMMIT_WAITING,
    ) -> None:
        self._scheduler = scheduler
        self._version = version
        self.validator_sets = validator_sets if validator_sets is not None else cb.ValidatorSetRegistry()
        self._metrics = metrics
        self._access = access if access is not None else ConsensusAccess()
        self.max_commit_bytes = max_commit_bytes
        self.budget = InflightBudget(max_inflight_bytes, metrics)
        self._decode_on_thread = decode_on_thread_bytes
        self._big = Lane(big_commit_bytes, big_commit_waiting)
        # Decoding of large requests, and commits' plan and tally: short CPU work that never waits.
        self._decode_pool = ThreadPoolExecutor(
            max(2, min(4, os.cpu_count() or 1)), thread_name_prefix="verifier-decode"
        )
        self._throttled = Throttled()

    def close(self) -> None:
        """Release the decode and big-commit threads (after the server stopped taking requests)."""
        for pool in (self._big.pool, self._decode_pool):
            pool.shutdown(wait=True)

    # ------------------------------------------------------------------ failures

    def _failure(self, method: str, exc: Exception) -> _Failure:
        """``exc`` as (code, message), counted and logged; then ``exc`` is cut from its frames."""
        try:
            name = status_of(exc)
            code = getattr(grpc.StatusCode, name) if name is not None else None
            message = str(exc)
            if code is None:
                code, message = grpc.StatusCode.UNKNOWN, f"unexpected {type(exc).__name__}: {message}"
                text = "".join(traceback.format_exception(exc))
                self._throttled.log(logging.ERROR, f"unexpected {method}", f"{method}: {text.rstrip()}")
            elif isinstance(exc, convert.MalformedRequestError) and self._metrics is not None:
                # Logged as a client error by the interceptor (interceptors.AccessLog), with the caller's id.
                self._metrics.malformed_requests.labels(method).inc()
            reason = getattr(exc, "reason", None)
            if reason is not None and self._metrics is not None:
                self._metrics.requests_refused.labels(method, reason).inc()
            return _Failure(code, cut_message(message))
        finally:
            _forget(exc)

    def _admit(self, context: grpc.aio.ServicerContext) -> tuple[Scheduler, Caller]:
        sched = self._scheduler()
        if sched is None:
            raise UnavailableError("backend is warming up; watch grpc.health.v1")
        return sched, self._access.caller(context)

    # ------------------------------------------------------------------ unary calls

    async def _unary(
        self,
        context: grpc.aio.ServicerContext,
        method: str,
        raw: bytes,
        work: _Work,
        max_bytes: int | None = None,
        registers: bool = False,
    ) -> Any:
        """``work``'s answer; a failure is set on the context as the call's status, and None returned."""
        outcome = await self._attempt(context, method, raw, work, max_bytes, registers)
        if isinstance(outcome, _Failure):
            context.set_code(outcome.code)
            context.set_details(outcome.message)
            return None
        return outcome

    async def _attempt(
        self,
        context: grpc.aio.ServicerContext,
        method: str,
        raw: bytes,
        work: _Work,
        max_bytes: int | None,
        registers: bool,
    ) -> Any:
        """The cheap checks, then ``work`` with the request's bytes held in the budget; a failure is
        returned as a ``_Failure`` made in the except block, never raised."""
        try:
            sched, caller = self._admit(context)
            if registers:
                caller.check_register()
            if max_bytes is not None and len(raw) > max_bytes:
                raise RefusedError(
                    "commit_bytes",
                    f"{method} request is {len(raw)} bytes; the limit is {max_bytes} (--max-commit-bytes)",
                )
            self.budget.take(len(raw))
            try:
                return await work(sched, raw, caller, context.time_remaining())
            finally:
                self.budget.give(len(raw))
        except Exception as exc:
            failure = self._failure(method, exc)
        return failure

    async def _decode(self, nbytes: int, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)``: on a decode thread when the request has more than ``decode_on_thread_bytes``."""
        if nbytes <= self._decode_on_thread:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._decode_pool, fn, *args)

    async def _verify(
        self,
        w: convert.Wire,
        sched: Scheduler,
        request: Any,
        caller: Caller,
        timeout: float | None,
        nbytes: int,
    ) -> Message:
        batch, pol = await self._decode(nbytes, w.decode, request, sched.engine.limits.max_items)
        prio, _ = caller.priority(request.priority, Priority.BULK)
        result = await sched.verify(w.scheme, batch, pol, priority=prio, timeout=timeout)
        return convert.response(w, result)

    def _verify_rpc(
        self, method: str, request_type: type[Message]
    ) -> Callable[[bytes, grpc.aio.ServicerContext], Awaitable[Any]]:
        """The unary handler of a verification RPC (VerifySignatures, VerifyMerkleProofs): the request's
        scheme picks its wire form."""

        async def handler(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
            async def work(sched: Scheduler, raw: bytes, caller: Caller, timeout: float | None) -> Any:
                request = await self._decode(len(raw), convert.parse, request_type, raw)
                return await self._verify(convert.wire_of(request), sched, request, caller, timeout, len(raw))

            return await self._unary(context, method, raw, work)

        return handler

    async def _commit_lane(self, nbytes: int) -> ThreadPoolExecutor:
        """The pool a commit or set of ``nbytes`` runs on: the big lane's thread (once it is this one's
        turn), or the decode pool."""
        if nbytes <= self._big.threshold:
            return self._decode_pool
        await self._big.enter(nbytes)
        return self._big.pool

    def _leave_lane(self, nbytes: int) -> None:
        if nbytes > self._big.threshold:
            self._big.leave()

    async def VerifyCommit(self, raw: bytes, context: grpc.aio.ServicerContext) -> Any:
        async def work(sched: Scheduler, raw: bytes, caller: Caller, timeout: float | None) -> Any:
            pool = await self._commit_lane(len(raw))
            try:
                call, demoted = await asyncio.get_running_loop().run_in_executor(
                    pool, _read_commit, raw, self.validator_sets, sched.engine.limits.max_items, caller
                )
                if demoted and self._metrics is not None:
                    self._metrics.priority_demoted.labels("VerifyCommit").inc()
                response = await _verify_commit(sched, pool, call, timeout)
            finally:
                self._leave_lane(len(raw))
            if self._metrics is not None:
                code = _pb2.CommitErrorCode.Name(response.error.code) if response.HasField("error") else None
                mode = _pb2.CommitMode.Name(response.mode).removeprefix("COMMIT_MODE_").lower()
                self._metrics.observe_commit(mode, code.removeprefix("COMMIT_ERROR_CODE_") if code else None)
            return response

        return await self._unary(context, "VerifyCommit", raw, work, max_bytes=self.max_commit_bytes)

    async def RegisterValidatorSet(self, raw: bytes, context: grpc.aio.ServicerContext) -> Any:
        registry = self.validator_sets

        async def work(sched: Scheduler, raw: bytes, caller: Caller, timeout: float | None) -> Any:
            loop = asyncio.get_running_loop()
            pool = await self._commit_lane(len(raw))
            try:
                vals = await loop.run_in_executor(
                    pool, _read_validator_set, raw, sched.engine.limits.max_items
                )
                set_hash = registry.register(vals)
                held = registry.get(set_hash)  # the set kept under this hash (maybe an earlier, equal one)
                store = sched.engine.key_stores[ED25519.name]
                await loop.run_in_executor(pool, store.register, set_hash, held.public_keys)
            finally:
                self._leave_lane(len(raw))
            if set_hash not in registry:  # evicted while its keys were stored: eviction found no rows yet
                release_set_keys(sched.engine, held)
            if self._metrics is not None:
                self._metrics.validator_sets.set(len(registry))
            return _pb2.RegisterValidatorSetResponse(
                validator_set_hash=set_hash,
                validators=len(vals),
                total_voting_power=vals.total_voting_power,
                registered_sets=len(registry),
                max_sets=registry.max_sets,
            )

        return await self._unary(
            context, "RegisterValidatorSet", raw, work, max_bytes=self.max_commit_bytes, registers=True
        )

    async def GetInfo(self, raw: bytes, context: grpc.aio.ServicerContext) -> Any:
        async def work(sched: Scheduler, raw: bytes, caller: Caller, timeout: float | None) -> Any:
            convert.parse(_pb2.GetInfoRequest, raw)
            return self._info(sched)

        return await self._unary(context, "GetInfo", raw, work)

    def _info(self, sched: Scheduler) -> _pb2.GetInfoResponse:
        return convert.info_response(
            sched.engine,
            version=self._version,
            unit_items=sched.unit_items,
            scheduling=sched.config,
            max_commit_bytes=self.max_commit_bytes,
            max_inflight_bytes=self.budget.limit,
            registered_sets=len(self.validator_sets),
            max_sets=self.validator_sets.max_sets,
        )

    # ------------------------------------------------------------------ the stream

    async def VerifyStream(
        self, request_iterator: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[_pb2.StreamResponse]:
        """Read ahead at most ``stream_window`` batches; answer each as it completes, with its id. A
        batch leaves the window, and its bytes the budget, once its answer has been sent."""
        try:
            sched, caller = self._admit(context)
        except Exception as exc:
            failure = self._failure("VerifyStream", exc)
            context.set_code(failure.code)
            context.set_details(failure.message)
            return
        window = asyncio.Semaphore(sched.config.stream_window)
        answers: asyncio.Queue[tuple[_pb2.StreamResponse, int] | None] = asyncio.Queue()
        running: set[asyncio.Task[None]] = set()
        held = 0  # budget bytes of this stream's batches read and not yet answered

        async def answer(raw: bytes, taken: int, refused: _Failure | None) -> None:
            if refused is not None:
                response = _stream_error(convert.stream_request_id(raw), refused)
            else:
                response = await self._stream_one(sched, caller, raw)
            answers.put_nowait((response, taken))

        async def read() -> None:
            nonlocal held
            try:
                messages = aiter(request_iterator)
                while True:
                    await (
                        window.acquire()
                    )  # a full window stops reading: HTTP/2 flow control slows the caller
                    raw = await anext(messages, None)
                    if raw is None:
                        window.release()
                        break
                    refused = None
                    try:
                        self.budget.take(len(raw))
                    except RefusedError as exc:
                        refused = self._failure("VerifyStream", exc)
                    taken = 0 if refused else len(raw)
                    held += taken
                    task = asyncio.get_running_loop().create_task(answer(raw, taken, refused))
                    running.add(task)
                    task.add_done_callback(running.discard)
                while running:
                    await asyncio.gather(*list(running), return_exceptions=True)
            finally:
                answers.put_nowait(None)

        reader = asyncio.get_running_loop().create_task(read())
        try:
            while (item := await answers.get()) is not None:
                yield item[0]
                # Sent: the batch leaves the budget and the window, and the reader may take the next.
                self.budget.give(item[1])
                held -= item[1]
                window.release()
            await reader  # re-raises what stopped the reader, if anything
        finally:
            reader.cancel()
            for task in list(running):
                task.cancel()
            self.budget.give(held)

    async def _stream_one(self, sched: Scheduler, caller: Caller, raw: bytes) -> _pb2.StreamResponse:
        request_id = convert.stream_request_id(raw)
        try:
            request = await self._decode(len(raw), convert.parse, _pb2.StreamRequest, raw)
            request_id = request.id
            field, batch = convert.stream_batch(request)
            answer = await self._verify(convert.wire_of(batch), sched, batch, caller, None, len(raw))
            return _pb2.StreamResponse(id=request_id, **{field: answer})
        except Exception as exc:
            failure = self._failure("VerifyStream", exc)
        return _stream_error(request_id, failure)


def _stream_error(request_id: int, failure: _Failure) -> _pb2.StreamResponse:
    return _pb2.StreamResponse(
        id=request_id, error=_pb2.StreamError(code=failure.code.value[0], message=failure.message)
    )


_VERDICT_OK = 1  # verdict.Verdict.OK's byte
_CODES = {c.value[0]: c.name for c in grpc.StatusCode}
_TALLIES: dict[str, Callable[[Any], Tally]] = {
    _pb2.VerifySignaturesResponse.DESCRIPTOR.full_name: lambda r: Tally(
        len(r.verdicts), r.valid_count, r.invalid_count
    ),
    _pb2.VerifyMerkleProofsResponse.DESCRIPTOR.full_name: lambda r: Tally(
        len(r.verdicts), r.valid_count, r.invalid_count
    ),
    _pb2.VerifyCommitResponse.DESCRIPTOR.full_name: lambda r: _commit_tally(r.verdicts),
    _pb2.RegisterValidatorSetResponse.DESCRIPTOR.full_name: lambda r: Tally(r.validators),
}


def _commit_tally(verdicts: bytes) -> Tally:
    """A commit's entries; valid: those whose signature verified; invalid: those verified and refused (an
    entry never checked, absent or not reached, is neither)."""
    valid = verdicts.count(_VERDICT_OK)
    return Tally(len(verdicts), valid, len(verdicts) - valid - verdicts.count(cb.NOT_CHECKED))


def tally(response: Any) -> Tally | None:
    """What an answer of this service says, for the access log (interceptors.CallInterceptor): items and
    verdict counts, or a stream batch's own error; None for a message of another service."""
    if isinstance(response, _pb2.StreamResponse):
        which = response.WhichOneof("result")
        if which == "error":
            return Tally(
                error=(_CODES.get(response.error.code, str(response.error.code)), response.error.message)
            )
        return tally(getattr(response, which)) if which else None
    count = _TALLIES.get(getattr(getattr(response, "DESCRIPTOR", None), "full_name", ""))
    return count(response) if count is not None else None


def method_handlers(servicer: VerifierServicer) -> dict[str, grpc.RpcMethodHandler]:
    """verifier.v1.Verifier's methods, each taking the request's wire bytes (no deserializer: the
    servicer decodes after its cheap checks) and answering with its response message."""
    makers = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }
    handlers = {}
    # One handler for each verification RPC, whatever schemes it carries.
    request_types = {t.DESCRIPTOR.name: t for t in convert.REQUEST_TYPES}
    for method in _pb2.DESCRIPTOR.services_by_name["Verifier"].methods:
        make = makers[(method.client_streaming, method.server_streaming)]
        serialize = getattr(_pb2, method.output_type.name).SerializeToString
        request_type = request_types.get(method.input_type.name)
        behaviour = (
            servicer._verify_rpc(method.name, request_type)
            if request_type is not None
            else getattr(servicer, method.name)
        )
        handlers[method.name] = make(behaviour, request_deserializer=None, response_serializer=serialize)
    return handlers
