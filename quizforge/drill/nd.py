"""The slice of numpy the drill families use, in pure Python, for arrays of a few entries.

Why not numpy itself: a drill problem holds a handful of 2×3 matrices, and importing numpy
costs about as much as starting Python and typer together (340 M instructions against
665 M for a bare typer app), so `quizforge drill linear --check ANSWER` spent half its time
loading a library to multiply two small matrices. The families write `np.array`, `A.T @ G`,
`G.sum(axis=0)`, `x[:, None]` exactly as with numpy (`from quizforge.drill import nd as np`);
this module gives those the same results, with numpy's broadcasting, indexing, reductions
and IEEE edge cases (1/0 is inf, log 0 is −inf, √−1 is nan). tests/test_nd.py checks every
function against numpy itself on random arrays. Anything outside that slice raises, so a
family that needs more fails loudly in its tests rather than computing something else.

`ndarray.__array__` hands the values to numpy, so tests and callers that do have numpy can
pass these arrays to it directly.
"""

from __future__ import annotations

import builtins as _b
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

nan = math.nan
inf = math.inf


# -- IEEE arithmetic as numpy does it (no exceptions) --------------------------------------------
def _div(x: Any, y: Any) -> float:
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or math.isnan(x):
            return nan
        return math.copysign(inf, x) * math.copysign(1.0, y)


def _pow(x: Any, y: Any) -> Any:
    try:
        out = x ** y
    except ZeroDivisionError:  # 0 ** negative
        return inf
    except OverflowError:
        return inf
    return nan if isinstance(out, complex) else out


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -inf if x == 0 else nan


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else nan


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return inf


def _sign(x: float) -> float:
    return nan if math.isnan(x) else float((x > 0) - (x < 0))


def _isfinite(x: float) -> bool:
    return math.isfinite(x)


# -- shapes -------------------------------------------------------------------------------------
def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return tuple(reversed(out))


@lru_cache(maxsize=4096)
def _broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    nd = _b.max(len(s) for s in shapes)
    out = []
    for i in range(nd):
        dims = {s[len(s) - nd + i] for s in shapes if len(s) - nd + i >= 0} - {1}
        if len(dims) > 1:
            raise ValueError("operands could not be broadcast together with shapes "
                             + " ".join(str(s) for s in shapes))
        out.append(dims.pop() if dims else 1)
    return tuple(out)


