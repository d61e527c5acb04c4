"""``python -m verifier.bench``: the benchmark suite (see ``verifier.bench``)."""

import sys

from verifier.bench import main

sys.exit(main())
