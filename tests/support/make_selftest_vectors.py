"""Generate verifier/_selftest_vectors.py: the startup self-test's known answers.

    python -m tests.support.make_selftest_vectors           # rewrite the file
    python -m tests.support.make_selftest_vectors --check   # exit 1 if the file is not current

Every Ed25519 case is checked here, before anything is written, against PyNaCl (accept iff the
libsodium verdict is OK) and against ``tests/support/ed25519_ref.py`` (the exact verdict under both
policies); every Merkle case against ``tests/support/merkle_ref.py``. Inputs come from RFC 8032 TEST 2,
the RFC 6962 reference tree and ``random.Random(_SEED)``, so the output is reproducible byte for byte.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import NamedTuple

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import nacl.bindings as _nb  # noqa: E402

from tests.support import ed25519_ref as ref  # noqa: E402
from tests.support import merkle_ref as mref  # noqa: E402
from tests.support.faults import pynacl_accepts  # noqa: E402
from tests.support.vectors import rfc6962_tree, rfc8032_vectors  # noqa: E402
from verifier.verdict import Verdict  # noqa: E402

__all__ = ["Ed25519Case", "MerkleCase", "ed25519_cases", "merkle_cases", "render", "main", "TARGET"]

TARGET = Path(__file__).resolve().parents[2] / "verifier" / "_selftest_vectors.py"
_SEED = 20240519
_SCRIPT = "tests/support/make_selftest_vectors.py"


class Ed25519Case(NamedTuple):
    public_key: bytes
    signature: bytes
    message: bytes
    libsodium: str
    zip215: str
    name: str


class MerkleCase(NamedTuple):
    leaf_hash: bytes
    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]
    root: bytes
    expected: str
    name: str


def _s(x: int) -> bytes:
    return x.to_bytes(32, "little")


def _base(x: int) -> bytes:
    return bytes(_nb.crypto_scalarmult_ed25519_base_noclamp(_s(x)))


def _add(p: bytes, q: bytes) -> bytes:
    return bytes(_nb.crypto_core_ed25519_add(p, q))


def ed25519_cases() -> list[Ed25519Case]:
    rng = random.Random(_SEED)
    t2 = next(v for v in rfc8032_vectors() if v.name == "rfc8032/TEST 2")
    pk2, sig2, msg2 = t2.public_key, t2.signature, t2.message
    msg = b"verifier self-test"
    t8 = ref.SMALL_ORDER_CANONICAL_ENCODINGS[1]  # a point of order 8
    cases = [
        Ed25519Case(pk2, sig2, msg2, "OK", "OK", "rfc8032-test2"),
        Ed25519Case(
            pk2, sig2, bytes([msg2[0] ^ 0x01]), "EQUATION_FAILED", "EQUATION_FAILED", "rfc8032-test2-msg-flip"
        ),
        Ed25519Case(
            pk2,
            sig2[:32] + _s(int.from_bytes(sig2[32:], "little") + ref.L),
            msg2,
            "NON_CANONICAL_S",
            "NON_CANONICAL_S",
            "rfc8032-test2-s-plus-l",
        ),
    ]
    # Small-order R (order 8), S = k*a: libsodium's blocklist rejects, ZIP-215's cofactored equation holds.
    a = rng.randrange(1, ref.L)
    pk = _base(a)
    s = ref.challenge(t8, pk, msg) * a % ref.L
    cases.append(Ed25519Case(pk, t8 + _s(s), msg, "SMALL_ORDER_R", "OK", "small-order-r"))
    # Non-canonical key: y = p + t for the first t >= 2 that decodes (mod p); no dlog known, so zip215 fails.
    t = next(t for t in range(2, 19) if ref.recover_x(t, 0) is not None)
    pk = (ref.P + t).to_bytes(32, "little")
    r = rng.randrange(1, ref.L)
    sig = _base(r) + _s(r)
    cases.append(Ed25519Case(pk, sig, msg, "NON_CANONICAL_KEY", "EQUATION_FAILED", "non-canonical-key"))
    # Small-order key (order 4, canonical), R = rB, S = r: [8]([S]B - R - [k]A) = 0.
    pk = ref.SMALL_ORDER_CANONICAL_ENCODINGS[2]
    r = rng.randrange(1, ref.L)
    cases.append(Ed25519Case(pk, _base(r) + _s(r), msg, "SMALL_ORDER_KEY", "OK", "small-order-key"))
    # Undecodable key: canonical y with no square root.
    y = next(y for y in range(2, 100) if ref.recover_x(y, 0) is None)
    pk = y.to_bytes(32, "little")
    r = rng.randrange(1, ref.L)
    sig = _base(r) + _s(rng.randrange(ref.L))
    cases.append(Ed25519Case(pk, sig, msg, "UNDECODABLE_KEY", "UNDECODABLE_KEY", "undecodable-key"))
    # Undecodable R under a valid key: libsodium never decodes R (EQUATION_FAILED), zip215 does.
    a = rng.randrange(1, ref.L)
    pk = _base(a)
    r_enc = y.to_bytes(32, "little")
    sig = ref.sign_with_scalar(a, rng.randrange(1, ref.L), pk, r_enc, msg)
    cases.append(Ed25519Case(pk, sig, msg, "EQUATION_FAILED", "UNDECODABLE_R", "undecodable-r"))
    # THE case where the rules part: R = rB + T (T of order 8), S = r + k*a. Cofactorless: R' = rB != R.
    a, r = rng.randrange(1, ref.L), rng.randrange(1, ref.L)
    pk = _base(a)
    r_enc = _add(_base(r), t8)
    sig = ref.sign_with_scalar(a, r, pk, r_enc, msg)
    cases.append(Ed25519Case(pk, sig, msg, "EQUATION_FAILED", "OK", "torsion-r-cofactorless-rejects"))
    # Key with a torsion component, A = aB + T (order 8), accepted by libsodium (no subgroup check):
    # R' = R - [k]T = R because k = 0 mod 8 (r retried until it is).
    a = rng.randrange(1, ref.L)
    pk = _add(_base(a), t8)
    while True:
        r = rng.randrange(1, ref.L)
        r_enc = _base(r)
        if ref.challenge(r_enc, pk, msg) % 8 == 0:
            break
    sig = ref.sign_with_scalar(a, r, pk, r_enc, msg)
    cases.append(Ed25519Case(pk, sig, msg, "OK", "OK", "torsion-key-accepted"))
    # One of ZIP-215's 196: non-canonical small-order A (y = p+1) and R (y = p), S = 0.
    cases.append(
        Ed25519Case(
            ref.SMALL_ORDER_NON_CANONICAL_ENCODINGS[4],
            ref.SMALL_ORDER_NON_CANONICAL_ENCODINGS[2] + _s(0),
            msg,
            "SMALL_ORDER_R",
            "OK",
            "zip215-small-order-s-zero",
        )
    )
    for c in cases:
        _check_ed25519(c)
    return cases


def _check_ed25519(c: Ed25519Case) -> None:
    got_lib = ref.verify_libsodium(c.public_key, c.signature, c.message)
    got_zip = ref.verify_zip215(c.public_key, c.signature, c.message)
    nacl_ok = pynacl_accepts(c.public_key, c.signature, c.message)
    if got_lib != Verdict[c.libsodium] or got_zip != Verdict[c.zip215] or nacl_ok != (c.libsodium == "OK"):
        raise AssertionError(
            f"{c.name}: want libsodium={c.libsodium} zip215={c.zip215}; reference says "
            f"{got_lib.name}/{got_zip.name}, PyNaCl {'accepts' if nacl_ok else 'rejects'}"
        )


def merkle_cases() -> list[MerkleCase]:
    tree = rfc6962_tree()
    p = next(x for x in tree.inclusion_proofs if (x.leaf_index, x.tree_size) == (2, 7))
    one = next(x for x in tree.inclusion_proofs if (x.leaf_index, x.tree_size) == (0, 1))
    path = p.path
    flipped = (path[0], bytes([path[1][0] ^ 0x01]) + path[1][1:]) + path[2:]
    cases = [
        MerkleCase(p.leaf_hash, 2, 7, path, p.root, "OK", "rfc6962-2-of-7"),
        MerkleCase(one.leaf_hash, 0, 1, (), one.root, "OK", "rfc6962-0-of-1-empty-path"),
        MerkleCase(p.leaf_hash, 2, 7, flipped, p.root, "ROOT_MISMATCH", "path-bit-flipped"),
        MerkleCase(p.leaf_hash, 2, 7, path, tree.roots[8], "ROOT_MISMATCH", "root-of-another-size"),
        MerkleCase(p.leaf_hash, 3, 7, path, p.root, "ROOT_MISMATCH", "index-plus-one"),
        MerkleCase(p.leaf_hash, 7, 7, path, p.root, "MALFORMED_PROOF", "index-equals-size"),
        MerkleCase(p.leaf_hash, 0, 0, (), tree.roots[0], "MALFORMED_PROOF", "size-zero"),
        MerkleCase(p.leaf_hash, 2, 7, path[:-1], p.root, "MALFORMED_PROOF", "path-too-short"),
        MerkleCase(p.leaf_hash, 2, 7, path + (p.root,), p.root, "MALFORMED_PROOF", "path-too-long"),
    ]
    for c in cases:
        got = mref.verify_inclusion(c.leaf_index, c.tree_size, c.path, c.root, leaf_hash_=c.leaf_hash)
        if got != Verdict[c.expected]:
            raise AssertionError(f"merkle {c.name}: want {c.expected}, reference says {got.name}")
    return cases


def _lit(b: bytes, indent: str) -> str:
    """A bytes literal, every byte as \\xNN, 16 bytes per line."""
    if not b:
        return 'b""'
    chunks = ['b"' + "".join(f"\\x{c:02x}" for c in b[i : i + 16]) + '"' for i in range(0, len(b), 16)]
    if len(chunks) == 1:
        return chunks[0]
    return "(\n" + "".join(f"{indent}    {c}\n" for c in chunks) + f"{indent})"


def render() -> str:
    ed = ed25519_cases()
    mk = merkle_cases()
    out = [
        f'"""Known answers for the startup self-test (verifier/selftest.py).\n\n'
        f"Generated by {_SCRIPT}; DO NOT EDIT. Regenerate with\n"
        "``python -m tests.support.make_selftest_vectors``; the generator checks every Ed25519 case\n"
        "against PyNaCl and the independent reference (tests/support/ed25519_ref.py) under both\n"
        'policies, and every Merkle case against tests/support/merkle_ref.py, before writing.\n"""\n',
        "from __future__ import annotations\n",
        "from typing import NamedTuple\n",
        '__all__ = ["Ed25519Case", "MerkleCase", "ED25519_CASES", "MERKLE_CASES"]\n\n',
        "class Ed25519Case(NamedTuple):\n"
        "    public_key: bytes\n    signature: bytes\n    message: bytes\n"
        "    libsodium: str  # expected Verdict name under policy libsodium\n"
        "    zip215: str  # expected Verdict name under policy zip215\n"
        "    name: str\n\n",
        "class MerkleCase(NamedTuple):\n"
        "    leaf_hash: bytes\n    leaf_index: int\n    tree_size: int\n    path: tuple[bytes, ...]\n"
        "    root: bytes\n    expected: str  # expected Verdict name\n    name: str\n\n",
        "ED25519_CASES: tuple[Ed25519Case, ...] = (",
    ]
    body = []
    for c in ed:
        ind = " " * 8
        body.append(
            "    Ed25519Case(\n"
            f"        public_key={_lit(c.public_key, ind)},\n"
            f"        signature={_lit(c.signature, ind)},\n"
            f"        message={_lit(c.message, ind)},\n"
            f"        libsodium={c.libsodium!r},\n"
            f"        zip215={c.zip215!r},\n"
            f"        name={c.name!r},\n"
            "    ),"
        )
    out.append("\n".join(body) + "\n)\n")
    out.append("MERKLE_CASES: tuple[MerkleCase, ...] = (")
    body = []
    for m in mk:
        ind = " " * 8
        items = "".join(f"\n{ind}    {_lit(h, ind + '    ')}," for h in m.path)
        path = "(" + items + (f"\n{ind})" if m.path else ")")
        body.append(
            "    MerkleCase(\n"
            f"        leaf_hash={_lit(m.leaf_hash, ind)},\n"
            f"        leaf_index={m.leaf_index},\n"
            f"        tree_size={m.tree_size},\n"
            f"        path={path},\n"
            f"        root={_lit(m.root, ind)},\n"
            f"        expected={m.expected!r},\n"
            f"        name={m.name!r},\n"
            "    ),"
        )
    out.append("\n".join(body) + "\n)\n")
    text = "\n".join(out).replace("'", '"')
    compile(text, str(TARGET), "exec")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is not current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date; run {_SCRIPT}", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}: {len(ed25519_cases())} Ed25519 and {len(merkle_cases())} Merkle cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
