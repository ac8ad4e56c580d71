"""Check the text of one deck file and build its `Deck`, reporting every problem at once.

Pure: text in, `Deck` and `Problem`s out; no disk, no printing. The YAML is composed into
nodes (not constructed into Python objects) so that every value keeps its line number and
duplicate mapping keys, which PyYAML would silently merge, can be reported.

Scalars given where text is expected are read as their source text: `choices: [0.5, 1]`
gives the choices "0.5" and "1", and `front: no` stays "no" (not YAML 1.1's `False`).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from quizforge.controls import visible
from quizforge.decks.model import (
    CARD_TYPES,
    GENERATED_FORMS,
    LETTERS,
    MCQ,
    Card,
    Deck,
    Flashcard,
    MAX_POINTS,
    MIN_POINTS,
    ExplainCard,
    FormulaCard,
    GeneratedCard,
    Problem,
    generator_forms,
    known_generators,
)

try:  # libyaml is several times faster; the pure-Python parser gives the same nodes
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
_ID_RE = re.compile(ID_PATTERN)

DECK_FIELDS = ("deck", "name", "description", "tags", "cards")
DECK_REQUIRED = ("deck", "name", "cards")
CARD_FIELDS = {
    "flashcard": ("id", "type", "front", "back", "tags", "hint", "explanation", "source"),
    "mcq": (
        "id", "type", "question", "choices", "answer", "explanation", "tags", "hint", "source",
        "shuffle",
    ),
    "generated": ("id", "type", "generator", "difficulty", "form", "prompt", "tags", "source"),
    "formula": (
        "id", "type", "question", "answer", "variables", "domain", "mistakes", "explanation",
        "tags", "source",
    ),
    "explain": (
        "id", "type", "question", "points", "follow_up", "hint", "explanation", "tags", "source",
    ),
}
CARD_REQUIRED = {
    "flashcard": ("id", "front", "back"),
    "mcq": ("id", "question", "choices", "answer"),
    "generated": ("id", "generator"),
    "formula": ("id", "question", "answer", "variables"),
    "explain": ("id", "question", "points"),
}
MISTAKE_FIELDS = ("answer", "message")
# What one card (or the deck's header) may hold, so that no file makes the checks slow:
# they are linear in what they read, and these bound what each field can make them read.
MAX_TEXT = 5_000  # characters of one text field, choice, point, tag or formula
MAX_TAGS = 50  # tags of one card or deck
MAX_MISTAKES = 20  # mistakes of one formula card (each is compared with the others)
MAX_VARIABLES = 10  # variables of one formula card
# What YAML aliases (*name) repeat is checked once per repetition: it may weigh at most as
# much as the file's own nodes, or ALIAS_BUDGET_MIN when that is more. A node weighs
# NODE_WEIGHT plus the characters of its text.
ALIAS_BUDGET_MIN = 200_000
NODE_WEIGHT = 16
SHOWN_CHARS = 60  # of a value quoted in a message
# What may be an alias: `*` at the start of a node, then a name. Text such as "a *b" matches
# too (the file is then walked for nothing); no alias can fail to match.
_ALIAS = re.compile(r"(?<![^\s\[{,])\*[^\s\[\]{},]")
SUGGESTIONS_MAX = 100  # did-you-means per file (each costs a fuzzy match over the options)
MIN_CHOICES, MAX_CHOICES = 2, len(LETTERS)
DIFFICULTIES = (1, 2, 3)

_NULL = "tag:yaml.org,2002:null"
_SCALAR_KINDS = {
    "tag:yaml.org,2002:str": "a string",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:timestamp": "a date",
    _NULL: "null",
}
_int_constructor = yaml.constructor.SafeConstructor()


@dataclass
class ParsedDeck:
    """What one file gave: the deck if it has no problems, and its id even if it has some."""

    path: Path
    deck: Deck | None = None
    problems: list[Problem] = field(default_factory=list)
    deck_id: str | None = None  # for the cross-file duplicate check
    deck_id_line: int = 0


def parse_deck(text: str, path: Path) -> ParsedDeck:
    """Check one deck file's text; `deck` is set only when there are no problems."""
    checker = _Checker(path)
    root = checker.compose(text)
    if root is not None:
        checker.deck(root)
    result = checker.result
    result.problems.sort(key=lambda p: p.line)  # stable: same-line problems keep their order
    if result.problems:
        result.deck = None
    return result


