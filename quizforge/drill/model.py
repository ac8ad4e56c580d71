"""What every drill family hands the engine: questions, targets, mistakes and blocks of text.

A family generates a *problem* (seed and difficulty in, problem out). The engine — parsing,
equivalence, grading, storage, screens, JSON, `--check` — only ever talks to a problem
through the methods listed in `ProblemAPI`, so a new family is one new module and no
branch anywhere else.

Values are floats for scalars and small numpy arrays for tensors; numpy is never imported
here, so scalar families stay fast to load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

FORMS = ("number", "expression", "steps")
SIG_FIGS = 3  # how precisely a number answer must match


# -- numbers as people write them --------------------------------------------------------------
def fmt_num(v: float, sig: int = 4) -> str:
    """A number as people write it: 2, 0.5, -0.0454, 1.235e-05 (at most `sig` significant figures)."""
    v = float(v)
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    if abs(v) >= 1e6 or abs(v) < 1e-4:
        mantissa, _, exponent = f"{v:.{sig - 1}e}".partition("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{exponent}"
    decimals = max(0, sig - 1 - math.floor(math.log10(abs(v))))
    s = f"{v:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def fmt_exact(v: float, max_den: int = 64) -> str:
    """A number as a whiteboard would show it: 0.75, −1/3 (a short fraction when it is exact and
    its decimal does not end), else `fmt_num`."""
    v = float(v)
    if abs(v) >= 2**53:  # beyond what a float holds exactly: 1.2e+20, not 120000000000000000000
        return fmt_num(v, 6)
    f = Fraction(v).limit_denominator(max_den)
    if f.denominator == 1 and abs(float(f) - v) < 1e-12:
        return str(f.numerator)
    if abs(float(f) - v) < 1e-12 * max(1.0, abs(v)):
        d = f.denominator
        while d % 2 == 0:
            d //= 2
        while d % 5 == 0:
            d //= 5
        if d == 1:  # terminates: 0.75, 0.125
            return fmt_num(v, 6)
        return f"{f.numerator}/{f.denominator}"
    return fmt_num(v)


def shape_of(value: Any) -> tuple[int, ...]:
    return tuple(getattr(value, "shape", ()))


def shape_text(shape: tuple[int, ...]) -> str:
    """(2, 3) -> '2×3', (3,) -> 'a vector of 3', () -> 'a scalar'."""
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    return "×".join(str(n) for n in shape)


def to_data(value: Any) -> Any:
    """A JSON-ready number or nested list (integers where exact)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return [to_data(v) for v in value]
    v = float(value)
    if not math.isfinite(v):
        return None  # JSON has no NaN or Infinity
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def tensor_text(value: Any, exact: bool = True) -> str:
    """[[1, 2], [3, 4]] with whiteboard numbers; a scalar as a plain number."""
    fmt = fmt_exact if exact else fmt_num
    if not hasattr(value, "tolist"):
        return fmt(value)

    def walk(v):
        if isinstance(v, list):
            return "[" + ", ".join(walk(x) for x in v) + "]"
        return fmt(v)

    return walk(value.tolist())


def matrix_lines(value: Any, exact: bool = True) -> list[str]:
    """A matrix (or vector) laid out in aligned rows, for screens and worked solutions."""
    fmt = fmt_exact if exact else fmt_num
    if not hasattr(value, "tolist"):
        return [fmt(value)]
    rows = value.tolist()
    if not rows or not isinstance(rows[0], list):
        rows = [rows]
    cells = [[fmt(x) for x in r] for r in rows]
    width = max((len(c) for r in cells for c in r), default=1)
    out = []
    for i, r in enumerate(cells):
        left = "⎡" if i == 0 else "⎣" if i == len(cells) - 1 else "⎢"
        right = "⎤" if i == 0 else "⎦" if i == len(cells) - 1 else "⎥"
        if len(cells) == 1:
            left, right = "[", "]"
        out.append(left + " " + "  ".join(c.rjust(width) for c in r) + " " + right)
    return out


