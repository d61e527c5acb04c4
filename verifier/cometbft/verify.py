"""Commit verification in CometBFT's three modes, with every needed signature checked in one batch.

Follows cometbft ``types/validation.go``:

- ``full``: ``VerifyCommit``. ``verifyBasicValsAndCommit`` (set size, height, block ID), then every
  non-absent entry by index (NIL votes too), only COMMIT power counted, all signatures checked.
- ``light``: ``VerifyCommitLight``. The same basic checks; only COMMIT entries, by index; the walk stops
  as soon as the tallied power passes the threshold, so entries after that point are never looked at.
- ``trusting``: ``VerifyCommitLightTrusting``. No basic checks; COMMIT entries matched by address, unknown
  signers skipped, a validator seen twice is an error; threshold ``total * num / den`` in Go's int64
  arithmetic on the trust level's terms as given, unreduced (``voting_power_needed``), refused with
  CometBFT's message when ``total * num`` overflows int64.

Threshold: valid iff the tallied power is strictly greater than ``needed``; ``needed = floor(2 * total / 3)``
for full and light. Integer arithmetic throughout.

Like CometBFT with Ed25519 keys, a commit of two or more signatures takes ``verifyCommitBatch``'s order of
errors and a smaller one ``verifyCommitSingle``'s (``shouldBatchVerify``):

1. (full, light; an extension) ``VALIDATORS_HASH_MISMATCH`` when the commit came with a header whose
   ``validators_hash`` is not the set's hash (what cometbft light/verifier.go checks before
   ``VerifyCommitLight``);
2. (full, light) ``WRONG_SET_SIZE``, ``WRONG_HEIGHT``, ``WRONG_BLOCK_ID``: ``verifyBasicValsAndCommit``;
3. the walk over the entries in index order, stopping at the first of: ``ADDRESS_MISMATCH`` at i (full,
   light: the entry's address is not that of validator i; what cometbft ``Vote.Verify`` checks before the
   signature, types/vote.go ``ErrVoteInvalidValidatorAddress``), ``DUPLICATE_SIGNER`` (trusting:
   "double vote"), ``INVALID_SIGNATURE`` at i for a signature that is not 64 bytes (the batch verifier's
   ``Add`` refuses it);
4. batch order: ``INSUFFICIENT_POWER`` (tallied before any signature is verified), then the first
   ``INVALID_SIGNATURE`` by index. Single order (fewer than 2 signatures): the first invalid signature,
   then the walk's error, then ``INSUFFICIENT_POWER``.

The signatures the walk collected are verified as ONE batch through the injected ``verify`` function
(policy ``zip215`` in production), unless the walk stopped at an error, where CometBFT verifies nothing.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import re
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from verifier.cometbft.types import BlockID, BlockIDFlag, Commit
from verifier.cometbft.valset import ValidatorSet
from verifier.errors import InvalidRequestError, VerifierError
from verifier.ints import INT64_MAX, UINT64_MAX
from verifier.text import digits, quote
from verifier.verdict import Verdict

__all__ = [
    "Mode",
    "ErrorCode",
    "CommitError",
    "SignatureStatus",
    "CommitResult",
    "VerifyFn",
    "CommitPlan",
    "plan_commit",
    "finish_commit",
    "NOT_CHECKED",
    "DEFAULT_TRUST_LEVEL",
    "TrustLevel",
    "parse_trust_level",
    "voting_power_needed",
    "verify_commit",
]

U8 = npt.NDArray[np.uint8]

VerifyFn = Callable[[U8, U8, Sequence[bytes]], npt.ArrayLike]
"""``verify(public_keys (k, 32) uint8, signatures (k, 64) uint8, messages) -> k Verdict codes (uint8)``."""

NOT_CHECKED = 0xFF
"""``CommitResult.verdicts`` value of an entry whose signature was not verified (see its status).

