"""Reading a typed tensor: `[[1, 2], [3, 4]]`, `[1 2; 3 4]`, `[[1 2] [3 4]]`, `[1, -1/2, 3]`.

Brackets and separators are read here; every entry is a number formula read by the safe
parser (`parse_answer` with no variables: `1/3`, `-0.25`, `2e-3`), never eval'd. The result
is a numpy float array. A row of different length, an empty entry or too many entries is a
one-line error naming where.
"""

from __future__ import annotations

import re
from typing import Any

from quizforge.drill.errors import AnswerRejected
from quizforge.drill.parse import LABEL, evaluate, fold_full_width, parse_answer

MAX_ENTRIES = 144
MAX_TENSOR_CHARS = 4000
MAX_DIMS = 3


def _tuples_as_lists(text: str) -> str:
    """(3, 0.99) and ((1, 2), (3, 4)), as people write vectors, as [3, 0.99] and
    [[1, 2], [3, 4]]: a parenthesis group holding a comma of its own becomes brackets, unless
    it is a function's arguments (max(0, x))."""
    opened: list[int] = []
    tuples: set[int] = set()
    pairs: dict[int, int] = {}
    for i, ch in enumerate(text):
        if ch == "(":
            opened.append(i)
        elif ch == ")" and opened:
            pairs[opened.pop()] = i
        elif ch == "," and opened:
            start = opened[-1]
            before = text[:start].rstrip()
            if not (before and (before[-1].isalnum() or before[-1] == "_")):
                tuples.add(start)
    if not tuples:
        return text
    chars = list(text)
    for start in tuples:
        if start in pairs:
            chars[start], chars[pairs[start]] = "[", "]"
    return "".join(chars)


def looks_like_tensor(text: str) -> bool:
    body = _tuples_as_lists(LABEL.sub("", fold_full_width(text), count=1).strip())
    return body.startswith(("[", "array(", "np.array(")) or ";" in body


def _strip(text: str) -> str:
    body = _tuples_as_lists(LABEL.sub("", fold_full_width(text), count=1).strip())
    for prefix in ("np.array(", "numpy.array(", "array("):
        if body.startswith(prefix) and body.endswith(")"):
            body = body[len(prefix):-1].strip()
    return body


def _entry(token: str, where: str) -> float:
    if not token.strip():
        raise AnswerRejected(f"an empty entry {where}")
    try:
        answer = parse_answer(token, ())
        return evaluate(answer.tree, {})
    except AnswerRejected as e:
        raise AnswerRejected(f"entry {token.strip()!r} {where}: {e.reason}", e.code) from None
    except (ArithmeticError, ValueError):
        raise AnswerRejected(f"entry {token.strip()!r} {where} cannot be computed",
                             "number") from None


def _row(text: str, where: str) -> list[float]:
    text = text.strip()
    if not text:
        raise AnswerRejected(f"an empty row {where}")
    parts = text.split(",") if "," in text else text.split()
    return [_entry(p, where) for p in parts]


def _nested(text: str) -> Any:
    """Parse nested brackets into nested lists of floats."""
    pos = 0
    n = len(text)

    def skip() -> None:
        nonlocal pos
        while pos < n and text[pos] in " \t\n,":
            pos += 1

    def parse_list(depth: int) -> list:
        nonlocal pos
        if depth > MAX_DIMS:
            raise AnswerRejected(f"more than {MAX_DIMS} levels of brackets", "too-deep")
        assert text[pos] == "["
        pos += 1
        skip()
        if pos < n and text[pos] == "[":
            items = []
            while True:
                skip()
                if pos >= n:
                    raise AnswerRejected("a '[' is never closed")
                if text[pos] == "]":
                    pos += 1
                    return items
                if text[pos] != "[":
                    raise AnswerRejected("a row of numbers mixed with nested rows")
                items.append(parse_list(depth + 1))
        end = text.find("]", pos)
        if end < 0:
            raise AnswerRejected("a '[' is never closed")
        inner = text[pos:end]
        if "[" in inner:
            raise AnswerRejected("a row of numbers mixed with nested rows")
        pos = end + 1
        return _row(inner, f"in row [{inner.strip()}]") if inner.strip() else []

    skip()
    if pos >= n or text[pos] != "[":
        raise AnswerRejected("a tensor starts with '['")
    result = parse_list(1)
    skip()
    if pos != n:
        raise AnswerRejected(f"unexpected text after the closing bracket: {text[pos:pos + 20]!r}")
    return result


def _shape(value: Any, where: str = "") -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    if not value:
        raise AnswerRejected("an empty tensor")
    shapes = [_shape(v) for v in value]
    if any(s != shapes[0] for s in shapes):
        lengths = ", ".join(str(s[0]) if s else "1" for s in shapes)
        raise AnswerRejected(f"rows of different lengths ({lengths}): every row needs the "
                             "same number of entries")
    return (len(value), *shapes[0])


def parse_tensor(text: str):
    """A float array from typed text; raises AnswerRejected with a readable reason."""
    import numpy as np

    if len(text) > MAX_TENSOR_CHARS:
        raise AnswerRejected(f"the answer is too long ({len(text)} characters; the limit is "
                             f"{MAX_TENSOR_CHARS})", "too-long")
    body = _strip(text)
    if sum(ch.isdigit() for ch in body) > 8 * MAX_ENTRIES:
        raise AnswerRejected("the answer has too many numbers", "too-long")
    if ";" in body:  # MATLAB style: [1 2; 3 4]
        inner = body
        if inner.startswith("[") and inner.endswith("]"):
            inner = inner[1:-1]
        if "[" in inner or "]" in inner:
            raise AnswerRejected("use either [1 2; 3 4] or [[1, 2], [3, 4]], not both")
        rows = [r for r in re.split(r";", inner)]
        if rows and not rows[-1].strip():
            rows.pop()
        value: Any = [_row(r, f"in row {i + 1}") for i, r in enumerate(rows)]
    else:
        value = _nested(body)
    shape = _shape(value)
    if int(np.prod(shape)) > MAX_ENTRIES:
        raise AnswerRejected(f"more than {MAX_ENTRIES} entries", "too-long")
    return np.array(value, dtype=float).reshape(shape)
