"""The one loader for tests/vectors/<family>/: typed records, parsed once and cached.

Every test reads vectors through this module (never from the shared tree). Sources and licenses are
pinned in each family's SOURCE.md.

Ed25519 (``tests/vectors/ed25519``):
    ``ed25519_vectors()`` -> all of the three files below, in file order.
    ``rfc8032_vectors()``, ``sign_input_vectors()``, ``wycheproof_vectors()`` -> one file each.
Merkle (``tests/vectors/merkle``):
    ``merkle_inclusion_vectors()`` -> the transparency-dev inclusion cases (one file per mutation).
    ``rfc6962_tree()`` -> the RFC 6962 reference tree: leaves, roots by size, inclusion proofs.
CometBFT (``tests/vectors/cometbft``):
    ``cometbft_signbytes_vectors()``, ``cometbft_real_commits()`` -> the parsed JSON documents.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "EcdsaVector",
    "ecdsa_vectors",
    "VECTORS_DIR",
    "vector_path",
    "load_json",
    "Ed25519Vector",
    "ed25519_vectors",
    "rfc8032_vectors",
    "sign_input_vectors",
    "wycheproof_vectors",
    "MerkleInclusionVector",
    "merkle_inclusion_vectors",
    "RFC6962Proof",
    "RFC6962ConsistencyProof",
    "RFC6962Tree",
    "rfc6962_tree",
    "cometbft_signbytes_vectors",
    "cometbft_real_commits",
]

VECTORS_DIR = Path(__file__).resolve().parent.parent / "vectors"


def vector_path(family: str, *parts: str) -> Path:
    """Path of a vector file, e.g. ``vector_path("ed25519", "sign_input.txt")``; raises if missing."""
    path = VECTORS_DIR.joinpath(family, *parts)
    if not path.is_file():
        raise FileNotFoundError(f"no vector file {path}")
    return path


def load_json(family: str, *parts: str) -> Any:
    with vector_path(family, *parts).open(encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------- Ed25519


@dataclasses.dataclass(frozen=True)
class Ed25519Vector:
    """One signature check. ``expected_valid_libsodium``: what PyNaCl / policy libsodium must answer.

    ``public_key`` and ``signature`` may have the wrong length (Wycheproof truncation cases).
    ``seed`` is the 32-byte secret seed where the source gives it (RFC 8032, sign.input).
    """

    name: str  # "rfc8032/TEST 1", "sign_input/17", "wycheproof/63"
    public_key: bytes
    signature: bytes
    message: bytes
    expected_valid_libsodium: bool
    source: str  # "rfc8032" | "sign_input" | "wycheproof"
    seed: bytes | None = None
    comment: str = ""
    flags: tuple[str, ...] = ()


@functools.cache
def rfc8032_vectors() -> tuple[Ed25519Vector, ...]:
    """RFC 8032 section 7.1 TEST 1, 2, 3, 1024, SHA(abc); all valid."""
    out = []
    for v in load_json("ed25519", "rfc8032_ed25519.json"):
        out.append(
            Ed25519Vector(
                name=f"rfc8032/{v['name']}",
                public_key=bytes.fromhex(v["public_key"]),
                signature=bytes.fromhex(v["signature"]),
                message=bytes.fromhex(v["message"]),
                expected_valid_libsodium=True,
                source="rfc8032",
                seed=bytes.fromhex(v["secret_key"]),
            )
        )
    return tuple(out)


@functools.cache
def sign_input_vectors() -> tuple[Ed25519Vector, ...]:
    """SUPERCOP sign.input: ``sk(seed||pk):pk:msg:sig||msg:`` hex per line; all 1024 valid."""
    out = []
    text = vector_path("ed25519", "sign_input.txt").read_text(encoding="ascii")
    for lineno, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        fields = line.split(":")
        if len(fields) != 5 or fields[4] != "":
            raise ValueError(f"sign_input.txt line {lineno + 1}: expected 4 ':'-terminated fields")
        sk, pk, msg, sigmsg = (bytes.fromhex(f) for f in fields[:4])
        if len(sk) != 64 or sk[32:] != pk or sigmsg[64:] != msg:
            raise ValueError(f"sign_input.txt line {lineno + 1}: inconsistent fields")
        out.append(
            Ed25519Vector(
                name=f"sign_input/{lineno}",
                public_key=pk,
                signature=sigmsg[:64],
                message=msg,
                expected_valid_libsodium=True,
                source="sign_input",
                seed=sk[:32],
            )
        )
    return tuple(out)


@functools.cache
def wycheproof_vectors() -> tuple[Ed25519Vector, ...]:
    """Wycheproof ed25519_test.json; ``result`` "valid" -> True, "invalid" -> False."""
    doc = load_json("ed25519", "wycheproof_ed25519.json")
    out = []
    for group in doc["testGroups"]:
        pk = bytes.fromhex(group["publicKey"]["pk"])
        for t in group["tests"]:
            if t["result"] not in ("valid", "invalid"):
                raise ValueError(f"wycheproof tcId {t['tcId']}: unexpected result {t['result']!r}")
            out.append(
                Ed25519Vector(
                    name=f"wycheproof/{t['tcId']}",
                    public_key=pk,
                    signature=bytes.fromhex(t["sig"]),
                    message=bytes.fromhex(t["msg"]),
                    expected_valid_libsodium=t["result"] == "valid",
                    source="wycheproof",
                    comment=t.get("comment", ""),
                    flags=tuple(t.get("flags", ())),
                )
            )
    return tuple(out)


def ed25519_vectors() -> tuple[Ed25519Vector, ...]:
    """RFC 8032 (5) + sign.input (1024) + Wycheproof (151) = 1180 records."""
    return rfc8032_vectors() + sign_input_vectors() + wycheproof_vectors()


# ----------------------------------------------------------------------------------------- Merkle


@dataclasses.dataclass(frozen=True)
class MerkleInclusionVector:
    """A transparency-dev inclusion case. ``leaf_hash``, path entries and ``root`` may be any length
    (e.g. the empty "garbage" hash, the 9-byte "WrongLeaf"); ``leaf_index`` may be 2^64 - 1."""

    name: str  # "inclusion/1/wrong-leaf"
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]
    root: bytes
    want_err: bool
    desc: str


def _b64(s: str | None) -> bytes:
    return base64.b64decode(s, validate=True) if s else b""


@functools.cache
def merkle_inclusion_vectors() -> tuple[MerkleInclusionVector, ...]:
    """All transparency-dev/merkle testdata/inclusion/{0,1,2}/*.json, sorted by directory and name."""
    base = VECTORS_DIR / "merkle" / "transparency-dev" / "inclusion"
    out = []
    for path in sorted(base.glob("*/*.json"), key=lambda p: (p.parent.name, p.name)):
        v = json.loads(path.read_text(encoding="utf-8"))
        out.append(
            MerkleInclusionVector(
                name=f"inclusion/{path.parent.name}/{path.stem}",
                leaf_index=int(v["leafIdx"]),
                tree_size=int(v["treeSize"]),
                leaf_hash=_b64(v["leafHash"]),
                path=tuple(_b64(h) for h in (v["proof"] or ())),
                root=_b64(v["root"]),
                want_err=bool(v["wantErr"]),
                desc=v.get("desc", ""),
            )
        )
    if not out:
        raise FileNotFoundError(f"no inclusion vectors under {base}")
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class RFC6962Proof:
    """A valid inclusion proof in the RFC 6962 reference tree."""

    name: str  # "rfc6962/3-of-7"
    leaf_index: int
    tree_size: int
    leaf: bytes
    leaf_hash: bytes
    path: tuple[bytes, ...]
    root: bytes


