"""CometBFT commits (docs/RULES.md section 4): sign bytes, parsing, set hash, registry, the three modes.

Every sign-bytes vector byte-exact; every real commit (0.34, 0.37, 0.38) valid in all three modes and every
negative case failing with the right error; generated multi-validator commits with planted faults checked
against the independent reference tally of ``tests/support/cometbft_ref.py`` (seed printed; replay with
``VERIFIER_TEST_SEED``). Signatures go through the engine of each backend that can run here with policy
zip215 (what CometBFT uses; ``cpu`` also with libsodium, which must agree on honest commits), and small
cases through the pure-Python zip215 reference.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import random
import re
import threading
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import verifier
from tests.support import cometbft_ref as ref
from tests.support.ed25519_ref import verify_zip215
from tests.support.vectors import cometbft_real_commits, cometbft_signbytes_vectors, vector_path
from verifier import cometbft as cb
from verifier.errors import BackendUnavailableError, InvalidRequestError, VerifierError
from verifier.verdict import Policy, Verdict

MODES = ("full", "light", "trusting")
U8 = npt.NDArray[np.uint8]


# ------------------------------------------------------------------------------------ verify fns


def _engine_verify(backend: str, policy: Policy = Policy.ZIP215) -> cb.VerifyFn:
    try:
        engine = verifier.get_engine(backend)
    except BackendUnavailableError as exc:
        pytest.skip(f"backend {backend} unavailable: {exc}")
    assert policy in engine.policies, f"backend {backend} lacks policy {policy.value}"
    return cb.engine_verifier(engine, policy)


@pytest.fixture(
    params=[("cpu", Policy.ZIP215), ("emu", Policy.ZIP215), ("cpu", Policy.LIBSODIUM)],
    ids=["cpu-zip215", "emu-zip215", "cpu-libsodium"],
)
def engine_verify(request: pytest.FixtureRequest) -> cb.VerifyFn:
    """The engine of a backend with a policy (zip215 on every backend; libsodium on cpu as a cross-check)."""
    backend, policy = request.param
    print(f"backend {backend}, policy {policy.value}")
    return _engine_verify(backend, policy)


def ref_verify(public_keys: U8, signatures: U8, messages: Sequence[bytes]) -> U8:
    """The pure-Python zip215 reference (slow: small batches only)."""
    return np.array(
        [
            verify_zip215(bytes(pk), bytes(sig), msg)
            for pk, sig, msg in zip(public_keys, signatures, messages)
        ],
        dtype=np.uint8,
    )


# ------------------------------------------------------------------------------------ sign bytes


def test_signbytes_vectors_byte_exact() -> None:
    doc = cometbft_signbytes_vectors()
    assert doc["vectors"]
    for k, v in enumerate(doc["vectors"]):
        vote = v["vote"]
        assert "zero/empty" in vote["block_id"] and vote["timestamp"].startswith("0001-01-01T00:00:00Z")
        got = cb.canonical_vote_sign_bytes(
            v["chain_id"],
            vote_type=vote.get("type", 0),
            height=vote.get("height", 0),
            round=vote.get("round", 0),
            block_id=None,
            timestamp=(cb.ZERO_TIME.seconds, cb.ZERO_TIME.nanos),
        )
        assert got.hex() == v["want"], f"vector {k}"
        # The reference's independent encoder agrees.
        assert (
            ref.ref_sign_bytes(
                v["chain_id"],
                vote.get("height", 0),
                vote.get("round", 0),
                b"",
                0,
                b"",
                (cb.ZERO_TIME.seconds, 0),
                vote.get("type", 0),
            ).hex()
            == v["want"]
        )


def _real_commit_doc(case: dict[str, Any]) -> dict[str, Any]:
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


def _real_validators_doc(case: dict[str, Any]) -> dict[str, Any]:
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


def test_real_commits_sign_bytes_byte_exact() -> None:
    cases = cometbft_real_commits()["cases"]
    assert len(cases) == 151
    versions = set()
    for case in cases:
        commit = cb.parse_commit(json.dumps(_real_commit_doc(case)))
        versions.add(case["cometbft_version_dir"])
        idx = list(range(len(commit)))
        many = commit.vote_sign_bytes_many(case["chain_id"], idx)
        for i, s in enumerate(case["signatures"]):
            assert commit.vote_sign_bytes(case["chain_id"], i).hex() == s["expected_sign_bytes_hex"], case[
                "source"
            ]
            assert many[i].hex() == s["expected_sign_bytes_hex"]
            ts = commit.signatures[i].timestamp
            assert ts.rfc3339() == s["timestamp"]
    assert versions == {"v0_34", "v0_37", "v0_38"}


def test_real_commits_valid_in_every_mode(engine_verify: cb.VerifyFn) -> None:
    for case in cometbft_real_commits()["cases"]:
        commit = cb.parse_commit(_real_commit_doc(case))
        vals = cb.parse_validators(_real_validators_doc(case))
        assert vals.total_voting_power == case["total_voting_power"]
        for mode in MODES:
            r = cb.verify_commit(case["chain_id"], vals, commit, verify=engine_verify, mode=mode)
            assert r.valid is case["expected"]["verify_commit_ok"] is True, (case["source"], mode, r.error)
            assert r.error is None
            assert r.signed_power == case["expected"]["voting_power_signed_for_block"]
            assert r.total_power == case["total_voting_power"]
            assert r.statuses == (cb.SignatureStatus.VERIFIED,) * len(commit)
            assert [r.verdict(i) for i in range(len(commit))] == [Verdict.OK] * len(commit)


def test_real_commits_under_the_zip215_reference() -> None:
    for case in cometbft_real_commits()["cases"][::25]:
        commit = cb.parse_commit(_real_commit_doc(case))
        vals = cb.parse_validators(_real_validators_doc(case))
        assert cb.verify_commit(case["chain_id"], vals, commit, verify=ref_verify).valid


def _apply_negative(case: dict[str, Any], desc: str) -> tuple[str, dict[str, Any], str]:
    """The base case changed as ``desc`` says: (chain ID, commit doc, expected full-mode error name)."""
    doc = _real_commit_doc(case)
    chain_id = case["chain_id"]
    sig = doc["signatures"][0]
    if desc == "wrong chain_id":
        chain_id += "2"
    elif desc == "height+1":
        doc["height"] = str(case["height"] + 1)
    elif desc == "round+1":
        doc["round"] = case["round"] + 1
    elif desc == "timestamp +1ns":
        ts = cb.parse_timestamp(sig["timestamp"])
        sig["timestamp"] = cb.Timestamp(
            ts.seconds + (ts.nanos + 1) // 10**9, (ts.nanos + 1) % 10**9
        ).rfc3339()
    elif desc.startswith("nil block_id"):
        sig["block_id_flag"] = 3
    else:
        raise AssertionError(desc)
    return chain_id, doc, "INVALID_SIGNATURE"


def test_real_negative_cases(engine_verify: cb.VerifyFn) -> None:
    doc = cometbft_real_commits()
    by_source = {}
    for case in doc["cases"]:
        by_source[case["source"]] = case
    negatives = doc["negative_sign_bytes"]
    assert len(negatives) == 18
    for neg in negatives:
        case = by_source[neg["base_case_source"]]
        assert neg["expect_signature_valid"] is False
        pk = base64.b64decode(neg["pub_key_ed25519_b64"])
        sig = base64.b64decode(neg["signature_b64"])
        msg = bytes.fromhex(neg["sign_bytes_hex"])
        # The signature does not verify over the changed bytes, on the engine and on the reference.
        verdict = engine_verify(
            np.frombuffer(pk, np.uint8).reshape(1, 32), np.frombuffer(sig, np.uint8).reshape(1, 64), [msg]
        )
        assert int(np.asarray(verdict)[0]) != Verdict.OK
        assert verify_zip215(pk, sig, msg) != Verdict.OK
        if neg["desc"] == "prevote type instead of precommit":
            # Not expressible in a commit (always precommits): the sign bytes alone.
            commit = cb.parse_commit(_real_commit_doc(case))
            s0 = commit.signatures[0]
            got = cb.canonical_vote_sign_bytes(
                case["chain_id"],
                vote_type=cb.PREVOTE_TYPE,
                height=commit.height,
                round=commit.round,
                block_id=(
                    commit.block_id.hash,
                    commit.block_id.part_set_header.total,
                    commit.block_id.part_set_header.hash,
                ),
                timestamp=(s0.timestamp.seconds, s0.timestamp.nanos),
            )
            assert got.hex() == neg["sign_bytes_hex"]
            continue
        chain_id, cdoc, _ = _apply_negative(case, neg["desc"])
        commit = cb.parse_commit(cdoc)
        vals = cb.parse_validators(_real_validators_doc(case))
        # Our sign bytes of the changed commit are exactly the negative case's bytes.
        assert commit.vote_sign_bytes(chain_id, 0).hex() == neg["sign_bytes_hex"], neg["desc"]
        results = {m: cb.verify_commit(chain_id, vals, commit, verify=engine_verify, mode=m) for m in MODES}
        for mode, r in results.items():
            assert not r.valid, (neg["desc"], mode)
        power = case["total_voting_power"]
        if neg["desc"].startswith("nil block_id"):
            # full checks NIL votes too (one signature: verifyCommitSingle, signature before power);
            # light and trusting skip them and find no power.
            assert (
                results["full"].error is not None
                and results["full"].error.code == cb.ErrorCode.INVALID_SIGNATURE
            )
            assert results["full"].error.index == 0
            for mode, needed in (("light", power * 2 // 3), ("trusting", power // 3)):
                err = results[mode].error
                assert err is not None and err.code == cb.ErrorCode.INSUFFICIENT_POWER
                assert (err.got, err.needed) == (0, needed)
                assert results[mode].statuses == (cb.SignatureStatus.SKIPPED,)
            continue
        for mode, r in results.items():
            assert r.error is not None and r.error.code == cb.ErrorCode.INVALID_SIGNATURE, (neg["desc"], mode)
            assert r.error.index == 0 and r.error.message.startswith("wrong signature (#0): ")
            assert r.verdict(0) != Verdict.OK and r.signed_power == 0 and r.tallied_power == power
        if neg["desc"] == "height+1":
            # Expecting the original height: the basic check fires first (full, light).
            for mode in ("full", "light"):
                r = cb.verify_commit(
                    chain_id, vals, commit, verify=engine_verify, mode=mode, height=case["height"]
                )
                assert r.error is not None and r.error.code == cb.ErrorCode.WRONG_HEIGHT
                assert (
                    r.error.message
                    == f"invalid commit -- wrong height: {case['height']} vs {case['height'] + 1}"
                )
                assert r.checked_count == 0


# --------------------------------------------------------------------------- real RPC answers


@pytest.mark.parametrize("version", ["v0_37", "v0_38"])
def test_rpc_answers_parse_hash_and_verify(version: str, engine_verify: cb.VerifyFn) -> None:
    commit = cb.parse_commit(
        vector_path("cometbft", "rpc", f"{version}-commit_at_height_10.json").read_text()
    )
    vals = cb.parse_validators(
        vector_path("cometbft", "rpc", f"{version}-validators_at_height_10.json").read_bytes()
    )
    assert (
        commit.header is not None and commit.header.chain_id == "dockerchain" and commit.header.height == 10
    )
    assert vals.hash == commit.header.validators_hash  # CometBFT's ValidatorSet.Hash
    for mode in MODES:
        r = cb.verify_commit(None, vals, commit, verify=engine_verify, mode=mode)  # chain ID from the header
        assert r.valid and r.chain_id == "dockerchain" and r.signed_power == 10, (mode, r.error)
    # The header's validators_hash is checked in full and light mode.
    other = cb.ValidatorSet([cb.Validator.from_pub_key(bytes(32), 10)])
    for mode in ("full", "light"):
        r = cb.verify_commit(None, other, commit, verify=engine_verify, mode=mode)
        assert r.error is not None and r.error.code == cb.ErrorCode.VALIDATORS_HASH_MISMATCH
        assert r.error.message.startswith(
            f"expected new header validators ({commit.header.validators_hash.hex().upper()})"
        )
        r = cb.verify_commit(
            None, other, commit, verify=engine_verify, mode=mode, check_validators_hash=False
        )
        assert r.error is not None and r.error.code == cb.ErrorCode.ADDRESS_MISMATCH


def test_rpc_v0_34_bare_commit_and_set_hash(engine_verify: cb.VerifyFn) -> None:
    vals = cb.parse_validators(
        vector_path("cometbft", "rpc", "v0_34-validators_at_height_9.json").read_text()
    )
    # validators_hash of the v0_34 block_at_height_10 header (the set is the same at heights 9 and 10).
    assert vals.hash.hex().upper() == "6B95A63B261D3DDC1DFF6FA53F4C591AB8DA58BBA545700BFD45E6A54AAA2A84"
    commit = cb.parse_commit(vector_path("cometbft", "rpc", "v0_34-last_commit_at_height_9.json").read_text())
    assert commit.header is None and commit.height == 9
    with pytest.raises(InvalidRequestError, match="chain_id: required"):
        cb.verify_commit(None, vals, commit, verify=engine_verify)
    for mode in MODES:
        assert cb.verify_commit("dockerchain", vals, commit, verify=engine_verify, mode=mode).valid


# ------------------------------------------------------------------------------------ parsing


def _gen_docs(rng: random.Random, n: int = 5) -> tuple[ref.Generated, dict[str, Any], list[dict[str, Any]]]:
    gen = ref.generate(rng, n, p_absent=0.2, p_nil=0.2)
    return gen, gen.commit_json(), ref.validators_json(gen.validators, per_page=2)


def test_commit_shapes_are_equivalent(rng: random.Random) -> None:
    gen, env, _ = _gen_docs(rng)
    shapes = [env, env["result"], env["result"]["signed_header"]]
    parsed = [cb.parse_commit(s) for s in shapes] + [cb.parse_commit(json.dumps(env).encode())]
    assert all(p == parsed[0] for p in parsed)
    bare = cb.parse_commit(env["result"]["signed_header"]["commit"])
    assert bare.header is None and bare.signatures == parsed[0].signatures
    named = cb.parse_commit(gen.commit_json(flag_style="name"))
    assert named == parsed[0]
    assert [s.block_id_flag for s in bare.signatures] == [e.flag for e in gen.entries]
    proto_json = copy.deepcopy(env["result"]["signed_header"]["commit"])
    proto_json["block_id"]["part_set_header"] = proto_json["block_id"].pop("parts")
    assert cb.parse_commit(proto_json).block_id == bare.block_id


def test_validator_shapes_are_equivalent(rng: random.Random) -> None:
    gen, _, pages = _gen_docs(rng, n=7)
    assert len(pages) == 4
    from_pages = cb.parse_validators(pages)
    one_page = ref.validators_json(gen.validators, per_page=100)[0]
    for doc in (
        one_page,
        one_page["result"],
        one_page["result"]["validators"],
        json.dumps(pages),
        [p["result"] for p in pages],
    ):
        vals = cb.parse_validators(doc)
        assert vals.validators == from_pages.validators
    assert [v.pub_key for v in from_pages] == [v.pub_key for v in gen.validators]
    assert from_pages.hash == ref.ref_validators_hash([(v.pub_key, v.power) for v in gen.validators])


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split("/")]
    for k in keys[:-1]:
        doc = doc[k]
    if value is _DELETE:
        del doc[keys[-1]]
    else:
        doc[keys[-1]] = value


_DELETE = object()
_C = "result/signed_header/commit"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            f"{_C}/signatures/0/timestamp",
            "2023-02-30T00:00:00Z",
            r"^signatures\[0\]\.timestamp: not RFC 3339",
        ),
        (f"{_C}/signatures/0/timestamp", "yesterday", r"^signatures\[0\]\.timestamp: not RFC 3339"),
        (
            f"{_C}/signatures/0/timestamp",
            "2023-02-24T15:09:40.1234567891Z",
            r"^signatures\[0\]\.timestamp: not RFC",
        ),
        (
            f"{_C}/signatures/0/timestamp",
            "2023-02-24T24:00:00Z",
            r"^signatures\[0\]\.timestamp: not RFC 3339",
        ),
        (f"{_C}/signatures/0/block_id_flag", 7, r"^signatures\[0\]\.block_id_flag: unknown BlockIDFlag"),
        (
            f"{_C}/signatures/0/block_id_flag",
            "BLOCK_ID_FLAG_UNKNOWN",
            r"^signatures\[0\]\.block_id_flag: unknown",
        ),
        (f"{_C}/signatures/0/block_id_flag", _DELETE, r"^signatures\[0\]\.block_id_flag: missing"),
        (f"{_C}/signatures/0/signature", "!!notbase64", r"^signatures\[0\]\.signature: not base64"),
        (f"{_C}/signatures/0/signature", None, r"^signatures\[0\]\.signature: missing"),
        (
            f"{_C}/signatures/0/signature",
            base64.b64encode(bytes(65)).decode(),
            r"^signatures\[0\]\.signature: 65 bytes, at most 64",
        ),
        (f"{_C}/signatures/0/validator_address", "XYZ", r"^signatures\[0\]\.validator_address: not hex"),
        (
            f"{_C}/signatures/0/validator_address",
            "AB" * 19,
            r"^signatures\[0\]\.validator_address: 19 bytes, expected 20",
        ),
        (f"{_C}/signatures", {}, r"^signatures: expected a list"),
        (f"{_C}/signatures", [], r"^signatures: no signatures in commit"),
        (f"{_C}/height", "abc", r"^height: 'abc' is not a decimal integer"),
        (f"{_C}/height", True, r"^height: expected an integer"),
        (f"{_C}/height", "-1", r"^height: -1 is out of range"),
        (f"{_C}/height", str(2**63), r"^height: .* is out of range"),
        (f"{_C}/round", -1, r"^round: -1 is out of range"),
        (f"{_C}/block_id/hash", "AB" * 31, r"^block_id\.hash: 31 bytes, expected 0 or 32"),
        (f"{_C}/block_id/parts/total", 2**32, r"^block_id\.parts\.total: .* out of range"),
        (
            f"{_C}/block_id",
            {"hash": "", "parts": {"total": 0, "hash": ""}},
            r"^block_id: a commit cannot be for the nil block",
        ),
        ("result/signed_header/header/height", "x", r"^header\.height: 'x' is not a decimal integer"),
        ("result/signed_header/header/chain_id", 5, r"^header\.chain_id: expected a string"),
        ("result/signed_header/header/validators_hash", "00", r"^header\.validators_hash: 1 bytes"),
        ("result/signed_header", [], r"^signed_header: expected an object"),
    ],
)
def test_commit_errors_name_the_field(path: str, value: Any, message: str) -> None:
    doc = ref.generate(random.Random(7), 3, p_absent=0, p_nil=0).commit_json()
    _set(doc, path, value)
    with pytest.raises(InvalidRequestError, match=message):
        cb.parse_commit(doc)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("validator_address", "AB" * 20, r"^signatures\[1\]\.validator_address: present in an absent"),
        (
            "signature",
            base64.b64encode(bytes(64)).decode(),
            r"^signatures\[1\]\.signature: present in an absent",
        ),
        ("timestamp", "2023-02-24T15:09:40Z", r"^signatures\[1\]\.timestamp: present in an absent"),
    ],
)
def test_absent_entries_carry_nothing(field: str, value: Any, message: str) -> None:
    doc = ref.generate(random.Random(8), 3, p_absent=0, p_nil=0).commit_json()
    sigs = doc["result"]["signed_header"]["commit"]["signatures"]
    sigs[1] = {
        "block_id_flag": 1,
        "validator_address": "",
        "timestamp": "0001-01-01T00:00:00Z",
        "signature": None,
    }
    cb.parse_commit(doc)  # the absent entry as a node writes it
    sigs[1][field] = value
    with pytest.raises(InvalidRequestError, match=message):
        cb.parse_commit(doc)


def test_other_commit_inputs_refused() -> None:
    with pytest.raises(InvalidRequestError, match=r"^commit: not JSON"):
        cb.parse_commit("{not json")
    with pytest.raises(InvalidRequestError, match=r"^commit: expected a /commit answer"):
        cb.parse_commit({"jsonrpc": "2.0", "result": {"block": {}}})
    with pytest.raises(InvalidRequestError, match=r"^commit: expected an object"):
        cb.parse_commit("[1, 2]")


def test_validator_errors_name_the_field() -> None:
    gen = ref.generate(random.Random(9), 4)
    pages = ref.validators_json(gen.validators, per_page=2)

    def bad(mutate: Callable[[list[dict[str, Any]]], object], message: str) -> None:
        doc = copy.deepcopy(pages)
        mutate(doc)
        with pytest.raises(InvalidRequestError, match=message):
            cb.parse_validators(doc)

    def v(doc: list[dict[str, Any]], i: int) -> dict[str, Any]:
        return doc[i // 2]["result"]["validators"][i % 2]  # type: ignore[no-any-return]

    bad(
        lambda d: v(d, 3)["pub_key"].update(type="tendermint/PubKeySecp256k1"),
        r"^validators\[3\]\.pub_key\.type: .* not supported",
    )
    bad(lambda d: v(d, 2)["pub_key"].update(value="AAAA"), r"^validators\[2\]\.pub_key\.value: 3 bytes")
    bad(lambda d: v(d, 1).update(voting_power="-5"), r"^validators\[1\]\.voting_power: -5 is out of range")
    bad(
        lambda d: v(d, 1).update(voting_power="1.5"),
        r"^validators\[1\]\.voting_power: '1.5' is not a decimal",
    )
    bad(
        lambda d: v(d, 2).update(address=v(d, 1)["address"]),
        r"^validators\[2\]\.address: .* is not the address of its pub_key",
    )
    bad(
        lambda d: d[1]["result"]["validators"].__setitem__(0, copy.deepcopy(v(d, 0))),
        r"^validators\[2\]\.address: duplicate validator .* \(also validators\[0\]\)",
    )
    bad(lambda d: d.pop(), r"^validators: the pages list 2 validators but total is 4")
    bad(
        lambda d: d[1]["result"].update(total="5"),
        r"^pages\[1\]\.result\.total: 5, but an earlier page says 4",
    )
    bad(lambda d: d[1]["result"].update(count="1"), r"^pages\[1\]\.result\.count: 1, but the page lists 2")
    bad(
        lambda d: d[1]["result"].update(block_height="2"),
        r"^pages\[1\]\.result\.block_height: 2, but an earlier page",
    )
    with pytest.raises(InvalidRequestError, match=r"^validators: the validator set is empty"):
        cb.parse_validators([])
    with pytest.raises(InvalidRequestError, match=r"^validators: not JSON"):
        cb.parse_validators(b"\x00")
    # Total voting power beyond MaxTotalVotingPower (int64 max / 8), as CometBFT refuses.
    big = [
        cb.Validator.from_pub_key(bytes(k.verify_key), cb.MAX_TOTAL_VOTING_POWER // 2 + 1)
        for k in ref.key_pool(2)
    ]
    with pytest.raises(
        InvalidRequestError, match=r"^validators\[1\]\.voting_power: total voting power exceeds"
    ):
        cb.ValidatorSet(big)
    cb.ValidatorSet(big[:1])


def test_timestamps(rng: random.Random) -> None:
    for _ in range(500):
        seconds = rng.randint(-62135596800, 253402300799)
        nanos = rng.choice([0, rng.randrange(10**9), rng.randrange(1000) * 10**6])
        text = ref.format_rfc3339(seconds, nanos)
        ts = cb.parse_timestamp(text)
        assert (ts.seconds, ts.nanos) == (seconds, nanos), text
        assert ts.rfc3339() == text
    assert cb.parse_timestamp("0001-01-01T00:00:00Z") == cb.ZERO_TIME
    assert cb.parse_timestamp("1970-01-01T01:00:00.5+01:00") == cb.Timestamp(0, 500_000_000)
    assert cb.parse_timestamp("1969-12-31T23:59:59.000000001-00:30") == cb.Timestamp(1799, 1)
    # The range a google.protobuf.Timestamp holds, in UTC: years 0001 to 9999; Go reads year 0000.
    assert cb.parse_timestamp("0000-12-31T23:00:00-01:00") == cb.ZERO_TIME
    last = cb.parse_timestamp("9999-12-31T23:59:59.999999999Z")
    assert last == cb.Timestamp(cb.MAX_TIMESTAMP_SECONDS - 1, 999_999_999)
    assert cb.parse_timestamp("9999-12-31T23:59:59+00:00") == cb.Timestamp(cb.MAX_TIMESTAMP_SECONDS - 1, 0)
    for bad in (
        "2023-02-24 15:09:40Z",
        "2023-02-24T15:09:40",
        "2023-02-24T15:09:60Z",
        "0000-01-01T00:00:00Z",
        "2023-02-24T15:09:40.Z",
        "2023-02-24T15:09:40+24:00",
        1677251380,
        "0001-01-01T00:00:00+00:01",  # 0000-12-31T23:59:00Z
        "9999-12-31T23:59:59.5-00:01",  # 10000-01-01T00:00:59.5Z
    ):
        with pytest.raises(InvalidRequestError, match=r"^t: "):
            cb.parse_timestamp(bad, "t")
    with pytest.raises(InvalidRequestError) as exc:
        cb.parse_timestamp("0001-01-01T00:00:00+00:01", "t")
    assert str(exc.value) == "t: '0001-01-01T00:00:00+00:01' is outside years 0001-9999 in UTC"


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


# ------------------------------------------------------------------------- validator sets, registry


def test_validator_set_hash_and_lookup(rng: random.Random) -> None:
    for n in (1, 2, 3, 4, 5, 7, 8, 9, 31, 100, 150):
        gen = ref.generate(rng, n, powers=rng.choice(["small", "wide", "huge"]))
        vals = cb.parse_validators(ref.validators_json(gen.validators))
        assert vals.hash == gen.validators_hash(), n
        assert vals.public_keys.shape == (n, 32) and not vals.public_keys.flags.writeable
        for k, v in enumerate(gen.validators):
            found = vals.get_by_address(v.address)
            assert found is not None and found[0] == k and found[1].pub_key == v.pub_key
        assert vals.get_by_address(bytes(20)) is None
    assert (
        cb.hash_from_byte_slices([]).hex()
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_validator_set_cache_computes_once() -> None:
    vals = cb.ValidatorSet([cb.Validator.from_pub_key(bytes(k.verify_key), 1) for k in ref.key_pool(3)])
    calls = []

    def factory(s: cb.ValidatorSet) -> int:
        calls.append(1)
        return len(s)

    threads = [threading.Thread(target=lambda: vals.cache("n", factory)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert vals.cache("n", factory) == 3 and len(calls) == 1


def test_registry_lru_and_threads(rng: random.Random) -> None:
    sets = [
        cb.ValidatorSet([cb.Validator.from_pub_key(bytes(k.verify_key), p + 1) for k in ref.key_pool(3)])
        for p in range(6)
    ]
    reg = cb.ValidatorSetRegistry(max_sets=3)
    hashes = [reg.register(s) for s in sets[:3]]
    assert hashes == [s.hash for s in sets[:3]] and len(reg) == 3
    assert reg.get(hashes[0]) is sets[0]  # now the most recent
    reg.register(sets[3])  # evicts sets[1], the least recently used
    assert hashes[1] not in reg and hashes[0] in reg and reg.hashes() == [hashes[2], hashes[0], sets[3].hash]
    with pytest.raises(
        cb.UnknownValidatorSetError, match=f"validator set {hashes[1].hex().upper()} is not registered"
    ) as exc:
        reg.get(hashes[1])
    assert isinstance(exc.value, InvalidRequestError) and isinstance(exc.value, KeyError)
    same = cb.ValidatorSet(sets[0].validators)
    assert reg.register(same) == hashes[0] and reg.get(hashes[0]) is sets[0]  # the first registration is kept
    with pytest.raises(ValueError):
        cb.ValidatorSetRegistry(0)

    big = cb.ValidatorSetRegistry(max_sets=4)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        r = random.Random(seed)
        try:
            for _ in range(300):
                s = r.choice(sets)
                h = big.register(s)
                try:
                    assert big.get(h).hash == h
                except cb.UnknownValidatorSetError:
                    pass  # evicted by another thread in between: allowed
                assert len(big) <= 4
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(rng.randrange(2**32),)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(big) == 4


# ------------------------------------------------ CometBFT parity: trust level terms, timestamps

_OVERFLOW = (
    "int64 overflow while calculating voting power needed. please provide smaller trustLevel numerator"
)
_HUGE_23 = (2**62, 3 * 2**61)  # 2/3, unreduced


def test_trust_level_overflow_uses_the_terms_as_given(engine_verify: cb.VerifyFn) -> None:
    """cometbft verifyCommitLightTrustingInternal: safeMul(total, int64(numerator)) on the trust level as
    given. 2^62/(3*2^61) is 2/3, but total * 2^62 overflows int64 for any total of 2 or more."""
    gen, vs = _fixed_commit(4, [ref.COMMIT] * 4, [10] * 4)
    commit = cb.parse_commit(gen.commit_json())
    assert cb.verify_commit(None, vs, commit, verify=engine_verify, mode="trusting", trust_level=(2, 3)).valid
    for level in (_HUGE_23, "4611686018427387904/6917529027641081856", cb.TrustLevel(*_HUGE_23)):
        with pytest.raises(InvalidRequestError) as exc:
            cb.verify_commit(None, vs, commit, verify=engine_verify, mode="trusting", trust_level=level)
        assert str(exc.value) == _OVERFLOW
    # A Fraction given directly can only be taken as it is: reduced, 2/3.
    assert cb.verify_commit(
        None, vs, commit, verify=engine_verify, mode="trusting", trust_level=Fraction(*_HUGE_23)
    ).valid
    assert cb.voting_power_needed(2, cb.Mode.TRUSTING, (2, 3)) == 1
    assert cb.voting_power_needed(1, cb.Mode.TRUSTING, _HUGE_23) == 0  # 2^62 * 1 still fits
    assert ref.ref_trusting_needed(40, _HUGE_23) == ref.TRUST_LEVEL_OVERFLOW
    assert ref.ref_trusting_needed(1, _HUGE_23) == 0
    # Full and light mode never read the trust level.
    assert cb.verify_commit(None, vs, commit, verify=engine_verify, mode="light", trust_level=_HUGE_23).valid


def test_trust_level_from_protobuf_keeps_its_terms() -> None:
    """convert.py hands the protobuf TrustLevel's uint64 fields to parse_trust_level as a tuple."""
    from verifier import convert
    from verifier.v1 import verifier_pb2 as pb2

    gen, vs = _fixed_commit(4, [ref.COMMIT] * 4, [10] * 4)
    msg, header = convert.commit_to_proto(cb.parse_commit(gen.commit_json()))
    request = pb2.VerifyCommitRequest(
        commit=msg,
        header=header,
        validators=convert.validators_to_proto(vs),
        mode=pb2.COMMIT_MODE_TRUSTING,
        trust_level=pb2.TrustLevel(numerator=_HUGE_23[0], denominator=_HUGE_23[1]),
    )
    call = convert.commit_call(
        pb2.VerifyCommitRequest.FromString(request.SerializeToString()), cb.ValidatorSetRegistry(), 100
    )
    assert isinstance(call.trust_level, cb.TrustLevel) and call.trust_level.given == _HUGE_23
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
        (_HUGE_23, 1, 0),
        (_HUGE_23, 2, _OVERFLOW),
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
    gen, vs = _fixed_commit(1, [ref.NIL], [1])
    (r,) = _check(gen, engine_verify, trust=trust, modes=["trusting"]).values()
    assert r.valid and r.needed_power == -6148914691236517205 and r.tallied_power == 0
    assert r.checked_count == 0 and r.statuses == (cb.SignatureStatus.SKIPPED,)
    # A power of 2 overflows (_check expects the refusal the reference names).
    assert ref.ref_trusting_needed(2, trust) == ref.TRUST_LEVEL_OVERFLOW
    assert not _check(_fixed_commit(1, [ref.NIL], [2])[0], engine_verify, trust=trust, modes=["trusting"])


