"""Shared fixtures: a seeded RNG that prints its seed, and a fresh Prometheus registry."""

from __future__ import annotations

import os
import random

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
