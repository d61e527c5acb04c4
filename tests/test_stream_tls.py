"""The streaming RPC, deadlines over the wire, and TLS / mutual TLS with certificates made at test time."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import nacl.signing
import pytest

import verifier
from tests.support import cometbft_ref as ref
from tests.support.harness import RunningServer, running_server
from tests.support.pki import make_pki
from verifier.admission import ConsensusAccess
from verifier.errors import PermissionDeniedError
from verifier.scheduler import Priority, SchedulerConfig
from verifier.v1 import verifier_pb2 as pb2
from verifier.v1 import verifier_pb2_grpc as pb2_grpc
from verifier.verdict import Verdict

SK = nacl.signing.SigningKey(b"\x44" * 32)
PK = bytes(SK.verify_key)


def _request(n: int, bad: int | None = None) -> pb2.VerifySignaturesRequest:
    msgs = [os.urandom(30) for _ in range(n)]
    sigs = [SK.sign(m).signature for m in msgs]
    if bad is not None:
        msgs[bad] = b"tampered" + msgs[bad]
    return pb2.VerifySignaturesRequest(
        public_keys=PK * n,
        signatures=b"".join(sigs),
        messages=b"".join(msgs),
        message_lengths=[len(m) for m in msgs],
    )


def test_stream_answers_every_batch_once_with_its_id() -> None:
    with (
        running_server(scheduler=SchedulerConfig(stream_window=2, max_queue_delay_us=2000)) as server,
        grpc.insecure_channel(server.target) as channel,
    ):
        stub = pb2_grpc.VerifierStub(channel)

        def requests() -> Iterator[pb2.StreamRequest]:
            for i in range(40):
                if i == 17:  # a malformed batch is answered with an error, the stream goes on
                    yield pb2.StreamRequest(
                        id=i,
                        signatures=pb2.VerifySignaturesRequest(public_keys=b"x", message_lengths=[0]),
                    )
                elif i % 3 == 0:
                    proof = pb2.VerifyMerkleProofsRequest(
                        leaf_hashes=b"h" * 32,
                        leaf_indices=[0],
                        tree_sizes=[1],
                        path_lengths=[0],
                        roots=b"h" * 32,
                    )
                    yield pb2.StreamRequest(id=i, merkle_proofs=proof)
                else:
                    yield pb2.StreamRequest(id=i, signatures=_request(1 + i % 5, bad=0 if i % 2 else None))

        answers = {r.id: r for r in stub.VerifyStream(requests(), timeout=60)}
    assert sorted(answers) == list(range(40))
    assert answers[17].WhichOneof("result") == "error"
    assert answers[17].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "public_keys holds 1 bytes" in answers[17].error.message
    for i, answer in answers.items():
        if i == 17:
            continue
        if i % 3 == 0:
            assert answer.merkle_proofs.verdicts == bytes([Verdict.OK]), i
        else:
            got = answer.signatures
            assert len(got.verdicts) == 1 + i % 5
            assert got.verdicts[0] == (Verdict.EQUATION_FAILED if i % 2 else Verdict.OK), i


def test_expired_deadline_is_deadline_exceeded() -> None:
    with running_server() as server, grpc.insecure_channel(server.target) as channel:
        stub = pb2_grpc.VerifierStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.VerifySignatures(_request(2000), timeout=0.001)
        assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert stub.VerifySignatures(_request(3), timeout=30).all_valid  # and the server is fine


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _verify_over(target: str, **tls: str) -> bool:
    with verifier.Client(target, timeout=10, **tls) as client:
        return client.verify_ed25519([PK], [SK.sign(b"m").signature], [b"m"]).all_valid


def test_tls(pki: dict[str, str]) -> None:
    with running_server(tls_cert=pki["server_crt"], tls_key=pki["server_key"]) as server:
        target = f"localhost:{server.server.port}"  # type: ignore[union-attr]
        assert _verify_over(target, tls_ca=pki["ca_crt"])
        with pytest.raises(verifier.VerifierError, match="UNAVAILABLE"):
            _verify_over(target, tls_ca=pki["other_ca_crt"])  # the client does not trust this server


def test_mutual_tls_refuses_clients_without_a_valid_certificate(pki: dict[str, str]) -> None:
    with running_server(
        tls_cert=pki["server_crt"], tls_key=pki["server_key"], tls_client_ca=pki["ca_crt"]
    ) as server:
        target = f"localhost:{server.server.port}"  # type: ignore[union-attr]
        assert _verify_over(
            target, tls_ca=pki["ca_crt"], tls_cert=pki["client_crt"], tls_key=pki["client_key"]
        )
        with pytest.raises(verifier.VerifierError, match="UNAVAILABLE"):
            _verify_over(target, tls_ca=pki["ca_crt"])  # no client certificate
        with pytest.raises(verifier.VerifierError, match="UNAVAILABLE"):
            _verify_over(
                target, tls_ca=pki["ca_crt"], tls_cert=pki["stranger_crt"], tls_key=pki["stranger_key"]
            )


def test_tls_misconfiguration_is_refused(tmp_path: Path) -> None:
    from verifier.server import ServerConfig

    with pytest.raises(ValueError, match="both a certificate and a key"):
        ServerConfig(tls_cert=str(tmp_path / "x.crt")).server_credentials()
    with pytest.raises(ValueError, match="client CA needs a server certificate"):
        ServerConfig(tls_client_ca=str(tmp_path / "ca.crt")).server_credentials()


# ------------------------------------------------------------------------------ who may claim consensus


def _secure_stub(target: str, pki: dict[str, str], who: str) -> tuple[grpc.Channel, pb2_grpc.VerifierStub]:
    def read(name: str) -> bytes:
        return Path(pki[name]).read_bytes()

    credentials = grpc.ssl_channel_credentials(read("ca_crt"), read(f"{who}_key"), read(f"{who}_crt"))
    channel = grpc.secure_channel(target, credentials)
    return channel, pb2_grpc.VerifierStub(channel)


def _priorities_seen(server: RunningServer) -> list[Priority]:
    """The priority of every batch the server's scheduler is given from now on."""
    assert server.server is not None and server.server.scheduler is not None
    sched = server.server.scheduler
    inner = sched.verify
    seen: list[Priority] = []

    async def spy(
        scheme: Any,
        batch: Any,
        policy: Any = None,
        *,
        priority: Priority = Priority.BULK,
        timeout: float | None = None,
    ) -> Any:
        seen.append(priority)
        return await inner(scheme, batch, policy, priority=priority, timeout=timeout)

    sched.verify = spy  # type: ignore[method-assign]
    return seen


