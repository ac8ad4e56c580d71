"""Issue 19: a plan that reaches the interview date, new cards in a sensible order, and why
nothing is left. Fixed clocks (QUIZFORGE_NOW, T0) and seeds throughout."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import fsrs
import pytest
from helpers import T0, make_deck
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.scheduling.config import Config
from quizforge.scheduling.plan import (
    DEFAULT_SECONDS_NEW,
    DEFAULT_SECONDS_REVIEW,
    DeckCards,
    make_plan,
    needed_per_day,
    pace_from_counts,
    plan_line,
)
from quizforge.scheduling.scheduler import CardSchedule, Scheduler, State
from quizforge.scheduling.simulate import Collection, simulate
from quizforge.study.idle import Idle, reasons
from quizforge.study.new_order import NewCard, deck_weight, order_new
from quizforge.study.session import Session, StudyOptions

runner = CliRunner()
DAY_END = T0 + timedelta(hours=16)  # study days start at 4 am UTC (tests run in UTC)


# -- new cards in a sensible order ----------------------------------------------------------
def test_a_fresh_store_first_session_mixes_decks_and_card_types(db):
    from quizforge.decks import load_decks
    from quizforge.paths import bundled_decks_dir

    decks = load_decks([bundled_decks_dir()]).decks
    assert len(decks) >= 13
    s = Session(db, decks, Scheduler(Config()), StudyOptions(), T0)
    first = list(s.queue.new)
    assert len(first) == 20
    kinds = {s.card(e.deck_id, e.card_id).type for e in first}
    assert first[0].deck_id == "backprop"  # the core deck first
    assert len({e.deck_id for e in first}) >= 10
    assert {"mcq", "formula", "flashcard"} <= kinds
    # the old order: 20 flashcards-and-more from one deck, in file order
    s_deck = Session(db, decks, Scheduler(Config(new_order="deck")), StudyOptions(), T0)
    assert len({e.deck_id for e in s_deck.queue.new}) == 1


def test_mixed_shares_follow_size_and_weight_and_carry_over_days():
    cards = [NewCard(f"a{i}", "a", "flashcard", i) for i in range(30)]
    cards += [NewCard(f"b{i}", "b", "flashcard", i) for i in range(10)]
    got = order_new(cards, "mixed", 8)
    # equal weights: b (10 cards) gets a quarter of the picks, a (30) three quarters
    assert [c.deck_id for c in got].count("b") == 2
    assert got[0].item == "a0" and got[1].item == "b0"  # ties: by deck id, then file order
    # a deck already ahead of its share (started earlier) waits for the other
    ahead = order_new(cards, "mixed", 4, started={("a", "flashcard"): 20})
    assert [c.deck_id for c in ahead] == ["b"] * 4
    # weight 3 against 1 on equal sizes: three picks for one
    even = [NewCard(f"b{i}", "b", "flashcard", i) for i in range(30)] + cards[:30]
    heavy = order_new(even, "mixed", 8, weights={"b": 3.0})
    assert [c.deck_id for c in heavy].count("b") == 6
    assert heavy[0].deck_id == "b"  # the heavier deck wins ties


def test_mixed_interleaves_card_types_within_a_deck():
    cards = [NewCard(f"f{i}", "d", "flashcard", i) for i in range(6)]
    cards += [NewCard(f"m{i}", "d", "mcq", 6 + i) for i in range(3)]
    got = [c.item for c in order_new(cards, "mixed", 6)]
    # shares taken/size after each pick: f 1/6, m 1/3, f 2/6 = m 1/3 (a tie: the type taken
    # less often so far, m), f 3/6, f 4/6 -- two flashcards for each MCQ
    assert got == ["f0", "m0", "f1", "m1", "f2", "f3"]


def test_deck_and_random_orders():
    cards = [NewCard(i, "d" if i % 2 else "e", "flashcard", i) for i in range(10)]
    assert [c.item for c in order_new(cards, "deck", 4)] == [0, 1, 2, 3]
    once = [c.item for c in order_new(cards, "random", 10, seed=7)]
    assert once == [c.item for c in order_new(cards, "random", 10, seed=7)]
    assert sorted(once) == list(range(10)) and once != list(range(10))
    with pytest.raises(ValueError):
        order_new(cards, "sideways", 3)


def test_deck_weights():
    assert deck_weight("backprop", ["deep-learning"]) == 3
    assert deck_weight("transformers", ["deep-learning", "transformers"]) == 2
    assert deck_weight("glossary", ["glossary", "zh-tw"]) == 0.5
    assert deck_weight("evaluation", ["evaluation"]) == 1


def test_new_order_setting_is_checked():
    from quizforge.errors import ConfigError

    with pytest.raises(ConfigError, match="new_order must be mixed, deck or random, got 'x'"):
        Config(new_order="x")
    with pytest.raises(ConfigError, match="daily_minutes must be 0"):
        Config(daily_minutes=-5)


def test_the_daily_new_limit_is_shared_across_decks(db):
    decks = [make_deck("a", n_flash=10), make_deck("b", n_flash=10)]
    s = Session(db, decks, Scheduler(Config(new_per_day=6)), StudyOptions(), T0)
    assert sorted(e.deck_id for e in s.queue.new) == ["a"] * 3 + ["b"] * 3


# -- why nothing is left ----------------------------------------------------------------------
def test_reasons_name_the_cap_and_the_total_that_goes_past_it():
    idle = Idle(new_cap=20, cap_from_option=False, new_seen_today=20, new_left=342,
                new_per_day=20, reviews_cap=200, reviews_done=12, reviews_waiting=0,
                decks=("autograd-architectures",))
    r = reasons(idle)
    assert r[0].text == (
        "New cards: today's limit is reached (20 seen today in all decks, new_per_day 20; 342"
        " left in these decks). --new is the day's total, not N more: --new 40 shows up to 20 more.")
    assert r[0].command == "quizforge study --deck autograd-architectures --new 40"
    assert r[1].text == "Reviews: all done for now." and r[1].command is None
    capped = Idle(20, True, 25, 3, 20, 200, 200, 31)
    r = reasons(capped)
    assert r[0].command == "quizforge study --new 28"  # only 3 left
    assert "(25 seen today, --new 20; 3 left in your decks)" in r[0].text
    assert r[1].text == ("Reviews: today's limit is reached (200 done, reviews_per_day 200;"
                         " 31 more due).")
    assert r[1].command == "quizforge config set reviews_per_day 231"
    done = reasons(Idle(20, False, 3, 0, 20, 200, 0, 0))
    assert done[0].text == "New cards: none left in your decks (every card has been started)."


TINY = """\
deck: tiny
name: Tiny
cards:
  - id: one
    front: Front one
    back: Back one
  - id: two
    front: Front two
    back: Back two
  - id: three
    front: Front three
    back: Back three
