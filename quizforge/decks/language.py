"""Language tags (en, zh-TW): what the `language` setting and a translation overlay's file
name (`backprop.zh-TW.yaml`, quizforge.decks.overlay) accept. Apart from the overlay module,
so that loading settings or listing deck files does not import it."""

from __future__ import annotations

import re
from pathlib import Path

LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
DEFAULT_LANGUAGE = "en"  # the language the decks are written in
OVERLAY_FILE = re.compile(
    r"^(?P<deck>[a-z0-9][a-z0-9-]*)\.(?P<lang>[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.ya?ml$"
)


def language_problem(language: str) -> str | None:
    """Why `language` is not a language tag, or None."""
    if LANGUAGE.match(language or ""):
        return None
    return f"language must be a tag such as en or zh-TW, got {language!r}"


def is_overlay_file(path: Path) -> bool:
    return OVERLAY_FILE.match(path.name) is not None
