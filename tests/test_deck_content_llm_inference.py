"""The numbers the llm-inference deck states, recomputed from the definitions.

Each test reads a card and checks what it claims (its key, the stories of its distractors,
its worked values) against a computation written here — KV-cache bytes from the model's
shape, softmax with temperature, nucleus sets, the speculative-sampling rule run exactly and
by simulation, absmax and zero-point quantization, FP8 from its bit layout, online softmax
against a plain softmax — never against the card's own text.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest
from deck_ref import (
    assert_accepted,
    assert_mistakes_listed,
    deck_file,
    formula_cards,
    key,
    keys,
    num,
)

from quizforge.decks.formula import grade_formula, read_formula
from quizforge.decks.model import MCQ, Flashcard, FormulaCard
from quizforge.decks.validate import parse_deck
from quizforge.drill.parse import evaluate

DECK = Path(__file__).resolve().parent.parent / "decks" / "llm-inference.yaml"
KiB, MiB, GiB = 2**10, 2**20, 2**30
FP16 = 2  # bytes


deck, card = deck_file(DECK)


def text(c) -> str:
    """Everything a card shows, whitespace collapsed (folded and literal YAML alike)."""
    parts = [getattr(c, f, None) for f in ("front", "back", "question", "explanation")]
    parts += list(getattr(c, "choices", ()))
    return " ".join(" ".join(p.split()) for p in parts if p)


def choices(c: MCQ) -> set[str]:
    return set(c.choices)


def softmax(z, t: float = 1.0) -> list[float]:
    m = max(z)
    e = [math.exp((x - m) / t) for x in z]
    return [x / sum(e) for x in e]


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def kv_bytes(layers, kv_heads, d_head, tokens=1, batch=1, nbytes=FP16) -> int:
    return 2 * layers * kv_heads * d_head * tokens * batch * nbytes


# -- the deck as a whole ------------------------------------------------------------------


def test_deck_parses_without_problems_and_has_the_minimum_counts():
    parsed = parse_deck(DECK.read_text(encoding="utf-8"), DECK)
    assert not parsed.problems, [str(p) for p in parsed.problems]
    cards = parsed.deck.cards
    mcqs = [c for c in cards if isinstance(c, MCQ)]
    assert len(cards) >= 55
    assert len(mcqs) >= 16
    assert sum(c.multi for c in mcqs) >= 4
    assert sum(isinstance(c, FormulaCard) for c in cards) >= 5
    assert len({c.id for c in cards}) == len(cards)


def test_every_card_cites_a_reference_from_the_header():
    header = DECK.read_text(encoding="utf-8").split("\ndeck:")[0]
    refs = " ".join(header.split())
    for c in deck().cards:
        assert c.source, c.id
        # the first author (or organisation) named by the source is in the header's list
        first = re.match(r"[A-Z][\w-]+|Hugging Face|NVIDIA|OpenAI|meta-llama", c.source)
        assert first and first.group(0) in refs, (c.id, c.source)
        if isinstance(c, Flashcard):
            assert c.back.strip()


def test_select_all_cards_vary_how_many_are_right():
    multi = [c for c in deck().cards if isinstance(c, MCQ) and c.multi]
    assert {len(c.answer) for c in multi} >= {1, 2, 3, 4}


# -- KV cache ---------------------------------------------------------------------------------


def test_llama2_7b_kv_cache():
    per_token = kv_bytes(32, 32, 128)  # MHA: 32 K/V heads
    assert per_token == 524_288 == MiB // 2
    seq = kv_bytes(32, 32, 128, tokens=4096)
    assert seq == 2 * GiB and 8 * seq == 16 * GiB
    weights = 6.7e9 * FP16
    assert weights / 1e9 == pytest.approx(13.4) and 8 * seq > weights
    back = text(card("kv-cache-llama2-7b-numeric"))
    assert "= 524,288 bytes = 0.5 MiB" in back and "4096 × 0.5 MiB = 2 GiB" in back
    assert "16 GiB" in back and "≈ 13.4 GB" in back


def test_opt13b_kv_cache_mcq():
    c = card("kv-cache-opt13b-mcq")
    hidden, layers = 5120, 40
    per_token = 2 * hidden * layers * FP16  # MHA: the heads together span the hidden size
    assert num(key(c)) == per_token and f"({per_token // KiB} KiB)" in key(c)
    stories = {
        per_token // 2: "keys only",
        2 * hidden * FP16: "one layer",
        2 * hidden * layers * 4: "fp32",
    }
    assert {num(x) for x in c.choices} == {per_token, *stories}
    request = per_token * 2048  # OPT's 2048-token limit
    assert round(request / GiB, 1) == 1.6 and round(request / 1e9, 1) == 1.7
    assert "1.6 GiB (about 1.7 GB)" in text(c)


def test_llama2_70b_gqa_mcq():
    c = card("gqa-llama2-70b-mcq")
    gqa = kv_bytes(80, 8, 128)
    assert num(key(c)) == gqa == 320 * KiB
    mha = kv_bytes(80, 64, 128)
    assert 64 * 128 == 8192  # config.json: hidden_size 8192 over 64 query heads
    assert mha == 2.5 * MiB and mha == 8 * gqa
    assert {num(x) for x in c.choices} == {gqa, mha, gqa // 2, kv_bytes(1, 8, 128)}
    assert kv_bytes(1, 8, 128) == 4 * KiB and gqa // 2 == 160 * KiB


def test_mla_cache_size():
    d_h, n_h = 128, 128
    d_c, d_rope = 4 * d_h, d_h // 2
    assert (d_c, d_rope, d_c + d_rope) == (512, 64, 576)
    assert 2 * n_h * d_h == 32_768
    groups = (d_c + d_rope) / (2 * d_h)  # GQA caches 2·groups·d_h values per token per layer
    assert groups == 2.25
    back = text(card("mla-kv-cache"))
    assert "576 values" in back and "2 × 128 heads × 128 = 32,768" in back and "2.25 groups" in back


def test_kv_reads_at_long_context():
    per_token = kv_bytes(80, 8, 128)
    step = per_token * 32_768 * 16
    assert step == 160 * GiB and step > 70e9 * FP16
    back = text(card("kv-cache-reads-long-context"))
    assert "(320 KiB per token" in back and "160 GiB" in back and "140 GB" in back
    assert "32,768 tokens" in back and "batch of 16" in back


# -- roofline --------------------------------------------------------------------------------

PEAK, BW = 312e12, 2.039e12  # A100 80GB SXM: dense bf16 FLOP/s, bytes/s


def test_ridge_point():
    assert round(PEAK / BW) == 153
    assert "about 153 FLOP per byte" in text(card("roofline-model"))
    # prefill of T tokens uses each 2-byte weight in T multiply-adds: T FLOPs per byte, so a
    # prompt of a few hundred tokens is past the ridge ("compute-bound" on prefill-vs-decode)
    first_past = next(t for t in range(1, 10_000) if 2 * t / FP16 > PEAK / BW)
    assert 100 < first_past < 300
    assert "for prompts of a few hundred tokens or more it is compute-bound" in text(
        card("prefill-vs-decode"))


def test_matvec_intensity_mcq():
    c = card("matvec-intensity-mcq")
    n = 4096
    flops, weight_bytes = 2 * n * n, FP16 * n * n
    assert num(key(c)) == flops / weight_bytes == 1
    distractors = {
        flops / (n * n),  # bytes counted as elements
        (n * n) / weight_bytes,  # a multiply-add counted as one FLOP
        2 * n * n * n / weight_bytes,  # W times an n-column matrix: each weight used n times
    }
    assert {num(x) for x in c.choices} == {1.0} | distractors == {1.0, 2.0, 0.5, 4096.0}
    # decode at batch B uses each 2-byte weight in B multiply-adds: B FLOPs per byte
    for batch in (1, 8, 64):
        assert 2 * batch * n * n / weight_bytes == batch
    assert "at small batch ≈ 1 FLOP per byte" in text(card("decode-memory-bound"))


def test_decode_time_lower_bound_mcq():
    c = card("decode-time-bound-mcq")
    params, bw, peak = 7e9, 2e12, 312e12
    t_mem = params * FP16 / bw
    t_compute = 2 * params / peak
    assert num(key(c)) == pytest.approx(t_mem * 1e3) == 7
    assert {num(x) for x in c.choices} == {
        t_mem * 1e3,
        params * 1 / bw * 1e3,  # int8 weights
        params * FP16 / 1e12 * 1e3,  # 1 TB/s
        round(t_compute * 1e3, 3),
    }
    assert round(1 / t_mem) == 143 and round(t_mem / t_compute) == 156
    assert "about 143 tokens per second" in text(c) and "about 156 times" in text(c)


def test_decode_ridge_batch_mcq():
    c = card("decode-ridge-batch-mcq")
    peak, bw = 312e12, 2e12

    def intensity(batch, flops_per_mac=2, bytes_per_weight=FP16):
        return flops_per_mac * batch / bytes_per_weight

    def crossing(**kw):
        return next(b for b in range(1, 10_000) if intensity(b, **kw) * bw >= peak)

    assert num(key(c)) == crossing() == 156
    assert crossing(flops_per_mac=1) == 312 and crossing(bytes_per_weight=1) == 78
    assert {num(x) for x in c.choices if x[0] == "≈"} == {156, 312, 78}


def test_batched_intensity_formula_reference():
    c = card("batched-intensity-formula")
    ans = read_formula(c.answer, c.variables)
    rng = random.Random(0)
    for _ in range(20):
        d, b = rng.uniform(64, 8192), rng.uniform(1, 512)
        want = (2 * d * d * b) / (FP16 * d * d + FP16 * d * b + FP16 * d * b)
        assert evaluate(ans.tree, {"d": d, "B": b}) == pytest.approx(want)
    assert (2 * 4096**2 * 8) / (2 * 4096**2 + 4 * 4096 * 8) == pytest.approx(8, rel=0.01)


def test_prefill_time_mcq():
    c = card("prefill-time-mcq")
    params, tokens, peak, mfu = 7e9, 2000, 312e12, 0.5
    flops = 2 * params * tokens
    assert flops == 2.8e13 and peak * mfu == 156e12
    t = flops / (peak * mfu)
    assert num(key(c)) == round(t, 2) == 0.18
    assert {num(x) for x in c.choices} == {
        round(t, 2),
        round(flops / peak, 2),  # 100% of peak
        round(6 * params * tokens / (peak * mfu), 2),  # training count
        round(2 * params / (peak * mfu) * 1e3, 2),  # one token, in ms
    }
    assert "≈ 0.09 ms" in choices(c)
    assert "2000 = 2.8 × 10¹³ FLOPs, at 156 TFLOP/s ≈ 0.18 s" in text(c)


# -- decoding and sampling -------------------------------------------------------------------


def test_temperature_worked_example():
    back = text(card("temperature-sampling"))
    for t in (1, 0.5, 2):
        p = softmax([2, 1, 0], t)
        assert f"T = {t:g}: ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f})" in back
    assert softmax([2, 1, 0], 0.01)[0] == pytest.approx(1)
    assert softmax([2, 1, 0], 1e4) == pytest.approx([1 / 3] * 3, abs=1e-3)


def test_temperature_two_token_mcq():
    c = card("temperature-two-token-mcq")
    z, t = (3, 1), 2
    p = softmax(z, t)[0]
    assert p == pytest.approx(sigmoid((z[0] - z[1]) / t))
    assert num(key(c)) == round(p, 3)
    assert {num(x) for x in c.choices} == {
        round(p, 3),
        round(softmax(z)[0], 3),  # T = 1
        round(softmax([x * t for x in z])[0], 3),  # multiplied by T
        z[0] / sum(z),  # no exponential
    }


def test_temperature_select_all_keys():
    c = card("temperature-select-all")
    assert keys(c) == {
        "As T → 0 it becomes greedy decoding",
        "As T → ∞ every token of the vocabulary becomes equally likely",
    }
    # dividing by any T > 0 keeps the order; T = 0.5 sharpens
    z = [2.0, 1.5, -1.0]
    for t in (0.1, 0.5, 1, 3, 100):
        p = softmax(z, t)
        assert p[0] > p[1] > p[2]
    assert max(softmax(z, 0.5)) > max(softmax(z, 1))


def test_temperature_formula_reference():
    c = card("temperature-formula")
    ans = read_formula(c.answer, c.variables)
    rng = random.Random(1)
    for _ in range(20):
        z1, z2, t = rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(0.2, 3)
        want = softmax([z1, z2], t)[0]
        assert evaluate(ans.tree, {"z1": z1, "z2": z2, "T": t}) == pytest.approx(want)


def nucleus(probs, p):
    order = sorted(range(len(probs)), key=lambda i: -probs[i])
    kept, total = [], 0.0
    for i in order:
        kept.append(i)
        total += probs[i]
        if total >= p - 1e-12:
            break
    return kept, total


def test_top_p_worked_example():
    probs = [0.5, 0.2, 0.15, 0.1, 0.05]
    kept, total = nucleus(probs, 0.8)
    assert kept == [0, 1, 2] and total == pytest.approx(0.85)
    back = text(card("top-p-sampling"))
    for i in kept:
        assert f"{probs[i]}/0.85 ≈ {probs[i] / total:.3f}" in back


def test_top_p_mcq():
    c = card("top-p-nucleus-mcq")
    probs = [0.45, 0.25, 0.15, 0.1, 0.05]
    kept, total = nucleus(probs, 0.75)
    assert len(kept) == 3 and key(c) == f"3 tokens; 0.45/{total:.2f} ≈ {0.45 / total:.2f}"
    below = sum(probs[:2])
    past = sum(probs[:4])
    assert below < 0.75
    assert f"2 tokens; 0.45/{below:.2f} ≈ {0.45 / below:.2f}" in choices(c)
    assert f"4 tokens; 0.45/{past:.2f} ≈ {0.45 / past:.2f}" in choices(c)
    assert "0.45, 0.70, 0.85" in text(c)


def test_min_p_thresholds():
    back = text(card("min-p-sampling"))
    assert round(0.1 * 0.9, 2) == 0.09 and round(0.1 * 0.2, 2) == 0.02
    assert "below 0.09 (p_base = 0.1)" in back and "from 0.02 up stays" in back


def hf_repetition_penalty(logit: float, penalty: float) -> float:
    # transformers' RepetitionPenaltyLogitsProcessor
    return logit * penalty if logit < 0 else logit / penalty


def test_repetition_penalty_mcq():
    c = card("repetition-penalty-mcq")
    a, b = hf_repetition_penalty(3.0, 1.2), hf_repetition_penalty(-1.0, 1.2)
    assert (a, b) == (pytest.approx(2.5), pytest.approx(-1.2))
    assert key(c) == f"{a:g} and {b:g}".replace("-", "−")
    assert f"2.5 and {-1 / 1.2:.3f}".replace("-", "−") in choices(c)
    assert f"{3 * 1.2:g} and −1.2" in choices(c) and f"{3 * 1.2:g} and −0.833" in choices(c)
    # both logits go down, so each token's odds against an unpenalized token (logit 0) fall;
    # its probability need not: here the −1 token gains because the 3.0 token lost more
    before, after = softmax([3.0, -1.0, 0.0]), softmax([a, b, 0.0])
    assert after[0] / after[2] < before[0] / before[2] and after[1] / after[2] < before[1] / before[2]
    assert after[1] > before[1]


def test_repetition_penalty_card_claims():
    back = text(card("repetition-penalty"))
    # θ > 1 lowers every nonzero logit of a used token and leaves a zero logit where it was
    for logit in (-3.0, -0.1, 0.1, 2.0):
        assert hf_repetition_penalty(logit, 1.2) < logit
    assert hf_repetition_penalty(0.0, 1.2) == 0.0
    assert "lowers every such nonzero logit" in back
    # CTRL divides by θ whatever the sign, which raises a negative logit
    assert -1.0 / 1.2 > -1.0 and "which would raise a negative one" in back


def test_deterministic_settings_keys():
    c = card("deterministic-generate-select-all")
    assert keys(c) == {
        "do_sample=False, num_beams=1",
        "do_sample=False, num_beams=4",
        "do_sample=True, top_k=1",
    }
    # sampling after a top-k = 1 filter gives the argmax whatever the seed; top-p = 0.9 keeps
    # several tokens when the top one has less than 0.9, so the seed changes the output
    probs = [0.5, 0.3, 0.2]

    def sample(kept, seed):
        return random.Random(seed).choices(kept, [probs[i] for i in kept])[0]

    top1 = [max(range(3), key=probs.__getitem__)]
    assert {sample(top1, seed) for seed in range(50)} == {0}
    kept, _ = nucleus(probs, 0.9)
    assert len(kept) == 3 and len({sample(kept, seed) for seed in range(50)}) > 1


# -- speculative decoding -----------------------------------------------------------------


def speculative_output(p, q):
    """Exact distribution of the emitted token under Leviathan et al.'s rule."""
    accept = [qi * min(1, pi / qi) for pi, qi in zip(p, q)]
    reject = 1 - sum(accept)
    residual = [max(0.0, pi - qi) for pi, qi in zip(p, q)]
    norm = sum(residual)
    return [a + (reject * r / norm if norm else 0) for a, r in zip(accept, residual)], accept


