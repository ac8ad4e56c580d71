"""Golden answers for the `attention` drill family, computed with PyTorch itself.

Reads each problem's JSON inputs only (`query`, `key`, `value`, `grad_output` and the `sdpa`
flags `is_causal`, `scale`, `enable_gqa`), never the generator's answers, and in float64:
- O = torch.nn.functional.scaled_dot_product_attention(query, key, value, is_causal=…,
  enable_gqa=…) with the default scale (1/√E, E = query.size(-1): the problem's 1/√d_k is
  checked against PyTorch's default rather than passed in), then O.backward(grad_output):
  query.grad, key.grad, value.grad;
- ∂L/∂P and ∂L/∂S, which SDPA does not expose: the same attention written out as in SDPA's
  documented reference implementation (S = Q·Kᵀ·scale, masked_fill(−inf) above the diagonal
  when causal, softmax over the last dim, P·V; K and V repeated over the query heads for
  GQA), with retain_grad() on S and P. Its output and gradients must agree with SDPA's.

Run from the repository root:  python tests/golden/make_attention.py
It writes tests/golden/attention.json (200 seeds per difficulty).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

SEEDS = range(200)
DIFFICULTIES = (1, 2, 3)
OUT = Path(__file__).with_name("attention.json")
F64 = torch.float64


def _tensor(x, grad: bool = False) -> torch.Tensor:
    return torch.tensor(x, dtype=F64, requires_grad=grad)


def _kv(t: torch.Tensor, gqa: bool) -> torch.Tensor:
    """key and value are stored T×d (one K/V head); SDPA with enable_gqa takes (1, T, d)."""
    return t.unsqueeze(0) if gqa else t


def sdpa(problem: dict) -> dict[str, torch.Tensor]:
    """output and the input gradients, from torch's own scaled_dot_product_attention."""
    inp, flags = problem["inputs"], problem["sdpa"]
    gqa = flags["enable_gqa"]
    q, k, v = (_tensor(inp[n], grad=True) for n in ("query", "key", "value"))
    out = F.scaled_dot_product_attention(q, _kv(k, gqa), _kv(v, gqa),
                                         is_causal=flags["is_causal"], enable_gqa=gqa)
    out.backward(_tensor(inp["grad_output"]))
    return {"output": out.detach(), "query": q.grad, "key": k.grad, "value": v.grad}


def reference(problem: dict) -> dict[str, torch.Tensor]:
    """The same attention written out, to reach ∂L/∂P (attn_weight) and ∂L/∂S (scores)."""
    inp, flags = problem["inputs"], problem["sdpa"]
    gqa = flags["enable_gqa"]
    q, k, v = (_tensor(inp[n], grad=True) for n in ("query", "key", "value"))
    kk, vv = _kv(k, gqa), _kv(v, gqa)
    if gqa:  # every query head reads the one K/V head
        kk = kk.repeat_interleave(q.size(-3) // kk.size(-3), dim=-3)
        vv = vv.repeat_interleave(q.size(-3) // vv.size(-3), dim=-3)
    scores = q @ kk.transpose(-2, -1) * flags["scale"]
    scores.retain_grad()
    masked = scores
    if flags["is_causal"]:
        L, S = scores.shape[-2:]
        above = torch.ones(L, S, dtype=torch.bool).triu(diagonal=1)
        masked = scores.masked_fill(above, float("-inf"))
    attn_weight = torch.softmax(masked, dim=-1)
    attn_weight.retain_grad()
    out = attn_weight @ vv
    out.backward(_tensor(inp["grad_output"]))
    return {"output": out.detach(), "query": q.grad, "key": k.grad, "value": v.grad,
            "attn_weight": attn_weight.grad, "scores": scores.grad}


def answers(problem: dict) -> dict[str, list]:
    """wrt -> the answer computed with torch, from the problem's inputs only."""
    a, b = sdpa(problem), reference(problem)
    for name, t in a.items():  # the written-out attention is SDPA's
        assert torch.allclose(t, b[name], rtol=1e-10, atol=1e-12), (name, t, b[name])
    return {q["wrt"]: b[q["wrt"]].tolist() for q in problem["questions"]}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from quizforge.drill.family import generate

    out = {"torch": torch.__version__, "problems": []}
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            d = json.loads(json.dumps(generate("attention", seed, difficulty).to_dict()))
            out["problems"].append({"seed": seed, "difficulty": difficulty,
                                    "answers": answers(d)})
    OUT.write_text(json.dumps(out) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(out['problems'])} problems)")


if __name__ == "__main__":
    main()
