"""Arithmetic: + - * / ** @ and their gradient rules.

Each rule is the vector-Jacobian product for one input, `g` being the adjoint of the
output. The rules may return a gradient in the output's (broadcast) shape; the sweep
sums it back to the input's shape with `unbroadcast`.
"""

import numpy as np

from .primitive import as_array, primitive
from .tensor import Tensor
from . import activations, shapes


@primitive
def add(x, y):
    return np.add(x, y)


add.defvjp(lambda g, ans, x, y: g,                  # d(x + y)/dx = 1
           lambda g, ans, x, y: g)                  # d(x + y)/dy = 1


@primitive
def subtract(x, y):
    return np.subtract(x, y)


subtract.defvjp(lambda g, ans, x, y: g,             # d(x - y)/dx = 1
                lambda g, ans, x, y: -g)            # d(x - y)/dy = -1


@primitive
def multiply(x, y):
    return np.multiply(x, y)


multiply.defvjp(lambda g, ans, x, y: g * y,         # d(xy)/dx = y
                lambda g, ans, x, y: g * x)         # d(xy)/dy = x


@primitive
def divide(x, y):
    return np.divide(x, y)


divide.defvjp(lambda g, ans, x, y: g / y,           # d(x/y)/dx = 1/y
              lambda g, ans, x, y: -g * ans / y)    # d(x/y)/dy = -x/y² = -(x/y)/y


@primitive
def negative(x):
    return np.negative(x)


negative.defvjp(lambda g, ans, x: -g)


@primitive
def power(x, y):
    return np.power(x, y)


power.defvjp(
    lambda g, ans, x, y: g * y * x ** (y - 1),             # d(xʸ)/dx = y·xʸ⁻¹
    lambda g, ans, x, y: g * ans * activations.log(x))     # d(xʸ)/dy = xʸ·ln x


@primitive
def matmul(x, w):
    try:
        return np.matmul(x, w)
    except ValueError:
        _check_matmul(x, w)       # say which shapes disagree, in the course's words
        raise


def _matmul_x(g, ans, x, w):
    if np.ndim(w) == 1:                      # x(..., n) @ w(n) -> (...): dX = g wᵀ
        return _add_axis(g, -1) * w
    if np.ndim(x) == 1:                      # x(n) @ W(..., n, m) -> (..., m): dx = W g
        return _drop_axis(w @ _add_axis(g, -1), -1)
    return g @ _swap_last(w)                 # dL/dX = G·Wᵀ


def _matmul_w(g, ans, x, w):
    if np.ndim(x) == 1 and np.ndim(w) == 1:  # x(n) @ w(n) -> (): dw = g x
        return g * x
    if np.ndim(x) == 1:                      # x(n) @ W(..., n, m): dW = x gᵀ
        return _add_axis(x, -1) * _add_axis(g, -2)
    if np.ndim(w) == 1:                      # X(..., k, n) @ w(n) -> (..., k): dw = Xᵀ g
        return x * _add_axis(g, -1)          # summed to (n,) by unbroadcast
    return _swap_last(x) @ g                 # dL/dW = Xᵀ·G


matmul.defvjp(_matmul_x, _matmul_w)


def _swap_last(t):
    """Transpose the last two axes: `.T` for a matrix, batch axes left alone."""
    if not isinstance(t, Tensor):
        return np.swapaxes(t, -1, -2)     # a constant: no need to record anything
    nd = t.ndim
    return shapes.transpose(t, axes=tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _add_axis(t, axis):
    """A length-1 axis inserted at `axis` (-1: a column; -2: a row)."""
    shape = list(np.shape(as_array(t)))
    shape.insert(len(shape) + 1 + axis if axis < 0 else axis, 1)
    return shapes.reshape(t, shape=tuple(shape))


def _drop_axis(t, axis):
    shape = list(np.shape(as_array(t)))
    del shape[axis]
    return shapes.reshape(t, shape=tuple(shape))


@primitive
def linear(x, w, b):
    """Z = XW + b for a batch X (n, in), W (in, out), b (out,): one entry, one buffer."""
    if x.ndim != 2 or w.ndim != 2 or b.shape != w.shape[1:] or x.shape[1] != w.shape[0]:
        raise ValueError(f"linear: expected X (n, in), W (in, out), b (out,), got shapes "
                         f"{np.shape(x)}, {np.shape(w)}, {np.shape(b)}")
    z = np.matmul(x, w)
    z += b               # the bias is added in place, into the matmul's own result
    return z


linear.defvjp(lambda g, ans, x, w, b: g @ _swap_last(w),    # dL/dX = Δ·Wᵀ
              lambda g, ans, x, w, b: _swap_last(x) @ g,    # dL/dW = Xᵀ·Δ
              lambda g, ans, x, w, b: _ones_row(g) @ g)     # dL/db = 1ᵀ·Δ, Σ over the batch


def _ones_row(g):
    """1ᵀ, to sum Δ over the batch as a product: BLAS does that 2-3× faster than
    numpy's sum over axis 0, and adds up more precisely."""
    g = as_array(g)
    return np.ones(g.shape[0], dtype=g.dtype)


def _check_matmul(x, w):
    xs, ws = np.shape(x), np.shape(w)
    if len(xs) == 0 or len(ws) == 0:
        raise ValueError(f"matmul: scalars cannot be matrix-multiplied (shapes {xs} and {ws}); use *")
    inner_x = xs[-1]
    inner_w = ws[0] if len(ws) == 1 else ws[-2]
    if inner_x != inner_w:
        raise ValueError(
            f"matmul: shapes {xs} and {ws} are not aligned: the last axis of the left "
            f"operand ({inner_x}) must equal the "
            f"{'length' if len(ws) == 1 else 'second-to-last axis'} of the right operand ({inner_w})")
    try:
        np.broadcast_shapes(xs[:-2], ws[:-2])     # the batch axes, before the matrices
    except ValueError:
        raise ValueError(
            f"matmul: shapes {xs} and {ws} have batch axes {xs[:-2]} and {ws[:-2]} that "
            f"do not broadcast together: each pair must be equal or one of them 1") from None


@primitive
def cast(x, dtype):
    return x.astype(dtype, copy=False)


cast.defvjp(lambda g, ans, x, dtype: cast(g, dtype=np.result_type(x)))
