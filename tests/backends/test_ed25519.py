"""The Ed25519 differential suite, once, on every backend (``backend``: cpu, emu, cuda; tests/backends/conftest.py).

Exact verdicts, reason by reason (not only accept/reject), under both policies:
* every public vector (RFC 8032, sign.input, Wycheproof: 1180) against PyNaCl's accept/reject, the vector's
  expectation, the independent pure-Python reference (tests/support/ed25519_ref.py) and the CPU backend;
* the 196 ZIP-215 small-order signatures of docs/RULES.md section 2;
* hostile edge encodings (every blocklist entry with both sign bits, y >= p, S at and around L) where the
  order of the checks decides the reason;
* random items with planted faults at random positions (tests/support/faults.py: bit flips in A, R, S and
  M, S + L, the 14 small-order encodings as R and as A, non-canonical and undecodable keys, torsion
  components, wrong lengths), seed printed (replay: VERIFIER_TEST_SEED=<seed>), also cross-checked against
  PyNaCl and the CPU backend: >= 20,000 per run on cpu and emu (size: VERIFIER_ED25519_ITEMS=<n>), 2^20 =
  1,048,576 per policy on cuda (65,536 distinct items, tiled and shuffled);
* ZIP-215 accepts whatever libsodium accepts; the key store never changes a verdict; message offsets that
  do not start at zero; empty and malformed-only batches; concurrent calls; the policies declared.

The CPU backend's policy zip215 runs the host build of the kernel (PyNaCl cannot express ZIP-215), so on
cpu too both policies are checked against the reference. Backend-specific tests are in test_cpu.py,
test_emu_ed25519.py and test_cuda_ed25519.py.
"""

from __future__ import annotations

import os
import random
import threading
import time

import numpy as np
import numpy.typing as npt
import pytest

from tests.support import ed25519_ref as ref
from tests.support.ed25519_cases import batch_of, names, planted_fault_batch
from tests.support.faults import ED25519_FAULT_KINDS, make_ed25519_batch, pynacl_accepts
from tests.support.vectors import ed25519_vectors
from verifier.backends.base import Backend
from verifier.batch import Ed25519Batch
from verifier.errors import UnsupportedPolicyError
from verifier.schemes import ED25519
from verifier.verdict import Policy, Verdict

_POLICIES = (Policy.LIBSODIUM, Policy.ZIP215)


# ------------------------------------------------------------------------------------------- helpers


def reference(policy: Policy, pk: bytes, sig: bytes, msg: bytes) -> Verdict:
    if len(pk) != 32 or len(sig) != 64:
        return Verdict.MALFORMED_LENGTH
    return ref.verify(policy.value, pk, sig, msg)


def check_against_reference(
    backend: Backend, pks: list[bytes], sigs: list[bytes], msgs: list[bytes], what: str
) -> dict[Policy, npt.NDArray[np.uint8]]:
    """Both policies, every item: the backend's verdict equals the slow reference's, and under policy
    libsodium accept/reject equals PyNaCl's."""
    batch = batch_of(pks, sigs, msgs)
    got = {pol: backend.run(ED25519, batch, pol) for pol in _POLICIES}
    wrong = []
    for i, (pk, sig, msg) in enumerate(zip(pks, sigs, msgs, strict=True)):
        for pol in _POLICIES:
            want = reference(pol, pk, sig, msg)
            if int(got[pol][i]) != want:
                wrong.append(
                    f"{what}[{i}] {pol.value}: got {Verdict(int(got[pol][i])).name}, want {want.name} "
                    f"pk={pk.hex()} sig={sig.hex()} msg={msg[:32].hex()}"
                )
        if (int(got[Policy.LIBSODIUM][i]) == Verdict.OK) != pynacl_accepts(pk, sig, msg):
            wrong.append(f"{what}[{i}]: PyNaCl disagrees (got {Verdict(int(got[Policy.LIBSODIUM][i])).name})")
    assert not wrong, "\n".join(wrong[:20]) + f"\n({len(wrong)} mismatches)"
    return got


