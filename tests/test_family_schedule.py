"""The schedule drill family, checked against references that share none of its code.

Schedules have no loss (loss_scalar is ""), so no question is a gradient: every question's
wrt ("lr@45", "t@0.0125") is not an input, and the engine's finite-difference sweep skips them.
Instead the answers are checked here against
- hand-worked goldens for every schedule, against PyTorch's documented formulas (cited below);
- a second implementation written in this file that works the way the schedulers do, step by
  step (StepLR and ExponentialLR multiply at each scheduler.step(), CosineAnnealingLR uses its
  documented *recursive* form, OneCycleLR walks PyTorch's phase list), read only from the
  problem's JSON (`schedule`, `params`, `steps`);
- a learner who rounds every number written down to 3 significant figures;
- the grading engine on every named mistake.

PyTorch's documentation (docs.pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.*):
- StepLR: "Decays the learning rate of each parameter group by gamma every step_size epochs";
  its example: lr = 0.05 if epoch < 30, 0.005 if 30 <= epoch < 60, 0.0005 if 60 <= epoch < 90
  (step_size=30, gamma=0.1, scheduler.step() once per epoch).
- ExponentialLR: "Decays the learning rate of each parameter group by gamma every epoch."
- CosineAnnealingLR: the closed form η_t = η_min + ½(η_max − η_min)(1 + cos(T_cur·π/T_max)),
  implemented recursively as η_{t+1} = η_min + (η_t − η_min)·(1 + cos((T_cur+1)π/T_max)) /
  (1 + cos(T_cur·π/T_max)), and at T_cur = (2k+1)·T_max (where that divides by zero)
  η_{t+1} = η_t + ½(η_max − η_min)(1 − cos(π/T_max)); without restarts T_cur = t.
- OneCycleLR: "initial_lr = max_lr/div_factor",
  "min_lr = initial_lr/final_div_factor",
  pct_start is "the percentage of the cycle (in number of steps) spent increasing the learning
  rate", anneal_strategy 'cos' by default; PyTorch's implementation ends phase 1 at step
  pct_start·total_steps − 1 and phase 2 at total_steps − 1, and anneals with
  end + (start − end)/2·(cos(π·pct) + 1).
- The Transformer (Vaswani et al., 2017, §5.3): lrate = d_model^−0.5 ·
  min(step_num^−0.5, step_num · warmup_steps^−1.5).
- Warmup then cosine/linear decay: transformers' get_cosine_schedule_with_warmup /
  get_linear_schedule_with_warmup (a LambdaLR: step/W during warmup, then ½(1 + cos(π·p)) or
  (T − step)/(T − W)), here with a floor eta_min.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from functools import cache

import pytest
from drill_ref import assert_expected_accepted, assert_rounding_learner_accepted

from quizforge.drill.check import grade, near
from quizforge.drill.families import schedule as S
from quizforge.drill.family import families, generate
from quizforge.drill.model import blocks_text, tensor_text
from quizforge.drill.rounding import round_sig

FAMILY = "schedule"
DIFFICULTIES = (1, 2, 3)
SEEDS = {d: [s for s in range(900) if s % 3 == d - 1] for d in DIFFICULTIES}  # 300 each


@cache
def problem(seed: int, difficulty: int):
    return generate(FAMILY, seed, difficulty, "number")


@cache
def as_json(seed: int, difficulty: int) -> dict:
    return json.loads(json.dumps(problem(seed, difficulty).to_dict()))


# -- 1. hand-worked goldens ---------------------------------------------------------------------
def test_step_lr_matches_the_pytorch_docs_example():
    # lr = 0.05 if epoch < 30; 0.005 if 30 <= epoch < 60; 0.0005 if 60 <= epoch < 90
    assert S.step_lr(0.05, 30, 0.1, 0) == 0.05
    assert S.step_lr(0.05, 30, 0.1, 29) == 0.05
    assert S.step_lr(0.05, 30, 0.1, 30) == pytest.approx(0.005)
    assert S.step_lr(0.05, 30, 0.1, 59) == pytest.approx(0.005)
    assert S.step_lr(0.05, 30, 0.1, 60) == pytest.approx(0.0005)
    # by hand: lr 0.1, halved every 20 epochs; epoch 45 has ⌊45/20⌋ = 2 halvings: 0.025
    assert S.step_lr(0.1, 20, 0.5, 45) == pytest.approx(0.025)


def test_exponential_lr_by_hand():
    assert S.exponential_lr(0.1, 0.5, 0) == 0.1
    assert S.exponential_lr(0.1, 0.5, 3) == pytest.approx(0.0125)  # 0.1/8
    assert S.exponential_lr(1.0, 0.9, 3) == pytest.approx(0.729)


def test_cosine_annealing_by_hand():
    # lr 0.1 → eta_min 0.01 over T_max = 60: t = 20 is a third of the way, cos(π/3) = 1/2,
    # so 0.01 + 0.09·(1 + 1/2)/2 = 0.01 + 0.0675 = 0.0775
    assert S.cosine_annealing_lr(0.1, 60, 0.01, 20) == pytest.approx(0.0775)
    assert S.cosine_annealing_lr(0.1, 60, 0.01, 30) == pytest.approx(0.055)  # cos(π/2) = 0
    assert S.cosine_annealing_lr(0.1, 60, 0.01, 60) == pytest.approx(0.01)
    # cos(π/4) = √2/2: 0.01 + 0.09·(1 + 0.7071)/2 = 0.08682
    assert S.cosine_annealing_lr(0.1, 60, 0.01, 15) == pytest.approx(0.086820, rel=1e-4)
    # past T_max the (un-restarted) cosine comes back up: T_max = 2, lr 0.1, eta_min 0,
    # after 1…6 calls of step(): 0.05, 0, 0.05, 0.1, 0.05, 0 (the doc example of the same
    # class in MindSpore's port of torch.optim.lr_scheduler)
    got = [S.cosine_annealing_lr(0.1, 2, 0.0, t) for t in range(1, 7)]
    assert got == pytest.approx([0.05, 0.0, 0.05, 0.1, 0.05, 0.0], abs=1e-15)
    assert S.cos_pi(1 / 3) == 0.5 and S.cos_pi(1 / 2) == 0.0 and S.cos_pi(2 / 3) == -0.5


def test_warmup_then_decay_by_hand():
    # peak 0.001, W = 100, T = 1300, eta_min = 0.0001
    assert S.warmup_cosine_lr(0.001, 100, 1300, 0, 0.0001) == 0.0
    assert S.warmup_cosine_lr(0.001, 100, 1300, 50, 0.0001) == pytest.approx(0.0005)
    assert S.warmup_cosine_lr(0.001, 100, 1300, 100, 0.0001) == pytest.approx(0.001)
    # step 500: (500 − 100)/1200 = 1/3 of the decay, ½(1 + 1/2) = 3/4: 0.0001 + 0.0009·3/4
    assert S.warmup_cosine_lr(0.001, 100, 1300, 500, 0.0001) == pytest.approx(0.000775)
    assert S.warmup_cosine_lr(0.001, 100, 1300, 1300, 0.0001) == pytest.approx(0.0001)
    # linear: a quarter of the way down from 0.001 to 0: 0.00075
    assert S.warmup_linear_lr(0.001, 100, 1300, 400) == pytest.approx(0.00075)
    assert S.warmup_linear_lr(0.001, 100, 1300, 25) == pytest.approx(0.00025)


def test_inverse_sqrt_by_hand():
    # d_model 256 → 1/16; warmup 400 → 400^1.5 = 8000
    assert S.inverse_sqrt_lr(256, 400, 1600) == pytest.approx(1 / 16 / 40)  # 1/640
    assert S.inverse_sqrt_lr(256, 400, 100) == pytest.approx(1 / 16 * 100 / 8000)  # 1/1280
    assert S.inverse_sqrt_lr(256, 400, 400) == pytest.approx(1 / 16 / 20)  # the peak, 1/320
    # the paper's own numbers: d_model 512, warmup 4000, peak ≈ 7.0e-4
    assert S.inverse_sqrt_lr(512, 4000, 4000) == pytest.approx(6.988e-4, rel=1e-3)


def test_one_cycle_by_hand():
    # max_lr 0.2, total 100, pct_start 0.25, div 10, final_div 10:
    # initial 0.02, min 0.002, peak at step 25 − 1 = 24, phase 2 over 75 steps
    kw = {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 10.0}
    assert S.one_cycle_lr(0.2, 100, 0, **kw) == pytest.approx(0.02)
    assert S.one_cycle_lr(0.2, 100, 12, **kw) == pytest.approx(0.11)  # cos(π/2) = 0: midway
    assert S.one_cycle_lr(0.2, 100, 24, **kw) == pytest.approx(0.2)
    # step 74: p = 50/75 = 2/3, ½(1 + cos(2π/3)) = 1/4: 0.002 + 0.198/4 = 0.0515
    assert S.one_cycle_lr(0.2, 100, 74, **kw) == pytest.approx(0.0515)
    assert S.one_cycle_lr(0.2, 100, 99, **kw) == pytest.approx(0.002)
    # PyTorch's defaults: div 25, final_div 1e4, so it ends at max_lr/250000
    assert S.one_cycle_lr(0.1, 1000, 999) == pytest.approx(0.1 / 25 / 1e4)
    assert S.one_cycle_phase_end(1000, 0.3) == 299


def test_golden_problems():
    """Pinned problems, worked by hand (a change of generator shows up here first)."""
    p = problem(1, 3)  # OneCycleLR above: max_lr 0.2, total 100, pct 0.25, div 10, final 10
    d = p.to_dict()
    assert d["schedule"] == "OneCycleLR"
    assert d["params"] == {"max_lr": 0.2, "total_steps": 100, "pct_start": 0.25,
                           "div_factor": 10, "final_div_factor": 10, "anneal_strategy": "cos",
                           "three_phase": False}
    assert d["steps"] == [74, 12, 99]
    assert [q["expected"] for q in d["questions"]] == ["0.0515", "0.11", "0.002"]


# -- 2. an independent re-implementation, step by step, from the JSON ---------------------------
def stepwise_lr(schedule: str, params: dict, t: int) -> float:
    """lr after t calls of scheduler.step(), computed the way the scheduler walks."""
    if schedule == "StepLR":
        lr = params["lr"]
        for epoch in range(1, t + 1):
            if epoch % params["step_size"] == 0:
                lr *= params["gamma"]
        return lr
    if schedule == "ExponentialLR":
        lr = params["lr"]
        for _ in range(t):
            lr *= params["gamma"]
        return lr
    if schedule == "CosineAnnealingLR":  # the documented recursive form
        base, T, eta = params["lr"], params["T_max"], params["eta_min"]
        lr = base
        for cur in range(t):  # lr(cur) → lr(cur + 1)
            if (cur - T) % (2 * T) == 0:
                lr = lr + (base - eta) * (1 - math.cos(math.pi / T)) / 2
            else:
                lr = eta + (lr - eta) * (1 + math.cos((cur + 1) * math.pi / T)) / (
                    1 + math.cos(cur * math.pi / T))
        return lr
    if schedule == "LambdaLR":
        lr, W, T, eta = (params[k] for k in ("lr", "num_warmup_steps", "num_training_steps",
                                             "eta_min"))
        if t < W:
            return lr * (t / W)
        p = (t - W) / (T - W)
        if params["lr_lambda"] == "warmup-cosine":
            return eta + (lr - eta) * 0.5 * (1.0 + math.cos(math.pi * p))
        return eta + (lr - eta) * (1.0 - p)
    if schedule == "inverse-sqrt":
        d, W = params["d_model"], params["warmup_steps"]
        return (1 / math.sqrt(d)) * min(1 / math.sqrt(t), t / (W * math.sqrt(W)))
    if schedule == "OneCycleLR":  # PyTorch's get_lr: walk the phase list
        initial = params["max_lr"] / params["div_factor"]
        phases = [
            {"end_step": float(params["pct_start"] * params["total_steps"]) - 1,
             "start": initial, "end": params["max_lr"]},
            {"end_step": params["total_steps"] - 1,
             "start": params["max_lr"], "end": initial / params["final_div_factor"]},
        ]
        start_step = 0.0
        for i, ph in enumerate(phases):
            if t <= ph["end_step"] or i == len(phases) - 1:
                pct = (t - start_step) / (ph["end_step"] - start_step)
                return ph["end"] + (ph["start"] - ph["end"]) / 2.0 * (math.cos(math.pi * pct)
                                                                      + 1)
            start_step = ph["end_step"]
    raise AssertionError(schedule)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_lr_matches_a_stepwise_scheduler(difficulty):
    for seed in SEEDS[difficulty]:
        d = as_json(seed, difficulty)
        assert d["loss_scalar"] == ""
        for q, step in zip(d["questions"], d["steps"], strict=True):
            assert q["wrt"] not in d["inputs"]  # never a gradient: the fd sweep skips it
            if q["wrt"].startswith("lr@"):
                assert step == int(q["wrt"][3:])
                ref = stepwise_lr(d["schedule"], d["params"], step)
                assert math.isclose(q["value"], ref, rel_tol=1e-9, abs_tol=1e-12), (seed, q)


@pytest.mark.parametrize("difficulty", (1, 2))
def test_every_step_answer_is_the_first_step_with_that_lr(difficulty):
    """A question asking for a step t: scan the schedule with the stepwise reference."""
    found = 0
    for seed in SEEDS[difficulty]:
        d = as_json(seed, difficulty)
        for q, step in zip(d["questions"], d["steps"], strict=True):
            if not q["wrt"].startswith("t@"):
                continue
            found += 1
            assert step is None
            level = float(q["wrt"][2:])
            lrs = [stepwise_lr(d["schedule"], d["params"], t) for t in range(q["value"] + 2)]
            if d["schedule"] == "ExponentialLR":  # the first epoch with lr ≤ level
                first = next(t for t, v in enumerate(lrs) if v <= level * (1 + 1e-9))
            else:  # during the decay: the step after warmup whose lr is nearest the level
                W = d["params"]["num_warmup_steps"]
                first = min(range(W, len(lrs)), key=lambda t: abs(lrs[t] - level))
                assert math.isclose(lrs[first], level, rel_tol=1e-4)
            assert first == q["value"], (seed, q, first)
    assert found >= 50


def test_every_schedule_appears_at_its_difficulty():
    seen = {d: Counter(as_json(s, d)["schedule"] + "/" + str(as_json(s, d)["params"].get(
        "lr_lambda", "")) for s in SEEDS[d]) for d in DIFFICULTIES}
    assert set(seen[1]) == {"StepLR/", "ExponentialLR/", "CosineAnnealingLR/"}
    assert set(seen[2]) == {"LambdaLR/warmup-cosine", "LambdaLR/warmup-linear",
                            "inverse-sqrt/"}
    assert set(seen[3]) == {"OneCycleLR/"}
    for d in (1, 2):
        assert min(seen[d].values()) >= 40, seen[d]


# -- 3. a learner who rounds every step to 3 significant figures is accepted --------------------
def r(v: float) -> float:
    return float(round_sig(float(v)))


def learner(d: dict, index: int) -> float:
    """The answer worked from the JSON with every written number rounded to 3 s.f. — cosine
    factors written as lr·k + eta_min·(1 − k) where the generator writes eta_min + (lr −
    eta_min)·k, powers built by repeated multiplication."""
    q, t, p, kind = d["questions"][index], d["steps"][index], d["params"], d["schedule"]
    if q["wrt"].startswith("t@"):
        return float(q["value"])  # a whole step: nothing to round (checked in 2.)

    def cosk(x: float) -> float:
        return r(r(1 + r(math.cos(math.pi * x))) / 2)

    if kind == "StepLR":
        v = p["lr"]
        for _ in range(t // p["step_size"]):
            v = r(v * p["gamma"])
        return v
    if kind == "ExponentialLR":
        v = p["lr"]
        for _ in range(t):
            v = r(v * p["gamma"])
        return v
    if kind == "CosineAnnealingLR":
        k = cosk(r(t / p["T_max"]))
        return r(r(p["lr"] * k) + r(p["eta_min"] * r(1 - k)))
    if kind == "LambdaLR":
        W, T, lr, eta = p["num_warmup_steps"], p["num_training_steps"], p["lr"], p["eta_min"]
        if t < W:
            return r(r(lr * t) / W)
        frac = r((t - W) / (T - W))
        k = cosk(frac) if p["lr_lambda"] == "warmup-cosine" else r(1 - frac)
        return r(r(lr * k) + r(eta * r(1 - k)))
    if kind == "inverse-sqrt":
        dm, W = p["d_model"], p["warmup_steps"]
        branch = r(1 / math.sqrt(t)) if t >= W else r(t / r(W * math.sqrt(W)))
        return r(branch / math.sqrt(dm))
    if kind == "OneCycleLR":
        init = r(p["max_lr"] / p["div_factor"])
        low = r(init / p["final_div_factor"])
        peak = p["pct_start"] * p["total_steps"] - 1
        if t <= peak:
            k = cosk(r(t / peak))
            return r(r(init * k) + r(p["max_lr"] * r(1 - k)))
        k = cosk(r((t - peak) / (p["total_steps"] - 1 - peak)))
        return r(r(p["max_lr"] * k) + r(low * r(1 - k)))
    raise AssertionError(kind)


def test_a_learner_rounding_to_three_figures_is_accepted():
    def same(answer, t, key):
        assert math.isclose(answer, t.value, rel_tol=0.02), (*key, answer, t.value)

    assert_rounding_learner_accepted(
        (problem(s, d) for d in DIFFICULTIES for s in SEEDS[d]),
        lambda p, i: learner(as_json(p.seed, p.difficulty), i), same)


def test_the_learner_types_decimals_or_fractions_and_both_are_right():
    for seed in SEEDS[1][:60]:
        p, d = problem(seed, 1), as_json(seed, 1)
        for i in range(3):
            assert grade(p, tensor_text(learner(d, i), exact=False), i).correct, (seed, i)
    p = problem(1, 3)
    assert grade(p, "0.0515", 0).correct and grade(p, "11/100", 1).correct
    assert grade(p, "2e-3", 2).correct and grade(p, "0.2/10/10", 2).correct


# -- 4. every named mistake is refused and named -------------------------------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_named_mistake_is_refused_and_named(difficulty):
    """Typed as the engine prints it (4 figures) and as a person would (3 figures)."""
    for seed in SEEDS[difficulty]:
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            library = p.target(i).mistakes
            for j, m in enumerate(library):
                same_value = {k.kind for k in library[:j + 1] if near(m.value, k.value, 0.006)}
                for typed in (tensor_text(m.value, exact=False), f"{m.value:.3g}"):
                    v = grade(p, typed, i)
                    assert not v.correct and not v.rejected, (seed, i, m.kind, typed)
                    assert v.mistake in same_value, (seed, difficulty, i, m.kind, v.mistake)


def test_the_mistakes_an_interviewer_looks_for_are_named():
    need = {1: {"off-by-one", "step-decay-floor", "exponent-off", "cosine-without-half",
                "eta-min-ignored", "eta-min-amplitude", "decayed-every-epoch"},
            2: {"forgot-warmup", "off-by-one", "cosine-without-half", "eta-min-ignored",
                "min-max-swapped", "dropped-d_model", "exponent-off"},
            3: {"warmup-peak-off", "forgot-warmup", "linear-anneal", "cosine-without-half",
                "final-div-of-max", "eta-min-ignored", "reversed-anneal"}}
    for difficulty in DIFFICULTIES:
        seen = {m.kind for s in SEEDS[difficulty] for i in range(3)
                for m in problem(s, difficulty).target(i).mistakes}
        assert need[difficulty] <= seen, need[difficulty] - seen


def test_every_problem_names_its_main_mistake():
    """The counting mistake in every d1 problem, forgetting the warmup in every warmup question,
    PyTorch's phase boundary in every one-cycle problem."""
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p, d = problem(seed, difficulty), as_json(seed, difficulty)
            kinds = [{m.kind for m in p.target(i).mistakes} for i in range(3)]
            if difficulty == 1:  # the question that counts epochs the other way round
                counting = 1 if d["schedule"] == "ExponentialLR" else 2
                assert "off-by-one" in kinds[counting], (seed, kinds)
            elif d["schedule"] == "LambdaLR":
                assert all("forgot-warmup" in k for k in kinds), (seed, kinds)
            elif d["schedule"] == "inverse-sqrt":
                assert "forgot-warmup" in kinds[1] and "min-max-swapped" in kinds[0]
            else:
                assert "warmup-peak-off" in kinds[0] and "final-div-of-max" in kinds[2]


