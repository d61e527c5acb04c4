"""Validator sets: keys parsed once, CometBFT's set hash, and a bounded registry keyed by that hash.

cometbft ``types/validator_set.go`` (``ValidatorSet.Hash``, ``GetByAddress``, ``TotalVotingPower``,
``MaxTotalVotingPower``) and ``types/validator.go`` (``Validator.Bytes``, ``ValidateBasic``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import numpy.typing as npt

from verifier.cometbft.signbytes import uvarint
from verifier.errors import InvalidRequestError, UnknownValidatorSetError
from verifier.ints import INT64_MAX, UINT64_MAX
from verifier.schemes.merkle_rfc9162 import tree_root
from verifier.text import quote

__all__ = [
    "Validator",
    "ValidatorSet",
    "ValidatorSetRegistry",
    "UnknownValidatorSetError",
    "address_from_pub_key",
    "simple_validator_bytes",
    "hash_from_byte_slices",
    "MAX_TOTAL_VOTING_POWER",
]

_ADDRESS_SIZE = 20  # crypto.AddressSize: SHA-256(pub key)[:20] (crypto/tmhash SumTruncated)
_PUB_KEY_SIZE = 32  # ed25519.PubKeySize
# cometbft types/validator_set.go: MaxTotalVotingPower = int64(math.MaxInt64) / 8.
MAX_TOTAL_VOTING_POWER = INT64_MAX // 8


def address_from_pub_key(pub_key: bytes) -> bytes:
    """cometbft ``ed25519.PubKey.Address``: SHA-256(key)[:20]."""
    return hashlib.sha256(pub_key).digest()[:_ADDRESS_SIZE]


def simple_validator_bytes(pub_key: bytes, voting_power: int) -> bytes:
    """cometbft ``Validator.Bytes``: protobuf ``SimpleValidator{1: PublicKey{1: ed25519}, 2: voting_power}``.

    The public key message is always present (a pointer in Go); voting power 0 is omitted (proto3).
    """
    pk = b"\x0a" + uvarint(len(pub_key)) + pub_key  # PublicKey oneof sum: ed25519 = 1
    out = b"\x0a" + uvarint(len(pk)) + pk
    if voting_power:
        out += b"\x10" + uvarint(voting_power & UINT64_MAX)
    return out


def hash_from_byte_slices(items: list[bytes]) -> bytes:
    """cometbft ``merkle.HashFromByteSlices`` (crypto/merkle/tree.go): the RFC 6962 tree root over
    ``items``, SHA-256 (``merkle_rfc9162.tree_root``, the one copy)."""
    return tree_root(items)


@dataclasses.dataclass(frozen=True)
class Validator:
    """One validator: Ed25519 public key, its address and voting power (cometbft ``types.Validator``)."""

    address: bytes
    pub_key: bytes
    voting_power: int

    @classmethod
    def from_pub_key(cls, pub_key: bytes, voting_power: int) -> Validator:
        return cls(address_from_pub_key(pub_key), pub_key, voting_power)


class ValidatorSet:
    """An ordered, immutable validator set with its keys packed once for the verifier.

    The order is the set's order as the node serves it (``/validators``: by voting power, then address);
    commit signatures are in the same order, and ``hash`` depends on it. Construction checks what
    cometbft ``ValidatorSet.ValidateBasic`` / ``Validator.ValidateBasic`` check, plus that each address
    is its key's address and that no address repeats; it raises ``InvalidRequestError`` naming
    ``validators[i]``.

    ``public_keys`` is a read-only (n, 32) uint8 array. (Decoded keys of a registered set live in the
    engine's ``verifier.keystore.KeyStore``, by the set's hash.)
    """

    __slots__ = (
        "validators",
        "public_keys",
        "total_voting_power",
        "_by_address",
        "_hash",
    )

    validators: tuple[Validator, ...]
    public_keys: npt.NDArray[np.uint8]
    total_voting_power: int

    def __init__(self, validators: Iterable[Validator]) -> None:
        vals = tuple(validators)
        if not vals:
            raise InvalidRequestError("validators: the validator set is empty")
        by_address: dict[bytes, int] = {}
        total = 0
        keys = np.zeros((len(vals), _PUB_KEY_SIZE), dtype=np.uint8)
        for i, v in enumerate(vals):
            where = f"validators[{i}]"
            if len(v.pub_key) != _PUB_KEY_SIZE:
                raise InvalidRequestError(f"{where}.pub_key: {len(v.pub_key)} bytes, an Ed25519 key is 32")
            if v.address != address_from_pub_key(v.pub_key):
                raise InvalidRequestError(
                    f"{where}.address: {v.address.hex().upper()} is not the address of its pub_key "
                    f"({address_from_pub_key(v.pub_key).hex().upper()} = SHA-256(pub_key)[:20])"
                )
            if not 0 <= v.voting_power <= INT64_MAX:
                raise InvalidRequestError(
                    f"{where}.voting_power: {quote(v.voting_power)} is not in [0, 2^63)"
                )
            first = by_address.setdefault(v.address, i)
            if first != i:
                raise InvalidRequestError(
                    f"{where}.address: duplicate validator {v.address.hex().upper()} "
                    f"(also validators[{first}])"
                )
            total += v.voting_power
            if total > MAX_TOTAL_VOTING_POWER:
                # cometbft ValidatorSet.updateTotalVotingPower panics here.
                raise InvalidRequestError(
                    f"{where}.voting_power: total voting power exceeds MaxTotalVotingPower "
                    f"{MAX_TOTAL_VOTING_POWER} (int64 max / 8)"
                )
            keys[i] = np.frombuffer(v.pub_key, dtype=np.uint8)
        keys.setflags(write=False)
        self.validators = vals
        self.public_keys = keys
        self.total_voting_power = total
        self._by_address = by_address
        self._hash: bytes | None = None

    def __len__(self) -> int:
        return len(self.validators)

    def __iter__(self) -> Iterator[Validator]:
        return iter(self.validators)

    def __getitem__(self, idx: int) -> Validator:
        return self.validators[idx]

    def __repr__(self) -> str:
        return (
            f"ValidatorSet({len(self)} validators, total power {self.total_voting_power}, "
            f"hash {self.hash.hex().upper()})"
        )

    @property
    def hash(self) -> bytes:
        """cometbft ``ValidatorSet.Hash``: ``HashFromByteSlices`` over each ``Validator.Bytes``.

        This is what a header's ``validators_hash`` commits to.
        """
        h = self._hash
        if h is None:
            h = hash_from_byte_slices(
                [simple_validator_bytes(v.pub_key, v.voting_power) for v in self.validators]
            )
            self._hash = h
        return h

    def get_by_address(self, address: bytes) -> tuple[int, Validator] | None:
        """cometbft ``ValidatorSet.GetByAddress``: (index, validator), or None when not in the set."""
        idx = self._by_address.get(address)
        return None if idx is None else (idx, self.validators[idx])


class ValidatorSetRegistry:
    """Validator sets registered once and looked up by their CometBFT hash; thread-safe, LRU-bounded.

    The same set signs many consecutive blocks, so a client registers it once and sends only its hash
    with each commit. ``register`` returns the hash; ``get`` raises ``UnknownValidatorSetError`` for a hash
    it does not hold. At most ``max_sets`` are kept; using a set (``get`` or ``register``) makes it the
    most recent, and the least recently used is evicted first.
    """

    def __init__(self, max_sets: int = 64, on_evict: Callable[[ValidatorSet], None] | None = None) -> None:
        """``on_evict(set)`` is called (outside the registry's lock) for each set pushed out."""
        if max_sets < 1:
            raise ValueError(f"max_sets must be at least 1, got {quote(max_sets)}")
        self.max_sets = max_sets
        self._sets: OrderedDict[bytes, ValidatorSet] = OrderedDict()
        self._lock = threading.Lock()
        self._on_evict = on_evict

    def register(self, validators: ValidatorSet) -> bytes:
        """Keep ``validators`` (a set already registered under the same hash is kept as is); its hash."""
        set_hash = validators.hash  # computed outside the lock
        evicted: list[ValidatorSet] = []
        with self._lock:
            if set_hash in self._sets:
                self._sets.move_to_end(set_hash)
            else:
                self._sets[set_hash] = validators
                while len(self._sets) > self.max_sets:
                    evicted.append(self._sets.popitem(last=False)[1])
        if self._on_evict is not None:
            for vals in evicted:
                self._on_evict(vals)
        return set_hash

    def get(self, set_hash: bytes) -> ValidatorSet:
        with self._lock:
            vals = self._sets.get(set_hash)
            if vals is None:
                raise UnknownValidatorSetError(
                    f"validator set {set_hash.hex().upper()} is not registered (or was evicted; "
                    f"the registry keeps {self.max_sets})"
                )
            self._sets.move_to_end(set_hash)
            return vals

    def __contains__(self, set_hash: object) -> bool:
        with self._lock:
            return set_hash in self._sets

    def __len__(self) -> int:
        with self._lock:
            return len(self._sets)

    def hashes(self) -> list[bytes]:
        """Registered hashes, least recently used first."""
        with self._lock:
            return list(self._sets)
