"""The tally of verify_commit (verifier/cometbft/verify.py): trust levels in CometBFT's int64 arithmetic,
the power needed, the messages, the order of errors, one batch per commit.
"""

from __future__ import annotations

import base64
import copy
import random
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from tests.support import cometbft_ref as ref
from tests.support.cometbft import (
    HUGE_23,
    U8,
    backend_verify,
    check_against_reference,
    fixed_commit,
    ref_verify,
)
from verifier import cometbft as cb
from verifier.errors import InvalidRequestError, VerifierError
from verifier.verdict import Verdict


def test_trust_levels() -> None:
    assert cb.parse_trust_level("1/3") == Fraction(1, 3)
    assert cb.parse_trust_level(" 2/3 ") == Fraction(2, 3)
    assert cb.parse_trust_level((2, 6)) == Fraction(1, 3)
    assert cb.parse_trust_level(Fraction(1)) == 1
    # The terms are kept as given: CometBFT computes with them unreduced.
    level = cb.parse_trust_level((2, 6))
    assert isinstance(level, cb.TrustLevel) and level.given == (2, 6) and str(level) == "2/6"
    assert cb.parse_trust_level(" 2 / 6 ").given == (2, 6) and cb.parse_trust_level(Fraction(2, 6)).given == (
        1,
        3,
    )
    assert cb.parse_trust_level(level) is level and cb.DEFAULT_TRUST_LEVEL.given == (1, 3)
    assert copy.deepcopy(level).given == (2, 6) and repr(level) == "TrustLevel(2, 6)"
    for bad in ("1/4", "4/3", "1/0", "one third", "1", (1, 0), "0/1"):
        with pytest.raises(InvalidRequestError, match=r"^trust_level: "):
            cb.parse_trust_level(bad)
    assert cb.voting_power_needed(100, cb.Mode.FULL) == 66
    assert cb.voting_power_needed(3, cb.Mode.LIGHT) == 2
    assert cb.voting_power_needed(100, cb.Mode.TRUSTING) == 33
    assert cb.voting_power_needed(100, cb.Mode.TRUSTING, Fraction(1, 2)) == 50
    with pytest.raises(InvalidRequestError, match="int64 overflow"):
        cb.voting_power_needed(cb.MAX_TOTAL_VOTING_POWER, cb.Mode.TRUSTING, Fraction(999, 1000))


# -------------------------------------------------------------- CometBFT parity: trust level terms


_OVERFLOW = (
    "int64 overflow while calculating voting power needed. please provide smaller trustLevel numerator"
)


def test_trust_level_overflow_uses_the_terms_as_given(engine_verify: cb.VerifyFn) -> None:
    """cometbft verifyCommitLightTrustingInternal: safeMul(total, int64(numerator)) on the trust level as
    given. 2^62/(3*2^61) is 2/3, but total * 2^62 overflows int64 for any total of 2 or more."""
    gen, vs = fixed_commit(4, [ref.COMMIT] * 4, [10] * 4)
    commit = cb.parse_commit(gen.commit_json())
    assert cb.verify_commit(None, vs, commit, verify=engine_verify, mode="trusting", trust_level=(2, 3)).valid
    for level in (HUGE_23, "4611686018427387904/6917529027641081856", cb.TrustLevel(*HUGE_23)):
        with pytest.raises(InvalidRequestError) as exc:
            cb.verify_commit(None, vs, commit, verify=engine_verify, mode="trusting", trust_level=level)
        assert str(exc.value) == _OVERFLOW
    # A Fraction given directly can only be taken as it is: reduced, 2/3.
    assert cb.verify_commit(
        None, vs, commit, verify=engine_verify, mode="trusting", trust_level=Fraction(*HUGE_23)
    ).valid
    assert cb.voting_power_needed(2, cb.Mode.TRUSTING, (2, 3)) == 1
    assert cb.voting_power_needed(1, cb.Mode.TRUSTING, HUGE_23) == 0  # 2^62 * 1 still fits
    assert ref.ref_trusting_needed(40, HUGE_23) == ref.TRUST_LEVEL_OVERFLOW
    assert ref.ref_trusting_needed(1, HUGE_23) == 0
    # Full and light mode never read the trust level.
    assert cb.verify_commit(None, vs, commit, verify=engine_verify, mode="light", trust_level=HUGE_23).valid


