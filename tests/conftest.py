"""Shared fixtures: a seeded RNG that prints its seed, a fresh Prometheus registry, and the root logger
restored after a test that configured it."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """``$VERIFIER_TEST_SEED`` or a fresh one; printed so a failure can be replayed."""
    value = int(os.environ.get("VERIFIER_TEST_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\n{request.node.nodeid}: seed {value} (replay with VERIFIER_TEST_SEED={value})")
    return value


@pytest.fixture
def rng(seed: int) -> random.Random:
    return random.Random(seed)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """``verifier.cli.main()`` configures the root logger for the stderr of its moment; a later test's
    server must not log into an earlier test's closed capture."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
