"""The Merkle differential suite, once, on the kernel's backends (``backend`` emu and cuda, and on cuda also
the kernel launched straight from CuPy, ``cuda-kernel``: tests/support/backends.py ``merkle_ways``).

Exact verdicts on every input: every Merkle vector; SHA-256 of leaf data at every length around the block
boundaries; the proof shape (the kernel's transparency-dev inner/border split) against the RFC 9162 loop
of docs/RULES.md section 3 for every (index, size, path length) up to 64 leaves and for random 64-bit
ones; random trees of 1 to 100,000 leaves with every mutation docs/RULES.md names, exact verdict codes
asserted against the independent reference (tests/support/merkle_ref.py); slices, offsets that do not
start at zero, and the CPU backend's verdicts. Random tests take the ``seed`` fixture of tests/conftest.py
(printed; replay with VERIFIER_TEST_SEED). Backend-specific tests are in test_cpu.py, test_emu_merkle.py
and test_cuda_merkle.py.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import numpy as np
import pytest

from tests.support.backends import Verify, merkle_ways
from tests.support.faults import MERKLE_FAULT_KINDS, make_merkle_batch
from tests.support.merkle_ref import Tree, leaf_hash, root_from_path, verify_inclusion
from tests.support.vectors import merkle_inclusion_vectors, rfc6962_tree
from verifier.backends.base import Backend
from verifier.batch import MerkleBatch
from verifier.schemes import MERKLE
from verifier.verdict import Verdict

# The backends it ran on before it was one suite (the CPU backend's Merkle reference has its own vector
# tests in test_cpu.py): add "cpu" here to run it there too.
pytestmark = merkle_ways()

_OK, _MALFORMED, _MISMATCH = int(Verdict.OK), int(Verdict.MALFORMED_PROOF), int(Verdict.ROOT_MISMATCH)


# ------------------------------------------------------------------------------------------- reference


def _ref(index: int, size: int, leaf_hash_: bytes, path: Sequence[bytes], root: bytes) -> int:
    return int(verify_inclusion(index, size, path, root, leaf_hash_=leaf_hash_))


# ----------------------------------------------------------------------------------------------- tests


def test_transparency_dev_inclusion_vectors(verify: Verify) -> None:
    """Every transparency-dev inclusion file: exact verdict, and OK exactly when wantErr is false."""
    vectors = merkle_inclusion_vectors()
    batch = MerkleBatch.from_items(
        [v.leaf_index for v in vectors],
        [v.tree_size for v in vectors],
        [list(v.path) for v in vectors],
        [v.root for v in vectors],
        leaf_hashes=[v.leaf_hash for v in vectors],
    )
    got = verify(batch).tolist()
    for v, verdict in zip(vectors, got, strict=True):
        assert verdict == _ref(v.leaf_index, v.tree_size, v.leaf_hash, v.path, v.root), v.name
        assert (verdict != _OK) == v.want_err, v.name
    assert len(vectors) == 49


@pytest.mark.parametrize("leaf_form", ["hash", "data"])
def test_rfc6962_reference_tree(verify: Verify, leaf_form: str) -> None:
    """Every inclusion proof of the RFC 6962 test tree against every published root (sizes 0..8)."""
    tree = rfc6962_tree()
    cases = [(p, size, root) for p in tree.inclusion_proofs for size, root in sorted(tree.roots.items())]
    leaves = [p.leaf for p, _, _ in cases]
    kw = {"leaf_hashes": [p.leaf_hash for p, _, _ in cases]} if leaf_form == "hash" else {"leaves": leaves}
    batch = MerkleBatch.from_items(
        [p.leaf_index for p, _, _ in cases],
        [p.tree_size for p, _, _ in cases],
        [list(p.path) for p, _, _ in cases],
        [root for _, _, root in cases],
        **kw,
    )
    got = verify(batch).tolist()
    for (p, size, root), verdict in zip(cases, got, strict=True):
        want = _ref(p.leaf_index, p.tree_size, p.leaf_hash, p.path, root)
        assert verdict == want, (p.name, size)
        assert (verdict == _OK) == (size == p.tree_size), (p.name, size)
    assert len(tree.inclusion_proofs) == 36


def test_rfc6962_hasher_vectors(verify: Verify) -> None:
    """The leaf-hash vectors (a one-leaf tree's root is its leaf hash); node hashes of 32-byte children
    are covered by every proof (the vector with 4-byte children has no counterpart in a proof)."""
    cases = [v for v in rfc6962_tree().hasher_vectors if "input_hex" in v]
    leaves = [bytes.fromhex(v["input_hex"]) for v in cases]
    batch = MerkleBatch.from_items(
        [0] * len(cases),
        [1] * len(cases),
        [[] for _ in cases],
        [bytes.fromhex(v["want"]) for v in cases],
        leaves=leaves,
    )
    assert verify(batch).tolist() == [_OK] * len(cases) and len(cases) == 2


def test_every_index_of_every_small_tree(verify: Verify) -> None:
    """True proofs from a built tree (independent of the docs/RULES.md loop), every index, sizes 1..300, both leaf
    forms; and the same proofs against the next size's root (a wrong root)."""
    rng = random.Random(3)
    data = [rng.randbytes(rng.randrange(0, 80)) for _ in range(301)]
    idx, sizes, paths, roots, leaves, want = [], [], [], [], [], []
    for size in range(1, 301):
        tree = Tree.from_leaves(data[:size])
        other = Tree.from_leaves(data[: size + 1]).root
        for index in range(size):
            for root in (tree.root, other):
                idx.append(index)
                sizes.append(size)
                paths.append(tree.inclusion_path(index))
                roots.append(root)
                leaves.append(data[index])
                want.append(_OK if root == tree.root else _MISMATCH)
    for kw in ({"leaves": leaves}, {"leaf_hashes": [leaf_hash(d) for d in leaves]}):
        batch = MerkleBatch.from_items(idx, sizes, paths, roots, **kw)
        assert verify(batch).tolist() == want


def test_leaf_data_hash_every_length_near_block_boundaries(verify: Verify) -> None:
    """Tree of one leaf: the root is the leaf hash, so this checks sha256_prefixed on each length."""
    rng = random.Random(1)
    lengths = list(range(0, 200)) + [247, 248, 255, 256, 1000, 4095, 4096, 65536 + 7]
    leaves = [rng.randbytes(k) for k in lengths]
    roots = [leaf_hash(d) for d in leaves]
    batch = MerkleBatch.from_items(
        [0] * len(leaves), [1] * len(leaves), [[] for _ in leaves], roots, leaves=leaves
    )
    assert verify(batch).tolist() == [_OK] * len(leaves)
    wrong = [r[:5] + bytes([r[5] ^ 0x40]) + r[6:] for r in roots]
    batch = MerkleBatch.from_items(
        [0] * len(leaves), [1] * len(leaves), [[] for _ in leaves], wrong, leaves=leaves
    )
    assert verify(batch).tolist() == [_MISMATCH] * len(leaves)


def test_shape_and_directions_match_spec_loop_exhaustively(verify: Verify) -> None:
    """Every index in [0, size + 2) of every size in [0, 64], every path length 0..8: kernel == the docs/RULES.md loop."""
    rng = random.Random(2)
    idx, sizes, paths, roots, leaves, want = [], [], [], [], [], []
    for size in range(0, 65):
        for index in range(0, size + 2):
            for plen in range(0, 9):
                leaf = rng.randbytes(32)
                path = [rng.randbytes(32) for _ in range(plen)]
                spec = root_from_path(index, size, leaf, path)
                for root in ([spec] if spec is not None else []) + [rng.randbytes(32)]:
                    idx.append(index)
                    sizes.append(size)
                    paths.append(path)
                    roots.append(root)
                    leaves.append(leaf)
                    want.append(_ref(index, size, leaf, path, root))
    batch = MerkleBatch.from_items(idx, sizes, paths, roots, leaf_hashes=leaves)
    got = verify(batch)
    assert got.tolist() == want
    assert want.count(_OK) > 1000 and want.count(_MISMATCH) > 1000 and want.count(_MALFORMED) > 10000


@pytest.mark.slow
def test_shape_matches_spec_loop_at_64_bits(verify: Verify, seed: int) -> None:
    rng = random.Random(seed)
    idx, sizes, paths, roots, leaves, want = [], [], [], [], [], []
    for _ in range(3000):
        size = rng.choice(
            [rng.getrandbits(64), 2**64 - 1, 2**63, 2**63 + 1, rng.getrandbits(rng.randrange(1, 65))]
        )
        size = max(size, 1)
        index = rng.choice([rng.randrange(size), size - 1, 0, size, size + 1 if size < 2**64 - 1 else 0])
        leaf = rng.randbytes(32)
        # the length the docs/RULES.md loop needs: grow until it stops being too short (or index is out of range)
        path: list[bytes] = []
        while index < size and root_from_path(index, size, leaf, path) is None and len(path) < 64:
            path.append(rng.randbytes(32))
        for delta in (0, -1, 1):
            p = path[: len(path) + delta] if delta <= 0 else path + [rng.randbytes(32)]
            if delta < 0 and not path:
                continue
            root = root_from_path(index, size, leaf, p) or rng.randbytes(32)
            idx.append(index)
            sizes.append(size)
            paths.append(p)
            roots.append(root)
            leaves.append(leaf)
            want.append(_ref(index, size, leaf, p, root))
    batch = MerkleBatch.from_items(idx, sizes, paths, roots, leaf_hashes=leaves)
    assert verify(batch).tolist() == want, f"seed={seed}"


@pytest.mark.parametrize("leaf_form", ["hash", "data"])
def test_random_trees_every_mutation(verify: Verify, leaf_form: str, seed: int) -> None:
    """Proofs from random trees of 1 to 100,000 leaves, half of them mutated in every way docs/RULES.md names
    (tests/support/faults.py): the exact verdict of each."""
    rng = random.Random(seed)
    fb = make_merkle_batch(rng, 6000, fault_rate=0.5, trees=8, leaf_form=leaf_form)
    got = verify(MerkleBatch.from_items(**fb.from_items_kwargs())).tolist()
    bad = fb.mismatches(got)
    assert not bad, f"seed={seed}: {len(bad)} wrong verdicts, e.g. {bad[:3]}"
    wanted = {k for k in MERKLE_FAULT_KINDS if leaf_form == "hash" or k != "leaf_hash_short"}
    assert set(fb.kinds) >= wanted, f"seed={seed}: kinds not drawn: {sorted(wanted - set(fb.kinds))}"
    assert max(fb.built_tree_sizes) > 1000
    print(
        f"trees {fb.built_tree_sizes}; {len(got)} proofs: "
        + ", ".join(f"{Verdict(v).name} {got.count(v)}" for v in (_OK, _MISMATCH, _MALFORMED))
    )


def test_malformed_flag_and_empty_batch(verify: Verify) -> None:
    """A hash of the wrong length (the batch's malformed flag) wins over everything else."""
    tree = Tree.from_leaves([b"a", b"b", b"c"])
    path = tree.inclusion_path(1)
    batch = MerkleBatch.from_items(
        [1, 1, 1, 1],
        [3, 3, 3, 3],
        [path, path, path[:1] + [b"short"], path],
        [tree.root, tree.root[:31], tree.root, tree.root],
        leaf_hashes=[leaf_hash(b"b"), leaf_hash(b"b"), leaf_hash(b"b"), leaf_hash(b"b")[:31]],
    )
    assert verify(batch).tolist() == [_OK, _MALFORMED, _MALFORMED, _MALFORMED]
    assert verify(batch.slice(0, 0)).tolist() == []


def test_batch_slices_and_shared_roots_table(verify: Verify) -> None:
    """Slices re-base the packed buffers: every slice gives the verdicts of the whole batch."""
    rng = random.Random(5)
    trees = [Tree.from_leaves([rng.randbytes(8) for _ in range(n)]) for n in (5, 77, 1000)]
    idx, sizes, paths, roots, leaves = [], [], [], [], []
    for k in range(600):
        t = trees[k % 3]
        i = rng.randrange(t.size)
        idx.append(i)
        sizes.append(t.size)
        paths.append(t.inclusion_path(i))
        roots.append(trees[rng.randrange(3)].root)
        leaves.append(t.leaf_hash(i))
    batch = MerkleBatch.from_items(idx, sizes, paths, roots, leaf_hashes=leaves)
    assert batch.roots.shape[0] == 3
    whole = verify(batch)
    assert sorted(set(whole.tolist())) == [_OK, _MISMATCH]
    for a, b in ((0, 1), (1, 250), (250, 599), (599, 600)):
        assert verify(batch.slice(a, b)).tolist() == whole[a:b].tolist()


def test_same_verdicts_as_cpu_backend(verify: Verify, cpu_reference: Backend | None, seed: int) -> None:
    """The backend under test and the CPU reference backend agree on random mixed batches."""
    if cpu_reference is None:
        pytest.skip("the backend under test is the CPU reference itself")
    rng = random.Random(seed)
    for leaf_form in ("hash", "data"):
        fb = make_merkle_batch(rng, 3000, fault_rate=0.5, leaf_form=leaf_form)
        batch = MerkleBatch.from_items(**fb.from_items_kwargs())
        want = cpu_reference.run(MERKLE, batch)
        got = verify(batch)
        assert np.array_equal(got, want), f"seed={seed}: first difference at {int(np.argmax(got != want))}"


def test_offsets_need_not_start_at_zero(verify: Verify) -> None:
    """Path and leaf offsets taken from the middle of a bigger batch (starting past 0) give the same verdicts
    as the slice: the batch re-bases them on construction (the kernel would too, for the CUDA backend's
    chunks of one upload)."""
    fb = make_merkle_batch(random.Random(11), 300, fault_rate=0.3, max_leaves=3000, leaf_form="data")
    whole = MerkleBatch.from_items(**fb.from_items_kwargs())
    assert whole.leaf_offsets is not None and whole.leaf_data is not None
    a, b = 100, 250
    p0, l0 = int(whole.path_offsets[a]), int(whole.leaf_offsets[a])
    part = dataclasses.replace(
        whole.slice(a, b),
        path_hashes=whole.path_hashes[p0:],
        path_offsets=whole.path_offsets[a : b + 1],
        leaf_data=whole.leaf_data[l0:],
        leaf_offsets=whole.leaf_offsets[a : b + 1],
    )
    assert int(whole.path_offsets[a]) > 0 and int(whole.leaf_offsets[a]) > 0
    assert verify(part).tolist() == [int(v) for v in fb.expected[a:b]]
