"""The convolution's three products of im2col.py, computed a few images at a time.

Same numbers as `im2col_conv2d`, `im2col_conv_transpose2d`, `im2col_conv2d_weight_grad`
(tests/engine/test_conv_blocked.py checks them against each other); two changes of
layout, both about memory traffic (benchmarks/cnn.py measures them):

Channels last. In an (N, H, W, C) copy of x, one row of a window is kw·C consecutive
numbers, where (N, C, H, W) gives runs of Wo: so x is copied, padded, into that layout
first and X̂'s rows are ordered (p, q, c) instead of (c, p, q), W's columns likewise.
With few channels (C = 1) the image's rows are the longer runs, and X̂ is laid out so
that the copy follows them (`empty_columns`).

A few images at a time. X̂ is kh·kw times the size of the input. `column_blocks` copies
it for about BLOCK_BYTES worth of images into one reused buffer, and that block's
product is taken while it is still in the processor's cache:

    Y[:, images] = W · X̂[:, images]             for each block of images

The weight gradient builds X̂ again, block by block, and sums dW = G·X̂ᵀ over the
blocks; the input gradient is the full convolution of g with the flipped kernel,
computed the same way: no X̂ or dX̂ of the size of the batch is ever made.

Reused buffers. The buffers that live only inside one call (the channels-last copy of
x, the block of X̂, the spread-out g of the input gradient) are borrowed from
workspace.py's per-thread cache, so that a training step finds last step's arrays
instead of asking malloc for new ones; the plain form, `np.zeros`/`np.empty`, is in the
comment beside each. What a function returns is always a fresh array.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .im2col import as_matrix
from .workspace import borrowed

BLOCK_BYTES = 8 * 2 ** 20       # the size of one block of X̂ (at least one image's columns)


def padded_shape(shape, padding):
    """The shape of `channels_last`'s copy of images of `shape` (N, C, H, W)."""
    n, c, h, w = shape
    ph, pw = padding
    return n, h + 2 * ph, w + 2 * pw, c


def channels_last(x, padding, dtype, out=None):
    """x (N, C, H, W) copied into zeros of shape (N, H + 2·ph, W + 2·pw, C): new zeros,
    or `out`, of that shape, zeroed first."""
    _, _, h, w = np.shape(x)
    ph, pw = padding
    if out is None:
        out = np.zeros(padded_shape(np.shape(x), padding), dtype=dtype)
    else:
        out.fill(0)
    out[:, ph:ph + h, pw:pw + w] = np.transpose(x, (0, 2, 3, 1))
    return out


def windows_last(padded, kernel, stride):
    """The windows of a channels-last `padded`, as a view: (N, Ho, Wo, kh, kw, C), no copy."""
    views = sliding_window_view(padded, kernel, axis=(1, 2))[:, ::stride[0], ::stride[1]]
    return views.transpose(0, 1, 2, 4, 5, 3)


def columns_layout(windows, count):
    """How to lay out the columns of X̂ of `count` images so that copying the windows into
    them runs along the longer stretch of consecutive numbers: the shape to allocate, and
    the axes that turn it into (count, Ho, Wo, kh, kw, C)."""
    _, ho, wo, kh, kw, c = windows.shape
    if kw * c >= wo:    # along a row of a window: kw·C numbers, one after the other
        return (count, ho, wo, kh, kw, c), (0, 1, 2, 3, 4, 5)
    # few channels: along a row of the image instead, Wo numbers
    return (kh, kw, c, count, ho, wo), (3, 4, 5, 0, 1, 2)


def empty_columns(windows, count):
    """Room for the columns of X̂ of `count` images, (count, Ho, Wo, kh, kw, C), laid out
    as `columns_layout` says."""
    shape, axes = columns_layout(windows, count)
    return np.empty(shape, windows.dtype).transpose(axes)


def as_columns(block):
    """An (images, Ho, Wo, kh, kw, C) block as X̂'s matrix: rows (p, q, c), columns (n, i, j)."""
    return block.reshape(-1, np.prod(block.shape[3:])).T


