"""Arithmetic: + - * / ** @, abs, and their gradient rules.

Each rule is the vector-Jacobian product for one input, `g` being the adjoint of the
output. numpy may have broadcast an input to the output's shape (b of shape (3,) added
to every row of a (4, 3) matrix); its gradient is then summed back over the stretched
axes: `unbroadcast(g, x)`.

Types follow PyTorch's rule: a number, a numpy scalar or an integer array never widens
a float tensor, so float32 stays float32 (`shapes.same_float`).
"""

import numpy as np

from .primitive import primitive
from .sources import defsource
from ._tensor import Tensor, as_array
from .activations import log, where
from .shapes import reshape, same_float, same_float_source, transpose, unbroadcast


@primitive(reads=())
def add(x, y):
    return np.add(*same_float(x, y))


add.defvjp(lambda g, ans, x, y: unbroadcast(g, x),            # d(x + y)/dx = 1
           lambda g, ans, x, y: unbroadcast(g, y))            # d(x + y)/dy = 1
# generated forms (tape.compiler): the same numpy calls as the forward and the rule
defsource(add, lambda c, x, y: same_float_source(c, x, "+", y, "add"),
              lambda c, g, ans, x, y: c.unbroadcast(g, x),
              lambda c, g, ans, x, y: c.unbroadcast(g, y), name="z")


@primitive(reads=())
def subtract(x, y):
    return np.subtract(*same_float(x, y))


subtract.defvjp(lambda g, ans, x, y: unbroadcast(g, x),       # d(x − y)/dx = 1
                lambda g, ans, x, y: unbroadcast(-g, y))      # d(x − y)/dy = −1
defsource(subtract, lambda c, x, y: same_float_source(c, x, "-", y, "subtract"),
                   lambda c, g, ans, x, y: c.unbroadcast(g, x),
                   lambda c, g, ans, x, y: c.unbroadcast(f"-{g}", y))


@primitive(reads=(0, 1))
def multiply(x, y):
    return np.multiply(*same_float(x, y))


multiply.defvjp(lambda g, ans, x, y: unbroadcast(g * y, x),   # d(xy)/dx = y
                lambda g, ans, x, y: unbroadcast(g * x, y))   # d(xy)/dy = x
defsource(multiply, lambda c, x, y: same_float_source(c, x, "*", y, "multiply"),
                   lambda c, g, ans, x, y: c.unbroadcast(c.times(g, y), x),
                   lambda c, g, ans, x, y: c.unbroadcast(c.times(g, x), y))


@primitive(reads=(1, "ans"))
def divide(x, y):
    return np.divide(*same_float(x, y))


divide.defvjp(lambda g, ans, x, y: unbroadcast(g / y, x),           # d(x/y)/dx = 1/y
              lambda g, ans, x, y: unbroadcast(-g * ans / y, y))    # d(x/y)/dy = −x/y²
defsource(divide, lambda c, x, y: same_float_source(c, x, "/", y, "divide"),
                 lambda c, g, ans, x, y: c.unbroadcast(f"{g} / {y}", x),
                 lambda c, g, ans, x, y: c.unbroadcast(f"-{g} * {ans} / {y}", y))


@primitive(reads=())
def negative(x):
    return np.negative(x)


negative.defvjp(lambda g, ans, x: -g)
defsource(negative, lambda c, x: f"-{x}", lambda c, g, ans, x: f"-{g}")


@primitive
def power(x, y):
    return np.power(*same_float(x, y))


def _power_x(g, ans, x, y):
    # d(xʸ)/dx = y·xʸ⁻¹, and 0 where y = 0: x⁰ = 1 is constant, even at x = 0, where
    # y·xʸ⁻¹ would be 0·∞. That case is kept out of the formula, not patched afterwards,
    # so that the rule's own derivatives stay finite and exact too (d³x²/dx³ = 0 at 0;
    # ∂²xʸ/∂y∂x = 1/x at y = 0).
    if np.isscalar(y):                                  # x ** 2, x ** 0.5: the usual case
        return np.zeros_like(as_array(x)) if y == 0 else g * y * x ** (y - 1)
    safe_x = where((as_array(y) == 0) & (as_array(x) == 0), 1.0, x)   # only 0⁰ is masked
    return unbroadcast(g * y * safe_x ** (y - 1), x)


