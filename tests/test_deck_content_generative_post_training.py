"""The numbers the generative-post-training deck states, recomputed from the definitions.

As in test_deck_content.py: each test reads a card and checks its key, the story of each
numeric distractor and its worked values against a computation written here (a finite
difference, a quadrature, a simulation, a brute-force count), never against the card.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from pathlib import Path

import pytest
from deck_ref import (
    assert_accepted,
    assert_choices,
    assert_mistakes_listed,
    deck_file,
    formula_cards,
    key,
    num,
)

from quizforge.decks.formula import grade_formula, read_formula
from quizforge.decks.model import MCQ, Flashcard, FormulaCard
from quizforge.drill.parse import evaluate

PATH = Path(__file__).resolve().parent.parent / "decks" / "generative-post-training.yaml"


deck, card = deck_file(PATH, strict=True)


def numbers(c: MCQ) -> list[float]:
    return [num(x) for x in c.choices]


def flat(s: str) -> str:
    """Text with every run of whitespace (line breaks of a literal block) as one space."""
    return " ".join(s.split())


def minus(s: str) -> str:
    return s.replace("-", "−")


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def slope(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def cross_entropy(logits: list[float], target: int) -> float:
    """Softmax cross-entropy by log-sum-exp: the reference for InfoNCE and Bradley–Terry."""
    top = max(logits)
    lse = top + math.log(sum(math.exp(v - top) for v in logits))
    return lse - logits[target]


def gaussian_kl_quadrature(mu: float, s: float) -> float:
    """KL(N(mu, s²) ‖ N(0, 1)) = ∫ q log(q/p), by the midpoint rule on ±12 s around mu."""
    n, lo, hi = 40_000, mu - 12 * s, mu + 12 * s
    dx = (hi - lo) / n
    total = 0.0
    for i in range(n):
        x = lo + (i + 0.5) * dx
        log_q = -((x - mu) ** 2) / (2 * s * s) - math.log(s * math.sqrt(2 * math.pi))
        log_p = -x * x / 2 - math.log(math.sqrt(2 * math.pi))
        total += math.exp(log_q) * (log_q - log_p) * dx
    return total


# -- the deck as a whole ----------------------------------------------------------------------


def test_deck_parses_and_has_the_minimum_counts():
    cards = deck().cards
    mcqs = [c for c in cards if isinstance(c, MCQ)]
    formulas = [c for c in cards if isinstance(c, FormulaCard)]
    flashcards = [c for c in cards if isinstance(c, Flashcard)]
    assert len(cards) >= 55
    assert len(mcqs) >= 16 and sum(c.multi for c in mcqs) >= 4
    assert len(formulas) >= 5
    assert len(flashcards) == len(cards) - len(mcqs) - len(formulas)
    assert len({c.id for c in cards}) == len(cards)


def test_select_all_cards_vary_the_number_right():
    multi = [c for c in deck().cards if isinstance(c, MCQ) and c.multi]
    assert {len(c.answer) for c in multi} >= {1, 2, 3, 4}


def test_every_source_names_a_listed_reference():
    header = PATH.read_text(encoding="utf-8").split("\ndeck:")[0]
    refs = header.split("References")[1]
    authors = re.findall(r"^# - (.+?)\s\d{4}", refs, re.MULTILINE)
    surnames = {next(w for w in a.split() if w[0].isupper()).rstrip(",") for a in authors}
    assert {"Kingma", "Goodfellow", "Ho", "Rafailov", "Hu"} <= surnames
    for c in deck().cards:
        assert c.source, c.id
        assert any(name in c.source for name in surnames), (c.id, c.source)
        assert re.search(r"§|Abstract|Appendix", c.source), (c.id, c.source)


# -- VAEs -------------------------------------------------------------------------------------


def test_reparameterization_gradient_mcq():
    c = card("reparameterization-gradient-mcq")
    mu, sd, eps, upstream = 1.0, 2.0, -0.5, 3.0
    assert "μ = 1.0, σ = 2.0 and a sampled ε = −0.5" in c.question and "= 3." in c.question

    def loss(mu, sd):  # any loss with ∂L/∂z = 3 at this z: L = 3·z
        return upstream * (mu + sd * eps)

    d_sd = slope(lambda v: loss(mu, v), sd)
    d_mu = slope(lambda v: loss(v, sd), mu)
    assert_choices(c, d_sd, [d_mu, eps, 0.0], 6)


def test_gaussian_kl_closed_form_numbers():
    kl = gaussian_kl_quadrature(1.0, 0.5)
    back = card("gaussian-kl-closed-form").back
    assert f"≈ {kl:.3f} nats" in back
    assert f"½ (0.25 + {-math.log(0.25):.3f})" in back


def test_gaussian_kl_mcq():
    c = card("gaussian-kl-mcq")
    mu, sd = 1.0, 2.0
    kl = gaussian_kl_quadrature(mu, sd)
    wrong = [
        0.5 * (mu**2 + sd**2 - 1 - math.log(sd)),  # ln σ for ln σ²
        0.5 * (mu**2 + sd - 1 - math.log(sd)),  # σ where σ² belongs
        2 * kl,  # no ½
    ]
    assert_choices(c, kl, wrong, 2)
    assert f"½(4 − {math.log(4):.3f})" in c.explanation
    # The question names the direction; the other one, KL(N(0, 1) ‖ q), is no choice either.
    assert "KL(q(z | x) ‖ N(0, 1))" in c.question
    reverse = math.log(sd) + (1 + mu**2) / (2 * sd**2) - 0.5
    assert round(reverse, 2) not in numbers(c)


# -- GANs -------------------------------------------------------------------------------------


def best_d(p: float, q: float) -> float:
    """argmax over D of p·log D + q·log(1 − D), by ternary search (the objective is concave)."""
    lo, hi = 1e-9, 1 - 1e-9
    for _ in range(200):
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        fa = p * math.log(a) + q * math.log(1 - a)
        fb = p * math.log(b) + q * math.log(1 - b)
        lo, hi = (a, hi) if fa < fb else (lo, b)
    return (lo + hi) / 2


def test_optimal_discriminator_mcq():
    c = card("optimal-discriminator-mcq")
    p, q = 0.3, 0.1
    d = best_d(p, q)
    assert_choices(c, d, [1 - d, p / q, best_d(1, 1)], 4)
    assert "0.3/0.4 = 0.75" in c.explanation


def test_gan_value_at_the_optimum_and_the_jsd():
    # A concrete p_data on 4 points; with p_g = p_data and D = D*, V = −log 4.
    p = [0.1, 0.2, 0.3, 0.4]
    d = [best_d(pi, pi) for pi in p]
    v = sum(pi * math.log(di) for pi, di in zip(p, d)) + sum(
        pi * math.log(1 - di) for pi, di in zip(p, d)
    )
    c = card("gan-optimum-value-mcq")
    assert_choices(c, v, [0.0, math.log(0.5), -v], 3)
    assert v == pytest.approx(-math.log(4), abs=1e-6)

    # For p_g ≠ p_data, max_D V = −log 4 + 2·JSD (Theorem 1), JSD from its definition.
    g = [0.4, 0.3, 0.2, 0.1]
    m = [(a + b) / 2 for a, b in zip(p, g)]
    jsd = 0.5 * sum(a * math.log(a / c_) for a, c_ in zip(p, m)) + 0.5 * sum(
        b * math.log(b / c_) for b, c_ in zip(g, m)
    )
    ds = [best_d(a, b) for a, b in zip(p, g)]
    c_g = sum(a * math.log(x) + b * math.log(1 - x) for a, b, x in zip(p, g, ds))
    assert c_g == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-6)


def test_non_saturating_gradients():
    c = card("non-saturating-mcq")
    dval = 0.02
    a = math.log(dval / (1 - dval))  # the logit with σ(a) = 0.02
    saturating = abs(slope(lambda t: math.log(1 - sigmoid(t)), a))
    non_saturating = abs(slope(lambda t: -math.log(sigmoid(t)), a))
    wrt_d = (abs(slope(lambda t: math.log(1 - t), dval)), abs(slope(lambda t: -math.log(t), dval)))
    key_text = f"{saturating:.2f} (saturating) and {non_saturating:.2f} (non-saturating)"
    assert key(c) == key_text
    assert f"{non_saturating:.2f} (saturating) and {saturating:.2f} (non-saturating)" in c.choices
    assert f"{wrt_d[0]:.2f} (saturating) and {wrt_d[1]:.0f} (non-saturating)" in c.choices
    assert f"about {non_saturating / saturating:.0f} times stronger" in c.explanation


def test_wgan_parallel_lines():
    c = card("wgan-parallel-lines-mcq")
    theta, n = 0.5, 6
    ys = [i / (n - 1) for i in range(n)]
    p_pts, q_pts = [(0.0, y) for y in ys], [(theta, y) for y in ys]
    # Earth Mover's distance between the discretized segments: the best one-to-one transport.
    w = min(
        sum(math.dist(p_pts[i], q_pts[j]) for i, j in enumerate(perm)) / n
        for perm in itertools.permutations(range(n))
    )
    # JS of two distributions with disjoint supports, from the definition.
    pm = [1 / n] * n + [0.0] * n
    qm = [0.0] * n + [1 / n] * n
    mid = [(a + b) / 2 for a, b in zip(pm, qm)]
    js = 0.5 * sum(a * math.log(a / m) for a, m in zip(pm, mid) if a) + 0.5 * sum(
        b * math.log(b / m) for b, m in zip(qm, mid) if b
    )
    assert w == pytest.approx(theta) and js == pytest.approx(math.log(2))
    assert any(qi == 0 and pi > 0 for pi, qi in zip(pm, qm))  # KL(p ‖ q) = +∞
    assert key(c) == f"W = {w:g}, JS = log 2, KL = +∞"
    assert f"W = {theta**2:g}, JS = log 2, KL = +∞" in c.choices
    assert "0.25 is θ²" in c.explanation


# -- diffusion --------------------------------------------------------------------------------


def abar(betas) -> float:
    return math.prod(1 - b for b in betas)


def test_forward_noising_numbers():
    betas, x0, eps = (0.1, 0.2, 0.3), 2.0, -1.0
    ab = abar(betas)
    back = card("diffusion-forward-numbers").back
    signal, noise = math.sqrt(ab), math.sqrt(1 - ab)
    assert f"= {ab:g}." in back
    assert f"√{ab:g} ≈ {signal:.3f}" in back and f"√{1 - ab:g} ≈ {noise:.3f}" in back
    assert f"≈ {signal * x0 + noise * eps:.3f}." in back


def test_forward_chain_matches_the_closed_form():
    """Running q(x_t | x_t−1) step by step has mean √ᾱ x_0 and variance 1 − ᾱ (eq. 4)."""
    import numpy as np

    rng = np.random.default_rng(0)
    betas, x0 = (0.1, 0.2, 0.3), 2.0
    x = np.full(200_000, x0)
    for b in betas:
        x = math.sqrt(1 - b) * x + math.sqrt(b) * rng.standard_normal(x.size)
    ab = abar(betas)
    assert x.mean() == pytest.approx(math.sqrt(ab) * x0, abs=0.01)
    assert x.var() == pytest.approx(1 - ab, abs=0.01)


def test_ddpm_linear_schedule():
    c = card("ddpm-schedule-mcq")
    betas = [1e-4 + (0.02 - 1e-4) * i / 999 for i in range(1000)]
    ab = abar(betas)
    assert num(key(c)) * 1e-5 == pytest.approx(ab, rel=0.05)  # "≈ 4 × 10⁻⁵"
    assert 0.98**1000 == pytest.approx(2e-9, rel=0.2) and "≈ 2 × 10⁻⁹" in c.choices
    assert f"≈ {0.9999**1000:.2f}" in c.choices and "0.02" in c.choices
    assert f"≈ −{sum(betas):.2f}" in c.explanation
    assert f"Σ ln(1 − β_t) ≈ −{-sum(math.log(1 - b) for b in betas):.2f}" in flat(c.explanation)
    assert f"≈ {math.sqrt(ab):.3f}" in c.explanation


def test_predicted_x0_mcq():
    c = card("predicted-x0-mcq")
    ab, x0, eps, eps_hat = 0.64, 2.0, -1.0, -0.5
    xt = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps
    x0_hat = (xt - math.sqrt(1 - ab) * eps_hat) / math.sqrt(ab)
    wrong = [xt / math.sqrt(ab), xt - math.sqrt(1 - ab) * eps_hat, x0]
    assert_choices(c, x0_hat, wrong, 4)
    assert f"= {xt:.1f}." in c.explanation and f"= {(eps - eps_hat) ** 2:g})" in c.explanation


def test_denoiser_residual_is_sigma_squared_times_the_score():
    """denoising-autoencoder: the best denoiser's g(f(x̃)) − x̃ is σ² times the score (Tweedie).

    Data: a two-component 1-D Gaussian mixture. E[x | x̃] by quadrature over x, the score of
    the noisy density by a finite difference of its log; both from the definitions.
    """
    comps = [(0.3, -1.0, 0.4), (0.7, 1.5, 0.6)]  # (weight, mean, std)
    sigma = 0.2

    def normal(x, m, sd):
        return math.exp(-((x - m) ** 2) / (2 * sd * sd)) / (sd * math.sqrt(2 * math.pi))

    def p_data(x):
        return sum(w * normal(x, m, sd) for w, m, sd in comps)

    def noisy_density(xt):  # p_σ(x̃) = ∫ p(x) N(x̃; x, σ²) dx, closed form for a mixture
        return sum(w * normal(xt, m, math.sqrt(sd * sd + sigma * sigma)) for w, m, sd in comps)

    n, lo, hi = 20_000, -6.0, 7.0
    dx = (hi - lo) / n
    grid = [lo + (i + 0.5) * dx for i in range(n)]
    for xt in (-1.3, 0.2, 1.1, 2.4):
        weights = [p_data(x) * normal(xt, x, sigma) for x in grid]
        best = sum(x * wt for x, wt in zip(grid, weights)) / sum(weights)  # E[x | x̃]
        score = slope(lambda v: math.log(noisy_density(v)), xt)
        assert best - xt == pytest.approx(sigma**2 * score, abs=1e-4)
    back = flat(card("denoising-autoencoder").back)
    assert "about σ² times the score" in back


def test_ddim_step_mcq():
    c = card("ddim-step-mcq")
    ab_t, xt, eps, ab_s = 0.36, 1.0, 0.5, 0.64
    x0_hat = (xt - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
    xs = math.sqrt(ab_s) * x0_hat + math.sqrt(1 - ab_s) * eps
    wrong = [math.sqrt(ab_s) * x0_hat, x0_hat, ab_s * x0_hat + (1 - ab_s) * eps]
    assert_choices(c, xs, wrong, 4)
    # the deterministic step is consistent: re-noising the predicted x_0 with ε_θ at t gives x_t
    assert math.sqrt(ab_t) * x0_hat + math.sqrt(1 - ab_t) * eps == pytest.approx(xt)


def test_cfg_mcq():
    c = card("cfg-mcq")
    ec, eu, w = 0.4, 0.1, 3.0
    guided = ec + w * (ec - eu)
    wrong = [eu + w * (ec - eu), ec, (1 + w) * eu - w * ec]
    assert_choices(c, guided, wrong, 4)
    assert eu + w * (ec - eu) == pytest.approx(ec + (w - 1) * (ec - eu))  # s = 3 is w = 2


def test_latent_diffusion_sizes():
    pixels, latent = 512 * 512 * 3, (512 // 8) * (512 // 8) * 4
    back = card("latent-diffusion").back
    assert f"{pixels:,} numbers" in back and f"is {latent:,}, {pixels // latent}× fewer" in back


# -- contrastive learning ---------------------------------------------------------------------


def test_infonce_temperature_numbers():
    back = card("infonce-temperature-numbers").back
    sims = [0.8, 0.2, -0.4]
    l1 = cross_entropy(sims, 0)
    l01 = cross_entropy([s / 0.1 for s in sims], 0)
    denom = sum(math.exp(s - sims[0]) for s in sims)
    assert f"log({denom:.3f}) ≈ {l1:.3f}" in back and f"≈ {l01:.4f}" in back


def test_infonce_mcq():
    c = card("infonce-mcq")
    sims, tau = [0.5, 0.0, 0.0, 0.0], 0.5
    loss = cross_entropy([s / tau for s in sims], 0)
    wrong = [
        cross_entropy([sims[0] / tau, 0.0], 0),  # one negative only
        cross_entropy([0.0] * 4, 0),  # chance over 4 candidates
        cross_entropy(sims, 0),  # no temperature
    ]
    assert_choices(c, loss, wrong, 2)


def test_simclr_in_batch_negatives():
    n = 6  # images in a batch, each augmented twice
    views = [(image, k) for image in range(n) for k in (0, 1)]
    anchor = views[0]
    negatives = [v for v in views if v != anchor and v[0] != anchor[0]]
    assert len(negatives) == 2 * (n - 1)
    back = card("in-batch-negatives").back
    assert "2N views" in back and "the other 2(N − 1) views" in back


def test_clip_negatives_mcq():
    c = card("clip-negatives-mcq")
    n = 32_768
    texts = range(n)
    negatives_of_image0 = sum(1 for t in texts if t != 0)
    assert_choices(c, negatives_of_image0, [2 * (n - 1), n, n * n - n], 0)


# -- LoRA and QLoRA ---------------------------------------------------------------------------


def lora_trainable(d_in: int, d_out: int, r: int) -> int:
    import numpy as np

    a, b = np.zeros((r, d_in)), np.zeros((d_out, r))  # LoRA's A and B
    return a.size + b.size


def test_lora_parameter_count_card():
    back = flat(card("lora-parameter-count").back)
    per = lora_trainable(4096, 4096, 8)
    full = 4096 * 4096
    assert f"= {per:,}, against 4096² = {full:,} for the full matrix" in back
    assert f"8 · (4096 + 4096) = {per:,}" in back
    assert f"about {100 * per / full:.2f}%" in back
    assert f"= {32 * 2 * per:,} ≈ {32 * 2 * per / 1e6:.1f}M" in back


def test_lora_count_mcq():
    c = card("lora-count-mcq")
    d_in, d_out, r = 4096, 11008, 16
    right = lora_trainable(d_in, d_out, r)
    wrong = [
        lora_trainable(d_in, d_in, r),  # as if 4096 × 4096
        lora_trainable(d_out, d_out, r),  # as if 11008 × 11008
        d_in * d_out,  # the frozen matrix
    ]
    assert_choices(c, right, wrong, 0)
    assert f"16 · {d_in + d_out:,} = {right:,}" in c.explanation


def test_lora_zero_init_gradients():
    import numpy as np

    rng = np.random.default_rng(0)
    d_in, d_out, r = 5, 4, 2
    w0, x, g = rng.standard_normal((d_out, d_in)), rng.standard_normal(d_in), rng.standard_normal(
        d_out
    )

    def grads(a, b, h=1e-6):
        def loss(a, b):
            return float(g @ (w0 @ x + b @ (a @ x)))

        ga, gb = np.zeros_like(a), np.zeros_like(b)
        for m, out, other in ((a, ga, "a"), (b, gb, "b")):
            for idx in np.ndindex(m.shape):
                up, down = m.copy(), m.copy()
                up[idx] += h
                down[idx] -= h
                args_up = (up, b) if other == "a" else (a, up)
                args_down = (down, b) if other == "a" else (a, down)
                out[idx] = (loss(*args_up) - loss(*args_down)) / (2 * h)
        return ga, gb

    ga, gb = grads(np.zeros((r, d_in)), np.zeros((d_out, r)))
    assert np.abs(ga).max() == 0 and np.abs(gb).max() == 0  # stuck: the key
    ga, gb = grads(rng.standard_normal((r, d_in)), np.zeros((d_out, r)))  # LoRA's init
    assert np.abs(ga).max() == 0 and np.abs(gb).max() > 0.1
    assert key(card("lora-zero-init-mcq")) == "Neither matrix ever gets a nonzero gradient"


def test_lora_checkpoint_ratio():
    assert 350e9 / 35e6 == pytest.approx(10_000)
    assert "350 GB → 35 MB" in card("lora-select-all").explanation


def test_qlora_double_quantization_numbers():
    before = 32 / 64  # one fp32 constant per block of 64
    after = 8 / 64 + 32 / (64 * 256)  # 8-bit constants, one fp32 per 256 of them
    saved_gb = (before - after) * 65e9 / 8 / 1e9
    back = card("qlora").back
    assert f"{before:g} → {after:.3f} bits per parameter" in back
    assert f"≈ {saved_gb:.0f} GB saved" in back


def test_qlora_memory_mcq():
    c = card("qlora-memory-mcq")
    n = 7e9
    bits = 4 + 32 / 64
    assert_choices(c, n * bits / 8 / 1e9, [n * 4 / 8 / 1e9, n * 2 / 1e9, n * 4 / 1e9], 2)
    assert f"= {bits:g} bits" in c.explanation


# -- RLHF, PPO and DPO ------------------------------------------------------------------------


def test_bradley_terry_numbers():
    back = card("bradley-terry-reward-model").back
    rw, rl = 2.0, 0.5
    p = math.exp(rw) / (math.exp(rw) + math.exp(rl))
    assert f"σ({rw - rl:g}) ≈ {p:.3f}, loss ≈ {cross_entropy([rw, rl], 0):.3f}" in back


def test_bradley_terry_gradient_claim():
    c = card("bradley-terry-formula")
    assert "gradient with respect to r_w is −σ(r_l − r_w)" in flat(c.explanation)
    for rw, rl in ((2.0, 0.5), (-1.0, 3.0), (0.3, 0.3)):
        d_rw = slope(lambda v: cross_entropy([v, rl], 0), rw)
        assert d_rw == pytest.approx(-sigmoid(rl - rw), abs=1e-6)


def test_bradley_terry_mcq():
    c = card("bradley-terry-mcq")
    rw, rl = 1.0, 3.0
    loss = cross_entropy([rw, rl], 0)
    p_human = math.exp(rw) / (math.exp(rw) + math.exp(rl))
    assert_choices(c, loss, [cross_entropy([rl, rw], 0), p_human, rl - rw], 2)


def test_ranking_comparisons_mcq():
    c = card("ranking-comparisons-mcq")
    k = 9
    pairs = list(itertools.combinations(range(k), 2))
    wrong = [k - 1, len(list(itertools.permutations(range(k), 2))), k * k]
    assert_choices(c, len(pairs), wrong, 0)


def ppo_term(ratio: float, adv: float, eps: float = 0.2) -> float:
    return min(ratio * adv, max(1 - eps, min(ratio, 1 + eps)) * adv)


def test_ppo_clip_numbers():
    back = flat(card("ppo-clipped-objective").back)
    assert f"A = 2, ρ = 1.5: min({1.5 * 2:g}, 1.2·2) = {ppo_term(1.5, 2):g}." in back
    # beyond the clip the objective is flat in the ratio: no gain from moving further
    assert slope(lambda r: ppo_term(r, 2), 1.5) == pytest.approx(0)
    c = card("ppo-clip-mcq")
    assert_choices(c, ppo_term(0.5, -1), [0.5 * -1, 1.2 * -1, -1.0], 4)
    assert slope(lambda r: ppo_term(r, -1), 0.5) == pytest.approx(0)


def dpo_loss(beta, pw, rw, pl, rl) -> float:
    margin = beta * (pw - rw) - beta * (pl - rl)
    return -math.log(sigmoid(margin))


def test_dpo_loss_mcq():
    c = card("dpo-loss-mcq")
    beta, pw, rw, pl, rl = 0.1, -12.0, -15.0, -20.0, -18.0
    right = dpo_loss(beta, pw, rw, pl, rl)
    wrong = [
        dpo_loss(beta, pw, 0.0, pl, 0.0),  # no reference model
        dpo_loss(1.0, pw, rw, pl, rl),  # no β
        dpo_loss(beta, rw, rw, rl, rl),  # π_θ = π_ref
    ]
    assert num(key(c)) == round(right, 2)
    assert sorted(num(x) for x in c.choices if x != key(c)) == sorted(
        round(w, 3 if w < 0.01 else 2) for w in wrong
    )
    assert f"= {beta * (pw - rw):g} and" in c.explanation
    assert f"= {minus(f'{beta * (pl - rl):g}')};" in c.explanation


def test_dpo_gradient_weight_claim():
    """dpo-implicit-reward: d loss / d margin = −σ(r̂_l − r̂_w), larger when the pair is ranked wrongly."""
    back = flat(card("dpo-implicit-reward").back)
    assert "weights each pair by σ(r̂_l − r̂_w)" in back
    beta = 0.1
    for pw, rw, pl, rl in ((-12.0, -15.0, -20.0, -18.0), (-20.0, -18.0, -12.0, -15.0)):
        r_w, r_l = beta * (pw - rw), beta * (pl - rl)  # implicit rewards
        d_pw = slope(lambda v: dpo_loss(beta, v, rw, pl, rl), pw)  # d loss / d log π_θ(y_w)
        assert d_pw == pytest.approx(-beta * sigmoid(r_l - r_w), abs=1e-6)
    wrong, right = sigmoid(0.5), sigmoid(-0.5)  # weight of a wrongly vs rightly ranked pair
    assert wrong > right


def test_dpo_initial_loss():
    back = flat(card("dpo-initial-loss").back)
    loss = dpo_loss(0.1, -7.0, -7.0, -9.0, -9.0)  # π_θ = π_ref: both log-ratios 0
    assert loss == pytest.approx(math.log(2))
    assert f"ln 2 ≈ {loss:.3f}" in back
    weight = sigmoid(0.0 - 0.0)  # σ(r̂_l − r̂_w) with both implicit rewards 0
    assert weight == 0.5 and "σ(r̂_l − r̂_w) starts at ½ for every pair" in back


# -- the formula cards, against independent references ----------------------------------------


def _reparam(e):
    return e["mu"] + math.sqrt(math.exp(e["v"])) * e["eps"]  # σ = √(variance) = √(e^v)


def _kl(e):
    return gaussian_kl_quadrature(e["mu"], e["s"])


def _forward(e):
    # One jump from x_0 after a chain with this ᾱ: the mean √ᾱ·x_0 is where ε = 0 lands, and
    # the noise term's slope in ε is the chain's standard deviation √(Π(1−β) … ) = √(1 − ᾱ).
    ab = e["abar"]
    betas = [1 - ab ** (1 / 3)] * 3  # three equal steps with this ᾱ
    var = 0.0
    for b in betas:  # Var(x_t) = (1 − β) Var(x_t−1) + β, starting from a fixed x_0
        var = (1 - b) * var + b
    return math.sqrt(abar(betas)) * e["x0"] + math.sqrt(var) * e["eps"]


def _best_d(e):
    return best_d(e["p"], e["q"])


def _lora(e):
    r, din, dout = (max(1, round(e[k])) for k in ("r", "din", "dout"))
    return lora_trainable(din, dout, r), {"r": r, "din": din, "dout": dout}


def _bradley_terry(e):
    return cross_entropy([e["rw"], e["rl"]], 0)


def _cfg(e):
    return e["ec"] + e["w"] * (e["ec"] - e["eu"])


REFERENCES = {
    "reparameterization-logvar-formula": _reparam,
    "gaussian-kl-formula": _kl,
    "forward-noising-formula": _forward,
    "optimal-discriminator-formula": _best_d,
    "lora-parameter-count-formula": _lora,
    "bradley-terry-formula": _bradley_terry,
    "cfg-formula": _cfg,
}

# What candidates type, other than the card's own form: all right.
NOTATIONS = {
    "reparameterization-logvar-formula": ["μ + ε·exp(v/2)", "mu + sqrt(exp(v))*eps", "μ + e^(v/2)ε"],
    "gaussian-kl-formula": ["½(μ² + s² − 1 − 2 ln(s))", "(mu^2 + s^2 - 1)/2 - log(s)", "-(1 + ln(s²) - μ² - s²)/2"],
    "forward-noising-formula": ["√abar·x0 + √(1 − abar)·ε", "sqrt(abar)*x0 + sqrt(1-abar)*eps"],
    "optimal-discriminator-formula": ["1/(1 + q/p)", "p/(q+p)"],
    "lora-parameter-count-formula": ["r·din + r·dout", "r*din + dout*r"],
    "bradley-terry-formula": ["log(1 + e^(rl − rw))", "-ln(1/(1+exp(rl-rw)))", "-log(sigmoid(rw-rl))"],
    "cfg-formula": ["ec + w(ec − eu)", "ec + w*ec - w*eu"],
}


def test_every_formula_card_has_a_reference_and_notations():
    ids = {c.id for c in formula_cards(deck())}
    assert ids == set(REFERENCES) == set(NOTATIONS)
    for c in formula_cards(deck()):
        assert c.source and c.explanation and c.mistakes and "formulas" in c.tags, c.id


@pytest.mark.parametrize("card_id", sorted(REFERENCES))
def test_formula_answer_matches_its_reference(card_id):
    c = card(card_id)
    answer = read_formula(c.answer, c.variables)
    rng = random.Random(card_id)
    for _ in range(5):
        env = {name: rng.uniform(*c.range_of(name)) for name in c.variables}
        want = REFERENCES[card_id](env)
        if isinstance(want, tuple):  # the reference also fixes some inputs (integer sizes)
            want, given = want
            env |= given
        assert evaluate(answer.tree, env) == pytest.approx(want, rel=1e-5, abs=1e-7), env


@pytest.mark.parametrize("card_id", sorted(REFERENCES))
def test_formula_answer_accepted_mistakes_refused_notations_accepted(card_id):
    c = card(card_id)
    rng = random.Random(0)
    assert grade_formula(c, c.answer, rng).correct
    assert_mistakes_listed(c, rng)
    assert grade_formula(c, f"−({c.answer})", rng).mistake in ("sign", "listed")
    assert_accepted(c, NOTATIONS[card_id], rng)