@dataclasses.dataclass(frozen=True)
class RFC6962ConsistencyProof:
    size1: int
    size2: int
    root1: bytes
    root2: bytes
    path: tuple[bytes, ...]


@dataclasses.dataclass(frozen=True)
class RFC6962Tree:
    leaves: tuple[bytes, ...]  # the 8 leaves (data)
    roots: Mapping[int, bytes]  # tree size 0..8 -> root (size 0: SHA-256 of the empty string); read-only
    inclusion_proofs: tuple[RFC6962Proof, ...]  # every (index, size) with index < size <= 8
    consistency_proofs: tuple[RFC6962ConsistencyProof, ...]
    hasher_vectors: tuple[dict[str, Any], ...]  # as in the file: desc, want, input_hex / left_hex+right_hex


@functools.cache
def rfc6962_tree() -> RFC6962Tree:
    doc = load_json("merkle", "rfc6962-reference-tree.json")
    leaves = tuple(bytes.fromhex(h) for h in doc["leaves_hex"])
    proofs = tuple(
        RFC6962Proof(
            name=f"rfc6962/{p['leaf_index']}-of-{p['tree_size']}",
            leaf_index=int(p["leaf_index"]),
            tree_size=int(p["tree_size"]),
            leaf=bytes.fromhex(p["leaf_hex"]),
            leaf_hash=bytes.fromhex(p["leaf_hash"]),
            path=tuple(bytes.fromhex(h) for h in p["inclusion_path"]),
            root=bytes.fromhex(p["root"]),
        )
        for p in doc["inclusion_proofs"]
    )
    consistency = tuple(
        RFC6962ConsistencyProof(
            size1=int(p["size1"]),
            size2=int(p["size2"]),
            root1=bytes.fromhex(p["root1"]),
            root2=bytes.fromhex(p["root2"]),
            path=tuple(bytes.fromhex(h) for h in p["consistency_path"]),
        )
        for p in doc["consistency_proofs"]
    )
    return RFC6962Tree(
        leaves=leaves,
        roots=MappingProxyType({int(k): bytes.fromhex(v) for k, v in doc["root_by_tree_size"].items()}),
        inclusion_proofs=proofs,
        consistency_proofs=consistency,
        hasher_vectors=tuple(doc["hasher_vectors"]),
    )


