"""The numbers the distributed-scale deck states, recomputed independently of the card text.

Each test reads a card and checks what it claims (its key, its distractors' stories, its
worked values) against a computation written here from the definitions: a simulated ring
all-reduce and pipeline schedule, memory counted component by component, FLOPs counted
matrix product by matrix product, never the card's own formula.
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
)

from quizforge.decks.formula import grade_formula, read_formula
from quizforge.decks.model import MCQ, Flashcard, FormulaCard
from quizforge.decks.validate import parse_deck
from quizforge.drill.parse import evaluate

DECK = "distributed-scale"
PATH = Path(__file__).resolve().parent.parent / "decks" / f"{DECK}.yaml"
GB = 1e9


deck, card = deck_file(PATH, strict=True)


SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def value(text: str) -> float:
    """The first number in `text`, with 'a × 10ⁿ' read as a·10ⁿ and '−' as a minus sign."""
    text = text.replace("≈", "").replace("−", "-")
    m = re.search(r"(-?\d+(?:\.\d+)?)(?:\s*×\s*10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+))?", text)
    assert m, text
    mantissa = float(m.group(1))
    return mantissa * 10 ** int(m.group(2).translate(SUPERSCRIPT)) if m.group(2) else mantissa


def flat(text: str) -> str:
    """`text` with every run of whitespace (line breaks included) as one space."""
    return " ".join(text.split())


def has_choice(c: MCQ, v: float, rel: float = 0.01) -> bool:
    return any(math.isclose(value(x), v, rel_tol=rel) for x in c.choices)


def text_of(c) -> str:
    parts = [getattr(c, f, None) for f in ("front", "back", "question", "explanation")]
    parts += list(getattr(c, "choices", ()))
    return "\n".join(p for p in parts if p)


# -- the deck as a whole ---------------------------------------------------------------------


def test_deck_parses_and_has_the_minimum_counts():
    cards = deck().cards
    mcqs = [c for c in cards if isinstance(c, MCQ)]
    assert len(cards) >= 55
    assert len(mcqs) >= 16
    assert sum(c.multi for c in mcqs) >= 4
    assert sum(isinstance(c, FormulaCard) for c in cards) >= 5
    assert len({c.id for c in cards}) == len(cards)
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", c.id) for c in cards)


def test_select_all_cards_vary_the_number_right():
    multi = [c for c in deck().cards if isinstance(c, MCQ) and c.multi]
    assert {len(c.answer) for c in multi} == {1, 2, 3, 4}


def references() -> str:
    head = PATH.read_text(encoding="utf-8").split("\ndeck:", 1)[0]
    return head.split("References", 1)[1]


def test_every_card_cites_a_listed_reference():
    refs = references()
    for c in deck().cards:
        assert c.source, c.id
        # Each source is a list of works separated by ';', each starting with its authors
        # (or "PyTorch docs"); each must appear in the header's list.
        for work in c.source.split(";"):
            author = re.match(r"\s*(PyTorch docs|[A-Z][A-Za-z]+)", work)
            assert author and author.group(1) in refs, (c.id, work)
        if isinstance(c, Flashcard):
            assert c.back.strip()


def test_formula_cards_are_tagged_and_explained():
    for c in deck().cards:
        if isinstance(c, FormulaCard):
            assert "formulas" in c.tags and c.explanation and c.mistakes, c.id


def test_formula_card_ids_do_not_collide_with_other_bundled_decks():
    # Progress is kept per deck, so other ids may repeat; formula ids key the shared
    # reference tables of tests/test_formula_cards.py.
    ours = {c.id for c in deck().cards if c.type == "formula"}
    for other in PATH.parent.glob("*.yaml"):
        if other != PATH:
            parsed = parse_deck(other.read_text(encoding="utf-8"), other)
            if parsed.deck is not None:
                theirs = {c.id for c in parsed.deck.cards if c.type == "formula"}
                assert not ours & theirs, other.name


# -- ring all-reduce: a simulation ----------------------------------------------------------


def ring_all_reduce(tensors):
    """Ring reduce-scatter then all-gather on N equal-length lists; returns the results and
    the number of elements each worker sent."""
    n = len(tensors)
    size = len(tensors[0])
    assert size % n == 0
    c = size // n
    data = [list(t) for t in tensors]
    sent = [0] * n
    steps = 0

    def chunk(i):
        return slice((i % n) * c, (i % n + 1) * c)

    for step in range(n - 1):  # reduce-scatter: worker w sends chunk (w − step)
        msgs = [(w, (w - step) % n, data[w][chunk(w - step)]) for w in range(n)]
        for w, ch, payload in msgs:
            dst = (w + 1) % n
            s = chunk(ch)
            data[dst][s] = [a + b for a, b in zip(data[dst][s], payload, strict=True)]
            sent[w] += len(payload)
        steps += 1
    for step in range(n - 1):  # all-gather: worker w sends its completed chunk (w + 1 − step)
        msgs = [(w, (w + 1 - step) % n, data[w][chunk(w + 1 - step)]) for w in range(n)]
        for w, ch, payload in msgs:
            data[(w + 1) % n][chunk(ch)] = list(payload)
            sent[w] += len(payload)
        steps += 1
    return data, sent, steps


def ring_fraction_sent(n: int) -> float:
    """Bytes each worker sends, as a multiple of the tensor's size (by simulation)."""
    rng = random.Random(n)
    tensors = [[rng.randint(-9, 9) for _ in range(2 * n)] for _ in range(n)]
    result, sent, steps = ring_all_reduce(tensors)
    total = [sum(col) for col in zip(*tensors, strict=True)]
    assert all(r == total for r in result)  # it really is an all-reduce
    assert steps == 2 * (n - 1) and len(set(sent)) == 1
    return sent[0] / (2 * n)


