"""The lean reference with the tape's run-time semantics put back: how fast can it be?

lean.py is the tape's design with every check taken out; `benchmarks.engine` prints the
tape's ratio to it. This file answers the next question, whether the lean design would
meet the engine's goals once it does what the tape must do. It keeps lean.py's protocol
(each operation's forward builds one closure giving its inputs' gradients) and adds back,
as cheaply as we could write them:

- recording per thread and `no_grad` (a `threading.local` read at every operation);
- entries owned by the tensors they made, so a computation dropped without backward is
  freed (lean.py keeps one global list): the sweep visits them from a heap, by number;
- freeing after backward, and refusing to go through a freed part again;
- the version check (an entry older than the last in-place change checks its inputs);
- each gradient checked to have its input's shape and cast to its dtype;
- only the inputs that need a gradient get one; broadcasting summed back;
- a `Tape` listing the entries recorded while it is open, its kept adjoints;
- gradients handed out as arrays the caller owns (a shared or read-only one copied).

Written for speed, not for reading: the accumulation into an adjoint is inlined in the
sweep and entries are made without a call to __init__ (each measured, a few per cent).
What it still leaves out: higher-order gradients (its closures compute on the arrays, so
`create_graph` cannot record them), PyTorch's float32-beside-a-number rule, keyword
parameters, saved values, module scopes' names and the messages' detail. Its figures are
therefore a lower bound for the tape's design with every semantic kept.
"""

import itertools
import threading
import time
from heapq import heappop, heappush

import numpy as np


class _ThreadState(threading.local):
    recording = True
    tapes = ()


state = _ThreadState()
clock = itertools.count(1)


class versions:
    last = 0            # when a value last changed in place (no operation here does)


class Entry:
    __slots__ = ("index", "name", "inputs", "rule", "adjoint", "tapes")


class Node:
    """A value: its data, gradient, whether it needs one, its entry, its version."""

    __slots__ = ("data", "grad", "requires_grad", "entry", "version")
    __array_ufunc__ = None          # `ndarray * node` calls node.__rmul__

    def __init__(self, data, requires_grad=False):
        self.data, self.requires_grad = data, requires_grad
        self.grad = self.entry = None
        self.version = 0

    def __mul__(self, other):
        a = self.data
        if type(other) is Node:
            b = other.data
            na, nb = self.requires_grad, other.requires_grad
            if not ((na or nb) and state.recording):
                return Node(a * b)
            return record("multiply", a * b, (self, other), lambda g: (
                unbroadcast(g * b, a) if na else None, unbroadcast(g * a, b) if nb else None))
        if not (self.requires_grad and state.recording):
            return Node(a * other)
        return record("multiply", a * other, (self,), lambda g: (unbroadcast(g * other, a),))

    __rmul__ = __mul__

    def __add__(self, other):
        a = self.data
        if type(other) is Node:
            b = other.data
            na, nb = self.requires_grad, other.requires_grad
            if not ((na or nb) and state.recording):
                return Node(a + b)
            return record("add", a + b, (self, other), lambda g: (
                unbroadcast(g, a) if na else None, unbroadcast(g, b) if nb else None))
        if not (self.requires_grad and state.recording):
            return Node(a + other)
        return record("add", a + other, (self,), lambda g: (unbroadcast(g, a),))

    __radd__ = __add__

    def __rsub__(self, other):
        a = self.data
        if not (self.requires_grad and state.recording):
            return Node(other - a)
        return record("subtract", other - a, (self,), lambda g: (unbroadcast(-g, a),))

    def sum(self):
        like = self.data
        value = np.add.reduce(like, axis=None)
        if not (self.requires_grad and state.recording):
            return Node(value)
        return record("sum", value, (self,), lambda g: (spread(g, like.shape),))

    def mean(self):
        like = self.data
        value = like.mean()
        if not (self.requires_grad and state.recording):
            return Node(value)
        return record("mean", value, (self,), lambda g: (spread(g / like.size, like.shape),))


def spread(g, shape):
    """A number stretched to `shape`: a read-only view, every stride 0 (as the tape's)."""
    g = np.asarray(g)
    view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
    view.flags.writeable = False
    return view


def unbroadcast(g, x):
    """g summed back to the shape of the input x it was broadcast from."""
    shape = x.shape
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and g.shape[i + lead] != 1)
    return np.add.reduce(g, axis=axes).reshape(shape)


_new = object.__new__


def record(name, value, inputs, rule):
    """The output of an operation and its entry, numbered, listed by the open Tapes."""
    out = _new(Node)
    out.data, out.requires_grad, out.grad, out.version = value, True, None, 0
    out.entry = entry = _new(Entry)
    entry.index = next(clock)
    entry.name, entry.inputs, entry.rule, entry.adjoint = name, inputs, rule, None
    entry.tapes = tapes = state.tapes
    for t in tapes:
        t.entries.append(entry)
    return out


