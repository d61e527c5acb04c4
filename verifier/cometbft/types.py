"""The CometBFT values a commit check reads: block IDs, timestamps, commit signatures, commits, headers.

Mirrors cometbft ``types/block.go`` (``BlockID``, ``PartSetHeader``, ``CommitSig``, ``Commit``,
``Commit.GetVote`` / ``VoteSignBytes``) and ``types/block.go`` ``BlockIDFlag``. Only the fields that
verification needs are kept; parsing lives in ``verifier.cometbft.parse``.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Sequence
from typing import NamedTuple

from verifier.cometbft.signbytes import (
    PRECOMMIT_TYPE,
    canonical_vote_prefix,
    canonical_vote_sign_bytes,
    chain_id_field,
    timestamp_field_cached,
    uvarint,
)

__all__ = [
    "BlockIDFlag",
    "PartSetHeader",
    "BlockID",
    "Timestamp",
    "CommitSig",
    "Header",
    "Commit",
    "ZERO_TIME",
    "ZERO_BLOCK_ID",
    "MIN_TIMESTAMP_SECONDS",
    "MAX_TIMESTAMP_SECONDS",
]

_UNIX_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


class BlockIDFlag(enum.IntEnum):
    """cometbft ``types.BlockIDFlag`` (proto ``BlockIDFlag``); 0 (UNKNOWN) is never valid in a commit."""

    ABSENT = 1  # the validator did not vote: no signature
    COMMIT = 2  # voted for the commit's block ID
    NIL = 3  # voted nil: signed a vote with a zero block ID


@dataclasses.dataclass(frozen=True)
class PartSetHeader:
    total: int  # uint32
    hash: bytes  # empty or 32 bytes

    def is_zero(self) -> bool:
        """cometbft ``PartSetHeader.IsZero``: total 0 and an empty hash."""
        return self.total == 0 and not self.hash


@dataclasses.dataclass(frozen=True)
class BlockID:
    hash: bytes  # empty or 32 bytes
    part_set_header: PartSetHeader

    def is_zero(self) -> bool:
        """cometbft ``BlockID.IsZero``: the nil vote's block ID."""
        return not self.hash and self.part_set_header.is_zero()

    def __str__(self) -> str:
        # cometbft BlockID.String: "<hash>:<total>:<parts hash>" in upper-case hex.
        psh = self.part_set_header
        return f"{self.hash.hex().upper()}:{psh.total}:{psh.hash.hex().upper()}"


ZERO_BLOCK_ID = BlockID(b"", PartSetHeader(0, b""))


# google.protobuf.Timestamp's range, what gogoproto's StdTimeFromProto accepts (cosmos/gogoproto
# types/timestamp.go validateTimestamp, minValidSeconds / maxValidSeconds): 0001-01-01T00:00:00Z up to,
# not including, 10000-01-01T00:00:00Z; nanos in [0, 1e9).
MIN_TIMESTAMP_SECONDS = -62135596800
MAX_TIMESTAMP_SECONDS = 253402300800  # exclusive


class Timestamp(NamedTuple):
    """google.protobuf.Timestamp: seconds since the Unix epoch (int64) and nanos in [0, 1e9).

    Construction checks nothing; ``verifier.cometbft.parse`` (``make_commit_sig``, ``parse_timestamp``)
    refuses what CometBFT cannot decode: seconds outside [``MIN_TIMESTAMP_SECONDS``,
    ``MAX_TIMESTAMP_SECONDS``) (years 0001 to 9999) or nanos outside [0, 1e9).

    A NamedTuple (immutable, ordered by (seconds, nanos)), not a frozen dataclass: a commit builds one per
    signature, and a frozen dataclass costs about three times as much to construct."""

    seconds: int
    nanos: int = 0

    def rfc3339(self) -> str:
        """RFC 3339 in UTC with the fraction trimmed, as Go's ``time.RFC3339Nano`` prints it."""
        days, rem = divmod(self.seconds, 86400)
        date = datetime.date.fromordinal(days + _UNIX_EPOCH_ORDINAL)
        hh, rem = divmod(rem, 3600)
        mm, ss = divmod(rem, 60)
        frac = f".{self.nanos:09d}".rstrip("0") if self.nanos else ""
        return f"{date.year:04d}-{date.month:02d}-{date.day:02d}T{hh:02d}:{mm:02d}:{ss:02d}{frac}Z"


