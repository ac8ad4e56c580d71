"""The numbers the transformers deck states, recomputed independently of the card text.

Each test reads a card from decks/transformers.yaml and checks what it claims (its key, the
stories of its distractors, its worked values) against a computation written here from the
definitions: counts taken from real torch modules, FLOPs from torch's FlopCounterMode, masks
run through PyTorch, BPE counted on the toy corpus, never the card's own arithmetic.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
from fractions import Fraction
from pathlib import Path

import pytest
from deck_ref import assert_mistakes_listed, find_card, formula_cards, key, load_deck
from drill_ref import golden_maker, load_golden

from quizforge.decks.formula import grade_formula, read_formula
from quizforge.decks.lint import deck_warnings
from quizforge.decks.model import MCQ, Deck, Flashcard, FormulaCard
from quizforge.decks.validate import parse_deck
from quizforge.drill.parse import evaluate

DECK_FILE = Path(__file__).resolve().parent.parent / "decks" / "transformers.yaml"
# What torch computed (tests/golden/make_transformers_deck.py); the torch-free tests at the end
# check the card numbers against it, the live tests recompute it with torch.
GOLDEN = load_golden("transformers_deck")


def deck() -> Deck:
    return load_deck(DECK_FILE)


def flat(s: str | None) -> str | None:
    return None if s is None else " ".join(s.split())


def card(card_id: str):
    """The card, its prose with line breaks and indentation folded to single spaces."""
    c = find_card(deck(), card_id)
    fields = [f for f in ("front", "back", "question", "explanation") if hasattr(c, f)]
    return dataclasses.replace(c, **{f: flat(getattr(c, f)) for f in fields})


def integer(s: str) -> int:
    return int(s.replace(",", ""))


_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def sci(s: str) -> float:
    """'1.2 × 10²⁰ FLOPs' → 1.2e20."""
    m = re.match(r"([\d.]+) × 10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", s)
    assert m, s
    return float(m.group(1)) * 10 ** int(m.group(2).translate(_SUP))


def nbytes(s: str) -> int:
    """'3 GiB' → 3·2³⁰."""
    m = re.match(r"(\d+) (KiB|MiB|GiB)$", s)
    assert m, s
    return int(m.group(1)) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[m.group(2)]


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


# -- the deck as a whole ---------------------------------------------------------------------


def test_deck_parses_without_problems_and_has_the_minimum_counts():
    parsed = parse_deck(DECK_FILE.read_text(encoding="utf-8"), DECK_FILE)
    assert parsed.problems == []
    cards = parsed.deck.cards
    mcqs = [c for c in cards if isinstance(c, MCQ)]
    assert len(cards) >= 55
    assert len(mcqs) >= 16
    assert sum(c.multi for c in mcqs) >= 4
    assert sum(isinstance(c, FormulaCard) for c in cards) >= 5
    assert len({c.id for c in cards}) == len(cards)
    assert deck_warnings(parsed.deck) == []  # what --strict fails on


def test_select_all_cards_vary_the_number_right():
    multi = [c for c in deck().cards if isinstance(c, MCQ) and c.multi]
    assert {len(c.answer) for c in multi} == {1, 2, 3, 4}


def references() -> list[str]:
    """The header's reference list: each entry's first line, without '# - '."""
    header = DECK_FILE.read_text(encoding="utf-8").split("\ndeck:")[0]
    block = header.split("References (each card's `source` names the one it follows):")[1]
    return [line[4:] for line in block.splitlines() if line.startswith("# - ")]


def cites(source: str, reference: str) -> bool:
    year = re.search(r"\b(19|20)\d\d\b", reference)
    if year is None:  # documentation: "PyTorch docs: …", "Zhang, Lipton, … (d2l.ai)"
        return any(tag in reference and tag in source for tag in ("PyTorch docs", "d2l.ai"))
    surname = reference.split()[0].rstrip(",")
    return re.search(rf"\b{surname}\b[^;]*\b{year.group(0)}\b", source) is not None


def test_every_card_cites_a_listed_reference():
    refs = references()
    assert len(refs) >= 15
    for c in deck().cards:
        assert c.source, c.id
        assert any(cites(c.source, r) for r in refs), (c.id, c.source)
        if isinstance(c, Flashcard):
            assert c.back.strip(), c.id


def test_formula_cards_have_mistakes_an_explanation_and_the_formulas_tag():
    for c in deck().cards:
        if isinstance(c, FormulaCard):
            assert c.mistakes and c.explanation and "formulas" in c.tags, c.id


# -- attention and softmax -------------------------------------------------------------------


def test_dot_product_variance_and_the_std_mcq():
    import numpy as np

    rng = np.random.default_rng(0)
    d = 64
    qk = np.sum(rng.standard_normal((40_000, d)) * rng.standard_normal((40_000, d)), axis=1)
    assert qk.var() == pytest.approx(d, rel=0.03)
    assert qk.std() == pytest.approx(8, rel=0.02)
    assert (qk / math.sqrt(d)).var() == pytest.approx(1, rel=0.03)
    assert "8 for d_k = 64" in card("why-scale-sqrt-dk").back

    c = card("dot-product-std-mcq")
    assert integer(key(c)) == math.isqrt(d) == 8
    # 64 is the variance, 1 the scaled score's std, 4096 = d² (perfectly correlated terms)
    assert {integer(x) for x in c.choices} == {8, d, 1, d * d}
    same = rng.standard_normal(40_000)  # d perfectly correlated unit-variance terms
    assert (d * same).var() == pytest.approx(d * d, rel=0.03)


def test_softmax_saturation_numbers():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    z = torch.tensor([8.0, 0.0], dtype=torch.float64, requires_grad=True)
    p = torch.softmax(z, 0)
    p[0].backward()
    assert round(p[0].item(), 5) == 0.99966
    assert round(z.grad[0].item(), 5) == 0.00034  # ∂p₁/∂z₁ = p(1 − p) ≈ 3.4 × 10⁻⁴
    z0 = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    torch.softmax(z0, 0)[0].backward()
    assert z0.grad[0].item() == pytest.approx(0.25)
    assert round(0.25 / z.grad[0].item(), -1) == 750
    back = card("softmax-saturation").back
    assert "≈ 0.99966" in back and "3.4 × 10⁻⁴" in back and "750 times" in back


def test_qkv_shapes_through_pytorch():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn.functional as F

    B, T, d, h = 2, 5, 12, 3
    x = torch.randn(B, T, d)
    w_q, w_k, w_v = (torch.randn(d, d) for _ in range(3))

    def heads(t):
        return t.view(B, T, h, d // h).transpose(1, 2)

    q, k, v = heads(x @ w_q), heads(x @ w_k), heads(x @ w_v)
    assert q.shape == (B, h, T, d // h)
    assert (q @ k.transpose(-2, -1)).shape == (B, h, T, T)
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (B, h, T, d // h)
    assert out.transpose(1, 2).reshape(B, T, d).shape == (B, T, d)
    back = card("qkv-shapes").back
    for shape in ("(B, h, T, d_head)", "(B, h, T, T)", "(B, T, d_model)"):
        assert shape in back


# -- masks -------------------------------------------------------------------------------------


def test_causal_mask_before_softmax_and_the_mcq_stories():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn.functional as F

    T, d = 4, 3
    q, k, v = (torch.randn(1, 1, T, d, dtype=torch.float64) for _ in range(3))
    s = q @ k.transpose(-2, -1) / math.sqrt(d)
    later = torch.ones(T, T, dtype=torch.bool).triu(1)  # key j after query i
    w = torch.softmax(s.masked_fill(later, float("-inf")), -1)
    assert torch.allclose(w.sum(-1), torch.ones(1, 1, T, dtype=torch.float64))
    assert (w[..., later] == 0).all()
    assert torch.allclose(w @ v, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    # Zeroing after the softmax leaves rows summing to less than 1 (all but the last).
    after = torch.softmax(s, -1).masked_fill(later, 0)
    assert (after.sum(-1)[0, 0, :-1] < 1 - 1e-9).all()
    # Masking the earlier keys lets the first query see every later key: the future.
    earlier = torch.ones(T, T, dtype=torch.bool).tril(-1)
    wrong = torch.softmax(s.masked_fill(earlier, float("-inf")), -1)
    assert (wrong[0, 0, 0, 1:] > 0).all()
    assert key(card("causal-mask-mcq")).startswith("Add −∞ to the scores of later keys")


def test_boolean_mask_conventions():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn.functional as F

    torch.manual_seed(0)
    q, k, v = torch.randn(1, 1, 2, 4), torch.randn(1, 1, 3, 4), torch.randn(1, 1, 3, 4)
    allow_only_key0 = torch.tensor([[True, False, False], [True, False, False]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=allow_only_key0)
    assert torch.allclose(out, v[:, :, :1].expand(1, 1, 2, 4), atol=1e-6)  # True = attend

    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True, bias=False)
    x, mem = torch.randn(1, 2, 4), torch.randn(1, 3, 4)
    block_key0 = torch.tensor([[True, False, False], [True, False, False]])
    _, weights = mha(x, mem, mem, attn_mask=block_key0)
    assert (weights[0, :, 0] == 0).all() and (weights[0, :, 1:] > 0).all()  # True = blocked
    _, weights = mha(x, mem, mem, key_padding_mask=torch.tensor([[False, False, True]]))
    assert (weights[0, :, 2] == 0).all()  # True = padding, ignored

    assert '"not allowed to attend"' in card("pytorch-bool-mask-conventions").back
    assert key(card("sdpa-bool-mask-mcq")) == "Query i may attend to key j"


def test_fully_masked_row_gives_nan():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn.functional as F

    assert torch.isnan(torch.softmax(torch.full((3,), float("-inf")), 0)).all()
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    x = torch.randn(2, 3, 4)
    pad = torch.tensor([[True, True, True], [False, False, True]])  # sequence 0: all padding
    for mode in (mha.train, mha.eval):
        mode()
        out, _ = mha(x, x, x, key_padding_mask=pad)  # need_weights=True is the default
        assert torch.isnan(out[0]).all() and not torch.isnan(out[1]).any()
    # F.scaled_dot_product_attention (torch 2.13, CPU) returns zeros for a fully masked row.
    q, k, v = torch.randn(1, 1, 2, 4), torch.randn(1, 1, 3, 4), torch.randn(1, 1, 3, 4)
    nothing_kept = torch.zeros(2, 3, dtype=torch.bool)
    assert (F.scaled_dot_product_attention(q, k, v, attn_mask=nothing_kept) == 0).all()
    # A large finite value instead of −∞: no NaN, the weight goes to the masked keys.
    w = torch.softmax(torch.randn(3).masked_fill(torch.ones(3, dtype=torch.bool), -1e9), 0)
    assert not torch.isnan(w).any() and w.sum().item() == pytest.approx(1)
    back = card("fully-masked-row").back
    assert "default need_weights=True returns NaN" in back
    assert "F.scaled_dot_product_attention returns zeros" in back
    assert "PyTorch 2.13" in back


def test_padding_mask_shapes():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    B, T, d = 3, 5, 8
    lengths = torch.tensor([5, 3, 1])
    pad = torch.arange(T)[None, :] >= lengths[:, None]  # (B, T): True at pads
    mha = torch.nn.MultiheadAttention(d, 2, batch_first=True)
    x = torch.randn(B, T, d)
    _, w = mha(x, x, x, key_padding_mask=pad, average_attn_weights=False)
    assert pad.shape == (B, T) and w.shape == (B, 2, T, T)
    assert (w.masked_select(pad[:, None, None, :].expand_as(w)) == 0).all()  # (B, 1, 1, T)
    assert "(B, 1, 1, T)" in card("padding-mask").back


# -- multi-head attention: parameter counts ------------------------------------------------------


def test_mha_param_count_mcq_against_torch():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    d, h = 512, 8
    c = card("mha-param-count-mcq")
    assert f"embed_dim={d}" in c.question and f"num_heads={h}" in c.question
    full = n_params(torch.nn.MultiheadAttention(d, h))
    no_bias = n_params(torch.nn.MultiheadAttention(d, h, bias=False))
    assert integer(key(c)) == full == 1_050_624
    qkv_only = full - n_params(torch.nn.MultiheadAttention(d, h).out_proj)
    per_head_copies = h * full
    assert {integer(x) for x in c.choices} == {full, no_bias, qkv_only, per_head_copies}


def test_mha_param_select_all_against_torch():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    c = card("mha-params-select-all")
    d, h = 64, 4
    base = n_params(torch.nn.MultiheadAttention(d, h))
    changes = {
        "Doubling embed_dim": n_params(torch.nn.MultiheadAttention(2 * d, h)) != base,
        "Doubling num_heads, with embed_dim fixed": n_params(torch.nn.MultiheadAttention(d, 2 * h))
        != base,
        "Passing bias=False": n_params(torch.nn.MultiheadAttention(d, h, bias=False)) != base,
        "Setting dropout=0.1": n_params(torch.nn.MultiheadAttention(d, h, dropout=0.1)) != base,
    }
    assert {c.choices[i] for i in c.answer} == {k for k, v in changes.items() if v}


def gpt2_block(d: int):
    """A GPT-2 block from torch modules: two LayerNorms, attention with biases, MLP d→4d→d."""
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn as nn

    return nn.ModuleList([
        nn.LayerNorm(d), nn.MultiheadAttention(d, 1), nn.LayerNorm(d),
        nn.Linear(d, 4 * d), nn.Linear(4 * d, d),
    ])


def test_block_param_count_mcq():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn as nn

    d = 1024
    c = card("block-param-count-mcq")
    assert "d_model = 1024" in c.question
    attention = n_params(nn.MultiheadAttention(d, 16, bias=False))
    mlp = n_params(nn.Linear(d, 4 * d, bias=False)) + n_params(nn.Linear(4 * d, d, bias=False))
    assert integer(key(c)) == attention + mlp
    no_output_projection = attention - d * d + mlp
    assert {integer(x) for x in c.choices} == {attention + mlp, attention, mlp,
                                               no_output_projection}
    assert mlp / (attention + mlp) == pytest.approx(2 / 3)  # "two thirds … in the MLP"


def test_gpt2_small_count():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn as nn

    d, layers, vocab, context = 768, 12, 50_257, 1024
    block = n_params(gpt2_block(d))
    wte, wpe, ln_f = vocab * d, context * d, n_params(nn.LayerNorm(d))
    total = layers * block + wte + wpe + ln_f
    back = card("gpt2-small-count").back
    for value in (block, layers * block, wte, wpe, ln_f, total):
        assert f"{value:,}" in back, value
    assert f"about {round(100 * wte / total)}%" in back
    assert "12 layers, d = 768, vocabulary 50,257, context 1024" in card("gpt2-small-count").front
    assert f"{block:,}" in card("block-param-count-formula").explanation


def test_weight_tying_saving():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn as nn

    untied = n_params(nn.Linear(768, 50_257, bias=False))
    assert f"{untied / 1e6:.1f}M" == "38.6M"
    assert "38.6M for a 50,257-token vocabulary at d = 768" in card("weight-tying").back


def test_weight_tying_update_rows():
    # Untied: the input embedding's gradient touches only the input words' rows, the output
    # layer's gradient touches every row; a tied matrix gets gradient in every row.
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    vocab, d = 10, 4
    tokens, target = torch.tensor([2, 7]), torch.tensor([3, 5])

    def grads(tied):
        emb = torch.nn.Embedding(vocab, d)
        out = torch.nn.Linear(d, vocab, bias=False)
        if tied:
            out.weight = emb.weight
        torch.nn.functional.cross_entropy(out(emb(tokens)), target).backward()
        return emb.weight.grad, out.weight.grad

    emb_grad, out_grad = grads(tied=False)
    assert set(emb_grad.abs().sum(1).nonzero().flatten().tolist()) == {2, 7}
    assert (out_grad.abs().sum(1) > 0).all()
    tied_grad, _ = grads(tied=True)
    assert (tied_grad.abs().sum(1) > 0).all()
    back = card("weight-tying").back
    assert "whose rows are all updated at every step" in back
    assert "updates only the rows of the words in the input" in back


# -- FLOPs -------------------------------------------------------------------------------------


def flops(fn) -> int:
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def test_weight_flops_per_token_are_2n():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    d, layers = 16, 3
    mats = [torch.randn(d, d) for _ in range(4 * layers)]  # Q, K, V, O
    mats += [m for _ in range(layers) for m in (torch.randn(d, 4 * d), torch.randn(4 * d, d))]
    n = sum(m.numel() for m in mats)
    assert n == 12 * layers * d * d  # Kaplan's N ≈ 12·n_layer·d²
    x = torch.randn(1, d)

    def forward_one_token():
        for m in mats:
            (x if m.shape[0] == d else torch.randn(1, 4 * d)) @ m

    assert flops(forward_one_token) == 2 * n


def test_backward_costs_twice_the_forward():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    # A training step on the weights: forward 2N, backward 4N (grads for inputs and weights).
    d, tokens = 16, 8
    w = torch.randn(d, 4 * d, requires_grad=True)
    x = torch.randn(tokens, d, requires_grad=True)
    forward = flops(lambda: x @ w)
    step = flops(lambda: (x @ w).sum().backward())
    assert forward == 2 * tokens * w.numel()
    assert step == 3 * forward  # 6N per token
    back = card("flops-per-token").back
    assert "Backward costs about twice the forward" in back and "6N per token" in back
    c = card("training-flops-mcq")
    assert "about 4N backward" in c.explanation


def test_one_query_against_the_context():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    T, d = 32, 16
    q, k, v = torch.randn(1, d), torch.randn(T, d), torch.randn(T, d)
    assert flops(lambda: q @ k.T) == 2 * T * d  # QKᵀ for one query
    assert flops(lambda: torch.randn(1, T) @ v) == 2 * T * d  # weighted sum of V
    # Causal: query t sees t keys; on average (T + 1)/2 ≈ T/2, so 4·(T/2)·d ≈ 2·T·d.
    causal = sum(4 * t * d for t in range(1, T + 1)) / T
    assert causal == pytest.approx(2 * T * d, rel=1 / T + 1e-9)
    back = card("flops-per-token").back
    assert "2N + 2·n_layer·n_ctx·d FLOPs per token" in back and "n_ctx/2 keys on average" in back


def test_context_term_ratio_numbers():
    def ratio(n_ctx, d, layers=1):
        return Fraction(2 * layers * n_ctx * d, 2 * 12 * layers * d * d)

    assert ratio(2048, 4096) == Fraction(2048, 12 * 4096)
    assert f"about {round(100 * float(ratio(2048, 4096)))}%" in card("context-term-ratio").back
    c = card("context-term-ratio-mcq")
    assert "d_model = 4096" in c.question and "n_ctx = 8192" in c.question
    assert f"8192/{12 * 4096:,}" in c.explanation
    r = ratio(8192, 4096)
    assert Fraction(key(c)) == r == Fraction(1, 6)
    stories = {1 / r, Fraction(2 * 8192 * 4096, 12 * 4096**2), Fraction(8192, 4096)}
    assert {Fraction(x) for x in c.choices} == {r} | stories


def test_training_flops_mcq():
    c = card("training-flops-mcq")
    n, tokens = 1e9, 2e10
    assert "10⁹ non-embedding" in c.question and "2 × 10¹⁰ tokens" in c.question
    assert sci(key(c)) == pytest.approx(6 * n * tokens)
    stories = [2 * n * tokens, 4 * n * tokens, n * tokens]  # forward, backward, 1 FLOP/weight
    assert sorted(sci(x) for x in c.choices) == pytest.approx(sorted([6 * n * tokens, *stories]))


def test_score_memory_mcq():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    c = card("score-memory-mcq")
    B, h, T = 8, 12, 4096
    assert f"Batch {B}, {h} heads, T = {T}" in c.question
    one = torch.empty(T, T, dtype=torch.float16)
    per_head = one.numel() * one.element_size()
    assert nbytes(key(c)) == B * h * per_head
    stories = {per_head, h * per_head, 2 * B * h * per_head}
    assert {nbytes(x) for x in c.choices} == {B * h * per_head} | stories


def test_quadratic_in_t_select_all():
    def costs(T, d=64, h=4, layers=2):
        return {
            "The attention score matrix": h * T * T,
            "The FLOPs of the MLP layers": layers * T * 2 * 8 * d * d,
            "The KV cache": 2 * layers * T * d,
            "The parameter count": layers * 12 * d * d,
        }

    small, big = costs(100), costs(200)
    quadratic = {k for k in small if big[k] == 4 * small[k]}
    c = card("quadratic-in-t-select-all")
    assert {c.choices[i] for i in c.answer} == quadratic


# -- KV cache, MQA, GQA ------------------------------------------------------------------------


def test_kv_cache_size_mcq():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    c = card("kv-cache-size-mcq")
    layers, heads, d_head, T = 32, 32, 128, 4096
    assert "32 layers, 32 heads of d_head = 128" in c.question and "4096" in c.question
    one_layer_k = torch.empty(heads, T, d_head, dtype=torch.float16)
    per_layer = 2 * one_layer_k.numel() * one_layer_k.element_size()
    total = layers * per_layer
    assert nbytes(key(c)) == total == 2**31
    stories = {total // 2, 2 * total, per_layer}  # K only, fp32, one layer
    assert {nbytes(x) for x in c.choices} == {total} | stories


def test_gqa_cache_ratio():
    c = card("gqa-cache-ratio-mcq")
    h, g = 32, 8
    assert key(c) == f"{h // g} times smaller"
    assert {x.split()[0] for x in c.choices[:3]} == {str(h // g), str(g), str(h)}
    assert "32 query heads with 8 KV heads store a quarter of the MHA cache" in card("gqa").back


def test_gqa_select_all_with_sdpa():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn.functional as F

    B, h, g, T, dh, d = 1, 8, 2, 6, 4, 32
    q = torch.randn(B, h, T, dh)
    k, v = torch.randn(B, g, T, dh), torch.randn(B, g, T, dh)
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    ref = F.scaled_dot_product_attention(q, k.repeat_interleave(h // g, 1),
                                         v.repeat_interleave(h // g, 1))
    assert torch.allclose(out, ref, atol=1e-6)
    score_flops = flops(lambda: q @ k.repeat_interleave(h // g, 1).transpose(-2, -1))
    mha_score_flops = flops(lambda: q @ torch.randn(B, h, T, dh).transpose(-2, -1))
    reduced = {
        "The size of the KV cache": k.numel() < q.numel(),
        "The number of query heads": False,
        "The parameters of the K and V projections": d * g * dh < d * h * dh,
        "The FLOPs of computing QKᵀ": score_flops < mha_score_flops,
    }
    c = card("gqa-saves-select-all")
    assert {c.choices[i] for i in c.answer} == {k for k, v in reduced.items() if v}


# -- normalization and the warmup schedule -----------------------------------------------------


def test_rmsnorm_mcq_against_torch():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    x = torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=torch.float64)
    rms = torch.nn.RMSNorm(4, eps=0.0, dtype=torch.float64)(x)
    ln = torch.nn.LayerNorm(4, eps=0.0, dtype=torch.float64)(x)
    c = card("rmsnorm-value-mcq")
    assert "x = (1, 2, 3, 6)" in c.question
    assert float(key(c)) == round(rms[-1].item(), 3)
    stories = {round(ln[-1].item(), 3), round(6 / x.mean().item(), 3),
               round(6 / x.pow(2).sum().sqrt().item(), 3)}
    assert {float(s) for s in c.choices} == {round(rms[-1].item(), 3)} | stories
    assert "≈ 3.536" in c.explanation and f"{x.pow(2).mean().sqrt().item():.3f}" == "3.536"
    assert f"{x.std(unbiased=False).item():.3f}" == "1.871"


def test_original_warmup_schedule_peak():
    def lrate(step, d=512, warmup=4000):
        return d**-0.5 * min(step**-0.5, step * warmup**-1.5)

    steps = range(1, 20_000)
    peak_step = max(steps, key=lrate)
    assert peak_step == 4000
    assert f"{lrate(peak_step):.1e}" == "7.0e-04"
    assert "7.0 × 10⁻⁴" in card("original-warmup-schedule").back


def test_pre_ln_mcq_key():
    assert key(card("pre-ln-form-mcq")) == "x + F(LayerNorm(x))"


# -- positions -------------------------------------------------------------------------------


def test_attention_without_positions_is_permutation_equivariant():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    torch.manual_seed(1)
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(1, 5, 8)
    perm = torch.tensor([3, 0, 4, 1, 2])
    out, _ = mha(x, x, x)
    out_perm, _ = mha(x[:, perm], x[:, perm], x[:, perm])
    assert torch.allclose(out[:, perm], out_perm, atol=1e-6)
    assert "permutes the outputs in the same way" in card("why-positions").back


def sinusoidal(pos, d):
    import numpy as np

    i = np.arange(d // 2)
    angle = pos / 10000 ** (2 * i / d)
    pe = np.empty(d)
    pe[0::2], pe[1::2] = np.sin(angle), np.cos(angle)
    return pe


def test_sinusoidal_shift_is_a_linear_map_independent_of_pos():
    import numpy as np

    d, k = 16, 7
    shifted = np.array([sinusoidal(p + k, d) for p in range(40)])
    base = np.array([sinusoidal(p, d) for p in range(40)])
    m, *_ = np.linalg.lstsq(base, shifted, rcond=None)  # one map for every pos
    assert np.allclose(base @ m, shifted, atol=1e-8)
    # Wavelengths 2π·10000^(2i/d): from 2π towards 10000·2π, a geometric progression.
    waves = [2 * math.pi * 10000 ** (2 * i / d) for i in range(d // 2)]
    assert waves[0] == pytest.approx(2 * math.pi)
    assert len({round(b / a, 9) for a, b in zip(waves, waves[1:])}) == 1
    assert waves[-1] < 10000 * 2 * math.pi
    assert "from 2π to 10000·2π" in card("sinusoidal-pe").back


def test_rope_scores_depend_only_on_the_offset():
    import numpy as np

    d = 8
    theta = 10000.0 ** (-2 * np.arange(d // 2) / d)  # θᵢ = 10000^(−2(i−1)/d), i from 1

    def rotate(x, pos):
        out = np.empty_like(x)
        c, s = np.cos(pos * theta), np.sin(pos * theta)
        out[0::2] = x[0::2] * c - x[1::2] * s
        out[1::2] = x[0::2] * s + x[1::2] * c
        return out

    rng = np.random.default_rng(2)
    q, k = rng.standard_normal(d), rng.standard_normal(d)
    for m in range(12):
        for n in range(12):
            for shift in (1, 5, 100):
                moved = rotate(q, m + shift) @ rotate(k, n + shift)
                assert rotate(q, m) @ rotate(k, n) == pytest.approx(moved)
    assert rotate(q, 3) @ rotate(k, 1) != pytest.approx(rotate(q, 1) @ rotate(k, 1))
    assert "(R_m q)ᵀ(R_n k) = qᵀ R_(n−m) k" in card("rope").back


def test_rope_long_term_decay_bound_decays_with_oscillations():
    # Su et al. §3.4.3: |q·k| ≤ (max |h|) · Σⱼ |Sⱼ| with Sⱼ = Σ_{k<j} e^{i·r·θ_k}, r = m − n;
    # the card says this bound decays as r grows, not monotonically.
    import numpy as np

    d = 128
    theta = 10000.0 ** (-2 * np.arange(d // 2) / d)

    def bound(r):
        return np.abs(np.cumsum(np.exp(1j * r * theta))).mean()

    values = [bound(r) for r in range(2000)]
    assert values[0] == pytest.approx((d // 2 + 1) / 2)  # |Sⱼ| = j at r = 0
    assert values[100] < values[0] / 3 and values[1000] < values[0] / 7
    assert any(b > a for a, b in zip(values, values[1:]))  # oscillates
    assert "decays (with small oscillations)" in card("rope-long-term-decay").back


def test_alibi_slopes():
    def slopes(n):
        start = 2 ** (-8 / n)
        return [start * start**i for i in range(n)]

    assert slopes(8) == pytest.approx([1 / 2**i for i in range(1, 9)])
    assert slopes(16)[0] == pytest.approx(1 / math.sqrt(2))
    assert "(1/2, 1/4, …, 1/256 for 8 heads)" in card("alibi").back
    assert key(card("alibi-slopes-mcq")) == "A fixed geometric sequence: 1/2, 1/4, …, 1/256"


def test_alibi_and_rope_add_nothing_to_embeddings():
    c = card("nothing-added-select-all")
    assert {c.choices[i] for i in c.answer} == {"RoPE", "ALiBi"}


# -- tokenization --------------------------------------------------------------------------------


def test_bpe_first_merge_on_the_toy_corpus():
    from collections import Counter

    corpus = {"cat": 8, "hat": 6, "cats": 3, "car": 5, "bar": 4}
    c = card("bpe-first-merge-mcq")
    assert all(f"{w} ×{n}" in c.question for w, n in corpus.items())
    pairs = Counter()
    for word, n in corpus.items():
        for a, b in zip(word, word[1:]):
            pairs[a, b] += n
    (best, count), (second, count2) = pairs.most_common(2)
    assert key(c) == f"{best[0]} + {best[1]}" and count == 17
    assert second == ("c", "a") and count2 == 16
    assert {tuple(x.split(" + ")) for x in c.choices} <= set(pairs)
    assert f"{pairs['a', 'r']}" in c.explanation and f"only {pairs['t', 's']}" in c.explanation


def test_byte_level_base_vocabulary():
    assert len({bytes([b]) for b in range(256)}) == 256
    assert "café ☕".encode() and all(b < 256 for b in "café ☕".encode())
    c = card("byte-level-bpe-select-all")
    assert {c.choices[i] for i in c.answer} == {
        "Its base vocabulary has 256 symbols",
        "Any string can be encoded without an unknown token",
        "Its full vocabulary has 50,257 tokens",
    }


def test_output_layer_flops_per_token():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    d, vocab = 16, 100
    w = torch.randn(d, vocab)
    assert flops(lambda: torch.randn(1, d) @ w) == 2 * d * vocab
    assert "2·d·V FLOPs per token" in card("vocab-size-tradeoff").back


# -- MLPs ------------------------------------------------------------------------------------


def test_swiglu_width_and_params():
    d = 768
    two_matrix = 2 * d * (4 * d)
    d_ff = Fraction(two_matrix, 3 * d)
    assert d_ff == 2048 == Fraction(2, 3) * 3072
    c = card("swiglu-width-mcq")
    assert integer(key(c)) == d_ff
    assert 3 * d * 3072 == Fraction(3, 2) * two_matrix  # keeping 3072: 1.5 × the parameters
    stories = {3072, 3072 // 3, 3072 // 2}
    assert {integer(x) for x in c.choices} == {int(d_ff)} | stories
    assert 3 * d * Fraction(8 * d, 3) == 8 * d * d == 2 * d * 4 * d
    assert "3072 → 2048 at d_model = 768" in card("swiglu").back


def test_gelu_definition_and_minimum():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    x = torch.linspace(-3, 1, 400_001, dtype=torch.float64)
    phi = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    gelu = torch.nn.functional.gelu(x)
    assert torch.allclose(gelu, x * phi)
    assert round(gelu.min().item(), 2) == -0.17
    assert "about −0.17" in card("gelu-mlp").back


def test_position_wise_ffn_numbers():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch.nn as nn

    d, d_ff = 512, 2048
    back = card("position-wise-ffn").back
    assert f"d_model = {d} and d_ff = {d_ff}, four times wider" in back and d_ff == 4 * d
    ffn = n_params(nn.Linear(d, d_ff, bias=False)) + n_params(nn.Linear(d_ff, d, bias=False))
    attention = n_params(nn.MultiheadAttention(d, 8, bias=False))
    assert Fraction(ffn, ffn + attention) == Fraction(2, 3)  # "two thirds of … weights"
    assert "two thirds of an encoder layer's weights" in back


def test_cross_attention_weight_shape():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    B, h, t_dec, t_src, d = 2, 8, 20, 50, 16
    mha = torch.nn.MultiheadAttention(d, h, batch_first=True)
    _, w = mha(torch.randn(B, t_dec, d), torch.randn(B, t_src, d), torch.randn(B, t_src, d),
               average_attn_weights=False)
    assert tuple(w.shape) == (B, h, t_dec, t_src)
    c = card("cross-attention-shape-mcq")
    assert key(c) == f"(B, {h}, {t_dec}, {t_src})"
    stories = {f"(B, {h}, {t_src}, {t_dec})", f"(B, {h}, {t_dec}, {t_dec})",
               f"(B, {h}, {t_dec + t_src}, {t_dec + t_src})"}
    assert set(c.choices) == {key(c)} | stories


# -- formula cards ---------------------------------------------------------------------------

@pytest.mark.parametrize("c", formula_cards(deck()), ids=lambda c: c.id)
def test_formula_answer_accepted_and_mistakes_refused(c):
    for seed in range(3):
        rng = random.Random(seed)
        assert grade_formula(c, c.answer, rng).correct
        assert_mistakes_listed(c, rng)


def at(formula_card: FormulaCard, /, **env: float) -> float:
    """The card's answer evaluated at `env` (a card may have a variable named c)."""
    return evaluate(read_formula(formula_card.answer, formula_card.variables).tree, env)


