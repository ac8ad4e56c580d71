"""Crafted decks (issue 20): none stalls a command, and none drives the learner's terminal.

Load bounds: each hostile file trips a cap or the per-file alias budget and gives one
one-line problem, or is checked by linear code; sizes are small so that the tests are fast
(timings: bench/bench_hostile_decks.py). Terminal: deck text, imported text, file paths and
problem messages reach the screen with every control character made visible (␛, ⟨9B⟩), and
rich markup in them (`[/]`, `[bold]`, `[link=…]`) is shown as typed, on every screen.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.controls import visible
from quizforge.decks import lint, validate
from quizforge.decks.model import Flashcard
from quizforge.decks.validate import parse_deck

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "decks" / "deck.schema.json").read_text(encoding="utf-8"))
HEAD = "deck: h\nname: H\ncards:\n"


def raw_controls(text: str) -> list[str]:
    """The control characters (C0 but tab and newline, DEL, C1) left in `text`."""
    return [c for c in text if (ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) < 0xA0]


def problems_of(text: str) -> list[str]:
    return [p.message for p in parse_deck(text, Path("h.yaml")).problems]


# -- visible ------------------------------------------------------------------------------


def test_visible_leaves_no_control_character_but_tab_and_newline():
    every = "".join(map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]))
    shown = visible(every)
    assert raw_controls(shown) == []
    assert shown.count("\t") == 1 and shown.count("\n") == 1
    assert visible("\x1b[2J") == "␛[2J"
    assert visible("\x07\x00\x7f\r") == "␇␀␡␍"
    assert visible("\x9b31m") == "⟨9B⟩31m"
    assert visible("σ(z) · “plain” ✓ 中文") == "σ(z) · “plain” ✓ 中文"
    assert visible(shown) == shown  # made visible once is enough


# -- control characters entering from deck files ------------------------------------------

ESCAPES = r"\e]0;T\a\e[2J\x9b31m"  # YAML double-quoted escapes: title, clear, C1 CSI
SHOWN = "␛]0;T␇␛[2J⟨9B⟩31m"


def test_every_text_field_of_every_card_type_is_made_visible():
    text = f"""\
deck: h
name: "N {ESCAPES}"
description: "D {ESCAPES}"
tags: ["t {ESCAPES}"]
cards:
  - id: f
    front: "F {ESCAPES}"
    back: "B {ESCAPES}"
    hint: "H {ESCAPES}"
    explanation: "E {ESCAPES}"
    source: "S {ESCAPES}"
    tags: ["c {ESCAPES}"]
  - id: m
    type: mcq
    question: "Q {ESCAPES}"
    choices: ["one {ESCAPES}", "two"]
    answer: a
    explanation: "E {ESCAPES}"
    hint: "H {ESCAPES}"
  - id: x
    type: formula
    question: "Q {ESCAPES}"
    answer: x
    variables: [x]
    mistakes: [{{answer: 2x, message: "M {ESCAPES}"}}]
    explanation: "E {ESCAPES}"
  - id: t
    type: explain
    question: "Q {ESCAPES}"
    points: ["p1 {ESCAPES}", p2, p3]
    follow_up: "U {ESCAPES}"
    hint: "H {ESCAPES}"
    explanation: "E {ESCAPES}"
  - id: g
    type: generated
    generator: backprop
    prompt: "P {ESCAPES}"
"""
    parsed = parse_deck(text, Path("h.yaml"))
    assert parsed.problems == []
    deck = parsed.deck
    assert (deck.name, deck.description, deck.tags) == (f"N {SHOWN}", f"D {SHOWN}", (f"t {SHOWN}",))
    f, m, x, t, g = deck.cards
    assert (f.front, f.back, f.hint, f.explanation, f.source, f.tags) == (
        f"F {SHOWN}", f"B {SHOWN}", f"H {SHOWN}", f"E {SHOWN}", f"S {SHOWN}", (f"c {SHOWN}",))
    assert (m.question, m.choices[0], m.explanation, m.hint) == (
        f"Q {SHOWN}", f"one {SHOWN}", f"E {SHOWN}", f"H {SHOWN}")
    assert (x.question, x.mistakes[0][1], x.explanation) == (f"Q {SHOWN}", f"M {SHOWN}", f"E {SHOWN}")
    assert (t.question, t.points[0], t.follow_up, t.hint, t.explanation) == (
        f"Q {SHOWN}", f"p1 {SHOWN}", f"U {SHOWN}", f"H {SHOWN}", f"E {SHOWN}")
    assert g.prompt == f"P {SHOWN}"


def test_overlay_text_and_lists_are_made_visible():
    from quizforge.decks.overlay import parse_overlay

    text = f"""\