Not a ``Verdict``: zero never means valid and is never written, and 255 is outside the Verdict table.
"""

_SIGNATURE_SIZE = 64
_BATCH_VERIFY_THRESHOLD = 2  # types/validation.go batchVerifyThreshold
_UINT64_DIGITS = len(str(UINT64_MAX))


class Mode(enum.StrEnum):
    FULL = "full"  # VerifyCommit
    LIGHT = "light"  # VerifyCommitLight
    TRUSTING = "trusting"  # VerifyCommitLightTrusting


class ErrorCode(enum.IntEnum):
    """Why a commit is not valid. Numbers are identities for a wire enum (0 unspecified); the order in
    which they are checked is in the module docstring, not in the numbers."""

    WRONG_SET_SIZE = 1  # cmterrors.ErrInvalidCommitSignatures
    WRONG_HEIGHT = 2  # cmterrors.ErrInvalidCommitHeight
    WRONG_BLOCK_ID = 3  # "invalid commit -- wrong block ID"
    ADDRESS_MISMATCH = 4  # entry i's address is not validator i's (ErrVoteInvalidValidatorAddress)
    DUPLICATE_SIGNER = 5  # trusting: "double vote from ... (first and second)"
    INVALID_SIGNATURE = 6  # "wrong signature (#i)"
    INSUFFICIENT_POWER = 7  # ErrNotEnoughVotingPowerSigned
    VALIDATORS_HASH_MISMATCH = 8  # header.validators_hash is not the given set's hash


@dataclasses.dataclass(frozen=True)
class CommitError:
    """The first error, in CometBFT's terms. ``index``: the commit entry it concerns (address mismatch,
    invalid signature, the second vote of a duplicate signer); ``first_index``: a duplicate's first vote;
    ``got``/``needed``: tallied power and the power it had to exceed; ``expected``/``actual``: set size,
    height, block ID or validators hash."""

    code: ErrorCode
    message: str
    index: int | None = None
    first_index: int | None = None
    got: int | None = None
    needed: int | None = None
    expected: str | None = None
    actual: str | None = None

    def __str__(self) -> str:
        return self.message


class SignatureStatus(enum.IntEnum):
    """What the mode did with commit entry i (0 is left unspecified for a wire enum)."""

    ABSENT = 1  # block_id_flag ABSENT: nothing signed, nothing to check
    VERIFIED = 2  # verified in the batch: verdicts[i] is its Verdict
    SKIPPED = 3  # not needed by the mode: a NIL vote in light or trusting mode
    UNKNOWN_SIGNER = 4  # trusting: the address is not in the trusted set
    NOT_REACHED = 5  # the walk stopped before it (light passed the threshold, or an error), or the batch
    #                  it was collected into was not verified because the walk stopped at an error
    REJECTED = 6  # the walk stopped here: address mismatch, duplicate signer, or a signature not 64 bytes
    #               (then verdicts[i] is MALFORMED_LENGTH)


@dataclasses.dataclass(frozen=True, eq=False)
class CommitResult:
    """The answer for one commit.

    ``tallied_power``: CometBFT's ``talliedVotingPower`` where the walk ended (the "got" of
    INSUFFICIENT_POWER; in light and trusting mode it stops growing once past ``needed_power``).
    ``signed_power``: the part of it whose signatures verified OK. ``total_power``: the given set's.
    ``needed_power``: what the tally had to exceed (in trusting mode CometBFT's int64 arithmetic on the
    trust level as given; zero or negative for some denominators of 2^63 or more, see
    ``voting_power_needed``).
    ``statuses`` and ``verdicts`` have one entry per commit signature; ``verdicts[i]`` is a ``Verdict`` code
    when the signature was verified, else ``NOT_CHECKED`` (255).
    """

    valid: bool
    error: CommitError | None
    mode: Mode
    chain_id: str
    height: int
    signed_power: int
    tallied_power: int
    total_power: int
    needed_power: int
    statuses: tuple[SignatureStatus, ...]
    verdicts: U8
    validators_hash: bytes

    def verdict(self, i: int) -> Verdict | None:
        """Entry i's Verdict, or None when its signature was not verified."""
        v = int(self.verdicts[i])
        return None if v == NOT_CHECKED else Verdict(v)

    @property
    def checked_count(self) -> int:
        return int(np.count_nonzero(self.verdicts != NOT_CHECKED))


