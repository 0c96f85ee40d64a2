"""Reductions: sum, mean, max, min over an axis (or all axes).

Every input element that went into an output element receives that output's adjoint:
for a sum unchanged, for a mean divided by the count, for a max (min) only where the
maximum (minimum) was attained (ties share it equally).
"""

import math

import numpy as np

from .primitive import primitive
from .sources import defsource
from ._tensor import as_array
from .shapes import broadcast_to, reshape


def _kept_shape(shape, axis):
    """The shape of the result with keepdims=True, so g can be broadcast back."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g, x, axis):
    """The adjoint of a reduction, put back on every element it came from."""
    shape = x.shape
    if axis is not None:       # the reduced axes back as length-1 axes, to broadcast along
        g = reshape(g, shape=_kept_shape(shape, axis))
    return broadcast_to(g, shape=shape)


@primitive(reads=())
def sum(x, axis=None, keepdims=False):
    # Plain form: np.sum(x, axis=axis, keepdims=keepdims), which calls this same
    # reduction through a Python-level wrapper that costs as much as a small sum
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


sum.defvjp(lambda g, ans, x, axis=None, keepdims=False: _spread(g, x, axis))   # ∂Σx/∂xᵢ = 1


# generated forms (tape.compiler): the same numpy calls as the forward and the rule
def _reduction_source(name, x, axis, keepdims):
    if axis is None and not keepdims:
        return f"{x}.{name}()"
    return f"{x}.{name}(axis={axis!r}, keepdims={keepdims})"


def _spread_source(c, g, x, axis):
    if axis is not None:
        g = c.let(f"{g}.reshape({_kept_shape(x.shape, axis)})")
    return f"np.broadcast_to({g}, {x.shape})"


defsource(sum, lambda c, x, axis=None, keepdims=False: _reduction_source("sum", x, axis, keepdims),
              lambda c, g, ans, x, axis=None, keepdims=False: _spread_source(c, g, x, axis),
              name="s")


def _count(x, axis):
    """How many elements went into each output of the reduction."""
    shape = x.shape
    return math.prod(n for n, k in zip(shape, _kept_shape(shape, axis)) if k == 1)


@primitive(reads=())
def mean(x, axis=None, keepdims=False):
    return np.mean(x, axis=axis, keepdims=keepdims)


# ∂ mean / ∂xᵢ = 1/n (g is divided before it is spread: n times fewer divisions)
mean.defvjp(lambda g, ans, x, axis=None, keepdims=False: _spread(g / _count(x, axis), x, axis))


def _mean_source(x, axis, keepdims):
    # np.mean of float64 is the sum divided by the count: written so, it skips np.mean's
    # Python layer (for float32 np.mean divides in float64 and rounds once more: kept)
    if x.dtype == np.float64:
        return f"{_reduction_source('sum', x, axis, keepdims)} / {_count(x, axis)}"
    return _reduction_source("mean", x, axis, keepdims)


defsource(mean, lambda c, x, axis=None, keepdims=False: _mean_source(x, axis, keepdims),
               lambda c, g, ans, x, axis=None, keepdims=False:
                   _spread_source(c, c.let(f"{g} / {_count(x, axis)}"), x, axis), name="m")


@primitive(reads=(0, "ans"))
def max(x, axis=None, keepdims=False):
    return np.max(x, axis=axis, keepdims=keepdims)


def _max_vjp(g, ans, x, axis=None, keepdims=False):
    shape = _kept_shape(np.shape(as_array(x)), axis)
    winners = as_array(x) == np.reshape(as_array(ans), shape)     # where the max was attained
    share = winners / winners.sum(axis=axis, keepdims=True)       # ties split the gradient
    return _spread(g, x, axis) * share.astype(np.result_type(as_array(x)), copy=False)


max.defvjp(_max_vjp)
defsource(max, lambda c, x, axis=None, keepdims=False: _reduction_source("max", x, axis, keepdims),
              lambda c, g, ans, x, axis=None, keepdims=False:
                  f"{c.helper('max_grad', _max_vjp)}({g}, {ans}, {x}, axis={axis!r})", name="m")


@primitive(reads=(0, "ans"))
def min(x, axis=None, keepdims=False):
    return np.min(x, axis=axis, keepdims=keepdims)


# the same rule as max's: the gradient goes where x equals the result, ties share it
min.defvjp(_max_vjp)
defsource(min, lambda c, x, axis=None, keepdims=False: _reduction_source("min", x, axis, keepdims),
              lambda c, g, ans, x, axis=None, keepdims=False:
                  f"{c.helper('max_grad', _max_vjp)}({g}, {ans}, {x}, axis={axis!r})", name="m")