def test_ring_simulation_matches_the_cards():
    assert ring_fraction_sent(4) == pytest.approx(1.5)  # training-practice's 1 GB on 4
    f8, f64 = ring_fraction_sent(8), ring_fraction_sent(64)
    c = card("ring-scaling-mcq")
    assert key(c) == f"They grow only slightly, from {f8:.2f}M to about {f64:.2f}M"
    assert "7M to 63M" in text_of(c)  # (N − 1)·M, every worker sending everything
    assert f"{f64:.2f}M" in c.explanation


def test_ring_time_terms():
    m, bw, alpha = 1 * GB, 100 * GB, 5e-6
    back = card("ring-bandwidth-vs-latency").back
    for n, ms in ((8, "17.5"), (64, "19.7")):
        assert f"{ring_fraction_sent(n) * m / bw * 1e3:.1f}" == ms
        assert f"{ms} ms at N = {n}" in back or f"{ms} ms at\nN = {n}" in back
    assert f"{2 * m / bw * 1e3:.0f} ms" in back
    for n in (8, 64):
        _, _, steps = ring_all_reduce([[0] * n for _ in range(n)])
        assert f"{steps * alpha * 1e6:.0f} µs at N = {n}" in back


# -- PyTorch defaults the cards name, read from the installed torch's source ----------------