def test_speculative_rule_keeps_the_target_distribution():
    rng = random.Random(0)
    for _ in range(200):
        p = [rng.random() for _ in range(5)]
        q = [rng.random() + 1e-3 for _ in range(5)]
        p, q = [x / sum(p) for x in p], [x / sum(q) for x in q]
        out, _ = speculative_output(p, q)
        assert out == pytest.approx(p)


def test_speculative_acceptance_mcq_exact_and_by_simulation():
    c = card("speculative-acceptance-mcq")
    p, q = [0.3, 0.5, 0.2], [0.6, 0.2, 0.2]
    accept_a = min(1, p[0] / q[0])
    assert num(key(c)) == accept_a == 0.5
    assert {num(x) for x in c.choices} == {accept_a, p[0], min(1, q[0] / p[0]), q[0]}
    residual = [max(0.0, pi - qi) for pi, qi in zip(p, q)]
    assert residual == pytest.approx([0, 0.3, 0])
    assert "(0, 0.3, 0) picks B" in text(c) and "0.6 × 0.5 = 0.3" in text(c)
    # simulate the whole rule: drafted from q, kept or replaced; the output follows p
    rng = random.Random(7)
    counts = [0, 0, 0]
    n = 60_000
    for _ in range(n):
        x = rng.choices(range(3), q)[0]
        if rng.random() >= min(1, p[x] / q[x]):
            x = rng.choices(range(3), residual)[0]
        counts[x] += 1
    assert [k / n for k in counts] == pytest.approx(p, abs=0.01)


