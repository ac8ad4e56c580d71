"""The numbers the classical-ml deck states, recomputed independently of the card text.

Each test reads a card and checks what it claims (its key, the stories of its distractors,
its worked values) against a computation written here from the definitions: a grid search
for an argmin or argmax, a finite difference for a gradient, numpy's SVD or lstsq for a
linear-algebra fact, a count for an impurity. Never against the card itself.
"""

from __future__ import annotations

import heapq
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest
from deck_ref import assert_choices, deck_file, formula_cards, num

from quizforge.decks.formula import grade_formula, read_formula
from quizforge.decks.lint import deck_warnings
from quizforge.decks.model import MCQ, Flashcard, FormulaCard
from quizforge.drill.parse import evaluate

PATH = Path(__file__).resolve().parent.parent / "decks" / "classical-ml.yaml"
LN2 = math.log(2)


deck, card = deck_file(PATH, strict=True)


def nums(text: str) -> list[float]:
    """Every number in `text`, reading '−' (U+2212) as a minus sign."""
    found = re.findall(r"[−-]?\d+(?:\.\d+)?", text.replace("≈", ""))
    return [float(x.replace("−", "-")) for x in found]


def flat(text: str) -> str:
    """`text` with every run of whitespace as one space (YAML folds long lines)."""
    return " ".join(text.split())


def choice_values(c: MCQ) -> set[float]:
    return {num(ch) for ch in c.choices}


def argmin_on_grid(f, lo: float, hi: float, n: int = 200_001) -> float:
    xs = np.linspace(lo, hi, n)
    return float(xs[np.argmin(f(xs))])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def entropy(p, base=math.e) -> float:
    return -sum(x * math.log(x, base) for x in p if x > 0)


def kl(p, q, base=math.e) -> float:
    return sum(a * math.log(a / b, base) for a, b in zip(p, q) if a > 0)


# -- the deck as a whole ---------------------------------------------------------------------


def test_deck_parses_cleanly_with_the_minimum_counts():
    d = deck()
    mcqs = [c for c in d.cards if isinstance(c, MCQ)]
    formulas = [c for c in d.cards if isinstance(c, FormulaCard)]
    flash = [c for c in d.cards if isinstance(c, Flashcard)]
    assert len(d.cards) >= 55
    assert len(mcqs) >= 16 and sum(c.multi for c in mcqs) >= 4
    assert len(formulas) >= 5
    assert len(flash) + len(mcqs) + len(formulas) == len(d.cards)
    assert deck_warnings(d) == []
    assert len({c.id for c in d.cards}) == len(d.cards)


def test_every_source_names_a_listed_reference():
    header = PATH.read_text(encoding="utf-8").split("\ndeck:")[0]
    refs = header.split("References")[1]
    # The first word of each "# - Author ..." entry: Bishop, Hastie, ..., scikit-learn.
    authors = set(re.findall(r"^# - ([\w-]+)", refs, flags=re.MULTILINE))
    assert {"Bishop", "Hastie", "Murphy", "Cover", "Breiman", "scikit-learn"} <= authors
    for c in deck().cards:
        assert c.source, c.id
        assert any(a in c.source for a in authors), (c.id, c.source)


def test_select_all_cards_vary_the_number_right():
    multi = [c for c in deck().cards if isinstance(c, MCQ) and c.multi]
    assert {len(c.answer) for c in multi} >= {1, 2, 3, 4}


# -- bias and variance -----------------------------------------------------------------------


def test_bias_variance_sum_mcq():
    noise, bias, var = 0.5, 0.3, 0.2
    c = card("bias-variance-sum-mcq")
    assert "noise variance is 0.5, the bias of the model is 0.3" in c.question
    assert_choices(c, noise + bias**2 + var,
                   [noise + bias + var, bias**2 + var, noise + var], 2)


def test_bias_variance_decomposition_by_simulation():
    # Fit a constant (the training mean) to y = f + ε: the Monte Carlo error at x matches
    # noise + bias² + variance, the card's decomposition.
    rng = np.random.default_rng(0)
    f, sigma, n, shrink = 2.0, 1.0, 5, 0.5  # a shrunk mean has a bias
    fits = shrink * (f + sigma * rng.standard_normal((200_000, n))).mean(axis=1)
    y = f + sigma * rng.standard_normal(fits.size)
    err = np.mean((y - fits) ** 2)
    bias2 = (shrink * f - f) ** 2
    var = shrink**2 * sigma**2 / n
    assert err == pytest.approx(sigma**2 + bias2 + var, rel=0.01)


def test_knn_variance_is_sigma2_over_k_with_fixed_inputs():
    # Fixed training inputs, fresh label noise each draw: the k-NN prediction at x₀ averages
    # k noisy labels, so its variance is σ²/k, σ² itself for k = 1.
    rng = np.random.default_rng(12)
    x = np.sort(rng.random(40))
    f, sigma, x0 = np.sin(6 * x), 0.5, 0.37
    order = np.argsort(np.abs(x - x0))
    y = f + sigma * rng.standard_normal((100_000, x.size))
    for k in (1, 4, 10):
        preds = y[:, order[:k]].mean(axis=1)
        assert preds.var() == pytest.approx(sigma**2 / k, rel=0.03)
        assert preds.mean() == pytest.approx(f[order[:k]].mean(), abs=0.01)  # the bias term
    back = flat(card("knn-bias-variance").back)
    assert "σ²/k" in back and "highest variance, σ²" in back and "training inputs held fixed" in back


# -- MLE and MAP -----------------------------------------------------------------------------


def beta_mode_on_grid(heads: int, flips: int, a: float, b: float) -> float:
    theta = np.linspace(1e-6, 1 - 1e-6, 400_001)
    log_post = (heads + a - 1) * np.log(theta) + (flips - heads + b - 1) * np.log1p(-theta)
    return float(theta[np.argmax(log_post)])


