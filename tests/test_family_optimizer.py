"""The optimizer drill family, against references that share none of its code.

- The answers: a learner written here from PyTorch's documented algorithms (torch.optim.SGD,
  Adagrad, RMSprop, Adam, AdamW; clip_grad_norm_ / clip_grad_value_ — the pages cited in
  tests/test_optim.py), reading only the problem's JSON (`initial_params`, `grads` or
  `surface`, `questions_setup`). Worked exactly it must equal every answer; rounding every
  number it writes down to 3 significant figures it must land in the band (≥ 99.5%).
- Gradients: on a surface, every gradient the learner uses (and the ∇f(θ₀) question) is the
  finite-difference gradient of `loss_scalar`; with given gradients, `loss_scalar` = g₁·θ, so its
  finite-difference gradient is g₁.
- The grading engine on every named mistake, the expected text over 1000 seeds, determinism,
  friendly inputs, distinct questions, 80 columns.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from functools import cache

import numpy as np
import pytest
from drill_ref import (
    assert_expected_accepted,
    assert_rounding_learner_accepted,
    fd_gradient,
    loss_at,
    named_mistakes,
)

from quizforge.drill.check import grade, near
from quizforge.drill.family import families, generate
from quizforge.drill.model import blocks_text, tensor_text
from quizforge.drill.rounding import round_sig

FAMILY = "optimizer"
DIFFICULTIES = (1, 2, 3)
SEEDS = {d: [s for s in range(600) if s % 3 == d - 1] for d in DIFFICULTIES}


@cache
def problem(seed: int, difficulty: int):
    return generate(FAMILY, seed, difficulty, "number")


@cache
def as_json(seed: int, difficulty: int) -> dict:
    return json.loads(json.dumps(problem(seed, difficulty).to_dict()))


# -- the learner: PyTorch's algorithms, from the JSON only ----------------------------------------
def exact(x):
    return x


def r3(x):
    if isinstance(x, np.ndarray):
        return np.array([float(round_sig(float(v))) for v in x.ravel()]).reshape(x.shape)
    return float(round_sig(float(x)))


def surface_grad(d, theta, rnd):
    co = d["surface"]["coefficients"]
    a, b, c = co["x^2"], co["y^2"], co["xy"]
    x, y = theta
    # ∂/∂x of a·x² + b·y² + c·x·y + k, written as c·y + 2a·x (the other order)
    return np.array([rnd(rnd(c * y) + rnd(2 * a * x)), rnd(rnd(c * x) + rnd(2 * b * y))])


def learner(d: dict, i: int, rnd=exact):
    q = d["questions_setup"][i]
    rule, quantity, steps, lr = q["rule"], q["quantity"], q["steps"], q["lr"]
    theta = np.array(d["initial_params"], dtype=float)

    def grad(k, th):
        if "grads" in d:
            return np.array(d["grads"][k], dtype=float)
        return surface_grad(d, th, rnd)

    if quantity == "grad":
        return grad(0, theta)
    wd = q.get("weight_decay", 0.0)
    if quantity == "l2_grad":
        return rnd(rnd(wd * theta) + grad(0, theta))
    n = theta.size
    buf, s, m, v = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    clipped = None
    for k in range(steps):
        t = k + 1
        g = grad(k, theta)
        if quantity == "grad_at_1" and k == 1:
            return g
        if "max_norm" in q:
            norm = rnd(math.sqrt(float(np.sum(rnd(g * g)))))
            if norm > q["max_norm"]:
                g = rnd(rnd(g * q["max_norm"]) / norm)
        if "clip_value" in q:
            c = q["clip_value"]
            g = np.minimum(np.maximum(g, -c), c)
        if clipped is None:
            clipped = g
        if rule == "adamw":
            theta = rnd(theta * rnd(1 - lr * wd))
        elif wd:
            g = rnd(g + rnd(wd * theta))
        if rule == "sgd":
            theta = rnd(theta - rnd(lr * g))
        elif rule in ("momentum", "nesterov"):
            mu = q["momentum"]
            if q["momentum_form"] == "ema":
                buf = rnd(rnd(mu * buf) + rnd((1 - mu) * g))
            else:
                buf = g if t == 1 else rnd(rnd(mu * buf) + g)
            direction = rnd(g + rnd(mu * buf)) if q["nesterov"] else buf
            theta = rnd(theta - rnd(lr * direction))
        elif rule == "adagrad":
            s = rnd(s + rnd(g * g))
            theta = rnd(theta - rnd(rnd(lr * g) / rnd(rnd(np.sqrt(s)) + q["eps"])))
        elif rule == "rmsprop":
            a = q["alpha"]
            v = rnd(rnd(a * v) + rnd((1 - a) * rnd(g * g)))
            theta = rnd(theta - rnd(rnd(lr * g) / rnd(rnd(np.sqrt(v)) + q["eps"])))
        else:
            b1, b2 = q["betas"]
            m = rnd(rnd(b1 * m) + rnd((1 - b1) * g))
            v = rnd(rnd(b2 * v) + rnd((1 - b2) * rnd(g * g)))
            m_hat, v_hat = rnd(m / rnd(1 - b1**t)), rnd(v / rnd(1 - b2**t))
            if q["eps_placement"] == "inside":
                den = rnd(np.sqrt(rnd(v_hat + q["eps"])))
            else:
                den = rnd(rnd(np.sqrt(v_hat)) + q["eps"])
            theta = rnd(theta - rnd(rnd(lr * m_hat) / den))
    if quantity == "params":
        return theta
    if quantity == "clipped":
        return clipped
    if quantity == "loss":
        co = d["surface"]["coefficients"]
        x, y = theta
        return rnd(rnd(rnd(co["x^2"] * rnd(x * x)) + rnd(co["y^2"] * rnd(y * y)))
                   + rnd(rnd(co["xy"] * rnd(x * y)) + co["const"]))
    if quantity == "m_hat":
        return rnd(m / rnd(1 - q["betas"][0] ** steps))
    if quantity == "v_hat":
        return rnd(v / rnd(1 - q["betas"][1] ** steps))
    key = quantity.split(":", 1)[1]
    return {"momentum_buffer": buf, "sum": s, "square_avg": v, "exp_avg": m,
            "exp_avg_sq": v}[key]


def all_problems():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            yield seed, difficulty


# -- 1. the answers against the learner, the gradients against finite differences -------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_answer_matches_the_learner_worked_exactly(difficulty):
    for seed in SEEDS[difficulty]:
        p, d = problem(seed, difficulty), as_json(seed, difficulty)
        for i, q in enumerate(d["questions"]):
            want = learner(d, i)
            got = p.target(i).value
            assert np.allclose(got, want, rtol=1e-9, atol=1e-12), (seed, difficulty, i)
            assert q["shape"] == list(np.shape(got))


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_gradients_are_finite_differences_of_the_loss(difficulty):
    for seed in SEEDS[difficulty][:70]:
        d = as_json(seed, difficulty)
        for q in d["questions"]:
            if q["wrt"] in d["inputs"]:  # ∇f(θ₀) on a surface
                assert np.allclose(q["value"], fd_gradient(d, q["wrt"]), rtol=1e-5, atol=1e-6)
        if "grads" in d:  # no loss given: L = g₁·θ, so ∂L/∂θ = g₁
            assert np.allclose(fd_gradient(d, "theta"), d["grads"][0], atol=1e-6)
            continue
        # on a surface every step's gradient is ∇f at the current θ: finite differences of f
        assert np.allclose(surface_grad(d, d["initial_params"], exact),
                           fd_gradient(d, "theta"), rtol=1e-5, atol=1e-6)
        for i, qs in enumerate(d["questions_setup"]):
            if qs["quantity"] != "grad_at_1":
                continue
            one_step = dict(qs, quantity="params", steps=1)
            theta1 = learner(dict(d, questions_setup=[one_step]), 0)
            shifted = dict(d, inputs={"theta": theta1.tolist()})
            assert np.allclose(d["questions"][i]["value"], fd_gradient(shifted, "theta"),
                               rtol=1e-5, atol=1e-6)


def test_the_loss_on_a_surface_is_the_one_stated():
    checked = 0
    for seed, difficulty in all_problems():
        d = as_json(seed, difficulty)
        if "surface" not in d:
            continue
        co = d["surface"]["coefficients"]
        x, y = 0.75, -1.5
        f = co["x^2"] * x * x + co["y^2"] * y * y + co["xy"] * x * y + co["const"]
        assert loss_at(d, {"theta_0": x, "theta_1": y}) == pytest.approx(f)
        for i, qs in enumerate(d["questions_setup"]):
            if qs["quantity"] == "loss":  # f at the learner's θ₁, through loss_scalar
                spec = dict(qs, quantity="params")
                theta1 = learner(dict(d, questions_setup=[spec]), 0)
                assert d["questions"][i]["value"] == pytest.approx(
                    loss_at(d, {"theta_0": theta1[0], "theta_1": theta1[1]}))
        checked += 1
    assert checked > 50


def test_the_notes_surface_from_4_4():
    """The notes' visualization: f = x² + 3y² + 2xy + 5 from (4, 4) reads loss 101; one SGD
    step with η = 0.1 goes to (2.4, 0.8), loss 16.52."""
    found = 0
    for seed in SEEDS[1]:
        d = as_json(seed, 1)
        if d.get("surface") is None or d["initial_params"] != [4, 4] or d["lr"] != 0.1:
            continue
        if d["surface"]["coefficients"] != {"x^2": 1, "y^2": 3, "xy": 2, "const": 5}:
            continue
        assert loss_at(d, {"theta_0": 4, "theta_1": 4}) == 101
        values = {q["wrt"]: q["value"] for q in d["questions"]}
        assert values["theta"] == [16, 32]
        assert np.allclose(values["theta_1"], [2.4, 0.8])
        assert values["loss_1"] == pytest.approx(16.52)
        p = problem(seed, 1)
        assert grade(p, "[2.4, 0.8]", 0).correct
        assert grade(p, "16.52", 2).correct
        assert grade(p, "[5.6, 7.2]", 0).mistake == "sign"
        found += 1
    assert found >= 1


# -- 2. a learner rounding to 3 significant figures is accepted -----------------------------------
def test_a_learner_rounding_to_three_figures_is_accepted():
    def same(answer, t, key):
        assert np.allclose(answer, t.value, rtol=0.05, atol=0.02), key

    assert_rounding_learner_accepted(
        (problem(s, d) for s, d in all_problems()),
        lambda p, i: learner(as_json(p.seed, p.difficulty), i, r3), same)


def test_the_rounded_learner_typed_as_decimals_is_graded_right():
    for seed in SEEDS[2][:60]:
        p, d = problem(seed, 2), as_json(seed, 2)
        for i in range(len(p.questions)):
            typed = tensor_text(learner(d, i, r3), exact=False)
            assert grade(p, typed, i).correct, (seed, i, typed)


# -- 3. every named mistake is refused and named ----------------------------------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_named_mistake_is_refused_and_named(difficulty):
    for seed in SEEDS[difficulty][:120]:
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            for m, _ in named_mistakes(p, i, (seed, difficulty)):
                # typed to 3 significant figures, a slip is still not accepted
                typed = tensor_text(r3(np.asarray(m.value, dtype=float)), exact=False)
                assert not grade(p, typed, i).correct, (seed, i, m.kind, typed)


def test_the_mistake_library_covers_the_issue():
    seen: set[str] = set()
    for seed, difficulty in all_problems():
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            seen |= {m.kind for m in p.target(i).mistakes}
    assert {"no-bias-correction", "l2-vs-decoupled", "eps-placement", "per-parameter-clipping",
            "momentum-sign", "momentum-order", "momentum-form", "sign", "no-clip",
            "stale-gradient", "nesterov-as-momentum", "bias-correction-step"} <= seen


def test_the_main_mistakes_are_named_where_they_belong():
    for seed, difficulty in all_problems():
        d = as_json(seed, difficulty)
        p = problem(seed, difficulty)
        first = {m.kind for m in p.target(0).mistakes}
        rule = d["questions_setup"][0]["rule"]
        if rule == "adamw":
            assert "l2-vs-decoupled" in first
            assert "l2-vs-decoupled" in {m.kind for m in p.target(1).mistakes}
        if d.get("eps_placement") and d["eps"]:
            assert "eps-placement" in first
        if "max_norm" in d["questions_setup"][0]:
            g = np.array(d["grads"][0])
            below = np.linalg.norm(g) <= d["max_norm"]
            assert ("clip-always" if below else "per-parameter-clipping") in first
        if rule == "momentum" and "grads" in d:
            assert {"momentum-form", "momentum-order"} <= first


def test_l2_and_decoupled_named_both_ways():
    for seed in SEEDS[3]:
        d = as_json(seed, 3)
        if d["rule"] != "adamw":
            continue
        p = problem(seed, 3)
        w, l2 = p.target(0).value, p.target(1).value
        assert grade(p, tensor_text(l2), 0).mistake == "l2-vs-decoupled"
        assert grade(p, tensor_text(w), 1).mistake == "l2-vs-decoupled"
        # weight decay flips at least one of Adam's first-step signs
        g, theta, lam = (np.array(d["grads"][0]), np.array(d["initial_params"]),
                         d["weight_decay"])
        assert np.any(np.sign(g + lam * theta) != np.sign(g))


# -- 4. the checker accepts its own expected answer -------------------------------------------------
def test_expected_text_is_accepted_over_1000_seeds():
    assert_expected_accepted(problem(seed, seed % 3 + 1) for seed in range(1000))  # the sweeps' problems, and 400 more


# -- 5. determinism, friendly numbers, distinct questions, 80 columns --------------------------------
def test_same_seed_same_problem():
    for difficulty in DIFFICULTIES:
        for seed in range(10):
            a = generate(FAMILY, seed, difficulty, "number").to_dict()
            assert a == generate(FAMILY, seed, difficulty, "number").to_dict()
    assert problem(0, 1).to_dict() != problem(1, 1).to_dict()


def _friendly(v: float) -> bool:
    """A multiple of 1/4 within ±12, or (the ε problems' tiny gradients) of 0.005."""
    return abs(v) <= 12 and (abs(v * 4 - round(v * 4)) < 1e-9
                             or (abs(v) < 0.2 and abs(v * 200 - round(v * 200)) < 1e-9))


def test_inputs_and_hyperparameters_are_friendly():
    for seed, difficulty in all_problems():
        d = as_json(seed, difficulty)
        for name, value in d["inputs"].items():
            assert all(_friendly(x) for x in np.ravel(value)), (name, value)
            assert 2 <= np.size(value) <= 3
        for qs in d["questions_setup"]:
            assert qs["lr"] in (0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0)
            assert qs.get("momentum", 0.9) in (0.9, 0.5)
            assert tuple(qs.get("betas", (0.9, 0.999))) in ((0.9, 0.999), (0.5, 0.5))
            # 0.0036 and 0.0144: ε inside √, where g² + ε is a square
            assert qs.get("eps", 0.0) in (0.0, 0.01, 0.02, 0.0036, 0.0144)


def test_json_carries_what_an_independent_checker_needs():
    for seed, difficulty in all_problems():
        d = as_json(seed, difficulty)
        assert d["rule"] in ("sgd", "momentum", "adagrad", "adam", "adamw")
        assert "lr" in d and "initial_params" in d and "initial_state" in d
        assert ("grads" in d) != ("surface" in d)
        assert len(d["questions_setup"]) == len(d["questions"])
        for q, qs in zip(d["questions"], d["questions_setup"]):
            assert q["wrt"] == qs["wrt"]
            if qs["rule"] in ("momentum", "nesterov"):
                assert {"momentum", "nesterov", "momentum_form"} <= set(qs)
            if qs["rule"] in ("adam", "adamw"):
                assert {"betas", "eps", "weight_decay", "eps_placement"} <= set(qs)


def test_questions_differ_and_state_their_shape():
    for seed, difficulty in all_problems():
        p = problem(seed, difficulty)
        values = [p.target(i).value for i in range(len(p.questions))]
        assert 2 <= len(values) <= 3
        for a in range(len(values)):
            for b in range(a + 1, len(values)):
                assert not near(values[a], values[b], 0.006), (seed, difficulty)
        for i, q in enumerate(p.questions):
            assert q.shape == np.shape(p.target(i).value)
            assert (f"vector of {q.shape[0]}" in q.ask) if q.shape else ("a number" in q.ask)
            assert q.skills and len(p.hints(i)) == 2
            assert set(q.skills) <= {"sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                     "adam", "adamw", "clipping"}
            assert p.target(i).mistakes


def test_conventions_are_stated_in_the_problem_and_the_solution():
    for seed, difficulty in all_problems():
        d = as_json(seed, difficulty)
        p = problem(seed, difficulty)
        body = blocks_text(p.display())
        qs = d["questions_setup"][0]
        sol = blocks_text(p.solution(0))
        if qs["rule"] == "momentum":
            form = "EMA form" if qs["momentum_form"] == "ema" else "PyTorch"
            assert form in body and form in sol
        if qs["rule"] in ("adam", "adamw"):
            assert "ε" in body
            if qs["eps"]:
                where = "INSIDE" if qs["eps_placement"] == "inside" else "OUTSIDE"
                assert where in body
                assert ("√(v̂ + ε)" if where == "INSIDE" else "(√v̂ + ε)") in sol


def test_body_and_solution_fit_80_columns():
    for seed, difficulty in all_problems():
        p = problem(seed, difficulty)
        lines = blocks_text(p.display()).splitlines()
        for i in range(len(p.questions)):
            lines += blocks_text(p.solution(i)).splitlines()
            assert len(p.question(i).ask) <= 120
        assert max(len(line) for line in lines) <= 80


def test_solution_ends_with_the_answer():
    for seed, difficulty in list(all_problems())[:60]:
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            last = blocks_text(p.solution(i)).splitlines()[-1]
            assert last.startswith(f"{p.target(i).label} = ")


def test_registered_and_cheap_to_import():
    fam = families()[FAMILY]
    assert fam.order == 60 and fam.difficulties == (1, 2, 3) and fam.forms == ("number",)
    code = ("import sys, quizforge.drill.families.optimizer; "
            "print('numpy' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False False"
