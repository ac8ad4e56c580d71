"""The grown kinds (issue 18) against PyTorch, live (runs where the `.[torch]` extra is
installed): the same references as tests/golden/make_grow.py, plus the PyTorch conventions
the problems state (F.gelu's exact form, F.kl_div's argument order, Huber against smooth L1,
nn.Dropout's scaling, nn.RMSNorm, BatchNorm1d in eval mode)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).parent / "golden"))
import make_grow as ref  # noqa: E402

from quizforge.drill.families import _grow  # noqa: E402

F = torch.nn.functional
CASES = [(fam, d, kind) for (fam, d), table in _grow.KINDS.items() for kind, _ in table]


@pytest.mark.parametrize("case", CASES, ids=[f"{f}-{d}-{k}" for f, d, k in CASES])
def test_every_answer_matches_pytorch_live(case):
    fam, d, kind = case
    for seed in range(0, 200, 5):
        problem = json.loads(json.dumps(_grow.make(fam, kind, seed, d).to_dict()))
        want = ref.answers(problem)
        for q in problem["questions"]:
            assert np.allclose(q["value"], want[q["wrt"]], rtol=1e-9, atol=1e-12), (seed, q)


def test_the_golden_file_is_what_torch_says_now():
    golden = json.loads((Path(__file__).parent / "golden" / "grow.json").read_text())
    for g in golden["problems"][::25]:
        p = _grow.make(g["family"], g["kind"], g["seed"], g["difficulty"])
        assert ref.answers(json.loads(json.dumps(p.to_dict()))) == g["answers"]


def test_the_conventions_the_problems_state():
    x = torch.tensor([1.0], dtype=torch.float64)
    # F.gelu is the exact erf form by default; the tanh form differs in the 4th decimal
    assert torch.allclose(F.gelu(x), x * 0.5 * (1 + torch.erf(x / 2 ** 0.5)))
    assert not torch.equal(F.gelu(x), F.gelu(x, approximate="tanh"))
    # F.kl_div(input, target) = Σ target·(ln target − input): input is LOG-probabilities of Q
    p = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    q = torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64)
    assert torch.isclose(F.kl_div(q.log(), p, reduction="sum"), (p * (p / q).log()).sum())
    # Huber with δ is δ times smooth L1 with β = δ
    o, y = torch.tensor([3.0]), torch.tensor([0.0])
    assert torch.isclose(F.huber_loss(o, y, delta=2.0), 2 * F.smooth_l1_loss(o, y, beta=2.0))
    # nn.Dropout in training scales the kept units by 1/(1 − p) and is the identity in eval
    torch.manual_seed(0)
    drop, h = torch.nn.Dropout(0.2), torch.arange(1.0, 11.0)
    out = drop(h)
    mask = (out != 0).float()
    assert torch.allclose(out, h * mask / 0.8)
    assert torch.equal(drop.eval()(h), h)
    # nn.RMSNorm divides by the root mean square, no mean subtraction
    assert torch.allclose(torch.nn.RMSNorm(2, eps=0.0)(torch.tensor([3.0, 4.0])),
                          torch.tensor([3.0, 4.0]) / (12.5 ** 0.5))
    # BatchNorm1d in eval mode uses the running statistics, not the batch's
    bn = torch.nn.BatchNorm1d(1, eps=0.0)
    bn.running_mean.fill_(1.0)
    bn.running_var.fill_(4.0)
    assert torch.allclose(bn.eval()(torch.tensor([[3.0], [5.0]])).flatten(),
                          torch.tensor([1.0, 2.0]))
    # an embedding's gradient adds the rows of repeated ids
    emb = torch.nn.Embedding(3, 1)
    emb(torch.tensor([1, 1, 2])).backward(torch.tensor([[1.0], [2.0], [4.0]]))
    assert emb.weight.grad.flatten().tolist() == [0.0, 3.0, 4.0]
