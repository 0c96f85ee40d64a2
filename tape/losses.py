"""Softmax, log-softmax and the two losses of the course: cross-entropy and MSE.

`cross_entropy` is one primitive rather than log_softmax followed by indexing: the
course derives its gradient by hand as a − y (softmax minus the one-hot target), and
that is exactly its rule here, averaged over the batch: (softmax − onehot) / N.
"""

import numpy as np

from .primitive import primitive
from .sources import defsource
from ._tensor import Tensor, as_array
from .reductions import mean


def _stable_log_softmax(z, axis):
    shifted = z - np.max(z, axis=axis, keepdims=True)   # e^(z − max) never overflows
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@primitive
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_vjp(g, a, axis):
    # ∂aᵢ/∂zⱼ = aᵢ(δᵢⱼ − aⱼ), so the vjp is a ⊙ (g − Σ g⊙a)
    return a * (g - (g * a).sum(axis=axis, keepdims=True))


softmax.defvjp(lambda g, ans, x, axis=-1: softmax_vjp(g, ans, axis))
# generated forms (tape.compiler): the same numpy calls as the forward and the rule
defsource(softmax, lambda c, x, axis=-1: f"{c.helper('softmax', softmax.forward)}({x}, axis={axis})",
                  lambda c, g, ans, x, axis=-1:
                      f"{c.helper('softmax_vjp', softmax_vjp)}({g}, {ans}, {axis})", name="a")


@primitive
def log_softmax(x, axis=-1):
    return _stable_log_softmax(x, axis)


# ∂ log aᵢ/∂zⱼ = δᵢⱼ − aⱼ, so the vjp is g − a Σg
log_softmax.defvjp(lambda g, ans, x, axis=-1: g - softmax(x, axis=axis) * g.sum(axis=axis, keepdims=True))
defsource(log_softmax, 
    lambda c, x, axis=-1: f"{c.helper('log_softmax', log_softmax.forward)}({x}, axis={axis})",
    lambda c, g, ans, x, axis=-1: f"{g} - {c.helper('softmax', softmax.forward)}({x}, "
                                  f"axis={axis}) * {g}.sum(axis={axis}, keepdims=True)")


def one_hot(labels, num_classes, dtype=np.float32):
    """Row i is all zeros but a one at column labels[i]."""
    labels = np.asarray(as_array(labels))
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels.reshape(-1)] = 1
    return out.reshape(labels.shape + (num_classes,))


def _check_labels(logits, labels):
    if np.ndim(logits) != 2:
        raise ValueError(
            f"cross_entropy: logits must be (batch, classes), got shape {np.shape(logits)}")
    labels = np.asarray(labels)
    n, k = np.shape(logits)
    if n == 0:
        raise ValueError("cross_entropy: the batch is empty (logits of shape "
                         f"{np.shape(logits)}); the mean over no examples is undefined")
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: labels must be integer class ids, got dtype {labels.dtype} "
            f"(for one-hot targets use labels.argmax(axis=1))")
    if labels.shape != (n,):
        raise ValueError(
            f"cross_entropy: labels must have shape ({n},), one per row of the logits "
            f"{np.shape(logits)}; got shape {labels.shape}")
    if n and (labels.min() < 0 or labels.max() >= k):
        bad = labels[(labels < 0) | (labels >= k)][0]
        raise ValueError(
            f"cross_entropy: label {bad} is out of range for {k} classes (valid: 0..{k - 1})")
    return labels


@primitive(name="cross_entropy", saves=True)
def _cross_entropy(logits, labels):
    labels = _check_labels(logits, labels)
    n, rows = len(labels), np.arange(len(labels))
    # One column per example: numpy reduces along a long axis far faster than over the
    # 10 classes of each row (docs/speed.md, "What made the two-layer step fast"). The plain form is
    # models.manual.softmax_cross_entropy, which the tests compare it with.
    z = logits.T.copy()                     # (K, N), our own: it is changed in place
    z -= z.max(axis=0)                      # z − max: every e^(z − max) ≤ 1, no overflow
    picked = z[labels, rows]                # z_y − max
    a = np.exp(z, out=z)
    total = a.sum(axis=0)                   # Σ_k e^(z_k − max)
    loss = (np.log(total) - picked).sum() / n       # −log a_y = log Σ_k e^(z_k) − z_y
    a /= total * n                          # a = softmax(z), over N ...
    a[labels, rows] -= 1 / n                # ... minus the one-hot y over N: (a − y)/N
    return loss, a.T                        # back to (N, K), kept for backward


@primitive(name="cross_entropy_grad")
def _cross_entropy_grad(logits, labels):
    """(a − y) / N: softmax minus the one-hot target, averaged over the batch."""
    return _cross_entropy.forward(logits, labels)[1]


# (a − y)/N is softmax/N plus a constant, so its own vjp is softmax's, divided by N
_cross_entropy_grad.defvjp(
    lambda g, ans, logits, labels: softmax_vjp(g, softmax(logits, axis=1), axis=1) / len(labels),
    None)


def _cross_entropy_vjp(g, ans, logits, labels, saved):
    # dL/dz = g · (a − y) / N. The forward already computed (a − y)/N: reuse it, unless
    # this backward pass is itself being recorded (for a second derivative), when it
    # must be a tape operation on the logits.
    if isinstance(g, Tensor):
        return g * _cross_entropy_grad(logits, labels)
    return g * saved


_cross_entropy.defvjp(_cross_entropy_vjp, None)

# the forward computes the loss and (a − y)/N at once; the rule reuses the latter
defsource(_cross_entropy, 
    lambda c, logits, labels: c.let(
        f"{c.helper('cross_entropy_and_grad', _cross_entropy.forward)}({logits}, {labels})",
        ("ce", "softmax_minus_onehot"), count=2),
    lambda c, g, ans, logits, labels, saved: c.times(g, saved),
    None, name="ce")
defsource(_cross_entropy_grad, 
    lambda c, logits, labels:
        f"{c.helper('cross_entropy_grad', _cross_entropy_grad.forward)}({logits}, {labels})",
    lambda c, g, ans, logits, labels:
        f"{c.helper('softmax_vjp', softmax_vjp)}({g}, {c.helper('softmax', softmax.forward)}"
        f"({logits}, axis=1), axis=1) / {len(labels.value)}",
    None)


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy of (N, K) logits against N integer labels."""
    return _cross_entropy(logits, as_array(labels))


def mse(pred, target):
    """Mean squared error over all elements: mean((pred − target)²).

    Its gradient is 2(pred − target) / pred.size. (One course report uses
    ½·Σ(pred − target)²/N instead: that is mse · K/2 for K outputs per example.)
    """
    if np.shape(as_array(pred)) != np.shape(as_array(target)):
        raise ValueError(
            f"mse: pred and target must have the same shape, got "
            f"{np.shape(as_array(pred))} and {np.shape(as_array(target))}")
    diff = pred - target
    return mean(diff * diff)
