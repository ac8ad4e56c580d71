"""A safe parser for typed answers: untrusted text in, a small checked expression tree out.

User text is never eval'd and never given to SymPy's parse_expr/sympify (both call eval).
Instead:

1. normalize what people type (−, ·, ×, ^, ², σ, √, π, "dL/dw = …");
2. tokenize it ourselves into numbers, names, operators and parentheses — any other character
   is refused, so strings, attributes, subscripts, lambdas, f-strings … cannot even be spelled;
3. resolve names against a whitelist (leaf and node names, e, pi, known functions), splitting
   juxtaposed names ("wx" → w·x) and inserting implicit multiplication ("2(x+1)", "σ(z)(1−σ(z))");
4. parse the rebuilt token string with `ast.parse(mode="eval")` and walk the tree accepting only
   numbers, known names, + − * / **, unary ±, and calls of known functions with the right arity;
5. bound everything that could make checking slow: length, nesting depth, node count, size of
   numbers and exponents.

The result is an `Expr` tree (plain tuples) that `evaluate` computes with floats and
`to_sympy` turns into a SymPy expression node by node.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from quizforge.drill.errors import AnswerRejected
from quizforge.drill.ops import sigmoid as _sigmoid

MAX_CHARS = 1000  # every expected answer the generators print fits (they keep theirs shorter)
MAX_DEPTH = 40
MAX_NODES = 400  # AST nodes; 500 characters cannot make many more
MAX_EXPONENT = 20  # of a power whose base has a name (x^20)
MAX_NUMBER_EXPONENT = 64  # of a power of a plain number (2^31, 10^22): its size is bounded below
MAX_NUMBER = 10**30  # a training run's FLOPs (1.2e23) must be typeable
MAX_MAGNITUDE_DIGITS = 300  # a constant like 10**(…) may not have more digits than this

# name typed -> (canonical function, arity)
FUNCTIONS: dict[str, tuple[str, int]] = {
    "exp": ("exp", 1),
    "log": ("log", 1),
    "ln": ("log", 1),
    "sigmoid": ("sigmoid", 1),
    "sigma": ("sigmoid", 1),
    "sig": ("sigmoid", 1),
    "tanh": ("tanh", 1),
    "sqrt": ("sqrt", 1),
    "relu": ("relu", 1),
    "max": ("max", 2),
    "min": ("min", 2),
    "abs": ("abs", 1),
    "step": ("step", 1),
    "heaviside": ("step", 1),
    "sinh": ("sinh", 1),
    "cosh": ("cosh", 1),
    "sech": ("sech", 1),
    "sign": ("sign", 1),
    "sgn": ("sign", 1),
    "cos": ("cos", 1),
    "sin": ("sin", 1),
}
CONSTANTS = {"e": math.e, "pi": math.pi}
# A magnitude written after a number, as counts are said: 1.2B, 350M, 7.5k, 2 trillion.
# Read only right after a number and only when no given value has that name (T may be a
# temperature), so an answer that could mean something else keeps meaning it.
MAGNITUDES = {"k": "1000", "K": "1000", "M": "1000000", "B": "1000000000",
              "T": "1000000000000", "thousand": "1000", "million": "1000000",
              "billion": "1000000000", "trillion": "1000000000000"}
# A whole answer that is one number with thousands separators: 1,200,000,000 or 12,288.5
# (a comma anywhere else still separates function arguments).
_GROUPED = re.compile(r"\s*[-+]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?\s*(?:[A-Za-z]+\s*)?")
# Asking SymPy to differentiate would do the work the drill is about.
CALCULUS = ("diff", "derivative", "integrate", "integral", "limit", "grad", "gradient",
            "jacobian", "hessian", "subs", "simplify", "solve", "series", "lambdify", "sympify",
            "nabla")
DANGEROUS = ("eval", "exec", "compile", "open", "import", "getattr", "setattr", "globals",
             "locals", "vars", "input", "print", "breakpoint", "help", "exit", "quit", "os", "sys",
             "subprocess", "builtins", "object", "type", "class")

SYNTAX_HELP = (
    "Write e.g. 2*(w*x + b - y)*x, 2(wx+b−y)x, x^2, σ(z1)(1−σ(z1)), exp(x), log(x), relu(x), -0.0454"
)

_NORMALIZE = (
    ("\u2212", "-"), ("\u2013", "-"), ("\u2014", "-"), ("\u2010", "-"), ("\u2011", "-"),
    ("\u212f", "e"), ("{", "("), ("}", ")"), ("\u00b7", "*"), ("\u22c5", "*"), ("\u00d7", "*"), ("\u2219", "*"), ("\u2022", "*"),
    ("\u2217", "*"), ("\u00f7", "/"), ("\u2215", "/"), ("^", "**"), ("\u03c3", " sigmoid "), ("\u221a", " sqrt "), ("\u03c0", " pi "),
    ("\u00a0", " "), ("\u2009", " "), ("\u202f", " "), ("\u2061", ""), ("\u2062", "*"),
)
_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/(),])"
)
_ODD_CHARS = {
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    ".": "attribute access is not allowed",
    "[": "subscripts and lists are not allowed (use parentheses for grouping)",
    "]": "subscripts and lists are not allowed (use parentheses for grouping)",
    ":": "':' is not allowed (no slices, lambdas or annotations)",
    "=": "'=' is not allowed (no assignments or keyword arguments)",
    "\u2248": "'≈' is only allowed after a label, as in dL/dw ≈ 0.4",
    ";": "';' is not allowed",
    "@": "'@' is not allowed",
    "%": "'%' is not allowed",
    "!": "'!' is not allowed",
    "\\": "backslashes are not allowed",
    "#": "comments are not allowed",
}

# The checked tree: ("num", Fraction) | ("var", name) | ("const", name) | ("neg", e)
# | ("add"|"sub"|"mul"|"div", a, b) | ("pow", base, Fraction) | ("call", fname, (args…))
Expr = tuple


@dataclass(frozen=True)
class Answer:
    """A parsed, checked answer."""

    text: str  # what the user typed
    normalized: str  # the token string that was parsed (implicit * made explicit)
    tree: Expr

    def names(self) -> set[str]:
        found: set[str] = set()

        def walk(e: Expr) -> None:
            if e[0] == "var":
                found.add(e[1])
            elif e[0] == "call":
                for a in e[2]:
                    walk(a)
            elif e[0] in ("neg",):
                walk(e[1])
            elif e[0] in ("add", "sub", "mul", "div"):
                walk(e[1])
                walk(e[2])
            elif e[0] == "pow":
                walk(e[1])

        walk(self.tree)
        return found


def _reject(reason: str, code: str = "syntax") -> AnswerRejected:
    return AnswerRejected(reason, code)


# "dL/dw = 0.4", "∂L/∂w ≈ 0.4", "dl/dx =", "dW1 =": a derivative label in front is dropped
# (any other "=" is refused).
# "θ₂ = 2.99", "lr = 0.01", "w1 ≈ 3", "∂L/∂w₁ = 3": any name (subscripts, hats and primes
# allowed) followed by = or ≈ at the start is a label and is dropped too.
LABEL = re.compile(
    r"^\s*(?:[d\u2202]\s*[Ll]\s*/\s*[d\u2202]\s*|d\s*)?"
    r"(?P<name>[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u2080-\u2089\u0302\u0303\u0304'\u2032]*)"
    r"\s*[=\u2248]"
)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_FUNC_POWER = re.compile(r"\b(sigmoid|tanh|sech|cosh|sinh|exp|log|ln|sqrt|relu|sigma|sig)\s*\*\*\s*"
                         r"(\(\s*-?\d+\s*\)|-?\d+)\s*\(")


def _function_powers(text: str) -> str:
    """tanh**2(v) (typed tanh²(v) or tanh^2(v)) -> (tanh(v))**2, as people mean it."""
    for _ in range(20):
        m = _FUNC_POWER.search(text)
        if not m:
            return text
        depth, end = 1, m.end()
        while end < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        if depth:
            return text  # unbalanced: the parser will say so
        arg = text[m.end():end - 1]
        text = f"{text[:m.start()]}({m.group(1)}({arg}))**{m.group(2)}{text[end:]}"
    return text


# A Chinese, Japanese or Korean keyboard types ASCII in its full-width forms: （ ） ＊ － ，
# ＋ ／ ＾ ０-９ and the ideographic space. Each is folded to the character NFKC maps it to;
# the rest of NFKC is not applied, since it would also turn x² into x2.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_full_width(text: str) -> str:
    """Full-width ASCII forms as plain ASCII (`σ（z）（1－σ（z））` -> `σ(z)(1-σ(z))`)."""
    return text.translate(_FULL_WIDTH)


# Vulgar fractions: ½ ⅓ ⅔ ¼ ¾ and the rest of Unicode's (⅕ … ⅞, ⅐ ⅑ ⅒). After a whole number
# they make a mixed number, as people write it: 2½ is 2.5 and 1⅓ is 4/3, not 2·½ or 1·⅓.
_VULGAR = "\u00bc\u00bd\u00be" + "".join(map(chr, range(0x2150, 0x215f)))
_MIXED = re.compile(rf"(?<![0-9.])([0-9]+)[ \u00a0\u2009\u202f]?([{_VULGAR}])")
_ALONE = re.compile(rf"[{_VULGAR}]")


def _vulgar(ch: str) -> str:
    value = Fraction(unicodedata.numeric(ch)).limit_denominator(10)
    return f"{value.numerator}/{value.denominator}"


def _fractions(text: str) -> str:
    if re.search(rf"[0-9]\.[0-9]*[ \u00a0\u2009\u202f]?[{_VULGAR}]", text):
        raise _reject("a decimal next to a fraction (as in 0.5½) is ambiguous: write one "
                      "number, e.g. 2.5 or 5/2")
    text = _MIXED.sub(lambda m: f"({m.group(1)}+{_vulgar(m.group(2))})", text)
    return _ALONE.sub(lambda m: f"({_vulgar(m.group(0))})", text)


def _normalize(text: str) -> str:
    text = _fractions(fold_full_width(text))
    label = LABEL.match(text)
    if label:
        text = text[label.end():]
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    text = re.sub(r"\u221a\s*([0-9]+(?:\.[0-9]+)?|[A-Za-z][A-Za-z0-9_]*)(?![A-Za-z0-9_(])",
                  r"sqrt(\1)", text)
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+",
                  lambda m: "**(" + m.group().translate(_SUPERSCRIPTS) + ")", text)
    for old, new in _NORMALIZE:
        text = text.replace(old, new)
    return _function_powers(text).strip()


def _split_name(word: str, known: Iterable[str]) -> list[str] | None:
    """'wx' -> ['w', 'x'] using known names (fewest pieces; a function may only come last)."""
    pieces = sorted(set(known), key=lambda k: (-len(k), k))
    best: dict[int, list[str] | None] = {len(word): []}
    for i in range(len(word) - 1, -1, -1):
        options = []
        for p in pieces:
            if word.startswith(p, i) and best.get(i + len(p)) is not None:
                rest = best[i + len(p)]
                if p.lower() in FUNCTIONS and rest:
                    continue
                options.append([p, *rest])
        best[i] = min(options, key=len) if options else None
    return best[0]


def _tokens(text: str, variables: Mapping[str, str]) -> list[tuple[str, str]]:
    """(kind, text) tokens with names resolved; kind is num, var, const, func or op."""
    # Forbidden words, then characters that only code would use, are named before anything
    # else is read, so the reason given is the most telling one.
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
        _check_word(word)
    for pos, ch in enumerate(text):
        if ch in _ODD_CHARS and ch != ".":
            raise _reject(f"{_ODD_CHARS[ch]} (at position {pos + 1})", "forbidden")
    out: list[tuple[str, str]] = []
    pos = 0
    lowered = {k.lower(): v for k, v in variables.items()}
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            ch = text[pos]
            why = _ODD_CHARS.get(ch, f"unexpected character {ch!r}")
            raise _reject(f"{why} (at position {pos + 1})")
        pos = m.end()
        kind = m.lastgroup
        tok = m.group()
        if kind == "ws":
            continue
        if kind in ("num", "op"):
            out.append((kind, tok))
            continue
        if (out and out[-1][0] == "num" and text[m.start() - 1].isdigit() and tok[0] in "eE"
                and not text[m.end():].lstrip().startswith("**")):  # 2e^x is 2·e^x
            raise _reject(f"'{out[-1][1]}{tok}' is ambiguous: write {out[-1][1]}e-3 for a power "
                          f"of ten, or {out[-1][1]}*{tok} for a product")
        magnitude = MAGNITUDES.get(tok) or MAGNITUDES.get(tok.lower() if len(tok) > 1 else "")
        if (magnitude and out and out[-1][0] == "num" and tok not in variables
                and tok.lower() not in lowered):
            out.extend((("op", "*"), ("num", magnitude)))
            continue
        out.extend(_resolve_name(tok, variables, lowered))
    return out


def _check_word(tok: str) -> None:
    low = tok.lower()
    if tok.startswith("_") or "__" in tok:
        raise _reject(f"names starting with an underscore are not allowed ({tok!r})", "forbidden")
    if low in CALCULUS:
        raise _reject(
            f"{tok}() is not allowed: letting SymPy differentiate would do the work for you — "
            "compute the gradient by hand",
            "forbidden",
        )
    if keyword.iskeyword(tok) or keyword.issoftkeyword(tok) or low in ("lambda", "import"):
        raise _reject(f"the Python keyword {tok!r} is not allowed in an answer", "forbidden")
    if low in DANGEROUS:
        raise _reject(f"{tok!r} is not allowed in an answer", "forbidden")


def _resolve_name(tok: str, variables: Mapping[str, str], lowered: Mapping[str, str]):
    low = tok.lower()
    _check_word(tok)
    if tok in variables:
        return [("var", variables[tok])]
    if low in lowered and low not in CONSTANTS and low not in FUNCTIONS:
        return [("var", lowered[low])]
    if low in FUNCTIONS:
        return [("func", FUNCTIONS[low][0])]
    if low in CONSTANTS:
        return [("const", low)]
    known = [*variables, *CONSTANTS, *FUNCTIONS]
    parts = _split_name(tok, known) or _split_name(low, [k.lower() for k in known])
    if not parts:
        names = "".join(f"{v}, " for v in variables)  # a tensor answer has no variables
        raise _reject(f"unknown name {tok!r} (use {names}e, pi and functions like exp, log, σ)",
                      "name")
    out = []
    for p in parts:
        if p in variables:
            out.append(("var", variables[p]))
        elif p.lower() in FUNCTIONS:
            out.append(("func", FUNCTIONS[p.lower()][0]))
        elif p.lower() in CONSTANTS:
            out.append(("const", p.lower()))
        else:
            out.append(("var", lowered[p.lower()]))
    return out


def _source(tokens: list[tuple[str, str]]) -> tuple[str, list[Fraction]]:
    """Python source from tokens, with explicit * and numbers as placeholders _0, _1 …"""
    numbers: list[Fraction] = []
    parts: list[str] = []
    prev = None
    depth = 0
    for kind, tok in tokens:
        value_like = kind in ("num", "var", "const", "func") or tok == "("
        if prev is not None:
            pkind, ptok = prev
            if pkind == "func" and tok != "(":
                raise _reject(f"function {ptok} needs parentheses, e.g. {ptok}(x)")
            if pkind in ("num", "var", "const") or ptok == ")":
                if pkind == "num" and kind == "num":
                    raise _reject(f"two numbers in a row ({ptok} {tok}); put an operator between them")
                if value_like:
                    parts.append("*")
        if kind == "num":
            parts.append(f"_{len(numbers)}")
            numbers.append(_number(tok))
        elif kind == "func":
            parts.append(f"F_{tok}")
        elif kind in ("var", "const"):
            parts.append(f"V_{tok}" if kind == "var" else f"C_{tok}")
        else:
            parts.append(tok)
            depth += tok == "("
            depth -= tok == ")"
            if depth > MAX_DEPTH:
                raise _reject(f"too deeply nested (more than {MAX_DEPTH} levels)", "too-deep")
        prev = (kind, tok)
    return " ".join(parts), numbers


def _number(tok: str) -> Fraction:
    mantissa, _, exponent = tok.lower().partition("e")
    if exponent and abs(int(exponent)) > 30:
        raise _reject(f"the number {tok} is out of range", "number")
    if len(mantissa.replace(".", "").lstrip("0")) > 30:
        raise _reject(f"the number {tok[:20]}… has too many digits", "number")
    value = Fraction(tok)
    if abs(value) > MAX_NUMBER:
        raise _reject(f"the number {tok} is too large (limit 10^30)", "number")
    return value


class _Walker:
    """Checks a Python AST against the whitelist and converts it into an Expr tree."""

    def __init__(self, numbers: list[Fraction]) -> None:
        self.numbers = numbers
        self.count = 0

    def walk(self, node: ast.AST, depth: int = 0) -> Expr:
        self.count += 1
        if self.count > MAX_NODES:
            raise _reject(f"the answer is too long (more than {MAX_NODES} parts)", "too-long")
        if depth > MAX_DEPTH:
            raise _reject(f"too deeply nested (more than {MAX_DEPTH} levels)", "too-deep")
        d = depth + 1
        if isinstance(node, ast.Expression):
            return self.walk(node.body, d)
        if isinstance(node, ast.Name):
            kind, _, name = node.id.partition("_")
            if node.id.startswith("_") and node.id[1:].isdigit():
                return ("num", self.numbers[int(node.id[1:])])
            if kind == "V":
                return ("var", name)
            if kind == "C":
                return ("const", name)
            if kind == "F":
                raise _reject(f"function {name} needs parentheses, e.g. {name}(x)")
            raise _reject(f"unexpected name {node.id!r}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.walk(node.operand, d)
            return ("neg", inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self.power(node, d)
            op = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}.get(type(node.op))
            if op is None:
                raise _reject(f"the operator {type(node.op).__name__} is not allowed")
            return (op, self.walk(node.left, d), self.walk(node.right, d))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or not node.func.id.startswith("F_"):
                raise _reject("only calls of known functions are allowed, e.g. exp(x)")
            fname = node.func.id[2:]
            arity = next(a for f, a in FUNCTIONS.values() if f == fname)
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise _reject(f"{fname}() takes plain arguments only")
            if len(node.args) != arity:
                plural = "s" if arity > 1 else ""
                raise _reject(f"{fname}() takes {arity} argument{plural}, got {len(node.args)}")
            return ("call", fname, tuple(self.walk(a, d) for a in node.args))
        if isinstance(node, ast.Tuple):
            raise _reject("a comma outside a function call: give a single expression")
        raise _reject(f"{type(node).__name__} is not allowed in an answer", "forbidden")

    def power(self, node: ast.BinOp, depth: int) -> Expr:
        base = self.walk(node.left, depth)
        exponent = self.walk(node.right, depth)
        if base == ("const", "e"):  # e^x means exp(x)
            return ("call", "exp", (exponent,))
        if _has_names(exponent):
            raise _reject("exponents must be numbers (write e^x or exp(x) for the exponential)",
                          "exponent")
        try:
            k = evaluate(exponent, {})
        except (ArithmeticError, ValueError):
            raise _reject("the exponent could not be computed", "exponent") from None
        limit = MAX_EXPONENT if _has_names(base) else MAX_NUMBER_EXPONENT
        if not abs(k) <= limit:
            raise _reject(f"exponents are limited to ±{limit}", "exponent")
        exact = _exact(exponent)
        k_exact = exact if exact is not None else Fraction(k).limit_denominator(1000)
        if not _has_names(base):
            try:
                b = abs(evaluate(base, {}))
            except (ArithmeticError, ValueError):
                raise _reject("a number in the answer could not be computed", "number") from None
            if b > 0 and abs(k) * math.log10(b) > MAX_MAGNITUDE_DIGITS:
                raise _reject("a number in the answer is too large", "number")
        return ("pow", base, k_exact)


def _has_names(e: Expr) -> bool:
    if e[0] == "var":
        return True
    if e[0] in ("num", "const"):
        return False
    if e[0] == "call":
        return any(_has_names(a) for a in e[2])
    if e[0] == "pow":
        return _has_names(e[1])
    return any(_has_names(a) for a in e[1:])


def _exact(e: Expr) -> Fraction | None:
    """The exact rational value of a constant made of numbers and + − × ÷, else None."""
    kind = e[0]
    if kind == "num":
        return e[1]
    if kind == "neg":
        v = _exact(e[1])
        return None if v is None else -v
    if kind in ("add", "sub", "mul", "div"):
        a, b = _exact(e[1]), _exact(e[2])
        if a is None or b is None or (kind == "div" and b == 0):
            return None
        return {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b if b else None}[kind]
    if kind == "pow" and e[2].denominator == 1:
        a = _exact(e[1])
        if a is None or (a == 0 and e[2] < 0):
            return None
        return a ** int(e[2])
    return None


def parse_answer(text: str, variables: Iterable[str]) -> Answer:
    """Parse untrusted `text`; `variables` are the names it may use (leaves and nodes).

    Raises AnswerRejected with a readable reason for anything unreadable or unsafe.
    """
    if not isinstance(text, str):
        raise _reject("the answer must be text")
    if len(text) > MAX_CHARS:
        raise _reject(f"the answer is too long ({len(text)} characters; the limit is {MAX_CHARS})",
                      "too-long")
    clean = _normalize(text)
    if not clean:
        raise _reject("the answer is empty")
    variables = {v: v for v in variables}
    tokens = _tokens(clean, variables)
    if not tokens:
        raise _reject("the answer is empty")
    source, numbers = _source(tokens)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise _reject(f"could not read {clean!r} as a formula. {SYNTAX_HELP}") from None
    except (RecursionError, MemoryError, ValueError):
        raise _reject(f"too deeply nested (more than {MAX_DEPTH} levels)", "too-deep") from None
    try:
        expr = _Walker(numbers).walk(tree)
    except RecursionError:
        raise _reject(f"too deeply nested (more than {MAX_DEPTH} levels)", "too-deep") from None
    readable = re.sub(r"\b[VCF]_", "", source)
    readable = re.sub(r"\b_(\d+)\b", lambda m: _show_fraction(numbers[int(m.group(1))]), readable)
    return Answer(text, readable.replace(" ( ", "(").replace(" )", ")"), expr)


def _show_fraction(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else repr(float(f))


# -- evaluation -----------------------------------------------------------------------------
def _step(a: float) -> float:
    return 1.0 if a > 0 else 0.0 if a < 0 else 0.5


_FLOAT_FUNCS: dict[str, Callable[..., float]] = {
    "exp": math.exp,
    "log": math.log,
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "sqrt": math.sqrt,
    "relu": lambda a: max(0.0, a),
    "max": max,
    "min": min,
    "abs": abs,
    "step": _step,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "sech": lambda a: 1.0 / math.cosh(a),
    "sign": lambda a: 1.0 if a > 0 else -1.0 if a < 0 else 0.0,
    "cos": math.cos,
    "sin": math.sin,
}


@dataclass(frozen=True)
class Semantics:
    """What the nodes of a tree mean, so that one walk (`interpret`) reads it with floats,
    SymPy or numpy arrays: a number, a constant, + − × ÷, a power with a fraction exponent,
    a function call."""

    num: Callable[[Fraction], object]
    const: Callable[[str], object]
    arith: Mapping[str, Callable[[object, object], object]]  # add, sub, mul, div
    power: Callable[[object, Fraction], object]
    call: Callable[[str, list], object]


_OPERATORS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
              "mul": lambda a, b: a * b, "div": lambda a, b: a / b}


def interpret(e: Expr, env: Mapping[str, object], sem: Semantics):
    """The value of the tree under `sem`, with `env` giving each variable's value."""
    kind = e[0]
    if kind == "num":
        return sem.num(e[1])
    if kind == "var":
        return env[e[1]]
    if kind == "const":
        return sem.const(e[1])
    if kind == "neg":
        return -interpret(e[1], env, sem)
    if kind in sem.arith:
        return sem.arith[kind](interpret(e[1], env, sem), interpret(e[2], env, sem))
    if kind == "pow":
        return sem.power(interpret(e[1], env, sem), e[2])
    if kind == "call":
        return sem.call(e[1], [interpret(a, env, sem) for a in e[2]])
    raise AssertionError(kind)