def test_speculative_acceptance_rate_mcq():
    c = card("speculative-acceptance-rate-mcq")
    p, q = [0.7, 0.2, 0.1], [0.4, 0.4, 0.2]
    _, accept = speculative_output(p, q)
    alpha = sum(accept)
    assert alpha == pytest.approx(sum(min(a, b) for a, b in zip(p, q))) == pytest.approx(0.7)
    tv = sum(abs(a - b) for a, b in zip(p, q)) / 2
    agree = sum(a * b for a, b in zip(p, q))
    assert {num(x) for x in c.choices} == {round(alpha, 2), round(tv, 2), round(agree, 2), 1.0}
    assert min(1, p[0] / q[0]) == 1


def test_speculative_acceptance_formula_reference():
    c = card("speculative-acceptance-formula")
    ans = read_formula(c.answer, c.variables)
    rng = random.Random(2)
    for _ in range(20):
        p, q = rng.uniform(0.01, 1), rng.uniform(0.01, 1)
        # the probability that makes q(x)·P(accept) = min(p(x), q(x)), the accepted mass
        assert evaluate(ans.tree, {"p": p, "q": q}) == pytest.approx(min(p, q) / q)


def expected_tokens(alpha: float, gamma: int) -> float:
    """Mean tokens per target pass, by summing over where the first rejection falls."""
    total = 0.0
    for k in range(gamma + 1):  # k drafts accepted, then one token from the target
        prob = alpha**k * (1 - alpha) if k < gamma else alpha**gamma
        total += prob * (k + 1)
    return total


