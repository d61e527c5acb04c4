"""An independent reference for CometBFT commits, written from docs/RULES.md section 4, and a commit generator.

Nothing here imports ``verifier.cometbft``: the sign bytes, the set hash and the tally are written again,
plainly, so the differential tests compare two implementations.

``ref_sign_bytes``     uvarint(len) || CanonicalVote, from a list of (field, wire type, value) triples.
``ref_validators_hash`` Merkle root (RFC 6962) over SimpleValidator bytes.
``ref_tally``          the decision of VerifyCommit / VerifyCommitLight / VerifyCommitLightTrusting given
                       which signatures are good (an oracle: the generator knows what it planted, or
                       ``tests/support/ed25519_ref.verify_zip215``), with CometBFT's order of errors.
``generate``           a random multi-validator commit signed with PyNaCl, as the JSON a node serves
                       (``/commit`` and ``/validators``), with planted faults recorded.
"""

from __future__ import annotations

import base64
import ctypes
import dataclasses
import hashlib
import random
import struct
from collections.abc import Callable, Sequence
from typing import Any

import nacl.signing

__all__ = [
    "ABSENT",
    "COMMIT",
    "NIL",
    "RefValidator",
    "RefEntry",
    "RefOutcome",
    "ref_sign_bytes",
    "ref_validators_hash",
    "ref_address",
    "ref_tally",
    "ref_trusting_needed",
    "TRUST_LEVEL_OVERFLOW",
    "INVALID_TRUST_LEVEL",
    "format_rfc3339",
    "Generated",
    "generate",
    "key_pool",
    "MAX_TOTAL",
]

ABSENT, COMMIT, NIL = 1, 2, 3
ED25519_L = 2**252 + 27742317777372353535851937790883648493
MAX_TOTAL = (2**63 - 1) // 8  # cometbft MaxTotalVotingPower
_ZERO_TIME = (-62135596800, 0)
_VARINT, _I64, _LEN = 0, 1, 2


# ------------------------------------------------------------------------------------ protobuf


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def _encode(fields: Sequence[tuple[int, int, Any]]) -> bytes:
    """proto3 encoding of (number, wire type, value); ``None`` is an absent field. A value that is a list
    is an embedded message (written even when empty); zero ints and empty bytes are left out."""
    out = b""
    for number, wire, value in fields:
        if value is None:
            continue
        key = _varint(number << 3 | wire)
        if isinstance(value, list):
            body = _encode(value)
            out += key + _varint(len(body)) + body
        elif wire == _VARINT:
            if value:
                out += key + _varint(value)
        elif wire == _I64:
            if value:
                out += key + struct.pack("<q", value)
        else:
            if value:
                out += key + _varint(len(value)) + value
    return out


def ref_sign_bytes(
    chain_id: str,
    height: int,
    round_: int,
    block_hash: bytes,
    parts_total: int,
    parts_hash: bytes,
    timestamp: tuple[int, int],
    vote_type: int = 2,
) -> bytes:
    """docs/RULES.md section 4: the CanonicalVote of a precommit; a zero block ID (nil vote) leaves field 4 out."""
    is_nil = not block_hash and parts_total == 0 and not parts_hash
    block_id = (
        None
        if is_nil
        else [(1, _LEN, block_hash), (2, _LEN, [(1, _VARINT, parts_total), (2, _LEN, parts_hash)])]
    )
    body = _encode(
        [
            (1, _VARINT, vote_type),
            (2, _I64, height),
            (3, _I64, round_),
            (4, _LEN, block_id),
            (5, _LEN, [(1, _VARINT, timestamp[0]), (2, _VARINT, timestamp[1])]),
            (6, _LEN, chain_id.encode()),
        ]
    )
    return _varint(len(body)) + body


def ref_address(pub_key: bytes) -> bytes:
    return hashlib.sha256(pub_key).digest()[:20]


def ref_validators_hash(validators: Sequence[tuple[bytes, int]]) -> bytes:
    """Merkle root over SimpleValidator{1: PublicKey{1: ed25519}, 2: power} of (pub_key, power) pairs."""
    leaves = [_encode([(1, _LEN, [(1, _LEN, pk)]), (2, _VARINT, power)]) for pk, power in validators]

    def root(items: list[bytes]) -> bytes:
        if not items:
            return hashlib.sha256(b"").digest()
        if len(items) == 1:
            return hashlib.sha256(b"\x00" + items[0]).digest()
        split = 1
        while split * 2 < len(items):
            split *= 2
        return hashlib.sha256(b"\x01" + root(items[:split]) + root(items[split:])).digest()

    return root(leaves)


