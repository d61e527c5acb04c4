"""benchmarks/gpu_check.py, the Python half of scripts/gpu_check.sh: merging what the stages saved.

The whole dry run (every stage on backend emu) is a CI step of its own (.ci/run), not a test here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def test_merge_keeps_every_record_tagged_with_its_file_in_the_order_written(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    (parts / "kernel-ptx").mkdir(parents=True)
    first = {"device": "emu", "results": [{"kind": "environment"}]}
    second = {
        "device": "NVIDIA H200",
        "results": [{"kind": "ed25519", "items_per_second": 1.0}, {"kind": "x"}],
    }
    (parts / "b-env.json").write_text(json.dumps(first))
    time.sleep(0.01)
    (parts / "kernel-ptx" / "a-kernel.json").write_text(json.dumps(second))
    (parts / "broken.json").write_text("{")
    out = tmp_path / "merged.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(_ROOT / "benchmarks" / "gpu_check.py"),
            "merge",
            str(parts),
            str(out),
            "--stages",
            "env",
        ],
        capture_output=True,
        text=True,
        cwd=_ROOT,
        env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["device"] == "NVIDIA H200" and doc["stages"] == ["env"] and doc["commit"]
    sources = [(r["kind"], r["source"]) for r in doc["results"]]
    assert sources == [
        ("environment", "b-env.json"),
        ("ed25519", "kernel-ptx/a-kernel.json"),
        ("x", "kernel-ptx/a-kernel.json"),
        ("unreadable", "broken.json"),
    ]
