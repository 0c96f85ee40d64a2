"""Backpropagation by hand, in numpy: the formulas of the course reports.

cs231n style: each layer has a forward that returns `(out, cache)` and a backward that
takes `(dout, cache)` and returns the gradients. No autodiff anywhere: this is the
reference the tape is checked against (`--check-grads`) and raced against
(`benchmarks/`), so it is written to be both readable and fast.

Shapes: X is (N, D), W is (D, M), b is (M,). Δ (dout) always has the output's shape.

The same code runs on tape Tensors in place of the arrays (`tape.check_manual` does that
for `--check-grads`): numpy's functions record on the tape, and the losses are returned as
computed, not as float(), so the tape can differentiate them.

Dtypes: float32 in, float32 out. numpy keeps an array's dtype when it meets a Python
number, but a numpy float64 scalar (np.float64(0.1), or anything read from a float64
array) would silently promote a float32 array to float64; that is why the
hyperparameters (slope, λ, lr, μ) go through float() before they touch an array.
"""

import numpy as np


# ---- the fully connected layer ---------------------------------------------------

def affine_forward(X, W, b):
    """Z = XW + b."""
    if X.ndim != 2 or X.shape[1] != W.shape[0] or b.shape != W.shape[1:]:
        raise ValueError(f"affine_forward: X {X.shape} @ W {W.shape} + b {b.shape} needs "
                         f"X (N, D), W (D, M), b (M,) with matching D and M")
    Z = X @ W
    Z += b                                # in place: no second (N, M) array
    return Z, (X, W)


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
    # σ(z) = 1 / (1 + e^(−z)). For z ≪ 0, e^(−z) overflows to inf and σ correctly
    # becomes 0; the overflow is expected, so it is not reported.
    with np.errstate(over="ignore"):
        a = 1 / (1 + np.exp(-z))
    return a, a


def sigmoid_backward(dout, a):
    return dout * a * (1 - a)             # σ' = σ(1 − σ): the output is all we need


def tanh_forward(z):
    a = np.tanh(z)
    return a, a


def tanh_backward(dout, a):
    return dout * (1 - a * a)             # tanh' = 1 − tanh²


def leaky_relu_forward(z, slope=0.01):
    slope = float(slope)
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


# ---- losses: (loss, dloss/dinput) --------------------------------------------------

def softmax_cross_entropy(scores, y):
    """Mean over the batch of −log softmax(scores)[y]; dscores = (a − onehot(y)) / N.

    With a = softmax(s): −log a_y = log Σ_k e^(s_k) − s_y. Subtracting the row maximum
    first changes nothing (it cancels) but keeps every e^(s − max) ≤ 1, so logits of
    1e4 do not overflow.
    """
    y = np.asarray(y)
    if scores.ndim != 2 or y.shape != scores.shape[:1]:
        raise ValueError(f"softmax_cross_entropy: scores must be (N, K) and y (N,) integer "
                         f"labels, got scores {scores.shape} and y {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"softmax_cross_entropy: y must hold integer class ids, got dtype {y.dtype}")
    n, rows = len(y), np.arange(len(y))
    shifted = scores - scores.max(axis=1, keepdims=True)
    a = np.exp(shifted)
    total = a.sum(axis=1, keepdims=True)
    loss = (np.log(total[:, 0]) - shifted[rows, y]).sum() / n   # −log a_y, averaged
    a /= total                            # a = softmax(scores), in place
    a[rows, y] -= 1                       # a − y
    a /= n                                # averaged over the batch
    return loss, a


def mse_loss(pred, target):
    """Mean over all elements of (pred − target)²; dpred = 2(pred − target) / pred.size.

    The course report that used MSE wrote ½·Σ(pred − target)²/N, whose gradient is
    (pred − target)/N. For K outputs per example that is this loss times K/2, with the
    gradient scaled the same way: same minimum, the learning rate absorbs the factor.
    """
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred and target must have the same shape, "
                         f"got {pred.shape} and {target.shape}")
    diff = pred - target
    return np.vdot(diff, diff) / diff.size, diff * (2 / diff.size)   # vdot: Σ diff²


