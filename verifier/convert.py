"""verifier.v1 messages <-> the package's values: the one place a request is read or an answer written.

Requests: ``parse`` reads a request's wire bytes as its message (bytes that are not one raise
``MalformedRequestError``); each scheme's ``Wire`` (``WIRES``) wraps its packed columns (no per-item loop)
and writes them for the client;
``commit_call`` turns a VerifyCommitRequest (protobuf or JSON commit, validators inline, as JSON or by
registered hash) into the arguments of ``cometbft.verify_commit``. Item limits are checked before any
buffer is decoded, and before a JSON document is decoded its entries are counted in the bytes. Everything
wrong with a request raises ``InvalidRequestError`` (or ``LimitExceededError``) naming the field; values
the caller sent are cut (``cut``) before they go into a message, so no message echoes thousands of digits.
Answers: ``result_fields`` for a batch, ``commit_response`` for a commit; ``commit_result`` reads a
VerifyCommitResponse back into a ``CommitResult`` (the client's side).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from google.protobuf.message import DecodeError, Message

from verifier import cometbft as cb
from verifier.batch import (
    DIGEST_SIZE,
    HASH_SIZE,
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    EcdsaBatch,
    Ed25519Batch,
    MerkleBatch,
)
from verifier.cometbft.parse import load_json
from verifier.errors import InvalidRequestError, LimitExceededError
from verifier.ints import UINT64_MAX
from verifier.priority import Priority
from verifier.result import VerifyResult
from verifier.schemes import ECDSA_P256, ECDSA_SECP256K1, ED25519, MERKLE, SCHEMES, Scheme
from verifier.text import cut
from verifier.v1 import verifier_pb2 as _pb2
from verifier.verdict import Policy

__all__ = [
    "CommitCall",
    "MalformedRequestError",
    "block_id_to_proto",
    "commit_call",
    "commit_response",
    "commit_result",
    "commit_to_proto",
    "parse",
    "policy",
    "priority",
    "priority_given",
    "info_response",
    "response",
    "result_fields",
    "stream_request_id",
    "validator_set",
    "validators_to_proto",
    "Wire",
    "WIRES",
    "REQUEST_TYPES",
    "stream_batch",
    "wire_of",
]

if TYPE_CHECKING:
    from verifier.engine import Engine

# Wire policy -> Policy (POLICY_UNSPECIFIED: the scheme's default).
POLICY_VALUES: dict[Policy, Any] = {p: _pb2.Policy.Value(f"POLICY_{p.name}") for p in Policy}
_POLICIES: dict[int, Policy] = {v: p for p, v in POLICY_VALUES.items()}
# A VerifySignaturesRequest's scheme (SIGNATURE_SCHEME_UNSPECIFIED: Ed25519, as before the field existed).
_SIGNATURE_SCHEMES: dict[int, Scheme] = {
    _pb2.SIGNATURE_SCHEME_UNSPECIFIED: ED25519,
    _pb2.SIGNATURE_SCHEME_ED25519: ED25519,
    _pb2.SIGNATURE_SCHEME_ECDSA_SECP256K1: ECDSA_SECP256K1,
    _pb2.SIGNATURE_SCHEME_ECDSA_P256: ECDSA_P256,
}
_SCHEME_VALUES: dict[str, Any] = {
    s.name: v for v, s in _SIGNATURE_SCHEMES.items() if v != _pb2.SIGNATURE_SCHEME_UNSPECIFIED
}
_PRIORITIES: dict[int, Priority] = {
    _pb2.PRIORITY_BULK: Priority.BULK,
    _pb2.PRIORITY_CONSENSUS: Priority.CONSENSUS,
}
_MODES: dict[int, cb.Mode] = {
    _pb2.COMMIT_MODE_UNSPECIFIED: cb.Mode.FULL,
    _pb2.COMMIT_MODE_FULL: cb.Mode.FULL,
    _pb2.COMMIT_MODE_LIGHT: cb.Mode.LIGHT,
    _pb2.COMMIT_MODE_TRUSTING: cb.Mode.TRUSTING,
}
# The wire value of each mode (a CommitMode), the inverse of _MODES without UNSPECIFIED.
MODE_VALUES: dict[cb.Mode, Any] = {mode: v for v, mode in _MODES.items() if v != _pb2.COMMIT_MODE_UNSPECIFIED}
# Each entry of a /commit's signatures names this key once, each validator of a /validators page this one:
# counted in the bytes, they bound the entries before the document is decoded.
_COMMIT_ENTRY_KEY = b'"block_id_flag"'
_VALIDATOR_ENTRY_KEY = b'"pub_key"'

_M = TypeVar("_M", bound=Message)
_VARINT_MAX = 10  # bytes of one varint at most (a length or a number in a packed field)


class MalformedRequestError(InvalidRequestError):
    """A request's bytes are not the protobuf message its method takes."""


