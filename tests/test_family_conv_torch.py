"""The conv family's answers against PyTorch, live (runs where the `.[torch]` extra is
installed). The same references as tests/golden/make_conv.py, which wrote the golden file
that tests/test_family_conv.py checks without torch."""

from __future__ import annotations

import numpy as np
import pytest
from drill_ref import cached_family, golden_maker, load_golden

torch = pytest.importorskip("torch")

ref = golden_maker("conv")
_, as_json = cached_family("conv")


@pytest.mark.parametrize("difficulty", (1, 2, 3))
def test_every_answer_matches_pytorch_live(difficulty):
    for seed in range(0, 200, 4):
        d = as_json(seed, difficulty)
        want = ref.answers(d)
        for q in d["questions"]:
            assert np.array_equal(np.asarray(q["value"], dtype=float),
                                  np.asarray(want[q["wrt"]], dtype=float)), (seed, q["wrt"])


def test_torch_computes_cross_correlation_and_its_transpose():
    """What the family teaches, asked of torch directly: conv1d does not flip the kernel,
    and ∂L/∂x is conv_transpose1d of G with the same kernel (the full convolution)."""
    x = torch.tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)
    w = torch.tensor([[[1.0, -1.0]]])
    y = torch.nn.functional.conv1d(x, w)
    assert y.flatten().tolist() == [-1.0, -1.0, -1.0]  # x[i]·1 + x[i+1]·(−1)
    g = torch.tensor([[[1.0, 0.0, 2.0]]])
    y.backward(g)
    assert x.grad.flatten().tolist() == [1.0, -1.0, 2.0, -2.0]
    assert torch.equal(x.grad, torch.nn.functional.conv_transpose1d(g, w))


def test_the_golden_file_is_what_torch_says_now():
    golden = load_golden("conv")
    for g in golden["problems"][::20]:
        d = as_json(g["seed"], g["difficulty"])
        assert ref.answers(d) == g["answers"]
