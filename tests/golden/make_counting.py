"""Golden answers for the `counting` drill family, computed with PyTorch itself.

Reads each problem's JSON (the `setup`, the `params` by PyTorch's names and which quantity each
question asks, its `wrt`), never the generator's answers, and counts with torch:
- parameters: `sum(p.numel() for p in m.parameters())` of nn.Linear, nn.Conv2d,
  nn.MultiheadAttention, nn.TransformerEncoderLayer, a decoder built from nn modules (a tied
  head shares the embedding's Parameter, and parameters() counts it once) and a LoRA layer
  built here (only parameters with requires_grad);
- conv output sizes: nn.Conv2d run on a zeros tensor;
- FLOPs: torch.utils.flop_counter.FlopCounterMode around the forward (and backward) pass, on
  the meta device where the sizes are large; 6·N·D: the FLOPs per parameter per token of a
  forward and a forward + backward pass are measured on a small stack of bias-free linears
  (whose input needs a gradient, like every layer but the first) and scaled by N and D;
- KV-cache bytes: K and V tensors (batch, kv_heads, seq_len, head_dim) allocated per layer on
  the meta device, summing element_size() · numel();
- model memory: a tensor of N elements in the dtype (int4 packed two per byte as a uint8
  tensor of N/2), and the bytes per parameter of training measured on a tiny model after one
  real optimizer step (fp16 weights and grads + fp32 master copy + torch.optim.Adam's
  exp_avg and exp_avg_sq; fp32 SGD with momentum: weights, grads, momentum_buffer).

Run from the repository root:  python tests/golden/make_counting.py
It writes tests/golden/counting.json (200 seeds per difficulty).
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

SEEDS = range(200)
DIFFICULTIES = (1, 2, 3)
OUT = Path(__file__).with_name("counting.json")
META = torch.device("meta")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
          "int8": torch.int8}


def numel(m: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in m.parameters() if p.requires_grad or not trainable_only)


def flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def nbytes(*tensors: torch.Tensor) -> int:
    return sum(t.element_size() * t.numel() for t in tensors)


# -- linear and matmul ---------------------------------------------------------------------------
def linear(p: dict, wrt: str) -> float:
    layer = nn.Linear(p["in_features"], p["out_features"], bias=p["bias"], device=META)
    if wrt == "params":
        return numel(layer)
    x = torch.zeros(p["batch_size"], p["in_features"], device=META, requires_grad=True)
    if wrt == "flops_forward":
        return flops(lambda: layer(x))
    y = layer(x)
    assert wrt == "flops_backward"
    return flops(lambda: y.sum().backward())


def matmul(p: dict, wrt: str) -> float:
    A = torch.zeros(p["m"], p["k"], device=META)
    B = torch.zeros(p["k"], p["n"], device=META)
    C = torch.zeros(p["n"], p["p"], device=META)
    return flops({"flops_AB": lambda: A @ B, "flops_AB_C": lambda: (A @ B) @ C,
                  "flops_A_BC": lambda: A @ (B @ C)}[wrt])


# -- conv ----------------------------------------------------------------------------------------
def conv2d(p: dict, wrt: str) -> float:
    kw = {"kernel_size": p["kernel_size"], "stride": p["stride"], "padding": p["padding"],
          "dilation": p["dilation"], "bias": p["bias"]}
    if wrt == "params":
        return numel(nn.Conv2d(p["in_channels"], p["out_channels"], **kw, device=META))
    if wrt in ("H_out", "W_out"):  # the size does not depend on the channels: run one
        out = nn.Conv2d(1, 1, **kw)(torch.zeros(1, 1, p["H_in"], p["W_in"]))
        return out.shape[2] if wrt == "H_out" else out.shape[3]
    assert wrt == "flops_forward"
    conv = nn.Conv2d(p["in_channels"], p["out_channels"], **kw, device=META)
    x = torch.zeros(1, p["in_channels"], p["H_in"], p["W_in"], device=META)
    return flops(lambda: conv(x))


# -- KV cache ------------------------------------------------------------------------------------
def kv_cache(p: dict, wrt: str) -> float:
    heads = p["num_heads"] if wrt == "bytes_total_mha" else p["num_kv_heads"]
    batch, seq = (1, 1) if wrt == "bytes_per_token" else (p["batch_size"], p["seq_len"])
    dtype = DTYPES[p["dtype"]]
    cache = [torch.empty(batch, heads, seq, p["head_dim"], dtype=dtype, device=META)
             for _layer in range(p["num_layers"]) for _kv in ("K", "V")]
    return nbytes(*cache)


# -- memory --------------------------------------------------------------------------------------
def weights_memory(p: dict, wrt: str) -> float:
    dtype = wrt.removeprefix("GB_")
    n = p["num_params"]
    if dtype == "int4":  # two 4-bit values per byte
        t = torch.empty(n // 2, dtype=torch.uint8, device=META)
    else:
        t = torch.empty(n, dtype=DTYPES[dtype], device=META)
    return nbytes(t) / 1e9


@cache
def training_bytes_per_param(recipe: str) -> float:
    """Model-state bytes per parameter, measured after one real optimizer step."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16, bias=False), nn.Linear(16, 4, bias=False))
    n = numel(model)
    if recipe == "adam_mixed":
        model = model.half()
        master = [p.detach().float().clone().requires_grad_(True) for p in model.parameters()]
        opt = torch.optim.Adam(master)
        model(torch.randn(3, 8).half()).float().pow(2).sum().backward()
        for m, p in zip(master, model.parameters(), strict=True):
            m.grad = p.grad.float()
        opt.step()
        states = [t for s in opt.state.values() for k, t in s.items() if k != "step"]
        kept = [*model.parameters(), *(p.grad for p in model.parameters()), *master, *states]
    else:
        assert recipe == "sgd_momentum_fp32"
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        model(torch.randn(3, 8)).pow(2).sum().backward()
        opt.step()
        states = [t for s in opt.state.values() for t in s.values()]
        kept = [*model.parameters(), *(p.grad for p in model.parameters()), *states]
    return nbytes(*kept) / n