def did_you_mean(word: str, options: Sequence[str]) -> str | None:
    """The closest of `options` to `word`, if any is close (difflib's 0.6 ratio)."""
    close = difflib.get_close_matches(word.lower(), options, n=1)
    return close[0] if close else None


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _kind(node: Node) -> str:
    """'a string', 'a list', ... for messages like "must be text, got a list"."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _SCALAR_KINDS.get(node.tag, "a string")


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


def _suggest_id(bad: str) -> str:
    fixed = re.sub(r"[^a-z0-9]+", "-", bad.lower()).strip("-")
    return f" (try '{fixed}')" if fixed and _ID_RE.match(fixed) else ""


def _short(value: str) -> str:
    """A value as quoted in a message: visible, and cut to SHOWN_CHARS characters."""
    value = visible(value)
    return value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 1] + "…"


def _alias_weights(root: Node) -> tuple[int, int] | None:
    """(own, expanded) weight of the document: each node counted once, and once per place
    it appears (an alias repeats its node there); None when an alias refers to a node that
    contains it. Linear in the nodes: each node's expanded weight is computed once."""
    expanded: dict[int, int] = {}
    open_nodes: set[int] = set()
    own = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if isinstance(node, ScalarNode):
            if key not in expanded:
                expanded[key] = NODE_WEIGHT + len(node.value)
                own += expanded[key]
            continue
        children = (
            [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
        )
        if children_done:
            expanded[key] = NODE_WEIGHT + sum(expanded[id(c)] for c in children)
            open_nodes.discard(key)
            own += NODE_WEIGHT
        elif key in open_nodes:
            return None  # an ancestor: `&a [*a]`
        elif key not in expanded:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children))
    return own, expanded[id(root)]


def _letter_range(n: int) -> str:
    return f"a-{LETTERS[n - 1]}"


class _Bad:
    """A value that had a problem (already reported)."""


