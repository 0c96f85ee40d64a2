"""Pooling over images: max_pool2d and avg_pool2d, each an op with its vjp rules.

Max-pooling gathers one value per window, so its gradient scatters g back to where the
maxima were, and the vjp of that scatter is the gather again. Average-pooling spreads
g / (kh·kw) evenly over each window (col2im of im2col.py), and the vjp of spreading is
averaging.
"""

import numpy as np

from .conv import call_source, check_images, output_size, pair
from .im2col import col2im, windows
from .primitive import primitive
from .sources import defsource


# ---- max-pooling ----------------------------------------------------------------------

def _pool_arguments(x, kernel_size, stride, op):
    shape = check_images(x, op)
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else pair(stride, "stride", op, 1)
    output_size(shape[2:], kernel, stride, (0, 0), op, shape)
    return kernel, stride


def _offsets(kernel):
    """The offsets (p, q) of a kh×kw window, in reading order (row by row)."""
    return [(p, q) for p in range(kernel[0]) for q in range(kernel[1])]


def _at(x, p, q, size, stride):
    """The pixel at offset (p, q) of every window of x: a strided view of shape (N, C, Ho, Wo)."""
    (ho, wo), (sh, sw) = size, stride
    return x[:, :, p:p + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw]


@primitive(name="max_pool2d", saves=True)
def _max_pool2d(x, kernel, stride):
    size = output_size(x.shape[2:], kernel, stride, (0, 0), "max_pool2d", x.shape)
    offsets = _offsets(kernel)
    out = _at(x, *offsets[0], size, stride).copy()
    for p, q in offsets[1:]:                       # the maximum, one offset at a time
        np.maximum(out, _at(x, p, q, size, stride), out=out)
    # first: which offset k of each window holds its maximum. If several tie, the first in
    # reading order: it is the one not already `found` at an earlier offset.
    codes = np.arange(len(offsets), dtype=np.min_scalar_type(len(offsets)))
    first = np.zeros(out.shape, dtype=codes.dtype)
    found = np.zeros(out.shape, dtype=bool)
    for k, (p, q) in enumerate(offsets):
        won = _at(x, p, q, size, stride) == out
        won &= ~found
        found |= won
        first += codes[k] * won
    if not found.all():     # a NaN: the maximum is NaN, which equals nothing; the first NaN wins
        for k, (p, q) in enumerate(offsets):
            won = np.isnan(_at(x, p, q, size, stride)) & ~found
            found |= won
            first += codes[k] * won
    return out, first


def _winners(first, shape, kernel, stride):
    """Where each window's maximum sits in x (of `shape`), as indices into x.ravel()."""
    n, c, h, w = shape
    (sh, sw), (ho, wo) = stride, first.shape[2:]
    step = np.array([p * w + q for p, q in _offsets(kernel)])      # offset k, as a flat step
    index = step[first]
    index += np.arange(n * c).reshape(n, c, 1, 1) * (h * w)        # + each window's top left
    index += np.arange(ho).reshape(-1, 1) * (sh * w)
    index += np.arange(wo) * sw
    return index


@primitive(name="unpool")
def _unpool(g, index, shape):
    """Zeros of `shape` with g[k] added at x.ravel()[index[k]] (repeated winners add up)."""
    out = np.zeros(int(np.prod(shape)), dtype=g.dtype)
    np.add.at(out, index.ravel(), np.ravel(g))
    return out.reshape(shape)


@primitive(name="gather")
def _gather(x, index):
    """x.ravel()[index]: the values at the winners' positions."""
    return np.ravel(x)[index]


# ∂ max / ∂x = 1 at the window's (first) maximum, 0 elsewhere: g goes back to the winner
_max_pool2d.defvjp(lambda g, ans, x, kernel, stride, saved:
                   _unpool(g, index=_winners(saved, np.shape(x), kernel, stride),
                           shape=np.shape(x)))