def relu(x):
    xd = x.data
    zeros = np.zeros(xd.shape, xd.dtype)
    value = np.maximum(xd, zeros, out=zeros)
    if not (x.requires_grad and state.recording):
        return Node(value)
    return record("relu", value, (x,), lambda g: (g * (xd > 0),))


def linear(x, W, b):
    """XW + b; X an ndarray (the data) or a Node."""
    xd = x.data if type(x) is Node else x
    w = W.data
    value = xd @ w + b.data
    nx = type(x) is Node and x.requires_grad
    if not ((nx or W.requires_grad or b.requires_grad) and state.recording):
        return Node(value)
    if type(x) is Node:
        return record("linear", value, (x, W, b),
                      lambda g: (g @ w.T if nx else None, xd.T @ g, g.sum(0)))
    return record("linear", value, (W, b), lambda g: (xd.T @ g, g.sum(0)))


class no_grad:
    def __enter__(self):
        self.before, state.recording = state.recording, False

    def __exit__(self, *exc):
        state.recording = self.before


class Tape:
    """`with Tape() as t:` lists the entries recorded inside; keeps their adjoints."""

    def __init__(self):
        self.entries, self.adjoints = [], {}

    def __enter__(self):
        self.before, state.tapes = state.tapes, state.tapes + (self,)
        return self

    def __exit__(self, *exc):
        state.tapes = self.before


def backward(output, seed=None):
    """Add d output / d leaf into every leaf's .grad; free the entries used."""
    seed = np.ones(output.data.shape, output.data.dtype) if seed is None else seed
    if output.entry is None:                # a leaf: its gradient is the seed itself
        ends, waiting = {id(output): [output, seed]}, []
    else:
        ends, waiting = {}, [(-output.entry.index, output.entry)]
        output.entry.adjoint = seed
    with no_grad():
        while waiting:
            _, entry = heappop(waiting)                 # the highest number first
            g, entry.adjoint = entry.adjoint, None
            if entry.rule is None or entry.index < versions.last or entry.tapes:
                _before_rules(entry, g)
            for x, g_input in zip(entry.inputs, entry.rule(g)):     # the chain rule
                if g_input is None:
                    continue                            # x needs no gradient
                data = x.data
                if g_input.shape != data.shape or g_input.dtype is not data.dtype:
                    g_input = _checked(g_input, x, entry)
                before = x.entry                        # x's adjoint += g_input
                if before is None:
                    if id(x) in ends:
                        ends[id(x)][1] = ends[id(x)][1] + g_input
                    else:
                        ends[id(x)] = [x, g_input]
                elif before.adjoint is None:
                    before.adjoint = g_input
                    heappush(waiting, (-before.index, before))
                else:
                    before.adjoint = before.adjoint + g_input
            entry.rule = None                           # used: free what it held
    given = {id(seed)}
    for x, g in ends.values():
        if g.base is not None or not g.flags.writeable or id(g) in given:
            g = g.copy()                                # the caller's own array
        given.add(id(g))
        x.grad = g if x.grad is None else x.grad + g


def _before_rules(entry, g):
    if entry.rule is None:
        raise RuntimeError(f"backward through entry #{entry.index} ({entry.name}), "
                           f"already freed: pass retain_graph=True the first time")
    if entry.index < versions.last:
        for x in entry.inputs:
            if x.version > entry.index:
                raise RuntimeError(f"{entry.name}: an input was changed in place after "
                                   f"it was used")
    for t in entry.tapes:
        t.adjoints[entry.index] = g


def _checked(g, x, entry):
    if g.shape != x.data.shape:
        raise ValueError(f"{entry.name}: a gradient of shape {g.shape} for an input of "
                         f"shape {x.data.shape}")
    return g.astype(x.data.dtype)


def moons_step(init, X, ys, alpha, lr):
    """The make_moons step of benchmarks/moons.py: hinge loss + α·Σp²."""
    params = [Node(p.copy(), requires_grad=True) for p in init]
    W1, b1, W2, b2, W3, b3 = params

    def step():
        h = relu(linear(X, W1, b1))
        h = relu(linear(h, W2, b2))
        s = linear(h, W3, b3)
        loss = relu(1 - ys * s).mean() + alpha * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        backward(loss)
        for p in params:
            p.data -= lr * p.grad
        return float(loss.data)
    return step


def chain_backward_seconds(n):
    """Seconds for backward() through a chain of n multiplies by a constant."""
    x = Node(np.ones(1), requires_grad=True)
    z = x
    for _ in range(n):
        z = z * 1.0000001
    started = time.perf_counter()
    backward(z, np.ones(1))
    return time.perf_counter() - started