def test_mha_param_formula_against_torch():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    c = card("mha-param-count-formula")
    for d, h in ((8, 2), (64, 4), (96, 8), (128, 16)):
        assert at(c, d=d, h=h) == n_params(torch.nn.MultiheadAttention(d, h))


def test_mha_parameter_shapes_named_in_the_formula_card():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    d = 24
    shapes = {n: tuple(p.shape) for n, p in torch.nn.MultiheadAttention(d, 4).named_parameters()}
    assert shapes == {"in_proj_weight": (3 * d, d), "in_proj_bias": (3 * d,),
                      "out_proj.weight": (d, d), "out_proj.bias": (d,)}
    explanation = card("mha-param-count-formula").explanation
    assert "in_proj_weight (3d × d), in_proj_bias (3d) and out_proj (d × d + d)" in explanation


def test_block_param_formula_against_torch():
    c = card("block-param-count-formula")
    for d in (8, 64, 96, 768):
        assert at(c, d=d) == n_params(gpt2_block(d))


def test_score_flops_formula_against_the_flop_counter():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    c = card("score-flops-formula")
    for T, d, h in ((16, 32, 4), (40, 24, 3), (8, 64, 1)):
        q, k = torch.randn(1, h, T, d // h), torch.randn(1, h, T, d // h)
        assert at(c, T=T, d=d, h=h) == flops(lambda: q @ k.transpose(-2, -1))


def test_projection_flops_in_the_score_card():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    T, d = 12, 16
    x, w = torch.randn(T, d), torch.randn(d, d)
    assert 4 * flops(lambda: x @ w) == 8 * T * d * d  # Q, K, V and O projections
    assert "the projections cost 8Td²" in card("score-flops-formula").explanation


def test_weighted_sum_of_values_costs_as_much_as_the_scores():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    T, h, dh = 10, 3, 4
    q, k, v = (torch.randn(1, h, T, dh) for _ in range(3))
    weights = torch.softmax(q @ k.transpose(-2, -1), -1)
    scores_flops = flops(lambda: q @ k.transpose(-2, -1))
    assert flops(lambda: weights @ v) == scores_flops == 2 * T * T * (h * dh)
    assert "The weighted sum of the values costs the same 2T²d again" in card(
        "score-flops-formula").explanation


def test_forward_flops_formula():
    # 2N from the weights (checked against the flop counter above) plus Kaplan's context
    # term, 2·n_layer·n_ctx·d_attn (Table 1), written here from the paper's definition.
    c = card("forward-flops-formula")
    for layers, T, d in ((2, 128, 16), (12, 1024, 768)):
        n = 12 * layers * d * d
        assert at(c, N=n, L=layers, T=T, d=d) == 2 * n + 2 * layers * T * d
        assert (2 * layers * T * d) / (2 * n) == pytest.approx(T / (12 * d))


def test_dot_product_variance_formula_by_sampling():
    import numpy as np

    c = card("dot-product-variance-formula")
    rng = np.random.default_rng(5)
    for d, var in ((16, 2.0), (4, 0.5)):
        q = rng.normal(0, math.sqrt(var), (200_000, d))
        k = rng.normal(0, math.sqrt(var), (200_000, d))
        assert np.sum(q * k, axis=1).var() == pytest.approx(at(c, d=d, v=var), rel=0.03)
        scaled = np.sum(q * k, axis=1) / math.sqrt(d)  # "brings the variance to v²"
        assert scaled.var() == pytest.approx(var * var, rel=0.03)
    assert "brings the variance to v²" in c.explanation


def test_kv_cache_bytes_formula_against_real_tensors():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    import torch

    c = card("kv-cache-bytes-per-token-formula")
    for layers, g, h, dh in ((2, 1, 4, 8), (3, 2, 8, 16), (4, 4, 4, 32)):
        T = 5
        cache_k = torch.empty(layers, g, T, dh, dtype=torch.float16)
        cache_v = torch.empty_like(cache_k)
        per_token = (cache_k.nbytes + cache_v.nbytes) / T
        assert at(c, L=layers, g=g, h=h, dh=dh) == per_token


def test_rope_score_formula_against_rotation_matrices():
    import numpy as np

    c = card("rope-score-formula")
    rng = np.random.default_rng(7)

    def rot(a):
        return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])

    for _ in range(10):
        q1, k1, th = rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(0, 1)
        m, n = rng.integers(0, 64, 2)
        want = (rot(m * th) @ [q1, 0]) @ (rot(n * th) @ [k1, 0])
        assert at(c, q1=q1, k1=k1, m=float(m), n=float(n), theta=th) == pytest.approx(want)


