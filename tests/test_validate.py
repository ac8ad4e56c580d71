"""Every deck validation rule, with its exact message and line; and the JSON Schema kept in
step with the validator."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from quizforge.decks import validate
from quizforge.decks.model import (
    CARD_TYPES,
    GENERATED_FORMS,
    MCQ,
    Flashcard,
    FormulaCard,
    GeneratedCard,
    known_generators,
)
from quizforge.decks.validate import parse_deck

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "decks"
SCHEMA = json.loads((ROOT / "decks" / "deck.schema.json").read_text(encoding="utf-8"))

HEAD = "deck: d\nname: D\ncards:\n"  # cards start at line 4


def problems(text: str) -> list[str]:
    """'LINE: message' for each problem in a deck given as (dedented) text."""
    parsed = parse_deck(textwrap.dedent(text), Path("d.yaml"))
    assert (parsed.deck is None) == bool(parsed.problems)
    return [f"{p.line}: {p.message}" for p in parsed.problems]


def card_problems(card_yaml: str) -> list[str]:
    """Problems of a deck whose cards are `card_yaml` (indented as list items at column 2)."""
    return problems(HEAD + textwrap.indent(textwrap.dedent(card_yaml), "  "))


def deck_of(text: str):
    parsed = parse_deck(textwrap.dedent(text), Path("d.yaml"))
    assert parsed.problems == []
    return parsed.deck


@pytest.fixture(params=["libyaml", "pure"])
def both_parsers(request, monkeypatch):
    """Run a test with libyaml's parser and with PyYAML's pure-Python fallback."""
    if request.param == "pure":
        monkeypatch.setattr(validate, "_YamlLoader", yaml.SafeLoader)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML built without libyaml")


# -- a valid deck -----------------------------------------------------------------------


def test_valid_deck_builds_the_model():
    deck = deck_of(
        """\
        deck: ml
        name: '  ML  '
        description: About ML.
        tags: [a, b, a]
        cards:
          - id: f1
            front: |
              Front
            back: Back
            tags: [x]
            hint: H
            explanation: E
            source: S
          - id: m1
            type: mcq
            question: Q?
            choices: [0.5, 1, true, no, "  padded  "]
            answer: [C, a]
          - id: g1
            type: generated
            generator: backprop
        """
    )
    assert deck.id == "ml" and deck.name == "ML" and deck.description == "About ML."
    assert deck.tags == ("a", "b")  # duplicates dropped, order kept
    assert deck.path == Path("d.yaml")
    f, m, g = deck.cards
    assert f == Flashcard("f1", "Front", "Back", ("x",), "H", "E", "S", line=6)
    # Scalars are read as written: no float, bool or YAML 1.1 'no' -> False surprises.
    assert m == MCQ(
        "m1", "Q?", ("0.5", "1", "true", "no", "padded"), (2, 0), line=14, select_all=True
    )
    assert m.multi
    assert g == GeneratedCard("g1", "backprop", difficulty=1, form="number", line=19)
    assert deck.counts() == {"flashcard": 1, "mcq": 1, "generated": 1, "formula": 0,
                            "explain": 0}


def test_optional_fields_may_be_null_or_blank():
    deck = deck_of(
        HEAD
        + """\
  - id: c
    front: F
    back: B
    hint:
    explanation: ''
    tags:
  - id: g
    type: generated
    generator: backprop
    difficulty:
    form:
    prompt: Go
"""
    )
    assert deck.cards[0] == Flashcard("c", "F", "B", line=4)
    assert deck.cards[1] == GeneratedCard("g", "backprop", 1, "number", "Go", line=10)
    assert deck.description == "" and deck.tags == ()


def test_generated_card_fields():
    deck = deck_of(
        HEAD
        + """\
  - {id: g, type: generated, generator: backprop, difficulty: 3, form: steps, tags: [t]}
