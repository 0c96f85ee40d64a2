"""Small tapes for the sweep page's tests, each recorded with keep_adjoints=True."""

import numpy as np

import tape
from models.nn import MLP


def two_layer_tape(sizes=(4, 3, 2), batch=2, seed=0):
    """One step of a small MLP: (tape, loss), every entry's saved values kept."""
    rng = np.random.default_rng(seed)
    net = MLP(list(sizes), "relu")
    x = tape.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32), name="x")
    y = rng.integers(0, sizes[-1], batch)
    with tape.Tape(keep_adjoints=True) as t:
        loss = tape.cross_entropy(net(x), y)
        loss.name = "loss"
    loss.backward(retain_graph=True)
    return t, loss


def shared_value_tape():
    """y = x·w is read twice (by tanh and by the product with 2): its adjoint is a sum."""
    x = tape.tensor(np.array([0.5, -1.0, 2.0]), name="x")
    w = tape.tensor(np.array([1.5, 0.25, -0.5]), requires_grad=True, name="w")
    with tape.Tape(keep_adjoints=True) as t:
        y = x * w
        y.name = "y"
        loss = (tape.tanh(y) + y * 2.0).sum()
        loss.name = "loss"
    loss.backward(retain_graph=True)
    return t, loss


def long_tape(entries=10_000, width=4):
    """A chain h ← tanh(h·w + b) repeated: `entries` entries (and one more, the sum)."""
    w = tape.tensor(np.full(width, 0.5), requires_grad=True, name="w")
    b = tape.tensor(np.full(width, 0.1), requires_grad=True, name="b")
    with tape.Tape(keep_adjoints=True) as t:
        h = tape.tensor(np.ones(width), name="x")
        for _ in range(entries // 3):
            h = tape.tanh(h * w + b)
        loss = h.sum()
    loss.backward()
    return t, loss
