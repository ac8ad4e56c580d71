import json

from helpers import T0, make_deck
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.store import cards as store
from quizforge.store import open_store

runner = CliRunner()


def test_list_and_unsuspend():
    r = runner.invoke(app, ["unsuspend"])
    assert r.exit_code == 0 and r.stdout.strip() == "No suspended cards."
    with open_store() as db:
        store.sync_decks(db, [make_deck(n_flash=3)], T0)
        for cid in ("c0", "c2"):
            store.set_suspended(db, store.find_card(db, "d", cid).rowid, True)
    r = runner.invoke(app, ["unsuspend"])
    assert r.stdout.splitlines()[:2] == ["d/c0  (suspended)", "d/c2  (suspended)"]
    assert json.loads(runner.invoke(app, ["unsuspend", "--json"]).stdout)[0] == {
        "deck": "d", "card": "c0", "leech": False, "lapses": 0,
    }
    r = runner.invoke(app, ["unsuspend", "d/c0"])
    assert r.exit_code == 0 and r.stdout.strip() == "Unsuspended 1 card."
    r = runner.invoke(app, ["unsuspend", "d/c0"])
    assert r.exit_code == 1
    assert r.stderr.strip() == "Error: d/c0 is not a suspended card (`quizforge unsuspend` lists them)"
    r = runner.invoke(app, ["unsuspend", "c2"])
    assert r.exit_code == 1 and "name a card as DECK/CARD" in r.stderr
    r = runner.invoke(app, ["unsuspend", "--all"])
    assert r.stdout.strip() == "Unsuspended 1 card."
    with open_store() as db:
        assert store.suspended_cards(db) == []
