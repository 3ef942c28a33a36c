"""``python -m bridge``: see :mod:`bridge.local.cli`."""

from bridge.local.cli import run

if __name__ == "__main__":
    run()