overlay: h
language: zh-TW
cards:
  - id: m
    question: "Q {ESCAPES}"
    choices: ["一 {ESCAPES}", 二]
  - id: t
    points: ["甲 {ESCAPES}", 乙, 丙]
    follow_up: "U {ESCAPES}"
"""
    parsed = parse_overlay(text, Path("h.zh-TW.yaml"))
    assert parsed.problems == []
    m, t = parsed.overlay.entries
    assert m.fields() == {"question": f"Q {SHOWN}", "choices": [f"一 {SHOWN}", "二"]}
    assert t.fields() == {"follow_up": f"U {SHOWN}", "points": [f"甲 {SHOWN}", "乙", "丙"]}


def test_problem_messages_show_what_they_quote_visibly_and_cut():
    key = "\\e[2J" + "k" * 200
    messages = problems_of(HEAD + f'  - id: c\n    front: f\n    back: b\n    "{key}": 1\n')
    assert len(messages) == 1 and raw_controls(messages[0]) == []
    assert messages[0].startswith("unknown field '␛[2Jkkk") and "…' in card 'c'" in messages[0]
    assert len(messages[0]) < 120


# -- load bounds: caps --------------------------------------------------------------------


def test_schema_states_the_caps_the_validator_enforces():
    defs = SCHEMA["definitions"]
    assert defs["text"]["maxLength"] == validate.MAX_TEXT
    assert defs["requiredText"]["anyOf"][0]["maxLength"] == validate.MAX_TEXT
    assert defs["formulaText"]["anyOf"][0]["maxLength"] == validate.MAX_TEXT
    assert defs["tags"]["maxItems"] == validate.MAX_TAGS
    assert defs["formula"]["properties"]["mistakes"]["maxItems"] == validate.MAX_MISTAKES
    assert defs["formula"]["properties"]["variables"]["maxItems"] == validate.MAX_VARIABLES
    for cap in ("5,000", "50 tags", "20 known", "(1 to 10)"):
        assert cap in json.dumps(SCHEMA, ensure_ascii=False), cap


def test_a_long_field_is_one_problem_naming_the_cap():
    n = validate.MAX_TEXT + 1
    assert problems_of(HEAD + f"  - id: c\n    front: {'w' * n}\n    back: b\n") == [
        f"'front' is too long: {n:,} characters (at most {validate.MAX_TEXT:,})"]
    choice = problems_of(HEAD + f"  - id: c\n    type: mcq\n    question: q\n"
                                f"    choices: [{'w' * n}, b]\n    answer: b\n")
    assert choice == [f"choice a is too long: {n:,} characters (at most {validate.MAX_TEXT:,})"]


def test_too_many_tags_is_one_problem():
    tags = ", ".join(f"t{i}" for i in range(40_000))
    assert problems_of(HEAD + f"  - id: c\n    front: f\n    back: b\n    tags: [{tags}]\n") == [
        f"'tags' has 40,000 items (at most {validate.MAX_TAGS})"]


def test_too_many_mistakes_is_one_problem_and_none_is_compared():
    mistakes = "".join(f"      - {{answer: 'x + {k}', message: m}}\n" for k in range(1, 2001))
    text = (HEAD + "  - id: f\n    type: formula\n    question: q\n    answer: x\n"
            "    variables: [x]\n    mistakes:\n" + mistakes)
    assert problems_of(text) == [f"'mistakes' has 2,000 items (at most {validate.MAX_MISTAKES})"]


def test_too_many_variables_is_one_problem():
    names = ", ".join(f"v{i}" for i in range(5000))
    text = HEAD + f"  - id: f\n    type: formula\n    question: q\n    answer: v1\n    variables: [{names}]\n"
    assert problems_of(text) == [f"'variables' has 5,000 items (at most {validate.MAX_VARIABLES})"]


def test_too_many_choices_or_points_stop_at_the_count():
    choices = ", ".join(f"c{i}" for i in range(10_000))
    assert problems_of(HEAD + f"  - id: m\n    type: mcq\n    question: q\n    choices: [{choices}]\n"
                              "    answer: a\n") == [
        f"'choices' must have at most {validate.MAX_CHOICES} choices, got 10,000"]


def test_unknown_fields_get_a_bounded_number_of_suggestions():
    fields = "".join(f"    frnt{i}: v\n" for i in range(validate.SUGGESTIONS_MAX + 50))
    messages = problems_of(HEAD + "  - id: c\n    front: f\n    back: b\n" + fields)
    assert len(messages) == validate.SUGGESTIONS_MAX + 50
    assert all("did you mean" not in m for m in messages[validate.SUGGESTIONS_MAX:])


# -- load bounds: aliases -----------------------------------------------------------------


def test_alias_repetition_over_the_budget_is_one_problem():
    # A 2 KB file whose aliases repeat one card a thousand times: each repetition would be
    # checked again (and each is a duplicate id); the budget trips before any is.
    card = ("  - &c\n    id: c\n    type: mcq\n    question: q\n    choices: [one, two]\n"
            "    answer: a\n    explanation: &e \"" + "x " * 200 + "\"\n")
    text = HEAD + card + "  - *c\n" * 1000
    assert len(text) < 8000
    messages = problems_of(text)
    assert len(messages) == 1
    assert messages[0].startswith("aliases (*name) repeat too much: ")
    assert f"or {validate.ALIAS_BUDGET_MIN:,})" in messages[0]
    # A few aliases within the budget still load: a shared list of tags.
    text = ("deck: h\nname: H\ncards:\n  - id: a\n    front: f\n    back: b\n"
            "    tags: &t [x, y]\n  - id: b\n    front: g\n    back: c\n    tags: *t\n")
    parsed = parse_deck(text, Path("h.yaml"))
    assert parsed.problems == [] and parsed.deck.cards[1].tags == ("x", "y")


def test_nested_aliases_are_weighed_without_expanding_them():
    # Each level doubles the one below: 2^60 nodes if expanded, weighed in 60 steps.
    levels = ["a0: &a0 [x, x]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 61)]
    messages = problems_of("\n".join(levels) + "\n")
    assert len(messages) == 1 and messages[0].startswith("aliases (*name) repeat too much")


def test_a_recursive_alias_is_one_problem():
    assert problems_of(HEAD + "  - &c [*c]\n") == [
        "invalid YAML: an alias (*name) refers to a node that contains it"]


# -- load bounds: linear lint -------------------------------------------------------------


def test_label_lint_reads_a_run_of_blank_lines_once():
    # The label pattern tried each split of a run of blank lines at each line: cubic.
    assert lint.position_references("It is one." + "\n" * 3000 + "b", 2) == []
    assert lint.position_references("It is one." + "\n" * 3000 + "b) is right", 2) == ["b)"]
    assert lint.position_references("choice" + " " * 3000 + "!", 2) == []
    assert lint.position_references("a, " * 2000 + "x", 2) == []
    assert lint.position_references("x. " + "a, " * 2000 + "b are wrong", 2) == [
        " ".join(("a, " * 2000 + "b are wrong").split())]


def test_overlay_position_pattern_reads_runs_of_spaces_once():
    from quizforge.decks.overlay import _ZH_POSITION

    for text in ("最後" + " " * 3000, "選" + " " * 3000 + "。", "第1" + " " * 3000):
        assert _ZH_POSITION.search(text) is None
    assert _ZH_POSITION.search("最後 一 個 選項").group(0) == "最後 一 個 選項"
    assert _ZH_POSITION.search("選項 (b)").group(0) == "選項 (b)"


def _pairwise_reference(prompts: list[str]) -> list[tuple[int, int]]:
    """(card, earlier card) for each card whose numbers (first SHARED_NUMBERS_MAX) are a
    subset or superset of an earlier card's, comparing every pair in order."""
    sets = [lint.prompt_numbers(Flashcard(f"c{i}", p, "b"), lint.SHARED_NUMBERS_MAX)
            for i, p in enumerate(prompts)]
    out = []
    for i, mine in enumerate(sets):
        if len(mine) < lint.SHARED_NUMBERS_MIN:
            continue
        for j in range(i):
            if len(sets[j]) >= lint.SHARED_NUMBERS_MIN and (mine <= sets[j] or sets[j] <= mine):
                out.append((i, j))
                break
    return out