def format_rfc3339(seconds: int, nanos: int) -> str:
    """Go's RFC3339Nano in UTC (trailing zeros of the fraction dropped)."""
    import datetime

    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    frac = ("." + f"{nanos:09d}".rstrip("0")) if nanos else ""
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}{frac}Z"


# ---------------------------------------------------------------------------------------- tally

INVALID_TRUST_LEVEL = "INVALID_TRUST_LEVEL"  # light.ValidateTrustLevel refuses it
TRUST_LEVEL_OVERFLOW = "TRUST_LEVEL_OVERFLOW"  # "int64 overflow while calculating voting power needed"
_MAX_INT64 = 2**63 - 1


def _u64(x: int) -> int:
    return ctypes.c_uint64(x).value  # Go uint64 arithmetic: wraps mod 2^64


def _i64(x: int) -> int:
    return ctypes.c_int64(x).value  # Go int64(...) and int64 arithmetic: two's complement, wraps


def _go_div(a: int, b: int) -> int:
    """Go's int64 a / b: the quotient truncated toward zero (then wrapped: MinInt64 / -1 is MinInt64)."""
    q = abs(a) // abs(b)
    return _i64(q if (a >= 0) == (b >= 0) else -q)


def _go_safe_mul(a: int, b: int) -> tuple[int, bool]:
    """cometbft types/validator_set.go safeMul, line by line, on int64 values."""
    if a == 0 or b == 0:
        return 0, False
    abs_of_b = b
    if b < 0:
        abs_of_b = _i64(-b)
    abs_of_a = a
    if a < 0:
        abs_of_a = _i64(-a)
    if abs_of_a > _go_div(_MAX_INT64, abs_of_b):
        return 0, True
    return _i64(a * b), False


def ref_trusting_needed(total: int, trust: tuple[int, int]) -> int | str:
    """light.ValidateTrustLevel, then verifyCommitLightTrustingInternal's votingPowerNeeded, on the trust
    level's uint64 terms as given (unreduced); an error name (``INVALID_TRUST_LEVEL``,
    ``TRUST_LEVEL_OVERFLOW``) where CometBFT refuses."""
    num, den = trust
    if not (0 <= num < 2**64 and 0 <= den < 2**64):
        return INVALID_TRUST_LEVEL  # not a cmtmath.Fraction at all
    if _u64(num * 3) < den or num > den or den == 0:
        return INVALID_TRUST_LEVEL
    product, overflow = _go_safe_mul(total, _i64(num))
    if overflow:
        return TRUST_LEVEL_OVERFLOW
    return _go_div(product, _i64(den))


@dataclasses.dataclass(frozen=True)
class RefValidator:
    pub_key: bytes
    power: int

    @property
    def address(self) -> bytes:
        return ref_address(self.pub_key)


@dataclasses.dataclass(frozen=True)
class RefEntry:
    flag: int
    address: bytes
    timestamp: tuple[int, int]
    signature: bytes


@dataclasses.dataclass(frozen=True)
class RefOutcome:
    """``code``: None (valid) or an ErrorCode name; ``checked``: the entries whose signature is verified."""

    code: str | None
    index: int | None = None
    first_index: int | None = None
    got: int = 0
    needed: int = 0
    signed: int = 0
    checked: tuple[int, ...] = ()


