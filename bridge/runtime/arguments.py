"""The command line of ``python -m bridge.runtime [HANDLER]``."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PROG", "handler_argument", "parse_arguments"]

PROG = "python -m bridge.runtime"


def handler_argument(argv: Sequence[str]) -> str | None:
    """The HANDLER argument, as :func:`parse_arguments` reads it.  ``argparse``
    is imported only when there is more to read than one plain argument
    (options, ``--help``, or a mistake it explains): a plain start, as
    Lambda's, does without it."""
    if len(argv) <= 1 and not any(arg.startswith("-") for arg in argv):
        return argv[0] if argv else None
    return parse_arguments(argv)


def parse_arguments(argv: Sequence[str]) -> str | None:
    import argparse

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Serve a WSGI or ASGI app (or a bridge.Bridge handler) as a Lambda custom runtime, "
            "talking to the Runtime API at AWS_LAMBDA_RUNTIME_API."
        ),
    )
    parser.add_argument(
        "handler",
        nargs="?",
        help="module.attribute, as Lambda's handler setting (default: $_HANDLER)",
    )
    handler: str | None = parser.parse_args(argv).handler
    return handler
