"""The test support is right: the references agree with PyNaCl and the published vectors, and the
fault generators' expected verdicts are what PyNaCl and the references say.

Seeds are printed (``-s`` or on failure) and can be forced with ``VERIFIER_TEST_SEED``.
"""

from __future__ import annotations

import collections
import random
import time

import pytest

from tests.support import ed25519_ref as ref
from tests.support import faults, vectors
from tests.support import merkle_ref as mref
from tests.support.faults import pynacl_accepts
from verifier.batch import MerkleBatch
from verifier.verdict import Verdict

# libsodium's blocklist literal for the order-8 y (ed25519_ref10.c, ge25519_has_small_order).
_LIBSODIUM_ORDER8_Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022


# ------------------------------------------------------------------------------------ reference


def test_constants_and_small_order_points() -> None:
    assert ref.P == 2**255 - 19
    assert ref.L == 2**252 + 27742317777372353535851937790883648493
    assert ref.ORDER8_Y == (_LIBSODIUM_ORDER8_Y, ref.P - _LIBSODIUM_ORDER8_Y)
    assert {0, 1, ref.P - 1, ref.P, ref.P + 1, *ref.ORDER8_Y} == ref.LIBSODIUM_BLOCKLIST
    assert len(ref.SMALL_ORDER_POINTS) == 8
    orders = []
    for t in ref.SMALL_ORDER_POINTS:
        orders.append(next(n for n in (1, 2, 4, 8) if ref.is_identity(ref.scalar_mult(n, t))))
    assert sorted(orders) == [1, 2, 4, 4, 8, 8, 8, 8]
    assert len(set(ref.SMALL_ORDER_ENCODINGS)) == 14
    for enc in ref.SMALL_ORDER_ENCODINGS:
        point = ref.decode_zip215(enc)
        assert point is not None and ref.is_identity(ref.scalar_mult(8, point)), enc.hex()
        assert int.from_bytes(enc, "little") & (2**255 - 1) in ref.LIBSODIUM_BLOCKLIST
    for enc in ref.SMALL_ORDER_CANONICAL_ENCODINGS:
        assert ref.decode(enc) is not None and ref.encode(ref.decode(enc)) == enc  # type: ignore[arg-type]
    for enc in ref.SMALL_ORDER_NON_CANONICAL_ENCODINGS:
        assert ref.decode(enc) is None  # RFC 8032 strict decoding refuses all six


def test_reference_signs_rfc8032_and_sign_input() -> None:
    for v in vectors.rfc8032_vectors() + vectors.sign_input_vectors()[:64]:
        assert v.seed is not None
        assert ref.public_key_from_seed(v.seed) == v.public_key, v.name
        assert ref.sign(v.seed, v.message) == v.signature, v.name


def test_vector_counts() -> None:
    assert len(vectors.rfc8032_vectors()) == 5
    assert len(vectors.sign_input_vectors()) == 1024
    wp = vectors.wycheproof_vectors()
    assert len(wp) == 151 and sum(v.expected_valid_libsodium for v in wp) == 88
    assert len(vectors.ed25519_vectors()) == 1180
    assert len(vectors.merkle_inclusion_vectors()) == 49  # 13 + 18 + 18 files
    tree = vectors.rfc6962_tree()
    assert len(tree.leaves) == 8 and len(tree.inclusion_proofs) == 36 and sorted(tree.roots) == list(range(9))


@pytest.mark.slow
def test_ed25519_vectors_pynacl_and_reference_agree() -> None:
    """PyNaCl matches each vector's expectation; the reference's libsodium verdict is OK exactly when
    PyNaCl accepts; everything libsodium accepts, zip215 accepts."""
    disagree = []
    reasons: collections.Counter[str] = collections.Counter()
    for v in vectors.ed25519_vectors():
        nacl_ok = pynacl_accepts(v.public_key, v.signature, v.message)
        if nacl_ok != v.expected_valid_libsodium:
            disagree.append(f"{v.name}: PyNaCl {nacl_ok}, vector {v.expected_valid_libsodium} ({v.comment})")
        lib = ref.verify_libsodium(v.public_key, v.signature, v.message)
        reasons[lib.name] += 1
        assert (lib is Verdict.OK) == nacl_ok, f"{v.name}: reference {lib.name}, PyNaCl accepts={nacl_ok}"
        if lib is Verdict.OK:
            assert ref.verify_zip215(v.public_key, v.signature, v.message) is Verdict.OK, v.name
    print("reference libsodium verdicts over the vectors:", dict(reasons))
    assert not disagree, disagree


