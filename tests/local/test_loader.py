"""APP arguments: module:attribute and path/to/file.py:attribute, and how they fail."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.local.loader import AppNotFound, load_app


@pytest.fixture
def clean_import_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Run in an empty folder, and forget the modules and sys.path entries a test adds."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_file_path_outside_a_package(clean_import_state: Path) -> None:
    (clean_import_state / "loose_app.py").write_text("app = object()\nname = __name__\n")
    app = load_app("loose_app.py:app")
    assert app is sys.modules["loose_app"].app
    assert sys.path[0] == str(clean_import_state)


def test_file_inside_a_package_gets_its_dotted_name(clean_import_state: Path) -> None:
    package = clean_import_state / "project" / "site_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text("VALUE = 42\n")
    (package / "main.py").write_text("from .settings import VALUE\napp = ('app', VALUE)\n")
    assert load_app("project/site_pkg/main.py:app") == ("app", 42)
    assert "site_pkg.main" in sys.modules
    assert sys.path[0] == str(clean_import_state / "project")


def test_dotted_module_is_found_from_the_current_folder(clean_import_state: Path) -> None:
    (clean_import_state / "cwd_app.py").write_text("class Holder:\n    app = 'inner'\n")
    assert load_app("cwd_app:Holder.app") == "inner"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "APP must be 'module:attribute'"),
        ("module:", "APP must be 'module:attribute'"),
        (":app", "APP must be 'module:attribute'"),
        ("missing_file.py:app", "no such file: 'missing_file.py'"),
        ("folder/notes.txt:app", "is not a .py file"),
        ("no_such_module_here:app", "cannot import 'no_such_module_here'"),
        ("present.py:absent", "'present' has no attribute 'absent'"),
    ],
)
def test_bad_arguments_raise_app_not_found(
    clean_import_state: Path, spec: str, message: str
) -> None:
    (clean_import_state / "present.py").write_text("app = 1\n")
    with pytest.raises(AppNotFound, match=re.escape(message)):
        load_app(spec)


def test_a_missing_dependency_of_the_app_is_the_apps_error(clean_import_state: Path) -> None:
    (clean_import_state / "needs_dep.py").write_text("import not_installed_dependency\napp = 1\n")
    with pytest.raises(ModuleNotFoundError, match="not_installed_dependency"):
        load_app("needs_dep.py:app")


def test_an_exception_while_importing_propagates(clean_import_state: Path) -> None:
    (clean_import_state / "broken.py").write_text("raise RuntimeError('config missing')\n")
    with pytest.raises(RuntimeError, match="config missing"):
        load_app("broken.py:app")
