"""Parsing commits and validator sets (verifier/cometbft/parse.py): every shape a node serves reads the
same; each refusal names the field; timestamps in the range a google.protobuf.Timestamp holds.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import cometbft_ref as ref
from tests.support.cometbft import COMMIT_PATH, DELETE, fixed_commit, set_at
from verifier import cometbft as cb
from verifier.errors import InvalidRequestError

# ------------------------------------------------------------------------------------------ shapes


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


# --------------------------------------------------------------------------- errors name the field


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            f"{COMMIT_PATH}/signatures/0/timestamp",
            "2023-02-30T00:00:00Z",
            r"^signatures\[0\]\.timestamp: not RFC 3339",
        ),
        (f"{COMMIT_PATH}/signatures/0/timestamp", "yesterday", r"^signatures\[0\]\.timestamp: not RFC 3339"),
        (
            f"{COMMIT_PATH}/signatures/0/timestamp",
            "2023-02-24T15:09:40.1234567891Z",
            r"^signatures\[0\]\.timestamp: not RFC",
        ),
        (
            f"{COMMIT_PATH}/signatures/0/timestamp",
            "2023-02-24T24:00:00Z",
            r"^signatures\[0\]\.timestamp: not RFC 3339",
        ),
        (
            f"{COMMIT_PATH}/signatures/0/block_id_flag",
            7,
            r"^signatures\[0\]\.block_id_flag: unknown BlockIDFlag",
        ),
        (
            f"{COMMIT_PATH}/signatures/0/block_id_flag",
            "BLOCK_ID_FLAG_UNKNOWN",
            r"^signatures\[0\]\.block_id_flag: unknown",
        ),
        (f"{COMMIT_PATH}/signatures/0/block_id_flag", DELETE, r"^signatures\[0\]\.block_id_flag: missing"),
        (f"{COMMIT_PATH}/signatures/0/signature", "!!notbase64", r"^signatures\[0\]\.signature: not base64"),
        (f"{COMMIT_PATH}/signatures/0/signature", None, r"^signatures\[0\]\.signature: missing"),
        (
            f"{COMMIT_PATH}/signatures/0/signature",
            base64.b64encode(bytes(65)).decode(),
            r"^signatures\[0\]\.signature: 65 bytes, at most 64",
        ),
        (
            f"{COMMIT_PATH}/signatures/0/validator_address",
            "XYZ",
            r"^signatures\[0\]\.validator_address: not hex",
        ),
        (
            f"{COMMIT_PATH}/signatures/0/validator_address",
            "AB" * 19,
            r"^signatures\[0\]\.validator_address: 19 bytes, expected 20",
        ),
        (f"{COMMIT_PATH}/signatures", {}, r"^signatures: expected a list"),
        (f"{COMMIT_PATH}/signatures", [], r"^signatures: no signatures in commit"),
        (f"{COMMIT_PATH}/height", "abc", r"^height: 'abc' is not a decimal integer"),
        (f"{COMMIT_PATH}/height", True, r"^height: expected an integer"),
        (f"{COMMIT_PATH}/height", "-1", r"^height: -1 is out of range"),
        (f"{COMMIT_PATH}/height", str(2**63), r"^height: .* is out of range"),
        (f"{COMMIT_PATH}/round", -1, r"^round: -1 is out of range"),
        (f"{COMMIT_PATH}/block_id/hash", "AB" * 31, r"^block_id\.hash: 31 bytes, expected 0 or 32"),
        (f"{COMMIT_PATH}/block_id/parts/total", 2**32, r"^block_id\.parts\.total: .* out of range"),
        (
            f"{COMMIT_PATH}/block_id",
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
    set_at(doc, path, value)
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


# -------------------------------------------------------------------------------------- timestamps


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

    gen, vs = fixed_commit(5, [ref.COMMIT] * 5, [10] * 5)
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
        gen, vs = fixed_commit(2, [ref.COMMIT] * 2, [10] * 2)
        e = gen.entries[1]
        sig = gen.sign_vote(gen.validators[1].pub_key, (seconds, nanos))
        gen.entries[1] = ref.RefEntry(e.flag, e.address, (seconds, nanos), sig)
        commit = cb.parse_commit(gen.commit_json())
        assert commit.signatures[1].timestamp == (seconds, nanos)
        assert cb.verify_commit(None, vs, commit, verify=engine_verify).valid
        made = cb.make_commit_sig(2, e.address, cb.Timestamp(seconds, nanos), bytes(64), "s", 0)
        assert made.timestamp == (seconds, nanos)


def _outcome(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except InvalidRequestError as exc:
        return f"error: {exc}"


def test_entry_fast_path_agrees_with_the_general_one(rng: random.Random) -> None:
    """``_commit_sigs`` takes the usual entry in one step and hands the rest to ``_commit_sig``: over
    entries with one or two fields replaced by a hostile value, both give the same entry or the same error
    (timestamp parsing, whose seconds part is cached, is compared against the uncached general parser)."""
    from verifier.cometbft import parse

    sig = base64.b64encode(bytes(range(64))).decode()
    values: dict[str, list[Any]] = {
        "block_id_flag": [
            2,
            3,
            1,
            0,
            4,
            "2",
            "3",
            "BLOCK_ID_FLAG_COMMIT",
            "BLOCK_ID_FLAG_NIL",
            True,
            2.0,
            None,
        ],
        "validator_address": [
            "AB" * 20,
            "ab" * 20,
            "AB" * 19,
            "AB" * 21,
            "XY" * 20,
            "",
            None,
            5,
            "A" * 40 + " ",
        ],
        "timestamp": [
            "2023-02-24T15:09:40Z",
            "2023-02-24T15:09:40.123456789Z",
            "2023-02-24T15:09:40.1Z",
            "2023-02-24t15:09:40z",
            "2023-02-24T15:09:40+01:30",
            "2023-02-24T15:09:40.5-00:00",
            "2023-02-29T15:09:40Z",
            "2024-02-29T23:59:59Z",
            "2023-02-24T24:00:00Z",
            "2023-02-24T15:60:00Z",
            "2023-02-24T15:09:40.Z",
            "2023-02-24T15:09:40.1234567890Z",
            "٢٠٢٣-02-24T15:09:40Z",  # Arabic-Indic digits: not RFC 3339 to Go
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "0000-12-31T23:00:00-01:00",
            "2023-02-24T15:09:40",
            "",
            None,
            1677251380,
        ],
        "signature": [
            sig,
            base64.b64encode(bytes(65)).decode(),
            base64.b64encode(bytes(1)).decode(),
            "",
            "==",
            sig[:-2] + "=",
            sig + "=",
            " " + sig,
            sig[:-3] + "B==",
            "!!",
            None,
            7,
        ],
    }
    base = {
        "block_id_flag": 2,
        "validator_address": "AB" * 20,
        "timestamp": values["timestamp"][1],
        "signature": sig,
    }
    cases: list[Any] = [dict(base)]
    for key, options in values.items():
        cases += [{**base, key: v} for v in options]
        cases.append({k: v for k, v in base.items() if k != key})
    for _ in range(500):
        entry = dict(base)
        for key in rng.sample(sorted(values), 2):
            entry[key] = rng.choice(values[key])
        cases.append(entry)
    cases += [[], "entry", None, {**base, "extra": 1}]
    for entry in cases:
        fast = _outcome(functools.partial(parse._commit_sigs, [base, entry], "signatures"))
        general = _outcome(
            functools.partial(
                lambda e: (parse._commit_sig(base, "signatures[0]"), parse._commit_sig(e, "signatures[1]")),
                entry,
            )
        )
        assert fast == general, entry
        stamp = entry.get("timestamp") if isinstance(entry, dict) else None
        assert parse._rfc3339(stamp) == (
            parse._rfc3339_any(stamp) if isinstance(stamp, str) else parse._rfc3339(stamp)
        )
    with pytest.raises(InvalidRequestError, match=r"^t: not RFC 3339"):
        cb.parse_timestamp("٢٠٢٣-02-24T15:09:40Z", "t")