"""
    )
    assert deck.cards[0] == GeneratedCard("g", "backprop", 3, "steps", None, ("t",), line=4)


def test_fixture_decks_are_valid():
    for path in sorted((FIXTURES / "good").iterdir()):
        parsed = parse_deck(path.read_text(encoding="utf-8"), path)
        assert parsed.problems == [], path


# -- YAML ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("both_parsers")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "deck: d\nname: 'x\n",
            (
                "3: invalid YAML: found unexpected end of stream "
                "(while scanning a quoted scalar at line 2)"
            ),
        ),
        ("deck: d\n\tname: x\n", "2: invalid YAML: tab character (indent with spaces)"),
        (
            "deck: d\nname: Ratio: what?\n",
            "2: invalid YAML: ': ' inside a value (put the text in quotes)",
        ),
        (
            "deck: d\nname: x\n---\ndeck: e\n",
            "3: invalid YAML: found a second document (one deck per file)",
        ),
        ("deck: d\nname: \x07\n", "2: invalid YAML: unacceptable character #x0007"),
        ("[" * 3000 + "]" * 3000, None),  # deep nesting: a problem, never a RecursionError
    ],
)
def test_yaml_syntax_errors(text, expected):
    found = problems(text)
    assert len(found) == 1
    if expected is not None:
        assert found == [expected]


@pytest.mark.usefixtures("both_parsers")
def test_yaml_error_message_keeps_its_line():
    (found,) = problems("deck: d\nname: x\ncards: [a, b\n")
    assert found.startswith("4: invalid YAML: ")
    assert found.endswith("(while parsing a flow sequence at line 3)")


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_empty_file(text):
    assert problems(text) == ["1: deck file is empty"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "a list"), ("just text\n", "a string"), ("42\n", "a number"), ("~\n", "null")],
)
def test_file_not_a_mapping(text, kind):
    assert problems(text) == [
        f"1: deck file must be a mapping with 'deck', 'name' and 'cards', got {kind}"
    ]


def test_duplicate_keys_everywhere():
    assert problems(
        """\
        deck: d
        name: D
        deck: e
        cards:
          - id: c
            front: F
            back: B
            back: C
            front: G
        """
    ) == [
        "3: duplicate key 'deck' (first at line 1)",
        "8: duplicate key 'back' (first at line 7)",
        "9: duplicate key 'front' (first at line 6)",
    ]


def test_merge_keys_and_complex_keys_are_problems():
    assert card_problems(
        """\
        - &base {id: a, front: F, back: B}
        - <<: *base
          id: b
        - ? [x, y]
          : 1
          id: c
          front: F
          back: B
        """
    ) == [
        "5: merge keys ('<<') are not supported",
        "5: missing required field 'front' in card 'b'",
        "5: missing required field 'back' in card 'b'",
        "7: field names must be text, got a list",
    ]


# -- top level ----------------------------------------------------------------------------


def test_missing_top_level_fields():
    assert problems("tags: [x]\n") == [
        "1: missing required field 'deck' at top level",
        "1: missing required field 'name' at top level",
        "1: missing required field 'cards' at top level",
    ]


def test_unknown_top_level_fields():
    assert problems(HEAD.replace("cards:", "crads:") + "version: 2\n") == [
        "1: missing required field 'cards' at top level",
        "3: unknown field 'crads' at top level (did you mean 'cards'?)",
        "4: unknown field 'version' at top level",
    ]


@pytest.mark.parametrize(
    ("deck_id", "message"),
    [
        ("ML_Basics", "invalid deck id 'ML_Basics': use only a-z, 0-9 and '-' (try 'ml-basics')"),
        ("-x", "invalid deck id '-x': use only a-z, 0-9 and '-' (try 'x')"),
        ("'__'", "invalid deck id '__': use only a-z, 0-9 and '-'"),
        ("[a]", "'deck' must be text, got a list"),
        ("''", "required field 'deck' is empty"),
    ],
)
def test_bad_deck_id(deck_id, message):
    assert problems(
        HEAD.replace("deck: d", f"deck: {deck_id}") + "  - {id: c, front: F, back: B}\n"
    ) == [f"1: {message}"]


def test_numeric_ids_are_text():
    deck = deck_of("deck: 2024\nname: 42\ncards:\n  - {id: 007, front: 1, back: yes}\n")
    assert (deck.id, deck.name) == ("2024", "42")
    assert deck.cards[0] == Flashcard("007", "1", "yes", line=4)


@pytest.mark.parametrize(
    ("cards", "message"),
    [
        ("", "3: required field 'cards' is empty"),
        (" []", "3: required field 'cards' is empty"),
        (" {id: c}", "3: 'cards' must be a list of cards, got a mapping"),
        (" some text", "3: 'cards' must be a list of cards, got a string"),
    ],
)
def test_cards_not_a_list(cards, message):
    assert problems(f"deck: d\nname: D\ncards:{cards}\n") == [message]


def test_name_and_description_types():
    assert problems(
        """\
        deck: d
        name:
        description: [a]
        cards:
          - {id: c, front: F, back: B}
        """
    ) == ["2: required field 'name' is empty", "3: 'description' must be text, got a list"]


# -- card ids and types -------------------------------------------------------------------


def test_card_not_a_mapping():
    assert card_problems("- just text\n- [a, b]\n") == [
        "4: card #1 must be a mapping, got a string",
        "5: card #2 must be a mapping, got a list",
    ]


def test_card_ids():
    assert card_problems(
        """\
        - front: F
          back: B
        - id: Fan_Out
          front: F
          back: B
        - id: ok
          front: F
          back: B
        - id: ok
          front: F
          back: B
        - id: ''
          front: F
          back: B
        """
    ) == [
        "4: missing required field 'id' in card #1",
        "6: invalid card id 'Fan_Out': use only a-z, 0-9 and '-' (try 'fan-out')",
        "12: duplicate card id 'ok' (first at line 9)",
        "15: required field 'id' is empty",
    ]


def test_unknown_card_type():
    assert card_problems(
        """\
        - id: a
          type: flashcrd
        - id: b
          type: essay
        - id: c
          type: [mcq]
        """
    ) == [
        "5: unknown card type 'flashcrd' in card 'a' (did you mean 'flashcard'?)",
        "7: unknown card type 'essay' in card 'b' (expected one of flashcard, mcq, generated, formula, explain)",
        "9: 'type' must be text, got a list",
    ]


def test_missing_type_on_a_card_that_is_clearly_not_a_flashcard():
    assert card_problems(
        """\
        - id: q
          question: Q?
          choices: [a, b]
          answer: a
        - id: g
          generator: backprop
        """
    ) == [
        "4: missing field 'type' in card 'q' (add 'type: mcq')",
        "8: missing field 'type' in card 'g' (add 'type: generated')",
    ]


def test_unknown_card_fields():
    assert card_problems(
        """\
        - id: a
          front: F
          back: B
          Back: C
          choices: [a, b]
          difficulty: 2
          colour: red
        - id: m
          type: mcq
          question: Q?
          choices: [a, b]
          anwser: a
          hint: fine
        """
    ) == [
        "7: unknown field 'Back' in card 'a' (did you mean 'back'?)",
        "8: unknown field 'choices' in card 'a' (only mcq cards have it)",
        "9: unknown field 'difficulty' in card 'a' (only generated cards have it)",
        "10: unknown field 'colour' in card 'a'",
        "11: missing required field 'answer' in card 'm'",
        "15: unknown field 'anwser' in card 'm' (did you mean 'answer'?)",
    ]


def test_a_field_of_two_other_types():
    assert card_problems("- {id: g, type: generated, generator: backprop, hint: H}\n") == [
        "4: unknown field 'hint' in card 'g' (only flashcard and mcq and explain cards have it)"
    ]


# -- required text ------------------------------------------------------------------------


def test_missing_and_empty_required_fields():
    assert card_problems(
        """\
        - id: a
          front: F
        - id: b
          front: ''
          back: '   '
        - id: c
          front:
          back: |
        - id: m
          type: mcq
        """
    ) == [
        "4: missing required field 'back' in card 'a'",
        "7: required field 'front' is empty",
        "8: required field 'back' is empty",
        "10: required field 'front' is empty",
        "11: required field 'back' is empty",
        "12: missing required field 'question' in card 'm'",
        "12: missing required field 'choices' in card 'm'",
        "12: missing required field 'answer' in card 'm'",
    ]


def test_text_fields_must_be_scalars():
    assert card_problems(
        """\
        - id: a
          front: [F]
          back: {b: 1}
          hint: [h]
          source: {s: 1}
        """
    ) == [
        "5: 'front' must be text, got a list",
        "6: 'back' must be text, got a mapping",
        "7: 'hint' must be text, got a list",
        "8: 'source' must be text, got a mapping",
    ]


def test_tags():
    assert card_problems(
        """\
        - {id: a, front: F, back: B, tags: fan-out}
        - {id: b, front: F, back: B, tags: {a: 1}}
        - id: c
          front: F
          back: B
          tags:
            - ok
            - [x]
            - ''
        """
    ) == [
        "4: 'tags' must be a list of strings, got a string",
        "5: 'tags' must be a list of strings, got a mapping",
        "11: tag #2 must be text, got a list",
        "12: tag #3 is empty",
    ]


# -- MCQ ----------------------------------------------------------------------------------


def mcq(choices: str, answer: str) -> list[str]:
    return card_problems(
        f"- id: m\n  type: mcq\n  question: Q?\n  choices: {choices}\n  answer: {answer}\n"
    )


@pytest.mark.parametrize(
    ("choices", "answer", "expected"),
    [
        ("[a, b, c, d]", "e", ["8: answer 'e' is out of range: card has 4 choices (a-d)"]),
        ("[a, b]", "[a, c]", ["8: answer 'c' is out of range: card has 2 choices (a-b)"]),
        ("[a, b, c, d]", "ab", ["8: answer 'ab' is not a choice letter (a-d)"]),
        ("[a, b, c, d]", "2", ["8: answer '2' is not a choice letter (a-d)"]),
        (
            "[a, b, c, d]",
            "'a, c'",
            ["8: answer 'a, c' is not a choice letter (write [a, c] for several)"],
        ),
        ("[a, b, c, d]", "[a, A]", ["8: answer 'A' is given twice"]),
        (
            "[a, b, c, d]",
            "{a: 1}",
            ["8: 'answer' must be a letter or a list of letters, got a mapping"],
        ),
        (
            "[a, b, c, d]",
            "[[a]]",
            ["8: 'answer' must be a letter or a list of letters, got a list in the list"],
        ),
        ("[a, b, c, d]", "[]", ["8: required field 'answer' is empty"]),
        ("[a, b, c, d]", "", ["8: required field 'answer' is empty"]),
        ("[a, b, a]", "a", ["7: duplicate choice 'a' (choices a and c)"]),
        ("[a, ' a ']", "a", ["7: duplicate choice 'a' (choices a and b)"]),
        ("[a, '', ~]", "a", ["7: choice b is empty", "7: choice c is empty"]),
        ("[a, [b]]", "a", ["7: choice b must be text, got a list"]),
        ("[only]", "a", ["7: 'choices' must have at least 2 choices, got 1"]),
        ("a, b, c", "a", ["7: 'choices' must be a list of strings, got a string"]),
        ("{a: 1}", "a", ["7: 'choices' must be a list of strings, got a mapping"]),
        ("[]", "a", ["7: required field 'choices' is empty"]),
        # the count is sound, so the answer is still checked against it
        (
            "[a, b, b]",
            "d",
            [
                "7: duplicate choice 'b' (choices b and c)",
                "8: answer 'd' is out of range: card has 3 choices (a-c)",
            ],
        ),
        # the count is not sound: no range to check against
        ("[a]", "z", ["7: 'choices' must have at least 2 choices, got 1"]),
        (
            "[a]",
            "zz",
            [
                "7: 'choices' must have at least 2 choices, got 1",
                "8: answer 'zz' is not a choice letter",
            ],
        ),
    ],
)
def test_mcq_rules(choices, answer, expected):
    assert mcq(choices, answer) == expected


def test_uppercase_and_list_answers_become_indices():
    deck = deck_of(
        HEAD + "  - {id: m, type: mcq, question: Q, choices: [w, x, y, z], answer: [D, b]}\n"
    )
    assert deck.cards[0].answer == (3, 1)


def test_too_many_choices():
    choices = "[" + ", ".join(f"c{i}" for i in range(27)) + "]"
    assert mcq(choices, "a") == ["7: 'choices' must have at most 26 choices, got 27"]
    deck = deck_of(
        HEAD
        + f"  - {{id: m, type: mcq, question: Q, choices: {choices[:-1].rsplit(',', 1)[0]}], answer: z}}\n"
    )
    assert len(deck.cards[0].choices) == 26 and deck.cards[0].answer == (25,)


# -- generated ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("generator: backprob", "unknown generator 'backprob' (did you mean 'backprop'?)"),
        ("generator: fourier", (f"unknown generator 'fourier' (expected one of "
                                f"{', '.join(known_generators())})")),
        ("generator: backprop\n  difficulty: 0", "'difficulty' must be 1, 2 or 3, got 0"),
        ("generator: backprop\n  difficulty: 4", "'difficulty' must be 1, 2 or 3, got 4"),
        ("generator: backprop\n  difficulty: '2'", "'difficulty' must be 1, 2 or 3, got a string"),
        ("generator: backprop\n  difficulty: 2.0", "'difficulty' must be 1, 2 or 3, got a number"),
        (
            "generator: backprop\n  difficulty: true",
            "'difficulty' must be 1, 2 or 3, got a boolean",
        ),
        ("generator: backprop\n  form: num", "unknown form 'num' (did you mean 'number'?)"),
        (
            "generator: backprop\n  form: essay",
            "unknown form 'essay' (expected one of number, expression, steps)",
        ),
        ("generator: ''", "required field 'generator' is empty"),
    ],
)
def test_generated_rules(fields, expected):
    found = card_problems(f"- id: g\n  type: generated\n  {fields}\n")
    assert [f.split(": ", 1)[1] for f in found] == [expected]
    assert int(found[0].split(":")[0]) == 4 + fields.count("\n") + 2


def test_hex_difficulty_is_an_int():
    deck = deck_of(HEAD + "  - {id: g, type: generated, generator: backprop, difficulty: 0x2}\n")
    assert deck.cards[0].difficulty == 2


def test_every_problem_in_a_file_is_reported_in_line_order():
    path = FIXTURES / "broken" / "broken.yaml"
    found = [str(p) for p in parse_deck(path.read_text(encoding="utf-8"), path).problems]
    assert found == [
        f"{path}:1: invalid deck id 'Broken_Deck': use only a-z, 0-9 and '-' (try 'broken-deck')",
        f"{path}:3: 'tags' must be a list of strings, got a string",
        f"{path}:8: duplicate key 'back' (first at line 7)",
        f"{path}:9: duplicate card id 'dup' (first at line 5)",
        f"{path}:9: missing required field 'answer' in card 'dup'",
        f"{path}:12: duplicate choice 'y' (choices b and c)",
        f"{path}:13: unknown field 'anwser' in card 'dup' (did you mean 'answer'?)",
        f"{path}:16: unknown generator 'backprob' (did you mean 'backprop'?)",
        f"{path}:17: 'difficulty' must be 1, 2 or 3, got 4",
    ]


# -- the JSON Schema agrees with the validator ---------------------------------------------


def _props(definition: dict) -> set[str]:
    return set(definition["properties"])


def test_schema_fields_match_the_validator():
    defs = SCHEMA["definitions"]
    assert _props(SCHEMA) == set(validate.DECK_FIELDS)
    assert set(SCHEMA["required"]) == set(validate.DECK_REQUIRED)
    assert SCHEMA["additionalProperties"] is False
    for card_type in CARD_TYPES:
        assert _props(defs[card_type]) == set(validate.CARD_FIELDS[card_type]), card_type
        # The schema needs 'type' to pick the mcq/generated branch; the validator knows it.
        assert set(defs[card_type]["required"]) - {"type"} == set(validate.CARD_REQUIRED[card_type])
        assert defs[card_type]["additionalProperties"] is False


def test_schema_enums_and_limits_match_the_validator():
    defs = SCHEMA["definitions"]
    assert tuple(defs["cardType"]["enum"]) == CARD_TYPES
    assert tuple(defs["generated"]["properties"]["generator"]["enum"]) == known_generators()
    assert tuple(defs["generated"]["properties"]["form"]["enum"]) == GENERATED_FORMS
    assert tuple(defs["generated"]["properties"]["difficulty"]["enum"]) == validate.DIFFICULTIES
    assert defs["id"]["pattern"] == validate.ID_PATTERN
    choices = defs["mcq"]["properties"]["choices"]
    assert (choices["minItems"], choices["maxItems"]) == (
        validate.MIN_CHOICES,
        validate.MAX_CHOICES,
    )


def test_schema_describes_every_field():
    defs = SCHEMA["definitions"]
    for name, prop in SCHEMA["properties"].items():
        assert prop.get("description"), name
    for card_type in CARD_TYPES:
        for name, prop in defs[card_type]["properties"].items():
            target = defs[prop["$ref"].split("/")[-1]] if "$ref" in prop else {}
            assert prop.get("description") or target.get("description"), (card_type, name)


def test_validator_fields_match_the_model():
    classes = {
        "flashcard": Flashcard, "mcq": MCQ, "generated": GeneratedCard, "formula": FormulaCard,
    }
    for card_type, cls in classes.items():
        # select_all is not a field of its own: it is read from how `answer` is written.
        model = {f.name for f in dataclasses.fields(cls)} - {"line", "select_all"} | {"type"}
        assert model == set(validate.CARD_FIELDS[card_type]), card_type


def _deck_files(folder: Path) -> list[Path]:
    """Deck files (translation overlays, `DECK.LANG.yaml`, are not decks)."""
    from quizforge.decks.overlay import is_overlay_file

    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".yaml", ".yml") and not is_overlay_file(p))


def test_decks_agree_with_the_schema():
    import jsonschema
    checker = jsonschema.Draft7Validator(SCHEMA)
    checker.check_schema(SCHEMA)
    for path in _deck_files(FIXTURES / "good") + _deck_files(ROOT / "decks"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = [f"{list(e.path)}: {e.message}" for e in checker.iter_errors(data)]
        assert errors == [], path
    broken = yaml.safe_load((FIXTURES / "broken" / "broken.yaml").read_text(encoding="utf-8"))
    assert list(checker.iter_errors(broken))
