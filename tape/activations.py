"""Elementwise functions: exp, log, sqrt and the activations of the course.

The derivative of an elementwise function is diagonal, so its vjp is a product:
`g * f'(x)`. Where f' is easiest to say through the output (exp, tanh, sigmoid)
the rule uses `ans`, the output, which the forward pass already computed.
A mask such as `x > 0` is a constant: it has no gradient of its own.
"""

import numpy as np

from .primitive import primitive
from .sources import defsource
from .shapes import same_float, same_float_source, unbroadcast
from ._tensor import as_array


@primitive(reads=("ans",))
def exp(x):
    return np.exp(x)


exp.defvjp(lambda g, ans, x: g * ans)                  # d eˣ = eˣ dx
defsource(exp, lambda c, x: f"np.exp({x})", lambda c, g, ans, x: c.times(g, ans), name="e")


@primitive(reads=(0,))
def log(x):
    return np.log(x)


log.defvjp(lambda g, ans, x: g / x)                    # d ln x = dx / x
defsource(log, lambda c, x: f"np.log({x})", lambda c, g, ans, x: f"{g} / {x}")


@primitive(reads=("ans",))
def sqrt(x):
    return np.sqrt(x)


sqrt.defvjp(lambda g, ans, x: g / (2 * ans))           # d √x = dx / (2√x)
defsource(sqrt, lambda c, x: f"np.sqrt({x})", lambda c, g, ans, x: f"{g} / (2 * {ans})")


@primitive(reads=("ans",))
def tanh(x):
    return np.tanh(x)


tanh.defvjp(lambda g, ans, x: g * (1 - ans * ans))     # d tanh = 1 − tanh²
defsource(tanh, lambda c, x: f"np.tanh({x})",
               lambda c, g, ans, x: f"{g} * (1 - {ans} * {ans})", name="h")


@primitive(reads=("ans",))
def sigmoid(x):
    # σ(x) = 1 / (1 + e⁻ˣ), written so that neither branch overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(np.result_type(x), copy=False)


sigmoid.defvjp(lambda g, ans, x: g * ans * (1 - ans))  # d σ = σ(1 − σ)
defsource(sigmoid, lambda c, x: f"{c.helper('sigmoid', sigmoid.forward)}({x})",
                  lambda c, g, ans, x: f"{g} * {ans} * (1 - {ans})", name="h")


@primitive(reads=(0,))
def relu(x):
    # Plain form: np.maximum(x, 0). Taken against an array of zeros instead, because
    # numpy's vectorised loop for maximum needs two arrays (docs/speed.md);
    # np.zeros, not np.zeros_like, whose Python-level wrapping costs more than the
    # maximum itself on the small arrays of make_moons (docs/speed.md)
    x = np.asarray(x)
    zeros = np.zeros(x.shape, x.dtype)
    return np.maximum(x, zeros, out=zeros)


relu.defvjp(lambda g, ans, x: g * (as_array(x) > 0))   # 1 where z > 0, 0 where z ≤ 0
# max(z, 0) against a scalar 0 gives the same bits as against the zeros of the forward
defsource(relu, lambda c, x: f"np.maximum({x}, 0)",
               lambda c, g, ans, x: f"{g} * ({x} > 0)", name="h")


@primitive(reads=(0,))
def leaky_relu(x, slope=0.01):
    slope = float(slope)                  # a numpy float64 slope would make float32 float64
    if 0 < slope <= 1:                    # then the larger of z and slope·z is the one
        return np.maximum(x, x * slope)   # (slope 0 would turn ∞ into max(∞, 0·∞) = nan)
    return np.where(x > 0, x, x * slope)  # the plain form: right for any slope, slower


def _slopes(x, slope):
    """1 where z > 0, the slope elsewhere, as slope + (1 − slope)·[z > 0]."""
    x = as_array(x)
    factor = (x > 0).astype(np.result_type(x, 1.0))      # float32 stays float32
    factor *= 1 - slope
    factor += slope
    return factor


leaky_relu.defvjp(lambda g, ans, x, slope=0.01: g * _slopes(x, slope))


def _leaky_relu_source(c, x, slope=0.01):
    slope = float(slope)
    if 0 < slope <= 1:
        return f"np.maximum({x}, {x} * {slope!r})"
    return f"np.where({x} > 0, {x}, {x} * {slope!r})"


