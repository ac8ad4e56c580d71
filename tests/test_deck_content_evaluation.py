"""The numbers the evaluation deck states, recomputed independently of the card text.

Each test reads a card from decks/evaluation.yaml and checks what it claims (worked values,
MCQ keys, the stories of numeric distractors, formula answers) against a computation written
here from the definitions: confusion-matrix counts, pairwise ROC-AUC, step-wise average
precision, binned ECE, DCG, clipped n-gram counts, pass@k by enumeration, the normal
approximation for power, small simulations with fixed seeds. Never against the card itself.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from pathlib import Path
from statistics import NormalDist, median

import numpy as np
import pytest
from deck_ref import (
    assert_accepted,
    assert_mistakes_listed,
    deck_file,
    formula_cards,
    key,
    num,
    offers,
)

from quizforge.decks.formula import grade_formula, read_formula
from quizforge.decks.model import MCQ, Flashcard, FormulaCard
from quizforge.drill.parse import evaluate

PATH = Path(__file__).resolve().parent.parent / "decks" / "evaluation.yaml"


deck, card = deck_file(PATH)


def text(c) -> str:
    """Everything a card shows, flattened to single spaces (YAML folds long lines)."""
    parts = [getattr(c, f, None) for f in ("front", "back", "question", "explanation", "answer")]
    parts += list(getattr(c, "choices", ()))
    return " ".join(" ".join(p.split()) for p in parts if isinstance(p, str))


def says(c, *phrases: str) -> None:
    shown = text(c)
    for p in phrases:
        assert p in shown, (c.id, p)


def keyed_value(c: MCQ, value: float, places: int) -> None:
    """The key states `value` to `places` decimals."""
    assert round(num(key(c)), places) == round(value, places), (c.id, key(c), value)


def f(x: float, places: int) -> str:
    return f"{x:.{places}f}"


# -- reference implementations, from the definitions ---------------------------------------


def confusion(y_true, y_pred):
    tp = sum(1 for t, p in zip(y_true, y_pred) if t and p)
    fp = sum(1 for t, p in zip(y_true, y_pred) if not t and p)
    fn = sum(1 for t, p in zip(y_true, y_pred) if t and not p)
    tn = sum(1 for t, p in zip(y_true, y_pred) if not t and not p)
    return tp, fp, fn, tn


def labels_from_counts(tp, fp, fn, tn):
    """Label and prediction lists that realize a confusion matrix."""
    y = [1] * tp + [0] * fp + [1] * fn + [0] * tn
    p = [1] * tp + [1] * fp + [0] * fn + [0] * tn
    return y, p


def roc_auc_pairs(pos, neg) -> float:
    """Fawcett §7: P(score of a random positive > score of a random negative), ties ½."""
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def roc_auc_ranks(scores, labels) -> float:
    """The same through the Mann–Whitney U statistic (rank sums), a second route."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    labels = np.asarray(labels)
    n1, n0 = labels.sum(), len(labels) - labels.sum()
    u = ranks[labels == 1].sum() - n1 * (n1 + 1) / 2
    return float(u / (n1 * n0))


def average_precision(scores, labels) -> float:
    """Σ (R_n − R_{n−1}) P_n over thresholds at each distinct score, no interpolation."""
    scores, labels = np.asarray(scores, float), np.asarray(labels)
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    tps = np.cumsum(y)
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # last index of each distinct score
    precision = tps[last] / (last + 1)
    recall = tps[last] / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def ap_of_ranking(relevant_ranks, total_relevant) -> float:
    """IIR §8.4: mean of precision at each relevant hit; unretrieved relevant count 0."""
    hits = sorted(relevant_ranks)
    return sum((i + 1) / r for i, r in enumerate(hits)) / total_relevant


def dcg(rels, discount=lambda i: math.log2(i + 1)) -> float:
    return sum(r / discount(i) for i, r in enumerate(rels, 1))


def ndcg(rels, **kw) -> float:
    return dcg(rels, **kw) / dcg(sorted(rels, reverse=True), **kw)


def ece(confidences, correct, n_bins=15) -> float:
    """Guo et al. §2: equal-width confidence bins, |acc − conf| weighted by bin share."""
    conf, corr = np.asarray(confidences, float), np.asarray(correct, float)
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(corr[m].mean() - conf[m].mean())
    return total


def bin_samples(spec):
    """(count, confidence, accuracy) bins → per-sample confidences and correctness."""
    conf, corr = [], []
    for n, c, acc in spec:
        k = round(n * acc)
        assert math.isclose(k, n * acc)
        conf += [c] * n
        corr += [1] * k + [0] * (n - k)
    return conf, corr


def softmax(z):
    e = np.exp(np.asarray(z, float) - np.max(z))
    return e / e.sum()


def modified_precision(candidate: str, references: list[str], n: int = 1) -> float:
    """Papineni et al. §2.1: candidate n-gram counts clipped by their maximum reference count."""

    def grams(s):
        w = s.split()
        return [tuple(w[i : i + n]) for i in range(len(w) - n + 1)]

    cand = grams(candidate)
    clipped = 0
    for g in set(cand):
        clipped += min(cand.count(g), max(grams(r).count(g) for r in references))
    return clipped / len(cand)


