"""Every card's `source` names works that its deck's header lists under "References".

A deck file opens with a comment block whose "References" list names every work its cards
follow; a card's `source` cites one or more of them ("Author et al. YEAR, Title (§)", "PyTorch
docs: …", or, in the backprop deck, a section of the seed notes). A cited work is found in the
list by its first name-like word (an author's surname, or "PyTorch", "CS231n" …) and its year.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DECKS = Path(__file__).resolve().parent.parent / "decks"
OVERLAY = re.compile(r"\.[a-z]{2,3}(?:-[A-Za-z0-9]+)*\.yaml$")
DECK_FILES = sorted(p for p in DECKS.glob("*.yaml") if not OVERLAY.search(p.name))


def header(path: Path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    text = " ".join(lines)
    assert "References" in text, f"{path.name} has no References list in its header comment"
    return text[text.index("References"):]


def cited_works(source: str) -> list[str]:
    """The works a source cites: split at ';' outside parentheses."""
    works, depth, start = [], 0, 0
    for i, ch in enumerate(source):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            works.append(source[start:i])
            start = i + 1
    works.append(source[start:])
    return [w.strip() for w in works if w.strip()]


_SKIP = {"The", "A", "An", "On", "In", "See"}


def missing(work: str, refs: str) -> str | None:
    """Why `work` is not found in the references text `refs`, or None."""
    if work in refs:
        return None
    words = re.findall(r"[A-Za-z][\w'’.-]*", work)
    first = words[0] if words and work.startswith(words[0]) else None
    if first and first.startswith("torch"):  # "PyTorch docs: a; torch.b": b is in the docs too
        first = "PyTorch"
    key = first if first and (first[0].islower() or first == "PyTorch") else next(
        (w for w in words if w[0].isupper() and w not in _SKIP), None)
    if key is None:
        return None
    key = key.rstrip(".,")
    if key not in refs:
        return f"'{key}' is not in the references"
    year = re.search(r"\b(19|20)\d\d\b", work)
    if year and not any(year.group(0) in refs[m.start():m.start() + 160]
                        for m in re.finditer(re.escape(key), refs)):
        return f"'{key}' with year {year.group(0)} is not in the references"
    return None


@pytest.mark.parametrize("path", DECK_FILES, ids=lambda p: p.stem)
def test_every_cited_work_is_in_the_deck_references(path):
    refs = header(path)
    deck = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []
    for card in deck["cards"]:
        assert card.get("source"), f"{path.name}: card {card['id']} has no source"
        for work in cited_works(str(card["source"])):
            why = missing(work, refs)
            if why:
                problems.append(f"{card['id']}: {work!r}: {why}")
    assert not problems, "\n".join(problems)
