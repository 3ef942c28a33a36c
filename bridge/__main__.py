"""``python -m bridge``: see :mod:`bridge.cli`."""

import sys

from bridge.cli import configure_logging, main

if __name__ == "__main__":
    configure_logging()
    sys.exit(main())
