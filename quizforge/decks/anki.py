"""Decks to an Anki package (.apkg), with genanki.

Exporting again updates the same notes in Anki instead of adding copies: a note's GUID comes
from its deck id and card id, each Anki deck's id from a hash of the deck id, and the note
types' ids are constants. Card text is HTML-escaped and its Unicode math kept as it is.

- flashcard: Basic (front / back, then the explanation)
- mcq: its own note type; the front shuffles the choices with a little JavaScript (unless the
  card says `shuffle: false`), the back names the right choices by content, not by letter
  (letters mean nothing once shuffled), then the explanation
- formula: Basic, the question on the front, the answer formula and explanation on the back
- explain: Basic, the question on the front; on the back the rubric's points as a list,
  then the follow-up question and the explanation
- generated: Basic, the family and difficulty on the front; on the back the `quizforge drill`
  command to practise it and one worked example (a problem made from a seed fixed per card)
"""

from __future__ import annotations

import hashlib
import html
import zlib
from collections.abc import Sequence
from pathlib import Path

import genanki

from quizforge.decks.model import (
    MCQ,
    Card,
    Deck,
    ExplainCard,
    Flashcard,
    FormulaCard,
    GeneratedCard,
    card_tags,
)
from quizforge.errors import DeckError, QuizforgeError

# Fixed ids: Anki knows a note type by its id, so these must never change.
BASIC_MODEL_ID = 1_738_245_001
MCQ_MODEL_ID = 1_738_245_002

CSS = """.card { font-family: sans-serif; font-size: 20px; text-align: left; }
.qf-explanation { margin-top: 1em; color: #555; }
.qf-choices li { margin: .3em 0; }
pre { white-space: pre-wrap; }"""

BASIC_MODEL = genanki.Model(
    BASIC_MODEL_ID,
    "quizforge Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{
        "name": "Card 1",
        "qfmt": "{{Front}}",
        "afmt": '{{FrontSide}}<hr id="answer">{{Back}}',
    }],
    css=CSS,
)

# The shuffle runs again on the back (FrontSide): harmless, the back names the key by content.
_SHUFFLE = """<script>
(function () {
  document.querySelectorAll('ul.qf-choices[data-shuffle]').forEach(function (list) {
    var items = Array.prototype.slice.call(list.children);
    for (var i = items.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1));
      var t = items[i]; items[i] = items[j]; items[j] = t;
    }
    items.forEach(function (li) { list.appendChild(li); });
  });
})();
</script>"""

MCQ_MODEL = genanki.Model(
    MCQ_MODEL_ID,
    "quizforge MCQ",
    fields=[{"name": "Question"}, {"name": "Choices"}, {"name": "Answer"}, {"name": "Explanation"}],
    templates=[{
        "name": "Card 1",
        "qfmt": "{{Question}}{{Choices}}" + _SHUFFLE,
        "afmt": '{{FrontSide}}<hr id="answer">{{Answer}}'
                '{{#Explanation}}<div class="qf-explanation">{{Explanation}}</div>{{/Explanation}}',
    }],
    css=CSS,
)


def anki_deck_id(deck_id: str) -> int:
    """A stable Anki deck id for a quizforge deck id (Anki wants a positive 63-bit integer;
    genanki's own examples stay in [2^30, 2^31))."""
    digest = int.from_bytes(hashlib.sha256(deck_id.encode()).digest()[:8], "big")
    return (1 << 30) + digest % (1 << 30)


def note_guid(deck_id: str, card_id: str) -> str:
    return genanki.guid_for(deck_id, card_id)


def select_decks(decks: Sequence[Deck], ids: Sequence[str] = ()) -> list[Deck]:
    """The decks named in `ids` (all of them when it is empty); unknown ids are one DeckError."""
    if not ids:
        return list(decks)
    known = {d.id: d for d in decks}
    unknown = [i for i in ids if i not in known]
    if unknown:
        listed = ", ".join(known) or "none"
        raise DeckError(f"no deck with id {', '.join(map(repr, unknown))} (decks: {listed})")
    return [known[i] for i in dict.fromkeys(ids)]


