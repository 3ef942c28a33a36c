"""Sphinx configuration: the bridge documentation site (tox -e docs)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bridge  # noqa: E402

project = "bridge"
author = "The bridge developers"
copyright = "2026, The bridge developers"
version = release = bridge.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]
# README.rst is the front page (index.rst includes it); the build itself
# must not pick up anything outside these pages.
exclude_patterns = ["_build"]
root_doc = "index"

# The API reference: signatures carry the annotations as written, members in
# source order.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "undoc-members": False}

# The annotations name bridge's type aliases unqualified: point them at their
# entries in the API reference.
autodoc_type_aliases = {
    **{
        name: f"bridge.types.{name}"
        for name in (
            "InterfaceMode",
            "LifespanMode",
            "LambdaContext",
            "LambdaEvent",
            "LambdaResponse",
        )
    },
}

# What the nitpicky build cannot resolve: the standard library's and
# third-party types (no network here for intersphinx inventories), and the
# callable aliases bridge.sources.base defines for type checkers only, and the
# type variable of bridge.snapstart's decorators.
nitpick_ignore_regex = [
    (r"py:.*", r"(collections\.abc|typing|asgiref|boto3|botocore|concurrent\.futures)\..*"),
    (r"py:class", r"Executor"),
    (r"py:class", r"ToRequest|ToResponse|ToTextResponse|ReadRequest"),
    (r"py:class", r"bridge\.snapstart\.F"),
]

html_theme = "alabaster"
html_title = f"bridge {release}"
html_static_path: list[str] = []
