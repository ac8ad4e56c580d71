"""The operations a generated graph is built from: how each one computes, differentiates and reads.

Everything here is plain `math` on floats; the SymPy forms are strings (see `sym`), built into
expressions only by `quizforge.drill.symbolic`, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


def sigmoid(a: float) -> float:
    # The two branches keep exp() from overflowing for large |a|.
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    skill: str | None  # the skill a learner practises on this op (None: plain sums)
    show: str  # equation text, inputs as {0} {1}: "{0}·{1}"
    sym: str  # SymPy-parseable form: "{0}*{1}"
    forward: Callable[..., float]
    # Local gradients d(out)/d(input_i) from the input values and the output value.
    local: Callable[[tuple[float, ...], float], tuple[float, ...]]
    # The same as text, inputs as {0} {1} and the node itself as {o}.
    local_text: tuple[str, ...]
    transcendental: bool = False  # exp/log/σ/tanh: not whiteboard-friendly in bulk


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("add", 2, None, "{0} + {1}", "{0} + {1}", lambda a, b: a + b,
           lambda v, o: (1.0, 1.0), ("1", "1")),
        Op("sub", 2, None, "{0} − {1}", "{0} - {1}", lambda a, b: a - b,
           lambda v, o: (1.0, -1.0), ("1", "−1")),
        Op("mul", 2, "product", "{0}·{1}", "{0}*{1}", lambda a, b: a * b,
           lambda v, o: (v[1], v[0]), ("{1}", "{0}")),
        Op("div", 2, "quotient", "{0} / {1}", "{0}/{1}", lambda a, b: a / b,
           lambda v, o: (1.0 / v[1], -v[0] / v[1] ** 2), ("1/{1}", "−{0}/{1}²")),
        Op("square", 1, "power", "{0}²", "{0}**2", lambda a: a * a,
           lambda v, o: (2.0 * v[0],), ("2·{0}",)),
        Op("cube", 1, "power", "{0}³", "{0}**3", lambda a: a**3,
           lambda v, o: (3.0 * v[0] ** 2,), ("3·{0}²",)),
        Op("exp", 1, "exp", "exp({0})", "exp({0})", math.exp,
           lambda v, o: (o,), ("exp({0}) = {o}",), True),
        Op("log", 1, "log", "log({0})", "log({0})", math.log,
           lambda v, o: (1.0 / v[0],), ("1/{0}",), True),
        Op("sigmoid", 1, "sigmoid", "σ({0})", "1/(1 + exp(-{0}))", sigmoid,
           lambda v, o: (o * (1.0 - o),), ("{o}(1 − {o})",), True),
        Op("tanh", 1, "tanh", "tanh({0})", "tanh({0})", math.tanh,
           lambda v, o: (1.0 - o * o,), ("1 − {o}²",), True),
        Op("relu", 1, "relu", "ReLU({0})", "relu({0})", lambda a: max(0.0, a),
           lambda v, o: (1.0 if v[0] > 0 else 0.0,), ("1[{0} > 0]",)),
        Op("max", 2, "max-gate", "max({0}, {1})", "({0} + relu({1} - {0}))", max,
           lambda v, o: (1.0 if v[0] > v[1] else 0.0, 1.0 if v[1] > v[0] else 0.0),
           ("1[{0} > {1}]", "1[{1} > {0}]")),
        Op("halfsq", 1, "squared-error", "½{0}²", "({0})**2/2", lambda a: 0.5 * a * a,
           lambda v, o: (v[0],), ("{0}",)),
        Op("bce", 2, "cross-entropy", "−[{1}·log {0} + (1 − {1})·log(1 − {0})]",
           "-({1}*log({0}) + (1 - {1})*log(1 - {0}))",
           lambda p, y: -(y * math.log(p) + (1 - y) * math.log(1 - p)),
           lambda v, o: ((v[0] - v[1]) / (v[0] * (1 - v[0])), math.log(1 - v[0]) - math.log(v[0])),
           ("({0} − {1})/({0}(1 − {0}))", "log(1 − {0}) − log {0}")),
        Op("hinge", 2, "hinge", "max(0, 1 − {1}·{0})", "relu(1 - {1}*{0})",
           lambda s, y: max(0.0, 1 - y * s),
           lambda v, o: ((-v[1], -v[0]) if 1 - v[1] * v[0] > 0 else (0.0, 0.0)),
           ("−{1}·1[{1}{0} < 1]", "−{0}·1[{1}{0} < 1]")),
        Op("abs", 1, "l1", "|{0}|", "(relu({0}) + relu(-({0})))", abs,
           lambda v, o: (1.0 if v[0] > 0 else -1.0 if v[0] < 0 else 0.0,), ("sign({0})",)),
    )
}

# Ops whose local gradient is ±1 by nature: "dropping" it is not a mistake one can see.
UNIT_LOCAL = frozenset({"add", "sub", "relu", "max", "abs"})