def ref_tally(  # noqa: C901 - mirrors types/validation.go branch for branch, on purpose
    mode: str,
    validators: Sequence[RefValidator],
    entries: Sequence[RefEntry],
    *,
    sig_ok: Callable[[int, bytes], bool],
    commit_height: int,
    expected_height: int,
    commit_block_id: Any,
    expected_block_id: Any,
    trust: tuple[int, int] = (1, 3),
    header_hash_matches: bool = True,
) -> RefOutcome:
    """docs/RULES.md section 4, in CometBFT's order (types/validation.go).

    ``sig_ok(i, pub_key)``: whether entry i's signature verifies under ``pub_key`` (the key of the
    validator the mode pairs the entry with).

    full: by index, ABSENT skipped, every other entry's address must be validator i's and its signature
    is checked; only COMMIT power counts. light: by index, only COMMIT entries, stop once power > needed.
    trusting: COMMIT entries by address, unknown ones skipped, a repeat is an error, trust level.
    With 2 or more entries CometBFT batch-verifies: the walk's error, then the power check, then the first
    bad signature. With fewer: the first bad signature, the walk's error, the power check.
    Trusting: ``ref_trusting_needed`` (a refused trust level is the outcome's code, before anything else).
    """
    total = sum(v.power for v in validators)
    if mode == "trusting":
        trusting_needed = ref_trusting_needed(total, trust)
        if isinstance(trusting_needed, str):
            return RefOutcome(trusting_needed)
        needed = trusting_needed
    else:
        needed = total * 2 // 3
    if mode != "trusting":
        if not header_hash_matches:
            return RefOutcome("VALIDATORS_HASH_MISMATCH", needed=needed)
        if len(validators) != len(entries):
            return RefOutcome("WRONG_SET_SIZE", needed=needed)
        if expected_height != commit_height:
            return RefOutcome("WRONG_HEIGHT", needed=needed)
        if expected_block_id != commit_block_id:
            return RefOutcome("WRONG_BLOCK_ID", needed=needed)

    by_address = {v.address: k for k, v in enumerate(validators)}
    wanted_flags = {COMMIT, NIL} if mode == "full" else {COMMIT}
    checked: list[int] = []
    keys: list[bytes] = []
    powers: list[int] = []
    first_vote: dict[int, int] = {}
    got = 0
    walk_error: RefOutcome | None = None
    for i, e in enumerate(entries):
        if e.flag not in wanted_flags:
            continue
        if mode == "trusting":
            k = by_address.get(e.address)
            if k is None:
                continue
            if k in first_vote:
                walk_error = RefOutcome("DUPLICATE_SIGNER", index=i, first_index=first_vote[k])
                break
            first_vote[k] = i
        else:
            k = i
            if e.address != validators[k].address:
                walk_error = RefOutcome("ADDRESS_MISMATCH", index=i)
                break
        if len(e.signature) != 64:
            walk_error = RefOutcome("INVALID_SIGNATURE", index=i)
            break
        checked.append(i)
        keys.append(validators[k].pub_key)
        power = validators[k].power if e.flag == COMMIT else 0
        powers.append(power)
        got += power
        if mode != "full" and got > needed:
            break

    good = [sig_ok(i, key) for i, key in zip(checked, keys, strict=True)]
    bad = [i for i, ok in zip(checked, good, strict=True) if not ok]
    signed = sum(p for p, ok in zip(powers, good, strict=True) if ok)
    power_error = RefOutcome("INSUFFICIENT_POWER") if got <= needed else None
    sig_error = RefOutcome("INVALID_SIGNATURE", index=bad[0]) if bad else None
    if len(entries) >= 2:
        if walk_error is not None:
            return dataclasses.replace(walk_error, got=got, needed=needed, checked=())
        order = [power_error, sig_error]
    else:
        order = [sig_error, walk_error, power_error]
    first = next((o for o in order if o is not None), None)
    if first is None:
        return RefOutcome(None, got=got, needed=needed, signed=signed, checked=tuple(checked))
    return dataclasses.replace(first, got=got, needed=needed, signed=signed, checked=tuple(checked))


# ------------------------------------------------------------------------------------ generator

_KEYS: list[nacl.signing.SigningKey] = []


def key_pool(n: int) -> list[nacl.signing.SigningKey]:
    """n distinct signing keys (deterministic seeds, generated once per process)."""
    while len(_KEYS) < n:
        seed = hashlib.sha256(b"cometbft-ref-key-%d" % len(_KEYS)).digest()
        _KEYS.append(nacl.signing.SigningKey(seed))
    return _KEYS[:n]