def beta_posterior_mean(heads: int, flips: int, a: float, b: float) -> float:
    theta = np.linspace(1e-9, 1 - 1e-9, 400_001)
    w = theta ** (heads + a - 1) * (1 - theta) ** (flips - heads + b - 1)
    return float((theta * w).sum() / w.sum())


def test_coin_mle_and_map_worked():
    assert beta_mode_on_grid(7, 10, 1, 1) == pytest.approx(0.7, abs=1e-5)  # flat prior: MLE
    assert "θ = 7/10 = 0.7" in card("mle-coin-worked").back
    assert beta_mode_on_grid(3, 3, 1, 1) == pytest.approx(1, abs=1e-5)  # 3 heads in 3 flips
    assert "3 heads in 3 flips" in card("mle-coin-worked").back
    back = card("map-beta-coin-worked").back
    mode, mean = beta_mode_on_grid(7, 10, 3, 3), beta_posterior_mean(7, 10, 3, 3)
    assert mode == pytest.approx(9 / 14, abs=1e-5) and mean == pytest.approx(10 / 16, abs=1e-6)
    assert f"9/14 ≈ {mode:.3f}" in back and f"10/16 = {mean:.3f}" in back
    assert "Beta(10, 6)" in back


def test_coin_map_mcq():
    c = card("map-beta-coin-mcq")
    assert "3 heads in 4 flips" in c.question and "Beta(5, 5)" in c.question
    assert_choices(c, beta_mode_on_grid(3, 4, 5, 5),
                   [3 / 4, beta_posterior_mean(3, 4, 5, 5), 0.5], 3)


def test_gaussian_prior_map_is_ridge_with_lambda_sigma2_over_tau2():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    sigma2, tau2 = 0.7, 0.2
    # Posterior of a Gaussian prior and likelihood: precision XᵀX/σ² + I/τ².
    post_mean = np.linalg.solve(X.T @ X / sigma2 + np.eye(3) / tau2, X.T @ y / sigma2)
    lam = sigma2 / tau2
    ridge = np.linalg.solve(X.T @ X + lam * np.eye(3), X.T @ y)
    assert np.allclose(post_mean, ridge)
    assert "λ = σ²/τ²" in card("map-gaussian-prior-ridge").back


def test_laplace_prior_map_is_lasso_with_lambda_2sigma2_over_b():
    sigma2, b, y = 0.5, 0.4, 1.7  # one weight, one observation with x = 1
    neg_log_post = argmin_on_grid(lambda w: (y - w) ** 2 / (2 * sigma2) + np.abs(w) / b, -3, 3)
    lam = 2 * sigma2 / b
    lasso = argmin_on_grid(lambda w: (y - w) ** 2 + lam * np.abs(w), -3, 3)
    assert neg_log_post == pytest.approx(lasso, abs=1e-4)
    assert "λ = 2σ²/b" in card("map-laplace-prior-lasso").back


def test_laplace_noise_mle_is_least_absolute_deviations():
    # The explanation of map-laplace-mcq: Laplace noise on y gives −log L = Σ|yᵢ − c|/b + const,
    # whose minimizer (one location parameter) is the median, not the least-squares mean.
    y, b = np.array([0.3, 1.1, 1.4, 2.0, 9.0]), 0.7
    def nll(c):
        return (np.abs(y[:, None] - c) / b + np.log(2 * b)).sum(0)
    assert argmin_on_grid(nll, -5, 15) == pytest.approx(np.median(y), abs=1e-3)
    assert argmin_on_grid(lambda c: ((y[:, None] - c) ** 2).sum(0), -5, 15) == pytest.approx(
        y.mean(), abs=1e-3)
    assert "Σ|yᵢ − wᵀxᵢ|/b" in flat(card("map-laplace-mcq").explanation)


def test_beta_map_formula_against_a_grid_argmax():
    c = card("beta-map-formula")
    tree = read_formula(c.answer, c.variables).tree
    for h, n, a, b in [(7, 10, 3, 3), (3, 4, 5, 5), (0, 12, 2, 4.5), (9, 15, 1.5, 1.2)]:
        value = evaluate(tree, {"h": h, "n": n, "a": a, "b": b})
        assert value == pytest.approx(beta_mode_on_grid(h, n, a, b), abs=1e-5)


# -- information theory ----------------------------------------------------------------------


def test_entropy_worked():
    back = card("entropy-worked").back
    assert entropy([0.5, 0.5], 2) == pytest.approx(1) and f"ln 2 ≈ {LN2:.3f}" in back
    h = [0.5, 0.25, 0.25]
    assert entropy(h, 2) == pytest.approx(1.5)
    assert f"1.5 bits ≈ {entropy(h):.3f} nats" in back
    assert "1 nat = 1/ln 2 bits" in back  # log₂x = ln x / ln 2


def huffman_mean_length(probs) -> float:
    """Expected codeword length of a binary Huffman code: each merge adds its mass once."""
    heap = list(probs)
    heapq.heapify(heap)
    total = 0.0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        total += a + b
        heapq.heappush(heap, a + b)
    return total


def test_entropy_bounds_the_code_length():
    # entropy-worked: no lossless code beats H bits per draw, and coding blocks of draws
    # approaches H. (½, ¼, ¼) reaches it exactly; Bernoulli(0.1) only with long blocks.
    assert huffman_mean_length([0.5, 0.25, 0.25]) == pytest.approx(entropy([0.5, 0.25, 0.25], 2))
    p = 0.1
    h = entropy([p, 1 - p], 2)
    per_draw = []
    for n in (1, 2, 4, 8):
        blocks = [p ** k * (1 - p) ** (n - k) for k in range(n + 1) for _ in range(math.comb(n, k))]
        per_draw.append(huffman_mean_length(blocks) / n)
    assert all(v >= h for v in per_draw) and per_draw == sorted(per_draw, reverse=True)
    assert per_draw[0] == 1 and per_draw[-1] - h < 0.1 < per_draw[0] - h
    back = flat(card("entropy-worked").back)
    assert "No lossless code averages fewer than H bits per draw" in back