def _power_y(g, ans, x, y):
    # d(xʸ)/dy = xʸ·ln x, and 0 where x = 0 (the limit of 0ʸ·ln 0 for y > 0)
    safe_x = where(as_array(x) == 0, 1.0, x)
    return unbroadcast(g * ans * log(safe_x), y)


power.defvjp(_power_x, _power_y)


def _power_x_source(c, g, ans, x, y):
    if np.isscalar(y.value):                            # x ** 2: the rule's usual case
        if y.value == 0:
            return f"np.zeros_like({x})"
        return f"{g} * {y} * {x} ** {c.literal(y.value - 1)}"
    return f"{c.helper('power_grad_x', _power_x)}({g}, {ans}, {x}, {y})"


defsource(power, lambda c, x, y: same_float_source(c, x, "**", y, "power"),
                _power_x_source,
                lambda c, g, ans, x, y: f"{c.helper('power_grad_y', _power_y)}({g}, {ans}, {x}, {y})")


@primitive(reads=(0,))
def square(x):
    return np.square(x)


square.defvjp(lambda g, ans, x: g * (2 * x))                  # d x² = 2x dx
defsource(square, lambda c, x: f"np.square({x})", lambda c, g, ans, x: f"{g} * (2 * {x})")


@primitive(reads=(0, 1))
def outer(x, y):
    return np.outer(*same_float(x, y))          # out_ij = xᵢ yⱼ, both flattened first


def _flat(t):
    return reshape(t, shape=(-1,))


# dL/dxᵢ = Σⱼ g_ij yⱼ = (g·y)ᵢ,  dL/dyⱼ = Σᵢ xᵢ g_ij = (xᵀ·g)ⱼ, each back in its own shape
outer.defvjp(lambda g, ans, x, y: reshape(g @ _flat(y), shape=np.shape(as_array(x))),
             lambda g, ans, x, y: reshape(_flat(x) @ g, shape=np.shape(as_array(y))))
defsource(outer, lambda c, x, y: f"np.outer({x}, {y})" if x.dtype == y.dtype
                                 else f"np.outer(*{c.helper('same_float', same_float)}({x}, {y}))",
                lambda c, g, ans, x, y: f"({g} @ {y}.reshape((-1,))).reshape({x.shape})",
                lambda c, g, ans, x, y: f"({x}.reshape((-1,)) @ {g}).reshape({y.shape})")


@primitive(reads=(0,))
def absolute(x):
    return np.abs(x)


absolute.defvjp(lambda g, ans, x: g * np.sign(as_array(x)))   # d|x| = sign(x), 0 at 0
defsource(absolute, lambda c, x: f"np.abs({x})", lambda c, g, ans, x: f"{g} * np.sign({x})")


@primitive(reads=(0, 1))
def matmul(x, w):
    try:
        return np.matmul(*same_float(x, w))
    except ValueError:
        _check_matmul(x, w)       # say which shapes disagree, in the course's words
        raise


def _matmul_x(g, ans, x, w):
    if np.ndim(as_array(w)) == 1:           # x(..., n) @ w(n) -> (...): dX = g wᵀ
        return _add_axis(g, -1) * w
    if np.ndim(as_array(x)) == 1:           # x(n) @ W(..., n, m) -> (..., m): dx = W g
        return unbroadcast(_drop_axis(w @ _add_axis(g, -1), -1), x)
    return unbroadcast(g @ _swap_last(w), x)        # dL/dX = G·Wᵀ