@dataclasses.dataclass
class Generated:
    """A generated commit: reference values, the node's JSON, and what was planted."""

    chain_id: str
    height: int
    round: int
    block_hash: bytes
    parts_total: int
    parts_hash: bytes
    validators: list[RefValidator]
    entries: list[RefEntry]
    bad: set[int]  # entries whose signature does not verify (planted)
    notes: list[str]
    signer: list[bytes]  # the public key that signed entry i (b"" for absent)

    def sign_vote(self, pub_key: bytes, timestamp: tuple[int, int], for_block: bool = True) -> bytes:
        """The signature the validator with ``pub_key`` (a ``key_pool`` key) makes on this commit's
        precommit at ``timestamp``: for the block, or nil."""
        key = next(k for k in _KEYS if bytes(k.verify_key) == pub_key)
        bh, pt, ph = (self.block_hash, self.parts_total, self.parts_hash) if for_block else (b"", 0, b"")
        return key.sign(
            ref_sign_bytes(self.chain_id, self.height, self.round, bh, pt, ph, timestamp)
        ).signature

    def sig_ok(self, i: int, pub_key: bytes) -> bool:
        """The oracle: entry i verifies under ``pub_key`` iff it was not spoiled and that key signed it."""
        return i not in self.bad and pub_key == self.signer[i]

    def commit_json(
        self, *, header_validators_hash: bytes | None = None, flag_style: str = "int"
    ) -> dict[str, Any]:
        sigs = []
        names = {ABSENT: "BLOCK_ID_FLAG_ABSENT", COMMIT: "BLOCK_ID_FLAG_COMMIT", NIL: "BLOCK_ID_FLAG_NIL"}
        for e in self.entries:
            sigs.append(
                {
                    "block_id_flag": names[e.flag] if flag_style == "name" else e.flag,
                    "validator_address": e.address.hex().upper(),
                    "timestamp": format_rfc3339(*e.timestamp),
                    "signature": base64.b64encode(e.signature).decode() if e.signature else None,
                }
            )
        commit = {
            "height": str(self.height),
            "round": self.round,
            "block_id": {
                "hash": self.block_hash.hex().upper(),
                "parts": {"total": self.parts_total, "hash": self.parts_hash.hex().upper()},
            },
            "signatures": sigs,
        }
        vh = header_validators_hash if header_validators_hash is not None else self.validators_hash()
        header = {
            "version": {"block": "11", "app": "1"},
            "chain_id": self.chain_id,
            "height": str(self.height),
            "time": format_rfc3339(1_700_000_000, 0),
            "validators_hash": vh.hex().upper(),
            "next_validators_hash": vh.hex().upper(),
        }
        return {
            "jsonrpc": "2.0",
            "id": -1,
            "result": {"signed_header": {"header": header, "commit": commit}, "canonical": True},
        }

    def validators_hash(self) -> bytes:
        return ref_validators_hash([(v.pub_key, v.power) for v in self.validators])


def validators_json(
    validators: Sequence[RefValidator], per_page: int = 30, height: int = 1
) -> list[dict[str, Any]]:
    """``/validators`` pages, as a node paginates them."""
    pages = []
    for start in range(0, max(len(validators), 1), per_page):
        chunk = validators[start : start + per_page]
        pages.append(
            {
                "jsonrpc": "2.0",
                "id": -1,
                "result": {
                    "block_height": str(height),
                    "validators": [
                        {
                            "address": v.address.hex().upper(),
                            "pub_key": {
                                "type": "tendermint/PubKeyEd25519",
                                "value": base64.b64encode(v.pub_key).decode(),
                            },
                            "voting_power": str(v.power),
                            "proposer_priority": str(0),
                        }
                        for v in chunk
                    ],
                    "count": str(len(chunk)),
                    "total": str(len(validators)),
                },
            }
        )
    return pages


def _corrupt(rng: random.Random, sig: bytes, kind: str) -> bytes:
    if kind == "flip_r":
        i = rng.randrange(32)
        return sig[:i] + bytes([sig[i] ^ (1 << rng.randrange(8))]) + sig[i + 1 :]
    if kind == "flip_s":
        i = 32 + rng.randrange(31)  # below the top byte: S stays < 2^256
        return sig[:i] + bytes([sig[i] ^ (1 << rng.randrange(8))]) + sig[i + 1 :]
    if kind == "s_plus_l":
        s = int.from_bytes(sig[32:], "little") + ED25519_L
        return sig[:32] + s.to_bytes(32, "little")
    if kind == "truncated":
        return sig[: rng.randrange(1, 64)]
    raise ValueError(kind)


