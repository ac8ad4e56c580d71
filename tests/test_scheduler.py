from datetime import UTC, datetime, timedelta

import fsrs
import pytest

from quizforge.errors import ConfigError
from quizforge.scheduling.config import Config, load_config, parse_steps, save_config
from quizforge.scheduling.days import day_bounds, study_day
from quizforge.scheduling.scheduler import (
    CardSchedule,
    Rating,
    Scheduler,
    State,
    format_interval,
)

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def run(ratings, config=None):
    s = Scheduler(config or Config(fuzz=False))
    card, now, out = CardSchedule(), T0, []
    for r in ratings:
        card, _rec = s.review(card, Rating(r), now)
        out.append((card.state, format_interval(card.due - now)))
        now = card.due
    return card, out


def test_golden_interval_sequence():
    # Golden values for FSRS-6 default parameters, desired retention 0.9, steps 1m 10m / 10m.
    card, out = run([3, 3, 3, 3, 1, 3, 3])
    assert out == [
        (State.LEARNING, "10m"),
        (State.REVIEW, "2d"),
        (State.REVIEW, "11d"),
        (State.REVIEW, "1.5mo"),
        (State.RELEARNING, "10m"),
        (State.REVIEW, "3d"),
        (State.REVIEW, "8d"),
    ]
    assert (card.reps, card.lapses) == (7, 1)


def test_matches_py_fsrs_directly():
    """Our wrapper adds counters but must schedule exactly as py-fsrs does."""
    ref = fsrs.Scheduler(enable_fuzzing=False)
    ref_card = fsrs.Card(card_id=1, due=T0)
    ours = Scheduler(Config(fuzz=False))
    card, now = CardSchedule(), T0
    for r in [3, 1, 2, 3, 4, 1, 1, 3, 3, 2]:
        ref_card, _ = ref.review_card(ref_card, fsrs.Rating(r), now)
        card, _ = ours.review(card, Rating(r), now)
        assert card.due == ref_card.due
        assert card.stability == pytest.approx(ref_card.stability)
        assert card.difficulty == pytest.approx(ref_card.difficulty)
        assert int(card.state) == int(ref_card.state)
        now = card.due + timedelta(hours=1)


def test_higher_retention_gives_shorter_intervals():
    s_lo = Scheduler(Config(fuzz=False, desired_retention=0.8))
    s_hi = Scheduler(Config(fuzz=False, desired_retention=0.95))
    c = CardSchedule()
    c, _ = s_lo.review(c, Rating.EASY, T0)
    assert s_hi.preview(c, T0)[Rating.GOOD] < s_lo.preview(c, T0)[Rating.GOOD]


def test_maximum_interval_caps():
    card, _ = run([4] * 12, Config(fuzz=False, maximum_interval=30))
    assert card.due - card.last_review <= timedelta(days=30)


def test_review_record_is_revlog_shaped():
    s = Scheduler(Config(fuzz=False))
    c1, r1 = s.review(CardSchedule(), Rating.GOOD, T0, duration_ms=4200)
    assert r1.state_before == State.NEW and r1.elapsed_days is None
    assert r1.duration_ms == 4200 and r1.interval_days == pytest.approx(10 / 1440)
    _c2, r2 = s.review(c1, Rating.GOOD, T0 + timedelta(minutes=10))
    assert r2.state_before == State.LEARNING
    assert r2.elapsed_days == pytest.approx(10 / 1440)
    assert r2.interval_days == pytest.approx(2.0)


def test_lapses_and_leech_after_threshold():
    s = Scheduler(Config(fuzz=False, leech_threshold=3, relearning_steps=""))
    card, now = CardSchedule(), T0
    card, _ = s.review(card, Rating.EASY, now)
    flags = []
    for _ in range(4):
        now = card.due
        card, rec = s.review(card, Rating.AGAIN, now)
        flags.append((card.lapses, rec.lapse, rec.became_leech, card.suspended))
    assert flags == [
        (1, True, False, False),
        (2, True, False, False),
        (3, True, True, True),
        (4, True, False, True),  # told once
    ]


def test_again_on_learning_card_is_not_a_lapse():
    s = Scheduler(Config(fuzz=False))
    card, rec = s.review(CardSchedule(), Rating.AGAIN, T0)
    assert card.lapses == 0 and not rec.lapse


