"""``python -m bridge.runtime [HANDLER]``: see :mod:`bridge.runtime`."""

import sys

from bridge.runtime.command import main

sys.exit(main())