def mse_half_loss(pred, target):
    """½·Σ(pred − target)² / N, summed over the K outputs, averaged over the batch (report
    002's ½(ŷ − y)ᵀ(ŷ − y), its `Mse` class); dpred = (pred − target) / N."""
    if pred.shape != target.shape:
        raise ValueError(f"mse_half_loss: pred and target must have the same shape, "
                         f"got {pred.shape} and {target.shape}")
    n = len(pred)
    diff = pred - target
    return 0.5 * np.vdot(diff, diff) / n, diff / n


def l2_penalty(weights, lam):
    """½λΣ‖W‖², whose gradient with respect to each W is λW. Biases are not penalised.

    `weights` is a list of matrices (gradients come back as a list) or a dict of them
    (gradients come back as a dict with the same keys).
    """
    lam = float(lam)
    named = weights if isinstance(weights, dict) else dict(enumerate(weights))
    loss = 0.5 * lam * sum(np.vdot(W, W) for W in named.values())
    grads = {k: lam * W for k, W in named.items()}
    return loss, grads if isinstance(weights, dict) else list(grads.values())


# ---- a whole MLP: W1, b1, ..., WL, bL ----------------------------------------------

def init_mlp_params(sizes, seed=0, dtype=np.float32):
    """He initialisation, W_l ~ N(0, 2/fan_in), and zero biases, for layer sizes [D, ..., K]."""
    rng = np.random.default_rng(seed)
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(dtype)
        params[f"b{l}"] = np.zeros(fan_out, dtype)
    return params


def _depth(params):
    """The number of layers L: W1, b1, ..., WL, bL must all be there."""
    depth = 0
    while f"W{depth + 1}" in params:
        depth += 1
    if depth == 0 or any(f"b{l}" not in params for l in range(1, depth + 1)):
        raise ValueError(f"params must hold W1, b1, ..., WL, bL; got keys {sorted(params)}")
    return depth


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def mlp_scores(params, X, activation="relu"):
    """The forward pass alone: the last layer's Z (the class scores), no caches kept."""
    forward, _ = _activation(activation)
    depth = _depth(params)
    A = X
    for l in range(1, depth + 1):
        A, _ = affine_forward(A, params[f"W{l}"], params[f"b{l}"])
        if l < depth:
            A, _ = forward(A)
    return A


def mlp_predict(params, X, activation="relu"):
    """Class ids: the arg-max of the scores."""
    return mlp_scores(params, X, activation).argmax(axis=1)


def mlp_loss_and_grads(params, X, y, activation="relu", loss="cross_entropy", l2=0.0):
    """Loss and gradients of an MLP with parameters W1, b1, ..., WL, bL (a dict of arrays).

    Forward:  Z_l = A_{l−1}W_l + b_l,  A_l = f(Z_l),  A_0 = X; Z_L are the scores.
    Backward: Δ_L = dloss/dZ_L, then dW_l = A_{l−1}ᵀΔ_l, db_l = ΣΔ_l and
              Δ_{l−1} = f'(Z_{l−1}) ⊙ (Δ_l W_lᵀ).
    loss is "cross_entropy" (softmax), "mse" or "mse_half" (against one-hot targets; see
    models/train/losses.py, `data_loss`); l2 adds ½λΣ‖W‖².
    """
    forward, backward = _activation(activation)
    depth = _depth(params)

    layer_caches, act_caches = [], []
    A = X
    for l in range(1, depth + 1):
        Z, cache = affine_forward(A, params[f"W{l}"], params[f"b{l}"])
        layer_caches.append(cache)
        if l < depth:
            A, act_cache = forward(Z)
            act_caches.append(act_cache)

    if loss == "cross_entropy":
        value, delta = softmax_cross_entropy(Z, y)
    elif loss in ("mse", "mse_half"):
        onehot = np.zeros_like(Z)                 # Z's dtype: a float64 one-hot would upcast
        onehot[np.arange(len(y)), y] = 1
        value, delta = (mse_loss if loss == "mse" else mse_half_loss)(Z, onehot)
    else:
        raise ValueError(f"unknown loss {loss!r}: choose 'cross_entropy', 'mse' or 'mse_half'")

    grads = {}
    for l in range(depth, 0, -1):
        dA, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(delta, layer_caches[l - 1],
                                                             need_dX=l > 1)
        if l > 1:
            delta = backward(dA, act_caches[l - 2])

    if l2:
        weights = {f"W{l}": params[f"W{l}"] for l in range(1, depth + 1)}
        penalty, dWs = l2_penalty(weights, l2)
        value += penalty
        for name, dW in dWs.items():
            grads[name] += dW
    return value, grads


