"""Planted-fault batches for differential tests (CPU, emu and CUDA against known verdicts).

``make_ed25519_batch(rng, n)`` mixes valid signatures with every Ed25519 edge case docs/RULES.md sections 1
and 2 name, at random positions, and gives the expected verdict of each item under both policies.
``make_merkle_batch(rng, n)`` does the same for RFC 9162 inclusion proofs (docs/RULES.md section 3).

Expected verdicts are known by construction (e.g. R = rB + T, S = r + k*a: libsodium EQUATION_FAILED,
zip215 OK) or from the cheap checks of ``ed25519_ref`` / the Merkle reference; no full reference
verification runs here, so 20,000 Ed25519 items take a few seconds. PyNaCl's ``nacl.bindings`` only
BUILDS inputs (key pairs, [x]B, point additions); it never labels them. ``tests/test_support_reference.py``
checks the labels against PyNaCl and the slow reference.

Log the seed: ``seed = test_seed(); rng = random.Random(seed)`` and print or report ``seed``; rerun with
``VERIFIER_TEST_SEED=<seed>`` to get the same batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
from collections.abc import Callable, Sequence
from typing import Any

import nacl.bindings as _nb
import nacl.exceptions
import nacl.signing

from tests.support import ed25519_ref as _ref
from tests.support import merkle_ref as _mref
from verifier.verdict import Verdict

__all__ = [
    "test_seed",
    "pynacl_accepts",
    "ED25519_FAULT_KINDS",
    "DEFAULT_MESSAGE_SIZES",
    "Ed25519FaultBatch",
    "make_ed25519_batch",
    "MERKLE_FAULT_KINDS",
    "MerkleFaultBatch",
    "make_merkle_batch",
]

_OK, _EQ = Verdict.OK, Verdict.EQUATION_FAILED
_L = _ref.L
_U64_MAX = 2**64 - 1


def test_seed(default: int | None = None, env: str = "VERIFIER_TEST_SEED") -> int:
    """The seed to use: ``$VERIFIER_TEST_SEED`` if set, else ``default``, else a fresh random one."""
    value = os.environ.get(env)
    if value:
        return int(value, 0)
    if default is not None:
        return default
    return random.SystemRandom().randrange(2**32)


test_seed.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name


def pynacl_accepts(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """What PyNaCl's ``VerifyKey(pk).verify(msg, sig)`` says (ValueError on a wrong length = reject)."""
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False
    return True


# --------------------------------------------------------------------------------------- Ed25519

ED25519_FAULT_KINDS: tuple[str, ...] = (
    "flip_key_bit",  # one bit of A flipped: UNDECODABLE_KEY or EQUATION_FAILED (rarely NON_CANONICAL_KEY)
    "flip_r_bit",  # one bit of R: EQUATION_FAILED (zip215: UNDECODABLE_R when R no longer decodes)
    "flip_s_bit",  # one bit of S: NON_CANONICAL_S when S >= L, else EQUATION_FAILED
    "flip_msg_bit",  # one bit of a non-empty message: EQUATION_FAILED
    "wrong_key",  # a valid signature checked under another valid key: EQUATION_FAILED
    "s_plus_l",  # S + L (same point, non-canonical scalar): NON_CANONICAL_S
    "small_order_r",  # R one of the 14 small-order encodings: SMALL_ORDER_R; zip215 OK when S = k*a
    "small_order_key",  # A one of the 14: NON_CANONICAL_KEY (y >= p) / SMALL_ORDER_KEY; zip215 OK if S = r
    "small_order_both",  # A and R from the 14, S = 0 (zip215 OK) or S random: SMALL_ORDER_R
    "non_canonical_key",  # A's y = p + t, t in 0..18: NON_CANONICAL_KEY; zip215 decodes y mod p
    "undecodable_key",  # canonical y with no square root: UNDECODABLE_KEY
    "undecodable_r",  # R has no x: libsodium EQUATION_FAILED (it never decodes R), zip215 UNDECODABLE_R
    "torsion_key",  # A = aB + T, R = rB, S = r + k*a: libsodium OK iff [k]T = 0; zip215 OK
    "torsion_r",  # A = aB, R = rB + T, S = r + k*a: libsodium EQUATION_FAILED, zip215 OK
    "torsion_key_and_r",  # A = aB + T1, R = rB + T2: libsodium OK iff T2 = -[k]T1; zip215 OK
    "short_key",  # 31-byte key: MALFORMED_LENGTH
    "long_key",  # 33-byte key
    "short_sig",  # 63-byte signature
    "long_sig",  # 65-byte signature
)

