"""The convolution as the lesson derives it: im2col, one matrix product, col2im.

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

The three functions at the bottom are these formulas as written, on numpy arrays. The
ops in conv.py compute the same numbers with conv_blocked.py (a few images at a time,
channels last); tests/engine/test_conv_blocked.py checks the two agree.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def windows(x, kernel, stride, padding):
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
    views = windows(x, kernel, stride, padding)              # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo, kh, kw = views.shape
    cols = np.ascontiguousarray(views.transpose(1, 4, 5, 0, 2, 3))
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


def as_matrix(g):
    """An (N, C, H, W) adjoint as the (C, N·H·W) matrix G (a view if g came from conv2d)."""
    n, c, h, w = g.shape
    return g.transpose(1, 0, 2, 3).reshape(c, n * h * w)


# ---- the three products, as written --------------------------------------------------

def im2col_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    """Y = W·X̂ + b, as (N, C_out, Ho, Wo)."""
    cols, (ho, wo) = im2col(x, w.shape[2:], stride, padding)
    y = (w.reshape(len(w), -1) @ cols).reshape(len(w), len(x), ho, wo)
    if b is not None:
        y = y + b.reshape(-1, 1, 1, 1)
    return y.transpose(1, 0, 2, 3)


def im2col_conv_transpose2d(g, w, shape, stride=(1, 1), padding=(0, 0)):
    """dx: dX̂ = Wᵀ·G laid back onto the images by col2im."""
    c_out, c_in, kh, kw = w.shape
    n, _, ho, wo = g.shape
    cols = w.reshape(c_out, -1).T @ as_matrix(g)
    return col2im(cols.reshape(c_in, kh, kw, n, ho, wo), shape, (kh, kw), stride, padding)


def im2col_conv2d_weight_grad(x, g, shape, stride=(1, 1), padding=(0, 0)):
    """dw: G·X̂ᵀ as kernels of `shape` (C_out, C_in, kh, kw)."""
    cols, _ = im2col(x, shape[2:], stride, padding)
    return (as_matrix(g) @ cols.T).reshape(shape)