def test_cross_entropy_decomposition_numbers():
    p, q = [0.5, 0.5], [0.25, 0.75]
    ce = -sum(a * math.log(b) for a, b in zip(p, q))
    assert ce == pytest.approx(entropy(p) + kl(p, q))
    back = card("cross-entropy-decomposition").back
    assert f"≈ {ce:.3f} nats = ln 2 + {kl(p, q):.3f}" in back


def test_kl_asymmetry_worked():
    p, q = [0.5, 0.5], [0.75, 0.25]  # outcome order (0, 1): Bernoulli(½), Bernoulli(¼)
    back = card("kl-asymmetry-worked").back
    pq, qp = kl(p, q), kl(q, p)
    assert pq / LN2 == pytest.approx(1 - 0.5 * math.log2(3))
    assert qp / LN2 == pytest.approx(0.75 * math.log2(3) - 1)
    assert f"≈ {pq / LN2:.4f} bits ({pq:.4f} nats)" in back
    assert f"≈ {qp / LN2:.4f} bits ({qp:.4f} nats)" in back


def test_kl_facts_select_all():
    c = card("kl-facts-select-all")
    rng = np.random.default_rng(2)
    for _ in range(200):
        p, q = rng.dirichlet([1, 1, 1]), rng.dirichlet([1, 1, 1])
        assert kl(p, q) >= 0  # a
        ce = -sum(a * math.log(b) for a, b in zip(p, q))
        assert kl(p, q) == pytest.approx(ce - entropy(p))  # c
    p, q = [0.5, 0.5], [0.75, 0.25]
    assert kl(p, q) != pytest.approx(kl(q, p))  # b is false
    # d is false: Bernoulli(0.5), (0.7), (0.9) break the triangle inequality.
    a, m, z = [0.5, 0.5], [0.3, 0.7], [0.1, 0.9]
    assert kl(a, z) > kl(a, m) + kl(m, z)
    right = {c.choices[i] for i in c.answer}
    assert right == {c.choices[0], c.choices[2]}
    assert "0.2075 and 0.1887 bits" in c.explanation


def test_cross_entropy_bits_mcq():
    p, q = [0.5, 0.25, 0.25], [0.25, 0.5, 0.25]
    c = card("cross-entropy-bits-mcq")
    assert "p = (0.5, 0.25, 0.25)" in c.question and "q = (0.25, 0.5, 0.25)" in c.question
    ce = -sum(a * math.log2(b) for a, b in zip(p, q))
    assert_choices(c, ce, [entropy(p, 2), kl(p, q, 2), ce * LN2], 2)


def test_binary_entropy_and_kl_formulas_against_sums():
    ent, bkl = card("binary-entropy-formula"), card("bernoulli-kl-formula")
    t_ent = read_formula(ent.answer, ent.variables).tree
    t_kl = read_formula(bkl.answer, bkl.variables).tree
    for p in (0.05, 0.3, 0.5, 0.81):
        assert evaluate(t_ent, {"p": p}) == pytest.approx(entropy([p, 1 - p]))
        for q in (0.1, 0.5, 0.77):
            assert evaluate(t_kl, {"p": p, "q": q}) == pytest.approx(kl([p, 1 - p], [q, 1 - q]))
    assert f"ln 2 ≈ {LN2:.3f} nats = 1 bit" in ent.explanation


# -- linear regression -----------------------------------------------------------------------


def test_normal_equation_worked():
    x, y = np.array([0.0, 1, 2]), np.array([1.0, 2, 6])
    X = np.column_stack([np.ones(3), x])
    (b, w), *_ = np.linalg.lstsq(X, y, rcond=None)
    assert (b, w) == pytest.approx((0.5, 2.5))
    back = card("normal-equation-worked").back
    assert "XᵀX = [[3, 3], [3, 5]], Xᵀy = (9, 14)" in back
    assert (X.T @ X).tolist() == [[3, 3], [3, 5]] and (X.T @ y).tolist() == [9, 14]
    r = y - X @ np.array([b, w])
    assert r == pytest.approx([0.5, -1, 0.5]) and r @ x == pytest.approx(0)
    assert "w = 2.5, b = 0.5" in back and "x̄ = 1, ȳ = 3" in back and "= 5/2" in back


def test_ridge_svd_shrinkage_factor():
    rng = np.random.default_rng(3)
    X, y, lam = rng.standard_normal((12, 4)), rng.standard_normal(12), 2.5
    w = np.linalg.solve(X.T @ X + lam * np.eye(4), X.T @ y)
    U, d, Vt = np.linalg.svd(X, full_matrices=False)
    fitted = U @ np.diag(d**2 / (d**2 + lam)) @ U.T @ y  # the card's dⱼ²/(dⱼ² + λ)
    assert np.allclose(X @ w, fitted)
    # d > n: XᵀX is singular, XᵀX + λI is not.
    Xw = rng.standard_normal((3, 5))
    assert np.linalg.matrix_rank(Xw.T @ Xw) == 3
    assert np.linalg.eigvalsh(Xw.T @ Xw + lam * np.eye(5)).min() >= lam - 1e-9


def test_ridge_1d_mcq():
    x, y, lam = np.array([1.0, 2, 3]), np.array([2.0, 2, 4]), 4
    c = card("ridge-1d-mcq")
    assert "x = (1, 2, 3), y = (2, 2, 4)" in c.question and "+ 4w²" in c.question
    w = argmin_on_grid(lambda w: ((y[:, None] - np.outer(x, w)) ** 2).sum(0) + lam * w**2, -3, 3)
    sxy, sxx = x @ y, x @ x
    assert_choices(c, w, [sxy / sxx, sxy / (sxx + lam * len(x)), y.mean() / x.mean()], 2)


