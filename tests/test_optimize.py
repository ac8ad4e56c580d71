"""`quizforge optimize`: training items from the review log, fitting with fsrs-rs, the
refusal below fsrs-rs's minimum, saving only better parameters, and the `parameters`
setting they are saved to."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS
from fsrs_sim import TRUE_PARAMETERS, simulate
from helpers import T0, make_deck
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.errors import ConfigError
from quizforge.scheduling import fitting
from quizforge.store.cards import fitting_log
from quizforge.scheduling.config import Config, load_config, save_config
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State
from quizforge.store import cards as store
from quizforge.store.db import Database

runner = CliRunner()
DAY = 86_400_000
MIN = 60_000


def _items(hs):
    import fsrs_rs_python as rs

    return [
        rs.FSRSItem([rs.FSRSReview(g, dt) for g, dt in seq])
        for _, seq in fitting.training_sequences(hs)
    ]


# -- the review log as training items ---------------------------------------------------------
def test_histories_count_whole_days_and_label_only_later_day_answers():
    rows = [
        # card 1: new at 0, a learning step 10 minutes later, then 1 day 23 h later, then 3 days
        (1, 0, 3, 0), (1, 10 * MIN, 3, 1), (1, 10 * MIN + 47 * 3_600_000, 1, 2),
        (1, 10 * MIN + 47 * 3_600_000 + 3 * DAY, 3, 3),
        # card 2: its first answer is missing (history starts in review state): left out
        (2, 0, 3, 2), (2, 5 * DAY, 3, 2),
        # card 3: reset to new after two answers: its history starts over at the reset
        (3, 0, 1, 0), (3, 2 * DAY, 3, 2), (3, 9 * DAY, 4, 0), (3, 12 * DAY, 3, 2),
    ]
    hs, dropped = fitting.histories(rows)
    assert dropped == 2 + 2
    assert [h.card for h in hs] == [1, 3]
    assert hs[0].reviews == ((3, 0), (3, 0), (1, 1), (3, 3))  # 47 h is one whole day
    assert hs[0].label_indexes() == [2, 3]
    assert hs[1].reviews == ((4, 0), (3, 3))
    seqs = fitting.training_sequences(hs)
    assert [s for _, s in seqs] == [
        [(3, 0), (3, 0), (1, 1)],
        [(3, 0), (3, 0), (1, 1), (3, 3)],
        [(4, 0), (3, 3)],
    ]
    assert [t for t, _ in seqs] == sorted(t for t, _ in seqs)


def _review(conn, rowid, at, rating, state_before, cram=False):
    rec = ReviewRecord(at, Rating(rating), 1000, State(state_before), 1.0, None, False, False)
    store.insert_review(conn, rowid, rec, cram=cram)


def test_cram_and_drill_answers_are_left_out(db):
    store.sync_decks(db, [make_deck("d", n_flash=2)], T0)
    a, b = (r[0] for r in db.conn.execute("SELECT id FROM cards ORDER BY id"))
    with db.atomic() as conn:
        skill = store.ensure_card(conn, "drill", "backprop-d1", "skill", T0)
        for rowid in (a, skill):
            _review(conn, rowid, T0, 3, 0)
            _review(conn, rowid, T0 + timedelta(days=2), 3, 2)
            _review(conn, rowid, T0 + timedelta(days=6), 1, 2)
        _review(conn, a, T0 + timedelta(days=3), 1, 2, cram=True)  # would split 2..6
        _review(conn, b, T0, 3, 0)
    hs, counts = fitting.log_histories(*fitting_log(db, fitting.DRILL_KINDS))
    assert counts == fitting.LogCounts(
        total=8, cram=1, drill=3, no_start=0, history_only=2, training=2, cards=1
    )
    assert [h.reviews for h in hs] == [((3, 0), (3, 2), (1, 4)), ((3, 0),)]


# -- fitting ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_db():
    d = Database(":memory:")
    simulate(d, n_cards=300, days=120, seed=1)
    yield d
    d.close()


def test_fit_on_a_known_learner_beats_the_defaults(sim_db):
    hs, counts = fitting.log_histories(*fitting_log(sim_db, fitting.DRILL_KINDS))
    assert counts.training > 2000
    r = fitting.fit(hs, counts)
    truth = fitting.evaluate(_items(hs), TRUE_PARAMETERS)
    # Clearly better than the defaults, and close to what the true parameters score.
    assert r.better and r.current is None
    assert r.fitted.log_loss < r.default.log_loss - 0.01
    assert r.fitted.rmse_bins < r.default.rmse_bins
    assert r.fitted.log_loss < truth.log_loss + 0.005
    # The steeper-than-default forgetting shows in the first stabilities.
    assert r.parameters[2] < DEFAULT_PARAMETERS[2]
    Scheduler(Config(parameters=r.parameters))  # py-fsrs accepts them as they are saved


def test_fitted_parameters_are_rounded_and_clamped_to_py_fsrs_bounds():
    raw = list(DEFAULT_PARAMETERS)
    raw[0], raw[7], raw[20] = 0.000_912_3, 0.750_04, 0.123_456_7
    got = fitting.tidy(raw)
    assert got[0] == 0.001 and got[7] == 0.75 and got[20] == 0.1235


# -- the command ------------------------------------------------------------------------------
def _home_db():
    from quizforge.paths import db_path

    return Database(db_path())


def _fill_home(n_cards=300, days=120):
    with _home_db() as d:
        simulate(d, n_cards=n_cards, days=days, seed=1)


def test_refuses_an_empty_log_with_how_many_are_missing():
    r = runner.invoke(app, ["optimize"])
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == (
        "Error: not enough reviews to fit FSRS yet: 0 of the 64 needed, 64 more to go "
        "(reviews a day or more after the card's previous one count; cram and drill answers "
        "do not)\n"
    )


def test_refuses_a_short_log(monkeypatch):
    with _home_db() as d:
        store.sync_decks(d, [make_deck("d", n_flash=5)], T0)
        rowids = [r[0] for r in d.conn.execute("SELECT id FROM cards ORDER BY id")]
        with d.atomic() as conn:
            for rowid in rowids:  # 5 cards x (first + 1 same-day + 2 later days)
                _review(conn, rowid, T0, 3, 0)
                _review(conn, rowid, T0 + timedelta(minutes=10), 3, 1)
                _review(conn, rowid, T0 + timedelta(days=3), 3, 2)
                _review(conn, rowid, T0 + timedelta(days=9), 3, 2)
    r = runner.invoke(app, ["optimize", "--json"])
    assert r.exit_code == 1
    assert r.stderr.startswith(
        "Error: not enough reviews to fit FSRS yet: 10 of the 64 needed, 54 more to go ("
    )


def test_dry_run_shows_and_never_writes_the_config():
    from quizforge.paths import config_path

    _fill_home()
    r = runner.invoke(app, ["optimize", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "Fitted FSRS to 2," in r.stdout and "default" in r.stdout and "fitted" in r.stdout
    assert "--dry-run: nothing saved." in r.stdout
    assert not config_path().exists()
    save_config(Config(new_per_day=7), config_path())
    before = config_path().read_bytes()
    r = runner.invoke(app, ["optimize", "--dry-run", "--json"])
    data = json.loads(r.stdout)
    assert data["dry_run"] is True and data["saved"] is False and data["better"] is True
    assert config_path().read_bytes() == before


def test_saves_better_parameters_then_compares_against_them():
    from quizforge.paths import config_path

    _fill_home()
    save_config(Config(new_per_day=7), config_path())
    data = json.loads(runner.invoke(app, ["optimize", "--json"]).stdout)
    assert data["saved"] is True and data["current"] is None
    assert data["fitted"]["log_loss"] < data["default"]["log_loss"]
    cfg = load_config(config_path())
    assert cfg.parameters == tuple(data["parameters"]) and cfg.new_per_day == 7
    with _home_db() as d:  # the report's predictions were made again with them
        kept = d.conn.execute("SELECT parameters FROM recall_state").fetchone()[0]
    assert json.loads(kept) == list(cfg.parameters)
    # Second run: the saved parameters are now the ones to beat.
    data = json.loads(runner.invoke(app, ["optimize", "--json", "--dry-run"]).stdout)
    assert data["current_parameters"] == list(cfg.parameters)
    assert data["current"]["log_loss"] < data["default"]["log_loss"]


def test_keeps_the_parameters_in_use_when_the_fit_is_no_better(monkeypatch):
    from quizforge.paths import config_path

    _fill_home()
    # A fit that lands on the defaults again has the same log loss: not better.
    monkeypatch.setattr(fitting, "tidy", lambda raw: tuple(DEFAULT_PARAMETERS))
    r = runner.invoke(app, ["optimize"])
    assert r.exit_code == 0
    assert "Kept the default parameters: the fitted ones are no better on your log." in r.stdout
    assert not config_path().exists()


def test_a_broken_config_fails_before_the_work():
    from quizforge.paths import config_path

    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("parameters = [1, 2]\n")
    r = runner.invoke(app, ["optimize"])
    assert r.exit_code == 1
    assert r.stderr == f"Error: {config_path()}: parameters must be 21 numbers (FSRS-6), got 2\n"


def test_bad_option_is_a_usage_error():
    r = runner.invoke(app, ["optimize", "--dry"])
    assert r.exit_code == 2 and "No such option" in r.output


# -- the parameters setting -------------------------------------------------------------------
def test_parameters_round_trip_through_config_toml(tmp_path):
    path = tmp_path / "config.toml"
    cfg = Config(parameters=TRUE_PARAMETERS, desired_retention=0.85)
    save_config(cfg, path)
    assert "parameters = [0.1, 0.4, 0.9, 3.0," in path.read_text()
    assert load_config(path) == cfg
    assert Config.from_dict(cfg.to_dict()) == cfg
    save_config(replace(cfg, parameters=()), path)
    assert load_config(path).parameters == ()


def test_bad_parameters_are_reported_all_at_once():
    bad = list(TRUE_PARAMETERS)
    bad[4], bad[20] = 60.0, 0.95
    with pytest.raises(ConfigError) as e:
        Config(parameters=tuple(bad))
    assert str(e.value) == (
        "parameters out of range: w4 = 60 (allowed 1 to 10), w20 = 0.95 (allowed 0.1 to 0.8)"
    )
    with pytest.raises(ConfigError, match="must be 21 numbers"):
        Config.from_dict({"parameters": "1 2 x"})


def test_config_command_sets_shows_and_resets_parameters():
    text = " ".join(str(v) for v in TRUE_PARAMETERS)
    r = runner.invoke(app, ["config", "set", "parameters", text])
    assert r.exit_code == 0 and r.stdout.strip() == "parameters = 21 fitted"
    data = json.loads(runner.invoke(app, ["config", "--json"]).stdout)
    assert data["settings"]["parameters"] == list(TRUE_PARAMETERS)
    assert "21 fitted *" in runner.invoke(app, ["config"]).stdout
    r = runner.invoke(app, ["config", "set", "parameters", "1 2 3"])
    assert r.exit_code == 1
    assert r.stderr == "Error: parameters must be 21 numbers (FSRS-6), got 3\n"
    r = runner.invoke(app, ["config", "reset", "parameters"])
    assert r.exit_code == 0 and r.stdout.strip() == "parameters = (defaults)"


def test_scheduler_schedules_with_the_fitted_parameters():
    mine = Scheduler(Config(parameters=TRUE_PARAMETERS, fuzz=False))
    default = Scheduler(Config(fuzz=False))
    assert mine.parameters == TRUE_PARAMETERS and default.parameters == DEFAULT_PARAMETERS
    assert mine.decay == -0.45

    def two_answers(sched):
        s, _ = sched.review(CardSchedule(), Rating.EASY, T0)
        return sched.review(s, Rating.GOOD, T0 + timedelta(days=2))[0]

    s, d = two_answers(mine), two_answers(default)
    assert s.stability < d.stability and s.due < d.due  # this learner forgets faster