# ------------------------------------------------------------------------------------------ messages


def parse(message_type: type[_M], raw: bytes) -> _M:
    """``raw`` (a request's wire bytes) as ``message_type``; anything else raises ``MalformedRequestError``.

    The decoder's exception is left behind in its except block, so the error carries no frame that holds
    ``raw``."""
    try:
        return cast(_M, message_type.FromString(raw))
    except DecodeError as exc:
        reason = cut(
            str(exc).rpartition("': ")[2] or "cannot be decoded", 200
        )  # drop "Error parsing ... type 'X'"
    raise MalformedRequestError(f"request is not a valid {message_type.DESCRIPTOR.full_name}: {reason}")


def stream_request_id(raw: bytes) -> int:
    """The id of a StreamRequest without decoding the rest of it: every protobuf encoder writes fields in
    field order, so a set ``id`` (field 1, varint) comes first; 0 (the default, which encoders omit) when
    the bytes do not start with it. For answering a batch that is refused before it is decoded."""
    if raw[:1] != b"\x08":
        return 0
    value = 0
    for i, byte in enumerate(raw[1:11]):
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            return value & UINT64_MAX
    return 0


def _check_json_entries(doc: bytes, key: bytes, max_items: int, what: str) -> None:
    """Before ``doc`` is decoded: every entry names ``key`` once, so its count bounds the entries."""
    _check_items(doc.count(key), max_items, what)


# ------------------------------------------------------------------------------------------ batches


def policy(value: int, scheme: Scheme = ED25519) -> Policy:
    """The request's policy for ``scheme``: POLICY_UNSPECIFIED is the scheme's default; a policy of
    another scheme is ``InvalidRequestError`` naming this scheme's."""
    if value == _pb2.POLICY_UNSPECIFIED:
        default = scheme.default_policy
        assert default is not None
        return default
    try:
        pol = _POLICIES[value]
    except KeyError:
        raise InvalidRequestError(
            f"policy: unknown value {cut(value)}; known: {', '.join(_pb2.Policy.keys())}"
        ) from None
    if pol not in scheme.policies:
        known = ", ".join(_pb2.Policy.Name(POLICY_VALUES[p]) for p in scheme.policies)
        raise InvalidRequestError(
            f"policy: {_pb2.Policy.Name(value)} is not a policy of {scheme.name}; known: {known}"
        )
    return pol


def priority_given(value: int) -> bool:
    """Whether the request names a priority (anything but PRIORITY_UNSPECIFIED)."""
    return value != _pb2.PRIORITY_UNSPECIFIED


def priority(value: int, default: Priority = Priority.BULK) -> Priority:
    """The request's priority; PRIORITY_UNSPECIFIED takes ``default``."""
    if value == _pb2.PRIORITY_UNSPECIFIED:
        return default
    try:
        return _PRIORITIES[value]
    except KeyError:
        raise InvalidRequestError(
            f"priority: unknown value {cut(value)}; known: {', '.join(_pb2.Priority.keys())}"
        ) from None


def _check_items(n: int, limit: int, what: str = "items") -> None:
    if n > limit:
        raise LimitExceededError(f"request has {n} {what}; the limit is {limit}")


@dataclasses.dataclass(frozen=True)
class Wire:
    """How one scheme's batches travel: its request and response messages (``rpc`` and the stream's
    ``StreamRequest`` field), read by the server (``decode``) and written by the client (``encode``,
    with each item's bytes and the bytes every request repeats, for splitting a batch to the limits)."""

    scheme: Scheme
    request: type[Message]
    response: type[Message]
    stream_field: str
    decode: Callable[[Any, int], tuple[Any, Policy | None]]  # (request, max_items) -> (batch, policy)
    encode: Callable[[Any, Policy | None], Message]  # (batch, policy) -> request
    item_bytes: Callable[[Any], npt.NDArray[np.int64]]
    shared_bytes: Callable[[Any], int] = lambda batch: 0


def _decode_signatures(request: _pb2.VerifySignaturesRequest, max_items: int) -> tuple[Ed25519Batch, Policy]:
    _check_items(len(request.message_lengths), max_items)  # before any buffer is decoded
    pol = policy(request.policy, ED25519)
    batch = Ed25519Batch.from_packed(
        request.public_keys, request.signatures, request.messages, request.message_lengths
    )
    return batch, pol