_TS_WHERE = "commit.signatures[3].timestamp"


@pytest.mark.parametrize(
    ("seconds", "nanos", "message"),
    [
        (0, 10**9, f"{_TS_WHERE}: nanos 1000000000 is outside [0, 1e9)"),
        (0, -1, f"{_TS_WHERE}: nanos -1 is outside [0, 1e9)"),
        (
            cb.MIN_TIMESTAMP_SECONDS - 1,
            0,
            f"{_TS_WHERE}: seconds -62135596801 is outside years 0001-9999 "
            "(seconds in [-62135596800, 253402300800))",
        ),
        (
            cb.MAX_TIMESTAMP_SECONDS,
            0,
            f"{_TS_WHERE}: seconds 253402300800 is outside years 0001-9999 "
            "(seconds in [-62135596800, 253402300800))",
        ),
        (  # seconds first, as gogoproto's validateTimestamp checks them
            -(2**63),
            -(2**31),
            f"{_TS_WHERE}: seconds -9223372036854775808 is outside years 0001-9999 "
            "(seconds in [-62135596800, 253402300800))",
        ),
    ],
)
def test_timestamps_cometbft_cannot_decode(seconds: int, nanos: int, message: str) -> None:
    """gogoproto StdTimeFromProto refuses them when CometBFT decodes a CommitSig, before anything else."""
    address, sig = bytes(range(20)), bytes(64)
    for flag in (cb.BlockIDFlag.COMMIT, cb.BlockIDFlag.NIL, cb.BlockIDFlag.ABSENT):
        with pytest.raises(InvalidRequestError) as exc:
            cb.make_commit_sig(flag, address, cb.Timestamp(seconds, nanos), sig, "commit.signatures", 3)
        assert str(exc.value) == message
    # The protobuf path (convert.py builds entries through make_commit_sig).
    from verifier import convert
    from verifier.v1 import verifier_pb2 as pb2

    gen, vs = _fixed_commit(5, [ref.COMMIT] * 5, [10] * 5)
    msg, header = convert.commit_to_proto(cb.parse_commit(gen.commit_json()))
    msg.signatures[3].timestamp.seconds, msg.signatures[3].timestamp.nanos = seconds, nanos
    request = pb2.VerifyCommitRequest(commit=msg, header=header, validators=convert.validators_to_proto(vs))
    with pytest.raises(InvalidRequestError) as exc:
        convert.commit_call(
            pb2.VerifyCommitRequest.FromString(request.SerializeToString()), cb.ValidatorSetRegistry(), 100
        )
    assert str(exc.value) == message


