"""Build and check the distributions (tox -e package): python .ci/check_package.py.

The sdist and the wheel are built with ``python -m build`` from a clean copy of
the tree (the files git tracks, or outside a checkout the tree without build
output), as from a fresh clone: setuptools would otherwise also ship whatever
an old ``*.egg-info/SOURCES.txt`` lists.

1. The sdist is self-contained: it holds every file git tracks (tests with
   their conftest.py files, examples, docs, deploy templates, tox.ini, ...),
   or, outside a git checkout, at least the files listed in REQUIRED.
2. The wheel installs into a fresh venv under its distribution name, and the
   README's ``python -m bridge invoke`` command answers 200 on the sdist's
   Flask example with the installed package (not the source tree).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

DIST_NAME = "bridge-lambda"
# Must be in the sdist whatever git says (the list of what was missing).
REQUIRED = (
    "LICENSE",
    "CHANGELOG.rst",
    "README.rst",
    "tox.ini",
    "ruff.toml",
    "setup.cfg",
    "tests/requirements.txt",
    "tests/conftest.py",
    "tests/wsgi/conftest.py",
    "tests/websocket/conftest.py",
    "tests/functions/wsgi_function.py",
    "examples/flask_app.py",
    "examples/fastapi_app.py",
    "docs/conf.py",
    "docs/index.rst",
    "deploy/sam/flask.yaml",
    "deploy/test_templates.py",
)
# Tracked files that are deliberately not shipped.
NOT_SHIPPED_PREFIXES = (".gitignore", ".git")


def fail(message: str) -> None:
    sys.exit(f"check_package: {message}")


def tracked_files(root: Path) -> set[str] | None:
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    out = subprocess.run(
        [git, "ls-files"], cwd=root, check=True, capture_output=True, text=True
    ).stdout
    return {
        name
        for name in out.splitlines()
        if not name.startswith(NOT_SHIPPED_PREFIXES) and (root / name).exists()
    }


# Build output and local state, never copied when git cannot say what is tracked.
SKIPPED_DIRS = {".git", ".tox", ".ci", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache"}


def clean_copy(root: Path, target: Path) -> None:
    files = tracked_files(root)
    if files is None:
        files = {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file()
            and not SKIPPED_DIRS.intersection(p.relative_to(root).parts[:-1])
            and not any(part.endswith(".egg-info") for part in p.relative_to(root).parts)
        }
        files |= {str(p.relative_to(root)) for p in (root / ".ci").glob("*") if p.is_file()}
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)


def build(root: Path, work: Path) -> Path:
    tree, dist = work / "tree", work / "dist"
    clean_copy(root, tree)
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(tree)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return dist


def check_sdist(sdist: Path, root: Path) -> Path:
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        top = names[0].split("/", 1)[0]
        shipped = {name.split("/", 1)[1] for name in names if "/" in name}
        unpacked = Path(tempfile.mkdtemp(prefix="sdist-"))
        tar.extractall(unpacked, filter="data")
    expected = tracked_files(root)
    missing = sorted(set(REQUIRED) - shipped)
    if expected is not None:
        missing = sorted(set(missing) | (expected - shipped))
    if missing:
        fail(
            f"the sdist {sdist.name} lacks {len(missing)} files: {missing[:20]}; "
            "add them to MANIFEST.in"
        )
    sys.stdout.write(f"sdist {sdist.name}: {len(shipped)} entries, nothing missing\n")
    return unpacked / top


def check_wheel(wheel: Path, source: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="fresh-venv-") as tmp:
        env_dir = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(env_dir)
        python = env_dir / "bin" / "python"
        # flask only to run the example; bridge itself needs asgiref alone.
        subprocess.run([python, "-m", "pip", "install", "-q", str(wheel), "flask>=3"], check=True)
        # Run from an empty folder, so that `bridge` can only come from the venv.
        where = subprocess.run(
            [
                python,
                "-c",
                "import bridge, importlib.metadata as m;"
                f"print(bridge.__file__, m.version({DIST_NAME!r}))",
            ],
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        if not where[0].startswith(str(env_dir)):
            fail(f"bridge imported from {where[0]}, not from the fresh venv {env_dir}")
        example = source / "examples" / "flask_app.py"
        out = subprocess.run(
            [
                python,
                "-m",
                "bridge",
                "invoke",
                f"{example}:app",
                "/?name=Lambda",
                "--source",
                "rest",
            ],
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        response = json.loads(out)
        if response["statusCode"] != 200 or "Hello, Lambda!" not in response["body"]:
            fail(f"python -m bridge invoke answered {response!r}")
        sys.stdout.write(
            f"wheel {wheel.name}: {DIST_NAME} {where[1]} installed in a fresh venv; "
            "invoke answered 200\n"
        )


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="check-package-") as work:
        dist = build(root, Path(work))
        sdists = sorted(dist.glob("*.tar.gz"))
        wheels = sorted(dist.glob("*.whl"))
        if len(sdists) != 1 or len(wheels) != 1:
            fail(f"expected one sdist and one wheel in {dist}, found {sdists + wheels}")
        source = check_sdist(sdists[0], root)
        try:
            check_wheel(wheels[0], source)
        finally:
            shutil.rmtree(source.parent)


if __name__ == "__main__":
    main()