def _encode_signatures(batch: Ed25519Batch, pol: Policy | None) -> _pb2.VerifySignaturesRequest:
    return _pb2.VerifySignaturesRequest(
        public_keys=batch.public_keys.tobytes(),
        signatures=batch.signatures.tobytes(),
        messages=batch.messages.tobytes(),
        message_lengths=np.diff(batch.message_offsets).tolist(),
        policy=POLICY_VALUES[pol or Policy.LIBSODIUM],
    )


def _signature_bytes(batch: Ed25519Batch) -> npt.NDArray[np.int64]:
    return np.diff(batch.message_offsets).astype(np.int64) + PUBLIC_KEY_SIZE + SIGNATURE_SIZE + _VARINT_MAX


def _decode_ecdsa(scheme: Scheme) -> Callable[[Any, int], tuple[EcdsaBatch, Policy]]:
    def decode(request: _pb2.VerifySignaturesRequest, max_items: int) -> tuple[EcdsaBatch, Policy]:
        _check_items(len(request.message_lengths), max_items)  # before any buffer is decoded
        pol = policy(request.policy, scheme)
        batch = EcdsaBatch.from_packed(
            request.public_keys,
            request.public_key_lengths,
            request.signatures,
            request.signature_lengths,
            request.messages,
            request.message_lengths,
            hash_messages=request.hash_messages,
        )
        return batch, pol

    return decode


def _encode_ecdsa(scheme: Scheme) -> Callable[[Any, Policy | None], Message]:
    def encode(batch: EcdsaBatch, pol: Policy | None) -> _pb2.VerifySignaturesRequest:
        return _pb2.VerifySignaturesRequest(
            scheme=_SCHEME_VALUES[scheme.name],
            public_keys=batch.public_keys.tobytes(),
            public_key_lengths=np.diff(batch.key_offsets).tolist(),
            signatures=batch.signatures.tobytes(),
            signature_lengths=np.diff(batch.signature_offsets).tolist(),
            messages=batch.digests.tobytes(),
            message_lengths=[DIGEST_SIZE] * len(batch),
            policy=POLICY_VALUES[pol or scheme.policies[0]],
        )

    return encode


def _ecdsa_bytes(batch: EcdsaBatch) -> npt.NDArray[np.int64]:
    keys = np.diff(batch.key_offsets).astype(np.int64)
    return keys + np.diff(batch.signature_offsets).astype(np.int64) + DIGEST_SIZE + 3 * _VARINT_MAX


def _ecdsa_wire(scheme: Scheme) -> Wire:
    return Wire(
        scheme,
        _pb2.VerifySignaturesRequest,
        _pb2.VerifySignaturesResponse,
        "signatures",
        _decode_ecdsa(scheme),
        _encode_ecdsa(scheme),
        _ecdsa_bytes,
    )


def _decode_proofs(request: _pb2.VerifyMerkleProofsRequest, max_items: int) -> tuple[MerkleBatch, None]:
    _check_items(len(request.leaf_indices), max_items)
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
    return batch, None


def _encode_proofs(batch: MerkleBatch, pol: Policy | None) -> _pb2.VerifyMerkleProofsRequest:
    request = _pb2.VerifyMerkleProofsRequest(
        leaf_indices=batch.leaf_indices.tolist(),
        tree_sizes=batch.tree_sizes.tolist(),
        path_hashes=batch.path_hashes.tobytes(),
        path_lengths=np.diff(batch.path_offsets).tolist(),
        roots=batch.roots.tobytes(),
        root_indices=batch.root_indices.tolist(),
    )
    if batch.leaf_hashes is not None:
        request.leaf_hashes = batch.leaf_hashes.tobytes()
    else:
        assert batch.leaf_data is not None and batch.leaf_offsets is not None
        request.leaf_data = batch.leaf_data.tobytes()
        request.leaf_data_lengths.extend(np.diff(batch.leaf_offsets).tolist())
    return request


def _proof_bytes(batch: MerkleBatch) -> npt.NDArray[np.int64]:
    path_bytes = np.diff(batch.path_offsets).astype(np.int64) * HASH_SIZE
    if batch.leaf_offsets is not None:
        leaf_bytes = np.diff(batch.leaf_offsets).astype(np.int64) + _VARINT_MAX
    else:
        leaf_bytes = np.full(len(batch), HASH_SIZE, dtype=np.int64)
    return path_bytes + leaf_bytes + 4 * _VARINT_MAX