def test_speculative_expected_tokens_formula_reference():
    c = card("speculative-expected-tokens-formula")
    ans = read_formula(c.answer, c.variables)
    for alpha in (0.05, 0.3, 0.6, 0.8, 0.95):
        assert evaluate(ans.tree, {"alpha": alpha}) == pytest.approx(expected_tokens(alpha, 3))
    assert f"about {expected_tokens(0.8, 3):.2f} tokens" in text(c)


def test_speculative_speedup_numbers():
    alpha, gamma, cost = 0.8, 4, 0.05
    tokens = expected_tokens(alpha, gamma)
    assert tokens == pytest.approx((1 - alpha ** (gamma + 1)) / (1 - alpha))
    back = text(card("speculative-speedup-numeric"))
    assert f"≈ {tokens:.2f}" in back and f"1 + γc = {1 + gamma * cost:g}" in back
    assert f"{tokens:.2f}/{1 + gamma * cost:g} ≈ {tokens / (1 + gamma * cost):.1f}×" in back


def test_speculative_select_all_key():
    c = card("speculative-select-all")
    assert keys(c) == {
        "At temperature 0 a drafted token is kept exactly when it is the target's argmax"
    }
    # one-hot target: p/q is 0 off the argmax, 1/q ≥ 1 on it
    p, q = [0.0, 1.0, 0.0], [0.5, 0.3, 0.2]
    assert [min(1, a / b) for a, b in zip(p, q)] == [0, 1, 0]
    assert expected_tokens(0.99999, 3) == pytest.approx(4, abs=1e-3)  # at most γ + 1
    # every pass emits between 1 (first draft rejected) and γ + 1 (all kept, plus a bonus)
    assert expected_tokens(0.0, 4) == 1 and expected_tokens(1.0, 4) == 5
    assert "between 1 and γ + 1 tokens" in text(card("speculative-decoding-idea"))


