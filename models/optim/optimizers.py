"""Optimisers: how a parameter moves once its gradient g = ∂L/∂θ is known.

Each update is written out in the comment beside it and applied to `p.data` in place,
outside the tape. `state_dict()` holds everything needed to resume training exactly
(the velocities and moment estimates, the step count).
"""

import math

import numpy as np

from tape.workspace import borrowed


class Optimizer:
    def __init__(self, params, lr):
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.params = list(params)
        self.lr = lr
        self.steps = 0
        self.slots = {}        # slot name -> list of arrays, one per parameter

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.steps += 1
        for i, p in enumerate(self.params):
            if p.grad is not None:
                self.update(i, p.data, p.grad)

    def update(self, i, theta, g):
        raise NotImplementedError

    def slot(self, name, i):
        """Per-parameter state (a velocity, a moment), created as zeros when first used."""
        arrays = self.slots.setdefault(name, [None] * len(self.params))
        if arrays[i] is None:
            arrays[i] = np.zeros_like(self.params[i].data)
        return arrays[i]

    def state_dict(self):
        state = {"steps": np.array(self.steps)}
        for name, arrays in self.slots.items():
            for i, a in enumerate(arrays):
                if a is not None:
                    state[f"{name}.{i}"] = a.copy()
        return state

    def load_state_dict(self, state):
        self.steps = int(state["steps"])
        self.slots = {}
        for key, value in state.items():
            if key == "steps":
                continue
            name, i = key.rsplit(".", 1)
            self.slot(name, int(i))[...] = value


class SGD(Optimizer):
    """Plain, momentum or Nesterov SGD.

    momentum μ = 0:   θ ← θ − η g
    momentum μ > 0:   v ← μ v − η g;   θ ← θ + v
    nesterov:         v ← μ v − η g;   θ ← θ + μ v − η g     (look ahead along v)
    damped:           v ← β v − (1 − β) g;   θ ← θ + η v     (report 001's form, β = μ)

    The damped velocity is an average of past gradients rather than a sum, so the same
    η moves θ (1 − β) times as far: damped (η, β) takes exactly the steps of momentum
    (η(1 − β), μ = β) — u = ηv obeys u ← βu − η(1 − β)g, θ ← θ + u. Report 001's
    η = 0.01, β = 0.8 is momentum 0.8 with lr 0.002.
    """

    def __init__(self, params, lr=0.1, momentum=0.0, nesterov=False, damped=False):
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov needs a momentum > 0")
        if damped and (nesterov or momentum == 0):
            raise ValueError("the damped form needs a momentum β > 0 and no nesterov")
        self.momentum, self.nesterov, self.damped = momentum, nesterov, damped

    def step(self):
        if self.momentum:
            return super().step()
        self.steps += 1
        for p in self.params:     # plain SGD: update()'s first line, without a call per
            if p.grad is not None:        # parameter (a small net's step pays for each)
                p.data -= self.lr * p.grad       # θ ← θ − η g

    def update(self, i, theta, g):
        if self.momentum == 0:
            theta -= self.lr * g
            return
        v = self.slot("velocity", i)
        v *= self.momentum
        if self.damped:
            v -= (1 - self.momentum) * g
            theta += self.lr * v
            return
        v -= self.lr * g
        if self.nesterov:
            theta += self.momentum * v - self.lr * g
        else:
            theta += v


class Adagrad(Optimizer):
    """r ← r + g²;   θ ← θ − η g / (√r + ε): each coordinate's step shrinks as it is used."""

    def __init__(self, params, lr=0.01, eps=1e-8):
        super().__init__(params, lr)
        self.eps = eps

    def update(self, i, theta, g):
        r = self.slot("sum_sq", i)
        r += g * g
        theta -= self.lr * g / (np.sqrt(r) + self.eps)


class RMSProp(Optimizer):
    """r ← ρ r + (1 − ρ) g²;   θ ← θ − η g / (√r + ε): Adagrad with a forgetting average."""

    def __init__(self, params, lr=0.001, rho=0.9, eps=1e-8):
        super().__init__(params, lr)
        self.rho, self.eps = rho, eps

    def update(self, i, theta, g):
        r = self.slot("mean_sq", i)
        r *= self.rho
        r += (1 - self.rho) * g * g
        theta -= self.lr * g / (np.sqrt(r) + self.eps)


