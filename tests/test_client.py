"""verifier.Client in a fleet (verifier/client.py): target forms, round_robin over three servers, a replica
killed mid-load, and commits by a registered set's hash on replicas that never saw the set.

Three ``verifier serve`` processes on loopback (backend cpu). Every verdict is checked against what the
signatures are, not only counted.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.request
from collections.abc import Iterator

import nacl.signing
import numpy as np
import pytest

import verifier
from tests.support import cometbft_ref as ref
from verifier import cometbft as cb
from verifier.client import SERVICE_CONFIG, grpc_target
from verifier.errors import InvalidRequestError, UnknownValidatorSetError
from verifier.testing import ServeProcess
from verifier.verdict import Verdict


def test_target_forms() -> None:
    assert grpc_target("dns:///verifier.ns.svc:50051") == "dns:///verifier.ns.svc:50051"
    assert grpc_target("10.0.0.1:50051") == "10.0.0.1:50051"
    assert grpc_target(["127.0.0.1:1", "127.0.0.2:2", "127.0.0.1:1"]) == "ipv4:127.0.0.1:1,127.0.0.2:2"
    assert grpc_target(["[::1]:7"]) == "ipv6:[::1]:7"
    with pytest.raises(InvalidRequestError, match="host:port"):
        grpc_target(["127.0.0.1"])
    with pytest.raises(InvalidRequestError, match="one family"):
        grpc_target(["127.0.0.1:1", "[::1]:1"])
    policy = SERVICE_CONFIG["methodConfig"][0]["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"] and policy["maxAttempts"] > 1
    assert SERVICE_CONFIG["loadBalancingConfig"] == [{"round_robin": {}}]


@pytest.fixture
def fleet() -> Iterator[list[ServeProcess]]:
    servers = [ServeProcess() for _ in range(3)]
    try:
        for s in servers:
            s.wait_ready()
        yield servers
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            if s.proc.poll() is None:
                s.wait_exit()


def _requests_served(server: ServeProcess) -> float:
    """verifier_requests_total summed over its labels, from the server's metrics endpoint."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("verifier_requests_total{")
    )


def _signed(n: int, seed: int) -> tuple[list[bytes], list[bytes], list[bytes], np.ndarray]:
    """n signatures, every third one broken (a flipped message byte): the batch and its verdicts."""
    rng = random.Random(seed)
    key = nacl.signing.SigningKey(rng.randbytes(32))
    msgs = [rng.randbytes(40) for _ in range(n)]
    sigs = [key.sign(m).signature for m in msgs]
    want = np.full(n, Verdict.OK, dtype=np.uint8)
    for i in range(0, n, 3):
        msgs[i] = bytes([msgs[i][0] ^ 1]) + msgs[i][1:]
        want[i] = Verdict.EQUATION_FAILED
    return [bytes(key.verify_key)] * n, sigs, msgs, want


def test_round_robin_and_a_replica_killed_mid_load(fleet: list[ServeProcess]) -> None:
    before = [_requests_served(s) for s in fleet]
    wrong: list[str] = []
    answered = [0]
    killed = threading.Event()
    lock = threading.Lock()

    def caller(k: int) -> None:
        with verifier.Client([s.target for s in fleet], timeout=30) as client:
            for j in range(40):
                pks, sigs, msgs, want = _signed(48, 1000 * k + j)
                got = client.verify_ed25519(pks, sigs, msgs, policy="zip215").verdicts
                with lock:
                    answered[0] += 1
                    if not np.array_equal(got, want):
                        wrong.append(f"caller {k} call {j}")
                    if answered[0] == 30 and not killed.is_set():
                        fleet[1].proc.kill()  # mid-load, calls in flight
                        killed.set()

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert killed.is_set() and fleet[1].proc.wait(10) != 0
    assert answered[0] == 160 and not wrong, wrong
    served = [
        _requests_served(s) - b for s, b in zip((fleet[0], fleet[2]), (before[0], before[2]), strict=True)
    ]
    assert all(n > 0 for n in served), f"round_robin should reach every live replica: {served}"


def test_commits_by_hash_on_replicas_that_never_saw_the_set(fleet: list[ServeProcess]) -> None:
    """The set is registered through the fleet client, so on one replica; a plain client of each replica
    shows the others answer NOT_FOUND. The fleet client's commits by hash all verify anyway (register
    again, send the set inline), and a hash it never registered stays NOT_FOUND."""
    gen = ref.generate(random.Random(5), 20, p_absent=0.0, p_nil=0.0)
    vals = cb.parse_validators(ref.validators_json(gen.validators, per_page=100))
    commit_json = json.dumps(gen.commit_json())
    with verifier.Client([s.target for s in fleet], timeout=30) as client:
        set_hash = client.register_validator_set(vals)
        missing = 0
        for s in fleet:
            with verifier.Client(s.target, timeout=30) as one:
                try:
                    assert one.verify_commit(commit_json, validator_set_hash=set_hash).valid
                except UnknownValidatorSetError:
                    missing += 1
        assert missing == 2, f"{missing} replicas lack the set; expected 2 of 3"
        results = [client.verify_commit(commit_json, validator_set_hash=set_hash) for _ in range(9)]
        assert all(r.valid for r in results), [r.error for r in results]
        with pytest.raises(UnknownValidatorSetError):
            client.verify_commit(commit_json, validator_set_hash=b"\x01" * 32)
