"""Convolution and pooling over images: conv2d, max_pool2d, avg_pool2d.

Layouts are PyTorch's: images x (N, C, H, W), kernels w (C_out, C_in, kh, kw), biases
b (C_out,). With stride s and padding p, an output has Ho = (H + 2p − kh) // s + 1 rows.

Convolution is a matrix product in disguise. `im2col` lays every kh×kw window of the
padded input out as one column of a matrix X̂ (rows: c, p, q; columns: n, i, j), so

    y[n,o,i,j] = b[o] + Σ_{c,p,q} x̂[n,c, i·s+p, j·s+q] · w[o,c,p,q]      (x̂: x padded)
    Y = W · X̂ + b       with W the kernels as a (C_out, C_in·kh·kw) matrix

and its backward pass is the backward pass of a product, as for `linear`:

    dW = G · X̂ᵀ                         dw = the correlation of x with g
    dX̂ = Wᵀ · G, then col2im            dx = the full convolution of g with the flipped kernel
    db = Σ_{n,i,j} g                     (g, the output's adjoint, dilated by the stride)

col2im adds every column back onto the window it came from, one kernel offset (p, q)
at a time: kh·kw vectorised additions, not a loop over pixels. `im2col` and `col2im`
are these formulas as written; the ops compute the same numbers faster, two ways:

Channels last. `im2col` copies Wo numbers at a time (one image row for each channel and
kernel offset: 14 for the CNN's second layer), a slow copy. In an (N, H, W, C) copy of
x, one row of a window is kw·C consecutive numbers (160 there): so the ops copy x,
padded, into that layout first and order X̂'s rows (p, q, c) instead of (c, p, q), W's
columns likewise. With few channels (C = 1: runs of kw = 5) the image's rows are the
longer runs, and X̂ is laid out so that the copy follows them (`_empty_columns`).

A few images at a time. X̂ is kh·kw times the size of the input (80 MB for the CNN's
second layer at batch 128). `_column_blocks` copies it for a few images, about
BLOCK_BYTES, and the product of that block is taken at once, while it is still in the
processor's cache; the next block then reuses the buffer:

    Y[:, images] = W · X̂[:, images]             for each block of images

No X̂ of the size of the batch is kept: the weight gradient builds X̂ again, a block at
a time, and sums dW = G·X̂ᵀ over the blocks. The input gradient is the full convolution
of g with the flipped kernel, computed the same way, so no dX̂ of the size of X̂ is ever
made either. tests/test_speed_tricks.py checks all three against the plain formulas.
(Copying X̂ twice costs about what keeping it saved, once freed memory is reused
(models/allocator.py), and the step's largest buffer, 80 MB at batch 128, is gone.)

Each gradient is itself an op with rules, so gradients of gradients work. The three
are bilinear and each one's vjps are the other two:

    conv2d(x, w)              vjp x: conv_transpose2d(g, w)    vjp w: conv2d_weight_grad(x, g)
    conv_transpose2d(g, w)    vjp g: conv2d(h, w)              vjp w: conv2d_weight_grad(h, g)
    conv2d_weight_grad(x, g)  vjp x: conv_transpose2d(g, h)    vjp g: conv2d(x, h)

(h being the adjoint arriving at each op's output). Pooling works alike: max-pooling
gathers one value per window, so its gradient scatters g back to where the maxima
were, and the vjp of that scatter is the gather again.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .primitive import primitive
from .reductions import sum as tape_sum
from .tensor import as_array


# ---- the arguments -----------------------------------------------------------------

def _pair(value, what, op, minimum):
    """An int or an (h, w) pair of ints ≥ minimum, as a pair."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = None
    if (pair is None or len(pair) != 2 or isinstance(value, bool)
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)
            or min(pair) < minimum):
        raise ValueError(f"{op}: {what} must be an int ≥ {minimum} or a pair of them "
                         f"(height, width), got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_images(x, op):
    shape = np.shape(as_array(x))
    if len(shape) != 4:
        raise ValueError(f"{op}: expected images of shape (N, C, H, W), got shape {shape}; "
                         f"a single image needs a batch axis: x.reshape(1, C, H, W)")
    return shape


def _output_size(size, kernel, stride, padding, op, shape):
    """Ho = (H + 2p − k) // s + 1 for one axis, with a clear error if the kernel is too big."""
    (h, w), (kh, kw), (sh, sw), (ph, pw) = size, kernel, stride, padding
    if kh > h + 2 * ph or kw > w + 2 * pw:
        raise ValueError(f"{op}: the {kh}×{kw} kernel is larger than the padded input "
                         f"{h + 2 * ph}×{w + 2 * pw} (input {shape}, padding {padding}); "
                         f"use a smaller kernel or more padding")
    return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1


# ---- im2col and col2im -------------------------------------------------------------

def _windows(x, kernel, stride, padding):
    """The kh×kw windows of x padded, as a view: (N, C, Ho, Wo, kh, kw), no copy."""
    (ph, pw), (sh, sw) = padding, stride
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return sliding_window_view(x, kernel, axis=(2, 3))[:, :, ::sh, ::sw]


def im2col(x, kernel, stride=(1, 1), padding=(0, 0)):
    """X̂: one column per window, shape (C·kh·kw, N·Ho·Wo); rows (c, p, q), columns (n, i, j).

    This copy is the one big buffer a convolution needs: (C·kh·kw)·(N·Ho·Wo) numbers.
    Returns X̂ and the output size (Ho, Wo).
    """
    windows = _windows(x, kernel, stride, padding)           # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo, kh, kw = windows.shape
    cols = np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3))
    return cols.reshape(c * kh * kw, n * ho * wo), (ho, wo)