# Message lengths that straddle SHA-512 block boundaries after the 64-byte R || A prefix
# (one block holds 64 + m <= 111 bytes, two hold <= 239, ...), plus the empty message.
DEFAULT_MESSAGE_SIZES: tuple[int, ...] = (
    0,
    1,
    2,
    31,
    32,
    33,
    47,
    48,
    49,
    63,
    64,
    65,
    111,
    112,
    113,
    127,
    128,
    175,
    176,
    177,
    239,
    240,
    1000,
    4096,
)


@dataclasses.dataclass(frozen=True)
class Ed25519FaultBatch:
    """Columns of a planted-fault batch. Keys and signatures may have the wrong length
    (the ``short_*``/``long_*`` kinds); ``kinds[i]`` is "valid" or one of ``ED25519_FAULT_KINDS``."""

    public_keys: list[bytes]
    signatures: list[bytes]
    messages: list[bytes]
    kinds: list[str]
    expected_libsodium: list[Verdict]
    expected_zip215: list[Verdict]

    def __len__(self) -> int:
        return len(self.kinds)

    def expected(self, policy: str) -> list[Verdict]:
        """Expected verdicts for a ``Policy`` value ("libsodium" or "zip215")."""
        if str(policy) == "libsodium":
            return self.expected_libsodium
        if str(policy) == "zip215":
            return self.expected_zip215
        raise ValueError(f"unknown policy {policy!r}")

    def describe(self, i: int) -> str:
        """One line for an assertion message: position, kind, expected verdicts and the inputs in hex."""
        return (
            f"item {i} kind={self.kinds[i]} libsodium={self.expected_libsodium[i].name} "
            f"zip215={self.expected_zip215[i].name} pk={self.public_keys[i].hex()} "
            f"sig={self.signatures[i].hex()} msg[{len(self.messages[i])}]={self.messages[i][:32].hex()}"
        )

    def mismatches(self, policy: str, got: Sequence[int]) -> list[str]:
        """``describe`` lines of every item whose verdict in ``got`` differs from the expected one."""
        want = self.expected(policy)
        if len(got) != len(want):
            raise ValueError(f"{len(got)} verdicts for {len(want)} items")
        return [
            f"{self.describe(i)} got={_vname(int(g))}"
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            if int(g) != w
        ]


def _vname(code: int) -> str:
    try:
        return Verdict(code).name
    except ValueError:
        return f"invalid({code})"


def _scalar(rng: random.Random) -> int:
    return rng.randrange(1, _L)


def _sbytes(s: int) -> bytes:
    return s.to_bytes(32, "little")


def _base(x: int) -> bytes:
    """[x]B canonical encoding (libsodium, no clamping; x in [1, L))."""
    return bytes(_nb.crypto_scalarmult_ed25519_base_noclamp(_sbytes(x)))


def _add(p: bytes, q: bytes) -> bytes:
    return bytes(_nb.crypto_core_ed25519_add(p, q))


def _k(r_bytes: bytes, a_bytes: bytes, msg: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r_bytes + a_bytes + msg).digest(), "little") % _L


def _flip(b: bytes, bit: int) -> bytes:
    out = bytearray(b)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _undecodable_encoding(rng: random.Random) -> bytes:
    """A canonical y (< p) with no x: not a curve point under either policy."""
    while True:
        y = rng.randrange(2, _ref.P)
        if _ref.recover_x(y, 0) is None and y not in _ref.LIBSODIUM_BLOCKLIST:
            return (y | (rng.getrandbits(1) << 255)).to_bytes(32, "little")


def _cheap_lib(pk: bytes, sig: bytes) -> Verdict:
    """libsodium checks 1-6's reason, else EQUATION_FAILED (the caller knows the equation fails)."""
    reason = _ref.libsodium_reject_reason(pk, sig)
    return _EQ if reason is None else reason


