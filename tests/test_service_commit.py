"""VerifyCommit and RegisterValidatorSet over gRPC, and ``verifier verify commit``.

The server's answer must equal, field by field, what ``cometbft.verify_commit`` answers in-process (which
tests/cometbft/ checks against the reference tally), whichever way the request carries the commit
(protobuf or the node's JSON) and the set (protobuf, JSON pages, or a registered hash). Generated commits
(150 validators, planted bad signatures, nil and absent votes) are also checked against the reference
tally directly. Seed printed; replay with VERIFIER_TEST_SEED.
"""

from __future__ import annotations

import base64
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

import verifier
from tests.support import cometbft_ref as ref
from tests.support.cometbft import COMMIT_RESULT_FIELDS, real_commit_doc, real_validators_doc
from tests.support.harness import GatedCpu, RunningServer, running_server
from tests.support.vectors import cometbft_real_commits
from verifier import cometbft as cb
from verifier import convert
from verifier.cli import main
from verifier.client import Client
from verifier.engine import Limits
from verifier.errors import VerifierError
from verifier.v1 import verifier_pb2 as pb2
from verifier.v1 import verifier_pb2_grpc as pb2_grpc
from verifier.verdict import Policy

MODES = ("full", "light", "trusting")


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(limits=Limits(max_items=300), max_validator_sets=2) as s:
        yield s


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[Client]:
    with Client(server.target) as c:
        yield c


@pytest.fixture(scope="module")
def stub(server: RunningServer) -> Iterator[pb2_grpc.VerifierStub]:
    with grpc.insecure_channel(server.target) as channel:
        yield pb2_grpc.VerifierStub(channel)


@pytest.fixture(scope="module")
def local_verify() -> cb.VerifyFn:
    return cb.engine_verifier(verifier.get_engine("cpu"), Policy.ZIP215)


def assert_same(got: cb.CommitResult, want: cb.CommitResult, what: str) -> None:
    for field in COMMIT_RESULT_FIELDS:
        assert getattr(got, field) == getattr(want, field), (
            f"{what}: {field}: {getattr(got, field)!r} != {getattr(want, field)!r}"
        )
    assert np.array_equal(got.verdicts, want.verdicts), f"{what}: verdicts"


@pytest.mark.slow
def test_real_commits_every_form_and_mode(client: Client, local_verify: cb.VerifyFn) -> None:
    """All 151 real commits (CometBFT 0.34, 0.37, 0.38) valid in every mode, through the JSON and the
    protobuf forms, equal to the in-process answer."""
    for case in cometbft_real_commits()["cases"]:
        cdoc, vdoc = real_commit_doc(case), real_validators_doc(case)
        commit, vals = cb.parse_commit(cdoc), cb.parse_validators(vdoc)
        for mode in MODES:
            want = cb.verify_commit(case["chain_id"], vals, commit, verify=local_verify, mode=mode)
            assert want.valid, case["source"]
            by_json = client.verify_commit(
                json.dumps(cdoc), json.dumps(vdoc), chain_id=case["chain_id"], mode=mode
            )
            by_proto = client.verify_commit(commit, vals, chain_id=case["chain_id"], mode=mode)
            assert_same(by_json, want, f"{case['source']} {mode} json")
            assert_same(by_proto, want, f"{case['source']} {mode} proto")


def test_real_commit_tampered_fails_with_cometbft_error(client: Client) -> None:
    case = cometbft_real_commits()["cases"][0]
    cdoc, vdoc = real_commit_doc(case), json.dumps(real_validators_doc(case))
    sig = bytearray(base64.b64decode(cdoc["signatures"][0]["signature"]))
    sig[5] ^= 0x10  # a bit of R
    cdoc["signatures"][0]["signature"] = base64.b64encode(bytes(sig)).decode()
    r = client.verify_commit(json.dumps(cdoc), vdoc, chain_id=case["chain_id"])
    assert (
        not r.valid
        and r.error is not None
        and r.error.code == cb.ErrorCode.INVALID_SIGNATURE
        and r.error.index == 0
    )
    assert r.error.message.startswith("wrong signature (#0): ")
    assert r.statuses == (cb.SignatureStatus.VERIFIED,) and r.verdict(0) is not None
    r = client.verify_commit(json.dumps(real_commit_doc(case)), vdoc, chain_id=case["chain_id"] + "x")
    assert r.error is not None and r.error.code == cb.ErrorCode.INVALID_SIGNATURE


