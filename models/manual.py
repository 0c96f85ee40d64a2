"""Backpropagation by hand, in numpy: the formulas of the course reports.

cs231n style: each layer has a forward that returns `(out, cache)` and a backward that
takes `(dout, cache)` and returns the gradients. No autodiff anywhere: this is the
reference the tape is checked against (`--check-grads`) and raced against
(`benchmarks/`), so it is written to be both readable and fast.

Shapes: X is (N, D), W is (D, M), b is (M,). Δ (dout) always has the output's shape.
"""

import numpy as np


# ---- the fully connected layer ---------------------------------------------------

def affine_forward(X, W, b):
    """Z = XW + b."""
    return X @ W + b, (X, W)


def affine_backward(dZ, cache, need_dX=True):
    """dX = ΔWᵀ,  dW = XᵀΔ,  db = Σ over the batch of Δ.

    The first layer's dX (the gradient for the input images) is never used: skip it.
    """
    X, W = cache
    return (dZ @ W.T if need_dX else None), X.T @ dZ, dZ.sum(axis=0)


# ---- activations: out = f(z), dz = dout · f'(z) ------------------------------------

def relu_forward(z):
    return np.maximum(z, 0), z


def relu_backward(dout, z):
    return dout * (z > 0)                 # 1 where z > 0, 0 where z ≤ 0


def sigmoid_forward(z):
    a = 1 / (1 + np.exp(-z))
    return a, a


def sigmoid_backward(dout, a):
    return dout * a * (1 - a)             # σ' = σ(1 − σ)


def tanh_forward(z):
    a = np.tanh(z)
    return a, a


def tanh_backward(dout, a):
    return dout * (1 - a * a)             # tanh' = 1 − tanh²


def leaky_relu_forward(z, slope=0.01):
    return np.where(z > 0, z, z * slope), (z, slope)


def leaky_relu_backward(dout, cache):
    z, slope = cache
    return np.where(z > 0, dout, dout * slope)   # 1 where z > 0, the slope elsewhere


def hardtanh_forward(z):
    return np.clip(z, -1, 1), z


def hardtanh_backward(dout, z):
    return dout * ((z > -1) & (z < 1))           # 1 inside (−1, 1), 0 where clipped


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "hardtanh": (hardtanh_forward, hardtanh_backward),
}


# ---- losses ------------------------------------------------------------------------

def softmax_cross_entropy(scores, y):
    """Mean cross-entropy of softmax(scores) against integer labels y; dscores = (a − y)/N."""
    n = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)      # e^(s − max): no overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)                               # a = softmax(scores)
    dscores[np.arange(n), y] -= 1                             # a − y
    dscores /= n
    return float(loss), dscores


def mse_loss(pred, target):
    """Mean over all elements of (pred − target)²; dpred = 2(pred − target)/size.

    The course report that used MSE wrote ½Σ(pred − target)²/N: that is this loss
    times K/2 for K outputs per example, with the gradient scaled the same way.
    """
    diff = pred - target
    return float((diff * diff).mean()), diff * (2 / diff.size)


def l2_penalty(weights, lam):
    """½λΣ‖W‖², whose gradient with respect to each W is λW."""
    loss = 0.5 * lam * sum(float((W * W).sum()) for W in weights)
    return loss, [lam * W for W in weights]


# ---- a whole MLP ----------------------------------------------------------------------

def mlp_loss_and_grads(params, X, y, activation="relu", loss="cross_entropy", l2=0.0):
    """Loss and gradients of an MLP with parameters W1, b1, ..., WL, bL (dict of arrays).

    Forward: Z_l = A_{l−1}W_l + b_l, A_l = f(Z_l), the last layer's Z is the scores.
    Backward: Δ_L from the loss, then Δ_{l−1} = f'(Z_{l−1}) ⊙ (Δ_l W_lᵀ).
    """
    forward, backward = ACTIVATIONS[activation]
    depth = len(params) // 2
    caches, act_caches = [], []
    A = X
    for l in range(1, depth + 1):
        Z, cache = affine_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append(cache)
        if l < depth:
            A, act_cache = forward(Z)
            act_caches.append(act_cache)
    if loss == "cross_entropy":
        value, delta = softmax_cross_entropy(Z, y)
    elif loss == "mse":
        onehot = np.zeros_like(Z)
        onehot[np.arange(len(y)), y] = 1
        value, delta = mse_loss(Z, onehot)
    else:
        raise ValueError(f"unknown loss {loss!r}: choose 'cross_entropy' or 'mse'")

    grads = {}
    for l in range(depth, 0, -1):
        dA, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(delta, caches[l - 1], l > 1)
        if l > 1:
            delta = backward(dA, act_caches[l - 2])
    if l2:
        weights = [params[f"W{l}"] for l in range(1, depth + 1)]
        penalty, dWs = l2_penalty(weights, l2)
        value += penalty
        for l, dW in enumerate(dWs, start=1):
            grads[f"W{l}"] += dW
    return value, grads


def sgd_momentum_step(params, grads, velocity, lr, momentum):
    """v ← μv − ηg;  θ ← θ + v, in place (velocity starts at zero)."""
    for name, g in grads.items():
        v = velocity.get(name)
        if v is None:
            v = velocity[name] = np.zeros_like(g)
        v *= momentum
        v -= lr * g
        params[name] += v
