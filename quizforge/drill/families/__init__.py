"""Drill families: one module each, defining `FAMILY` (see quizforge.drill.family)."""

from __future__ import annotations

import pkgutil
from functools import lru_cache


@lru_cache(maxsize=1)
def names() -> tuple[str, ...]:
    """Every family's name, without importing any: a family lives in the module named after
    it, '-' written '_' (`softmax-ce` in `softmax_ce.py`; a test holds every family to it),
    so running one family imports that module alone. Here rather than in drill.family, so
    that the deck cache's key lists them without importing the drill engine's model."""
    return tuple(info.name.replace("_", "-") for info in pkgutil.iter_modules(__path__)
                 if not info.name.startswith("_"))
