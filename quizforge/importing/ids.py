"""Stable card ids for imported cards, so importing the same file again gives the same ids
(and the store keeps each card's progress).

- An Anki note is known by its GUID (Anki's own key for "the same note" across exports):
  ``anki-`` and 10 hex digits of its BLAKE2b hash. A note gives one card per template or
  cloze number: the first template's card has no suffix, template k gets ``-tk``, cloze
  number n gets ``-cn``.
- Text with no GUID (a CSV without a guid column, hashcards) is known by its front text, as
  hashcards itself does: a slug of its first words and 6 hex digits of the hash of the whole
  text. Editing the front in the source makes a new card there too.
A clash (two notes with the same front) gets ``-2``, ``-3``... in file order.
"""

from __future__ import annotations

import hashlib
import re

_SLUG_WORDS = 6
_SLUG_CHARS = 40


def _hex(text: str, nbytes: int) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=nbytes).hexdigest()


def guid_id(guid: str) -> str:
    return f"anki-{_hex(guid, 5)}"


def text_id(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())[:_SLUG_WORDS]
    slug = "-".join(words)[:_SLUG_CHARS].strip("-") or "card"
    return f"{slug}-{_hex(text, 3)}"


def with_suffix(base: str, kind: str, number: int) -> str:
    """The id of card `number` of a note: template cards `t`, cloze cards `c`."""
    if kind == "t":
        return base if number == 1 else f"{base}-t{number}"
    return f"{base}-c{number}"


class UniqueIds:
    """Hands out ids in file order, giving a repeated one a -2, -3... suffix."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def take(self, wanted: str) -> str:
        out, n = wanted, 1
        while out in self._seen:
            n += 1
            out = f"{wanted}-{n}"
        self._seen.add(out)
        return out