def col2im(cols, shape, kernel, stride=(1, 1), padding=(0, 0)):
    """The adjoint of im2col: each column added back onto its window of an image of `shape`.

    cols is (C, kh, kw, N, Ho, Wo); a pixel that lies in several windows receives the sum.
    """
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    ho, wo = cols.shape[-2:]
    padded = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for p in range(kh):                 # one vectorised addition per kernel offset
        for q in range(kw):
            padded[:, :, p:p + sh * ho:sh, q:q + sw * wo:sw] += cols[:, p, q]
    return padded[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3)


def _as_matrix(g):
    """An (N, C, H, W) adjoint as the (C, N·H·W) matrix G (a view if g came from conv2d)."""
    n, c, h, w = g.shape
    return g.transpose(1, 0, 2, 3).reshape(c, n * h * w)


# ---- the same products, a few images at a time -----------------------------------------

BLOCK_BYTES = 8 * 2 ** 20       # the size of one block of X̂ (at least one image's columns)


def _channels_last(x, padding, dtype):
    """x (N, C, H, W) copied into zeros of shape (N, H + 2·ph, W + 2·pw, C)."""
    n, c, h, w = np.shape(x)
    ph, pw = padding
    padded = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=dtype)
    padded[:, ph:ph + h, pw:pw + w] = np.transpose(x, (0, 2, 3, 1))
    return padded


def _windows_last(padded, kernel, stride):
    """The windows of a channels-last `padded`, as a view: (N, Ho, Wo, kh, kw, C), no copy."""
    windows = sliding_window_view(padded, kernel, axis=(1, 2))[:, ::stride[0], ::stride[1]]
    return windows.transpose(0, 1, 2, 4, 5, 3)


def _empty_columns(windows, count):
    """Room for the columns of X̂ of `count` images, (count, Ho, Wo, kh, kw, C), laid out so
    that copying the windows into it runs along the longer stretch of consecutive numbers."""
    _, ho, wo, kh, kw, c = windows.shape
    if kw * c >= wo:    # along a row of a window: kw·C numbers, one after the other
        return np.empty((count, ho, wo, kh, kw, c), windows.dtype)
    # few channels: along a row of the image instead, Wo numbers
    return np.empty((kh, kw, c, count, ho, wo), windows.dtype).transpose(3, 4, 5, 0, 1, 2)


def _as_columns(block):
    """An (images, Ho, Wo, kh, kw, C) block as X̂'s matrix: rows (p, q, c), columns (n, i, j)."""
    return block.reshape(-1, np.prod(block.shape[3:])).T