def torch_source(relative: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec("torch")
    path = None if spec is None or spec.origin is None else Path(spec.origin).parent / relative
    if path is None or not path.is_file():
        pytest.skip("torch is not installed (the .[torch] extra)")
    return path.read_text(encoding="utf-8")


def test_ddp_bucket_default_is_25_mib():
    src = flat(torch_source("nn/parallel/distributed.py"))
    assert "a default size of 25 MiB will be used" in src
    assert "25 MiB by default" in card("ddp-bucketing-why").back
    assert "about 25 MiB" in card("ddp-bucket-mcq").question


def test_checkpoint_preserves_the_rng_state_by_default():
    src = flat(torch_source("utils/checkpoint.py"))
    assert re.search(r"preserve_rng_state\(bool, optional\):.*?Default: ``True``", src)
    assert "preserve_rng_state=True by default" in flat(card("checkpoint-dropout-rng").back)


def test_dataparallel_no_sync_and_fsdp_behaviour_from_the_docstrings():
    dp = flat(torch_source("nn/parallel/data_parallel.py"))
    assert "even if there is only a single node" in dp
    assert "In each forward, :attr:`module` is **replicated** on each device" in dp
    assert "copies the model to every GPU at each forward" in card("ddp-vs-dataparallel").back
    ddp = flat(torch_source("nn/parallel/distributed.py"))
    assert "Context manager to disable gradient synchronizations across DDP processes" in ddp
    assert "inside no_sync()" in flat(card("accumulation-vs-large-batch").back)
    assert "following the reverse order of the registered parameters" in ddp
    fsdp = flat(torch_source("distributed/fsdp/fully_sharded_data_parallel.py"))
    assert "GPU memory usage from only *two* consecutive FSDP instances" in fsdp
    assert "at most two all-gathers in flight" in flat(card("fsdp-prefetch").back)
    api = flat(torch_source("distributed/fsdp/api.py"))
    assert "does not reshard them after the forward, and only reshards them after the " \
        "backward computation" in api  # SHARD_GRAD_OP
    assert "``HYBRID_SHARD``: Apply ``FULL_SHARD`` within a node, and replicate parameters " \
        "across nodes" in api
    assert key(card("fsdp-strategy-mcq")) == "SHARD_GRAD_OP"
    assert "contend for the same per-device NCCL stream" in api  # why prefetch order matters
    assert "run one after another on one NCCL stream" in flat(card("fsdp-prefetch").back)
    fully = flat(torch_source("distributed/fsdp/_fully_shard/_fully_shard.py"))
    assert "If ``False``, then this keeps the unsharded parameters in memory after forward " \
        "and avoids the all-gather in backward" in fully
    assert "reshard_after_forward=False" in card("fsdp-strategy-mcq").explanation


# -- pipeline schedules: a simulation --------------------------------------------------------


def gpipe_idle_fraction(p: int, m: int, tf: float = 1.0, tb: float = 2.0) -> float:
    """All forwards then all backwards, each stage waiting for its inputs; returns the share
    of the run each stage is idle."""
    fwd_end = [[0.0] * m for _ in range(p)]
    for s in range(p):
        for j in range(m):
            ready = max(fwd_end[s][j - 1] if j else 0.0, fwd_end[s - 1][j] if s else 0.0)
            fwd_end[s][j] = ready + tf
    start_bwd = fwd_end[p - 1][m - 1]
    bwd_end = [[0.0] * m for _ in range(p)]
    for s in reversed(range(p)):
        for j in range(m):
            ready = max(bwd_end[s][j - 1] if j else start_bwd,
                        bwd_end[s + 1][j] if s < p - 1 else start_bwd)
            bwd_end[s][j] = ready + tb
    total = bwd_end[0][m - 1]
    return 1 - m * (tf + tb) / total


def test_pipeline_simulation_matches_the_cards():
    back = card("pipeline-bubble-worked").back
    assert f"m = 8: 3/11 ≈ {gpipe_idle_fraction(4, 8):.0%}" in back
    assert f"m = 32: 3/35 ≈ {gpipe_idle_fraction(4, 32):.1%}" in back
    c = card("pipeline-bubble-mcq")
    assert value(key(c)) == pytest.approx(100 * gpipe_idle_fraction(8, 24), abs=0.05)
    # distractors: bubble over ideal time (Narayanan), p instead of p − 1, 1/p
    idle = gpipe_idle_fraction(8, 24) * 31  # idle slots
    for wrong in (idle / 24, 8 / 32, 1 / 8):
        assert has_choice(c, 100 * wrong, rel=0.002)
    assert round(idle) == 7


def one_f_one_b(p: int, m: int, tf: float = 1.0, tb: float = 2.0) -> tuple[float, int]:
    """PipeDream-Flush: stage s runs p − s − 1 warm-up forwards, then alternates one forward
    and one backward, then drains its backwards. Returns the run's length and the most
    micro-batches any stage holds activations for at once."""
    orders = []
    for s in range(p):
        warm = min(p - s - 1, m)
        ops = [("F", j) for j in range(warm)]
        f, b = warm, 0
        while b < m:
            if f < m:
                ops.append(("F", f))
                f += 1
            ops.append(("B", b))
            b += 1
        orders.append(ops)
    end: dict[tuple[str, int, int], float] = {}
    clock = [0.0] * p
    pos = [0] * p
    in_flight = [0] * p
    peak = 0
    while any(pos[s] < len(orders[s]) for s in range(p)):
        progressed = False
        for s in range(p):
            if pos[s] == len(orders[s]):
                continue
            kind, j = orders[s][pos[s]]
            if kind == "F":  # needs the previous stage's forward (stage 0: the input)
                dep = ("F", s - 1, j) if s else None
            else:  # needs the next stage's backward (last stage: its own forward)
                dep = ("B", s + 1, j) if s < p - 1 else ("F", s, j)
            if dep is not None and dep not in end:
                continue
            start = max(clock[s], end[dep] if dep else 0.0)
            clock[s] = end[(kind, s, j)] = start + (tf if kind == "F" else tb)
            in_flight[s] += 1 if kind == "F" else -1
            peak = max(peak, in_flight[s])
            pos[s] += 1
            progressed = True
        assert progressed, "deadlock"
    return max(clock), peak


def test_1f1b_same_bubble_fewer_micro_batches_in_flight():
    for p, m in ((4, 8), (4, 32), (8, 24)):
        total, peak = one_f_one_b(p, m)
        assert 1 - m * 3 / total == pytest.approx(gpipe_idle_fraction(p, m))
        assert peak == p  # GPipe holds all m
    assert "At most p micro-batches are in flight" in flat(card("pipeline-1f1b").back)


def interleaved_1f1b(p: int, v: int, m: int, tf: float = 1.0, tb: float = 2.0) -> float:
    """Narayanan et al.'s interleaved 1F1B schedule, with the operation order of Megatron-LM's
    implementation: device r holds chunks c = 0..v−1, chunk c being global stage c·p + r of
    the v·p; its k-th forward is chunk (k mod p·v) // p of micro-batch (k // p·v)·p + k mod p
    (backwards run the chunks in reverse); it runs (p − r − 1)·2 + (v − 1)·p warm-up forwards,
    then alternates one forward and one backward, then drains. A chunk's forward takes tf/v
    and its backward tb/v; each waits for its neighbor stage. Returns the run's length."""
    assert m % p == 0  # the schedule needs whole groups of p micro-batches
    stages, total = v * p, m * v

    def op(kind: str, r: int, k: int) -> tuple[str, int, int]:
        chunk = (k % (p * v)) // p
        if kind == "B":
            chunk = v - 1 - chunk
        return kind, chunk * p + r, (k // (p * v)) * p + k % p

    orders = []
    for r in range(p):
        warm = min((p - r - 1) * 2 + (v - 1) * p, total)
        ops = [op("F", r, k) for k in range(warm)]
        for i in range(total - warm):
            ops += [op("F", r, warm + i), op("B", r, i)]
        ops += [op("B", r, i) for i in range(total - warm, total)]
        # every chunk of this device runs every micro-batch once each way
        assert sorted(ops) == sorted((kind, c * p + r, j) for kind in "FB"
                                     for c in range(v) for j in range(m))
        orders.append(ops)
    end: dict[tuple[str, int, int], float] = {}
    clock, pos = [0.0] * p, [0] * p
    while any(pos[r] < len(orders[r]) for r in range(p)):
        progressed = False
        for r in range(p):
            if pos[r] == len(orders[r]):
                continue
            kind, s, j = orders[r][pos[r]]
            if kind == "F":
                dep = ("F", s - 1, j) if s else None
            else:
                dep = ("B", s + 1, j) if s < stages - 1 else ("F", s, j)
            if dep is not None and dep not in end:
                continue
            start = max(clock[r], end[dep] if dep else 0.0)
            clock[r] = end[(kind, s, j)] = start + (tf if kind == "F" else tb) / v
            pos[r] += 1
            progressed = True
        assert progressed, "deadlock"
    return max(clock)


def test_interleaved_schedule_divides_the_bubble_by_v():
    for p, v, m in ((4, 2, 8), (4, 2, 4), (4, 4, 8), (8, 2, 16), (2, 3, 6), (8, 4, 32)):
        for tf, tb in ((1.0, 2.0), (1.0, 1.0)):
            ideal = m * (tf + tb)
            idle = interleaved_1f1b(p, v, m, tf, tb) - ideal
            assert idle / ideal == pytest.approx((p - 1) / (v * m))  # Narayanan's ratio
            # with v = 1 the same idle time is the 1F1B/GPipe bubble, (p − 1)(t_f + t_b)
            assert idle * v == pytest.approx((p - 1) * (tf + tb))
    back = flat(card("pipeline-interleaved").back)
    assert "(p − 1)/(v·m) of the ideal time" in back and "m to be a multiple of p" in back
    assert "(p − 1)/(v·m)" in card("bubble-select-all").explanation
    # the layer example: 16 layers, 4 GPUs, chunks of 2 layers; chunk c of GPU g (from 1)
    # is global stage c·4 + g
    layers, gpus, per_chunk = 16, 4, 2
    v = layers // (gpus * per_chunk)
    gpu1 = [per_chunk * (c * gpus) + i + 1 for c in range(v) for i in range(per_chunk)]
    assert gpu1 == [1, 2, 9, 10] and "GPU 1 gets layers 1–2 and 9–10" in back
    assert f"with {gpus} GPUs and {layers} layers in chunks of {per_chunk}" in back
    # communication: count the sends of one micro-batch's forward (stage s runs on GPU s mod p)
    for p, v in ((4, 2), (8, 4), (16, 2)):
        sends = sum(s % p != (s + 1) % p for s in range(v * p - 1))
        plain = sum(s != s + 1 for s in range(p - 1))
        assert (sends, plain) == (v * p - 1, p - 1)
        assert v <= sends / plain < v * (1 + 1 / (p - 1))  # "about v times"
    assert "v·p − 1 chunk boundaries instead of p − 1" in back and "about v times" in back


def test_bubble_definitions_agree_on_the_idle_time():
    p, m = 6, 20
    total_slots = m / (1 - gpipe_idle_fraction(p, m))
    idle = total_slots - m
    assert idle == pytest.approx(p - 1)
    assert idle / m == pytest.approx((p - 1) / m)  # Narayanan's ratio to the ideal time


def test_bubble_select_all():
    c = card("bubble-select-all")
    assert keys(c) == {"More micro-batches per batch",
                       "The interleaved schedule with several model chunks per GPU"}
    assert gpipe_idle_fraction(4, 16) < gpipe_idle_fraction(4, 8)
    assert gpipe_idle_fraction(8, 8) > gpipe_idle_fraction(4, 8)  # more stages: worse


# -- memory ----------------------------------------------------------------------------------

BYTES = {"fp16 weights": 2, "fp16 grads": 2, "fp32 master": 4, "momentum": 4, "variance": 4}


def zero_bytes(stage: int, psi: float, nd: float, optimizer: float | None = None) -> float:
    """Model-state bytes per GPU: each component either replicated or divided by N_d."""
    k = optimizer if optimizer is not None else (
        BYTES["fp32 master"] + BYTES["momentum"] + BYTES["variance"])
    parts = {"params": BYTES["fp16 weights"] * psi, "grads": BYTES["fp16 grads"] * psi,
             "optimizer": k * psi}
    sharded = {0: set(), 1: {"optimizer"}, 2: {"optimizer", "grads"},
               3: {"optimizer", "grads", "params"}}[stage]
    return sum(v / nd if name in sharded else v for name, v in parts.items())


def test_sixteen_bytes_and_7b():
    assert sum(BYTES.values()) == 16
    back = card("mixed-precision-16-bytes").back
    assert f"16 × 7 × 10⁹ = {16 * 7e9 / GB:.0f} GB" in back
    assert f"only {2 * 7e9 / GB:.0f} GB" in back and "8×" in back
    assert 16 / 2 == 8
    c = card("sixteen-bytes-select-all")
    assert "The activations saved for backward" not in keys(c) and len(keys(c)) == 3


def test_zero_figure1_numbers():
    back = flat(card("zero-figure1-numbers").back)
    psi, nd = 7.5e9, 64
    got = [zero_bytes(s, psi, nd) / GB for s in range(4)]
    assert f"{got[0]:.0f} GB" in back
    for v in got[1:]:
        assert f"≈ {v:.1f} GB" in back
    assert f"cuts the memory {got[0] / got[1]:.1f}×" in back
    assert f"stage 2 {got[0] / got[2]:.1f}×" in back
    big = 1e9  # the limits as N_d grows
    assert f"({16 / (zero_bytes(1, 1, big)):.0f}× as N_d grows)" in back
    assert f"({16 / (zero_bytes(2, 1, big)):.0f}× as N_d grows)" in back
    assert got[0] / got[3] == pytest.approx(nd) and f"exactly N_d = {nd}×" in back


def test_zero_7b_on_8_gpus():
    back = card("zero-7b-8gpu-worked").back
    psi, nd = 7e9, 8
    s1, s2, s3 = (zero_bytes(s, psi, nd) / GB for s in (1, 2, 3))
    assert f"= {s1:g} GB" in back and f"= {s2:g} GB" in back and f"= {s3:g} GB" in back
    assert f"Against {zero_bytes(0, psi, nd) / GB:.0f} GB" in back
    c = card("zero-7b-stage2-mcq")
    assert value(key(c)) == pytest.approx(s2)
    assert {value(x) for x in c.choices} == {s1, s2, s3, zero_bytes(0, psi, nd) / GB}


def test_zero_stage_formulas_flashcard_against_components():
    back = card("zero-stage-formulas").back
    assert "4Ψ + K·Ψ/N_d" in back and "2Ψ + (2 + K)·Ψ/N_d" in back
    rng = random.Random(0)
    for _ in range(5):
        psi, nd, k = rng.uniform(1, 100), rng.randint(2, 64), rng.uniform(4, 16)
        assert zero_bytes(1, psi, nd, k) == pytest.approx(4 * psi + k * psi / nd)
        assert zero_bytes(2, psi, nd, k) == pytest.approx(2 * psi + (2 + k) * psi / nd)
        assert zero_bytes(3, psi, nd, k) == pytest.approx((4 + k) * psi / nd)


def test_zero1_divides_only_the_optimizer_states():
    c = card("zero1-divides-select-all")
    assert keys(c) == {"The fp32 optimizer states (master weights, momentum, variance)"}
    assert zero_bytes(1, 1, 8) - zero_bytes(1, 1, 16) == pytest.approx(12 / 8 - 12 / 16)


def test_zero_communication_volumes():
    # data parallel: all-reduce = reduce-scatter (Ψ) + all-gather (Ψ); stage 3 adds a gather
    dp = 1 + 1
    stage12 = 1 + 1
    stage3 = 1 + 1 + 1
    assert stage12 == dp and stage3 / dp == 1.5
    assert "1.5 times as much, 3Ψ" in key(card("zero3-communication-mcq"))
    assert "3Ψ, 1.5× data" in card("zero-communication-volume").back


KORTHIKANTI = {  # bytes per layer, 16-bit activations, in units of s·b·h unless noted
    "attention: QKV input": 2, "attention: Q and K": 4, "attention: V": 2,
    "attention: projection input": 2, "attention: dropout mask": 1,
    "mlp: first linear input": 2, "mlp: GeLU input": 8, "mlp: second linear input": 8,
    "mlp: dropout mask": 1, "layer norms: two inputs": 4,
}
# attention scores: softmax output (2 bytes) + its dropout mask (1) + dropout output (2),
# per head and per pair of positions: 5·a·s²·b
SCORE_BYTES = 2 + 1 + 2
# Not split by tensor parallelism: the layer norm inputs, the dropout masks after each
# block, and the inputs of the two column-parallel linears (gathered by f).
REPLICATED = {"layer norms: two inputs", "attention: dropout mask", "mlp: dropout mask",
              "attention: QKV input", "mlp: first linear input"}


def activation_bytes(s, b, h, a):
    return sum(KORTHIKANTI.values()) * s * b * h + SCORE_BYTES * a * s * s * b


def test_activation_memory_counts():
    assert sum(KORTHIKANTI.values()) == 34
    assert sum(v for k, v in KORTHIKANTI.items() if k in REPLICATED) == 10
    assert "s·b·h·(34 + 5·a·s/h)" in card("transformer-activation-memory").back
    sp_back = card("sequence-parallelism").back
    assert "(10 + 24/t + 5as/(ht))" in sp_back and "(34 + 5as/h)/t" in sp_back
    s, b, h, a = 2048, 1, 4096, 32
    back = card("activation-memory-worked").back
    assert f"≈ {34 * s * b * h / 1e6:.0f} MB" in back
    assert f"≈ {SCORE_BYTES * a * s * s * b / 1e6:.0f} MB" in back
    assert f"About {activation_bytes(s, b, h, a) / 1e6:.0f} MB per layer" in back
    assert f"≈ {32 * activation_bytes(s, b, h, a) / GB:.1f} GB for 32 layers" in back
    assert SCORE_BYTES * a * s * s * b > 34 * s * b * h  # "the larger one here"


def test_everything_that_grows_with_the_micro_batch():
    s, h, a = 512, 1024, 16
    assert activation_bytes(s, 4, h, a) == 2 * activation_bytes(s, 2, h, a)
    assert len(card("grows-with-batch-select-all").answer) == 4


# -- tensor parallelism: the split against the unsplit product --------------------------------


def test_column_then_row_split_equals_the_mlp_and_a_row_split_does_not():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8))
    A, B = rng.standard_normal((8, 16)), rng.standard_normal((16, 8))

    def gelu(z):
        return 0.5 * z * (1 + np.vectorize(math.erf)(z / np.sqrt(2)))

    full = gelu(x @ A) @ B
    t = 4
    cols = np.split(A, t, axis=1)
    rows = np.split(B, t, axis=0)
    parts = [gelu(x @ Ai) @ Bi for Ai, Bi in zip(cols, rows, strict=True)]
    assert np.allclose(sum(parts), full)  # one all-reduce (the sum) at the end
    xs, As = np.split(x, t, axis=1), np.split(A, t, axis=0)  # A split by rows instead
    wrong = sum(gelu(xi @ Ai) for xi, Ai in zip(xs, As, strict=True)) @ B
    assert not np.allclose(wrong, full)
    assert key(card("tp-column-first-mcq")).startswith("GeLU then acts")
    # one all-reduce per block, two blocks per layer; backward has as many again
    assert value(key(card("tp-all-reduce-count-mcq"))) == 2 * 1