# ---- one step of training ------------------------------------------------------------

def sgd_momentum_step(params, grads, velocity, lr, momentum):
    """v ← μv − ηg;  θ ← θ + v, all in place (a missing velocity starts at zero)."""
    lr, momentum = float(lr), float(momentum)
    for name, g in grads.items():
        v = velocity.get(name)
        if v is None:
            v = velocity[name] = np.zeros_like(g)
        v *= momentum
        v -= lr * g
        params[name] += v


# ---- convolution and max-pooling, with loops (cs231n's naive layers) -----------------
#
# Slow on purpose: every sum is written out as in the derivation, so the fast im2col
# version in tape/conv.py (tape/im2col.py, tape/conv_blocked.py) can be checked against it. Shapes are PyTorch's: x (N, C, H, W),
# w (F, C, HH, WW), b (F,), out (N, F, Ho, Wo) with Ho = (H + 2·pad − HH) // stride + 1.

def conv_forward_naive(x, w, b, stride=1, pad=0):
    """out[n,f,i,j] = b[f] + Σ_{c,p,q} xp[n, c, i·stride + p, j·stride + q] · w[f,c,p,q]."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    out = np.zeros((N, F, Ho, Wo), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, stride, pad)


def conv_backward_naive(dout, cache):
    """(dx, dw, db) of the convolution above.

    dx: the full convolution of dout with the flipped kernel. Output (i, j) of channel f
        used the input pixel (i·s + p, j·s + q) with weight w[f, c, p, q]; collecting, for
        one input pixel (r, t), every output that touched it gives
            dxp[n,c,r,t] = Σ_f Σ_{p,q} dout_s[n, f, r − p, t − q] · w[f,c,p,q]
        with dout_s = dout spread out by the stride (zeros in between): dout slid over
        the padded input with the kernel turned by 180°. Then the padding is cut off.
    dw: the correlation of x with dout: dw[f,c,p,q] = Σ_{n,i,j} xp[n,c,i·s+p,j·s+q] · dout[n,f,i,j].
    db: the sum of dout: db[f] = Σ_{n,i,j} dout[n,f,i,j].
    """
    x, w, b, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))

    # dout spread by the stride, then padded by kernel − 1 on every side: the "full" convolution
    spread = np.zeros((N, F, (Ho - 1) * stride + 1, (Wo - 1) * stride + 1), dtype=dout.dtype)
    spread[:, :, ::stride, ::stride] = dout
    full = np.pad(spread, ((0, 0), (0, 0), (HH - 1, HH - 1), (WW - 1, WW - 1)))
    flipped = w[:, :, ::-1, ::-1]
    dxp = np.zeros_like(xp)
    Hf, Wf = full.shape[2] - HH + 1, full.shape[3] - WW + 1   # ≤ the padded input's size
    for n in range(N):
        for c in range(C):
            for r in range(Hf):
                for t in range(Wf):
                    dxp[n, c, r, t] = np.sum(full[n, :, r:r + HH, t:t + WW] * flipped[:, c])
    dx = dxp[:, :, pad:pad + H, pad:pad + W]

    dw = np.zeros_like(w)
    for f in range(F):
        for c in range(C):
            for p in range(HH):
                for q in range(WW):
                    seen = xp[:, c, p:p + stride * (Ho - 1) + 1:stride, q:q + stride * (Wo - 1) + 1:stride]
                    dw[f, c, p, q] = np.sum(seen * dout[:, f])

    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db


def max_pool_forward_naive(x, pool_height=2, pool_width=2, stride=2):
    """out[n,c,i,j] = the maximum of x over the window at (i·stride, j·stride)."""
    N, C, H, W = x.shape
    Ho, Wo = (H - pool_height) // stride + 1, (W - pool_width) // stride + 1
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = x[n, c, i * stride:i * stride + pool_height,
                                        j * stride:j * stride + pool_width].max()
    return out, (x, pool_height, pool_width, stride)


def max_pool_backward_naive(dout, cache):
    """dx: each dout[n,c,i,j] goes to the one input that was its window's maximum.

    A tie goes to the first maximum in reading order (np.argmax), as in PyTorch.
    Overlapping windows that share a winner add their gradients.
    """
    x, ph, pw, stride = cache
    dx = np.zeros_like(x)
    N, C, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]
    return dx


def _count(params, prefix):
    """How many layers conv1, conv2, ... (or fc1, fc2, ...) the parameters hold."""
    count = 0
    while f"{prefix}{count + 1}.W" in params:
        count += 1
    return count


def cnn_loss_and_grads(params, X, y, activation="relu", l2=0.0, in_shape=(1, 28, 28)):
    """Loss and gradients of the CNN of models/nn/nets.py, by hand, with the naive layers above.

    Parameters conv1.W, conv1.b, ..., fc1.W, fc1.b, ... (a dict of arrays). Forward:
        per convolution l:  A ← maxpool₂( f( conv(A, W_l, b_l) ) )   ('same' padding)
        then flatten, and the MLP's  A ← f(A W + b), the last layer without f.
    Backward: the same layers in reverse, each backward taking the adjoint of its output.
    Softmax cross-entropy; l2 adds ½λΣ‖W‖² over every kernel and weight matrix.
    """
    forward, backward = _activation(activation)
    n_conv, n_fc = _count(params, "conv"), _count(params, "fc")
    A = X.reshape(len(X), *in_shape)
    caches = []
    for l in range(1, n_conv + 1):
        W, b = params[f"conv{l}.W"], params[f"conv{l}.b"]
        Z, conv_cache = conv_forward_naive(A, W, b, stride=1, pad=W.shape[2] // 2)
        A, act_cache = forward(Z)
        A, pool_cache = max_pool_forward_naive(A, 2, 2, 2)
        caches.append((conv_cache, act_cache, pool_cache))
    pooled_shape = A.shape
    A = A.reshape(len(A), -1)                       # flatten
    fc_caches, fc_act_caches = [], []
    for l in range(1, n_fc + 1):
        A, cache = affine_forward(A, params[f"fc{l}.W"], params[f"fc{l}.b"])
        fc_caches.append(cache)
        if l < n_fc:
            A, act_cache = forward(A)
            fc_act_caches.append(act_cache)
    value, delta = softmax_cross_entropy(A, y)

    grads = {}
    for l in range(n_fc, 0, -1):
        delta, grads[f"fc{l}.W"], grads[f"fc{l}.b"] = affine_backward(delta, fc_caches[l - 1])
        if l > 1:
            delta = backward(delta, fc_act_caches[l - 2])
    delta = delta.reshape(pooled_shape)             # un-flatten
    for l in range(n_conv, 0, -1):
        conv_cache, act_cache, pool_cache = caches[l - 1]
        delta = backward(max_pool_backward_naive(delta, pool_cache), act_cache)
        delta, grads[f"conv{l}.W"], grads[f"conv{l}.b"] = conv_backward_naive(delta, conv_cache)

    if l2:
        weights = {k: v for k, v in params.items() if k.endswith(".W")}
        penalty, dWs = l2_penalty(weights, l2)
        value += penalty
        for name, dW in dWs.items():
            grads[name] += dW
    return value, grads