# -- quantization ---------------------------------------------------------------------------


def test_weight_memory_by_precision():
    back = text(card("weight-memory-by-precision"))
    for params in (7e9, 70e9):
        for bits, name in ((16, "fp16"), (8, "int8"), (4, "int4")):
            assert f"{params * bits / 8 / 1e9:g} GB ({name})" in back
    assert 16 / 128 == 0.125 and "0.125 bits" in back
    assert 70e9 * 2 > 80e9 and 70e9 * 0.5 < 80e9  # 2 × 80 GB GPUs in fp16; one in int4


def test_int4_with_group_scales_mcq():
    c = card("weight-memory-int4-mcq")
    bits = 4 + 16 / 128
    gb = 70e9 * bits / 8 / 1e9
    assert bits == 4.125 and round(gb, 1) == 36.1 and num(key(c)) == round(gb)
    assert {num(x) for x in c.choices} == {round(gb), 70e9 * 4 / 8 / 1e9, 70e9 * 2 / 1e9, 70e9 * 4 / 1e9}


def absmax(x, levels=127):
    scale = levels / max(abs(v) for v in x)
    q = [round(v * scale) for v in x]
    return scale, q, [v / scale for v in q]


def test_absmax_worked_example():
    x = [0.312, -1.018, 2.54, 0.004]
    scale, q, back_ = absmax(x)
    assert scale == pytest.approx(50)
    assert q == [16, -51, 127, 0]
    assert back_ == pytest.approx([0.32, -1.02, 2.54, 0])
    assert max(abs(a - b) for a, b in zip(x, back_)) <= 0.5 / scale + 1e-12
    back = text(card("absmax-int8-numeric"))
    assert "(15.6, −50.9, 127, 0.2) → rounded (16, −51, 127, 0)" in back
    assert "(0.32, −1.02, 2.54, 0)" in back and "1/50 = 0.02" in back
    assert f"each error is at most {0.5 / scale:g}" in back