def pass_at_k_enumerated(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of the n samples that contain a correct one."""
    samples = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


Z = NormalDist()


def power_two_proportions(n: float, p1: float, p2: float, alpha: float = 0.05) -> float:
    """Normal approximation: P(reject) for a two-sided test with n users per arm."""
    se = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n)
    return Z.cdf(abs(p2 - p1) / se - Z.inv_cdf(1 - alpha / 2))


def users_for_power(p1, p2, power=0.8, alpha=0.05) -> float:
    lo, hi = 1.0, 1e9
    for _ in range(200):  # bisection on n: power grows with n
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if power_two_proportions(mid, p1, p2, alpha) < power else (lo, mid)
    return hi


# -- the deck as a whole ---------------------------------------------------------------------


def test_deck_parses_with_no_problems_and_has_the_minimum_counts():
    cards = deck().cards
    mcqs = [c for c in cards if isinstance(c, MCQ)]
    formulas = [c for c in cards if isinstance(c, FormulaCard)]
    flash = [c for c in cards if isinstance(c, Flashcard)]
    assert len(cards) >= 55
    assert len(mcqs) >= 16 and sum(c.select_all for c in mcqs) >= 4
    assert len(formulas) >= 5
    assert len(flash) + len(mcqs) + len(formulas) == len(cards)
    assert len({c.id for c in cards}) == len(cards)


def works(source: str) -> list[str]:
    """The works a `source` names: split at ';' outside parentheses and quotes; a piece that
    starts with '§' continues the work before it."""
    pieces, depth, quoted, cur = [], 0, False, ""
    for ch in " ".join(source.split()):
        depth += (ch == "(") - (ch == ")")
        quoted ^= ch == '"'
        if ch == ";" and depth == 0 and not quoted:
            pieces.append(cur.strip())
            cur = ""
        else:
            cur += ch
    pieces.append(cur.strip())
    return [w for w in pieces if not w.startswith("§")]


def test_every_card_cites_a_listed_reference_and_select_all_varies():
    header = PATH.read_text(encoding="utf-8").split("\ndeck:")[0]
    refs = header.split("References (each card's `source` names the one it follows):")[1]
    refs = " ".join(line.lstrip("# ") for line in refs.splitlines())
    for c in deck().cards:
        assert c.source, c.id
        for work in works(c.source):
            author = re.match(r"([A-Za-zÀ-ž-]+(?: user guide)?)", work)
            assert author and author.group(1) in refs, (c.id, work)
    multi = [c for c in deck().cards if isinstance(c, MCQ) and c.multi]
    assert {len(c.answer) for c in multi} >= {1, 2, 3, 4}


# -- classification metrics ------------------------------------------------------------------


def test_metrics_worked_example():
    c = card("metrics-worked-example")
    says(c, "1000 items, 100 of them positive", "flags 120", "of which 80 are positive")
    tp, fp = 80, 120 - 80
    fn, tn = 100 - tp, 1000 - 100 - fp
    y, p = labels_from_counts(tp, fp, fn, tn)
    assert confusion(y, p) == (80, 40, 20, 860)
    prec, rec = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * prec * rec / (prec + rec)
    assert f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
    says(
        c,
        "TP = 80, FN = 20, FP = 40, TN = 860",
        f"80/120 ≈ {f(prec, 3)}",
        f"80/100 = {f(rec, 2)}",
        f"860/900 ≈ {f(tn / (tn + fp), 3)}",
        f"160/220 ≈ {f(f1, 3)}",
        f"(80 + 860)/1000 = {(tp + tn) / 1000:g}",
    )
    # Accuracy beats precision and F1 by far, but specificity is higher still: not "the best".
    acc, spec = (tp + tn) / 1000, tn / (tn + fp)
    assert prec < f1 < rec < acc < spec and acc - f1 > 0.2
    says(c, "far better than precision or F1", "900 negatives, 860 of them correctly rejected")


def test_f1_harmonic_and_f_beta_numbers():
    says(card("f1-harmonic-mean"), f"mean is {(1 + 0.1) / 2:.2f}", f"1.1 ≈ {2 * 0.1 / 1.1:.2f}")
    p, r = 0.001, 1.0  # flag everything when 0.1% are positive
    assert (p + r) / 2 == pytest.approx(0.5, abs=0.01) and 2 * p * r / (p + r) < 0.01

    def fbeta(p, r, b):  # van Rijsbergen's weighted harmonic mean, α = 1/(1 + β²)
        a = 1 / (1 + b * b)
        return 1 / (a / p + (1 - a) / r)

    p, r = 2 / 3, 0.8
    c = card("f-beta-worked")
    says(c, "precision 2/3 and recall 0.8")
    says(c, f"≈ {f(fbeta(p, r, 2), 3)}", f"≈ {f(fbeta(p, r, 0.5), 3)}", f"F1 ≈ {f(fbeta(p, r, 1), 3)}")
    assert fbeta(p, r, 0.5) < fbeta(p, r, 1) < fbeta(p, r, 2)  # F2 leans to R, F0.5 to P


def test_f2_simplified_form():
    c = card("f-beta-formula")
    says(c, "F2 = 5PR/(4P + R)")
    for p, r in ((0.3, 0.9), (0.8, 0.2)):
        assert (1 + 2**2) * p * r / (2**2 * p + r) == pytest.approx(5 * p * r / (4 * p + r))


def test_f1_from_counts_mcq():
    c = card("f1-from-counts-mcq")
    says(c, "TP = 20, FP = 5, FN = 30 and TN = 945")
    tp, fp, fn, tn = 20, 5, 30, 945
    p, r = tp / (tp + fp), tp / (tp + fn)
    keyed_value(c, 2 * p * r / (p + r), 2)
    offers(c, (p + r) / 2, 2)  # arithmetic mean
    offers(c, math.sqrt(p * r), 2)  # geometric mean
    offers(c, (tp + tn) / (tp + fp + fn + tn), 3)  # accuracy
    says(c, f"{2 * tp}/{2 * tp + fp + fn}", f"≈ {2 * p * r / (p + r):.3f}")


def test_always_negative_model():
    y = [1] * 1 + [0] * 99  # 1% fraud
    pred = [0] * 100
    tp, fp, fn, tn = confusion(y, pred)
    acc, rec, spec = (tp + tn) / 100, tp / (tp + fn), tn / (tn + fp)
    assert key(card("always-negative-mcq")) == (
        f"Accuracy {acc:g}, recall {rec:g}, balanced accuracy {(rec + spec) / 2:g}"
    )
    y = [1] * 1 + [0] * 999  # the 99.9% of the flashcard
    tp, fp, fn, tn = confusion(y, [0] * 1000)
    assert (tp + tn) / 1000 == 0.999 and (tp / (tp + fn) + tn / (tn + fp)) / 2 == 0.5
    says(card("accuracy-imbalance"), "99.9%", "scores 0.5")


def test_macro_and_micro_precision_mcq():
    c = card("macro-micro-mcq")
    says(c, "80 true positives and 20 false positives", "5 true positives and 15 false positives")
    per_class = [80 / 100, 5 / 20]
    macro, micro = sum(per_class) / 2, (80 + 5) / (100 + 20)
    assert key(c) == f"Macro {macro:g}, micro ≈ {micro:.2f}"
    says(c, f"80/100 = {per_class[0]:g} and 5/20 = {per_class[1]:g}", f"85/120 ≈ {micro:.2f}")
    # Micro = per-class precisions weighted by predicted positives; with two classes it
    # equals macro only for equal precisions or equal predicted-positive counts.
    weights = [100 / 120, 20 / 120]
    assert micro == pytest.approx(sum(w * q for w, q in zip(weights, per_class)))
    assert micro - macro == pytest.approx((weights[0] - 0.5) * (per_class[0] - per_class[1]))
    says(c, "weighted by predicted positives")


def test_micro_f1_equals_accuracy_single_label():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    tp = sum(int(np.sum((p == k) & (y == k))) for k in range(4))
    fp = sum(int(np.sum((p == k) & (y != k))) for k in range(4))
    fn = sum(int(np.sum((p != k) & (y == k))) for k in range(4))
    assert 2 * tp / (2 * tp + fp + fn) == pytest.approx(np.mean(y == p))
    says(card("macro-micro-averaging"), "micro-F1 equals accuracy")


# -- ROC and PR ----------------------------------------------------------------------------


def test_auc_pairs_mcq():
    c = card("auc-pairs-mcq")
    pos, neg = [0.9, 0.7, 0.4], [0.8, 0.3, 0.2]
    says(c, "Positives score 0.9, 0.7 and 0.4; negatives score 0.8, 0.3 and 0.2")
    auc = roc_auc_pairs(pos, neg)
    assert auc == pytest.approx(roc_auc_ranks(pos + neg, [1, 1, 1, 0, 0, 0]))
    keyed_value(c, auc, 2)
    acc = sum(s > 0.5 for s in pos) + sum(s <= 0.5 for s in neg)
    offers(c, acc / 6, 2)
    offers(c, 1 - auc, 2)
    offers(c, 0.5, 2)
    says(c, "in 7 (", "(4 of 6 right)", "2/9")
    assert auc == 7 / 9 and acc == 4


def test_ratio_invariance_select_all():
    rng = np.random.default_rng(1)
    pos, neg = rng.normal(1, 1, 200), rng.normal(0, 1, 300)
    t = 0.5

    def metrics(neg_scores):
        scores = np.r_[pos, neg_scores]
        labels = np.r_[np.ones(len(pos)), np.zeros(len(neg_scores))]
        tp, fp = np.sum(pos > t), np.sum(neg_scores > t)
        return {
            "True positive rate at a fixed threshold": tp / len(pos),
            "False positive rate at a fixed threshold": fp / len(neg_scores),
            "ROC-AUC": roc_auc_ranks(scores, labels),
            "Precision at a fixed threshold": tp / (tp + fp),
            "Average precision": average_precision(scores, labels),
        }

    before, after = metrics(neg), metrics(np.tile(neg, 10))
    unchanged = {k for k in before if math.isclose(before[k], after[k], rel_tol=1e-9)}
    c = card("class-ratio-select-all")
    assert set(before) == set(c.choices)
    assert {c.choices[i] for i in c.answer} == unchanged
    assert after["Average precision"] < before["Average precision"]
    # Above the top negative score no false positive exists, so precision stays 1 there.
    t_high = neg.max() + 1e-9
    assert np.sum(pos > t_high) > 0 and np.sum(np.tile(neg, 10) > t_high) == 0
    says(c, "Which are guaranteed to stay the same?",
         "that lets through at least one negative and one positive")
    # With no positive above the threshold, precision is 0 before and after: it does not fall.
    few_pos, few_neg = np.array([0.2, 0.3]), np.array([0.9, 0.1])
    for copies in (1, 10):
        negs = np.tile(few_neg, copies)
        tp, fp = np.sum(few_pos > 0.5), np.sum(negs > 0.5)
        assert tp == 0 and fp == copies and tp / (tp + fp) == 0


def test_random_scores_baselines():
    rng = np.random.default_rng(2)
    for rate, cid, phrase in ((0.02, "random-baseline-mcq", None), (0.01, "pr-curve-baseline", "0.01 with 1% positives"),
                              (0.5, "pr-curve-baseline", "0.5 for balanced data")):
        labels = (rng.random(200_000) < rate).astype(int)
        scores = rng.random(200_000)
        assert roc_auc_ranks(scores, labels) == pytest.approx(0.5, abs=0.03)  # ± 4 standard errors
        assert average_precision(scores, labels) == pytest.approx(rate, rel=0.2)
        if phrase:
            says(card(cid), phrase)
    assert key(card("random-baseline-mcq")) == "ROC-AUC ≈ 0.5, average precision ≈ 0.02"
    says(card("random-baseline-mcq"), "2% of a test set", "0.98 is the share of negatives")


def test_pr_more_informative_numbers():
    c = card("pr-more-informative")
    says(c, "100 positives and 100,000 negatives", "TPR 0.9 at FPR 0.01")
    tp, fp = 0.9 * 100, 0.01 * 100_000
    says(c, f"{fp:.0f} false positives against {tp:.0f} true", f"{tp:.0f}/{tp + fp:.0f} ≈ {tp / (tp + fp):.3f}")
    assert fp / (tp + fp) == pytest.approx(11 / 12, abs=0.001)  # "11 of 12 alerts are wrong"


def test_average_precision_is_stepwise_and_the_trapezoid_can_overstate():
    # One positive first, then a tie of one positive and three negatives: the PR curve has
    # the points (0.5, 1) and (1, 0.4). A straight line between them (the trapezoid rule)
    # lies above the step-wise sum, the optimism Davis & Goadrich warn about.
    scores, labels = [0.9, 0.5, 0.5, 0.5, 0.5], [1, 1, 0, 0, 0]
    ap = average_precision(scores, labels)
    assert ap == pytest.approx(0.5 * 1 + 0.5 * 0.4)
    trapezoid = 0.5 * 1 + 0.5 * (1 + 0.4) / 2  # from (0, 1) to (0.5, 1) to (1, 0.4)
    assert trapezoid > ap
    says(card("average-precision"), "AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ", "can be too optimistic")


def test_cost_threshold():
    c = card("decision-threshold")
    says(c, "9 times")
    c_fp, c_fn = 1.0, 9.0
    grid = np.linspace(0, 1, 100_001)
    # Flag exactly when flagging costs less in expectation: find where the costs cross.
    cross = grid[np.argmin(np.abs(grid * c_fn - (1 - grid) * c_fp))]
    assert cross == pytest.approx(0.1, abs=1e-4)
    says(c, "1/(1 + 9) = 0.1")
    says(card("cost-threshold-formula"), "a miss costing 9 times a false alarm gives 0.1")
    equal = grid[np.argmin(np.abs(grid * 1.0 - (1 - grid) * 1.0))]
    assert equal == pytest.approx(0.5, abs=1e-4)
    says(card("cost-threshold-formula"), "Equal costs give 0.5")


# -- calibration and scores -------------------------------------------------------------------


def test_ece_worked_flashcard():
    c = card("ece-worked")
    says(c, "100 predictions: 40 with mean confidence 0.7 and accuracy 0.65",
         "60 with mean confidence 0.9 and accuracy 0.8")
    conf, corr = bin_samples([(40, 0.7, 0.65), (60, 0.9, 0.8)])
    e = ece(conf, corr)
    assert e == pytest.approx(0.08)
    says(c, f"= 0.02 + 0.06 = {e:.2f}", "Guo et al. use 15")


def test_ece_mcq_and_its_distractors():
    c = card("ece-mcq")
    spec = [(40, 0.6, 0.7), (160, 0.95, 0.75)]
    says(c, "40 with mean confidence 0.6 and accuracy 0.7", "160 with mean confidence 0.95 and accuracy 0.75")
    conf, corr = bin_samples(spec)
    keyed_value(c, ece(conf, corr), 3)
    offers(c, abs(np.mean(conf) - np.mean(corr)), 3)  # global gap: the bins cancel
    gaps = [abs(a - cf) for _, cf, a in spec]
    offers(c, sum(gaps) / 2, 3)  # unweighted
    offers(c, max(gaps), 3)  # MCE
    says(c, f"({np.mean(conf):g})", f"({np.mean(corr):g})")


def test_temperature_scaling_numbers_and_statements():
    c = card("temperature-scaling")
    says(c, f"σ(2) ≈ {softmax([2, 0])[0]:.3f}", f"σ(1) ≈ {softmax(np.array([2, 0]) / 2)[0]:.3f}")
    rng = np.random.default_rng(3)
    for _ in range(100):
        z, t = rng.normal(0, 3, 10), rng.uniform(1.01, 5)
        assert np.argmax(softmax(z / t)) == np.argmax(softmax(z))
        assert softmax(z / t).max() < softmax(z).max()
    s = card("temperature-scaling-select-all")
    right = {s.choices[i] for i in s.answer}
    assert any("unchanged" in x for x in right) and any("T > 1" in x for x in right)
    assert not any("raises top-1 accuracy" in x or "training set" in x for x in right)


def test_brier_and_log_loss():
    p, y = [0.9, 0.6, 0.2, 0.7], [1, 0, 0, 1]
    brier = sum((a - b) ** 2 for a, b in zip(p, y)) / 4
    # Brier's own score sums over both classes: twice the binary one.
    brier_two_class = sum((a - b) ** 2 + ((1 - a) - (1 - b)) ** 2 for a, b in zip(p, y)) / 4
    assert brier_two_class == pytest.approx(2 * brier)
    # The worst forecast (probability 1 on the wrong class) scores 2 on Brier's two-class sum
    # and 1 on the one-class mean; a perfect one scores 0 on both.
    assert (0 - 1) ** 2 + (1 - 0) ** 2 == 2 and (0 - 1) ** 2 == 1
    says(card("brier-score"), "runs from 0 to 2", "from 0 to 1")
    says(card("brier-score"), "0.9, 0.6, 0.2, 0.7 with outcomes 1, 0, 0, 1",
         "(0.01 + 0.36 + 0.04 + 0.09)/4 = 0.5/4 = " + f"{brier:g}")
    ll = -sum(math.log(a if b else 1 - a) for a, b in zip(p, y)) / 4
    c = card("log-loss")
    says(c, "0.9, 0.6, 0.2, 0.7 with outcomes 1, 0, 0, 1", f"≈ {ll:.3f} nats")
    says(c, f"−ln 0.01 ≈ {-math.log(0.01):.2f}", f"(1 − 0.01)² ≈ {(1 - 0.01) ** 2:.2f}")


def test_expected_brier_is_minimized_at_the_true_probability():
    for q in (0.1, 0.35, 0.8):
        ps = np.linspace(0, 1, 10_001)
        expected = q * (1 - ps) ** 2 + (1 - q) * ps**2
        assert ps[np.argmin(expected)] == pytest.approx(q, abs=1e-4)
        assert np.allclose(expected, (ps - q) ** 2 + q * (1 - q))
    says(card("expected-brier-formula"), "(p − q)² + q(1 − q)")


def test_murphy_decomposition_of_the_brier_score():
    # Brier = reliability − resolution + uncertainty, for forecasts taking a few values.
    rng = np.random.default_rng(8)
    f = rng.choice([0.1, 0.4, 0.7, 0.9], 5000)
    y = (rng.random(5000) < np.clip(f + 0.1, 0, 1)).astype(float)  # slightly miscalibrated
    base = y.mean()
    rel = res = 0.0
    for v in np.unique(f):
        m = f == v
        rel += m.mean() * (v - y[m].mean()) ** 2
        res += m.mean() * (y[m].mean() - base) ** 2
    assert np.mean((f - y) ** 2) == pytest.approx(rel - res + base * (1 - base))
    says(card("calibration-not-enough"), "Brier = reliability − resolution + uncertainty")
    # Always forecasting the base rate: reliability 0 (calibrated) and resolution 0.
    g = np.full_like(y, base)
    assert np.mean((g - y) ** 2) == pytest.approx(base * (1 - base))


# -- perplexity ------------------------------------------------------------------------------


def test_perplexity_worked():
    c = card("perplexity-worked")
    probs = [0.5, 0.25, 0.125, 0.5]
    says(c, "0.5, 0.25, 0.125 and 0.5")
    bits = [-math.log2(q) for q in probs]
    nats = sum(-math.log(q) for q in probs) / 4
    pp = math.prod(probs) ** (-1 / 4)
    assert pp == pytest.approx(math.exp(nats)) == pytest.approx(2 ** (sum(bits) / 4))
    says(c, "1, 2, 3, 1 bits", f"mean {sum(bits) / 4:g} bits", f"≈ {nats:.3f} nats",
         f"2^1.75 = e^{nats:.3f} ≈ {pp:.2f}", f"about {pp:.1f} tokens")


def test_uniform_model_has_perplexity_v():
    for v in (2, 50, 1000):
        assert math.exp(-math.log(1 / v)) == pytest.approx(v)
    says(card("perplexity-definition"), "uniform over V tokens has perplexity V")


def test_perplexity_mcq():
    c = card("perplexity-mcq")
    says(c, "3.0 nats per token")
    h = 3.0
    keyed_value(c, math.exp(h), 1)
    offers(c, 2**h, 1)  # nats read as bits
    offers(c, h / math.log(2), 2)  # bits per token, not exponentiated
    offers(c, 10**h, 1)


def test_bits_per_byte():
    c = card("perplexity-tokenizer")
    says(c, "2.2 nats per token", "4 bytes per token")
    bits_per_token = 2.2 / math.log(2)
    says(c, f"≈ {bits_per_token:.2f} bits per token", f"≈ {bits_per_token / 4:.2f} bits per byte")


# -- ranking ---------------------------------------------------------------------------------


def test_precision_and_recall_at_k():
    c = card("precision-recall-at-k")
    says(c, "12 relevant documents; 3 of the top 6")
    ranking = [1, 0, 1, 0, 1, 0]
    says(c, f"3/6 = {sum(ranking) / 6:g}", f"3/12 = {sum(ranking) / 12:g}", f"1/6 ≈ {1 / 6:.2f}")


def test_average_precision_of_a_ranking():
    c = card("average-precision-map")
    says(c, "3 relevant documents, found at ranks 1, 3 and 6")
    ap = ap_of_ranking([1, 3, 6], 3)
    labels = [1, 0, 1, 0, 0, 1]
    assert ap == pytest.approx(average_precision([6, 5, 4, 3, 2, 1], labels))
    says(c, f"≈ {ap:.3f}")
    assert ap_of_ranking([1, 3], 3) < ap  # a relevant document never retrieved adds 0


def test_mrr_flashcard_and_mcq():
    says(card("mean-reciprocal-rank"), f"(0.5 + 1 + 0.25)/3 ≈ {(1 / 2 + 1 + 1 / 4) / 3:.3f}")
    c = card("mrr-mcq")
    first = [1, 2, None, 5]
    says(c, "rank 1, at rank 2, nowhere in the list, and at rank 5")
    rr = [1 / r if r else 0.0 for r in first]
    keyed_value(c, sum(rr) / 4, 3)
    hits = [r for r in first if r]
    offers(c, sum(1 / r for r in hits) / len(hits), 3)  # the miss left out
    offers(c, 1 / (sum(hits) / len(hits)), 3)  # one over the mean rank
    offers(c, sum(r == 1 for r in hits) / 4, 2)  # precision@1


def test_ndcg_worked():
    c = card("ndcg-worked")
    rels = [0, 3, 2]
    says(c, "graded relevance 0, 3, 2")
    says(c, f"0 + {3 / math.log2(3):.3f} + 1 ≈ {dcg(rels):.3f}",
         f"≈ 3 + {2 / math.log2(3):.3f} = {dcg([3, 2, 0]):.3f}",
         f"≈ {ndcg(rels):.3f}")


def test_ndcg_mcq():
    c = card("ndcg-mcq")
    rels = [2, 4, 0]
    says(c, "graded relevance 2, 4, 0")
    keyed_value(c, ndcg(rels), 2)
    offers(c, ndcg(rels, discount=lambda i: 1.0), 2)  # no discount
    offers(c, ndcg(rels, discount=lambda i: i), 2)  # reciprocal rank discount
    offers(c, dcg(rels), 2)  # not normalized
    says(c, f"≈ {dcg(rels):.3f}", f"≈ {dcg([4, 2, 0]):.3f}")


def test_ndcg_discount_factors():
    says(card("dcg-term-formula"),
         *(f"×{1 / math.log2(i + 1):.2g} at rank {i}" for i in (1, 2, 3)))


# -- regression ------------------------------------------------------------------------------


def test_regression_errors():
    c = card("regression-errors")
    y, yh = np.array([3, 5, 7, 9]), np.array([4, 5, 5, 10])
    says(c, "Targets 3, 5, 7, 9; predictions 4, 5, 5, 10")
    e = y - yh
    mse = float(np.mean(e**2))
    says(c, "Errors −1, 0, 2, −1", f"= {mse:g}", f"√1.5 ≈ {math.sqrt(mse):.2f}",
         f"MAE = (1 + 0 + 2 + 1)/4 = {float(np.mean(np.abs(e))):.1f}")
    # The best constant: the mean for squared error, the median for absolute error.
    data = [1.0, 2.0, 2.5, 9.0, 20.0]
    grid = np.linspace(0, 25, 25_001)
    assert grid[np.argmin([sum((d - g) ** 2 for d in data) for g in grid])] == pytest.approx(np.mean(data), abs=1e-3)
    assert grid[np.argmin([sum(abs(d - g) for d in data) for g in grid])] == pytest.approx(median(data), abs=1e-3)


def test_r_squared():
    c = card("r-squared")
    y, yh = np.array([2, 4, 6, 8, 10]), np.array([3, 4, 7, 7, 9])
    says(c, "targets 2, 4, 6, 8, 10 and predictions 3, 4, 7, 7, 9")
    ss_res, ss_tot = float(np.sum((y - yh) ** 2)), float(np.sum((y - y.mean()) ** 2))
    says(c, f"SS_res = {ss_res:g}", f"SS_tot = 16 + 4 + 0 + 4 + 16 = {ss_tot:g}",
         f"= {1 - ss_res / ss_tot:g}")
    assert 1 - np.sum((y - y.mean()) ** 2) / ss_tot == 0  # the mean scores 0
    worse = y.mean() + 3
    assert 1 - np.sum((y - worse) ** 2) / ss_tot < 0


# -- leakage and cross-validation -------------------------------------------------------------


def _one_nn_cv(x, y, folds, select_inside):
    errors = 0
    for k in range(len(folds)):
        test = folds[k]
        train = np.concatenate([folds[j] for j in range(len(folds)) if j != k])
        rows = train if select_inside else np.arange(len(y))
        xs, ys = x[rows], y[rows]
        corr = np.abs(((xs - xs.mean(0)) * (ys - ys.mean())[:, None]).sum(0))
        corr /= xs.std(0) * ys.std() * len(ys)
        keep = np.argsort(-corr)[:100]
        a, b = x[test][:, keep], x[train][:, keep]
        nearest = np.argmin(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), axis=1)
        errors += np.sum(y[train][nearest] != y[test])
    return errors / len(y)


def test_wrong_way_cross_validation_reproduces_hastie_et_al():
    c = card("cv-wrong-way")
    says(c, "50 samples and 5000 predictors", "true error 50%", "100 most correlated",
         "average CV error of 3%")
    rng = np.random.default_rng(4)
    wrong, right = [], []
    for _ in range(10):
        x = rng.standard_normal((50, 5000))
        y = np.repeat([0, 1], 25)
        folds = np.array_split(rng.permutation(50), 5)
        wrong.append(_one_nn_cv(x, y, folds, select_inside=False))
        right.append(_one_nn_cv(x, y, folds, select_inside=True))
    assert np.mean(wrong) < 0.1  # far below the true 50%: the labels leaked into selection
    assert np.mean(right) == pytest.approx(0.5, abs=0.1)


def test_five_fold_trains_on_80_percent():
    says(card("nested-cv-mcq"), "200 hyperparameter settings with 5-fold CV", "only 80% of the data")
    assert (5 - 1) / 5 == 0.8


def test_test_split_shares():
    says(card("test-set-once"), "50% training, 25% validation, 25% test")


# -- A/B tests and the bootstrap ----------------------------------------------------------------


def test_sample_size_worked():
    c = card("sample-size-worked")
    says(c, "10%", "rise to 12%", "α = 0.05 two-sided, power 80%")
    p1, p2 = 0.10, 0.12
    za, zb = Z.inv_cdf(0.975), Z.inv_cdf(0.8)
    var = p1 * (1 - p1) + p2 * (1 - p2)
    n = (za + zb) ** 2 * var / (p2 - p1) ** 2
    assert users_for_power(p1, p2) == pytest.approx(n, rel=1e-3)  # bisection on the power
    says(c, f"({za:.2f} + {zb:.2f})²", f"(0.09 + {p2 * (1 - p2):.4f})", f"≈ {(za + zb) ** 2:.2f}·{var:.4f}",
         f"≈ {round(n, -1):,.0f} per arm")
    thumb = 16 * p1 * (1 - p1) / (p2 - p1) ** 2
    says(c, f"= {thumb:,.0f}")
    # Why the shortcut is lower: it uses the control's variance for both arms.
    both_control = (za + zb) ** 2 * 2 * p1 * (1 - p1) / (p2 - p1) ** 2
    assert both_control < n and p2 * (1 - p2) > p1 * (1 - p1)
    assert thumb == pytest.approx(both_control, rel=0.03)  # 16 vs 2·2.8² ≈ 15.7
    says(c, "2·(1.96 + 0.84)² ≈ 16", "treatment's slightly larger")
    assert 2 * (za + zb) ** 2 == pytest.approx(15.7, abs=0.05)  # the "16" of 16σ²/δ²
    says(card("sample-size-formula"), "(za + zb)²·2 ≈ 15.7", "za = 1.96 and zb = 0.84")


def test_halving_the_effect_quadruples_n():
    c = card("halve-effect-mcq")
    n = lambda d: users_for_power(0.2, 0.2 + d)  # noqa: E731
    ratio = n(0.005) / n(0.01)
    assert ratio == pytest.approx(4, rel=0.01)
    assert key(c) == "×4"
    # Each distractor is the factor for n ∝ 1/δ^k with the exponent its explanation names.
    for choice, k in (("×2", 1), ("×√2", 0.5), ("×8", 3)):
        assert choice in c.choices
        says(c, f"{choice} would hold if" if k == 1 else f"{choice} if it grew as")
        assert 2**k == pytest.approx({"×2": 2, "×√2": math.sqrt(2), "×8": 8}[choice])
    says(c, "1/δ,", "1/√δ,", "1/δ³")


def test_multiple_comparisons():
    c = card("many-metrics-mcq")
    says(c, "20 independent metrics", "α = 0.05")
    rng = np.random.default_rng(5)
    sims = rng.random((200_000, 20)) < 0.05  # p-values are uniform under the null
    any_sig = sims.any(axis=1).mean()
    assert any_sig == pytest.approx(1 - 0.95**20, abs=0.005)
    keyed_value(c, 1 - 0.95**20, 2)
    offers(c, 0.05, 2)
    offers(c, 20 * 0.05, 2)
    offers(c, 0.95**20, 2)
    flash = card("multiple-comparisons")
    says(flash, f"1 − 0.95¹⁰ ≈ {1 - 0.95**10:.2f}", f"(here {0.05 / 10:g})", "10 metrics")


def test_bonferroni_bounds_the_family_wise_error_even_for_correlated_metrics():
    rng = np.random.default_rng(9)
    m, alpha, runs = 10, 0.05, 100_000
    shared = rng.standard_normal((runs, 1))
    z = (0.7 * shared + math.sqrt(1 - 0.49) * rng.standard_normal((runs, m)))  # correlated nulls
    crit = Z.inv_cdf(1 - alpha / m / 2)
    fwer = (np.abs(z) > crit).any(axis=1).mean()
    assert fwer <= alpha + 0.003
    independent = 1 - (1 - alpha / m) ** m
    assert independent <= alpha
    says(card("multiple-comparisons"), "m·(α/m) = α", "even when the metrics are correlated")


def test_p_value_is_a_tail_probability_under_the_null():
    # A/A tests: the share whose |z| reaches the |z| of p = 0.03 is about 3%, whatever the
    # truth of any particular test; nothing here is the probability that the null is true.
    rng = np.random.default_rng(10)
    z_obs = Z.inv_cdf(1 - 0.03 / 2)
    null_z = rng.standard_normal(400_000)
    assert np.mean(np.abs(null_z) >= z_obs) == pytest.approx(0.03, abs=0.002)
    c = card("p-value-mcq")
    says(c, "p = 0.03", "about 3% of the time")
    # The chance that a repeat is significant depends on the true effect: under the null it
    # is α, far from the 97% the distractor claims.
    assert np.mean(np.abs(null_z) > Z.inv_cdf(0.975)) == pytest.approx(0.05, abs=0.002)


def test_peeking_inflates_false_positives():
    # An A/A test looked at after every batch and stopped at the first p < 0.05.
    rng = np.random.default_rng(6)
    runs, looks, batch = 2000, 20, 50
    a = rng.standard_normal((runs, looks * batch)).cumsum(axis=1)[:, batch - 1 :: batch]
    b = rng.standard_normal((runs, looks * batch)).cumsum(axis=1)[:, batch - 1 :: batch]
    n = np.arange(1, looks + 1) * batch
    z = (a - b) / n / np.sqrt(2 / n)
    stopped = (np.abs(z) > Z.inv_cdf(0.975)).any(axis=1).mean()
    once = (np.abs(z[:, -1]) > Z.inv_cdf(0.975)).mean()
    assert once == pytest.approx(0.05, abs=0.015) and stopped > 0.15
    says(card("peeking"), "far higher than 5%")


def test_bootstrap_unique_fraction():
    assert 1 - (1 - 1 / 10_000) ** 10_000 == pytest.approx(1 - math.exp(-1), abs=1e-4)
    rng = np.random.default_rng(7)
    n = 5000
    unique = np.mean([len(np.unique(rng.integers(0, n, n))) / n for _ in range(20)])
    assert unique == pytest.approx(0.632, abs=0.005)
    says(card("bootstrap-ci"), f"≈ {100 * (1 - math.exp(-1)):.1f}% of the distinct items")
    c = card("bootstrap-select-all")
    says(c, f"1 − 1/e ≈ {100 * (1 - math.exp(-1)):.1f}%")
    assert {c.choices[i] for i in c.answer} == {
        "Each resample draws n items with replacement from the n test items",
        "The 2.5th and 97.5th percentiles of the resampled metric give a 95% interval",
    }


# -- text generation and LLMs --------------------------------------------------------------------


def test_bleu_clipping_mcq():
    c = card("bleu-clipping-mcq")
    cand, ref = "the the the cat", "the cat sat on the mat"
    says(c, f'Candidate "{cand}", reference "{ref}"')
    keyed_value(c, modified_precision(cand, [ref]), 2)
    words = cand.split()
    offers(c, sum(w in ref.split() for w in words) / len(words), 2)  # unclipped
    offers(c, modified_precision(cand, [ref]) * len(words) / len(ref.split()), 2)  # recall-like
    offers(c, 1 / len(words), 2)  # "cat" only


def test_bleu_brevity_penalty_direction():
    bp = lambda c, r: 1.0 if c > r else math.exp(1 - r / c)  # noqa: E731
    assert bp(12, 10) == 1.0 and bp(5, 10) == pytest.approx(math.exp(-1))
    says(card("bleu"), "BP = 1 if the candidate length c > reference length r", "e^(1 − r/c)")


def test_pass_at_k():
    c = card("pass-at-k")
    says(c, "n = 10 samples of which c = 3")
    n, k_correct = 10, 3
    p1, p5 = pass_at_k_enumerated(n, k_correct, 1), pass_at_k_enumerated(n, k_correct, 5)
    assert p5 == pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5))
    says(c, f"pass@1 = 1 − 7/10 = {p1:g}",
         f"1 − {math.comb(7, 5)}/{math.comb(10, 5)} ≈ {p5:.3f}")
    # The plug-in 1 − (1 − c/n)^k differs from the unbiased value here.
    assert 1 - (1 - k_correct / n) ** 5 != pytest.approx(p5, abs=1e-3)


# -- formula cards --------------------------------------------------------------------------------


def _harmonic(env):
    return 2 / (1 / env["P"] + 1 / env["R"])


def _fbeta(env):
    a = 1 / (1 + env["beta"] ** 2)  # weight on precision in van Rijsbergen's E
    return 1 / (a / env["P"] + (1 - a) / env["R"])


def _perplexity(env):
    nll = [-math.log(env[k]) for k in ("p1", "p2", "p3")]
    return math.exp(sum(nll) / 3)


def _dcg_term(env):
    return env["r"] / math.log2(env["i"] + 1)


def _expected_brier(env):
    p, q = env["p"], env["q"]
    return sum(prob * (p - y) ** 2 for y, prob in ((1, q), (0, 1 - q)))


def _users_per_arm(env):
    # n for which a z-test of two proportions with variance p(1 − p) per user reaches the
    # power whose quantile is zb, at the α whose half-quantile is za: solved by bisection.
    za, zb, p, d = env["za"], env["zb"], env["p"], env["d"]
    target = Z.cdf(zb)
    lo, hi = 1e-6, 1e12
    for _ in range(300):
        mid = math.sqrt(lo * hi)
        power = Z.cdf(d / math.sqrt(2 * p * (1 - p) / mid) - za)
        lo, hi = (mid, hi) if power < target else (lo, mid)
    return hi


def _cost_threshold(env):
    cfp, cfn = env["cfp"], env["cfn"]
    lo, hi = 0.0, 1.0
    for _ in range(100):  # where the expected costs of the two decisions are equal
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mid * cfn < (1 - mid) * cfp else (lo, mid)
    return lo


REFERENCES = {
    "f1-formula": _harmonic,
    "f-beta-formula": _fbeta,
    "perplexity-formula": _perplexity,
    "dcg-term-formula": _dcg_term,
    "expected-brier-formula": _expected_brier,
    "sample-size-formula": _users_per_arm,
    "cost-threshold-formula": _cost_threshold,
}

# What a candidate might type, other than the card's own form: all right.
NOTATIONS = {
    "f1-formula": ["2*P*R/(P+R)", "2/(1/P + 1/R)", "2PR/(R+P)"],
    "f-beta-formula": ["(1+beta^2)*P*R/(beta^2*P+R)", "(1 + β²)·P·R/(β²·P + R)",
                       "1/((1/(1+β²))/P + (β²/(1+β²))/R)"],
    "perplexity-formula": ["exp(-(log(p1)+log(p2)+log(p3))/3)", "1/(p1 p2 p3)^(1/3)",
                           "(p1*p2*p3)^(-1/3)"],
    "dcg-term-formula": ["r/(log(i+1)/log(2))", "r*ln(2)/ln(i+1)"],
    "expected-brier-formula": ["q*(1-p)^2 + (1-q)*p^2", "(p-q)^2 + q(1-q)", "p² − 2pq + q"],
    "sample-size-formula": ["2(za+zb)^2 p(1-p)/d^2", "(za + zb)²·2·p·(1 − p)/d²"],
    "cost-threshold-formula": ["cfp/(cfn+cfp)", "1/(1 + cfn/cfp)"],
}


def test_every_formula_card_has_a_reference_and_notations():
    ids = {c.id for c in formula_cards(deck())}
    assert ids == set(REFERENCES) == set(NOTATIONS)
    for c in formula_cards(deck()):
        assert c.source and c.explanation and c.mistakes and "formulas" in c.tags, c.id


@pytest.mark.parametrize("cid", sorted(REFERENCES))
def test_formula_answer_matches_an_independent_reference(cid):
    c = card(cid)
    answer = read_formula(c.answer, c.variables)
    rng = random.Random(cid)
    for _ in range(8):
        env = {name: rng.uniform(*c.range_of(name)) for name in c.variables}
        got, want = evaluate(answer.tree, env), REFERENCES[cid](env)
        assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9), (cid, env, got, want)


@pytest.mark.parametrize("cid", sorted(REFERENCES))
def test_formula_answer_and_notations_accepted_and_mistakes_named(cid):
    c = card(cid)
    rng = random.Random(1)
    assert grade_formula(c, c.answer, rng).correct
    assert_accepted(c, NOTATIONS[cid], rng)
    assert_mistakes_listed(c, rng)


# -- second fact-check pass: claims that had no computation behind them ----------------------------


def test_auc_is_unchanged_by_a_strictly_increasing_transform():
    c = card("roc-auc-probability")
    says(c, "ties count one half", "any strictly increasing change of the scores leaves it unchanged")
    rng = np.random.default_rng(11)
    scores = np.round(rng.normal(0, 1, 300), 1)  # rounding makes ties
    labels = (rng.random(300) < 0.3 + 0.2 * (scores > 0)).astype(int)
    auc = roc_auc_pairs(scores[labels == 1], scores[labels == 0])  # ties count ½
    for g in (np.exp, lambda x: x**3 + x, lambda x: 1 / (1 + np.exp(-5 * x))):
        t = g(scores)
        assert roc_auc_pairs(t[labels == 1], t[labels == 0]) == pytest.approx(auc)


def test_base_rate_forecaster_has_zero_ece():
    says(card("ece-worked"), "always predicts the base rate can have ECE 0")
    # 70% positives; the model says P(positive) = 0.7 for every item, so it predicts the
    # positive class with confidence 0.7 and is right 70% of the time.
    y = np.array([1] * 70 + [0] * 30)
    confidence, correct = np.full(100, 0.7), (y == 1)
    assert ece(confidence, correct) == pytest.approx(0.0)
    assert ece(confidence, correct, n_bins=10) == pytest.approx(0.0)


def test_no_binary_brier_term_exceeds_one():
    says(card("log-loss"), "(1 − 0.01)² ≈ 0.98", "no Brier term exceeds 1")
    grid = np.linspace(0, 1, 1001)
    assert max(np.max((grid - 1) ** 2), np.max(grid**2)) == 1.0
    assert -math.log(0.01) > 4 * (1 - 0.01) ** 2  # the log-loss term is far larger


def test_sixteen_sigma_squared_rule_is_per_arm():
    # n = 16σ²/δ² users in EACH arm gives about 80% power at α = 0.05; the same n split over
    # both arms (n/2 each) gives only about 50%.
    c = card("sample-size-worked")
    says(c, "Eq. 17.8", "size of each arm", "the book's sentence calls it the total")
    says(card("sample-size-formula"), "n ≈ 16σ²/δ² users per arm")
    sigma2, delta = 0.1 * 0.9, 0.02
    n = 16 * sigma2 / delta**2

    def power(per_arm):
        return Z.cdf(delta / math.sqrt(2 * sigma2 / per_arm) - Z.inv_cdf(0.975))

    assert power(n) == pytest.approx(0.8, abs=0.01)
    assert power(n / 2) == pytest.approx(0.5, abs=0.02)
    # The same by simulation of per-user Bernoulli outcomes, n per arm.
    rng = np.random.default_rng(12)
    m = int(n)
    a = rng.binomial(m, 0.10, 4000) / m
    b = rng.binomial(m, 0.10 + delta, 4000) / m
    se = np.sqrt(a * (1 - a) / m + b * (1 - b) / m)
    assert np.mean(np.abs(b - a) / se > Z.inv_cdf(0.975)) == pytest.approx(0.8, abs=0.04)


def test_roc_dominance_carries_to_pr_but_pr_points_do_not_join_linearly():
    says(card("roc-pr-dominance"), "one curve dominates another in ROC space if and only if",
         "false positives replace false negatives", "can greatly overstate")
    P, N = 10, 100
    # Same TPR (recall), lower FPR: fewer false positives, so higher precision.
    for tpr in (0.3, 0.7, 1.0):
        prec = [tpr * P / (tpr * P + fpr * N) for fpr in (0.05, 0.2)]
        assert prec[0] > prec[1]
    # Between ROC points A (TP 5, FP 0) and B (TP 10, FP 30), TP and FP grow together; the
    # precision reached at recall 0.75 lies far below the straight PR line from A to B.
    (ta, fa), (tb, fb) = (5, 0), (10, 30)
    t = 0.5
    tp, fp = ta + t * (tb - ta), fa + t * (fb - fa)
    true_prec = tp / (tp + fp)
    line = (ta / (ta + fa) + tb / (tb + fb)) / 2
    assert tp / P == 0.75 and true_prec == pytest.approx(1 / 3) and line == pytest.approx(0.625)


def test_r2_is_a_squared_correlation_only_in_sample():
    says(card("negative-r2-mcq"), "R² = −0.3", "least-squares linear fit with an intercept",
         "scored on its own training data")
    rng = np.random.default_rng(13)
    x = rng.normal(0, 1, 40)
    y = 2 * x + rng.normal(0, 1, 40)
    slope, intercept = np.polyfit(x, y, 1)
    fit = slope * x + intercept
    r2 = 1 - np.sum((y - fit) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2)
    # On new data whose relation flipped, the same model is worse than the test mean: R² < 0,
    # while the squared correlation between predictions and targets is still positive.
    xt = rng.normal(0, 1, 40)
    yt = -2 * xt + rng.normal(0, 1, 40)
    pred = slope * xt + intercept
    r2_test = 1 - np.sum((yt - pred) ** 2) / np.sum((yt - yt.mean()) ** 2)
    assert r2_test < 0 and np.corrcoef(pred, yt)[0, 1] ** 2 > 0


def test_best_of_many_noisy_cv_scores_is_optimistic():
    says(card("nested-cv-mcq"), "200 hyperparameter settings", "best of many noisy estimates")
    says(card("nested-cv"), "The best of many CV scores is biased upward")
    # 200 settings that are all truly 0.80 accurate; each CV estimate carries noise (sd 0.02).
    rng = np.random.default_rng(14)
    best = (0.80 + 0.02 * rng.standard_normal((2000, 200))).max(axis=1)
    assert best.mean() == pytest.approx(0.80 + 0.02 * 2.75, abs=0.003)  # E[max of 200 N(0,1)] ≈ 2.75
    assert np.mean(best > 0.80) == 1.0


def test_pr_baseline_story_for_an_ap_of_0_3():
    says(card("pr-curve-baseline"), "average precision of 0.3 can be poor on balanced data",
         "strong at 1% positives")
    assert 0.3 < 0.5 and 0.3 / 0.01 == pytest.approx(30)  # below one baseline, 30× the other


def test_jarvelin_kekalainen_discount_leaves_the_top_ranks_undiscounted():
    says(card("ndcg-why-discount"), "to a base b, often 2, with no discount before rank b")

    def jk_dcg(rels, b=2):
        return sum(r if i < b else r / math.log(i, b) for i, r in enumerate(rels, 1))

    assert jk_dcg([3, 3, 0]) == 6  # rank 1 (i < b) and rank 2 (log₂ 2 = 1) both count fully
    assert jk_dcg([0, 0, 3]) == pytest.approx(3 / math.log2(3))
    assert dcg([3, 3, 0]) < jk_dcg([3, 3, 0])  # log₂(i + 1) already discounts rank 2