def _matmul_w(g, ans, x, w):
    if np.ndim(as_array(x)) == 1 and np.ndim(as_array(w)) == 1:   # x(n) @ w(n): dw = g x
        return g * x
    if np.ndim(as_array(x)) == 1:           # x(n) @ W(..., n, m): dW = x gᵀ
        return _add_axis(x, -1) * _add_axis(g, -2)
    if np.ndim(as_array(w)) == 1:           # X(..., k, n) @ w(n) -> (..., k): dw = Xᵀ g
        return unbroadcast(x * _add_axis(g, -1), w)
    return unbroadcast(_swap_last(x) @ g, w)        # dL/dW = Xᵀ·G


matmul.defvjp(_matmul_x, _matmul_w)


def _swap_last_source(t):
    return f"{t}.T" if t.ndim == 2 else f"{t}.transpose({tuple(range(t.ndim - 2)) + (t.ndim - 1, t.ndim - 2)})"


def _matmul_x_source(c, g, ans, x, w):
    if x.ndim == 1 or w.ndim == 1:          # a vector: the rule itself, on arrays
        return f"{c.helper('matmul_grad_x', _matmul_x)}({g}, {ans}, {x}, {w})"
    return c.unbroadcast(f"{g} @ {_swap_last_source(w)}", x)     # dL/dX = G·Wᵀ


def _matmul_w_source(c, g, ans, x, w):
    if x.ndim == 1 or w.ndim == 1:
        return f"{c.helper('matmul_grad_w', _matmul_w)}({g}, {ans}, {x}, {w})"
    return c.unbroadcast(f"{_swap_last_source(x)} @ {g}", w)     # dL/dW = Xᵀ·G


defsource(matmul, lambda c, x, w: same_float_source(c, x, "@", w, "matmul"),
                 _matmul_x_source, _matmul_w_source, name="z")


def _swap_last(t):
    """Transpose the last two axes: `.T` for a matrix, batch axes left alone."""
    nd = np.ndim(as_array(t))
    return transpose(t, axes=tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _add_axis(t, axis):
    """A length-1 axis inserted at `axis` (-1: a column; -2: a row)."""
    shape = list(np.shape(as_array(t)))
    shape.insert(len(shape) + 1 + axis, 1)
    return reshape(t, shape=tuple(shape))


def _drop_axis(t, axis):
    shape = list(np.shape(as_array(t)))
    del shape[axis]
    return reshape(t, shape=tuple(shape))


@primitive(reads=(0, 1))
def linear(x, w, b):
    """Z = XW + b for a batch X (n, in), W (in, out), b (out,): one entry, one buffer."""
    if x.ndim != 2 or w.ndim != 2 or b.shape != w.shape[1:] or x.shape[1] != w.shape[0]:
        raise ValueError(f"linear: expected X (n, in), W (in, out), b (out,), got shapes "
                         f"{np.shape(x)}, {np.shape(w)}, {np.shape(b)}")
    z = np.matmul(x, w)
    z += b               # the bias is added in place, into the matmul's own result
    return z


linear.defvjp(lambda g, ans, x, w, b: g @ w.T,     # dL/dX = Δ·Wᵀ (X and W are matrices)
              lambda g, ans, x, w, b: x.T @ g,     # dL/dW = Xᵀ·Δ
              lambda g, ans, x, w, b: _ones_row(g) @ g)     # dL/db = 1ᵀ·Δ, Σ over the batch


def _linear_source(c, x, w, b):
    z = c.let(f"{x} @ {w}", "z")
    return c.update(z, f"{z} += {b}")


def _ones_source(c, g):
    n, dtype = g.shape[0], g.dtype.name
    return c.constant(np.ones(n, dtype=g.dtype), f"ones{n}", how=f"np.ones({n}, np.{dtype})")


defsource(linear, _linear_source,
                 lambda c, g, ans, x, w, b: f"{g} @ {_swap_last_source(w)}",
                 lambda c, g, ans, x, w, b: f"{_swap_last_source(x)} @ {g}",
                 lambda c, g, ans, x, w, b: f"{_ones_source(c, g)} @ {g}", name="z")


def _ones_row(g):
    """1ᵀ, to sum Δ over the batch as a product. Plain form: g.sum(axis=0); BLAS does
    the product faster (docs/speed.md, "What made the two-layer step fast") and adds up more precisely."""
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