class TrustLevel(Fraction):
    """A trust level as CometBFT holds one (libs/math ``Fraction``: uint64 numerator and denominator).

    A ``Fraction`` that also keeps the numerator and denominator as the caller gave them (``given``),
    unreduced, because CometBFT computes with those: ``total * numerator`` must fit int64 before it
    is divided, so 2^62/(3*2^61) overflows where 2/3 does not. It compares, hashes and does arithmetic
    as its value (``TrustLevel(2, 6) == Fraction(1, 3)``); ``str`` and ``repr`` show the given terms.
    """

    __slots__ = ("_given",)
    _given: tuple[int, int]

    def __new__(cls, numerator: int, denominator: int) -> TrustLevel:
        self = super().__new__(cls, numerator, denominator)
        self._given = (numerator, denominator)
        return self

    @property
    def given(self) -> tuple[int, int]:
        """(numerator, denominator) as given, unreduced: what CometBFT multiplies and divides."""
        return self._given

    def __repr__(self) -> str:
        return f"TrustLevel({self._given[0]}, {self._given[1]})"

    def __str__(self) -> str:
        return f"{self._given[0]}/{self._given[1]}"

    def __reduce__(self) -> tuple[type[TrustLevel], tuple[int, int]]:
        return (TrustLevel, self._given)

    def __copy__(self) -> TrustLevel:
        return self  # immutable

    def __deepcopy__(self, memo: object) -> TrustLevel:
        return self


DEFAULT_TRUST_LEVEL = TrustLevel(1, 3)  # cometbft light.DefaultTrustLevel


def parse_trust_level(level: Fraction | str | tuple[int, int]) -> TrustLevel:
    """``"1/3"``, ``(1, 3)`` or a ``Fraction`` -> a ``TrustLevel`` that cometbft light.ValidateTrustLevel
    accepts, keeping the numerator and denominator as given (a ``Fraction`` can only give its reduced
    terms; a ``TrustLevel`` is returned as it is).

    As CometBFT does: both terms are uint64 (else ``InvalidRequestError``), the denominator is not 0,
    and ``numerator*3 < denominator`` (below 1/3) or ``numerator > denominator`` (above 1) refuses,
    with ``numerator*3`` computed in uint64, so it wraps for numerators of 2^64/3 or more: e.g.
    (3*2^62)/(3*2^62) is refused although it is 1, and 2^63/2^63 is accepted.
    """
    num, den = _trust_level_terms(level)
    for name, term in (("numerator", num), ("denominator", den)):
        if not 0 <= term <= UINT64_MAX:
            raise InvalidRequestError(f"trust_level: {name} {quote(term)} is outside uint64 [0, 2^64)")
    if den == 0:
        raise InvalidRequestError(f"trust_level: {num}/0 is not a fraction num/den with den > 0")
    if (num * 3) & UINT64_MAX < den or num > den:
        wraps = num * 3 >= den and num <= den
        note = " (CometBFT computes numerator*3 in uint64, and it wraps here)" if wraps else ""
        raise InvalidRequestError(f"trust_level: {num}/{den} is not within [1/3, 1]{note}")
    return level if isinstance(level, TrustLevel) else TrustLevel(num, den)


_TRUST_LEVEL_TEXT = re.compile(r"\s*([+-]?[0-9]+)\s*/\s*([+-]?[0-9]+)\s*")