FLOATS = Semantics(
    num=float,
    const=CONSTANTS.__getitem__,
    arith=_OPERATORS,
    power=lambda a, k: math.pow(a, float(k)),
    call=lambda name, args: float(_FLOAT_FUNCS[name](*args)),
)


def evaluate(e: Expr, env: Mapping[str, float]) -> float:
    """The value of the tree with floats. Raises ArithmeticError/ValueError where undefined."""
    return interpret(e, env, FLOATS)


def to_sympy(e: Expr, names: Mapping[str, object]):
    """The tree as a SymPy expression; `names` maps variable names to SymPy expressions."""
    import sympy as sp

    from quizforge.drill.symbolic import sigmoid

    funcs = {
        "exp": sp.exp, "log": sp.log, "sigmoid": sigmoid, "tanh": sp.tanh, "sqrt": sp.sqrt,
        "relu": lambda a: sp.Max(0, a), "max": sp.Max, "min": sp.Min, "abs": sp.Abs,
        "step": sp.Heaviside, "sinh": sp.sinh, "cosh": sp.cosh, "sech": sp.sech, "sign": sp.sign,
        "cos": sp.cos, "sin": sp.sin,
    }
    rational = lambda q: sp.Rational(q.numerator, q.denominator)
    return interpret(e, names, Semantics(
        num=rational,
        const=lambda name: sp.E if name == "e" else sp.pi,
        arith=_OPERATORS,
        power=lambda a, k: a ** rational(k),
        call=lambda name, args: funcs[name](*args),
    ))
