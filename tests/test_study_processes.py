"""Real processes: a pty-driven session, Ctrl-C, kill -9, and two sessions at once.

A review the user saw confirmed (the next card appeared) must be on disk whatever
happens next, and the store must never be corrupted.
"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter

import pexpect
import pytest
from helpers import restore_sigint

N = 30


@pytest.fixture
def env(tmp_path):
    decks = tmp_path / "decks"
    decks.mkdir()
    cards = "".join(
        f"  - id: c{i}\n    front: front {i}\n    back: back {i}\n" for i in range(N)
    )
    (decks / "crash.yaml").write_text(f"deck: crash\nname: Crash test\ncards:\n{cards}")
    e = dict(os.environ)
    e.update(
        QUIZFORGE_HOME=str(tmp_path / "home"),
        QUIZFORGE_DECKS=str(decks),
        COLUMNS="80",
        LINES="40",
        TERM="xterm",
        PYTHONUNBUFFERED="0",
    )
    e.pop("NO_COLOR", None)
    return e


def study(env, *args):
    return pexpect.spawn(
        sys.executable,
        ["-m", "quizforge", "study", "--deck", "crash", "--new", "50", *args],
        env=env,
        encoding="utf-8",
        timeout=90,
        dimensions=(40, 80),
        preexec_fn=restore_sigint,
    )


def revlog(env):
    conn = sqlite3.connect(os.path.join(env["QUIZFORGE_HOME"], "quizforge.sqlite3"))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [
            tuple(r)
            for r in conn.execute(
                "SELECT c.card_id, v.rating FROM revlog v JOIN cards c ON c.id = v.card ORDER BY v.id"
            )
        ]
    finally:
        conn.close()


def answer(child, i, rating="3"):
    child.expect(f"front {i}")
    child.expect("quit")  # the key hints: the screen is ready for a key
    child.send(" ")
    child.expect(f"back {i}")
    child.expect("Easy")
    child.send(rating)


def test_real_terminal_session_keys_and_ctrl_c(env):
    child = study(env)
    answer(child, 0, "3")
    answer(child, 1, "4")
    child.expect("front 2")
    child.send("u")  # undo the Easy on c1: it comes back
    child.expect("Undid crash/c1")
    answer(child, 1, "2")
    child.expect("front 2")
    child.sendintr()  # Ctrl-C
    child.expect("Session summary")
    # the box starts a line of its own, not after the ^C
    # (the terminal's own "^C" echo and escape sequences may land anywhere: ignore them)
    tail = re.sub(r"\x1b\[[\d;?]*[A-Za-z]", "", child.before[-120:]).replace("^C", "")
    assert re.search(r"\n╭─", tail), repr(child.before[-120:])
    child.expect("2 answers over 2 cards")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")
    assert revlog(env) == [("c0", 3), ("c1", 2)]
    # and again: the next session goes on where this one stopped
    child = study(env)
    answer(child, 2, "3")
    child.expect("front 3")
    child.sendintr()
    child.expect(pexpect.EOF)
    assert revlog(env) == [("c0", 3), ("c1", 2), ("c2", 3)]


def test_ctrl_c_at_a_typed_answer_prompt(env, tmp_path):
    deck = tmp_path / "decks" / "multi.yaml"
    deck.write_text(
        "deck: multi\nname: Multi\ncards:\n  - id: m\n    type: mcq\n"
        "    question: Which? Select all that apply.\n    choices: [p, q, r]\n    answer: [a, b]\n"
    )
    child = pexpect.spawn(
        sys.executable, ["-m", "quizforge", "study", "--deck", "multi"], env=env,
        encoding="utf-8", timeout=90, dimensions=(40, 80), preexec_fn=restore_sigint,
    )
    import io

    seen = io.StringIO()
    child.logfile_read = seen
    child.expect("then Enter")  # the key hints
    child.expect("> ")
    child.send("ab")
    child.sendintr()
    child.expect("Session summary")
    before = re.sub(r"\x1b\[[\d;]*m", "", child.before)
    assert re.search(r"\n╭─ $", before), repr(before[-60:])
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert seen.getvalue().count("Select all that apply") == 1


def test_kill_9_loses_no_confirmed_review(env):
    child = study(env)
    for i in range(3):
        answer(child, i)
    child.expect("front 3")  # the third answer was confirmed: the next card is on screen
    child.kill(signal.SIGKILL)
    child.close()
    assert revlog(env) == [("c0", 3), ("c1", 3), ("c2", 3)]


def test_quit_key_and_piped_stdin(env):
    script = "\n3\n\n1\nq\n"
    p = subprocess.run(
        [sys.executable, "-m", "quizforge", "study", "--deck", "crash"],
        input=script, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert revlog(env) == [("c0", 3), ("c1", 1)]
    assert "2 answers over 2 cards · 50% correct" in p.stdout


def test_two_sessions_at_once(env):
    script = "\n3\n" * (2 * N + 5)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "quizforge", "study", "--deck", "crash", "--new", str(N)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(script, timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "locked" not in err
    rows = revlog(env)
    # every answer either session confirmed is in the log...
    reported = [int(re.search(r"(\d+) answers? over", out).group(1)) for out, _ in outs]
    assert len(rows) == sum(reported) >= 2 * N
    # ...and no answer overwrote another's: each card's rep count equals its log rows
    conn = sqlite3.connect(os.path.join(env["QUIZFORGE_HOME"], "quizforge.sqlite3"))
    reps = dict(conn.execute("SELECT card_id, reps FROM cards WHERE deck_id = 'crash'").fetchall())
    assert reps == dict(Counter(card for card, _ in rows))


def test_helpful_errors(env):
    p = subprocess.run(
        [sys.executable, "-m", "quizforge", "study", "--deck", "nope"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert p.returncode == 1
    assert p.stderr.strip().splitlines()[-1].startswith("Error: no deck with id 'nope'")
    p = subprocess.run(
        [sys.executable, "-m", "quizforge", "study", "--new", "-3"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert p.returncode == 2 and "Traceback" not in p.stderr
