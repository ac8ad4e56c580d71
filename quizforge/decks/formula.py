"""What a `type: formula` card means: reading its formulas and grading a typed one.

Pure: a card and the learner's text in, a `FormulaVerdict` out; no printing, no disk. Every
formula (the card's and the learner's) is read by the drill's whitelist parser
(`quizforge.drill.parse`), never `eval`-ed and never handed to SymPy's own parser. A typed
formula is compared with the card's `answer` the way the drill compares expressions:

1. exactly, with SymPy (imported here, on first use, and time-limited): equal is right; a
   difference SymPy shows to be a non-zero rational function is wrong;
2. otherwise at random points of the card's `domain`, drawn fresh from the operating system
   for every answer: every point must agree to a relative 1e-6.

A wrong formula gets its mistake named where one is known: one of the card's `mistakes`,
then the right formula with the wrong sign, then off by a factor of 2 or ½.

Greek letters and hats may be typed for variables whose names spell them: with variables
`eta` and `mhat`, `η` and `m̂` are read as those names (σ is the sigmoid and π is pi, as in
the drill).
"""

from __future__ import annotations

import itertools
import keyword
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from quizforge.decks.model import FormulaCard
from quizforge.drill.errors import AnswerRejected, CheckTimeout
from quizforge.drill.parse import (
    CALCULUS,
    CONSTANTS,
    DANGEROUS,
    FUNCTIONS,
    SYNTAX_HELP,
    Answer,
    evaluate,
    fold_full_width,
    parse_answer,
)

TIME_LIMIT = 2.0  # seconds of CPU time for grading one answer (SymPy's import left out)
SYMBOLIC_BUDGET = 0.5  # seconds for the exact comparison before the points decide
N_POINTS = 12  # random points an answer must agree at
MAX_DRAWS = 400  # draws to find them (points where the card's formula is undefined are skipped)
RTOL = 1e-6
MISTAKE_FACTORS = ((2.0, "twice"), (0.5, "half"))
# A line that is only q, u or s is the study screen's key (quit, undo, suspend), never a
# formula, even on a card with such a variable: no card's answer may be one of them alone.
SCREEN_KEYS = ("q", "u", "s")
# What a formula may contain (no example formulas: one could be a card's answer).
SYNTAX = ("Use numbers, the variables, + − · / ^ ² √ and parentheses, e and pi, and the "
          "functions exp, log, σ, tanh, sqrt, relu, step, abs, max, min")
VARIABLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")

# A Greek letter may stand for a variable that spells it out (the first one the card
# declares); never for a bare Latin letter, which may mean something else (θ is not t).
# σ and π are not here: the parser reads them as the sigmoid and pi.
GREEK: dict[str, tuple[str, ...]] = {
    "α": ("alpha",), "β": ("beta",), "γ": ("gamma",), "δ": ("delta",),
    "ε": ("eps", "epsilon"), "ϵ": ("eps", "epsilon"), "ζ": ("zeta",), "η": ("eta", "lr"),
    "θ": ("theta",), "κ": ("kappa",), "λ": ("lam", "lmbda"), "μ": ("mu",), "ν": ("nu",),
    "ξ": ("xi",), "ρ": ("rho",), "τ": ("tau",), "φ": ("phi",), "ϕ": ("phi",), "ψ": ("psi",),
    "ω": ("omega",),
}
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
HAT = "\u0302"  # combining circumflex: m̂
# A Greek letter, or a Latin one with a hat, then subscript or plain digits: β₁, m̂, v̂2.
_PRIME = re.compile(r"(′)|[A-Za-z\u0370-\u03ff](')\s*\(")  # σ'(z), tanh′(x)
_SUBSCRIPTED = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z]+)_([A-Za-z0-9]+)(?![A-Za-z0-9_])")  # p_y
_LATIN_SUBSCRIPT = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z]+)([₀-₉]+)")  # c₀, g₁
_ALIAS = re.compile(rf"(?:([{''.join(GREEK)}])|([A-Za-z]){HAT})([0-9₀-₉]*)")