def test_three_d_sizes():
    c = card("three-d-size-mcq")
    n, t, p = 1024, 8, 16
    assert value(key(c)) == n / (t * p)
    for wrong in (n / t, n / p, n - t - p):
        assert has_choice(c, wrong)


# -- checkpointing ---------------------------------------------------------------------------


def checkpoint_memory(n: int, k: int) -> int:
    """Stored boundaries plus the largest segment being recomputed."""
    return math.ceil(n / k) + k


def test_sqrt_n_segments():
    for n in (16, 100, 400, 900):
        best = min(range(1, n + 1), key=lambda k: checkpoint_memory(n, k))
        assert best == math.isqrt(n) and checkpoint_memory(n, best) == 2 * math.isqrt(n)
    assert checkpoint_memory(100, 100) == 1 + 100  # the "n" mistake's story


def test_recomputation_overhead():
    fwd, bwd = 1, 2
    overhead = (fwd + fwd + bwd) / (fwd + bwd) - 1
    c = card("checkpoint-overhead-mcq")
    assert value(key(c)) == pytest.approx(100 * overhead, abs=0.5)
    assert has_choice(c, 100 * fwd / bwd) and has_choice(c, 100)
    assert "from ≈ 6ND to ≈ 8ND" in flat(card("checkpointing-compute-cost").back)
    assert 6 * (fwd + fwd + bwd) / (fwd + bwd) == 8