def test_absmax_outlier_mcq():
    c = card("absmax-outlier-mcq")
    scale, q, back_ = absmax([0.312, -1.018, 50.8, 0.004])
    assert scale == pytest.approx(2.5) and q[0] == 1
    assert num(key(c)) == pytest.approx(back_[0]) == pytest.approx(0.4)
    assert {num(x) for x in c.choices} == {0.4, 0.32, 0.312, 0}
    assert absmax([0.312, 2.54])[2][0] == pytest.approx(0.32)  # without the outlier
    assert "0.312 × 2.5 = 0.78" in text(c) and "1/2.5 = 0.4" in text(c)
    assert f"the step grew from {1 / 50:g} to {1 / 2.5:g}" in text(c)


def test_absmax_formula_reference():
    c = card("absmax-formula")
    ans = read_formula(c.answer, c.variables)
    rng = random.Random(3)
    for _ in range(20):
        m = rng.uniform(1, 4)
        x = rng.uniform(-m, m)
        got = evaluate(ans.tree, {"x": x, "m": m})
        # the map sends ±m to ±127, the int8 symmetric limits, linearly
        assert got == pytest.approx(x / m * 127)
        assert evaluate(ans.tree, {"x": m, "m": m}) == pytest.approx(127)


def test_zero_point_worked_example():
    lo, hi = -1.0, 3.0
    s = (hi - lo) / 255
    z = round(-lo / s)
    assert -lo / s == 63.75 and z == 64

    def quant(x):
        return min(255, max(0, round(x / s) + z))

    assert [quant(v) for v in (-1, 0, 3)] == [0, 64, 255]
    assert round(3 / s) == 191 and s * (quant(0) - z) == 0
    back = text(card("zero-point-quantization"))
    assert f"4/255 ≈ {s:.4f}" in back and "round(63.75) = 64" in back
    assert "191 + 64 = 255" in back and f"3/127 ≈ {3 / 127:.4f}" in back


def fp8_max(exp_bits: int, man_bits: int, ieee: bool) -> float:
    bias = 2 ** (exp_bits - 1) - 1
    top = 2**exp_bits - 1
    if ieee:  # the whole top exponent is inf/NaN
        return (2 - 2.0**-man_bits) * 2.0 ** (top - 1 - bias)
    # E4M3: only S.1111.111 is NaN, so the top exponent keeps all but the last mantissa
    return (2 - 2 * 2.0**-man_bits) * 2.0 ** (top - bias)


