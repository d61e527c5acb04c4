"""Refusals cut long values (verifier/text.py quote): no message echoes a value of thousands of
digits or characters, from parsing, trust levels, modes or sets; each still names the field.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from fractions import Fraction

import pytest

from tests.support import cometbft_ref as ref
from tests.support.cometbft import COMMIT_PATH, ref_verify, set_at
from verifier import cometbft as cb
from verifier.errors import InvalidRequestError


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
    set_at(doc, f"{COMMIT_PATH}/height", int("9" * 4000))
    refused(
        lambda: cb.parse_commit(doc),
        r"height: 9999999999\.\.\.\(4000 digits\) is out of range \[0, 9223372036854775807\]",
    )
    refused(
        lambda: cb.parse_commit(json.dumps(doc)),
        r"height: 9999999999\.\.\.\(4000 digits\) is out of range .*",
    )
    doc = gen.commit_json()
    set_at(doc, f"{COMMIT_PATH}/round", -(10**100))
    refused(
        lambda: cb.parse_commit(doc),
        r"round: -1000000000\.\.\.\(101 digits\) is out of range \[0, 2147483647\]",
    )
    doc = gen.commit_json()
    set_at(doc, f"{COMMIT_PATH}/signatures/1/block_id_flag", 10**4000)
    refused(
        lambda: cb.parse_commit(doc),
        r"signatures\[1\]\.block_id_flag: unknown BlockIDFlag 1000000000\.\.\.\(4001 digits\) .*",
    )
    set_at(doc, f"{COMMIT_PATH}/signatures/1/block_id_flag", "F" * 10000)
    refused(
        lambda: cb.parse_commit(doc),
        r"signatures\[1\]\.block_id_flag: unknown BlockIDFlag 'F{24}'\.\.\.\(10000 characters\) .*",
    )
    doc = gen.commit_json()
    set_at(doc, f"{COMMIT_PATH}/signatures/0/timestamp", "2" * 10000)
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
