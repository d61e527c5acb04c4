"""The ECDSA schemes (docs/RULES.md section 5) on the CPU backend, their reference: every Wycheproof case
under every policy against the verdict recorded from the reference libraries, each rejection's reason
checked against the rules' cheap checks, the strict DER reader and the key decoder against the
references, the known answers, and the routing of a backend without an ECDSA kernel to the CPU.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

import verifier
from tests.support.harness import running_server
from tests.support.vectors import ecdsa_vectors
from verifier.backends.cpu import CpuBackend
from verifier.batch import EcdsaBatch
from verifier.cli import main
from verifier.engine import Engine, Limits
from verifier.errors import InvalidRequestError
from verifier.schemes import ECDSA_P256, ECDSA_SECP256K1, Scheme
from verifier.schemes._ecdsa import P256, SECP256K1, Curve, decode_point, parse_signature
from verifier.schemes.ecdsa_p256 import check as p256_check
from verifier.schemes.ecdsa_secp256k1 import check as secp256k1_check
from verifier.v1 import verifier_pb2 as pb2
from verifier.v1 import verifier_pb2_grpc as pb2_grpc
from verifier.verdict import Policy, Verdict

_CURVES: dict[str, Curve] = {ECDSA_SECP256K1.name: SECP256K1, ECDSA_P256.name: P256}
_ECDSA = pytest.mark.parametrize("scheme", [ECDSA_SECP256K1, ECDSA_P256], ids=lambda s: s.name)


@pytest.fixture(scope="module")
def cpu() -> Iterator[CpuBackend]:
    be = CpuBackend()
    yield be
    be.close()


def test_strict_der_reader() -> None:
    r, s = 0x1234, 0x80
    good = bytes([0x30, 8, 2, 2, 0x12, 0x34, 2, 2, 0x00, 0x80])
    assert parse_signature(good) == (r, s)
    assert parse_signature(bytes(64)) == (0, 0)  # 64 bytes: always r || s
    bad = {
        "trailing byte": good + b"\x00",
        "sequence length off": bytes([0x30, 9]) + good[2:],
        "long-form length": bytes([0x30, 0x81, 8]) + good[2:],
        "negative r": bytes([0x30, 7, 2, 1, 0x80, 2, 2, 0x00, 0x80]),
        "padding zero": bytes([0x30, 9, 2, 3, 0x00, 0x12, 0x34, 2, 2, 0x00, 0x80]),
        "empty integer": bytes([0x30, 6, 2, 0, 2, 2, 0x00, 0x80]),
        "not an integer": bytes([0x30, 8, 3, 2, 0x12, 0x34, 2, 2, 0x00, 0x80]),
        "third integer": bytes([0x30, 11, 2, 2, 0x12, 0x34, 2, 2, 0x00, 0x80, 2, 1, 1]),
    }
    for name, sig in bad.items():
        assert parse_signature(sig) is None, name


@_ECDSA
def test_key_decoder_against_the_reference(scheme: Scheme) -> None:
    """A key decodes exactly when the reference parses it (tried through a signature the key makes valid)."""
    curve = _CURVES[scheme.name]
    v = next(v for v in ecdsa_vectors(scheme.name) if all(v.valid.values()))
    check = secp256k1_check if scheme is ECDSA_SECP256K1 else p256_check
    policy = scheme.policies[0]
    x, y = v.public_key[1:33], v.public_key[33:]
    parity = int.from_bytes(y, "big") & 1
    keys = {
        "uncompressed": v.public_key,
        "compressed": bytes([2 + parity]) + x,
        "compressed, wrong parity": bytes([3 - parity]) + x,
        "hybrid": bytes([6 + parity]) + x + y,
        "hybrid, wrong parity": bytes([7 - parity]) + x + y,
        "x = p": b"\x04" + curve.p.to_bytes(32, "big") + y,
        "y flipped": b"\x04" + x + bytes([y[0] ^ 1]) + y[1:],
        "prefix 05": b"\x05" + x + y,
        "infinity": b"\x00",
    }
    for name, key in keys.items():
        accepted = check(key, v.signature, v.digest, policy)
        decodes = decode_point(curve, key) is not None
        # A key that decodes to another point (wrong parity) makes the signature fail, but still decodes.
        if accepted:
            assert decodes, name
        if not decodes:
            assert not accepted, name
    assert (
        decode_point(curve, keys["hybrid"]) is not None
        if curve.hybrid_keys
        else decode_point(curve, keys["hybrid"]) is None
    )


@_ECDSA
def test_known_answers_and_default_policy(scheme: Scheme) -> None:
    kat = scheme.known_answers()
    be = CpuBackend(workers=1)
    try:
        for policy in scheme.policies:
            got = be.run(scheme, kat.batch, policy)
            assert [Verdict(int(c)) for c in got] == list(kat.expected[policy]), policy
    finally:
        be.close()
    assert scheme.parse_policy(None) is scheme.policies[0]
    with pytest.raises(InvalidRequestError, match="unknown policy 'zip215'"):
        scheme.parse_policy(Policy.ZIP215)


def test_public_api_messages_are_hashed_and_curves_named() -> None:
    kat = ECDSA_SECP256K1.known_answers()
    key, sig = kat.batch.public_key(0), kat.batch.signature(0)
    digest = kat.batch.digests[0].tobytes()
    assert verifier.verify_ecdsa([key], [sig], [digest], backend="cpu").all_valid
    message = b"any message"
    wrong = verifier.verify_ecdsa([key], [sig], messages=[message], backend="cpu")
    assert wrong.verdict(0) is Verdict.EQUATION_FAILED
    assert hashlib.sha256(message).digest() != digest
    with pytest.raises(InvalidRequestError, match="unknown curve 'ed448'"):
        verifier.verify_ecdsa([key], [sig], [digest], curve="ed448", backend="cpu")


class _NoEcdsaKernel(CpuBackend):
    """A device stand-in without ECDSA runners (as backend cuda is until it has them)."""

    name = "device"

    def __init__(self) -> None:
        super().__init__(workers=1)
        for s in (ECDSA_SECP256K1, ECDSA_P256):
            del self.runners[s.name]
        self.policies = {k: r.policies for k, r in self.runners.items()}


def test_a_backend_without_an_ecdsa_kernel_runs_it_on_the_cpu() -> None:
    engine = Engine(_NoEcdsaKernel())
    try:
        assert ECDSA_P256.name not in engine.backend.policies
        kat = ECDSA_P256.known_answers()
        result = engine.verify(ECDSA_P256, kat.batch, "fabric")
        assert result.backend == "cpu"
        assert [Verdict(int(c)) for c in result.verdicts] == list(kat.expected[Policy.FABRIC])
    finally:
        engine.close()


def test_over_grpc_the_client_the_raw_request_and_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """VerifySignatures with ``scheme`` and length columns: the client's answers equal the CPU
    backend's, ``hash_messages`` hashes on the server, a policy of another scheme is INVALID_ARGUMENT, and
    ``verifier verify ecdsa --curve ... --target`` prints one line per input line."""
    vectors = ecdsa_vectors(ECDSA_P256.name)[:200]
    keys, sigs, digests = (
        [v.public_key for v in vectors],
        [v.signature for v in vectors],
        [v.digest for v in vectors],
    )
    local = CpuBackend(workers=1)
    try:
        want = local.run(ECDSA_P256, EcdsaBatch.from_items(keys, sigs, digests), Policy.FABRIC)
    finally:
        local.close()
    with running_server() as server, verifier.Client(server.target) as client:
        got = client.verify_ecdsa(keys, sigs, digests, curve="p256", policy="fabric")
        assert got.verdicts.tolist() == want.tolist() and got.backend == "cpu"
        kat = ECDSA_SECP256K1.known_answers()
        message = b"verifier ecdsa over grpc"
        stub = pb2_grpc.VerifierStub(grpc.insecure_channel(server.target))
        key, sig = kat.batch.public_key(0), kat.batch.signature(0)
        request = pb2.VerifySignaturesRequest(
            scheme=pb2.SIGNATURE_SCHEME_ECDSA_SECP256K1,
            public_keys=key,
            public_key_lengths=[len(key)],
            signatures=sig,
            signature_lengths=[len(sig)],
            messages=message,
            message_lengths=[len(message)],
            hash_messages=True,
        )
        answer = stub.VerifySignatures(request, timeout=30)
        assert list(answer.verdicts) == [Verdict.EQUATION_FAILED]  # the KAT signed another digest
        request.policy = pb2.POLICY_ZIP215
        with pytest.raises(grpc.RpcError) as info:
            stub.VerifySignatures(request, timeout=30)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "POLICY_ZIP215 is not a policy of ecdsa-secp256k1" in (info.value.details() or "")
        lines = tmp_path / "items.jsonl"
        lines.write_text(
            "\n".join(
                [
                    json.dumps(
                        {
                            "public_key": key.hex(),
                            "signature": sig.hex(),
                            "digest": kat.batch.digests[0].tobytes().hex(),
                            "id": 7,
                        }
                    ),
                    json.dumps({"public_key": key.hex(), "signature": sig.hex(), "message": message.hex()}),
                    "not json",
                ]
            )
            + "\n"
        )
        assert main(["verify", "ecdsa", "--curve", "secp256k1", "--target", server.target, str(lines)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0] == {"line": 1, "id": 7, "valid": True, "verdict": "OK"}
    assert out[1] == {"line": 2, "valid": False, "verdict": "EQUATION_FAILED"}
    assert (
        out[2]["line"] == 3
        and out[2]["verdict"] == "MALFORMED_LENGTH"
        and "not valid JSON" in out[2]["error"]
    )


def test_hostile_ecdsa_requests_get_a_clear_status_before_bulk_work() -> None:
    """The ECDSA form of VerifySignatures refused on its counts before any column is decoded: too many
    items is RESOURCE_EXHAUSTED (the count is read from message_lengths alone), length columns that
    disagree with the buffers or with the item count, and an unknown scheme, are INVALID_ARGUMENT naming
    the field. A signature of any length (here 1 MiB) is a verdict, not an error."""
    with (
        running_server(limits=Limits(max_items=10)) as server,
        grpc.insecure_channel(server.target) as channel,
    ):
        stub = pb2_grpc.VerifierStub(channel)
        secp = pb2.SIGNATURE_SCHEME_ECDSA_SECP256K1

        def status(request: pb2.VerifySignaturesRequest) -> tuple[grpc.StatusCode, str]:
            with pytest.raises(grpc.RpcError) as info:
                stub.VerifySignatures(request, timeout=30)
            return info.value.code(), info.value.details() or ""

        code, text = status(pb2.VerifySignaturesRequest(scheme=secp, message_lengths=[32] * 11))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "request has 11 items; the limit is 10" in text
        code, text = status(
            pb2.VerifySignaturesRequest(
                scheme=secp,
                messages=bytes(32),
                message_lengths=[32],
                public_key_lengths=[33, 33],
                signature_lengths=[64],
            )
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "public_key_lengths has 2 entries" in text
        code, text = status(
            pb2.VerifySignaturesRequest(
                scheme=secp,
                public_keys=bytes(32),
                public_key_lengths=[33],
                signatures=bytes(64),
                signature_lengths=[64],
                messages=bytes(32),
                message_lengths=[32],
            )
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "public_key_lengths sum to 33 bytes" in text
        request = pb2.VerifySignaturesRequest(message_lengths=[32], messages=bytes(32))
        request.scheme = 99  # type: ignore[assignment]  # an enum value this server does not know
        code, text = status(request)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "scheme: unknown value 99" in text
        kat = ECDSA_SECP256K1.known_answers()
        key, huge = kat.batch.public_key(0), b"\x30" + bytes((1 << 20) - 1)
        answer = stub.VerifySignatures(
            pb2.VerifySignaturesRequest(
                scheme=secp,
                public_keys=key,
                public_key_lengths=[len(key)],
                signatures=huge,
                signature_lengths=[len(huge)],
                messages=kat.batch.digests[0].tobytes(),
                message_lengths=[32],
            ),
            timeout=30,
        )
        assert list(answer.verdicts) == [Verdict.INVALID_SIGNATURE_ENCODING]
