"""VerifierServicer: proto <-> batch, errors -> gRPC status, nothing else.

Work runs off the event loop (``asyncio.to_thread``) so the server keeps answering while a batch
verifies. The item limit is checked before any buffer is decoded; the byte limit is gRPC's own
``max_receive_message_length`` (RESOURCE_EXHAUSTED from the transport, naming both sizes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import grpc

from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.engine import Engine
from verifier.errors import (
    InvalidRequestError,
    KernelError,
    LimitExceededError,
    UnsupportedPolicyError,
    VerifierError,
)
from verifier.result import VerifyResult
from verifier.v1 import verifier_pb2 as _pb2
from verifier.v1 import verifier_pb2_grpc as _pb2_grpc
from verifier.verdict import Policy

__all__ = ["VerifierServicer", "SERVICE_NAME"]

SERVICE_NAME = _pb2.DESCRIPTOR.services_by_name["Verifier"].full_name

_POLICIES = {
    _pb2.POLICY_UNSPECIFIED: Policy.LIBSODIUM,
    _pb2.POLICY_LIBSODIUM: Policy.LIBSODIUM,
    _pb2.POLICY_ZIP215: Policy.ZIP215,
}
# Exceptions -> status codes, most specific first; mapped here and nowhere else.
_STATUS: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (LimitExceededError, grpc.StatusCode.RESOURCE_EXHAUSTED),
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


class VerifierServicer(_pb2_grpc.VerifierServicer):
    """``engine`` returns the engine, or None while the backend is still warming up."""

    def __init__(self, engine: Callable[[], Engine | None], version: str) -> None:
        self._engine = engine
        self._version = version

    async def _ready(self, context: grpc.aio.ServicerContext) -> Engine:
        engine = self._engine()
        if engine is None:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, "backend is warming up; watch grpc.health.v1")
        assert engine is not None
        return engine

    async def _answer(self, context: grpc.aio.ServicerContext, n: int, work: Callable[[Engine], VerifyResult]) -> Any:
        engine = await self._ready(context)
        try:
            with _status_from_errors():
                if n > engine.limits.max_items:
                    raise LimitExceededError(f"request has {n} items; the limit is {engine.limits.max_items}")
                result = await asyncio.to_thread(work, engine)
        except _Abort as abort:
            await _abort(context, abort.code, str(abort))
        return dict(
            verdicts=result.verdicts.tobytes(),
            valid_count=result.valid_count,
            invalid_count=result.invalid_count,
            all_valid=result.all_valid,
            backend=result.backend,
        )

    async def VerifySignatures(
        self, request: _pb2.VerifySignaturesRequest, context: grpc.aio.ServicerContext
    ) -> _pb2.VerifySignaturesResponse:
        def work(engine: Engine) -> VerifyResult:
            policy = _POLICIES.get(request.policy)
            if policy is None:
                known = ", ".join(_pb2.Policy.keys())
                raise InvalidRequestError(f"policy: unknown value {request.policy}; known: {known}")
            batch = Ed25519Batch.from_packed(
                request.public_keys, request.signatures, request.messages, request.message_lengths
            )
            return engine.verify_ed25519(batch, policy)

        fields = await self._answer(context, len(request.message_lengths), work)
        return _pb2.VerifySignaturesResponse(**fields)

    async def VerifyMerkleProofs(
        self, request: _pb2.VerifyMerkleProofsRequest, context: grpc.aio.ServicerContext
    ) -> _pb2.VerifyMerkleProofsResponse:
        def work(engine: Engine) -> VerifyResult:
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
            return engine.verify_merkle(batch)

        fields = await self._answer(context, len(request.leaf_indices), work)
        return _pb2.VerifyMerkleProofsResponse(**fields)

    async def GetInfo(self, request: _pb2.GetInfoRequest, context: grpc.aio.ServicerContext) -> _pb2.GetInfoResponse:
        engine = await self._ready(context)
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
        )


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("unreachable: context.abort raises")