def _cheap_zip(pk: bytes, sig: bytes) -> Verdict:
    """zip215's checks before the equation, else EQUATION_FAILED (the caller knows the equation fails)."""
    reason = _ref.zip215_reject_reason(pk, sig)
    return _EQ if reason is None else reason


def _valid(rng: random.Random, msg: bytes) -> tuple[bytes, bytes]:
    pk, sk = _nb.crypto_sign_seed_keypair(rng.randbytes(32))
    return bytes(pk), bytes(_nb.crypto_sign(msg, sk)[:64])


Item = tuple[bytes, bytes, bytes, Verdict, Verdict]  # pk, sig, msg, libsodium, zip215


def _make_fault(kind: str, rng: random.Random, msg: bytes) -> Item:  # noqa: C901 - one branch per kind
    if kind == "flip_key_bit":
        pk, sig = _valid(rng, msg)
        pk = _flip(pk, rng.randrange(256))
        return pk, sig, msg, _cheap_lib(pk, sig), _cheap_zip(pk, sig)
    if kind == "flip_r_bit":
        pk, sig = _valid(rng, msg)
        sig = _flip(sig, rng.randrange(256))
        return pk, sig, msg, _cheap_lib(pk, sig), _cheap_zip(pk, sig)
    if kind == "flip_s_bit":
        pk, sig = _valid(rng, msg)
        sig = _flip(sig, 256 + rng.randrange(256))
        v = Verdict.NON_CANONICAL_S if int.from_bytes(sig[32:], "little") >= _L else _EQ
        return pk, sig, msg, v, v
    if kind == "flip_msg_bit":
        if not msg:
            msg = rng.randbytes(1)
        pk, sig = _valid(rng, msg)
        return pk, sig, _flip(msg, rng.randrange(8 * len(msg))), _EQ, _EQ
    if kind == "wrong_key":
        _, sig = _valid(rng, msg)
        pk, _ = _valid(rng, b"")
        return pk, sig, msg, _EQ, _EQ
    if kind == "s_plus_l":
        pk, sig = _valid(rng, msg)
        sig = sig[:32] + _sbytes(int.from_bytes(sig[32:], "little") + _L)
        return pk, sig, msg, Verdict.NON_CANONICAL_S, Verdict.NON_CANONICAL_S
    if kind == "small_order_r":
        a = _scalar(rng)
        pk = _base(a)
        r_enc = rng.choice(_ref.SMALL_ORDER_ENCODINGS)
        zip_ok = rng.random() < 0.5
        s = (_k(r_enc, pk, msg) * a + (0 if zip_ok else 1)) % _L  # [8]([S]B - R - [k]A) = [8]([S - k*a]B)
        return pk, r_enc + _sbytes(s), msg, Verdict.SMALL_ORDER_R, _OK if zip_ok else _EQ
    if kind == "small_order_key":
        pk = rng.choice(_ref.SMALL_ORDER_ENCODINGS)
        r = _scalar(rng)
        zip_ok = rng.random() < 0.5
        s = r if zip_ok else (r + 1) % _L  # [8]([S]B - rB - [k]T) = [8]([S - r]B)
        y = int.from_bytes(pk, "little") & ((1 << 255) - 1)
        lib = Verdict.NON_CANONICAL_KEY if y >= _ref.P else Verdict.SMALL_ORDER_KEY
        return pk, _base(r) + _sbytes(s), msg, lib, _OK if zip_ok else _EQ
    if kind == "small_order_both":
        pk = rng.choice(_ref.SMALL_ORDER_ENCODINGS)
        r_enc = rng.choice(_ref.SMALL_ORDER_ENCODINGS)
        s = 0 if rng.random() < 0.5 else _scalar(rng)
        return pk, r_enc + _sbytes(s), msg, Verdict.SMALL_ORDER_R, _OK if s == 0 else _EQ
    if kind == "non_canonical_key":
        t = rng.randrange(19)
        pk = ((_ref.P + t) | (rng.getrandbits(1) << 255)).to_bytes(32, "little")
        r = _scalar(rng)
        sig = _base(r) + _sbytes(r)  # [8]([r]B - rB - [k]A) = -[8k]A: zero iff A (y = t) has small order
        if _ref.recover_x(t, pk[31] >> 7) is None:
            z = Verdict.UNDECODABLE_KEY
        else:
            z = _OK if t in (0, 1) else _EQ  # y = 0, 1 are the only small-order y below 19
        return pk, sig, msg, Verdict.NON_CANONICAL_KEY, z
    if kind == "undecodable_key":
        pk = _undecodable_encoding(rng)
        r = _scalar(rng)
        sig = _base(r) + _sbytes(_scalar(rng))
        return pk, sig, msg, Verdict.UNDECODABLE_KEY, Verdict.UNDECODABLE_KEY
    if kind == "undecodable_r":
        a = _scalar(rng)
        pk = _base(a)
        r_enc = _undecodable_encoding(rng)
        sig = _ref.sign_with_scalar(a, _scalar(rng), pk, r_enc, msg)
        return pk, sig, msg, _EQ, Verdict.UNDECODABLE_R
    if kind == "torsion_key":
        a, j = _scalar(rng), rng.randrange(1, 8)
        pk = _add(_base(a), _ref.SMALL_ORDER_CANONICAL_ENCODINGS[j])
        want_accept = rng.random() < 0.5
        for _ in range(64):  # R' = R - [k]T_j = R iff k*j = 0 mod 8; retry r to get the wanted case
            r = _scalar(rng)
            r_enc = _base(r)
            if ((_k(r_enc, pk, msg) * j) % 8 == 0) == want_accept:
                break
        sig = _ref.sign_with_scalar(a, r, pk, r_enc, msg)
        lib = _OK if (_k(r_enc, pk, msg) * j) % 8 == 0 else _EQ
        return pk, sig, msg, lib, _OK
    if kind == "torsion_r":
        a, r, j = _scalar(rng), _scalar(rng), rng.randrange(1, 8)
        pk = _base(a)
        r_enc = _add(_base(r), _ref.SMALL_ORDER_CANONICAL_ENCODINGS[j])
        return pk, _ref.sign_with_scalar(a, r, pk, r_enc, msg), msg, _EQ, _OK
    if kind == "torsion_key_and_r":
        a, j1 = _scalar(rng), rng.randrange(1, 8)
        pk = _add(_base(a), _ref.SMALL_ORDER_CANONICAL_ENCODINGS[j1])
        want_accept = rng.random() < 0.5
        for _ in range(64):  # R' = rB - [k]T_j1 equals R = rB + T_j2 iff j2 + k*j1 = 0 mod 8
            r, j2 = _scalar(rng), rng.randrange(1, 8)
            r_enc = _add(_base(r), _ref.SMALL_ORDER_CANONICAL_ENCODINGS[j2])
            if ((j2 + _k(r_enc, pk, msg) * j1) % 8 == 0) == want_accept:
                break
        sig = _ref.sign_with_scalar(a, r, pk, r_enc, msg)
        lib = _OK if (j2 + _k(r_enc, pk, msg) * j1) % 8 == 0 else _EQ
        return pk, sig, msg, lib, _OK
    if kind in ("short_key", "long_key", "short_sig", "long_sig"):
        pk, sig = _valid(rng, msg)
        if kind == "short_key":
            pk = pk[:31]
        elif kind == "long_key":
            pk = pk + rng.randbytes(1)
        elif kind == "short_sig":
            sig = sig[:63]
        else:
            sig = sig + rng.randbytes(1)
        return pk, sig, msg, Verdict.MALFORMED_LENGTH, Verdict.MALFORMED_LENGTH
    raise ValueError(f"unknown Ed25519 fault kind {kind!r}")


