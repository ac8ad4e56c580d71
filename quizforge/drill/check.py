"""Grading typed answers: equivalence, and naming the mistake when the answer is wrong.

Numbers (the default form) must agree with dL/d(wrt) at the given values to 3 significant
figures (a relative error of at most 0.5%, so honest rounding of intermediate values passes).
Any formula that evaluates to such a number is fine too ("2*0.1*2").

Expressions are compared the way WeBWorK does it: an exact SymPy match first (expand/cancel
under a time budget), then evaluation at the given values and at several seeded random
points near them, where every branch (ReLU side, sign under a log) stays the same; all must
agree to a relative tolerance of 1e-6.

When the answer is wrong, it is compared with the values typical mistakes would give — a
sign error, a fan-out path left out, a wrong or dropped local gradient at one node, the
gradient of another node, a factor of 2 or 10 — computed with the same backward pass
over a changed graph, and the first match is named.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quizforge.drill.errors import AnswerRejected, CheckTimeout
from quizforge.drill.graph import Edge, Graph
from quizforge.drill.limits import _Expired, time_limit
from quizforge.drill.ops import OPS
from quizforge.drill.parse import Answer, evaluate, parse_answer
from quizforge.drill.problem import Problem, fmt_num

TIME_LIMIT = 2.0  # seconds, for the whole check
SYMBOLIC_BUDGET = 0.5  # seconds for the exact SymPy comparison before falling back to numbers
NUMBER_RTOL = 0.005  # "3 significant figures"
EXPRESSION_RTOL = 1e-6
N_POINTS = 5  # random points besides the given values, for expressions


@dataclass(frozen=True)
class Verdict:
    """The result of grading one answer. `feedback` is plain text, ready to show."""

    correct: bool
    question: int
    wrt: str
    form: str
    value: float  # dL/d(wrt) at the given values
    feedback: str
    rejected: bool = False  # unreadable or unsafe: not graded at all
    reason: str | None = None  # why it was rejected
    reject_code: str | None = None  # syntax | name | forbidden | too-long | exponent | timeout …
    # sign | missing-path | local-gradient | local-only | wrong-node | forward-value | factor
    # | not-expression | undefined | other
    mistake: str | None = None
    answer: str = ""
    answer_value: float | None = None  # the answer evaluated at the given values
    score: float = 0.0  # 1 or 0; the fraction of steps right for the step-by-step form
    steps: tuple[Verdict, ...] = ()
    _expected: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @property
    def expected(self) -> str:
        """dL/d(wrt) as an expression in the leaf variables (computed with SymPy on demand)."""
        return self._expected() if self._expected else fmt_num(self.value)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "correct": self.correct,
            "rejected": self.rejected,
            "reason": self.reason,
            "reject_code": self.reject_code,
            "question": self.question,
            "wrt": self.wrt,
            "form": self.form,
            "expected": self.expected,
            "value": self.value,
            "answer": self.answer,
            "answer_value": self.answer_value,
            "mistake": self.mistake,
            "feedback": self.feedback,
            "score": self.score,
        }
        if self.steps:
            d["steps"] = [s.to_dict() for s in self.steps]
        return d


# -- comparisons ------------------------------------------------------------------------------
def close_number(a: float, b: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= NUMBER_RTOL * abs(b)


def close_expression(a: float, b: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= EXPRESSION_RTOL * max(abs(b), 1e-9)


@dataclass
class _Point:
    values: dict[str, float]
    fwd: dict[str, float]
    local: dict[Edge, float]
    grad: dict[str, float]


def _point(graph: Graph, values: dict[str, float]) -> _Point:
    fwd = graph.forward(values)
    return _Point(values, fwd, graph.local_grads(fwd), graph.backward(fwd))


def _same_branches(graph: Graph, base: dict[str, float], fwd: dict[str, float]) -> bool:
    for n in graph.nodes:
        ins = [fwd[a] for a in n.inputs]
        ref = [base[a] for a in n.inputs]
        if n.op == "relu" and (ins[0] > 0) != (ref[0] > 0):
            return False
        if n.op == "log" and ins[0] <= 0.01:
            return False
        if n.op == "div" and abs(ins[1]) < 0.1:
            return False
    return all(math.isfinite(v) and abs(v) < 1e6 for v in fwd.values())


def sample_points(problem: Problem, question: int) -> list[_Point]:
    """The given values, then N_POINTS seeded random points near them on the same branches."""
    graph = problem.graph
    base = problem.value_map
    points = [_point(graph, base)]
    rng = random.Random(problem.seed * 1_000_003 + question * 101 + 17)
    tries = 0
    while len(points) <= N_POINTS and tries < 200:
        tries += 1
        spread = 0.15 if tries < 100 else 0.03
        values = {k: v * (1 + rng.uniform(-spread, spread)) + rng.uniform(-0.05, 0.05)
                  for k, v in base.items()}
        try:
            fwd = graph.forward(values)
        except (ArithmeticError, ValueError):
            continue
        if _same_branches(graph, points[0].fwd, fwd):
            points.append(_point(graph, values))
    return points


def answer_at(answer: Answer, graph: Graph, point: _Point) -> float:
    """The answer's value at a point; node names take their forward values. NaN if undefined."""
    try:
        v = evaluate(answer.tree, point.fwd)
    except (ArithmeticError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


# -- mistakes -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Mistake:
    kind: str
    message: str
    at: Callable[[_Point], float]  # the value this mistake gives at a point


def _path_text(graph: Graph, target: str, path) -> str:
    return " → ".join(graph.path_names(target, path))


def _local_variants(graph: Graph, edge: Edge) -> list[tuple[str, Callable[[_Point], float]]]:
    """Wrong local gradients people use at one edge, as (description, value at a point)."""
    consumer, i = edge
    node = graph.node(consumer)
    a = node.inputs[i]
    eq = f"{consumer} = {node.equation()}"
    d = f"∂{consumer}/∂{a}"

    def inp(k):
        return lambda p: p.fwd[node.inputs[k]]

    def out(p):
        return p.fwd[consumer]

    one = ("dropped", lambda p: 1.0)
    v: list[tuple[str, Callable[[_Point], float]]] = []
    if node.op == "mul":
        other = node.inputs[1 - i]
        v = [one, (f"for {eq}, {d} is {other}, not {a}", inp(i))]
    elif node.op == "div":
        num, den = node.inputs
        if i == 0:
            v = [one, (f"for {eq}, {d} is 1/{den}, not {den}", inp(1))]
        else:
            v = [
                (f"for {eq}, {d} = −{num}/{den}² (with a minus), not +{num}/{den}²",
                 lambda p: p.fwd[num] / p.fwd[den] ** 2),
                (f"for {eq}, {d} = −{num}/{den}²: the factor {num} is missing",
                 lambda p: -1 / p.fwd[den] ** 2),
                (f"for {eq}, {d} = −{num}/{den}²: the square on {den} is missing",
                 lambda p: -p.fwd[num] / p.fwd[den]),
                one,
            ]
    elif node.op == "square":
        v = [(f"for {eq}, {d} = 2·{a}: the factor 2 is missing", inp(0)),
             (f"for {eq}, {d} = 2·{a}, not {a}²", lambda p: p.fwd[a] ** 2), one]
    elif node.op == "cube":
        v = [(f"for {eq}, {d} = 3·{a}², not 3·{a}", lambda p: 3 * p.fwd[a]),
             (f"for {eq}, {d} = 3·{a}²: the factor 3 is missing", lambda p: p.fwd[a] ** 2), one]
    elif node.op == "exp":
        v = [one, (f"for {eq}, {d} = exp({a}), not {a}", inp(0))]
    elif node.op == "log":
        v = [(f"for {eq}, {d} = 1/{a}, not {a}", inp(0)),
             (f"for {eq}, {d} = 1/{a}, not log({a})", lambda p: math.log(p.fwd[a])), one]
    elif node.op == "sigmoid":
        v = [
            (f"for {eq}, {d} = σ({a})(1 − σ({a})); you used σ({a}) alone", out),
            (f"for {eq}, {d} = σ({a})(1 − σ({a})); you used 1 − σ({a}) alone",
             lambda p: 1 - out(p)),
            (f"for {eq}, {d} = σ({a})(1 − σ({a})) with σ({a}) = {consumer}, not {a}(1 − {a})",
             lambda p: p.fwd[a] * (1 - p.fwd[a])),
            one,
        ]
    elif node.op == "tanh":
        v = [
            (f"for {eq}, {d} = 1 − tanh²({a}); you used 1 − tanh({a})", lambda p: 1 - out(p)),
            (f"for {eq}, {d} = 1 − tanh²({a}); you used tanh²({a})", lambda p: out(p) ** 2),
            (f"for {eq}, {d} = 1 − tanh²({a}) = 1 − {consumer}², not 1 − {a}²",
             lambda p: 1 - p.fwd[a] ** 2),
            one,
        ]
    elif node.op == "sub" and i == 1:
        v = [(f"for {eq}, {d} = −1 (subtracting {a} flips its sign), not +1", lambda p: 1.0)]
    out_list = []
    for desc, fn in v:
        if desc == "dropped":
            text = OPS[node.op].local_text[i].format(*node.inputs, o=consumer)
            desc = f"you left out the factor {d} = {text} (from {eq})"
        out_list.append((desc, fn))
    return out_list


def _mistakes(graph: Graph, target: str) -> list[_Mistake]:
    """Typical wrong answers for dL/d(target), most specific first."""
    grad = f"∂L/∂{target}"
    found: list[_Mistake] = [
        _Mistake("sign", f"Sign error: the size is right but the sign is wrong. Check each "
                 f"subtraction, division and minus sign on the way back to {target}.",
                 lambda p: -p.grad[target]),
    ]
    paths = graph.paths(target)
    if len(paths) >= 2:
        idx = range(len(paths))
        subsets = [s for r in range(1, len(paths)) for s in itertools.combinations(idx, r)]
        if len(subsets) > 300:
            subsets = [(i,) for i in idx] + [tuple(j for j in idx if j != i) for i in idx]
        for sub in subsets:
            missing = [paths[i] for i in idx if i not in sub]
            shown = " and ".join(_path_text(graph, target, p) for p in missing[:2])
            more = f" (and {len(missing) - 2} more)" if len(missing) > 2 else ""
            plural = "s" if len(missing) > 1 else ""
            msg = (f"Missing fan-out path: your answer leaves out the path{plural} {shown}{more}"
                   f" ({target} reaches L by {len(paths)} paths). When a value feeds several "
                   "nodes, the gradients from every path add up.")

            def at(p, sub=sub):
                return sum(math.prod(p.local[e] for e in paths[i]) for i in sub)

            found.append(_Mistake("missing-path", msg, at))
    edges = []
    for path in paths:
        for e in path:
            if e not in edges:
                edges.append(e)
    for first in dict.fromkeys(path[0] for path in paths if path):
        found.append(_Mistake(
            "local-only",
            f"Only the local gradient: that is ∂{first[0]}/∂{target} alone; multiply it by "
            f"the upstream gradient ∂L/∂{first[0]}.",
            lambda p, e=first: p.local[e]))
    for e in edges:
        for desc, fn in _local_variants(graph, e):
            def at(p, e=e, fn=fn):
                return graph.backward(p.fwd, {e: fn(p)})[target]

            found.append(_Mistake(
                "local-gradient",
                f"Wrong local gradient: {desc}. Everything else on the way back looks right.",
                at))
    downstream = {e[0] for e in edges}
    # Nodes on the way back from L come first: "you stopped too early" is the likelier slip.
    ordered = [n for n in graph.names if n in downstream] + [
        n for n in graph.names if n not in downstream]
    for other in ordered:
        if other in (target, graph.loss):  # dL/dL = 1 would match any stray 1
            continue
        if other in downstream:
            msg = (f"Wrong node: that is ∂L/∂{other}, the gradient at {other}. Keep going back: "
                   f"multiply by the local gradients between {other} and {target}.")
        else:
            msg = f"Wrong node: that is ∂L/∂{other}, not {grad}."
        found.append(_Mistake("wrong-node", msg, lambda p, o=other: p.grad[o]))
    found.append(_Mistake(
        "forward-value",
        f"Forward value, not a gradient: that is the value of {target} in the forward pass; "
        f"the question asks for {grad}.",
        lambda p: p.fwd[target]))
    return found


_FACTORS = ((2, "twice"), (0.5, "half"), (4, "4 times"), (0.25, "a quarter of"),
            (10, "10 times"), (0.1, "a tenth of"))


def _factor(answer: list[float], expected: list[float], close) -> str | None:
    for f, words in _FACTORS:
        for sign in (1, -1):
            if all(close(a, sign * f * e) for a, e in zip(answer, expected, strict=True)):
                what = words if sign == 1 else f"minus {words}"
                hint = (" Check constant factors, such as the 2 in d(z²)/dz = 2z."
                        if f in (2, 0.5, 4, 0.25) else " Check the decimal point.")
                return f"Off by a factor: your answer is {what} the gradient.{hint}"
    return None


def diagnose(graph: Graph, target: str, points: list[_Point], answer: list[float],
             close) -> tuple[str, str]:
    """(kind, message) for a wrong answer: the first typical mistake whose values match."""
    expected = [p.grad[target] for p in points]
    for m in _mistakes(graph, target):
        try:
            vals = [m.at(p) for p in points]
        except (ArithmeticError, ValueError):
            continue
        if all(close(v, e) for v, e in zip(vals, expected, strict=True)):
            continue  # not a mistake on this graph: it gives the right answer
        if all(close(a, v) for a, v in zip(answer, vals, strict=True)):
            return m.kind, m.message
    msg = _factor(answer, expected, close)
    if msg:
        return "factor", msg
    return "other", ("Not quite: this does not match a typical slip. Work backwards from L "
                     "one node at a time (upstream gradient × local gradient), and add up the "
                     "paths where a value fans out.")


# -- grading ------------------------------------------------------------------------------------
def _verdict(problem: Problem, question: int, wrt: str, **kw) -> Verdict:
    q = problem.question(question)
    return Verdict(
        question=question, wrt=wrt, form=q.form, value=problem.gradients[wrt],
        _expected=(lambda: problem.expected_expression(question)) if wrt == q.wrt else None, **kw
    )


def _rejected(problem: Problem, question: int, wrt: str, text: str, e: AnswerRejected) -> Verdict:
    return _verdict(problem, question, wrt, correct=False, rejected=True, reason=e.reason,
                    reject_code=e.code, answer=text,
                    feedback=f"Could not check that answer: {e.reason}.")


def _grade_number(problem: Problem, question: int, wrt: str, text: str) -> Verdict:
    answer = parse_answer(text, problem.graph.names)
    point = _point(problem.graph, problem.value_map)
    a = answer_at(answer, problem.graph, point)
    e = point.grad[wrt]
    if math.isnan(a):
        return _verdict(problem, question, wrt, correct=False, answer=text, mistake="undefined",
                        feedback="Undefined: your answer cannot be computed at the given values "
                        "(a division by zero, or a log or square root of a negative number).")
    if close_number(a, e):
        return _verdict(problem, question, wrt, correct=True, answer=text, answer_value=a,
                        score=1.0, feedback=f"Correct: ∂L/∂{wrt} = {fmt_num(e)}.")
    kind, msg = diagnose(problem.graph, wrt, [point], [a], close_number)
    return _verdict(problem, question, wrt, correct=False, answer=text, answer_value=a,
                    mistake=kind, feedback=msg)


def _symbolically_equal(problem: Problem, question: int, answer: Answer) -> bool:
    """Exact match after expand/cancel, within SYMBOLIC_BUDGET; False if unsure."""
    import sympy as sp

    from quizforge.drill.parse import to_sympy
    from quizforge.drill.symbolic import expected_in_leaves, leaf_exprs

    graph = problem.graph
    defs = leaf_exprs(graph)
    target = problem.question(question).wrt
    try:
        with time_limit(SYMBOLIC_BUDGET) as enforced:
            if not enforced:
                return False  # nothing could stop a runaway simplification: use numbers only
            diff = to_sympy(answer.tree, defs) - expected_in_leaves(graph, target)
            if diff == 0 or sp.expand(diff) == 0:
                return True
            return sp.cancel(sp.expand(diff)) == 0
    except CheckTimeout:
        return False
    except (Exception, RecursionError):  # noqa: BLE001 - the shortcut failing just means "unsure"
        return False


def _grade_expression(problem: Problem, question: int, text: str) -> Verdict:
    graph = problem.graph
    wrt = problem.question(question).wrt
    answer = parse_answer(text, graph.names)
    points = sample_points(problem, question)
    values = [answer_at(answer, graph, p) for p in points]
    expected = [p.grad[wrt] for p in points]
    a0 = None if math.isnan(values[0]) else values[0]
    correct = {"correct": True, "answer": text, "answer_value": a0, "score": 1.0,
               "feedback": f"Correct: ∂L/∂{wrt} = {fmt_num(expected[0])} at the given values."}
    if _symbolically_equal(problem, question, answer):
        return _verdict(problem, question, wrt, **correct)
    if all(close_expression(a, e) for a, e in zip(values, expected, strict=True)):
        return _verdict(problem, question, wrt, **correct)
    wrong = {"correct": False, "answer": text, "answer_value": a0}
    if not answer.names():
        if a0 is not None and close_number(a0, expected[0]):
            return _verdict(problem, question, wrt, mistake="not-expression", **wrong,
                            feedback="A number, not an expression: that is the right value at "
                            "the given point, but this question asks for an expression in "
                            f"{', '.join(graph.leaves)}.")
        kind, msg = diagnose(graph, wrt, points[:1], values[:1], close_number)
        return _verdict(problem, question, wrt, mistake=kind, **wrong,
                        feedback=f"{msg} (And this question asks for an expression, not a "
                        "number.)")
    if any(math.isnan(v) for v in values):
        return _verdict(problem, question, wrt, mistake="undefined", **wrong,
                        feedback="Undefined: your expression cannot be computed near the given "
                        "values (a division by zero, or a log or square root of a negative "
                        "number).")
    kind, msg = diagnose(graph, wrt, points, values, close_expression)
    if kind == "other" and close_number(values[0], expected[0]):
        msg = ("Not quite: right value at the given point, but not the same expression "
               "elsewhere; check that you kept every variable symbolic.")
    return _verdict(problem, question, wrt, mistake=kind, feedback=msg, **wrong)


def grade_step(problem: Problem, question: int, step: int, answer_text: str) -> Verdict:
    """Grade one step of the step-by-step form: the number dL/d(steps[step])."""
    steps = problem.steps(question)
    node = steps[step]
    try:
        with time_limit(TIME_LIMIT):
            return _grade_number(problem, question, node, answer_text)
    except AnswerRejected as e:
        return _rejected(problem, question, node, answer_text, e)
    except _Expired:
        return _rejected(problem, question, node, answer_text, CheckTimeout(TIME_LIMIT))


def _grade_steps(problem: Problem, question: int, text: str) -> Verdict:
    steps = problem.steps(question)
    wrt = problem.question(question).wrt
    parts = [p.strip() for p in text.replace("\n", ";").split(";")]
    parts = [p for p in parts if p] if len(parts) > 1 else parts
    if len(parts) != len(steps):
        names = "; ".join(f"∂L/∂{n}" for n in steps)
        raise AnswerRejected(
            f"expected {len(steps)} values separated by ';' ({names}), got {len(parts)}")
    results = []
    for i, (node, part) in enumerate(zip(steps, parts, strict=True)):
        try:
            results.append(_grade_number(problem, question, node, part))
        except AnswerRejected as e:
            raise AnswerRejected(f"step {i + 1} (∂L/∂{node}): {e.reason}", e.code) from None
    right = sum(r.correct for r in results)
    lines = [f"{right}/{len(steps)} steps right."]
    for r in results:
        mark = "✓" if r.correct else "✗"
        lines.append(f"{mark} ∂L/∂{r.wrt}" + ("" if r.correct else f": {r.feedback}"))
    first_wrong = next((r for r in results if not r.correct), None)
    return _verdict(problem, question, wrt, correct=right == len(steps), answer=text,
                    score=right / len(steps), steps=tuple(results),
                    answer_value=results[-1].answer_value,
                    mistake=first_wrong.mistake if first_wrong else None,
                    feedback="\n".join(lines))


def grade(problem: Problem, answer_text: str, question: int = 0) -> Verdict:
    """Grade `answer_text` (untrusted) for question `question` of `problem`.

    Never raises for a bad answer: an unreadable, unsafe or too-slow one comes back with
    `rejected=True` and a `reason`. Raises DrillError only for a question that does not exist.
    """
    q = problem.question(question)
    if q.form == "expression":
        from quizforge.drill import symbolic  # noqa: F401  (import SymPy outside the time limit)
    try:
        with time_limit(TIME_LIMIT):
            if q.form == "steps":
                return _grade_steps(problem, question, answer_text)
            if q.form == "expression":
                return _grade_expression(problem, question, answer_text)
            return _grade_number(problem, question, q.wrt, answer_text)
    except AnswerRejected as e:
        return _rejected(problem, question, q.wrt, answer_text, e)
    except _Expired:
        return _rejected(problem, question, q.wrt, answer_text, CheckTimeout(TIME_LIMIT))