@pytest.mark.parametrize("seed", range(20))
def test_shared_numbers_agrees_with_comparing_every_pair(seed):
    from quizforge.decks.model import Deck

    rng = random.Random(seed)
    prompts = []
    for _ in range(60):
        k = rng.randint(0, 11)
        prompts.append("Take " + ", ".join(str(rng.randint(1, 9)) for _ in range(k)) + ".")
    cards = tuple(Flashcard(f"c{i}", p, "b", line=i + 1) for i, p in enumerate(prompts))
    deck = Deck("d", "D", cards, Path("d.yaml"))
    got = [(int(w.message.split("card 'c")[1].split("'")[0]),
            int(w.message.split("of card 'c")[1].split("'")[0]))
           for w in lint._shared_numbers_warnings(deck)]
    assert got == _pairwise_reference(prompts)


def test_shared_numbers_reads_only_the_first_numbers_of_a_long_prompt():
    card = Flashcard("c", " ".join(str(i) for i in range(1, 1000)), "b")
    assert lint.prompt_numbers(card, lint.SHARED_NUMBERS_MAX) == frozenset(
        str(i) for i in range(1, lint.SHARED_NUMBERS_MAX + 1))
    assert len(lint.prompt_numbers(card)) == 999
    combos = sum(1 for k in range(lint.SHARED_NUMBERS_MIN, lint.SHARED_NUMBERS_MAX + 1)
                 for _ in itertools.combinations(range(lint.SHARED_NUMBERS_MAX), k))
    assert combos == 219  # the most subsets one card is looked up by