def generate(
    rng: random.Random,
    n: int,
    *,
    p_absent: float = 0.1,
    p_nil: float = 0.1,
    n_bad: int = 0,
    bad_kinds: Sequence[str] = ("flip_r", "flip_s", "s_plus_l", "wrong_message", "wrong_key", "truncated"),
    powers: str = "small",
) -> Generated:
    """A commit of ``n`` validators in CometBFT's order (power descending, then address), each entry
    COMMIT, NIL or ABSENT at random, its own timestamp, signed with PyNaCl over ``ref_sign_bytes``, and
    ``n_bad`` non-absent signatures spoiled in one of ``bad_kinds`` ways."""
    keys = key_pool(max(n, 1) + 8)
    if powers == "small":
        pw = [rng.randint(1, 10) for _ in range(n)]
    elif powers == "wide":
        pw = [rng.choice([1, rng.randint(1, 1000), rng.randint(1, 10**12)]) for _ in range(n)]
    elif powers == "huge":
        pw = [rng.randint(MAX_TOTAL // (2 * n), MAX_TOTAL // n) for _ in range(n)]
    else:
        raise ValueError(powers)
    chosen = rng.sample(range(len(keys)), n)
    vals = [RefValidator(bytes(keys[k].verify_key), p) for k, p in zip(chosen, pw, strict=True)]
    order = sorted(range(n), key=lambda i: (-vals[i].power, vals[i].address))
    vals = [vals[i] for i in order]
    signers = {bytes(keys[k].verify_key): keys[k] for k in chosen}

    chain_id = rng.choice(
        ["dockerchain", "cosmoshub-4", "test-chain-" + "".join(rng.choices("abcdefXYZ", k=6)), ""]
    )
    height = rng.choice([1, 2, rng.randint(3, 10**6), rng.randint(2**40, 2**62)])
    round_ = rng.choice([0, 0, 0, 1, rng.randint(2, 2**31 - 1)])
    block_hash = rng.randbytes(32)
    parts_total = rng.choice([1, 1, 2, rng.randint(3, 2**32 - 1)])
    parts_hash = rng.randbytes(32)
    base = rng.randint(0, 2**33)
    entries: list[RefEntry] = []
    for v in vals:
        r = rng.random()
        flag = ABSENT if r < p_absent else NIL if r < p_absent + p_nil else COMMIT
        if flag == ABSENT:
            entries.append(RefEntry(ABSENT, b"", _ZERO_TIME, b""))
            continue
        ts = (base + rng.randint(0, 5), rng.choice([0, rng.randrange(10**9)]))
        if flag == COMMIT:
            msg = ref_sign_bytes(chain_id, height, round_, block_hash, parts_total, parts_hash, ts)
        else:
            msg = ref_sign_bytes(chain_id, height, round_, b"", 0, b"", ts)
        sig = signers[v.pub_key].sign(msg).signature
        entries.append(RefEntry(flag, v.address, ts, sig))

    bad: set[int] = set()
    notes: list[str] = []
    present = [i for i, e in enumerate(entries) if e.flag != ABSENT]
    for i in rng.sample(present, min(n_bad, len(present))):
        plant(rng, vals, entries, i, rng.choice(list(bad_kinds)), chain_id, height, round_, signers)
        bad.add(i)
        notes.append(f"bad signature at {i}")
    signer = [b"" if e.flag == ABSENT else v.pub_key for v, e in zip(vals, entries, strict=True)]
    return Generated(
        chain_id, height, round_, block_hash, parts_total, parts_hash, vals, entries, bad, notes, signer
    )


def plant(
    rng: random.Random,
    vals: Sequence[RefValidator],
    entries: list[RefEntry],
    i: int,
    kind: str,
    chain_id: str,
    height: int,
    round_: int,
    signers: dict[bytes, nacl.signing.SigningKey] | None = None,
) -> None:
    """Spoil entry i's signature in place (``kind``: see ``generate``)."""
    e = entries[i]
    if kind == "wrong_message":
        # Signed over another timestamp: a valid signature, of other bytes.
        other = RefEntry(e.flag, e.address, (e.timestamp[0] + 1, e.timestamp[1]), e.signature)
        key = (signers or {}).get(vals[i].pub_key) if i < len(vals) else None
        if key is None:
            sig = _corrupt(rng, e.signature, "flip_r")
        else:
            msg = ref_sign_bytes(chain_id, height, round_, b"\x00" * 32, 1, b"\x00" * 32, other.timestamp)
            sig = key.sign(msg).signature
    elif kind == "wrong_key":
        sig = nacl.signing.SigningKey(rng.randbytes(32)).sign(b"some other vote").signature
    else:
        sig = _corrupt(rng, e.signature, kind)
    entries[i] = RefEntry(e.flag, e.address, e.timestamp, sig)
