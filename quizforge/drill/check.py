"""Grading typed answers for every family: one engine, no family branches.

Number form (scalars and tensors): the answer is read by the safe parser (a tensor by
`quizforge.drill.tensor`), its shape is checked first, then it is right when every entry lies
in the target's honest-rounding band (`quizforge.drill.rounding`). A wrong answer is compared
with the problem's named mistakes; an answer within 2 significant figures is *close* (asked
again, not wrong); then a constant factor; else "not quite".

Expression form: the problem hands over an `ExpressionCheck` (its variables, fresh random
points on the same branches, the expected value at a point, its mistakes as functions of a
point, and an exact SymPy comparison). An exact match is right; a difference SymPy shows to
be non-zero is wrong, whatever the points say; otherwise the answer must agree at the given
values and at random points drawn fresh for this check (never derivable from the seed).

Steps form: a sequence of number targets, graded one by one, with partial credit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from quizforge.drill.errors import AnswerRejected, CheckTimeout
from quizforge.drill.limits import _Expired, time_limit
from quizforge.drill.model import (
    Mistake,
    Target,
    fmt_num,
    shape_of,
    shape_text,
    tensor_text,
    to_data,
)
from quizforge.drill.parse import Answer, evaluate, parse_answer
from quizforge.drill.rounding import inside

TIME_LIMIT = 2.0  # seconds of CPU time (limits.py), for the whole check
SYMBOLIC_BUDGET = 0.5  # seconds for the exact SymPy comparison before falling back to points
MISTAKE_RTOL = 0.006  # a mistake's value, typed with 3 significant figures
CLOSE_RTOL = 0.05  # "2 significant figures": close, asked again
EXPRESSION_RTOL = 1e-6


@dataclass(frozen=True)
class Verdict:
    """The result of grading one answer. `feedback` is plain text, ready to show."""

    correct: bool
    question: int
    wrt: str
    form: str
    value: Any  # the right value (float or array)
    feedback: str
    expected: str = ""  # the right answer as text (accepted by the checker itself)
    close: bool = False  # within 2 significant figures: asked again, not counted as wrong
    rejected: bool = False  # unreadable or unsafe: not graded at all
    reason: str | None = None
    reject_code: str | None = None
    mistake: str | None = None  # the named mistake's kind, "shape", "close", "factor", "other" …
    answer: str = ""
    answer_value: Any = None
    score: float = 0.0  # 1/0, or the fraction of steps right
    steps: tuple[Verdict, ...] = ()

    @property
    def graded(self) -> bool:
        """Counts as a try: not unreadable, not merely close."""
        return not self.rejected and not self.close

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "correct": self.correct,
            "close": self.close,
            "rejected": self.rejected,
            "reason": self.reason,
            "reject_code": self.reject_code,
            "question": self.question,
            "wrt": self.wrt,
            "form": self.form,
            "expected": self.expected,
            "value": None if self.value is None else to_data(self.value),
            "answer": self.answer,
            "answer_value": None if self.answer_value is None else to_data(self.answer_value),
            "mistake": self.mistake,
            "feedback": self.feedback,
            "score": self.score,
        }
        if self.steps:
            d["steps"] = [s.to_dict() for s in self.steps]
        return d


# -- comparing values ---------------------------------------------------------------------------
def _floats(v: Any) -> list[float]:
    if hasattr(v, "ravel"):
        return [float(x) for x in v.ravel()]
    return [float(v)]


def near(a: Any, b: Any, rtol: float, atol: float = 0.0) -> bool:
    """Same shape and every entry within rtol (relative to the entry, or to the largest entry
    of `b` for entries that are zero), plus atol."""
    if shape_of(a) != shape_of(b):
        return False
    fa, fb = _floats(a), _floats(b)
    scale = max((abs(x) for x in fb), default=0.0)
    return all(math.isfinite(x)
               and abs(x - y) <= rtol * abs(y) + 1e-9 + 1e-4 * rtol * scale + atol
               for x, y in zip(fa, fb, strict=True))


_FACTORS = ((2, "twice"), (0.5, "half"), (4, "4 times"), (0.25, "a quarter of"),
            (10, "10 times"), (0.1, "a tenth of"))


def _factor(answer: Any, expected: Any) -> str | None:
    if all(x == 0 for x in _floats(expected)):
        return None
    for f, words in _FACTORS:
        for sign in (1, -1):
            if near(answer, _scale(expected, sign * f), MISTAKE_RTOL):
                what = words if sign == 1 else f"minus {words}"
                hint = (" Check constant factors, such as the 2 in d(z²)/dz = 2z or a 1/N."
                        if f in (2, 0.5, 4, 0.25) else " Check the decimal point.")
                return f"Off by a factor: your answer is {what} the right one.{hint}"
    return None


def _scale(v: Any, k: float) -> Any:
    return v * k


# -- one number or tensor -----------------------------------------------------------------------
def read_value(target: Target, text: str, others: Sequence[str] = ()) -> Any:
    """The typed answer as a float or an array (its own shape); raises AnswerRejected.
    `others`: what the problem's other questions ask about, so that an answer labelled for
    one of them ("dX = …" to the dW question) is refused rather than graded."""
    from quizforge.drill.parse import LABEL
    from quizforge.drill.tensor import looks_like_tensor, parse_tensor

    label = LABEL.match(text)
    if label and label["name"] != target.wrt and label["name"] in others:
        raise AnswerRejected(f"your answer is labelled for {label['name']}, but this question "
                             f"asks for {target.label}")
    if not target.shape and ";" in text and "[" not in text:
        raise AnswerRejected("';' separates rows of a matrix or the steps of --form steps; "
                             "this answer is a single number")
    if looks_like_tensor(text):
        return parse_tensor(text)
    try:
        answer = parse_answer(text, target.names)
    except AnswerRejected as e:
        if e.code == "name" and not target.shape:
            allowed = ", ".join(target.names)
            raise AnswerRejected(
                f"{e.reason.split(' (use')[0]}: a number answer may use only the given values "
                f"({allowed or 'none'}), e, pi and functions; node names are for the "
                "expression form", "name") from None
        raise
    try:
        v = evaluate(answer.tree, target.env)
    except (ArithmeticError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _named(answer: Any, target: Target, mistakes: Sequence[Mistake],
           atol: float = 0.0) -> Mistake | None:
    """The first mistake the answer matches; with `atol`, the closest of those it matches."""
    found = []
    for m in mistakes:
        if near(m.value, target.value, MISTAKE_RTOL) or inside_safe(m.value, target):
            continue  # on these numbers the slip gives the right answer: not a mistake here
        if near(answer, m.value, MISTAKE_RTOL, atol):
            if not atol:
                return m
            found.append(m)
    if not found:
        return None
    return min(found, key=lambda m: max(abs(x - y) for x, y in
                                        zip(_floats(answer), _floats(m.value), strict=True)))


def _squeezed(value: Any) -> Any:
    """The value with its length-1 axes dropped (a 2×1 column and a vector of 2 agree)."""
    if hasattr(value, "squeeze"):
        return value.squeeze()
    return None


def inside_safe(value: Any, target: Target) -> bool:
    return shape_of(value) == target.shape and inside(value, target.lo, target.hi)


def _moved(target: Target, answer: Any) -> tuple[Target, Any]:
    """The target and the answer measured from the target's offset (the change they make)."""
    off = target.offset
    mistakes = tuple(replace(m, value=m.value - off) if shape_of(m.value) == target.shape
                     else m for m in target.mistakes)
    return (replace(target, value=target.value - off, lo=target.lo - off, hi=target.hi - off,
                    mistakes=mistakes, offset=None), answer - off)