def test_fp8_limits_match_torch():
    torch = pytest.importorskip("torch")
    assert torch.finfo(torch.float8_e4m3fn).max == fp8_max(4, 3, ieee=False) == 448
    assert torch.finfo(torch.float8_e5m2).max == fp8_max(5, 2, ieee=True) == 57344
    # the bit patterns the cards name: S.1111.110 is the maximum, S.1111.111 the only NaN
    def e4m3(bits: int) -> float:
        return torch.tensor([bits], dtype=torch.uint8).view(torch.float8_e4m3fn).float().item()

    assert e4m3(0b0_1111_110) == 448 and math.isnan(e4m3(0b0_1111_111))
    assert not any(math.isnan(e4m3(b)) or math.isinf(e4m3(b)) for b in range(0b0_1111_111))
    assert "S.1111.110 = 1.75 × 2⁸ = 448" in text(card("fp8-formats"))
    assert "S.1111.111" in text(card("fp8-e4m3-max-mcq"))
    # the smallest subnormals survive a round trip, half of them rounds to zero
    for dtype, tiny in ((torch.float8_e4m3fn, 2.0**-9), (torch.float8_e5m2, 2.0**-16)):
        assert torch.tensor(tiny).to(dtype).float().item() == tiny
        assert torch.tensor(tiny / 2).to(dtype).float().item() == 0


def test_fp8_formats():
    e4m3, e5m2 = fp8_max(4, 3, ieee=False), fp8_max(5, 2, ieee=True)
    assert (e4m3, e5m2, fp8_max(4, 3, ieee=True)) == (448, 57344, 240)
    assert 1.75 * 2**8 == e4m3 and 1.75 * 2**15 == e5m2 and 1.875 * 2**7 == 240
    min_sub = {"e4m3": 2.0 ** (1 - 7 - 3), "e5m2": 2.0 ** (1 - 15 - 2)}
    assert min_sub == {"e4m3": 2.0**-9, "e5m2": 2.0**-16}
    back = text(card("fp8-formats"))
    assert "1.75 × 2⁸ = 448" in back and "1.75 × 2¹⁵ = 57344" in back
    assert "2⁻⁹" in back and "2⁻¹⁶" in back and "bias 7" in back and "bias 15" in back
    c = card("fp8-e4m3-max-mcq")
    assert num(key(c)) == e4m3
    import numpy as np

    assert {num(x) for x in c.choices} == {e4m3, 240, e5m2, float(np.finfo(np.float16).max)}


# -- FlashAttention -----------------------------------------------------------------------


def test_score_matrix_size():
    n = 32_768
    assert n * n * FP16 == 2 * GiB
    assert "N = 32,768 one fp16 score matrix is 2 GiB" in text(card("flashattention-idea"))


def test_online_softmax_matches_softmax():
    def block(scores):
        m = max(scores)
        return m, sum(math.exp(s - m) for s in scores)

    (m1, l1), (m2, l2) = block([0, 2]), block([4])
    m = max(m1, m2)
    total = math.exp(m1 - m) * l1 + math.exp(m2 - m) * l2
    assert total == pytest.approx(sum(math.exp(s - 4) for s in (0, 2, 4)))
    back = text(card("online-softmax"))
    assert f"ℓ₁ = e⁻² + 1 ≈ {l1:.3f}" in back and f"≈ {total:.3f}" in back

    # and over random blocks, with the outputs rescaled the same way, it is exact attention
    rng = random.Random(5)
    scores = [rng.uniform(-5, 5) for _ in range(12)]
    values = [rng.uniform(-1, 1) for _ in range(12)]
    m_run, l_run, o_run = -math.inf, 0.0, 0.0
    for i in range(0, 12, 4):
        s, v = scores[i : i + 4], values[i : i + 4]
        m_new = max(m_run, max(s))
        scale = math.exp(m_run - m_new) if m_run > -math.inf else 0.0
        l_run = scale * l_run + sum(math.exp(x - m_new) for x in s)
        o_run = scale * o_run + sum(math.exp(x - m_new) * y for x, y in zip(s, v))
        m_run = m_new
    p = softmax(scores)
    assert o_run / l_run == pytest.approx(sum(a * b for a, b in zip(p, values)))


# -- serving --------------------------------------------------------------------------------


