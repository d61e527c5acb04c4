"""verifier/convert.py: every protobuf form reads back as the value it was written from.

The gRPC tests (tests/test_service_commit.py) check answers end to end; these check the conversions
themselves, field by field, including the corners a round trip over the wire could lose: absent entries
(Go's zero time), nil votes, index 0 in an error, an unset optional, unknown enum values.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from tests.support import cometbft_ref as ref
from tests.support.cometbft import COMMIT_RESULT_FIELDS
from verifier import cometbft as cb
from verifier import convert, text
from verifier.errors import InvalidRequestError, LimitExceededError
from verifier.scheduler import Priority
from verifier.v1 import verifier_pb2 as pb2
from verifier.verdict import Policy


def _commit(seed: int, n: int = 40) -> tuple[ref.Generated, cb.Commit, cb.ValidatorSet]:
    gen = ref.generate(random.Random(seed), n, p_absent=0.2, p_nil=0.2)
    return gen, cb.parse_commit(gen.commit_json()), cb.parse_validators(ref.validators_json(gen.validators))


def test_commit_round_trip_through_protobuf_bytes() -> None:
    for seed in range(5):
        _, commit, vals = _commit(seed)
        assert any(s.absent for s in commit.signatures) and any(
            s.block_id_flag == cb.BlockIDFlag.NIL for s in commit.signatures
        )
        msg, header = convert.commit_to_proto(commit)
        request = pb2.VerifyCommitRequest(
            commit=msg, header=header, validators=convert.validators_to_proto(vals)
        )
        wire = pb2.VerifyCommitRequest.FromString(request.SerializeToString())
        call = convert.commit_call(wire, cb.ValidatorSetRegistry(), 1000)
        # Every entry, timestamps (zero time for absent), block ID, header; CommitHeader carries the three
        # header fields the check uses, not next_validators_hash.
        assert commit.header is not None
        assert call.commit == dataclasses.replace(
            commit, header=dataclasses.replace(commit.header, next_validators_hash=b"")
        )
        assert call.validators.hash == vals.hash and call.validators.validators == vals.validators
        assert call.mode == cb.Mode.FULL and call.priority == Priority.CONSENSUS and call.height is None
        # Sign bytes from the protobuf form equal those from the JSON form, byte for byte.
        idx = [i for i, s in enumerate(commit.signatures) if not s.absent]
        assert call.commit.vote_sign_bytes_many(commit.header.chain_id, idx) == commit.vote_sign_bytes_many(
            commit.header.chain_id,
            idx,
        )


def test_commit_result_round_trip_keeps_zero_and_unset() -> None:
    statuses = (cb.SignatureStatus.VERIFIED, cb.SignatureStatus.ABSENT, cb.SignatureStatus.REJECTED)
    for error in (
        None,
        cb.CommitError(cb.ErrorCode.INVALID_SIGNATURE, "wrong signature (#0): AB", index=0),
        cb.CommitError(cb.ErrorCode.INSUFFICIENT_POWER, "insufficient", got=0, needed=6),
        cb.CommitError(cb.ErrorCode.DUPLICATE_SIGNER, "double vote", index=2, first_index=0),
        cb.CommitError(cb.ErrorCode.WRONG_HEIGHT, "wrong height", expected="11", actual="10"),
    ):
        result = cb.CommitResult(
            valid=error is None,
            error=error,
            mode=cb.Mode.TRUSTING,
            chain_id="c",
            height=10,
            signed_power=7,
            tallied_power=9,
            total_power=10,
            needed_power=3,
            statuses=statuses,
            verdicts=np.array([1, cb.NOT_CHECKED, 2], np.uint8),
            validators_hash=b"\x05" * 32,
        )
        wire = pb2.VerifyCommitResponse.FromString(convert.commit_response(result, "cpu").SerializeToString())
        back = convert.commit_result(wire)
        assert back.error == error  # index 0 stays 0; unset stays None
        for field in COMMIT_RESULT_FIELDS:  # error compared above, by its index rule
            assert getattr(back, field) == getattr(result, field), field
        assert back.verdicts.tolist() == [1, 255, 2] and wire.backend == "cpu"
    assert convert.commit_result(pb2.VerifyCommitResponse()).mode == cb.Mode.FULL  # unspecified reads as full


def test_request_options_read_back() -> None:
    _, commit, vals = _commit(9, 10)
    msg, header = convert.commit_to_proto(commit)
    request = pb2.VerifyCommitRequest(
        commit=msg,
        header=header,
        validators=convert.validators_to_proto(vals),
        mode=pb2.COMMIT_MODE_TRUSTING,
        trust_level=pb2.TrustLevel(numerator=2, denominator=3),
        height=0,
        priority=pb2.PRIORITY_BULK,
        block_id=convert.block_id_to_proto(commit.block_id),
        chain_id="other",
    )
    call = convert.commit_call(request, cb.ValidatorSetRegistry(), 1000)
    assert call.mode == cb.Mode.TRUSTING and call.trust_level == cb.parse_trust_level("2/3")
    assert call.height == 0  # set to 0 is not unset
    assert call.block_id == commit.block_id and call.priority == Priority.BULK and call.chain_id == "other"
    with pytest.raises(LimitExceededError, match="request has 10 commit signatures; the limit is 9"):
        convert.commit_call(request, cb.ValidatorSetRegistry(), 9)


def test_enums_and_limits() -> None:
    assert (
        convert.policy(pb2.POLICY_UNSPECIFIED) is Policy.LIBSODIUM
        and convert.policy(pb2.POLICY_ZIP215) is Policy.ZIP215
    )
    with pytest.raises(InvalidRequestError, match="policy: unknown value 9"):
        convert.policy(9)
    assert convert.priority(pb2.PRIORITY_UNSPECIFIED) is Priority.BULK
    assert convert.priority(pb2.PRIORITY_UNSPECIFIED, Priority.CONSENSUS) is Priority.CONSENSUS
    with pytest.raises(InvalidRequestError, match="priority: unknown value 7"):
        convert.priority(7)
    big = pb2.VerifySignaturesRequest(message_lengths=[0] * 11)
    with pytest.raises(LimitExceededError, match="request has 11 items; the limit is 10"):
        convert.wire_of(big).decode(big, 10)


def test_parse_reads_wire_bytes_and_names_the_message_it_is_not() -> None:
    request = pb2.VerifySignaturesRequest(messages=b"ab", message_lengths=[1, 1], policy=pb2.POLICY_ZIP215)
    assert convert.parse(pb2.VerifySignaturesRequest, request.SerializeToString()) == request
    for garbage in (b"\x0a\xff\xff", b"\x0b", b"\xff" * 10):
        with pytest.raises(
            convert.MalformedRequestError,
            match="request is not a valid verifier.v1.VerifySignaturesRequest: ",
        ) as info:
            convert.parse(pb2.VerifySignaturesRequest, garbage)
        assert isinstance(info.value, InvalidRequestError)  # INVALID_ARGUMENT, like any bad request
        assert info.value.__context__ is None and info.value.__cause__ is None  # no frame holding the bytes


def test_stream_request_id_is_read_without_decoding() -> None:
    for request_id in (0, 1, 127, 128, 300, 2**63, 2**64 - 1):
        raw = pb2.StreamRequest(
            id=request_id, signatures=pb2.VerifySignaturesRequest(messages=b"x")
        ).SerializeToString()
        assert convert.stream_request_id(raw) == request_id
    assert convert.stream_request_id(b"") == 0 and convert.stream_request_id(b"\x08" + b"\xff" * 11) == 0


def test_json_entries_are_counted_before_decoding() -> None:
    """Documents that name more entries than the limit are refused on the count: not JSON at all here,
    and still the limit's answer, so json.loads never ran."""
    commit = pb2.VerifyCommitRequest(
        commit_json=b'"block_id_flag" ' * 11 + b"{", validator_set_hash=b"\x01" * 32
    )
    with pytest.raises(LimitExceededError, match="request has 11 commit signatures; the limit is 10"):
        convert.commit_call(commit, cb.ValidatorSetRegistry(), 10)
    with pytest.raises(LimitExceededError, match="request has 11 validators; the limit is 10"):
        convert.validator_set(None, b'"pub_key" ' * 11 + b"[", 10, "validators_json")
    with pytest.raises(InvalidRequestError, match="validators_json: not JSON"):  # within the limit: decoded
        convert.validator_set(None, b'"pub_key" ' * 10 + b"[", 10, "validators_json")


def test_messages_never_echo_huge_numbers() -> None:
    huge = 10**5000 - 1
    assert text.cut(huge) == f"an integer of {huge.bit_length()} bits"
    assert text.cut(7) == "7" and text.cut("x" * 100) == "x" * 64 + "... (100 characters)"
    message = text.cut_message(f"height: {'9' * 3000} is out of range [0, 9223372036854775807]")
    assert message == f"height: {'9' * 24}...(3000 digits) is out of range [0, 9223372036854775807]"
    assert len(text.cut_message("y" * 10_000)) < 2100
    with pytest.raises(InvalidRequestError) as info:
        convert.policy(2**31 - 1)
    assert "2147483647" in str(info.value)
