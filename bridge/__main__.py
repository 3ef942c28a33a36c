"""``python -m bridge``: see :mod:`bridge.cli`."""

import sys

from bridge.cli import main

if __name__ == "__main__":
    sys.exit(main())
