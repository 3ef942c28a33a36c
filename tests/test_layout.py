"""The package's shape: each module keeps its private names to itself.

A module that imports another module's ``_name`` ties itself to what that
module is free to change; what several modules share is public in one place
(for the readers, ``bridge/sources/request.py`` and ``bridge/wsgi/environ.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bridge"


def private_imports(source: str, module: str) -> list[str]:
    """``module:line from.module import _name`` for every private name
    ``source`` imports from another bridge module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bridge")):
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(f"{module}:{node.lineno} from {node.module} import {alias.name}")
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    found = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in private_imports(path.read_text("utf-8"), str(path.relative_to(PACKAGE)))
    ]
    assert found == []


def test_the_check_sees_a_private_import() -> None:
    source = "from bridge.sources.request import text, _scheme\nfrom bridge import _log\n"
    assert private_imports(source, "m.py") == [
        "m.py:1 from bridge.sources.request import _scheme",
        "m.py:2 from bridge import _log",
    ]
