"""The verdict numbers are one table in three languages: Python, the kernels and the proto."""

from __future__ import annotations

import re
from pathlib import Path

from verifier.v1 import verifier_pb2
from verifier.verdict import Verdict

ROOT = Path(__file__).resolve().parent.parent


def test_zero_is_unspecified_and_never_ok() -> None:
    assert Verdict(0) is Verdict.UNSPECIFIED
    ok: int = Verdict.OK  # typed as int, so mypy does not call the IntEnum-to-int comparison non-overlapping
    assert ok != 0


def test_proto_enum_matches_python() -> None:
    proto = {name.removeprefix("VERDICT_"): number for name, number in verifier_pb2.Verdict.items()}
    assert proto == {v.name: int(v) for v in Verdict}


def test_kernel_header_matches_python() -> None:
    text = (ROOT / "kernels" / "verdict.cuh").read_text()
    kernel = {m[1]: int(m[2]) for m in re.finditer(r"#define VERDICT_(\w+) (\d+)", text)}
    assert kernel == {v.name: int(v) for v in Verdict}