def build_package(decks: Sequence[Deck]) -> genanki.Package:
    """One Anki deck per quizforge deck, one note per card."""
    anki_decks = []
    for deck in decks:
        anki_deck = genanki.Deck(anki_deck_id(deck.id), f"quizforge::{deck.name}",
                                 description=_text(deck.description))
        for card in deck.cards:
            anki_deck.add_note(card_note(deck.id, card, card_tags(deck, card)))
        anki_decks.append(anki_deck)
    return genanki.Package(anki_decks)


def note_count(package: genanki.Package) -> int:
    return sum(len(d.notes) for d in package.decks)


def write_package(package: genanki.Package, path: Path, timestamp: float | None = None) -> None:
    """Write the .apkg; a path that cannot be written is a QuizforgeError."""
    try:
        package.write_to_file(str(path), timestamp=timestamp)
    except OSError as e:
        raise QuizforgeError(f"cannot write {path}: {e.strerror or e}") from None


def card_note(deck_id: str, card: Card, tags: Sequence[str] | None = None) -> genanki.Note:
    """The card's note; `tags` are the ones it is filed under (its own and its deck's,
    `card_tags`), the card's own when not given."""
    guid = note_guid(deck_id, card.id)
    tags = list(dict.fromkeys(t.replace(" ", "-") for t in (card.tags if tags is None else tags)))
    if isinstance(card, MCQ):
        return genanki.Note(model=MCQ_MODEL, fields=list(mcq_fields(card)), tags=tags, guid=guid)
    return genanki.Note(model=BASIC_MODEL, fields=list(basic_fields(deck_id, card)),
                        tags=tags, guid=guid)


def mcq_fields(card: MCQ) -> tuple[str, str, str, str]:
    shuffle = " data-shuffle" if card.shuffle else ""
    items = "".join(f"<li>{_text(c)}</li>" for c in card.choices)
    choices = f'<ul class="qf-choices"{shuffle}>{items}</ul>'
    right = [_text(card.choices[i]) for i in card.answer]
    if card.multi:
        answer = "Right answers:<ul>" + "".join(f"<li>{r}</li>" for r in right) + "</ul>"
    else:
        answer = f"Right answer: <b>{right[0]}</b>"
    return _text(card.question), choices, answer, _text(card.explanation or "")


def basic_fields(
    deck_id: str, card: Flashcard | FormulaCard | GeneratedCard | ExplainCard
) -> tuple[str, str]:
    if isinstance(card, ExplainCard):
        back = "Key points:<ul>" + "".join(f"<li>{_text(p)}</li>" for p in card.points) + "</ul>"
        if card.follow_up:
            back += f"Follow-up: {_text(card.follow_up)}"
        return _text(card.question), back + _explanation(card.explanation)
    if isinstance(card, Flashcard):
        return _text(card.front), _text(card.back) + _explanation(card.explanation)
    if isinstance(card, FormulaCard):
        variables = ", ".join(card.variables)
        front = _text(card.question) + f"<br><small>in {_text(variables)}</small>"
        return front, f"<b>{_text(card.answer)}</b>" + _explanation(card.explanation)
    return _generated_fields(deck_id, card)


def _generated_fields(deck_id: str, card: GeneratedCard) -> tuple[str, str]:
    from quizforge.drill.family import generate, get

    family = get(card.generator)
    level = family.levels.get(card.difficulty, "")
    heading = card.prompt or family.summary
    front = (f"{_text(heading)}<br><small>{_text(card.generator)} · difficulty "
             f"{card.difficulty}: {_text(level)}</small>")
    command = f"quizforge drill {card.generator} -d {card.difficulty}"
    if card.form != "number":
        command += f" --form {card.form}"
    # A seed fixed per card: the same example on every export, different across cards.
    seed = zlib.crc32(f"{deck_id}/{card.id}".encode()) % 10_000
    problem = generate(card.generator, seed, card.difficulty, card.form)
    back = (f"Practise fresh problems: run <code>{_text(command)}</code>"
            f"<br><br>Example (seed {seed}):<pre>{html.escape(problem.prompt(), quote=False)}</pre>"
            f"Answer: <pre>{html.escape(problem.expected_text(), quote=False)}</pre>")
    return front, back


def _explanation(text: str | None) -> str:
    return f'<div class="qf-explanation">{_text(text)}</div>' if text else ""


def _text(text: str) -> str:
    """Deck text as Anki HTML: escaped, line breaks kept, Unicode as it is."""
    return html.escape(text.strip(), quote=False).replace("\n", "<br>")
