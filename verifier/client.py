"""verifier.Client: the Python API's calls, over gRPC, to one server or a fleet.

Targets: any gRPC target string ("host:port", "dns:///verifier.ns.svc:50051", "ipv4:10.0.0.1:50051,
10.0.0.2:50051", ...) or a list of "host:port" addresses (resolved once, here). Calls are spread over
every address the target resolves to (``round_robin``) and retried on UNAVAILABLE by gRPC's own retry
policy (every verification call is idempotent), within a retry budget (gRPC's retry throttling), so a
replica that goes away mid-load costs a retry, not an answer.

Registered validator sets in a fleet: each replica keeps its own registry, so a commit by hash may reach
a replica that never saw the set (NOT_FOUND). The client remembers the sets it registered; on NOT_FOUND
for one of them it registers the set again (on whichever replica takes that call) and sends the commit
once more with the set inline, which every replica can verify. Callers in other languages do the same:
register, and on NOT_FOUND send the set inline (or register and retry).

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
from verifier.errors import InvalidRequestError, UnknownValidatorSetError, VerifierError, error_for
from verifier.result import VerifyResult
from verifier.schemes import ED25519, MERKLE, Scheme, ecdsa_scheme
from verifier.verdict import Policy

if TYPE_CHECKING:
    from verifier import cometbft as cb

__all__ = ["SERVICE_CONFIG", "Client", "grpc_target"]

# Room left in each request for field tags and varint lengths beyond the payload bytes counted.
_ENVELOPE_BYTES = 1024

# gRPC's service config for every call of verifier.v1.Verifier: round_robin over the resolved addresses,
# up to 5 attempts on UNAVAILABLE with exponential backoff, and retries stopped while more than half of
# the budget's tokens are spent (each failure costs 1, each success gives back 0.1).
SERVICE_CONFIG: dict[str, Any] = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "methodConfig": [
        {
            "name": [{"service": "verifier.v1.Verifier"}],
            "retryPolicy": {
                "maxAttempts": 5,
                "initialBackoff": "0.05s",
                "maxBackoff": "1s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ],
    "retryThrottling": {"maxTokens": 20, "tokenRatio": 0.1},
}


def grpc_target(target: str | Sequence[str]) -> str:
    """One gRPC target for ``target``: a string as given; a list of "host:port" resolved to every address
    of every host, as an ``ipv4:`` or ``ipv6:`` target (gRPC's static list; all of one family)."""
    if isinstance(target, str):
        return target
    import socket

    v4: list[str] = []
    v6: list[str] = []
    for item in target:
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit():
            raise InvalidRequestError(f"target {item!r}: expected host:port")
        host = host.strip("[]")
        for family, *_, addr in socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM):
            if family == socket.AF_INET and f"{addr[0]}:{port}" not in v4:
                v4.append(f"{addr[0]}:{port}")
            elif family == socket.AF_INET6 and f"[{addr[0]}]:{port}" not in v6:
                v6.append(f"[{addr[0]}]:{port}")
    if not v4 and not v6:
        raise InvalidRequestError(f"target {list(target)!r}: no address")
    if v4 and v6:
        raise InvalidRequestError(f"target {list(target)!r}: mixes IPv4 and IPv6 addresses; list one family")
    return f"ipv4:{','.join(v4)}" if v4 else f"ipv6:{','.join(v6)}"


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
    """Talks to a verifier server or fleet at ``target`` (see the module). Use as a context manager or call
    close()."""

    def __init__(
        self,
        target: str | Sequence[str],
        *,
        timeout: float | None = 60.0,
        channel: grpc.Channel | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        """``tls_ca`` (PEM path) turns on TLS; ``tls_cert`` and ``tls_key`` add a client certificate.
        ``channel``: a channel of the caller's own (its options and service config are the caller's)."""
        import json

        from verifier.v1 import verifier_pb2 as pb2
        from verifier.v1 import verifier_pb2_grpc as pb2_grpc

        self._pb2 = pb2
        options = [
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", -1),
            ("grpc.enable_retries", 1),
            ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        ]
        if credentials is None and (tls_ca or tls_cert or tls_key):

            def read(path: str | None) -> bytes | None:
                if path is None:
                    return None
                with open(path, "rb") as f:
                    return f.read()

            credentials = grpc.ssl_channel_credentials(read(tls_ca), read(tls_key), read(tls_cert))
        if channel is None:
            where = grpc_target(target)
            channel = (
                grpc.secure_channel(where, credentials, options)
                if credentials is not None
                else grpc.insecure_channel(where, options)
            )
        self._channel = channel
        self._stub = pb2_grpc.VerifierStub(channel)  # type: ignore[no-untyped-call]
        self._timeout = timeout
        self._info: Any = None
        # RegisterValidatorSetRequest of every set this client registered, by hash (for NOT_FOUND).
        self._registered: dict[bytes, Any] = {}

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
            try:
                response = self._call(self._stub.VerifyCommit, request)
            except UnknownValidatorSetError:
                again = self._registered.get(bytes(validator_set_hash))
                if again is None:
                    raise
                # A replica without the set: register it there (or wherever this call lands) and send
                # the commit with the set inline, which any replica can verify.
                self._call(self._stub.RegisterValidatorSet, again)
                if again.HasField("validators"):
                    request.validators.CopyFrom(again.validators)
                else:
                    request.validators_json = again.validators_json
                response = self._call(self._stub.VerifyCommit, request)
            return convert.commit_result(response)
        if isinstance(validators, (str, bytes)):
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
        set_hash = bytes(self._call(self._stub.RegisterValidatorSet, request).validator_set_hash)
        self._registered[set_hash] = request
        return set_hash