BAD = _Bad()
# Which card types have each field, for "unknown field 'choices' ... (only mcq cards have it)".
_OWNERS = {
    name: " and ".join(t for t in CARD_TYPES if name in CARD_FIELDS[t])
    for name in dict.fromkeys(f for t in CARD_TYPES for f in CARD_FIELDS[t])
}
# Fields of one mapping: name -> (key node, value node), first occurrence wins.
Fields = dict[str, tuple[Node, Node]]


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.result = ParsedDeck(path)
        self.suggestions = SUGGESTIONS_MAX

    def suggest(self, word: str, options: Sequence[str]) -> str | None:
        """`did_you_mean`, for the file's first SUGGESTIONS_MAX unknown words."""
        if len(word) > SHOWN_CHARS or self.suggestions <= 0:
            return None
        self.suggestions -= 1
        return did_you_mean(word, options)

    def add(self, line: int, message: str) -> None:
        self.result.problems.append(Problem(self.path, line, message))

    # -- YAML ------------------------------------------------------------------------

    def compose(self, text: str) -> Node | None:
        try:
            root = yaml.compose(text, Loader=_YamlLoader)
        except yaml.MarkedYAMLError as e:
            self.add(*_yaml_error(e, text))
            return None
        except yaml.reader.ReaderError as e:
            # Only raised for characters YAML forbids; `position` counts characters.
            line = text.count("\n", 0, e.position) + 1
            code = ord(e.character) if isinstance(e.character, str) else e.character
            self.add(line, f"invalid YAML: unacceptable character #x{code:04x}")
            return None
        except yaml.YAMLError as e:  # pragma: no cover - no other kind is known
            self.add(1, f"invalid YAML: {e}")
            return None
        except RecursionError:  # the pure-Python composer recurses once per nesting level
            self.add(1, "invalid YAML: nested too deeply")
            return None
        if root is None:
            self.add(1, "deck file is empty")
            return None
        if "&" not in text or not _ALIAS.search(text):
            return root  # no alias, nothing repeated: most decks
        weights = _alias_weights(root)
        if weights is None:
            self.add(1, "invalid YAML: an alias (*name) refers to a node that contains it")
            return None
        own, expanded = weights
        budget = max(own, ALIAS_BUDGET_MIN)
        if expanded - own > budget:
            self.add(1, f"aliases (*name) repeat too much: {expanded - own:,} units of text "
                        f"more to check, over this file's budget of {budget:,} (as much as "
                        f"the file's own text, or {ALIAS_BUDGET_MIN:,})")
            return None
        return root

    def fields(self, node: MappingNode) -> Fields:
        """The mapping's entries by name, reporting duplicate and non-text keys."""
        out: Fields = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.add(_line(key), f"field names must be text, got {_kind(key)}")
                continue
            if key.tag == "tag:yaml.org,2002:merge":
                self.add(_line(key), "merge keys ('<<') are not supported")
                continue
            name = key.value
            if name in out:
                first = _line(out[name][0])
                self.add(_line(key), f"duplicate key '{_short(name)}' (first at line {first})")
                continue
            out[name] = (key, value)
        return out

    # -- values ----------------------------------------------------------------------

    def text(self, fields: Fields, name: str, required: bool) -> str | None | _Bad:
        """A text field: None if absent, null or blank and not required."""
        if name not in fields:
            return None  # a missing required field is reported once, by the caller
        key, node = fields[name]
        if not isinstance(node, ScalarNode):
            self.add(_line(node), f"'{name}' must be text, got {_kind(node)}")
            return BAD
        value = "" if node.tag == _NULL else node.value.strip()
        if not value:
            if required:
                self.add(_line(key), f"required field '{name}' is empty")
                return BAD
            return None
        if self.too_long(node, f"'{name}'", value):
            return BAD
        return visible(value)

    def too_long(self, node: Node, what: str, value: str) -> bool:
        """Report a text longer than MAX_TEXT characters."""
        if len(value) <= MAX_TEXT:
            return False
        self.add(_line(node), f"{what} is too long: {len(value):,} characters (at most "
                              f"{MAX_TEXT:,})")
        return True

    def too_many(self, node: SequenceNode, what: str, limit: int) -> bool:
        """Report a list of more than `limit` items (nothing in it is checked then)."""
        if len(node.value) <= limit:
            return False
        self.add(_line(node), f"{what} has {len(node.value):,} items (at most {limit:,})")
        return True

    def ident(self, fields: Fields, name: str, what: str) -> str | None | _Bad:
        value = self.text(fields, name, required=True)
        if isinstance(value, str) and not _ID_RE.match(value):
            line = _line(fields[name][1])
            self.add(
                line,
                f"invalid {what} id '{_short(value)}': use only a-z, 0-9 and "
                f"'-'{_suggest_id(value[:SHOWN_CHARS])}",
            )
            return BAD
        return value

    def tags(self, fields: Fields) -> tuple[str, ...] | _Bad:
        if "tags" not in fields or _is_null(fields["tags"][1]):
            return ()
        node = fields["tags"][1]
        if not isinstance(node, SequenceNode):
            self.add(_line(node), f"'tags' must be a list of strings, got {_kind(node)}")
            return BAD
        if self.too_many(node, "'tags'", MAX_TAGS):
            return BAD
        tags: dict[str, None] = {}  # ordered, and a repeat is found at once
        ok = True
        for i, item in enumerate(node.value, 1):
            if not isinstance(item, ScalarNode):
                self.add(_line(item), f"tag #{i} must be text, got {_kind(item)}")
                ok = False
            elif item.tag == _NULL or not item.value.strip():
                self.add(_line(item), f"tag #{i} is empty")
                ok = False
            elif self.too_long(item, f"tag #{i}", item.value.strip()):
                ok = False
            else:
                tags[visible(item.value.strip())] = None
        return tuple(tags) if ok else BAD

    def choices(self, fields: Fields) -> tuple[str, ...] | _Bad | None:
        if "choices" not in fields:
            return None
        key, node = fields["choices"]
        if _is_null(node) or (isinstance(node, SequenceNode) and not node.value):
            self.add(_line(key), "required field 'choices' is empty")
            return BAD
        if not isinstance(node, SequenceNode):
            self.add(_line(node), f"'choices' must be a list of strings, got {_kind(node)}")
            return BAD
        n = len(node.value)
        if n < MIN_CHOICES:
            self.add(_line(node), f"'choices' must have at least {MIN_CHOICES} choices, got {n}")
        elif n > MAX_CHOICES:
            self.add(_line(node), f"'choices' must have at most {MAX_CHOICES} choices, got {n:,}")
            return BAD
        choices: list[str] = []
        first_at: dict[str, int] = {}
        ok = MIN_CHOICES <= n <= MAX_CHOICES
        for i, item in enumerate(node.value):
            label = f"choice {LETTERS[i]}" if i < len(LETTERS) else f"choice #{i + 1}"
            if not isinstance(item, ScalarNode):
                self.add(_line(item), f"{label} must be text, got {_kind(item)}")
                ok = False
                continue
            value = "" if item.tag == _NULL else item.value.strip()
            if not value:
                self.add(_line(item), f"{label} is empty")
                ok = False
                continue
            if self.too_long(item, label, value):
                ok = False
                continue
            value = visible(value)
            if value in first_at:
                first = LETTERS[first_at[value]]
                self.add(
                    _line(item),
                    f"duplicate choice '{_short(value)}' (choices {first} and {LETTERS[i]})",
                )
                ok = False
            else:
                first_at[value] = i
            choices.append(value)
        return tuple(choices) if ok else BAD

    def answer(self, fields: Fields, n_choices: int | None) -> tuple[int, ...] | _Bad | None:
        """Letters to indices; `n_choices` is None when the choices are unusable."""
        if "answer" not in fields:
            return None
        key, node = fields["answer"]
        if _is_null(node) or (isinstance(node, SequenceNode) and not node.value):
            self.add(_line(key), "required field 'answer' is empty")
            return BAD
        if isinstance(node, MappingNode):
            self.add(_line(node), "'answer' must be a letter or a list of letters, got a mapping")
            return BAD
        items = node.value if isinstance(node, SequenceNode) else [node]
        span = f" ({_letter_range(n_choices)})" if n_choices else ""
        indices: list[int] = []
        ok = True
        for item in items:
            if not isinstance(item, ScalarNode):
                self.add(
                    _line(item),
                    f"'answer' must be a letter or a list of letters, "
                    f"got {_kind(item)} in the list",
                )
                ok = False
                continue
            raw = item.value.strip()
            letter = raw.lower()
            if len(letter) != 1 or letter not in LETTERS:
                hint = " (write [a, c] for several)" if "," in raw else span
                self.add(_line(item), f"answer '{_short(raw)}' is not a choice letter{hint}")
                ok = False
                continue
            index = LETTERS.index(letter)
            if n_choices is not None and index >= n_choices:
                self.add(
                    _line(item),
                    f"answer '{raw}' is out of range: card has {n_choices} choices{span}",
                )
                ok = False
            elif index in indices:
                self.add(_line(item), f"answer '{raw}' is given twice")
                ok = False
            else:
                indices.append(index)
        return tuple(indices) if ok else BAD

    def one_of(
        self,
        fields: Fields,
        name: str,
        options: Sequence[str],
        what: str,
        required: bool,
        where: str = "",
    ) -> str | None | _Bad:
        value = self.text(fields, name, required)
        if isinstance(value, str) and value not in options:
            close = self.suggest(value, options)
            hint = f"did you mean '{close}'?" if close else f"expected one of {', '.join(options)}"
            where = f" {where}" if where else ""
            self.add(_line(fields[name][1]), f"unknown {what} '{_short(value)}'{where} ({hint})")
            return BAD
        return value

    def boolean(self, fields: Fields, name: str, default: bool) -> bool | _Bad:
        if name not in fields or _is_null(fields[name][1]):
            return default
        node = fields[name][1]
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return node.value.lower() in ("true", "yes", "on", "y")
        got = f"'{_short(node.value)}'" if isinstance(node, ScalarNode) else _kind(node)
        self.add(_line(node), f"'{name}' must be true or false, got {got}")
        return BAD

    def difficulty(self, fields: Fields) -> int | _Bad:
        if "difficulty" not in fields or _is_null(fields["difficulty"][1]):
            return 1
        node = fields["difficulty"][1]
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:int":
            value = _int_constructor.construct_yaml_int(node)
            if value in DIFFICULTIES:
                return value
            got = str(value)
        else:
            got = _kind(node)
        self.add(_line(node), f"'difficulty' must be 1, 2 or 3, got {got}")
        return BAD

    def unknown_fields(
        self, fields: Fields, allowed: Sequence[str], where: str, elsewhere: dict[str, str]
    ) -> None:
        for name, (key, _) in fields.items():
            if name in allowed:
                continue
            close = self.suggest(name, allowed)
            if close:
                hint = f" (did you mean '{close}'?)"
            elif name in elsewhere:
                hint = f" (only {elsewhere[name]} cards have it)"
            else:
                hint = ""
            self.add(_line(key), f"unknown field '{_short(name)}' {where}{hint}")

    def missing(self, fields: Fields, required: Sequence[str], line: int, where: str) -> None:
        for name in required:
            if name not in fields:
                self.add(line, f"missing required field '{name}' {where}")

    # -- the deck --------------------------------------------------------------------

    def deck(self, root: Node) -> None:
        if not isinstance(root, MappingNode):
            self.add(
                _line(root),
                f"deck file must be a mapping with 'deck', 'name' and 'cards', got {_kind(root)}",
            )
            return
        fields = self.fields(root)
        self.unknown_fields(fields, DECK_FIELDS, "at top level", {})
        self.missing(fields, DECK_REQUIRED, _line(root), "at top level")
        deck_id = self.ident(fields, "deck", "deck")
        if isinstance(deck_id, str):
            self.result.deck_id = deck_id
            self.result.deck_id_line = _line(fields["deck"][1])
        name = self.text(fields, "name", required=True)
        description = self.text(fields, "description", required=False)
        tags = self.tags(fields)
        cards = self.cards(fields)
        if self.result.problems:
            return
        assert isinstance(deck_id, str) and isinstance(name, str) and isinstance(tags, tuple)
        assert isinstance(cards, tuple)
        self.result.deck = Deck(
            id=deck_id,
            name=name,
            cards=cards,
            path=self.path,
            description=description if isinstance(description, str) else "",
            tags=tags,
        )

    def cards(self, fields: Fields) -> tuple[Card, ...] | _Bad | None:
        if "cards" not in fields:
            return None
        key, node = fields["cards"]
        if _is_null(node) or (isinstance(node, SequenceNode) and not node.value):
            self.add(_line(key), "required field 'cards' is empty")
            return BAD
        if not isinstance(node, SequenceNode):
            self.add(_line(node), f"'cards' must be a list of cards, got {_kind(node)}")
            return BAD
        cards: list[Card] = []
        first_id_line: dict[str, int] = {}
        for number, item in enumerate(node.value, 1):
            card = self.card(item, number, first_id_line)
            if card is not None:
                cards.append(card)
        return tuple(cards)

    def card(self, node: Node, number: int, first_id_line: dict[str, int]) -> Card | None:
        if not isinstance(node, MappingNode):
            self.add(_line(node), f"card #{number} must be a mapping, got {_kind(node)}")
            return None
        before = len(self.result.problems)
        line = _line(node)
        fields = self.fields(node)
        card_id = self.ident(fields, "id", "card")
        id_node = fields.get("id", (None, node))[1]
        raw_id = (_short(id_node.value.strip()) if isinstance(id_node, ScalarNode)
                  and "id" in fields else "")
        where = f"in card '{raw_id}'" if raw_id else f"in card #{number}"
        if isinstance(card_id, str):
            if card_id in first_id_line:
                self.add(
                    _line(id_node),
                    f"duplicate card id '{card_id}' (first at line {first_id_line[card_id]})",
                )
            else:
                first_id_line[card_id] = _line(id_node)

        card_type = self.card_type(fields, where, line)
        if card_type is None:
            return None
        self.unknown_fields(fields, CARD_FIELDS[card_type], where, _OWNERS)
        self.missing(fields, CARD_REQUIRED[card_type], line, where)
        common = {
            "id": card_id,
            "tags": self.tags(fields),
            "source": self.text(fields, "source", required=False),
            "line": line,
        }
        build = {"flashcard": self.flashcard, "mcq": self.mcq, "generated": self.generated,
                 "formula": self.formula, "explain": self.explain}
        values = build[card_type](fields)
        if card_type == "formula":
            self.formulas(raw_id or f"#{number}", values, fields)
        if len(self.result.problems) > before:
            return None
        cls = {"flashcard": Flashcard, "mcq": MCQ, "generated": GeneratedCard,
               "formula": FormulaCard, "explain": ExplainCard}[card_type]
        card = cls(**common, **values)
        if isinstance(card, MCQ):
            # imported here: only an MCQ is linted (a deck of flashcards, as an import
            # writes, never compiles lint's regexes)
            from quizforge.decks.lint import card_errors

            for name, message in card_errors(card):
                self.add(_line(fields[name][1]), message)
            if len(self.result.problems) > before:
                return None
        return card

    def flashcard(self, fields: Fields) -> dict[str, Any]:
        return {
            "front": self.text(fields, "front", required=True),
            "back": self.text(fields, "back", required=True),
            "hint": self.text(fields, "hint", required=False),
            "explanation": self.text(fields, "explanation", required=False),
        }

    def mcq(self, fields: Fields) -> dict[str, Any]:
        question = self.text(fields, "question", required=True)
        choices = self.choices(fields)
        # The answer's range can be checked whenever the number of choices is sound,
        # even if a choice itself has a problem.
        node = fields["choices"][1] if "choices" in fields else None
        n_choices = None
        if isinstance(node, SequenceNode) and MIN_CHOICES <= len(node.value) <= MAX_CHOICES:
            n_choices = len(node.value)
        return {
            "question": question,
            "choices": choices,
            "answer": self.answer(fields, n_choices),
            "explanation": self.text(fields, "explanation", required=False),
            "hint": self.text(fields, "hint", required=False),
            # A list, even of one letter, is a select-all question.
            "select_all": "answer" in fields and isinstance(fields["answer"][1], SequenceNode),
            "shuffle": self.boolean(fields, "shuffle", default=True),
        }

    def generated(self, fields: Fields) -> dict[str, Any]:
        form = self.one_of(fields, "form", GENERATED_FORMS, "form", required=False)
        generator = self.one_of(
            fields, "generator", known_generators(), "generator", required=True
        )
        if isinstance(generator, str) and isinstance(form, str):
            allowed = generator_forms(generator)
            if form not in allowed:
                self.add(_line(fields["form"][1]), f"{generator} problems have no form '{form}' "
                         f"(forms: {', '.join(allowed)})")
                form = BAD
        return {
            "generator": generator,
            "difficulty": self.difficulty(fields),
            "form": form or "number",
            "prompt": self.text(fields, "prompt", required=False),
        }

    def formula(self, fields: Fields) -> dict[str, Any]:
        variables = self.variables(fields)
        return {
            "question": self.text(fields, "question", required=True),
            "answer": self.text(fields, "answer", required=True),
            "variables": variables,
            "domain": self.domain(fields, variables),
            "mistakes": self.mistakes(fields),
            "explanation": self.text(fields, "explanation", required=False),
        }

    def explain(self, fields: Fields) -> dict[str, Any]:
        return {
            "question": self.text(fields, "question", required=True),
            "points": self.points(fields),
            "follow_up": self.text(fields, "follow_up", required=False),
            "hint": self.text(fields, "hint", required=False),
            "explanation": self.text(fields, "explanation", required=False),
        }

    def points(self, fields: Fields) -> tuple[str, ...] | _Bad | None:
        """An explain card's rubric: MIN_POINTS to MAX_POINTS distinct, non-empty lines."""
        if "points" not in fields:
            return None
        key, node = fields["points"]
        if _is_null(node) or (isinstance(node, SequenceNode) and not node.value):
            self.add(_line(key), "required field 'points' is empty")
            return BAD
        if not isinstance(node, SequenceNode):
            self.add(_line(node), f"'points' must be a list of strings, got {_kind(node)}")
            return BAD
        n = len(node.value)
        ok = MIN_POINTS <= n <= MAX_POINTS
        if not ok:
            self.add(_line(node), f"'points' must have {MIN_POINTS} to {MAX_POINTS} points, "
                                  f"got {n:,}")
            if n > MAX_POINTS:
                return BAD
        points: list[str] = []
        first_at: dict[str, int] = {}
        for i, item in enumerate(node.value, 1):
            if not isinstance(item, ScalarNode):
                self.add(_line(item), f"point {i} must be text, got {_kind(item)}")
                ok = False
                continue
            value = "" if item.tag == _NULL else item.value.strip()
            if not value:
                self.add(_line(item), f"point {i} is empty")
                ok = False
                continue
            if self.too_long(item, f"point {i}", value):
                ok = False
                continue
            value = visible(value)
            if value in first_at:
                self.add(_line(item), f"duplicate point '{_short(value)}' (points {first_at[value]} "
                                      f"and {i})")
                ok = False
            else:
                first_at[value] = i
            points.append(value)
        return tuple(points) if ok else BAD

    def variables(self, fields: Fields) -> tuple[str, ...] | _Bad | None:
        from quizforge.decks.formula import variable_problem

        if "variables" not in fields:
            return None
        key, node = fields["variables"]
        if _is_null(node) or (isinstance(node, SequenceNode) and not node.value):
            self.add(_line(key), "required field 'variables' is empty")
            return BAD
        if not isinstance(node, SequenceNode):
            self.add(_line(node), f"'variables' must be a list of names such as [z] or [x, w], "
                                  f"got {_kind(node)}")
            return BAD
        if self.too_many(node, "'variables'", MAX_VARIABLES):
            return BAD
        names: list[str] = []
        ok = True
        for i, item in enumerate(node.value, 1):
            if not isinstance(item, ScalarNode) or _is_null(item):
                got = "null" if _is_null(item) else _kind(item)
                self.add(_line(item), f"variable #{i} must be a name, got {got}")
                ok = False
                continue
            name = item.value.strip()
            why = variable_problem(name)
            if why:
                self.add(_line(item), f"variable '{_short(name)}' cannot be used: {why}")
                ok = False
            elif name.lower() in (n.lower() for n in names):
                self.add(_line(item), f"variable '{name}' is declared twice (names are read "
                                      "without regard to case)")
                ok = False
            else:
                names.append(name)
        return tuple(names) if ok else BAD

    def domain(self, fields: Fields, variables: Any) -> tuple[tuple[str, float, float], ...] | _Bad:
        if "domain" not in fields or _is_null(fields["domain"][1]):
            return ()
        node = fields["domain"][1]
        if not isinstance(node, MappingNode):
            self.add(_line(node), "'domain' must map variables to ranges, e.g. {p: [0.05, 0.95]}, "
                                  f"got {_kind(node)}")
            return BAD
        out: list[tuple[str, float, float]] = []
        ok = True
        for name, (key, value) in self.fields(node).items():
            if isinstance(variables, tuple) and name not in variables:
                self.add(_line(key), f"'domain' names '{_short(name)}', which is not one of the card's "
                                     f"variables ({', '.join(variables)})")
                ok = False
                continue
            bounds = self.bounds(value)
            if bounds is None:
                self.add(_line(value), f"the domain of '{_short(name)}' must be [low, high] with two "
                                       "numbers, low < high")
                ok = False
                continue
            out.append((name, *bounds))
        return tuple(out) if ok else BAD

    @staticmethod
    def bounds(node: Node) -> tuple[float, float] | None:
        if not isinstance(node, SequenceNode) or len(node.value) != 2:
            return None
        numbers = []
        for item in node.value:
            if not isinstance(item, ScalarNode) or item.tag not in (
                "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
            ):
                return None
            try:
                numbers.append(float(item.value.replace("_", "")))
            except ValueError:  # .inf, .nan are floats to YAML, not bounds here
                return None
        lo, hi = numbers
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            return None
        return lo, hi

    def mistakes(self, fields: Fields) -> tuple[tuple[str, str], ...] | _Bad:
        if "mistakes" not in fields or _is_null(fields["mistakes"][1]):
            return ()
        node = fields["mistakes"][1]
        if not isinstance(node, SequenceNode):
            self.add(_line(node), "'mistakes' must be a list of {answer, message} entries, got "
                                  f"{_kind(node)}")
            return BAD
        if self.too_many(node, "'mistakes'", MAX_MISTAKES):
            return BAD
        out: list[tuple[str, str]] = []
        ok = True
        for i, item in enumerate(node.value, 1):
            where = f"in mistake #{i}"
            if not isinstance(item, MappingNode):
                self.add(_line(item), f"mistake #{i} must be a mapping with 'answer' and "
                                      f"'message', got {_kind(item)}")
                ok = False
                continue
            entry = self.fields(item)
            self.unknown_fields(entry, MISTAKE_FIELDS, where, {})
            self.missing(entry, MISTAKE_FIELDS, _line(item), where)
            answer = self.text(entry, "answer", required=True)
            message = self.text(entry, "message", required=True)
            if isinstance(answer, str) and isinstance(message, str):
                out.append((answer, message))
            else:
                ok = False
        return tuple(out) if ok else BAD

    def formulas(self, card_id: str, values: dict[str, Any], fields: Fields) -> None:
        """The card's answer and each mistake must be formulas in its variables; the answer
        must be defined across its domain, and no mistake may equal it there. Checked
        whenever the answer and the variables are sound, even if other fields are not."""
        from quizforge.decks.formula import (
            SCREEN_KEYS,
            agree,
            check_points,
            read_formula,
            values_at,
        )
        from quizforge.drill.errors import AnswerRejected

        text, variables, domain = values["answer"], values["variables"], values["domain"]
        if not isinstance(text, str) or not isinstance(variables, tuple):
            return
        if text.lower() in SCREEN_KEYS:
            self.add(_line(fields["answer"][1]), f"answer '{text}' of card '{card_id}' cannot be "
                     "typed: on the study screen a lone q, u or s quits, undoes or suspends")
            return
        names = ", ".join(variables)
        try:
            answer = read_formula(text, variables)
        except AnswerRejected as e:
            self.add(_line(fields["answer"][1]), f"answer '{text}' of card '{card_id}' is not "
                     f"a formula in {names}: {e.reason}")
            answer = None
        want: list[float] = []
        if answer is not None and isinstance(domain, tuple):
            points = check_points(FormulaCard(card_id, "", text, variables, domain))
            want = values_at(answer.tree, points)
            bad = next((p for p, v in zip(points, want, strict=True) if math.isnan(v)), None)
            if bad is not None:
                at = ", ".join(f"{k} = {v:.3g}" for k, v in bad.items())
                self.add(_line(fields["answer"][1]), f"answer '{text}' of card '{card_id}' is "
                         f"undefined at {at}: give 'domain' ranges where it is defined")
                want = []
        node = fields["mistakes"][1] if "mistakes" in fields else None
        if not isinstance(node, SequenceNode) or len(node.value) > MAX_MISTAKES:
            node = None  # too many: reported by `mistakes`, and not compared pairwise
        seen: list[tuple[str, list[float]]] = []
        for item in node.value if node is not None else ():
            if not isinstance(item, MappingNode):
                continue
            entry = {k.value: v for k, v in item.value if isinstance(k, ScalarNode)}
            slip_node = entry.get("answer")
            if not isinstance(slip_node, ScalarNode) or not slip_node.value.strip():
                continue  # reported by `mistakes`
            formula = slip_node.value.strip()
            if len(formula) > MAX_TEXT:
                continue  # reported by `mistakes`
            formula = visible(formula)
            try:
                slip = read_formula(formula, variables)
            except AnswerRejected as e:
                self.add(_line(slip_node), f"mistake '{formula}' of card '{card_id}' is not a "
                                           f"formula in {names}: {e.reason}")
                continue
            if not want:
                continue
            got = values_at(slip.tree, points)
            if agree(got, want):
                self.add(_line(slip_node), f"mistake '{formula}' of card '{card_id}' equals "
                         f"its answer '{text}', so a right answer would be called a mistake")
                continue
            same = next((f for f, v in seen if agree(got, v)), None)
            if same is not None:
                self.add(_line(slip_node), f"mistake '{formula}' of card '{card_id}' equals "
                         f"mistake '{same}' across the domain, so its message is never shown")
            seen.append((formula, got))

    def card_type(self, fields: Fields, where: str, line: int) -> str | None:
        """The card's type, or None (reported) when it is unknown or clearly missing."""
        if "type" not in fields:
            # Without this, an MCQ that forgot its type gets a flashcard's five messages.
            # The type whose own fields the card has most of is named (mcq on a tie).
            if not {"front", "back"} & fields.keys():
                best, most = None, 0
                for other in ("mcq", "generated", "formula", "explain"):
                    own = set(CARD_FIELDS[other]) - set(CARD_FIELDS["flashcard"])
                    if len(own & fields.keys()) > most:
                        best, most = other, len(own & fields.keys())
                if best:
                    self.add(line, f"missing field 'type' {where} (add 'type: {best}')")
                    return None
            return "flashcard"
        value = self.one_of(fields, "type", CARD_TYPES, "card type", required=True, where=where)
        if not isinstance(value, str):
            return None
        return value


def _yaml_error(e: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """Line and message for a YAML syntax error; libyaml and pure-Python PyYAML word
    most errors differently, so only the common ones are reworded."""
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark else 1
    problem = (e.problem or "syntax error").rstrip(".")
    if mark:
        lines = text.splitlines()
        at = lines[mark.line][mark.column : mark.column + 1] if mark.line < len(lines) else ""
        if at == "\t" or "tab character" in problem:
            return line, "invalid YAML: tab character (indent with spaces)"
    if problem.startswith("mapping values are not allowed"):
        return line, "invalid YAML: ': ' inside a value (put the text in quotes)"
    if e.context and "single document" in e.context:
        return line, "invalid YAML: found a second document (one deck per file)"
    context = ""
    if e.context and e.context_mark and mark and e.context_mark.line != mark.line:
        context = f" ({e.context} at line {e.context_mark.line + 1})"
    return line, f"invalid YAML: {problem}{context}"
