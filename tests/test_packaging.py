"""A plain `pip install` carries every module, the bundled decks and the deck schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Build from a copy: an in-tree build writes build/ and *.egg-info into the working tree,
# where other test runs and editors are looking.
SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
    "out",
)


def test_wheel_contains_bundled_decks_and_schema(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    # --no-build-isolation: no network; the test extra provides setuptools>=70.1 (bdist_wheel).
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        capture_output=True,
        text=True,
        check=False,  # the assert below shows pip's output
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "dist").glob("quizforge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = {n for n in names if n.startswith("quizforge/bundled/")}
    assert "quizforge/bundled/deck.schema.json" in bundled
    decks = {n for n in bundled if n.endswith((".yaml", ".yml"))}
    assert decks, sorted(bundled)
    shipped = {f"quizforge/bundled/{p.name}" for p in (ROOT / "decks").glob("*.y*ml")}
    assert decks == shipped
    assert "quizforge/decks/loader.py" in names and "quizforge/cli/decks.py" in names
    # every package and every data file in the tree ships (the list in pyproject is by hand)
    for path in (ROOT / "quizforge").rglob("*"):
        if "__pycache__" in path.parts or path.is_dir():
            continue
        if path.suffix in (".py", ".html", ".json"):
            name = path.relative_to(ROOT).as_posix()
            assert name in names, f"{name} is not in the wheel: add its package to pyproject"