def training_memory(p: dict, wrt: str) -> float:
    recipe = {"GB_adam_mixed": "adam_mixed", "GB_sgd_momentum_fp32": "sgd_momentum_fp32"}[wrt]
    return training_bytes_per_param(recipe) * p["num_params"] / 1e9


# -- transformer block and decoder ---------------------------------------------------------------
def block(p: dict, wrt: str) -> float:
    layer = nn.TransformerEncoderLayer(p["d_model"], p["nhead"], p["dim_feedforward"],
                                       device=META)
    if wrt == "params_attention":
        return numel(nn.MultiheadAttention(p["d_model"], p["nhead"], device=META))
    if wrt == "params_mlp":
        return numel(layer.linear1) + numel(layer.linear2)
    assert wrt == "params_block"
    return numel(layer)


class Decoder(nn.Module):
    def __init__(self, p: dict, tied: bool) -> None:
        super().__init__()
        d = p["d_model"]
        self.tok = nn.Embedding(p["vocab_size"], d, device=META)
        self.pos = nn.Embedding(p["n_positions"], d, device=META)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d, p["nhead"], p["dim_feedforward"], device=META)
            for _ in range(p["num_layers"]))
        self.ln_f = nn.LayerNorm(d, device=META)
        self.head = nn.Linear(d, p["vocab_size"], bias=False, device=META)
        if tied:
            self.head.weight = self.tok.weight


def decoder(p: dict, wrt: str) -> float:
    if wrt == "params_embeddings":
        m = Decoder(p, tied=True)
        return numel(m.tok) + numel(m.pos)
    return numel(Decoder(p, tied=wrt == "params_tied"))


# -- LoRA ----------------------------------------------------------------------------------------
class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update B·A (no bias)."""

    def __init__(self, d_in: int, d_out: int, r: int) -> None:
        super().__init__()
        self.base = nn.Linear(d_in, d_out, device=META)
        self.base.requires_grad_(False)
        self.A = nn.Linear(d_in, r, bias=False, device=META)
        self.B = nn.Linear(r, d_out, bias=False, device=META)


def lora(p: dict, wrt: str) -> float:
    d, r = p["d_model"], p["r"]
    if wrt == "params_adapter":
        return numel(LoRALinear(d, d, r), trainable_only=True)
    if wrt == "params_adapter_mlp":
        return numel(LoRALinear(d, 4 * d, r), trainable_only=True)
    assert wrt == "params_qv_all_layers"
    layers = nn.ModuleList(nn.ModuleDict({"q": LoRALinear(d, d, r), "v": LoRALinear(d, d, r)})
                           for _ in range(p["num_layers"]))
    return numel(layers, trainable_only=True)


# -- training compute ----------------------------------------------------------------------------
@cache
def flops_per_param_token() -> tuple[float, float]:
    """(forward, forward + backward) FLOPs per parameter per token of bias-free linears."""
    model = nn.Sequential(nn.Linear(8, 16, bias=False), nn.Linear(16, 4, bias=False))
    tokens = 5
    x = torch.zeros(tokens, 8, requires_grad=True)
    fwd = flops(lambda: model(x))
    total = flops(lambda: model(x).sum().backward())
    n = numel(model)
    return fwd / (n * tokens), total / (n * tokens)


def training_compute(p: dict, wrt: str) -> float:
    fwd, train = flops_per_param_token()
    N, D = p["num_params"], p["num_tokens"]
    if wrt == "flops_per_token_forward":
        return fwd * N
    if wrt == "flops_training":
        return train * N * D
    assert wrt == "flops_chinchilla"  # the problem states D = 20·N
    return train * N * (20 * N)


REFERENCES = {"linear": linear, "matmul": matmul, "conv2d": conv2d, "kv-cache": kv_cache,
              "weights-memory": weights_memory, "training-memory": training_memory,
              "transformer-block": block, "decoder": decoder, "lora": lora,
              "training-compute": training_compute}


def answers(problem: dict) -> dict[str, float]:
    """wrt -> the answer computed with torch, from the problem's setup and params only."""
    ref = REFERENCES[problem["setup"]]
    return {q["wrt"]: float(ref(problem["params"], q["wrt"])) for q in problem["questions"]}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from quizforge.drill.family import generate

    out = {"torch": torch.__version__, "problems": []}
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            d = json.loads(json.dumps(generate("counting", seed, difficulty).to_dict()))
            out["problems"].append({"seed": seed, "difficulty": difficulty,
                                    "setup": d["setup"], "answers": answers(d)})
    OUT.write_text(json.dumps(out, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(out['problems'])} problems)")


if __name__ == "__main__":
    main()
