"""The counting family's answers against PyTorch, live (runs where the `.[torch]` extra is
installed). The same references as tests/golden/make_counting.py, which wrote the golden file
that tests/test_family_counting.py checks without torch."""

from __future__ import annotations

import math

import pytest
from drill_ref import cached_family, golden_maker, load_golden

torch = pytest.importorskip("torch")

ref = golden_maker("counting")
_, as_json = cached_family("counting")


@pytest.mark.parametrize("difficulty", (1, 2, 3))
def test_every_answer_matches_pytorch_live(difficulty):
    for seed in range(200):
        d = as_json(seed, difficulty)
        want = ref.answers(d)
        for q in d["questions"]:
            assert math.isclose(q["value"], want[q["wrt"]], rel_tol=1e-9), (seed, q["wrt"])


def test_the_measured_constants():
    """What the references measure with torch: 2 FLOPs per parameter per token forward, 6
    with the backward; 16 bytes per parameter for Adam in mixed precision, 12 for fp32 SGD
    with momentum; FlopCounterMode counts a matmul as 2·m·k·n."""
    assert ref.flops_per_param_token() == (2.0, 6.0)
    assert ref.training_bytes_per_param("adam_mixed") == 16
    assert ref.training_bytes_per_param("sgd_momentum_fp32") == 12
    assert ref.matmul({"m": 2, "k": 3, "n": 4, "p": 5}, "flops_AB") == 2 * 2 * 3 * 4


def test_the_golden_file_is_what_torch_says_now():
    golden = load_golden("counting")
    for g in golden["problems"][::20]:
        d = as_json(g["seed"], g["difficulty"])
        assert ref.answers(d) == pytest.approx(g["answers"], rel=1e-12)
