"""Sign bytes (docs/RULES.md section 4, verifier/cometbft/signbytes.py): every CometBFT sign-bytes vector
and every real commit's (0.34, 0.37, 0.38) byte-exact, and the reference's independent encoder agrees.
"""

from __future__ import annotations

import json

from tests.support import cometbft_ref as ref
from tests.support.cometbft import real_commit_doc
from tests.support.vectors import cometbft_real_commits, cometbft_signbytes_vectors
from verifier import cometbft as cb


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


def test_real_commits_sign_bytes_byte_exact() -> None:
    cases = cometbft_real_commits()["cases"]
    assert len(cases) == 151
    versions = set()
    for case in cases:
        commit = cb.parse_commit(json.dumps(real_commit_doc(case)))
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


def test_uvarint_every_length() -> None:
    """The written-out short forms and the loop agree with LEB128 at every length boundary."""
    from verifier.cometbft.signbytes import uvarint

    def leb128(value: int) -> bytes:
        out = bytearray()
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)
        return bytes(out)

    for bits in range(65):
        for value in {(1 << bits) - 1, 1 << bits, (1 << bits) + 0x55 * bits}:
            if 0 <= value < 1 << 64:
                assert uvarint(value) == leb128(value), value
