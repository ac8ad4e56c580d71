"""Anki notes to flashcards, shared by the package and the text-export readers.

A note type's cards are read from its templates: the front is the fields the question
template shows, the back the first other field the answer template shows; every other
non-empty field is kept in the card's `explanation`, one ``Field: text`` paragraph each
(the deck format's place for text shown after the answer).

Cloze notes give one card per cloze number, as Anki does: the front is the text with that
number's deletions hidden (``[...]``, or ``[hint]`` when the deletion has one) and the other
deletions shown; the back is the hidden text. Skipping them would drop what is often most of
a deck, and a blank in a sentence reads the same in the terminal as in Anki.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from quizforge.importing.ids import UniqueIds, with_suffix
from quizforge.importing.model import AnkiCardState, Imported, ImportedCard

CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_REF = re.compile(r"\{\{([^}#/^!][^}]*)\}\}")
_CLOZE_REF = re.compile(r"\{\{(?:[^}:]*:)*cloze:([^}]+)\}\}")
_LI = re.compile(r"<li>(.*?)</li>", re.DOTALL)
_BOLD = re.compile(r"<b>(.*?)</b>", re.DOTALL)
# quizforge's own MCQ note type (quizforge.decks.anki), read back as MCQ cards.
MCQ_TYPE = "quizforge MCQ"
MCQ_FIELDS = ("Question", "Choices", "Answer", "Explanation")
BASIC_TYPE = "quizforge Basic"
BASIC_FIELDS = ("Front", "Back")
_DRILL = re.compile(r"Practise fresh problems: run <code>quizforge drill ([a-z0-9-]+) -d (\d)"
                    r"(?: --form ([a-z-]+))?</code>")
_HEADING = re.compile(r"(.*)<br><small>[a-z0-9-]+ · difficulty \d", re.DOTALL)
_SPECIAL = {"FrontSide", "Tags", "Deck", "Subdeck", "Card", "CardFlag", "Type"}

Convert = Callable[[str], tuple[str, list[str]]]  # field HTML -> (text, images)


@dataclass(frozen=True)
class Template:
    qfmt: str
    afmt: str


@dataclass(frozen=True)
class NoteType:
    name: str
    fields: tuple[str, ...]
    templates: tuple[Template, ...]
    cloze: bool


@lru_cache(maxsize=1024)  # one call per template and note: the same few templates
def referenced(fmt: str, fields: tuple[str, ...], typed: bool = True) -> tuple[str, ...]:
    """Field names a template shows, in order (`{{Front}}`, `{{text:Back}}`, `{{cloze:Text}}`);
    `typed=False` leaves out `{{type:Field}}` (an answer box, not text on the question)."""
    out: list[str] = []
    for ref in _REF.findall(fmt):
        parts = [p.strip() for p in ref.split(":")]
        name = parts[-1]
        if not typed and "type" in parts[:-1]:
            continue
        if name in fields and name not in _SPECIAL and name not in out:
            out.append(name)
    return tuple(out)


_SECTION = re.compile(r"\{\{[#^]([^}]+)\}\}")


@lru_cache(maxsize=256)
def control_fields(kind: NoteType) -> frozenset[str]:
    """Fields a note type only tests (`{{#Add Reverse}}...{{/Add Reverse}}`) and never shows:
    switches, not content, so they are not copied into the card."""
    tested = {name.strip() for t in kind.templates for fmt in (t.qfmt, t.afmt)
              for name in _SECTION.findall(fmt)}
    shown = {f for t in kind.templates for fmt in (t.qfmt, t.afmt)
             for f in referenced(fmt, kind.fields)}
    return frozenset(tested - shown)


@lru_cache(maxsize=256)
def _layout(kind: NoteType, ord_: int) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """Card `ord_` of a note type: the fields on its front, those on its back (the ones its
    answer template shows, then the rest), and the switches (`control_fields`). The same
    for every note of the type: worked out once."""
    template = kind.templates[ord_]
    front_fields = list(referenced(template.qfmt, kind.fields, typed=False))
    if not front_fields:
        front_fields = list(kind.fields[:1])
    back_fields = [f for f in referenced(template.afmt, kind.fields) if f not in front_fields]
    back_fields += [f for f in kind.fields if f not in front_fields + back_fields]
    return tuple(front_fields), tuple(back_fields), control_fields(kind)


def cloze_numbers(text: str) -> list[int]:
    return sorted({int(n) for n, _, _ in CLOZE.findall(text)})


def cloze_sides(text: str, number: int) -> tuple[str, str]:
    """(front, back) of cloze card `number`, still in the field's markup."""
    answers: list[str] = []

    def hide(m: re.Match) -> str:
        if int(m.group(1)) != number:
            return m.group(2)
        answers.append(m.group(2))
        return f"[{m.group(3)}]" if m.group(3) else "[...]"

    front = CLOZE.sub(hide, text)
    return front, " … ".join(answers)