def test_gaussian_mle_of_sigma2_is_the_mean_squared_residual():
    rng = np.random.default_rng(4)
    r = rng.standard_normal(30) * 1.3
    s2 = argmin_on_grid(lambda s: len(r) / 2 * np.log(2 * np.pi * s) + (r @ r) / (2 * s), 0.1, 5)
    assert s2 == pytest.approx(np.mean(r**2), abs=1e-4)


# -- logistic regression ---------------------------------------------------------------------


def log_loss(w, X, y):
    p = sigmoid(X @ w)
    return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))


def fd_grad(f, w, h=1e-6):
    g = np.zeros_like(w)
    for i in range(len(w)):
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (f(w + e) - f(w - e)) / (2 * h)
    return g


def test_logistic_gradient_against_finite_differences():
    rng = np.random.default_rng(5)
    X, y, w = rng.standard_normal((8, 3)), rng.integers(0, 2, 8).astype(float), rng.standard_normal(3)
    assert np.allclose(X.T @ (sigmoid(X @ w) - y), fd_grad(lambda v: log_loss(v, X, y), w), atol=1e-6)
    assert "Xᵀ(σ(Xw) − y)" in card("logistic-gradient").back
    p = sigmoid(X @ w)
    hess = X.T @ np.diag(p * (1 - p)) @ X
    assert np.linalg.eigvalsh(hess).min() >= -1e-12  # convex


def test_logistic_gradient_mcq():
    c = card("logistic-gradient-mcq")
    assert "x = (2, 1), w = (0.5, −2), label y = 1" in flat(c.question)
    x, w, y = np.array([[2.0, 1.0]]), np.array([0.5, -2.0]), np.array([1.0])
    g = fd_grad(lambda v: log_loss(v, x, y), w)
    p = float(sigmoid(x @ w)[0])
    assert f"σ(−1) ≈ {p:.3f}" in c.question
    assert f"−{1 - p:.3f}·(2, 1)" in c.explanation  # p − y
    wanted = [g, -g, p * x[0], g * p * (1 - p)]  # key, (y − p)x, label-0 gradient, extra σ′
    got = [nums(ch) for ch in c.choices]
    assert [round(v, 2) for v in got[c.answer[0]]] == [round(v, 2) for v in g]
    assert sorted(tuple(np.round(v, 2)) for v in wanted) == sorted(tuple(v) for v in got)


def test_separable_data_weights_diverge():
    X = np.array([[1.0, 2], [2, 1], [-1, -2], [-2, -1]])
    y = np.array([1.0, 1, 0, 0])
    w, norms, losses = np.zeros(2), [], []
    for step in range(1, 20001):
        w -= 0.1 * X.T @ (sigmoid(X @ w) - y)
        if step in (100, 1000, 10000, 20000):
            norms.append(np.linalg.norm(w))
            losses.append(log_loss(w, X, y))
    assert norms == sorted(norms) and norms[-1] > 2 * norms[0]
    assert losses == sorted(losses, reverse=True) and losses[-1] > 0


def test_logit_formula_inverts_the_sigmoid():
    c = card("logit-formula")
    tree = read_formula(c.answer, c.variables).tree
    for z in (-2.5, -0.3, 0.0, 1.7):
        assert evaluate(tree, {"p": float(sigmoid(z))}) == pytest.approx(z)


# -- SVM -------------------------------------------------------------------------------------


def plane_gap(w: np.ndarray) -> float:
    """Distance between wᵀx = 1 and wᵀx = −1 (b = 0), found by projecting a point."""
    x_plus = w / (w @ w)  # on wᵀx = 1
    x_minus = -x_plus
    return float(np.linalg.norm(x_plus - x_minus))


def test_svm_margin_mcq_and_formula():
    c = card("svm-margin-mcq")
    assert "w = (3, 4)" in c.question
    w = np.array([3.0, 4.0])
    gap = plane_gap(w)
    assert_choices(c, gap, [gap / 2, 2 / np.abs(w).sum(), 2 * np.linalg.norm(w)], 2)
    f = card("svm-margin-formula")
    tree = read_formula(f.answer, f.variables).tree
    for w1, w2 in [(3, 4), (0.5, 2.2), (1.1, 0.7)]:
        assert evaluate(tree, {"w1": w1, "w2": w2}) == pytest.approx(plane_gap(np.array([w1, w2])))


def hinge(y, f):
    return max(0.0, 1 - y * f)


def test_hinge_sum_mcq():
    pts = [(1, 0.4), (-1, 0.2), (1, 2.0)]
    c = card("hinge-sum-mcq")
    assert "(+1, 0.4), (−1, 0.2), (+1, 2.0)" in flat(c.question)
    total = sum(hinge(y, f) for y, f in pts)
    no_label = sum(max(0.0, 1 - f) if y < 0 else hinge(y, f) for y, f in pts)
    perceptron = sum(max(0.0, -y * f) for y, f in pts)
    no_clamp = sum(1 - y * f for y, f in pts)
    assert_choices(c, total, [no_label, perceptron, no_clamp], 2)
    each = ", ".join(f"{hinge(y, f):g}" for y, f in pts[:2]) + f" and {hinge(*pts[2]):g}"
    assert f"max(0, 1 − yf) gives {each}, so {total:g}" in flat(c.explanation)


def test_hinge_formula():
    c = card("hinge-loss-formula")
    tree = read_formula(c.answer, c.variables).tree
    for y in (-1, 1):
        for f in (-2.0, 0.3, 0.99, 1.0, 2.5):
            assert evaluate(tree, {"y": y, "f": f}) == pytest.approx(hinge(y, f))


# -- trees -----------------------------------------------------------------------------------