# -- blocks: what screens and worked solutions are made of --------------------------------------
@dataclass(frozen=True)
class Lines:
    """A titled run of text lines (a title of "" means none)."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A small table; `total_rows` are the indexes of rows to emphasise (answers)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    highlight: tuple[int, ...] = ()


@dataclass(frozen=True)
class Columns:
    """Blocks shown side by side where the screen is wide enough."""

    blocks: tuple[Lines | Table, ...]


Block = Lines | Table | Columns


def blocks_text(blocks: tuple[Block, ...]) -> str:
    """Plain text of blocks, for JSON prompts and pipes."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Columns):
            out.append(blocks_text(b.blocks))
            continue
        if b.title:
            out.append(b.title + ":")
        if isinstance(b, Lines):
            out.extend(b.lines)
        else:
            widths = [max(len(c), *(len(r[i]) for r in b.rows)) if b.rows else len(c)
                      for i, c in enumerate(b.columns)]
            out.append("  ".join(c.ljust(w) for c, w in zip(b.columns, widths, strict=True)))
            out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
                       for r in b.rows)
    return "\n".join(out)


# -- what is graded -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: its value (float or array, any shape) and what it means."""

    kind: str  # sign | missing-path | local-gradient | transposed | no-batch-sum | … (short id)
    message: str  # one or two sentences: what went wrong and how to fix it
    value: Any


@dataclass(frozen=True)
class Target:
    """One value to compute: a scalar or a tensor, with its honest-rounding band.

    `lo` and `hi` (same shape as `value`) bound what a learner who keeps 3 significant figures
    in every intermediate can reach, plus 0.5%; see `quizforge.drill.rounding.band`.
    """

    wrt: str  # the name asked about: "w", "W1", "z"
    label: str  # how the screen names it: "∂L/∂W1"
    value: Any
    lo: Any
    hi: Any
    mistakes: tuple[Mistake, ...] = ()
    names: tuple[str, ...] = ()  # names an answer may use for their given values (scalars)
    env: dict[str, float] = field(default_factory=dict)  # their values
    # where the answer starts from (θ₀ for "θ after a step"): when set, the grader compares
    # the change answer − offset with value − offset, so a band, a named mistake, "close" and a
    # factor all measure the update, not θ (lo/hi are still in the answer's own units)
    offset: Any = None

    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self.value)


@dataclass(frozen=True)
class Question:
    wrt: str  # what dL/d(·) is asked about
    form: str  # number | expression | steps
    ask: str  # the question, one sentence
    skills: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"wrt": self.wrt, "form": self.form, "skills": list(self.skills),
                "shape": list(self.shape), "prompt": self.ask}


class ProblemAPI(Protocol):
    """What the engine asks of a problem. `family`, `seed`, `difficulty`, `form` and
    `questions` are attributes; everything else is a method."""

    family: str
    seed: int
    difficulty: int
    form: str
    questions: tuple[Question, ...]

    def question(self, index: int = 0) -> Question: ...
    def display(self) -> tuple[Block, ...]: ...  # the problem body (the question is separate)
    def prompt(self, index: int = 0) -> str: ...  # plain text: body and question
    def inputs(self) -> dict[str, Any]: ...  # name -> number or array
    def loss_scalar(self) -> str: ...  # the loss as one scalar expression in element symbols
    def target(self, index: int = 0) -> Target: ...  # number form
    def steps(self, index: int = 0) -> tuple[Target, ...]: ...  # steps form ( () if none )
    def expected_text(self, index: int = 0) -> str: ...
    def solution(self, index: int = 0) -> tuple[Block, ...]: ...
    def hints(self, index: int = 0) -> tuple[str, ...]: ...  # successive hints
    def to_dict(self) -> dict[str, Any]: ...