def _trust_level_terms(level: object) -> tuple[int, int]:
    """The (numerator, denominator) that ``level`` gives, unchecked."""
    if isinstance(level, TrustLevel):
        return level.given
    if isinstance(level, Fraction):
        return level.numerator, level.denominator
    if isinstance(level, tuple):
        try:
            num, den = level
            return operator.index(num), operator.index(den)
        except (TypeError, ValueError):
            pass
    elif isinstance(level, str):
        m = _TRUST_LEVEL_TEXT.fullmatch(level)
        if m is not None:
            for name, text in (("numerator", m.group(1)), ("denominator", m.group(2))):
                if len(text.lstrip("+-").lstrip("0")) > _UINT64_DIGITS:  # int() of it is never needed
                    raise InvalidRequestError(
                        f"trust_level: {name} {digits(text)} is outside uint64 [0, 2^64)"
                    )
            return int(m.group(1)), int(m.group(2))
    else:
        raise TypeError(
            f"trust_level must be a Fraction, 'num/den' or (num, den), not {type(level).__name__}"
        )
    raise InvalidRequestError(f"trust_level: {quote(level)} is not a fraction num/den with den > 0")


def voting_power_needed(
    total: int, mode: Mode, trust_level: Fraction | str | tuple[int, int] = DEFAULT_TRUST_LEVEL
) -> int:
    """The power a commit must exceed: ``total * 2 // 3``, or, trusting, what cometbft
    ``verifyCommitLightTrustingInternal`` computes from the trust level's terms as given (unreduced):
    ``safeMul(total, int64(numerator)) / int64(denominator)`` in Go's int64 arithmetic.

    An overflow in ``safeMul`` raises ``InvalidRequestError`` with CometBFT's message. Terms of 2^63 or
    more become negative in ``int64(...)``, and CometBFT's answer follows from that: a numerator of
    exactly 2^63 overflows against any power; (2^63+1)/(2^63+1) over a total of 1 needs more than 1;
    a denominator of 2^63 or more under a smaller numerator makes ``needed`` zero or negative, so a
    commit can pass with nothing signed ((2^64-1)/3 over 2^64-1, a total of 1: more than
    -6148914691236517205).
    """
    if mode != Mode.TRUSTING:
        return total * 2 // 3
    num, den = parse_trust_level(trust_level).given
    product = _safe_mul(total, _int64(num))
    if product is None:
        raise InvalidRequestError(
            "int64 overflow while calculating voting power needed. "
            "please provide smaller trustLevel numerator"
        )
    return _quo64(product, _int64(den))


def _int64(value: int) -> int:
    """Go's ``int64(x)`` of a uint64 (or the wrap of an int64 operation): two's complement, 64 bits."""
    return ((value + (1 << 63)) & UINT64_MAX) - (1 << 63)


def _quo64(x: int, y: int) -> int:
    """Go's int64 ``x / y``: truncated toward zero, and MinInt64 / -1 wraps to MinInt64."""
    q = abs(x) // abs(y)
    return _int64(q if (x < 0) == (y < 0) else -q)


def _safe_mul(a: int, b: int) -> int | None:
    """cometbft types/validator_set.go ``safeMul`` of two int64s: a*b, or None where it reports overflow.

    In Go ``-MinInt64`` is MinInt64 again, so ``absOfB`` can be negative and ``MaxInt64 / absOfB`` then
    truncates to 0: any nonzero ``a`` overflows against a numerator of exactly 2^63.
    """
    if a == 0 or b == 0:
        return 0
    abs_a = _int64(-a) if a < 0 else a
    abs_b = _int64(-b) if b < 0 else b
    if abs_a > _quo64(INT64_MAX, abs_b):
        return None
    return _int64(a * b)


def _upper_hex(b: bytes) -> str:
    return b.hex().upper()


