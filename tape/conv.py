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
at a time: kh·kw vectorised additions, not a loop over pixels.

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
from .tensor import Tensor, as_array


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


# ---- convolution --------------------------------------------------------------------

@primitive(name="conv2d", saves=True)
def _conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    cols, (ho, wo) = im2col(x, w.shape[2:], stride, padding)
    y = w.reshape(len(w), -1) @ cols                                    # Y = W·X̂  (C_out, N·Ho·Wo)
    y = y.reshape(len(w), len(x), ho, wo)
    if b is not None:
        y += b.reshape(-1, 1, 1, 1)                                     # + b, in place
    # X̂ is kept for dW = G·X̂ᵀ, so that backward need not build it again: it is the
    # largest buffer of the step, and building it is a third of the forward's time
    return y.transpose(1, 0, 2, 3), cols                                # (N, C_out, Ho, Wo)


@primitive(name="conv_transpose2d")
def _conv_transpose2d(g, w, shape, stride=(1, 1), padding=(0, 0)):
    """dx: Wᵀ·G laid back onto the image by col2im (the full convolution with the flipped kernel)."""
    c_out, c_in, kh, kw = w.shape
    n, _, ho, wo = g.shape
    cols = w.reshape(c_out, -1).T @ _as_matrix(g)                      # dX̂ = Wᵀ·G
    return col2im(cols.reshape(c_in, kh, kw, n, ho, wo), shape, (kh, kw), stride, padding)


@primitive(name="conv2d_weight_grad")
def _conv2d_weight_grad(x, g, shape, stride=(1, 1), padding=(0, 0)):
    """dw: G·X̂ᵀ, the correlation of the input with the output's adjoint."""
    cols, _ = im2col(x, shape[2:], stride, padding)
    return _weight_product(_as_matrix(g), cols, shape)


def _weight_product(G, cols, shape):
    """dW = G·X̂ᵀ. (X̂·Gᵀ)ᵀ holds the same numbers, and OpenBLAS computes these long,
    thin products several times faster with the matrix of more rows on the left
    (benchmarks/cnn.py measures both), so that is the order used."""
    if len(cols) > len(G):
        return (cols @ G.T).T.reshape(shape)
    return (G @ cols.T).reshape(shape)


def _weight_grad(g, ans, x, w, b, stride, padding, saved):
    if isinstance(g, Tensor):     # backward is itself recorded (create_graph): a tape op
        return _conv2d_weight_grad(x, g, shape=np.shape(w), stride=stride, padding=padding)
    return _weight_product(_as_matrix(g), saved, np.shape(w))          # X̂ kept by the forward


def _bias_grad(g, ans, x, w, b, stride, padding, saved):
    return tape_sum(g, axis=(0, 2, 3))                                  # db = Σ_{n,i,j} g


_conv2d.defvjp(
    lambda g, ans, x, w, b, stride, padding, saved:                     # dx = Wᵀ·G, col2im
        _conv_transpose2d(g, w, shape=np.shape(x), stride=stride, padding=padding),
    _weight_grad,                                                       # dw = G·X̂ᵀ
    _bias_grad)

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


@primitive(name="max_pool2d", saves=True)
def _max_pool2d(x, kernel, stride):
    (kh, kw), (sh, sw) = kernel, stride
    n, c, h, w = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1

    def at(p, q):               # the pixel at offset (p, q) of every window: a strided view
        return x[:, :, p:p + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw]

    out = at(0, 0).copy()
    first = np.zeros(out.shape, dtype=np.intp)   # offset p·kw + q of each window's maximum
    for p in range(kh):                          # offsets in reading order: only a strictly
        for q in range(kw):                      # larger value takes over, so in a tie the
            if p or q:                           # first maximum keeps the gradient
                candidate = at(p, q)
                larger = candidate > out
                np.copyto(out, candidate, where=larger)
                first[larger] = p * kw + q
    # where each winner sits in x, as one flat index into x.ravel()
    rows = np.arange(ho).reshape(-1, 1) * sh + first // kw
    cols = np.arange(wo) * sw + first % kw
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
    return out, planes + rows * w + cols


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
                   _unpool(g, index=saved, shape=np.shape(x)))
_unpool.defvjp(lambda h, ans, g, index, shape: _gather(h, index=index))    # scatter ↔ gather
_gather.defvjp(lambda g, ans, x, index: _unpool(g, index=index, shape=np.shape(x)))


def max_pool2d(x, kernel_size, stride=None):
    """The maximum of each kernel_size window (stride defaults to kernel_size).

    Gradient: all of g goes to the input that was the maximum of its window. If several
    inputs tie for the maximum, the first in reading order (row by row) takes all of it,
    as in PyTorch; the others get 0. A pixel that wins several overlapping windows
    receives the sum.
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