def test_trust_level_from_protobuf_keeps_its_terms() -> None:
    """convert.py hands the protobuf TrustLevel's uint64 fields to parse_trust_level as a tuple."""
    from verifier import convert
    from verifier.v1 import verifier_pb2 as pb2

    gen, vs = fixed_commit(4, [ref.COMMIT] * 4, [10] * 4)
    msg, header = convert.commit_to_proto(cb.parse_commit(gen.commit_json()))
    request = pb2.VerifyCommitRequest(
        commit=msg,
        header=header,
        validators=convert.validators_to_proto(vs),
        mode=pb2.COMMIT_MODE_TRUSTING,
        trust_level=pb2.TrustLevel(numerator=HUGE_23[0], denominator=HUGE_23[1]),
    )
    call = convert.commit_call(
        pb2.VerifyCommitRequest.FromString(request.SerializeToString()), cb.ValidatorSetRegistry(), 100
    )
    assert isinstance(call.trust_level, cb.TrustLevel) and call.trust_level.given == HUGE_23
    with pytest.raises(InvalidRequestError) as exc:
        cb.verify_commit(
            call.chain_id,
            call.validators,
            call.commit,
            verify=ref_verify,
            mode=call.mode,
            trust_level=call.trust_level,
        )
    assert str(exc.value) == _OVERFLOW
    request.trust_level.numerator, request.trust_level.denominator = 3 * 2**62, 3 * 2**62
    with pytest.raises(InvalidRequestError) as exc:
        convert.commit_call(request, cb.ValidatorSetRegistry(), 100)
    assert str(exc.value) == (
        "trust_level: 13835058055282163712/13835058055282163712 is not within [1/3, 1] "
        "(CometBFT computes numerator*3 in uint64, and it wraps here)"
    )