def test_sinusoid_shift_formula():
    c = card("sinusoid-shift-formula")
    rng = random.Random(3)
    for _ in range(10):
        w, pos, k = rng.uniform(0, 1), rng.uniform(0, 500), rng.uniform(0, 64)
        got = at(c, s=math.sin(w * pos), c=math.cos(w * pos), w=w, k=k)
        assert got == pytest.approx(math.sin(w * (pos + k)))


def _rope_score(env):
    def rot(t):
        return [[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]
    a, b = rot(env["m"] * env["theta"]), rot(env["n"] * env["theta"])
    qr = (a[0][0] * env["q1"], a[1][0] * env["q1"])  # R(mθ)·(q1, 0)
    kr = (b[0][0] * env["k1"], b[1][0] * env["k1"])  # R(nθ)·(k1, 0)
    return qr[0] * kr[0] + qr[1] * kr[1]


# Independent computations of what each formula card asks (test_formula_cards compares the
# card's answer with these at random points).
REFERENCES = {
    "mha-param-count-formula": lambda e: 3 * (e["d"] ** 2 + e["d"]) + (e["d"] ** 2 + e["d"]),
    "block-param-count-formula": lambda e: 2 * 2 * e["d"] + 4 * (e["d"] ** 2 + e["d"])
    + (4 * e["d"] ** 2 + 4 * e["d"]) + (4 * e["d"] ** 2 + e["d"]),
    "score-flops-formula": lambda e: e["h"] * e["T"] * e["T"] * (e["d"] / e["h"]) * 2,
    "forward-flops-formula": lambda e: 2 * e["N"] + 2 * e["L"] * e["T"] * e["d"],
    "dot-product-variance-formula": lambda e: e["d"] * (e["v"] * e["v"]),
    "kv-cache-bytes-per-token-formula": lambda e: 2 * 2 * e["L"] * e["g"] * e["dh"],
    "rope-score-formula": _rope_score,
    "sinusoid-shift-formula": lambda e: e["s"] * math.cos(e["w"] * e["k"])
    + e["c"] * math.sin(e["w"] * e["k"]),
}


NOTATIONS = {
    "mha-param-count-formula": ["4d^2+4d", "4d(d+1)", "4*d*d + 4*d"],
    "block-param-count-formula": ["12d^2+13d", "d(12d + 13)", "4d²+4d + 8d²+5d + 4d"],
    "score-flops-formula": ["2*T^2*d", "2T·T·d", "2h·T²·(d/h)"],
    "forward-flops-formula": ["2N+2LTd", "2(N + L·T·d)", "2*N + 2*L*T*d"],
    "dot-product-variance-formula": ["d v^2", "d*v*v", "v²d"],
    "kv-cache-bytes-per-token-formula": ["4*L*g*dh", "2·2·L·g·d_h", "2L g dh · 2"],
    "rope-score-formula": ["q1 k1 cos(θ(m-n))", "q₁k₁cos((n − m)θ)",
                           "q1*k1*(cos(m*theta)*cos(n*theta) + sin(m*theta)*sin(n*theta))"],
    "sinusoid-shift-formula": ["s cos(w k) + c sin(w k)", "c·sin(kw) + s·cos(kw)"],
}


def test_every_formula_card_has_notations():
    assert set(NOTATIONS) == {c.id for c in formula_cards(deck())}


@pytest.mark.parametrize("c", formula_cards(deck()), ids=lambda c: c.id)
def test_other_notations_are_accepted(c):
    for typed in NOTATIONS[c.id]:
        v = grade_formula(c, typed, random.Random(0))
        assert v.correct, (typed, v.feedback)


# -- the card numbers against the golden file (no torch needed) ---------------------------------
# Each test below checks, against tests/golden/transformers_deck.json, what the live test of the
# same name above checks against torch; the last one checks that the file is what torch says now.

P, FL, MEM = GOLDEN["params"], GOLDEN["flops"], GOLDEN["memory"]


def test_golden_softmax_saturation():
    g = GOLDEN["softmax_saturation"]
    assert round(g["p"], 5) == 0.99966 and round(g["grad"], 5) == 0.00034
    assert g["grad"] == pytest.approx(g["p"] * (1 - g["p"])) and g["grad_at_zero"] == 0.25
    assert round(g["grad_at_zero"] / g["grad"], -1) == 750
    back = card("softmax-saturation").back
    assert "≈ 0.99966" in back and "3.4 × 10⁻⁴" in back and "750 times" in back


def test_golden_qkv_shapes():
    g = GOLDEN["qkv_shapes"]
    B, T, d, h = g["B"], g["T"], g["d"], g["h"]
    assert g["q"] == g["sdpa_out"] == [B, h, T, d // h]
    assert g["scores"] == [B, h, T, T] and g["merged"] == [B, T, d]
    back = card("qkv-shapes").back
    for shape in ("(B, h, T, d_head)", "(B, h, T, T)", "(B, T, d_model)"):
        assert shape in back


def test_golden_causal_mask():
    assert all(GOLDEN["causal_mask"].values()), GOLDEN["causal_mask"]
    assert key(card("causal-mask-mcq")).startswith("Add −∞ to the scores of later keys")


def test_golden_boolean_mask_conventions():
    assert all(GOLDEN["bool_masks"].values()), GOLDEN["bool_masks"]
    assert '"not allowed to attend"' in card("pytorch-bool-mask-conventions").back
    assert key(card("sdpa-bool-mask-mcq")) == "Query i may attend to key j"


def test_golden_fully_masked_row():
    assert all(GOLDEN["fully_masked"].values()), GOLDEN["fully_masked"]
    back = card("fully-masked-row").back
    assert "default need_weights=True returns NaN" in back
    assert "F.scaled_dot_product_attention returns zeros" in back
    assert "PyTorch 2.13" in back


def test_golden_padding_mask_shapes():
    g = GOLDEN["padding_mask"]
    B, T = g["B"], g["T"]
    assert g["pad"] == [B, T] and g["weights"] == [B, 2, T, T]
    assert g["broadcast"] == [B, 1, 1, T] and g["pads_get_zero_weight"]
    assert "(B, 1, 1, T)" in card("padding-mask").back


def test_golden_mha_param_count_mcq():
    c = card("mha-param-count-mcq")
    assert "embed_dim=512" in c.question and "num_heads=8" in c.question
    full = P["mha_512_8"]
    assert integer(key(c)) == full == 1_050_624
    stories = {P["mha_512_8_no_bias"], full - P["mha_512_8_out_proj"], 8 * full}
    assert {integer(x) for x in c.choices} == {full} | stories


def test_golden_mha_param_select_all():
    c = card("mha-params-select-all")
    base = P["mha_64_4"]
    changes = {
        "Doubling embed_dim": P["mha_128_4"] != base,
        "Doubling num_heads, with embed_dim fixed": P["mha_64_8"] != base,
        "Passing bias=False": P["mha_64_4_no_bias"] != base,
        "Setting dropout=0.1": P["mha_64_4_dropout"] != base,
    }
    assert {c.choices[i] for i in c.answer} == {k for k, v in changes.items() if v}


def test_golden_block_param_count_mcq():
    d = 1024
    c = card("block-param-count-mcq")
    assert "d_model = 1024" in c.question
    attention, mlp = P["mha_1024_16_no_bias"], P["mlp_1024_no_bias"]
    assert integer(key(c)) == attention + mlp
    assert {integer(x) for x in c.choices} == {attention + mlp, attention, mlp,
                                               attention - d * d + mlp}
    assert mlp / (attention + mlp) == pytest.approx(2 / 3)


def test_golden_gpt2_small_count():
    layers = 12
    block = P["gpt2_block"]["768"]
    wte, wpe, ln_f = P["embedding_50257_768"], P["embedding_1024_768"], P["layernorm_768"]
    total = layers * block + wte + wpe + ln_f
    back = card("gpt2-small-count").back
    for value in (block, layers * block, wte, wpe, ln_f, total):
        assert f"{value:,}" in back, value
    assert f"about {round(100 * wte / total)}%" in back
    assert "12 layers, d = 768, vocabulary 50,257, context 1024" in card("gpt2-small-count").front
    assert f"{block:,}" in card("block-param-count-formula").explanation


def test_golden_weight_tying():
    untied = P["linear_768_50257_no_bias"]
    assert f"{untied / 1e6:.1f}M" == "38.6M"
    back = card("weight-tying").back
    assert "38.6M for a 50,257-token vocabulary at d = 768" in back
    g = GOLDEN["weight_tying_rows"]
    assert g["untied_embedding_rows_updated"] == sorted(g["input_tokens"])
    assert g["untied_output_rows_updated"] == g["tied_rows_updated"] == g["vocab"]
    assert "whose rows are all updated at every step" in back
    assert "updates only the rows of the words in the input" in back


def test_golden_weight_flops_and_backward():
    w = FL["weights_per_token"]
    assert w["n"] == 12 * w["layers"] * w["d"] ** 2 and w["flops"] == 2 * w["n"]
    t = FL["training_step"]
    assert t["forward"] == 2 * t["tokens"] * t["n"] and t["step"] == 3 * t["forward"]
    back = card("flops-per-token").back
    assert "Backward costs about twice the forward" in back and "6N per token" in back
    assert "about 4N backward" in card("training-flops-mcq").explanation


def test_golden_one_query_against_the_context():
    g = FL["one_query"]
    assert g["qk"] == g["weighted_v"] == 2 * g["T"] * g["d"]
    back = card("flops-per-token").back
    assert "2N + 2·n_layer·n_ctx·d FLOPs per token" in back and "n_ctx/2 keys on average" in back


def test_golden_score_memory_mcq():
    c = card("score-memory-mcq")
    B, h = 8, 12
    assert f"Batch {B}, {h} heads, T = 4096" in c.question
    per_head = MEM["score_matrix_fp16_4096"]
    assert nbytes(key(c)) == B * h * per_head
    assert {nbytes(x) for x in c.choices} == {B * h * per_head, per_head, h * per_head,
                                              2 * B * h * per_head}


def test_golden_kv_cache_size_mcq():
    c = card("kv-cache-size-mcq")
    assert "32 layers, 32 heads of d_head = 128" in c.question and "4096" in c.question
    per_layer = 2 * MEM["kv_k_one_layer_fp16_32x4096x128"]
    total = 32 * per_layer
    assert nbytes(key(c)) == total == 2**31
    assert {nbytes(x) for x in c.choices} == {total, total // 2, 2 * total, per_layer}


def test_golden_gqa_select_all():
    g = GOLDEN["gqa"]
    assert g["sdpa_enable_gqa_equals_repeat"]
    reduced = {
        "The size of the KV cache": g["cache_numel_gqa"] < g["cache_numel_mha"],
        "The number of query heads": False,
        "The parameters of the K and V projections": g["kv_proj_params_gqa"]
        < g["kv_proj_params_mha"],
        "The FLOPs of computing QKᵀ": g["score_flops_gqa"] < g["score_flops_mha"],
    }
    c = card("gqa-saves-select-all")
    assert {c.choices[i] for i in c.answer} == {k for k, v in reduced.items() if v}


def test_golden_rmsnorm_mcq():
    g = GOLDEN["rmsnorm"]
    c = card("rmsnorm-value-mcq")
    assert "x = (1, 2, 3, 6)" in c.question and g["x"] == [1, 2, 3, 6]
    want = round(g["rmsnorm_last"], 3)
    assert float(key(c)) == want
    stories = {round(g["layernorm_last"], 3), round(6 / g["mean"], 3), round(6 / g["l2"], 3)}
    assert {float(s) for s in c.choices} == {want} | stories
    assert "≈ 3.536" in c.explanation and f"{g['rms']:.3f}" == "3.536"
    assert f"{g['std']:.3f}" == "1.871"


def test_golden_permutation_equivariance():
    assert GOLDEN["permutation"]["outputs_permuted_the_same_way"]
    assert "permutes the outputs in the same way" in card("why-positions").back


def test_golden_output_layer_flops():
    g = FL["output_layer"]
    assert g["flops"] == 2 * g["d"] * g["vocab"]
    assert "2·d·V FLOPs per token" in card("vocab-size-tradeoff").back


def test_golden_gelu():
    g = GOLDEN["gelu"]
    assert g["equals_x_phi"] and round(g["min"], 2) == -0.17
    assert "about −0.17" in card("gelu-mlp").back


def test_golden_position_wise_ffn():
    back = card("position-wise-ffn").back
    assert "d_model = 512 and d_ff = 2048, four times wider" in back
    ffn, attention = P["ffn_512_2048_no_bias"], P["mha_512_8_no_bias"]
    assert Fraction(ffn, ffn + attention) == Fraction(2, 3)
    assert "two thirds of an encoder layer's weights" in back


def test_golden_cross_attention_shape():
    g = GOLDEN["cross_attention"]
    h, t_dec, t_src = g["h"], g["t_dec"], g["t_src"]
    assert g["weights"] == [g["B"], h, t_dec, t_src]
    c = card("cross-attention-shape-mcq")
    assert key(c) == f"(B, {h}, {t_dec}, {t_src})"
    stories = {f"(B, {h}, {t_src}, {t_dec})", f"(B, {h}, {t_dec}, {t_dec})",
               f"(B, {h}, {t_dec + t_src}, {t_dec + t_src})"}
    assert set(c.choices) == {key(c)} | stories


def test_golden_mha_formula_and_shapes():
    c = card("mha-param-count-formula")
    for point in P["mha_formula_points"]:
        assert at(c, d=point["d"], h=point["h"]) == point["params"]
    d = 24
    assert P["mha_shapes_24_4"] == {"in_proj_weight": [3 * d, d], "in_proj_bias": [3 * d],
                                    "out_proj.weight": [d, d], "out_proj.bias": [d]}
    assert "in_proj_weight (3d × d), in_proj_bias (3d) and out_proj (d × d + d)" in c.explanation


def test_golden_block_param_formula():
    c = card("block-param-count-formula")
    for d, count in P["gpt2_block"].items():
        assert at(c, d=int(d)) == count


def test_golden_score_flops_formula():
    c = card("score-flops-formula")
    for g in FL["score_flops"]:
        assert at(c, T=g["T"], d=g["d"], h=g["h"]) == g["flops"]
    p = FL["projection"]
    assert 4 * p["one"] == 8 * p["T"] * p["d"] ** 2
    assert "the projections cost 8Td²" in c.explanation
    w = FL["weighted_sum"]
    assert w["values"] == w["scores"] == 2 * w["T"] ** 2 * (w["h"] * w["dh"])
    assert "The weighted sum of the values costs the same 2T²d again" in c.explanation


def test_golden_kv_cache_bytes_formula():
    c = card("kv-cache-bytes-per-token-formula")
    for g in MEM["kv_cache_per_token"]:
        assert at(c, L=g["L"], g=g["g"], h=g["h"], dh=g["dh"]) == g["bytes"]


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return b == pytest.approx(a, rel=1e-9)
    return a == b


def test_the_golden_file_is_what_torch_says_now():
    pytest.importorskip("torch")  # the live check needs the .[torch] extra
    now = json.loads(json.dumps(golden_maker("transformers_deck").golden()))
    now.pop("torch")
    assert _same({k: v for k, v in GOLDEN.items() if k != "torch"}, now)