# -- mixture of experts ----------------------------------------------------------------------


def moe_params(shared: float, expert: float, n_experts: int, k: int) -> tuple[float, float]:
    return shared + n_experts * expert, shared + k * expert


def test_moe_parameter_counts():
    total, active = moe_params(2, 5, 8, 2)
    back = card("moe-active-parameters-worked").back
    assert f"= {total:g}B" in back and f"= {active:g}B" in back
    c = card("moe-active-mcq")
    total, active = moe_params(3, 1.5, 16, 2)
    assert value(key(c)) == active
    for wrong in (total, moe_params(3, 1.5, 16, 1)[1], 3):
        assert has_choice(c, wrong)


def expert_capacity(tokens: int, experts: int, factor: float) -> float:
    """Switch §2.2: (tokens per batch / number of experts) × capacity factor."""
    per_expert = tokens / experts
    return per_expert * factor


def test_capacity_numbers():
    assert "= 80 tokens" in card("moe-capacity-worked").back
    assert expert_capacity(4096, 64, 1.25) == 80
    c = card("moe-capacity-mcq")
    assert value(key(c)) == expert_capacity(2048, 16, 1.5)
    for wrong in (2048 / 16, 2048 / 16 / 1.5, 2048 * 1.5):
        assert has_choice(c, wrong, rel=0.01)


