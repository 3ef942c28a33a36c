"""Find the object an ``APP`` argument names: ``module:attribute`` or ``path/to/file.py:attribute``.

A file inside a package (a folder with ``__init__.py``) is imported under its full dotted name,
with the folder above the outermost package put on ``sys.path``, so the app's own absolute and
relative imports work as they do when it is deployed. A dotted module name is looked up from the
current directory first, like ``python -m``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

__all__ = ["AppNotFound", "load_app", "source_root"]


class AppNotFound(LookupError):
    """The ``APP`` argument does not name an importable object (bad input, not an app failure)."""


def load_app(spec: str) -> object:
    """Import and return the object ``spec`` names.

    Raises :class:`AppNotFound` when the argument is malformed or names something that does not
    exist. Any other exception comes from the app's own code while it was imported, and is left
    to the caller to report with its traceback.
    """
    module_part, sep, attribute = spec.rpartition(":")
    if not sep or not module_part or not attribute:
        raise AppNotFound(
            f"APP must be 'module:attribute' or 'path/to/file.py:attribute', got {spec!r}"
        )
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        module_name = _prepare_file(Path(module_part))
    else:
        module_name = module_part
        _put_first_on_path(Path.cwd())
    module = _import(module_name, spec)
    target: object = module
    for name in attribute.split("."):
        try:
            target = getattr(target, name)
        except AttributeError:
            raise AppNotFound(
                f"{module_name!r} has no attribute {attribute!r} (from APP {spec!r})"
            ) from None
    return target


def source_root(spec: str) -> Path:
    """The folder the app of ``spec`` is imported from: the folder above its outermost
    package for a file, the current directory for a module name."""
    module_part = spec.rpartition(":")[0]
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        folder = Path(module_part).resolve().parent
        while (folder / "__init__.py").is_file() and folder.parent != folder:
            folder = folder.parent
        return folder
    return Path.cwd()


def _prepare_file(path: Path) -> str:
    """Put the right folder on ``sys.path`` for ``path`` and return its dotted module name."""
    if path.suffix != ".py":
        raise AppNotFound(f"{str(path)!r} is not a .py file")
    if not path.is_file():
        raise AppNotFound(f"no such file: {str(path)!r}")
    path = path.resolve()
    parts = [path.stem] if path.stem != "__init__" else []
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    if not parts:
        raise AppNotFound(f"{str(path)!r} is a package's __init__.py outside any package")
    _put_first_on_path(folder)
    return ".".join(parts)


def _put_first_on_path(folder: Path) -> None:
    entry = str(folder)
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)


def _import(module_name: str, spec: str) -> object:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only a failure to find the named module (or one of its parents) is a bad argument;
        # a missing dependency of the app is the app's own error and keeps its traceback.
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise AppNotFound(f"cannot import {module_name!r} (from APP {spec!r}): {exc}") from None
        raise