def judge(target: Target, answer: Any) -> tuple[str, str | None, str]:
    """(outcome, mistake kind, feedback) for a value: outcome is right | close | wrong."""
    if target.offset is not None and shape_of(answer) == target.shape:
        moved, change = _moved(target, answer)
        if not inside(answer, target.lo, target.hi):
            # a slip typed to 3 figures of the answer (not of the change) is still named
            typed = MISTAKE_RTOL * max(abs(x) for x in _floats(target.value))
            m = _named(change, moved, moved.mistakes, typed)
            if m:
                return "wrong", m.kind, m.message
            if near(change, -moved.value, MISTAKE_RTOL, typed):
                return ("wrong", "sign", "The change has the wrong sign: you moved from "
                        f"{tensor_text(target.offset)} the other way. The step is subtracted: "
                        "parameters move against the gradient.")
        if not all(x == 0 for x in _floats(moved.value)) and near(change, change * 0, 0):
            return ("wrong", "no-update", ("That is where you started: the answer is the "
                    f"value after the change, {target.label} = start − update; work out the "
                    "update and apply it."))
        outcome, kind, feedback = judge(moved, change)
        if outcome == "right":
            feedback = f"Correct: {target.label} = {tensor_text(target.value)}."
        elif kind == "factor":
            feedback = feedback.replace("your answer is", "your change from the start "
                                        f"({tensor_text(target.offset)}) is", 1)
        return outcome, kind, feedback
    label, want = target.label, target.shape
    name = label.removeprefix("∂L/∂") if label.startswith("∂L/∂") else target.wrt
    got = shape_of(answer)
    if got == () and isinstance(answer, float) and math.isnan(answer):
        return ("wrong", "undefined", ("Undefined: your answer cannot be computed at the given "
                "values (a division by zero, or a log or square root of a negative number)."))
    if got != want:
        m = _named(answer, target, target.mistakes)
        if m:
            return "wrong", m.kind, m.message
        if len(want) == 2 and got == want[::-1] and near(answer.T, target.value, MISTAKE_RTOL):
            return ("wrong", "transposed", (f"Transposed: your {label} is {shape_text(got)} but "
                    f"{name} is {shape_text(want)}, and your entries are the right ones "
                    "transposed. A gradient always has the shape of what it is taken with "
                    "respect to."))
        if (_squeezed(answer) is not None and _squeezed(target.value) is not None
                and near(_squeezed(answer), _squeezed(target.value), MISTAKE_RTOL)):
            return ("wrong", "shape", (f"Right numbers, wrong shape: your {label} is "
                    f"{shape_text(got)} but {name} is {shape_text(want)}; write it with "
                    f"that shape, e.g. {tensor_text(target.value * 0 + 1)} for all ones."))
        return ("wrong", "shape", (f"Wrong shape: your {label} is {shape_text(got)}; "
                f"{name} is {shape_text(want)}, and a gradient has the shape of what it "
                "is taken with respect to."))
    if inside(answer, target.lo, target.hi):
        return "right", None, f"Correct: {label} = {tensor_text(target.value)}."
    m = _named(answer, target, target.mistakes)
    if m:
        return "wrong", m.kind, m.message
    if near(answer, target.value, CLOSE_RTOL):
        return ("close", "close", ("Close, but not within 3 significant figures: keep 3 "
                "significant figures in every intermediate step (or use fractions) and try "
                "again."))
    msg = _factor(answer, target.value)
    if msg:
        return "wrong", "factor", msg
    return ("wrong", "other", ("Not quite: this does not match a typical slip. Redo it one "
            "step at a time (h shows the rule to use), and keep an eye on signs and shapes."))