@dataclasses.dataclass
class CommitPlan:
    """A commit walked up to its signature batch (``plan_commit``): what is decided already, and the
    signatures ``finish_commit`` needs verdicts for. ``result``: the answer when the walk alone decides
    it (a basic check failed, or a walk error on CometBFT's batch path); then nothing is verified."""

    mode: Mode
    chain_id: str
    validators: ValidatorSet
    commit: Commit
    needed: int
    statuses: list[SignatureStatus]
    verdicts: U8
    collected: list[int]  # commit indices of the signatures to verify, in order
    collected_val: list[int]  # the validator index of each
    counts: list[bool]  # whether its power is tallied (countSig)
    tallied: int = 0
    walk_error: CommitError | None = None
    batch_path: bool = False
    result: CommitResult | None = None

    def signatures(self) -> tuple[U8, U8, list[bytes]]:
        """(public keys (k, 32), signatures (k, 64), sign bytes) of the collected signatures."""
        keys = self.validators.public_keys[np.asarray(self.collected_val, dtype=np.intp)]
        sigs = np.frombuffer(
            b"".join(self.commit.signatures[i].signature for i in self.collected), dtype=np.uint8
        )
        messages = self.commit.vote_sign_bytes_many(self.chain_id, self.collected)
        return keys, sigs.reshape(len(self.collected), _SIGNATURE_SIZE), messages

    def answer(self, error: CommitError | None, tallied: int = 0, signed: int = 0) -> CommitResult:
        self.verdicts.setflags(write=False)
        return CommitResult(
            valid=error is None,
            error=error,
            mode=self.mode,
            chain_id=self.chain_id,
            height=self.commit.height,
            signed_power=signed,
            tallied_power=tallied,
            total_power=self.validators.total_voting_power,
            needed_power=self.needed,
            statuses=tuple(self.statuses),
            verdicts=self.verdicts,
            validators_hash=self.validators.hash,
        )


def verify_commit(
    chain_id: str | None,
    validators: ValidatorSet,
    commit: Commit,
    *,
    verify: VerifyFn,
    mode: Mode | str = Mode.FULL,
    height: int | None = None,
    block_id: BlockID | None = None,
    trust_level: Fraction | str | tuple[int, int] = DEFAULT_TRUST_LEVEL,
    check_validators_hash: bool = True,
) -> CommitResult:
    """Verify ``commit`` against ``validators`` as CometBFT's ``mode`` does (see the module docstring):
    ``plan_commit``, ``verify`` on its signatures, ``finish_commit``.

    ``verify`` gets the collected signatures as one batch and returns one Verdict code per item; a result
    of the wrong shape or with an unwritten (0) verdict raises ``VerifierError``. A bad signature is a
    result, never an exception; exceptions mean the request could not be computed.
    """
    plan = plan_commit(
        chain_id,
        validators,
        commit,
        mode=mode,
        height=height,
        block_id=block_id,
        trust_level=trust_level,
        check_validators_hash=check_validators_hash,
    )
    if plan.result is not None:
        return plan.result
    verdicts = verify(*plan.signatures()) if plan.collected else np.zeros(0, np.uint8)
    return finish_commit(plan, verdicts)