def _commit_request(**fields: Any) -> pb2.VerifyCommitRequest:
    gen = ref.generate(random.Random(11), 4, p_absent=0.0, p_nil=0.0)
    return pb2.VerifyCommitRequest(
        commit_json=json.dumps(gen.commit_json()).encode(),
        validators_json=json.dumps(ref.validators_json(gen.validators)).encode(),
        **fields,
    )


def _denied(call: Any, request: Any, *matches: str) -> None:
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=30)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED, info.value.details()
    for match in matches:
        assert match in (info.value.details() or ""), info.value.details()


def test_consensus_clients_decide_who_may_claim_consensus(pki: dict[str, str], tmp_path: Path) -> None:
    """--consensus-clients (with mutual TLS): a listed certificate may send PRIORITY_CONSENSUS and register
    sets; for any other, an explicit PRIORITY_CONSENSUS is PERMISSION_DENIED naming the rule,
    VerifyCommit's default priority is demoted to bulk, and RegisterValidatorSet is PERMISSION_DENIED."""
    listed_file = tmp_path / "consensus-clients"
    listed_file.write_text("# the validators' own nodes\nclient\n\nnode-9.example  # not here yet\n")
    tls = dict(tls_cert=pki["server_crt"], tls_key=pki["server_key"], tls_client_ca=pki["ca_crt"])
    with running_server(**tls, consensus_clients=str(listed_file)) as server:
        target = f"localhost:{server.server.port}"  # type: ignore[union-attr]
        seen = _priorities_seen(server)
        consensus = _request(2)
        consensus.priority = pb2.PRIORITY_CONSENSUS
        register = pb2.RegisterValidatorSetRequest(validators_json=_commit_request().validators_json)
        listed_channel, listed = _secure_stub(target, pki, "client")
        other_channel, other = _secure_stub(target, pki, "bulk_client")
        with listed_channel, other_channel:
            assert listed.VerifySignatures(consensus, timeout=30).all_valid
            assert listed.VerifyCommit(_commit_request(), timeout=30).valid
            assert listed.RegisterValidatorSet(register, timeout=30).validators == 4
            assert seen == [Priority.CONSENSUS, Priority.CONSENSUS]
            seen.clear()

            _denied(
                other.VerifySignatures,
                consensus,
                "priority: PRIORITY_CONSENSUS is reserved for the clients "
                "--consensus-clients lists; this client (bulk-client",
                "is not listed",
            )
            _denied(
                other.VerifyCommit, _commit_request(priority=pb2.PRIORITY_CONSENSUS), "--consensus-clients"
            )
            _denied(other.RegisterValidatorSet, register, "RegisterValidatorSet: is reserved for the clients")
            demoted = server.registry.get_sample_value(
                "verifier_priority_demoted_total", {"grpc_method": "VerifyCommit"}
            )
            assert other.VerifyCommit(_commit_request(), timeout=30).valid  # answered, at bulk priority
            bulk = _request(2)
            bulk.priority = pb2.PRIORITY_BULK
            assert other.VerifySignatures(bulk, timeout=30).all_valid
            assert seen == [Priority.BULK, Priority.BULK]
            assert (
                server.registry.get_sample_value(
                    "verifier_priority_demoted_total", {"grpc_method": "VerifyCommit"}
                )
                == (demoted or 0) + 1
            )
            answers = list(
                other.VerifyStream(iter([pb2.StreamRequest(id=4, signatures=consensus)]), timeout=30)
            )
            assert answers[0].id == 4 and answers[0].error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]


