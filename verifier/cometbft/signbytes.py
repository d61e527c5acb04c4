"""Vote sign bytes: protobuf ``CanonicalVote`` encoded by hand, length-prefixed (SPEC.md section 4).

cometbft ``types/vote.go`` ``VoteSignBytes`` = ``protoio.MarshalDelimited(CanonicalizeVote(chainID, vote))``:
uvarint(length) || CanonicalVote, where (proto/cometbft/types/v1/canonical.proto)::

    message CanonicalVote {
      SignedMsgType    type      = 1;  // varint; PRECOMMIT = 2
      sfixed64         height    = 2;
      sfixed64         round     = 3;
      CanonicalBlockID block_id  = 4;  // nullable: absent for a nil vote (CanonicalizeBlockID)
      google.protobuf.Timestamp timestamp = 5;  // non-nullable: always written
      string           chain_id  = 6;
    }
    message CanonicalBlockID { bytes hash = 1; CanonicalPartSetHeader part_set_header = 2; }  // non-nullable
    message CanonicalPartSetHeader { uint32 total = 1; bytes hash = 2; }
    message Timestamp { int64 seconds = 1; int32 nanos = 2; }

proto3 rules as gogoproto writes them: a zero scalar, an empty bytes or string field is omitted; an
embedded message that is present is written, with length 0 when all its fields are zero. Vote extensions
are not part of these bytes. No protobuf dependency: the encoding is a few lines and byte-exact against
cometbft ``types/vote_test.go`` TestVoteSignBytesTestVectors.
"""

from __future__ import annotations

import struct

from verifier.ints import INT64_MIN, UINT64_MAX
from verifier.text import quote

__all__ = [
    "PREVOTE_TYPE",
    "PRECOMMIT_TYPE",
    "uvarint",
    "uvarint_prefixed",
    "canonical_vote_prefix",
    "timestamp_field",
    "timestamp_field_cached",
    "chain_id_field",
    "canonical_vote_sign_bytes",
]

PREVOTE_TYPE = 1  # cmtproto.PrevoteType
PRECOMMIT_TYPE = 2  # cmtproto.PrecommitType

_WIRE_VARINT = 0
_WIRE_FIXED64 = 1
_WIRE_LEN = 2


def uvarint(value: int) -> bytes:
    """Unsigned LEB128 (protobuf varint) of 0 <= value < 2^64."""
    if 0 <= value < 0x80:
        return _SMALL[value]
    if value < 0 or value > UINT64_MAX:
        raise ValueError(f"uvarint out of range: {quote(value)}")
    if value < 1 << 35:  # every nanos and most lengths: written out, no loop
        if value < 1 << 14:
            return bytes((value & 0x7F | 0x80, value >> 7))
        if value < 1 << 21:
            return bytes((value & 0x7F | 0x80, value >> 7 & 0x7F | 0x80, value >> 14))
        if value < 1 << 28:
            return bytes(
                (value & 0x7F | 0x80, value >> 7 & 0x7F | 0x80, value >> 14 & 0x7F | 0x80, value >> 21)
            )
        return bytes(
            (
                value & 0x7F | 0x80,
                value >> 7 & 0x7F | 0x80,
                value >> 14 & 0x7F | 0x80,
                value >> 21 & 0x7F | 0x80,
                value >> 28,
            )
        )
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def uvarint_prefixed(body: bytes) -> bytes:
    """``protoio.MarshalDelimited``: uvarint(len(body)) || body."""
    return uvarint(len(body)) + body


_SMALL = [bytes((i,)) for i in range(0x80)]


def _key(field: int, wire: int) -> bytes:
    return _SMALL[(field << 3) | wire]  # every field number here is below 16: a one-byte key


def _int_varint(field: int, value: int) -> bytes:
    """int32 / int64 / uint32 / enum as a varint (negative: 10-byte two's complement); 0 omitted."""
    if value == 0:
        return b""
    if not INT64_MIN <= value <= UINT64_MAX:
        raise ValueError(f"field {field}: {quote(value)} does not fit 64 bits")
    return _key(field, _WIRE_VARINT) + uvarint(value & UINT64_MAX)


def _sfixed64(field: int, value: int) -> bytes:
    if value == 0:
        return b""
    return _key(field, _WIRE_FIXED64) + struct.pack("<q", value)


def _bytes(field: int, value: bytes) -> bytes:
    """bytes / string field; empty omitted."""
    if not value:
        return b""
    return _key(field, _WIRE_LEN) + uvarint(len(value)) + value


def _message(field: int, body: bytes) -> bytes:
    """An embedded message that is present: written even when ``body`` is empty."""
    return _key(field, _WIRE_LEN) + uvarint(len(body)) + body


def canonical_vote_prefix(
    vote_type: int, height: int, round: int, block_id: tuple[bytes, int, bytes] | None
) -> bytes:
    """CanonicalVote fields 1 to 4 (everything before the timestamp).

    ``block_id`` is ``(hash, part_set_header.total, part_set_header.hash)`` or None for a nil vote
    (cometbft ``CanonicalizeBlockID`` returns nil for a zero block ID, types/canonical.go).
    """
    out = _int_varint(1, vote_type) + _sfixed64(2, height) + _sfixed64(3, round)
    if block_id is not None:
        block_hash, total, parts_hash = block_id
        psh = _int_varint(1, total) + _bytes(2, parts_hash)  # CanonicalizePartSetHeader
        out += _message(4, _bytes(1, block_hash) + _message(2, psh))
    return out


def timestamp_field(seconds: int, nanos: int) -> bytes:
    """CanonicalVote field 5, google.protobuf.Timestamp: always present (gogoproto stdtime, non-nullable).

    Encodes any int64 seconds and nanos; the range a Timestamp may hold (years 0001-9999, nanos in
    [0, 1e9)) is checked where commits are parsed (``verifier.cometbft.parse.timestamp_problem``), as
    CometBFT refuses other values when it decodes a commit and could not marshal them into sign bytes."""
    return timestamp_field_cached(seconds, nanos, {})


def timestamp_field_cached(seconds: int, nanos: int, seconds_fields: dict[int, bytes]) -> bytes:
    """``timestamp_field``, reusing the encoded seconds across calls that share ``seconds_fields`` (the votes
    of one commit mostly fall in the same second; only their nanos differ)."""
    sec = seconds_fields.get(seconds)
    if sec is None:
        sec = seconds_fields[seconds] = _int_varint(1, seconds)
    body = sec + _int_varint(2, nanos)
    return _TIMESTAMP_KEY + _SMALL[len(body)] + body  # a Timestamp body is at most 22 bytes: one length byte


_TIMESTAMP_KEY = _key(5, _WIRE_LEN)


def chain_id_field(chain_id: str) -> bytes:
    """CanonicalVote field 6."""
    return _bytes(6, chain_id.encode("utf-8"))


def canonical_vote_sign_bytes(
    chain_id: str,
    *,
    vote_type: int = PRECOMMIT_TYPE,
    height: int,
    round: int,
    block_id: tuple[bytes, int, bytes] | None,
    timestamp: tuple[int, int],
) -> bytes:
    """cometbft ``VoteSignBytes`` (types/vote.go) of ``CanonicalizeVote`` (types/canonical.go).

    ``timestamp`` is ``(seconds, nanos)`` since the Unix epoch; Go's zero time is (-62135596800, 0).
    """
    seconds, nanos = timestamp
    body = canonical_vote_prefix(vote_type, height, round, block_id)
    return uvarint_prefixed(body + timestamp_field(seconds, nanos) + chain_id_field(chain_id))