def test_generated_commits_match_reference_tally(
    client: Client, local_verify: cb.VerifyFn, seed: int
) -> None:
    """150-validator commits with nil and absent votes and bad signatures planted before and after the 2/3
    point: the server's answer equals the reference tally and the in-process answer, in every mode."""
    rng = random.Random(seed)
    for k in range(6):
        gen = ref.generate(
            rng, 150, p_absent=0.15, p_nil=0.1, n_bad=[0, 1, 3, 20, 0, 2][k], powers=["small", "wide"][k % 2]
        )
        cdoc = gen.commit_json()
        vdoc = ref.validators_json(gen.validators, per_page=100)
        commit, vals = cb.parse_commit(cdoc), cb.parse_validators(vdoc)
        for mode in MODES:
            got = client.verify_commit(json.dumps(cdoc), json.dumps(vdoc), mode=mode)
            assert_same(
                got, cb.verify_commit(None, vals, commit, verify=local_verify, mode=mode), f"#{k} {mode}"
            )
            want = ref.ref_tally(
                mode,
                gen.validators,
                gen.entries,
                sig_ok=gen.sig_ok,
                commit_height=gen.height,
                expected_height=gen.height,
                commit_block_id=commit.block_id,
                expected_block_id=commit.block_id,
            )
            assert (got.error.code.name if got.error else None) == want.code, (
                f"seed {seed} #{k} {mode}: {got.error}"
            )
            if want.code is None:
                assert got.signed_power == want.signed
            if got.error is not None and want.index is not None:
                assert got.error.index == want.index