def switch_aux_loss(router_probs, alpha=0.01):
    """α·N·Σ f_i·P_i from a batch of router probability rows (top-1 dispatch)."""
    n = len(router_probs[0])
    tokens = len(router_probs)
    f = [0.0] * n
    for row in router_probs:
        f[max(range(n), key=row.__getitem__)] += 1 / tokens
    P = [sum(row[i] for row in router_probs) / tokens for i in range(n)]
    return alpha * n * sum(fi * pi for fi, pi in zip(f, P, strict=True))


def test_switch_loss_uniform_and_concentrated():
    alpha = 0.01
    for n in (2, 8, 64):
        uniform = [[(1 + (i == j % n) * 1e-9) / n for i in range(n)] for j in range(n * 10)]
        assert switch_aux_loss(uniform, alpha) == pytest.approx(alpha, rel=1e-6)
        concentrated = [[1.0] + [0.0] * (n - 1) for _ in range(10)]
        assert switch_aux_loss(concentrated, alpha) == pytest.approx(alpha * n)
        # and the loss with the factor N left out is α/N
        assert switch_aux_loss(uniform, alpha) / n == pytest.approx(alpha / n, rel=1e-6)
    assert key(card("switch-aux-uniform-mcq")) == "α"
    assert "α = 10⁻²" in card("switch-load-balancing-loss").back


def test_switch_loss_is_never_zero():
    """A token goes to its most probable expert, so P_i >= f_i/N for every expert and the
    loss is at least α/N > 0 (the MCQ's reason). Uniform routing gives α, but it is not the
    exact minimum once f and P come from the same router rows, so no card claims it is."""
    alpha = 0.01
    rng = random.Random(5)
    for n in (2, 4, 16):
        for _ in range(50):
            rows = []
            for _ in range(rng.randint(1, 40)):
                w = [rng.random() ** 4 for _ in range(n)]
                rows.append([x / sum(w) for x in w])
            assert switch_aux_loss(rows, alpha) >= alpha / n - 1e-12
    # below α: 3/4 of the tokens barely prefer expert 0, 1/4 are sure of expert 1
    rows = [[0.5 + 1e-9, 0.5 - 1e-9]] * 3 + [[0.0, 1.0]]
    assert switch_aux_loss(rows, alpha) < alpha
    assert "smallest" not in card("switch-load-balancing-loss").back


def test_switch_initialization_scale():
    back = flat(card("moe-training-stability").back)
    s_default, s_switch = 1.0, 0.1
    assert f"cut {s_default / s_switch:.0f}×, from {s_default} to {s_switch}" in back


# -- FLOPs and scaling laws ------------------------------------------------------------------