def plan_commit(
    chain_id: str | None,
    validators: ValidatorSet,
    commit: Commit,
    *,
    mode: Mode | str = Mode.FULL,
    height: int | None = None,
    block_id: BlockID | None = None,
    trust_level: Fraction | str | tuple[int, int] = DEFAULT_TRUST_LEVEL,
    check_validators_hash: bool = True,
) -> CommitPlan:
    """The checks and the walk before any signature is verified.

    ``chain_id``: None takes the header's (a commit without a header then raises ``InvalidRequestError``).
    ``height`` and ``block_id``: the block the caller expects (cometbft ``VerifyCommit``'s arguments);
    None takes the header's height, else the commit's own, and the commit's own block ID. Trusting mode
    checks neither, as CometBFT does not. ``check_validators_hash``: in full and light mode, compare the
    header's ``validators_hash`` (when there is one) with ``validators.hash``. ``trust_level`` (trusting
    only): ``parse_trust_level``'s forms; its terms are used as given, unreduced, as CometBFT does.
    """
    try:
        mode = Mode(mode)
    except ValueError:
        raise InvalidRequestError(f"mode: {quote(mode)} is not one of full, light, trusting") from None
    header = commit.header
    if chain_id is None:
        if header is None:
            raise InvalidRequestError("chain_id: required when the commit comes without a header")
        chain_id = header.chain_id
    level = parse_trust_level(trust_level) if mode == Mode.TRUSTING else DEFAULT_TRUST_LEVEL
    n = len(commit.signatures)
    plan = CommitPlan(
        mode=mode,
        chain_id=chain_id,
        validators=validators,
        commit=commit,
        needed=voting_power_needed(validators.total_voting_power, mode, level),
        statuses=[
            SignatureStatus.ABSENT if s.absent else SignatureStatus.NOT_REACHED for s in commit.signatures
        ],
        verdicts=np.full(n, NOT_CHECKED, dtype=np.uint8),
        collected=[],
        collected_val=[],
        counts=[],
        batch_path=n >= _BATCH_VERIFY_THRESHOLD,  # shouldBatchVerify (every key is Ed25519)
    )
    if mode != Mode.TRUSTING:
        basic = _basic_checks(validators, commit, height, block_id, check_validators_hash)
        if basic is not None:
            plan.result = plan.answer(basic)
            return plan
    _walk(plan)
    if plan.walk_error is not None and plan.batch_path:
        plan.result = plan.answer(plan.walk_error, plan.tallied)
    return plan


def _walk(plan: CommitPlan) -> None:
    """cometbft verifyCommitBatch / verifyCommitSingle's loop, without the verification itself."""
    mode, validators, statuses = plan.mode, plan.validators, plan.statuses
    by_index = mode != Mode.TRUSTING
    ignore_nil = mode != Mode.FULL  # full ignores ABSENT only; light and trusting everything but COMMIT
    count_all = mode == Mode.FULL  # countAllSignatures: no early stop
    seen: dict[int, int] = {}
    members = validators.validators
    collected, collected_val, counts = plan.collected, plan.collected_val, plan.counts
    absent, commit_flag = BlockIDFlag.ABSENT, BlockIDFlag.COMMIT
    for idx, sig in enumerate(plan.commit.signatures):
        flag = sig.block_id_flag
        if flag == absent:
            continue
        if ignore_nil and flag != commit_flag:
            statuses[idx] = SignatureStatus.SKIPPED
            continue
        if by_index:
            val_idx = idx
            val = members[idx]
            if sig.validator_address != val.address:
                statuses[idx] = SignatureStatus.REJECTED
                plan.walk_error = CommitError(
                    ErrorCode.ADDRESS_MISMATCH,
                    f"invalid validator address (#{idx}): commit has {_upper_hex(sig.validator_address)}, "
                    f"validator {idx} of the set is {_upper_hex(val.address)}",
                    index=idx,
                    expected=_upper_hex(val.address),
                    actual=_upper_hex(sig.validator_address),
                )
                return
        else:
            found = validators.get_by_address(sig.validator_address)
            if found is None:
                statuses[idx] = SignatureStatus.UNKNOWN_SIGNER
                continue
            val_idx, val = found
            first = seen.get(val_idx)
            if first is not None:
                statuses[idx] = SignatureStatus.REJECTED
                plan.walk_error = CommitError(
                    ErrorCode.DUPLICATE_SIGNER,
                    f"double vote from {_upper_hex(val.address)} ({first} and {idx})",
                    index=idx,
                    first_index=first,
                )
                return
            seen[val_idx] = idx
        if len(sig.signature) != _SIGNATURE_SIZE:
            statuses[idx] = SignatureStatus.REJECTED
            plan.verdicts[idx] = Verdict.MALFORMED_LENGTH
            plan.walk_error = _invalid_signature(idx, sig.signature)
            return
        collected.append(idx)
        collected_val.append(val_idx)
        count = flag == commit_flag or not count_all
        counts.append(count)
        if count:
            plan.tallied += val.voting_power
        if not count_all and plan.tallied > plan.needed:
            return  # light / trusting: enough power; what follows is never looked at


