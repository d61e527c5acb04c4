"""The committed generated code is exactly what protoc makes of protos/ today."""

from __future__ import annotations

import filecmp
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ("verifier_pb2.py", "verifier_pb2.pyi", "verifier_pb2_grpc.py")


def test_generated_code_is_current(tmp_path: Path) -> None:
    proto = "verifier/v1/verifier.proto"
    args = [
        "grpc_tools.protoc",
        f"-I{ROOT / 'protos'}",
        f"-I{resources.files('grpc_tools') / '_proto'}",  # google/protobuf/*.proto, as `python -m grpc_tools.protoc` adds
        f"--python_out={tmp_path}",
        f"--pyi_out={tmp_path}",
        f"--grpc_python_out={tmp_path}",
        str(ROOT / "protos" / proto),
    ]
    assert protoc.main(args) == 0, "protoc failed"
    stale = [
        name
        for name in GENERATED
        if not filecmp.cmp(
            tmp_path / "verifier" / "v1" / name, ROOT / "verifier" / "v1" / name, shallow=False
        )
    ]
    assert not stale, (
        f"regenerate {stale}: {sys.executable} -m grpc_tools.protoc -Iprotos --python_out=. "
        f"--pyi_out=. --grpc_python_out=. protos/{proto}"
    )
