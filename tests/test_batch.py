"""Packed batches: wire buffers are checked as a whole, per-item lengths become malformed flags."""

from __future__ import annotations

import numpy as np
import pytest

from verifier.batch import Ed25519Batch, MerkleBatch
from verifier.errors import InvalidRequestError


def test_from_items_flags_wrong_lengths_per_item() -> None:
    b = Ed25519Batch.from_items(
        [b"k" * 32, b"k" * 31, b"k" * 32], [b"s" * 64, b"s" * 64, b"s" * 65], [b"a", b"", b"ccc"]
    )
    assert b.malformed.tolist() == [False, True, True]
    assert [b.message(i) for i in range(3)] == [b"a", b"", b"ccc"]
    assert not b.public_keys[1].any(), "a malformed row is zeroed, never half-copied"


def test_from_items_rejects_columns_of_different_lengths() -> None:
    with pytest.raises(InvalidRequestError, match="public_keys 2, signatures 1, messages 2"):
        Ed25519Batch.from_items([b"k" * 32] * 2, [b"s" * 64], [b"", b""])


def test_from_items_rejects_wrong_types() -> None:
    with pytest.raises(TypeError, match="messages must be a sequence"):
        Ed25519Batch.from_items([b"k" * 32], [b"s" * 64], b"not a list")
    with pytest.raises(TypeError, match=r"public_keys\[0\] must be bytes-like"):
        Ed25519Batch.from_items(["ab" * 16], [b"s" * 64], [b""])


def test_from_items_accepts_numpy_columns() -> None:
    keys = np.zeros((3, 32), np.uint8)
    sigs = np.ones((3, 64), np.uint8)
    b = Ed25519Batch.from_items(keys, sigs, [b"x"] * 3)
    assert len(b) == 3 and not b.malformed.any()
    with pytest.raises(InvalidRequestError, match=r"shape \(n, 32\)"):
        Ed25519Batch.from_items(np.zeros((3, 31), np.uint8), sigs, [b"x"] * 3)


@pytest.mark.parametrize(
    ("keys", "sigs", "msgs", "lengths", "match"),
    [
        (b"k" * 64, b"s" * 128, b"abc", [1, 1], r"message_lengths sum to 2 bytes but messages holds 3"),
        (b"k" * 63, b"s" * 128, b"ab", [1, 1], r"public_keys holds 63 bytes; 2 items .* need 2 x 32 = 64"),
        (b"k" * 64, b"s" * 64, b"ab", [1, 1], r"signatures holds 64 bytes; 2 items .* need 2 x 64 = 128"),
    ],
)
def test_from_packed_names_field_and_numbers(
    keys: bytes, sigs: bytes, msgs: bytes, lengths: list[int], match: str
) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        Ed25519Batch.from_packed(keys, sigs, msgs, lengths)


def test_slice_and_take_keep_items_together() -> None:
    msgs = [bytes([i]) * i for i in range(10)]
    b = Ed25519Batch.from_items(
        [bytes([i]) * 32 for i in range(10)], [bytes([i]) * 64 for i in range(10)], msgs
    )
    s = b.slice(3, 7)
    assert [s.message(i) for i in range(4)] == msgs[3:7]
    assert s.public_keys[:, 0].tolist() == [3, 4, 5, 6]
    t = b.take(np.array([9, 0, 4]))
    assert [t.message(i) for i in range(3)] == [msgs[9], msgs[0], msgs[4]]
    assert t.signatures[:, 0].tolist() == [9, 0, 4]


def _merkle(**kw: object) -> MerkleBatch:
    args: dict[str, object] = dict(
        leaf_indices=[0, 1],
        tree_sizes=[2, 2],
        path_hashes=b"p" * 64,
        path_lengths=[1, 1],
        roots=b"r" * 32,
        root_indices=[],
        leaf_hashes=b"h" * 64,
    )
    args.update(kw)
    return MerkleBatch.from_packed(**args)  # type: ignore[arg-type]