# --------------------------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_every_vector_both_policies(backend: Backend, cpu_reference: Backend | None) -> None:
    vectors = ed25519_vectors()
    pks, sigs, msgs = (
        [v.public_key for v in vectors],
        [v.signature for v in vectors],
        [v.message for v in vectors],
    )
    got = check_against_reference(backend, pks, sigs, msgs, "vector")
    wrong = [
        f"{v.name}: {Verdict(int(c)).name} but the vector says valid={v.expected_valid_libsodium}"
        for v, c in zip(vectors, got[Policy.LIBSODIUM], strict=True)
        if (int(c) == Verdict.OK) != v.expected_valid_libsodium
    ]
    assert not wrong, wrong
    if cpu_reference is not None:
        cpu = cpu_reference.run(ED25519, batch_of(pks, sigs, msgs), Policy.LIBSODIUM)
        diff = np.flatnonzero(cpu != got[Policy.LIBSODIUM])
        assert diff.size == 0, [
            (vectors[i].name, int(cpu[i]), int(got[Policy.LIBSODIUM][i])) for i in diff[:10]
        ]
    assert len(vectors) >= 1180
    print(
        f"\n{len(vectors)} vectors: libsodium {names(got[Policy.LIBSODIUM])}; zip215 {names(got[Policy.ZIP215])}"
    )


def test_zip215_small_order_196(backend: Backend) -> None:
    """docs/RULES.md section 2: each of the 14 small-order encodings as A and as R, S = 0: zip215 accepts all 196,
    libsodium rejects all (R is checked first: SMALL_ORDER_R)."""
    encs = ref.SMALL_ORDER_ENCODINGS
    assert len(encs) == 14
    pks = [a for a in encs for _ in encs]
    sigs = [r + bytes(32) for _ in encs for r in encs]
    msgs = [b"zip215" for _ in pks]
    batch = batch_of(pks, sigs, msgs)
    assert names(backend.run(ED25519, batch, Policy.ZIP215)) == {"OK": 196}
    assert names(backend.run(ED25519, batch, Policy.LIBSODIUM)) == {"SMALL_ORDER_R": 196}


def _hostile_items(rng: random.Random) -> tuple[list[bytes], list[bytes], list[bytes]]:
    P, L = ref.P, ref.L
    pks, sigs, msgs = [], [], []

    def add(pk: bytes, sig: bytes, msg: bytes) -> None:
        pks.append(pk)
        sigs.append(sig)
        msgs.append(msg)

    seed = rng.randbytes(32)
    msg = b"hostile"
    pk = ref.public_key_from_seed(seed)
    sig = ref.sign(seed, msg)
    s_int = int.from_bytes(sig[32:], "little")
    odd_y = [0, 1, 2, P - 2, P - 1, P, P + 1, P + 2, P + 18, 2**255 - 1, *ref.ORDER8_Y]
    encodings = [(y | (b << 255)).to_bytes(32, "little") for y in odd_y for b in (0, 1)]
    for s in (0, 1, L - 1, L, L + 1, s_int + L, 2**253, 2**256 - 1, s_int):
        add(pk, sig[:32] + (s % 2**256).to_bytes(32, "little"), msg)
    for enc in encodings:
        add(pk, enc + sig[32:], msg)  # as R
        add(enc, sig, msg)  # as A
        add(enc, enc + sig[32:], msg)  # as both
        add(enc, enc + bytes(32), msg)  # as both, S = 0
        add(enc, sig[:32] + (L + 5).to_bytes(32, "little"), msg)  # S >= L wins over everything after it
    return pks, sigs, msgs


def test_hostile_encodings_and_check_order(backend: Backend, rng: random.Random) -> None:
    pks, sigs, msgs = _hostile_items(rng)
    got = check_against_reference(backend, pks, sigs, msgs, "hostile")
    print(
        f"\n{len(pks)} hostile items: libsodium {names(got[Policy.LIBSODIUM])}; zip215 {names(got[Policy.ZIP215])}"
    )