WIRES: dict[str, Wire] = {
    w.scheme.name: w
    for w in (
        Wire(
            ED25519,
            _pb2.VerifySignaturesRequest,
            _pb2.VerifySignaturesResponse,
            "signatures",
            _decode_signatures,
            _encode_signatures,
            _signature_bytes,
        ),
        Wire(
            MERKLE,
            _pb2.VerifyMerkleProofsRequest,
            _pb2.VerifyMerkleProofsResponse,
            "merkle_proofs",
            _decode_proofs,
            _encode_proofs,
            _proof_bytes,
            shared_bytes=lambda batch: int(batch.roots.nbytes),
        ),
        _ecdsa_wire(ECDSA_SECP256K1),
        _ecdsa_wire(ECDSA_P256),
    )
}
# The request messages that carry batches, and the StreamRequest field of each.
REQUEST_TYPES: tuple[type[Message], ...] = tuple(dict.fromkeys(w.request for w in WIRES.values()))
_STREAM_FIELDS = {w.stream_field: w.request for w in WIRES.values()}
assert set(WIRES) == {s.name for s in SCHEMES}, "every scheme has a wire form"


def wire_of(request: Message) -> Wire:
    """The wire form of ``request``: by its message type, and for VerifySignaturesRequest by its
    ``scheme`` field."""
    if isinstance(request, _pb2.VerifySignaturesRequest):
        try:
            return WIRES[_SIGNATURE_SCHEMES[request.scheme].name]
        except KeyError:
            raise InvalidRequestError(
                f"scheme: unknown value {cut(request.scheme)}; known: {', '.join(_pb2.SignatureScheme.keys())}"
            ) from None
    return next(w for w in WIRES.values() if isinstance(request, w.request))


def stream_batch(request: _pb2.StreamRequest) -> tuple[str, Message]:
    """The set ``batch`` field of a ``StreamRequest`` and its message."""
    field = request.WhichOneof("batch")
    if field is None or field not in _STREAM_FIELDS:
        raise InvalidRequestError(f"batch: none of {', '.join(_STREAM_FIELDS)} is set")
    message: Message = getattr(request, field)
    return field, message


# GetInfo's crossover fields, per route (scheme, policy value or "").
_CROSSOVER_FIELDS = {
    (ED25519.name, Policy.LIBSODIUM.value): "crossover_batch",
    (ED25519.name, Policy.ZIP215.value): "crossover_batch_zip215",
    (MERKLE.name, ""): "crossover_batch_merkle",
}


def info_response(
    engine: Engine,
    *,
    version: str,
    unit_items: int,
    scheduling: Any,
    max_commit_bytes: int,
    max_inflight_bytes: int,
    registered_sets: int,
    max_sets: int,
) -> _pb2.GetInfoResponse:
    """GetInfo's answer for ``engine`` and the server's settings (``scheduling``: a SchedulerConfig;
    ``unit_items``: the unit size as resolved, a configured 0 means "by backend")."""
    store = engine.key_stores[ED25519.name]
    return _pb2.GetInfoResponse(
        version=version,
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
            max_items=engine.limits.max_items,
            max_message_bytes=engine.limits.max_message_bytes,
            max_commit_bytes=max_commit_bytes,
            max_inflight_bytes=max_inflight_bytes,
        ),
        policies=sorted(p.value for p in engine.policies),
        scheduling=_pb2.Scheduling(
            max_batch_items=unit_items,
            max_queue_delay_us=scheduling.max_queue_delay_us,
            queue_capacity_items=scheduling.queue_capacity_items,
            queue_capacity_bytes=scheduling.queue_capacity_bytes,
            stream_window=scheduling.stream_window,
            **{field: engine.crossovers.get(r, 0) for r, field in _CROSSOVER_FIELDS.items()},
        ),
        validator_sets=_pb2.ValidatorSets(
            registered=registered_sets,
            max_sets=max_sets,
            key_store_rows=store.rows,
            key_store_free=store.free,
        ),
        schemes=[
            _pb2.SchemeInfo(
                name=s.name,
                rpc=s.rpc,
                policies=[p.value for p in s.policies],
                on_device=engine.backend is not engine.cpu and s.name in engine.backend.policies,
            )
            for s in SCHEMES
            if s.name in engine.backend.policies or s.name in engine.cpu.policies
        ],
    )


