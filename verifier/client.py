"""verifier.Client: the Python API's calls, over gRPC.

A batch larger than the server's limits (asked once with GetInfo) is split into requests that fit
both its item limit and its message-size limit, sent in order, and the verdicts joined. An item whose key,
signature or hash has the wrong length is answered locally (MALFORMED_LENGTH / MALFORMED_PROOF), exactly
as the server would, since the packed wire form cannot carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from types import TracebackType
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np
import numpy.typing as npt

from verifier.batch import EcdsaBatch, Ed25519Batch, MerkleBatch
from verifier.errors import InvalidRequestError, VerifierError, error_for
from verifier.result import VerifyResult
from verifier.schemes import ED25519, MERKLE, Scheme, ecdsa_scheme
from verifier.verdict import Policy

if TYPE_CHECKING:
    from verifier import cometbft as cb

__all__ = ["Client"]

# Room left in each request for field tags and varint lengths beyond the payload bytes counted.
_ENVELOPE_BYTES = 1024


def _error_from_rpc(err: grpc.RpcError) -> VerifierError:
    """The package's error for a failed call, by the one status table (``verifier.errors.STATUS``)."""
    code, details = err.code(), err.details()
    return error_for(code.name)(f"{code.name}: {details}")


def _split(item_bytes: npt.NDArray[np.int64], max_items: int, max_bytes: int) -> list[tuple[int, int]]:
    """Cut [0, n) into consecutive ranges of at most max_items items and max_bytes payload bytes."""
    n = len(item_bytes)
    cum = np.concatenate(([0], np.cumsum(item_bytes)))
    ranges, start = [], 0
    while start < n:
        stop = int(np.searchsorted(cum, cum[start] + max_bytes, side="right")) - 1
        stop = min(max(stop, start + 1), start + max_items, n)  # at least one item per request
        ranges.append((start, stop))
        start = stop
    return ranges


