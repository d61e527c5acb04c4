"""The Merkle kernel (kernels/merkle_verify.cu) built for the host: what only the host build shows.

The differential suite (vectors, block boundaries, proof shapes against the docs/RULES.md loop, random
trees with every mutation, ...) runs on backend ``emu`` as on every backend, in
tests/backends/test_merkle.py. Here: a root index past the table, which only a host bug could send, leaves
the kernel's verdict unwritten, and the backend raises instead of answering.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.support.backends import Backends
from tests.support.merkle_ref import Tree
from verifier.batch import MerkleBatch
from verifier.errors import KernelError
from verifier.schemes import MERKLE
from verifier.verdict import Verdict

_OK = int(Verdict.OK)


def test_root_index_out_of_range_is_an_internal_error(backends: Backends) -> None:
    """The kernel leaves UNSPECIFIED for a root index past the table (a host bug): the backend raises."""
    emu_backend = backends.get("emu")
    tree = Tree.from_leaves([b"x", b"y"])
    good = MerkleBatch.from_items(
        [0], [2], [tree.inclusion_path(0)], tree.root, leaf_hashes=[tree.leaf_hash(0)]
    )
    bad = dataclasses.replace(good, root_indices=np.array([1], dtype=np.uint32))
    assert emu_backend.run(MERKLE, good).tolist() == [_OK]
    with pytest.raises(KernelError, match=r"backend emu \(merkle\) left 1 of 1 verdicts unwritten"):
        emu_backend.run(MERKLE, bad)