_unpool.defvjp(lambda h, ans, g, index, shape: _gather(h, index=index))    # scatter ↔ gather
_gather.defvjp(lambda g, ans, x, index: _unpool(g, index=index, shape=np.shape(x)))


def max_pool2d(x, kernel_size, stride=None):
    """The maximum of each kernel_size window (stride defaults to kernel_size).

    Gradient: all of g goes to the input that was the maximum of its window. If several
    inputs tie for the maximum, the first in reading order (row by row) takes all of it,
    as in PyTorch; the others get 0. A pixel that wins several overlapping windows
    receives the sum. A NaN in a window makes its maximum NaN (as in PyTorch and np.max),
    and the first NaN takes the gradient.
    """
    kernel, stride = _pool_arguments(x, kernel_size, stride, "max_pool2d")
    return _max_pool2d(x, kernel=kernel, stride=stride)


# ---- average-pooling --------------------------------------------------------------------

@primitive(name="avg_pool2d")
def _avg_pool2d(x, kernel, stride):
    return windows(x, kernel, stride, (0, 0)).mean(axis=(4, 5))


@primitive(name="avg_unpool")
def _avg_unpool(g, kernel, stride, shape):
    """g / (kh·kw) spread evenly over each window (overlapping windows add up)."""
    kh, kw = kernel
    n, c, ho, wo = g.shape
    share = np.broadcast_to((g / (kh * kw)).transpose(1, 0, 2, 3), (kh, kw, c, n, ho, wo))
    return col2im(share.transpose(2, 0, 1, 3, 4, 5), shape, kernel, stride)


# ∂ mean / ∂x = 1/(kh·kw) for each input of the window; spreading and averaging are adjoint
_avg_pool2d.defvjp(lambda g, ans, x, kernel, stride:
                   _avg_unpool(g, kernel=kernel, stride=stride, shape=np.shape(x)))
_avg_unpool.defvjp(lambda h, ans, g, kernel, stride, shape:
                   _avg_pool2d(h, kernel=kernel, stride=stride))


def avg_pool2d(x, kernel_size, stride=None):
    """The mean of each kernel_size window (stride defaults to kernel_size)."""
    kernel, stride = _pool_arguments(x, kernel_size, stride, "avg_pool2d")
    return _avg_pool2d(x, kernel=kernel, stride=stride)


# ---- generated forms (tape.compiler): the ops' own functions, called as the tape calls them

defsource(_max_pool2d, 
    lambda c, x, kernel, stride: c.let(call_source(c, _max_pool2d, x, kernel=kernel,
                                                   stride=stride),
                                       ("pooled", "winners"), count=2),
    lambda c, g, ans, x, kernel, stride, saved:                         # g back to the winner
        call_source(c, _unpool, g, f"{c.helper('pool_winners', _winners)}({saved}, "
                                   f"{x.shape}, {kernel}, {stride})", shape=x.shape),
    name="pooled")
defsource(_unpool, 
    lambda c, g, index, shape: call_source(c, _unpool, g, c.literal(index), shape=tuple(shape)),
    lambda c, h, ans, g, index, shape: call_source(c, _gather, h, c.literal(index)))
defsource(_gather, 
    lambda c, x, index: call_source(c, _gather, x, c.literal(index)),
    lambda c, g, ans, x, index: call_source(c, _unpool, g, c.literal(index), shape=x.shape))
defsource(_avg_pool2d, 
    lambda c, x, kernel, stride: call_source(c, _avg_pool2d, x, kernel=kernel, stride=stride),
    lambda c, g, ans, x, kernel, stride:
        call_source(c, _avg_unpool, g, kernel=kernel, stride=stride, shape=x.shape),
    name="pooled")
defsource(_avg_unpool, 
    lambda c, g, kernel, stride, shape:
        call_source(c, _avg_unpool, g, kernel=kernel, stride=stride, shape=tuple(shape)),
    lambda c, h, ans, g, kernel, stride, shape:
        call_source(c, _avg_pool2d, h, kernel=kernel, stride=stride))