def gini(counts) -> float:
    n = sum(counts)
    return 1 - sum((k / n) ** 2 for k in counts)


def impurity_drop(parent, children, measure) -> float:
    n = sum(parent)
    return measure(parent) - sum(sum(ch) / n * measure(ch) for ch in children)


def ent_bits(counts) -> float:
    n = sum(counts)
    return entropy([k / n for k in counts], 2)


def test_gini_entropy_worked_split():
    back = card("gini-entropy-worked-split").back
    parent, kids = (5, 5), [(4, 1), (1, 4)]
    assert gini(parent) == 0.5 and ent_bits(parent) == pytest.approx(1)
    assert gini((4, 1)) == pytest.approx(0.32) and f"≈ {ent_bits((4, 1)):.3f} bits" in back
    assert impurity_drop(parent, kids, gini) == pytest.approx(0.18)
    assert f"information gain 1 − 0.722 ≈ {impurity_drop(parent, kids, ent_bits):.3f} bits" in back
    text = flat(back)
    assert f"Gini = 1 − 0.5² − 0.5² = {gini(parent):g}" in text
    assert f"Gini = 1 − {0.8**2:.2f} − {0.2**2:.2f} = {gini((4, 1)):.2f}" in text
    drop = impurity_drop(parent, kids, gini)
    assert f"(5/10 each): Gini decrease 0.5 − 0.32 = {drop:.2f}" in text


def test_misclassification_cannot_tell_the_splits_apart():
    def miscls(counts):
        return 1 - max(counts) / sum(counts)

    parent, a, b = (400, 400), [(300, 100), (100, 300)], [(200, 400), (200, 0)]
    assert impurity_drop(parent, a, miscls) == impurity_drop(parent, b, miscls)
    assert sum(sum(ch) * miscls(ch) for ch in a) == 200
    for kids in (a, b):
        assert sum(sum(ch) / 800 * miscls(ch) for ch in kids) == pytest.approx(0.25)
    gini_a = sum(sum(ch) / 800 * gini(ch) for ch in a)
    gini_b = sum(sum(ch) / 800 * gini(ch) for ch in b)
    back = card("tree-misclassification-impurity").back
    assert gini_a == pytest.approx(0.375) and f"≈ {gini_b:.3f}" in back and gini_b < gini_a
    text = flat(back)
    assert "misclassify 200 of 800, a rate of 0.25" in text
    assert f"A gives {gini_a:.3f} (each child 2·0.75·0.25)" in text
    assert gini((300, 100)) == pytest.approx(2 * 0.75 * 0.25) == pytest.approx(gini((100, 300)))
    assert gini((200, 400)) == pytest.approx(2 * (1 / 3) * (2 / 3)) and gini((200, 0)) == 0


def test_info_gain_mcq():
    c = card("info-gain-mcq")
    parent, kids = (4, 4), [(3, 0), (1, 4)]
    ig = impurity_drop(parent, kids, ent_bits)
    unweighted = ent_bits(parent) - sum(ent_bits(ch) for ch in kids) / 2
    assert_choices(c, ig, [unweighted, ig * LN2, impurity_drop(parent, kids, gini)], 3)


def test_gini_formula():
    c = card("gini-binary-formula")
    tree = read_formula(c.answer, c.variables).tree
    for p in (0.0, 0.2, 0.5, 0.9, 1.0):
        assert evaluate(tree, {"p": p}) == pytest.approx(gini((p, 1 - p)))
    assert "largest, 0.5, at p = 0.5" in flat(c.explanation)
    assert max(gini((p, 1 - p)) for p in np.linspace(0, 1, 1001)) == pytest.approx(0.5)


# -- ensembles -------------------------------------------------------------------------------


def var_of_mean(B: int, rho: float, s2: float = 1.0) -> float:
    cov = np.full((B, B), rho * s2) + np.eye(B) * (1 - rho) * s2
    return float(np.ones(B) @ cov @ np.ones(B) / B**2)


def test_random_forest_variance_and_oob_numbers():
    assert var_of_mean(10, 0.3) == pytest.approx(0.3 + 0.7 / 10)
    c = card("rf-variance-mcq")
    assert "variance 1" in c.question and "correlation 0.3" in c.question and "10 trees" in c.question
    assert_choices(c, var_of_mean(10, 0.3), [var_of_mean(10, 0.0), 0.3, var_of_mean(10, 1.0)], 2)
    left_out = (1 - 1 / 10_000) ** 10_000  # chance an example misses a bootstrap sample
    assert round(left_out * 100) == 37 and "about 37%" in card("random-forest-decorrelation").back


def adaboost_update(w, miss):
    err = w[miss].sum() / w.sum()
    alpha = math.log((1 - err) / err)
    new = w * np.exp(alpha * miss)
    return alpha, new / new.sum()


def test_adaboost_weights_card():
    w = np.full(10, 0.1)
    miss = np.array([True, True] + [False] * 8)  # weighted error 0.2
    alpha, _ = adaboost_update(w, miss)
    back = card("adaboost-weights").back
    assert f"log 4 ≈ {alpha:.3f}" in back and math.exp(alpha) == pytest.approx(4)
    assert "multiplied by e^α = 4" in flat(back)
    assert math.log((1 - 0.5) / 0.5) == 0


def test_adaboost_weight_share_mcq():
    rng = np.random.default_rng(6)
    w = rng.random(40)
    miss = np.zeros(40, dtype=bool)
    # Make the weighted error exactly 0.25 by scaling the chosen examples' weights.
    miss[:10] = True
    w[miss] *= (0.25 / 0.75) * w[~miss].sum() / w[miss].sum()
    assert w[miss].sum() / w.sum() == pytest.approx(0.25)
    _, new = adaboost_update(w, miss)
    share = new[miss].sum()
    c = card("adaboost-weight-share-mcq")
    unnormalized = (w[miss] * 3).sum() / w.sum()
    assert_choices(c, share, [0.25, unnormalized, 1.0], 2)


