"""Ed25519 batches for the backend tests: a batch from item lists, verdict counts by name, and the
planted-fault batch of any size (distinct items tiled and shuffled) with its expected verdicts."""

from __future__ import annotations

import collections
import random

import numpy as np
import numpy.typing as npt

from tests.support.faults import make_ed25519_batch
from verifier.batch import Ed25519Batch
from verifier.verdict import Policy, Verdict

__all__ = ["batch_of", "names", "planted_fault_batch", "signed_items"]


def batch_of(pks: list[bytes], sigs: list[bytes], msgs: list[bytes]) -> Ed25519Batch:
    return Ed25519Batch.from_items(pks, sigs, msgs)


def names(codes: npt.NDArray[np.uint8] | list[int]) -> dict[str, int]:
    """How many of each verdict, by name: ``{"OK": 3, "SMALL_ORDER_R": 1}``."""
    return dict(collections.Counter(Verdict(int(c)).name for c in codes))


def planted_fault_batch(
    rng: random.Random, n_total: int, n_unique: int | None = None
) -> tuple[Ed25519Batch, dict[Policy, npt.NDArray[np.uint8]], list[str], object]:
    """``n_total`` items: ``n_unique`` planted-fault items (default all distinct), tiled and shuffled when
    fewer, so that a million-item GPU batch does not need a million Python-built signatures."""
    n_unique = min(n_total, n_unique or n_total)
    fb = make_ed25519_batch(rng, n_unique)
    order = np.arange(n_total) % n_unique
    rng.shuffle(order)  # type: ignore[arg-type]
    pks = [fb.public_keys[i] for i in order]
    sigs = [fb.signatures[i] for i in order]
    msgs = [fb.messages[i] for i in order]
    kinds = [fb.kinds[i] for i in order]
    expected = {
        Policy.LIBSODIUM: np.array([int(fb.expected_libsodium[i]) for i in order], dtype=np.uint8),
        Policy.ZIP215: np.array([int(fb.expected_zip215[i]) for i in order], dtype=np.uint8),
    }
    return batch_of(pks, sigs, msgs), expected, kinds, fb


def signed_items(
    n: int, seed: int, broken_every: int = 3, message_bytes: int = 40
) -> tuple[list[bytes], list[bytes], list[bytes], npt.NDArray[np.uint8]]:
    """n signatures by one key over random messages, every ``broken_every``-th one (from the first) made
    invalid by a flipped message bit: the columns and their verdicts (OK or EQUATION_FAILED)."""
    import nacl.signing

    rng = random.Random(seed)
    key = nacl.signing.SigningKey(rng.randbytes(32))
    msgs = [rng.randbytes(message_bytes) for _ in range(n)]
    sigs = [key.sign(m).signature for m in msgs]
    want = np.full(n, Verdict.OK, dtype=np.uint8)
    for i in range(0, n, broken_every):
        msgs[i] = bytes([msgs[i][0] ^ 1]) + msgs[i][1:]
        want[i] = Verdict.EQUATION_FAILED
    return [bytes(key.verify_key)] * n, sigs, msgs, want