def response(w: Wire, result: VerifyResult) -> Message:
    """The scheme's response message for ``result``."""
    return w.response(**result_fields(result))


def result_fields(result: VerifyResult) -> dict[str, Any]:
    """The fields VerifySignaturesResponse and VerifyMerkleProofsResponse share."""
    return dict(
        verdicts=result.verdicts.tobytes(),
        valid_count=result.valid_count,
        invalid_count=result.invalid_count,
        all_valid=result.all_valid,
        backend=result.backend,
    )


# ------------------------------------------------------------------------------------------ commits


@dataclasses.dataclass(frozen=True)
class CommitCall:
    """The arguments of ``cometbft.verify_commit`` that a VerifyCommitRequest carries."""

    chain_id: str | None
    validators: cb.ValidatorSet
    commit: cb.Commit
    mode: cb.Mode
    trust_level: Fraction
    height: int | None
    block_id: cb.BlockID | None
    priority: Priority


def _block_id(msg: _pb2.BlockID, where: str) -> cb.BlockID:
    psh = msg.part_set_header
    return cb.make_block_id(msg.hash, psh.total, psh.hash, where)


def _commit_from_proto(msg: _pb2.Commit, header: cb.Header | None, max_items: int) -> cb.Commit:
    _check_items(len(msg.signatures), max_items, "commit signatures")
    make, timestamp, zero = cb.make_commit_sig, cb.Timestamp, cb.ZERO_TIME
    sigs = []
    for i, s in enumerate(msg.signatures):
        if s.HasField("timestamp"):
            ts = s.timestamp
            when = timestamp(ts.seconds, ts.nanos)
        else:
            when = zero
        sigs.append(make(s.block_id_flag, s.validator_address, when, s.signature, "commit.signatures", i))
    return cb.make_commit(
        msg.height, msg.round, _block_id(msg.block_id, "commit.block_id"), tuple(sigs), header, "commit"
    )


def validator_set(
    source: _pb2.ValidatorSet | None, json_doc: bytes | None, max_items: int, where: str
) -> cb.ValidatorSet:
    """A validator set from its protobuf form or its /validators JSON (exactly one of them)."""
    if source is not None:
        _check_items(len(source.validators), max_items, "validators")
        vals = []
        for i, v in enumerate(source.validators):
            pk = bytes(v.pub_key.ed25519)
            if not v.HasField("pub_key") or not pk:
                raise InvalidRequestError(
                    f"{where}.validators[{i}].pub_key.ed25519: missing (only Ed25519 keys are served)"
                )
            vals.append(
                cb.Validator(bytes(v.address), pk, v.voting_power)
                if v.address
                else cb.Validator.from_pub_key(pk, v.voting_power)
            )
        return cb.ValidatorSet(vals)
    assert json_doc is not None
    if isinstance(json_doc, bytes):
        _check_json_entries(json_doc, _VALIDATOR_ENTRY_KEY, max_items, "validators")
    vs = cb.parse_validators(load_json(json_doc, where))
    _check_items(len(vs), max_items, "validators")
    return vs


def _trust_level(msg: _pb2.TrustLevel, present: bool) -> Fraction:
    if not present:
        return cb.DEFAULT_TRUST_LEVEL
    return cb.parse_trust_level((msg.numerator, msg.denominator))


def commit_call(
    request: _pb2.VerifyCommitRequest, registry: cb.ValidatorSetRegistry, max_items: int
) -> CommitCall:
    """Read a VerifyCommitRequest; an unknown ``validator_set_hash`` raises ``UnknownValidatorSetError``."""
    which_commit = request.WhichOneof("commit_source")
    if which_commit == "commit":
        header = None
        if request.HasField("header"):
            h = request.header
            header = cb.make_header(h.chain_id, h.height, h.validators_hash)
        commit = _commit_from_proto(request.commit, header, max_items)
    elif which_commit == "commit_json":
        doc = request.commit_json
        _check_json_entries(doc, _COMMIT_ENTRY_KEY, max_items, "commit signatures")
        commit = cb.parse_commit(load_json(doc, "commit_json"))
        _check_items(len(commit.signatures), max_items, "commit signatures")
    else:
        raise InvalidRequestError("commit_source: neither commit nor commit_json is set")

    which_vals = request.WhichOneof("validators_source")
    if which_vals == "validators":
        validators = validator_set(request.validators, None, max_items, "validators")
    elif which_vals == "validators_json":
        validators = validator_set(None, request.validators_json, max_items, "validators_json")
    elif which_vals == "validator_set_hash":
        validators = registry.get(bytes(request.validator_set_hash))
    else:
        raise InvalidRequestError(
            "validators_source: none of validators, validators_json, validator_set_hash is set"
        )

    try:
        mode = _MODES[request.mode]
    except KeyError:
        raise InvalidRequestError(
            f"mode: unknown value {cut(request.mode)}; known: {', '.join(_pb2.CommitMode.keys())}"
        ) from None
    return CommitCall(
        chain_id=request.chain_id or None,
        validators=validators,
        commit=commit,
        mode=mode,
        trust_level=_trust_level(request.trust_level, request.HasField("trust_level")),
        height=request.height if request.HasField("height") else None,
        block_id=_block_id(request.block_id, "block_id") if request.HasField("block_id") else None,
        priority=priority(request.priority, Priority.CONSENSUS),
    )


