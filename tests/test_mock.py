"""`quizforge mock`: choosing with weights (against the probabilities they imply), quotas,
scoring and comparison; the screen under a moving clock; the CLI end to end with input=."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.scheduling.scheduler import Rating
from quizforge.study import mock as core
from quizforge.study.mock import MIX, Candidate, Focus, MockAnswer, Weakness

runner = CliRunner()
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def cand(i: int, kind: str = "explain", tags=(), deck="d", recall=None, lapses=0, family=None):
    return Candidate(i, deck, f"c{i}", kind, tuple(tags), recall, lapses, family)


# -- choosing ---------------------------------------------------------------------------
def test_weights():
    weak = Weakness(frozenset({"adam"}), frozenset({"backprop"}))
    focus = Focus(frozenset({"x"}), frozenset({"attention"}))
    assert core.weight(cand(1), Weakness(), Focus()) == 1
    assert core.weight(cand(1, recall=0.25), Weakness(), Focus()) == 1 + 2 * 0.75
    assert core.weight(cand(1, lapses=9), Weakness(), Focus()) == 1 + 0.25 * 4
    assert core.weight(cand(1, tags=["adam"]), weak, Focus()) == 2
    assert core.weight(cand(1, "generated", family="backprop"), weak, Focus()) == 2
    assert core.weight(cand(1, deck="x"), Weakness(), focus) == 4
    assert core.weight(cand(1, tags=["attention", "adam"]), weak, focus) == 8


def test_quotas_follow_the_mix_and_pass_on_missing_kinds():
    every = {k: 50 for k in MIX}
    assert core.quotas(20, every) == {"explain": 7, "mcq": 4, "flashcard": 4, "generated": 3,
                                      "formula": 2}
    assert sum(core.quotas(12, every).values()) == 12
    # no formula cards and one drill: their share goes to the others
    q = core.quotas(10, {"explain": 50, "mcq": 50, "flashcard": 50, "generated": 1})
    assert q["generated"] == 1 and "formula" not in q and sum(q.values()) == 10
    assert core.quotas(10, {"mcq": 3}) == {"mcq": 3}


def test_a_choice_is_reproducible_and_has_every_kind():
    cands = [cand(i, kind) for i, kind in enumerate(list(MIX) * 10)]
    a = core.choose(cands, 10, seed=5)
    assert a == core.choose(cands, 10, seed=5)
    assert a != core.choose(cands, 10, seed=6)
    assert {c.kind for c in a} == set(MIX) and len(set(a)) == 10


def test_the_first_pick_follows_the_weights():
    # Reference: drawing one of two cards with weights 1 and 3 picks the heavy one with
    # probability 3/4, and one of three (1, 1, 2) picks the heavy one with probability 1/2.
    light, heavy = cand(1), cand(2, tags=["adam"], lapses=4)  # weight 2 * 2 = 4
    weak = Weakness(frozenset({"adam"}))
    for others, p in (([light], 4 / 5), ([light, cand(3)], 4 / 6)):
        n = 4000
        hits = sum(core.choose([*others, heavy], 1, weak, seed=s)[0] == heavy for s in range(n))
        assert abs(hits / n - p) < 0.025, (hits / n, p)


def test_focus_makes_a_named_deck_likelier():
    cands = [cand(i, deck="a" if i < 10 else "b") for i in range(20)]
    focus = Focus(frozenset({"b"}))
    picked = [c.deck_id for s in range(300) for c in core.choose(cands, 4, Weakness(), focus, s)]
    assert picked.count("b") > 2.5 * picked.count("a")


def test_no_cards_is_a_clear_error():
    with pytest.raises(core.MockError, match="no cards to ask"):
        core.choose([cand(1, "skill")], 3)


# -- scoring and comparison ---------------------------------------------------------------
def answer(pos, kind, topics, score, seconds=10.0, command=None):
    return MockAnswer(pos, "d", f"c{pos}", kind, tuple(topics), (core.KIND_SKILL[kind],),
                      score, 3, seconds, command)


def test_result_scores_by_topic_and_skill():
    r = core.result([answer(1, "explain", ["attention"], 2 / 3),
                     answer(2, "mcq", ["attention", "adam"], 1.0),
                     answer(3, "generated", ["adam"], 0.0, command="quizforge drill optimizer -d 2"),
                     answer(4, "flashcard", ["init"], core.rating_score("flashcard", Rating.HARD))],
                    id=2, planned=5)
    assert r.score == pytest.approx((2 / 3 + 1 + 0 + 0.5) / 4)
    assert [(x.name, x.answers, round(x.score, 4)) for x in r.topics] == [
        ("adam", 2, 0.5), ("init", 1, 0.5), ("attention", 2, 0.8333)]  # ties: more answers first
    assert [x.name for x in r.skills] == ["drills", "recall", "explaining", "multiple-choice"]
    assert r.seconds == 40
    assert core.study_next(r) == [
        ("adam: 50% over 2", "quizforge study --cram --tag adam"),
        ("init: 50% over 1", "quizforge study --cram --tag init"),
        ("attention: 83% over 2", "quizforge study --cram --tag attention"),
        ("drill c3 again", "quizforge drill optimizer -d 2"),
    ]


def test_compare_with_earlier_rounds():
    old = [core.result([answer(1, "mcq", ["adam"], 0.0), answer(2, "mcq", ["init"], 1.0)], id=1),
           core.result([answer(1, "mcq", ["adam"], 1.0)], id=2)]
    now = core.result([answer(1, "mcq", ["adam"], 0.5), answer(2, "mcq", ["attention"], 1.0)], id=3)
    c = core.compare(now, old)
    assert c.change == pytest.approx(0.75 - 1.0)
    assert c.mean_before == pytest.approx((0.5 + 1.0) / 2)
    assert c.topics == (("adam", 0.5, 0.5),)
    assert core.compare(now, []).change is None


# -- the screen under a clock --------------------------------------------------------------
def test_time_up_during_a_question_finishes_it_then_ends_the_round():
    from quizforge.decks.model import ExplainCard, Flashcard
    from quizforge.ui.mock import MockScreen
    from tests.helpers import Keys

    now = [T0]

    class Reader(Keys):
        def line(self, prompt=""):
            now[0] += timedelta(minutes=3)  # a long answer
            return super().line(prompt)

    committed = []
    qs = [(cand(1), ExplainCard("e", "Why?", ("a", "b", "c"))),
          (cand(2, "flashcard"), Flashcard("f", "F", "B"))]
    console = Console(record=True, width=80)
    screen = MockScreen(qs, console, Reader([], ["", "1 2"]), lambda: now[0],
                        T0 + timedelta(minutes=5), lambda *a: committed.append(a))
    out = screen.run()
    text = console.export_text()
    assert "5:00 left" in text and "2:00 left" in text
    assert "Time is up: it ran out during this question, and your answer counts." in text
    assert out.ended == "time" and len(out.answers) == 1 and len(committed) == 1
    assert out.answers[0].score == pytest.approx(2 / 3) and out.answers[0].seconds == 360
    assert committed[0][2] == Rating.HARD and committed[0][5] == ("explaining",)


# -- the command ----------------------------------------------------------------------------
DECK = """\
deck: talk
name: Talk
cards:
  - id: why
    type: explain
    question: Why scale by 1/sqrt(d)?
    points: [Variance grows with d, Softmax saturates, Gradients vanish]
    follow_up: What else?
    hint: Never shown in a mock
    tags: [attention]
  - id: flash
    front: What is a logit?
    back: A score before the softmax.
    hint: Never shown either
    tags: [softmax]
  - id: pick
    type: mcq
    question: Which is a regularizer?
    choices: [Dropout, ReLU]
    answer: a
    shuffle: false
    tags: [regularization]
  - id: dsig
    type: formula
    question: Type d/dz of z².
    answer: 2*z
    variables: [z]
    tags: [math]
  - id: drill
    type: generated
    generator: backprop
    tags: [backprop]