# -- 5. the checker accepts its own expected answer ----------------------------------------------
def test_expected_text_is_accepted_over_1000_seeds():
    assert_expected_accepted(problem(seed, seed % 3 + 1) for seed in range(1000))


# -- 6. determinism, JSON, distinct questions, 80 columns, registry ------------------------------
def test_same_seed_same_problem():
    for difficulty in DIFFICULTIES:
        for seed in range(10):
            assert generate(FAMILY, seed, difficulty).to_dict() == problem(seed, difficulty) \
                .to_dict()
    assert problem(0, 1).to_dict() != problem(3, 1).to_dict()


PARAM_NAMES = {
    "StepLR": {"lr", "step_size", "gamma"},
    "ExponentialLR": {"lr", "gamma"},
    "CosineAnnealingLR": {"lr", "T_max", "eta_min"},
    "LambdaLR": {"lr", "num_warmup_steps", "num_training_steps", "eta_min", "lr_lambda"},
    "inverse-sqrt": {"d_model", "warmup_steps"},
    "OneCycleLR": {"max_lr", "total_steps", "pct_start", "div_factor", "final_div_factor",
                   "anneal_strategy", "three_phase"},
}


def test_json_carries_the_schedule_its_parameters_and_the_steps():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty][:50]:
            d = as_json(seed, difficulty)
            assert set(d["params"]) == PARAM_NAMES[d["schedule"]]
            assert d["inputs"] == {k: v for k, v in d["params"].items()
                                   if not isinstance(v, (str, bool))}
            assert len(d["steps"]) == len(d["questions"]) == 3
            assert d["step_counting"]


