"""The attention family's answers against PyTorch, live (runs where the `.[torch]` extra is
installed). The same references as tests/golden/make_attention.py, which wrote the golden file
that tests/test_family_attention.py checks without torch."""

from __future__ import annotations

import numpy as np
import pytest
from drill_ref import cached_family, golden_maker, load_golden

torch = pytest.importorskip("torch")

ref = golden_maker("attention")
_, as_json = cached_family("attention")


@pytest.mark.parametrize("difficulty", (1, 2, 3))
def test_every_answer_matches_pytorch_live(difficulty):
    for seed in range(0, 200, 2):
        d = as_json(seed, difficulty)
        want = ref.answers(d)  # SDPA and the written-out attention agree inside
        for q in d["questions"]:
            assert np.allclose(q["value"], want[q["wrt"]], rtol=1e-9, atol=1e-12), \
                (seed, q["wrt"])


def test_sdpa_default_scale_is_the_problems_one_over_root_d():
    """The problems say S = Q·Kᵀ/√d_k with d_k = 4; SDPA's default scale is 1/√E."""
    q = torch.eye(2, 4, dtype=torch.float64)
    k = torch.ones(2, 4, dtype=torch.float64)
    v = torch.eye(2, dtype=torch.float64)
    scores = q @ k.T / 2
    assert torch.allclose(torch.nn.functional.scaled_dot_product_attention(q, k, v),
                          torch.softmax(scores, dim=-1) @ v)


def test_the_golden_file_is_what_torch_says_now():
    golden = load_golden("attention")
    for g in golden["problems"][::25]:
        d = as_json(g["seed"], g["difficulty"])
        want = ref.answers(d)
        for wrt, value in g["answers"].items():
            assert np.allclose(want[wrt], value, rtol=1e-12, atol=1e-14), (g["seed"], wrt)
