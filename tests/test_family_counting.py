"""The counting drill family, checked against references that share none of its code.

- tests/golden/counting.json: every answer of 200 seeds per difficulty, computed with PyTorch
  (tests/golden/make_counting.py: numel() of real modules, FlopCounterMode, nn.Conv2d on a
  zeros tensor, K/V tensors' element_size() · numel(), a real optimizer step's state);
- a learner who works each answer from the problem's JSON with a 3-significant-figure number
  after every multiplication (written here, not taken from the family);
- hand-worked goldens (GPT-2 small's 124,439,808 parameters; Llama-2-7B's KV cache);
- the grading engine on every named mistake, on counts typed the way people write them, and
  on the problem's own expected answer.
Counts have no loss (loss_scalar is ""), and no question's wrt is an input, so the engine's
finite-difference sweep skips them.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from drill_ref import (
    assert_fits_screen,
    assert_expected_accepted,
    assert_golden_covers_200_seeds,
    assert_rounding_learner_accepted,
    cached_family,
    load_golden,
    modules_loaded,
    registered,
)

from quizforge.drill.check import grade, near
from quizforge.drill.families import counting as C
from quizforge.drill.family import generate
from quizforge.drill.model import blocks_text, tensor_text
from quizforge.drill.rounding import round_sig

FAMILY = "counting"
DIFFICULTIES = (1, 2, 3)
GOLDEN = load_golden(FAMILY)
SEEDS = range(200)
problem, as_json = cached_family(FAMILY)


# -- 1. PyTorch's answers (golden file) ----------------------------------------------------------
def test_golden_file_covers_200_seeds_per_difficulty():
    assert_golden_covers_200_seeds(GOLDEN)


def test_every_answer_matches_pytorch():
    for g in GOLDEN["problems"]:
        d = as_json(g["seed"], g["difficulty"])
        assert d["setup"] == g["setup"], g
        assert {q["wrt"] for q in d["questions"]} == set(g["answers"]), g
        for q in d["questions"]:
            ref = g["answers"][q["wrt"]]
            assert math.isclose(q["value"], ref, rel_tol=1e-9), (g["seed"], q["wrt"], ref)


# -- 2. hand-worked goldens ----------------------------------------------------------------------
def test_famous_counts_by_hand():
    # GPT-2 small: V 50257, 1024 positions, d 768, 12 layers, tied head: 124,439,808
    assert C.decoder_params(50257, 1024, 768, 12, tied=True) == 124_439_808
    # one GPT-2 block: 12·768² + 13·768 = 7,077,888 + 9,984
    assert C.block_params(768) == 7_087_872
    assert C.mha_params(768) == 4 * 768 * 768 + 4 * 768 == 2_362_368
    # Llama-2-7B: 32 layers, 32 KV heads of 128, fp16: 512 KiB per token, 2 GiB at 4096
    assert C.kv_cache_bytes(32, 32, 128, 1, 1, 2) == 2**19
    assert C.kv_cache_bytes(32, 32, 128, 4096, 1, 2) == 2**31
    # ResNet's first conv: 3→64, 7×7, stride 2, padding 3 on 224: 9,472 params, 112×112
    assert C.conv2d_params(3, 64, 7) == 9408 + 64
    assert C.conv_out(224, 7, 2, 3) == 112
    assert C.conv_out(32, 3, 2, 1, 2) == 15  # ⌊(32 + 2 − 4 − 1)/2⌋ + 1 = 14 + 1
    assert C.lora_params(8, 4096, 4096) == 65536
    assert C.linear_params(784, 10) == 7850 and C.matmul_flops(2, 3, 4) == 48
    # model states: mixed-precision Adam 16 bytes per parameter, as pure fp32 Adam
    assert sum(b for _, b in C.ADAM_MIXED) == 16 == 4 + 4 + 4 + 4
    assert sum(b for _, b in C.SGD_MOMENTUM_FP32) == 12


def test_a_pinned_problem():
    """Worked by hand: A 10×2, B 2×256, C 256×32. A·B = 2·10·2·256 = 10,240;
    (A·B)·C adds 2·10·256·32 = 163,840; A·(B·C) = 2·2·256·32 + 2·10·2·32 = 32,768 + 1,280."""
    d = as_json(0, 1)
    assert d["setup"] == "matmul" and d["params"] == {"m": 10, "k": 2, "n": 256, "p": 32}
    assert [q["expected"] for q in d["questions"]] == ["10240", "174080", "34048"]


# -- 3. a learner who keeps 3 significant figures ------------------------------------------------
def r(v: float) -> float:
    return float(round_sig(float(v)))


def prod(*factors: float) -> float:
    acc = factors[0]
    for f in factors[1:]:
        acc = r(acc * f)
    return acc


def learner(d: dict, index: int) -> float:
    """The answer from the JSON, worked the way a person does it with 3 figures."""
    p, wrt, kind = d["params"], d["questions"][index]["wrt"], d["setup"]
    size = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int4": 0.5}
    if kind == "linear":
        i, o, B = p["in_features"], p["out_features"], p["batch_size"]
        return {"params": r(prod(i, o) + o), "flops_forward": prod(2, B, i, o),
                "flops_backward": prod(4, B, i, o)}[wrt]
    if kind == "matmul":
        m, k, n, q = p["m"], p["k"], p["n"], p["p"]
        return {"flops_AB": prod(2, m, k, n),
                "flops_AB_C": r(prod(2, m, k, n) + prod(2, m, n, q)),
                "flops_A_BC": r(prod(2, k, n, q) + prod(2, m, k, q))}[wrt]
    if kind == "conv2d":
        k, s, pad, dil = p["kernel_size"], p["stride"], p["padding"], p["dilation"]
        ho = (p["H_in"] + 2 * pad - dil * (k - 1) - 1) // s + 1
        wo = (p["W_in"] + 2 * pad - dil * (k - 1) - 1) // s + 1
        cin, cout = p["in_channels"], p["out_channels"]
        return {"params": r(prod(cin, cout, k, k) + cout), "H_out": ho, "W_out": wo,
                "flops_forward": prod(2, cin * k * k, cout, ho, wo)}[wrt]
    if kind == "kv-cache":
        nb = size[p["dtype"]]
        heads = p["num_heads"] if wrt == "bytes_total_mha" else p["num_kv_heads"]
        per = prod(2, p["num_layers"], heads, p["head_dim"], nb)
        return per if wrt == "bytes_per_token" else prod(per, p["seq_len"], p["batch_size"])
    if kind == "weights-memory":
        return r(p["num_params"] / 1e9 * size[wrt.removeprefix("GB_")])
    if kind == "training-memory":
        per = {"GB_adam_mixed": 2 + 2 + 4 + 4 + 4, "GB_sgd_momentum_fp32": 4 + 4 + 4}[wrt]
        return r(p["num_params"] / 1e9 * per)
    if kind == "transformer-block":
        dm = p["d_model"]
        sq = r(dm * dm)
        return {"params_attention": r(r(4 * sq) + 4 * dm),
                "params_mlp": r(r(8 * sq) + 5 * dm),
                "params_block": r(r(12 * sq) + 13 * dm)}[wrt]
    if kind == "decoder":
        V, T, dm, L = p["vocab_size"], p["n_positions"], p["d_model"], p["num_layers"]
        emb = r(r(V * dm) + r(T * dm))
        blk = r(r(12 * r(dm * dm)) + 13 * dm)
        tied = r(r(emb + r(L * blk)) + 2 * dm)
        return {"params_embeddings": emb, "params_tied": tied,
                "params_untied": r(tied + r(V * dm))}[wrt]
    if kind == "lora":
        dm, rank, L = p["d_model"], p["r"], p["num_layers"]
        return {"params_adapter": prod(rank, 2 * dm),
                "params_qv_all_layers": prod(L, 2, rank, 2 * dm),
                "params_adapter_mlp": prod(rank, 5 * dm)}[wrt]
    if kind == "training-compute":
        N, D = r(p["num_params"]), r(p["num_tokens"])
        return {"flops_per_token_forward": prod(2, N), "flops_training": prod(6, N, D),
                "flops_chinchilla": prod(6, N, prod(20, N))}[wrt]
    raise AssertionError(kind)


def test_a_learner_rounding_to_three_figures_is_accepted():
    def same(answer, t, key):
        assert math.isclose(answer, t.value, rel_tol=0.02), (*key, answer, t.value)

    assert_rounding_learner_accepted(
        (problem(s, d) for d in DIFFICULTIES for s in SEEDS),
        lambda p, i: learner(as_json(p.seed, p.difficulty), i), same, rate=1.0)


def test_counts_typed_as_people_write_them():
    """e-notation, magnitudes, thousands separators, powers: all read by the safe parser."""
    found = Counter()
    for d in DIFFICULTIES:
        for s in range(60):
            p = problem(s, d)
            for i in range(len(p.questions)):
                v = p.target(i).value
                found["any"] += 1
                typed = [f"{v:.3g}", f"{v:.2e}"]
                if v >= 1e9:
                    typed += [f"{v / 1e9:.3g}B", f"{v / 1e9:.3g} billion"]
                elif v >= 1e6:
                    typed += [f"{v / 1e6:.3g}M", f"{v / 1e6:.3g} million"]
                if float(v).is_integer() and v < 1e15:
                    typed.append(f"{int(v):,}")
                for t in typed:
                    assert grade(p, t, i).correct, (s, d, i, t, v)
    kv = next(problem(s, 1) for s in range(200) if as_json(s, 1)["setup"] == "kv-cache"
              and math.log2(problem(s, 1).target(1).value).is_integer())
    assert grade(kv, f"2^{int(math.log2(kv.target(1).value))}", 1).correct


# -- 4. every named mistake is refused and named -------------------------------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_named_mistake_is_refused_and_named(difficulty):
    """Typed as the engine prints it and as a person would (3 figures)."""
    for seed in SEEDS:
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            library = p.target(i).mistakes
            for j, m in enumerate(library):
                same_value = {k.kind for k in library[:j + 1] if near(m.value, k.value, 0.006)}
                for typed in (tensor_text(m.value, exact=False), f"{m.value:.3g}"):
                    v = grade(p, typed, i)
                    assert not v.correct and not v.rejected, (seed, i, m.kind, typed)
                    assert v.mistake in same_value, (seed, difficulty, i, m.kind, v.mistake)


# the mistakes the issue lists, each named in some problems of its difficulty
NEED = {1: {"multiply-add-once", "kv-once", "bits-not-bytes", "biases-dropped",
            "floor-forgotten", "padding-once", "plus-one-forgotten", "stride-ignored"},
        2: {"kv-heads", "kv-once", "bits-not-bytes", "biases-dropped", "dilation-ignored",
            "floor-forgotten", "padding-once", "master-copy-forgotten", "multiply-add-once"},
        3: {"tied-counted-twice", "forward-only", "full-rank", "multiply-add-once",
            "positions-forgotten", "layers-once"}}


def test_the_mistakes_an_interviewer_looks_for_are_named():
    for difficulty in DIFFICULTIES:
        seen = {m.kind for s in SEEDS for p in [problem(s, difficulty)]
                for i in range(len(p.questions)) for m in p.target(i).mistakes}
        assert NEED[difficulty] <= seen, NEED[difficulty] - seen


def test_every_problem_names_its_lesson():
    lesson = {("linear", 0): "biases-dropped", ("linear", 1): "multiply-add-once",
              ("matmul", 0): "multiply-add-once", ("kv-cache", 0): "kv-once",
              ("training-memory", 0): "master-copy-forgotten",
              ("decoder", 1): "tied-counted-twice", ("training-compute", 1): "forward-only",
              ("lora", 0): "full-rank"}
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            p, d = problem(seed, difficulty), as_json(seed, difficulty)
            for i in range(len(p.questions)):
                kinds = {m.kind for m in p.target(i).mistakes}
                need = lesson.get((d["setup"], i))
                assert need is None or need in kinds, (seed, difficulty, i, need)
                if d["setup"] == "kv-cache" and i == 0:
                    assert "bits-not-bytes" in kinds
                    if d["params"]["num_kv_heads"] < d["params"]["num_heads"]:
                        assert "kv-heads" in kinds
                if d["setup"] == "conv2d" and d["params"]["dilation"] > 1 and i == 0:
                    assert {"dilation-ignored", "floor-forgotten"} <= kinds


# -- 5. own expected answer, determinism, JSON, screens, zeros -----------------------------------
def test_expected_text_is_accepted():
    assert_expected_accepted(problem(s, d) for d in DIFFICULTIES for s in SEEDS)


def test_same_seed_same_problem():
    for difficulty in DIFFICULTIES:
        for seed in range(10):
            assert generate(FAMILY, seed, difficulty).to_dict() == problem(seed, difficulty) \
                .to_dict()


def test_every_setup_appears_at_its_difficulty():
    seen = {d: Counter(as_json(s, d)["setup"] for s in SEEDS) for d in DIFFICULTIES}
    assert set(seen[1]) == {"linear", "matmul", "conv2d", "kv-cache", "weights-memory"}
    assert set(seen[2]) == {"transformer-block", "kv-cache", "conv2d", "training-memory"}
    assert set(seen[3]) == {"decoder", "lora", "training-compute"}
    for d in DIFFICULTIES:
        assert min(seen[d].values()) >= 25, seen[d]


def test_json_carries_the_inputs_by_pytorch_names():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[:60]:
            d = as_json(seed, difficulty)
            assert d["loss_scalar"] == "" and d["family"] == FAMILY
            assert d["inputs"] == {k: v for k, v in d["params"].items()
                                   if not isinstance(v, (str, bool))}
            for q in d["questions"]:
                assert q["wrt"] not in d["inputs"] and q["shape"] == []


def test_questions_differ_and_no_answer_is_zero():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            p = problem(seed, difficulty)
            values = [p.target(i).value for i in range(len(p.questions))]
            assert all(v > 0 for v in values), (seed, values)
            assert not any(near(a, b, 0.006) for i, a in enumerate(values)
                           for b in values[i + 1:]), (seed, values)
            assert len({q.wrt for q in p.questions}) == len(values) >= 2
            for i in range(len(values)):
                assert p.question(i).skills and len(p.hints(i)) == 2


def test_body_and_solution_fit_the_screen_and_end_with_the_answer():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            p = problem(seed, difficulty)
            for i in range(len(p.questions)):
                sol = blocks_text(p.solution(i)).splitlines()
                assert sol[0] == "Formula:" and "Numbers:" in sol
                label, _, answer = sol[-1].partition(" = ")
                assert label == p.target(i).label and grade(p, answer, i).correct
            assert_fits_screen(p)


def test_no_solution_gives_away_a_later_answer():
    """A question's worked solution never shows the answer of a question asked after it."""
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            p = problem(seed, difficulty)
            for i in range(len(p.questions)):
                shown = blocks_text(p.solution(i))
                for j in range(i + 1, len(p.questions)):
                    if p.target(j).value < 100:
                        continue  # a small size (an H_out of 12) can be any intermediate
                    later = re.escape(C._c(p.target(j).value))
                    assert not re.search(rf"= {later}(?![0-9.,e])", shown), (seed, i, j)


def test_registered_and_cheap_to_import():
    registered(FAMILY)
    _, numpy, sympy = modules_loaded(FAMILY, 3)
    assert (numpy, sympy) == (False, False)
