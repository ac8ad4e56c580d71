"""Typed answers on a terminal can be edited as in a shell (a real pty, pexpect)."""

from __future__ import annotations

import os
import sys

import pexpect
import pytest

_READ = """
from quizforge.ui.keys import KeyReader
r = KeyReader()
for _ in range(3):
    print("GOT", repr(r.line("> ")), flush=True)
"""


@pytest.fixture
def prompt():
    child = pexpect.spawn(sys.executable, ["-c", _READ], encoding="utf-8", timeout=20,
                          env={**os.environ, "TERM": "xterm-256color"},
                          dimensions=(24, 80))
    yield child
    child.close(force=True)


def test_arrow_keys_move_in_a_typed_answer(prompt):
    """Left arrow, Home and End move the cursor; nothing of their escape codes is typed."""
    prompt.expect_exact("> ")
    prompt.send("(p-1)/(m+p-1")
    prompt.send("\x1b[D\x1b[D")  # left, left: before "-1"
    prompt.send("X")
    prompt.send("\x1b[H")  # Home
    prompt.send("Y")
    prompt.send("\x1b[F")  # End
    prompt.send(")\r")
    prompt.expect("GOT '(.*)'")
    assert prompt.match.group(1) == "Y(p-1)/(m+pX-1)"


def test_up_brings_back_the_answer_typed_before(prompt):
    """After an answer the checker could not read, Up brings it back to fix it."""
    prompt.expect_exact("> ")
    prompt.send("sigma(z)*(1-sigma(z)\r")
    prompt.expect_exact("GOT 'sigma(z)*(1-sigma(z)'")
    prompt.expect_exact("> ")
    prompt.send("\x1b[A)\r")  # up, then the missing parenthesis
    prompt.expect_exact("GOT 'sigma(z)*(1-sigma(z))'")
    prompt.expect_exact("> ")
    assert "\x1b[?2004" not in prompt.before  # Python keeps readline's bracketed paste off
