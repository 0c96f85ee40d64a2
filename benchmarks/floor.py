"""The floor: the least bookkeeping any Python tape can do, for `benchmarks.engine`.

A node is its value, its parents and one closure per parent that maps the node's
adjoint to the parent's (micrograd's design, over arrays). No checks, no type
promotion, no version counters, no threads, no Tape, no freeing, no higher-order
gradients: only what every reverse-mode tape must do — make a node per operation, find
the nodes in reverse order, call one closure per edge, add up the adjoints.

It is not part of the engine: it measures how much of the tape's cost on tiny graphs
is the engine's own doing and how much any tape written in Python pays. It runs the
make_moons step, the chain of multiplies and the long chain that `benchmarks.engine`
times, with the same math (tests/test_benchmarks.py checks the losses and gradients).
"""

import numpy as np


class Node:
    __slots__ = ("data", "grad", "parents", "vjps", "index")
    __array_ufunc__ = None          # `ndarray * node` calls node.__rmul__
    created = 0

    def __init__(self, data, parents=(), vjps=()):
        Node.created += 1
        self.data, self.grad, self.parents, self.vjps = data, None, parents, vjps
        self.index = Node.created   # creation order: users come after what they use

    def __mul__(self, other):
        a = self.data
        if type(other) is Node:
            b = other.data
            return Node(a * b, (self, other), (lambda g: g * b, lambda g: g * a))
        return Node(a * other, (self,), (lambda g: g * other,))

    __rmul__ = __mul__

    def __add__(self, other):
        if type(other) is Node:
            return Node(self.data + other.data, (self, other), (_same, _same))
        return Node(self.data + other, (self,), (_same,))

    __radd__ = __add__

    def __rsub__(self, other):
        return Node(other - self.data, (self,), (np.negative,))

    def sum(self):
        shape = self.data.shape
        return Node(self.data.sum(), (self,), (lambda g: np.broadcast_to(g, shape),))

    def mean(self):
        shape, n = self.data.shape, self.data.size
        return Node(self.data.mean(), (self,), (lambda g: np.broadcast_to(g / n, shape),))

    def backward(self, seed=None):
        order, seen, stack = [], set(), [self]
        while stack:                              # every node reached, without recursion
            node = stack.pop()
            if id(node) not in seen:
                seen.add(id(node))
                order.append(node)
                stack.extend(p for p in node.parents if p.parents)
        order.sort(key=lambda node: -node.index)  # users before what they use
        adjoint = {id(self): np.ones_like(self.data) if seed is None else seed}
        for node in order:
            g = adjoint.pop(id(node))
            for parent, vjp in zip(node.parents, node.vjps):
                gp = vjp(g)
                if parent.parents:
                    key = id(parent)
                    adjoint[key] = gp if key not in adjoint else adjoint[key] + gp
                else:                             # a leaf: a parameter
                    parent.grad = gp if parent.grad is None else parent.grad + gp


def _same(g):
    return g


def relu(x):
    positive = x.data > 0
    return Node(np.maximum(x.data, 0), (x,), (lambda g: g * positive,))


def linear(x, W, b):
    """XW + b; X an ndarray (the data) or a Node."""
    xd = x.data if type(x) is Node else x
    out = xd @ W.data + b.data
    vjps = (lambda g: g @ W.data.T, lambda g: xd.T @ g, lambda g: g.sum(0))
    if type(x) is Node:
        return Node(out, (x, W, b), vjps)
    return Node(out, (W, b), vjps[1:])


def moons_step(init, X, ys):
    """The make_moons step of benchmarks/moons.py, on the floor."""
    from .moons import ALPHA, LR
    params = [Node(p.copy()) for p in init]
    W1, b1, W2, b2, W3, b3 = params

    def step():
        h = relu(linear(X, W1, b1))
        h = relu(linear(h, W2, b2))
        s = linear(h, W3, b3)
        loss = relu(1 - ys * s).mean() + ALPHA * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= LR * p.grad
        return float(loss.data)
    return step


def chain_step(x_np, y_np, length):
    """z = x·y·y·…·y (`length` multiplies), then backward: the per-op figure's graph."""
    x, y = Node(x_np), Node(y_np)

    def step():
        z = x
        for _ in range(length):
            z = z * y
        z.sum().backward()
        x.grad = y.grad = None
    return step


def chain_backward_seconds(n):
    """Seconds for backward() through a chain of n multiplies by a constant."""
    import time
    z = Node(np.ones(1))
    for _ in range(n):
        z = z * 1.0000001
    started = time.perf_counter()
    z.backward(np.ones(1))
    return time.perf_counter() - started