def _plan(rng: random.Random, n: int, fault_rate: float, kinds: Sequence[str]) -> list[str]:
    """Per position "valid" or a fault kind: round(n * fault_rate) faults at random positions, the kinds
    dealt round-robin from a shuffled list so that each appears (once there are enough faults)."""
    if not 0.0 <= fault_rate <= 1.0:
        raise ValueError(f"fault_rate {fault_rate} not in [0, 1]")
    plan = ["valid"] * n
    n_faults = round(n * fault_rate)
    order = list(kinds)
    rng.shuffle(order)
    for m, pos in enumerate(rng.sample(range(n), n_faults)):
        plan[pos] = order[m % len(order)]
    return plan


def make_ed25519_batch(
    rng: random.Random,
    n: int,
    fault_rate: float = 0.3,
    message_sizes: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
) -> Ed25519FaultBatch:
    """n items, about ``fault_rate`` of them faulty (kinds from ``kinds``, default all of
    ``ED25519_FAULT_KINDS``), the rest valid RFC 8032 signatures. Message lengths are drawn from
    ``message_sizes`` (default: half from ``DEFAULT_MESSAGE_SIZES``, half uniform in 0..300)."""
    kinds = tuple(kinds) if kinds is not None else ED25519_FAULT_KINDS
    for k in kinds:
        if k not in ED25519_FAULT_KINDS:
            raise ValueError(f"unknown Ed25519 fault kind {k!r}")
    pks: list[bytes] = []
    sigs: list[bytes] = []
    msgs: list[bytes] = []
    lib: list[Verdict] = []
    zip_: list[Verdict] = []
    plan = _plan(rng, n, fault_rate, kinds)
    for kind in plan:
        if message_sizes is not None:
            size = rng.choice(message_sizes)
        elif rng.random() < 0.5:
            size = rng.choice(DEFAULT_MESSAGE_SIZES)
        else:
            size = rng.randrange(301)
        msg = rng.randbytes(size)
        if kind == "valid":
            pk, sig = _valid(rng, msg)
            item: Item = (pk, sig, msg, _OK, _OK)
        else:
            item = _make_fault(kind, rng, msg)
        pks.append(item[0])
        sigs.append(item[1])
        msgs.append(item[2])
        lib.append(item[3])
        zip_.append(item[4])
    return Ed25519FaultBatch(pks, sigs, msgs, plan, lib, zip_)


