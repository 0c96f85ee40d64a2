"""The tape itself: one `Entry` per recorded operation, in execution order.

A Wengert list is the program unrolled into single assignments,

    v3 = matmul(x, W1)
    v4 = add(v3, b1)
    v5 = relu(v4)
    ...

Every time an operation with an input that needs a gradient runs, one `Entry` is
written: which op, its inputs, its keyword parameters, and a weak link to its output.
Entries carry their position on the tape (`index`), so reading them from the highest
index to the lowest is the reverse sweep of backpropagation: no graph search is needed
to find an order in which to visit them.

The entries are owned by the tensors they produced (`tensor._entry`), so a computation
that is dropped is freed by Python like any other object: memory does not grow across
training steps. A `Tape` context additionally keeps its own list of the entries recorded
while it is open, to print them and to take gradients from them.
"""

import itertools
import weakref

import numpy as np


class _Recording:
    """Global switches: is recording on, and which `Tape` contexts are listening."""

    enabled = True
    tapes = []          # open `with Tape()` blocks, innermost last
    scope = ()          # names of the modules being called, outermost first (for drawing)
    counter = itertools.count()   # the next position on the tape


class Entry:
    """One line of the Wengert list: `out = op(*inputs, **params)`."""

    __slots__ = ("index", "op", "inputs", "params", "out", "scope", "saved", "freed",
                 "on_tape", "summary")

    def __init__(self, op, inputs, params, out):
        self.index = next(_Recording.counter)
        self.op = op                       # the Primitive: its name and its vjp rules
        self.inputs = inputs               # the arguments as given: Tensors and constants
        self.params = params               # keyword parameters (axis=..., slope=...)
        self.out = weakref.ref(out)        # weak: the output owns this entry, not the reverse
        self.scope = _Recording.scope      # inside which module it ran, e.g. ("MLP", "Linear1")
        self.saved = None                  # what the forward kept for the rule (see primitive)
        self.freed = False
        self.on_tape = False               # listed by an open `Tape`: keep a summary when freed
        self.summary = None

    def free(self):
        """Drop the saved inputs once backward has used them."""
        if self.on_tape and not self.freed:
            self.summary = (describe(self.out()), [describe(x) for x in self.inputs])
        self.inputs = self.saved = None
        self.freed = True

    def described(self):
        """(output, inputs) as printable descriptions, whether or not the entry was freed."""
        if self.freed:
            return self.summary or (describe(None), [])
        return describe(self.out()), [describe(x) for x in self.inputs]

    def __repr__(self):
        return f"<Entry #{self.index} {self.op.name}{' (freed)' if self.freed else ''}>"


def is_recording():
    return _Recording.enabled


class no_grad:
    """Context manager (and decorator) inside which nothing is recorded.

    Use it for evaluation and for parameter updates: the results are plain tensors
    with no history, and no memory is spent on entries.
    """

    def __enter__(self):
        self._before = _Recording.enabled
        _Recording.enabled = False
        return self

    def __exit__(self, *exc):
        _Recording.enabled = self._before
        return False

    def __call__(self, function):
        def wrapped(*args, **kwargs):
            with type(self)():            # no_grad or enable_grad, whichever decorates
                return function(*args, **kwargs)
        wrapped.__name__ = function.__name__
        wrapped.__doc__ = function.__doc__
        return wrapped


class scope:
    """`with scope("Linear1"):` labels the entries recorded inside (modules do this)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self._before = _Recording.scope
        _Recording.scope = self._before + (self.name,)
        return self

    def __exit__(self, *exc):
        _Recording.scope = self._before
        return False


class enable_grad(no_grad):
    """Turn recording back on inside a `no_grad` block (used by higher-order gradients)."""

    def __enter__(self):
        self._before = _Recording.enabled
        _Recording.enabled = True
        return self


class Tape:
    """An explicit tape: `with Tape() as t:` records every entry made inside the block.

        with tape.Tape() as t:
            loss = ...
        dW, db = t.gradient(loss, [W, b])   # .grad is left untouched
        print(t)                              # the Wengert list, one entry per line

    `keep_adjoints=True` also stores, for each entry, the gradient that arrived at
    its output during the sweep (its adjoint), so the reverse sweep can be shown.
    """

    def __init__(self, keep_adjoints=False):
        self.entries = []
        self.keep_adjoints = keep_adjoints
        self.adjoints = {}     # entry index -> ndarray, filled by gradient()

    def __enter__(self):
        _Recording.tapes.append(self)
        return self

    def __exit__(self, *exc):
        _Recording.tapes.remove(self)
        return False

    def __len__(self):
        return len(self.entries)

    def gradient(self, target, sources, output_gradient=None, retain_graph=False,
                 create_graph=False):
        """d target / d source for each source, read off this tape in reverse.

        Returns a list of arrays (Tensors if `create_graph`), one per source, in the
        sources' shapes; a source the target does not depend on gets zeros.
        """
        from .backward import gradients
        return gradients(target, sources, output_gradient, retain_graph=retain_graph,
                         create_graph=create_graph, entries=self.entries, tape=self)

    def listing(self, adjoints=False):
        """The entries as SSA lines: `v7 = matmul(v3, v5)   (128, 256) float32`.

        With `adjoints=True` (after a `gradient` call on a `Tape(keep_adjoints=True)`),
        each line also shows the gradient that flowed back into that value.
        """
        names = _Names()
        lines = []
        for entry in self.entries:
            out, inputs = entry.described()
            args = [names.of(x) for x in inputs]
            args += [f"{k}={_short_param(v)}" for k, v in entry.params.items()
                     if v is not None and v is not False]     # defaults say nothing
            line = f"{names.define(out)} = {entry.op.name}({', '.join(args)})"
            line = f"{line:<40} {out['shape']} {out['dtype']}"
            if adjoints and entry.index in self.adjoints:
                line += f"   adjoint {_short(self.adjoints[entry.index])}"
            lines.append(line)
        return "\n".join(lines)

    def __str__(self):
        return self.listing() or "(empty tape)"

    def __repr__(self):
        return f"<Tape with {len(self.entries)} entries>"


def describe(value):
    """What a listing needs to know of a value, kept even after the value is gone."""
    from .tensor import Tensor
    if isinstance(value, Tensor):
        return {"id": id(value), "name": value.name, "shape": tuple(value.shape),
                "dtype": str(value.dtype)}
    if value is None:
        return {"id": None, "name": None, "shape": "?", "dtype": ""}
    if isinstance(value, np.ndarray):
        text = f"array{value.shape}" if value.size > 4 else repr(value.tolist())
    else:
        text = repr(value)
    return {"constant": text}


def _short_param(value):
    return f"array{value.shape}" if isinstance(value, np.ndarray) else repr(value)


class _Names:
    """Names for the values on a listing: a tensor's own `name`, else v1, v2, ..."""

    def __init__(self):
        self.names = {}
        self.count = itertools.count(1)

    def define(self, value):
        name = value.get("name") or f"v{next(self.count)}"
        if value.get("id") is not None:
            self.names[value["id"]] = name
        return name

    def of(self, value):
        if "constant" in value:
            return value["constant"]
        return self.names.get(value["id"]) or self.define(value)


def _short(array):
    array = np.asarray(array)
    if array.size <= 4:
        return np.array2string(array, precision=4, suppress_small=True)
    return f"{array.shape} |max| {np.abs(array).max():.3g}"