"""
# deck order: explain (done, points 1 and 3), flashcard (reveal, Good), mcq (a), formula,
# drill (a wrong first answer)
INPUT = "\n1 3\n\n3\na\n2*z\n12345\n"


@pytest.fixture
def talk(tmp_path, monkeypatch):
    import quizforge.paths

    d = tmp_path / "decks"
    d.mkdir()
    (d / "talk.yaml").write_text(DECK)
    (tmp_path / "shipped").mkdir()  # no bundled decks: the round is drawn from this one
    monkeypatch.setattr(quizforge.paths, "bundled_decks_dir", lambda: tmp_path / "shipped")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    real = core.choose

    def in_deck_order(cands, n, weak=Weakness(), focus=Focus(), seed=0):
        picked = real(cands, n, weak, focus, seed)
        return sorted(picked, key=lambda c: c.rowid)

    monkeypatch.setattr(core, "choose", in_deck_order)
    return d


def mock_run(*args, input=INPUT):
    return runner.invoke(app, ["mock", "--deck", "talk", "--seed", "1", *args], input=input)


def test_a_round_end_to_end_then_a_second_with_the_comparison(talk):
    r = mock_run("--questions", "5")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "Mock round 1: 5 questions in 30 minutes (--seed 1 asks the same ones)." in out
    assert "Mock round · question 1/5 · explain" in out and "30:00 left" in out
    assert "Never shown" not in out  # no hints
    assert "Covered 2 of 3 points → Hard" in out and "Follow-up: What else?" in out
    assert "Correct!" in out and "✓ Correct!" in out
    assert "the first one counts (no hints, no retry)" in out
    assert "Mock round scorecard" in out and "Score 73%" in out  # (2/3 + 1 + 1 + 1 + 0) / 5
    assert "5 of 5 questions" in out and "every question answered" in out
    assert "First round" in out
    assert "quizforge study --cram --tag backprop" in out
    # every answer counted as a review; the drill attempt stored with its card
    rows = json.loads(runner.invoke(app, ["decks", "--json"]).stdout)
    assert next(x for x in rows if x["id"] == "talk")["reviews"] == 5
    r2 = mock_run("--questions", "5", input="\n1 2 3\n\n4\nb\nq\n")
    assert r2.exit_code == 0, r2.output
    assert "Compared with earlier rounds" in r2.stdout and "round 1" in r2.stdout
    assert "3 of 5 questions" in r2.stdout and "ended early" in r2.stdout
    data = json.loads(runner.invoke(app, ["mock", "--json"]).stdout)
    assert [x["round"] for x in data["rounds"]] == [1, 2]
    first = data["rounds"][0]
    assert first["score"] == round((2 / 3 + 3) / 5, 4) and first["answered"] == 5
    assert [a["kind"] for a in first["answers"]] == ["explain", "flashcard", "mcq", "formula",
                                                     "generated"]
    assert data["rounds"][1]["ended"] == "quit" and data["rounds"][1]["score"] == round(2 / 3, 4)
    # the report: a new key, and a small section
    rep = json.loads(runner.invoke(app, ["report", "--json"]).stdout)
    assert [(x["round"], x["score"], x["answered"]) for x in rep["mock_rounds"]["rounds"]] == [
        (1, round((2 / 3 + 3) / 5, 4), 5), (2, round(2 / 3, 4), 3)]
    text = runner.invoke(app, ["report"]).stdout
    assert "Mock rounds" in text and "5/5 questions  73%" in text and "3/5 questions  67%  −7" in text


def test_errors_are_one_line(talk):
    r = runner.invoke(app, ["mock", "--deck", "nope"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: no deck with id 'nope' (decks found:")
    r = runner.invoke(app, ["mock", "--tag", "nope"])
    assert (r.exit_code, r.stderr) == (1, "Error: no card has tag 'nope'\n")
    r = runner.invoke(app, ["mock", "--minutes", "0"])
    assert r.exit_code == 2


# -- a real terminal ------------------------------------------------------------------------
PTY_DECK = """\
deck: pty
name: Pty
cards:
  - id: why
    type: explain
    question: Why does Adam need bias correction?
    points: [Moments start at zero, Early estimates are biased low, Divide by 1 − βᵗ]
    follow_up: How large is the first step?
    tags: [adam]
  - id: pick
    type: mcq
    question: Which is a regularizer?
    choices: [Dropout, ReLU]
    answer: a
    shuffle: false
    tags: [regularization]
