"""The scheme registry: each kind of item the service verifies is one ``Scheme``, declared in one module.

A scheme module (``ed25519``, ``merkle_rfc9162``) says in one place: its name (the metrics label
``scheme``, the ``verifier verify`` and ``verifier bench`` kind, the crossover file's key), the RPC it
arrives through, its batch class (the columns and their lengths, ``verifier.batch``), its policies (the
first is the default), the verdicts it can return and the one for a malformed item, its CPU reference,
its kernel runners for the host build and for CUDA, its self-test known answers, and its CLI line
format. Backends build each scheme's runner (``load``), and they, the engine, scheduler, service,
self-test, CLI and bench take a ``Scheme`` and never
branch on which one it is: adding a kind is a scheme module, its batch class and its kernel (README,
"Adding a scheme").

``SCHEMES`` lists them in wire order; ``scheme(name)`` finds one.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from verifier.errors import InvalidRequestError
from verifier.verdict import Policy, Verdict

__all__ = [
    "ECDSA_P256",
    "ECDSA_SECP256K1",
    "ED25519",
    "MERKLE",
    "SCHEMES",
    "CudaContext",
    "HostContext",
    "KnownAnswers",
    "LineFormat",
    "NoKeyStore",
    "Runner",
    "Scheme",
    "CURVES",
    "ecdsa_scheme",
    "load",
    "route",
    "scheme",
    "split_bounds",
]

# Below this many items per thread a batch runs on the calling thread: a pool hand-off costs more than it saves.
_MIN_ITEMS_PER_THREAD = 64


class Runner(Protocol):
    """One scheme on one backend: its kernel (or reference library) with whatever it keeps between calls.

    ``run`` returns one ``Verdict`` code per item, in order, every slot written; an item flagged
    ``batch.malformed`` gets the scheme's ``malformed`` verdict. ``policies``: the scheme's policies this
    runner implements (empty for a scheme without policies). ``key_store_rows``: rows of its decoded-key
    store (0: none), written by ``put_keys`` while no verification runs.
    """

    policies: frozenset[Policy]
    key_store_rows: int

    def run(self, batch: Any, policy: Policy | None) -> npt.NDArray[np.uint8]: ...

    def put_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None: ...

    def close(self) -> None: ...


class NoKeyStore:
    """For runners of schemes without a key store."""

    key_store_rows = 0

    def put_keys(self, slots: npt.NDArray[np.uint32], public_keys: npt.NDArray[np.uint8]) -> None:
        if len(slots):
            raise ValueError(f"{type(self).__name__} has no key store")

    def close(self) -> None:
        return None


class _Pool(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]: ...


@dataclasses.dataclass(frozen=True)
class HostContext:
    """What a host runner (backends ``cpu`` and ``emu``) is built with."""

    pool: _Pool  # verifier.backends.pool.PriorityPool: tasks in the submitting unit's order
    workers: int
    block_dim: int
    key_store_rows: int
    # Builds the host-compiled runner named by a "module:callable" reference, for a CPU reference that
    # runs a policy no library implements (Ed25519 zip215); None when the backend may not use the host build.
    host: Callable[[str], Runner] | None = None

    def split(
        self,
        n: int,
        max_task_items: int,
        work: Callable[[int, int], None],
        min_items_per_thread: int = _MIN_ITEMS_PER_THREAD,
    ) -> None:
        """Run ``work(a, b)`` over the ranges of ``split_bounds``: one per thread, and none over
        ``max_task_items``, so that more urgent work submitted meanwhile waits for one short task, not
        for a thread's share of a big batch. A single range runs on the calling thread. Returns when every
        range is done."""
        bounds = split_bounds(n, self.workers, max_task_items, min_items_per_thread)
        if len(bounds) == 2:
            work(0, n)
            return
        futures = [self.pool.submit(work, a, b) for a, b in itertools.pairwise(bounds)]
        for f in futures:
            f.result()


def split_bounds(
    n: int, workers: int, max_task_items: int, min_items_per_thread: int = _MIN_ITEMS_PER_THREAD
) -> list[int]:
    """Where ``HostContext.split`` cuts [0, n): one range per worker when each gets at least
    ``min_items_per_thread`` items (else fewer), and none over ``max_task_items``."""
    parts = max(min(workers, max(1, n // min_items_per_thread)), -(-n // max_task_items))
    return [n * i // parts for i in range(parts + 1)]


@dataclasses.dataclass(frozen=True)
class CudaContext:
    """What a CUDA runner is built with (inside the device's context)."""

    cp: Any  # the cupy module
    block_dim: int
    max_batch: int
    key_store_rows: int


@dataclasses.dataclass(frozen=True)
class KnownAnswers:
    """The self-test: ``batch`` and, per policy (None for a scheme without), the verdict of each item."""

    names: tuple[str, ...]
    batch: Any
    expected: Mapping[Policy | None, tuple[Verdict, ...]]


@dataclasses.dataclass(frozen=True)
class LineFormat:
    """``verifier verify <scheme>``: one JSON object per line. ``parse`` turns an object into an item
    (raising ``verifier.lines.LineError`` with the text for the output's ``error``), ``batch`` items
    into the scheme's batch."""

    fields: str  # for --help
    parse: Callable[[dict[str, Any]], Any]
    batch: Callable[[Sequence[Any]], Any]


@dataclasses.dataclass(frozen=True, eq=False)  # one object per scheme: compared and hashed by identity
class Scheme:
    name: str
    title: str
    rpc: str  # the gRPC method its items arrive through
    batch: type
    policies: tuple[Policy, ...]  # the first is the default; () when the scheme has none
    verdicts: frozenset[Verdict]  # every code it can return
    malformed: Verdict  # the verdict of an item whose columns have the wrong length
    # Runner factories, as "module:callable" (imported by the backend that builds them, so that a module
    # which only needs the declaration, such as the client, never imports a backend or CuPy):
    cpu: str  # the reference, (HostContext) -> Runner
    host: str | None  # the kernel built for the host (backend emu), (HostContext) -> Runner; None: none yet
    cuda: str | None  # (CudaContext) -> Runner; None: no kernel yet (the engine runs the scheme on the CPU)
    known_answers: Callable[[], KnownAnswers]
    line: LineFormat
    key_store: bool = False  # whether registered keys are decoded into a store its kernel reads

    @property
    def default_policy(self) -> Policy | None:
        return self.policies[0] if self.policies else None

    def parse_policy(self, policy: str | Policy | None) -> Policy | None:
        """``policy`` as one of this scheme's (None: the default); unknown names are
        ``InvalidRequestError`` listing the known ones."""
        if not self.policies:
            if policy in (None, ""):
                return None
            raise InvalidRequestError(f"scheme {self.name} takes no policy, got {policy!r}")
        if policy is None or policy == "":
            return self.policies[0]
        try:
            pol = Policy(policy)
        except ValueError:
            pol = None
        if pol not in self.policies:
            known = ", ".join(p.value for p in self.policies)
            raise InvalidRequestError(
                f"unknown policy {getattr(policy, 'value', policy)!r}; known policies: {known}"
            )
        return pol

    def routes(self) -> list[tuple[str, str]]:
        """Its (scheme, policy) routes, as the crossover table keys them."""
        return [route(self, p) for p in self.policies or (None,)]


def route(s: Scheme, policy: Policy | None) -> tuple[str, str]:
    """The router's key for ``policy`` on scheme ``s``: (name, policy value or "")."""
    return (s.name, policy.value if policy is not None else "")


def load(ref: str) -> Callable[..., Runner]:
    """The runner factory named ``ref`` ("module:attribute[.attribute]")."""
    module, _, path = ref.partition(":")
    factory: Any = importlib.import_module(module)
    for name in path.split("."):
        factory = getattr(factory, name)
    return factory  # type: ignore[no-any-return]


def _registry() -> tuple[Scheme, ...]:
    from verifier.schemes import ecdsa_p256, ecdsa_secp256k1, ed25519, merkle_rfc9162

    return (ed25519.SCHEME, merkle_rfc9162.SCHEME, ecdsa_secp256k1.SCHEME, ecdsa_p256.SCHEME)


SCHEMES: tuple[Scheme, ...] = _registry()
_BY_NAME = {s.name: s for s in SCHEMES}
# For callers that name a scheme in code (the public API, tests); every layer takes any ``Scheme``.
ED25519 = _BY_NAME["ed25519"]
MERKLE = _BY_NAME["merkle"]
ECDSA_SECP256K1 = _BY_NAME["ecdsa-secp256k1"]
ECDSA_P256 = _BY_NAME["ecdsa-p256"]


CURVES = {"secp256k1": "ecdsa-secp256k1", "p256": "ecdsa-p256"}  # verify_ecdsa's curve= -> scheme name


def ecdsa_scheme(curve: str) -> Scheme:
    """The ECDSA scheme of ``curve`` (``secp256k1`` or ``p256``)."""
    try:
        return _BY_NAME[CURVES[curve]]
    except KeyError:
        raise InvalidRequestError(f"unknown curve {curve!r}; known curves: {', '.join(CURVES)}") from None


def scheme(name: str) -> Scheme:
    """The scheme called ``name``; ``InvalidRequestError`` naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InvalidRequestError(f"unknown scheme {name!r}; known schemes: {', '.join(_BY_NAME)}") from None