@dataclass(frozen=True)
class FormulaVerdict:
    """One typed formula, graded. `feedback` is plain text, ready to show."""

    correct: bool
    feedback: str
    expected: str  # the card's formula, as its author wrote it
    answer: str = ""
    rejected: bool = False  # unreadable, unsafe or too slow to check: not graded, ask again
    reason: str | None = None  # why it was rejected
    mistake: str | None = None  # listed | sign | factor | undefined | constant | other | gave-up

    @property
    def graded(self) -> bool:
        return not self.rejected


# -- reading ---------------------------------------------------------------------------------


def variable_problem(name: str) -> str | None:
    """Why `name` cannot be a formula card's variable, or None if it can."""
    low = name.lower()
    if not VARIABLE_RE.match(name):
        return "use Latin letters and digits, starting with a letter (e.g. z, x1, eta)"
    if low in FUNCTIONS or low in CONSTANTS:
        return "it is a function or constant the parser knows"
    if low in CALCULUS or low in DANGEROUS or keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "answers may not use that word"
    return None


def _abs_bars(text: str) -> str:
    """|g| + ε → abs(g) + ε: bars taken in pairs, opening and closing in turn (an odd
    number is left for the parser to refuse)."""
    if "|" not in text or text.count("|") % 2:
        return text
    parts = text.split("|")
    out = [parts[0]]
    for i, part in enumerate(parts[1:]):
        out.append(("abs(" if i % 2 == 0 else ")") + part)
    return "".join(out)


def _aliases(text: str, variables: Sequence[str]) -> str:
    """η → eta, β₁ → beta1, m̂ → mhat, p_y → py, c₀ → c0, where the card declares those names."""
    declared = set(variables)

    def joined(m: re.Match[str]) -> str:
        name = m.group(1) + m.group(2).translate(_SUBSCRIPTS)
        return name if name in declared else m.group(0)

    text = _LATIN_SUBSCRIPT.sub(joined, _SUBSCRIPTED.sub(joined, text))

    def swap(m: re.Match[str]) -> str:
        digits = m.group(3).translate(_SUBSCRIPTS)
        if m.group(1):
            bases: Iterable[str] = GREEK[m.group(1)]
        else:
            bases = (m.group(2) + "hat",)
        for base in bases:
            if base + digits in declared:
                return f" {base + digits} "
        return m.group(0)  # not a variable: the parser names the character

    return _ALIAS.sub(swap, text)


def read_formula(text: str, variables: Sequence[str]) -> Answer:
    """Parse a formula in `variables` (Greek and hatted names allowed); raises AnswerRejected."""
    if not isinstance(text, str):
        raise AnswerRejected("the answer must be text")
    text = fold_full_width(text)
    prime = _PRIME.search(text)
    if prime:  # σ'(z): the question asks for what the prime stands for
        mark = prime.group(1) or prime.group(2)
        raise AnswerRejected(f"a prime ({mark}) is not allowed: write the derivative out, "
                             "e.g. 3x² rather than f'(x)")
    return parse_answer(_abs_bars(_aliases(text, variables)), variables)


# -- points ----------------------------------------------------------------------------------