class NoteCards:
    """Collects a source's notes as cards, with ids unique in the deck."""

    def __init__(self, result: Imported, convert: Convert) -> None:
        self.result = result
        self.convert = convert
        self.ids = UniqueIds()
        self._texts: dict[str, str] = {}  # field -> text, for fields without images

    def text(self, source: str) -> str:
        text = self._texts.get(source)
        if text is not None:  # the same field seen before (a shared back, a note's
            return text       # fields on its reverse card): converted once
        text, images = self.convert(source)
        if images:
            self.result.images.update(i for i in images if i)
        elif len(self._texts) < 100_000:
            self._texts[source] = text
        return text

    def add(self, base_id: str, front_src: str, back_src: str, extra: list[tuple[str, str]],
            tags: Sequence[str], anki: AnkiCardState | None = None) -> ImportedCard | None:
        front, back = self.text(front_src), self.text(back_src)
        if not front:
            self.result.skipped["empty front"] += 1
            return None
        if not back:
            self.result.skipped["empty back"] += 1
            return None
        explanation = None
        if extra:
            notes = []
            for name, value in extra:
                value = self.text(value)
                if value:
                    notes.append(f"{name}: {value}" if name else value)
            explanation = "\n\n".join(notes) or None
        card = ImportedCard(self.ids.take(base_id), front, back, explanation, tuple(tags), anki)
        self.result.cards.append(card)
        return card

    def note(self, base_id: str, kind: NoteType, values: Sequence[str], tags: Sequence[str],
             ords: Sequence[int] | None = None,
             states: dict[int, AnkiCardState] | None = None) -> None:
        """The cards of one note. `ords`: the card ordinals it has (from a package's cards
        table); None works them out from the fields, as Anki would on import."""
        by_name = dict(zip(kind.fields, values, strict=False))
        states = states or {}
        if kind.name == MCQ_TYPE and kind.fields == MCQ_FIELDS \
                and self._mcq(base_id, by_name, tags, states.get(0)):
            return
        if kind.name == BASIC_TYPE and kind.fields == BASIC_FIELDS \
                and self._generated(base_id, by_name, tags, states.get(0)):
            return
        if kind.cloze:
            self._cloze(base_id, kind, by_name, tags, ords, states)
            return
        if ords is None:
            ords = [i for i, t in enumerate(kind.templates)
                    if any(by_name.get(f, "").strip()
                           for f in referenced(t.qfmt, kind.fields, typed=False))]
        get = by_name.get
        for ord_ in ords:
            if ord_ >= len(kind.templates):
                self.result.skipped["card without a template"] += 1
                continue
            front_fields, back_fields, switches = _layout(kind, ord_)
            front = "<br>".join([v for v in [get(f, "") for f in front_fields] if v.strip()])
            back_name = back = None
            for f in back_fields:  # the first back field with text
                back = get(f, "")
                if back.strip():
                    back_name = f
                    break
            extra = [(f, get(f, "")) for f in back_fields
                     if f != back_name and f not in switches]
            self.add(with_suffix(base_id, "t", ord_ + 1), front,
                     back if back_name else "", extra, tags, states.get(ord_))

    def _mcq(self, base_id: str, by_name: dict[str, str], tags: Sequence[str],
             anki: AnkiCardState | None) -> bool:
        """A note of quizforge's own MCQ type (`quizforge export anki`) back as an MCQ card:
        the choices are the Choices field's list items, the right ones those the Answer field
        names. False (read it as any note) when the fields are not as quizforge writes them."""
        question = self.text(by_name["Question"])
        choices = [self.text(c) for c in _LI.findall(by_name["Choices"])]
        answer_html = by_name["Answer"]
        named = _LI.findall(answer_html) if "<ul>" in answer_html else _BOLD.findall(answer_html)
        right = [self.text(r) for r in named]
        if not question or len(choices) < 2 or len(set(choices)) != len(choices) or not right \
                or any(r not in choices for r in right):
            return False
        answer = tuple(sorted(choices.index(r) for r in right))
        card = ImportedCard(self.ids.take(with_suffix(base_id, "t", 1)), question,
                            "", self.text(by_name["Explanation"]) or None, tuple(tags), anki,
                            choices=tuple(choices), answer=answer,
                            shuffle="data-shuffle" in by_name["Choices"])
        self.result.cards.append(card)
        return True

    def _generated(self, base_id: str, by_name: dict[str, str], tags: Sequence[str],
                   anki: AnkiCardState | None) -> bool:
        """A generated card quizforge exported (a heading, and a back naming the `quizforge
        drill` command) back as a generated card, when this quizforge has that family."""
        command = _DRILL.match(by_name["Back"])
        heading = _HEADING.match(by_name["Front"])
        if command is None or heading is None:
            return False
        from quizforge.drill.family import names

        family, difficulty, form = command.group(1), int(command.group(2)), command.group(3)
        if family not in names():
            return False
        card = ImportedCard(self.ids.take(with_suffix(base_id, "t", 1)),
                            self.text(heading.group(1)), "", None, tuple(tags), anki,
                            generated=(family, difficulty, form or "number"))
        self.result.cards.append(card)
        return True

    def _cloze(self, base_id: str, kind: NoteType, by_name: dict[str, str],
               tags: Sequence[str], ords: Sequence[int] | None,
               states: dict[int, AnkiCardState]) -> None:
        cloze_fields = [f for t in kind.templates for f in _CLOZE_REF.findall(t.qfmt)
                        if f in kind.fields] or list(kind.fields[:1])
        cloze_fields = list(dict.fromkeys(cloze_fields))
        text = "\n".join(by_name.get(f, "") for f in cloze_fields)
        if "image-occlusion:" in text:
            self.result.skipped["image occlusion"] += max(1, len(cloze_numbers(text)))
            return
        extra = [(f, v) for f, v in by_name.items() if f not in cloze_fields]
        numbers = cloze_numbers(text) if ords is None else [o + 1 for o in ords]
        if not numbers:
            self.result.skipped["cloze note without deletions"] += 1
            return
        for n in numbers:
            front, back = cloze_sides(text, n)
            self.add(with_suffix(base_id, "c", n), front, back, extra, tags, states.get(n - 1))
