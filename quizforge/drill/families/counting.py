"""`counting`: the back-of-the-envelope arithmetic interviewers ask, with a number as the answer.

Parameters of PyTorch layers (nn.Linear, nn.Conv2d, nn.MultiheadAttention, an MLP with a 4×
expansion, nn.TransformerEncoderLayer, a decoder-only model with tied or untied head, LoRA
adapters), FLOPs (a matmul (m×k)·(k×n) is 2·m·k·n: a multiply-add counts as 2, as
torch.utils.flop_counter counts it; training ≈ 6·N·D), KV-cache bytes (MHA and GQA), model
memory (weights at inference, model states with Adam in mixed precision) and conv output
sizes ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1.

Every count is a product of the factors shown in the problem; the worked solution names each
factor with its value, then multiplies. The counting formulas are the plain functions at the
top of this module. Numbers are drawn so that the mistake each question is there to catch
(a dropped bias, K and V counted once, bits for bytes, a forgotten floor …) differs from the
right answer by more than 3 significant figures can hide.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from quizforge.drill.basic import Asked, BasicProblem, fits_screen
from quizforge.drill.family import Family
from quizforge.drill.model import Lines, Mistake, Question, Target, fmt_num
from quizforge.drill.rounding import band

SAME_RTOL = 0.006  # two values this close are one answer to the grader (3 significant figures)
GB = 10**9  # memory answers are in GB = 10⁹ bytes (said in every problem)
BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int4": 0.5}


# -- the counts: pure formulas -------------------------------------------------------------------
def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """nn.Linear: a weight out×in and, with bias, out more."""
    return in_features * out_features + (out_features if bias else 0)


def matmul_flops(m: int, k: int, n: int) -> int:
    """(m×k)·(k×n): m·n outputs, each k multiply-adds of 2 FLOPs."""
    return 2 * m * k * n


def conv2d_params(in_channels: int, out_channels: int, kernel_size: int,
                  bias: bool = True) -> int:
    """nn.Conv2d (groups = 1): C_out filters of C_in·k·k weights, one bias each."""
    return in_channels * out_channels * kernel_size ** 2 + (out_channels if bias else 0)


def conv_out(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
             dilation: int = 1) -> int:
    """nn.Conv2d's output size: ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv2d_flops(in_channels: int, out_channels: int, kernel_size: int, h_out: int,
                 w_out: int) -> int:
    """Every output value is C_in·k·k multiply-adds (2 FLOPs each); the bias is not counted."""
    return 2 * in_channels * kernel_size ** 2 * out_channels * h_out * w_out


def mha_params(d: int, bias: bool = True) -> int:
    """nn.MultiheadAttention: Q, K, V and output projections, d×d each, with biases."""
    return 4 * d * d + (4 * d if bias else 0)


def mlp_params(d: int, expansion: int = 4) -> int:
    """Linear(d, 4d) then Linear(4d, d), with biases."""
    h = expansion * d
    return d * h + h + h * d + d


def block_params(d: int) -> int:
    """nn.TransformerEncoderLayer(d, nhead, dim_feedforward=4d): attention + MLP + 2 LayerNorms
    (γ and β): 12d² + 13d."""
    return mha_params(d) + mlp_params(d) + 2 * 2 * d


def decoder_params(vocab_size: int, n_positions: int, d: int, num_layers: int,
                   tied: bool = True) -> int:
    """Token and learned position embeddings, the blocks, a final LayerNorm, and the output
    head (a V×d matrix without bias, shared with the token embedding when tied)."""
    embed = vocab_size * d + n_positions * d
    return embed + num_layers * block_params(d) + 2 * d + (0 if tied else vocab_size * d)


def lora_params(r: int, in_features: int, out_features: int) -> int:
    """A LoRA adapter B·A on a frozen in→out weight: A is r×in, B is out×r."""
    return r * (in_features + out_features)


def kv_cache_bytes(num_layers: int, num_kv_heads: int, head_dim: int, seq_len: int,
                   batch_size: int, bytes_per_element: float) -> float:
    """2 (K and V) · layers · kv_heads · head_dim · seq_len · batch · bytes per element."""
    return 2 * num_layers * num_kv_heads * head_dim * seq_len * batch_size * bytes_per_element


# bytes per parameter of the model states (weights, gradients, optimizer state)
ADAM_MIXED = (("fp16 weights", 2), ("fp16 gradients", 2), ("fp32 master weights", 4),
              ("fp32 Adam m", 4), ("fp32 Adam v", 4))
SGD_MOMENTUM_FP32 = (("fp32 weights", 4), ("fp32 gradients", 4), ("fp32 momentum", 4))


