"""One spelling, American, across the bundled decks (translation overlays aside): the British
forms a reviewer met in the decks are refused, so they do not come back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DECKS = Path(__file__).resolve().parent.parent / "decks"
BRITISH = {
    "behaviour", "colour", "favour", "labelling", "modelling", "travelled", "centre",
    "practise", "learnt", "whilst", "amongst", "towards", "analyse", "analysed",
}
# -ise/-isation forms of these stems, where American English writes -ize/-ization
STEMS = ("normal", "regular", "optim", "initial", "general", "minim", "maxim", "stabil",
         "summar", "vector", "visual", "parametr", "parameter", "material", "quant",
         "tokeni", "real", "util", "special", "central", "emphas", "recogn", "organ", "standard")
_IZE = re.compile(r"\b(?:un|re)?(" + "|".join(STEMS) + r")is(?:e|es|ed|ing|er|ers|ation|ations)\b",
                  re.IGNORECASE)


@pytest.mark.parametrize("path", sorted(p for p in DECKS.glob("*.yaml") if p.stem.count(".") == 0),
                         ids=lambda p: p.stem)
def test_american_spelling(path):
    text = path.read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", body)}
    assert not words & BRITISH, sorted(words & BRITISH)
    assert not _IZE.findall(body), _IZE.findall(body)[:5]
