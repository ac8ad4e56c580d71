"""`schedule`: the learning rate at step t of a learning-rate schedule, worked by hand.

The schedules are PyTorch's (StepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR) and the two
every transformer recipe uses: linear warmup then cosine or linear decay (a LambdaLR, as in
Hugging Face's get_cosine/linear_schedule_with_warmup, here with a floor eta_min) and the
Transformer's inverse square root (Vaswani et al. 2017). The formulas are the plain functions
at the top of this module (pure, math only) so that other code can reuse them.

Counting, as PyTorch does it: a scheduler made with last_epoch = −1 sets lr(0) at once, and
each scheduler.step() adds one, so the epoch (or batch) t counted from 0 trains with lr(t),
the value after t calls. The inverse square root counts step_num from 1, as the paper does.
Every problem states its counting and asks at least one step the other way round ("the 30th
epoch" is t = 29), so the off-by-one answer is a named mistake.

OneCycleLR follows PyTorch's implementation exactly (two phases, anneal_strategy "cos"):
initial_lr = max_lr/div_factor, min_lr = initial_lr/final_div_factor, phase 1 from step 0 to
step pct_start·total_steps − 1 (initial_lr → max_lr), phase 2 from there to step
total_steps − 1 (max_lr → min_lr), each phase cos-annealed:
anneal(start, end, p) = end + (start − end)·½(1 + cos πp).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from typing import Any

from quizforge.drill.basic import Asked, BasicProblem, fits_screen
from quizforge.drill.family import Family
from quizforge.drill.model import Lines, Mistake, Question, Target, fmt_exact, fmt_num
from quizforge.drill.rounding import band

SAME_RTOL = 0.006  # two values this close are one answer to the grader (3 significant figures)


# -- the schedules: pure formulas ----------------------------------------------------------------
def cos_pi(x: float) -> float:
    """cos(π·x), exact where a person knows it exactly (0, ±1/2, ±1 come out as such)."""
    c = math.cos(math.pi * x)
    for exact in (-1.0, -0.5, 0.0, 0.5, 1.0):
        if abs(c - exact) < 1e-12:
            return exact
    return c


def step_lr(lr: float, step_size: int, gamma: float, t: int) -> float:
    """StepLR: lr·γ^⌊t/step_size⌋ (t = last_epoch, the number of scheduler.step() calls)."""
    return lr * gamma ** (t // step_size)


def exponential_lr(lr: float, gamma: float, t: int) -> float:
    """ExponentialLR: lr·γ^t."""
    return lr * gamma ** t


def cosine_annealing_lr(lr: float, T_max: int, eta_min: float, t: float) -> float:
    """CosineAnnealingLR (the closed form): eta_min + (lr − eta_min)·½(1 + cos(π·t/T_max))."""
    return eta_min + (lr - eta_min) * (1 + cos_pi(t / T_max)) / 2


def warmup_cosine_lr(lr: float, num_warmup_steps: int, num_training_steps: int, t: float,
                     eta_min: float = 0.0) -> float:
    """Linear warmup from 0 at t = 0 to lr at t = W, then cosine down to eta_min at t = T."""
    W, T = num_warmup_steps, num_training_steps
    if t < W:
        return lr * t / W
    return eta_min + (lr - eta_min) * (1 + cos_pi((t - W) / (T - W))) / 2


def warmup_linear_lr(lr: float, num_warmup_steps: int, num_training_steps: int, t: float,
                     eta_min: float = 0.0) -> float:
    """Linear warmup from 0 at t = 0 to lr at t = W, then a straight line to eta_min at t = T."""
    W, T = num_warmup_steps, num_training_steps
    if t < W:
        return lr * t / W
    return eta_min + (lr - eta_min) * (T - t) / (T - W)


def inverse_sqrt_lr(d_model: int, warmup_steps: int, step_num: float) -> float:
    """The Transformer's schedule: d_model^−0.5 · min(step_num^−0.5, step_num·warmup^−1.5),
    step_num counted from 1."""
    return d_model ** -0.5 * min(step_num ** -0.5, step_num * warmup_steps ** -1.5)


def anneal_cos(start: float, end: float, pct: float) -> float:
    """OneCycleLR's cosine anneal from `start` (pct = 0) to `end` (pct = 1)."""
    return end + (start - end) * (1 + cos_pi(pct)) / 2


def one_cycle_phase_end(total_steps: int, pct_start: float) -> float:
    """The step where OneCycleLR peaks: pct_start·total_steps − 1 (PyTorch's phase boundary)."""
    return pct_start * total_steps - 1


def one_cycle_lr(max_lr: float, total_steps: int, t: int, pct_start: float = 0.3,
                 div_factor: float = 25.0, final_div_factor: float = 1e4) -> float:
    """OneCycleLR (two phases, anneal_strategy='cos'), as PyTorch computes it at step t."""
    initial = max_lr / div_factor
    minimum = initial / final_div_factor
    peak = one_cycle_phase_end(total_steps, pct_start)
    if t <= peak:
        return anneal_cos(initial, max_lr, t / peak)
    return anneal_cos(max_lr, minimum, (t - peak) / (total_steps - 1 - peak))