# Go's zero time.Time, 0001-01-01T00:00:00Z: what an absent CommitSig carries.
ZERO_TIME = Timestamp(-62135596800, 0)


class CommitSig(NamedTuple):
    """One entry of ``Commit.Signatures`` (cometbft ``types.CommitSig``); a NamedTuple like ``Timestamp``."""

    block_id_flag: BlockIDFlag
    validator_address: bytes  # 20 bytes, empty when absent
    timestamp: Timestamp
    signature: bytes  # empty when absent; 64 bytes for a well-formed Ed25519 signature

    @property
    def absent(self) -> bool:
        return self.block_id_flag == BlockIDFlag.ABSENT


@dataclasses.dataclass(frozen=True)
class Header:
    """The header fields a commit check uses (from ``/commit``'s ``signed_header.header``)."""

    chain_id: str
    height: int
    validators_hash: bytes
    next_validators_hash: bytes = b""


@dataclasses.dataclass(frozen=True)
class Commit:
    """cometbft ``types.Commit``, plus the header when it came inside a signed header."""

    height: int
    round: int
    block_id: BlockID
    signatures: tuple[CommitSig, ...]
    header: Header | None = None

    def __len__(self) -> int:
        return len(self.signatures)

    def vote_block_id(self, idx: int) -> BlockID:
        """cometbft ``CommitSig.BlockID``: the commit's block ID for COMMIT, the zero block ID otherwise."""
        if self.signatures[idx].block_id_flag == BlockIDFlag.COMMIT:
            return self.block_id
        return ZERO_BLOCK_ID

    def vote_sign_bytes(self, chain_id: str, idx: int) -> bytes:
        """cometbft ``Commit.VoteSignBytes(chainID, valIdx)``: the bytes validator ``idx`` signed.

        ``Commit.GetVote`` rebuilds the precommit (type, height, round, ``CommitSig.BlockID``, the entry's
        own timestamp) and ``VoteSignBytes`` (types/vote.go) length-prefixes its ``CanonicalVote``.
        Meaningless for an ABSENT entry, which signed nothing.
        """
        sig = self.signatures[idx]
        return canonical_vote_sign_bytes(
            chain_id,
            vote_type=PRECOMMIT_TYPE,
            height=self.height,
            round=self.round,
            block_id=_canonical_block_id(self.vote_block_id(idx)),
            timestamp=(sig.timestamp.seconds, sig.timestamp.nanos),
        )

    def vote_sign_bytes_many(self, chain_id: str, indices: Sequence[int]) -> list[bytes]:
        """``vote_sign_bytes`` for many entries, equal byte for byte, sharing the common parts.

        Every entry's ``CanonicalVote`` is one of two prefixes (type, height, round and block ID: COMMIT or
        NIL) and one suffix (chain ID) around the entry's own timestamp; each prefix is built once.
        """
        suffix = chain_id_field(chain_id)
        prefixes: dict[BlockIDFlag, bytes] = {}
        seconds_fields: dict[int, bytes] = {}
        out: list[bytes] = []
        for idx in indices:
            sig = self.signatures[idx]
            prefix = prefixes.get(sig.block_id_flag)
            if prefix is None:
                prefix = prefixes[sig.block_id_flag] = canonical_vote_prefix(
                    PRECOMMIT_TYPE, self.height, self.round, _canonical_block_id(self.vote_block_id(idx))
                )
            vote = prefix + timestamp_field_cached(*sig.timestamp, seconds_fields) + suffix
            out.append(uvarint(len(vote)) + vote)  # uvarint_prefixed, without the call: one per validator
        return out


def _canonical_block_id(block_id: BlockID) -> tuple[bytes, int, bytes] | None:
    """cometbft ``CanonicalizeBlockID`` (types/canonical.go): nil for a zero block ID."""
    if block_id.is_zero():
        return None
    return (block_id.hash, block_id.part_set_header.total, block_id.part_set_header.hash)