@pytest.mark.slow
def test_planted_faults_random(
    backend: Backend,
    cpu_reference: Backend | None,
    random_items: int,
    unique_random_items: int | None,
    seed: int,
) -> None:
    rng = random.Random(seed)
    batch, expected, kinds, fb = planted_fault_batch(rng, random_items, unique_random_items)
    n = len(batch)
    assert n >= 20_000 or "VERIFIER_ED25519_ITEMS" in os.environ
    assert set(ED25519_FAULT_KINDS) <= set(kinds)
    for pol in _POLICIES:
        t0 = time.perf_counter()
        got = backend.run(ED25519, batch, pol)
        dt = time.perf_counter() - t0
        bad = np.flatnonzero(got != expected[pol])
        detail = [
            f"item {i} kind={kinds[i]} got={Verdict(int(got[i])).name} want={Verdict(int(expected[pol][i])).name} "
            f"pk={batch.public_keys[i].tobytes().hex()} sig={batch.signatures[i].tobytes().hex()}"
            for i in bad[:10]
        ]
        assert bad.size == 0, f"seed {seed}, policy {pol.value}: {bad.size} of {n} wrong\n" + "\n".join(
            detail
        )
        print(f"\nseed {seed} {pol.value}: {n} items, {n / dt:,.0f} items/s on {backend.name}; {names(got)}")
    # The planted labels themselves, re-checked against PyNaCl and the CPU backend (distinct items only).
    uniq = batch_of(fb.public_keys, fb.signatures, fb.messages)  # type: ignore[attr-defined]
    lib = backend.run(ED25519, uniq, Policy.LIBSODIUM)
    disagree = [
        i
        for i, (pk, sig, msg) in enumerate(zip(fb.public_keys, fb.signatures, fb.messages, strict=True))  # type: ignore[attr-defined]
        if (int(lib[i]) == Verdict.OK) != pynacl_accepts(pk, sig, msg)
    ]
    assert not disagree, [fb.describe(i) for i in disagree[:10]]  # type: ignore[attr-defined]
    if cpu_reference is not None:
        cpu = cpu_reference.run(ED25519, uniq, Policy.LIBSODIUM)
        diff = np.flatnonzero(cpu != lib)
        assert diff.size == 0, [(fb.describe(i), int(cpu[i])) for i in diff[:10]]  # type: ignore[attr-defined]


def test_libsodium_accepts_imply_zip215_accepts(backend: Backend, seed: int) -> None:
    """docs/RULES.md section 2: ZIP-215 is a relaxation. Every item policy libsodium accepts, zip215 accepts, on
    every public vector and on planted-fault items, on this backend."""
    vectors = ed25519_vectors()
    pks = [v.public_key for v in vectors]
    sigs = [v.signature for v in vectors]
    msgs = [v.message for v in vectors]
    fb = make_ed25519_batch(random.Random(seed), 5_000, fault_rate=0.5)
    batch = batch_of(pks + fb.public_keys, sigs + fb.signatures, msgs + fb.messages)
    lib = backend.run(ED25519, batch, Policy.LIBSODIUM)
    zip_ = backend.run(ED25519, batch, Policy.ZIP215)
    accepted = lib == Verdict.OK
    broken = np.flatnonzero(accepted & (zip_ != Verdict.OK))
    assert accepted.sum() > 1_000, "too few accepted items for the check to mean anything"
    assert broken.size == 0, [(int(i), Verdict(int(zip_[i])).name) for i in broken[:10]]
    print(
        f"\nseed {seed}: {int(accepted.sum())} of {len(batch)} accepted by libsodium, all by zip215 on {backend.name}; "
        f"zip215 alone accepts {int(np.count_nonzero(~accepted & (zip_ == Verdict.OK)))} more"
    )