# -- the terminal: every screen -----------------------------------------------------------

MARKUP = "[/] [bold]B[/bold] [link=https://evil.example]L[/link]"
DECK = f"""\
deck: hostile
name: "Name {MARKUP} {ESCAPES}"
description: "About {MARKUP} {ESCAPES}"
tags: ["[/]deck", "[bold]d"]
cards:
  - id: flash
    front: "Front {MARKUP} {ESCAPES}"
    back: "Back {MARKUP} \\e]8;;https://evil.example\\e\\\\link\\e]8;;\\e\\\\"
    hint: "Hint {MARKUP}"
    explanation: "Why {MARKUP} {ESCAPES}"
    tags: [t-flash, "[/]", "[link=https://evil.example]t \\e[31m"]
  - id: pick
    type: mcq
    question: "Question {MARKUP} {ESCAPES}"
    choices: ["One {MARKUP} {ESCAPES}", "Two [bold]"]
    answer: [a]
    explanation: "Because {MARKUP} {ESCAPES}"
    tags: [t-mcq]
  - id: form
    type: formula
    question: "Formula {MARKUP} {ESCAPES}"
    answer: x
    variables: [x]
    mistakes: [{{answer: 2x, message: "Slip {MARKUP} {ESCAPES}"}}]
    explanation: "Since {MARKUP} {ESCAPES}"
    tags: [t-formula]
  - id: talk
    type: explain
    question: "Explain {MARKUP} {ESCAPES}"
    points: ["Point one {MARKUP} {ESCAPES}", "Point two [/]", "Point three [bold]"]
    follow_up: "Then {MARKUP} {ESCAPES}"
    explanation: "Notes {MARKUP} {ESCAPES}"
    tags: [t-explain]
  - id: gen
    type: generated
    generator: backprop
    prompt: "Drill {MARKUP} {ESCAPES}"
    tags: [t-gen]
"""
BROKEN = f'deck: broken\nname: B\ncards:\n  - id: c\n    front: f\n    back: b\n    "{ESCAPES}{MARKUP}": 1\n'
OVERLAY = f"""\
overlay: hostile
language: zh-TW
cards:
  - id: flash
    front: "正面 {MARKUP} {ESCAPES}"
    back: "背面 {MARKUP} {ESCAPES}"
"""


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    # A folder's path is data too: ".../decks [/] [bold] ␛]0;t␇" (the "/" of "[/]" makes
    # "decks [" the parent folder).
    folder = tmp_path / "decks [" / "] [bold] \x1b]0;t\x07"
    folder.mkdir(parents=True)
    (folder / "hostile.yaml").write_text(DECK, encoding="utf-8")
    (folder / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    (folder / "hostile.zh-TW.yaml").write_text(OVERLAY, encoding="utf-8")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(folder))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    return folder


def shown(args: list[str], input: str | None = None, code: int = 0) -> str:
    r = runner.invoke(app, args, input=input)
    text = r.stdout + r.stderr
    assert r.exit_code == code, (args, text, r.exception)
    assert raw_controls(text) == [], (args, text)
    return text