def column_blocks(windows, block_bytes=None):
    """im2col a few images at a time: yields (images, X̂[:, images]) for consecutive slices
    of the batch, each block about `block_bytes` (BLOCK_BYTES if None).

    The blocks are copied into one small buffer, reused: each block must be used before
    the next is asked for, and none kept once the loop is over (the buffer is borrowed
    from workspace.py, and lent again afterwards).
    """
    n = len(windows)
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    size = max(1, min(n, block_bytes // (windows[0].size * windows.itemsize)))
    shape, axes = columns_layout(windows, size)
    with borrowed(shape, windows.dtype) as room:    # plain: buffer = empty_columns(windows, size)
        buffer = room.transpose(axes)
        for start in range(0, n, size):
            images = slice(start, min(start + size, n))
            block = buffer[:images.stop - start]
            np.copyto(block, windows[images])
            yield images, as_columns(block)


def correlate(windows, w, block_bytes=None):
    """Y = W·X̂, one block of images at a time: (C_out, N, Ho, Wo)."""
    c_out = len(w)
    n, ho, wo = windows.shape[:3]
    W = w.transpose(0, 2, 3, 1).reshape(c_out, -1).astype(windows.dtype)   # columns (p, q, c)
    y = np.empty((c_out, n, ho, wo), dtype=windows.dtype)
    for images, cols in column_blocks(windows, block_bytes):
        np.matmul(W, cols, out=y[:, images].reshape(c_out, -1))
    return y


def weight_product(G, cols):
    """G·X̂ᵀ. (X̂·Gᵀ)ᵀ holds the same numbers, and OpenBLAS computes these long, thin
    products faster with the matrix of more rows on the left (benchmarks/cnn.py measures
    both orders), so that is the order used."""
    if len(cols) > len(G):
        return (cols @ G.T).T
    return G @ cols.T


def kernels(dw, shape):
    """dW with columns (p, q, c) as kernels of `shape` (C_out, C_in, kh, kw)."""
    c_out, c_in, kh, kw = shape
    return np.ascontiguousarray(dw.reshape(c_out, kh, kw, c_in).transpose(0, 3, 1, 2))


# ---- the three products ----------------------------------------------------------------

def blocked_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), block_bytes=None):
    """im2col_conv2d, block by block: (N, C_out, Ho, Wo)."""
    dtype = np.result_type(x, w)
    # plain: views = windows_last(channels_last(x, padding, dtype), w.shape[2:], stride)
    with borrowed(padded_shape(np.shape(x), padding), dtype) as room:
        views = windows_last(channels_last(x, padding, dtype, out=room), w.shape[2:], stride)
        y = correlate(views, w, block_bytes)                            # a new array
    if b is not None:
        y += b.reshape(-1, 1, 1, 1)                                     # + b, in place
    return y.transpose(1, 0, 2, 3)


def blocked_conv_transpose2d(g, w, shape, stride=(1, 1), padding=(0, 0), block_bytes=None):
    """im2col_conv_transpose2d as the full convolution of g with the flipped kernel.

    g spread out, s − 1 zeros between its pixels for a stride s and k − 1 − p around
    them, then correlated with the kernels turned by 180° and their channels swapped.
    That copies kh·kw·C_out numbers per pixel of x where col2im adds kh·kw·C_in, and
    multiplies the zeros too: the trade suits stride 1 and layers that do not widen
    much (a first layer widens most, but its input, the images, needs no gradient).
    """
    c_out, c_in, kh, kw = w.shape
    n, _, ho, wo = g.shape
    (h, wd), (sh, sw), (ph, pw) = shape[2:], stride, padding
    spread_shape = (n, h + 2 * ph + kh - 1, wd + 2 * pw + kw - 1, c_out)
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)                 # (C_in, C_out, kh, kw)
    with borrowed(spread_shape, np.result_type(g, w)) as spread:   # plain: np.zeros(…)
        spread.fill(0)
        spread[:, kh - 1:kh + sh * (ho - 1):sh, kw - 1:kw + sw * (wo - 1):sw] = \
            g.transpose(0, 2, 3, 1)
        views = windows_last(spread[:, ph:ph + h + kh - 1, pw:pw + wd + kw - 1], (kh, kw), (1, 1))
        dx = correlate(views, flipped, block_bytes)                     # a new array
    return dx.transpose(1, 0, 2, 3)


def blocked_conv2d_weight_grad(x, g, shape, stride=(1, 1), padding=(0, 0), block_bytes=None):
    """im2col_conv2d_weight_grad: G·X̂ᵀ summed over the blocks of images."""
    c_out, c_in, kh, kw = shape
    dw = np.zeros((c_out, kh * kw * c_in), dtype=np.result_type(x, g))     # a new array
    # plain: views = windows_last(channels_last(x, padding, dw.dtype), (kh, kw), stride)
    with borrowed(padded_shape(np.shape(x), padding), dw.dtype) as room:
        views = windows_last(channels_last(x, padding, dw.dtype, out=room), (kh, kw), stride)
        for images, cols in column_blocks(views, block_bytes):
            dw += weight_product(as_matrix(g[images]), cols)           # Σ over the blocks
    return kernels(dw, shape)