# ---------------------------------------------------------------------------------------- Merkle

MERKLE_FAULT_KINDS: tuple[str, ...] = (
    "index_plus_1",
    "index_minus_1",  # wraps to 2^64 - 1 at index 0, as transparency-dev's leafIdx-sub-@1
    "index_doubled",
    "index_ge_size",  # index = size + [0, 1000)
    "index_max_u64",
    "size_plus_1",
    "size_minus_1",
    "size_doubled",
    "size_halved",
    "size_zero",  # size 0, index 0
    "size_max_u64",
    "path_bit_flip",
    "path_hash_removed",
    "path_hash_inserted",
    "path_hash_short",  # one path hash of 31 bytes
    "path_hash_long",  # one path hash of 33 bytes
    "wrong_root",  # a random 32-byte root
    "root_bit_flip",
    "root_short",  # a 31-byte root
    "wrong_leaf",  # a bit of the leaf hash flipped, or the leaf data changed
    "leaf_hash_short",  # 31-byte leaf hash (leaf_form "hash" only)
)
_PATH_KINDS = frozenset({"path_bit_flip", "path_hash_removed", "path_hash_short", "path_hash_long"})


@dataclasses.dataclass(frozen=True)
class MerkleFaultBatch:
    """Columns of a planted-fault proof batch; exactly one of ``leaf_hashes`` / ``leaves`` is set
    (``leaf_form``). ``expected[i]`` is OK, MALFORMED_PROOF or ROOT_MISMATCH."""

    leaf_form: str  # "hash" | "data"
    leaf_indices: list[int]
    tree_sizes: list[int]
    paths: list[list[bytes]]
    roots: list[bytes]
    leaf_hashes: list[bytes] | None
    leaves: list[bytes] | None
    kinds: list[str]
    expected: list[Verdict]
    built_tree_sizes: tuple[int, ...]  # sizes of the trees the proofs were taken from

    def __len__(self) -> int:
        return len(self.kinds)

    def from_items_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``MerkleBatch.from_items(**kw)`` / ``verifier.verify_merkle(**kw)``."""
        kw: dict[str, Any] = {
            "leaf_indices": self.leaf_indices,
            "tree_sizes": self.tree_sizes,
            "paths": self.paths,
            "roots": self.roots,
        }
        if self.leaf_hashes is not None:
            kw["leaf_hashes"] = self.leaf_hashes
        else:
            kw["leaves"] = self.leaves
        return kw

    def describe(self, i: int) -> str:
        leaf = self.leaf_hashes[i] if self.leaf_hashes is not None else self.leaves[i]  # type: ignore[index]
        return (
            f"proof {i} kind={self.kinds[i]} expected={self.expected[i].name} index={self.leaf_indices[i]} "
            f"size={self.tree_sizes[i]} path_len={len(self.paths[i])} leaf_{self.leaf_form}={leaf.hex()} "
            f"root={self.roots[i].hex()}"
        )

    def mismatches(self, got: Sequence[int]) -> list[str]:
        if len(got) != len(self.expected):
            raise ValueError(f"{len(got)} verdicts for {len(self.expected)} proofs")
        return [
            f"{self.describe(i)} got={_vname(int(g))}"
            for i, (g, w) in enumerate(zip(got, self.expected, strict=True))
            if int(g) != w
        ]


def _tree_sizes(rng: random.Random, trees: int, max_leaves: int) -> list[int]:
    """1, a small size, a power of two, a power of two plus one, then uniform in [1, max_leaves]."""
    fixed = [1, rng.randint(2, 17), 1 << rng.randint(1, max(1, max_leaves.bit_length() - 1))]
    fixed.append(fixed[2] + 1)
    sizes = [min(s, max_leaves) for s in fixed][:trees]
    while len(sizes) < trees:
        sizes.append(rng.randint(1, max_leaves))
    return sizes


@dataclasses.dataclass
class _Proof:
    """One proof being mutated by a fault kind."""

    idx: int
    size: int
    path: list[bytes]
    root: bytes
    leaf: bytes


def _set(
    **fields: Callable[[_Proof, random.Random, Any], Any],
) -> Callable[[_Proof, random.Random, Any], None]:
    """A mutation that sets each named field of the proof to its function's value (computed in order)."""

    def mutate(p: _Proof, rng: random.Random, tree: Any) -> None:
        for name, value in fields.items():
            setattr(p, name, value(p, rng, tree))

    return mutate


