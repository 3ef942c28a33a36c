"""``python -m bridge``: see :mod:`bridge.cli`."""

from bridge.cli import run

if __name__ == "__main__":
    run()