"""


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    d = tmp_path / "decks"
    d.mkdir()
    (d / "tiny.yaml").write_text(TINY)
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    return d


def test_study_says_why_nothing_is_left(tiny):
    runner.invoke(app, ["study", "--deck", "tiny", "--new", "2"], input="\n4\n\n4\n")
    r = runner.invoke(app, ["study", "--deck", "tiny", "--new", "2"])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Nothing to study right now. Next card due in ")
    assert lines[1:] == [
        "New cards: today's limit is reached (2 seen today in all decks, --new 2; 1 left in these",
        "--new is the day's total, not N more: --new 3 shows up to 1 more.",
        "  $ quizforge study --deck tiny --new 3",
        "Reviews: all done for now.",
    ] or "--new 3 shows up to 1 more" in r.stdout  # wrapped differently on narrow consoles
    r = runner.invoke(app, ["study", "--deck", "tiny", "--new", "3"], input="\n4\n")
    assert "Front" in r.stdout  # the one left


# -- the plan -----------------------------------------------------------------------------------
def test_needed_per_day_against_a_hand_count():
    # 362 new cards, interview in 14 days: starts on days 0..12 (13 days), 362/13 = 27.8
    assert needed_per_day(362, 0, 14) == 28
    assert needed_per_day(362, 20, 14) == math.ceil(382 / 13)  # today's 20 count in its total
    assert needed_per_day(0, 0, 14) == 0
    assert needed_per_day(10, 0, 1) is None  # tomorrow: a card met today is not seen twice


def decks_362():
    return [DeckCards("backprop", 3.0, (), 100), DeckCards("glossary", 0.5, (), 82),
            DeckCards("evaluation", 1.0, (), 180)]


def test_362_new_cards_in_14_days_do_not_fit_20_a_day_and_28_do():
    cfg = Config(new_per_day=20, interview_date="2026-03-16")
    p = make_plan(decks_362(), cfg, date(2026, 3, 16), 14, T0, DAY_END, seed=1)
    assert p.new_left == 362 and p.needed == 28
    assert not p.fits_new and not p.fits
    assert plan_line(p).text == "Plan: 362 new cards, 13 days: 28 a day needed, you have 20"
    w = p.full
    assert w.new_per_day == 28
    # the simulator, at 28 a day with the date's cap, sees every card on two days
    assert w.seen_twice == 362 and w.unseen == 0
    assert 0.0 < w.recall_on_date <= 1.0
    assert w.minutes_mean > 0 and p.fits_time is None  # no budget
    ok = make_plan(decks_362(), Config(new_per_day=30), date(2026, 3, 16), 14, T0, DAY_END)
    assert ok.fits_new and ok.fits and ok.full.new_per_day == 30


def test_over_the_budget_the_plan_drops_decks_least_weight_first():
    cfg = Config(new_per_day=28, daily_minutes=15)
    p = make_plan(decks_362(), cfg, date(2026, 3, 16), 14, T0, DAY_END, seed=1)
    assert p.fits_time is False and not p.fits
    assert p.drop[0] == "glossary"  # weight 0.5
    assert "backprop" not in p.drop
    assert p.kept.decks == tuple(d.deck_id for d in decks_362() if d.deck_id not in p.drop)
    assert p.kept.minutes_mean < p.full.minutes_mean
    roomy = make_plan(decks_362(), Config(new_per_day=28, daily_minutes=600),
                      date(2026, 3, 16), 14, T0, DAY_END, seed=1)
    assert roomy.fits and roomy.drop == ()


def test_pace_from_the_log_or_the_defaults():
    assert pace_from_counts([]).seconds_review == DEFAULT_SECONDS_REVIEW
    assert pace_from_counts([]).seconds_new == DEFAULT_SECONDS_NEW
    # 40 timed first answers of 20 s, 80 steps of 10 s: 40 s a new card; 10 reviews: too few
    p = pace_from_counts([(0, 3, 40, 40, 800_000), (1, 3, 80, 80, 800_000), (2, 3, 10, 10, 1)])
    assert p.seconds_new == pytest.approx(40.0) and p.new_from_log
    assert p.seconds_review == DEFAULT_SECONDS_REVIEW and not p.review_from_log
    assert p.source == "your review log for new cards, defaults otherwise"


# -- simulate honours the date ----------------------------------------------------------------
def review_card(stability, elapsed, due_in):
    return CardSchedule(state=State.REVIEW, stability=stability, difficulty=5.0,
                        due=T0 + timedelta(days=due_in), last_review=T0 - timedelta(days=elapsed),
                        reps=3)


def test_simulate_brings_reviews_past_the_date_to_the_day_before():
    cfg = Config(fuzz=False, new_per_day=0)
    far = Collection((review_card(40.0, 5, 35),), 0)
    plain = simulate(far, cfg, [0.9], 12, T0, DAY_END, seed=3).runs[0]
    dated = simulate(far, cfg, [0.9], 12, T0, DAY_END, seed=3, interview_day=10).runs[0]
    assert sum(plain.reviews) == 0
    assert dated.reviews[9] == 1 and sum(dated.reviews) == 1  # held over to the last day
    assert dated.seen_twice == 1 and dated.unseen == 0
    # new cards: every review lands by the last day before the date, none after it
    fresh = simulate(Collection((), 40), Config(new_per_day=10), [0.9], 12, T0, DAY_END,
                     seed=3, interview_day=8).runs[0]
    assert fresh.seen_twice == 40
    assert sum(fresh.reviews[8:]) == 0 or fresh.reviews[7] > 0


def test_recall_on_the_date_is_fsrs_recall_at_the_start_of_that_day():
    # reviews_per_day 0: the card is not reviewed (else it would be, on the last day)
    cfg = Config(fuzz=False, new_per_day=0, reviews_per_day=0)
    card = review_card(12.0, 3, 9)
    sim = simulate(Collection((card,), 2), cfg, [0.9], 5, T0, DAY_END, seed=0, interview_day=3)
    run = sim.runs[0]
    moment = DAY_END + timedelta(days=2)  # the start of the interview's study day
    ref = fsrs.Scheduler().get_card_retrievability(
        fsrs.Card(state=fsrs.State.Review, stability=12.0, difficulty=5.0,
                  due=card.due, last_review=card.last_review), moment)
    assert run.recall_on_date == pytest.approx(ref, rel=1e-9)
    assert run.recall_on_date_mean == pytest.approx(ref / 3)  # two new cards count 0
    assert sim.to_dict()["runs"][0]["unseen_by_date"] == 2


# -- the commands ----------------------------------------------------------------------------
def write_big_decks(d):
    for deck_id, n, tags in (("big-a", 182, "[misc]"), ("big-b", 180, "[deep-learning]")):
        cards = "".join(f"  - id: c{i}\n    front: Q{i}\n    back: A{i}\n" for i in range(n))
        (d / f"{deck_id}.yaml").write_text(
            f"deck: {deck_id}\nname: {deck_id}\ntags: {tags}\ncards:\n{cards}")


def test_plan_command(tiny):
    r = runner.invoke(app, ["plan"])
    assert r.exit_code == 0
    assert r.stdout.strip() == "No interview date set: quizforge config set interview_date YYYY-MM-DD"
    write_big_decks(tiny)
    runner.invoke(app, ["config", "set", "interview_date", "2026-03-16"])
    r = runner.invoke(app, ["plan", "--deck", "big-a", "--deck", "big-b", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["new_left"] == 362 and data["days_left"] == 14
    assert data["new_per_day_needed"] == 28 and data["fits"] is False
    assert data["workload"]["seen_twice_by_date"] == 362
    assert data["pace"]["source"].startswith("defaults")
    r = runner.invoke(app, ["plan", "--deck", "big-a", "--deck", "big-b"])
    r.stdout_flat = " ".join(r.stdout.split())
    assert "does not fit." in r.stdout_flat
    assert "quizforge config set new_per_day 28" in r.stdout_flat
    assert "quizforge config set daily_minutes 45" in r.stdout_flat
    runner.invoke(app, ["config", "set", "daily_minutes", "10"])
    data = json.loads(runner.invoke(app, ["plan", "-d", "big-a", "-d", "big-b", "--json"]).stdout)
    assert data["fits_daily_minutes"] is False and data["drop"] == ["big-a"]
    r = runner.invoke(app, ["plan", "--deck", "nope"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: no deck with id 'nope'")


def test_home_and_report_show_the_plan(tiny):
    runner.invoke(app, ["config", "set", "interview_date", "2026-03-16"])
    r = runner.invoke(app, [])
    import re

    home = " ".join(r.stdout.split())
    assert re.search(r"Plan: [\d,]+ new cards, 13 days: \d+ a day needed, you have 20 → "
                     "quizforge plan", home), home
    runner.invoke(app, ["study", "--deck", "tiny"], input="\n3\n\n3\n\n3\nq\n")
    data = json.loads(runner.invoke(app, ["report", "--deck", "tiny", "--json"]).stdout)
    total = data["interview"]["total"]
    assert total["ready"] == pytest.approx(total["recall"] * total["reviewed"]
                                           / (total["reviewed"] + total["new"]), abs=1e-3)
    assert data["interview"]["plan"]["new_left"] == total["new"]
    text = " ".join(runner.invoke(app, ["report", "--deck", "tiny"]).stdout.split())
    assert f"Ready {100 * total['ready']:.0f}% for 16 Mar: expected recall then, all 3 cards" in text
    assert "Mastered 0% for the long term (0 of 3: interval ≥ 21 days, recall ≥ 90%)" in text
    assert datetime(2026, 3, 2, tzinfo=UTC)  # the clock is fixed by QUIZFORGE_NOW