def grade_target(target: Target, text: str, question: int, form: str,
                 expected: str | None = None, others: Sequence[str] = ()) -> Verdict:
    """Grade `text` against one number or tensor target."""
    expected_text = expected if expected is not None else tensor_text(target.value)
    base = {"question": question, "wrt": target.wrt, "form": form, "value": target.value,
            "expected": expected_text, "answer": text}
    try:
        answer = read_value(target, text, others)
    except AnswerRejected as e:
        return Verdict(correct=False, rejected=True, reason=e.reason, reject_code=e.code,
                       feedback=f"Could not check that answer: {e.reason}.", **base)
    outcome, kind, feedback = judge(target, answer)
    shown = None if (shape_of(answer) == () and math.isnan(answer)) else answer
    return Verdict(correct=outcome == "right", close=outcome == "close", mistake=kind,
                   feedback=feedback, answer_value=shown,
                   score=1.0 if outcome == "right" else 0.0, **base)


# -- expressions --------------------------------------------------------------------------------
class ExpressionCheck(Protocol):
    names: tuple[str, ...]  # what an answer may use
    leaves: tuple[str, ...]  # the free variables (for messages)
    wrt: str
    label: str

    def points(self) -> list[Any]: ...  # the given values first, then fresh random points
    def env(self, point: Any) -> dict[str, float]: ...  # name -> value at a point
    def expected_at(self, point: Any) -> float: ...
    def mistakes(self) -> list[tuple[str, str, Callable[[Any], float]]]: ...  # (kind, msg, at)
    def symbolic(self, answer: Answer) -> bool | None: ...  # equal / shown different / unsure