def test_registered_set_by_hash_and_eviction(
    server: RunningServer, client: Client, stub: pb2_grpc.VerifierStub, local_verify: cb.VerifyFn
) -> None:
    rng = random.Random(7)
    gens = [ref.generate(rng, n, p_absent=0.0, p_nil=0.0) for n in (4, 5, 6)]
    hashes = []
    for g in gens:
        vals = cb.parse_validators(ref.validators_json(g.validators))
        h = client.register_validator_set(vals)
        assert h == vals.hash == g.validators_hash()
        hashes.append(h)
    # Registering the JSON form of a set gives the same hash, and says how many sets the server holds.
    response = stub.RegisterValidatorSet(
        pb2.RegisterValidatorSetRequest(
            validators_json=json.dumps(ref.validators_json(gens[2].validators)).encode()
        )
    )
    assert response.validator_set_hash == hashes[2] and response.validators == 6
    assert response.registered_sets == 2 and response.max_sets == 2
    # Each registered set's keys were decoded once into the engine's key stores; the evicted set's rows
    # (4 keys) were given back: 5 + 6 rows are in use.
    engine = server.server.engine  # type: ignore[union-attr]
    store = engine.key_stores["ed25519"] if engine is not None else None
    assert store is not None and store.rows - store.free == 11
    info = stub.GetInfo(pb2.GetInfoRequest()).validator_sets
    assert (info.registered, info.max_sets, info.key_store_rows - info.key_store_free) == (2, 2, 11)
    # The newest two are held: a commit refers to its set by hash only.
    for g, h in zip(gens[1:], hashes[1:], strict=True):
        r = client.verify_commit(json.dumps(g.commit_json()), validator_set_hash=h)
        assert r.valid and r.validators_hash == h and r.total_power == sum(v.power for v in g.validators)
    # The first was evicted (max_validator_sets=2): NOT_FOUND naming the hash, to a caller that never
    # registered it ...
    with (
        Client(server.target) as other,
        pytest.raises(cb.UnknownValidatorSetError, match=hashes[0].hex().upper()),
    ):
        other.verify_commit(json.dumps(gens[0].commit_json()), validator_set_hash=hashes[0])
    # ... while the client that registered it registers it again and is answered (verifier/client.py).
    r = client.verify_commit(json.dumps(gens[0].commit_json()), validator_set_hash=hashes[0])
    assert r.valid and r.validators_hash == hashes[0]
    with pytest.raises(grpc.RpcError) as info:
        stub.VerifyCommit(
            pb2.VerifyCommitRequest(
                commit_json=json.dumps(gens[1].commit_json()).encode(), validator_set_hash=b"\x01" * 32
            )
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def _expect(stub: pb2_grpc.VerifierStub, request: Any, code: grpc.StatusCode, match: str) -> None:
    with pytest.raises(grpc.RpcError) as info:
        stub.VerifyCommit(request, timeout=30)
    assert info.value.code() == code, info.value.details()
    assert match in (info.value.details() or ""), info.value.details()


def test_bad_requests_name_the_field(stub: pb2_grpc.VerifierStub) -> None:
    gen = ref.generate(random.Random(3), 5, p_absent=0.0, p_nil=0.0)
    commit = cb.parse_commit(gen.commit_json())
    vals = convert.validators_to_proto(cb.parse_validators(ref.validators_json(gen.validators)))
    msg, header = convert.commit_to_proto(commit)
    assert header is not None
    good = pb2.VerifyCommitRequest(commit=msg, header=header, validators=vals)
    assert stub.VerifyCommit(good, timeout=30).valid

    def changed(fn: Any) -> pb2.VerifyCommitRequest:
        r = pb2.VerifyCommitRequest()
        r.CopyFrom(good)
        fn(r)
        return r

    invalid = grpc.StatusCode.INVALID_ARGUMENT
    _expect(
        stub,
        pb2.VerifyCommitRequest(validators=vals),
        invalid,
        "commit_source: neither commit nor commit_json",
    )
    _expect(stub, pb2.VerifyCommitRequest(commit=msg, header=header), invalid, "validators_source")
    _expect(
        stub,
        pb2.VerifyCommitRequest(commit_json=b"{not json", validators=vals),
        invalid,
        "commit_json: not JSON",
    )
    _expect(
        stub,
        pb2.VerifyCommitRequest(commit_json=b"\xff{}", validators=vals),
        invalid,
        "commit_json: not UTF-8 JSON",
    )
    deep = b"[" * 200_000 + b"]" * 200_000
    _expect(
        stub,
        pb2.VerifyCommitRequest(commit_json=deep, validators=vals),
        invalid,
        "commit_json: JSON nested too deeply",
    )
    _expect(
        stub,
        pb2.VerifyCommitRequest(commit=msg, header=header, validators_json=deep),
        invalid,
        "validators_json: JSON nested too deeply",
    )
    _expect(
        stub,
        changed(lambda r: setattr(r.commit.signatures[3], "validator_address", b"\x01" * 19)),
        invalid,
        "commit.signatures[3].validator_address: 19 bytes, expected 20",
    )
    _expect(
        stub,
        changed(lambda r: setattr(r.commit.signatures[1], "block_id_flag", 0)),
        invalid,
        "commit.signatures[1].block_id_flag: unknown BlockIDFlag 0",
    )
    _expect(
        stub,
        changed(lambda r: setattr(r.commit.block_id, "hash", b"\x00" * 31)),
        invalid,
        "commit.block_id.hash: 31 bytes",
    )
    _expect(
        stub,
        changed(lambda r: setattr(r.validators.validators[2].pub_key, "ed25519", b"\x00" * 31)),
        invalid,
        "validators[2].pub_key: 31 bytes",
    )
    _expect(
        stub,
        changed(lambda r: r.validators.validators[2].ClearField("pub_key")),
        invalid,
        "validators.validators[2].pub_key.ed25519: missing",
    )
    _expect(
        stub,
        changed(lambda r: setattr(r.validators.validators[0], "address", b"\x00" * 20)),
        invalid,
        "validators[0].address",
    )
    trusting = changed(lambda r: setattr(r, "mode", pb2.COMMIT_MODE_TRUSTING))
    trusting.trust_level.numerator, trusting.trust_level.denominator = 1, 4
    _expect(stub, trusting, invalid, "trust_level: 1/4 is not within [1/3, 1]")
    _expect(stub, changed(lambda r: setattr(r, "mode", 9)), invalid, "mode: unknown value 9")
    _expect(stub, changed(lambda r: r.ClearField("header")), invalid, "chain_id: required")
    big = ref.generate(random.Random(4), 301, p_absent=1.0, p_nil=0.0)
    _expect(
        stub,
        pb2.VerifyCommitRequest(commit_json=json.dumps(big.commit_json()).encode(), validators=vals),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "request has 301 commit signatures; the limit is 300",
    )
    # The server still answers.
    assert stub.VerifyCommit(good, timeout=30).valid


def test_expected_height_block_id_and_trust_level(client: Client) -> None:
    gen = ref.generate(random.Random(5), 10, p_absent=0.0, p_nil=0.0)
    commit = cb.parse_commit(gen.commit_json())
    vals = cb.parse_validators(ref.validators_json(gen.validators))
    r = client.verify_commit(commit, vals, height=gen.height + 1)
    assert r.error is not None and r.error.code == cb.ErrorCode.WRONG_HEIGHT
    other = cb.BlockID(b"\x07" * 32, commit.block_id.part_set_header)
    r = client.verify_commit(commit, vals, block_id=other)
    assert r.error is not None and r.error.code == cb.ErrorCode.WRONG_BLOCK_ID
    assert client.verify_commit(commit, vals, block_id=commit.block_id, height=gen.height).valid
    r = client.verify_commit(commit, vals, mode="trusting", trust_level="1/1")
    assert r.valid is False and r.error is not None and r.error.code == cb.ErrorCode.INSUFFICIENT_POWER
    assert r.needed_power == r.total_power
    assert client.verify_commit(commit, vals, mode="trusting", trust_level=(2, 3)).valid
    # The trust level travels unreduced: 2^62 / (3 * 2^61) is 2/3, but CometBFT's overflow check sees 2^62.
    with pytest.raises(VerifierError, match="int64 overflow while calculating voting power needed"):
        client.verify_commit(commit, vals, mode="trusting", trust_level=(2**62, 3 * 2**61))


def test_many_concurrent_commits_all_answered(client: Client, local_verify: cb.VerifyFn) -> None:
    """More concurrent commits than the server has worker threads: each is planned on a worker, awaits its
    batch on the event loop and is finished on a worker, so every one is answered, right."""
    import concurrent.futures

    rng = random.Random(10)
    gens = [ref.generate(rng, 30, p_absent=0.1, p_nil=0.1, n_bad=k % 3) for k in range(8)]
    docs = [(json.dumps(g.commit_json()), json.dumps(ref.validators_json(g.validators))) for g in gens]
    want = [
        cb.verify_commit(None, cb.parse_validators(v), cb.parse_commit(c), verify=local_verify)
        for c, v in docs
    ]
    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        futures = [pool.submit(client.verify_commit, *docs[k % 8]) for k in range(48)]
        got = [f.result(timeout=120) for f in futures]
    for k, r in enumerate(got):
        assert_same(r, want[k % 8], f"call {k}")


def test_commits_waiting_for_their_batch_hold_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan, await, finish: with the backend held, twice as many commits as the server has worker threads
    all reach the scheduler (none holds a thread while its batch waits), and all are answered once it
    is let go."""
    import concurrent.futures
    import threading

    from verifier.scheduler import Scheduler

    gated = GatedCpu()
    gated.install(monkeypatch)
    waiting = threading.Semaphore(0)
    inner = Scheduler.verify

    async def counting(self: Scheduler, *args: Any, **kwargs: Any) -> Any:
        waiting.release()
        return await inner(self, *args, **kwargs)

    monkeypatch.setattr(Scheduler, "verify", counting)
    gen = ref.generate(random.Random(11), 8, p_absent=0.0, p_nil=0.0)
    commit, vals = json.dumps(gen.commit_json()), json.dumps(ref.validators_json(gen.validators))
    # More than any pool of the server has threads (the old commit pool had one per core, at least 4).
    n = 2 * max(4, os.cpu_count() or 1) + 4
    with running_server() as srv, Client(srv.target, timeout=60) as cl:
        gated.open.clear()
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            futures = [pool.submit(cl.verify_commit, commit, vals) for _ in range(n)]
            for k in range(n):
                assert waiting.acquire(timeout=30), f"only {k} of {n} commits reached the scheduler"
            assert not any(f.done() for f in futures)
            gated.open.set()
            results = [f.result(timeout=60) for f in futures]
    assert all(r.valid for r in results) and len(results) == n


def test_commit_metrics(server: RunningServer, client: Client) -> None:
    """The counter of the answer's own result label moves by one, and no other label moves."""
    gen = ref.generate(random.Random(6), 8, p_absent=0.0, p_nil=0.0, n_bad=8)

    def counts() -> dict[tuple[str, str], float]:
        return {
            (sample.labels["mode"], sample.labels["result"]): sample.value
            for metric in server.registry.collect()
            if metric.name == "verifier_commits"
            for sample in metric.samples
            if sample.name == "verifier_commits_total"
        }

    before = counts()
    r = client.verify_commit(
        json.dumps(gen.commit_json()), json.dumps(ref.validators_json(gen.validators)), mode="light"
    )
    assert not r.valid and r.error is not None
    label = ("light", r.error.code.name.lower())
    after = counts()
    assert after[label] == before.get(label, 0) + 1
    assert {k: v for k, v in after.items() if k != label} == {k: v for k, v in before.items() if k != label}
    assert server.registry.get_sample_value("verifier_validator_sets") is not None
    assert server.registry.get_sample_value("verifier_device_memory_used_bytes") == 0  # cpu backend


# ------------------------------------------------------------------------------------------- CLI


def _files(tmp_path: Path, gen: ref.Generated, pages: int = 1) -> tuple[str, list[str]]:
    c = tmp_path / "commit.json"
    c.write_text(json.dumps(gen.commit_json()))
    doc = ref.validators_json(gen.validators, per_page=-(-len(gen.validators) // pages))
    paths = []
    for i, page in enumerate(doc):
        p = tmp_path / f"validators-{i}.json"
        p.write_text(json.dumps(page))
        paths.append(str(p))
    return str(c), paths


def test_cli_verify_commit_local_and_remote(
    tmp_path: Path, server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    gen = ref.generate(random.Random(8), 40, p_absent=0.1, p_nil=0.1)
    commit, validators = _files(tmp_path, gen, pages=2)
    assert len(validators) == 2
    for where in (["--backend", "cpu"], ["--target", server.target]):
        assert main(["verify", "commit", "--commit", commit, "--validators", *validators, *where]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["valid"] is True and out["error"] is None and out["mode"] == "full"
        assert out["validators_hash"] == gen.validators_hash().hex().upper()
        assert len(out["signatures"]) == 40
        assert {s["status"] for s in out["signatures"]} <= {"VERIFIED", "ABSENT"}
        assert all(s["verdict"] == "OK" for s in out["signatures"] if s["status"] == "VERIFIED")
        # Trusting with trust level 1/1: not enough power (absent votes) -> exit 3, the error in CometBFT's terms.
        code = main(
            [
                "verify",
                "commit",
                "--commit",
                commit,
                "--validators",
                *validators,
                "--mode",
                "trusting",
                "--trust-level",
                "1/1",
                *where,
            ]
        )
        out = json.loads(capsys.readouterr().out)
        assert code == 3 and out["valid"] is False and out["error"]["code"] == "INSUFFICIENT_POWER"
        assert out["error"]["message"].startswith("invalid commit -- insufficient voting power: got ")


def test_cli_verify_commit_bad_signature_and_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gen = ref.generate(random.Random(9), 12, p_absent=0.0, p_nil=0.0, n_bad=1)
    commit, validators = _files(tmp_path, gen)
    assert (
        main(["verify", "commit", "--commit", commit, "--validators", *validators, "--backend", "cpu"]) == 3
    )
    out = json.loads(capsys.readouterr().out)
    (bad,) = gen.bad
    assert out["error"]["code"] == "INVALID_SIGNATURE" and out["error"]["index"] == bad
    assert out["signatures"][bad]["verdict"] != "OK"
    broken = tmp_path / "broken.json"
    broken.write_text('{"result": {"validators": "nope"}}')
    assert (
        main(["verify", "commit", "--commit", commit, "--validators", str(broken), "--backend", "cpu"]) == 1
    )
    assert "validators: expected a list" in capsys.readouterr().err