def test_preview_does_not_change_card_and_is_unfuzzed():
    s = Scheduler(Config(fuzz=True))
    c, _ = s.review(CardSchedule(), Rating.EASY, T0)
    p1 = s.preview(c, T0 + timedelta(days=8))
    p2 = s.preview(c, T0 + timedelta(days=8))
    assert p1 == p2
    assert p1[Rating.AGAIN] < p1[Rating.HARD] <= p1[Rating.GOOD] < p1[Rating.EASY]


def test_naive_datetime_rejected():
    with pytest.raises(ValueError, match="UTC"):
        Scheduler().review(CardSchedule(), Rating.GOOD, datetime(2026, 1, 1))


def test_retrievability():
    s = Scheduler(Config(fuzz=False))
    assert s.retrievability(CardSchedule(), T0) == 0.0
    c, _ = s.review(CardSchedule(), Rating.EASY, T0)
    r_soon = s.retrievability(c, T0 + timedelta(days=1))
    r_late = s.retrievability(c, T0 + timedelta(days=60))
    assert 1 >= r_soon > r_late > 0


def test_schedule_dict_round_trip():
    s = Scheduler(Config(fuzz=False))
    c, _ = s.review(CardSchedule(), Rating.GOOD, T0)
    assert CardSchedule.from_dict(c.to_dict()) == c
    assert CardSchedule.from_dict(CardSchedule().to_dict()) == CardSchedule()


@pytest.mark.parametrize(
    "delta,text",
    [(timedelta(seconds=30), "30s"), (timedelta(minutes=10), "10m"), (timedelta(hours=5), "5h"),
     (timedelta(days=3), "3d"), (timedelta(days=45), "1.5mo"), (timedelta(days=730), "2.0y")],
)
def test_format_interval(delta, text):
    assert format_interval(delta) == text


def test_config_validation_reports_every_problem():
    with pytest.raises(ConfigError) as e:
        Config(desired_retention=1.5, new_per_day=-1, learning_steps="1x")
    msg = str(e.value)
    assert "desired_retention must be between 0.7 and 0.99, got 1.5" in msg
    assert "new_per_day must be from 0 to 100,000, got -1" in msg
    assert "learning_steps: bad step '1x'" in msg


def test_config_round_trip_and_set(tmp_path):
    path = tmp_path / "config.toml"
    assert load_config(path) == Config()
    cfg = Config().with_value("desired_retention", "0.85").with_value("fuzz", "off")
    save_config(cfg, path)
    assert load_config(path) == cfg
    with pytest.raises(ConfigError, match="unknown setting 'retention'"):
        cfg.with_value("retention", "0.8")
    with pytest.raises(ConfigError, match="new_per_day must be a whole number, got 'lots'"):
        cfg.with_value("new_per_day", "lots")


def test_config_file_errors_name_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("desired_retention = = 3\n")
    with pytest.raises(ConfigError, match=str(path)):
        load_config(path)


def test_parse_steps():
    assert parse_steps("1m 10m") == (timedelta(minutes=1), timedelta(minutes=10))
    assert parse_steps("30s,1h 1d") == (timedelta(seconds=30), timedelta(hours=1), timedelta(days=1))
    assert parse_steps("") == ()


def test_study_day_rolls_over_at_4am():
    utc = UTC
    assert str(study_day(datetime(2026, 1, 2, 3, 59, tzinfo=utc), 4, utc)) == "2026-01-01"
    assert str(study_day(datetime(2026, 1, 2, 4, 0, tzinfo=utc), 4, utc)) == "2026-01-02"
    start, end = day_bounds(datetime(2026, 1, 2, 1, tzinfo=utc), 4, utc)
    assert start == datetime(2026, 1, 1, 4, tzinfo=utc) and end - start == timedelta(days=1)


def test_seeded_fuzz_is_deterministic_and_leaves_global_random_alone():
    import random

    s = Scheduler(Config(fuzz=True))
    c, _ = s.review(CardSchedule(), Rating.EASY, T0)
    now = c.due
    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    dues = {s.review(c, Rating.GOOD, now, fuzz_seed=7)[0].due for _ in range(5)}
    assert len(dues) == 1
    assert random.random() == expected_next
    spread = {s.review(c, Rating.GOOD, now, fuzz_seed=k)[0].due for k in range(40)}
    assert len(spread) > 1  # fuzz still spreads cards with different seeds
