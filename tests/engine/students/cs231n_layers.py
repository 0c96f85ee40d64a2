"""Report 004's layers (cs231n's layers.py, as students write it): affine, ReLU, softmax.

`affine_forward` has cs231n's most common spelling, `x.reshape(N, -1).dot(w)`: with x
the data (an ndarray) that is an ndarray's own method given a Tensor, which numpy
computes on the Tensor's values, dropping the gradient; `affine_forward_fixed` is the
one-line fix. The same spelling in `affine_backward` (`x.reshape(N, -1).T.dot(dout)`) is
harmless: the checker ignores the values of the backward pass run on Tensors.
"""

import numpy as np


def affine_forward(x, w, b):
    out = None
    N = x.shape[0]
    out = x.reshape(N, -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_forward_fixed(x, w, b):
    out = None
    N = x.shape[0]
    out = np.dot(x.reshape(N, -1), w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    N = x.shape[0]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(N, -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = None
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx


def softmax_loss(x, y):
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


# ---- planted bugs: one line changed --------------------------------------------------------

def affine_backward_dw_transposed(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = dout.T.dot(x.reshape(N, -1))                # the bug: Δᵀ·X, not Xᵀ·Δ
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_backward_mask_dropped(dout, cache):
    dx, x = None, cache
    dx = dout.copy()                                 # the bug: dx[x <= 0] = 0 dropped
    return dx


def softmax_loss_without_1_over_N(x, y):
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1                         # the bug: dx /= N dropped
    return loss, dx
