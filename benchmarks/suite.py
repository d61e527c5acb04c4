"""The benchmark suite as a script: the same as ``verifier bench`` (see ``verifier/bench/__init__.py``).

.venv/bin/python benchmarks/suite.py --quick            # under a minute; CI
.venv/bin/python benchmarks/suite.py                    # full sweep into benchmarks/results/
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verifier.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
