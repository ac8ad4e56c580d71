"""Translation overlays: a deck's cards in another language, by card id.

`backprop.zh-TW.yaml` beside `backprop.yaml` holds, for some or all of the deck's cards, the
text a learner reads (front, back, question, choices, explanation, hint, a generated card's
prompt, a formula card's mistake messages, an explain card's points and follow-up) in one language. It changes nothing else: ids,
types, tags, answers, formulas and sources come from the deck, so a card has one schedule
whatever the language it is shown in, and a card with no entry is shown in English.

Each entry may carry `of:`, a stamp of the English text it translates (`stamp`): when the
English card changes, `validate` warns that the translation is stale and prints the new stamp.

Pure: text in, overlays and problems out; `apply` gives translated copies of cards.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from quizforge.controls import visible
from quizforge.decks.language import (  # noqa: F401  (also this module's API)
    DEFAULT_LANGUAGE,
    LANGUAGE,
    OVERLAY_FILE,
    is_overlay_file,
    language_problem,
)
from quizforge.decks.model import (
    MCQ,
    Card,
    Deck,
    ExplainCard,
    FormulaCard,
    LazyCards,
    Problem,
)

# `<deck id>.<language>.yaml`: a BCP 47-style tag (zh-TW, ja, pt-BR) between two dots.

# What an overlay may translate, per card type: text fields, then list fields (same count
# and order as the card's: an MCQ's choices, a formula card's mistake messages).
TEXT_FIELDS = {
    "flashcard": ("front", "back", "hint", "explanation"),
    "mcq": ("question", "explanation", "hint"),
    "formula": ("question", "explanation"),
    "generated": ("prompt",),
    "explain": ("question", "follow_up", "hint", "explanation"),
}
LIST_FIELDS = {"flashcard": (), "mcq": ("choices",), "formula": ("mistakes",), "generated": (),
               "explain": ("points",)}
ENTRY_FIELDS = ("id", "of", *dict.fromkeys(
    f for t in TEXT_FIELDS for f in (*TEXT_FIELDS[t], *LIST_FIELDS[t])))
TOP_FIELDS = ("overlay", "language", "cards")
# An overlay's list has as many items as the card's (at most 26 choices, 20 mistakes, 6
# points): anything longer is refused before it is read.
MAX_LIST_ITEMS = 26
SUGGESTIONS_MAX = 20  # unknown card ids per overlay given a did-you-mean

# A choice named by letter or position in Chinese prose: 選項 b, 答案是 c, 第一個選項, 最後一項.
# Each run of spaces is read one way only (`\s*x?\s*` would try every split of a long one).
_ZH_POSITION = re.compile(
    r"(?:選項|答案(?:是|為)?|選)\s*(?:[(（]\s*)?[a-zA-Z]\s*[)）]?(?![a-zA-Z])"
    r"|第\s*[一二三四五六1-6]\s*(?:(?:個|項)\s*)?(?:選項|答案|項)"
    r"|最後\s*(?:一\s*)?(?:個\s*)?(?:選項|項)"
    r"|以上皆(?:是|非)"
)


def _texts(card: Card) -> dict[str, object]:
    """The English text an overlay may translate, by field (absent fields left out)."""
    out: dict[str, object] = {}
    for name in TEXT_FIELDS[card.type]:
        value = getattr(card, name, None)
        if value is not None:
            out[name] = value
    if isinstance(card, MCQ):
        out["choices"] = list(card.choices)
    elif isinstance(card, FormulaCard) and card.mistakes:
        out["mistakes"] = [message for _, message in card.mistakes]
    elif isinstance(card, ExplainCard):
        out["points"] = list(card.points)
    return out


def stamp(card: Card) -> str:
    """Eight hex digits that change when the English text an overlay translates changes."""
    data = json.dumps(_texts(card), ensure_ascii=False, sort_keys=True).encode()
    return hashlib.blake2b(data, digest_size=4).hexdigest()


@dataclass(frozen=True)
class Entry:
    id: str
    line: int
    texts: tuple[tuple[str, str], ...]  # (field, text)
    lists: tuple[tuple[str, tuple[str, ...]], ...]  # (field, items)
    of: str | None = None

    def fields(self) -> dict[str, object]:
        return {**dict(self.texts), **{k: list(v) for k, v in self.lists}}


@dataclass(frozen=True)
class Overlay:
    deck: str
    language: str
    path: Path
    entries: tuple[Entry, ...]
    deck_line: int = 1

    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}


@dataclass
class ParsedOverlay:
    path: Path
    overlay: Overlay | None = None
    problems: list[Problem] = field(default_factory=list)


def parse_overlay(text: str, path: Path) -> ParsedOverlay:
    """Check an overlay file's form (not yet against its deck: `check_overlay`)."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    from quizforge.decks.validate import _Checker, _is_null, _kind, _line

    checker = _Checker(path)
    result = ParsedOverlay(path)
    problems = checker.result.problems

    def add(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    root = checker.compose(text)
    name = OVERLAY_FILE.match(path.name)
    if root is None:
        result.problems = problems
        return result
    if not isinstance(root, MappingNode):
        add(_line(root), f"an overlay must be a mapping with {', '.join(TOP_FIELDS)}, "
                         f"got {_kind(root)}")
        result.problems = problems
        return result
    top = checker.fields(root)
    checker.unknown_fields(top, TOP_FIELDS, "at top level", {})
    checker.missing(top, TOP_FIELDS, _line(root), "at top level")
    deck_id = checker.ident(top, "overlay", "deck")
    language = checker.text(top, "language", required=True)
    if isinstance(language, str) and (problem := language_problem(language)):
        add(_line(top["language"][1]), problem)
    if name is not None:
        if isinstance(deck_id, str) and deck_id != name["deck"]:
            add(_line(top["overlay"][1]), f"overlay of deck '{deck_id}' in a file named for "
                                          f"'{name['deck']}': name it {deck_id}.{name['lang']}.yaml")
        if isinstance(language, str) and language != name["lang"]:
            add(_line(top["language"][1]), f"language '{language}' in a file named for "
                                           f"'{name['lang']}'")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    cards = top.get("cards", (None, None))[1]
    if cards is not None and not isinstance(cards, SequenceNode):
        add(_line(cards), f"'cards' must be a list of entries, got {_kind(cards)}")
    for node in cards.value if isinstance(cards, SequenceNode) else ():
        if not isinstance(node, MappingNode):
            add(_line(node), f"an overlay entry must be a mapping, got {_kind(node)}")
            continue
        fields = checker.fields(node)
        checker.unknown_fields(fields, ENTRY_FIELDS, "in overlay entry", {})
        checker.missing(fields, ("id",), _line(node), "in overlay entry")
        card_id = checker.ident(fields, "id", "card")
        of = checker.text(fields, "of", required=False)
        texts: list[tuple[str, str]] = []
        lists: list[tuple[str, tuple[str, ...]]] = []
        for fname, (key, value) in fields.items():
            if fname in ("id", "of") or fname not in ENTRY_FIELDS:
                continue
            if fname in ("choices", "mistakes", "points"):
                if not isinstance(value, SequenceNode) or not all(
                        isinstance(i, ScalarNode) and not _is_null(i) and i.value.strip()
                        for i in value.value):
                    add(_line(value), f"'{fname}' must be a list of non-empty texts")
                    continue
                if checker.too_many(value, f"'{fname}'", MAX_LIST_ITEMS) or any(
                        checker.too_long(i, f"item {n} of '{fname}'", i.value.strip())
                        for n, i in enumerate(value.value, 1)):
                    continue
                lists.append((fname, tuple(visible(i.value.strip()) for i in value.value)))
            else:
                got = checker.text(fields, fname, required=True)
                if isinstance(got, str):
                    texts.append((fname, got))
        if not isinstance(card_id, str):
            continue
        if card_id in seen:
            add(_line(node), f"duplicate entry for card '{card_id}' (first at line {seen[card_id]})")
            continue
        seen[card_id] = _line(node)
        entries.append(Entry(card_id, _line(node), tuple(texts), tuple(lists),
                             of if isinstance(of, str) else None))
    result.problems = sorted(problems, key=lambda p: p.line)
    if not result.problems and isinstance(deck_id, str) and isinstance(language, str):
        result.overlay = Overlay(deck_id, language, path, tuple(entries),
                                 _line(top["overlay"][1]))
    return result


def read_overlay(path: Path) -> ParsedOverlay:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        return ParsedOverlay(path, problems=[Problem(path, 0, f"cannot read file: {e.strerror}")])
    except UnicodeDecodeError:
        return ParsedOverlay(path, problems=[Problem(path, 0, "file is not valid UTF-8")])
    return parse_overlay(text, path)


def check_overlay(overlay: Overlay, deck: Deck | None) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) of an overlay against the deck it translates.

    Problems: an id the deck does not have, a field the card does not have (in English), a
    different number of choices or mistakes, a choice named by letter or position. Warnings
    (`validate --strict` fails on them): an entry whose card changed since it was translated
    (its `of:` stamp differs), or one with no stamp."""
    from quizforge.decks.lint import position_references
    from quizforge.decks.validate import did_you_mean

    path = overlay.path
    if deck is None:
        return [Problem(path, overlay.deck_line,
                        f"no deck '{overlay.deck}' on the search path for this overlay")], []
    cards = {c.id: c for c in deck.cards}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    suggestions = SUGGESTIONS_MAX
    for entry in overlay.entries:
        card = cards.get(entry.id)
        if card is None:
            # Each suggestion reads every card id: only the first few unknown ids get one.
            close = did_you_mean(entry.id, list(cards)) if suggestions > 0 else None
            suggestions -= 1
            hint = f" (did you mean '{close}'?)" if close else ""
            problems.append(Problem(path, entry.line,
                                    f"deck '{deck.id}' has no card '{entry.id}'{hint}"))
            continue
        english = _texts(card)
        for name, value in entry.fields().items():
            if name not in english:
                problems.append(Problem(path, entry.line, (
                    f"'{name}' of card '{entry.id}': the {card.type} card has no {name} "
                    "to translate")))
            elif isinstance(value, list) and len(value) != len(english[name]):
                problems.append(Problem(path, entry.line, (
                    f"'{name}' of card '{entry.id}' has {len(value)} items, the card has "
                    f"{len(english[name])}: keep the same count and order")))
        if isinstance(card, MCQ):
            translated = dict(entry.lists).get("choices", card.choices)
            if len(set(translated)) != len(translated):
                problems.append(Problem(path, entry.line,
                                        f"two choices of card '{entry.id}' read the same"))
            if card.shuffle:
                for name in ("explanation", "hint"):
                    text = dict(entry.texts).get(name)
                    if not text:
                        continue
                    refs = position_references(text, len(card.choices), card.choices)
                    refs += [m.group(0) for m in _ZH_POSITION.finditer(text)]
                    if refs:
                        quoted = ", ".join(f"'{r}'" for r in refs)
                        problems.append(Problem(path, entry.line, (
                            f"'{name}' of card '{entry.id}' refers to a choice by letter or "
                            f"position ({quoted}), but choices are shuffled on screen: name "
                            "the choice by its content")))
        now = stamp(card)
        if entry.of is None:
            warnings.append(Problem(path, entry.line, (
                f"warning: entry '{entry.id}' has no stamp of the English it translates: "
                f"add 'of: {now}' so that a later change to the card is noticed")))
        elif entry.of != now:
            warnings.append(Problem(path, entry.line, (
                f"warning: card '{entry.id}' changed since it was translated: update the "
                f"translation, then set 'of: {now}'")))
    return problems, warnings


def translate(card: Card, entry: Entry) -> Card:
    """The card with the entry's text in place of the English (the rest is the card's)."""
    changes: dict[str, object] = {name: text for name, text in entry.texts
                                  if getattr(card, name, None) is not None}
    lists = dict(entry.lists)
    if isinstance(card, MCQ) and len(lists.get("choices", ())) == len(card.choices):
        changes["choices"] = lists["choices"]
    if isinstance(card, FormulaCard) and len(lists.get("mistakes", ())) == len(card.mistakes):
        changes["mistakes"] = tuple((formula, message) for (formula, _), message
                                    in zip(card.mistakes, lists["mistakes"], strict=True))
    if isinstance(card, ExplainCard) and len(lists.get("points", ())) == len(card.points):
        changes["points"] = lists["points"]
    return replace(card, **changes) if changes else card


def apply(deck: Deck, overlay: Overlay) -> Deck:
    """The deck shown through the overlay: the same ids, types, tags and fingerprint (so the
    store sees the same cards), the translated text where an entry exists."""
    entries = overlay.by_id()

    def build(cards: Sequence[Card]) -> tuple[Card, ...]:
        return tuple(translate(c, entries[c.id]) if c.id in entries else c for c in cards)

    original = deck.cards
    if isinstance(original, LazyCards):
        cards: tuple[Card, ...] | LazyCards = LazyCards(
            original.index, original.fingerprint, lambda: build(original))
    else:
        cards = build(original)
    return replace(deck, cards=cards)


def overlay_files(paths: Iterable[Path], language: str | None = None) -> list[Path]:
    """Overlay files in `paths` (folders, or files given directly), of `language` if given."""
    out: list[Path] = []
    for path in map(Path, paths):
        found = sorted(path.iterdir()) if path.is_dir() else [path] if path.is_file() else []
        for p in found:
            m = OVERLAY_FILE.match(p.name)
            if m and p.is_file() and not p.name.startswith(".") and (
                    language is None or m["lang"] == language):
                out.append(p)
    return out


def with_language(decks: Sequence[Deck], paths: Iterable[Path],
                  language: str) -> tuple[list[Deck], list[Problem]]:
    """`decks` shown in `language` where an overlay on `paths` translates them, and the
    problems of the overlays read (a broken overlay is left out: its deck stays English)."""
    if language == DEFAULT_LANGUAGE:
        return list(decks), []
    by_deck: dict[str, Overlay] = {}
    problems: list[Problem] = []
    for path in overlay_files(paths, language):
        parsed = read_overlay(path)
        problems += parsed.problems
        if parsed.overlay is not None:
            by_deck.setdefault(parsed.overlay.deck, parsed.overlay)
    return [apply(d, by_deck[d.id]) if d.id in by_deck else d for d in decks], problems


@dataclass
class OverlayCheck:
    files: int = 0
    entries: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def check_overlay_files(paths: Sequence[Path], decks: Sequence[Deck],
                        more_decks: Callable[[], Sequence[Deck]] = tuple) -> OverlayCheck:
    """Read every overlay in `paths` and check it against its deck, found among `decks` or
    else among `more_decks()` (the search path, read only when some overlay needs it)."""
    out = OverlayCheck()
    by_id = {d.id: d for d in decks}
    for path in paths:
        parsed = read_overlay(path)
        out.files += 1
        out.problems += parsed.problems
        if parsed.overlay is None:
            continue
        if parsed.overlay.deck not in by_id:
            for d in more_decks():
                by_id.setdefault(d.id, d)
        problems, warnings = check_overlay(parsed.overlay, by_id.get(parsed.overlay.deck))
        out.entries += len(parsed.overlay.entries)
        out.problems += problems
        out.warnings += warnings
    return out