def test_timestamp_range_edges_accepted(engine_verify: cb.VerifyFn) -> None:
    """The first and last instants a Timestamp holds sign and verify like any other."""
    for seconds, nanos in ((cb.MIN_TIMESTAMP_SECONDS, 0), (cb.MAX_TIMESTAMP_SECONDS - 1, 999_999_999)):
        gen, vs = _fixed_commit(2, [ref.COMMIT] * 2, [10] * 2)
        e = gen.entries[1]
        sig = gen.sign_vote(gen.validators[1].pub_key, (seconds, nanos))
        gen.entries[1] = ref.RefEntry(e.flag, e.address, (seconds, nanos), sig)
        commit = cb.parse_commit(gen.commit_json())
        assert commit.signatures[1].timestamp == (seconds, nanos)
        assert cb.verify_commit(None, vs, commit, verify=engine_verify).valid
        sig = cb.make_commit_sig(2, e.address, cb.Timestamp(seconds, nanos), bytes(64), "s", 0)
        assert sig.timestamp == (seconds, nanos)


def test_messages_cut_long_values() -> None:
    """No message echoes a value of thousands of digits or characters; each still names the field."""
    gen = ref.generate(random.Random(7), 3, p_absent=0, p_nil=0)

    def refused(call: Callable[[], object], pattern: str) -> str:
        with pytest.raises(InvalidRequestError) as exc:
            call()
        text = str(exc.value)
        assert len(text) < 200 and re.fullmatch(pattern, text), text
        return text

    text = json.dumps(gen.commit_json()).replace('"height": "', '"height": 1' + "1" * 5000 + ', "x": "', 1)
    assert refused(lambda: cb.parse_commit(text), r".*") == (
        "commit: not JSON that can be read (an integer of more than 4300 digits)"
    )
    doc = gen.commit_json()
    _set(doc, f"{_C}/height", int("9" * 4000))
    refused(
        lambda: cb.parse_commit(doc),
        r"height: 9999999999\.\.\.\(4000 digits\) is out of range \[0, 9223372036854775807\]",
    )
    refused(
        lambda: cb.parse_commit(json.dumps(doc)),
        r"height: 9999999999\.\.\.\(4000 digits\) is out of range .*",
    )
    doc = gen.commit_json()
    _set(doc, f"{_C}/round", -(10**100))
    refused(
        lambda: cb.parse_commit(doc),
        r"round: -1000000000\.\.\.\(101 digits\) is out of range \[0, 2147483647\]",
    )
    doc = gen.commit_json()
    _set(doc, f"{_C}/signatures/1/block_id_flag", 10**4000)
    refused(
        lambda: cb.parse_commit(doc),
        r"signatures\[1\]\.block_id_flag: unknown BlockIDFlag 1000000000\.\.\.\(4001 digits\) .*",
    )
    _set(doc, f"{_C}/signatures/1/block_id_flag", "F" * 10000)
    refused(
        lambda: cb.parse_commit(doc),
        r"signatures\[1\]\.block_id_flag: unknown BlockIDFlag 'F{24}'\.\.\.\(10000 characters\) .*",
    )
    doc = gen.commit_json()
    _set(doc, f"{_C}/signatures/0/timestamp", "2" * 10000)
    refused(
        lambda: cb.parse_commit(doc),
        r"signatures\[0\]\.timestamp: not RFC 3339: '2{24}'\.\.\.\(10000 characters\)",
    )
    refused(
        lambda: cb.parse_commit({"k" * 10000: 1}),
        r"commit: expected a /commit answer .* got keys \['k{24}'\.\.\.\(10000 characters\)\]",
    )
    refused(
        lambda: cb.parse_trust_level("1" * 5000 + "/3"),
        r"trust_level: numerator 1111111111\.\.\.\(5000 digits\) is outside uint64 \[0, 2\^64\)",
    )
    refused(
        lambda: cb.parse_trust_level("3/" + "1" * 5000),
        r"trust_level: denominator 1111111111\.\.\.\(5000 digits\) is outside uint64 .*",
    )
    refused(
        lambda: cb.parse_trust_level(Fraction(10**5000, 10**5000 + 1)),
        r"trust_level: numerator <an integer of about 5001 digits> is outside uint64 .*",
    )
    refused(
        lambda: cb.parse_trust_level("x/" * 5000),
        r"trust_level: 'x/x/x/x/x/x/x/x/x/x/x/x/'\.\.\.\(10000 characters\) is not a fraction .*",
    )
    refused(
        lambda: cb.parse_trust_level((10**5000, 3)),
        r"trust_level: numerator <an integer of about 5001 digits> is outside uint64 .*",
    )
    vs = cb.parse_validators(ref.validators_json(gen.validators))
    refused(
        lambda: cb.verify_commit(
            None, vs, cb.parse_commit(gen.commit_json()), verify=ref_verify, mode="m" * 10000
        ),
        r"mode: 'm{24}'\.\.\.\(10000 characters\) is not one of full, light, trusting",
    )
    refused(
        lambda: cb.ValidatorSet([cb.Validator.from_pub_key(gen.validators[0].pub_key, 10**5000)]),
        r"validators\[0\]\.voting_power: <an integer of about 5001 digits> is not in \[0, 2\^63\)",
    )
    refused(
        lambda: cb.make_header("c", -(10**50), b""),
        r"header\.height: -1000000000\.\.\.\(51 digits\) is out of range .*",
    )
    refused(
        lambda: cb.make_block_id(b"", 10**50, b""),
        r"block_id\.part_set_header\.total: 1000000000\.\.\.\(51 digits\) is out of range",
    )
    refused(
        lambda: cb.make_commit_sig(2, bytes(20), cb.Timestamp(10**5000, 0), bytes(64), "s", 0),
        r"s\[0\]\.timestamp: seconds <an integer of about 5001 digits> is outside years 0001-9999 .*",
    )