def test_merkle_from_packed_ok_and_single_root_shared() -> None:
    b = _merkle()
    assert len(b) == 2 and b.root_indices.tolist() == [0, 0]
    assert b.path(1).shape == (1, 32)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(tree_sizes=[2]), "leaf_indices 2, tree_sizes 1, path_lengths 2"),
        (dict(path_hashes=b"p" * 65), "path_hashes holds 65 bytes, not a multiple of 32"),
        (dict(path_lengths=[1, 2]), "path_lengths sum to 3 hashes but path_hashes holds 2 hashes"),
        (dict(roots=b""), "roots holds 0 bytes"),
        (dict(roots=b"r" * 64), "root_indices is empty but 2 roots are given"),
        (dict(root_indices=[0, 3]), r"root_indices\[1\] = 3 but only 1 roots are given"),
        (dict(root_indices=[0]), "root_indices has 1 entries for 2 proofs"),
        (dict(leaf_hashes=b"h" * 32), "leaf_hashes holds 32 bytes; 2 items"),
        (
            dict(leaf_hashes=b"", leaf_data=b"ab", leaf_data_lengths=[1]),
            "leaf_data_lengths has 1 entries for 2",
        ),
        (dict(leaf_data=b"ab", leaf_data_lengths=[1, 1]), "not both"),
    ],
)
def test_merkle_from_packed_names_field_and_numbers(kw: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        _merkle(**kw)


def test_merkle_from_items_flags_bad_hash_lengths() -> None:
    b = MerkleBatch.from_items(
        [0, 0, 0, 0],
        [1, 2, 2, 2],
        [[], [b"p" * 32], [b"p" * 31], [b"p" * 32]],
        [b"r" * 32, b"r" * 32, b"r" * 32, b"r" * 33],
        leaf_hashes=[b"h" * 32, b"h" * 30, b"h" * 32, b"h" * 32],
    )
    assert b.malformed.tolist() == [False, True, True, True]
    assert len(b.roots) == 1


def test_merkle_from_items_rejects_negative_index() -> None:
    with pytest.raises(InvalidRequestError, match=r"leaf_indices\[0\] = -1 is outside"):
        MerkleBatch.from_items([-1], [1], [[]], b"r" * 32, leaf_hashes=[b"h" * 32])


def test_merkle_take_with_leaf_data() -> None:
    b = MerkleBatch.from_items(
        [0, 1, 2],
        [4, 4, 4],
        [[b"1" * 32], [b"2" * 32, b"3" * 32], []],
        b"r" * 32,
        leaves=[b"a", b"bb", b"ccc"],
    )
    t = b.take(np.array([2, 1]))
    assert t.leaf(0) == (False, b"ccc") and t.leaf(1) == (False, b"bb")
    assert t.path_offsets.tolist() == [0, 0, 2]
    assert t.path_hashes[:, 0].tolist() == [ord("2"), ord("3")]


def test_concat_then_slice_gives_back_each_part() -> None:
    a = Ed25519Batch.from_items([b"a" * 32] * 2, [b"s" * 64] * 2, [b"x", b"yy"])
    b = Ed25519Batch.from_items([b"b" * 32, b"b"], [b"t" * 64] * 2, [b"", b"zzz"])
    c = Ed25519Batch.concat([a, b])
    assert [c.message(i) for i in range(4)] == [b"x", b"yy", b"", b"zzz"]
    assert c.malformed.tolist() == [False, False, False, True]
    assert c.slice(2, 4).message(1) == b"zzz"


def test_merkle_concat_stacks_root_tables() -> None:
    a = MerkleBatch.from_items([0], [2], [[b"p" * 32]], [b"r" * 32], leaf_hashes=[b"h" * 32])
    b = MerkleBatch.from_items(
        [1, 0], [2, 1], [[b"q" * 32], []], [b"s" * 32, b"t" * 32], leaf_hashes=[b"i" * 32] * 2
    )
    c = MerkleBatch.concat([a, b])
    assert [c.roots[i][0] for i in c.root_indices] == [ord("r"), ord("s"), ord("t")]
    assert c.path_offsets.tolist() == [0, 1, 2, 2]
    d = MerkleBatch.from_items([0], [1], [[]], b"r" * 32, leaves=[b"data"])
    with pytest.raises(InvalidRequestError, match="cannot merge"):
        MerkleBatch.concat([a, d])


def test_offsets_that_start_past_zero_are_rebased() -> None:
    """A window on a bigger batch's columns (offsets starting at k, data starting at byte k) reads the same
    rows as the original: the CPU backend once read such a batch from byte 0 and verified wrong messages."""
    full = Ed25519Batch.from_items([bytes(32)] * 4, [bytes(64)] * 4, [b"a", b"bb", b"ccc", b"dddd"])
    base = int(full.message_offsets[1])
    part = Ed25519Batch(
        public_keys=full.public_keys[1:3],
        signatures=full.signatures[1:3],
        messages=full.messages[base:],
        message_offsets=full.message_offsets[1:4],
        malformed=full.malformed[1:3],
    )
    assert [part.message(i) for i in range(2)] == [b"bb", b"ccc"]
    assert (
        int(part.message_offsets[0]) == 0 and int(full.message_offsets[1]) == base
    )  # the original untouched
    assert [part.take(np.array([1, 0])).message(i) for i in range(2)] == [b"ccc", b"bb"]

    h = [bytes([i]) * 32 for i in range(6)]
    m = MerkleBatch.from_items([0, 1], [2, 2], [[h[0]], [h[1]]], h[5], leaves=[b"x", b"yz"])
    assert m.leaf_data is not None and m.leaf_offsets is not None
    window = MerkleBatch(
        leaf_hashes=None,
        leaf_data=m.leaf_data[1:],
        leaf_offsets=m.leaf_offsets[1:],
        leaf_indices=m.leaf_indices[1:],
        tree_sizes=m.tree_sizes[1:],
        path_hashes=m.path_hashes[1:],
        path_offsets=m.path_offsets[1:],
        roots=m.roots,
        root_indices=m.root_indices[1:],
        malformed=m.malformed[1:],
    )
    assert window.leaf(0) == (False, b"yz") and window.path(0).tobytes() == h[1]
