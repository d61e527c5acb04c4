"""CometBFT commit (quorum certificate) verification: parse, build sign bytes, verify as one batch, tally.

    >>> from verifier import cometbft, get_engine
    >>> commit = cometbft.parse_commit(open("commit.json").read())        # doctest: +SKIP
    >>> vals = cometbft.parse_validators(open("validators.json").read())  # doctest: +SKIP
    >>> result = cometbft.verify_commit(None, vals, commit, mode="full",
    ...                                 verify=cometbft.engine_verifier(get_engine()))  # doctest: +SKIP
    >>> result.valid, result.error, result.signed_power, result.total_power  # doctest: +SKIP

SPEC.md section 4; cometbft ``types/validation.go``, ``types/vote.go``, ``types/canonical.go``,
``types/validator_set.go``. The signature check is injected (``verify``), so this package imports no backend;
``engine_verifier`` adapts an ``Engine`` (policy ``zip215``, what CometBFT uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from verifier.batch import Ed25519Batch
from verifier.cometbft.parse import (
    make_block_id,
    make_commit,
    make_commit_sig,
    make_header,
    parse_block_id,
    parse_commit,
    parse_timestamp,
    parse_validators,
)
from verifier.cometbft.signbytes import PRECOMMIT_TYPE, PREVOTE_TYPE, canonical_vote_sign_bytes
from verifier.cometbft.types import (
    MAX_TIMESTAMP_SECONDS,
    MIN_TIMESTAMP_SECONDS,
    ZERO_BLOCK_ID,
    ZERO_TIME,
    BlockID,
    BlockIDFlag,
    Commit,
    CommitSig,
    Header,
    PartSetHeader,
    Timestamp,
)
from verifier.cometbft.valset import (
    MAX_TOTAL_VOTING_POWER,
    UnknownValidatorSetError,
    Validator,
    ValidatorSet,
    ValidatorSetRegistry,
    address_from_pub_key,
    hash_from_byte_slices,
    simple_validator_bytes,
)
from verifier.cometbft.verify import (
    DEFAULT_TRUST_LEVEL,
    NOT_CHECKED,
    CommitError,
    CommitPlan,
    CommitResult,
    ErrorCode,
    Mode,
    SignatureStatus,
    TrustLevel,
    VerifyFn,
    finish_commit,
    parse_trust_level,
    plan_commit,
    verify_commit,
    voting_power_needed,
)
from verifier.schemes import ED25519
from verifier.verdict import Policy

if TYPE_CHECKING:  # only a type here: commits do not depend on the engine
    from verifier.engine import Engine

U8 = npt.NDArray[np.uint8]

__all__ = [
    # parsing
    "parse_commit",
    "parse_validators",
    "parse_timestamp",
    "parse_block_id",
    "parse_trust_level",
    "make_block_id",
    "make_commit_sig",
    "make_commit",
    "make_header",
    # values
    "BlockIDFlag",
    "PartSetHeader",
    "BlockID",
    "Timestamp",
    "MIN_TIMESTAMP_SECONDS",
    "MAX_TIMESTAMP_SECONDS",
    "CommitSig",
    "Header",
    "Commit",
    "ZERO_TIME",
    "ZERO_BLOCK_ID",
    "Validator",
    "ValidatorSet",
    "ValidatorSetRegistry",
    "UnknownValidatorSetError",
    "MAX_TOTAL_VOTING_POWER",
    # sign bytes and hashes
    "canonical_vote_sign_bytes",
    "PREVOTE_TYPE",
    "PRECOMMIT_TYPE",
    "address_from_pub_key",
    "simple_validator_bytes",
    "hash_from_byte_slices",
    # verification
    "verify_commit",
    "plan_commit",
    "finish_commit",
    "CommitPlan",
    "voting_power_needed",
    "Mode",
    "ErrorCode",
    "CommitError",
    "CommitResult",
    "SignatureStatus",
    "VerifyFn",
    "NOT_CHECKED",
    "DEFAULT_TRUST_LEVEL",
    "TrustLevel",
    "engine_verifier",
]


def engine_verifier(
    engine: Engine, policy: str | Policy = Policy.ZIP215, validators: ValidatorSet | None = None
) -> VerifyFn:
    """A ``verify`` function that runs the batch on ``engine`` with ``policy`` (CometBFT: zip215).

    ``validators``: a set whose commits this function will verify; its keys are registered in the
    engine's key store now (decoded once, as the server does for a registered set), and each batch names
    their rows. Keys from elsewhere are decoded per item; a row never changes a verdict.
    ``Engine.verify`` raises ``UnsupportedPolicyError`` when the backend lacks the policy.
    """
    store = engine.key_stores[ED25519.name]
    owner = None
    if validators is not None:
        owner = validators.hash
        store.register(owner, validators.public_keys)

    def verify(public_keys: U8, signatures: U8, messages: Sequence[bytes]) -> U8:
        batch = Ed25519Batch.from_items(public_keys, signatures, messages)
        slots = None if owner is None else store.slots(owner, batch.public_keys)
        if slots is not None:
            batch = batch.with_key_slots(slots)
        return engine.verify(ED25519, batch, policy).verdicts

    return verify