def _column_blocks(windows):
    """im2col a few images at a time: yields (images, X̂[:, images]) for consecutive slices
    of the batch, each block about BLOCK_BYTES.

    The blocks are copied into one small buffer, reused: each block must be used before
    the next is asked for.
    """
    n = len(windows)
    size = max(1, min(n, BLOCK_BYTES // (windows[0].size * windows.itemsize)))
    buffer = _empty_columns(windows, size)
    for start in range(0, n, size):
        images = slice(start, min(start + size, n))
        block = buffer[:images.stop - start]
        np.copyto(block, windows[images])
        yield images, _as_columns(block)


def _correlate(windows, w):
    """Y = W·X̂, one block of images at a time: (C_out, N, Ho, Wo)."""
    c_out = len(w)
    n, ho, wo = windows.shape[:3]
    W = w.transpose(0, 2, 3, 1).reshape(c_out, -1).astype(windows.dtype)   # columns (p, q, c)
    y = np.empty((c_out, n, ho, wo), dtype=windows.dtype)
    for images, cols in _column_blocks(windows):
        np.matmul(W, cols, out=y[:, images].reshape(c_out, -1))
    return y


# ---- convolution --------------------------------------------------------------------

@primitive(name="conv2d")
def _conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    # Plain form:  cols, (ho, wo) = im2col(x, w.shape[2:], stride, padding)
    #              y = (w.reshape(len(w), -1) @ cols).reshape(len(w), len(x), ho, wo)
    windows = _windows_last(_channels_last(x, padding, np.result_type(x, w)), w.shape[2:], stride)
    y = _correlate(windows, w)
    if b is not None:
        y += b.reshape(-1, 1, 1, 1)                                     # + b, in place
    return y.transpose(1, 0, 2, 3)                                      # (N, C_out, Ho, Wo)


@primitive(name="conv_transpose2d")
def _conv_transpose2d(g, w, shape, stride=(1, 1), padding=(0, 0)):
    """dx: the full convolution of g with the flipped kernel (Wᵀ·G laid back by col2im)."""
    # Plain form:  cols = w.reshape(c_out, -1).T @ _as_matrix(g)         # dX̂ = Wᵀ·G
    #              col2im(cols.reshape(c_in, kh, kw, n, ho, wo), shape, (kh, kw), stride, padding)
    # Here: g spread out, s − 1 zeros between its pixels for a stride s and k − 1 − p around
    # them, then correlated with the kernels turned by 180° and their channels swapped.
    # That copies kh·kw·C_out numbers per pixel of x where col2im adds kh·kw·C_in, and
    # multiplies the zeros too: the trade suits stride 1 and layers that do not widen
    # much (a first layer widens most, but its input, the images, needs no gradient).
    c_out, c_in, kh, kw = w.shape
    n, _, ho, wo = g.shape
    (h, wd), (sh, sw), (ph, pw) = shape[2:], stride, padding
    spread = np.zeros((n, h + 2 * ph + kh - 1, wd + 2 * pw + kw - 1, c_out),
                      dtype=np.result_type(g, w))
    spread[:, kh - 1:kh + sh * (ho - 1):sh, kw - 1:kw + sw * (wo - 1):sw] = g.transpose(0, 2, 3, 1)
    spread = spread[:, ph:ph + h + kh - 1, pw:pw + wd + kw - 1]
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)                 # (C_in, C_out, kh, kw)
    return _correlate(_windows_last(spread, (kh, kw), (1, 1)), flipped).transpose(1, 0, 2, 3)


@primitive(name="conv2d_weight_grad")
def _conv2d_weight_grad(x, g, shape, stride=(1, 1), padding=(0, 0)):
    """dw: G·X̂ᵀ, the correlation of the input with the output's adjoint."""
    # Plain form:  cols, _ = im2col(x, shape[2:], stride, padding)
    #              dw = (_as_matrix(g) @ cols.T).reshape(shape)
    c_out, c_in, kh, kw = shape
    dw = np.zeros((c_out, kh * kw * c_in), dtype=np.result_type(x, g))
    windows = _windows_last(_channels_last(x, padding, dw.dtype), (kh, kw), stride)
    for images, cols in _column_blocks(windows):
        dw += _weight_product(_as_matrix(g[images]), cols)              # Σ over the blocks
    return _kernels(dw, shape)


def _kernels(dw, shape):
    """dW with columns (p, q, c) as kernels of `shape` (C_out, C_in, kh, kw)."""
    c_out, c_in, kh, kw = shape
    return np.ascontiguousarray(dw.reshape(c_out, kh, kw, c_in).transpose(0, 3, 1, 2))


def _weight_product(G, cols):
    """G·X̂ᵀ. (X̂·Gᵀ)ᵀ holds the same numbers, and OpenBLAS computes these long, thin
    products several times faster with the matrix of more rows on the left
    (benchmarks/cnn.py measures both), so that is the order used."""
    if len(cols) > len(G):
        return (cols @ G.T).T
    return G @ cols.T


_conv2d.defvjp(
    lambda g, ans, x, w, b, stride, padding:                            # dx = Wᵀ·G, col2im
        _conv_transpose2d(g, w, shape=np.shape(x), stride=stride, padding=padding),
    lambda g, ans, x, w, b, stride, padding:                            # dw = G·X̂ᵀ
        _conv2d_weight_grad(x, g, shape=np.shape(w), stride=stride, padding=padding),
    lambda g, ans, x, w, b, stride, padding:                            # db = Σ_{n,i,j} g
        tape_sum(g, axis=(0, 2, 3)))

_conv_transpose2d.defvjp(
    lambda h, ans, g, w, shape, stride, padding:                        # its adjoint: conv2d
        _conv2d(h, w, None, stride=stride, padding=padding),
    lambda h, ans, g, w, shape, stride, padding:
        _conv2d_weight_grad(h, g, shape=np.shape(w), stride=stride, padding=padding))

_conv2d_weight_grad.defvjp(
    lambda h, ans, x, g, shape, stride, padding:
        _conv_transpose2d(g, h, shape=np.shape(x), stride=stride, padding=padding),
    lambda h, ans, x, g, shape, stride, padding:
        _conv2d(x, h, None, stride=stride, padding=padding))


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-d convolution (strictly, cross-correlation, as in every DL library) of a batch.

    x (N, C_in, H, W), w (C_out, C_in, kh, kw), b (C_out,) or None; stride and padding
    are ints or (height, width) pairs; padding adds zeros on both sides. 'same'
    padding for an odd k and stride 1 is padding=k // 2.
    """
    xs = _check_images(x, "conv2d")
    ws = np.shape(as_array(w))
    if len(ws) != 4:
        raise ValueError(f"conv2d: expected kernels of shape (C_out, C_in, kh, kw), got "
                         f"shape {ws}")
    if xs[1] != ws[1]:
        raise ValueError(f"conv2d: the input has {xs[1]} channels (x {xs}) but the kernels "
                         f"expect {ws[1]} (w {ws}); w must be (C_out, {xs[1]}, kh, kw)")
    if b is not None and np.shape(as_array(b)) != (ws[0],):
        raise ValueError(f"conv2d: the bias must have shape ({ws[0]},), one per output "
                         f"channel of w {ws}; got {np.shape(as_array(b))}")
    stride = _pair(stride, "stride", "conv2d", 1)
    padding = _pair(padding, "padding", "conv2d", 0)
    _output_size(xs[2:], ws[2:], stride, padding, "conv2d", xs)
    return _conv2d(x, w, b, stride=stride, padding=padding)


def conv_transpose2d(g, w, shape, stride=1, padding=0):
    """The adjoint of conv2d with respect to its input: the image-shaped gradient dx.

    `shape` is the shape of the input of the convolution (several input sizes give
    the same output size when the stride is above 1).
    """
    return _conv_transpose2d(g, w, shape=tuple(shape), stride=_pair(stride, "stride", "conv_transpose2d", 1),
                             padding=_pair(padding, "padding", "conv_transpose2d", 0))


# ---- max-pooling ----------------------------------------------------------------------

def _pool_arguments(x, kernel_size, stride, op):
    shape = _check_images(x, op)
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None else _pair(stride, "stride", op, 1)
    _output_size(shape[2:], kernel, stride, (0, 0), op, shape)
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
    size = _output_size(x.shape[2:], kernel, stride, (0, 0), "max_pool2d", x.shape)
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
    return _windows(x, kernel, stride, (0, 0)).mean(axis=(4, 5))


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

def _call(c, op, *args, **params):
    """`conv2d(x, w, b, stride=(1, 1), padding=(2, 2))`: the eager op's numpy function."""
    written = [str(a) for a in args] + [f"{k}={v!r}" for k, v in params.items()]
    return f"{c.helper(op.name, op.forward)}({', '.join(written)})"


_conv2d.defsource(
    lambda c, x, w, b=None, stride=(1, 1), padding=(0, 0):
        _call(c, _conv2d, x, w, b, stride=stride, padding=padding),
    lambda c, g, ans, x, w, b, stride, padding:
        _call(c, _conv_transpose2d, g, w, shape=x.shape, stride=stride, padding=padding),
    lambda c, g, ans, x, w, b, stride, padding:
        _call(c, _conv2d_weight_grad, x, g, shape=w.shape, stride=stride, padding=padding),
    lambda c, g, ans, x, w, b, stride, padding: f"{g}.sum(axis=(0, 2, 3))", name="conv")
_conv_transpose2d.defsource(
    lambda c, g, w, shape, stride=(1, 1), padding=(0, 0):
        _call(c, _conv_transpose2d, g, w, shape=tuple(shape), stride=stride, padding=padding),
    lambda c, h, ans, g, w, shape, stride, padding:
        _call(c, _conv2d, h, w, None, stride=stride, padding=padding),
    lambda c, h, ans, g, w, shape, stride, padding:
        _call(c, _conv2d_weight_grad, h, g, shape=w.shape, stride=stride, padding=padding))
_conv2d_weight_grad.defsource(
    lambda c, x, g, shape, stride=(1, 1), padding=(0, 0):
        _call(c, _conv2d_weight_grad, x, g, shape=tuple(shape), stride=stride, padding=padding),
    lambda c, h, ans, x, g, shape, stride, padding:
        _call(c, _conv_transpose2d, g, h, shape=x.shape, stride=stride, padding=padding),
    lambda c, h, ans, x, g, shape, stride, padding:
        _call(c, _conv2d, x, h, None, stride=stride, padding=padding))

_max_pool2d.defsource(
    lambda c, x, kernel, stride: c.let(_call(c, _max_pool2d, x, kernel=kernel, stride=stride),
                                       ("pooled", "winners"), count=2),
    lambda c, g, ans, x, kernel, stride, saved:
        _call(c, _unpool, g, f"{c.helper('pool_winners', _winners)}({saved}, {x.shape}, "
                             f"{kernel}, {stride})", shape=x.shape), name="pooled")
_unpool.defsource(lambda c, g, index, shape: _call(c, _unpool, g, c.literal(index), shape=tuple(shape)),
                  lambda c, h, ans, g, index, shape: _call(c, _gather, h, c.literal(index)))
_gather.defsource(lambda c, x, index: _call(c, _gather, x, c.literal(index)),
                  lambda c, g, ans, x, index: _call(c, _unpool, g, c.literal(index), shape=x.shape))
_avg_pool2d.defsource(
    lambda c, x, kernel, stride: _call(c, _avg_pool2d, x, kernel=kernel, stride=stride),
    lambda c, g, ans, x, kernel, stride:
        _call(c, _avg_unpool, g, kernel=kernel, stride=stride, shape=x.shape), name="pooled")
_avg_unpool.defsource(
    lambda c, g, kernel, stride, shape:
        _call(c, _avg_unpool, g, kernel=kernel, stride=stride, shape=tuple(shape)),
    lambda c, h, ans, g, kernel, stride, shape:
        _call(c, _avg_pool2d, h, kernel=kernel, stride=stride))