@pytest.mark.slow
def test_key_store_never_changes_a_verdict(backend: Backend, seed: int) -> None:
    """Decoded keys in the backend's key store (kernels/ec/key_store.cuh), hostile keys included (every
    small-order and non-canonical encoding, keys that do not decode): items naming their own row, another
    key's row, an empty row, a row out of range or none get, under both policies, exactly the verdicts
    they get without a store."""
    rng = random.Random(seed)
    h_pks, h_sigs, h_msgs = _hostile_items(rng)
    fb = make_ed25519_batch(rng, 3_000, fault_rate=0.5)
    pks, sigs, msgs = h_pks + fb.public_keys, h_sigs + fb.signatures, h_msgs + fb.messages
    distinct = list(dict.fromkeys(k for k in pks if len(k) == 32))
    rows = getattr(backend, "key_store_rows", 0)
    assert rows >= 1024, f"backend {backend.name} has no key store"
    distinct = distinct[: rows // 2]
    slot_of = {k: 2 * i + 1 for i, k in enumerate(distinct)}  # odd rows; even rows stay empty
    backend.store_keys(
        ED25519,
        np.array(list(slot_of.values()), dtype=np.uint32),
        np.frombuffer(b"".join(slot_of), dtype=np.uint8).reshape(-1, 32),
    )
    plain = batch_of(pks, sigs, msgs)
    want = {pol: backend.run(ED25519, plain, pol) for pol in _POLICIES}
    stored = sum(1 for k in pks if k in slot_of)
    cases = {
        "own row": [slot_of.get(k, 0xFFFFFFFF) for k in pks],
        "another key's row": [
            slot_of[distinct[(distinct.index(k) + 1) % len(distinct)]] if k in slot_of else 1 for k in pks
        ],
        "empty row": [2 * rng.randrange(rows // 2) for _ in pks],
        "out of range": [rows + rng.randrange(1 << 20) for _ in pks],
        "random": [rng.randrange(rows) for _ in pks],
    }
    for what, slots in cases.items():
        for pol in _POLICIES:
            got = backend.run(ED25519, plain.with_key_slots(slots), pol)
            bad = np.flatnonzero(got != want[pol])
            assert bad.size == 0, (
                what,
                pol.value,
                [(int(i), Verdict(int(got[i])).name, Verdict(int(want[pol][i])).name) for i in bad[:5]],
            )
    assert stored > 1_000 and names(want[Policy.ZIP215]).get("UNDECODABLE_KEY", 0) > 0
    print(
        f"\nseed {seed}: {len(pks)} items, {stored} with a stored key, {len(distinct)} keys stored, "
        f"5 slot patterns x 2 policies agree on {backend.name}"
    )


def test_message_offsets_need_not_start_at_zero(backend: Backend, rng: random.Random) -> None:
    """A window on a bigger batch (offsets[0] > 0, messages starting there) verifies as the slice does."""
    fb = make_ed25519_batch(rng, 300, fault_rate=0.5)
    full = batch_of(fb.public_keys, fb.signatures, fb.messages)
    a, b = 117, 260
    base = int(full.message_offsets[a])
    part = Ed25519Batch(
        public_keys=full.public_keys[a:b],
        signatures=full.signatures[a:b],
        messages=full.messages[base:],
        message_offsets=full.message_offsets[a : b + 1],
        malformed=full.malformed[a:b],
    )
    assert base > 0
    for pol in _POLICIES:
        whole = backend.run(ED25519, full, pol)
        assert np.array_equal(backend.run(ED25519, part, pol), whole[a:b])
        assert np.array_equal(whole, np.array([int(v) for v in fb.expected(pol.value)], dtype=np.uint8))


def test_empty_and_malformed_only(backend: Backend) -> None:
    empty = batch_of([], [], [])
    for pol in _POLICIES:
        assert backend.run(ED25519, empty, pol).shape == (0,)
    bad = batch_of(
        [b"\x01" * 31, b"\x02" * 32, b""], [b"\x00" * 64, b"\x00" * 65, b"\x00" * 64], [b"", b"x", b"y"]
    )
    for pol in _POLICIES:
        assert names(backend.run(ED25519, bad, pol)) == {"MALFORMED_LENGTH": 3}


def test_concurrent_calls_agree(backend: Backend, rng: random.Random) -> None:
    fb = make_ed25519_batch(rng, 400)
    batch = batch_of(fb.public_keys, fb.signatures, fb.messages)
    results: list[npt.NDArray[np.uint8]] = []
    errors: list[BaseException] = []

    def run(pol: Policy) -> None:
        try:
            results.append(backend.run(ED25519, batch, pol))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(Policy.LIBSODIUM,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    want = np.array([int(v) for v in fb.expected_libsodium], dtype=np.uint8)
    assert len(results) == 4 and all(np.array_equal(r, want) for r in results)


def test_policies_declared(backend: Backend) -> None:
    assert backend.policies["ed25519"] == frozenset(_POLICIES)
    with pytest.raises(UnsupportedPolicyError):
        backend.run(ED25519, batch_of([], [], []), "bogus")  # type: ignore[arg-type]