@lru_cache(maxsize=4096)
def _broadcast_index(src: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    """For each position of `out` (row-major), the flat position in an array of shape `src`
    broadcast to it."""
    pad = len(out) - len(src)
    strides = _strides(src)
    steps = [0] * pad + [0 if n == 1 else st for n, st in zip(src, strides, strict=True)]
    return tuple(_b.sum(i * st for i, st in zip(idx, steps, strict=True))
                 for idx in itertools.product(*(range(n) for n in out)))


def _axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for array of dimension {ndim}")
        out.append(a % ndim)
    return tuple(sorted(set(out)))


@lru_cache(maxsize=4096)
def _transpose_plan(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides = _strides(shape)[::-1]
    return tuple(_b.sum(i * s for i, s in zip(idx, strides, strict=True))
                 for idx in itertools.product(*(range(n) for n in shape[::-1])))


def _hashable(k: Any) -> Any:
    if isinstance(k, slice):
        return ("slice", k.start, k.stop, k.step)
    if k is None or k is Ellipsis or isinstance(k, int):
        return k
    if hasattr(k, "__index__") and not isinstance(k, ndarray):
        return k.__index__()
    raise IndexError("only integers, slices, None and ... are supported here")


@lru_cache(maxsize=4096)
def _index_plan(shape: tuple[int, ...], key: tuple) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ndim = len(shape)
    key = tuple(slice(*k[1:]) if isinstance(k, tuple) else k for k in key)
    if _b.any(k is Ellipsis for k in key):
        at = key.index(Ellipsis)
        used = _b.sum(1 for k in key if k is not None and k is not Ellipsis)
        key = key[:at] + (slice(None),) * (ndim - used) + key[at + 1:]
    ranges: list[list[int] | int] = []  # per source axis: fixed int or list of indices
    out_shape: list[int] = []
    order: list[int | None] = []  # per output axis: source axis, or None for a new axis
    axis = 0
    for k in key:
        if k is None:
            out_shape.append(1)
            order.append(None)
            continue
        if axis >= ndim:
            raise IndexError(f"too many indices for array: array is {ndim}-dimensional")
        n = shape[axis]
        if isinstance(k, slice):
            idx = list(range(*k.indices(n)))
            ranges.append(idx)
            out_shape.append(len(idx))
            order.append(axis)
        elif isinstance(k, int):
            i = k
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
            ranges.append(i % n)
        else:
            raise IndexError("only integers, slices, None and ... are supported here")
        axis += 1
    for rest in range(axis, ndim):
        ranges.append(list(range(shape[rest])))
        out_shape.append(shape[rest])
        order.append(rest)
    strides = _strides(shape)
    per_out = [[0] if a is None else ranges[a] for a in order]
    fixed = _b.sum(r * strides[a] for a, r in enumerate(ranges) if isinstance(r, int))
    out_axes = [a for a in order]
    positions = [fixed + _b.sum(i * strides[a] for i, a in zip(idx, out_axes, strict=True)
                             if a is not None)
                 for idx in itertools.product(*per_out)]
    return tuple(out_shape), tuple(positions)


# -- the array ----------------------------------------------------------------------------------
class ndarray:
    """A row-major array of Python numbers (floats, ints or bools) with a shape."""

    __slots__ = ("_d", "shape")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared element-wise

    def __init__(self, data: list, shape: tuple[int, ...]):
        self._d = data
        self.shape = shape

    # attributes
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return len(self._d)

    @property
    def T(self) -> ndarray:
        return self.transpose()

    def transpose(self) -> ndarray:
        if self.ndim < 2:
            return ndarray(list(self._d), self.shape)
        data = self._d
        return ndarray([data[i] for i in _transpose_plan(self.shape)], self.shape[::-1])

    # conversions
    def tolist(self) -> Any:
        if not self.shape:
            return self._d[0]

        def build(offset: int, dim: int) -> list:
            n = self.shape[dim]
            if dim == self.ndim - 1:
                return self._d[offset:offset + n]
            step = _size(self.shape[dim + 1:])
            return [build(offset + i * step, dim + 1) for i in range(n)]

        return build(0, 0)

    def item(self) -> Any:
        if len(self._d) != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self._d[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        import numpy

        return numpy.array(self.tolist(), dtype=dtype)

    def astype(self, dtype: Any) -> ndarray:
        return ndarray([_cast(dtype, v) for v in self._d], self.shape)

    def copy(self) -> ndarray:
        return ndarray(list(self._d), self.shape)

    def reshape(self, *shape: Any) -> ndarray:
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        if shape.count(-1) == 1:
            known = math.prod(n for n in shape if n != -1)
            shape = tuple(len(self._d) // known if n == -1 else n for n in shape)
        if _size(shape) != len(self._d):
            raise ValueError(f"cannot reshape array of size {len(self._d)} into shape {shape}")
        return ndarray(list(self._d), tuple(shape))

    def ravel(self) -> ndarray:
        return ndarray(list(self._d), (len(self._d),))

    flatten = ravel

    def squeeze(self) -> ndarray:
        return ndarray(list(self._d), tuple(n for n in self.shape if n != 1))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        if len(self.shape) == 1:
            yield from self._d
            return
        for i in range(self.shape[0]):
            yield self[i]

    def __bool__(self) -> bool:
        if len(self._d) != 1:
            raise ValueError("The truth value of an array with more than one element is "
                             "ambiguous. Use a.any() or a.all()")
        return bool(self._d[0])

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        return f"array({self.tolist()!r})"

    # indexing
    def _positions(self, key: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shape and flat positions a basic index (ints, slices, None, ...) selects."""
        if not isinstance(key, tuple):
            key = (key,)
        return _index_plan(self.shape, tuple(_hashable(k) for k in key))


    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, ndarray) and key.shape == self.shape and \
                _b.all(isinstance(v, bool) for v in key._d):
            return ndarray([v for v, m in zip(self._d, key._d, strict=True) if m],
                           (_b.sum(key._d),))
        shape, pos = self._positions(key)
        if not shape and not (isinstance(key, tuple) and None in key):
            return self._d[pos[0]]
        return ndarray([self._d[p] for p in pos], shape)

    def __setitem__(self, key: Any, value: Any) -> None:
        shape, pos = self._positions(key)
        src = asarray(value)
        index = _broadcast_index(src.shape, shape)
        for p, i in zip(pos, index, strict=True):
            self._d[p] = src._d[i]

    # element-wise arithmetic
    def _binary(self, other: Any, f: Callable[[Any, Any], Any], swap: bool = False) -> Any:
        return _elementwise(f, other, self) if swap else _elementwise(f, self, other)

    def __add__(self, o): return self._binary(o, lambda a, b: a + b)  # noqa: E704
    def __radd__(self, o): return self._binary(o, lambda a, b: a + b, True)  # noqa: E704
    def __sub__(self, o): return self._binary(o, lambda a, b: a - b)  # noqa: E704
    def __rsub__(self, o): return self._binary(o, lambda a, b: a - b, True)  # noqa: E704
    def __mul__(self, o): return self._binary(o, lambda a, b: a * b)  # noqa: E704
    def __rmul__(self, o): return self._binary(o, lambda a, b: a * b, True)  # noqa: E704
    def __truediv__(self, o): return self._binary(o, _div)  # noqa: E704
    def __rtruediv__(self, o): return self._binary(o, _div, True)  # noqa: E704
    def __pow__(self, o): return self._binary(o, _pow)  # noqa: E704
    def __rpow__(self, o): return self._binary(o, _pow, True)  # noqa: E704
    def __and__(self, o): return self._binary(o, lambda a, b: a & b)  # noqa: E704
    def __rand__(self, o): return self._binary(o, lambda a, b: a & b, True)  # noqa: E704
    def __or__(self, o): return self._binary(o, lambda a, b: a | b)  # noqa: E704
    def __ror__(self, o): return self._binary(o, lambda a, b: a | b, True)  # noqa: E704
    def __eq__(self, o): return self._binary(o, lambda a, b: a == b)  # type: ignore[override]  # noqa: E704
    def __ne__(self, o): return self._binary(o, lambda a, b: a != b)  # type: ignore[override]  # noqa: E704
    def __lt__(self, o): return self._binary(o, lambda a, b: a < b)  # noqa: E704
    def __le__(self, o): return self._binary(o, lambda a, b: a <= b)  # noqa: E704
    def __gt__(self, o): return self._binary(o, lambda a, b: a > b)  # noqa: E704
    def __ge__(self, o): return self._binary(o, lambda a, b: a >= b)  # noqa: E704

    def __neg__(self) -> ndarray:
        return ndarray([-v for v in self._d], self.shape)

    def __pos__(self) -> ndarray:
        return self.copy()

    def __abs__(self) -> ndarray:
        return ndarray([_b.abs(v) for v in self._d], self.shape)

    def __invert__(self) -> ndarray:
        return ndarray([(not v) if isinstance(v, bool) else ~v for v in self._d], self.shape)

    def __matmul__(self, o: Any) -> Any:
        return matmul(self, o)

    def __rmatmul__(self, o: Any) -> Any:
        return matmul(o, self)

    def dot(self, o: Any) -> Any:
        return dot(self, o)

    # reductions
    def _reduce(self, f: Callable[[list], Any], axis: Any, keepdims: bool,
                empty_ok: bool = True) -> Any:
        axes = _axes(axis, self.ndim)
        if not empty_ok and _b.any(self.shape[a] == 0 for a in axes):
            raise ValueError("zero-size array to reduction operation which has no identity")
        if len(axes) == self.ndim and not keepdims:
            return f(list(self._d))
        groups, shape = _reduce_plan(self.shape, axes, keepdims)
        d = self._d
        return ndarray([f([d[i] for i in g]) for g in groups], shape)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(_sum, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(lambda xs: _div(_sum(xs), len(xs)), axis, keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(math.prod, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(_max, axis, keepdims, empty_ok=False)

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(_min, axis, keepdims, empty_ok=False)

    def any(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(lambda xs: _b.any(xs), axis, keepdims)

    def all(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(lambda xs: _b.all(xs), axis, keepdims)

    def clip(self, lo: Any, hi: Any) -> ndarray:
        return clip(self, lo, hi)


@lru_cache(maxsize=4096)
def _reduce_plan(shape: tuple[int, ...], axes: tuple[int, ...],
                 keepdims: bool) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """For a reduction over `axes`: the flat positions of each output entry's terms (in
    order), and the output shape."""
    keep = [a for a in range(len(shape)) if a not in axes]
    strides = _strides(shape)
    inner = list(itertools.product(*(range(shape[a]) for a in axes)))
    groups = []
    for outer in itertools.product(*(range(shape[a]) for a in keep)):
        base = _b.sum(i * strides[a] for i, a in zip(outer, keep, strict=True))
        groups.append(tuple(base + _b.sum(i * strides[a] for i, a in zip(idx, axes, strict=True))
                            for idx in inner))
    if keepdims:
        out = tuple(1 if a in axes else n for a, n in enumerate(shape))
    else:
        out = tuple(shape[a] for a in keep)
    return tuple(groups), out


def _sum(xs: list) -> Any:
    """Left to right, as numpy adds a short axis (it switches to pairwise sums at 8 terms)."""
    if not xs:
        return 0.0
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return int(total) if isinstance(total, bool) else total


def _max(xs: list) -> Any:
    return nan if _b.any(math.isnan(x) for x in xs) else _b.max(xs)


def _min(xs: list) -> Any:
    return nan if _b.any(math.isnan(x) for x in xs) else _b.min(xs)


def _cast(dtype: Any, v: Any) -> Any:
    if dtype in (float, "float", "float64"):
        return float(v)
    if dtype in (int, "int", "int64"):
        return int(v)
    if dtype in (bool, "bool"):
        return bool(v)
    if dtype is None:
        return v
    raise TypeError(f"dtype {dtype!r} is not supported here")


# -- building arrays ----------------------------------------------------------------------------
def _flatten(obj: Any) -> tuple[list, tuple[int, ...]]:
    if isinstance(obj, ndarray):
        return list(obj._d), obj.shape
    if hasattr(obj, "tolist") and hasattr(obj, "shape"):  # a numpy array or scalar
        obj = obj.tolist()
    if isinstance(obj, (list, tuple)):
        if not obj:
            return [], (0,)
        parts = [_flatten(x) for x in obj]
        inner = parts[0][1]
        if _b.any(p[1] != inner for p in parts):
            raise ValueError("setting an array element with a sequence: the rows have "
                             "different lengths (an inhomogeneous shape)")
        return [v for p in parts for v in p[0]], (len(obj),) + inner
    if isinstance(obj, str) or not isinstance(obj, (int, float, bool)):
        obj = float(obj)  # numpy scalars, Fractions; a string raises here as numpy would
    return [obj], ()


def array(obj: Any, dtype: Any = None) -> ndarray:
    data, shape = _flatten(obj)
    return ndarray([_cast(dtype, v) for v in data], shape)


def asarray(obj: Any, dtype: Any = None) -> ndarray:
    if isinstance(obj, ndarray) and (dtype is None or _b.all(
            type(v) is _cast(dtype, v).__class__ for v in obj._d)):
        return obj
    return array(obj, dtype)


def zeros(shape: int | tuple[int, ...]) -> ndarray:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return ndarray([0.0] * _size(shape), shape)


def zeros_like(a: Any) -> ndarray:
    return zeros(asarray(a).shape)


def eye(n: int) -> ndarray:
    return ndarray([1.0 if i == j else 0.0 for i in range(n) for j in range(n)], (n, n))


def stack(arrays: Iterable[Any], axis: int = 0) -> ndarray:
    items = [asarray(a) for a in arrays]
    if axis != 0:
        raise ValueError("stack is supported along axis 0 only")
    return array(items)


# -- element-wise functions ---------------------------------------------------------------------
def _elementwise(f: Callable[..., Any], *operands: Any) -> Any:
    # fast paths: one array, two arrays of one shape, an array and a number
    if len(operands) == 1 and isinstance(operands[0], ndarray):
        a = operands[0]
        return ndarray([f(x) for x in a._d], a.shape) if a.shape else f(a._d[0])
    if len(operands) == 2:
        a, b = operands
        if isinstance(a, ndarray):
            if isinstance(b, ndarray) and a.shape == b.shape and a.shape:
                return ndarray([f(x, y) for x, y in zip(a._d, b._d, strict=True)], a.shape)
            if isinstance(b, (int, float)) and a.shape:
                return ndarray([f(x, b) for x in a._d], a.shape)
        elif isinstance(b, ndarray) and isinstance(a, (int, float)) and b.shape:
            return ndarray([f(a, y) for y in b._d], b.shape)
    arrays = [x if isinstance(x, ndarray) else array(x) for x in operands]
    shape = _broadcast_shape(*(a.shape for a in arrays))
    indexes = [_broadcast_index(a.shape, shape) for a in arrays]
    data = [f(*(a._d[i] for a, i in zip(arrays, idx, strict=True)))
            for idx in zip(*indexes, strict=True)]
    if not shape:
        return data[0]
    return ndarray(data, shape)


def _arraylike(x: Any) -> bool:
    """An array of this module, a (nested) list or tuple, or a foreign array (numpy's)."""
    return isinstance(x, (ndarray, list, tuple)) or (hasattr(x, "shape") and
                                                     getattr(x, "shape", ()) != ())


def _unary(f: Callable[[float], Any]) -> Callable[[Any], Any]:
    def apply(x: Any) -> Any:
        if _arraylike(x):
            return _elementwise(lambda v: f(float(v)), x)
        return f(float(x))

    return apply


abs = _unary(math.fabs)
sqrt = _unary(_sqrt)
exp = _unary(_exp)
log = _unary(_log)
tanh = _unary(math.tanh)
sign = _unary(_sign)
isfinite = _unary(_isfinite)


class _Binary:
    """maximum / minimum: element-wise on two operands, `.reduce` over a list of them."""

    def __init__(self, pick: Callable[[list], Any]):
        self._pick = pick

    def __call__(self, a: Any, b: Any) -> Any:
        return _elementwise(lambda x, y: self._pick([x, y]), a, b)

    def reduce(self, items: Sequence[Any]) -> Any:
        out = items[0]
        for x in items[1:]:
            out = self(out, x)
        return out


maximum = _Binary(_max)
minimum = _Binary(_min)


def where(cond: Any, x: Any, y: Any) -> Any:
    return _elementwise(lambda c, a, b: a if c else b, cond, x, y)


def clip(a: Any, lo: Any, hi: Any) -> Any:
    return minimum(maximum(a, lo), hi)


def vectorize(f: Callable[[Any], Any], otypes: Any = None) -> Callable[[Any], Any]:
    cast = float if otypes and otypes[0] is float else (lambda v: v)
    return lambda x: _elementwise(lambda v: cast(f(v)), x)


# -- products -----------------------------------------------------------------------------------
def matmul(a: Any, b: Any) -> Any:
    a, b = asarray(a), asarray(b)
    if a.ndim == 0 or b.ndim == 0 or a.ndim > 2 or b.ndim > 2:
        raise ValueError("matmul takes 1-D or 2-D operands here")
    A = a.reshape(1, -1) if a.ndim == 1 else a
    B = b.reshape(-1, 1) if b.ndim == 1 else b
    n, k = A.shape
    k2, m = B.shape
    if k != k2:
        raise ValueError(f"matmul: mismatch in its core dimension ({a.shape} @ {b.shape})")
    Ad, Bd = A._d, B._d
    data = [_sum([Ad[i * k + t] * Bd[t * m + j] for t in range(k)]) for i in range(n)
            for j in range(m)]
    shape = ((n,) if a.ndim == 2 else ()) + ((m,) if b.ndim == 2 else ())
    return ndarray(data, shape) if shape else data[0]


def dot(a: Any, b: Any) -> Any:
    if not _arraylike(a) or not _arraylike(b):
        return _elementwise(lambda x, y: x * y, a, b)
    return matmul(a, b)


def outer(a: Any, b: Any) -> ndarray:
    x, y = asarray(a).ravel(), asarray(b).ravel()
    return ndarray([u * v for u in x._d for v in y._d], (x.size, y.size))


def einsum(subscripts: str, *operands: Any) -> Any:
    """Explicit-mode einsum ('ik,kj->ikj'): every output entry sums over the other letters."""
    arrays = [asarray(x) for x in operands]
    plan, shape = _einsum_plan(subscripts, tuple(a.shape for a in arrays))
    data = []
    for terms in plan:
        products = []
        for positions in terms:
            term = 1.0
            for a, i in zip(arrays, positions, strict=True):
                term = term * a._d[i]
            products.append(term)
        data.append(_sum(products))
    return ndarray(data, shape) if shape else data[0]


@lru_cache(maxsize=1024)
def _einsum_plan(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> tuple[Any, tuple]:
    """For each output entry, for each term of its sum, the flat position in each operand."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    specs = inputs.split(",")
    if not arrow or len(specs) != len(shapes) or "." in subscripts:
        raise ValueError("einsum takes explicit subscripts ('ik,kj->ij') here")
    size: dict[str, int] = {}
    for spec, shp in zip(specs, shapes, strict=True):
        if len(spec) != len(shp):
            raise ValueError(f"einsum: {spec!r} does not match an operand of shape {shp}")
        for letter, n in zip(spec, shp, strict=True):
            if size.setdefault(letter, n) != n:
                raise ValueError(f"einsum: size of {letter!r} differs between operands")
    summed = [letter for letter in size if letter not in output]
    shape = tuple(size[letter] for letter in output)
    strides = [_strides(shp) for shp in shapes]
    plan = []
    for out_idx in itertools.product(*(range(n) for n in shape)):
        env = dict(zip(output, out_idx, strict=True))
        terms = []
        for sum_idx in itertools.product(*(range(size[letter]) for letter in summed)):
            env.update(zip(summed, sum_idx, strict=True))
            terms.append(tuple(_b.sum(env[letter] * st for letter, st in zip(spec, strd,
                                                                               strict=True))
                               for spec, strd in zip(specs, strides, strict=True)))
        plan.append(tuple(terms))
    return tuple(plan), shape


# -- whole-array functions ----------------------------------------------------------------------
def sum(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return asarray(a).sum(axis=axis, keepdims=keepdims)


def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return asarray(a).mean(axis=axis, keepdims=keepdims)


def max(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return asarray(a).max(axis=axis, keepdims=keepdims)


def min(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return asarray(a).min(axis=axis, keepdims=keepdims)


def prod(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return asarray(a).prod(axis=axis, keepdims=keepdims)


def any(a: Any, axis: Any = None) -> Any:
    return asarray(a).any(axis=axis)


def all(a: Any, axis: Any = None) -> Any:
    return asarray(a).all(axis=axis)


def count_nonzero(a: Any) -> int:
    return _b.sum(1 for v in asarray(a)._d if v)


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08) -> Any:
    def one(x: float, y: float) -> bool:
        if math.isinf(x) or math.isinf(y):
            return x == y
        return math.fabs(x - y) <= atol + rtol * math.fabs(y)

    return _elementwise(one, a, b)


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08) -> bool:
    return bool(all(isclose(a, b, rtol=rtol, atol=atol)))


def array_equal(a: Any, b: Any) -> bool:
    x, y = asarray(a), asarray(b)
    return x.shape == y.shape and x._d == y._d


def ndim(a: Any) -> int:
    return asarray(a).ndim


def shape(a: Any) -> tuple[int, ...]:
    return asarray(a).shape

