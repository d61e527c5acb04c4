"""Scheme ``ed25519``: Ed25519 signatures under policy libsodium (default) or zip215 (docs/RULES.md
sections 1 and 2), from ``VerifySignatures``; columns in ``verifier.batch.Ed25519Batch``.

CPU reference: PyNaCl (libsodium) for policy libsodium. libsodium only says accept or reject, so a
rejection is labelled by re-running the cheap checks of section 1 in libsodium's order
(``libsodium_reject_reason``); the label never changes accept/reject, which is PyNaCl's alone. PyNaCl
releases the GIL, so a batch is cut into one chunk per worker thread, in short tasks.

ZIP-215 cannot be expressed with libsodium: it accepts non-canonical and small-order encodings that every
libsodium entry point refuses. No maintained Python package implements it, so on the CPU policy zip215
runs the project's kernel sources built for the host: batch verification (random linear combination,
bisection on failure; ``verifier.backends._zip215_batch``, docs/RULES.md section 2.6) over the same
decoding, hashing and single-item equation as the kernels, with 64-bit field limbs. The differential tests
check it against the independent reference on every input. It is built (or loaded from the cache) when the
backend is constructed; without a host C++ compiler the CPU serves policy libsodium alone and says so in
one log line.

Kernels: ``kernels/ed25519_verify.cu`` (``HostEd25519`` on the host, ``cuda.ed25519.Ed25519Kernel``).
Registered validator keys are decoded once into the kernels' key store (``key_store``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from verifier import _selftest_vectors as _kat
from verifier.batch import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, Ed25519Batch
from verifier.errors import BackendUnavailableError
from verifier.lines import hex_field
from verifier.schemes import HostContext, KnownAnswers, LineFormat, Runner, Scheme
from verifier.verdict import Policy, Verdict

__all__ = ["SCHEME", "libsodium_reject_reason"]

_log = logging.getLogger(__name__)

# Curve25519 constants (RFC 8032 section 5.1).
_FIELD_P = 2**255 - 19
_ORDER_L = 2**252 + 27742317777372353535851937790883648493
_CURVE_D = (-121665 * pow(121666, -1, _FIELD_P)) % _FIELD_P
# libsodium's small-order blocklist (ed25519_ref10.c ge25519_has_small_order), as y-values of the
# 255-bit encoding: 0, 1, the two y of the order-8 points, p-1, p, p+1.
_BLOCKLIST = frozenset(
    {
        0,
        1,
        2707385501144840649318225287225658788936804267575313519463743609750303402022,
        55188659117513257062467267217118295137698188065244968500265048394206261417927,
        _FIELD_P - 1,
        _FIELD_P,
        _FIELD_P + 1,
    }
)
_Y_MASK = (1 << 255) - 1
# Items per pool task at most: a task of about 30 ms at libsodium's rate (benchmarks/NOTES.md, "Sizes in code").
_MAX_ITEMS_PER_TASK = 512
# Policy zip215 on the CPU: batch verification built for the host (docs/RULES.md section 2.6).
_ZIP215_BATCH = "verifier.backends._zip215_batch:HostZip215Batch.runner"


def libsodium_reject_reason(pk: bytes, sig: bytes) -> Verdict:
    """Why libsodium rejected (pk, sig): the first failing check of docs/RULES.md section 1, steps 2-6.

    Called only after PyNaCl rejected, so when steps 2-6 all pass the equation failed.
    """
    if int.from_bytes(sig[32:], "little") >= _ORDER_L:
        return Verdict.NON_CANONICAL_S
    if int.from_bytes(sig[:32], "little") & _Y_MASK in _BLOCKLIST:
        return Verdict.SMALL_ORDER_R
    y = int.from_bytes(pk, "little") & _Y_MASK
    if y >= _FIELD_P:
        return Verdict.NON_CANONICAL_KEY
    if y in _BLOCKLIST:
        return Verdict.SMALL_ORDER_KEY
    # x^2 = (y^2 - 1) / (d y^2 + 1) must be a square (Euler's criterion; u = 0 is the square 0).
    yy = y * y % _FIELD_P
    x2 = (yy - 1) * pow(_CURVE_D * yy + 1, -1, _FIELD_P) % _FIELD_P
    if x2 != 0 and pow(x2, (_FIELD_P - 1) // 2, _FIELD_P) != 1:
        return Verdict.UNDECODABLE_KEY
    return Verdict.EQUATION_FAILED


def _libsodium_chunk(batch: Ed25519Batch, start: int, stop: int, out: npt.NDArray[np.uint8]) -> None:
    keys = batch.public_keys[start:stop].tobytes()
    sigs = batch.signatures[start:stop].tobytes()
    offsets = batch.message_offsets
    base = int(offsets[start])
    msgs = batch.messages[base : int(offsets[stop])].tobytes()
    malformed = batch.malformed
    for j, i in enumerate(range(start, stop)):
        if malformed[i]:
            out[i] = Verdict.MALFORMED_LENGTH
            continue
        pk = keys[32 * j : 32 * j + 32]
        sig = sigs[64 * j : 64 * j + 64]
        msg = msgs[int(offsets[i]) - base : int(offsets[i + 1]) - base]
        try:
            crypto_sign_open(sig + msg, pk)
            out[i] = Verdict.OK
        except BadSignatureError:
            out[i] = libsodium_reject_reason(pk, sig)


class CpuEd25519:
    """The reference: PyNaCl for policy libsodium, the host-built ZIP-215 batch verifier for zip215 (when it
    could be built)."""

    def __init__(self, ctx: HostContext) -> None:
        self._ctx = ctx
        self._zip215: Runner | None = None
        if ctx.host is not None:
            try:
                self._zip215 = ctx.host(_ZIP215_BATCH)
            except BackendUnavailableError as exc:
                _log.warning("backend cpu: policy zip215 unavailable, serving libsodium only: %s", exc)
        self.policies = frozenset({Policy.LIBSODIUM} | ({Policy.ZIP215} if self._zip215 else set()))
        self.key_store_rows = self._zip215.key_store_rows if self._zip215 is not None else 0

    def run(self, batch: Ed25519Batch, policy: Policy | None) -> npt.NDArray[np.uint8]:
        if policy is Policy.ZIP215 and self._zip215 is not None:
            return self._zip215.run(batch, policy)
        out = np.zeros(len(batch), dtype=np.uint8)
        self._ctx.split(len(batch), _MAX_ITEMS_PER_TASK, lambda a, b: _libsodium_chunk(batch, a, b, out))
        return out

    def put_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        """Decode keys into the zip215 path's key store (nothing to do without one: items then decode)."""
        if self._zip215 is not None:
            self._zip215.put_keys(slots, public_keys)

    def close(self) -> None:
        return None