def test_bulk_only_without_tls_demotes_everyone(tmp_path: Path) -> None:
    """--consensus-priority bulk-only: nobody may claim consensus (explicit is PERMISSION_DENIED, VerifyCommit
    runs at bulk), and without --consensus-clients anyone may still register a set."""
    with (
        running_server(consensus_priority="bulk-only") as server,
        grpc.insecure_channel(server.target) as channel,
    ):
        seen = _priorities_seen(server)
        stub = pb2_grpc.VerifierStub(channel)
        consensus = _request(1)
        consensus.priority = pb2.PRIORITY_CONSENSUS
        _denied(
            stub.VerifySignatures,
            consensus,
            "PRIORITY_CONSENSUS is refused: this server runs with --consensus-priority bulk-only",
        )
        assert stub.VerifyCommit(_commit_request(), timeout=30).valid
        assert seen == [Priority.BULK]
        request = _commit_request()
        assert (
            stub.RegisterValidatorSet(
                pb2.RegisterValidatorSetRequest(validators_json=request.validators_json), timeout=30
            ).validators
            == 4
        )


def test_consensus_access_matches_any_certificate_identity(tmp_path: Path) -> None:
    class Context:
        def __init__(self, auth: dict[str, list[bytes]]) -> None:
            self.auth = auth

        def auth_context(self) -> dict[str, list[bytes]]:
            return self.auth

    access = ConsensusAccess(["node-1.example", "CN=validator-2,O=chain"])
    assert access.caller(
        Context({"x509_subject_alternative_name": [b"other", b"node-1.example"]})
    ).may_register
    assert access.caller(Context({"x509_subject": [b"CN=validator-2,O=chain"]})).may_claim_consensus
    refused = access.caller(Context({"x509_common_name": [b"node-1"], "x509_subject": [b"CN=node-1"]}))
    assert not refused.may_claim_consensus and not refused.may_register
    assert refused.priority(pb2.PRIORITY_UNSPECIFIED, Priority.CONSENSUS) == (Priority.BULK, True)
    assert refused.priority(pb2.PRIORITY_BULK, Priority.CONSENSUS) == (Priority.BULK, False)
    with pytest.raises(PermissionDeniedError, match="this client \\(node-1, CN=node-1\\) is not listed"):
        refused.priority(pb2.PRIORITY_CONSENSUS, Priority.BULK)
    assert ConsensusAccess().caller(Context({})).priority(pb2.PRIORITY_UNSPECIFIED, Priority.CONSENSUS) == (
        Priority.CONSENSUS,
        False,
    )


def test_consensus_access_misconfiguration_is_refused(tmp_path: Path) -> None:
    from verifier.server import ServerConfig

    clients = tmp_path / "clients"
    clients.write_text("client\n")
    with pytest.raises(ValueError, match="--consensus-clients needs mutual TLS"):
        ServerConfig(consensus_clients=str(clients)).consensus_access()
    with pytest.raises(ValueError, match="open or bulk-only"):
        ServerConfig(consensus_priority="sometimes").consensus_access()
    access = ServerConfig(consensus_clients=str(clients), tls_client_ca="ca.crt").consensus_access()
    assert access.clients == frozenset({"client"})
