"""Validator sets and the registry (verifier/cometbft/valset.py): the set hash against the reference,
lookup by address, the per-set cache, the registry's LRU under threads.
"""

from __future__ import annotations

import contextlib
import random
import threading

import pytest

from tests.support import cometbft_ref as ref
from verifier import cometbft as cb
from verifier.errors import InvalidRequestError


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
                with contextlib.suppress(cb.UnknownValidatorSetError):  # evicted meanwhile: allowed
                    assert big.get(h).hash == h
                assert len(big) <= 4
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(rng.randrange(2**32),)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(big) == 4