def training_flops_by_matmuls(widths: list[int], tokens: int) -> tuple[int, int]:
    """FLOPs of a stack of linear layers over `tokens` tokens (one multiply-add = 2 FLOPs):
    forward X·W, backward dX = dY·Wᵀ and dW = Xᵀ·dY. Returns (FLOPs, parameter count)."""
    flops = params = 0
    for fan_in, fan_out in zip(widths, widths[1:], strict=False):
        params += fan_in * fan_out
        flops += 2 * tokens * fan_in * fan_out  # forward
        flops += 2 * tokens * fan_out * fan_in  # gradient w.r.t. the input
        flops += 2 * fan_in * tokens * fan_out  # gradient w.r.t. the weights
    return flops, params


def test_six_nd_by_counting_matmuls():
    widths, tokens = [64, 256, 256, 64], 1000
    flops, n = training_flops_by_matmuls(widths, tokens)
    assert flops == 6 * n * tokens
    forward = sum(2 * tokens * a * b for a, b in zip(widths, widths[1:], strict=False))
    assert forward == 2 * n * tokens and flops - forward == 4 * n * tokens  # 2N + 4N per token
    back = flat(card("training-flops-6nd").back)
    assert "2N FLOPs per token" in back and "4N. So 6N per token" in back
    c = card("flops-6nd-mcq")
    N, D = 13e9, 1e12
    assert value(key(c)) == pytest.approx(6 * N * D)
    for factor in (2, 4, 8):
        assert has_choice(c, factor * N * D)


def test_training_time_worked_example():
    back = card("training-flops-worked").back
    C = 6 * 7e9 * 2e12
    assert "= 8.4 × 10²² FLOPs" in back and C == pytest.approx(8.4e22)
    seconds = C / (1024 * 150e12)
    assert f"≈ {seconds / 1e5:.1f} × 10⁵ s ≈ {seconds / 86400:.1f} days" in back


def chinchilla_optimal(C: float, tokens_per_param: float = 20) -> tuple[float, float]:
    """Solve 6·N·(r·N) = C for N by bisection (no closed form used)."""
    lo, hi = 1e-12, 1e16
    for _ in range(300):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if 6 * mid * tokens_per_param * mid < C else (lo, mid)
    return lo, tokens_per_param * lo


def test_chinchilla_split():
    C = 5.88e23
    N, D = chinchilla_optimal(C)
    c = card("chinchilla-optimal-mcq")
    assert key(c) == f"≈ {N / 1e9:.0f}B parameters on ≈ {D / 1e12:.1f}T tokens"
    for choice in c.choices:
        n_b, d = re.findall(r"≈ ([\d.]+)([BT])", choice)
        n = float(n_b[0]) * 1e9
        tokens = float(d[0]) * (1e12 if d[1] == "T" else 1e9)
        assert 6 * n * tokens == pytest.approx(C)  # every split spends the same compute
        ratio = tokens / n
        assert (ratio == pytest.approx(20)) == (choice == key(c))
        if choice != key(c):
            assert f"{ratio:g} per parameter" in c.explanation
    assert f"N ≈ {N / 1e9:.0f}B and D ≈ {D / 1e12:.1f}T" in card(
        "chinchilla-params-formula").explanation
    # Table 3's rows that the rule card quotes are ≈ 20 tokens per parameter
    assert "(a 1B model on 20.2B tokens, a 10B model on 205.1B)" in flat(
        card("chinchilla-rule").back)
    assert 20.2e9 / 1e9 == pytest.approx(20, rel=0.02)
    assert 205.1e9 / 10e9 == pytest.approx(20, rel=0.03)
    assert 6 * N * 20 * N == pytest.approx(120 * N**2)


def test_parametric_fit_gives_about_equal_exponents():
    E, A, B, alpha, beta = 1.69, 406.4, 410.7, 0.34, 0.28
    back = flat(card("chinchilla-parametric-loss").back)
    assert all(f"{x:g}" in back for x in (E, A, B, alpha, beta))

    def n_opt(C):  # minimize L(N, C/(6N)) over log N by ternary search
        def loss(logn):
            n = math.exp(logn)
            return E + A / n**alpha + B / (C / (6 * n)) ** beta

        lo, hi = math.log(1e6), math.log(1e15)
        for _ in range(200):
            a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
            lo, hi = (lo, b) if loss(a) < loss(b) else (a, hi)
        return math.exp(lo)

    a = math.log(n_opt(1e24) / n_opt(1e21)) / math.log(1e3)
    assert a == pytest.approx(beta / (alpha + beta), abs=1e-3)
    assert 0.44 < a < 0.5  # Table 2, approach 3: a ≈ 0.46, b ≈ 0.54


def test_ring_steps_and_bound():
    back = flat(card("ring-all-reduce-steps").back)
    assert "Total 2(N − 1) steps" in back and "always below 2M" in back
    for n in (2, 3, 5, 8, 16):
        assert ring_fraction_sent(n) < 2


def test_chinchilla_vs_gopher_ratios():
    assert 280 / 70 == 4 and 4 <= 1.4e12 / 300e9 <= 5  # "4× smaller on about 4× more data"


def test_llama_tokens_per_parameter():
    assert round(1e12 / 7e9, -1) == 140
    assert "(about 140 per parameter)" in card("over-training-for-inference").back


def test_kaplan_factors():
    c = card("kaplan-10x-mcq")
    assert value(key(c).replace("×", "")) == round(10**-0.076, 2)
    for wrong in (2**-0.076, 10**-0.095, 1 - 0.076):
        assert any(value(x.replace("×", "")) == round(wrong, 2) for x in c.choices)
    assert f"{1 - 10**-0.076:.0%}" in c.explanation


