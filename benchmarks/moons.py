"""The make_moons step: a 2-16-16-1 MLP on a full batch of 100 points, micrograd's demo.

Every backend computes micrograd's own math, so all of them can run it: ReLU hidden layers,
a linear output s, the hinge loss mean(relu(1 − y·s)) with y = ±1, plus α·Σp² over every
parameter (α = 1e-4), and plain SGD. float64 throughout (micrograd's Python floats).
All start from the same weights; their losses over the first steps must agree, and
`max_loss_difference` says how closely they do.
"""

import numpy as np

import tape
from models.optim import SGD

from . import lean, lean_checked
from .measure import median_time

SIZES = (2, 16, 16, 1)
ALPHA, LR = 1e-4, 0.1
CHECK_STEPS = 3


def moons_data():
    from sklearn.datasets import make_moons
    X, y = make_moons(100, noise=0.1, random_state=0)
    return X, (2.0 * y - 1).reshape(-1, 1)              # labels ±1, as a column


def initial_params(seed=0):
    """W ~ U(−1, 1) as micrograd draws them, b = 0: [W1, b1, W2, b2, W3, b3]."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params += [rng.uniform(-1, 1, (n_in, n_out)), np.zeros(n_out)]
    return params


def hand_gradients(params, X, ys):
    """The loss and its gradients by backpropagation written by hand, as in models/manual/formulas.py."""
    W1, b1, W2, b2, W3, b3 = params
    z1 = X @ W1 + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ W2 + b2
    h2 = np.maximum(z2, 0)
    s = h2 @ W3 + b3
    margin = 1 - ys * s
    loss = np.maximum(margin, 0).mean() + ALPHA * sum((p * p).sum() for p in params)
    ds = -ys * (margin > 0) / len(X)                # d mean(relu(1 − y·s)) / ds
    dz2 = (ds @ W3.T) * (z2 > 0)
    dz1 = (dz2 @ W2.T) * (z1 > 0)
    data_grads = [X.T @ dz1, dz1.sum(0), h1.T @ dz2, dz2.sum(0), h2.T @ ds, ds.sum(0)]
    return float(loss), [g + 2 * ALPHA * p for g, p in zip(data_grads, params)]   # + d α·p²


def numpy_step(init, X, ys):
    params = [p.copy() for p in init]

    def step():
        loss, grads = hand_gradients(params, X, ys)
        for p, g in zip(params, grads):
            p -= LR * g
        return loss
    return step


def tape_step(init, X, ys):
    params = [tape.tensor(p.copy(), requires_grad=True) for p in init]
    W1, b1, W2, b2, W3, b3 = params
    optimizer = SGD(params, lr=LR)

    def step():
        h = tape.relu(tape.linear(X, W1, b1))
        h = tape.relu(tape.linear(h, W2, b2))
        s = tape.linear(h, W3, b3)
        loss = tape.relu(1 - ys * s).mean() + ALPHA * sum((p * p).sum() for p in params)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def torch_step(init, X, ys):
    import torch
    params = [torch.tensor(p, requires_grad=True) for p in init]
    W1, b1, W2, b2, W3, b3 = params
    optimizer = torch.optim.SGD(params, lr=LR)
    tX, tys = torch.from_numpy(X), torch.from_numpy(ys)

    def step():
        h = torch.relu(tX @ W1 + b1)
        h = torch.relu(h @ W2 + b2)
        s = h @ W3 + b3
        loss = torch.relu(1 - tys * s).mean() + ALPHA * sum((p * p).sum() for p in params)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def micrograd_step(init, X, ys):
    from micrograd.nn import MLP
    model = MLP(SIZES[0], list(SIZES[1:]))
    for layer, W, b in zip(model.layers, init[0::2], init[1::2]):
        for j, neuron in enumerate(layer.neurons):          # neuron j is column j of W
            for k, w in enumerate(neuron.w):
                w.data = float(W[k, j])
            neuron.b.data = float(b[j])
    points = [[float(v) for v in row] for row in X]
    labels = [float(v) for v in ys[:, 0]]
    params = model.parameters()

    def step():
        scores = [model(p) for p in points]
        losses = [(1 + -y * s).relu() for y, s in zip(labels, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= LR * p.grad
        return loss.data
    return step


def lean_step(init, X, ys):
    """The lean eager tape with no checks (lean.py), the tape's measuring stick."""
    return lean.moons_step(init, X, ys, ALPHA, LR)


def lean_checked_step(init, X, ys):
    """The lean tape with the tape's run-time checks put back (lean_checked.py)."""
    return lean_checked.moons_step(init, X, ys, ALPHA, LR)


STEPS = {"numpy": numpy_step, "tape": tape_step, "pytorch": torch_step,
         "micrograd": micrograd_step, "lean": lean_step, "lean_checked": lean_checked_step}
MODULES = {"pytorch": "torch", "micrograd": "micrograd"}


def installed(name):
    try:
        __import__(MODULES.get(name, "numpy"))
        return True
    except ImportError:
        return False


def moons_benchmark(backends=tuple(STEPS)):
    """{backend: {"ms_per_step", "losses", "max_loss_difference"}} for those installed."""
    X, ys = moons_data()
    init = initial_params()
    results = {}
    for name in backends:
        if not installed(name):
            continue
        step = STEPS[name](init, X, ys)
        losses = [step() for _ in range(CHECK_STEPS)]     # from the same weights
        if name == "micrograd":                             # about a second a step
            seconds = median_time(step, repeat=3, number=1)
        else:
            seconds = median_time(step)
        results[name] = {"ms_per_step": seconds * 1e3, "losses": losses}
    reference = results["numpy"]["losses"]
    for r in results.values():
        r["max_loss_difference"] = max(abs(a - b) for a, b in zip(r["losses"], reference))
    return results
