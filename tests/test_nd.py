"""quizforge.drill.nd against numpy itself: every function the families use, on random small
arrays (shapes, broadcasting, axes, indexing) and on IEEE edge cases."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizforge.drill import nd

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)

values = st.sampled_from([-3.0, -2.0, -1.5, -1.0, -0.5, -1 / 3, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0])


@st.composite
def arrays(draw, min_dims: int = 0, max_dims: int = 3, shape=None):
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(1, 3), min_size=min_dims, max_size=max_dims)))
    flat = draw(st.lists(values, min_size=math.prod(shape), max_size=math.prod(shape)))
    return numpy.array(flat, dtype=float).reshape(shape)


@st.composite
def broadcastable_pair(draw):
    a = draw(arrays(0, 3))
    # b: drop some leading dims, set some dims to 1
    dims = list(a.shape[draw(st.integers(0, a.ndim)):])
    dims = [1 if draw(st.booleans()) else n for n in dims]
    b = draw(arrays(shape=tuple(dims)))
    return (a, b) if draw(st.booleans()) else (b, a)


def same(ours, ref) -> None:
    ref = numpy.asarray(ref)
    if isinstance(ours, nd.ndarray):
        assert ours.shape == ref.shape
        got = numpy.asarray(ours.tolist(), dtype=ref.dtype if ref.dtype != object else None)
    else:
        assert ref.shape == (), f"numpy gave shape {ref.shape}, nd a scalar"
        got = numpy.asarray(ours)
    assert got.shape == ref.shape
    numpy.testing.assert_allclose(got.astype(float), ref.astype(float), rtol=1e-12, atol=1e-12)


def mine(a):
    return nd.array(a.tolist())


OPS = [lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y,
       lambda x, y: x > y, lambda x, y: x == y, lambda x, y: x <= y]


@SETTINGS
@given(broadcastable_pair(), st.sampled_from(range(len(OPS))))
def test_broadcast_arithmetic(pair, op):
    a, b = pair
    f = OPS[op]
    with numpy.errstate(all="ignore"):
        same(f(mine(a), mine(b)), f(a, b))
        same(f(mine(a), 2.5), f(a, 2.5))
        same(f(-1.5, mine(b)), f(-1.5, b))


@SETTINGS
@given(arrays(1, 3), st.sampled_from(["sum", "mean", "max", "min", "any", "all", "prod"]),
       st.booleans(), st.data())
def test_reductions(a, name, keepdims, data):
    axis = data.draw(st.sampled_from([None, *range(-a.ndim, a.ndim)]))
    ref = getattr(a, name)(axis=axis, keepdims=keepdims)
    same(getattr(mine(a), name)(axis=axis, keepdims=keepdims), ref)
    if not keepdims:
        same(getattr(nd, name)(mine(a), axis=axis), getattr(numpy, name)(a, axis=axis))


@SETTINGS
@given(arrays(2, 2), st.data())
def test_matmul_transpose_and_products(a, data):
    n, k = a.shape
    b = data.draw(arrays(shape=(k, data.draw(st.integers(1, 3)))))
    v = data.draw(arrays(shape=(k,)))
    u = data.draw(arrays(shape=(n,)))
    same(mine(a) @ mine(b), a @ b)
    same(mine(a) @ mine(v), a @ v)
    same(mine(u) @ mine(a), u @ a)
    same(mine(v) @ mine(v), v @ v)
    same(mine(a).T, a.T)
    same(nd.dot(mine(u), mine(u)), numpy.dot(u, u))
    same(nd.outer(mine(u), mine(v)), numpy.outer(u, v))
    same(nd.einsum("ik,kj->ikj", mine(a), mine(b)), numpy.einsum("ik,kj->ikj", a, b))
    same(nd.einsum("ik,kj->ij", mine(a), mine(b)), numpy.einsum("ik,kj->ij", a, b))
    with pytest.raises(ValueError):
        mine(b.T) @ mine(b.T) if b.shape[0] != b.shape[1] else mine(a) @ mine(numpy.ones((k + 1, 2)))


INDEXES = [0, -1, (0, 0), (slice(None), 0), (slice(None), None), (None, slice(None)),
           (slice(1, None),), (slice(None, -1),), (Ellipsis, 0), (0, Ellipsis),
           (slice(None), slice(None, None, -1)), (slice(None), 1, slice(None))]


@SETTINGS
@given(arrays(shape=(3, 2, 2)), st.sampled_from(range(len(INDEXES))), st.integers(1, 3))
def test_indexing(a, which, dims):
    a = a.reshape(a.shape[:dims] + (-1,)) if dims < 3 else a
    key = INDEXES[which]
    try:
        ref = a[key]
    except IndexError:
        with pytest.raises(IndexError):
            mine(a)[key]
        return
    same(mine(a)[key], ref)
    b, m = a.copy(), mine(a)
    b[key] = 7.0
    m[key] = 7.0
    same(m, b)


@SETTINGS
@given(arrays(1, 3))
def test_shape_helpers(a):
    m = mine(a)
    same(m.ravel(), a.ravel())
    same(m.reshape(-1, 1), a.reshape(-1, 1))
    same(m.astype(bool), a.astype(bool))
    assert m.size == a.size and m.ndim == a.ndim and nd.shape(m) == numpy.shape(a)
    assert nd.count_nonzero(m) == numpy.count_nonzero(a)
    same(nd.stack([m, m]), numpy.stack([a, a]))
    same(nd.where(m > 0, m, -m), numpy.where(a > 0, a, -a))
    same(nd.maximum(m, 0), numpy.maximum(a, 0))
    same(nd.minimum.reduce([m, m * 2, -m]), numpy.minimum.reduce([a, a * 2, -a]))
    same(nd.maximum.reduce([m, m * 2, -m]), numpy.maximum.reduce([a, a * 2, -a]))
    same(nd.clip(m, -1, 1), numpy.clip(a, -1, 1))
    same(nd.zeros_like(m), numpy.zeros_like(a))
    same(nd.abs(m), numpy.abs(a))
    assert nd.allclose(m, m + 1e-9) == numpy.allclose(a, a + 1e-9)
    assert nd.array_equal(m, m) and not nd.array_equal(m, m + 1)
    assert numpy.array_equal(numpy.asarray(m), a)  # numpy reads nd arrays directly
    assert m.tolist() == a.tolist()
    assert [x.tolist() if isinstance(x, nd.ndarray) else x for x in m] == a.tolist()


def test_ieee_edge_cases_match_numpy():
    xs = [-2.0, -0.0, 0.0, 1.0, 4.0, math.inf]
    a = numpy.array(xs)
    with numpy.errstate(all="ignore"):
        for f in ("sqrt", "log", "exp", "tanh", "abs", "sign", "isfinite"):
            same(getattr(nd, f)(nd.array(xs)), getattr(numpy, f)(a))
        same(nd.array(xs) / 0.0, a / 0.0)
        same(1.0 / nd.array(xs), 1.0 / a)
        same(nd.array(xs) ** 0.5, a ** 0.5)
    assert nd.sqrt(4.0) == 2.0 and math.isnan(nd.log(-1.0))


def test_eye_zeros_vectorize_and_errors():
    same(nd.eye(3)[1], numpy.eye(3)[1])
    same(nd.zeros((2, 3)), numpy.zeros((2, 3)))
    same(nd.vectorize(lambda v: v * 2, otypes=[float])(nd.array([[1.0, 2.0]])), [[2.0, 4.0]])
    with pytest.raises(ValueError, match="broadcast"):
        nd.array([1.0, 2.0]) + nd.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="ambiguous"):
        bool(nd.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="inhomogeneous"):
        nd.array([[1.0], [1.0, 2.0]])
    with pytest.raises(IndexError):
        nd.array([1.0, 2.0])[2]


def test_drill_check_imports_no_numpy():
    """The point of this module: a whole `--check` of a tensor family loads neither numpy
    nor SymPy."""
    code = ("import sys\n"
            "from quizforge.drill import generate, grade\n"
            "for fam in ('linear', 'mlp', 'softmax-ce', 'batchnorm', 'optimizer'):\n"
            "    p = generate(fam, 7, 2)\n"
            "    assert grade(p, p.expected_text(0)).correct\n"
            "print(sorted(m for m in ('numpy', 'sympy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
