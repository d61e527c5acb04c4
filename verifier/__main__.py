"""``python -m verifier``: the command line; with no command it runs the server."""

import sys

from verifier.cli import main

sys.exit(main())