# -- small helpers -------------------------------------------------------------------------------
def _same(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_RTOL * max(abs(a), abs(b)) + 1e-15


def _keep(value: float, lo: float, hi: float, candidates: list[Mistake | None]) -> tuple:
    """The mistakes a grader can tell from the right answer (first of equal values kept)."""
    kept: list[Mistake] = []
    for m in candidates:
        if m is None:
            continue
        v = float(m.value)
        if not math.isfinite(v) or 0 < abs(v) < 1e-9 or _same(v, value):
            continue  # (a value like 2·10⁻³¹ teaches nothing and cannot be typed)
        slack = SAME_RTOL * abs(v)
        if lo - slack <= v <= hi + slack:
            continue  # typed to 3 significant figures it could land inside the band: right
        if any(abs(v - k.value) <= 2 * SAME_RTOL * abs(v) for k in kept):
            continue  # typed to 3 figures one could be read as the other: the first names it
        kept.append(m)
    return tuple(kept)


def _n(v: float) -> str:
    """A number as written on the board: 0.0125, 1/3, 2e-06 (no trailing zeros)."""
    if v and abs(v) < 1e-4:
        return f"{v:.3g}"
    return fmt_exact(v)


def _lr(v: float) -> str:
    """A learning rate in a worked line: 4 significant figures, 2e-06 for tiny ones."""
    if v and abs(v) < 1e-4:
        return f"{v:.4g}"
    return fmt_num(v)


def _cos_text(f: Fraction) -> str:
    """'cos(π/3) = 1/2', 'cos(π/4) ≈ 0.707' for the fraction f of π."""
    c = cos_pi(float(f))
    arg = _pi_text(f)
    if c in (-1.0, -0.5, 0.0, 0.5, 1.0):
        return f"cos({arg}) = {_n(c)}"
    return f"cos({arg}) ≈ {fmt_num(c, 3)}"


def _pi_text(f: Fraction) -> str:
    if f == 0:
        return "0"
    num = "π" if f.numerator == 1 else f"{f.numerator}π"
    return num if f.denominator == 1 else f"{num}/{f.denominator}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _lr_ask(where: str) -> str:
    return f"Give the learning rate {where} (a scalar, e.g. 0.0125 or 1/80)."


@dataclass(frozen=True)
class _Q:
    """One question before its band and mistakes are worked out."""

    wrt: str  # "lr@45" (the lr at scheduler step 45) or "t@half" (a step asked)
    label: str
    ask: str
    skills: tuple[str, ...]
    value: float
    compute: Callable[[Callable[[Any], Any]], Any]  # the hand computation, r on every number
    candidates: list[Mistake | None]
    formula: tuple[str, ...]
    numbers: tuple[str, ...]
    hints: tuple[str, str]
    step: int | None  # the scheduler step asked (JSON), None for a step-valued question
    needs: tuple[str, ...] = ()  # mistakes this question is there to catch (must be named)


def _need(q: _Q, *kinds: str) -> _Q:
    return replace(q, needs=kinds)


def _asked(q: _Q, convention: tuple[str, ...]) -> Asked:
    lo, hi = band(q.compute)
    mistakes = _keep(q.value, lo, hi, q.candidates)
    target = Target(q.wrt, q.label, float(q.value), lo, hi, mistakes)
    question = Question(q.wrt, "number", q.ask, q.skills, ())
    solution = (Lines("Counting", convention), Lines("Formula", q.formula),
                Lines("Numbers", q.numbers + (f"{q.label} = {_n(q.value)}",)))
    return Asked(question, target, solution, q.hints)


@dataclass(frozen=True)
class _Setup:
    schedule: str  # the PyTorch class (or the schedule's usual name)
    params: dict[str, Any]  # by PyTorch's names
    body: tuple[str, ...]
    convention: tuple[str, ...]
    questions: tuple[_Q, ...]
    counting: str  # for the JSON
    lr_at: Callable[[float], float] | None = None  # the schedule (for off-by-one checks)


EPOCH_COUNTING = ("Epochs are counted from 0, and scheduler.step() is called once at the end",
                  "of every epoch: epoch t trains with the lr after t calls (last_epoch = t).",
                  "The 1st epoch is epoch 0, the n-th epoch is epoch n − 1.")


# -- d1: StepLR ----------------------------------------------------------------------------------
def _step_setup(rng: random.Random) -> _Setup:
    lr = rng.choice((0.1, 0.2, 0.4, 0.05, 1.0))
    gamma = rng.choice((0.1, 0.5, 0.5, 0.2))
    s = rng.choice((10, 20, 25, 30, 50))
    e0 = rng.choice((1, 2, 3))
    e1 = rng.choice([e for e in (1, 2, 3) if e != e0])
    e2 = rng.choice([e for e in (0, 1, 2, 3) if e not in (e0, e1)])
    t0 = e0 * s + rng.randint(1, s - 1)
    t1 = e1 * s  # on a boundary: the decay has already happened
    n2 = (e2 + 1) * s  # the n2-th epoch is epoch n2 − 1: not decayed yet
    t2 = n2 - 1

    def f(t: int) -> float:
        return step_lr(lr, s, gamma, t)

    def compute(t: int):
        k = t // s
        return lambda r: r(lr * r(gamma ** k))

    formula = (("lr(t) = lr · γ^⌊t / step_size⌋   (one decay per finished block of "
               f"{s} epochs)"),)

    def numbers(t: int, lead: str = "") -> tuple[str, ...]:
        k = t // s
        return ((lead,) if lead else ()) + (
            f"⌊{t}/{s}⌋ = {k} decays",
            f"lr = {_n(lr)} · {_n(gamma)}^{k} = {_n(lr)} · {_n(gamma ** k)} = {_n(f(t))}")

    def common(t: int) -> list[Mistake | None]:
        k = t // s
        return [
            Mistake("step-decay-floor", f"⌊{t}/{s}⌋ = {k}: only finished blocks of {s} "
                    f"epochs count, so lr is multiplied by γ {k} times, not {k + 1}.",
                    lr * gamma ** (k + 1)),
            Mistake("step-decay-floor", f"StepLR decays in jumps: the exponent is the whole "
                    f"number ⌊{t}/{s}⌋ = {k}, not the fraction {t}/{s}.",
                    lr * gamma ** (t / s)),
            Mistake("decayed-every-epoch", f"That multiplies by γ every epoch (ExponentialLR); "
                    f"StepLR multiplies by γ once every step_size = {s} epochs.",
                    lr * gamma ** t),
        ]

    q0 = _Q(f"lr@{t0}", f"lr({t0})", _lr_ask(f"used during epoch {t0}"), ("step-decay",),
            f(t0), compute(t0),
            common(t0) + [Mistake("exponent-off", f"One decay too few: {t0} epochs hold "
                                  f"{t0 // s} full blocks of {s}.", lr * gamma ** (e0 - 1))],
            formula, numbers(t0),
            ("StepLR multiplies lr by γ once every step_size epochs: lr·γ^⌊t/step_size⌋.",
             f"⌊{t0}/{s}⌋ = {e0}, so lr = {_n(lr)}·{_n(gamma)}^{e0}."), t0)
    q1 = _Q(f"lr@{t1}", f"lr({t1})", _lr_ask(f"used during epoch {t1}"), ("step-decay",),
            f(t1), compute(t1),
            [Mistake("off-by-one", f"Epoch {t1} already trains with the decayed rate: after "
                     f"{t1} calls last_epoch = {t1}, a multiple of {s}, so γ has been applied "
                     f"{e1} times.", f(t1 - 1))] + common(t1),
            formula, numbers(t1, f"epoch {t1} is exactly {e1} × {s}: the decay has happened"),
            ("The decay takes effect when last_epoch reaches a multiple of step_size.",
             f"⌊{t1}/{s}⌋ = {e1}."), t1)
    q2 = _Q(f"lr@{t2}", f"lr({t2})",
            _lr_ask(f"used during the {_ordinal(n2)} epoch"), ("step-decay",),
            f(t2), compute(t2),
            [Mistake("off-by-one", f"The {_ordinal(n2)} epoch is epoch {t2} (epochs count "
                     f"from 0): ⌊{t2}/{s}⌋ = {e2} decays, the next one comes with epoch "
                     f"{n2}.", f(n2))] + common(t2),
            formula, numbers(t2, f"the {_ordinal(n2)} epoch is epoch t = {t2}"),
            ("Turn 'the n-th epoch' into t = n − 1 first, then lr·γ^⌊t/step_size⌋.",
             f"t = {t2} and ⌊{t2}/{s}⌋ = {e2}."), t2)
    body = (f"torch.optim.lr_scheduler.StepLR(optimizer, step_size={s}, gamma={_n(gamma)})",
            (f"The optimizer's lr is {_n(lr)}; StepLR multiplies it by {_n(gamma)} every {s} "
            "epochs."))
    return _Setup("StepLR", {"lr": lr, "step_size": s, "gamma": gamma}, body, EPOCH_COUNTING,
                  (q0, _need(q1, "off-by-one"), _need(q2, "off-by-one")), "last_epoch", lr_at=f)


# -- d1: ExponentialLR ---------------------------------------------------------------------------
def _exp_setup(rng: random.Random) -> _Setup:
    lr = rng.choice((0.1, 0.2, 0.4, 0.8, 1.0))
    gamma = rng.choice((0.5, 0.5, 0.8, 0.9))
    if gamma == 0.5:  # powers of 2 stay whiteboard numbers up to 2⁻⁶
        t0, k1 = rng.sample(range(1, 7), 2)
        m = rng.choice([k for k in range(2, 7) if k not in (t0, k1)])
    else:  # 0.8³ = 0.512, 0.9³ = 0.729: no further
        t0, k1, m = rng.choice(((1, 2, 3), (1, 3, 2), (2, 1, 3), (3, 1, 2)))
    n1 = k1 + 1  # the n1-th epoch is epoch k1

    def f(t: int) -> float:
        return exponential_lr(lr, gamma, t)

    def compute(t: int):
        return lambda r: r(lr * r(gamma ** t))

    formula = ("lr(t) = lr · γ^t   (one factor γ per scheduler.step())",)

    def numbers(t: int) -> tuple[str, ...]:
        return (f"γ^{t} = {_n(gamma)}^{t} = {_n(gamma ** t)}",
                f"lr = {_n(lr)} · {_n(gamma ** t)} = {_n(f(t))}")

    q0 = _Q(f"lr@{t0}", f"lr({t0})", _lr_ask(f"used during epoch {t0}"), ("exponential",),
            f(t0), compute(t0),
            [Mistake("exponent-off", f"Epoch {t0} comes after {t0} calls of scheduler.step(), "
                     f"so γ^{t0}, not γ^{t0 + 1}.", f(t0 + 1)),
             Mistake("exponent-off", f"Epoch {t0} comes after {t0} calls of scheduler.step(), "
                     f"so γ^{t0}, not γ^{t0 - 1}.", f(t0 - 1)) if t0 > 1 else None,
             Mistake("linear-decay", f"γ multiplies: lr·γ^{t0}, not lr·(1 − {t0}(1 − γ)).",
                     lr * (1 - t0 * (1 - gamma)))],
            formula, numbers(t0),
            ("ExponentialLR multiplies lr by γ at every scheduler.step(): lr·γ^t.",
             f"t = {t0}: lr = {_n(lr)}·{_n(gamma)}^{t0}."), t0)
    q1 = _Q(f"lr@{k1}", f"lr({k1})", _lr_ask(f"used during the {_ordinal(n1)} epoch"),
            ("exponential",), f(k1), compute(k1),
            [Mistake("off-by-one", f"The {_ordinal(n1)} epoch is epoch {k1} (the first is "
                     f"epoch 0, trained with lr itself), so γ^{k1}, not γ^{n1}.", f(n1))],
            formula, (f"the {_ordinal(n1)} epoch is epoch t = {k1}",) + numbers(k1),
            ("The first epoch trains with lr itself (γ⁰): the n-th epoch has γ^(n−1).",
             f"t = {n1} − 1 = {k1}."), k1)
    x = f(m)
    q2 = _Q(f"t@{_n(x)}", "t", (f"Give the first epoch t (counted from 0) that trains with "
                                f"lr ≤ {_n(x)} (a whole number)."), ("exponential",),
            float(m), lambda r: float(m),
            [Mistake("off-by-one", f"Epoch {m} already trains with {_n(x)} = lr·γ^{m}: epoch t "
                     f"has γ^t, so the first one is t = {m}.", float(m + 1)),
             Mistake("off-by-one", f"Epoch {m - 1} still trains with lr·γ^{m - 1} = "
                     f"{_n(f(m - 1))}; epoch t has γ^t.", float(m - 1))],
            ("lr·γ^t ≤ x  ⇔  γ^t ≤ x/lr",),
            (f"x/lr = {_n(x)}/{_n(lr)} = {_n(gamma ** m)} = {_n(gamma)}^{m}",
             f"so γ^t ≤ {_n(gamma ** m)} first at t = {m}"),
            ("Write the threshold as lr·γ^k and read off k.",
             f"{_n(x)}/{_n(lr)} = {_n(gamma ** m)}: which power of {_n(gamma)} is that?"), None)
    body = (f"torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma={_n(gamma)})",
            (f"The optimizer's lr is {_n(lr)}; every scheduler.step() multiplies it by "
            f"{_n(gamma)}."))
    return _Setup("ExponentialLR", {"lr": lr, "gamma": gamma}, body, EPOCH_COUNTING,
                  (_need(q0, "exponent-off"), _need(q1, "off-by-one"),
                   _need(q2, "off-by-one")), "last_epoch", lr_at=f)


# -- d1: CosineAnnealingLR -----------------------------------------------------------------------
EXACT_FRACS = (Fraction(1, 3), Fraction(1, 2), Fraction(2, 3))
ROUND_FRACS = (Fraction(1, 4), Fraction(3, 4), Fraction(1, 6), Fraction(5, 6))


def _cosine_parts(lr: float, eta_min: float, f: Fraction):
    """(value, hand computation, formula-with-numbers lines) at the fraction f of the way."""
    c = cos_pi(float(f))
    value = eta_min + (lr - eta_min) * (1 + c) / 2

    def compute(r):
        cc = r(c)
        half = r(r(1 + cc) / 2)
        return r(eta_min + r(r(lr - eta_min) * half))

    k = (1 + c) / 2
    lines = (_cos_text(f),
             f"½(1 + cos) = ½(1 + {_factor_text(c)}) = {_factor_text(k)}",
             (f"lr = {_n(eta_min)} + ({_n(lr)} − {_n(eta_min)}) · {_factor_text(k)}"
             f" = {fmt_num(value)}"))
    return value, compute, lines


def _cosine_mistakes(lr: float, eta_min: float, f: Fraction) -> list[Mistake | None]:
    c = cos_pi(float(f))
    d = lr - eta_min
    return [
        Mistake("cosine-without-half", "The cosine factor is ½(1 + cos(πt/T_max)), which runs "
                "from 1 to 0; without the ½ the lr starts at twice the base lr.",
                eta_min + d * (1 + c)),
        Mistake("cosine-without-half", "The factor is ½(1 + cos), not cos alone: cos runs from "
                "1 to −1, ½(1 + cos) from 1 to 0.", eta_min + d * c),
        Mistake("eta-min-ignored", f"The cosine runs between lr and eta_min = {_n(eta_min)}: "
                "lr = eta_min + (lr − eta_min)·½(1 + cos).", lr * (1 + c) / 2)
        if eta_min else None,
        Mistake("eta-min-amplitude", "eta_min is added, so the swing is (lr − eta_min), not "
                "lr: lr = eta_min + (lr − eta_min)·½(1 + cos).", eta_min + lr * (1 + c) / 2)
        if eta_min else None,
    ]


def _cosine_setup(rng: random.Random) -> _Setup:
    lr = rng.choice((0.1, 0.2, 0.4, 0.05))
    eta_min = round(lr * rng.choice((0.1, 0.2, 0.25, 0.5)), 10)
    T = rng.choice((60, 120, 180, 240, 36, 48, 72, 96))
    f0, f2 = rng.sample(EXACT_FRACS, 2)
    f1 = rng.choice(ROUND_FRACS)
    t0, t1 = int(f0 * T), int(f1 * T)
    t2 = int(f2 * T)
    n2 = t2 + 1

    def f(t: float) -> float:
        return cosine_annealing_lr(lr, T, eta_min, t)

    formula = ("lr(t) = eta_min + (lr − eta_min) · ½(1 + cos(π·t/T_max))",
               "   (lr at t = 0, eta_min at t = T_max)")

    def question(t: int, f_: Fraction, where: str, lead: tuple[str, ...],
                 off: Mistake, hints: tuple[str, str]) -> _Q:
        value, compute, lines = _cosine_parts(lr, eta_min, f_)
        skills = ("cosine",)
        return _Q(f"lr@{t}", f"lr({t})", _lr_ask(where), skills, value, compute,
                  _cosine_mistakes(lr, eta_min, f_) + [off], formula,
                  lead + (f"t/T_max = {t}/{T} = {f_}",) + lines, hints, t)

    hint1 = "lr(t) = eta_min + (lr − eta_min)·½(1 + cos(π·t/T_max))."
    q0 = question(t0, f0, f"used during epoch {t0}", (),
                  Mistake("off-by-one", f"Epoch {t0} trains with lr({t0}), after {t0} calls of "
                          "scheduler.step().", f(t0 + 1)),
                  (hint1, f"t/T_max = {t0}/{T} = {f0}, and {_cos_text(f0)}."))
    q1 = question(t1, f1, f"used during epoch {t1}", (),
                  Mistake("off-by-one", f"Epoch {t1} trains with lr({t1}), after {t1} calls of "
                          "scheduler.step().", f(t1 + 1)),
                  (hint1, f"t/T_max = {t1}/{T} = {f1}; {_cos_text(f1)}."))
    q2 = question(t2, f2, f"used during the {_ordinal(n2)} epoch",
                  (f"the {_ordinal(n2)} epoch is epoch t = {t2}",),
                  Mistake("off-by-one", f"The {_ordinal(n2)} epoch is epoch {t2} (the first is "
                          f"epoch 0), so t = {t2}, not {n2}.", f(n2)),
                  ("The n-th epoch is t = n − 1; then the cosine formula.",
                   f"t = {t2}: t/T_max = {f2}."))
    body = ("torch.optim.lr_scheduler.CosineAnnealingLR(optimizer,",
            f"    T_max={T}, eta_min={_n(eta_min)})",
            f"The optimizer's lr is {_n(lr)}; the lr follows half a cosine from {_n(lr)}",
            f"down to {_n(eta_min)} over {T} epochs.")
    return _Setup("CosineAnnealingLR", {"lr": lr, "T_max": T, "eta_min": eta_min}, body,
                  EPOCH_COUNTING, (_need(q0, "cosine-without-half", "eta-min-ignored"), q1,
                                   _need(q2, "off-by-one")), "last_epoch", lr_at=f)


# -- d2: linear warmup, then cosine or linear decay (LambdaLR) -----------------------------------
STEP_COUNTING = ("Optimizer steps are counted from 0 and scheduler.step() follows every",
                 "optimizer.step(): step t uses lr(t) (LambdaLR's last_epoch = t).",
                 "Warmup: lr(0) = 0, rising in a straight line to the peak lr at step W.")


def _warmup_setup(rng: random.Random) -> _Setup:
    cosine = rng.random() < 0.6
    lr = rng.choice((0.001, 0.002, 0.004, 0.0006, 0.0008))
    eta_min = round(lr * rng.choice((0.0, 0.1, 0.1, 0.2)), 10)
    W = rng.choice((100, 200, 400, 500, 1000, 2000))
    D = rng.choice((1200, 2400, 3600, 6000, 4800))
    T = W + D
    fn = warmup_cosine_lr if cosine else warmup_linear_lr

    def f(t: float) -> float:
        return fn(lr, W, T, t, eta_min)

    shape = "cosine" if cosine else "linear"
    decay_skills = ("warmup", "cosine") if cosine else ("warmup",)
    if cosine:
        fr = rng.choice((Fraction(1, 3), Fraction(2, 3)) + ROUND_FRACS[:2])  # ½ is for q2
        g = rng.choice((Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(2, 5)))
    else:
        fr = rng.choice((Fraction(1, 4), Fraction(1, 3), Fraction(2, 3), Fraction(3, 4),
                         Fraction(1, 5), Fraction(2, 5)))
        g = rng.choice((Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(1, 5)))
    t0 = W + int(fr * D)
    t1 = int(g * W)
    decay = ("½(1 + cos(π·(t − W)/(T − W)))" if cosine else "(T − t)/(T − W)")
    formula = ("t < W:      lr(t) = lr · t/W",
               f"W ≤ t ≤ T:  lr(t) = eta_min + (lr − eta_min) · {decay}")

    def decay_factor(p: float) -> float:  # p = fraction of the decay done
        return (1 + cos_pi(p)) / 2 if cosine else 1 - p

    # -- question 0: a step in the decay
    p0 = float(fr)
    v0 = f(t0)

    def compute0(r):
        p = r(r(t0 - W) / D)
        if cosine:
            k = r(r(1 + r(cos_pi(p))) / 2)
        else:
            k = r(1 - p)
        return r(eta_min + r(r(lr - eta_min) * k))

    m0 = [
        Mistake("forgot-warmup", f"The decay starts at the end of warmup: progress is "
                f"(t − W)/(T − W) = ({t0} − {W})/{D}, not t/T.",
                eta_min + (lr - eta_min) * decay_factor(t0 / T)),
        Mistake("forgot-warmup", f"The decay lasts T − W = {D} steps (it starts at W): "
                f"progress = ({t0} − {W})/{D}.",
                eta_min + (lr - eta_min) * decay_factor((t0 - W) / T)),
    ]
    if cosine:
        c = cos_pi(p0)
        m0 += [Mistake("cosine-without-half", "The cosine factor is ½(1 + cos(π·progress)), "
                       "which runs from 1 to 0.", eta_min + (lr - eta_min) * (1 + c)),
               Mistake("cosine-without-half", "The factor is ½(1 + cos), not cos alone.",
                       eta_min + (lr - eta_min) * c)]
    if eta_min:
        m0 += [Mistake("eta-min-ignored", f"The decay ends at eta_min = {_n(eta_min)}, not 0: "
                       "lr = eta_min + (lr − eta_min)·factor.", lr * decay_factor(p0)),
               Mistake("eta-min-amplitude", "eta_min is added, so the swing is (lr − eta_min), "
                       "not lr.", eta_min + lr * decay_factor(p0))]
    k_text = (f"½(1 + {_cos_text(fr)}) = {_factor_text(decay_factor(p0))}" if cosine
              else f"1 − {fr} = {_factor_text(decay_factor(p0))}")
    q0 = _Q(f"lr@{t0}", f"lr({t0})", _lr_ask(f"at step {t0}"), decay_skills, v0,
            compute0, m0, formula,
            (f"step {t0} ≥ W = {W}: in the decay",
             f"progress = (t − W)/(T − W) = ({t0} − {W})/{D} = {fr}", k_text,
             (f"lr = {_n(eta_min)} + ({_n(lr)} − {_n(eta_min)}) · "
             f"{_factor_text(decay_factor(p0))} = {_lr(v0)}")),
            ((f"After warmup the decay runs over the last T − W = {D} steps: progress "
             "= (t − W)/(T − W)."),
             f"progress = ({t0} − {W})/{D} = {fr}."), t0)

    # -- question 1: a step in the warmup
    v1 = f(t1)
    m1 = [
        Mistake("forgot-warmup", f"Step {t1} is still in the warmup (t < W = {W}): "
                f"lr = lr·t/W, not the decay formula.",
                eta_min + (lr - eta_min) * decay_factor(t1 / T)),
        Mistake("forgot-warmup", f"Step {t1} is still in the warmup (t < W = {W}): the lr "
                "is climbing, not at its peak.", lr),
        Mistake("off-by-one", f"lr(0) = 0 here, so step t has lr·t/W: lr·{t1}/{W}, "
                f"not lr·{t1 + 1}/{W}.", lr * (t1 + 1) / W),
    ]
    q1 = _Q(f"lr@{t1}", f"lr({t1})", _lr_ask(f"at step {t1}"), ("warmup",), v1,
            lambda r: r(lr * r(t1 / W)), m1, formula,
            (f"step {t1} < W = {W}: still warming up",
             f"lr = {_n(lr)} · {t1}/{W} = {_n(lr)} · {_n(t1 / W)} = {_lr(v1)}"),
            ("During warmup the lr is a straight line from 0 at step 0 to lr at step W.",
             f"{t1}/{W} = {_n(t1 / W)} of the way up."), t1)

    # -- question 2: the step where the decay has come halfway (cosine) or a quarter (linear)
    half = Fraction(1, 2) if cosine else rng.choice(
        [f for f in (Fraction(1, 4), Fraction(3, 4)) if f != fr])  # not question 0 again
    t2 = W + int(half * D)
    level = eta_min + (lr - eta_min) * decay_factor(float(half))
    q2 = _Q(f"t@{fmt_num(level)}", "t",
            (f"Give the step t at which the decay brings the lr down to {fmt_num(level)} "
             "(a whole number)."), decay_skills, float(t2), lambda r: float(t2),
            [Mistake("forgot-warmup", f"The decay starts at step W = {W}: add the warmup to "
                     f"the {int(half * D)} steps of decay.", float(int(half * D))),
             Mistake("forgot-warmup", f"The decay lasts T − W = {D} steps, not T = {T}.",
                     float(int(half * T))),
             Mistake("forgot-warmup", f"The decay lasts T − W = {D} steps, starting at W.",
                     float(W + int(half * T)))],
            formula,
            ((f"({fmt_num(level)} − eta_min)/(lr − eta_min) = "
             f"{_factor_text(decay_factor(float(half)))} of the swing is left"),
             ("½(1 + cos(π·p)) = ½  ⇒  cos(π·p) = 0  ⇒  p = 1/2" if cosine
              else f"1 − p = {1 - half}  ⇒  p = {half}"),
             f"t = W + p·(T − W) = {W} + {half}·{D} = {t2}"),
            ("Find the fraction p of the decay done, then t = W + p·(T − W).",
             f"(level − eta_min)/(lr − eta_min) = {_factor_text(decay_factor(float(half)))}."),
            None)
    name = "warmup-cosine" if cosine else "warmup-linear"
    what = "a cosine" if cosine else "a straight line"
    body = (f"A LambdaLR {name} schedule (like transformers'",
            f"get_{shape}_schedule_with_warmup, with a floor eta_min): peak lr = {_n(lr)},",
            f"num_warmup_steps W = {W}, num_training_steps T = {T}, eta_min = {_n(eta_min)}.",
            f"Warmup from 0 to lr over steps 0…{W}, then {what} from lr at",
            f"step {W} down to eta_min at step {T}.")
    params = {"lr": lr, "num_warmup_steps": W, "num_training_steps": T, "eta_min": eta_min,
              "lr_lambda": name}
    questions = tuple(_need(q, "forgot-warmup") for q in (q0, q1, q2))
    return _Setup("LambdaLR", params, body, STEP_COUNTING, questions, "last_epoch", lr_at=f)


def _factor_text(v: float) -> str:
    """A factor as a person writes it: 3/4 exactly, 0.933 when it is irrational."""
    if abs(float(Fraction(v).limit_denominator(64)) - v) < 1e-12:
        return _n(v)
    return fmt_num(v, 3)


# -- d2: the Transformer's inverse square root ---------------------------------------------------
def _noam_setup(rng: random.Random) -> _Setup:
    d = rng.choice((64, 256, 1024))
    # a short warmup, so that a step off by one changes the lr by more than 3 figures show
    # past it step_num = k² ≤ 25, so that 1/√step_num moves by ≥ 2% per step
    W = rng.choice((4, 9))
    sw = math.isqrt(W)
    k = rng.choice([k for k in (3, 4, 5) if k * k > W])
    h = rng.choice([h for h in (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(1, 5),
                                Fraction(2, 5), Fraction(1, 3), Fraction(2, 3))
                    if (h * W).denominator == 1])
    t0 = k * k
    t1 = int(h * W)
    a = d ** -0.5
    peak = a / sw

    def f(t: float) -> float:
        return inverse_sqrt_lr(d, W, t)

    formula = (("lr(step_num) = d_model^−0.5 · "
               "min(step_num^−0.5, step_num · warmup_steps^−1.5)"),
               "   (rises linearly until step_num = warmup_steps, then falls as 1/√step_num)")
    w15 = W ** -1.5
    q0 = _Q(f"lr@{t0}", f"lr({t0})", _lr_ask(f"at step_num = {t0}"), ("inverse-sqrt",),
            f(t0), lambda r: r(r(a) * r(t0 ** -0.5)),
            [Mistake("min-max-swapped", "That is the larger of the two branches; the schedule "
                     "takes the min (after warmup, step_num^−0.5 is the smaller).",
                     a * t0 * w15),
             Mistake("dropped-d_model", f"The whole min(…) is scaled by d_model^−0.5 = "
                     f"{_n(a)}.", t0 ** -0.5),
             Mistake("exponent-off", "step_num^−0.5 is 1/√step_num, not 1/step_num.",
                     a / t0)],
            formula,
            (f"d_model^−0.5 = 1/√{d} = {_n(a)}",
             f"step_num^−0.5 = 1/√{t0} = 1/{k}",
             f"step_num·warmup^−1.5 = {t0}/{W * sw} (larger: past the warmup)",
             f"min = 1/{k}",
             f"lr = {_n(a)} · 1/{k} = {fmt_num(f(t0))}"),
            ("Past the warmup the min is step_num^−0.5: lr = d_model^−0.5/√step_num.",
             f"√{t0} = {k} and √{d} = {math.isqrt(d)}."), t0)
    q1 = _Q(f"lr@{t1}", f"lr({t1})", _lr_ask(f"at step_num = {t1}"), ("inverse-sqrt", "warmup"),
            f(t1), lambda r: r(r(a) * r(t1 * r(w15))),
            [Mistake("forgot-warmup", f"step_num = {t1} is inside the warmup ({t1} < {W}): the "
                     "min is step_num·warmup^−1.5, the linear rise.", a * t1 ** -0.5),
             Mistake("exponent-off", "The warmup branch is step_num·warmup_steps^−1.5, not "
                     "step_num·warmup_steps^−0.5.", a * t1 / sw),
             Mistake("dropped-d_model", f"The whole min(…) is scaled by d_model^−0.5 = "
                     f"{_n(a)}.", t1 * w15)],
            formula,
            (f"d_model^−0.5 = 1/√{d} = {_n(a)}",
             f"{t1} < warmup_steps = {W}: the min is step_num·warmup^−1.5",
             f"   = {t1}/({W}·√{W}) = {t1}/{W * sw} = {fmt_num(t1 * w15)}",
             f"lr = {_n(a)} · {fmt_num(t1 * w15)} = {fmt_num(f(t1))}"),
            ("During warmup the min is the linear branch step_num·warmup_steps^−1.5.",
             f"warmup_steps^1.5 = {W}·√{W} = {W * sw}."), t1)
    q2 = _Q(f"lr@{W}", f"lr({W})", _lr_ask(f"at its peak, step_num = warmup_steps = {W}"),
            ("inverse-sqrt", "warmup"), peak, lambda r: r(r(a) * r(1 / sw)),
            [Mistake("dropped-d_model", f"The whole min(…) is scaled by d_model^−0.5 = "
                     f"{_n(a)}.", 1 / sw),
             Mistake("exponent-off", "At the peak both branches agree: warmup·warmup^−1.5 "
                     f"= warmup^−0.5 = 1/{sw}, not warmup^−1.5.", a * w15)],
            formula,
            (f"at step_num = {W} both branches equal {W}^−0.5 = 1/{sw}",
             f"lr = d_model^−0.5 · warmup^−0.5 = {_n(a)} · 1/{sw} = {fmt_num(peak)}"),
            ("At step_num = warmup_steps the two branches of the min meet.",
             f"Both equal warmup_steps^−0.5 = 1/{sw}."), W)
    body = ("The Transformer's schedule (Vaswani et al., 2017), a LambdaLR in PyTorch:",
            "  lr = d_model^−0.5 · min(step_num^−0.5, step_num · warmup_steps^−1.5)",
            f"with d_model = {d} and warmup_steps = {W} (no other base lr).")
    convention = ("step_num counts optimizer updates from 1, as in the paper (the first",
                  "update has step_num = 1; a LambdaLR lambda is given step_num − 1).")
    return _Setup("inverse-sqrt", {"d_model": d, "warmup_steps": W}, body, convention,
                  (_need(q0, "min-max-swapped"), _need(q1, "forgot-warmup"), q2),
                  "step_num (from 1)", lr_at=f)


# -- d3: OneCycleLR ------------------------------------------------------------------------------
@cache
def _one_cycle_shapes() -> tuple[tuple[float, int], ...]:
    """(pct_start, total_steps) with total_steps a multiple of 10 whose phase lengths split
    into halves or thirds (so the steps asked are whole numbers)."""
    out = []
    for pct in (0.2, 0.25, 0.3, 0.4, 0.5):
        for T in range(40, 1001, 10):
            A = pct * T
            if abs(A - round(A)) > 1e-9:
                continue
            up, down = round(A) - 1, T - round(A)
            if up >= 6 and down >= 12 and _fracs_for(up) and _fracs_for(down):
                out.append((pct, T))
    return tuple(out)


def _fracs_for(n: int) -> tuple[Fraction, ...]:
    """The whiteboard fractions of a phase of n steps that land on whole steps."""
    return tuple(f for f in EXACT_FRACS if n % f.denominator == 0)


def _one_cycle_setup(rng: random.Random) -> _Setup:
    pct, T = rng.choice(_one_cycle_shapes())
    max_lr = rng.choice((0.1, 0.2, 0.4, 0.01, 0.05))
    div = rng.choice((25.0, 10.0, 20.0, 5.0))
    final = rng.choice((1e4, 1e3, 100.0, 10.0))
    A = round(pct * T)
    up, down = A - 1, T - A
    init, low = max_lr / div, max_lr / div / final

    def f(t: int) -> float:
        return one_cycle_lr(max_lr, T, t, pct, div, final)

    fr0 = rng.choice(_fracs_for(down))
    g1 = rng.choice(_fracs_for(up))
    t0 = up + int(fr0 * down)
    t1 = int(g1 * up)
    formula = ("anneal(start, end, p) = end + (start − end) · ½(1 + cos(π·p))",
               f"phase 1, t = 0…{up}:  anneal(initial_lr, max_lr, t/{up})",
               f"phase 2, t = {up}…{T - 1}:  anneal(max_lr, min_lr, (t − {up})/{down})",
               "initial_lr = max_lr/div_factor,  min_lr = initial_lr/final_div_factor")

    # -- question 0: in the annealing phase
    c0 = cos_pi(float(fr0))
    v0 = f(t0)

    def compute0(r):
        i = r(max_lr / div)
        lo_ = r(i / final)
        k = r(r(1 + c0) / 2)
        return r(lo_ + r(r(max_lr - lo_) * k))

    m0 = [
        Mistake("warmup-peak-off", f"PyTorch's phase 2 starts at step pct_start·total_steps − "
                f"1 = {up}, not {A}: p = (t − {up})/{down}.",
                anneal_cos(max_lr, low, (t0 - A) / (T - 1 - A))),
        Mistake("forgot-warmup", f"The anneal runs over phase 2 only, from step {up}: "
                f"p = (t − {up})/{down}, not t/{T - 1}.", anneal_cos(max_lr, low, t0 / (T - 1))),
        Mistake("cosine-without-half", "The anneal factor is ½(1 + cos(π·p)), from 1 to 0.",
                low + (max_lr - low) * (1 + c0)),
        Mistake("linear-anneal", "anneal_strategy='cos' follows a cosine, not a straight line.",
                low + (max_lr - low) * (1 - float(fr0))),
        Mistake("final-div-of-max", "min_lr = initial_lr/final_div_factor = "
                "max_lr/(div_factor·final_div_factor).",
                anneal_cos(max_lr, max_lr / final, float(fr0))),
    ]
    q0 = _Q(f"lr@{t0}", f"lr({t0})", _lr_ask(f"at step {t0}"), ("one-cycle", "cosine"), v0,
            compute0, m0, formula,
            ((f"initial_lr = {_n(max_lr)}/{_n(div)} = {_lr(init)},  min_lr = "
             f"{_lr(init)}/{_n(final)} = {_lr(low)}"),
             f"step {t0} > {up}: phase 2, p = ({t0} − {up})/{down} = {fr0}",
             f"{_cos_text(fr0)}, ½(1 + cos) = {_n((1 + c0) / 2)}",
             (f"lr = {_lr(low)} + ({_n(max_lr)} − {_lr(low)}) · {_n((1 + c0) / 2)}"
             f" = {_lr(v0)}")),
            ((f"Step {t0} is past the peak at {up}: cos-anneal from max_lr to min_lr over "
             f"steps {up}…{T - 1}."),
             (f"p = ({t0} − {up})/{down} = {fr0}; min_lr = max_lr/(div_factor·"
             "final_div_factor).")), t0)

    # -- question 1: in the warm-up phase
    c1 = cos_pi(float(g1))
    v1 = f(t1)

    def compute1(r):
        i = r(max_lr / div)
        k = r(r(1 + c1) / 2)
        return r(max_lr + r(r(i - max_lr) * k))

    m1 = [
        Mistake("warmup-peak-off", f"PyTorch peaks at step pct_start·total_steps − 1 = {up}, "
                f"not {A}: p = t/{up}.", anneal_cos(init, max_lr, t1 / A)),
        Mistake("forgot-warmup", "Phase 1 rises from initial_lr = max_lr/div_factor, not "
                "from 0.", anneal_cos(0.0, max_lr, float(g1))),
        Mistake("linear-anneal", "anneal_strategy='cos' rises along a cosine, not a "
                "straight line.", init + (max_lr - init) * float(g1)),
        Mistake("reversed-anneal", "Phase 1 goes from initial_lr (p = 0) up to max_lr "
                "(p = 1): at p the lr is max_lr + (initial_lr − max_lr)·½(1 + cos πp).",
                anneal_cos(max_lr, init, float(g1))),
        Mistake("cosine-without-half", "The anneal factor is ½(1 + cos(π·p)), from 1 to 0.",
                max_lr + (init - max_lr) * (1 + c1)),
    ]
    q1 = _Q(f"lr@{t1}", f"lr({t1})", _lr_ask(f"at step {t1}"), ("one-cycle", "warmup"), v1,
            compute1, m1, formula,
            (f"initial_lr = {_n(max_lr)}/{_n(div)} = {_lr(init)}",
             f"step {t1} ≤ {up}: phase 1, p = {t1}/{up} = {g1}",
             f"{_cos_text(g1)}, ½(1 + cos) = {_n((1 + c1) / 2)}",
             (f"lr = {_n(max_lr)} + ({_lr(init)} − {_n(max_lr)}) · {_n((1 + c1) / 2)} = "
             f"{_lr(v1)}")),
            ("Phase 1 cos-anneals from initial_lr = max_lr/div_factor up to max_lr.",
             f"p = {t1}/{up} = {g1}; initial_lr = {_lr(init)}."), t1)

    # -- question 2: the last step
    last = T - 1
    q2 = _Q(f"lr@{last}", f"lr({last})", _lr_ask(f"at the last step, {last}"),
            ("one-cycle",), low, lambda r: r(r(max_lr / div) / final),
            [Mistake("final-div-of-max", "final_div_factor divides the initial lr, not max_lr: "
                     "min_lr = max_lr/(div_factor·final_div_factor).", max_lr / final),
             Mistake("eta-min-ignored", "OneCycleLR does not end at 0: it ends at min_lr = "
                     "initial_lr/final_div_factor.", 0.0),
             Mistake("off-by-one", f"Step {last} is the end of phase 2 (p = 1): the lr there is "
                     "min_lr itself.", anneal_cos(max_lr, low, (last - 1 - up) / down)),
             Mistake("initial-lr", "That is initial_lr = max_lr/div_factor, where the cycle "
                     "starts; it ends final_div_factor times lower.", init)],
            formula,
            (f"step {last} = total_steps − 1 ends phase 2 (p = 1): lr = min_lr",
             (f"min_lr = max_lr/div_factor/final_div_factor = {_n(max_lr)}/{_n(div)}/{_n(final)}"
             f" = {_lr(low)}")),
            ("The cycle ends at min_lr, reached at the last step total_steps − 1.",
             "min_lr = initial_lr/final_div_factor, initial_lr = max_lr/div_factor."), last)
    body = ((f"torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr={_n(max_lr)}, "
            f"total_steps={T},"),
            f"    pct_start={_n(pct)}, div_factor={_n(div)}, final_div_factor={_n(final)})",
            "anneal_strategy='cos', three_phase=False (the defaults). PyTorch's phase",
            f"boundary: the lr peaks at step pct_start·total_steps − 1 = {up}; the cycle",
            f"ends at step total_steps − 1 = {T - 1}.")
    convention = ("Batches are counted from 0 and scheduler.step() follows every batch:",
                  "batch t trains with the lr after t calls (step t).")
    params = {"max_lr": max_lr, "total_steps": T, "pct_start": pct, "div_factor": div,
              "final_div_factor": final, "anneal_strategy": "cos", "three_phase": False}
    questions = (_need(q0, "warmup-peak-off"), q1, _need(q2, "final-div-of-max"))
    return _Setup("OneCycleLR", params, body, convention, questions, "last_epoch", lr_at=f)


# -- the family ----------------------------------------------------------------------------------
def _off_by_one(s: _Setup, asked: tuple[Asked, ...]) -> tuple[Asked, ...] | None:
    """lr(t − 1) and lr(t + 1) of every lr asked at step t are named (off-by-one) where no
    other mistake has their value. None (the generator draws other numbers) when the grader
    could not tell one of them from the answer in a question about the counting (one that
    needs the off-by-one named, or the inverse square root, counted from 1); deep in a long
    decay a step changes the lr by less than 3 figures show, and such a neighbour is left."""
    out = []
    first = 1 if s.counting.startswith("step_num") else 0
    for q, a in zip(s.questions, asked, strict=True):
        t = q.step
        if s.lr_at is None or t is None or not q.wrt.startswith("lr@"):
            out.append(a)
            continue
        target, extra = a.target, []
        for dt in (-1, 1):
            if t + dt < first:
                continue
            try:
                v = float(s.lr_at(t + dt))
            except (ValueError, ZeroDivisionError, OverflowError):
                continue
            if not math.isfinite(v) or v < 0 or abs(v - target.value) <= 1e-9 * abs(v):
                continue  # on a plateau the neighbour has the same lr: nothing to tell apart
            slack = SAME_RTOL * abs(v)
            if target.lo - slack <= v <= target.hi + slack:
                if "off-by-one" in q.needs or first == 1:
                    return None  # the question is about the counting: other numbers
                continue  # a step hundreds into a decay: 3 figures cannot tell t from t ± 1
            if any(abs(v - m.value) <= 2 * SAME_RTOL * abs(v)
                   for m in (*target.mistakes, *extra)):
                continue  # as good as another named slip's value: that one names it
            extra.append(Mistake("off-by-one", (
                f"Off by one step: that is the learning rate at step {t + dt}, not {t}. "
                "Count the steps as the problem's Counting lines say."), v))
        out.append(replace(a, target=replace(target, mistakes=target.mistakes + tuple(extra)))
                   if extra else a)
    return tuple(out)



SETUPS = {1: (_step_setup, _exp_setup, _cosine_setup),
          2: (_warmup_setup, _warmup_setup, _noam_setup),
          3: (_one_cycle_setup,)}


def generate(seed: int, difficulty: int, form: str) -> BasicProblem:
    rng = random.Random(f"schedule/{seed}/{difficulty}")  # str seeds hash the same everywhere
    for _ in range(1000):  # friendly numbers come within a few draws
        s = rng.choice(SETUPS[difficulty])(rng)
        values = [q.value for q in s.questions]
        if any(_same(a, b) for i, a in enumerate(values) for b in values[i + 1:]):
            continue
        levels = [float(q.wrt[2:]) for q in s.questions if q.wrt.startswith("t@")]
        if any(_same(level, v) for level in levels for v in values):
            continue  # a step asked at a level that another question has as its answer
        if difficulty < 3 and any(q.value < 1e-4 for q in s.questions):
            continue  # no e-notation (only a one-cycle min_lr is that small)
        asked = tuple(_asked(q, s.convention) for q in s.questions)
        asked = _off_by_one(s, asked)
        if asked is None:
            continue  # a step off by one would pass as right: other numbers
        if not all(set(q.needs) <= {m.kind for m in a.target.mistakes}
                   for q, a in zip(s.questions, asked, strict=True)):
            continue  # the lesson's mistake must be there to be named
        body = (Lines("", s.body), Lines("Counting", s.convention))
        if not fits_screen(body, asked):
            continue
        given = {k: float(v) for k, v in s.params.items() if not isinstance(v, (str, bool))}
        extra = (("schedule", s.schedule), ("params", dict(s.params)),
                 ("step_counting", s.counting),
                 ("steps", [q.step for q in s.questions]))
        return BasicProblem("schedule", seed, difficulty, form, body, given, "", asked, extra)
    raise RuntimeError(f"schedule: no problem for seed {seed} at difficulty {difficulty}")


FAMILY = Family(
    name="schedule",
    summary="The learning rate at step t: step decay, exponential, cosine, warmup, "
            "inverse square root, one-cycle",
    levels={1: "StepLR, ExponentialLR or CosineAnnealingLR at given epochs (counted from 0)",
            2: "linear warmup then cosine or linear decay; the Transformer's 1/√step",
            3: "OneCycleLR (PyTorch's two phases, cos anneal): both phases and the last step"},
    generate=generate,
    forms=("number",),
    order=70,
    example="0.0125",
)