# ---------------------------------------------------------------------------- the three modes


def _to_ref_entries(commit: cb.Commit) -> list[ref.RefEntry]:
    return [
        ref.RefEntry(
            int(s.block_id_flag), s.validator_address, (s.timestamp.seconds, s.timestamp.nanos), s.signature
        )
        for s in commit.signatures
    ]


_TRUST_LEVEL_REFUSALS = {
    ref.INVALID_TRUST_LEVEL: r"^trust_level: [0-9]+/[0-9]+ is not within \[1/3, 1\]",
    ref.TRUST_LEVEL_OVERFLOW: (
        r"^int64 overflow while calculating voting power needed\. please provide smaller trustLevel numerator$"
    ),
}


def _check(
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


def _light_stop(gen: ref.Generated) -> int | None:
    """The index at which light mode stops (power first exceeds 2/3), or None when it never does."""
    total = sum(v.power for v in gen.validators)
    got = 0
    for i, e in enumerate(gen.entries):
        if e.flag == ref.COMMIT:
            got += gen.validators[i].power
            if got > total * 2 // 3:
                return i
    return None


def test_bad_signature_after_two_thirds_passes_light_fails_full(
    engine_verify: cb.VerifyFn, rng: random.Random
) -> None:
    done = 0
    while done < 20:
        gen = ref.generate(rng, rng.randint(4, 40), p_absent=0.05, p_nil=0.1)
        stop = _light_stop(gen)
        later = (
            []
            if stop is None
            else [i for i in range(stop + 1, len(gen.entries)) if gen.entries[i].flag != ref.ABSENT]
        )
        if not later:
            continue
        i = rng.choice(later)
        ref.plant(
            rng,
            gen.validators,
            gen.entries,
            i,
            rng.choice(["flip_r", "flip_s", "s_plus_l", "wrong_key"]),
            gen.chain_id,
            gen.height,
            gen.round,
        )
        gen.bad.add(i)
        gen.notes.append(f"bad at {i} after the light stop {stop}")
        res = _check(gen, engine_verify, context="after 2/3")
        assert res["light"].valid, gen.notes
        assert res["full"].error is not None and res["full"].error.code == cb.ErrorCode.INVALID_SIGNATURE
        assert res["full"].error.index == i
        assert res["light"].statuses[i] == cb.SignatureStatus.NOT_REACHED
        done += 1


def test_bad_signature_before_two_thirds_fails_every_mode(
    engine_verify: cb.VerifyFn, rng: random.Random
) -> None:
    done = 0
    while done < 20:
        gen = ref.generate(rng, rng.randint(2, 40), p_absent=0.05, p_nil=0.05)
        stop = _light_stop(gen)
        if stop is None:
            continue
        i = rng.choice([k for k in range(stop + 1) if gen.entries[k].flag == ref.COMMIT])
        ref.plant(
            rng,
            gen.validators,
            gen.entries,
            i,
            rng.choice(["flip_r", "flip_s", "s_plus_l", "wrong_key", "truncated"]),
            gen.chain_id,
            gen.height,
            gen.round,
        )
        gen.bad.add(i)
        gen.notes.append(f"bad at {i}, light stop {stop}")
        res = _check(gen, engine_verify, context="before 2/3")
        for mode in ("full", "light"):
            err = res[mode].error
            assert err is not None and err.code == cb.ErrorCode.INVALID_SIGNATURE, (mode, gen.notes)
        done += 1


def _scenario(rng: random.Random, kind: str) -> dict[str, Any]:
    """One generated commit with the faults of ``kind``; keyword arguments for ``_check``."""
    n = rng.choice([1, 2, 3, rng.randint(4, 12), rng.randint(13, 40)])
    gen = ref.generate(
        rng,
        n,
        p_absent=rng.choice([0.0, 0.1, 0.3, 0.6]),
        p_nil=rng.choice([0.0, 0.1, 0.3]),
        n_bad=rng.choice([0, 0, 1, 2, 3]) if kind in ("random", "huge") else 0,
        powers="huge" if kind == "huge" else rng.choice(["small", "wide"]),
    )
    kw: dict[str, Any] = {"gen": gen, "trust": rng.choice([(1, 3), (1, 3), (1, 2), (2, 3), (1, 1)])}
    present = [i for i, e in enumerate(gen.entries) if e.flag != ref.ABSENT]
    commits = [i for i, e in enumerate(gen.entries) if e.flag == ref.COMMIT]
    if kind == "address_mismatch" and present:
        i = rng.choice(present)
        other = rng.choice(
            [v.address for v in gen.validators if v.address != gen.entries[i].address] or [rng.randbytes(20)]
        )
        new = rng.choice([other, rng.randbytes(20)])
        gen.entries[i] = ref.RefEntry(
            gen.entries[i].flag, new, gen.entries[i].timestamp, gen.entries[i].signature
        )
        gen.notes.append(f"address of {i} replaced")
    elif kind == "duplicate" and len(commits) >= 2:
        i, j = sorted(rng.sample(commits, 2))
        e = gen.entries[j]
        gen.entries[j] = ref.RefEntry(e.flag, gen.entries[i].address, e.timestamp, e.signature)
        if rng.random() < 0.5:  # and signed by i's key, so only the duplicate rule catches it
            sig = gen.sign_vote(gen.signer[i], e.timestamp)
            gen.entries[j] = ref.RefEntry(e.flag, gen.entries[i].address, e.timestamp, sig)
            gen.signer[j] = gen.signer[i]
        gen.notes.append(f"entry {j} repeats the signer of {i}")
    elif kind == "wrong_height":
        kw["expected_height"] = gen.height + rng.choice([1, -1, 1000])
    elif kind == "wrong_block_id":
        bid = cb.BlockID(gen.block_hash, cb.PartSetHeader(gen.parts_total, gen.parts_hash))
        part = rng.choice(["hash", "total", "parts"])
        if part == "hash":
            bid = cb.BlockID(rng.randbytes(32), bid.part_set_header)
        elif part == "total":
            bid = cb.BlockID(
                bid.hash, cb.PartSetHeader(bid.part_set_header.total + 1, bid.part_set_header.hash)
            )
        else:
            bid = cb.BlockID(bid.hash, cb.PartSetHeader(bid.part_set_header.total, rng.randbytes(32)))
        kw["expected_block_id"] = bid
    elif kind == "wrong_set_size":
        if rng.random() < 0.5 and len(gen.entries) > 1:
            p = rng.randrange(len(gen.entries))
            gen.entries.pop(p)
            gen.signer.pop(p)
            gen.bad = {i if i < p else i - 1 for i in gen.bad if i != p}
            gen.notes.append(f"entry {p} dropped")
        else:
            gen.entries.append(ref.RefEntry(ref.ABSENT, b"", (-62135596800, 0), b""))
            gen.signer.append(b"")
            gen.notes.append("an absent entry appended")
    elif kind == "trusting_other_set":
        keep = [v for v in gen.validators if rng.random() < 0.7]
        extra = [
            ref.RefValidator(bytes(k.verify_key), rng.randint(1, 20))
            for k in ref.key_pool(len(gen.validators) + 8)[-rng.randint(0, 5) :]
        ]
        trusted = [ref.RefValidator(v.pub_key, rng.choice([v.power, rng.randint(1, 50)])) for v in keep]
        trusted += [v for v in extra if v.address not in {t.address for t in trusted}]
        if not trusted:
            trusted = [gen.validators[0]]
        rng.shuffle(trusted)
        trusted.sort(key=lambda v: (-v.power, v.address))
        kw["trusted"] = trusted
        kw["modes"] = ["trusting"]
    elif kind == "header_hash":
        kw["header_hash"] = rng.randbytes(32)
    elif kind == "trust_level_terms":
        kw["trust"] = _hostile_trust_level(rng)
        kw["modes"] = ["trusting"]
        if rng.random() < 0.4:  # a trusted set of power 1: where int64(...) of big terms still fits
            kw["trusted"] = [ref.RefValidator(rng.choice(gen.validators).pub_key, 1)]
    return kw


def _hostile_trust_level(rng: random.Random) -> tuple[int, int]:
    """Trust levels CometBFT takes unreduced: big multiples of small fractions, terms of 2^63 and more."""
    k = rng.choice([1, rng.randint(2, 2**20), rng.randint(2**40, 2**61), rng.randint(2**61, 2**62)])
    num, den = rng.choice([(1, 3), (1, 2), (2, 3), (1, 1), (3, 4)])
    choices = [
        (num * k, den * k),
        (num * k, den * k),
        (num * k, den * k),
        _HUGE_23,
        (2**63, 2**63),
        (2**63 + rng.randint(1, 2**62), 2**63 + 2**62),
        ((2**64 - 1) // 3, 2**64 - 1),
        (rng.randint(2**61, 2**63 - 1), rng.randint(2**63, 2**64 - 1)),
        (rng.randint(2**63, 2**64 - 1), rng.randint(2**63, 2**64 - 1)),
        (rng.randint(1, 2**64 - 1), rng.randint(1, 2**64 - 1)),
    ]
    return rng.choice(choices)


_KINDS = [
    "random",
    "huge",
    "address_mismatch",
    "duplicate",
    "wrong_height",
    "wrong_block_id",
    "wrong_set_size",
    "trusting_other_set",
    "header_hash",
    "trust_level_terms",
]


@pytest.mark.parametrize("kind", _KINDS)
def test_generated_commits_match_reference(kind: str, engine_verify: cb.VerifyFn, rng: random.Random) -> None:
    codes: dict[str, set[str | None]] = {m: set() for m in MODES}
    for k in range(25):
        kw = _scenario(rng, kind)
        res = _check(verify=engine_verify, context=f"{kind} #{k}", **kw)
        for mode, r in res.items():
            codes[mode].add(r.error.code.name if r.error else None)
    print(f"{kind}: outcomes {codes}")
    expected = {
        "wrong_height": "WRONG_HEIGHT",
        "wrong_block_id": "WRONG_BLOCK_ID",
        "wrong_set_size": "WRONG_SET_SIZE",
        "header_hash": "VALIDATORS_HASH_MISMATCH",
    }.get(kind)
    if expected is not None:
        assert codes["full"] == codes["light"] == {expected}


def test_small_commits_under_zip215_reference(rng: random.Random) -> None:
    """Small commits through the pure-Python zip215 reference: the same answers as the reference tally."""
    for k in range(12):
        kw = _scenario(rng, rng.choice(["random", "address_mismatch", "duplicate"]))
        if len(kw["gen"].entries) > 12:
            continue
        _check(verify=ref_verify, context=f"zip215 ref #{k}", **kw)


def test_zip215_small_order_signer_counts() -> None:
    """A validator whose key and R are the identity (small order) with S = 0 signs validly under zip215
    (CometBFT accepts it), and not under libsodium."""
    identity = bytes([1]) + bytes(31)  # y = 1: the neutral element, order 1
    gen = ref.generate(random.Random(5), 3, p_absent=0, p_nil=0)
    entries = list(gen.entries)
    vals = [ref.RefValidator(v.pub_key, 10) for v in gen.validators] + [ref.RefValidator(identity, 40)]
    entries.append(ref.RefEntry(ref.COMMIT, ref.ref_address(identity), (1, 0), identity + bytes(32)))
    doc = dataclass_replace(gen, validators=vals, entries=entries, signer=gen.signer + [identity])
    commit = cb.parse_commit(doc.commit_json())
    vs = cb.parse_validators(ref.validators_json(vals))
    r = cb.verify_commit(None, vs, commit, verify=ref_verify)
    assert r.valid and r.signed_power == 70 and r.verdict(3) == Verdict.OK
    r = cb.verify_commit(None, vs, commit, verify=_engine_verify("cpu", Policy.LIBSODIUM))
    assert r.error is not None and r.error.code == cb.ErrorCode.INVALID_SIGNATURE and r.error.index == 3
    assert r.verdict(3) in (Verdict.SMALL_ORDER_R, Verdict.SMALL_ORDER_KEY)
    assert cb.verify_commit(None, vs, commit, verify=_engine_verify("cpu")).valid
    assert cb.verify_commit(None, vs, commit, verify=_engine_verify("emu")).valid


def dataclass_replace(gen: ref.Generated, **changes: Any) -> ref.Generated:
    import dataclasses

    return dataclasses.replace(gen, **changes)


# ------------------------------------------------------------------------- messages and order


def _fixed_commit(
    n: int, flags: Sequence[int], powers: Sequence[int]
) -> tuple[ref.Generated, cb.ValidatorSet]:
    gen = ref.generate(random.Random(11), n, p_absent=0, p_nil=0)
    vals = [ref.RefValidator(v.pub_key, p) for v, p in zip(gen.validators, powers)]
    entries = []
    for v, e, f in zip(vals, gen.entries, flags):
        if f == ref.ABSENT:
            entries.append(ref.RefEntry(ref.ABSENT, b"", (-62135596800, 0), b""))
            continue
        sig = gen.sign_vote(v.pub_key, e.timestamp, for_block=f == ref.COMMIT)
        entries.append(ref.RefEntry(f, v.address, e.timestamp, sig))
    gen = dataclass_replace(gen, validators=vals, entries=entries, signer=[v.pub_key for v in vals])
    return gen, cb.parse_validators(ref.validators_json(vals))


def test_messages_and_exact_threshold(engine_verify: cb.VerifyFn) -> None:
    # Total 100 needs more than 66: 66 fails, 67 passes.
    gen, vs = _fixed_commit(3, [ref.COMMIT, ref.NIL, ref.ABSENT], [66, 33, 1])
    commit = cb.parse_commit(gen.commit_json())
    r = cb.verify_commit(None, vs, commit, verify=engine_verify)
    assert r.error is not None and r.error.code == cb.ErrorCode.INSUFFICIENT_POWER
    assert r.error.message == "invalid commit -- insufficient voting power: got 66, needed more than 66"
    assert r.statuses == (cb.SignatureStatus.VERIFIED, cb.SignatureStatus.VERIFIED, cb.SignatureStatus.ABSENT)
    assert r.signed_power == 66 and r.total_power == 100
    gen, vs = _fixed_commit(3, [ref.COMMIT, ref.NIL, ref.ABSENT], [67, 32, 1])
    assert cb.verify_commit(None, vs, cb.parse_commit(gen.commit_json()), verify=engine_verify).valid
    # Total 3 needs 3.
    gen, vs = _fixed_commit(3, [ref.COMMIT, ref.COMMIT, ref.NIL], [1, 1, 1])
    r = cb.verify_commit(None, vs, cb.parse_commit(gen.commit_json()), verify=engine_verify, mode="light")
    assert r.error is not None and (r.error.got, r.error.needed) == (2, 2)


def test_order_of_errors(engine_verify: cb.VerifyFn) -> None:
    gen, vs = _fixed_commit(4, [ref.COMMIT] * 4, [10, 10, 10, 10])
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
    gen, vs = _fixed_commit(3, [ref.COMMIT] * 3, [1, 1, 1])
    doc = gen.commit_json()
    doc["result"]["signed_header"]["commit"]["signatures"][1]["signature"] = base64.b64encode(
        bytes(63)
    ).decode()
    r = cb.verify_commit(None, vs, cb.parse_commit(doc), verify=engine_verify)
    assert r.error is not None and r.error.code == cb.ErrorCode.INVALID_SIGNATURE and r.error.index == 1
    assert r.statuses[1] == cb.SignatureStatus.REJECTED and r.verdict(1) == Verdict.MALFORMED_LENGTH


def test_duplicate_signer_message(engine_verify: cb.VerifyFn) -> None:
    gen, vs = _fixed_commit(4, [ref.COMMIT] * 4, [1, 1, 1, 1])
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
    inner = _engine_verify("cpu")

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