def test_gradient_boosting_round():
    y = np.array([3.0, 5.0, 10.0])
    F0 = argmin_on_grid(lambda c: ((y[:, None] - c) ** 2).sum(0), 0, 12)
    assert F0 == pytest.approx(6, abs=1e-4)
    F = np.full(3, 6.0)
    neg_grad = -fd_grad(lambda f: 0.5 * np.sum((y - f) ** 2), F)
    assert neg_grad == pytest.approx([-3, -1, 4])
    F1 = F + 0.1 * neg_grad
    back = card("gradient-boosting-residuals").back
    assert "residuals (−3, −1, 4)" in back and f"F₀ = mean(y) = {F0:.0f}" in back
    assert "= (" + ", ".join(f"{v:g}" for v in F1) + ")" in back


def test_xgboost_leaf_mcq():
    c = card("xgboost-leaf-mcq")
    assert "by 2, 3 and 7" in c.question and "λ = 2" in c.question
    gaps, lam = np.array([2.0, 3.0, 7.0]), 2.0  # y − ŷ
    # The exact regularized squared loss of adding w to the three predictions.
    w = argmin_on_grid(lambda w: 0.5 * ((gaps[:, None] - w) ** 2).sum(0) + 0.5 * lam * w**2, -20, 20)
    G, H = -gaps.sum(), 3.0
    assert w == pytest.approx(-G / (H + lam), abs=1e-3)
    assert_choices(c, w, [gaps.mean(), -w, -G], 2)


# -- k-NN and the curse of dimensionality ----------------------------------------------------


def test_curse_of_dimensionality_numbers():
    back = card("curse-of-dimensionality").back
    edge = 0.1 ** (1 / 10)
    assert f"0.1^0.1 ≈ {edge:.2f}" in back and round(edge, 1) == 0.8
    # Median distance from the center to the nearest of N uniform points in the unit ball:
    # P(all N farther than r) = (1 − r^p)^N = ½.
    N, p = 500, 10
    r = (1 - 0.5 ** (1 / N)) ** (1 / p)
    assert f"about {r:.2f}" in back
    rng = np.random.default_rng(7)
    g = rng.standard_normal((400, N, p))
    pts = g / np.linalg.norm(g, axis=2, keepdims=True) * rng.random((400, N, 1)) ** (1 / p)
    nearest = np.linalg.norm(pts, axis=2).min(axis=1)
    assert np.median(nearest) == pytest.approx(r, abs=0.02)


def test_curse_edge_mcq():
    c = card("curse-edge-mcq")
    assert "5-dimensional" in c.question and "1% of the data" in c.question
    assert_choices(c, 0.01 ** (1 / 5), [0.01, 0.01 ** 0.5, 0.01 ** 0.1], 2)


# -- k-means and mixtures --------------------------------------------------------------------


def test_kmeans_plus_plus_mcq():
    c = card("kmeans-plus-plus-mcq")
    d = np.array([1.0, 2.0, 5.0])
    assert "distances 1, 2 and 5" in c.question
    assert_choices(c, d[2] ** 2 / (d**2).sum(), [d[2] / d.sum(), 1 / 3, 1.0], 2)


def lloyd(x, centers, steps=20):
    history = []
    for _ in range(steps):
        assign = np.argmin(np.abs(x[:, None] - centers[None, :]), axis=1)
        history.append(((x - centers[assign]) ** 2).sum())
        centers = np.array([x[assign == k].mean() if np.any(assign == k) else centers[k]
                            for k in range(len(centers))])
    return centers, history


def test_kmeans_facts_select_all():
    c = card("kmeans-facts-select-all")
    x = np.array([0.0, 1, 10, 11, 20, 21])
    bad, hist_bad = lloyd(x, np.array([0.0, 1.0, 15.5]))
    good, hist_good = lloyd(x, np.array([0.0, 10.0, 20.0]))
    for h in (hist_bad, hist_good):
        assert all(a >= b for a, b in zip(h, h[1:]))  # J never rises
    assert hist_bad[-1] == pytest.approx(101) and hist_good[-1] == pytest.approx(1.5)  # local min
    assert {c.choices[i] for i in c.answer} == {c.choices[0], c.choices[1]}


def test_lloyd_with_ties_kept_never_revisits_a_partition():
    # The kmeans-facts-select-all explanation: a point moves only to a strictly closer
    # centroid, so every change of partition lowers J and no partition comes back.
    rng = np.random.default_rng(14)
    for _ in range(200):
        x = rng.integers(0, 6, 9).astype(float)  # small integers: many exact ties
        centers = rng.choice(x, 3, replace=False) + rng.integers(0, 2, 3) * 0.5
        assign = np.argmin(np.abs(x[:, None] - centers[None, :]), axis=1)
        seen, prev_j = [], np.inf
        for _ in range(50):
            centers = np.array([x[assign == k].mean() if np.any(assign == k) else centers[k]
                                for k in range(3)])
            j = ((x - centers[assign]) ** 2).sum()
            part = tuple(assign)
            assert part not in seen and j < prev_j + 1e-12
            seen.append(part)
            prev_j = j
            d = np.abs(x[:, None] - centers[None, :])
            best = np.argmin(d, axis=1)
            keep = d[np.arange(x.size), assign] <= d[np.arange(x.size), best]
            new = np.where(keep, assign, best)
            if np.array_equal(new, assign):
                break
            assign = new
        else:
            raise AssertionError("Lloyd did not stop")
    assert "strictly closer (ties keep the current one)" in flat(
        card("kmeans-facts-select-all").explanation)


def normal_pdf(x, mu, s2=1.0):
    return math.exp(-((x - mu) ** 2) / (2 * s2)) / math.sqrt(2 * math.pi * s2)