def commit_response(result: cb.CommitResult, backend: str) -> _pb2.VerifyCommitResponse:
    response = _pb2.VerifyCommitResponse(
        valid=result.valid,
        signed_power=result.signed_power,
        tallied_power=result.tallied_power,
        total_power=result.total_power,
        needed_power=result.needed_power,
        verdicts=result.verdicts.tobytes(),
        statuses=bytes(int(s) for s in result.statuses),
        validator_set_hash=result.validators_hash,
        mode=MODE_VALUES[result.mode],
        chain_id=result.chain_id,
        height=result.height,
        backend=backend,
    )
    err = result.error
    if err is not None:
        response.error.CopyFrom(
            _pb2.CommitError(
                code=cast(Any, int(err.code)),
                message=err.message,
                index=err.index,
                first_index=err.first_index,
                got=err.got,
                needed=err.needed,
                expected=err.expected or "",
                actual=err.actual or "",
            )
        )
    return response


def commit_result(response: _pb2.VerifyCommitResponse) -> cb.CommitResult:
    """A VerifyCommitResponse as the ``CommitResult`` a local ``verify_commit`` returns."""
    error = None
    if response.HasField("error"):
        e = response.error

        def opt(name: str) -> int | None:
            return int(getattr(e, name)) if e.HasField(name) else None

        error = cb.CommitError(
            code=cb.ErrorCode(e.code),
            message=e.message,
            index=opt("index"),
            first_index=opt("first_index"),
            got=opt("got"),
            needed=opt("needed"),
            expected=e.expected or None,
            actual=e.actual or None,
        )
    verdicts = np.frombuffer(response.verdicts, dtype=np.uint8)
    return cb.CommitResult(
        valid=response.valid,
        error=error,
        mode=_MODES.get(response.mode, cb.Mode.FULL),
        chain_id=response.chain_id,
        height=response.height,
        signed_power=response.signed_power,
        tallied_power=response.tallied_power,
        total_power=response.total_power,
        needed_power=response.needed_power,
        statuses=tuple(cb.SignatureStatus(s) for s in response.statuses),
        verdicts=verdicts,
        validators_hash=response.validator_set_hash,
    )


def commit_to_proto(commit: cb.Commit) -> tuple[_pb2.Commit, _pb2.CommitHeader | None]:
    """A parsed commit (and its header, when it came with one) in protobuf form."""
    msg = _pb2.Commit(
        height=commit.height,
        round=commit.round,
        block_id=block_id_to_proto(commit.block_id),
    )
    for s in commit.signatures:
        entry = msg.signatures.add(
            block_id_flag=int(s.block_id_flag), validator_address=s.validator_address, signature=s.signature
        )
        if s.timestamp != cb.ZERO_TIME:
            entry.timestamp.seconds, entry.timestamp.nanos = s.timestamp.seconds, s.timestamp.nanos
    h = commit.header
    header = (
        None
        if h is None
        else _pb2.CommitHeader(chain_id=h.chain_id, height=h.height, validators_hash=h.validators_hash)
    )
    return msg, header


def block_id_to_proto(block_id: cb.BlockID) -> _pb2.BlockID:
    psh = block_id.part_set_header
    return _pb2.BlockID(
        hash=block_id.hash, part_set_header=_pb2.PartSetHeader(total=psh.total, hash=psh.hash)
    )


def validators_to_proto(validators: cb.ValidatorSet) -> _pb2.ValidatorSet:
    return _pb2.ValidatorSet(
        validators=[
            _pb2.Validator(
                address=v.address, pub_key=_pb2.PublicKey(ed25519=v.pub_key), voting_power=v.voting_power
            )
            for v in validators
        ]
    )
