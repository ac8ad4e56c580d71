"""The family registry: every module in `quizforge.drill.families` that defines `FAMILY`.

A family is found by being there; nothing else lists them. Family modules are cheap to import
(numpy and SymPy are imported inside the functions that need them), so listing
families for `--help`, deck validation or the report costs little, and running one family
(`get`) imports its module alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from quizforge.drill.errors import DrillError
from quizforge.drill.families import names  # noqa: F401  (part of this module's API)
from quizforge.drill.model import FORMS


@dataclass(frozen=True)
class Family:
    name: str  # lowercase, '-' allowed: "softmax-ce"
    summary: str  # one line for listings and --help
    levels: dict[int, str]  # difficulty -> what it asks, one line each
    generate: Callable[[int, int, str], Any] = field(repr=False)  # (seed, difficulty, form)
    forms: tuple[str, ...] = ("number",)
    order: int = 50  # listing order (backprop first)
    example: str = ""  # an answer as typed, for --help
    questions: int = 3  # the most questions one problem asks (--question 0 … questions − 1)

    @property
    def difficulties(self) -> tuple[int, ...]:
        return tuple(sorted(self.levels))

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.name, "summary": self.summary,
                "difficulties": list(self.difficulties),
                "levels": {str(k): v for k, v in sorted(self.levels.items())},
                "forms": list(self.forms)}




@cache
def _load(name: str) -> Family | None:
    module = importlib.import_module(f"quizforge.drill.families.{name.replace('-', '_')}")
    fam = getattr(module, "FAMILY", None)
    if isinstance(fam, Family):
        assert all(f in FORMS for f in fam.forms), fam.name
        return fam
    return None


@lru_cache(maxsize=1)
def families() -> dict[str, Family]:
    """All families, in listing order (this imports every family module)."""
    found = [f for f in (_load(n) for n in names()) if f is not None]
    return {f.name: f for f in sorted(found, key=lambda f: (f.order, f.name))}


def get(name: str) -> Family:
    fam = _load(name) if name in names() else None
    if fam is None or fam.name != name:
        fam = families().get(name)
    if fam is None:
        raise DrillError(f"unknown drill family {name!r} (available: {', '.join(families())})")
    return fam


def generate(name: str, seed: int, difficulty: int = 1, form: str = "number"):
    """A fresh problem; the same arguments give the same problem on every machine."""
    fam = get(name)
    errors = []
    if difficulty not in fam.levels:
        levels = ", ".join(map(str, fam.difficulties))
        errors.append(f"difficulty must be one of {levels} (got {difficulty})")
    if form not in fam.forms:
        errors.append(f"{name} problems come in the form{'s' if len(fam.forms) > 1 else ''} "
                      f"{', '.join(fam.forms)} (got {form!r})")
    if errors:
        raise DrillError("; ".join(errors))
    return fam.generate(seed, difficulty, form)
