"""Helpers the CometBFT tests share (tests/cometbft/, tests/test_service_commit.py).

``backend_verify``          the signature check of a backend's engine with a policy (skips when the backend
                            cannot run here); ``ref_verify`` the pure-Python zip215 reference.
``real_commit_doc``,        a case of the real-commit vectors as the JSON a node serves.
``real_validators_doc``
``fixed_commit``            a small generated commit with the flags and powers given.
``check_against_reference`` ``verify_commit`` in each mode against the reference tally of
                            ``tests/support/cometbft_ref.py``.
``set_at``, ``DELETE``      change (or delete) one field of a JSON document by its path.
"""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import verifier
from tests.support import cometbft_ref as ref
from tests.support.ed25519_ref import verify_zip215
from verifier import cometbft as cb
from verifier.errors import BackendUnavailableError, InvalidRequestError
from verifier.verdict import Policy, Verdict

__all__ = [
    "COMMIT_PATH",
    "DELETE",
    "HUGE_23",
    "MODES",
    "U8",
    "backend_verify",
    "check_against_reference",
    "dataclass_replace",
    "fixed_commit",
    "real_commit_doc",
    "real_validators_doc",
    "ref_verify",
    "set_at",
]

MODES = ("full", "light", "trusting")
U8 = npt.NDArray[np.uint8]
HUGE_23 = (2**62, 3 * 2**61)  # 2/3, unreduced


# ------------------------------------------------------------------------------------ verify fns


def backend_verify(backend: str, policy: Policy = Policy.ZIP215) -> cb.VerifyFn:
    try:
        engine = verifier.get_engine(backend)
    except BackendUnavailableError as exc:
        pytest.skip(f"backend {backend} unavailable: {exc}")
    assert policy in engine.policies, f"backend {backend} lacks policy {policy.value}"
    return cb.engine_verifier(engine, policy)


def ref_verify(public_keys: U8, signatures: U8, messages: Sequence[bytes]) -> U8:
    """The pure-Python zip215 reference (slow: small batches only)."""
    return np.array(
        [
            verify_zip215(bytes(pk), bytes(sig), msg)
            for pk, sig, msg in zip(public_keys, signatures, messages, strict=True)
        ],
        dtype=np.uint8,
    )


# ------------------------------------------------------------------------------------ documents


def real_commit_doc(case: dict[str, Any]) -> dict[str, Any]:
    """A real-commit case as the bare commit object a node serves."""
    return {
        "height": str(case["height"]),
        "round": case["round"],
        "block_id": {"hash": case["block_id"]["hash"], "parts": case["block_id"]["part_set_header"]},
        "signatures": [
            {
                "block_id_flag": s["block_id_flag"],
                "validator_address": s["validator_address"],
                "timestamp": s["timestamp"],
                "signature": s["signature_b64"],
            }
            for s in case["signatures"]
        ],
    }


def real_validators_doc(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "result": {
            "block_height": str(case["height"]),
            "validators": [
                {
                    "address": v["address"],
                    "pub_key": {"type": "tendermint/PubKeyEd25519", "value": v["pub_key_ed25519_b64"]},
                    "voting_power": str(v["voting_power"]),
                    "proposer_priority": "0",
                }
                for v in case["validator_set"]
            ],
        }
    }


DELETE = object()
COMMIT_PATH = "result/signed_header/commit"


def set_at(doc: dict[str, Any], path: str, value: Any) -> None:
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split("/")]
    for k in keys[:-1]:
        doc = doc[k]
    if value is DELETE:
        del doc[keys[-1]]
    else:
        doc[keys[-1]] = value


# ------------------------------------------------------------------------------------ generated commits


def dataclass_replace(gen: ref.Generated, **changes: Any) -> ref.Generated:
    return dataclasses.replace(gen, **changes)


def fixed_commit(
    n: int, flags: Sequence[int], powers: Sequence[int]
) -> tuple[ref.Generated, cb.ValidatorSet]:
    gen = ref.generate(random.Random(11), n, p_absent=0, p_nil=0)
    vals = [ref.RefValidator(v.pub_key, p) for v, p in zip(gen.validators, powers, strict=True)]
    entries = []
    for v, e, f in zip(vals, gen.entries, flags, strict=True):
        if f == ref.ABSENT:
            entries.append(ref.RefEntry(ref.ABSENT, b"", (-62135596800, 0), b""))
            continue
        sig = gen.sign_vote(v.pub_key, e.timestamp, for_block=f == ref.COMMIT)
        entries.append(ref.RefEntry(f, v.address, e.timestamp, sig))
    gen = dataclass_replace(gen, validators=vals, entries=entries, signer=[v.pub_key for v in vals])
    return gen, cb.parse_validators(ref.validators_json(vals))