# -- small helpers -------------------------------------------------------------------------------
def _c(v: float) -> str:
    """A count as written on the board: 49,984 · 3.5 · 1.2e20."""
    v = float(v)
    if abs(v) >= 1e15:
        mantissa, _, exponent = f"{v:.4e}".partition("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    if v.is_integer():
        return f"{int(v):,}"
    return fmt_num(v, 4)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_RTOL * max(abs(a), abs(b)) + 1e-12


def _keep(value: float, lo: float, hi: float, candidates: list[Mistake | None]) -> tuple:
    """The mistakes a grader can tell from the right answer (first of equal values kept)."""
    kept: list[Mistake] = []
    for m in candidates:
        if m is None:
            continue
        v = float(m.value)
        if not math.isfinite(v) or v <= 0 or _same(v, value):
            continue
        slack = SAME_RTOL * abs(v)
        if lo - slack <= v <= hi + slack:
            continue  # typed to 3 significant figures it could land inside the band: right
        if any(abs(v - k.value) <= 2 * SAME_RTOL * max(v, k.value) for k in kept):
            continue  # typed to 3 figures, one could be taken for the other
        kept.append(m)
    return tuple(kept)


def _product(*factors: float) -> Callable[[Callable[[Any], Any]], Any]:
    """The hand computation of a product, every partial product written down (rounded)."""
    def compute(r):
        acc = r(factors[0])
        for f in factors[1:]:
            acc = r(acc * f)
        return acc
    return compute


def _sum(*terms: Callable[[Callable[[Any], Any]], Any]) -> Callable[[Callable[[Any], Any]], Any]:
    def compute(r):
        acc = terms[0](r)
        for t in terms[1:]:
            acc = r(acc + t(r))
        return acc
    return compute


def _tokens(v: float) -> str:
    """1e11 tokens as people say it: 100B = 1e11."""
    unit, scale = ("T", 1e12) if v >= 1e12 else ("B", 1e9)
    return f"{v / scale:g}{unit} = {v:.0e}".replace("e+", "e")


def _dot(*factors: Any) -> str:
    return " · ".join(_c(f) if isinstance(f, (int, float)) else str(f) for f in factors)


COUNT = "a count; 3 significant figures are enough, e.g. 1.23e6, 1.23M or 1,230,000"
FLOPS = "3 significant figures, e.g. 3.2e9 or 3.2 billion"
BYTES_ASK = "in bytes; 3 significant figures, e.g. 2.1e9 or 2^31"
GB_ASK = "in GB, 1 GB = 10^9 bytes; e.g. 14 or 3.5"
SIZE_ASK = "a whole number"


@dataclass(frozen=True)
class _Q:
    """One question before its band and mistakes are worked out."""

    wrt: str  # what is asked ("params", "flops_forward", "H_out" …): never an input's name
    label: str  # how the solution names it
    ask: str
    skills: tuple[str, ...]
    value: float
    compute: Callable[[Callable[[Any], Any]], Any]  # the hand computation, r on every number
    candidates: list[Mistake | None]
    formula: tuple[str, ...]
    numbers: tuple[str, ...]
    hints: tuple[str, str]
    needs: tuple[str, ...] = ()  # mistakes this question is there to catch (must be named)
    whole: bool = False  # a size: only the exact whole number is right


def _need(q: _Q, *kinds: str) -> _Q:
    return replace(q, needs=q.needs + kinds)


def _asked(q: _Q) -> Asked:
    lo, hi = (q.value - 1e-9, q.value + 1e-9) if q.whole else band(q.compute)
    mistakes = _keep(q.value, lo, hi, q.candidates)
    target = Target(q.wrt, q.label, float(q.value), lo, hi, mistakes)
    question = Question(q.wrt, "number", q.ask, q.skills, ())
    solution = (Lines("Formula", q.formula),
                Lines("Numbers", q.numbers + (f"{q.label} = {_c(q.value)}",)))
    return Asked(question, target, solution, q.hints)


@dataclass(frozen=True)
class _Setup:
    kind: str  # what is counted: "linear", "conv2d", "kv-cache" … (the JSON `setup`)
    params: dict[str, Any]  # by PyTorch's names
    body: tuple[str, ...]
    questions: tuple[_Q, ...]
    convention: tuple[str, ...] = ()


FLOP_CONVENTION = ("A multiply-add counts as 2 FLOPs, so (m×k)·(k×n) costs 2·m·k·n, as",
                   "torch.utils.flop_counter counts it; bias additions are not counted.")


def _bits_mistakes(value: float, what: str) -> list[Mistake]:
    """Bits taken for bytes (×8) and bytes divided by 8 again (÷8); `what` says the size."""
    return [Mistake("bits-not-bytes", f"That counts bits: the answer is in bytes, and {what} "
                    "(8 bits to a byte).", value * 8),
            Mistake("bits-not-bytes", f"That divides by 8 once too often: {what}, already "
                    "in bytes.", value / 8)]


# -- d1: nn.Linear -------------------------------------------------------------------------------
def _linear_setup(rng: random.Random) -> _Setup:
    fin = rng.choice((10, 12, 16, 20, 24, 32, 48, 64))
    fout = rng.choice((8, 10, 16, 30, 32, 50, 64, 100, 128))
    B = rng.choice((8, 16, 32, 64, 100, 128))
    p = linear_params(fin, fout)
    fwd = matmul_flops(B, fin, fout)
    q0 = _Q("params", "params", f"How many parameters does the layer have? ({COUNT})",
            ("linear-params",), p, _sum(_product(fin, fout), _product(fout)),
            [Mistake("biases-dropped", f"bias=True is the default: the layer also has one bias "
                     f"per output, {fout} more.", fin * fout),
             Mistake("bias-per-input", f"There is one bias per output feature ({fout}), not "
                     f"per input ({fin}).", fin * fout + fin)],
            ("params = in_features · out_features  (weight, stored out×in)",
             "       + out_features                 (bias)"),
            (f"weight: {_dot(fin, fout)} = {_c(fin * fout)}", f"bias: {fout}",
             f"{_c(fin * fout)} + {fout} = {_c(p)}"),
            ("A weight connects every input to every output; each output has a bias.",
             f"{fin}·{fout} weights + {fout} biases."))
    q1 = _Q("flops_forward", "forward FLOPs",
            f"How many FLOPs does the forward pass over the batch cost? ({FLOPS})",
            ("matmul-flops",), fwd, _product(2, B, fin, fout),
            [Mistake("multiply-add-once", "A multiply-add is 2 FLOPs (one multiply, one add): "
                     "y = x·Wᵀ costs 2·B·in·out.", fwd / 2),
             Mistake("no-batch", f"Every one of the {B} inputs goes through the layer: "
                     "multiply by the batch size.", fwd / B),
             Mistake("bias-adds-counted", "The convention here leaves out the bias additions "
                     "(as FlopCounterMode does): count the matmul only.", fwd + B * fout)],
            ("X (B×in) · Wᵀ (in×out): B·out outputs, in multiply-adds each",
             "FLOPs = 2 · B · in_features · out_features"),
            (f"2 · {B} · {fin} · {fout} = {_c(fwd)}",),
            ("It is one matmul of (B×in)·(in×out); a multiply-add counts as 2.",
             f"2 · {B} · {fin} · {fout}."))
    bwd = 2 * fwd
    q2 = _Q("flops_backward", "backward FLOPs",
            ("How many FLOPs does the backward pass cost (∂L/∂X and ∂L/∂W; the bias "
             f"gradient is a sum, not counted)? ({FLOPS})"),
            ("matmul-flops", "backward-flops"), bwd, _product(2, 2, B, fin, fout),
            [Mistake("one-backward-matmul", "Backward is two matmuls, each as big as the "
                     "forward one: ∂L/∂X = G·W (B×out · out×in) and ∂L/∂W = Gᵀ·X (out×B · "
                     "B×in), 2·B·in·out each (or you counted a multiply-add as 1).", fwd),
             Mistake("forward-plus-backward", "That adds the forward pass; the question asks "
                     "the backward pass alone: 2 matmuls, 4·B·in·out.", 3 * fwd),
             Mistake("no-batch", f"Both gradients sum over the {B} inputs: the batch size "
                     "multiplies the cost.", bwd / B)],
            ("∂L/∂X = G · W    (B×out)·(out×in): 2·B·out·in",
             "∂L/∂W = Gᵀ · X   (out×B)·(B×in):  2·out·B·in",
             "FLOPs = 2 · 2 · B · in_features · out_features"),
            (f"∂L/∂X: 2 · {B} · {fout} · {fin} = {_c(fwd)}",
             f"∂L/∂W: 2 · {fout} · {B} · {fin} = {_c(fwd)}",
             f"{_c(fwd)} + {_c(fwd)} = {_c(bwd)}"),
            ("Backward needs the gradient for the input and for the weight: two matmuls.",
             "Each of them is as big as the forward matmul."))
    body = (f"layer = nn.Linear(in_features={fin}, out_features={fout})   # bias=True",
            f"y = layer(x) for a batch x of shape {B}×{fin} (batch_size = {B}).")
    return _Setup("linear", {"in_features": fin, "out_features": fout, "bias": True,
                             "batch_size": B}, body,
                  (_need(q0, "biases-dropped"), _need(q1, "multiply-add-once"), q2),
                  FLOP_CONVENTION)


# -- d1: a matmul chain --------------------------------------------------------------------------
def _matmul_setup(rng: random.Random) -> _Setup:
    sizes = (1, 2, 4, 8, 10, 16, 32, 64, 100, 128, 256, 512, 1000, 1024)
    for _ in range(100):
        m, k, n, p = (rng.choice(sizes) for _ in range(4))
        ab_c = matmul_flops(m, k, n) + matmul_flops(m, n, p)
        a_bc = matmul_flops(k, n, p) + matmul_flops(m, k, p)
        if ab_c * 3 <= a_bc or a_bc * 3 <= ab_c:
            break  # the order matters: that is the point of the question
    ab = matmul_flops(m, k, n)
    mk, kn, np_ = f"{m}×{k}", f"{k}×{n}", f"{n}×{p}"
    q0 = _Q("flops_AB", "FLOPs of A·B", f"How many FLOPs does A·B cost? ({FLOPS})",
            ("matmul-flops",), ab, _product(2, m, k, n),
            [Mistake("multiply-add-once", "A multiply-add is 2 FLOPs: (m×k)·(k×n) costs "
                     "2·m·k·n.", ab / 2),
             Mistake("output-size", f"m·n = {m * n} is the number of outputs; each one is a "
                     f"dot product of length k = {k}.", 2 * m * n),
             Mistake("output-size", "That counts the outputs without the k multiply-adds "
                     "that make each one.", m * n)],
            ("(m×k)·(k×n): m·n outputs, each a dot product of k multiply-adds",
             "FLOPs = 2 · m · k · n"),
            (f"A·B = ({mk})·({kn}): 2 · {m} · {k} · {n} = {_c(ab)}",),
            ("Count the outputs, then the multiply-adds per output.",
             f"{m}·{n} outputs, {k} multiply-adds each, 2 FLOPs per multiply-add."))

    def chain(first: bool) -> _Q:
        if first:
            x, y = matmul_flops(m, k, n), matmul_flops(m, n, p)
            lines = (f"A·B = ({mk})·({kn}), {m}×{n}:", f"   2 · {m} · {k} · {n} = {_c(x)}",
                     f"(A·B)·C = ({m}×{n})·({np_}):", f"   2 · {m} · {n} · {p} = {_c(y)}")
            wrt, label, other = "flops_AB_C", "FLOPs of (A·B)·C", "A·(B·C)"
            wrong_dims = 2 * m * k * n * p
        else:
            x, y = matmul_flops(k, n, p), matmul_flops(m, k, p)
            lines = (f"B·C = ({kn})·({np_}), {k}×{p}:", f"   2 · {k} · {n} · {p} = {_c(x)}",
                     f"A·(B·C) = ({mk})·({k}×{p}):", f"   2 · {m} · {k} · {p} = {_c(y)}")
            wrt, label, other = "flops_A_BC", "FLOPs of A·(B·C)", "(A·B)·C"
            wrong_dims = 2 * m * k * n * p
        total = x + y
        return _Q(wrt, label, (f"How many FLOPs does {label.removeprefix('FLOPs of ')} cost, "
                               f"both matmuls? ({FLOPS})"),
                  ("matmul-flops",), total,
                  lambda r, x=x, y=y: r(r(x) + r(y)),
                  [Mistake("multiply-add-once", "A multiply-add is 2 FLOPs: each matmul "
                           "(m×k)·(k×n) costs 2·m·k·n.", total / 2),
                   Mistake("one-matmul", "Both products count: the inner one makes an "
                           "intermediate matrix, the outer one uses it.", y),
                   Mistake("one-matmul", "Both products count: the outer one multiplies the "
                           "intermediate matrix again.", x),
                   Mistake("wrong-order", f"That is the cost of {other}: the brackets decide "
                           "which intermediate is built.",
                           ab_c if not first else a_bc),
                   Mistake("all-dims", "Each matmul has three sizes (rows, inner, columns), "
                           "not all four at once.", wrong_dims)],
                  ("each matmul (r×i)·(i×c) costs 2·r·i·c; add the two",),
                  lines + (f"{_c(x)} + {_c(y)} = {_c(total)}",),
                  ("Do the bracket first: what shape does it produce?",
                   "Then that intermediate times the remaining matrix; add both costs."))

    body = (f"A is {mk}, B is {kn} and C is {np_} (float matrices).",)
    return _Setup("matmul", {"m": m, "k": k, "n": n, "p": p}, body,
                  (_need(q0, "multiply-add-once"), chain(True), chain(False)),
                  FLOP_CONVENTION)


# -- d1: nn.Conv2d -------------------------------------------------------------------------------
def _conv_out_mistakes(size: int, k: int, s: int, p: int, d: int, name: str) -> list[Mistake]:
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    out = conv_out(size, k, s, p, d)
    ms = [
        Mistake("floor-forgotten", f"(H + 2p − d·(k−1) − 1)/s = {num}/{s} is not whole: a "
                f"window that does not fit is dropped, so take the floor, then add 1.",
                num / s + 1),
        Mistake("floor-forgotten", f"Round {num}/{s} down, not up: the last window must fit "
                "inside the padded input.", -(-num // s) + 1),
        Mistake("padding-once", f"padding={p} adds {p} on both sides: H + 2p.",
                conv_out(size - p, k, s, p, d)) if p else None,
        Mistake("plus-one-forgotten", "Count window positions: ⌊(H + 2p − k_eff)/s⌋ steps "
                "give one more position than steps (the + 1).", out - 1),
        Mistake("stride-ignored", f"stride={s} moves the window {s} pixels at a time: "
                f"divide by {s}.", num + 1) if s > 1 else None,
    ]
    if d > 1:
        ms.insert(0, Mistake("dilation-ignored", f"dilation={d} spreads the kernel: it spans "
                             f"d·(k − 1) + 1 = {eff} pixels, not {k}.",
                             conv_out(size, k, s, p, 1)))
    return [m for m in ms if m is not None]


def _conv_out_q(wrt: str, size: int, k: int, s: int, p: int, d: int, dim: str) -> _Q:
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    out = conv_out(size, k, s, p, d)
    lines = []
    if d > 1:
        lines.append(f"d·(k − 1) + 1 = {d}·{k - 1} + 1 = {eff}  (the dilated kernel's span)")
    lines += [f"{size} + 2·{p} − {d}·({k} − 1) − 1 = {num}",
              f"⌊{num}/{s}⌋ + 1 = {num // s} + 1 = {out}"]
    return _Q(wrt, wrt, f"What is the output {dim}, {wrt}? ({SIZE_ASK})", ("conv-shape",),
              out, lambda r: out, _conv_out_mistakes(size, k, s, p, d, wrt),
              (f"{wrt} = ⌊({dim[0].upper()}_in + 2·padding − dilation·(kernel_size − 1) − 1)"
               "/stride⌋ + 1",),
              tuple(lines),
              ("PyTorch's formula: ⌊(H + 2p − d·(k−1) − 1)/s⌋ + 1.",
               f"Here {size} + 2·{p} − {d}·{k - 1} − 1 = {num}; divide by {s}, round down."),
              whole=True)


def _conv_setup(rng: random.Random) -> _Setup:
    cin = rng.choice((1, 3, 3, 4))
    cout = rng.choice((8, 16, 32, 64, 96, 128))
    k = rng.choice((1, 3, 3, 5))
    s = rng.choice((1, 2, 2))
    p = rng.choice((0, 1, 2, 3)) if k > 1 else 0
    H = rng.choice((15, 17, 28, 31, 32, 33, 63, 64, 65))  # H_out ≤ 65: a half step shows
    par = conv2d_params(cin, cout, k)
    q0 = _Q("params", "params", f"How many parameters does the layer have? ({COUNT})",
            ("conv-params",), par, _sum(_product(cin, cout, k, k), _product(cout)),
            [Mistake("biases-dropped", f"bias=True is the default: one bias per output "
                     f"channel, {cout} more.", cin * cout * k * k),
             Mistake("kernel-once", f"A kernel is k×k = {k}×{k}: k² weights per input "
                     "channel.", cin * cout * k + cout),
             Mistake("in-channels-dropped", f"Each filter spans all {cin} input channels: "
                     "C_in·k·k weights per filter.", cout * k * k + cout)],
            ("params = C_in · C_out · k · k   (C_out filters of C_in×k×k)",
             "       + C_out                  (one bias per filter)"),
            (f"weights: {_dot(cin, cout, k, k)} = {_c(cin * cout * k * k)}",
             f"biases: {cout}", f"{_c(cin * cout * k * k)} + {cout} = {_c(par)}"),
            ("Each output channel is one filter of C_in×k×k weights, plus one bias.",
             f"{cin}·{cout}·{k}·{k} + {cout}."))
    q1 = _conv_out_q("H_out", H, k, s, p, 1, "height")
    body = (f"conv = nn.Conv2d(in_channels={cin}, out_channels={cout}, kernel_size={k}, "
            f"stride={s},", f"                 padding={p})   # bias=True, dilation=1",
            f"applied to an input of shape 1×{cin}×{H}×{H} (N×C×H×W).")
    needs = ["floor-forgotten"] if (H + 2 * p - k) % s else []
    return _Setup("conv2d", {"in_channels": cin, "out_channels": cout, "kernel_size": k,
                             "stride": s, "padding": p, "dilation": 1, "bias": True,
                             "H_in": H, "W_in": H}, body,
                  (_need(q0, "biases-dropped"), _need(q1, *needs)))


# -- d1 and d2: the KV cache ---------------------------------------------------------------------
def _kv_setup(rng: random.Random, gqa: bool) -> _Setup:
    L = rng.choice((2, 4, 6, 12, 16, 24, 32, 40))
    H = rng.choice((4, 8, 12, 16, 32, 40))
    hd = rng.choice((32, 64, 128))
    T = rng.choice((128, 256, 512, 1024, 2048, 4096, 8192))
    B = rng.choice((1, 2, 4, 8, 16))
    if gqa:
        KV = rng.choice([g for g in (1, 2, 4, 8) if g < H and H % g == 0])
        dtype = rng.choice(("bfloat16", "int8", "float16"))
    else:
        KV, dtype = H, rng.choice(("float16", "bfloat16"))
    nb = BYTES[dtype]
    size = f"{dtype} takes {_c(nb)} byte{'s' * (nb != 1)} per element"
    per_tok = kv_cache_bytes(L, KV, hd, 1, 1, nb)
    total = per_tok * T * B
    heads = "num_kv_heads" if gqa else "num_heads"
    once = [Mistake("kv-once", "The cache holds K and V: two tensors per layer, the factor 2.",
                    per_tok / 2)]
    mha = ([Mistake("kv-heads", f"With grouped-query attention only the {KV} K/V heads are "
                    f"cached, not all {H} query heads.", per_tok * H / KV)] if gqa else [])
    q0 = _Q("bytes_per_token", "bytes per token",
            f"How many bytes of KV cache does one token take, all layers? ({BYTES_ASK})",
            ("kv-cache",), per_tok, _product(2, L, KV, hd, nb),
            once + mha + _bits_mistakes(per_tok, size) + [
                Mistake("one-layer", f"Every one of the {L} layers caches its own K and V.",
                        per_tok / L)],
            (f"bytes/token = 2 (K and V) · num_layers · {heads} · head_dim · bytes",),
            (f"2 · {L} · {KV} · {hd} · {_c(nb)} = {_c(per_tok)}",),
            ("Per layer and token the cache stores one key and one value vector per KV head.",
             f"2 · layers · {heads} · head_dim · bytes per element ({dtype}: {_c(nb)})."))
    q1 = _Q("bytes_total", "KV cache bytes",
            (f"How many bytes does the KV cache take for the whole batch at seq_len {T}? "
             f"({BYTES_ASK})"), ("kv-cache",), total, _product(2, L, KV, hd, nb, T, B),
            [Mistake("kv-once", "The cache holds K and V: the factor 2.",
                                total / 2)]
            + ([Mistake("kv-heads", f"Only the {KV} K/V heads are cached (GQA), not the {H} "
                        "query heads.", total * H / KV)] if gqa else [])
            + _bits_mistakes(total, size)
            + [Mistake("no-batch", f"Each of the {B} sequences has its own cache.", total / B)
               if B > 1 else None],
            ("bytes = 2 · num_layers · num_kv_heads · head_dim · seq_len · batch · bytes",),
            (f"2 · {L} · {KV} · {hd} · {T} · {B} · {_c(nb)} = {_c(total)}",),
            ("Bytes per token times tokens: seq_len per sequence, batch_size sequences.",
             f"2 · {L} · {KV} · {hd} · {_c(nb)} bytes per token, {T}·{B} tokens."))
    qs = [_need(q0, "kv-once", "bits-not-bytes"), q1]
    if gqa:
        qs[0] = _need(qs[0], "kv-heads")
        mha_total = total * H / KV
        qs.append(_Q("bytes_total_mha", "MHA KV cache bytes",
                     (f"The same model with plain multi-head attention ({H} K/V heads): how "
                      f"many bytes is its cache? ({BYTES_ASK})"), ("kv-cache",), mha_total,
                     _product(2, L, H, hd, nb, T, B),
                     [Mistake("kv-heads", f"With MHA every one of the {H} heads has its own K "
                              f"and V: num_kv_heads = {H}.", total),
                      Mistake("kv-once", "K and V: the factor 2.", mha_total / 2)]
                     + _bits_mistakes(mha_total, size),
                     ("MHA: num_kv_heads = num_heads",),
                     (f"2 · {L} · {H} · {hd} · {T} · {B} · {_c(nb)} = {_c(mha_total)}",),
                     ("Multi-head attention caches K and V for every head.",
                      f"Same formula with {H} K/V heads.")))
    if gqa:
        body = (f"A decoder: num_layers = {L}, num_heads = {H} query heads,",
                f"num_kv_heads = {KV} (grouped-query attention), head_dim = {hd}.",
                f"The KV cache is stored in {dtype}; batch_size = {B} "
                f"sequence{'s' * (B > 1)}",
                f"of seq_len = {T} tokens each.")
    else:
        body = (f"A decoder: num_layers = {L}, num_heads = {H}, head_dim = {hd} "
                f"(d_model = {H * hd}),", "multi-head attention (every head caches its K "
                "and V).", f"The KV cache is stored in {dtype}; batch_size = {B} "
                f"sequence{'s' * (B > 1)}",
                f"of seq_len = {T} tokens each.")
    params = {"num_layers": L, "num_heads": H, "num_kv_heads": KV, "head_dim": hd,
              "seq_len": T, "batch_size": B, "dtype": dtype, "bytes_per_element": nb}
    return _Setup("kv-cache", params, body, tuple(qs))


# -- d1: weights at inference --------------------------------------------------------------------
SIZES_B = (0.125, 0.35, 0.5, 1.3, 1.5, 2.7, 3, 7, 8, 13, 30, 34, 65, 70)


def _weights_setup(rng: random.Random) -> _Setup:
    nb_ = rng.choice(SIZES_B)
    N = round(nb_ * 1e9)
    d0 = rng.choice(("float32", "float16", "bfloat16"))
    d1 = rng.choice(("int8", "int4"))

    def q(wrt: str, dtype: str) -> _Q:
        nb = BYTES[dtype]
        v = N * nb / GB
        bits = int(nb * 8)
        return _Q(wrt, f"GB in {dtype}", (f"How much memory do the weights take in {dtype}? "
                                          f"({GB_ASK})"), ("memory",), v,
                  _product(nb_, nb),
                  _bits_mistakes(v, f"{dtype} takes {bits} bits = {_c(nb)} byte{'s' * (nb != 1)} "
                                 "per parameter")
                  + [Mistake("wrong-dtype-size", "fp32 is 4 bytes per parameter, fp16/bf16 2, "
                             "int8 1, int4 ½.", nb_ * 2)],
                  ("GB = parameters · bytes per parameter / 10^9",),
                  (f"{dtype}: {bits} bits = {_c(nb)} bytes per parameter",
                   f"{_c(nb_)}e9 · {_c(nb)} / 1e9 = {_c(v)}"),
                  (f"{dtype} stores each parameter in {bits} bits.",
                   f"{_c(nb_)} billion parameters · {_c(nb)} bytes."))
    body = (f"A model with {_c(nb_)}B = {_c(nb_)}·10^9 parameters, served for inference.",
            "Count the weights only (no activations, no KV cache). 1 GB = 10^9 bytes.")
    return _Setup("weights-memory", {"num_params": N}, body,
                  (_need(q("GB_" + d0, d0), "bits-not-bytes"), q("GB_" + d1, d1)))


# -- d2: attention, MLP, a transformer block -----------------------------------------------------
def _block_setup(rng: random.Random) -> _Setup:
    small = rng.random() < 0.6
    d = rng.choice((16, 24, 32, 48, 64)) if small else rng.choice((256, 512, 768, 1024))
    h = rng.choice([x for x in (2, 4, 8, 12, 16) if d % x == 0 and d // x >= 8])
    att, mlp, blk = mha_params(d), mlp_params(d), block_params(d)
    sq = d * d
    q0 = _Q("params_attention", "attention params",
            f"How many parameters does self_attn (the MultiheadAttention) have? ({COUNT})",
            ("attention-params",), att, _sum(_product(4, d, d), _product(4, d)),
            [Mistake("biases-dropped", "nn.MultiheadAttention has bias=True: in_proj_bias "
                     "(3d) and out_proj.bias (d).", 4 * sq),
             Mistake("no-output-projection", "Q, K and V are projected, and so is the output "
                     "(out_proj, d×d + d).", 3 * sq + 3 * d),
             Mistake("per-head", f"Splitting into {h} heads does not add parameters: the "
                     "heads are slices of the same d×d projections.", h * (4 * sq + 4 * d))],
            ("attention = 4 · d² (Q, K, V, output projections, d×d each)",
             "          + 4 · d  (their biases)"),
            (f"4 · {d}² = 4 · {_c(sq)} = {_c(4 * sq)}", f"4 · {d} = {4 * d}",
             f"{_c(4 * sq)} + {4 * d} = {_c(att)}"),
            ("Four d×d projections: Q, K, V and the output.",
             "Each has a bias of d entries; the head count does not matter."))
    q1 = _Q("params_mlp", "MLP params",
            f"How many parameters do linear1 and linear2 (the MLP) have together? ({COUNT})",
            ("mlp-params",), mlp, _sum(_product(8, d, d), _product(5, d)),
            [Mistake("biases-dropped", "Both linears have biases: 4d in linear1, d in "
                     "linear2.", 8 * sq),
             Mistake("bias-sizes", "linear1's bias has 4d entries (one per hidden unit), "
                     "linear2's has d.", 8 * sq + 8 * d),
             Mistake("one-linear", "The MLP has two linears: d → 4d and 4d → d.",
                     4 * sq + 4 * d),
             Mistake("no-expansion", f"dim_feedforward = 4d = {4 * d}: the hidden layer is 4 "
                     "times wider than d.", 2 * sq + 2 * d)],
            ("MLP = (d · 4d + 4d)  linear1: d → 4d",
             "    + (4d · d + d)   linear2: 4d → d"),
            (f"linear1: {d}·{4 * d} + {4 * d} = {_c(4 * sq + 4 * d)}",
             f"linear2: {4 * d}·{d} + {d} = {_c(4 * sq + d)}",
             f"{_c(4 * sq + 4 * d)} + {_c(4 * sq + d)} = {_c(mlp)}"),
            ("Two linears: d → 4d and 4d → d, each with a bias.",
             "8d² weights; biases 4d + d."))
    q2 = _Q("params_block", "block params",
            f"How many parameters does the whole layer have? ({COUNT})",
            ("block-params",), blk, _sum(_product(12, d, d), _product(13, d)),
            [Mistake("biases-dropped", "Biases count: 4d in attention, 5d in the MLP, and "
                     "the LayerNorms have γ and β.", 12 * sq),
             Mistake("layernorm-forgotten", "norm1 and norm2 each have γ and β: 2 · 2d = 4d.",
                     12 * sq + 9 * d),
             Mistake("layernorm-gamma-only", "A LayerNorm has a scale γ and a shift β, d "
                     "each: 2d per norm, 4d for two.", 12 * sq + 11 * d),
             Mistake("no-expansion", "The MLP widens to 4d: 8d² + 5d, not 2d² + 2d.",
                     6 * sq + 10 * d)],
            ("block = attention (4d² + 4d) + MLP (8d² + 5d) + 2 LayerNorms (2 · 2d)",
             "      = 12 · d² + 13 · d"),
            (f"12 · {d}² = 12 · {_c(sq)} = {_c(12 * sq)}", f"13 · {d} = {13 * d}",
             f"{_c(12 * sq)} + {13 * d} = {_c(blk)}"),
            ("Attention + MLP + two LayerNorms, each with γ and β.",
             "12d² + 13d."))
    body = (f"layer = nn.TransformerEncoderLayer(d_model={d}, nhead={h},",
            f"                                   dim_feedforward={4 * d})",
            "(PyTorch's defaults otherwise: every Linear has a bias, two LayerNorms with",
            "γ and β, dropout has no parameters).")
    needs = ("biases-dropped",) if small else ()
    return _Setup("transformer-block", {"d_model": d, "nhead": h, "dim_feedforward": 4 * d},
                  body, (q0, q1, _need(q2, *needs)))


# -- d2: a dilated, strided convolution ----------------------------------------------------------
def _conv_dilated_setup(rng: random.Random) -> _Setup:
    for _ in range(200):
        cin = rng.choice((3, 8, 16, 32, 64))
        cout = rng.choice((16, 32, 64, 128))
        k = rng.choice((3, 5))
        d = rng.choice((2, 3))
        s = rng.choice((2, 3, 4))
        p = rng.choice((1, 2, 3, 4))
        H = rng.choice(range(17, 80))
        W = rng.choice(range(17, 80))
        eff = d * (k - 1) + 1
        if (H + 2 * p - eff) % s and H != W and H + 2 * p >= eff + s and W + 2 * p >= eff + s:
            break
    ho, wo = conv_out(H, k, s, p, d), conv_out(W, k, s, p, d)
    fl = conv2d_flops(cin, cout, k, ho, wo)
    q0 = _need(_conv_out_q("H_out", H, k, s, p, d, "height"), "dilation-ignored",
               "floor-forgotten")
    q1 = _conv_out_q("W_out", W, k, s, p, d, "width")
    per = cin * k * k
    q2 = _Q("flops_forward", "forward FLOPs", f"How many FLOPs does the forward pass cost? "
            f"({FLOPS})", ("conv-flops",), fl, _product(2, cin, k, k, cout, ho, wo),
            [Mistake("multiply-add-once", "A multiply-add is 2 FLOPs.", fl / 2),
             Mistake("in-channels-dropped", f"Each output value sums over all {cin} input "
                     "channels: C_in·k·k multiply-adds.", fl / cin),
             Mistake("dilation-in-flops", "Dilation spreads the kernel but does not add "
                     "weights: still k·k taps per channel.", fl * (eff / k) ** 2),
             Mistake("input-size", "Count the output positions (H_out·W_out), not the input "
                     "pixels.", 2 * per * cout * H * W)],
            ("FLOPs = 2 · (C_in · k · k) · C_out · H_out · W_out",
             "   (each output value is C_in·k·k multiply-adds; bias not counted)"),
            (f"C_in · k · k = {cin} · {k} · {k} = {per} multiply-adds per output value",
             f"outputs: C_out · H_out · W_out = {cout} · {ho} · {wo} = {_c(cout * ho * wo)}",
             f"2 · {per} · {_c(cout * ho * wo)} = {_c(fl)}"),
            ("Outputs times multiply-adds per output, times 2.",
             f"Each output value needs C_in·k·k = {per} multiply-adds."))
    body = (f"conv = nn.Conv2d(in_channels={cin}, out_channels={cout}, kernel_size={k}, "
            f"stride={s},", f"                 padding={p}, dilation={d})   # bias=True",
            f"applied to an input of shape 1×{cin}×{H}×{W} (N×C×H×W).")
    return _Setup("conv2d", {"in_channels": cin, "out_channels": cout, "kernel_size": k,
                             "stride": s, "padding": p, "dilation": d, "bias": True,
                             "H_in": H, "W_in": W}, body, (q0, q1, q2), FLOP_CONVENTION)


# -- d2: model states in training ----------------------------------------------------------------
def _train_memory_setup(rng: random.Random) -> _Setup:
    nb_ = rng.choice(SIZES_B)
    N = round(nb_ * 1e9)
    adam = sum(b for _, b in ADAM_MIXED)
    sgd = sum(b for _, b in SGD_MOMENTUM_FP32)
    v0, v1 = nb_ * adam, nb_ * sgd
    q0 = _Q("GB_adam_mixed", "GB with Adam, mixed precision",
            ("Training with Adam in mixed precision (fp16 weights and gradients, an fp32 "
             f"master copy, fp32 Adam moments): how many GB of model states? ({GB_ASK})"),
            ("training-memory",), v0, _product(nb_, adam),
            [Mistake("master-copy-forgotten", "Mixed precision keeps an fp32 master copy of "
                     "the weights (4 bytes) for the update: 2 + 2 + 4 + 4 + 4 = 16 bytes.",
                     nb_ * 12),
             Mistake("gradients-forgotten", "The fp16 gradients (2 bytes per parameter) are "
                     "held too.", nb_ * 14),
             Mistake("moments-forgotten", "Adam keeps two moments, m and v, 4 bytes each in "
                     "fp32.", nb_ * 8),
             Mistake("weights-only", "That is the fp16 weights alone; training also holds "
                     "gradients, the master copy and Adam's m and v.", nb_ * 2),
             *_bits_mistakes(v0, "the model states take 16 bytes per parameter")],
            ("bytes/param = 2 (fp16 weights) + 2 (fp16 grads) + 4 (fp32 master)",
             "            + 4 (Adam m) + 4 (Adam v) = 16",
             "(pure fp32 Adam is 4 + 4 + 4 + 4 = 16 too)"),
            (f"{_c(nb_)}e9 parameters · 16 bytes = {_c(v0)}e9 bytes",),
            ("List what training keeps per parameter: weights, gradients, optimizer state.",
             "Mixed precision adds an fp32 master copy of the weights."))
    q1 = _Q("GB_sgd_momentum_fp32", "GB with SGD + momentum, fp32",
            ("Training the same model with SGD with momentum, everything in fp32: how many "
             f"GB of model states? ({GB_ASK})"), ("training-memory",), v1,
            _product(nb_, sgd),
            [Mistake("momentum-forgotten", "SGD with momentum keeps one momentum buffer per "
                     "parameter (4 bytes in fp32).", nb_ * 8),
             Mistake("adam-state", "SGD with momentum has one buffer, not Adam's two.",
                     nb_ * 16),
             Mistake("gradients-forgotten", "The fp32 gradients (4 bytes) are held too.",
                     nb_ * 8),
             *_bits_mistakes(v1, "the model states take 12 bytes per parameter")],
            ("bytes/param = 4 (fp32 weights) + 4 (fp32 grads) + 4 (momentum) = 12",),
            (f"{_c(nb_)}e9 parameters · 12 bytes = {_c(v1)}e9 bytes",),
            ("Weights, gradients and one momentum buffer, all fp32.",
             "4 + 4 + 4 bytes per parameter."))
    body = (f"A model with {_c(nb_)}B = {_c(nb_)}·10^9 parameters. Count the model states",
            "only (weights, gradients, optimizer state): no activations, one GPU,",
            "no sharding. 1 GB = 10^9 bytes.")
    return _Setup("training-memory", {"num_params": N}, body,
                  (_need(q0, "master-copy-forgotten"), q1))


# -- d3: a decoder-only model --------------------------------------------------------------------
def _decoder_setup(rng: random.Random) -> _Setup:
    V = rng.choice((1000, 5000, 8000, 10000, 32000, 50000))
    T = rng.choice((128, 256, 512, 1024, 2048))
    d = rng.choice((64, 128, 256, 512, 768))
    L = rng.choice((2, 4, 6, 8, 12))
    h = rng.choice([x for x in (4, 8, 12) if d % x == 0])
    emb = V * d + T * d
    blk = block_params(d)
    tied = decoder_params(V, T, d, L, True)
    untied = decoder_params(V, T, d, L, False)
    q0 = _Q("params_embeddings", "embedding params",
            f"How many parameters do the two embeddings have together? ({COUNT})",
            ("embedding-params",), emb, _sum(_product(V, d), _product(T, d)),
            [Mistake("positions-forgotten", f"The learned position embedding is a table too: "
                     f"n_positions·d = {T}·{d}.", V * d),
             Mistake("embedding-sum", "An embedding is a table: rows times columns, not "
                     "rows plus columns.", V + d + T + d)],
            ("embeddings = vocab_size · d (tokens) + n_positions · d (positions)",),
            (f"{V} · {d} = {_c(V * d)}", f"{T} · {d} = {_c(T * d)}",
             f"{_c(V * d)} + {_c(T * d)} = {_c(emb)}"),
            ("nn.Embedding(n, d) is an n×d table.", "Tokens: V×d; positions: n_positions×d."))
    common = [
        Mistake("layers-once", f"There are {L} blocks: multiply the block by {L}.",
                emb + blk + 2 * d),
        Mistake("biases-dropped", "Biases and LayerNorm γ, β count too: 12d² + 13d per "
                "block.", emb + L * 12 * d * d + 2 * d),
        Mistake("embeddings-forgotten", "The embeddings are parameters too.",
                L * blk + 2 * d),
    ]
    q1 = _Q("params_tied", "params (tied head)",
            (f"How many parameters does the whole model have with the output head tied to "
             f"the token embedding? ({COUNT})"), ("model-params",), tied,
            _sum(_product(V, d), _product(T, d), _product(L, blk), _product(2, d)),
            [Mistake("tied-counted-twice", "A tied head reuses the token embedding's V×d "
                     "matrix: count it once.", untied)] + common
            + [Mistake("final-norm-forgotten", "The final LayerNorm has γ and β: 2d.",
                       tied - 2 * d)],
            ("params = embeddings + L · (12d² + 13d) + 2d (final LayerNorm)",
             "       + head (tied: 0, it is the token embedding)"),
            (f"embeddings: {_c(emb)}",
             f"one block: 12·{d}² + 13·{d} = {_c(12 * d * d)} + {13 * d} = {_c(blk)}",
             f"{L} blocks: {L} · {_c(blk)} = {_c(L * blk)}", f"final LayerNorm: 2·{d} = {2 * d}",
             f"{_c(emb)} + {_c(L * blk)} + {2 * d} = {_c(tied)}"),
            ("Embeddings + blocks + final LayerNorm; the tied head adds nothing.",
             "A block is 12d² + 13d (attention 4d² + 4d, MLP 8d² + 5d, norms 4d)."))
    q2 = _Q("params_untied", "params (untied head)",
            (f"And with an untied head, lm_head = nn.Linear({d}, {V}, bias=False)? "
             f"({COUNT})"), ("model-params",), untied,
            _sum(_product(2, V, d), _product(T, d), _product(L, blk), _product(2, d)),
            [Mistake("head-forgotten", f"Untied, the head is its own {V}×{d} matrix: V·d "
                     "more.", tied),
             Mistake("head-bias", "bias=False: the head has no bias.", untied + V)] + [
                replace(m, value=m.value + V * d) for m in common],
            ("params = embeddings + L · (12d² + 13d) + 2d + V · d (head)",),
            (f"tied total: {_c(tied)}", f"head: {V} · {d} = {_c(V * d)}",
             f"{_c(tied)} + {_c(V * d)} = {_c(untied)}"),
            ("Untied, the output head is a separate V×d weight.",
             "Add V·d to the tied count."))
    body = (f"A GPT-style decoder: vocab_size V = {V}, d_model d = {d},",
            f"n_positions = {T} (a learned position embedding), and L = {L} blocks,",
            f"each nn.TransformerEncoderLayer(d_model={d}, nhead={h}, "
            f"dim_feedforward={4 * d})",
            f"run with a causal mask; then a final nn.LayerNorm({d}) and an output head",
            "from d_model to V logits.")
    return _Setup("decoder", {"vocab_size": V, "n_positions": T, "d_model": d,
                              "num_layers": L, "nhead": h, "dim_feedforward": 4 * d}, body,
                  (q0, _need(q1, "tied-counted-twice"), q2))


# -- d3: LoRA ------------------------------------------------------------------------------------
def _lora_setup(rng: random.Random) -> _Setup:
    d = rng.choice((512, 768, 1024, 2048, 4096))
    r = rng.choice((4, 8, 16, 32, 64))
    L = rng.choice((12, 24, 32, 40))
    one = lora_params(r, d, d)
    qv = L * 2 * one
    up = lora_params(r, d, 4 * d)
    q0 = _Q("params_adapter", "adapter params",
            f"How many trainable parameters does one adapter on W_q ({d}×{d}) add? ({COUNT})",
            ("lora",), one, _product(r, 2 * d),
            [Mistake("full-rank", "LoRA trains two thin matrices, A (r×d_in) and B (d_out×r), "
                     "not an r-fold copy of W.", r * d * d),
             Mistake("one-factor", "Both A (r×d_in) and B (d_out×r) are trained.", r * d),
             Mistake("full-matrix", "That is the full d×d update; LoRA's B·A has rank r.",
                     d * d)],
            ("adapter = r · (d_in + d_out)   (A: r×d_in, B: d_out×r)",),
            (f"{r} · ({d} + {d}) = {r} · {2 * d} = {_c(one)}",),
            ("ΔW = B·A with A of shape r×d_in and B of shape d_out×r.",
             f"{r}·{d} + {d}·{r}."))
    q1 = _Q("params_qv_all_layers", "trainable params",
            (f"Adapters on W_q and W_v in all {L} layers: how many trainable parameters in "
             f"total? ({COUNT})"), ("lora",), qv, _product(L, 2, r, 2 * d),
            [Mistake("one-matrix", "Two matrices per layer are adapted, W_q and W_v.", qv / 2),
             Mistake("one-layer", f"Every one of the {L} layers has its own adapters.",
                     qv / L),
             Mistake("full-rank", "Each adapter is r·(d_in + d_out), not r·d_in·d_out.",
                     L * 2 * r * d * d)],
            ("total = layers · 2 (W_q, W_v) · r · (d_in + d_out)",),
            (f"{L} · 2 · {_c(one)} = {_c(qv)}",),
            ("Adapters per layer times layers.", f"{L} layers · 2 adapters · r·2d."))
    q2 = _Q("params_adapter_mlp", "adapter params (MLP)",
            (f"One adapter on the MLP's up-projection, {d} → {4 * d}: how many trainable "
             f"parameters? ({COUNT})"), ("lora",), up, _product(r, 5 * d),
            [Mistake("square-assumed", f"This weight is not square: d_in = {d}, d_out = "
                     f"{4 * d}.", one),
             Mistake("full-rank", "r·(d_in + d_out), not r·d_in·d_out.", r * d * 4 * d),
             Mistake("one-factor", "Both A and B are trained: r·d_in + d_out·r.", r * 4 * d)],
            ("adapter = r · (d_in + d_out)",),
            (f"{r} · ({d} + {4 * d}) = {r} · {5 * d} = {_c(up)}",),
            ("A is r×d_in, B is d_out×r.", f"{r}·{d} + {4 * d}·{r}."))
    body = (f"LoRA with rank r = {r} on a model with d_model = {d} and {L} layers;",
            f"W_q and W_v are {d}×{d}. Each adapted weight W stays frozen; the adapter",
            "adds ΔW = B·A (A: r×d_in, B: d_out×r), and only A and B are trained",
            "(no bias).")
    return _Setup("lora", {"r": r, "d_model": d, "num_layers": L}, body,
                  (_need(q0, "full-rank"), q1, q2))


# -- d3: training compute ------------------------------------------------------------------------
def _compute_setup(rng: random.Random) -> _Setup:
    nb_ = rng.choice((0.125, 0.35, 1, 1.3, 2, 7, 13, 70))
    D = rng.choice((1e10, 2e10, 5e10, 1e11, 3e11, 1e12, 2e12))
    N = round(nb_ * 1e9)
    per = 2 * N
    train = 6 * N * D
    chin = 6 * N * 20 * N
    q0 = _Q("flops_per_token_forward", "forward FLOPs per token",
            f"About how many FLOPs does one forward pass cost per token? ({FLOPS})",
            ("training-flops",), per, _product(2, nb_ * 1e9),
            [Mistake("multiply-add-once", "Each parameter is one multiply-add per token: 2 "
                     "FLOPs.", N),
             Mistake("training-not-forward", "6N is forward + backward; the forward pass "
                     "alone is 2N.", 6 * N)],
            ("forward ≈ 2 · N per token (one multiply-add per parameter)",),
            (f"2 · {_c(nb_)}e9 = {_c(per)}",),
            ("Each weight is used once per token, in one multiply-add.",
             "2 FLOPs per parameter per token."))
    q1 = _Q("flops_training", "training FLOPs",
            f"About how many FLOPs does training on D = {_tokens(D)} tokens cost? ({FLOPS})",
            ("training-flops",), train, _product(6, nb_ * 1e9, D),
            [Mistake("forward-only", "2ND is the forward pass only; backward costs about "
                     "twice the forward (gradients for activations and for weights): 6ND.",
                     2 * N * D),
             Mistake("backward-only", "Forward (2ND) and backward (4ND) both run: 6ND.",
                     4 * N * D),
             Mistake("multiply-add-once", "A multiply-add is 2 FLOPs: 6ND, not 3ND.",
                     3 * N * D),
             Mistake("tokens-forgotten", "Multiply by the D training tokens.", 6 * N)],
            ("C ≈ 6 · N · D = forward 2ND + backward 4ND",),
            (f"6 · {_c(nb_)}e9 · {_c(D)} = {_c(train)}",),
            ("Per token: forward 2N, backward 4N.", "6 · N · D."))
    q2 = _Q("flops_chinchilla", "compute-optimal FLOPs",
            ("A compute-optimal run in the Chinchilla sense uses about D = 20·N tokens. How "
             f"many FLOPs is that for this model? ({FLOPS})"), ("training-flops",), chin,
            _product(6, nb_ * 1e9, 20, nb_ * 1e9),
            [Mistake("forward-only", "Training costs 6ND, not 2ND.", 2 * N * 20 * N),
             Mistake("tokens-only", "That is D; the compute is 6·N·D.", 20 * N),
             Mistake("tokens-not-twenty", "D = 20·N tokens, not N.", 6 * N * N)],
            ("C ≈ 6 · N · D with D = 20 · N, so C = 120 · N²",),
            (f"D = 20 · {_c(nb_)}e9 = {_c(20 * N)} tokens",
             f"6 · {_c(nb_)}e9 · {_c(20 * N)} = {_c(chin)}"),
            ("First the tokens, D = 20N; then 6ND.", f"D = {_c(20 * N)}."))
    body = (f"A dense transformer with N = {_c(nb_)}B = {_c(nb_)}·10^9 parameters.",
            "Use the usual estimate: count only the matmuls with the weights",
            "(ignore attention scores, norms and the optimizer).")
    return _Setup("training-compute", {"num_params": N, "num_tokens": D}, body,
                  (q0, _need(q1, "forward-only"), q2), FLOP_CONVENTION)


# -- the family ----------------------------------------------------------------------------------
SETUPS: dict[int, tuple[Callable[[random.Random], _Setup], ...]] = {
    1: (_linear_setup, _matmul_setup, _conv_setup, lambda rng: _kv_setup(rng, False),
        _weights_setup),
    2: (_block_setup, lambda rng: _kv_setup(rng, True), _conv_dilated_setup,
        _train_memory_setup),
    3: (_decoder_setup, _lora_setup, _compute_setup),
}


def generate(seed: int, difficulty: int, form: str) -> BasicProblem:
    rng = random.Random(f"counting/{seed}/{difficulty}")  # str seeds hash the same everywhere
    for _ in range(1000):
        s = rng.choice(SETUPS[difficulty])(rng)
        values = [q.value for q in s.questions]
        if any(_same(a, b) for i, a in enumerate(values) for b in values[i + 1:]):
            continue
        asked = tuple(_asked(q) for q in s.questions)
        if not all(set(q.needs) <= {m.kind for m in a.target.mistakes}
                   for q, a in zip(s.questions, asked, strict=True)):
            continue  # the lesson's mistake must be there to be named
        body = (Lines("", s.body),) + ((Lines("Convention", s.convention),)
                                       if s.convention else ())
        if not fits_screen(body, asked):
            continue
        given = {k: float(v) for k, v in s.params.items()
                 if not isinstance(v, (str, bool))}
        extra = (("setup", s.kind), ("params", dict(s.params)))
        return BasicProblem("counting", seed, difficulty, form, body, given, "", asked, extra)
    raise RuntimeError(f"counting: no problem for seed {seed} at difficulty {difficulty}")


FAMILY = Family(
    name="counting",
    summary="Back-of-the-envelope counts: parameters, FLOPs, KV-cache bytes, memory, "
            "conv output sizes",
    levels={1: "nn.Linear and nn.Conv2d parameters, matmul FLOPs, conv output size, KV cache, "
               "weights in fp16/int8/int4",
            2: "attention, MLP and transformer-block parameters; GQA KV cache; dilated conv; "
               "Adam memory",
            3: "a whole decoder (tied or untied head), LoRA adapters, training compute 6·N·D"},
    generate=generate,
    forms=("number",),
    order=80,
    example="1.2e9",
)
