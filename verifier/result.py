"""The answer to a batch: one verdict per item, in order."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from verifier.verdict import Verdict

__all__ = ["VerifyResult"]


@dataclasses.dataclass(frozen=True, eq=False)
class VerifyResult:
    """``verdicts`` is a uint8 array of ``Verdict`` codes; ``valid`` is ``verdicts == OK``."""

    verdicts: npt.NDArray[np.uint8]
    backend: str

    def __len__(self) -> int:
        return int(self.verdicts.shape[0])

    @property
    def valid(self) -> npt.NDArray[np.bool_]:
        valid: npt.NDArray[np.bool_] = self.verdicts == Verdict.OK
        return valid

    @property
    def valid_count(self) -> int:
        return int(np.count_nonzero(self.valid))

    @property
    def invalid_count(self) -> int:
        return len(self) - self.valid_count

    @property
    def all_valid(self) -> bool:
        return self.valid_count == len(self)

    def verdict(self, i: int) -> Verdict:
        return Verdict(int(self.verdicts[i]))

    def counts(self) -> dict[Verdict, int]:
        """Items per verdict, only the verdicts that occur."""
        values, counts = np.unique(self.verdicts, return_counts=True)
        return {Verdict(int(v)): int(c) for v, c in zip(values, counts, strict=True)}