@pytest.mark.slow
def test_generated_items_reference_matches_labels_and_pynacl() -> None:
    """A few thousand fault-heavy items: the slow reference gives exactly the generator's verdict under
    both policies, and PyNaCl accepts exactly the libsodium-OK ones."""
    seed = faults.test_seed()
    print(f"seed={seed}")
    batch = faults.make_ed25519_batch(random.Random(seed), 2000, fault_rate=0.6)
    for i in range(len(batch)):
        pk, sig, msg = batch.public_keys[i], batch.signatures[i], batch.messages[i]
        lib = ref.verify_libsodium(pk, sig, msg)
        zip_ = ref.verify_zip215(pk, sig, msg)
        where = f"seed={seed} {batch.describe(i)}"
        assert lib == batch.expected_libsodium[i], f"{where}: reference libsodium {lib.name}"
        assert zip_ == batch.expected_zip215[i], f"{where}: reference zip215 {zip_.name}"
        assert pynacl_accepts(pk, sig, msg) == (lib is Verdict.OK), f"{where}: PyNaCl disagrees"
        if lib is Verdict.OK:
            assert zip_ is Verdict.OK, where
        cheap = ref.libsodium_reject_reason(pk, sig)
        assert cheap == (None if lib in (Verdict.OK, Verdict.EQUATION_FAILED) else lib), where


def test_zip215_small_order_196() -> None:
    """docs/RULES.md section 2: each of the 14 encodings as A and as R, S = 0: zip215 OK, libsodium rejects."""
    sig_s = bytes(32)
    msg = b"Zcash"
    n = 0
    for a_enc in ref.SMALL_ORDER_ENCODINGS:
        for r_enc in ref.SMALL_ORDER_ENCODINGS:
            assert ref.verify_zip215(a_enc, r_enc + sig_s, msg) is Verdict.OK, (a_enc.hex(), r_enc.hex())
            assert ref.verify_libsodium(a_enc, r_enc + sig_s, msg) is Verdict.SMALL_ORDER_R
            assert not pynacl_accepts(a_enc, r_enc + sig_s, msg)
            n += 1
    assert n == 196


def test_cofactorless_and_cofactored_part_on_torsioned_r() -> None:
    """R = rB + T: PyNaCl (libsodium 1.0.20, cofactorless) rejects, zip215 accepts; for every T != 0."""
    rng = random.Random(215)
    msg = b"torsion"
    for j in range(1, 8):
        a, r = rng.randrange(1, ref.L), rng.randrange(1, ref.L)
        pk = ref.encode(ref.base_mult(a))
        r_enc = ref.encode(ref.point_add(ref.base_mult(r), ref.SMALL_ORDER_POINTS[j]))
        sig = ref.sign_with_scalar(a, r, pk, r_enc, msg)
        assert ref.verify_libsodium(pk, sig, msg) is Verdict.EQUATION_FAILED
        assert ref.verify_zip215(pk, sig, msg) is Verdict.OK
        assert not pynacl_accepts(pk, sig, msg)
        # The same without the torsion is valid under both.
        r_plain = ref.encode(ref.base_mult(r))
        sig = ref.sign_with_scalar(a, r, pk, r_plain, msg)
        assert ref.verify_libsodium(pk, sig, msg) is Verdict.OK and pynacl_accepts(pk, sig, msg)


# --------------------------------------------------------------------------------------- Merkle

# docs/RULES.md section 3 applied to each transparency-dev case (all have wantErr except happy-path): which of the
# two rejections it is. Pinned so that a backend that reports a shape error as a mismatch is caught.
_TD_MALFORMED = {
    "leafIdx-XOR-@2": {"0"},  # index >= size in the one-leaf tree
    "leafIdx-plus-@1": {"0"},
    "leafIdx-sub-@1": {"0", "1"},  # index 2^64 - 1 (in 2/ it becomes a valid index with a wrong path)
    "preceding-garbage": {"0", "1", "2"},  # a 0-byte hash
    "trailing-garbage": {"0", "1", "2"},
    "preceding-root": {"0", "1", "2"},  # path one too long
    "trailing-root": {"0", "1", "2"},
    "inserted-component": {"1", "2"},
    "removed-component": {"1", "2"},
    "treeSize-div-@2": {"0", "1", "2"},
    "treeSize-mul-@2": {"0", "1", "2"},
    "wrong-leaf": {"0", "1", "2"},  # the leaf hash is the 9 bytes "WrongLeaf"
}


