"""The function's handler, from Lambda's ``module.attr`` handler setting.

``module`` may be dotted (``package.module.attr``) or a path
(``src/app.handler``), as the managed Python runtimes accept.  The folder in
``LAMBDA_TASK_ROOT`` (the function's code on Lambda) and the current
directory are importable.  ``attr`` is a :class:`~bridge.Bridge`, used as
it is, or a WSGI or ASGI application, served as ``Bridge(app)``, with
``invoke_mode`` from ``BRIDGE_INVOKE_MODE`` (``BUFFERED`` when unset).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from bridge.adapter import Bridge
from bridge.errors import ConfigurationError

__all__ = ["INVOKE_MODE_ENV", "HandlerError", "load_handler"]

INVOKE_MODE_ENV = "BRIDGE_INVOKE_MODE"


class HandlerError(Exception):
    """The handler setting names nothing usable; ``error_type`` is the
    ``Runtime.*`` type Lambda's own runtimes report for the same failure."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def load_handler(spec: str, environ: dict[str, str] | None = None) -> Bridge:
    """Import ``spec`` (``module.attr``) and return the handler to call.

    Raises :class:`HandlerError` for a bad setting; any other exception is
    the application's own, raised while it was imported or set up.
    """
    env = os.environ if environ is None else environ
    module_name, dot, attribute = spec.strip().rpartition(".")
    if not dot or not module_name or not attribute:
        raise HandlerError(
            f"The handler must be 'module.attribute' (e.g. 'app.handler' for handler in "
            f"app.py), got {spec!r}. Pass it as the argument or in _HANDLER.",
            "Runtime.MalformedHandlerName",
        )
    module_name = module_name.replace("/", ".")
    for folder in (os.getcwd(), env.get("LAMBDA_TASK_ROOT")):
        if folder and folder not in sys.path:
            sys.path.insert(0, folder)
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise HandlerError(
            f"The handler module {module_name!r} has the name of a built-in module; rename it.",
            "Runtime.BuiltInModuleConflict",
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise HandlerError(
                f"Unable to import module {module_name!r}: {exc} (sys.path: {sys.path[:3]}...)",
                "Runtime.ImportModuleError",
            ) from None
        raise
    try:
        target: Any = getattr(module, attribute)
    except AttributeError:
        raise HandlerError(
            f"Handler {attribute!r} missing on module {module_name!r}.",
            "Runtime.HandlerNotFound",
        ) from None
    if isinstance(target, Bridge):
        return target
    mode = env.get(INVOKE_MODE_ENV, "").strip() or "BUFFERED"
    if mode not in ("BUFFERED", "RESPONSE_STREAM"):
        raise ConfigurationError(
            f"{INVOKE_MODE_ENV} must be BUFFERED or RESPONSE_STREAM (the function URL's invoke "
            f"mode), got {mode!r}."
        )
    return Bridge(
        target, invoke_mode="RESPONSE_STREAM" if mode == "RESPONSE_STREAM" else "BUFFERED"
    )