class Adam(Optimizer):
    """m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η m̂ / (√v̂ + ε),
    with the bias corrections m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).

    `update_as_written` is the update as the formula reads; `update` computes the same
    numbers, bit for bit (tests/models/test_optim.py checks it), a piece of PIECE numbers
    at a time, in place: the formula's seven operations on one piece, into two scratch
    arrays of a piece each, run while the piece is in the processor's cache, where the
    formula as written makes a new array of the whole parameter for each operation and
    reads each from memory again (a large layer's weights, fc1's 3.2 million, do not fit).
    """

    PIECE = 2 ** 15             # numbers per piece: six arrays of a piece fit in the cache

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps

    def update(self, i, theta, g):
        m, v = self.slot("m", i), self.slot("v", i)
        t = self.steps
        step = self.lr * math.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)
        arrays = (theta, m, v)
        if not (all(a.flags.c_contiguous for a in arrays)
                and all(np.result_type(a, g) == theta.dtype for a in arrays)):
            return self.update_as_written(theta, g, m, v, step)    # same numbers, slower
        theta, m, v, g = theta.reshape(-1), m.reshape(-1), v.reshape(-1), np.ravel(g)
        with borrowed((min(theta.size, self.PIECE),), theta.dtype) as a, \
                borrowed((min(theta.size, self.PIECE),), theta.dtype) as b:
            for start in range(0, theta.size, self.PIECE):
                piece, n = slice(start, start + self.PIECE), min(self.PIECE, theta.size - start)
                self.update_in_place(theta[piece], g[piece], m[piece], v[piece], step,
                                     a[:n], b[:n])

    def update_as_written(self, theta, g, m, v, step):
        """The update, one new array per operation (step = η·√(1−β₂ᵗ)/(1−β₁ᵗ))."""
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        theta -= step * m / (np.sqrt(v) + self.eps)

    def update_in_place(self, theta, g, m, v, step, a, b):
        """update_as_written's operations in the same order, into the scratch arrays a, b."""
        m *= self.beta1
        m += np.multiply(g, 1 - self.beta1, out=a)          # (1 − β₁)g
        v *= self.beta2
        np.multiply(g, 1 - self.beta2, out=a)
        v += np.multiply(a, g, out=a)                       # (1 − β₂)g·g
        np.add(np.sqrt(v, out=b), self.eps, out=b)          # √v + ε
        theta -= np.divide(np.multiply(m, step, out=a), b, out=a)     # step·m / (√v + ε)


OPTIMIZERS = ("sgd", "momentum", "momentum_damped", "nesterov", "adam", "adagrad", "rmsprop")

# the learning rate each optimiser starts from when none is given: what trains the
# two-layer net well with it (adaptive methods scale each step by 1/√(Σg²), so they want
# a far smaller η than SGD; damped momentum's 0.5 is momentum's 0.05 at β = 0.9)
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "momentum_damped": 0.5, "nesterov": 0.05,
              "adam": 1e-3, "adagrad": 1e-2, "rmsprop": 1e-3}

# the per-parameter state each optimiser keeps once it has taken a step (what a
# checkpoint must hold to resume it exactly)
SLOTS = {"sgd": (), "momentum": ("velocity",), "momentum_damped": ("velocity",),
         "nesterov": ("velocity",),
         "adam": ("m", "v"), "adagrad": ("sum_sq",), "rmsprop": ("mean_sq",)}


def make_optimizer(name, params, lr, momentum=0.9):
    """The optimiser called `name` (as on the command line)."""
    if name == "sgd":
        return SGD(params, lr)
    if name == "momentum":
        return SGD(params, lr, momentum=momentum)
    if name == "momentum_damped":
        return SGD(params, lr, momentum=momentum, damped=True)
    if name == "nesterov":
        return SGD(params, lr, momentum=momentum, nesterov=True)
    if name == "adam":
        return Adam(params, lr)
    if name == "adagrad":
        return Adagrad(params, lr)
    if name == "rmsprop":
        return RMSProp(params, lr)
    raise ValueError(f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}")
