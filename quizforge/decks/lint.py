"""Lint: what makes a deck mislead or give its answers away, beyond being well-formed.

Pure: cards in, messages out. Two kinds:

* an error, per MCQ: its explanation or hint names a choice by letter or position
  ("choice c", "option (b)", "the first option"). Choices are shuffled on screen, so the
  letter the author meant is not the one the learner saw. A card with `shuffle: false`
  keeps its order and may do so.
* warnings, per deck (`quizforge validate --strict` makes them fail): every select-all
  card has all but one choice right; the key is the longest choice in more than 40% of
  the single-answer prose MCQs (at least 5 of them); two cards are built on the same
  numbers (a worked example reused, so the answer is remembered rather than computed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import combinations

from quizforge.decks.model import LETTERS, MCQ, Card, Deck, Flashcard, Problem

LONGEST_KEY_LIMIT = 0.40  # warn above this share of single-answer MCQs
LONGEST_KEY_MIN_CARDS = 5  # below this many, a long key or two is chance, not a habit
# Only prose choices count: among "4", "8", "12", "28" the longest says nothing.
PROSE_MIN_CHARS = 20  # a card is prose when its longest choice is at least this long
SHARED_NUMBERS_MIN = 3  # distinct numbers a prompt must have to count as a worked example
# A prompt's first SHARED_NUMBERS_MAX distinct numbers stand for it in that check: it looks
# up each subset of them (at most 219 of eight), so a deck is checked in time linear in its
# cards rather than comparing every pair (`_shared_numbers_warnings`).
SHARED_NUMBERS_MAX = 8

# -- letter and position references ------------------------------------------------------

_WORDS = r"(?:choices?|options?|answers?|alternatives?)"
# A letter as a choice label: "(b)", "b)", or a bare letter not part of a word.
_LETTER = r"(?:\(\s*([a-z])\s*\)|([a-z])\)|([a-z])(?![\w'’]))"
# "choice c", "option (b)", "answer: a)", "the answer is d", "choices a and c". Every
# pattern here reads a run of spaces in one way only: `\s*\s*` would try each split of it
# at each start in it, cubic in a run of blank lines.
_KEYWORD_LETTER = re.compile(
    rf"\b{_WORDS}(?:\s*:\s*|\s+is\s+|\s*){_LETTER}"
    rf"((?:\s*(?:,|and|or|/)\s*{_LETTER})*)",
    re.IGNORECASE,
)
# "(b, d)", "(a/c)", "(c)"; not "f(x)", where a letter is a variable of a function.
_PAREN_LETTERS = re.compile(
    r"(?<![\w)\]])\(\s*([a-z])((?:\s*(?:,|and|or|/)\s*[a-z])*)\s*\)", re.IGNORECASE
)
# "c) gives ..." at the start of a sentence or line, as choices are labelled on screen:
# a label whose spaces before it follow the start, a line break or [.;:!?] (`_at_start`).
_LABEL = re.compile(r"(?<!\w)([a-z])\)\s", re.IGNORECASE)
_SENTENCE_END = ".;:!?"
# "so c is false", "b and d are wrong": a list of letters (each list found whole, once),
# then a verdict right after it.
_LETTER_LIST = re.compile(r"(?<![\w'’.−-])([a-z])((?:\s*(?:,|and|or)\s*[a-z])*)", re.IGNORECASE)
_VERDICT = re.compile(
    r"\s+(?:is|are)\s+(?:not\s+)?(?:true|false|right|wrong|correct|incorrect|"
    r"the\s+(?:key|answer))\b",
    re.IGNORECASE,
)
_CLOSES = re.compile(r"\s*(?:[,.;:!?)]|$)")
# "the first option", "the last one", "the second choice", "option #2", "the choice above"
_ORDINALS = r"(?:first|second|third|fourth|fifth|sixth|last|final|penultimate|1st|2nd|3rd|4th)"
_POSITION = re.compile(
    rf"\b(?:the\s+)?{_ORDINALS}\s+(?:{_WORDS}|ones?)\b"
    rf"|\b{_WORDS}\s+(?:#\s*\d+|(?:no\.|number)\s*\d+|above|below)\b"
    r"|\b(?:all|none|both|either|neither)\s+of\s+the\s+(?:above|below)\b",
    re.IGNORECASE,
)
# Words that follow a choice letter used as a subject ("choice a forgets the swap"); after
# "a" the article ("an option a learner picks") a noun follows instead.
_VERBISH = re.compile(
    r"\s+(?:is|was|are|would|will|can|could|does|did|has|had|gives?|gets?|forgets?|"
    r"treats?|uses?|confuses?|inverts?|swaps?|multiplies|divides|adds?|drops?|mixes|"
    r"ignores?|leaves?|describes?|comes?|says?|takes?|assumes?|computes?|applies|"
    r"returns?|misses|keeps?|puts?)\b",
    re.IGNORECASE,
)


def position_references(text: str, n_choices: int, choices: Sequence[str] = ()) -> list[str]:
    """The phrases of `text` that name a choice by its letter or position, in order.

    Only letters that label one of the `n_choices` count ("option x" in a 4-choice card is
    a variable). "a" the article is told from the label "a" by what follows it: a label is
    in parentheses, closed by ")", followed by punctuation or another label, or by a verb.
    """
    labels = set(LETTERS[:n_choices])
    found: list[tuple[int, str]] = []

    def letters_of(groups: Sequence[str | None], tail: str = "") -> list[str]:
        first = next((g for g in groups if g), "")
        rest = re.findall(r"(?<![a-z])[a-z](?![a-z])", tail, re.IGNORECASE)
        return [x.lower() for x in (first, *rest) if x]

    for m in _KEYWORD_LETTER.finditer(text):
        letters = letters_of(m.groups()[:3], m.group(4) or "")
        if not letters or not set(letters) <= labels:
            continue
        paren_or_closed = m.group(1) or m.group(2)
        several = len(letters) > 1
        # "a" alone after the keyword is a label only if punctuation, the end or a verb
        # follows ("choice a forgets", "answer a."), not a noun ("the option a user").
        if (
            letters[0] == "a"
            and not (paren_or_closed or several)
            and not (_CLOSES.match(text, m.end()) or _VERBISH.match(text, m.end()))
        ):
            continue
        found.append((m.start(), m.group(0).strip()))
    for m in _PAREN_LETTERS.finditer(text):
        letters = letters_of([m.group(1)], m.group(2) or "")
        if set(letters) <= labels:
            found.append((m.start(), m.group(0)))
    for m in _LABEL.finditer(text):
        if m.group(1).lower() in labels and _at_start(text, m.start()):
            found.append((m.start(1), m.group(0).strip()))
    for m in _LETTER_LIST.finditer(text):
        verdict = _VERDICT.match(text, m.end())
        if verdict is None:
            continue
        letters = letters_of([m.group(1)], m.group(2) or "")
        if set(letters) <= labels:
            found.append((m.start(), text[m.start() : verdict.end()]))
    for m in _POSITION.finditer(text):
        number = re.search(r"\d+", m.group(0))
        if number and number.group(0) in choices:
            continue  # "option 2" where "2" is itself a choice: a value, not a position
        found.append((m.start(), m.group(0)))
    out = []
    end = -1
    for start, phrase in sorted(found, key=lambda f: (f[0], -len(f[1]))):
        if start >= end:  # inside an earlier match ("(b)" of "option (b)"): the same one
            out.append(" ".join(phrase.split()))
            end = start + len(phrase)
    return out


def _at_start(text: str, i: int) -> bool:
    """Whether only spaces stand between the start of `text`, a line break or one of
    [.;:!?] and position `i`. Each run of spaces is read by the one label after it."""
    j = i
    while j > 0 and text[j - 1].isspace():
        if text[j - 1] == "\n":
            return True
        j -= 1
    return j == 0 or text[j - 1] in _SENTENCE_END


def card_errors(card: MCQ) -> list[tuple[str, str]]:
    """(field, message) for each explanation or hint of a shuffled MCQ that names a
    choice by letter or position."""
    if not card.shuffle:
        return []
    out = []
    for choice in card.choices:
        m = _POSITION.search(choice)
        if m:
            message = (
                f"choice '{choice}' of card '{card.id}' refers to other choices by position "
                f"('{m.group(0)}'), but choices are shuffled on screen: name them, or add "
                f"'shuffle: false'"
            )
            out.append(("choices", message))
    for name in ("explanation", "hint"):
        text = getattr(card, name)
        if not text:
            continue
        refs = position_references(text, len(card.choices), card.choices)
        if refs:
            quoted = ", ".join(f"'{r}'" for r in refs)
            message = (
                f"'{name}' of card '{card.id}' refers to a choice by letter or position "
                f"({quoted}), but choices are shuffled on screen: name the choice by its "
                f"content, or add 'shuffle: false'"
            )
            out.append((name, message))
    return out


# -- deck warnings -----------------------------------------------------------------------


def deck_warnings(deck: Deck) -> list[Problem]:
    """Every warning for one valid deck, each as ``FILE:LINE: warning: …``."""
    mcqs = [c for c in deck.cards if isinstance(c, MCQ)]
    out: list[Problem] = []
    out.extend(_select_all_warning(deck, mcqs))
    out.extend(_longest_key_warning(deck, mcqs))
    out.extend(_shared_numbers_warnings(deck))
    return out


def _warning(deck: Deck, line: int, message: str) -> Problem:
    return Problem(deck.path, line, f"warning: {message}")


def _select_all_warning(deck: Deck, mcqs: list[MCQ]) -> list[Problem]:
    multi = [c for c in mcqs if c.multi]
    if len(multi) < 2 or any(len(c.answer) != len(c.choices) - 1 for c in multi):
        return []
    return [
        _warning(
            deck,
            multi[0].line,
            f"deck '{deck.id}': all {len(multi)} select-all cards have every choice but one "
            f"right, so 'all but one' is a safe guess; vary how many are right (1 to all)",
        )
    ]


def key_is_longest(card: MCQ) -> bool:
    """A single-answer MCQ whose key is strictly longer than every other choice."""
    if card.multi:
        return False
    key = card.answer[0]
    return all(len(card.choices[key]) > len(c) for i, c in enumerate(card.choices) if i != key)


def _longest_key_warning(deck: Deck, mcqs: list[MCQ]) -> list[Problem]:
    single = [c for c in mcqs if not c.multi and max(map(len, c.choices)) >= PROSE_MIN_CHARS]
    longest = [c for c in single if key_is_longest(c)]
    if len(single) < LONGEST_KEY_MIN_CARDS or len(longest) <= LONGEST_KEY_LIMIT * len(single):
        return []
    share = len(longest) / len(single)
    ids = ", ".join(c.id for c in longest[:5]) + (", …" if len(longest) > 5 else "")
    return [
        _warning(
            deck,
            longest[0].line,
            f"deck '{deck.id}': the key is the longest choice in {len(longest)} of {len(single)} "
            f"single-answer prose MCQs ({share:.0%} > {LONGEST_KEY_LIMIT:.0%}), so 'pick the "
            f"longest' pays; write distractors as long as the key ({ids})",
        )
    ]


# A number as written in a prompt: "0.5", "−4", "10"; not the "50" of "ResNet-50" nor the
# "2" of "x2" or "L2" (part of a name); superscripts are not digits here.
_NUMBER = re.compile(r"(?<![\w.])(?<![^\W\d_][−-])[−-]?\d+(?:\.\d+)?(?![\w])")


def prompt_numbers(card: Card, limit: int | None = None) -> frozenset[str]:
    """The distinct numbers in a card's prompt (front or question), normalised; only the
    first `limit` of them when given."""
    if isinstance(card, Flashcard):
        text = card.front
    elif isinstance(card, MCQ):
        text = card.question
    else:
        return frozenset()
    out: dict[str, None] = {}
    for m in _NUMBER.finditer(text):
        out[f"{float(m.group(0).replace('−', '-')) + 0.0:g}"] = None  # + 0.0: "−0" is 0
        if limit is not None and len(out) >= limit:
            break
    return frozenset(out)


def _shared_numbers_warnings(deck: Deck) -> list[Problem]:
    """A card whose prompt's numbers (at least SHARED_NUMBERS_MIN distinct) all appear in
    an earlier card's prompt, or the other way round: one worked example, asked twice. The
    earlier card named is the first such one in the deck.

    Linear in the cards, where comparing every pair was quadratic (143 s for 20,000 cards):
    each card's numbers (its first SHARED_NUMBERS_MAX, as a sorted tuple) have at most 219
    subsets of SHARED_NUMBERS_MIN or more, and one pass in deck order looks each subset S
    of card j's numbers up in two tables, storing nothing per subset:

    * `first[S]`: the first earlier card whose numbers are exactly S, so an earlier card's
      numbers are a subset of card j's;
    * `waiting[S]`: the cards whose numbers are exactly S that have not been matched yet
      (made in a first pass). Card j is the first card, in order, whose numbers contain S,
      so it is the earliest superset of every later card in the list; the list is then
      done with (each card is in one list, taken once)."""
    numbers = [tuple(sorted(prompt_numbers(c, SHARED_NUMBERS_MAX))) for c in deck.cards]
    waiting: dict[tuple[str, ...], list[int]] = {}
    for i, mine in enumerate(numbers):
        if len(mine) >= SHARED_NUMBERS_MIN:
            waiting.setdefault(mine, []).append(i)
    earlier: dict[int, int] = {}  # card -> the first earlier card sharing its numbers
    first: dict[tuple[str, ...], int] = {}
    for j, mine in enumerate(numbers):
        if len(mine) < SHARED_NUMBERS_MIN:
            continue
        for size in range(SHARED_NUMBERS_MIN, len(mine) + 1):
            for subset in combinations(mine, size):
                k = first.get(subset)
                if k is not None and k < earlier.get(j, j):
                    earlier[j] = k  # card k's numbers are a subset of card j's
                for i in waiting.pop(subset, ()):
                    if i > j and j < earlier.get(i, i):
                        earlier[i] = j  # card i's numbers are a subset of card j's
        first.setdefault(mine, j)
    out = []
    for i in sorted(earlier):
        card, other = deck.cards[i], deck.cards[earlier[i]]
        same = ", ".join(sorted(set(numbers[i]) & set(numbers[earlier[i]]), key=float))
        out.append(
            _warning(
                deck,
                card.line,
                f"deck '{deck.id}': card '{card.id}' uses the numbers of card "
                f"'{other.id}' (line {other.line}: {same}), so its answer can be "
                f"remembered rather than worked out; change the numbers",
            )
        )
    return out


def lint_decks(decks: Sequence[Deck]) -> tuple[list[Problem], dict[str, int]]:
    """Every warning of every deck, and how many each deck has (decks with none left out)."""
    warnings: list[Problem] = []
    per_deck: dict[str, int] = {}
    for deck in decks:
        found = deck_warnings(deck)
        if found:
            warnings.extend(found)
            per_deck[deck.id] = len(found)
    return warnings, per_deck


def warnings_summary(per_deck: dict[str, int]) -> str:
    """'3 warnings (backprop 2, mine 1)', or '' when there are none."""
    total = sum(per_deck.values())
    if not total:
        return ""
    decks = ", ".join(f"{deck} {n}" for deck, n in per_deck.items())
    return f"{total} warning{'s' if total != 1 else ''} ({decks})"
