"""The workload simulator (quizforge/scheduling/simulate.py), against independent references:
fsrs-rs-python's Rust simulator on a fresh deck, py-fsrs's own probability of recall, and
the FSRS forgetting curve."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import fsrs
import pytest

from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import CardSchedule, State
from quizforge.scheduling.simulate import (
    DEFAULT_FIRST,
    DEFAULT_RECALLED,
    DEFAULT_STEP,
    MIN_ANSWERS,
    Behaviour,
    Collection,
    RetentionRun,
    SimulationError,
    behaviour_from_counts,
    check_options,
    fsrs_parameters,
    parse_retentions,
    parse_whole,
    simulate,
    suggest,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY_END = NOW + timedelta(hours=16)  # study days start at 4 am UTC
UNLIMITED = Config(fuzz=False, new_per_day=10, reviews_per_day=100_000)
ALWAYS_GOOD_STEPS = Behaviour(step=(0, 0, 1, 0))


def review_card(stability: float, elapsed: float, due_in: float, difficulty: float = 5.0):
    return CardSchedule(
        state=State.REVIEW,
        stability=stability,
        difficulty=difficulty,
        due=NOW + timedelta(days=due_in),
        last_review=NOW - timedelta(days=elapsed),
        reps=3,
    )


# -- fsrs-rs-python's simulator: a fresh deck, the same rules, the same rating shares -------------
@pytest.mark.parametrize("retention", [0.8, 0.95])
def test_fresh_deck_matches_the_rust_simulator(retention):
    rs = pytest.importorskip("fsrs_rs_python")
    n, days, seeds = 400, 50, range(3)
    cfg = rs.default_simulator_config()
    cfg.deck_size, cfg.learn_span, cfg.max_cost_perday = n, days, 1e9
    cfg.learn_limit, cfg.review_limit = UNLIMITED.new_per_day, UNLIMITED.reviews_per_day
    cfg.first_rating_prob = list(DEFAULT_FIRST)
    cfg.review_rating_prob = list(DEFAULT_RECALLED)
    cfg.learning_step_transitions = [list(DEFAULT_STEP)] * 3
    cfg.relearning_step_transitions = [list(DEFAULT_STEP)] * 3
    cfg.learning_step_count, cfg.relearning_step_count = 2, 1  # "1m 10m" and "10m"
    theirs = [rs.simulate(list(rs.DEFAULT_PARAMETERS), retention, cfg, s) for s in seeds]
    ours = [
        simulate(Collection((), n), UNLIMITED, [retention], days, NOW, DAY_END, seed=s).runs[0]
        for s in seeds
    ]
    their_reviews = sum(sum(r.review_cnt_per_day) for r in theirs) / len(seeds)
    our_reviews = sum(sum(r.reviews) for r in ours) / len(seeds)
    their_memory = sum(r.memorized_cnt_per_day[-1] for r in theirs) / len(seeds)
    our_memory = sum(r.remembered_end for r in ours) / len(seeds)
    assert our_reviews == pytest.approx(their_reviews, rel=0.08)
    assert our_memory == pytest.approx(their_memory, rel=0.015)
    assert all(sum(r.new) == n for r in ours)  # 10 a day for 40 days


# -- py-fsrs: recall is drawn with its probability ------------------------------------------------
def test_reviews_are_recalled_with_the_fsrs_probability():
    n = 3000
    card = review_card(stability=10, elapsed=15, due_in=-1)
    cards = (card,) * n
    sim = simulate(Collection(cards, 0), UNLIMITED, [0.9], 1, NOW, DAY_END, seed=3,
                   behaviour=ALWAYS_GOOD_STEPS)
    run = sim.runs[0]
    # py-fsrs as the reference: the probability of recall of that card now.
    p = fsrs.Scheduler().get_card_retrievability(
        fsrs.Card(card_id=1, state=fsrs.State.Review, stability=10, difficulty=5,
                  due=card.due, last_review=card.last_review),
        NOW,
    )
    assert run.reviews == (n,)
    lapses = run.answers[0] - n  # each lapse adds exactly one relearning step ("10m", Good)
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(lapses - n * (1 - p)) < 4 * sigma


def test_remembered_is_the_forgetting_curve_of_untouched_cards():
    cards = tuple(review_card(stability=s, elapsed=e, due_in=200) for s, e in
                  [(3.0, 1.5), (40.0, 10.2), (150.0, 90.7), (7.5, 0.0)])
    run = simulate(Collection(cards, 2), Config(new_per_day=0), [0.9], 5, NOW, DAY_END).runs[0]
    reference = fsrs.Scheduler()
    for day in range(5):
        end = DAY_END + timedelta(days=day)
        expected = sum(
            reference.get_card_retrievability(
                fsrs.Card(card_id=1, state=fsrs.State.Review, stability=c.stability,
                          difficulty=c.difficulty, due=c.due, last_review=c.last_review),
                end,
            )
            for c in cards
        )
        assert run.remembered[day] == pytest.approx(expected, rel=1e-9)
    assert run.answers == (0,) * 5 and run.new_left == 2


def test_higher_retention_costs_more_and_keeps_more():
    rng = random.Random(5)
    cards = tuple(
        review_card(rng.uniform(2, 60), rng.uniform(0, 30), rng.uniform(-3, 30)) for _ in range(400)
    )
    sim = simulate(Collection(cards, 200), UNLIMITED, [0.8, 0.9, 0.95], 60, NOW, DAY_END)
    totals = [r.total for r in sim.runs]
    remembered = [r.remembered_end for r in sim.runs]
    assert totals == sorted(totals) and totals[0] < totals[-1] * 0.7
    assert remembered == sorted(remembered)


# -- the daily rules of `study` ---------------------------------------------------------------------
def test_daily_limits_hold_and_the_rest_is_backlog():
    cards = tuple(review_card(5, 10, due_in=-d / 10) for d in range(300))
    config = Config(fuzz=False, new_per_day=7, reviews_per_day=50)
    col = Collection(cards, 30, done_today_new=4, done_today_reviews=20)
    run = simulate(col, config, [0.9], 4, NOW, DAY_END).runs[0]
    assert run.reviews[0] == 30  # 50 less the 20 done today
    assert all(n == 50 for n in run.reviews[1:])
    assert run.new == (3, 7, 7, 7)
    assert run.new_left == 30 - 24
    assert run.backlog >= 300 - 30 - 150
    # --new-per-day overrides the config
    run = simulate(col, config, [0.9], 4, NOW, DAY_END, new_per_day=1).runs[0]
    assert run.new == (0, 1, 1, 1)


def test_a_review_due_later_today_is_todays_and_tomorrows_is_not():
    cards = (review_card(20, 20, due_in=0.5), review_card(20, 20, due_in=0.7))
    run = simulate(Collection(cards, 0), UNLIMITED, [0.9], 2, NOW, DAY_END, seed=1,
                   behaviour=Behaviour(recalled=(0, 1, 0))).runs[0]
    assert run.reviews == (1, 1)  # 0.5 day from noon is before 4 am; 0.7 day is after


def test_learning_cards_finish_their_steps_within_the_day():
    learning = CardSchedule(state=State.LEARNING, step=1, stability=2.3, difficulty=5,
                            due=NOW + timedelta(minutes=30), last_review=NOW)
    run = simulate(Collection((learning,), 0), UNLIMITED, [0.9], 1, NOW, DAY_END,
                   behaviour=Behaviour(step=(0, 0, 1, 0))).runs[0]
    assert run.answers == (1,)  # Good on its last step: it graduates
    assert run.reviews == (0,) and run.remembered[0] > 0.9


def test_a_learner_who_fails_every_step_still_ends_the_day():
    stuck = Behaviour(first=(1, 0, 0, 0), step=(1, 0, 0, 0))
    run = simulate(Collection((), 3), Config(new_per_day=3), [0.9], 3, NOW, DAY_END,
                   behaviour=stuck).runs[0]
    assert run.new == (3, 0, 0)
    assert all(a > 3 for a in run.answers)  # the stuck cards come back each day


def test_same_seed_same_result_and_the_global_random_is_left_alone():
    cards = tuple(review_card(4, 6, due_in=i / 7) for i in range(60))
    state = random.getstate()
    a = simulate(Collection(cards, 20), Config(), [0.85, 0.9], 30, NOW, DAY_END, seed=9)
    assert random.getstate() == state
    b = simulate(Collection(cards, 20), Config(), [0.85, 0.9], 30, NOW, DAY_END, seed=9)
    c = simulate(Collection(cards, 20), Config(), [0.85, 0.9], 30, NOW, DAY_END, seed=10)
    assert a == b
    assert a.runs[0].answers != c.runs[0].answers


def test_a_lapse_that_makes_a_leech_suspends_the_card():
    weak = tuple(review_card(0.5, 60, due_in=-1) for _ in range(50))
    config = Config(leech_threshold=1, reviews_per_day=1000, fuzz=False)
    run = simulate(Collection(weak, 0), config, [0.9], 1, NOW, DAY_END).runs[0]
    # Every lapse suspends its card at once: no relearning step is answered.
    assert run.reviews == (50,) and run.answers == (50,)
    config = Config(leech_threshold=100, reviews_per_day=1000, fuzz=False)
    run = simulate(Collection(weak, 0), config, [0.9], 1, NOW, DAY_END).runs[0]
    assert run.reviews == (50,) and run.answers[0] > 60


# -- the learner's behaviour from the review log ----------------------------------------------------
def test_behaviour_from_counts_uses_the_log_where_it_is_long_enough():
    counts = [
        (0, 1, 10, 10, 100_000), (0, 3, 30, 30, 300_000),  # first answers: 40
        (2, 1, 5, 5, 50_000), (2, 2, 5, 5, 50_000), (2, 3, 20, 20, 200_000),  # recalled: 25
        (1, 3, 3, 0, 0),  # steps: 3, untimed
    ]
    b = behaviour_from_counts(counts)
    assert b.first == (0.25, 0.0, 0.75, 0.0)
    assert b.recalled == DEFAULT_RECALLED  # 25 recalled reviews < MIN_ANSWERS
    assert b.step == DEFAULT_STEP
    assert b.from_log == ("first",)
    assert b.seconds_first == 10.0
    assert b.seconds_review == 10.0  # too few of its own: the mean of all timed answers
    assert b.seconds_step == 10.0 and b.timed
    assert MIN_ANSWERS == 30


def test_untimed_log_gives_no_minutes():
    b = behaviour_from_counts([(2, 3, 100, 0, 0)])
    assert b.recalled == (0.0, 1.0, 0.0) and not b.timed


# -- the suggestion ---------------------------------------------------------------------------------
def run_of(retention, remembered, answers, backlog=0, seconds=None):
    per_day = (answers,)
    return RetentionRun(retention, per_day, per_day, (0,),
                        (seconds if seconds is not None else answers * 10.0,), (remembered,),
                        backlog, 0)


def test_suggest_takes_the_most_remembered_per_minute_and_the_highest_near_it():
    runs = [run_of(0.8, 100, 100), run_of(0.85, 130, 120), run_of(0.9, 140, 130),
            run_of(0.95, 150, 200)]
    # per minute: 6.0, 6.5, 6.46, 4.5 -> best 0.85; 0.9 is within 2% of it
    assert suggest(runs, timed=True).retention == 0.9
    assert suggest(runs[:2], timed=True).retention == 0.85


def test_suggest_counts_answers_when_untimed_and_skips_limited_runs():
    runs = [run_of(0.8, 100, 50, seconds=0), run_of(0.9, 120, 200, seconds=0)]
    assert suggest(runs, timed=False).retention == 0.8
    limited = [run_of(0.8, 100, 50, backlog=3), run_of(0.9, 120, 200)]
    assert suggest(limited, timed=True).retention == 0.9
    assert suggest([run_of(0.9, 1, 1, backlog=1)], timed=True) is None
    assert suggest([run_of(0.9, 0, 0)], timed=True) is None


# -- options --------------------------------------------------------------------------------------
def test_check_options_reports_every_problem():
    with pytest.raises(SimulationError) as e:
        check_options([0.5, 0.9, 0.9, 1.0], 0)
    assert str(e.value) == (
        "retention 0.5 is outside 0.7-0.99; retention 1 is outside 0.7-0.99; "
        "a --retention is given twice; --days 0 is outside 1-3650"
    )
    check_options([0.7, 0.99], 3650)
    check_options([0.9], 1)


def test_parse_retentions_and_counts():
    assert parse_retentions(["0.85", " 90% ", "0.7"]) == [0.85, 0.9, 0.7]
    with pytest.raises(SimulationError, match=r"retention 'x', 'inf' is not a number"):
        parse_retentions(["x", "0.9", "inf"])
    assert parse_whole(" 60 ", "--days") == 60
    with pytest.raises(SimulationError, match=r"^--days '6o' is not a whole number$"):
        parse_whole("6o", "--days")


@dataclass(frozen=True)
class WithParameters:
    parameters: object


def test_fsrs_parameters_default_and_fitted():
    assert fsrs_parameters(Config()) == tuple(fsrs.scheduler.DEFAULT_PARAMETERS)
    fitted = [round(p * 1.01, 4) for p in fsrs.scheduler.DEFAULT_PARAMETERS]
    assert fsrs_parameters(WithParameters(fitted)) == tuple(fitted)
    assert fsrs_parameters(WithParameters(", ".join(map(str, fitted)))) == tuple(fitted)
    assert fsrs_parameters(WithParameters(())) == tuple(fsrs.scheduler.DEFAULT_PARAMETERS)
    with pytest.raises(SimulationError, match="not numbers"):
        fsrs_parameters(WithParameters(["a"]))


def test_bad_parameters_are_a_one_line_error(monkeypatch):
    import quizforge.scheduling.simulate as sim

    monkeypatch.setattr(sim, "fsrs_parameters", lambda config: (1.0, 2.0))
    with pytest.raises(SimulationError, match="^the FSRS parameters in the settings are invalid"):
        simulate(Collection((), 1), Config(), [0.9], 1, NOW, DAY_END)


def test_suggest_weighs_what_the_reviews_gain_not_what_is_already_known():
    # 1,000 cards already known: counting them makes the cheapest retention look best
    # (1000/50 min vs 1030/60 min); what the reviews gain (0 → 30) favours the higher one
    runs = [run_of(0.8, 1000, 300), run_of(0.9, 1030, 360)]
    assert suggest(runs, timed=True).retention == 0.8
    assert suggest(runs, timed=True, baseline=990).retention == 0.9


def test_baseline_is_py_fsrs_recall_at_the_end_with_no_more_study():
    cards = (review_card(3.0, 2, 1), review_card(40.0, 10, 30), review_card(0.5, 1, 0))
    days = 20
    sim = simulate(Collection(cards, new=5), UNLIMITED, [0.9], days, NOW, DAY_END, seed=1)
    end = DAY_END + timedelta(days=days - 1)
    ref = fsrs.Scheduler(enable_fuzzing=False)
    expected = sum(ref.get_card_retrievability(
        fsrs.Card(card_id=i + 1, state=fsrs.State.Review, stability=c.stability,
                  difficulty=c.difficulty, due=c.due, last_review=c.last_review), end)
        for i, c in enumerate(cards))
    assert sim.baseline_end == pytest.approx(expected, rel=1e-9)
    assert sim.runs[0].remembered_end > sim.baseline_end  # studying keeps more than not
    data = sim.to_dict()
    assert data["baseline_end"] == round(sim.baseline_end, 2)
    assert data["runs"][0]["gained_end"] == round(sim.runs[0].remembered_end - sim.baseline_end, 2)
