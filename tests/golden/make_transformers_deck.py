"""Golden values for the transformers deck (decks/transformers.yaml), computed with PyTorch.

Each entry is a value that tests/test_deck_content_transformers.py otherwise takes from live
torch: parameter counts (`sum(p.numel() for p in m.parameters())` of real nn modules),
FLOPs (torch.utils.flop_counter.FlopCounterMode), tensor shapes and byte sizes
(element_size() · numel()), and the behavior of masks in F.scaled_dot_product_attention and
nn.MultiheadAttention (which entries are zero, where NaN appears). The torch-free tests compare
the card's numbers with these; the live tests (run with the `.[torch]` extra) recompute them,
and one of them checks that this file still says what torch says now.

Run from the repository root:  python tests/golden/make_transformers_deck.py
It writes tests/golden/transformers_deck.json.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

OUT = Path(__file__).with_name("transformers_deck.json")


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def mha(d: int, h: int, **kw) -> int:
    return n_params(nn.MultiheadAttention(d, h, **kw))


def gpt2_block(d: int) -> int:
    """Two LayerNorms, attention with biases, MLP d→4d→d."""
    return n_params(nn.ModuleList([nn.LayerNorm(d), nn.MultiheadAttention(d, 1), nn.LayerNorm(d),
                                   nn.Linear(d, 4 * d), nn.Linear(4 * d, d)]))


def softmax_saturation() -> dict:
    z = torch.tensor([8.0, 0.0], dtype=torch.float64, requires_grad=True)
    p = torch.softmax(z, 0)
    p[0].backward()
    z0 = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    torch.softmax(z0, 0)[0].backward()
    return {"p": p[0].item(), "grad": z.grad[0].item(), "grad_at_zero": z0.grad[0].item()}


def qkv_shapes() -> dict:
    B, T, d, h = 2, 5, 12, 3
    x = torch.randn(B, T, d)
    w_q, w_k, w_v = (torch.randn(d, d) for _ in range(3))

    def heads(t):
        return t.view(B, T, h, d // h).transpose(1, 2)

    q, k, v = heads(x @ w_q), heads(x @ w_k), heads(x @ w_v)
    out = F.scaled_dot_product_attention(q, k, v)
    return {"B": B, "T": T, "d": d, "h": h, "q": list(q.shape),
            "scores": list((q @ k.transpose(-2, -1)).shape), "sdpa_out": list(out.shape),
            "merged": list(out.transpose(1, 2).reshape(B, T, d).shape)}


def causal_mask() -> dict:
    torch.manual_seed(0)
    T, d = 4, 3
    q, k, v = (torch.randn(1, 1, T, d, dtype=torch.float64) for _ in range(3))
    s = q @ k.transpose(-2, -1) / math.sqrt(d)
    later = torch.ones(T, T, dtype=torch.bool).triu(1)
    w = torch.softmax(s.masked_fill(later, float("-inf")), -1)
    after = torch.softmax(s, -1).masked_fill(later, 0)
    earlier = torch.ones(T, T, dtype=torch.bool).tril(-1)
    wrong = torch.softmax(s.masked_fill(earlier, float("-inf")), -1)
    return {
        # −∞ on later keys before the softmax: rows sum to 1, later keys get 0, = is_causal
        "before_rows_sum_to_1": bool(torch.allclose(w.sum(-1), torch.ones(1, 1, T).double())),
        "before_later_weights_zero": bool((w[..., later] == 0).all()),
        "before_equals_sdpa_is_causal": bool(torch.allclose(
            w @ v, F.scaled_dot_product_attention(q, k, v, is_causal=True))),
        # zeroing after the softmax: every row but the last sums to less than 1
        "after_rows_sum_below_1": bool((after.sum(-1)[0, 0, :-1] < 1 - 1e-9).all()),
        # masking the earlier keys instead: the first query sees every later key
        "earlier_masked_first_query_sees_future": bool((wrong[0, 0, 0, 1:] > 0).all()),
    }


def bool_masks() -> dict:
    torch.manual_seed(0)
    q, k, v = torch.randn(1, 1, 2, 4), torch.randn(1, 1, 3, 4), torch.randn(1, 1, 3, 4)
    allow_only_key0 = torch.tensor([[True, False, False], [True, False, False]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=allow_only_key0)
    m = nn.MultiheadAttention(4, 1, batch_first=True, bias=False)
    x, mem = torch.randn(1, 2, 4), torch.randn(1, 3, 4)
    _, w = m(x, mem, mem, attn_mask=allow_only_key0)
    _, w_pad = m(x, mem, mem, key_padding_mask=torch.tensor([[False, False, True]]))
    return {
        "sdpa_true_means_attend": bool(torch.allclose(out, v[:, :, :1].expand(1, 1, 2, 4),
                                                      atol=1e-6)),
        "mha_attn_mask_true_means_blocked": bool((w[0, :, 0] == 0).all()
                                                 and (w[0, :, 1:] > 0).all()),
        "mha_key_padding_true_means_ignored": bool((w_pad[0, :, 2] == 0).all()),
    }


def fully_masked() -> dict:
    torch.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, batch_first=True)
    x = torch.randn(2, 3, 4)
    pad = torch.tensor([[True, True, True], [False, False, True]])
    mha_nan = {}
    for name in ("train", "eval"):
        getattr(m, name)()
        out, _ = m(x, x, x, key_padding_mask=pad)
        mha_nan[name] = bool(torch.isnan(out[0]).all() and not torch.isnan(out[1]).any())
    q, k, v = torch.randn(1, 1, 2, 4), torch.randn(1, 1, 3, 4), torch.randn(1, 1, 3, 4)
    sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=torch.zeros(2, 3, dtype=torch.bool))
    w = torch.softmax(torch.randn(3).masked_fill(torch.ones(3, dtype=torch.bool), -1e9), 0)
    return {
        "softmax_all_minus_inf_is_nan": bool(torch.isnan(
            torch.softmax(torch.full((3,), float("-inf")), 0)).all()),
        "mha_need_weights_true_nan_train": mha_nan["train"],
        "mha_need_weights_true_nan_eval": mha_nan["eval"],
        "sdpa_fully_masked_row_zeros": bool((sdpa == 0).all()),
        "large_finite_no_nan": bool(not torch.isnan(w).any()
                                    and math.isclose(w.sum().item(), 1, rel_tol=1e-6)),
    }


def padding_mask() -> dict:
    torch.manual_seed(0)
    B, T, d = 3, 5, 8
    lengths = torch.tensor([5, 3, 1])
    pad = torch.arange(T)[None, :] >= lengths[:, None]
    m = nn.MultiheadAttention(d, 2, batch_first=True)
    x = torch.randn(B, T, d)
    _, w = m(x, x, x, key_padding_mask=pad, average_attn_weights=False)
    broadcast = pad[:, None, None, :]
    return {"B": B, "T": T, "pad": list(pad.shape), "weights": list(w.shape),
            "broadcast": list(broadcast.shape),
            "pads_get_zero_weight": bool((w.masked_select(broadcast.expand_as(w)) == 0).all())}


def cross_attention() -> dict:
    B, h, t_dec, t_src, d = 2, 8, 20, 50, 16
    m = nn.MultiheadAttention(d, h, batch_first=True)
    _, w = m(torch.randn(B, t_dec, d), torch.randn(B, t_src, d), torch.randn(B, t_src, d),
             average_attn_weights=False)
    return {"B": B, "h": h, "t_dec": t_dec, "t_src": t_src, "weights": list(w.shape)}


def weight_tying_rows() -> dict:
    torch.manual_seed(0)
    vocab, d = 10, 4
    tokens, target = torch.tensor([2, 7]), torch.tensor([3, 5])

    def grads(tied):
        emb = nn.Embedding(vocab, d)
        out = nn.Linear(d, vocab, bias=False)
        if tied:
            out.weight = emb.weight
        F.cross_entropy(out(emb(tokens)), target).backward()
        return emb.weight.grad, out.weight.grad

    emb_grad, out_grad = grads(tied=False)
    tied_grad, _ = grads(tied=True)
    return {"vocab": vocab, "input_tokens": tokens.tolist(),
            "untied_embedding_rows_updated": sorted(emb_grad.abs().sum(1).nonzero().flatten()
                                                    .tolist()),
            "untied_output_rows_updated": (out_grad.abs().sum(1) > 0).sum().item(),
            "tied_rows_updated": (tied_grad.abs().sum(1) > 0).sum().item()}


def flop_checks() -> dict:
    d, layers = 16, 3
    mats = [torch.randn(d, d) for _ in range(4 * layers)]
    mats += [m for _ in range(layers) for m in (torch.randn(d, 4 * d), torch.randn(4 * d, d))]
    x = torch.randn(1, d)

    def forward_one_token():
        for m in mats:
            (x if m.shape[0] == d else torch.randn(1, 4 * d)) @ m

    dt, tokens = 16, 8
    w = torch.randn(dt, 4 * dt, requires_grad=True)
    xt = torch.randn(tokens, dt, requires_grad=True)
    T, dq = 32, 16
    q, k, v = torch.randn(1, dq), torch.randn(T, dq), torch.randn(T, dq)
    dv, vocab = 16, 100
    wv = torch.randn(dv, vocab)
    Tp, dp = 12, 16
    xp, wp = torch.randn(Tp, dp), torch.randn(dp, dp)
    Tw, hw, dh = 10, 3, 4
    qw, kw, vw = (torch.randn(1, hw, Tw, dh) for _ in range(3))
    weights = torch.softmax(qw @ kw.transpose(-2, -1), -1)
    return {
        "weights_per_token": {"d": d, "layers": layers, "n": sum(m.numel() for m in mats),
                              "flops": flops(forward_one_token)},
        "training_step": {"d": dt, "tokens": tokens, "n": w.numel(),
                          "forward": flops(lambda: xt @ w),
                          "step": flops(lambda: (xt @ w).sum().backward())},
        "one_query": {"T": T, "d": dq, "qk": flops(lambda: q @ k.T),
                      "weighted_v": flops(lambda: torch.randn(1, T) @ v)},
        "output_layer": {"d": dv, "vocab": vocab, "flops": flops(lambda: torch.randn(1, dv) @ wv)},
        "projection": {"T": Tp, "d": dp, "one": flops(lambda: xp @ wp)},
        "weighted_sum": {"T": Tw, "h": hw, "dh": dh,
                         "scores": flops(lambda: qw @ kw.transpose(-2, -1)),
                         "values": flops(lambda: weights @ vw)},
        "score_flops": [{"T": T_, "d": d_, "h": h_, "flops": flops(
            lambda: torch.randn(1, h_, T_, d_ // h_) @ torch.randn(1, h_, T_, d_ // h_)
            .transpose(-2, -1))} for T_, d_, h_ in ((16, 32, 4), (40, 24, 3), (8, 64, 1))],
    }


def gqa() -> dict:
    torch.manual_seed(0)
    B, h, g, T, dh, d = 1, 8, 2, 6, 4, 32
    q = torch.randn(B, h, T, dh)
    k, v = torch.randn(B, g, T, dh), torch.randn(B, g, T, dh)
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    ref = F.scaled_dot_product_attention(q, k.repeat_interleave(h // g, 1),
                                         v.repeat_interleave(h // g, 1))
    k_proj = nn.Linear(d, g * dh, bias=False)
    k_proj_mha = nn.Linear(d, h * dh, bias=False)
    return {
        "sdpa_enable_gqa_equals_repeat": bool(torch.allclose(out, ref, atol=1e-6)),
        "cache_numel_gqa": 2 * k.numel(), "cache_numel_mha": 2 * q.numel(),
        "kv_proj_params_gqa": 2 * n_params(k_proj), "kv_proj_params_mha": 2 * n_params(k_proj_mha),
        "score_flops_gqa": flops(lambda: q @ k.repeat_interleave(h // g, 1).transpose(-2, -1)),
        "score_flops_mha": flops(lambda: q @ torch.randn(B, h, T, dh).transpose(-2, -1)),
    }


def rmsnorm() -> dict:
    x = torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=torch.float64)
    rms = nn.RMSNorm(4, eps=0.0, dtype=torch.float64)(x)
    ln = nn.LayerNorm(4, eps=0.0, dtype=torch.float64)(x)
    return {"x": x.tolist(), "rmsnorm_last": rms[-1].item(), "layernorm_last": ln[-1].item(),
            "mean": x.mean().item(), "l2": x.pow(2).sum().sqrt().item(),
            "rms": x.pow(2).mean().sqrt().item(), "std": x.std(unbiased=False).item()}


def permutation() -> dict:
    torch.manual_seed(1)
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(1, 5, 8)
    perm = torch.tensor([3, 0, 4, 1, 2])
    out, _ = m(x, x, x)
    out_perm, _ = m(x[:, perm], x[:, perm], x[:, perm])
    return {"outputs_permuted_the_same_way": bool(torch.allclose(out[:, perm], out_perm,
                                                                 atol=1e-6))}


def gelu() -> dict:
    x = torch.linspace(-3, 1, 400_001, dtype=torch.float64)
    phi = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    g = F.gelu(x)
    return {"equals_x_phi": bool(torch.allclose(g, x * phi)), "min": g.min().item()}


def nbytes_of(*shape: int, dtype=torch.float16) -> int:
    t = torch.empty(*shape, dtype=dtype, device="meta")
    return t.numel() * t.element_size()


def golden() -> dict:
    params = {
        "mha_512_8": mha(512, 8), "mha_512_8_no_bias": mha(512, 8, bias=False),
        "mha_512_8_out_proj": n_params(nn.MultiheadAttention(512, 8).out_proj),
        "mha_64_4": mha(64, 4), "mha_128_4": mha(128, 4), "mha_64_8": mha(64, 8),
        "mha_64_4_no_bias": mha(64, 4, bias=False), "mha_64_4_dropout": mha(64, 4, dropout=0.1),
        "mha_1024_16_no_bias": mha(1024, 16, bias=False),
        "mlp_1024_no_bias": n_params(nn.Linear(1024, 4096, bias=False))
        + n_params(nn.Linear(4096, 1024, bias=False)),
        "gpt2_block": {str(d): gpt2_block(d) for d in (8, 64, 96, 768)},
        "layernorm_768": n_params(nn.LayerNorm(768)),
        "embedding_50257_768": n_params(nn.Embedding(50_257, 768)),
        "embedding_1024_768": n_params(nn.Embedding(1024, 768)),
        "linear_768_50257_no_bias": n_params(nn.Linear(768, 50_257, bias=False)),
        "ffn_512_2048_no_bias": n_params(nn.Linear(512, 2048, bias=False))
        + n_params(nn.Linear(2048, 512, bias=False)),
        "mha_formula_points": [{"d": d, "h": h, "params": mha(d, h)}
                               for d, h in ((8, 2), (64, 4), (96, 8), (128, 16))],
        "mha_shapes_24_4": {n: list(p.shape) for n, p in
                            nn.MultiheadAttention(24, 4).named_parameters()},
    }
    memory = {
        "score_matrix_fp16_4096": nbytes_of(4096, 4096),
        "kv_k_one_layer_fp16_32x4096x128": nbytes_of(32, 4096, 128),
        "kv_cache_per_token": [
            {"L": L, "g": g, "h": h, "dh": dh,
             "bytes": (nbytes_of(L, g, 5, dh) * 2) / 5}
            for L, g, h, dh in ((2, 1, 4, 8), (3, 2, 8, 16), (4, 4, 4, 32))],
    }
    return {"torch": torch.__version__, "params": params, "memory": memory,
            "softmax_saturation": softmax_saturation(), "qkv_shapes": qkv_shapes(),
            "causal_mask": causal_mask(), "bool_masks": bool_masks(),
            "fully_masked": fully_masked(), "padding_mask": padding_mask(),
            "cross_attention": cross_attention(), "weight_tying_rows": weight_tying_rows(),
            "flops": flop_checks(), "gqa": gqa(), "rmsnorm": rmsnorm(),
            "permutation": permutation(), "gelu": gelu()}


def main() -> None:
    OUT.write_text(json.dumps(golden(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