def test_gmm_responsibility_mcq():
    c = card("gmm-responsibility-mcq")
    assert "weight 0.8 and mean 0" in c.question and "weight 0.2 and mean 2" in c.question
    a, b = 0.8 * normal_pdf(1.5, 0), 0.2 * normal_pdf(1.5, 2)
    gamma = b / (a + b)
    equal = normal_pdf(1.5, 2) / (normal_pdf(1.5, 0) + normal_pdf(1.5, 2))
    assert_choices(c, gamma, [equal, 1.0, 0.2], 2)
    assert gamma == pytest.approx(0.2 * math.e / (0.2 * math.e + 0.8))


def test_em_for_a_mixture_never_lowers_the_likelihood():
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.normal(-2, 1, 60), rng.normal(3, 0.5, 40)])
    pi, mu, s2 = np.array([0.5, 0.5]), np.array([-0.5, 0.5]), np.array([1.0, 1.0])
    prev = -np.inf
    for _ in range(50):
        dens = pi * np.exp(-((x[:, None] - mu) ** 2) / (2 * s2)) / np.sqrt(2 * np.pi * s2)
        ll = np.log(dens.sum(1)).sum()
        assert ll >= prev - 1e-9
        prev = ll
        gamma = dens / dens.sum(1, keepdims=True)  # E-step
        nk = gamma.sum(0)  # M-step
        mu = (gamma * x[:, None]).sum(0) / nk
        s2 = (gamma * (x[:, None] - mu) ** 2).sum(0) / nk
        pi = nk / len(x)


# -- PCA -------------------------------------------------------------------------------------


def test_pca_via_svd_matches_the_covariance_eigenvectors():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((50, 3)) @ np.array([[2.0, 0, 0], [1, 1, 0], [0, 0.3, 0.2]])
    Xc = X - X.mean(0)
    _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    evals, evecs = np.linalg.eigh(np.cov(Xc, rowvar=False))
    assert np.allclose(sorted(evals, reverse=True), s**2 / (len(X) - 1))
    assert np.allclose(np.abs(evecs[:, ::-1].T @ Vt.T), np.eye(3), atol=1e-8)


def test_pca_worked():
    X = np.array([[3.0, 3], [-3, -3], [1, -1], [-1, 1]])
    assert np.allclose(X.mean(0), 0)
    back = card("pca-worked").back
    assert (X.T @ X).tolist() == [[20, 16], [16, 20]] and "[[20, 16], [16, 20]]" in back
    _, s, Vt = np.linalg.svd(X)
    assert s == pytest.approx([6, 2])
    assert np.abs(Vt[0]) == pytest.approx([1 / math.sqrt(2)] * 2)
    share = s[0] ** 2 / (s**2).sum()
    assert f"= {share:.0%} of the variance" in back
    assert f"36/3 = {s[0] ** 2 / (len(X) - 1):g}" in back
    scores = X @ Vt[0] * np.sign(Vt[0][0])
    assert scores == pytest.approx([3 * math.sqrt(2), -3 * math.sqrt(2), 0, 0])
    evals = sorted(np.linalg.eigvalsh(X.T @ X), reverse=True)
    text = flat(back)
    assert evals == pytest.approx([36, 4]) and "eigenvalues 36 and 4" in text
    assert "singular values are 6 and 2" in text and "3√2, −3√2, 0 and 0" in text


def test_pca_explained_mcq():
    c = card("pca-explained-mcq")
    s = np.array([5.0, 3.0, 1.0])
    assert "singular values 5, 3 and 1" in c.question
    sq = s**2
    assert_choices(c, sq[:2].sum() / sq.sum(), [s[:2].sum() / s.sum(), sq[0] / sq.sum(), 2 / 3], 3)


# -- naive Bayes -----------------------------------------------------------------------------


def smoothed(count, total, vocab, alpha=1.0):
    return (count + alpha) / (total + alpha * vocab)


def test_laplace_smoothing_worked():
    back = card("laplace-smoothing-worked").back
    assert f"3/20 = {3 / 20:.2f}" in back
    assert f"4/30 ≈ {smoothed(3, 20, 10):.3f}" in back
    assert f"1/30 ≈ {smoothed(0, 20, 10):.3f}" in back
    probs = [smoothed(k, 20, 10) for k in (3, 5, 2, 4, 6, 0, 0, 0, 0, 0)]  # counts sum to 20
    assert sum(probs) == pytest.approx(1)


def test_add_one_is_the_posterior_mean_under_a_uniform_dirichlet():
    counts = np.array([3, 5, 2, 4, 6, 0, 0, 0, 0, 0])  # 20 tokens, vocabulary of 10
    draws = np.random.default_rng(13).dirichlet(counts + 1, size=400_000)  # the posterior
    want = [smoothed(k, counts.sum(), counts.size) for k in counts]
    assert draws.mean(axis=0) == pytest.approx(want, abs=1e-3)
    assert "(nₖ + 1)/(N + V)" in flat(card("laplace-smoothing-worked").back)


def test_laplace_smoothing_mcq():
    c = card("laplace-smoothing-mcq")
    assert "4 times among the 40 word tokens" in flat(c.question) and "has 20 words" in flat(c.question)
    assert_choices(c, smoothed(4, 40, 20), [4 / 40, 5 / 41, 4 / 60], 3)


# -- regularization geometry and practice ----------------------------------------------------