def test_merkle_reference_transparency_dev() -> None:
    for v in vectors.merkle_inclusion_vectors():
        got = mref.verify_inclusion(v.leaf_index, v.tree_size, v.path, v.root, leaf_hash_=v.leaf_hash)
        assert (got is not Verdict.OK) == v.want_err, f"{v.name}: {got.name}"
        _, directory, mutation = v.name.split("/")
        if v.want_err:
            malformed = directory in _TD_MALFORMED.get(mutation, ())
            want = Verdict.MALFORMED_PROOF if malformed else Verdict.ROOT_MISMATCH
            assert got is want, f"{v.name}: {got.name}, want {want.name}"


def test_merkle_reference_rfc6962_tree() -> None:
    tree = vectors.rfc6962_tree()
    for size in range(9):
        assert mref.mth(tree.leaves[:size]) == tree.roots[size]
        assert mref.root_from_leaf_hashes([mref.leaf_hash(x) for x in tree.leaves[:size]]) == tree.roots[size]
    for hv in tree.hasher_vectors:
        if "input_hex" in hv:
            assert mref.leaf_hash(bytes.fromhex(hv["input_hex"])).hex() == hv["want"]
        elif "left_hex" in hv:
            left, right = bytes.fromhex(hv["left_hex"]), bytes.fromhex(hv["right_hex"])
            assert mref.node_hash(left, right).hex() == hv["want"]
        else:
            assert mref.EMPTY_ROOT.hex() == hv["want"]
    for p in tree.inclusion_proofs:
        assert p.root == tree.roots[p.tree_size] and p.leaf_hash == mref.leaf_hash(p.leaf)
        built = mref.Tree.from_leaves(tree.leaves[: p.tree_size])
        assert built.root == p.root and tuple(built.inclusion_path(p.leaf_index)) == p.path, p.name
        i, n = p.leaf_index, p.tree_size
        assert mref.verify_inclusion(i, n, p.path, p.root, leaf=p.leaf) is Verdict.OK
        assert mref.verify_inclusion(i, n, p.path, p.root, leaf_hash_=p.leaf_hash) is Verdict.OK
        if p.path:
            bad = (bytes([p.path[0][0] ^ 1]) + p.path[0][1:],) + p.path[1:]
            assert mref.verify_inclusion(i, n, bad, p.root, leaf=p.leaf) is Verdict.ROOT_MISMATCH
            assert mref.verify_inclusion(i, n, p.path[1:], p.root, leaf=p.leaf) is Verdict.MALFORMED_PROOF


def test_merkle_level_tree_matches_recursive_definition() -> None:
    rng = random.Random(9162)
    for size in list(range(1, 70)) + [rng.randrange(70, 600) for _ in range(5)]:
        leaves = [rng.randbytes(rng.randrange(8)) for _ in range(size)]
        tree = mref.Tree.from_leaves(leaves)
        assert tree.root == mref.mth(leaves), size
        for i in {0, size - 1, rng.randrange(size)}:
            path = tree.inclusion_path(i)
            assert mref.verify_inclusion(i, size, path, tree.root, leaf=leaves[i]) is Verdict.OK, (i, size)


# ------------------------------------------------------------------------------ fault generators


@pytest.mark.slow
def test_ed25519_fault_batch_matches_pynacl_20000() -> None:
    seed = faults.test_seed()
    print(f"seed={seed}")
    t0 = time.perf_counter()
    batch = faults.make_ed25519_batch(random.Random(seed), 20_000)
    gen_s = time.perf_counter() - t0
    print(f"generated {len(batch)} items in {gen_s:.2f} s")
    assert len(batch) == 20_000 and gen_s < 30
    assert set(batch.kinds) == {"valid", *faults.ED25519_FAULT_KINDS}
    assert sum(k != "valid" for k in batch.kinds) == 6000
    wrong = [
        batch.describe(i)
        for i in range(len(batch))
        if pynacl_accepts(batch.public_keys[i], batch.signatures[i], batch.messages[i])
        != (batch.expected_libsodium[i] is Verdict.OK)
    ]
    assert not wrong, f"seed={seed}: {len(wrong)} labels PyNaCl disagrees with, e.g. {wrong[:3]}"
    for lib, zip_ in zip(batch.expected_libsodium, batch.expected_zip215, strict=True):
        assert lib is not Verdict.OK or zip_ is Verdict.OK
    # Both outcomes of the torsioned-key constructions occur (libsodium has no subgroup check).
    seen = {(k, lib) for k, lib in zip(batch.kinds, batch.expected_libsodium, strict=True)}
    for kind in ("torsion_key", "torsion_key_and_r"):
        assert (kind, Verdict.OK) in seen and (kind, Verdict.EQUATION_FAILED) in seen


