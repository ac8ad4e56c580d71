"""Golden answers for the `conv` drill family, computed with PyTorch itself.

Reads each problem's JSON — the inputs by PyTorch's names (`input`, `weight`, `bias`,
`grad_output`), the layer's settings (`conv`: function, channels, stride, padding) and, where
it is asked, the size question (`size_question`) — never the generator's answers, and
computes:
- the output size (when asked): nn.Conv1d / nn.Conv2d with the stated kernel_size, stride,
  padding and dilation run on a zeros tensor of the stated length (a square image for
  Conv2d);
- y: torch.nn.functional.conv1d / conv2d(input, weight, bias, stride, padding) on a batch of
  one, with input, weight and bias leaves that require grad;
- ∂L/∂w, ∂L/∂x, ∂L/∂b: y.backward(grad_output), then each leaf's .grad.
Answers are returned in the shapes the problem shows (the batch axis, and the channel axis
of a one-channel layer, squeezed off).

Run from the repository root:  python tests/golden/make_conv.py
It writes tests/golden/conv.json (200 seeds per difficulty).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

SEEDS = range(200)
DIFFICULTIES = (1, 2, 3)
OUT = Path(__file__).with_name("conv.json")


def output_size(q: dict) -> int:
    two_d = q["module"] == "Conv2d"
    module = (nn.Conv2d if two_d else nn.Conv1d)(
        1, 1, kernel_size=q["kernel_size"], stride=q["stride"], padding=q["padding"],
        dilation=q["dilation"])
    n = q["input_size"]
    x = torch.zeros(1, 1, n, n) if two_d else torch.zeros(1, 1, n)
    with torch.no_grad():
        return module(x).shape[2]


def answers(problem: dict) -> dict:
    """wrt -> the answer computed with torch, from the problem's inputs and settings only."""
    conv, inputs = problem["conv"], problem["inputs"]
    fn = {"conv1d": F.conv1d, "conv2d": F.conv2d}[conv["function"]]
    c_in, k = conv["in_channels"], conv["kernel_size"]
    x = torch.tensor(inputs["input"], dtype=torch.float64)
    w = torch.tensor(inputs["weight"], dtype=torch.float64)
    x = x.reshape(1, c_in, *x.shape[-len(k):]).requires_grad_(True)
    w = w.reshape(1, c_in, *k).requires_grad_(True)
    b = torch.tensor([float(inputs["bias"])], dtype=torch.float64, requires_grad=True)
    y = fn(x, w, b, stride=conv["stride"], padding=conv["padding"],
           dilation=conv["dilation"])
    g = torch.tensor(inputs["grad_output"], dtype=torch.float64).reshape(y.shape)
    y.backward(g)

    def shown(t: torch.Tensor) -> list:
        t = t[0]  # the batch of one
        return (t[0] if c_in == 1 else t).tolist()

    out = {"output": y.detach()[0, 0].tolist(),  # one output channel
           "weight": shown(w.grad), "input": shown(x.grad), "bias": float(b.grad[0])}
    if "size_question" in problem:  # asked instead of y or ∂L/∂b in a third of the problems
        out["L_out"] = out["H_out"] = output_size(problem["size_question"])
    return {q["wrt"]: out[q["wrt"]] for q in problem["questions"]}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from quizforge.drill.family import generate

    out = {"torch": torch.__version__, "problems": []}
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            d = json.loads(json.dumps(generate("conv", seed, difficulty).to_dict()))
            out["problems"].append({"seed": seed, "difficulty": difficulty,
                                    "variant": d["variant"], "answers": answers(d)})
    OUT.write_text(json.dumps(out, separators=(",", ":")).replace('{"seed"', '\n{"seed"')
                   + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(out['problems'])} problems)")


if __name__ == "__main__":
    main()