def _path_at(change: Callable[[bytes, random.Random], bytes]) -> Callable[[_Proof, random.Random, Any], None]:
    """A mutation of one random hash of the path."""

    def mutate(p: _Proof, rng: random.Random, tree: Any) -> None:
        j = rng.randrange(len(p.path))
        p.path[j] = change(p.path[j], rng)

    return mutate


def _remove_hash(p: _Proof, rng: random.Random, tree: Any) -> None:
    del p.path[rng.randrange(len(p.path))]


def _insert_hash(p: _Proof, rng: random.Random, tree: Any) -> None:
    extra = rng.choice([rng.randbytes(32), p.root, tree.leaf_hash(0)])
    p.path.insert(rng.randrange(len(p.path) + 1), extra)


# Fault kind -> how it changes a valid proof (kinds not here leave it as it is).
_MERKLE_MUTATIONS: dict[str, Callable[[_Proof, random.Random, Any], None]] = {
    "index_plus_1": _set(idx=lambda p, r, t: p.idx + 1),
    "index_minus_1": _set(idx=lambda p, r, t: (p.idx - 1) % 2**64),
    "index_doubled": _set(idx=lambda p, r, t: p.idx * 2),
    "index_ge_size": _set(idx=lambda p, r, t: p.size + r.randrange(1000)),
    "index_max_u64": _set(idx=lambda p, r, t: _U64_MAX),
    "size_plus_1": _set(size=lambda p, r, t: p.size + 1),
    "size_minus_1": _set(size=lambda p, r, t: p.size - 1),
    "size_doubled": _set(size=lambda p, r, t: p.size * 2),
    "size_halved": _set(size=lambda p, r, t: p.size // 2),
    "size_zero": _set(idx=lambda p, r, t: 0, size=lambda p, r, t: 0),
    "size_max_u64": _set(size=lambda p, r, t: _U64_MAX),
    "path_bit_flip": _path_at(lambda h, r: _flip(h, r.randrange(256))),
    "path_hash_removed": _remove_hash,
    "path_hash_inserted": _insert_hash,
    "path_hash_short": _path_at(lambda h, r: h[:31]),
    "path_hash_long": _path_at(lambda h, r: h + r.randbytes(1)),
    "wrong_root": _set(root=lambda p, r, t: r.randbytes(32)),
    "root_bit_flip": _set(root=lambda p, r, t: _flip(p.root, r.randrange(256))),
    "root_short": _set(root=lambda p, r, t: p.root[:31]),
    # empty data: one byte
    "wrong_leaf": _set(
        leaf=lambda p, r, t: _flip(p.leaf, r.randrange(8 * len(p.leaf))) if p.leaf else b"\x00"
    ),
    "leaf_hash_short": _set(leaf=lambda p, r, t: p.leaf[:31]),
}


def make_merkle_batch(
    rng: random.Random,
    n: int,
    fault_rate: float = 0.3,
    *,
    max_leaves: int = 100_000,
    trees: int = 6,
    leaf_form: str = "hash",
    kinds: Sequence[str] | None = None,
) -> MerkleFaultBatch:
    """n inclusion proofs taken from ``trees`` random trees of 1..``max_leaves`` leaves (built once
    each; the largest dominates the cost, ~0.3 s for 100,000 leaves), about ``fault_rate`` of them
    mutated (kinds from ``kinds``, default all of ``MERKLE_FAULT_KINDS``). Expected verdicts come
    from ``merkle_ref.verify_inclusion``."""
    if leaf_form not in ("hash", "data"):
        raise ValueError(f"leaf_form must be 'hash' or 'data', not {leaf_form!r}")
    if kinds is None:
        kinds = tuple(k for k in MERKLE_FAULT_KINDS if leaf_form == "hash" or k != "leaf_hash_short")
    for k in kinds:
        if k not in MERKLE_FAULT_KINDS:
            raise ValueError(f"unknown Merkle fault kind {k!r}")
        if k == "leaf_hash_short" and leaf_form == "data":
            raise ValueError("leaf_hash_short needs leaf_form='hash'")
    sizes = _tree_sizes(rng, trees, max_leaves)
    built: list[tuple[list[bytes], _mref.Tree]] = []
    for size in sizes:
        data = [rng.randbytes(rng.randrange(0, 65)) for _ in range(size)]
        built.append((data, _mref.Tree.from_leaves(data)))
    multi = [t for t in built if t[1].size > 1]

    plan = _plan(rng, n, fault_rate, kinds)
    out_idx: list[int] = []
    out_size: list[int] = []
    out_paths: list[list[bytes]] = []
    out_roots: list[bytes] = []
    out_leaf: list[bytes] = []
    expected: list[Verdict] = []
    for kind in plan:
        data, tree = rng.choice(multi if kind in _PATH_KINDS and multi else built)
        idx = rng.randrange(tree.size)
        size, path, root = tree.size, tree.inclusion_path(idx), tree.root
        leaf = tree.leaf_hash(idx) if leaf_form == "hash" else data[idx]
        if kind in _PATH_KINDS and not path:
            kind = "path_hash_inserted"  # only trees of one leaf: nothing to mutate
        proof = _Proof(idx, size, path, root, leaf)
        mutate = _MERKLE_MUTATIONS.get(kind)
        if mutate is not None:
            mutate(proof, rng, tree)
        idx, size, path, root, leaf = proof.idx, proof.size, proof.path, proof.root, proof.leaf
        if leaf_form == "hash":
            verdict = _mref.verify_inclusion(idx, size, path, root, leaf_hash_=leaf)
        else:
            verdict = _mref.verify_inclusion(idx, size, path, root, leaf=leaf)
        out_idx.append(idx)
        out_size.append(size)
        out_paths.append(path)
        out_roots.append(root)
        out_leaf.append(leaf)
        expected.append(verdict)
        if kind != plan[len(expected) - 1]:
            plan[len(expected) - 1] = kind
    return MerkleFaultBatch(
        leaf_form=leaf_form,
        leaf_indices=out_idx,
        tree_sizes=out_size,
        paths=out_paths,
        roots=out_roots,
        leaf_hashes=out_leaf if leaf_form == "hash" else None,
        leaves=out_leaf if leaf_form == "data" else None,
        kinds=plan,
        expected=expected,
        built_tree_sizes=tuple(sizes),
    )