def test_linear_scaling_numbers():
    gpus, per_gpu = 256, 32  # Goyal et al.'s kn: k workers of n = 32 images
    assert f"batches up to {gpus * per_gpu} ({gpus} GPUs" in flat(card("linear-scaling-limit").back)
    c = card("lr-scaling-8192-mcq")
    k = 8192 / 256
    assert value(key(c)) == 0.1 * k
    for wrong in (0.1, 0.1 * math.sqrt(k), 0.1 / k):
        assert has_choice(c, wrong, rel=0.02)


def test_gradient_accumulation_equals_the_large_batch_mean():
    rng = random.Random(3)
    data = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(12)]
    w = 0.3

    def grad(batch):
        return sum(2 * (w * x - y) * x for x, y in batch) / len(batch)

    micro = [grad(data[i:i + 3]) for i in range(0, 12, 3)]
    assert sum(micro) / 4 == pytest.approx(grad(data))


# -- formula cards: graded against independent references ------------------------------------


def _bubble(env):
    p, m = round(env["p"]), round(env["m"])
    return gpipe_idle_fraction(p, m), {"p": p, "m": m}


def _ring(env):
    n = round(env["N"])
    return ring_fraction_sent(n) * env["M"], {"N": n}


def _flops(env):
    widths = [32, 64, 32]
    tokens = 50
    flops, n = training_flops_by_matmuls(widths, tokens)
    return flops, {"N": n, "D": tokens}


def _zero3(env):
    return zero_bytes(3, env["psi"], env["Nd"], env["K"])


def _chinchilla(env):
    return chinchilla_optimal(env["C"])[0]


def _capacity(env):
    return expert_capacity(env["T"], env["N"], env["c"])


def _segment(env):
    n = round(env["n"]) ** 2  # perfect squares: the integer optimum is exactly √n
    best = min(range(1, n + 1), key=lambda k: (checkpoint_memory(n, k), k))
    return best, {"n": n}


def _linear_lr(env):
    k = env["B"] / 256  # k times the reference batch
    return 0.1 * k


# Each returns the value the card's formula must have at a point, or (value, inputs it set).
REFERENCES = {
    "pipeline-bubble-formula": _bubble,
    "ring-all-reduce-formula": _ring,
    "training-flops-formula": _flops,
    "zero-stage3-memory-formula": _zero3,
    "chinchilla-params-formula": _chinchilla,
    "expert-capacity-formula": _capacity,
    "checkpoint-segment-formula": lambda e: _segment({"n": math.sqrt(e["n"])}),
    "linear-scaling-formula": _linear_lr,
}

# What candidates type, other than the card's own form: all right.
NOTATIONS = {
    "pipeline-bubble-formula": ["(p-1)/(m+p-1)", "1 - m/(m+p-1)"],
    "ring-all-reduce-formula": ["2M(N-1)/N", "2M - 2M/N", "2*(N-1)*M/N"],
    "training-flops-formula": ["6*N*D", "6 N D", "2ND + 4ND"],
    "zero-stage3-memory-formula": ["(4+K)*psi/Nd", "(4 + K)ψ/N_d", "4ψ/Nd + Kψ/Nd"],
    "chinchilla-params-formula": ["sqrt(C/120)", "(C/120)^(1/2)", "√C/√120"],
    "expert-capacity-formula": ["c*T/N", "T c / N", "(T/N)·c"],
    "checkpoint-segment-formula": ["sqrt(n)", "n^(1/2)", "n^0.5"],
    "linear-scaling-formula": ["B/2560", "0.1*B/256", "B·0.1/256"],
}


def test_every_formula_card_has_a_reference_and_notations():
    ids = {c.id for c in formula_cards(deck())}
    assert ids == set(REFERENCES) == set(NOTATIONS)


@pytest.mark.parametrize("c", formula_cards(deck()), ids=lambda c: c.id)
def test_formula_answers_match_an_independent_reference(c):
    rng = random.Random(c.id)
    answer = read_formula(c.answer, c.variables)
    for _ in range(5):
        env = {name: rng.uniform(*c.range_of(name)) for name in c.variables}
        if c.id == "checkpoint-segment-formula":
            env["n"] = rng.randint(2, 31) ** 2
        want = REFERENCES[c.id](env)
        if isinstance(want, tuple):
            want, given = want
            env |= given
        got = evaluate(answer.tree, env)
        assert math.isclose(got, want, rel_tol=1e-6), (c.id, env, got, want)
        for formula, _ in c.mistakes:  # no listed mistake is secretly right
            wrong = evaluate(read_formula(formula, c.variables).tree, env)
            assert not math.isclose(wrong, want, rel_tol=1e-6), (c.id, formula, env)


@pytest.mark.parametrize("c", formula_cards(deck()), ids=lambda c: c.id)
def test_formula_answer_accepted_mistakes_named_notations_accepted(c):
    rng = random.Random(0)
    assert grade_formula(c, c.answer, rng).correct
    assert_mistakes_listed(c, rng)
    assert_accepted(c, NOTATIONS[c.id], rng)


def test_formula_card_worked_numbers():
    e = card("zero-stage3-memory-formula").explanation
    assert f"{zero_bytes(3, 7.5e9, 64) / GB:.1f} GB" in e
    assert "1.5M with 4 workers" in card("ring-all-reduce-formula").mistakes[2][1]
    assert ring_fraction_sent(4) == 1.5
