"""Benchmark items: the same items for every backend and every peer in a run.

A workload holds a pool of distinct items (``pool`` of them, deterministic from ``seed``); a batch of n
items is the first n of that pool repeated as often as needed, so a batch of 2^20 costs no more to build
than the pool. One item in ``INVALID_EVERY`` is made invalid (a flipped message byte: EQUATION_FAILED;
a flipped leaf hash: ROOT_MISMATCH), so that every measurement also checks that the backends and the
peers agree on the verdict counts, and a rejection path is part of the figures as it is in production.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import nacl.signing
import numpy as np
import numpy.typing as npt

from verifier.batch import EcdsaBatch, Ed25519Batch, MerkleBatch
from verifier.schemes.merkle_rfc9162 import node_hash

__all__ = [
    "INVALID_EVERY",
    "EcdsaItems",
    "EcdsaWorkload",
    "Ed25519Items",
    "Ed25519Workload",
    "MerkleItems",
    "MerkleWorkload",
    "P256Workload",
    "Secp256k1Workload",
    "Workload",
]

INVALID_EVERY = 64  # item i is invalid when i % INVALID_EVERY == INVALID_EVERY - 1
_KEYS = 64  # distinct signing keys in an Ed25519 pool

U8 = npt.NDArray[np.uint8]


def _tile_index(pool: int, n: int) -> npt.NDArray[np.intp]:
    return np.arange(n, dtype=np.intp) % pool


def _invalid_mask(pool: int) -> npt.NDArray[np.bool_]:
    mask: npt.NDArray[np.bool_] = (np.arange(pool) % INVALID_EVERY) == INVALID_EVERY - 1
    return mask


@dataclasses.dataclass(frozen=True)
class Ed25519Items:
    """n signatures as the Python API takes them (keys and signatures as uint8 arrays) and as lists."""

    public_keys: U8  # (n, 32)
    signatures: U8  # (n, 64)
    messages: list[bytes]

    @cached_property
    def key_list(self) -> list[bytes]:
        return [k.tobytes() for k in self.public_keys]

    @cached_property
    def sig_list(self) -> list[bytes]:
        return [s.tobytes() for s in self.signatures]


@dataclasses.dataclass(frozen=True)
class MerkleItems:
    """n proofs as the Python API takes them: leaf hashes, indices, sizes, paths, one shared root."""

    leaf_hashes: list[bytes]
    leaf_indices: list[int]
    tree_sizes: list[int]
    paths: list[list[bytes]]
    root: bytes


class Ed25519Workload:
    """Signatures over messages of ``message_bytes`` bytes by ``_KEYS`` keys."""

    kind = "ed25519"

    def __init__(self, message_bytes: int, pool: int = 4096, seed: int = 0) -> None:
        self.message_bytes = message_bytes
        self.pool = max(1, pool)
        rng = np.random.default_rng([seed, message_bytes])
        keys = [nacl.signing.SigningKey(rng.bytes(32)) for _ in range(_KEYS)]
        msgs = np.frombuffer(rng.bytes(self.pool * message_bytes), dtype=np.uint8).reshape(
            self.pool, message_bytes
        )
        msgs = msgs.copy()
        pks = np.zeros((self.pool, 32), dtype=np.uint8)
        sigs = np.zeros((self.pool, 64), dtype=np.uint8)
        for i in range(self.pool):
            key = keys[i % _KEYS]
            pks[i] = np.frombuffer(bytes(key.verify_key), dtype=np.uint8)
            sigs[i] = np.frombuffer(key.sign(msgs[i].tobytes()).signature, dtype=np.uint8)
        self._invalid = _invalid_mask(self.pool)
        if message_bytes:
            msgs[self._invalid, 0] ^= 1  # signed before the flip: the equation fails
        else:
            sigs[self._invalid, 0] ^= 1  # no message byte to flip: R changes instead
        self._pks, self._sigs, self._msgs = pks, sigs, msgs
        self._msg_list = [m.tobytes() for m in msgs]

    @property
    def param(self) -> tuple[str, int]:
        return "message_bytes", self.message_bytes

    def expected_valid(self, n: int) -> int:
        return int(np.count_nonzero(~self._invalid[_tile_index(self.pool, n)]))

    def batch(self, n: int) -> Ed25519Batch:
        """n items packed as the engine takes them (what the server builds from a request)."""
        idx = _tile_index(self.pool, n)
        m = self.message_bytes
        return Ed25519Batch(
            public_keys=self._pks[idx],
            signatures=self._sigs[idx],
            messages=self._msgs[idx].reshape(-1),
            message_offsets=np.arange(n + 1, dtype=np.uint64) * np.uint64(m),
            malformed=np.zeros(n, dtype=np.bool_),
        )

    def items(self, n: int) -> Ed25519Items:
        idx = _tile_index(self.pool, n)
        return Ed25519Items(self._pks[idx], self._sigs[idx], [self._msg_list[i] for i in idx])


class MerkleWorkload:
    """Inclusion proofs of depth ``depth`` in one full tree of 2^depth leaves, all against one root.

    The tree is sparse: only the nodes on the pool's paths are computed, every other sibling is random, so
    the proofs are real RFC 9162 proofs of one tree whatever the depth.
    """

    kind = "merkle"

    def __init__(self, depth: int, pool: int = 4096, seed: int = 0) -> None:
        if not 1 <= depth <= 63:
            raise ValueError("depth must be in [1, 63]")
        self.depth = depth
        rng = np.random.default_rng([seed, depth, 1])
        leaves_in_tree = 1 << depth
        k = min(max(1, pool), leaves_in_tree)
        if leaves_in_tree <= 4 * k:
            indices = rng.permutation(leaves_in_tree)[:k]
        else:
            picked = np.unique(rng.integers(0, leaves_in_tree, size=2 * k + 16, dtype=np.uint64))
            indices = rng.permutation(picked)[:k]
        self.pool = k
        leaf_hashes = [rng.bytes(32) for _ in range(k)]
        randoms = iter(np.frombuffer(rng.bytes(32 * k * depth), dtype=np.uint8).reshape(-1, 32))
        paths: list[list[bytes]] = [[] for _ in range(k)]
        level = {int(idx): h for idx, h in zip(indices, leaf_hashes, strict=True)}
        node_of = [int(i) for i in indices]
        for _ in range(depth):
            # a sibling not on any pool path is a random hash
            for node in list(level):
                if node ^ 1 not in level:
                    level[node ^ 1] = next(randoms).tobytes()
            for j, node in enumerate(node_of):
                paths[j].append(level[node ^ 1])
                node_of[j] = node >> 1
            parents: dict[int, bytes] = {}
            for node, h in level.items():
                if node & 1 == 0:
                    parents[node >> 1] = node_hash(h, level[node + 1])
            level = parents
        (self.root,) = level.values()
        self._invalid = _invalid_mask(k)
        for j in map(int, np.flatnonzero(self._invalid)):
            leaf_hashes[j] = bytes([leaf_hashes[j][0] ^ 1]) + leaf_hashes[j][1:]
        self._leaf_list = leaf_hashes
        self._index_list = [int(i) for i in indices]
        self._path_list = paths
        self._leaves = np.frombuffer(b"".join(leaf_hashes), dtype=np.uint8).reshape(k, 32)
        self._indices = np.asarray(indices, dtype=np.uint64)
        self._paths = np.frombuffer(b"".join(b"".join(p) for p in paths), dtype=np.uint8).reshape(
            k, depth, 32
        )

    @property
    def param(self) -> tuple[str, int]:
        return "depth", self.depth

    def expected_valid(self, n: int) -> int:
        return int(np.count_nonzero(~self._invalid[_tile_index(self.pool, n)]))

    def batch(self, n: int) -> MerkleBatch:
        idx = _tile_index(self.pool, n)
        d = self.depth
        return MerkleBatch(
            leaf_hashes=self._leaves[idx],
            leaf_data=None,
            leaf_offsets=None,
            leaf_indices=self._indices[idx],
            tree_sizes=np.full(n, 1 << d, dtype=np.uint64),
            path_hashes=self._paths[idx].reshape(n * d, 32),
            path_offsets=np.arange(n + 1, dtype=np.uint64) * np.uint64(d),
            roots=np.frombuffer(self.root, dtype=np.uint8).reshape(1, 32),
            root_indices=np.zeros(n, dtype=np.uint32),
            malformed=np.zeros(n, dtype=np.bool_),
        )

    def items(self, n: int) -> MerkleItems:
        idx = _tile_index(self.pool, n)
        size = 1 << self.depth
        return MerkleItems(
            leaf_hashes=[self._leaf_list[i] for i in idx],
            leaf_indices=[self._index_list[i] for i in idx],
            tree_sizes=[size] * n,
            paths=[self._path_list[i] for i in idx],
            root=self.root,
        )


@dataclasses.dataclass(frozen=True)
class EcdsaItems:
    public_keys: list[bytes]
    signatures: list[bytes]  # DER
    digests: list[bytes]


class EcdsaWorkload:
    """ECDSA signatures (DER, low S) over random digests by ``_KEYS`` keys of ``key_bytes``-byte SEC 1 form
    (33 compressed, 65 uncompressed); every ``INVALID_EVERY``-th digest is changed after signing."""

    kind = "ecdsa"  # set per curve by the subclasses

    def __init__(self, key_bytes: int, pool: int = 4096, seed: int = 0) -> None:
        if key_bytes not in (33, 65):
            raise ValueError("key_bytes must be 33 or 65")
        self.key_bytes = key_bytes
        self.pool = max(1, pool)
        rng = np.random.default_rng([seed, key_bytes, 2])
        secrets = [int.from_bytes(rng.bytes(32), "big") % (self._order() - 1) + 1 for _ in range(_KEYS)]
        digests = [rng.bytes(32) for _ in range(self.pool)]
        keys, sigs = self._sign(secrets, digests)
        self._invalid = _invalid_mask(self.pool)
        for j in map(int, np.flatnonzero(self._invalid)):
            digests[j] = bytes([digests[j][0] ^ 1]) + digests[j][1:]
        self._keys, self._sigs, self._digests = keys, sigs, digests

    def _order(self) -> int:
        raise NotImplementedError

    def _sign(self, secrets: list[int], digests: list[bytes]) -> tuple[list[bytes], list[bytes]]:
        raise NotImplementedError

    @property
    def param(self) -> tuple[str, int]:
        return "key_bytes", self.key_bytes

    def expected_valid(self, n: int) -> int:
        return int(np.count_nonzero(~self._invalid[_tile_index(self.pool, n)]))

    def items(self, n: int) -> EcdsaItems:
        idx = _tile_index(self.pool, n)
        return EcdsaItems(
            [self._keys[i] for i in idx], [self._sigs[i] for i in idx], [self._digests[i] for i in idx]
        )

    def batch(self, n: int) -> EcdsaBatch:
        e = self.items(n)
        return EcdsaBatch.from_items(e.public_keys, e.signatures, e.digests)


class Secp256k1Workload(EcdsaWorkload):
    kind = "ecdsa-secp256k1"

    def _order(self) -> int:
        return 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

    def _sign(self, secrets: list[int], digests: list[bytes]) -> tuple[list[bytes], list[bytes]]:
        import coincurve

        sks = [coincurve.PrivateKey(s.to_bytes(32, "big")) for s in secrets]
        keys = [sks[i % _KEYS].public_key.format(compressed=self.key_bytes == 33) for i in range(self.pool)]
        return keys, [sks[i % _KEYS].sign(d, hasher=None) for i, d in enumerate(digests)]


class P256Workload(EcdsaWorkload):
    kind = "ecdsa-p256"

    def _order(self) -> int:
        return 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

    def _sign(self, secrets: list[int], digests: list[bytes]) -> tuple[list[bytes], list[bytes]]:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        sks = [ec.derive_private_key(s, ec.SECP256R1()) for s in secrets]
        fmt = (
            serialization.PublicFormat.CompressedPoint
            if self.key_bytes == 33
            else serialization.PublicFormat.UncompressedPoint
        )
        pubs = [k.public_key().public_bytes(serialization.Encoding.X962, fmt) for k in sks]
        algorithm = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
        n = self._order()
        sigs = []
        for i, d in enumerate(digests):
            r, s = utils.decode_dss_signature(sks[i % _KEYS].sign(d, algorithm))
            sigs.append(utils.encode_dss_signature(r, min(s, n - s)))  # low S: valid under every policy
        return [pubs[i % _KEYS] for i in range(self.pool)], sigs


Workload = Ed25519Workload | MerkleWorkload | EcdsaWorkload
