"""Golden answers for the kinds that grew the existing families (issue 18), computed with
PyTorch itself from each problem's JSON inputs (never from the generator's answers):

- backprop / leaky-relu: F.leaky_relu(w·x + b, negative_slope), L = ½(h − y)², autograd;
- backprop / huber: F.huber_loss(o, y, delta=δ) on one prediction o = w·x + b, autograd;
- backprop / gelu: F.gelu(z) — the exact erf form (approximate='none', PyTorch's default),
  L = g·h; backprop / silu: F.silu(z), L = g·h;
- backprop / kl: F.kl_div(Q.log(), P, reduction='sum') is KL(P‖Q) — its first argument is
  the model's LOG-probabilities, the second the target's probabilities; KL(Q‖P) swaps them;
  ∂KL(P‖Q)/∂Q by autograd through Q.log();
- backprop / focal: the focal loss written from Lin et al. (2017), FL = −(1 − p_t)^γ·ln p_t,
  p = sigmoid(z), p_t = p or 1 − p; autograd for ∂FL/∂p_t (p_t.retain_grad()) and ∂FL/∂z;
- batchnorm / bn-eval: nn.BatchNorm1d(1, eps=0) with weight, bias, running_mean and
  running_var set, in .eval(); L = Σ g·y, autograd for x and weight;
- batchnorm / rmsnorm: nn.RMSNorm(n, eps=0) with weight set; L = Σ g·y, autograd;
- mlp / dropout: the training pass with the problem's mask written out, h·m/(1 − p) (what
  nn.Dropout computes for the mask it draws), autograd for h; the eval pass is nn.Dropout(p)
  in .eval();
- softmax-ce / lse: torch.logsumexp(z, 0) and its gradient by autograd;
- linear / embedding: nn.Embedding(V, D) with the problem's weight, looked up at `input`,
  Y.backward(G); the answer is weight.grad (repeated ids add up).

Run from the repository root:  python tests/golden/make_grow.py
It writes tests/golden/grow.json (200 seeds per kind and level).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

SEEDS = range(200)
OUT = Path(__file__).with_name("grow.json")
T = torch.float64


def _t(v, grad: bool = False) -> torch.Tensor:
    return torch.tensor(v, dtype=T, requires_grad=grad)


def _out(v: torch.Tensor):
    return v.detach().tolist()


def _scalar_unit(i: dict, act) -> tuple:
    x, w, b = _t(i["x"]), _t(i["w"], True), _t(i["b"])
    z = w * x + b
    z.retain_grad()
    return w, z, act(z)


def answers(problem: dict) -> dict:
    """wrt -> the answer computed with torch, from the problem's kind and inputs only."""
    kind, i = problem["kind"], problem["inputs"]
    if kind == "leaky-relu":
        w, a, h = _scalar_unit(i, lambda z: F.leaky_relu(z, negative_slope=i["negative_slope"]))
        (0.5 * (h - i["y"]) ** 2).backward()
        return {"a": _out(a.grad), "w": _out(w.grad)}
    if kind == "huber":
        w, o, _ = _scalar_unit(i, lambda z: z)
        loss = F.huber_loss(o, _t(i["y"]), delta=float(i["delta"]))
        loss.backward()
        return {"L": _out(loss), "w": _out(w.grad)}
    if kind in ("gelu", "silu"):
        act = (lambda z: F.gelu(z, approximate="none")) if kind == "gelu" else F.silu
        w, z, h = _scalar_unit(i, act)
        (i["g"] * h).backward()
        return {"h": _out(h), "z": _out(z.grad), "w": _out(w.grad)}
    if kind == "kl":
        p, q = _t(i["p"]), _t(i["q"], True)
        kl_pq = F.kl_div(q.log(), p, reduction="sum")
        kl_qp = F.kl_div(p.log(), q.detach(), reduction="sum")
        kl_pq.backward()
        return {"kl_pq": _out(kl_pq), "kl_qp": _out(kl_qp), "q": _out(q.grad)}
    if kind == "focal":
        z = _t(i["z"], True)
        p = torch.sigmoid(z)
        pt = p if i["y"] == 1 else 1 - p
        pt.retain_grad()
        fl = -(1 - pt) ** i["gamma"] * torch.log(pt)
        fl.backward()
        return {"fl": _out(fl), "p_t": _out(pt.grad), "z": _out(z.grad)}
    if kind == "bn-eval":
        bn = nn.BatchNorm1d(1, eps=0.0, dtype=T)
        with torch.no_grad():
            bn.weight.fill_(i["weight"])
            bn.bias.fill_(i["bias"])
            bn.running_mean.fill_(i["running_mean"])
            bn.running_var.fill_(i["running_var"])
        bn.eval()
        x = _t(i["x"]).reshape(-1, 1).requires_grad_(True)
        y = bn(x)
        (y.squeeze(1) * _t(i["g"])).sum().backward()
        return {"y": _out(y.squeeze(1)), "x": _out(x.grad.squeeze(1)),
                "weight": _out(bn.weight.grad[0])}
    if kind == "rmsnorm":
        x = _t(i["x"], True)
        m = nn.RMSNorm(x.shape[0], eps=0.0, dtype=T)
        with torch.no_grad():
            m.weight.copy_(_t(i["weight"]))
        y = m(x)
        (y * _t(i["g"])).sum().backward()
        return {"y": _out(y), "weight": _out(m.weight.grad), "x": _out(x.grad)}
    if kind == "dropout":
        h, mask, p = _t(i["h"], True), _t(i["mask"]), float(i["p"])
        y = h * mask / (1 - p)
        y.backward(_t(i["g"]))
        drop = nn.Dropout(p).eval()
        return {"y_train": _out(y), "h": _out(h.grad), "y_eval": _out(drop(h))}
    if kind == "lse":
        z = _t(i["z"], True)
        lse = torch.logsumexp(z, 0)
        lse.backward()
        return {"lse": _out(lse), "z": _out(z.grad)}
    if kind == "embedding":
        weight = _t(i["weight"])
        emb = nn.Embedding(*weight.shape, dtype=T)
        with torch.no_grad():
            emb.weight.copy_(weight)
        y = emb(torch.tensor(i["input"], dtype=torch.long))
        y.backward(_t(i["G"]))
        return {"weight": _out(emb.weight.grad)}
    raise ValueError(f"unknown kind {kind!r}")


def problems():
    from quizforge.drill.families import _grow

    for (family, difficulty), table in _grow.KINDS.items():
        for kind, _ in table:
            for seed in SEEDS:
                yield json.loads(json.dumps(_grow.make(family, kind, seed, difficulty)
                                            .to_dict()))


def main() -> None:
    rows = [json.dumps({"family": d["family"], "kind": d["kind"], "seed": d["seed"],
                        "difficulty": d["difficulty"], "answers": answers(d)},
                       separators=(",", ":"))
            for d in problems()]
    OUT.write_text('{"torch":' + json.dumps(torch.__version__) + ',"problems":[\n'
                   + ",\n".join(rows) + "\n]}\n")
    print(f"wrote {len(rows)} problems to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
