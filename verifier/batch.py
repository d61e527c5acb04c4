"""Packed, columnar batches: what every backend consumes.

A batch is a frozen dataclass over numpy buffers laid out the way a kernel reads them: fixed-size
columns as ``(n, width)`` uint8 arrays, variable-size columns concatenated with ``n + 1`` offsets.
Offsets start at 0: a batch built with offsets that start elsewhere (a window on a bigger batch's
column) has them re-based on construction, so every consumer reads row i at ``[offsets[i]:offsets[i+1]]``.
``from_packed`` wraps wire buffers without copying and raises ``InvalidRequestError`` naming the field
and the numbers when the columns disagree; ``from_items`` builds a batch from Python objects and turns
a per-item wrong length into a ``malformed`` flag (that item's verdict), never an exception.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from verifier.errors import InvalidRequestError

__all__ = [
    "DIGEST_SIZE",
    "ECDSA_KEY_SIZES",
    "EcdsaBatch",
    "Ed25519Batch",
    "Ed25519Columns",
    "MerkleBatch",
    "NO_KEY_SLOT",
    "PUBLIC_KEY_SIZE",
    "SIGNATURE_SIZE",
    "HASH_SIZE",
]

NO_KEY_SLOT = 0xFFFFFFFF  # Ed25519Batch.key_slots: no row (kernels/ec/key_store.cuh KEY_STORE_NO_SLOT)
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
HASH_SIZE = 32
DIGEST_SIZE = 32  # an ECDSA item's digest: the 256-bit hash the ledger signed
ECDSA_KEY_SIZES = (33, 65)  # SEC 1 compressed (02/03 || x) and uncompressed or hybrid (04/06/07 || x || y)

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
Bool = npt.NDArray[np.bool_]


def _as_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes-like, got {type(value).__name__}")


def _fixed_column(values: Any, width: int, what: str) -> tuple[U8, Bool]:
    """Rows of exactly ``width`` bytes; a row of another length is zeroed and flagged."""
    if isinstance(values, np.ndarray):
        if values.dtype != np.uint8 or values.ndim != 2 or values.shape[1] != width:
            raise InvalidRequestError(
                f"{what}: a numpy column must be uint8 of shape (n, {width}), got {values.dtype} {values.shape}"
            )
        return np.ascontiguousarray(values), np.zeros(values.shape[0], dtype=np.bool_)
    if isinstance(values, (bytes, bytearray, memoryview, str)):
        raise TypeError(
            f"{what} must be a sequence of bytes (one per item), not a single {type(values).__name__}"
        )
    rows = [_as_bytes(v, f"{what}[{i}]") for i, v in enumerate(values)]
    out = np.zeros((len(rows), width), dtype=np.uint8)
    bad = np.zeros(len(rows), dtype=np.bool_)
    for i, row in enumerate(rows):
        if len(row) == width:
            out[i] = np.frombuffer(row, dtype=np.uint8)
        else:
            bad[i] = True
    return out, bad


def _concat(values: Sequence[Any], what: str) -> tuple[U8, U64]:
    if isinstance(values, (bytes, bytearray, memoryview, str)):
        raise TypeError(
            f"{what} must be a sequence of bytes (one per item), not a single {type(values).__name__}"
        )
    if all(type(v) is bytes for v in values):  # the usual call (a commit's sign bytes): no copies
        parts = values
    else:
        parts = [_as_bytes(v, f"{what}[{i}]") for i, v in enumerate(values)]
    offsets = np.zeros(len(parts) + 1, dtype=np.uint64)
    np.cumsum([len(p) for p in parts], out=offsets[1:])
    return np.frombuffer(b"".join(parts), dtype=np.uint8), offsets


def _offsets_from_lengths(lengths: Any, total: int, field: str, data_field: str, unit: str = "bytes") -> U64:
    arr = np.asarray(lengths, dtype=np.uint64)
    offsets = np.zeros(arr.shape[0] + 1, dtype=np.uint64)
    np.cumsum(arr, out=offsets[1:])
    if int(offsets[-1]) != total:
        raise InvalidRequestError(
            f"{field} sum to {int(offsets[-1])} {unit} but {data_field} holds {total} {unit}"
        )
    return offsets


def _gather_ragged(data: Any, offsets: U64, idx: npt.NDArray[np.intp]) -> tuple[Any, U64]:
    """Rows ``data[offsets[i]:offsets[i+1]]`` for each i in ``idx``, concatenated, with new offsets."""
    starts = offsets[idx].astype(np.int64)
    lens = offsets[idx + 1].astype(np.int64) - starts
    new_offsets = np.zeros(len(idx) + 1, dtype=np.uint64)
    np.cumsum(lens, out=new_offsets[1:])
    pos = np.arange(int(new_offsets[-1]), dtype=np.int64) - np.repeat(new_offsets[:-1].astype(np.int64), lens)
    pos += np.repeat(starts, lens)
    return data[pos], new_offsets


def _concat_offsets(parts: Sequence[U64]) -> U64:
    """Offsets (each n_i + 1 long, starting at 0) of consecutive ragged columns, as one column."""
    out = [parts[0]]
    base = parts[0][-1]
    for p in parts[1:]:
        out.append(p[1:] + base)
        base = base + p[-1]
    return np.concatenate(out).astype(np.uint64)


def _rebased(offsets: Any) -> Any:
    """``offsets`` shifted to start at 0 (the same array when it already does, or is None or empty)."""
    if offsets is None or len(offsets) == 0 or int(offsets[0]) == 0:
        return offsets
    return offsets - offsets[0]


def _packed_rows(buf: bytes, width: int, n: int, field: str, count_field: str) -> U8:
    if len(buf) != n * width:
        raise InvalidRequestError(
            f"{field} holds {len(buf)} bytes; {n} items ({count_field}) need {n} x {width} = {n * width}"
        )
    return np.frombuffer(buf, dtype=np.uint8).reshape(n, width)


class Ed25519Columns(NamedTuple):
    keys: U8  # (n, 32)
    sigs: U8  # (n, 64)
    msgs: U8
    offsets: U64  # (n + 1,), from 0
    malformed: U8  # (n,), 1 where the key or signature had a wrong length
    key_slots: U32 | None


@dataclasses.dataclass(frozen=True, eq=False)
class Ed25519Batch:
    """n Ed25519 items. ``malformed[i]`` marks an item whose key or signature had a wrong length."""

    public_keys: U8  # (n, 32)
    signatures: U8  # (n, 64)
    messages: U8  # (sum of lengths,)
    message_offsets: U64  # (n + 1,), from 0: message i is messages[offsets[i]:offsets[i+1]]
    malformed: Bool  # (n,)
    # (n,) or None: the row of the backend's decoded-key store that may hold item i's key (NO_KEY_SLOT:
    # none). Only a hint: a row is used only when it holds that very key (kernels/ec/key_store.cuh).
    key_slots: U32 | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message_offsets", _rebased(self.message_offsets))
        if self.key_slots is not None and self.key_slots.shape != (len(self),):
            raise InvalidRequestError(
                f"key_slots has shape {self.key_slots.shape}; the batch has {len(self)} items"
            )

    def kernel_columns(self) -> Ed25519Columns:
        """The columns as ``ed25519_verify_kernel`` reads them: C-contiguous, in its types (the malformed
        flags as bytes); backends emu, cpu (zip215) and cuda stage these."""
        return Ed25519Columns(
            keys=np.ascontiguousarray(self.public_keys, dtype=np.uint8),
            sigs=np.ascontiguousarray(self.signatures, dtype=np.uint8),
            msgs=np.ascontiguousarray(self.messages, dtype=np.uint8),
            offsets=np.ascontiguousarray(self.message_offsets, dtype=np.uint64),
            malformed=np.ascontiguousarray(self.malformed, dtype=np.bool_).view(np.uint8),
            key_slots=None
            if self.key_slots is None
            else np.ascontiguousarray(self.key_slots, dtype=np.uint32),
        )

    @property
    def form(self) -> str:
        """Batches merge (``concat``) only with batches of the same form: every Ed25519 batch is alike."""
        return ""

    def with_key_slots(self, slots: Any) -> Ed25519Batch:
        """This batch with ``key_slots`` set (uint32, one per item)."""
        return dataclasses.replace(self, key_slots=np.ascontiguousarray(slots, dtype=np.uint32))

    def __len__(self) -> int:
        return int(self.public_keys.shape[0])

    def message(self, i: int) -> bytes:
        return self.messages[int(self.message_offsets[i]) : int(self.message_offsets[i + 1])].tobytes()

    @property
    def nbytes(self) -> int:
        return int(self.public_keys.nbytes + self.signatures.nbytes + self.messages.nbytes)

    def slice(self, start: int, stop: int) -> Ed25519Batch:
        """Items [start, stop) as a batch of their own (messages re-based to offset 0)."""
        lo, hi = int(self.message_offsets[start]), int(self.message_offsets[stop])
        return Ed25519Batch(
            public_keys=self.public_keys[start:stop],
            signatures=self.signatures[start:stop],
            messages=self.messages[lo:hi],
            message_offsets=self.message_offsets[start : stop + 1] - np.uint64(lo),
            malformed=self.malformed[start:stop],
            key_slots=None if self.key_slots is None else self.key_slots[start:stop],
        )

    def take(self, idx: npt.NDArray[np.intp]) -> Ed25519Batch:
        """The items at positions ``idx``, in that order, as a new batch."""
        msgs, offsets = _gather_ragged(self.messages, self.message_offsets, idx)
        slots = None if self.key_slots is None else self.key_slots[idx]
        return Ed25519Batch(
            self.public_keys[idx], self.signatures[idx], msgs, offsets, self.malformed[idx], slots
        )

    @classmethod
    def concat(cls, batches: Sequence[Ed25519Batch]) -> Ed25519Batch:
        """One batch holding the items of ``batches`` in order (how the scheduler merges callers)."""
        if len(batches) == 1:
            return batches[0]
        return cls(
            public_keys=np.concatenate([b.public_keys for b in batches]),
            signatures=np.concatenate([b.signatures for b in batches]),
            messages=np.concatenate([b.messages for b in batches]),
            message_offsets=_concat_offsets([b.message_offsets for b in batches]),
            malformed=np.concatenate([b.malformed for b in batches]),
            key_slots=None
            if all(b.key_slots is None for b in batches)
            else np.concatenate(
                [
                    b.key_slots if b.key_slots is not None else np.full(len(b), NO_KEY_SLOT, np.uint32)
                    for b in batches
                ]
            ),
        )

    @classmethod
    def from_items(cls, public_keys: Any, signatures: Any, messages: Sequence[Any]) -> Ed25519Batch:
        keys, bad_keys = _fixed_column(public_keys, PUBLIC_KEY_SIZE, "public_keys")
        sigs, bad_sigs = _fixed_column(signatures, SIGNATURE_SIZE, "signatures")
        msgs, offsets = _concat(messages, "messages")
        n = keys.shape[0]
        if sigs.shape[0] != n or offsets.shape[0] - 1 != n:
            raise InvalidRequestError(
                f"columns differ in length: public_keys {n}, signatures {sigs.shape[0]}, "
                f"messages {offsets.shape[0] - 1}"
            )
        return cls(keys, sigs, msgs, offsets, bad_keys | bad_sigs)

    @classmethod
    def from_packed(
        cls, public_keys: bytes, signatures: bytes, messages: bytes, message_lengths: Any
    ) -> Ed25519Batch:
        """Wrap wire buffers: keys n x 32, signatures n x 64, messages concatenated with n lengths."""
        n = len(message_lengths)
        offsets = _offsets_from_lengths(message_lengths, len(messages), "message_lengths", "messages")
        keys = _packed_rows(public_keys, PUBLIC_KEY_SIZE, n, "public_keys", "message_lengths")
        sigs = _packed_rows(signatures, SIGNATURE_SIZE, n, "signatures", "message_lengths")
        return cls(keys, sigs, np.frombuffer(messages, dtype=np.uint8), offsets, np.zeros(n, dtype=np.bool_))


@dataclasses.dataclass(frozen=True, eq=False)
class MerkleBatch:
    """n RFC 9162 inclusion proofs against a table of distinct roots.

    The leaf is given either as its hash (``leaf_hashes``) or as data (``leaf_data`` + ``leaf_offsets``)
    that the backend hashes as SHA-256(0x00 || data). ``malformed[i]`` marks a proof with a hash that is
    not 32 bytes.
    """

    leaf_hashes: U8 | None  # (n, 32)
    leaf_data: U8 | None  # (sum of lengths,)
    leaf_offsets: U64 | None  # (n + 1,)
    leaf_indices: U64  # (n,)
    tree_sizes: U64  # (n,)
    path_hashes: U8  # (total hashes, 32)
    path_offsets: U64  # (n + 1,), from 0, in hashes: proof i is path_hashes[offsets[i]:offsets[i+1]]
    roots: U8  # (m, 32), distinct roots
    root_indices: U32  # (n,), index into roots
    malformed: Bool  # (n,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "leaf_offsets", _rebased(self.leaf_offsets))
        object.__setattr__(self, "path_offsets", _rebased(self.path_offsets))

    def __len__(self) -> int:
        return int(self.leaf_indices.shape[0])

    @property
    def form(self) -> str:
        """Batches merge (``concat``) only with batches of the same form: leaves given as hashes, or as data."""
        return "hash" if self.leaf_hashes is not None else "data"

    @property
    def nbytes(self) -> int:
        leaf = self.leaf_hashes.nbytes if self.leaf_hashes is not None else 0
        data = self.leaf_data.nbytes if self.leaf_data is not None else 0
        return int(leaf + data + self.path_hashes.nbytes + self.roots.nbytes + 16 * len(self))

    def leaf(self, i: int) -> tuple[bool, bytes]:
        """(is_hash, bytes) for proof i: the leaf hash, or the leaf data still to be hashed."""
        if self.leaf_hashes is not None:
            return True, self.leaf_hashes[i].tobytes()
        assert self.leaf_data is not None and self.leaf_offsets is not None
        return False, self.leaf_data[int(self.leaf_offsets[i]) : int(self.leaf_offsets[i + 1])].tobytes()

    def path(self, i: int) -> U8:
        return self.path_hashes[int(self.path_offsets[i]) : int(self.path_offsets[i + 1])]

    def slice(self, start: int, stop: int) -> MerkleBatch:
        """Proofs [start, stop) as a batch of their own (the roots table is shared, not copied)."""
        plo, phi = int(self.path_offsets[start]), int(self.path_offsets[stop])
        leaf_data, leaf_offsets = self.leaf_data, self.leaf_offsets
        if leaf_data is not None and leaf_offsets is not None:
            llo, lhi = int(leaf_offsets[start]), int(leaf_offsets[stop])
            leaf_data = leaf_data[llo:lhi]
            leaf_offsets = leaf_offsets[start : stop + 1] - np.uint64(llo)
        return MerkleBatch(
            leaf_hashes=None if self.leaf_hashes is None else self.leaf_hashes[start:stop],
            leaf_data=leaf_data,
            leaf_offsets=leaf_offsets,
            leaf_indices=self.leaf_indices[start:stop],
            tree_sizes=self.tree_sizes[start:stop],
            path_hashes=self.path_hashes[plo:phi],
            path_offsets=self.path_offsets[start : stop + 1] - np.uint64(plo),
            roots=self.roots,
            root_indices=self.root_indices[start:stop],
            malformed=self.malformed[start:stop],
        )

    def take(self, idx: npt.NDArray[np.intp]) -> MerkleBatch:
        """The proofs at positions ``idx``, in that order, as a new batch (roots table shared)."""
        paths, path_offsets = _gather_ragged(self.path_hashes, self.path_offsets, idx)
        leaf_data, leaf_offsets = self.leaf_data, self.leaf_offsets
        if leaf_data is not None and leaf_offsets is not None:
            leaf_data, leaf_offsets = _gather_ragged(leaf_data, leaf_offsets, idx)
        return MerkleBatch(
            leaf_hashes=None if self.leaf_hashes is None else self.leaf_hashes[idx],
            leaf_data=leaf_data,
            leaf_offsets=leaf_offsets,
            leaf_indices=self.leaf_indices[idx],
            tree_sizes=self.tree_sizes[idx],
            path_hashes=paths,
            path_offsets=path_offsets,
            roots=self.roots,
            root_indices=self.root_indices[idx],
            malformed=self.malformed[idx],
        )

    @classmethod
    def concat(cls, batches: Sequence[MerkleBatch]) -> MerkleBatch:
        """One batch holding the proofs of ``batches`` in order; their root tables are stacked."""
        if len(batches) == 1:
            return batches[0]
        by_hash = all(b.leaf_hashes is not None for b in batches)
        if not by_hash and any(b.leaf_hashes is not None for b in batches):
            raise InvalidRequestError(
                "cannot merge Merkle batches with leaf hashes and batches with leaf data"
            )
        root_base = np.cumsum([0] + [len(b.roots) for b in batches[:-1]]).astype(np.uint32)
        return cls(
            leaf_hashes=np.concatenate([b.leaf_hashes for b in batches if b.leaf_hashes is not None])
            if by_hash
            else None,
            leaf_data=None
            if by_hash
            else np.concatenate([b.leaf_data for b in batches if b.leaf_data is not None]),
            leaf_offsets=None
            if by_hash
            else _concat_offsets([b.leaf_offsets for b in batches if b.leaf_offsets is not None]),
            leaf_indices=np.concatenate([b.leaf_indices for b in batches]),
            tree_sizes=np.concatenate([b.tree_sizes for b in batches]),
            path_hashes=np.concatenate([b.path_hashes for b in batches]),
            path_offsets=_concat_offsets([b.path_offsets for b in batches]),
            roots=np.concatenate([b.roots for b in batches]),
            root_indices=np.concatenate(
                [b.root_indices + base for b, base in zip(batches, root_base, strict=True)]
            ),
            malformed=np.concatenate([b.malformed for b in batches]),
        )

    @classmethod
    def from_items(
        cls,
        leaf_indices: Sequence[int],
        tree_sizes: Sequence[int],
        paths: Sequence[Sequence[Any]],
        roots: Any,
        *,
        leaf_hashes: Sequence[Any] | None = None,
        leaves: Sequence[Any] | None = None,
    ) -> MerkleBatch:
        """Proofs from Python objects. ``roots`` is one root for every proof or one per proof."""
        if (leaf_hashes is None) == (leaves is None):
            raise InvalidRequestError("give exactly one of leaf_hashes and leaves")
        n = len(leaf_indices)
        lengths = {"leaf_indices": n, "tree_sizes": len(tree_sizes), "paths": len(paths)}
        hashes = data = offsets = None
        bad = np.zeros(n, dtype=np.bool_)
        if leaf_hashes is not None:
            hashes, bad_leaf = _fixed_column(leaf_hashes, HASH_SIZE, "leaf_hashes")
            lengths["leaf_hashes"] = hashes.shape[0]
        else:
            assert leaves is not None
            data, offsets = _concat(leaves, "leaves")
            bad_leaf = np.zeros(offsets.shape[0] - 1, dtype=np.bool_)
            lengths["leaves"] = offsets.shape[0] - 1
        single_root = isinstance(roots, (bytes, bytearray, memoryview))
        if not single_root:
            lengths["roots"] = len(roots)
        if len(set(lengths.values())) != 1:
            raise InvalidRequestError(
                "columns differ in length: " + ", ".join(f"{k} {v}" for k, v in lengths.items())
            )
        bad |= bad_leaf
        root_list = (
            [_as_bytes(roots, "roots")]
            if single_root
            else [_as_bytes(r, f"roots[{i}]") for i, r in enumerate(roots)]
        )
        table: dict[bytes, int] = {}
        root_indices = np.zeros(n, dtype=np.uint32)
        for i in range(n):
            root = root_list[0 if single_root else i]
            if len(root) != HASH_SIZE:
                bad[i] = True
                continue
            root_indices[i] = table.setdefault(root, len(table))
        table_arr = np.frombuffer(b"".join(table), dtype=np.uint8).reshape(len(table), HASH_SIZE)
        path_rows: list[bytes] = []
        path_offsets = np.zeros(n + 1, dtype=np.uint64)
        for i, path in enumerate(paths):
            if isinstance(path, (bytes, bytearray, memoryview, str)):
                raise TypeError(
                    f"paths[{i}] must be a sequence of 32-byte hashes, not a single {type(path).__name__}"
                )
            hs = [_as_bytes(h, f"paths[{i}][{j}]") for j, h in enumerate(path)]
            if any(len(h) != HASH_SIZE for h in hs):
                bad[i] = True
                hs = []
            path_rows.extend(hs)
            path_offsets[i + 1] = path_offsets[i] + len(hs)
        path_arr = np.frombuffer(b"".join(path_rows), dtype=np.uint8).reshape(len(path_rows), HASH_SIZE)
        idx = _u64_column(leaf_indices, "leaf_indices", check_types=True)
        size = _u64_column(tree_sizes, "tree_sizes", check_types=True)
        return cls(hashes, data, offsets, idx, size, path_arr, path_offsets, table_arr, root_indices, bad)

    @classmethod
    def from_packed(
        cls,
        *,
        leaf_indices: Any,
        tree_sizes: Any,
        path_hashes: bytes,
        path_lengths: Any,
        roots: bytes,
        root_indices: Any,
        leaf_hashes: bytes | None = None,
        leaf_data: bytes | None = None,
        leaf_data_lengths: Any = None,
    ) -> MerkleBatch:
        """Wrap wire buffers. ``root_indices`` may be empty when exactly one root is given."""
        n = len(leaf_indices)
        if len(tree_sizes) != n or len(path_lengths) != n:
            raise InvalidRequestError(
                f"columns differ in length: leaf_indices {n}, tree_sizes {len(tree_sizes)}, "
                f"path_lengths {len(path_lengths)}"
            )
        if len(path_hashes) % HASH_SIZE:
            raise InvalidRequestError(
                f"path_hashes holds {len(path_hashes)} bytes, not a multiple of {HASH_SIZE}"
            )
        path_offsets = _offsets_from_lengths(
            path_lengths, len(path_hashes) // HASH_SIZE, "path_lengths", "path_hashes", unit="hashes"
        )
        if len(roots) == 0 or len(roots) % HASH_SIZE:
            raise InvalidRequestError(
                f"roots holds {len(roots)} bytes; need one or more {HASH_SIZE}-byte roots"
            )
        m = len(roots) // HASH_SIZE
        if len(root_indices) == 0:
            if m != 1 and n > 0:
                raise InvalidRequestError(
                    f"root_indices is empty but {m} roots are given; name a root per proof"
                )
            ridx = np.zeros(n, dtype=np.uint32)
        else:
            if len(root_indices) != n:
                raise InvalidRequestError(f"root_indices has {len(root_indices)} entries for {n} proofs")
            ridx = np.asarray(root_indices, dtype=np.uint32)
            if n and int(ridx.max()) >= m:
                i = int(np.argmax(ridx >= m))
                raise InvalidRequestError(f"root_indices[{i}] = {int(ridx[i])} but only {m} roots are given")
        hashes = data = offsets = None
        if (leaf_hashes is not None and len(leaf_hashes) > 0) or (
            leaf_data_lengths is None or len(leaf_data_lengths) == 0
        ):
            if leaf_data:
                raise InvalidRequestError("give leaf_hashes or leaf_data with leaf_data_lengths, not both")
            hashes = _packed_rows(leaf_hashes or b"", HASH_SIZE, n, "leaf_hashes", "leaf_indices")
        else:
            if len(leaf_data_lengths) != n:
                raise InvalidRequestError(
                    f"leaf_data_lengths has {len(leaf_data_lengths)} entries for {n} proofs"
                )
            data = np.frombuffer(leaf_data or b"", dtype=np.uint8)
            offsets = _offsets_from_lengths(
                leaf_data_lengths, data.shape[0], "leaf_data_lengths", "leaf_data"
            )
        return cls(
            leaf_hashes=hashes,
            leaf_data=data,
            leaf_offsets=offsets,
            leaf_indices=_u64_column(leaf_indices, "leaf_indices"),
            tree_sizes=_u64_column(tree_sizes, "tree_sizes"),
            path_hashes=np.frombuffer(path_hashes, dtype=np.uint8).reshape(-1, HASH_SIZE),
            path_offsets=path_offsets,
            roots=np.frombuffer(roots, dtype=np.uint8).reshape(m, HASH_SIZE),
            root_indices=ridx,
            malformed=np.zeros(n, dtype=np.bool_),
        )


def _u64_column(values: Any, what: str, *, check_types: bool = False) -> U64:
    """A uint64 column; ``check_types`` (Python callers) insists on ints, wire columns already are."""
    if isinstance(values, np.ndarray):
        if values.size and values.dtype.kind not in "ui":
            raise TypeError(f"{what} must hold integers, got {values.dtype}")
        if values.dtype.kind == "i" and values.size and int(values.min()) < 0:
            raise InvalidRequestError(f"{what} must not be negative (min {int(values.min())})")
        return np.ascontiguousarray(values, dtype=np.uint64).reshape(-1)
    if check_types:
        for i, v in enumerate(values):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise TypeError(f"{what}[{i}] must be an int, got {type(v).__name__}")
            if not 0 <= v < 2**64:
                raise InvalidRequestError(f"{what}[{i}] = {v} is outside [0, 2^64)")
    return np.array(values, dtype=np.uint64).reshape(-1)


@dataclasses.dataclass(frozen=True, eq=False)
class EcdsaBatch:
    """n ECDSA items (docs/RULES.md section 5): SEC 1 public keys and signatures (64-byte r || s or DER) of
    any length, each column concatenated with n + 1 offsets, and a 32-byte digest per item.
    ``malformed[i]`` marks an item whose digest is not 32 bytes or whose key is neither 33 nor 65 bytes:
    its verdict is MALFORMED_LENGTH. Signatures of any length are carried as given (an encoding the
    reference cannot parse is a verdict, not an error)."""

    public_keys: U8  # (sum of key lengths,)
    key_offsets: U64  # (n + 1,), from 0
    signatures: U8  # (sum of signature lengths,)
    signature_offsets: U64  # (n + 1,), from 0
    digests: U8  # (n, 32)
    malformed: Bool  # (n,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_offsets", _rebased(self.key_offsets))
        object.__setattr__(self, "signature_offsets", _rebased(self.signature_offsets))

    def __len__(self) -> int:
        return int(self.digests.shape[0])

    @property
    def form(self) -> str:
        """Every ECDSA batch of one scheme merges with every other."""
        return ""

    @property
    def nbytes(self) -> int:
        return int(self.public_keys.nbytes + self.signatures.nbytes + self.digests.nbytes)

    def public_key(self, i: int) -> bytes:
        return self.public_keys[int(self.key_offsets[i]) : int(self.key_offsets[i + 1])].tobytes()

    def signature(self, i: int) -> bytes:
        return self.signatures[int(self.signature_offsets[i]) : int(self.signature_offsets[i + 1])].tobytes()

    def slice(self, start: int, stop: int) -> EcdsaBatch:
        """Items [start, stop) as a batch of their own (offsets re-based to 0)."""
        k0, k1 = int(self.key_offsets[start]), int(self.key_offsets[stop])
        s0, s1 = int(self.signature_offsets[start]), int(self.signature_offsets[stop])
        return EcdsaBatch(
            public_keys=self.public_keys[k0:k1],
            key_offsets=self.key_offsets[start : stop + 1] - np.uint64(k0),
            signatures=self.signatures[s0:s1],
            signature_offsets=self.signature_offsets[start : stop + 1] - np.uint64(s0),
            digests=self.digests[start:stop],
            malformed=self.malformed[start:stop],
        )

    def take(self, idx: npt.NDArray[np.intp]) -> EcdsaBatch:
        """The items at positions ``idx``, in that order, as a new batch."""
        keys, key_offsets = _gather_ragged(self.public_keys, self.key_offsets, idx)
        sigs, sig_offsets = _gather_ragged(self.signatures, self.signature_offsets, idx)
        return EcdsaBatch(keys, key_offsets, sigs, sig_offsets, self.digests[idx], self.malformed[idx])

    @classmethod
    def concat(cls, batches: Sequence[EcdsaBatch]) -> EcdsaBatch:
        """One batch holding the items of ``batches`` in order (how the scheduler merges callers)."""
        if len(batches) == 1:
            return batches[0]
        return cls(
            public_keys=np.concatenate([b.public_keys for b in batches]),
            key_offsets=_concat_offsets([b.key_offsets for b in batches]),
            signatures=np.concatenate([b.signatures for b in batches]),
            signature_offsets=_concat_offsets([b.signature_offsets for b in batches]),
            digests=np.concatenate([b.digests for b in batches]),
            malformed=np.concatenate([b.malformed for b in batches]),
        )

    @classmethod
    def from_items(
        cls,
        public_keys: Sequence[Any],
        signatures: Sequence[Any],
        digests: Sequence[Any] | None = None,
        *,
        messages: Sequence[Any] | None = None,
    ) -> EcdsaBatch:
        """Items from Python objects: ``digests`` (32 bytes each), or ``messages``, hashed here with
        SHA-256."""
        if (digests is None) == (messages is None):
            raise InvalidRequestError("give exactly one of digests and messages")
        if messages is not None:
            digests = [
                hashlib.sha256(_as_bytes(m, f"messages[{i}]")).digest() for i, m in enumerate(messages)
            ]
        assert digests is not None
        keys, key_offsets = _concat(public_keys, "public_keys")
        sigs, sig_offsets = _concat(signatures, "signatures")
        digest_rows, bad_digests = _fixed_column(digests, DIGEST_SIZE, "digests")
        n = digest_rows.shape[0]
        if key_offsets.shape[0] - 1 != n or sig_offsets.shape[0] - 1 != n:
            raise InvalidRequestError(
                f"columns differ in length: public_keys {key_offsets.shape[0] - 1}, "
                f"signatures {sig_offsets.shape[0] - 1}, digests {n}"
            )
        key_lengths = np.diff(key_offsets)
        bad_keys = ~np.isin(key_lengths, ECDSA_KEY_SIZES)
        return cls(keys, key_offsets, sigs, sig_offsets, digest_rows, bad_digests | bad_keys)

    @classmethod
    def from_packed(
        cls,
        public_keys: bytes,
        key_lengths: Any,
        signatures: bytes,
        signature_lengths: Any,
        messages: bytes,
        message_lengths: Any,
        *,
        hash_messages: bool = False,
    ) -> EcdsaBatch:
        """Wrap wire buffers: keys and signatures concatenated with their lengths, n digests (or, with
        ``hash_messages``, n messages hashed here with SHA-256) concatenated with theirs."""
        n = len(message_lengths)
        for name, lengths in (("public_key_lengths", key_lengths), ("signature_lengths", signature_lengths)):
            if len(lengths) != n:
                raise InvalidRequestError(f"{name} has {len(lengths)} entries; message_lengths has {n}")
        key_offsets = _offsets_from_lengths(
            key_lengths, len(public_keys), "public_key_lengths", "public_keys"
        )
        sig_offsets = _offsets_from_lengths(
            signature_lengths, len(signatures), "signature_lengths", "signatures"
        )
        msg_offsets = _offsets_from_lengths(message_lengths, len(messages), "message_lengths", "messages")
        lengths = np.diff(msg_offsets)
        if hash_messages:
            digests = np.frombuffer(
                b"".join(
                    hashlib.sha256(messages[int(a) : int(b)]).digest()
                    for a, b in itertools.pairwise(msg_offsets)
                ),
                dtype=np.uint8,
            ).reshape(n, DIGEST_SIZE)
            bad_digests = np.zeros(n, dtype=np.bool_)
        else:
            digests = np.zeros((n, DIGEST_SIZE), dtype=np.uint8)
            bad_digests = lengths != DIGEST_SIZE
            good = np.flatnonzero(~bad_digests)
            if len(good):
                raw = np.frombuffer(messages, dtype=np.uint8)
                starts = msg_offsets[good].astype(np.int64)
                digests[good] = raw[starts[:, None] + np.arange(DIGEST_SIZE)]
        bad_keys = ~np.isin(np.diff(key_offsets), ECDSA_KEY_SIZES)
        return cls(
            np.frombuffer(public_keys, dtype=np.uint8),
            key_offsets,
            np.frombuffer(signatures, dtype=np.uint8),
            sig_offsets,
            digests,
            bad_digests | bad_keys,
        )