defsource(leaky_relu, _leaky_relu_source,
                     lambda c, g, ans, x, slope=0.01:
                         f"{g} * {c.helper('leaky_slopes', _slopes)}({x}, {slope!r})", name="h")


@primitive
def hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


def _inside(x, lo, hi):
    x = as_array(x)
    return (x > lo) & (x < hi)


# 1 strictly inside (min_val, max_val), 0 where clipped
hardtanh.defvjp(lambda g, ans, x, min_val=-1.0, max_val=1.0: g * _inside(x, min_val, max_val))
defsource(hardtanh, lambda c, x, min_val=-1.0, max_val=1.0:
                       f"np.clip({x}, {min_val!r}, {max_val!r})",
                   lambda c, g, ans, x, min_val=-1.0, max_val=1.0:
                       f"{g} * (({x} > {min_val!r}) & ({x} < {max_val!r}))", name="h")


@primitive(reads=(0, 1))
def maximum(x, y):
    return np.maximum(*same_float(x, y))


def _share(x, y, sign):
    # the larger input takes the gradient; a tie is split half and half
    x, y = as_array(x), as_array(y)
    first = (x > y) if sign > 0 else (x < y)
    return np.where(first, 1.0, np.where(x == y, 0.5, 0.0)).astype(np.result_type(x, y))


maximum.defvjp(lambda g, ans, x, y: unbroadcast(g * _share(x, y, +1), x),
               lambda g, ans, x, y: unbroadcast(g * _share(x, y, -1), y))
defsource(maximum,
    lambda c, x, y: same_float_source(c, x, None, y, "maximum"),
    lambda c, g, ans, x, y: c.unbroadcast(f"{g} * {c.helper('share', _share)}({x}, {y}, 1)", x),
    lambda c, g, ans, x, y: c.unbroadcast(f"{g} * {c.helper('share', _share)}({x}, {y}, -1)", y))


@primitive(reads=(0, 1))
def minimum(x, y):
    return np.minimum(*same_float(x, y))


# the smaller input takes the gradient; a tie is split half and half
minimum.defvjp(lambda g, ans, x, y: unbroadcast(g * _share(x, y, -1), x),
               lambda g, ans, x, y: unbroadcast(g * _share(x, y, +1), y))
defsource(minimum,
    lambda c, x, y: same_float_source(c, x, None, y, "minimum"),
    lambda c, g, ans, x, y: c.unbroadcast(f"{g} * {c.helper('share', _share)}({x}, {y}, -1)", x),
    lambda c, g, ans, x, y: c.unbroadcast(f"{g} * {c.helper('share', _share)}({x}, {y}, 1)", y))


@primitive(reads=(0,))
def clip(x, a_min=None, a_max=None):
    """x limited to [a_min, a_max] (np.clip; the bounds are constants, either may be None)."""
    if a_min is None and a_max is None:
        return x.copy()
    return np.clip(x, a_min, a_max)


def _within(x, lo, hi):
    x = as_array(x)
    keep = np.ones(x.shape, dtype=bool)
    if lo is not None:
        keep &= x >= lo
    if hi is not None:
        keep &= x <= hi
    return keep


# 1 where a_min ≤ x ≤ a_max (the bounds themselves included, as PyTorch's clamp), 0 where clipped
clip.defvjp(lambda g, ans, x, a_min=None, a_max=None: g * _within(x, a_min, a_max))
defsource(clip, lambda c, x, a_min=None, a_max=None: f"{x}.copy()" if a_min is None and a_max is None
                                                 else f"np.clip({x}, {c.literal(a_min)}, {c.literal(a_max)})",
               lambda c, g, ans, x, a_min=None, a_max=None:
                   f"{g} * {c.helper('within', _within)}({x}, {c.literal(a_min)}, {c.literal(a_max)})")


@primitive
def where(condition, x, y):
    """x where condition holds, else y; the condition carries no gradient."""
    return np.where(condition, x, y)


where.defvjp(None,
             lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), x),
             lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), y))
defsource(where, lambda c, condition, x, y: f"np.where({condition}, {x}, {y})",
                None,
                lambda c, g, ans, cond, x, y: c.unbroadcast(f"np.where({cond}, {g}, 0.0)", x),
                lambda c, g, ans, cond, x, y: c.unbroadcast(f"np.where({cond}, 0.0, {g})", y))
