"""Independent references for drill families: finite differences of a problem's `loss_scalar`.

The loss text is our own output (trusted), so SymPy may parse it here; user answers never
go this way. The gradient of each question is checked against centred finite differences
of the loss, never against the family's own backward code.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import sympy as sp

LOCALS = {
    "sigmoid": lambda t: 1 / (1 + sp.exp(-t)),
    "relu": lambda t: sp.Max(0, t),
}


@functools.lru_cache(maxsize=4096)
def _compiled(loss: str):
    expr = sp.sympify(loss, locals=LOCALS)
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    fn = sp.lambdify(syms, expr, "math")
    return [s.name for s in syms], fn


def element_values(inputs: dict) -> dict[str, float]:
    """{'W': [[1, 2]], 'b': 3} -> {'W_0_0': 1.0, 'W_0_1': 2.0, 'b': 3.0}."""
    out: dict[str, float] = {}
    for name, value in inputs.items():
        arr = np.asarray(value, dtype=float)
        if arr.shape == ():
            out[name] = float(arr)
        else:
            for idx in np.ndindex(arr.shape):
                out[name + "_" + "_".join(map(str, idx))] = float(arr[idx])
    return out


def loss_at(problem_dict: dict, values: dict[str, float]) -> float:
    names, fn = _compiled(problem_dict["loss_scalar"])
    return float(fn(*(values[n] for n in names)))


def fd_gradient(problem_dict: dict, wrt: str, h: float = 1e-6) -> np.ndarray | float:
    """dL/d(wrt) by centred differences, with the shape of the input `wrt`."""
    return _centred(lambda values: loss_at(problem_dict, values), problem_dict["inputs"], wrt, h)


# Plain-float evaluation of the loss text: many times faster than SymPy over hundreds of
# seeds. The text is our own output (trusted), evaluated with no builtins.
FLOAT_FUNCTIONS = {
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "tanh": math.tanh,
    "relu": lambda t: t if t > 0 else 0.0, "sigmoid": lambda t: 1 / (1 + math.exp(-t)),
}


@functools.lru_cache(maxsize=4096)
def _float_loss(loss: str):
    code = compile(loss, "<loss>", "eval")
    env = {"__builtins__": {}, **FLOAT_FUNCTIONS}
    return lambda values: eval(code, env, values)


def fd_float(problem, wrt: str, h: float = 1e-6) -> np.ndarray | float:
    """fd_gradient of a problem's loss_scalar, evaluated with Python floats."""
    return _centred(_float_loss(problem.loss_scalar()), problem.inputs(), wrt, h)


def _centred(loss, inputs: dict, wrt: str, h: float) -> np.ndarray | float:
    base = element_values(inputs)
    shape = np.asarray(inputs[wrt], dtype=float).shape
    grad = np.zeros(shape)
    for idx in np.ndindex(shape) if shape else [()]:
        key = wrt if not shape else wrt + "_" + "_".join(map(str, idx))
        up, down = dict(base), dict(base)
        up[key] += h
        down[key] -= h
        grad[idx] = (loss(up) - loss(down)) / (2 * h)
    return float(grad) if not shape else grad


def named_mistakes(problem, index: int, label: tuple = ()):
    """Type every mistake of question `index` as the engine prints it; each must be refused and
    named (its own kind, or an earlier mistake with the same value). Yields (mistake, verdict)
    for any further checks."""
    from quizforge.drill.check import grade, near
    from quizforge.drill.model import tensor_text

    library = problem.target(index).mistakes
    for j, m in enumerate(library):
        v = grade(problem, tensor_text(m.value), index)
        assert not v.correct and not v.rejected, (*label, index, m.kind)
        same_value = {k.kind for k in library[:j + 1] if near(m.value, k.value, 0.006)}
        assert v.mistake in same_value, (*label, index, m.kind, v.mistake)
        yield m, v


def assert_rounding_learner_accepted(problems, answer_of, same=None, rate: float = 0.995):
    """A simulated learner who rounds every intermediate to 3 significant figures lands
    inside the honest-rounding band of at least `rate` of the questions of `problems`.
    `answer_of(problem, index)` is the learner's answer, worked out independently;
    `same(answer, target, key)`, if given, asserts it is the same quantity (rounding aside)."""
    from quizforge.drill.rounding import inside

    total, misses = 0, []
    for p in problems:
        for i in range(len(p.questions)):
            t = p.target(i)
            answer = answer_of(p, i)
            key = (p.seed, p.difficulty, i)
            if same is not None:
                same(answer, t, key)
            total += 1
            if not inside(answer, t.lo, t.hi):
                misses.append((*key, answer, t.value))
    assert total and (total - len(misses)) / total >= rate, (total, misses[:10])


def assert_expected_accepted(problems) -> None:
    """Every question's own expected text, typed back, is graded right."""
    from quizforge.drill.check import grade

    for p in problems:
        for i in range(len(p.questions)):
            v = grade(p, p.expected_text(i), i)
            assert v.correct, (p.seed, p.difficulty, i, p.expected_text(i), v.feedback)


# -- scaffolding shared by the drill family tests ---------------------------------------------------
def cached_family(family: str):
    """(problem, as_json) for `family`: cached `problem(seed, difficulty)` in the number form,
    and its dict after a round trip through JSON text."""
    from quizforge.drill.family import generate

    @functools.cache
    def problem(seed: int, difficulty: int):
        return generate(family, seed, difficulty, "number")

    @functools.cache
    def as_json(seed: int, difficulty: int) -> dict:
        return json.loads(json.dumps(problem(seed, difficulty).to_dict()))

    return problem, as_json


GOLDEN_DIR = Path(__file__).parent / "golden"


def load_golden(family: str) -> dict:
    """tests/golden/<family>.json, the answers PyTorch computed."""
    return json.loads((GOLDEN_DIR / f"{family}.json").read_text("utf-8"))


def golden_maker(family: str):
    """tests/golden/make_<family>.py, the PyTorch references that wrote the golden file."""
    if str(GOLDEN_DIR) not in sys.path:
        sys.path.insert(0, str(GOLDEN_DIR))
    return importlib.import_module(f"make_{family}")


def assert_golden_covers_200_seeds(golden: dict) -> None:
    seen = Counter(p["difficulty"] for p in golden["problems"])
    assert seen == {1: 200, 2: 200, 3: 200}


def registered(family: str):
    """The family as registered: difficulties 1 to 3, number form only."""
    from quizforge.drill.family import families

    fam = families()[family]
    assert fam.difficulties == (1, 2, 3) and fam.forms == ("number",)
    return fam


def assert_fits_screen(problem, width: int = 78) -> None:
    """The problem's body and every worked solution fit a screen `width` columns wide."""
    from quizforge.drill.model import blocks_text

    shown = [problem.display(), *(problem.solution(i) for i in range(len(problem.questions)))]
    widest = max(len(line) for blocks in shown for line in blocks_text(blocks).splitlines())
    assert widest <= width, (problem.seed, problem.difficulty, widest)


def modules_loaded(family: str, difficulty: int) -> tuple[bool, bool, bool]:
    """In a fresh interpreter: (numpy loaded after importing the family's module, numpy and
    sympy loaded after generating one problem at `difficulty`)."""
    code = (f"import sys, quizforge.drill.families.{family} as m; "
            "print('numpy' in sys.modules); "
            f"m.generate(1, {difficulty}, 'number'); "
            "print('numpy' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return tuple(word == "True" for word in out.stdout.split())