def _grade_expression(problem: Any, question: int, text: str, check: ExpressionCheck) -> Verdict:
    answer = parse_answer(text, check.names)
    points = check.points()
    expected = [check.expected_at(p) for p in points]
    values = []
    for p in points:
        try:
            v = evaluate(answer.tree, check.env(p))
        except (ArithmeticError, ValueError):
            v = math.nan
        values.append(v if math.isfinite(v) else math.nan)
    base = {"question": question, "wrt": check.wrt, "form": "expression", "value": expected[0],
            "expected": problem.expected_text(question), "answer": text,
            "answer_value": None if math.isnan(values[0]) else values[0]}
    label = check.label
    right = Verdict(correct=True, score=1.0, feedback=f"Correct: {label} = "
                    f"{fmt_num(expected[0])} at the given values.", **base)
    same = check.symbolic(answer)
    if same is True:
        return right
    if same is None and all(_close_expr(a, e) for a, e in zip(values, expected, strict=True)):
        # Right on this side of every kink: it must be right on the other sides too.
        others = check.other_points()
        if all(_close_expr(_value_at(answer, check.env(p)), check.expected_at(p))
               for p in others):
            return right
        return Verdict(correct=False, mistake="branch", feedback="Right near the given values, "
                       "but not across a kink: on the other side of a ReLU (or max, |x|, hinge) "
                       "your expression differs from the gradient. Write the kink's local "
                       "gradient into it, e.g. step(a) for ∂relu(a)/∂a, so that it holds for "
                       "every input.", **base)
    if not answer.names() and _close_expr(values[0], expected[0], 0.005):
        return Verdict(correct=False, mistake="not-expression", feedback="A number, not an "
                       "expression: that is the right value at the given point, but this "
                       f"question asks for an expression in {', '.join(check.leaves)}.",
                       **base)
    if any(math.isnan(v) for v in values):
        return Verdict(correct=False, mistake="undefined", feedback="Undefined: your expression "
                       "cannot be computed near the given values (a division by zero, or a log "
                       "or square root of a negative number).", **base)
    for kind, message, at in check.mistakes():
        try:
            wrong = [at(p) for p in points]
        except (ArithmeticError, ValueError):
            continue
        if all(_close_expr(w, e) for w, e in zip(wrong, expected, strict=True)):
            continue
        if all(_close_expr(a, w) for a, w in zip(values, wrong, strict=True)):
            return Verdict(correct=False, mistake=kind, feedback=message, **base)
    msg = _factor(values[0], expected[0]) if all(
        _close_expr(a * expected[0], e * values[0]) for a, e in zip(values, expected, strict=True)
    ) else None
    if msg:
        return Verdict(correct=False, mistake="factor", feedback=msg, **base)
    if _close_expr(values[0], expected[0], 0.005):
        return Verdict(correct=False, mistake="other", feedback="Not quite: right value at the "
                       "given point, but not the same expression elsewhere; check that you kept "
                       "every variable symbolic.", **base)
    return Verdict(correct=False, mistake="other", feedback="Not quite: this does not match a "
                   "typical slip. Work backwards from L one node at a time (upstream gradient × "
                   "local gradient), and add up the paths where a value fans out.", **base)


