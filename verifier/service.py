"""VerifierServicer: proto <-> batch, errors -> gRPC status, nothing else.

Work goes through the scheduler, which merges callers into device batches and runs them off the event
loop. The item limit is checked before any buffer is decoded; the byte limit is gRPC's own
``max_receive_message_length`` (RESOURCE_EXHAUSTED from the transport, naming both sizes). The caller's
deadline travels with its work: work still queued when it passes is dropped (DEADLINE_EXCEEDED).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, NoReturn

import grpc

from verifier import cometbft as cb
from verifier import convert
from verifier.batch import NO_KEY_SLOT, Ed25519Batch
from verifier.cometbft import UnknownValidatorSetError
from verifier.engine import Engine
from verifier.errors import (
    DeadlineExceededError,
    InvalidRequestError,
    KernelError,
    LimitExceededError,
    UnsupportedPolicyError,
    VerifierError,
)
from verifier.metrics import Metrics
from verifier.scheduler import Scheduler
from verifier.v1 import verifier_pb2 as _pb2
from verifier.v1 import verifier_pb2_grpc as _pb2_grpc
from verifier.verdict import Policy

__all__ = ["SERVICE_NAME", "VerifierServicer", "release_set_keys", "store_set_keys"]

SERVICE_NAME = _pb2.DESCRIPTOR.services_by_name["Verifier"].full_name

# Exceptions -> status codes, most specific first; mapped here and nowhere else.
_STATUS: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (UnknownValidatorSetError, grpc.StatusCode.NOT_FOUND),
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


KEY_SLOTS = "key_slots"  # ValidatorSet.cache name: (rows, {key bytes: row}) in the engine's key stores


def store_set_keys(engine: Engine, validators: cb.ValidatorSet) -> tuple[Any, dict[bytes, int]]:
    """Decode a registered set's keys once into the engine's key stores (device and CPU fallback)."""
    slots = engine.register_keys(validators.public_keys)
    return slots, {v.pub_key: int(s) for v, s in zip(validators, slots)}


def release_set_keys(engine: Engine | None, validators: cb.ValidatorSet) -> None:
    """A set left the registry: give its rows back."""
    held = validators.cached(KEY_SLOTS)
    if engine is not None and held is not None:
        engine.release_keys(held[0])


async def _verify_signatures(
    sched: Scheduler, request: _pb2.VerifySignaturesRequest, timeout: float | None
) -> _pb2.VerifySignaturesResponse:
    batch, policy = convert.ed25519_batch(request, sched.engine.limits.max_items)
    result = await sched.verify_ed25519(batch, policy, priority=convert.priority(request.priority), timeout=timeout)
    return _pb2.VerifySignaturesResponse(**convert.result_fields(result))


async def _verify_merkle(
    sched: Scheduler, request: _pb2.VerifyMerkleProofsRequest, timeout: float | None
) -> _pb2.VerifyMerkleProofsResponse:
    batch = convert.merkle_batch(request, sched.engine.limits.max_items)
    result = await sched.verify_merkle(batch, priority=convert.priority(request.priority), timeout=timeout)
    return _pb2.VerifyMerkleProofsResponse(**convert.result_fields(result))


async def _verify_commit(
    sched: Scheduler,
    registry: cb.ValidatorSetRegistry,
    pool: ThreadPoolExecutor,
    request: _pb2.VerifyCommitRequest,
    timeout: float | None,
) -> _pb2.VerifyCommitResponse:
    """Parse and walk the commit on a thread of ``pool``; its one signature batch goes through the
    scheduler (merged with other callers' work, consensus priority by default) under policy zip215.

    ``pool`` is the commits' own: a walk blocks its thread until the scheduler answers, and the scheduler
    runs batches on the loop's default executor, so sharing that executor could leave no thread to run
    the batch every walk waits for."""
    loop = asyncio.get_running_loop()
    backends: list[str] = []
    call = await loop.run_in_executor(pool, convert.commit_call, request, registry, sched.engine.limits.max_items)
    if Policy.ZIP215 not in sched.engine.policies:
        raise UnsupportedPolicyError(
            f"commits need policy zip215, which backend {sched.engine.backend.name!r} does not implement"
        )
    key_slots = call.validators.cached(KEY_SLOTS)  # a registered set: its keys decoded once, in the stores

    def verify(public_keys: Any, signatures: Any, messages: Any) -> Any:
        batch = Ed25519Batch.from_items(public_keys, signatures, messages)
        if key_slots is not None:
            by_key = key_slots[1]
            batch = batch.with_key_slots([by_key.get(pk.tobytes(), NO_KEY_SLOT) for pk in batch.public_keys])
        coro = sched.verify_ed25519(batch, Policy.ZIP215, priority=call.priority, timeout=timeout)
        result = asyncio.run_coroutine_threadsafe(coro, loop).result()
        backends.append(result.backend)
        return result.verdicts

    def run() -> cb.CommitResult:
        return cb.verify_commit(
            call.chain_id, call.validators, call.commit, verify=verify, mode=call.mode,
            height=call.height, block_id=call.block_id, trust_level=call.trust_level,
        )

    result = await loop.run_in_executor(pool, run)
    return convert.commit_response(result, "+".join(backends))


class VerifierServicer(_pb2_grpc.VerifierServicer):
    """``scheduler`` returns the scheduler, or None while the backend is still warming up."""

    def __init__(
        self,
        scheduler: Callable[[], Scheduler | None],
        version: str,
        validator_sets: cb.ValidatorSetRegistry | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._version = version
        self.validator_sets = validator_sets if validator_sets is not None else cb.ValidatorSetRegistry()
        self._metrics = metrics
        self._commit_pool = ThreadPoolExecutor(max(4, os.cpu_count() or 1), thread_name_prefix="verifier-commit")

    def close(self) -> None:
        """Release the commit threads (after the server stopped taking requests)."""
        self._commit_pool.shutdown(wait=True)

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

    async def VerifyCommit(
        self, request: _pb2.VerifyCommitRequest, context: grpc.aio.ServicerContext
    ) -> _pb2.VerifyCommitResponse:
        registry, metrics, pool = self.validator_sets, self._metrics, self._commit_pool

        async def call(sched: Scheduler, req: _pb2.VerifyCommitRequest, timeout: float | None) -> _pb2.VerifyCommitResponse:
            response = await _verify_commit(sched, registry, pool, req, timeout)
            if metrics is not None:
                code = _pb2.CommitErrorCode.Name(response.error.code) if response.HasField("error") else None
                mode = _pb2.CommitMode.Name(response.mode).removeprefix("COMMIT_MODE_").lower()
                metrics.observe_commit(mode, code.removeprefix("COMMIT_ERROR_CODE_") if code else None)
            return response

        response: _pb2.VerifyCommitResponse = await self._unary(context, call, request)
        return response

    async def RegisterValidatorSet(
        self, request: _pb2.RegisterValidatorSetRequest, context: grpc.aio.ServicerContext
    ) -> _pb2.RegisterValidatorSetResponse:
        registry = self.validator_sets

        async def call(sched: Scheduler, req: _pb2.RegisterValidatorSetRequest, timeout: float | None) -> Any:
            which = req.WhichOneof("validators_source")
            if which is None:
                raise InvalidRequestError("validators_source: neither validators nor validators_json is set")
            source = req.validators if which == "validators" else None
            doc = req.validators_json if which == "validators_json" else None
            vals = await asyncio.get_running_loop().run_in_executor(
                self._commit_pool, convert.validator_set, source, doc, sched.engine.limits.max_items, which
            )
            set_hash = registry.register(vals)
            held = registry.get(set_hash)  # the set kept under this hash (maybe an earlier, equal one)
            await asyncio.get_running_loop().run_in_executor(
                self._commit_pool, held.cache, KEY_SLOTS, lambda v: store_set_keys(sched.engine, v)
            )
            if set_hash not in registry:  # evicted while its keys were stored: eviction found no rows yet
                release_set_keys(sched.engine, held)
            if self._metrics is not None:
                self._metrics.validator_sets.set(len(registry))
            return _pb2.RegisterValidatorSetResponse(
                validator_set_hash=set_hash, validators=len(vals), total_voting_power=vals.total_voting_power,
                registered_sets=len(registry), max_sets=registry.max_sets,
            )

        response: _pb2.RegisterValidatorSetResponse = await self._unary(context, call, request)
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
                crossover_batch=engine.crossovers[("ed25519", Policy.LIBSODIUM.value)],
                stream_window=cfg.stream_window,
                crossover_batch_zip215=engine.crossovers[("ed25519", Policy.ZIP215.value)],
                crossover_batch_merkle=engine.crossovers[("merkle", "")],
            ),
            validator_sets=_pb2.ValidatorSets(
                registered=len(self.validator_sets),
                max_sets=self.validator_sets.max_sets,
                key_store_rows=engine.key_slots.rows,
                key_store_free=engine.key_slots.free,
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