"""
# quizforge with an empty bundled folder (the first argument), so the round is drawn from
# the test's deck alone
LAUNCH = ("import pathlib, sys, quizforge.paths as p; d = pathlib.Path(sys.argv.pop(1)); "
          "p.bundled_decks_dir = lambda: d; "
          "from quizforge.cli import main; sys.argv[0] = 'quizforge'; main()")


def test_a_short_round_in_a_terminal(tmp_path):
    import os
    import sys

    from tests.helpers import restore_sigint

    pexpect = pytest.importorskip("pexpect")
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "pty.yaml").write_text(PTY_DECK)
    (tmp_path / "none").mkdir()
    env = {**os.environ, "COLUMNS": "80", "LINES": "24", "NO_COLOR": "1",
           "QUIZFORGE_HOME": str(tmp_path / "home"), "QUIZFORGE_DECKS": str(tmp_path / "decks"),
           "QUIZFORGE_NOW": "2026-03-02T12:00:00Z"}
    child = pexpect.spawn(sys.executable, ["-c", LAUNCH, str(tmp_path / "none"), "mock",
                                           "--minutes", "10", "--seed", "4"],
                          env=env, encoding="utf-8", timeout=90, dimensions=(24, 80),
                          preexec_fn=restore_sigint)
    child.expect("2 questions in 10 minutes")
    for n in (1, 2):
        child.expect(f"question {n}/2")
        child.expect("10:00 left")
        kind = child.expect(["Question · Explain", "Question · Choose one"])
        if kind == 0:
            child.expect(r"\[10:00 left\] answer> ")
            child.sendline("")  # done, said out loud
            child.expect("Key points")
            child.expect(r"covered> ")
            child.sendline("7")  # not a point: asked again
            child.expect("1 to 3")
            child.sendline("1 2")
            child.expect("Covered 2 of 3 points")  # styles between the parts: two expects
            child.expect("→ Hard")
            child.expect("Follow-up: How large is the first step?")
        else:
            child.expect("10:00 left")
            child.send("a")  # one key, no Enter
            child.expect("Correct!")
        if n == 1:
            child.expect("next question")
            child.send(" ")
    child.expect("Mock round scorecard")
    child.expect(r"Score 83%")  # (2/3 + 1) / 2
    child.expect("First round")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")