def test_paged_block_waste_mcq():
    c = card("paged-block-waste-mcq")
    block, length, reserve = 16, 1000, 2048
    blocks = math.ceil(length / block)
    unused = blocks * block - length
    assert (blocks, blocks * block, unused) == (63, 1008, 8)
    assert key(c) == f"{unused} unused; the reservation wastes {reserve - length}"
    assert f"⌈1000/16⌉ = {blocks} blocks = {blocks * block} slots" in text(c)
    assert choices(c) == {
        key(c),
        f"{block} unused; the reservation wastes {reserve - length}",  # a full block: impossible
        f"0 unused; the reservation wastes {reserve}",
        f"{unused} unused; the reservation wastes {length}",
    }
    # blocks are allocated on demand, so the last one holds at least one token: over every
    # length the waste ranges over 0 … block − 1 and is never a whole block
    waste = {math.ceil(n / block) * block - n for n in range(1, 5 * block)}
    assert waste == set(range(block))
    assert f"at most {block - 1} slots stay empty" in text(c)
    assert f"2048 − 1000 = {reserve - length} slots" in text(c)


def test_static_batching_mcq():
    c = card("static-batching-utilization-mcq")
    lengths = [10, 20, 50, 200]
    steps = max(lengths)
    useful = sum(lengths)
    util = useful / (len(lengths) * steps)
    assert key(c) == f"{steps} iterations; {util:.0%}"
    assert f"{useful} iterations; 100%" in choices(c)
    assert f"{sum(lengths) // len(lengths)} iterations; {util:.0%}" in choices(c)
    assert f"= {len(lengths) * steps} slot-iterations" in text(c)


# -- formula cards: every answer accepted, every mistake named --------------------------------

# Plain computations of what each question describes (test_formula_cards compares each card's
# answer with these at random points).
REFERENCES = {
    "kv-cache-bytes-formula": lambda e: 2 * e["L"] * e["Hkv"] * e["d"] * e["T"] * e["B"] * e["p"],
    "batched-intensity-formula": lambda e: (
        2 * e["d"] ** 2 * e["B"] / (2 * e["d"] ** 2 + 2 * e["d"] * e["B"] + 2 * e["d"] * e["B"])),
    "temperature-formula": lambda e: math.exp(e["z1"] / e["T"]) / (
        math.exp(e["z1"] / e["T"]) + math.exp(e["z2"] / e["T"])),
    "speculative-acceptance-formula": lambda e: min(e["p"], e["q"]) / e["q"],
    "speculative-expected-tokens-formula": lambda e: sum(e["alpha"] ** k for k in range(4)),
    "absmax-formula": lambda e: e["x"] / e["m"] * 127,
}

NOTATIONS = {
    "kv-cache-bytes-formula": ["2 L Hkv d T B p", "2*L*Hkv*d*T*B*p", "L·Hkv·d·T·B·p·2"],
    "batched-intensity-formula": ["2d²B/(2d² + 4dB)", "d*B/(d+2*B)", "B/(1 + 2B/d)"],
    "temperature-formula": [
        "1/(1 + e^((z2 − z1)/T))", "exp(z1/T)/(exp(z1/T) + exp(z2/T))", "sigmoid((z1-z2)/T)"],
    "speculative-acceptance-formula": ["min(p/q, 1)", "min(1, p/q)"],
    "speculative-expected-tokens-formula": ["1 + α + α² + α³", "1+alpha+alpha^2+alpha^3"],
    "absmax-formula": ["127x/m", "x*127/m", "x/(m/127)"],
}


def test_every_formula_card_has_notations():
    assert {c.id for c in formula_cards(deck())} == set(NOTATIONS)


@pytest.mark.parametrize("formula_card", formula_cards(deck()), ids=lambda c: c.id)
def test_formula_card_grading(formula_card):
    rng = random.Random(formula_card.id)
    assert grade_formula(formula_card, formula_card.answer, rng).correct
    assert_accepted(formula_card, NOTATIONS[formula_card.id], rng)
    assert_mistakes_listed(formula_card, rng)
    assert "formulas" in formula_card.tags and formula_card.explanation


def test_kv_cache_formula_reference():
    c = card("kv-cache-bytes-formula")
    ans = read_formula(c.answer, c.variables)
    rng = random.Random(4)
    for _ in range(20):
        env = {v: float(rng.randint(1, 8)) for v in c.variables}
        want = kv_bytes(env["L"], env["Hkv"], env["d"], env["T"], env["B"], env["p"])
        assert evaluate(ans.tree, env) == pytest.approx(want)
    env = {"L": 32, "Hq": 32, "Hkv": 32, "d": 128, "T": 1, "B": 1, "p": 2}
    assert evaluate(ans.tree, env) == MiB / 2 and "0.5 MiB per token" in text(c)