def test_decks_shows_markup_as_typed_and_no_control_character(hostile, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # the whole name and path on one line
    text = shown(["decks"])
    assert "[/]" in text and "[bold]" in text and "[link=https://evil.example]" in text
    assert "␛" in text  # the name's escapes, visible
    assert "warning:" in text and "broken.yaml" in text  # the load warning, visible too
    rows = json.loads(runner.invoke(app, ["decks", "--json"]).stdout)
    row = next(r for r in rows if r["id"] == "hostile")
    assert row["name"] == f"Name {MARKUP} {SHOWN}" and raw_controls(json.dumps(row)) == []


@pytest.mark.parametrize(("tag", "keys", "expected"), [
    ("t-flash", "\n3\nq\n", ["Front [/] [bold]B[/bold]", "Back [/]", "␛]8;;https://evil.example"]),
    ("t-mcq", "a\nq\n", ["Question [/]", "One [/] [bold]B", "Because [/]"]),
    ("t-formula", "2x\nq\n", ["Formula [/]", "Slip [/] [bold]B", "Since [/]"]),
    ("t-explain", "\n1 2\nq\n", ["Explain [/]", "Point one [/]", "Then [/]", "Notes [/]"]),
    ("t-gen", "q\n", ["Drill [/] [bold]B[/bold] [link=https://evil.example]L[/link] ␛"]),
])
def test_study_shows_every_card_type_as_typed(hostile, tag, keys, expected):
    text = shown(["study", "--tag", tag, "--seed", "1"], input=keys)
    for piece in expected:
        assert piece in text, (piece, text)
    assert "␛[2J" in text or tag == "t-flash"


def test_study_in_a_translation_shows_the_overlay_as_typed(hostile):
    text = shown(["study", "--tag", "t-flash", "-L", "zh-TW"], input="\n3\nq\n")
    assert "正面 [/] [bold]B[/bold]" in text and "背面 [/]" in text and "␛[2J" in text


def test_report_after_study_shows_markup_as_typed(hostile, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    shown(["study", "--tag", "t-flash"], input="\n1\nq\n")
    text = shown(["report"])
    assert "[/]deck" in text and "[bold]d" in text  # the deck's tags, by tag
    assert "[link=https://evil." in text and "␛[31m" in text


def test_mock_round_shows_the_card_as_typed(hostile):
    text = shown(["mock", "--deck", "hostile", "-n", "1", "--seed", "1"], input="\n1 2\n\n")
    for piece in ("Explain [/] [bold]B[/bold] [link=https://evil.example]L[/link] ␛",
                  "Point one [/]", "Then [/]"):
        assert piece in text, (piece, text)


def test_cards_search_and_show_print_the_card_as_typed(hostile, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    text = shown(["cards", "search", "Front"])
    assert "Front [/] [bold]B[/bold] [link=https://evil.example]L[/link] ␛" in text
    text = shown(["cards", "show", "hostile/flash"])
    assert "Back [/] [bold]B[/bold]" in text and "␛]8;;https://evil.example" in text


def test_validate_prints_paths_and_problems_visibly(hostile):
    text = shown(["validate", str(hostile)], code=1)
    assert "␛]0;t␇" in text  # the folder's name, visible
    assert "unknown field '␛]0;T␇␛[2J⟨9B⟩31m[/] [bold]B" in text
    doc = json.loads(runner.invoke(app, ["validate", "--json", str(hostile)]).stdout)
    assert raw_controls(json.dumps(doc, ensure_ascii=False)) == []
    assert any("[/]" in p["message"] for p in doc["problems"])


def test_an_error_naming_a_path_with_markup_is_printed_as_typed(tmp_path):
    missing = tmp_path / "no [" / "] such [bold] \x1b[2J"
    text = shown(["validate", str(missing)], code=1)
    assert "no [/] such [bold] ␛[2J" in text and text.startswith("Error: ")


# -- imports ------------------------------------------------------------------------------


def test_hashcards_import_writes_control_characters_visibly(tmp_path):
    source = tmp_path / "cards.md"
    source.write_text("Q: What \x1b[2J is [/]?\nA: This \x9b31m [bold]\n", encoding="utf-8")
    shown(["import", str(source), "--deck", "imp", "--out", str(tmp_path / "out")])
    (target,) = (tmp_path / "out").glob("*.yaml")
    written = target.read_text(encoding="utf-8")
    assert "␛[2J" in written and "⟨9B⟩31m" in written
    assert "\\e" not in written and "\\x9b" not in written and "\\u001b" not in written.lower()
    assert raw_controls(written) == []


def test_anki_text_import_writes_control_characters_visibly(tmp_path):
    source = tmp_path / "cards.txt"
    source.write_text("front \x1b]0;T\x07 [/]\tback \x9b [link=x]\n", encoding="utf-8")
    shown(["import", str(source), "--deck", "imp", "--out", str(tmp_path / "out")])
    (target,) = (tmp_path / "out").glob("*.yaml")
    written = target.read_text(encoding="utf-8")
    assert "␛]0;T␇" in written and "⟨9B⟩" in written and raw_controls(written) == []
    assert "\\u001b" not in written.lower() and "\\u009b" not in written.lower()