def test_inputs_are_whiteboard_numbers():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            d = as_json(seed, difficulty)
            prm = d["params"]
            if "gamma" in prm:
                assert prm["gamma"] in (0.1, 0.2, 0.5, 0.8, 0.9)
            if "d_model" in prm:
                assert math.isqrt(prm["d_model"]) ** 2 == prm["d_model"]
                assert math.isqrt(prm["warmup_steps"]) ** 2 == prm["warmup_steps"]
            for k in ("lr", "max_lr", "eta_min"):
                if prm.get(k):
                    # a digit or two: 0.05, 0.0006, 0.0008 …
                    assert round(prm[k], 6) == prm[k] and len(f"{prm[k]:.0e}") <= 5
            for k in ("step_size", "T_max", "num_warmup_steps", "num_training_steps",
                      "total_steps"):
                if k in prm:
                    assert prm[k] % 5 == 0 or k == "T_max"


def test_three_different_questions():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            values = [p.target(i).value for i in range(3)]
            for a in range(3):
                for b in range(a + 1, 3):
                    assert not near(values[a], values[b], 0.006), (seed, values)
            assert len({q.wrt for q in p.questions}) == 3
            for i, q in enumerate(p.questions):
                assert q.shape == () and q.skills and len(p.hints(i)) == 2
                assert set(q.skills) <= {"step-decay", "exponential", "cosine", "warmup",
                                         "inverse-sqrt", "one-cycle"}
                assert "scalar" in q.ask or "whole number" in q.ask


def test_body_and_solution_fit_80_columns_and_state_the_counting():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            body = blocks_text(p.display())
            assert "Counting:" in body and ("from 0" in body or "from 1" in body)
            lines = body.splitlines()
            for i in range(3):
                sol = blocks_text(p.solution(i)).splitlines()
                label, _, answer = sol[-1].partition(" = ")  # ends with the answer
                assert label == p.target(i).label and grade(p, answer, i).correct
                lines += sol
            assert max(len(line) for line in lines) <= 80


def test_registered_and_cheap_to_import():
    fam = families()[FAMILY]
    assert fam.order == 70 and fam.difficulties == (1, 2, 3) and fam.forms == ("number",)
    code = ("import sys, quizforge.drill.families.schedule as s; "
            "s.generate(1, 3, 'number'); print('numpy' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False False"
