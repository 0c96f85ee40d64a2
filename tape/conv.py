"""The convolution op: conv2d and its adjoints, each an op with its vjp rules.

The math (im2col, one product, col2im) is in im2col.py; the ops compute the same
numbers with conv_blocked.py, a few images at a time (tests/engine/test_conv_blocked.py
checks the two agree). Each gradient is itself an op with rules, so gradients of
gradients work. The three are bilinear and each one's vjps are the other two:

    conv2d(x, w)              vjp x: conv_transpose2d(g, w)    vjp w: conv2d_weight_grad(x, g)
    conv_transpose2d(g, w)    vjp g: conv2d(h, w)              vjp w: conv2d_weight_grad(h, g)
    conv2d_weight_grad(x, g)  vjp x: conv_transpose2d(g, h)    vjp g: conv2d(x, h)

(h being the adjoint arriving at each op's output).
"""

import numpy as np

from .conv_blocked import blocked_conv2d, blocked_conv_transpose2d, blocked_conv2d_weight_grad
from .primitive import primitive
from .sources import defsource
from .reductions import sum as tape_sum
from ._tensor import as_array


# ---- the arguments -----------------------------------------------------------------

def pair(value, what, op, minimum):
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


def check_images(x, op):
    shape = np.shape(as_array(x))
    if len(shape) != 4:
        raise ValueError(f"{op}: expected images of shape (N, C, H, W), got shape {shape}; "
                         f"a single image needs a batch axis: x.reshape(1, C, H, W)")
    return shape


def output_size(size, kernel, stride, padding, op, shape):
    """Ho = (H + 2p − k) // s + 1 for one axis, with a clear error if the kernel is too big."""
    (h, w), (kh, kw), (sh, sw), (ph, pw) = size, kernel, stride, padding
    if kh > h + 2 * ph or kw > w + 2 * pw:
        raise ValueError(f"{op}: the {kh}×{kw} kernel is larger than the padded input "
                         f"{h + 2 * ph}×{w + 2 * pw} (input {shape}, padding {padding}); "
                         f"use a smaller kernel or more padding")
    return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1


# ---- convolution --------------------------------------------------------------------

@primitive(name="conv2d")
def _conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    # plain form (tape/im2col.py): im2col_conv2d
    return blocked_conv2d(x, w, b, stride, padding)


@primitive(name="conv_transpose2d")
def _conv_transpose2d(g, w, shape, stride=(1, 1), padding=(0, 0)):
    """dx: the full convolution of g with the flipped kernel (Wᵀ·G laid back by col2im)."""
    # plain form: im2col_conv_transpose2d
    return blocked_conv_transpose2d(g, w, shape, stride, padding)


@primitive(name="conv2d_weight_grad")
def _conv2d_weight_grad(x, g, shape, stride=(1, 1), padding=(0, 0)):
    """dw: G·X̂ᵀ, the correlation of the input with the output's adjoint."""
    # plain form: im2col_conv2d_weight_grad
    return blocked_conv2d_weight_grad(x, g, shape, stride, padding)


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
    xs = check_images(x, "conv2d")
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
    stride = pair(stride, "stride", "conv2d", 1)
    padding = pair(padding, "padding", "conv2d", 0)
    output_size(xs[2:], ws[2:], stride, padding, "conv2d", xs)
    return _conv2d(x, w, b, stride=stride, padding=padding)


def conv_transpose2d(g, w, shape, stride=1, padding=0):
    """The adjoint of conv2d with respect to its input: the image-shaped gradient dx.

    `shape` is the shape of the input of the convolution (several input sizes give
    the same output size when the stride is above 1).
    """
    return _conv_transpose2d(g, w, shape=tuple(shape),
                             stride=pair(stride, "stride", "conv_transpose2d", 1),
                             padding=pair(padding, "padding", "conv_transpose2d", 0))


# ---- generated forms (tape.compiler): the ops' own functions, called as the tape calls them

def call_source(c, op, *args, **params):
    """`conv2d(x, W, b, stride=(1, 1), padding=(2, 2))`: the op's own numpy function,
    called by its name in the generated source (pooling's forms use it too)."""
    written = [str(a) for a in args] + [f"{k}={v!r}" for k, v in params.items()]
    return f"{c.helper(op.name, op.forward)}({', '.join(written)})"


defsource(_conv2d, 
    lambda c, x, w, b=None, stride=(1, 1), padding=(0, 0):
        call_source(c, _conv2d, x, w, b, stride=stride, padding=padding),
    lambda c, g, ans, x, w, b, stride, padding:                         # dx = Wᵀ·G, col2im
        call_source(c, _conv_transpose2d, g, w, shape=x.shape, stride=stride, padding=padding),
    lambda c, g, ans, x, w, b, stride, padding:                         # dw = G·X̂ᵀ
        call_source(c, _conv2d_weight_grad, x, g, shape=w.shape, stride=stride, padding=padding),
    lambda c, g, ans, x, w, b, stride, padding: f"{g}.sum(axis=(0, 2, 3))",   # db = Σ g
    name="conv")
defsource(_conv_transpose2d, 
    lambda c, g, w, shape, stride=(1, 1), padding=(0, 0):
        call_source(c, _conv_transpose2d, g, w, shape=tuple(shape), stride=stride,
                    padding=padding),
    lambda c, h, ans, g, w, shape, stride, padding:
        call_source(c, _conv2d, h, w, None, stride=stride, padding=padding),
    lambda c, h, ans, g, w, shape, stride, padding:
        call_source(c, _conv2d_weight_grad, h, g, shape=w.shape, stride=stride, padding=padding))
defsource(_conv2d_weight_grad, 
    lambda c, x, g, shape, stride=(1, 1), padding=(0, 0):
        call_source(c, _conv2d_weight_grad, x, g, shape=tuple(shape), stride=stride,
                    padding=padding),
    lambda c, h, ans, x, g, shape, stride, padding:
        call_source(c, _conv_transpose2d, g, h, shape=x.shape, stride=stride, padding=padding),
    lambda c, h, ans, x, g, shape, stride, padding:
        call_source(c, _conv2d, x, h, None, stride=stride, padding=padding))