@pytest.mark.parametrize(
    ("trust", "total", "expected"),
    [
        ((1, 3), 100, 33),
        ((2, 6), 100, 33),
        ((8, 9), cb.MAX_TOTAL_VOTING_POWER, 1024819115206086200),
        ((9, 9), cb.MAX_TOTAL_VOTING_POWER, _OVERFLOW),  # 1/1 would be fine; 9 * total is not
        (HUGE_23, 1, 0),
        (HUGE_23, 2, _OVERFLOW),
        # int64(2^63) is MinInt64; Go's -MinInt64 is MinInt64, so safeMul's MaxInt64 / absOfB is 0.
        ((2**63, 2**63), 1, _OVERFLOW),
        # Both terms negative in int64: -(2^63-1) / -(2^63-1).
        ((2**63 + 1, 2**63 + 1), 1, 1),
        ((2**63 + 1, 2**63 + 1), 2, _OVERFLOW),
        # Only the denominator negative in int64: the quotient truncates to 0 or below.
        ((2**62, 2**63), 1, 0),
        (((2**64 - 1) // 3, 2**64 - 1), 1, -6148914691236517205),
        # light.ValidateTrustLevel's numerator*3 wraps in uint64: 1 refused, 1/3 accepted.
        (
            (3 * 2**62, 3 * 2**62),
            1,
            "trust_level: 13835058055282163712/13835058055282163712 is not within [1/3, 1] "
            "(CometBFT computes numerator*3 in uint64, and it wraps here)",
        ),
        ((1, 4), 1, "trust_level: 1/4 is not within [1/3, 1]"),
        ((4, 3), 1, "trust_level: 4/3 is not within [1/3, 1]"),
        ((2**64, 2**64), 1, "trust_level: numerator 18446744073709551616 is outside uint64 [0, 2^64)"),
        ((1, -3), 1, "trust_level: denominator -3 is outside uint64 [0, 2^64)"),
        ((0, 0), 1, "trust_level: 0/0 is not a fraction num/den with den > 0"),
    ],
)
def test_trust_level_in_go_arithmetic(trust: tuple[int, int], total: int, expected: int | str) -> None:
    """voting_power_needed against exact figures and the reference's line-by-line safeMul."""
    want = ref.ref_trusting_needed(total, trust)
    if isinstance(expected, int):
        assert cb.voting_power_needed(total, cb.Mode.TRUSTING, trust) == expected == want
        return
    with pytest.raises(InvalidRequestError) as exc:
        cb.voting_power_needed(total, cb.Mode.TRUSTING, trust)
    assert str(exc.value) == expected
    assert want == (ref.TRUST_LEVEL_OVERFLOW if expected == _OVERFLOW else ref.INVALID_TRUST_LEVEL)


def test_negative_needed_power_passes_with_nothing_signed(engine_verify: cb.VerifyFn) -> None:
    """(2^64-1)/3 over 2^64-1 is exactly 1/3; CometBFT's int64(denominator) is -1, so a set of power 1
    needs more than -6148914691236517205 and a commit of one NIL vote passes, nothing verified."""
    trust = ((2**64 - 1) // 3, 2**64 - 1)
    gen, vs = fixed_commit(1, [ref.NIL], [1])
    (r,) = check_against_reference(gen, engine_verify, trust=trust, modes=["trusting"]).values()
    assert r.valid and r.needed_power == -6148914691236517205 and r.tallied_power == 0
    assert r.checked_count == 0 and r.statuses == (cb.SignatureStatus.SKIPPED,)
    # A power of 2 overflows (_check expects the refusal the reference names).
    assert ref.ref_trusting_needed(2, trust) == ref.TRUST_LEVEL_OVERFLOW
    assert not check_against_reference(
        fixed_commit(1, [ref.NIL], [2])[0], engine_verify, trust=trust, modes=["trusting"]
    )


# ------------------------------------------------------------------------------ messages and order


def test_messages_and_exact_threshold(engine_verify: cb.VerifyFn) -> None:
    # Total 100 needs more than 66: 66 fails, 67 passes.
    gen, vs = fixed_commit(3, [ref.COMMIT, ref.NIL, ref.ABSENT], [66, 33, 1])
    commit = cb.parse_commit(gen.commit_json())
    r = cb.verify_commit(None, vs, commit, verify=engine_verify)
    assert r.error is not None and r.error.code == cb.ErrorCode.INSUFFICIENT_POWER
    assert r.error.message == "invalid commit -- insufficient voting power: got 66, needed more than 66"
    assert r.statuses == (cb.SignatureStatus.VERIFIED, cb.SignatureStatus.VERIFIED, cb.SignatureStatus.ABSENT)
    assert r.signed_power == 66 and r.total_power == 100
    gen, vs = fixed_commit(3, [ref.COMMIT, ref.NIL, ref.ABSENT], [67, 32, 1])
    assert cb.verify_commit(None, vs, cb.parse_commit(gen.commit_json()), verify=engine_verify).valid
    # Total 3 needs 3.
    gen, vs = fixed_commit(3, [ref.COMMIT, ref.COMMIT, ref.NIL], [1, 1, 1])
    r = cb.verify_commit(None, vs, cb.parse_commit(gen.commit_json()), verify=engine_verify, mode="light")
    assert r.error is not None and (r.error.got, r.error.needed) == (2, 2)


def test_order_of_errors(engine_verify: cb.VerifyFn) -> None:
    gen, vs = fixed_commit(4, [ref.COMMIT] * 4, [10, 10, 10, 10])
    doc = gen.commit_json()
    sigs = doc["result"]["signed_header"]["commit"]["signatures"]
    # Entry 1: bad signature; entry 2: wrong address. The walk's error (address, at 2) comes before the
    # batch's invalid signature (at 1), as in verifyCommitBatch.
    sigs[1]["signature"] = base64.b64encode(bytes(64)).decode()
    sigs[2]["validator_address"] = "AB" * 20
    commit = cb.parse_commit(doc)
    r = cb.verify_commit(None, vs, commit, verify=engine_verify)
    assert r.error is not None and r.error.code == cb.ErrorCode.ADDRESS_MISMATCH and r.error.index == 2
    assert (
        r.error.message == f"invalid validator address (#2): commit has {'AB' * 20}, "
        f"validator 2 of the set is {vs[2].address.hex().upper()}"
    )
    assert r.checked_count == 0 and r.statuses[2] == cb.SignatureStatus.REJECTED
    # Light needs more than 26: it has 20 when it reaches entry 2, so it meets the same address error.
    r = cb.verify_commit(None, vs, commit, verify=engine_verify, mode="light")
    assert r.error is not None and r.error.code == cb.ErrorCode.ADDRESS_MISMATCH
    # Height and size come before everything; size before height.
    r = cb.verify_commit(None, vs, commit, verify=engine_verify, height=gen.height + 1)
    assert r.error is not None and r.error.code == cb.ErrorCode.WRONG_HEIGHT
    short = cb.ValidatorSet(vs.validators[:3])
    r = cb.verify_commit(
        None, short, commit, verify=engine_verify, height=gen.height + 1, check_validators_hash=False
    )
    assert r.error is not None and r.error.code == cb.ErrorCode.WRONG_SET_SIZE
    assert r.error.message == "invalid commit -- wrong set size: 3 vs 4"
    # Power is checked before signatures in the batch path: entry 1 bad and too little power (20 of 40).
    original = gen.commit_json()["result"]["signed_header"]["commit"]["signatures"]
    absent = {
        "block_id_flag": 1,
        "validator_address": "",
        "timestamp": "0001-01-01T00:00:00Z",
        "signature": None,
    }
    sigs[2] = dict(absent)
    sigs[3] = dict(absent)
    r = cb.verify_commit(None, vs, cb.parse_commit(doc), verify=engine_verify)
    assert r.error is not None and r.error.code == cb.ErrorCode.INSUFFICIENT_POWER
    assert (r.error.got, r.error.needed, r.signed_power) == (20, 26, 10)
    assert r.verdict(1) != Verdict.OK  # verified anyway, for the answer's verdicts
    sigs[2] = original[2]  # 30 > 26: now the bad signature is the error
    r = cb.verify_commit(None, vs, cb.parse_commit(doc), verify=engine_verify)
    assert r.error is not None and r.error.code == cb.ErrorCode.INVALID_SIGNATURE and r.error.index == 1
    assert r.error.message == "wrong signature (#1): " + "00" * 64
    assert r.tallied_power == 30 and r.signed_power == 20


def test_short_signature_is_the_entrys_error(engine_verify: cb.VerifyFn) -> None:
    gen, vs = fixed_commit(3, [ref.COMMIT] * 3, [1, 1, 1])
    doc = gen.commit_json()
    doc["result"]["signed_header"]["commit"]["signatures"][1]["signature"] = base64.b64encode(
        bytes(63)
    ).decode()
    r = cb.verify_commit(None, vs, cb.parse_commit(doc), verify=engine_verify)
    assert r.error is not None and r.error.code == cb.ErrorCode.INVALID_SIGNATURE and r.error.index == 1
    assert r.statuses[1] == cb.SignatureStatus.REJECTED and r.verdict(1) == Verdict.MALFORMED_LENGTH


def test_duplicate_signer_message(engine_verify: cb.VerifyFn) -> None:
    gen, vs = fixed_commit(4, [ref.COMMIT] * 4, [1, 1, 1, 1])
    doc = gen.commit_json()
    sigs = doc["result"]["signed_header"]["commit"]["signatures"]
    sigs[3]["validator_address"] = sigs[0]["validator_address"]
    r = cb.verify_commit(
        None, vs, cb.parse_commit(doc), verify=engine_verify, mode="trusting", trust_level="1/1"
    )
    assert r.error is not None and r.error.code == cb.ErrorCode.DUPLICATE_SIGNER
    assert (r.error.first_index, r.error.index) == (0, 3)
    assert r.error.message == f"double vote from {sigs[0]['validator_address']} (0 and 3)"
    # With the default 1/3, trusting stops after two signers and never sees the duplicate.
    assert cb.verify_commit(None, vs, cb.parse_commit(doc), verify=engine_verify, mode="trusting").valid


def test_one_batch_per_commit(rng: random.Random) -> None:
    gen = ref.generate(rng, 150, p_absent=0.1, p_nil=0.1)
    commit = cb.parse_commit(gen.commit_json())
    vals = cb.parse_validators(ref.validators_json(gen.validators, per_page=100))
    calls: list[int] = []
    inner = backend_verify("cpu")

    def counting(pks: U8, sigs: U8, msgs: Sequence[bytes]) -> Any:
        calls.append(len(msgs))
        assert pks.shape == (len(msgs), 32) and sigs.shape == (len(msgs), 64)
        return inner(pks, sigs, msgs)

    present = sum(1 for e in gen.entries if e.flag != ref.ABSENT)
    r = cb.verify_commit(None, vals, commit, verify=counting)
    assert calls == [present] and r.checked_count == present


def test_misbehaving_verify_fn_raises(rng: random.Random) -> None:
    gen = ref.generate(rng, 4, p_absent=0, p_nil=0)
    commit = cb.parse_commit(gen.commit_json())
    vals = cb.parse_validators(ref.validators_json(gen.validators))
    with pytest.raises(VerifierError, match="verify returned"):
        cb.verify_commit(None, vals, commit, verify=lambda p, s, m: np.ones(len(m) - 1, np.uint8))
    with pytest.raises(VerifierError, match="unwritten"):
        cb.verify_commit(None, vals, commit, verify=lambda p, s, m: np.zeros(len(m), np.uint8))
    with pytest.raises(InvalidRequestError, match="mode: 'fast'"):
        cb.verify_commit(None, vals, commit, verify=ref_verify, mode="fast")
