"""CometBFT commits end to end (docs/RULES.md section 4): parse, set hash and verify_commit in the three modes.

Every real commit (0.34, 0.37, 0.38) and real RPC answer valid in all three modes and every negative case
failing with the right error; generated multi-validator commits with planted faults checked against the
independent reference tally of ``tests/support/cometbft_ref.py`` (seed printed; replay with
``VERIFIER_TEST_SEED``). Signatures go through the engine of each backend that can run here with policy
zip215 (what CometBFT uses; ``cpu`` also with libsodium, which must agree on honest commits), and small
cases through the pure-Python zip215 reference.
"""

from __future__ import annotations

import base64
import random
from typing import Any

import numpy as np
import pytest

from tests.support import cometbft_ref as ref
from tests.support.cometbft import (
    HUGE_23,
    MODES,
    backend_verify,
    check_against_reference,
    dataclass_replace,
    real_commit_doc,
    real_validators_doc,
    ref_verify,
)
from tests.support.ed25519_ref import verify_zip215
from tests.support.vectors import cometbft_real_commits, vector_path
from verifier import cometbft as cb
from verifier.errors import InvalidRequestError
from verifier.verdict import Policy, Verdict

# ------------------------------------------------------------------------------------ real commits


def test_real_commits_valid_in_every_mode(engine_verify: cb.VerifyFn) -> None:
    for case in cometbft_real_commits()["cases"]:
        commit = cb.parse_commit(real_commit_doc(case))
        vals = cb.parse_validators(real_validators_doc(case))
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
        commit = cb.parse_commit(real_commit_doc(case))
        vals = cb.parse_validators(real_validators_doc(case))
        assert cb.verify_commit(case["chain_id"], vals, commit, verify=ref_verify).valid


def _apply_negative(case: dict[str, Any], desc: str) -> tuple[str, dict[str, Any], str]:
    """The base case changed as ``desc`` says: (chain ID, commit doc, expected full-mode error name)."""
    doc = real_commit_doc(case)
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
            commit = cb.parse_commit(real_commit_doc(case))
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
        vals = cb.parse_validators(real_validators_doc(case))
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


# -------------------------------------------------------------------------------- real RPC answers


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


# --------------------------------------------------- generated commits against the reference tally


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
        res = check_against_reference(gen, engine_verify, context="after 2/3")
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
        res = check_against_reference(gen, engine_verify, context="before 2/3")
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
        HUGE_23,
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
        res = check_against_reference(verify=engine_verify, context=f"{kind} #{k}", **kw)
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
        check_against_reference(verify=ref_verify, context=f"zip215 ref #{k}", **kw)


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
    r = cb.verify_commit(None, vs, commit, verify=backend_verify("cpu", Policy.LIBSODIUM))
    assert r.error is not None and r.error.code == cb.ErrorCode.INVALID_SIGNATURE and r.error.index == 3
    assert r.verdict(3) in (Verdict.SMALL_ORDER_R, Verdict.SMALL_ORDER_KEY)
    assert cb.verify_commit(None, vs, commit, verify=backend_verify("cpu")).valid
    assert cb.verify_commit(None, vs, commit, verify=backend_verify("emu")).valid


def test_engine_verifier_with_a_registered_set_answers_the_same(rng: random.Random) -> None:
    """engine_verifier(..., validators=set) registers the set's keys in the engine's key store and names
    their rows in every batch: the same results as decoding every key, bad signatures included."""
    import json

    from verifier.backends.cpu import CpuBackend
    from verifier.engine import Engine

    engine = Engine(CpuBackend(workers=2))  # its own: registering must not touch the shared engine
    for _ in range(5):
        gen = ref.generate(rng, rng.randint(4, 60), p_absent=0.05, p_nil=0.05)
        for i in rng.sample(range(len(gen.entries)), 2):
            if gen.entries[i].flag != ref.ABSENT:
                kind = rng.choice(["flip_r", "flip_s", "s_plus_l", "wrong_key"])
                ref.plant(rng, gen.validators, gen.entries, i, kind, gen.chain_id, gen.height, gen.round)
        vals = cb.parse_validators(ref.validators_json(gen.validators, per_page=100))
        commit = cb.parse_commit(json.dumps(gen.commit_json()))
        plain = cb.engine_verifier(engine, "zip215")
        registered = cb.engine_verifier(engine, "zip215", vals)
        assert vals.hash in engine.key_stores["ed25519"]
        for mode in ("full", "light"):
            want = cb.verify_commit(None, vals, commit, verify=plain, mode=mode)
            got = cb.verify_commit(None, vals, commit, verify=registered, mode=mode)
            assert (got.valid, got.error, list(got.statuses)) == (want.valid, want.error, list(want.statuses))
    engine.close()