def _known_answers() -> KnownAnswers:
    cases = _kat.ED25519_CASES
    batch = Ed25519Batch.from_items(
        [c.public_key for c in cases], [c.signature for c in cases], [c.message for c in cases]
    )
    return KnownAnswers(
        names=tuple(c.name for c in cases),
        batch=batch,
        expected={
            Policy.LIBSODIUM: tuple(Verdict[c.libsodium] for c in cases),
            Policy.ZIP215: tuple(Verdict[c.zip215] for c in cases),
        },
    )


def _parse_line(obj: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    return (
        hex_field(obj, "public_key", PUBLIC_KEY_SIZE),
        hex_field(obj, "signature", SIGNATURE_SIZE),
        hex_field(obj, "message"),
    )


def _line_batch(items: Sequence[tuple[bytes, bytes, bytes]]) -> Ed25519Batch:
    keys, sigs, msgs = zip(*items, strict=True)
    return Ed25519Batch.from_items(list(keys), list(sigs), list(msgs))


SCHEME = Scheme(
    name="ed25519",
    title="Ed25519 signatures (libsodium or ZIP-215 rules)",
    rpc="VerifySignatures",
    batch=Ed25519Batch,
    policies=(Policy.LIBSODIUM, Policy.ZIP215),
    verdicts=frozenset(
        {
            Verdict.OK,
            Verdict.MALFORMED_LENGTH,
            Verdict.NON_CANONICAL_S,
            Verdict.SMALL_ORDER_R,
            Verdict.NON_CANONICAL_KEY,
            Verdict.SMALL_ORDER_KEY,
            Verdict.UNDECODABLE_KEY,
            Verdict.EQUATION_FAILED,
            Verdict.UNDECODABLE_R,
        }
    ),
    malformed=Verdict.MALFORMED_LENGTH,
    cpu="verifier.schemes.ed25519:CpuEd25519",
    host="verifier.backends._host:HostEd25519.runner",
    cuda="verifier.backends.cuda.ed25519:Ed25519Kernel.runner",
    known_answers=_known_answers,
    line=LineFormat(fields="hex public_key, signature, message", parse=_parse_line, batch=_line_batch),
    key_store=True,
)
