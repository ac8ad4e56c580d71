"""The rnn family's answers against PyTorch, live (runs where the `.[torch]` extra is
installed). The same references as tests/golden/make_rnn.py (torch.nn.RNN and torch.nn.LSTM
set to each problem's weights, autograd), which wrote the golden file that
tests/test_family_rnn.py checks without torch."""

from __future__ import annotations

import numpy as np
import pytest
from drill_ref import cached_family, golden_maker, load_golden

torch = pytest.importorskip("torch")

ref = golden_maker("rnn")
_, as_json = cached_family("rnn")


@pytest.mark.parametrize("difficulty", (1, 2, 3))
def test_every_answer_matches_pytorch_live(difficulty):
    for seed in range(0, 200, 2):
        d = as_json(seed, difficulty)
        want = ref.reference(d)
        for q in d["questions"]:
            assert np.allclose(q["value"], want["answers"][q["wrt"]], rtol=1e-9, atol=1e-12), \
                (seed, q["wrt"])
        if d["setup"] == "rnn":  # the h_t shown are what nn.RNN computes
            assert np.allclose(d["forward"]["h"], want["forward"]["h"], rtol=0, atol=1e-12)


def test_the_lstm_reference_reads_the_gates_back():
    """weight_ih_l0 set to logit(i), logit(f), atanh(g), logit(o) with x = 1 makes nn.LSTM's
    gates the given values: c = f·c_prev + i·g and h = o·tanh(c)."""
    d = {"setup": "lstm", "loss": "middle", "questions": [{"wrt": "f"}, {"wrt": "c_prev"}],
         "inputs": {"i": 0.5, "f": 0.75, "g": -0.6, "o": 0.8, "c_prev": 2.0, "dh": 1.0,
                    "dc": 0.0}}
    out = ref.reference(d)
    c = 0.75 * 2.0 + 0.5 * -0.6
    assert out["forward"]["c"] == pytest.approx(c, abs=1e-12)
    assert out["forward"]["h"] == pytest.approx(0.8 * np.tanh(c), abs=1e-12)
    dc = 0.8 * (1 - np.tanh(c) ** 2)
    assert out["answers"]["f"] == pytest.approx(dc * 2.0, rel=1e-9)
    assert out["answers"]["c_prev"] == pytest.approx(dc * 0.75, rel=1e-9)


def test_the_golden_file_is_what_torch_says_now():
    golden = load_golden("rnn")
    for g in golden["problems"][::20]:
        d = as_json(g["seed"], g["difficulty"])
        got = ref.reference(d)
        for wrt, value in g["answers"].items():
            assert np.allclose(got["answers"][wrt], value, rtol=1e-12, atol=1e-15)
