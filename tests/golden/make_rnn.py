"""Golden answers for the `rnn` drill family, computed with PyTorch itself.

Reads each problem's JSON (`inputs`, `setup`, `loss` and which gradient each question asks,
its `wrt`), never the generator's answers, and runs the network in torch (float64):
- difficulty 1 and 2: torch.nn.RNN(input_size=1, hidden_size=n, nonlinearity="tanh") with
  weight_hh_l0 = W, weight_ih_l0 = U (a column), bias_ih_l0 = b, bias_hh_l0 = 0, run on the
  inputs x with the initial state h0; the loss built from its outputs; autograd gives
  ∂L/∂W, ∂L/∂U, ∂L/∂b (the grad of bias_ih_l0) and ∂L/∂h₀, and ∂h₂/∂h₀ is
  torch.autograd.grad(h₂, h0). The forward outputs h₁, h₂ are written too, so the tests can
  check that the h_t a problem shows are what the network really computes.
- difficulty 3: torch.nn.LSTM(input_size=1, hidden_size=1) run one step on x = 1 with
  h_0 = 0 and c_0 = c_prev, weight_hh_l0 = 0, zero biases, and weight_ih_l0's four chunks
  (i, f, g, o) set to the pre-activations logit(i), logit(f), atanh(g), logit(o), so the
  gates take the problem's values. With x = 1 the grad of weight_ih_l0 is ∂L/∂z for each
  gate's pre-activation z; the gradient of the gate value is that divided by the gate's own
  derivative computed in torch (σ'(z) = σ(z)(1 − σ(z)), tanh'(z) = 1 − tanh²(z)).
  ∂L/∂c_{t−1} is the grad of c_0. The loss is ½(h_t − y)², or dh·h_t + dc·c_t for a middle
  step (which hands the cell exactly the given upstream gradients).

Run from the repository root:  python tests/golden/make_rnn.py
It writes tests/golden/rnn.json (200 seeds per difficulty).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch
from torch import nn

SEEDS = range(200)
DIFFICULTIES = (1, 2, 3)
OUT = Path(__file__).with_name("rnn.json")
F64 = torch.float64


def _t(v) -> torch.Tensor:
    return torch.tensor(v, dtype=F64)


def rnn(d: dict) -> dict:
    inp, n = d["inputs"], d["pytorch"]["hidden_size"]
    x = _t(inp["x"]).reshape(-1, 1)  # (T, input_size = 1), unbatched
    T = x.shape[0]
    net = nn.RNN(1, n, nonlinearity="tanh", dtype=F64)
    with torch.no_grad():
        net.weight_hh_l0.copy_(_t(inp["W"]).reshape(n, n))
        net.weight_ih_l0.copy_(_t(inp["U"]).reshape(n, 1))
        net.bias_ih_l0.copy_(_t(inp["b"]).reshape(n))
        net.bias_hh_l0.zero_()
    h0 = _t(inp["h0"]).reshape(1, n).requires_grad_(True)
    out, _ = net(x, h0)  # (T, n): h₁ … h_T
    loss_kind = d["loss"]
    if loss_kind == "last-mse":
        loss = 0.5 * ((out[-1] - _t(inp["y"]).reshape(n)) ** 2).sum()
    elif loss_kind == "last-linear":
        loss = (_t(inp["v"]).reshape(n) * out[-1]).sum()
    else:
        assert loss_kind == "every-mse"
        loss = 0.5 * ((out - _t(inp["y"]).reshape(T, n)) ** 2).sum()
    params = [net.weight_hh_l0, net.weight_ih_l0, net.bias_ih_l0, h0]
    gW, gU, gb, gh0 = torch.autograd.grad(loss, params, retain_graph=True)
    answers = {}

    def shaped(g: torch.Tensor):
        flat = g.reshape(-1).tolist()
        if n == 1:
            return flat[0]
        return g.reshape(n, n).tolist() if g.numel() == n * n else flat

    for q in d["questions"]:
        wrt = q["wrt"]
        if wrt == "dh2/dh0":
            assert n == 1 and T == 2
            (jac,) = torch.autograd.grad(out[-1].sum(), h0, retain_graph=True)
            answers[wrt] = jac.item()
        else:
            answers[wrt] = shaped({"W": gW, "U": gU, "b": gb, "h0": gh0}[wrt])
    forward = [out[t].tolist() if n > 1 else out[t].item() for t in range(T)]
    return {"answers": answers, "forward": {"h": forward}}


def lstm(d: dict) -> dict:
    inp = d["inputs"]
    i, f, g, o = inp["i"], inp["f"], inp["g"], inp["o"]
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    net = nn.LSTM(1, 1, dtype=F64)
    with torch.no_grad():
        net.weight_ih_l0.copy_(_t([[logit(i)], [logit(f)], [math.atanh(g)], [logit(o)]]))
        net.weight_hh_l0.zero_()
        net.bias_ih_l0.zero_()
        net.bias_hh_l0.zero_()
    x = _t([[1.0]])  # (seq_len 1, input_size 1), unbatched
    h0 = torch.zeros(1, 1, dtype=F64)
    c0 = _t([[inp["c_prev"]]]).requires_grad_(True)
    _, (h, c) = net(x, (h0, c0))
    if d["loss"] == "last-mse":
        loss = 0.5 * (h.sum() - inp["y"]) ** 2
    else:
        assert d["loss"] == "middle"
        loss = inp["dh"] * h.sum() + inp["dc"] * c.sum()
    dz, dc0 = torch.autograd.grad(loss, [net.weight_ih_l0, c0])
    z = net.weight_ih_l0.detach().reshape(4)
    local = torch.stack([torch.sigmoid(z[0]) * (1 - torch.sigmoid(z[0])),
                         torch.sigmoid(z[1]) * (1 - torch.sigmoid(z[1])),
                         1 - torch.tanh(z[2]) ** 2,
                         torch.sigmoid(z[3]) * (1 - torch.sigmoid(z[3]))])
    gate_grads = dict(zip("ifgo", (dz.reshape(4) / local).tolist(), strict=True))
    answers = {q["wrt"]: (dc0.item() if q["wrt"] == "c_prev" else gate_grads[q["wrt"]])
               for q in d["questions"]}
    return {"answers": answers, "forward": {"c": c.item(), "h": h.item()}}


REFERENCES = {"rnn": rnn, "lstm": lstm}


def reference(problem: dict) -> dict:
    """{"answers": wrt -> torch's answer, "forward": what torch's forward pass computed}."""
    return REFERENCES[problem["setup"]](problem)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from quizforge.drill.family import generate

    out = {"torch": torch.__version__, "problems": []}
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            d = json.loads(json.dumps(generate("rnn", seed, difficulty).to_dict()))
            out["problems"].append({"seed": seed, "difficulty": difficulty,
                                    "setup": d["setup"], **reference(d)})
    OUT.write_text(json.dumps(out, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(out['problems'])} problems)")


if __name__ == "__main__":
    main()
