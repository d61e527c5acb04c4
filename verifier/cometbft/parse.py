"""Parsing what a CometBFT node's RPC serves: ``/commit`` and ``/validators`` JSON (0.34, 0.37, 0.38).

Accepted shapes:

- ``/commit``: the whole JSON-RPC envelope ``{"jsonrpc", "id", "result": {"signed_header": {"header",
  "commit"}, "canonical"}}``, its ``result``, the ``signed_header``, or the bare commit object.
- ``/validators``: the envelope, its ``result`` (``{"block_height", "validators", "count", "total"}``), a
  list of such pages (the endpoint paginates: 30 per page by default, at most 100), or a bare list of
  validator objects ``{"address", "pub_key": {"type": "tendermint/PubKeyEd25519", "value"}, "voting_power",
  "proposer_priority"}``.

Strings or bytes are decoded as JSON first. Numbers may come as JSON numbers or decimal strings (the RPC
writes int64 as strings). Any problem raises ``InvalidRequestError`` with a message that names the field,
e.g. ``signatures[3].timestamp: not RFC 3339``. Checks follow cometbft ``Commit.ValidateBasic`` and
``CommitSig.ValidateBasic`` (types/block.go), which CometBFT requires before ``VerifyCommit*``; a
signature of a wrong length (1 to 63 bytes) is not a parse error but that entry's invalid signature.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import json
import re
import sys
from collections.abc import Mapping
from typing import Any

from verifier.cometbft.types import (
    MAX_TIMESTAMP_SECONDS,
    MIN_TIMESTAMP_SECONDS,
    ZERO_TIME,
    BlockID,
    BlockIDFlag,
    Commit,
    CommitSig,
    Header,
    PartSetHeader,
    Timestamp,
)
from verifier.cometbft.valset import Validator, ValidatorSet
from verifier.errors import InvalidRequestError
from verifier.ints import INT64_MAX
from verifier.text import quote

__all__ = [
    "parse_commit",
    "parse_validators",
    "parse_timestamp",
    "parse_block_id",
    "load_json",
    "timestamp_problem",
    "make_block_id",
    "make_commit_sig",
    "make_commit",
    "make_header",
]

_ADDRESS_SIZE = 20
_HASH_SIZE = 32  # tmhash.Size
_MAX_SIGNATURE_SIZE = 64  # types.MaxSignatureSize
_INT32_MAX = (1 << 31) - 1
_UINT32_MAX = (1 << 32) - 1
_ED25519_KEY_TYPE = "tendermint/PubKeyEd25519"
_UNIX_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_DAYS_PER_400_YEARS = 146097  # the Gregorian calendar repeats every 400 years
_NANOS_PER_SECOND = 1_000_000_000
# ASCII digits only: Python's \d would also match other scripts' digits, which Go's time.Parse refuses.
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_RFC3339_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z")
_FLAGS: dict[int | str, BlockIDFlag] = {
    **{f: f for f in BlockIDFlag},
    **{str(int(f)): f for f in BlockIDFlag},
    **{f"BLOCK_ID_FLAG_{f.name}": f for f in BlockIDFlag},
}
_ANY_SIZE = tuple(range(65))  # any length: checked against the flag afterwards


def load_json(doc: Any, what: str) -> Any:
    """``doc`` decoded when it is JSON text (str, bytes); other values are returned as they are."""
    if isinstance(doc, (bytes, bytearray, memoryview)):
        try:
            doc = bytes(doc).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequestError(f"{what}: not UTF-8 JSON ({exc})") from None
    if isinstance(doc, str):
        try:
            return json.loads(doc)
        except json.JSONDecodeError as exc:
            raise InvalidRequestError(f"{what}: not JSON ({exc})") from None
        except RecursionError:  # hostile input: thousands of nested arrays or objects
            raise InvalidRequestError(f"{what}: JSON nested too deeply") from None
        except ValueError:  # an integer beyond Python's int/str conversion limit (4300 digits)
            raise InvalidRequestError(
                f"{what}: not JSON that can be read (an integer of more than "
                f"{sys.get_int_max_str_digits()} digits)"
            ) from None
    return doc


# ----------------------------------------------------------------------------------------- scalars


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidRequestError(f"{where}: expected an object, got {_kind(value)}")
    return value


def _field(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise InvalidRequestError(f"{_join(where, key)}: missing")
    return obj[key]


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    """A JSON number or decimal string (the RPC's int64) in [lo, hi]; booleans and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidRequestError(f"{where}: expected an integer or a decimal string, got {_kind(value)}")
    if isinstance(value, str):
        if not re.fullmatch(r"-?[0-9]{1,20}", value):
            raise InvalidRequestError(f"{where}: {quote(value)} is not a decimal integer")
        value = int(value)
    number = int(value)
    if not lo <= number <= hi:
        raise InvalidRequestError(f"{where}: {quote(number)} is out of range [{lo}, {hi}]")
    return number


def _from_hex(value: Any, where: str, sizes: tuple[int, ...], key: str = "") -> bytes:
    """Hex of one of ``sizes`` bytes. The field is ``where.key`` (joined only for an error message)."""
    if isinstance(value, str):
        try:
            out = bytes.fromhex(value)
        except ValueError:
            out = None
        if out is not None and len(out) in sizes:
            return out
    where = _join(where, key) if key else where
    if not isinstance(value, str):
        raise InvalidRequestError(f"{where}: expected a hex string, got {_kind(value)}")
    try:
        out = bytes.fromhex(value)
    except ValueError:
        raise InvalidRequestError(f"{where}: not hex") from None
    if len(out) not in sizes:
        want = " or ".join(str(s) for s in sizes)
        raise InvalidRequestError(f"{where}: {len(out)} bytes, expected {want}")
    return out


def _base64(value: Any, where: str, key: str = "") -> bytes:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    where = _join(where, key) if key else where
    if not isinstance(value, str):
        raise InvalidRequestError(f"{where}: expected a base64 string, got {_kind(value)}")
    raise InvalidRequestError(f"{where}: not base64")


@functools.lru_cache(maxsize=1024)
def _days_since_epoch(date: str) -> int:
    """Days from 1970-01-01 to ``date`` (``YYYY-MM-DD``, ASCII digits); ValueError for no such day. Cached:
    a commit's votes fall on one or two dates."""
    year, month, day = int(date[:4]), int(date[5:7]), int(date[8:10])
    if year == 0:  # Go parses year 0000 (datetime does not); with an offset it can still be year 1 in UTC
        return datetime.date(400, month, day).toordinal() - _UNIX_EPOCH_ORDINAL - _DAYS_PER_400_YEARS
    return datetime.date(year, month, day).toordinal() - _UNIX_EPOCH_ORDINAL


def timestamp_problem(seconds: int, nanos: int) -> str | None:
    """What gogoproto's ``StdTimeFromProto`` refuses in a google.protobuf.Timestamp (cosmos/gogoproto
    types/timestamp.go ``validateTimestamp``, in its order: seconds, then nanos), or None."""
    if not MIN_TIMESTAMP_SECONDS <= seconds < MAX_TIMESTAMP_SECONDS:
        return (
            f"seconds {quote(seconds)} is outside years 0001-9999 "
            f"(seconds in [{MIN_TIMESTAMP_SECONDS}, {MAX_TIMESTAMP_SECONDS}))"
        )
    if not 0 <= nanos < _NANOS_PER_SECOND:
        return f"nanos {quote(nanos)} is outside [0, 1e9)"
    return None


def parse_timestamp(value: Any, where: str = "timestamp") -> Timestamp:
    """RFC 3339 with up to nanosecond precision (Go ``time.RFC3339Nano``) -> seconds and nanos (UTC).

    The instant must lie in years 0001 to 9999 in UTC, the range a google.protobuf.Timestamp may hold
    (``timestamp_problem``): CometBFT could not encode another into sign bytes."""
    out = _rfc3339(value)
    if isinstance(out, str):
        raise InvalidRequestError(f"{where}: {out}")
    return out


def _rfc3339(value: Any) -> Timestamp | str:
    """The timestamp, or what is wrong with ``value``."""
    if not isinstance(value, str):
        return f"expected an RFC 3339 string, got {_kind(value)}"
    if _RFC3339_UTC.fullmatch(value) is not None:  # the form nodes write: the seconds part is cached
        seconds = _utc_seconds(value[:19])
        if seconds is not None:
            return Timestamp(seconds, int(value[20:-1].ljust(9, "0")) if len(value) > 20 else 0)
    return _rfc3339_any(value)


@functools.lru_cache(maxsize=1024)
def _utc_seconds(prefix: str) -> int | None:
    """Seconds since the epoch of ``YYYY-MM-DDTHH:MM:SS`` in UTC, or None when ``_rfc3339_any`` refuses it
    (then it also refuses it with any fraction: the fraction changes neither the date nor the range).
    Cached: a commit's votes fall within a few seconds of each other."""
    out = _rfc3339_any(prefix + "Z")
    return out.seconds if isinstance(out, Timestamp) else None


def _rfc3339_any(value: str) -> Timestamp | str:
    """``_rfc3339`` for a string, every form (offsets, lower-case t and z) and every error message."""
    m = _RFC3339.fullmatch(value)
    if m is None:
        return f"not RFC 3339: {quote(value)}"
    date, hh, mi, ss, frac, sign, oh, om = m.groups()
    hour, minute, second = int(hh), int(mi), int(ss)
    try:
        days = _days_since_epoch(date)
    except ValueError as exc:
        return f"not RFC 3339: {quote(value)} ({exc})"
    if hour > 23 or minute > 59 or second > 59:
        return f"not RFC 3339: {quote(value)} (time of day out of range)"
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    if sign is not None:
        offset_h, offset_m = int(oh), int(om)
        if offset_h > 23 or offset_m > 59:
            return f"not RFC 3339: {quote(value)} (offset out of range)"
        offset = offset_h * 3600 + offset_m * 60
        seconds -= offset if sign == "+" else -offset
    nanos = 0 if frac is None else int(frac.ljust(9, "0"))
    if not MIN_TIMESTAMP_SECONDS <= seconds < MAX_TIMESTAMP_SECONDS:
        return f"{quote(value)} is outside years 0001-9999 in UTC"
    return Timestamp(seconds, nanos)


# ------------------------------------------------------------------------------------------ commit


def parse_block_id(value: Any, where: str = "block_id") -> BlockID:
    """``{"hash": hex, "parts": {"total", "hash": hex}}`` (``part_set_header`` accepted for ``parts``)."""
    obj = _obj(value, where)
    block_hash = _from_hex(obj.get("hash", ""), _join(where, "hash"), (0, _HASH_SIZE))
    parts_key = "parts" if "parts" in obj else "part_set_header"
    parts_where = _join(where, parts_key)
    parts = _obj(obj.get(parts_key, {}), parts_where)
    total = _int(parts.get("total", 0), _join(parts_where, "total"), 0, _UINT32_MAX)
    parts_hash = _from_hex(parts.get("hash", ""), _join(parts_where, "hash"), (0, _HASH_SIZE))
    return BlockID(block_hash, PartSetHeader(total, parts_hash))


def make_block_id(block_hash: bytes, total: int, parts_hash: bytes, where: str = "block_id") -> BlockID:
    """A ``BlockID`` from typed fields (a protobuf one), with the checks ``parse_block_id`` makes."""
    for key, value in (("hash", block_hash), ("part_set_header.hash", parts_hash)):
        if len(value) not in (0, _HASH_SIZE):
            raise InvalidRequestError(f"{_join(where, key)}: {len(value)} bytes, expected 0 or {_HASH_SIZE}")
    if not 0 <= total <= _UINT32_MAX:
        raise InvalidRequestError(f"{_join(where, 'part_set_header.total')}: {quote(total)} is out of range")
    return BlockID(bytes(block_hash), PartSetHeader(total, bytes(parts_hash)))


def _block_id_flag(value: Any, where: str) -> BlockIDFlag:
    flag = _FLAGS.get(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    if flag is not None:
        return flag
    raise InvalidRequestError(
        f"{_join(where, 'block_id_flag')}: unknown BlockIDFlag {quote(value)} "
        "(1 or BLOCK_ID_FLAG_ABSENT, 2 or BLOCK_ID_FLAG_COMMIT, "
        "3 or BLOCK_ID_FLAG_NIL)"
    )


def _commit_sig(value: Any, where: str) -> CommitSig:
    obj = _obj(value, where)
    if "block_id_flag" not in obj:
        raise InvalidRequestError(f"{_join(where, 'block_id_flag')}: missing")
    flag = _block_id_flag(obj["block_id_flag"], where)
    address = _from_hex(obj.get("validator_address") or "", where, _ANY_SIZE, "validator_address")
    raw_ts = obj.get("timestamp")
    timestamp = ZERO_TIME if raw_ts is None else _timestamp(raw_ts, where)
    raw_sig = obj.get("signature")
    signature = b"" if raw_sig is None else _base64(raw_sig, where, "signature")
    return make_commit_sig(flag, address, timestamp, signature, where)


def _commit_sigs(raw: list[Any], where: str) -> tuple[CommitSig, ...]:
    """``_commit_sig`` of every entry of ``raw`` (``where[i]`` in errors), the usual entry taken in one step.

    A commit is one entry per validator, so this loop is most of a commit's parsing. An entry a node
    writes for a vote (an object with an integer or named COMMIT or NIL flag, 20-byte hex address, RFC 3339
    timestamp, base64 signature of 1 to 64 bytes) is decoded here with the same decoders; anything else
    (absent entries, missing fields, every error) goes through ``_commit_sig``, which gives the same result
    for the entries taken here (tests/cometbft/test_parse.py checks both ways agree)."""
    out: list[CommitSig] = []
    append, flags, fromhex, b64decode, rfc3339 = out.append, _FLAGS, bytes.fromhex, base64.b64decode, _rfc3339
    for i, entry in enumerate(raw):
        if type(entry) is dict:
            flag = entry.get("block_id_flag")
            address, stamp, signature = (
                entry.get("validator_address"),
                entry.get("timestamp"),
                entry.get("signature"),
            )
            if (
                (type(flag) is int or type(flag) is str)
                and type(address) is str
                and len(address) == 2 * _ADDRESS_SIZE
                and type(stamp) is str
                and type(signature) is str
            ):
                flag = flags.get(flag)
                if flag is BlockIDFlag.COMMIT or flag is BlockIDFlag.NIL:
                    try:
                        raw_address = fromhex(address)
                        raw_signature = b64decode(signature, validate=True)
                    except (binascii.Error, ValueError):
                        raw_address = raw_signature = b""
                    timestamp = rfc3339(stamp)
                    if (
                        type(timestamp) is Timestamp
                        and len(raw_address) == _ADDRESS_SIZE
                        and 0 < len(raw_signature) <= _MAX_SIGNATURE_SIZE
                    ):
                        append(CommitSig(flag, raw_address, timestamp, raw_signature))
                        continue
        append(_commit_sig(entry, f"{where}[{i}]"))
    return tuple(out)


def make_commit_sig(
    flag: Any, address: bytes, timestamp: Timestamp, signature: bytes, where: str, index: int | None = None
) -> CommitSig:
    """One ``CommitSig`` from typed fields, checked as cometbft ``CommitSig.ValidateBasic`` does, after
    the timestamp check that decoding a protobuf CommitSig makes (``timestamp_problem``: gogoproto's
    ``StdTimeFromProto`` refuses seconds outside years 0001-9999 and nanos outside [0, 1e9), before
    anything else is looked at).

    ``where`` (with ``[index]`` appended when given) names the entry in errors; the name is only built
    for an error, since a commit checks one entry per validator."""
    if (
        (flag == BlockIDFlag.COMMIT or flag == BlockIDFlag.NIL)
        and len(address) == _ADDRESS_SIZE
        and 0 < len(signature) <= _MAX_SIGNATURE_SIZE
        and MIN_TIMESTAMP_SECONDS <= timestamp.seconds < MAX_TIMESTAMP_SECONDS
        and 0 <= timestamp.nanos < _NANOS_PER_SECOND
        and type(flag) is not bool
    ):
        return CommitSig(_FLAGS[flag], bytes(address), timestamp, bytes(signature))  # the usual entry
    if index is not None:
        where = f"{where}[{index}]"
    problem = timestamp_problem(timestamp.seconds, timestamp.nanos)
    if problem is not None:
        raise InvalidRequestError(f"{_join(where, 'timestamp')}: {problem}")
    flag = _block_id_flag(flag, where)
    if flag == BlockIDFlag.ABSENT:
        if address:
            raise InvalidRequestError(
                f"{_join(where, 'validator_address')}: present in an absent (flag 1) entry"
            )
        if timestamp != ZERO_TIME:
            raise InvalidRequestError(f"{_join(where, 'timestamp')}: present in an absent (flag 1) entry")
        if signature:
            raise InvalidRequestError(f"{_join(where, 'signature')}: present in an absent (flag 1) entry")
    else:
        if len(address) != _ADDRESS_SIZE:
            raise InvalidRequestError(
                f"{_join(where, 'validator_address')}: {len(address)} bytes, expected {_ADDRESS_SIZE}"
            )
        if not signature:
            raise InvalidRequestError(f"{_join(where, 'signature')}: missing")
        if len(signature) > _MAX_SIGNATURE_SIZE:
            raise InvalidRequestError(
                f"{_join(where, 'signature')}: {len(signature)} bytes, at most {_MAX_SIGNATURE_SIZE}"
            )
    return CommitSig(flag, bytes(address), timestamp, bytes(signature))


def _timestamp(value: Any, where: str) -> Timestamp:
    out = _rfc3339(value)
    if isinstance(out, str):
        raise InvalidRequestError(f"{_join(where, 'timestamp')}: {out}")
    return out


def _header(value: Any, where: str) -> Header:
    obj = _obj(value, where)
    chain_id = _field(obj, "chain_id", where)
    if not isinstance(chain_id, str):
        raise InvalidRequestError(f"{_join(where, 'chain_id')}: expected a string, got {_kind(chain_id)}")
    height = _int(_field(obj, "height", where), _join(where, "height"), 0, INT64_MAX)
    vals_hash = _from_hex(obj.get("validators_hash", ""), _join(where, "validators_hash"), (0, _HASH_SIZE))
    next_hash = _from_hex(
        obj.get("next_validators_hash", ""), _join(where, "next_validators_hash"), (0, _HASH_SIZE)
    )
    return Header(chain_id, height, vals_hash, next_hash)


def make_header(chain_id: str, height: int, validators_hash: bytes, where: str = "header") -> Header:
    """The header fields a commit check uses, from typed fields, with ``_header``'s checks."""
    if not 0 <= height <= INT64_MAX:
        raise InvalidRequestError(
            f"{_join(where, 'height')}: {quote(height)} is out of range [0, {INT64_MAX}]"
        )
    if len(validators_hash) not in (0, _HASH_SIZE):
        raise InvalidRequestError(
            f"{_join(where, 'validators_hash')}: {len(validators_hash)} bytes, expected 0 or {_HASH_SIZE}"
        )
    return Header(chain_id, height, bytes(validators_hash))


def _commit_object(obj: Mapping[str, Any], where: str, header: Header | None) -> Commit:
    """A ``Commit``, checked as cometbft ``Commit.ValidateBasic`` does."""
    height = _int(_field(obj, "height", where), _join(where, "height"), 0, INT64_MAX)
    round_ = _int(obj.get("round", 0), _join(where, "round"), 0, _INT32_MAX)
    block_id = parse_block_id(_field(obj, "block_id", where), _join(where, "block_id"))
    raw_sigs = _field(obj, "signatures", where)
    sigs_where = _join(where, "signatures")
    if not isinstance(raw_sigs, list):
        raise InvalidRequestError(f"{sigs_where}: expected a list, got {_kind(raw_sigs)}")
    signatures = _commit_sigs(raw_sigs, sigs_where)
    return make_commit(height, round_, block_id, signatures, header, where)


def make_commit(
    height: int,
    round_: int,
    block_id: BlockID,
    signatures: tuple[CommitSig, ...],
    header: Header | None,
    where: str = "",
) -> Commit:
    """A ``Commit`` from checked parts, checked as cometbft ``Commit.ValidateBasic`` does."""
    if not 0 <= height <= INT64_MAX:
        raise InvalidRequestError(
            f"{_join(where, 'height')}: {quote(height)} is out of range [0, {INT64_MAX}]"
        )
    if not 0 <= round_ <= _INT32_MAX:
        raise InvalidRequestError(
            f"{_join(where, 'round')}: {quote(round_)} is out of range [0, {_INT32_MAX}]"
        )
    if height >= 1:
        if block_id.is_zero():
            raise InvalidRequestError(f"{_join(where, 'block_id')}: a commit cannot be for the nil block")
        if not signatures:
            raise InvalidRequestError(f"{_join(where, 'signatures')}: no signatures in commit")
    return Commit(height, round_, block_id, signatures, header)


def parse_commit(doc: Any) -> Commit:
    """A ``/commit`` answer (envelope, result, signed header) or a bare commit object -> ``Commit``.

    When a header came with it, ``Commit.header`` holds its chain ID, height and validators hash.
    Field names in errors are relative to the commit (``signatures[3].timestamp``) or the header
    (``header.height``).
    """
    obj = _obj(load_json(doc, "commit"), "commit")
    if "result" in obj:
        obj = _obj(obj["result"], "result")
    if "signed_header" in obj:
        obj = _obj(obj["signed_header"], "signed_header")
    if "commit" in obj:
        header = _header(obj["header"], "header") if obj.get("header") is not None else None
        return _commit_object(_obj(obj["commit"], "commit"), "", header)
    if "signatures" in obj:
        return _commit_object(obj, "", None)
    raise InvalidRequestError(
        "commit: expected a /commit answer (result.signed_header.commit) or a commit object "
        f"(height, round, block_id, signatures); got keys [{', '.join(quote(k) for k in sorted(obj)[:8])}]"
    )


# -------------------------------------------------------------------------------------- validators


def _validator(value: Any, where: str) -> Validator:
    obj = _obj(value, where)
    pk_where = _join(where, "pub_key")
    pk = _obj(_field(obj, "pub_key", where), pk_where)
    key_type = pk.get("type")
    if key_type != _ED25519_KEY_TYPE:
        raise InvalidRequestError(
            f"{_join(pk_where, 'type')}: {quote(key_type)} is not supported (only {_ED25519_KEY_TYPE!r})"
        )
    pub_key = _base64(_field(pk, "value", pk_where), _join(pk_where, "value"))
    if len(pub_key) != 32:
        raise InvalidRequestError(f"{_join(pk_where, 'value')}: {len(pub_key)} bytes, an Ed25519 key is 32")
    power_key = "voting_power" if "voting_power" in obj or "power" not in obj else "power"  # genesis: "power"
    power = _int(_field(obj, power_key, where), _join(where, power_key), 0, INT64_MAX)
    if "address" in obj:
        address = _from_hex(obj["address"], _join(where, "address"), (_ADDRESS_SIZE,))
        return Validator(address, pub_key, power)
    return Validator.from_pub_key(pub_key, power)


def _page(value: Any, where: str) -> tuple[list[Any], Mapping[str, Any], str]:
    obj = _obj(value, where)
    if "result" in obj:
        where = _join(where, "result")
        obj = _obj(obj["result"], where)
    raw = _field(obj, "validators", where)
    if not isinstance(raw, list):
        raise InvalidRequestError(f"{_join(where, 'validators')}: expected a list, got {_kind(raw)}")
    if "count" in obj:
        count = _int(obj["count"], _join(where, "count"), 0, INT64_MAX)
        if count != len(raw):
            raise InvalidRequestError(
                f"{_join(where, 'count')}: {count}, but the page lists {len(raw)} validators"
            )
    return raw, obj, where


def parse_validators(doc: Any) -> ValidatorSet:
    """A ``/validators`` answer (or a list of its pages, or a bare list of validators) -> ``ValidatorSet``.

    Pages are concatenated in the order given; when pages carry ``total`` and ``block_height`` they must
    agree and the pages must add up to ``total``. The set keeps the order served (which is the order
    commit signatures follow). Field names in errors: ``validators[i].pub_key.value`` (numbered over the
    whole set), ``pages[p].total``.
    """
    data = load_json(doc, "validators")
    if isinstance(data, Mapping):
        pages = [_page(data, "")]
    elif (
        isinstance(data, list)
        and data
        and all(isinstance(p, Mapping) and ("validators" in p or "result" in p) for p in data)
    ):
        pages = [_page(p, f"pages[{i}]") for i, p in enumerate(data)]
    elif isinstance(data, list):
        pages = [(data, {}, "")]
    else:
        raise InvalidRequestError(f"validators: expected a /validators answer or a list, got {_kind(data)}")
    items: list[Any] = []
    total: int | None = None
    height: int | None = None
    for raw, meta, where in pages:
        items.extend(raw)
        if "total" in meta:
            t = _int(meta["total"], _join(where, "total"), 0, INT64_MAX)
            if total is not None and t != total:
                raise InvalidRequestError(f"{_join(where, 'total')}: {t}, but an earlier page says {total}")
            total = t
        if "block_height" in meta:
            h = _int(meta["block_height"], _join(where, "block_height"), 0, INT64_MAX)
            if height is not None and h != height:
                raise InvalidRequestError(
                    f"{_join(where, 'block_height')}: {h}, but an earlier page is for height {height}"
                )
            height = h
    if total is not None and total != len(items):
        raise InvalidRequestError(
            f"validators: the pages list {len(items)} validators but total is {total} (a page is missing?)"
        )
    return ValidatorSet(_validator(v, f"validators[{i}]") for i, v in enumerate(items))