def test_lasso_soft_threshold_mcq():
    c = card("lasso-soft-threshold-mcq")
    rng = np.random.default_rng(10)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 3)))  # orthonormal columns
    w_ls, lam = np.array([3.0, 0.5, -1.5]), 1.0
    y = Q @ w_ls + (np.eye(8) - Q @ Q.T) @ rng.standard_normal(8)
    assert np.allclose(np.linalg.lstsq(Q, y, rcond=None)[0], w_ls)
    # With XᵀX = I the objective separates by coordinate: minimize each on a grid.
    lasso = []
    for j in range(3):
        def obj(v, j=j):
            W = np.tile(np.linalg.lstsq(Q, y, rcond=None)[0], (len(v), 1))
            W[:, j] = v
            return 0.5 * ((y[None, :] - W @ Q.T) ** 2).sum(1) + lam * np.abs(v)
        lasso.append(argmin_on_grid(obj, -4, 4, 80_001))
    got = [nums(ch) for ch in c.choices]
    assert [round(v, 3) for v in lasso] == pytest.approx(got[c.answer[0]], abs=1e-3)
    wanted = {tuple(w_ls / (1 + lam)), tuple(w_ls - lam), tuple(np.where(np.abs(w_ls) > lam, w_ls, 0))}
    assert {tuple(v) for i, v in enumerate(got) if i != c.answer[0]} == wanted


def test_class_weight_balanced_mcq():
    c = card("class-weight-balanced-mcq")
    n, neg, pos = 1000, 950, 50
    assert "950 negatives and 50 positives" in c.question
    w_pos, w_neg = n / (2 * pos), n / (2 * neg)
    assert f"≈ {w_neg:.2f}" in c.explanation
    assert_choices(c, w_pos, [w_pos / w_neg, n / pos, pos / n], 2)


def test_imbalance_accuracy_of_the_all_negative_model():
    assert "99.5%" in card("imbalance-select-all").explanation and 1 - 0.005 == 0.995
    assert "99% accuracy" in card("class-imbalance-handling").back


def test_scaling_swings_the_first_principal_component():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((30, 2)) * np.array([1.0, 3.0])  # spread mostly along feature 2
    scaled = X * np.array([1000.0, 1.0])  # meters → millimeters in the first feature
    before = np.linalg.svd(X - X.mean(0))[2][0]
    after = np.linalg.svd(scaled - scaled.mean(0))[2][0]
    assert abs(before[1]) > 0.9 and abs(after[0]) > 0.999


# -- formula cards: every listed mistake is named, the answer is accepted --------------------


@pytest.mark.parametrize("card_id", [
    "gini-binary-formula", "binary-entropy-formula", "bernoulli-kl-formula",
    "svm-margin-formula", "hinge-loss-formula", "beta-map-formula", "logit-formula",
])
def test_formula_card_grading(card_id):
    c = card(card_id)
    rng = random.Random(0)
    assert grade_formula(c, c.answer, rng).correct
    for text, _message in c.mistakes:
        verdict = grade_formula(c, text, rng)
        assert (verdict.correct, verdict.mistake) == (False, "listed"), text


# Independent references for the formula cards, picked up by tests/test_formula_cards.py
# (each returns the value the card's formula must have at a point of its domain).
def _beta_mode(e):
    return beta_mode_on_grid(e["h"], e["n"], e["a"], e["b"])


def _logit(e):
    lo, hi = -20.0, 20.0  # invert σ by bisection, not by the log-odds formula
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sigmoid(mid) < e["p"] else (lo, mid)
    return (lo + hi) / 2


REFERENCES = {
    "gini-binary-formula": lambda e: gini((e["p"], 1 - e["p"])),
    "binary-entropy-formula": lambda e: entropy([e["p"], 1 - e["p"]]),
    "bernoulli-kl-formula": lambda e: kl([e["p"], 1 - e["p"]], [e["q"], 1 - e["q"]]),
    "svm-margin-formula": lambda e: plane_gap(np.array([e["w1"], e["w2"]])),
    "hinge-loss-formula": lambda e: hinge(e["y"], e["f"]),
    "beta-map-formula": _beta_mode,
    "logit-formula": _logit,
}


def test_formula_cards_match_their_references():
    rng = random.Random(3)
    for c in formula_cards(deck()):
        tree = read_formula(c.answer, c.variables).tree
        for _ in range(5):
            env = {name: rng.uniform(*c.range_of(name)) for name in c.variables}
            got, want = evaluate(tree, env), REFERENCES[c.id](env)
            assert got == pytest.approx(want, rel=1e-5, abs=1e-5), (c.id, env)


# What candidates type for each formula card, other than the card's own form: all right
# (also picked up by tests/test_formula_cards.py).
NOTATIONS = {
    "gini-binary-formula": ["1 - p^2 - (1-p)^2", "2p - 2p²", "2*p*(1-p)"],
    "binary-entropy-formula": [
        "-p*ln(p) - (1-p)*ln(1-p)", "−(p log(p) + (1 − p) log(1 − p))",
        "p·log(1/p) + (1−p)·log(1/(1−p))"],
    "bernoulli-kl-formula": [
        "p ln(p/q) + (1-p) ln((1-p)/(1-q))",
        "p(log(p) - log(q)) + (1-p)(log(1-p) - log(1-q))"],
    "svm-margin-formula": ["2/√(w1² + w2²)", "2*(w1^2+w2^2)^(-1/2)", "2/sqrt(w₁² + w₂²)"],
    "hinge-loss-formula": ["max(0, 1-y*f)", "relu(1 - yf)", "max(1 − f·y, 0)"],
    "beta-map-formula": ["(a+h-1)/(a+b+n-2)", "(h + a - 1)/(n + a + b - 2)"],
    "logit-formula": ["ln(p/(1-p))", "log(p) - log(1-p)", "-log(1/p - 1)"],
}


def test_formula_cards_have_notations():
    assert {c.id for c in formula_cards(deck())} == set(NOTATIONS)


@pytest.mark.parametrize("card_id", sorted(NOTATIONS))
def test_a_candidates_notations_are_accepted(card_id):
    c = card(card_id)
    for text in NOTATIONS[card_id]:
        v = grade_formula(c, text, random.Random(1))
        assert v.correct, (text, v.feedback)