_TRUST_LEVEL_REFUSALS = {
    ref.INVALID_TRUST_LEVEL: r"^trust_level: [0-9]+/[0-9]+ is not within \[1/3, 1\]",
    ref.TRUST_LEVEL_OVERFLOW: (
        r"^int64 overflow while calculating voting power needed\. please provide smaller trustLevel numerator$"
    ),
}


def check_against_reference(
    gen: ref.Generated,
    verify: cb.VerifyFn,
    *,
    trusted: list[ref.RefValidator] | None = None,
    expected_height: int | None = None,
    expected_block_id: cb.BlockID | None = None,
    header_hash: bytes | None = None,
    trust: tuple[int, int] = (1, 3),
    modes: Sequence[str] = MODES,
    context: str = "",
) -> dict[str, cb.CommitResult]:
    """Verify ``gen`` (through its JSON) in each mode and compare with the reference tally."""
    doc = gen.commit_json(header_validators_hash=header_hash)
    commit = cb.parse_commit(doc)
    vals = cb.parse_validators(ref.validators_json(gen.validators))
    trusted_vals = cb.parse_validators(ref.validators_json(trusted)) if trusted is not None else vals
    out = {}
    for mode in modes:
        vs = trusted_vals if mode == "trusting" else vals
        ref_vals = (
            (trusted if trusted is not None else gen.validators) if mode == "trusting" else gen.validators
        )
        want = ref.ref_tally(
            mode,
            ref_vals,
            gen.entries,
            sig_ok=gen.sig_ok,
            commit_height=gen.height,
            expected_height=gen.height if expected_height is None else expected_height,
            commit_block_id=commit.block_id,
            expected_block_id=commit.block_id if expected_block_id is None else expected_block_id,
            trust=trust,
            header_hash_matches=header_hash is None or header_hash == gen.validators_hash(),
        )
        call = functools.partial(
            cb.verify_commit,
            None,
            vs,
            commit,
            verify=verify,
            mode=mode,
            height=expected_height,
            block_id=expected_block_id,
            trust_level=trust,
        )
        if want.code in _TRUST_LEVEL_REFUSALS:
            with pytest.raises(InvalidRequestError, match=_TRUST_LEVEL_REFUSALS[want.code]):
                call()
            continue
        r = call()
        where = f"{context} mode={mode} n={len(gen.entries)} notes={gen.notes} ref={want} got={r.error}"
        assert (r.error.code.name if r.error else None) == want.code, where
        assert r.valid is (want.code is None), where
        if r.error is not None:
            assert (r.error.index, r.error.first_index) == (want.index, want.first_index), where
            if r.error.code == cb.ErrorCode.INSUFFICIENT_POWER:
                assert (r.error.got, r.error.needed) == (want.got, want.needed), where
        assert (r.tallied_power, r.needed_power) == (want.got, want.needed), where
        verified = tuple(i for i, s in enumerate(r.statuses) if s == cb.SignatureStatus.VERIFIED)
        assert verified == want.checked, where
        assert r.signed_power == want.signed, where
        assert r.total_power == sum(v.power for v in ref_vals)
        for i, s in enumerate(r.statuses):
            if gen.entries[i].flag == ref.ABSENT:
                assert s == cb.SignatureStatus.ABSENT and r.verdict(i) is None
            if s == cb.SignatureStatus.VERIFIED:
                found = vs.get_by_address(gen.entries[i].address) if mode == "trusting" else (i, vs[i])
                assert found is not None
                key = found[1].pub_key
                assert (r.verdict(i) == Verdict.OK) == gen.sig_ok(i, key), (where, i)
            elif s != cb.SignatureStatus.REJECTED:
                assert r.verdict(i) is None
        out[mode] = r
    return out


# The fields of a CommitResult that must survive every path (wire and back, JSON or protobuf input).
COMMIT_RESULT_FIELDS = (
    "valid",
    "error",
    "mode",
    "chain_id",
    "height",
    "signed_power",
    "tallied_power",
    "total_power",
    "needed_power",
    "statuses",
    "validators_hash",
)