def test_ed25519_fault_batch_is_reproducible() -> None:
    a = faults.make_ed25519_batch(random.Random(7), 300)
    b = faults.make_ed25519_batch(random.Random(7), 300)
    assert a == b
    assert a.mismatches("libsodium", [int(v) for v in a.expected_libsodium]) == []
    only = faults.make_ed25519_batch(random.Random(7), 50, fault_rate=1.0, kinds=["torsion_r"])
    assert only.kinds == ["torsion_r"] * 50 and set(only.expected_zip215) == {Verdict.OK}


_ALWAYS_MALFORMED = frozenset(
    {
        "index_ge_size",
        "index_max_u64",
        "size_zero",
        "size_max_u64",
        "path_hash_short",
        "path_hash_long",
        "path_hash_removed",
        "path_hash_inserted",
        "root_short",
        "leaf_hash_short",
    }
)


@pytest.mark.parametrize("leaf_form", ["hash", "data"])
def test_merkle_fault_batch(leaf_form: str) -> None:
    seed = faults.test_seed()
    print(f"seed={seed}")
    batch = faults.make_merkle_batch(random.Random(seed), 5000, max_leaves=20_000, leaf_form=leaf_form)
    kinds = set(faults.MERKLE_FAULT_KINDS) - ({"leaf_hash_short"} if leaf_form == "data" else set())
    assert set(batch.kinds) == {"valid"} | kinds
    assert max(batch.built_tree_sizes) <= 20_000 and 1 in batch.built_tree_sizes
    for i, (kind, want) in enumerate(zip(batch.kinds, batch.expected, strict=True)):
        if kind == "valid":
            assert want is Verdict.OK, batch.describe(i)
        if kind in _ALWAYS_MALFORMED:
            assert want is Verdict.MALFORMED_PROOF, batch.describe(i)
        if kind in ("path_bit_flip", "wrong_root", "root_bit_flip", "wrong_leaf"):
            assert want is Verdict.ROOT_MISMATCH, batch.describe(i)
    # The packed batch flags exactly the wrong-length hashes; those are MALFORMED_PROOF.
    packed = MerkleBatch.from_items(**batch.from_items_kwargs())
    assert len(packed) == len(batch)
    for i in range(len(batch)):
        if packed.malformed[i]:
            assert batch.expected[i] is Verdict.MALFORMED_PROOF, batch.describe(i)
    # The same proofs with the leaf given the other way verify the same (hash form: no short leaves).
    if leaf_form == "data":
        assert batch.leaves is not None
        for i in range(len(batch)):
            got = mref.verify_inclusion(
                batch.leaf_indices[i],
                batch.tree_sizes[i],
                batch.paths[i],
                batch.roots[i],
                leaf_hash_=mref.leaf_hash(batch.leaves[i]),
            )
            assert got is batch.expected[i], batch.describe(i)


# ---------------------------------------------------------------------------- self-test vectors


def test_selftest_vectors_are_current_and_correct() -> None:
    from tests.support import make_selftest_vectors as gen
    from verifier import _selftest_vectors as kat

    current = gen.TARGET.read_text(encoding="utf-8")
    assert current == gen.render(), "stale: run python -m tests.support.make_selftest_vectors"
    names = {c.name for c in kat.ED25519_CASES}
    assert "torsion-r-cofactorless-rejects" in names
    for c in kat.ED25519_CASES:
        assert ref.verify_libsodium(c.public_key, c.signature, c.message) is Verdict[c.libsodium], c.name
        assert ref.verify_zip215(c.public_key, c.signature, c.message) is Verdict[c.zip215], c.name
        assert pynacl_accepts(c.public_key, c.signature, c.message) == (c.libsodium == "OK"), c.name
    parting = [c for c in kat.ED25519_CASES if c.libsodium == "EQUATION_FAILED" and c.zip215 == "OK"]
    assert parting, "no case where only the cofactorless rule rejects"
    for m in kat.MERKLE_CASES:
        got = mref.verify_inclusion(m.leaf_index, m.tree_size, m.path, m.root, leaf_hash_=m.leaf_hash)
        assert got is Verdict[m.expected], m.name
    assert {m.expected for m in kat.MERKLE_CASES} == {"OK", "ROOT_MISMATCH", "MALFORMED_PROOF"}
