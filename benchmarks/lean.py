"""A lean eager tape with no checks: the measuring stick of `benchmarks.engine`.

It is the tape's design with everything but the arithmetic taken out. An operation
computes its value with numpy, wraps it, and appends one entry (its output, its inputs,
one rule giving the inputs' gradients) to a list, in the order the operations run.
`backward()` walks that list from the end: the adjoint of each entry's output sits on
the entry itself, complete by the time the walk reaches it (every user of a value was
recorded after it), so there is no graph search, no sort and no dictionary of adjoints;
a gradient with one consumer is handed on as it is.

What it leaves out, and the real tape (tape/) keeps: threads, no_grad, Tape listings,
freeing a computation that is dropped without backward (here the list keeps it until
the next backward), retain_graph, higher-order gradients, version checks, shape and
dtype checks with their messages, float32 kept beside Python numbers. The benchmark
prints the tape's ratio to this reference: what those semantics cost, measured.

It runs the make_moons step, the chain of multiplies and the long chain that
`benchmarks.engine` times, with the same math (tests check the losses and gradients).
"""

import time

import numpy as np

recorded = []          # the entries of the computation being recorded, in order


class Node:
    """A value, its gradient (a leaf's) and, if an operation made it, its entry."""

    __slots__ = ("data", "grad", "entry")
    __array_ufunc__ = None          # `ndarray * node` calls node.__rmul__

    def __init__(self, data):
        self.data, self.grad, self.entry = data, None, None

    def __mul__(self, other):
        if type(other) is Node:
            a, b = self.data, other.data
            return record(a * b, (self, other), lambda g: (g * b, g * a))
        return record(self.data * other, (self,), lambda g: (g * other,))

    __rmul__ = __mul__

    def __add__(self, other):
        if type(other) is Node:
            return record(self.data + other.data, (self, other), lambda g: (g, g))
        return record(self.data + other, (self,), lambda g: (g,))

    __radd__ = __add__

    def __rsub__(self, other):
        return record(other - self.data, (self,), lambda g: (-g,))

    def sum(self):
        like = self.data
        return record(like.sum(), (self,), lambda g: (np.full_like(like, g),))

    def mean(self):
        like = self.data
        return record(like.mean(), (self,), lambda g: (np.full_like(like, g / like.size),))

    def backward(self, seed=None):
        self.entry[3] = np.ones_like(self.data) if seed is None else seed
        for entry in reversed(recorded):
            g = entry[3]
            if g is None:
                continue                        # nothing downstream used it
            for x, gx in zip(entry[1], entry[2](g)):
                if x.entry is None:             # a leaf: a parameter
                    x.grad = gx if x.grad is None else x.grad + gx
                elif x.entry[3] is None:        # the first use: handed on as it is
                    x.entry[3] = gx
                else:
                    x.entry[3] = x.entry[3] + gx
        recorded.clear()


def record(value, inputs, rule):
    """The output of an operation, with its entry [output, inputs, rule, adjoint]."""
    out = Node(value)
    out.entry = [None, inputs, rule, None]     # the output is not kept: no cycle
    recorded.append(out.entry)
    return out


def relu(x):
    positive = x.data > 0
    return record(np.maximum(x.data, 0), (x,), lambda g: (g * positive,))


def linear(x, W, b):
    """XW + b; X an ndarray (the data) or a Node."""
    xd = x.data if type(x) is Node else x
    w = W.data
    if type(x) is Node:
        return record(xd @ w + b.data, (x, W, b),
                      lambda g: (g @ w.T, xd.T @ g, g.sum(0)))
    return record(xd @ w + b.data, (W, b), lambda g: (xd.T @ g, g.sum(0)))


def moons_step(init, X, ys, alpha, lr):
    """The make_moons step of benchmarks/moons.py on the lean tape: hinge loss + α·Σp²."""
    params = [Node(p.copy()) for p in init]
    W1, b1, W2, b2, W3, b3 = params

    def step():
        h = relu(linear(X, W1, b1))
        h = relu(linear(h, W2, b2))
        s = linear(h, W3, b3)
        loss = relu(1 - ys * s).mean() + alpha * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return float(loss.data)
    return step


def chain_backward_seconds(n):
    """Seconds for backward() through a chain of n multiplies by a constant."""
    x = Node(np.ones(1))
    z = x
    for _ in range(n):
        z = z * 1.0000001
    started = time.perf_counter()
    z.backward(np.ones(1))
    return time.perf_counter() - started