def _value(tree: tuple, env: Mapping[str, float]) -> float:
    try:
        v = evaluate(tree, env)
    except (ArithmeticError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


# Where in each variable's range the lattice points sit: spread over all of it, and off the
# round values (0, ±1, the middle) where a kink of max/step/|x| usually is.
LATTICE = (0.03, 0.27, 0.52, 0.77, 0.98)


def draw_points(card: FormulaCard, expected: Answer, rng: random.Random,
                n: int = N_POINTS) -> list[dict[str, float]]:
    """Up to `n` random points of the card's domain where its own formula is defined, then a
    fixed lattice over the whole domain: a formula that differs from the answer only in a
    corner of the domain (a hinge's 1 − y·f for max(0, 1 − y·f) where y·f > 1) meets it
    there, whatever the random draw."""
    ranges = [(v, *card.range_of(v)) for v in card.variables]
    points: list[dict[str, float]] = []
    for _ in range(MAX_DRAWS):
        if len(points) == n:
            break
        env = {v: rng.uniform(lo, hi) for v, lo, hi in ranges}
        if not math.isnan(_value(expected.tree, env)):
            points.append(env)
    steps = LATTICE if len(ranges) <= 4 else LATTICE[::2]
    for corner in itertools.product(steps, repeat=len(ranges)):
        env = {v: lo + t * (hi - lo) for (v, lo, hi), t in zip(ranges, corner, strict=True)}
        if not math.isnan(_value(expected.tree, env)):
            points.append(env)
    return points


def check_points(card: FormulaCard, n: int = 8) -> list[dict[str, float]]:
    """Fixed points (a seeded draw, the same every time) for checking a deck's own formulas."""
    rng = random.Random(0)
    ranges = [(v, *card.range_of(v)) for v in card.variables]
    return [{v: rng.uniform(lo, hi) for v, lo, hi in ranges} for _ in range(n)]


def values_at(tree: tuple, points: Iterable[Mapping[str, float]]) -> list[float]:
    """The formula's value at each point; NaN where it is undefined."""
    return [_value(tree, p) for p in points]


def agree(a: Sequence[float], b: Sequence[float], rtol: float = RTOL) -> bool:
    """Every value of `a` equals the one of `b` to a relative `rtol` (a tiny absolute floor,
    scaled to the largest of `b`, keeps values near a zero crossing from failing on
    rounding alone)."""
    scale = max((abs(y) for y in b if math.isfinite(y)), default=0.0)
    floor = 1e-9 * max(scale, 1e-12)
    return len(a) == len(b) and all(
        math.isfinite(x) and math.isfinite(y) and abs(x - y) <= rtol * max(abs(x), abs(y)) + floor
        for x, y in zip(a, b, strict=True)
    )


# -- grading ---------------------------------------------------------------------------------


def give_up(card: FormulaCard) -> FormulaVerdict:
    """The learner asked to see the answer without typing one: graded as wrong."""
    return FormulaVerdict(False, "No answer given: here is the formula.", card.answer,
                          mistake="gave-up")


def grade_formula(card: FormulaCard, text: str, rng: random.Random | None = None) -> FormulaVerdict:
    """Grade the learner's `text` (untrusted) against the card. Never raises for a bad answer:
    an unreadable, unsafe or too-slow one comes back with `rejected=True` and a reason.

    `rng` draws the comparison points; by default the operating system's, fresh for every
    answer, so that no sequence of answers can learn them."""
    rng = rng or random.SystemRandom()
    try:
        answer = read_formula(text, card.variables)
    except AnswerRejected as e:
        return _rejected(card, text, e)
    expected = read_formula(card.answer, card.variables)  # validated when the deck was loaded
    _import_sympy()  # outside the time limit: a first import is not the answer's fault
    from quizforge.drill.limits import _Expired, time_limit

    try:
        with time_limit(TIME_LIMIT):
            return _compare(card, text, answer, expected, rng)
    except (AnswerRejected, _Expired) as e:
        return _rejected(card, text, e if isinstance(e, AnswerRejected) else CheckTimeout(TIME_LIMIT))


def _rejected(card: FormulaCard, text: str, e: AnswerRejected) -> FormulaVerdict:
    # The drill's syntax examples include σ(z)(1 − σ(z)): on a card that asks for σ′ that
    # would be the answer.
    reason = e.reason.replace(SYNTAX_HELP, SYNTAX)
    return FormulaVerdict(False, f"Could not read that formula: {reason}.", card.answer,
                          answer=text, rejected=True, reason=reason)


def _compare(card: FormulaCard, text: str, answer: Answer, expected: Answer,
             rng: random.Random) -> FormulaVerdict:
    def verdict(correct: bool, mistake: str | None, feedback: str) -> FormulaVerdict:
        return FormulaVerdict(correct, feedback, card.answer, answer=text, mistake=mistake)

    same = symbolic_equal(answer, expected, card.variables)
    if same is True:
        return verdict(True, None, "Correct.")
    points = draw_points(card, expected, rng)
    want = values_at(expected.tree, points)
    got = values_at(answer.tree, points)
    if same is None and points and agree(got, want):
        return verdict(True, None, "Correct.")
    for formula, message in card.mistakes:
        slip = values_at(read_formula(formula, card.variables).tree, points)
        if not agree(slip, want) and agree(got, slip):
            return verdict(False, "listed", message)
    if any(abs(w) > 0 for w in want):
        if agree(got, [-w for w in want]):
            return verdict(False, "sign", (
                "Sign error: the size is right but the sign is wrong. Check each minus sign "
                "and each subtraction on the way."))
        for k, words in MISTAKE_FACTORS:
            if agree(got, [k * w for w in want]):
                return verdict(False, "factor", (
                    f"Off by a factor of {'2' if k == 2 else '½'}: your formula is {words} the "
                    "right one. Check constant factors, such as the 2 of d(u²)/du = 2u or a ½ "
                    "in front that cancels it."))
    if any(math.isnan(g) for g in got):
        return verdict(False, "undefined", (
            "Undefined: your formula cannot be computed at some points where the answer can "
            "(a division by zero, or a log or square root of a negative number)."))
    if not answer.names() and expected.names():
        names = ", ".join(sorted(expected.names()))
        return verdict(False, "constant", f"A constant, but the answer depends on {names}.")
    return verdict(False, "other", "Not quite: this is a different formula.")


def _import_sympy() -> None:
    import sympy  # noqa: F401 - imported once, before the time limit starts


def symbolic_equal(answer: Answer, expected: Answer, variables: Sequence[str]) -> bool | None:
    """True: SymPy shows the two equal. False: their difference is a non-zero rational
    function. None: unsure (steps, |x|, transcendental terms…): the points decide."""
    from quizforge.drill.limits import time_limit

    try:
        with time_limit(SYMBOLIC_BUDGET) as enforced:
            if not enforced:
                return None
            return _symbolic(answer, expected, variables)
    except CheckTimeout:
        return None
    except (Exception, RecursionError):  # noqa: BLE001 - the shortcut failing means unsure
        return None


def _symbolic(answer: Answer, expected: Answer, variables: Sequence[str]) -> bool | None:
    import sympy as sp

    from quizforge.drill.parse import to_sympy

    names = {v: sp.Symbol(v, real=True) for v in variables}
    diff = to_sympy(answer.tree, names) - to_sympy(expected.tree, names)
    if diff == 0:
        return True
    expanded = sp.expand(diff)
    if expanded == 0:
        return True
    if expanded.is_rational_function(*names.values()):
        return sp.cancel(expanded) == 0
    if sp.cancel(expanded) == 0:
        return True
    return None


def describe_variables(variables: Sequence[str]) -> str:
    """'m, v, eta (η), eps (ε)': the names an answer may use, with the Greek letter that
    may be typed for each."""
    out = []
    for v in variables:
        base = v.rstrip("0123456789")
        greek = next((g for g, names in GREEK.items() if base in names and len(base) > 1), None)
        if base.endswith("hat") and len(base) > 3:
            greek_text = base[:-3] + HAT + v[len(base):]
        elif greek:
            greek_text = greek + v[len(base):].translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
        else:
            greek_text = ""
        out.append(f"{v} ({greek_text})" if greek_text else v)
    return ", ".join(out)