def finish_commit(plan: CommitPlan, batch_verdicts: npt.ArrayLike) -> CommitResult:
    """The tally, once the collected signatures have their verdicts (one per ``plan.collected``; a result
    of the wrong shape or with an unwritten (0) verdict raises ``VerifierError``)."""
    if plan.result is not None:
        return plan.result
    collected, validators, tallied, needed = plan.collected, plan.validators, plan.tallied, plan.needed
    out = np.asarray(batch_verdicts, dtype=np.uint8)
    if out.shape != (len(collected),):
        raise VerifierError(
            f"verify returned {out.shape} verdicts for a batch of {len(collected)} signatures"
        )
    if np.any(out == Verdict.UNSPECIFIED):
        raise VerifierError("verify left a verdict unwritten (0) in the commit's batch")
    statuses = plan.statuses
    for idx in collected:
        statuses[idx] = SignatureStatus.VERIFIED
    plan.verdicts[np.asarray(collected, dtype=np.intp)] = out
    ok: list[bool] = (out == Verdict.OK).tolist()
    signed = sum(
        validators[vi].voting_power
        for vi, c, good in zip(plan.collected_val, plan.counts, ok, strict=True)
        if c and good
    )
    first_bad = next((idx for idx, good in zip(collected, ok, strict=True) if not good), None)
    power_error = (
        CommitError(
            ErrorCode.INSUFFICIENT_POWER,
            f"invalid commit -- insufficient voting power: got {tallied}, needed more than {needed}",
            got=tallied,
            needed=needed,
        )
        if tallied <= needed
        else None
    )
    sig_error = (
        None
        if first_bad is None
        else _invalid_signature(first_bad, plan.commit.signatures[first_bad].signature)
    )
    error = (power_error or sig_error) if plan.batch_path else (sig_error or plan.walk_error or power_error)
    return plan.answer(error, tallied, signed)


def _invalid_signature(idx: int, signature: bytes) -> CommitError:
    return CommitError(
        ErrorCode.INVALID_SIGNATURE, f"wrong signature (#{idx}): {_upper_hex(signature)}", index=idx
    )


def _basic_checks(
    validators: ValidatorSet,
    commit: Commit,
    height: int | None,
    block_id: BlockID | None,
    check_validators_hash: bool,
) -> CommitError | None:
    """The validators-hash extension, then cometbft ``verifyBasicValsAndCommit``."""
    header = commit.header
    if (
        check_validators_hash
        and header is not None
        and header.validators_hash
        and header.validators_hash != validators.hash
    ):
        return CommitError(
            ErrorCode.VALIDATORS_HASH_MISMATCH,
            f"expected new header validators ({_upper_hex(header.validators_hash)}) to match those that were "
            f"supplied ({_upper_hex(validators.hash)})",
            expected=_upper_hex(header.validators_hash),
            actual=_upper_hex(validators.hash),
        )
    if len(validators) != len(commit.signatures):
        return CommitError(
            ErrorCode.WRONG_SET_SIZE,
            f"invalid commit -- wrong set size: {len(validators)} vs {len(commit.signatures)}",
            expected=str(len(validators)),
            actual=str(len(commit.signatures)),
        )
    want_height = height if height is not None else (header.height if header is not None else commit.height)
    if want_height != commit.height:
        return CommitError(
            ErrorCode.WRONG_HEIGHT,
            f"invalid commit -- wrong height: {want_height} vs {commit.height}",
            expected=str(want_height),
            actual=str(commit.height),
        )
    if block_id is not None and block_id != commit.block_id:
        return CommitError(
            ErrorCode.WRONG_BLOCK_ID,
            f"invalid commit -- wrong block ID: want {block_id}, got {commit.block_id}",
            expected=str(block_id),
            actual=str(commit.block_id),
        )
    return None
