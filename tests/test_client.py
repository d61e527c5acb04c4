"""verifier.Client in a fleet (verifier/client.py): target forms, round_robin over three servers, a replica
killed mid-load, and commits by a registered set's hash on replicas that never saw the set.

Three ``verifier serve`` processes on loopback (backend cpu). Every verdict is checked against what the
signatures are, not only counted.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator

import numpy as np
import pytest

import verifier
from tests.support import cometbft_ref as ref
from tests.support.ed25519_cases import signed_items
from verifier import cometbft as cb
from verifier.client import SERVICE_CONFIG, grpc_target
from verifier.errors import InvalidRequestError, UnknownValidatorSetError
from verifier.testing import ServeProcess


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


def test_round_robin_and_a_replica_killed_mid_load(fleet: list[ServeProcess]) -> None:
    before = [s.calls_served() for s in fleet]
    wrong: list[str] = []
    answered = [0]
    killed = threading.Event()
    lock = threading.Lock()

    def caller(k: int) -> None:
        with verifier.Client([s.target for s in fleet], timeout=30) as client:
            for j in range(40):
                pks, sigs, msgs, want = signed_items(48, 1000 * k + j)
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
    served = [s.calls_served() - b for s, b in zip((fleet[0], fleet[2]), (before[0], before[2]), strict=True)]
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