def _value_at(answer, env: dict[str, float]) -> float:
    try:
        v = evaluate(answer.tree, env)
    except (ArithmeticError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _close_expr(a: float, b: float, rtol: float = EXPRESSION_RTOL) -> bool:
    return math.isfinite(a) and abs(a - b) <= rtol * max(abs(b), 1e-9)


# -- steps ---------------------------------------------------------------------------------------
def _grade_steps(problem: Any, question: int, text: str) -> Verdict:
    steps = problem.steps(question)
    q = problem.question(question)
    parts = [p.strip() for p in text.replace("\n", ";").split(";")]
    parts = [p for p in parts if p] if len(parts) > 1 else parts
    if len(parts) != len(steps):
        names = "; ".join(t.label for t in steps)
        raise AnswerRejected(
            f"expected {len(steps)} values separated by ';' ({names}), got {len(parts)}")
    results = []
    for i, (target, part) in enumerate(zip(steps, parts, strict=True)):
        v = grade_target(target, part, question, "steps")
        if v.rejected:
            raise AnswerRejected(f"step {i + 1} ({target.label}): {v.reason}", v.reject_code or "syntax")
        results.append(v)
    right = sum(r.correct for r in results)
    lines = [f"{right}/{len(steps)} steps right."]
    for r, t in zip(results, steps, strict=True):
        mark = "✓" if r.correct else "✗"
        lines.append(f"{mark} {t.label}" + ("" if r.correct else f": {r.feedback}"))
    first_wrong = next((r for r in results if not r.correct), None)
    return Verdict(correct=right == len(steps), question=question, wrt=q.wrt, form="steps",
                   value=steps[-1].value, expected=problem.expected_text(question), answer=text,
                   score=right / len(steps), steps=tuple(results),
                   answer_value=results[-1].answer_value,
                   mistake=first_wrong.mistake if first_wrong else None,
                   feedback="\n".join(lines))


def grade_step(problem: Any, question: int, step: int, text: str) -> Verdict:
    """Grade one step of the step-by-step form."""
    target = problem.steps(question)[step]
    try:
        with time_limit(TIME_LIMIT):
            if ";" in text:
                return Verdict(correct=False, question=question, wrt=target.wrt, form="steps",
                               value=target.value, rejected=True, reject_code="syntax",
                               reason="one value at a time here (';' separates steps only "
                               "in --check)", answer=text, feedback="Could not check that "
                               "answer: one value at a time here.")
            return grade_target(target, text, question, "steps")
    except _Expired:
        e = CheckTimeout(TIME_LIMIT)
        return Verdict(correct=False, question=question, wrt=target.wrt, form="steps",
                       value=target.value, rejected=True, reason=e.reason, reject_code=e.code,
                       answer=text, feedback=f"Could not check that answer: {e.reason}.")


def grade(problem: Any, text: str, question: int = 0) -> Verdict:
    """Grade `text` (untrusted) for question `question` of any family's problem.

    Never raises for a bad answer: an unreadable, unsafe or too-slow one comes back with
    `rejected=True` and a `reason`. Raises DrillError only for a question that does not exist.
    """
    q = problem.question(question)
    check = problem.expression_check(question) if q.form == "expression" else None
    if check is not None:
        import sympy  # noqa: F401 - a first import is not the answer's fault: outside the limit
    try:
        with time_limit(TIME_LIMIT):
            if q.form == "steps":
                return _grade_steps(problem, question, text)
            if check is not None:
                return _grade_expression(problem, question, text, check)
            others = tuple(o.wrt for o in problem.questions if o.wrt != q.wrt)
            return grade_target(problem.target(question), text, question, q.form,
                                problem.expected_text(question), others)
    except (AnswerRejected, _Expired) as e:
        err = e if isinstance(e, AnswerRejected) else CheckTimeout(TIME_LIMIT)
        return Verdict(correct=False, question=question, wrt=q.wrt, form=q.form,
                       value=None, rejected=True, reason=err.reason, reject_code=err.code,
                       answer=text, feedback=f"Could not check that answer: {err.reason}.")