# --------------------------------------------------------------------------------------- CometBFT


def cometbft_signbytes_vectors() -> Any:
    """cometbft-vote-signbytes-vectors.json as parsed JSON (keys: format, source, sign_bytes, vectors)."""
    return load_json("cometbft", "cometbft-vote-signbytes-vectors.json")


def cometbft_real_commits() -> Any:
    """cometbft-real-commits.json as parsed JSON (keys: format, notes, cases, negative_sign_bytes)."""
    return load_json("cometbft", "cometbft-real-commits.json")


@dataclasses.dataclass(frozen=True)
class EcdsaVector:
    """One Wycheproof ECDSA case: the group's uncompressed key, the signature as given, the SHA-256 digest
    of the message, and the recorded verdict of each reference policy (``valid`` by policy name)."""

    name: str
    public_key: bytes
    signature: bytes
    digest: bytes
    valid: dict[str, bool]


_ECDSA_FILES = {
    "ecdsa-secp256k1": ("wycheproof_ecdsa_secp256k1_sha256",),
    "ecdsa-p256": ("wycheproof_ecdsa_secp256r1_sha256", "wycheproof_ecdsa_secp256r1_sha256_p1363"),
}


def ecdsa_vectors(scheme: str) -> tuple[EcdsaVector, ...]:
    """Every Wycheproof case of ``scheme``'s files, with each policy's verdict from ``*.expected.json``."""
    out = []
    for stem in _ECDSA_FILES[scheme]:
        doc = load_json("ecdsa", f"{stem}.json")
        expected = {c["tcId"]: c for c in load_json("ecdsa", f"{stem}.expected.json")["cases"]}
        for group in doc["testGroups"]:
            key = bytes.fromhex(group["publicKey"]["uncompressed"])
            for t in group["tests"]:
                row = expected[t["tcId"]]
                out.append(
                    EcdsaVector(
                        name=f"{stem}#{t['tcId']} {t['comment']}",
                        public_key=key,
                        signature=bytes.fromhex(t["sig"]),
                        digest=hashlib.sha256(bytes.fromhex(t["msg"])).digest(),
                        valid={k.removeprefix("valid_"): v for k, v in row.items() if k.startswith("valid_")},
                    )
                )
    return tuple(out)
