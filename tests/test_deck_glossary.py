"""The English ↔ zh-TW glossary deck, and the script of the zh-TW backprop overlay.

Every term is a pair of flashcards, en-<slug> (English term → zh-TW term) and zh-<slug>
(zh-TW term → English term and gloss), and each card of a pair names the other's front.
The zh-TW files are in Traditional characters only: a list of common characters whose
simplified form differs from the traditional one must not appear in them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from quizforge.decks.model import Flashcard
from quizforge.decks.validate import parse_deck

DECKS = Path(__file__).resolve().parent.parent / "decks"
GLOSSARY = DECKS / "glossary.yaml"
OVERLAY = DECKS / "backprop.zh-TW.yaml"

# Common simplified characters whose traditional form is a different character
# (归/歸, 总/總, 门/門, 络/絡, 数/數, 层/層, 练/練 ...). Characters shared by both scripts,
# or that also exist as ordinary traditional characters (范, 准, 据, 并), are left out.
SIMPLIFIED_ONLY = (
    "归总门络数层练这为们个过说时会学习权计确规则维变网导阵链测验类贝处优设进应"
    "动态点产统训经错长问题图条间样离将发现实关开"
)

REFERENCES = (
    "quizforge seed notes: Backpropagation (zh-TW)",
    "國家教育研究院「樂詞網」(terms.naer.edu.tw)",
    "Hung-yi Lee (李宏毅), NTU Machine Learning 2021 Spring",
    "Hung-yi Lee (李宏毅), NTU 生成式AI導論 2024",
    "Google for Developers, Machine Learning Glossary (機器學習詞彙表)",
    "Microsoft Learn (zh-TW)",
)


def load_glossary():
    parsed = parse_deck(GLOSSARY.read_text(encoding="utf-8"), GLOSSARY)
    assert parsed.deck is not None, [str(p) for p in parsed.problems]
    return parsed.deck


def pairs() -> dict[str, tuple[Flashcard, Flashcard]]:
    cards = {c.id: c for c in load_glossary().cards}
    slugs = {i.split("-", 1)[1] for i in cards}
    return {s: (cards[f"en-{s}"], cards[f"zh-{s}"]) for s in sorted(slugs)}


def english_term(en_front: str) -> str:
    """'learning rate (the optimizer's step size)' -> 'learning rate'."""
    m = re.fullmatch(r"(.+?) \((.+)\)", en_front)
    assert m, en_front
    return m.group(1)


def test_glossary_deck_header():
    deck = load_glossary()
    assert deck.id == "glossary"
    assert deck.name == "Glossary: English ↔ 繁體中文 (zh-TW)"


def test_every_card_is_a_flashcard_with_a_prefixed_id():
    for c in load_glossary().cards:
        assert isinstance(c, Flashcard), c.id
        assert re.fullmatch(r"(en|zh)-[a-z0-9-]+", c.id), c.id


def test_every_term_has_both_directions():
    ids = {c.id for c in load_glossary().cards}
    slugs = {i.split("-", 1)[1] for i in ids}
    for s in slugs:
        assert f"en-{s}" in ids, f"en-{s} missing"
        assert f"zh-{s}" in ids, f"zh-{s} missing"
    assert len(ids) == 2 * len(slugs)
    assert 35 <= len(slugs) <= 50  # about 40 terms


def test_the_two_cards_of_a_term_are_mutual():
    for slug, (en, zh) in pairs().items():
        term = english_term(en.front)
        # the English card answers with the zh-TW term first, the zh card with the English term
        assert en.back.splitlines()[0].startswith(zh.front), slug
        assert zh.back.splitlines()[0].startswith(term), slug
        assert zh.front in en.back, slug
        assert term in zh.back, slug
        assert en.tags == zh.tags, slug
        assert en.source == zh.source, slug


def test_english_fronts_give_a_short_context():
    for slug, (en, _) in pairs().items():
        context = re.fullmatch(r"(.+?) \((.+)\)", en.front).group(2)
        assert 3 <= len(context.split()) <= 8, (slug, context)


def test_zh_fronts_are_chinese_terms():
    for slug, (_, zh) in pairs().items():
        assert re.fullmatch(r"[\u4e00-\u9fff]+", zh.front), (slug, zh.front)


def test_every_english_card_compares_with_mainland_usage():
    for slug, (en, _) in pairs().items():
        assert "mainland" in en.back.lower(), slug


def test_every_source_names_a_reference_in_the_header():
    text = GLOSSARY.read_text(encoding="utf-8")
    header = " ".join(
        line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")
    )
    assert "References (each card's `source` names the one it follows):" in header
    for ref in REFERENCES:
        assert ref in header, ref
    for c in load_glossary().cards:
        assert c.source and any(ref in c.source for ref in REFERENCES), (c.id, c.source)


@pytest.mark.parametrize("path", [GLOSSARY, OVERLAY], ids=lambda p: p.name)
def test_no_simplified_only_characters(path):
    text = path.read_text(encoding="utf-8")
    found = sorted({ch for ch in text if ch in SIMPLIFIED_ONLY})
    assert not found, f"{path.name} has simplified characters: {''.join(found)}"


def test_simplified_list_really_is_simplified_only():
    # Guard against a typo putting a traditional character in the list (it would then
    # wrongly forbid correct text): none of these may appear in the traditional forms the
    # decks rely on.
    traditional = "歸總門絡數層練這為們個過說時會學習權計確規則維變網導陣鏈測驗類貝處優設進應"
    assert not set(traditional) & set(SIMPLIFIED_ONLY)
    assert len(set(SIMPLIFIED_ONLY)) == len(SIMPLIFIED_ONLY)


def test_overlay_is_utf8_yaml_for_the_backprop_deck():
    data = yaml.safe_load(OVERLAY.read_text(encoding="utf-8"))
    assert data["overlay"] == "backprop"
    assert data["language"] == "zh-TW"
