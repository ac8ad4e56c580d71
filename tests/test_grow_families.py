"""The kinds that grew the existing families (issue 18; quizforge/drill/families/_grow.py):
GELU, SiLU, leaky ReLU, Huber, KL and focal loss in `backprop`; eval-mode batch norm and
RMSNorm in `batchnorm`; inverted dropout in `mlp`; the log-sum-exp trick in `softmax-ce`; an
embedding's gradient in `linear`.

Checked here without torch: every answer against tests/golden/grow.json (written by
tests/golden/make_grow.py WITH torch), the own expected answer accepted, every named mistake
refused and named, a learner who uses the shown values to 3 significant figures accepted,
screens fit, few zero answers, and the drawing: a seed that does not draw a new kind keeps
its old problem.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from drill_ref import assert_expected_accepted, named_mistakes

from quizforge.drill.basic import fits_screen
from quizforge.drill.families import _grow
from quizforge.drill.family import generate
from quizforge.drill.rounding import inside, round_sig

GOLDEN = json.loads((Path(__file__).parent / "golden" / "grow.json").read_text())
CASES = [(fam, d, kind) for (fam, d), table in _grow.KINDS.items() for kind, _ in table]
IDS = [f"{fam}-{d}-{kind}" for fam, d, kind in CASES]


def make(case, seed):
    fam, d, kind = case
    return _grow.make(fam, kind, seed, d)


def test_golden_file_covers_every_kind_with_200_seeds():
    got = {(g["family"], g["difficulty"], g["kind"]) for g in GOLDEN["problems"]}
    assert got == set(CASES)
    assert len(GOLDEN["problems"]) == 200 * len(CASES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_answers_match_pytorch_golden(case):
    rows = [g for g in GOLDEN["problems"]
            if (g["family"], g["difficulty"], g["kind"]) == case]
    for g in rows:
        d = make(case, g["seed"]).to_dict()
        assert d["kind"] == case[2]
        for q in d["questions"]:
            want = np.asarray(g["answers"][q["wrt"]], dtype=float)
            assert np.allclose(q["value"], want, rtol=1e-9, atol=1e-12), (g["seed"], q["wrt"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_expected_accepted_mistakes_named_screens_fit(case):
    problems = [make(case, s) for s in range(40)]
    assert_expected_accepted(problems)
    for p in problems:
        assert fits_screen(p.display(), p.asked)
        for i in range(len(p.questions)):
            assert p.target(i).mistakes, (p.seed, i)
            for _m, _v in named_mistakes(p, i, (p.seed,)):
                pass


# -- a learner who reads the shown values to 3 significant figures ---------------------------------
def r(v):
    return round_sig(v) if np.ndim(v) == 0 else np.array([round_sig(float(t)) for t in
                                                          np.ravel(v)]).reshape(np.shape(v))


def learner(p, i):
    """The textbook formula, worked from the inputs with every shown constant (Φ, φ, σ, ln,
    e^−k) and the result rounded to 3 significant figures."""
    kind, inp, wrt = dict(p.extra)["kind"], p.inputs(), p.question(i).wrt
    if kind in ("leaky-relu", "huber", "gelu", "silu"):
        z = inp["w"] * inp["x"] + inp["b"]
    if kind == "leaky-relu":
        slope = 1 if z > 0 else inp["negative_slope"]
        da = (z * slope - inp["y"]) * slope
        return r(da if wrt == "a" else da * inp["x"])
    if kind == "huber":
        res, delta = z - inp["y"], inp["delta"]
        if wrt == "L":
            return r(res * res / 2 if abs(res) <= delta else delta * (abs(res) - delta / 2))
        return r((res if abs(res) <= delta else math.copysign(delta, res)) * inp["x"])
    if kind in ("gelu", "silu"):
        if kind == "gelu":
            gate = r(0.5 * (1 + math.erf(z / math.sqrt(2))))
            dens = r(math.exp(-z * z / 2) / math.sqrt(2 * math.pi))
            deriv = r(gate + z * dens)
        else:
            gate = r(1 / (1 + math.exp(-z)))
            deriv = r(gate * (1 + z * (1 - gate)))
        out = {"h": z * gate, "z": inp["g"] * deriv, "w": r(inp["g"] * deriv) * inp["x"]}
        return r(out[wrt])
    if kind == "kl":
        P, Q = np.asarray(inp["p"]), np.asarray(inp["q"])
        ln = lambda t: r(np.log(t))  # noqa: E731  (from the shown ln 2, ln 3)
        out = {"kl_pq": float(np.sum(P * ln(P / Q))), "kl_qp": float(np.sum(Q * ln(Q / P))),
               "q": -P / Q}
        return r(out[wrt])
    if kind == "focal":
        p = 1 / (1 + math.exp(-inp["z"]))
        pt = p if inp["y"] == 1 else 1 - p
        lnpt = r(math.log(pt))
        d_pt = r(2 * (1 - pt) * lnpt - (1 - pt) ** 2 / pt)
        out = {"fl": -(1 - pt) ** 2 * lnpt, "p_t": d_pt,
               "z": d_pt * p * (1 - p) * (1 if inp["y"] == 1 else -1)}
        return r(out[wrt])
    if kind == "bn-eval":
        xhat = (np.asarray(inp["x"]) - inp["running_mean"]) / math.sqrt(inp["running_var"])
        out = {"y": inp["weight"] * xhat + inp["bias"],
               "x": inp["weight"] * np.asarray(inp["g"]) / math.sqrt(inp["running_var"]),
               "weight": float(np.sum(np.asarray(inp["g"]) * xhat))}
        return r(out[wrt])
    if kind == "rmsnorm":
        x, w, g = (np.asarray(inp[k], dtype=float) for k in ("x", "weight", "g"))
        rms = math.sqrt(float(np.mean(x * x)))
        out = {"y": w * x / rms, "weight": g * x / rms,
               "x": r(w * g / rms) - r(x * r(float(np.sum(w * g * x)) / (len(x) * rms ** 3)))}
        return r(out[wrt])
    if kind == "dropout":
        h, m, g = (np.asarray(inp[k], dtype=float) for k in ("h", "mask", "g"))
        k = 1 / (1 - inp["p"])
        return r({"y_train": m * h * k, "h": m * g * k, "y_eval": h}[wrt])
    if kind == "lse":
        z = np.asarray(inp["z"], dtype=float)
        e = r(np.exp(z - z.max()))
        s = r(float(e.sum()))
        return r(z.max() + r(math.log(s)) if wrt == "lse" else e / s)
    if kind == "embedding":
        dE = np.zeros(np.shape(inp["weight"]))
        np.add.at(dE, np.asarray(inp["input"], dtype=int), np.asarray(inp["G"]))
        return dE
    raise AssertionError(kind)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_learner_rounding_to_3_figures_is_accepted(case):
    for seed in range(60):
        p = make(case, seed)
        for i in range(len(p.questions)):
            t = p.target(i)
            answer = learner(p, i)
            assert np.allclose(answer, t.value, rtol=0.02, atol=1e-3), (seed, i)  # same thing
            assert inside(answer, t.lo, t.hi), (seed, i, answer, t.value, t.lo, t.hi)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_zero_is_rarely_the_answer(case):
    problems = [make(case, s) for s in range(100)]
    answers = [p.target(i).value for p in problems for i in range(len(p.questions))]
    zeros = sum(1 for a in answers if np.all(np.abs(a) < 1e-12))
    assert zeros <= len(answers) / 5


NEEDED = {  # the issue's named mistakes, each detected on every problem of its kind
    "leaky-relu": {"a": {"leaky-as-relu", "leaky-slope"}},
    "huber": {"L": {"huber-branch"}, "w": {"huber-branch"}},
    "gelu": {"z": {"gelu-partial"}}, "silu": {"z": {"silu-partial"}},
    "kl": {"kl_pq": {"kl-order"}}, "focal": {"fl": {"focal-as-ce"}},
    "bn-eval": {"y": {"bn-batch-stats"}, "x": {"bn-batch-stats"}},
    "rmsnorm": {"x": {"rms-constant"}},
    "dropout": {"y_train": {"dropout-no-scale"}, "h": {"dropout-grad-unmasked"},
                "y_eval": {"dropout-eval-scaled"}},
    "lse": {"lse": {"lse-no-max"}}, "embedding": {"weight": {"embedding-overwrite"}},
}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_issues_named_mistakes_are_there(case):
    for seed in range(40):
        p = make(case, seed)
        for i, q in enumerate(p.questions):
            kinds = {m.kind for m in p.target(i).mistakes}
            want = NEEDED[case[2]].get(q.wrt, set())
            assert kinds & want if len(want) > 1 else want <= kinds, (seed, q.wrt, kinds)


def test_generate_draws_new_kinds_and_keeps_old_problems(monkeypatch):
    drawn = {}
    for fam, d in _grow.KINDS:
        for seed in range(40):
            p = generate(fam, seed, d)
            k = dict(getattr(p, "extra", ())).get("kind")
            if k in _grow.kinds(fam, d):
                drawn.setdefault((fam, d), set()).add(k)
    assert {key: set(_grow.kinds(*key)) for key in drawn} == {
        key: set(_grow.kinds(*key)) for key in _grow.KINDS}
    # a seed that does not draw a new kind has exactly the problem it had before
    old = {}
    for fam, d in _grow.KINDS:
        for seed in range(40, 52):
            old[fam, d, seed] = generate(fam, seed, d).to_dict()
    monkeypatch.setattr(_grow, "SHARE", 0.0)
    changed = 0
    for (fam, d, seed), before in old.items():
        if before.get("kind") in _grow.kinds(fam, d):
            changed += 1
            continue
        assert generate(fam, seed, d).to_dict() == before, (fam, d, seed)
    assert 0 < changed < len(old) / 2


def test_other_forms_keep_the_old_backprop_kinds():
    for seed in range(30):
        for form in ("expression", "steps"):
            assert generate("backprop", seed, 1, form).form == form
            assert not hasattr(generate("backprop", seed, 1, form), "extra")


def test_json_names_follow_pytorch():
    names = {"bn-eval": {"x", "weight", "bias", "running_mean", "running_var", "g"},
             "rmsnorm": {"x", "weight", "g"}, "embedding": {"weight", "input", "G"},
             "leaky-relu": {"x", "w", "b", "y", "negative_slope"},
             "huber": {"x", "w", "b", "y", "delta"}}
    for case in CASES:
        d = make(case, 0).to_dict()
        if case[2] in names:
            assert set(d["inputs"]) == names[case[2]]