class Client:
    """Talks to a verifier server at ``target`` ("host:port"). Use as a context manager or call close()."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float | None = 60.0,
        channel: grpc.Channel | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        """``tls_ca`` (PEM path) turns on TLS; ``tls_cert`` and ``tls_key`` add a client certificate."""
        from verifier.v1 import verifier_pb2 as pb2
        from verifier.v1 import verifier_pb2_grpc as pb2_grpc

        self._pb2 = pb2
        options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
        if credentials is None and (tls_ca or tls_cert or tls_key):

            def read(path: str | None) -> bytes | None:
                if path is None:
                    return None
                with open(path, "rb") as f:
                    return f.read()

            credentials = grpc.ssl_channel_credentials(read(tls_ca), read(tls_key), read(tls_cert))
        if channel is None:
            channel = (
                grpc.secure_channel(target, credentials, options)
                if credentials is not None
                else grpc.insecure_channel(target, options)
            )
        self._channel = channel
        self._stub = pb2_grpc.VerifierStub(channel)  # type: ignore[no-untyped-call]
        self._timeout = timeout
        self._info: Any = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise _error_from_rpc(err) from err

    def info(self) -> Any:
        """The server's GetInfoResponse (cached after the first call)."""
        if self._info is None:
            self._info = self._call(self._stub.GetInfo, self._pb2.GetInfoRequest())
        return self._info

    def _limits(self) -> tuple[int, int]:
        limits = self.info().limits
        return int(limits.max_items), int(limits.max_message_bytes) - _ENVELOPE_BYTES

    def verify(self, scheme: Scheme, batch: Any, policy: str | Policy | None = None) -> VerifyResult:
        """``batch`` of ``scheme`` under ``policy`` (None: the scheme's default), as ``Engine.verify``
        answers it, over the scheme's RPC. Items flagged malformed are answered here, exactly as the
        server would, since the packed wire form cannot carry them."""
        from verifier import convert

        pol = scheme.parse_policy(policy)
        wire = convert.WIRES[scheme.name]
        verdicts = np.full(len(batch), scheme.malformed, dtype=np.uint8)
        good = np.flatnonzero(~batch.malformed)
        backends: list[str] = []
        if len(good):
            batch = batch if len(good) == len(batch) else batch.take(good)
            max_items, max_bytes = self._limits()
            method = getattr(self._stub, scheme.rpc)
            parts = []
            ranges = _split(wire.item_bytes(batch), max_items, max(1, max_bytes - wire.shared_bytes(batch)))
            for start, stop in ranges:
                part = batch if (start, stop) == (0, len(batch)) else batch.slice(start, stop)
                response = self._call(method, wire.encode(part, pol))
                parts.append(np.frombuffer(response.verdicts, dtype=np.uint8))
                if response.backend not in backends:
                    backends.append(response.backend)
            verdicts[good] = np.concatenate(parts)
        return VerifyResult(verdicts, "+".join(backends) or "local")

    def verify_ed25519(
        self,
        public_keys: Any,
        signatures: Any,
        messages: Sequence[Any],
        *,
        policy: str | Policy = Policy.LIBSODIUM,
    ) -> VerifyResult:
        return self.verify(ED25519, Ed25519Batch.from_items(public_keys, signatures, messages), policy)

    def verify_ecdsa(
        self,
        public_keys: Sequence[Any],
        signatures: Sequence[Any],
        digests: Sequence[Any] | None = None,
        *,
        messages: Sequence[Any] | None = None,
        curve: str = "secp256k1",
        policy: str | Policy | None = None,
    ) -> VerifyResult:
        """``verifier.verify_ecdsa`` over gRPC (messages are hashed here, then sent as digests)."""
        batch = EcdsaBatch.from_items(public_keys, signatures, digests, messages=messages)
        return self.verify(ecdsa_scheme(curve), batch, policy)

    def verify_merkle(
        self,
        leaf_indices: Sequence[int],
        tree_sizes: Sequence[int],
        paths: Sequence[Sequence[Any]],
        roots: Any,
        *,
        leaf_hashes: Sequence[Any] | None = None,
        leaves: Sequence[Any] | None = None,
    ) -> VerifyResult:
        batch = MerkleBatch.from_items(
            leaf_indices, tree_sizes, paths, roots, leaf_hashes=leaf_hashes, leaves=leaves
        )
        return self.verify(MERKLE, batch)

    def verify_commit(
        self,
        commit: cb.Commit | str | bytes,
        validators: cb.ValidatorSet | str | bytes | None = None,
        *,
        validator_set_hash: bytes | None = None,
        chain_id: str | None = None,
        mode: str = "full",
        trust_level: Fraction | str | tuple[int, int] | None = None,
        height: int | None = None,
        block_id: cb.BlockID | None = None,
    ) -> cb.CommitResult:
        """``cometbft.verify_commit`` on the server. ``commit``: a parsed ``Commit`` or the JSON of a
        node's ``/commit``; the set: a ``ValidatorSet``, the JSON of ``/validators`` (a page, or a JSON list
        of pages), or ``validator_set_hash`` of a set registered with ``register_validator_set``.
        An invalid commit is a result (``valid`` False, ``error``), not an exception."""
        from verifier import cometbft as cb
        from verifier import convert

        pb2 = self._pb2
        request = pb2.VerifyCommitRequest(chain_id=chain_id or "", mode=convert.MODE_VALUES[cb.Mode(mode)])
        if isinstance(commit, (str, bytes)):
            request.commit_json = commit.encode() if isinstance(commit, str) else commit
        else:
            msg, header = convert.commit_to_proto(commit)
            request.commit.CopyFrom(msg)
            if header is not None:
                request.header.CopyFrom(header)
        if (validators is None) == (validator_set_hash is None):
            raise InvalidRequestError("give exactly one of validators and validator_set_hash")
        if validator_set_hash is not None:
            request.validator_set_hash = validator_set_hash
        elif isinstance(validators, (str, bytes)):
            request.validators_json = validators.encode() if isinstance(validators, str) else validators
        else:
            assert validators is not None
            request.validators.CopyFrom(convert.validators_to_proto(validators))
        if trust_level is not None:
            level = cb.parse_trust_level(trust_level)
            # As given, not reduced: CometBFT's overflow check works on the numerator it was handed.
            request.trust_level.numerator, request.trust_level.denominator = level.given
        if height is not None:
            request.height = height
        if block_id is not None:
            request.block_id.CopyFrom(convert.block_id_to_proto(block_id))
        return convert.commit_result(self._call(self._stub.VerifyCommit, request))

    def register_validator_set(self, validators: cb.ValidatorSet | str | bytes) -> bytes:
        """Keep ``validators`` (a ``ValidatorSet`` or ``/validators`` JSON) on the server; its hash, for
        ``verify_commit(validator_set_hash=...)``."""
        from verifier import convert

        request = self._pb2.RegisterValidatorSetRequest()
        if isinstance(validators, (str, bytes)):
            request.validators_json = validators.encode() if isinstance(validators, str) else validators
        else:
            request.validators.CopyFrom(convert.validators_to_proto(validators))
        return bytes(self._call(self._stub.RegisterValidatorSet, request).validator_set_hash)
