"""Loading deck files: discovery, cross-file checks, the bundled deck, and property tests
(random valid decks round-trip; single mutations give exactly their problem; garbage never
raises)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizforge.decks import load_decks, load_search_path, validate_paths
from quizforge.decks.model import (
    CARD_TYPES,
    LETTERS,
    MCQ,
    ExplainCard,
    Flashcard,
    FormulaCard,
    GeneratedCard,
    Problem,
)
from quizforge.decks.validate import CARD_FIELDS, DECK_FIELDS, parse_deck
from quizforge.errors import DeckError
from quizforge.paths import bundled_decks_dir

GOOD = "deck: {id}\nname: {name}\ncards:\n  - id: c\n    front: F\n    back: B\n"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def good(deck_id: str, name: str = "N") -> str:
    return GOOD.format(id=deck_id, name=name)


# -- finding and reading files ------------------------------------------------------------


def test_a_folder_gives_its_yaml_files_sorted_and_nothing_else(tmp_path):
    d = tmp_path / "decks"
    write(d, "b.yml", good("b"))
    write(d, "a.yaml", good("a"))
    write(d, "notes.txt", "not a deck")
    write(d, ".hidden.yaml", "not: [valid")
    write(d / "sub", "c.yaml", good("c"))  # not recursive
    result = load_decks([d])
    assert result.problems == []
    assert [deck.id for deck in result.decks] == ["a", "b"]
    assert result.files == [d / "a.yaml", d / "b.yml"]
    assert result.decks[0].path == d / "a.yaml"


def test_a_path_may_be_a_file_with_any_name(tmp_path):
    path = write(tmp_path, "deck.txt", good("t"))
    assert [d.id for d in load_decks([path]).decks] == ["t"]


def test_a_file_reached_twice_is_read_once(tmp_path):
    path = write(tmp_path / "d", "a.yaml", good("a"))
    result = load_decks([tmp_path / "d", path])
    assert result.problems == [] and result.files == [path]


def test_bad_files_are_left_out_and_the_others_still_load(tmp_path):
    d = tmp_path / "d"
    write(d, "a.yaml", good("a"))
    bad = write(d, "b.yaml", "deck: b\nname: B\ncards: []\n")
    write(d, "c.yaml", good("c"))
    result = load_decks([d])
    assert [deck.id for deck in result.decks] == ["a", "c"]
    assert result.problems == [Problem(bad, 3, "required field 'cards' is empty")]
    assert str(result.problems[0]) == f"{bad}:3: required field 'cards' is empty"


def test_duplicate_deck_ids_across_files(tmp_path):
    first = write(tmp_path / "one", "x.yaml", good("same", "First"))
    second = write(tmp_path / "two", "y.yaml", good("same", "Second"))
    result = load_decks([tmp_path / "one", tmp_path / "two"])
    assert [d.name for d in result.decks] == ["First"]  # search-path order wins
    assert [str(p) for p in result.problems] == [
        f"{second}:1: duplicate deck id 'same' (also in {first})"
    ]


def test_duplicate_deck_id_is_reported_even_if_the_first_file_is_invalid(tmp_path):
    first = write(tmp_path, "a.yaml", "deck: same\nname: A\ncards:\n")
    second = write(tmp_path, "b.yaml", good("same"))
    result = load_decks([tmp_path])
    assert result.decks == []
    assert [str(p) for p in result.problems] == [
        f"{first}:3: required field 'cards' is empty",
        f"{second}:1: duplicate deck id 'same' (also in {first})",
    ]


def test_missing_path_is_a_problem_without_a_line(tmp_path):
    missing = tmp_path / "nope"
    result = load_decks([missing])
    assert result.problems == [Problem(missing, 0, "no such file or directory")]
    assert str(result.problems[0]) == f"{missing}: no such file or directory"


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"deck: d\nname: caf\xe9\ncards: []\n")
    assert [str(p) for p in load_decks([path]).problems] == [f"{path}:2: file is not valid UTF-8"]


def test_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + good("bom").encode())
    assert [d.id for d in load_decks([path]).decks] == ["bom"]


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, "a.yaml", good("a"))

    def deny(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    assert [str(p) for p in load_decks([path]).problems] == [
        f"{path}: cannot read file: Permission denied"
    ]


def test_validate_paths_names_every_missing_path(tmp_path):
    write(tmp_path, "a.yaml", "deck: a\n")
    assert validate_paths([tmp_path]) == [
        Problem(tmp_path / "a.yaml", 1, "missing required field 'name' at top level"),
        Problem(tmp_path / "a.yaml", 1, "missing required field 'cards' at top level"),
    ]
    with pytest.raises(DeckError) as e:
        validate_paths([tmp_path, Path("no-such.yaml"), Path("nor-this")])
    assert str(e.value) == "no such file or directory: no-such.yaml, nor-this"


# -- the search path and the bundled deck -------------------------------------------------


def test_search_path_is_bundled_then_env_then_extra(tmp_path, monkeypatch):
    write(tmp_path / "env", "e.yaml", good("from-env"))
    write(tmp_path / "extra", "x.yaml", good("from-extra"))
    monkeypatch.setenv("QUIZFORGE_DECKS", str(tmp_path / "env"))
    result = load_search_path([tmp_path / "extra"])
    assert result.problems == []
    loaded = [d.id for d in result.decks]
    bundled = [d.id for d in load_decks([bundled_decks_dir()]).decks]
    assert loaded == [*bundled, "from-env", "from-extra"]


def test_bundled_decks_are_valid():
    # How fast they load is bench/bench_checks.py's to say: a test never times itself.
    result = load_search_path()
    assert result.problems == []
    assert result.decks, "no bundled deck"
    for deck in result.decks:
        assert deck.path.parent == bundled_decks_dir()
        assert all(c.line > 0 for c in deck.cards)


# -- property tests -----------------------------------------------------------------------

ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-")
)
# Text as a deck author writes it: any printable characters and newlines, no surrounding
# whitespace (the loader strips it).
text = (
    st.text(
        st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")) | st.just("\n"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
optional_text = st.none() | text
tag_lists = st.lists(text, max_size=3, unique=True).map(tuple)


# Formula cards: (answer, variables, domain); slips are wrong versions of an answer.
FORMULAS = [
    ("σ(z)(1 − σ(z))", ("z",), ()),
    ("2(wx − y)x", ("w", "x", "y"), ()),
    ("−1/p", ("p",), (("p", 0.05, 0.95),)),
    ("−η·m̂/(√v̂ + ε)", ("eta", "mhat", "vhat", "eps"), (("vhat", 0.01, 1.0), ("eps", 0.01, 0.5))),
]
SLIPS = ["−({})", "2({})", "({}) + 1"]


@st.composite
def cards(draw, card_id: str):
    """A (YAML dict, expected card) pair for a random valid card."""
    # The kinds this strategy builds (an explain card would get a generated card's fields).
    kind = draw(st.sampled_from([t for t in CARD_TYPES if t != "explain"]))
    doc: dict = {"id": card_id}
    if kind != "flashcard" or draw(st.booleans()):
        doc["type"] = kind
    extra = {"tags": draw(tag_lists), "source": draw(optional_text)}
    if kind == "flashcard":
        fields = {
            "front": draw(text),
            "back": draw(text),
            "hint": draw(optional_text),
            "explanation": draw(optional_text),
        }
        card = Flashcard(id=card_id, **fields, **extra)
    elif kind == "mcq":
        choices = tuple(draw(st.lists(text, min_size=2, max_size=6, unique=True)))
        answer = tuple(
            draw(
                st.lists(
                    st.integers(0, len(choices) - 1), min_size=1, max_size=len(choices), unique=True
                )
            )
        )
        fields = {
            "question": draw(text),
            "explanation": draw(optional_text),
            "hint": draw(optional_text),
        }
        card = MCQ(id=card_id, choices=choices, answer=answer, **fields, **extra)
        letters = [LETTERS[i] for i in answer]
        fields |= {
            "choices": list(choices),
            "answer": letters[0] if len(letters) == 1 and draw(st.booleans()) else letters,
        }
        # A list, even of one letter, makes a select-all question.
        card = dataclasses.replace(card, select_all=isinstance(fields["answer"], list))
    elif kind == "formula":
        answer, variables, domain = draw(st.sampled_from(FORMULAS))
        mistakes = draw(st.lists(st.tuples(st.sampled_from(SLIPS), text), max_size=2,
                                 unique_by=lambda m: m[0]))
        mistakes = [(slip.format(answer), message) for slip, message in mistakes]
        fields = {"question": draw(text), "answer": answer, "explanation": draw(optional_text)}
        card = FormulaCard(id=card_id, variables=variables, domain=domain,
                           mistakes=tuple(mistakes), **fields, **extra)
        fields |= {"variables": list(variables)}
        if domain:
            fields["domain"] = {name: [lo, hi] for name, lo, hi in domain}
        if mistakes:
            fields["mistakes"] = [{"answer": a, "message": m} for a, m in mistakes]
    elif kind == "explain":
        points = tuple(draw(st.lists(text, min_size=3, max_size=6, unique=True)))
        fields = {"question": draw(text), "follow_up": draw(optional_text),
                  "hint": draw(optional_text), "explanation": draw(optional_text)}
        card = ExplainCard(id=card_id, points=points, **fields, **extra)
        fields |= {"points": list(points)}
    else:
        fields = {
            "generator": "backprop",
            "difficulty": draw(st.sampled_from([1, 2, 3])),
            "form": draw(st.sampled_from(["number", "expression", "steps"])),
            "prompt": draw(optional_text),
        }
        card = GeneratedCard(id=card_id, **fields, **extra)
    doc |= {k: v for k, v in fields.items() if v is not None}
    doc |= {k: list(v) for k, v in extra.items() if k == "tags" and v}
    if extra["source"] is not None:
        doc["source"] = extra["source"]
    return doc, card


@st.composite
def decks(draw):
    """A (YAML dict, expected cards) pair for a random valid deck."""
    card_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    pairs = [draw(cards(cid)) for cid in card_ids]
    doc = {"deck": draw(ids), "name": draw(text)}
    if draw(st.booleans()):
        doc["description"] = draw(text)
    doc["cards"] = [d for d, _ in pairs]
    return doc, [c for _, c in pairs]


def dump(doc, unicode: bool) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=unicode)


def parse(text_: str):
    return parse_deck(text_, Path("h.yaml"))


# Generating decks costs ~20 ms an example; 60 examples keep each test around a second.
fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(decks(), st.booleans())
def test_random_valid_decks_round_trip(deck_and_cards, unicode):
    doc, expected = deck_and_cards
    parsed = parse(dump(doc, unicode))
    assert parsed.problems == []
    deck = parsed.deck
    assert (deck.id, deck.name, deck.description) == (
        doc["deck"],
        doc["name"],
        doc.get("description", ""),
    )
    assert [dataclasses.replace(c, line=0) for c in deck.cards] == expected
    lines = [c.line for c in deck.cards]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)


def _required(card_doc: dict) -> list[str]:
    from quizforge.decks.validate import CARD_REQUIRED

    return list(CARD_REQUIRED[card_doc.get("type", "flashcard")])


@fast
@given(decks(), st.data())
def test_dropping_a_required_field_gives_exactly_that_problem(deck_and_cards, data):
    doc, _ = deck_and_cards
    if data.draw(st.booleans()):
        name = data.draw(st.sampled_from(["deck", "name", "cards"]))
        del doc[name]
        expected = f"missing required field '{name}' at top level"
    else:
        index = data.draw(st.integers(0, len(doc["cards"]) - 1))
        card = doc["cards"][index]
        name = data.draw(st.sampled_from(_required(card)))
        where = f"card #{index + 1}" if name == "id" else f"card '{card['id']}'"
        del card[name]
        expected = f"missing required field '{name}' in {where}"
    assert [p.message for p in parse(dump(doc, True)).problems] == [expected]


@fast
@given(decks(), st.data())
def test_duplicating_a_card_id_gives_exactly_that_problem(deck_and_cards, data):
    doc, _ = deck_and_cards
    if len(doc["cards"]) < 2:
        doc["cards"].append({"id": "extra", "front": "F", "back": "B"})
    first, second = sorted(
        data.draw(
            st.lists(st.integers(0, len(doc["cards"]) - 1), min_size=2, max_size=2, unique=True)
        )
    )
    card_id = doc["cards"][first]["id"]
    first_line = parse(dump(doc, True)).deck.cards[first].line  # 'id' is each card's first key
    doc["cards"][second]["id"] = card_id
    assert [p.message for p in parse(dump(doc, True)).problems] == [
        f"duplicate card id '{card_id}' (first at line {first_line})"
    ]


@fast
@given(decks(), st.data())
def test_an_answer_out_of_range_gives_exactly_that_problem(deck_and_cards, data):
    doc, _ = deck_and_cards
    doc["cards"].append(
        {"id": "zz-mcq", "type": "mcq", "question": "Q", "choices": ["x", "y"], "answer": "a"}
    )
    mcqs = [c for c in doc["cards"] if c.get("type") == "mcq"]
    card = data.draw(st.sampled_from(mcqs))
    n = len(card["choices"])
    letter = data.draw(st.sampled_from(LETTERS[n:]))
    card["answer"] = letter
    assert [p.message for p in parse(dump(doc, True)).problems] == [
        f"answer '{letter}' is out of range: card has {n} choices (a-{LETTERS[n - 1]})"
    ]


yaml_tokens = st.sampled_from(
    [
        ":",
        ": ",
        "-",
        "- ",
        " ",
        "  ",
        "\n",
        "\t",
        "deck",
        "name",
        "cards",
        "id",
        "type",
        "mcq",
        "generated",
        "front",
        "back",
        "choices",
        "answer",
        "[",
        "]",
        "{",
        "}",
        ",",
        "'",
        '"',
        "&a ",
        "*a",
        "!!str ",
        "!!binary ",
        "? ",
        "<<",
        "#",
        "---",
        "...",
        "|",
        ">",
        "%",
        "@",
        "\\",
        "é",
        "\x00",
        "\ufeff",
    ]
)
# Structured nonsense: well-formed YAML trees using real field names with wrong values.
keys = st.sampled_from(sorted({*DECK_FIELDS, *(f for t in CARD_FIELDS.values() for f in t)}))
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | text
    | st.sampled_from(["a", "z", "mcq", "backprop", "", "flashcard", "generated"])
)
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=25,
)


@fast
@given(st.text(max_size=200) | st.lists(yaml_tokens, max_size=60).map("".join))
def test_garbage_text_never_raises(garbage):
    for problem in parse(garbage).problems:
        assert problem.line >= 1
        assert re.match(r"^[a-z'\[]", problem.message), problem.message
        assert not problem.message.endswith(".")


@fast
@given(st.dictionaries(keys, trees, max_size=6))
def test_wrong_shapes_never_raise(doc):
    parsed = parse(dump(doc, True))
    assert parsed.deck is None or not parsed.problems
    for problem in parsed.problems:
        assert problem.line >= 1 and problem.message
