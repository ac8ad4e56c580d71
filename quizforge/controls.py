"""Control characters made visible, so that text from a deck or an import never drives the
terminal it is shown in.

A deck can hold any character: YAML's double-quoted escapes ("\\e[2J", "\\x9b") put control
characters into a card's text, and a terminal obeys them (clear the screen, retitle the
window, make a hyperlink). `visible` replaces every C0 control character but tab and newline,
DEL, and every C1 control character with a printable stand-in:

- C0 and DEL by their Unicode Control Pictures: ESC is ␛ (U+241B), BEL ␇, CR ␍, DEL ␡;
- C1 (U+0080 to U+009F, which have no pictures) by their code in brackets: U+009B (CSI)
  is ⟨9B⟩.

Applied where text enters (the deck checker's text fields, translation overlays, imported
cards) and at the display edges for text that does not come from decks (file paths,
problem messages). Pure; one pass of `str.translate`.
"""

from __future__ import annotations

import re

KEPT = "\t\n"
_C0 = {c: 0x2400 + c for c in range(0x20) if chr(c) not in KEPT}
_TABLE: dict[int, int | str] = {**_C0, 0x7F: 0x2421}
_TABLE.update({c: f"⟨{c:02X}⟩" for c in range(0x80, 0xA0)})
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """`text` with every control character but tab and newline made visible (␛, ⟨9B⟩)."""
    if _CONTROL.search(text) is None:  # the common case: no copy
        return text
    return text.translate(_TABLE)


def has_controls(text: str) -> bool:
    """Whether `visible` would change `text`."""
    return _CONTROL.search(text) is not None
