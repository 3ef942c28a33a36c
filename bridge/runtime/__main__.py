"""``python -m bridge.runtime [HANDLER]``: see :mod:`bridge.runtime`."""

import sys

from bridge.runtime.main import main

sys.exit(main())
