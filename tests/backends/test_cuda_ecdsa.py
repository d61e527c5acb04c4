"""Backend ``cuda`` for ECDSA without a GPU: ``CudaBackend`` driven through the fake CuPy of
tests/support/fake_cupy.py, whose ECDSA launch runs the emu build of the same kernel. It checks the
runner's own logic (chunking at ``max_batch`` across two stream slots with re-based offsets, buffer
reuse as batches grow and shrink, a failed launch as ``KernelError``) with planted faults, verdict by
verdict. The device itself runs the shared suite (tests/backends/test_ecdsa.py) on a GPU machine.
"""

from __future__ import annotations

import random

import pytest

from tests.support.ecdsa_faults import make_ecdsa_faults
from tests.support.fake_cupy import FakeCupy, install
from verifier.batch import EcdsaBatch
from verifier.errors import KernelError
from verifier.schemes import ECDSA_P256, ECDSA_SECP256K1


@pytest.fixture
def fake_cupy(monkeypatch: pytest.MonkeyPatch) -> FakeCupy:
    return install(monkeypatch, ecdsa=True)


def test_host_logic_chunks_slots_reuse(fake_cupy: FakeCupy, seed: int) -> None:
    from verifier.backends.cuda import CudaBackend

    rng = random.Random(seed)
    be = CudaBackend(max_batch=333, block_dim=64)
    try:
        assert ECDSA_P256.name in be.policies and ECDSA_SECP256K1.name in be.policies
        for scheme in (ECDSA_SECP256K1, ECDSA_P256):
            for n in (1000, 50, 333, 334, 1):
                faults = make_ecdsa_faults(scheme.name, rng, n, pool=32)
                batch = EcdsaBatch.from_items(faults.public_keys, faults.signatures, faults.digests)
                for policy in scheme.policies:
                    fake_cupy.launches.clear()
                    got = be.run(scheme, batch, policy).tolist()
                    want = [int(v) for v in faults.expected[policy]]
                    wrong = [(i, faults.kinds[i], got[i], want[i]) for i in range(n) if got[i] != want[i]]
                    assert not wrong, (scheme.name, policy, wrong[:5])
                    assert sum(fake_cupy.launches) == n and max(fake_cupy.launches) <= 333
                    assert len(fake_cupy.launches) == -(-n // 333)
        fake_cupy.fail_launch = True
        with pytest.raises(KernelError, match="ecdsa_p256_verify_kernel"):
            be.run(ECDSA_P256, batch, ECDSA_P256.policies[0])
    finally:
        be.close()
