"""The tape itself: one `Entry` per recorded operation, in execution order.

A Wengert list is the program unrolled into single assignments,

    v3 = matmul(x, W1)
    v4 = add(v3, b1)
    v5 = relu(v4)
    ...

Every time an operation with an input that needs a gradient runs, one `Entry` is
written: which op, its inputs, its keyword parameters, and a weak link to its output.
Entries are numbered in the order they are written (`index`), so reading them from the
highest number to the lowest is the reverse sweep of backpropagation: no graph search is
needed to find an order in which to visit them.

The entries are owned by the tensors they produced (`tensor._entry`), so a computation
that is dropped is freed by Python like any other object: memory does not grow across
training steps. A `Tape` context additionally keeps its own list of the entries recorded
while it is open, to print them, to draw them and to take gradients from them.

Whether operations are recorded, which `Tape`s are open and inside which module an
operation runs are properties of the *thread*, as PyTorch's grad mode is: two threads
each training their own model never see each other's `no_grad`.
"""

import itertools
import threading
import weakref


class _ThreadState(threading.local):
    """What recording depends on, separately for every thread."""

    def __init__(self):
        self.recording = True    # off inside no_grad() and during a plain backward
        self.tapes = ()          # the open `with Tape()` blocks, innermost last
        self.scope = ()          # names of the modules being called, outermost first


state = _ThreadState()
clock = itertools.count(1)       # entry numbers, and the times of in-place changes


class Entry:
    """One line of the Wengert list: `out = op(*inputs, **params)`."""

    __slots__ = ("index", "op", "inputs", "values", "params", "out", "saved", "scope",
                 "tapes", "freed")

    def __init__(self, op, inputs, values, params, out, saved):
        self.index = next(clock)
        self.op = op                    # the Primitive: its name and its vjp rules
        self.inputs = inputs            # the arguments as given: Tensors and constants
        self.values = values            # their values, as the forward saw them
        self.params = params            # keyword parameters (axis=..., slope=...)
        self.out = weakref.ref(out)     # weak: the output owns this entry, not the reverse
        self.saved = saved              # what the forward kept for the rule (see primitive)
        self.scope = state.scope        # inside which module it ran, e.g. ("MLP", "Linear1")
        self.tapes = state.tapes        # the Tapes listing it (to keep adjoints, to draw)
        self.freed = False
        for t in self.tapes:
            t.entries.append(self)

    def free(self):
        """Drop what backward needed, once it has used it. An entry listed by a `Tape`
        keeps its inputs, so the tape can still be printed and drawn whole."""
        if not self.tapes:
            # an assignment keeps its link to the value before: entries recorded earlier,
            # swept after it, are led back through it (backprop.py, `_as_recorded`)
            self.inputs = (self.inputs or ())[:1] if self.op.in_place else None
        self.values = self.saved = None
        self.freed = True

    def __repr__(self):
        return f"<Entry #{self.index} {self.op.name}{' (freed)' if self.freed else ''}>"


def is_recording():
    """Are operations on tensors that need a gradient being recorded (in this thread)?"""
    return state.recording


class no_grad:
    """Context manager (and decorator) inside which nothing is recorded.

    Use it for evaluation and for parameter updates (`W -= lr * W.grad`): the results
    are plain tensors with no history, and no memory is spent on entries.
    """

    recording = False

    def __enter__(self):
        self._before = state.recording
        state.recording = self.recording
        return self

    def __exit__(self, *exc):
        state.recording = self._before
        return False

    def __call__(self, function):
        def wrapped(*args, **kwargs):
            with type(self)():
                return function(*args, **kwargs)
        wrapped.__name__ = function.__name__
        wrapped.__doc__ = function.__doc__
        return wrapped


class enable_grad(no_grad):
    """Turn recording back on inside a `no_grad` block (used by higher-order gradients)."""

    recording = True


class scope:
    """`with scope("Linear1"):` labels the entries recorded inside (modules do this)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self._before = state.scope
        state.scope = self._before + (self.name,)
        return self

    def __exit__(self, *exc):
        state.scope = self._before
        return False


class Tape:
    """An explicit tape: `with Tape() as t:` lists every entry recorded inside the block.

        with tape.Tape() as t:
            loss = ...
        dW, db = t.gradient(loss, [W, b])   # .grad is left untouched
        print(t)                              # the Wengert list, one entry per line

    A Tape keeps what it recorded (values included) until the Tape itself is dropped, so
    it can be printed and drawn after `backward()` too. `keep_adjoints=True` also
    stores, for each entry, the gradient that arrived at its output during a sweep
    (`t.gradient(...)` or `loss.backward()`), so the reverse sweep can be shown.
    """

    def __init__(self, keep_adjoints=False):
        self.entries = []
        self.keep_adjoints = keep_adjoints
        self.adjoints = {}     # entry index -> ndarray, filled by the reverse sweep

    def __enter__(self):
        state.tapes = state.tapes + (self,)
        return self

    def __exit__(self, *exc):
        state.tapes = tuple(t for t in state.tapes if t is not self)
        return False

    def __len__(self):
        return len(self.entries)

    def gradient(self, target, sources, output_gradient=None, retain_graph=None,
                 create_graph=False):
        """d target / d source for each source, read off this tape in reverse.

        Returns a list of arrays (Tensors if `create_graph`), one per source, in the
        sources' shapes; a source the target does not depend on gets zeros.
        """
        from .backprop import gradients      # the sweep is built on this module
        return gradients(target, sources, output_gradient, retain_graph=retain_graph,
                         create_graph=create_graph, entries=self.entries)

    def listing(self, adjoints=False):
        """The entries as lines: `v7 = matmul(v3, v5)   (128, 256) float32`, with the
        gradient that flowed back into each value if `adjoints` (see `tape.listing`)."""
        from .listing import listing
        return listing(self.entries, self.adjoints if adjoints else None)

    def __str__(self):
        return self.listing() or "(empty tape)"

    def __repr__(self):
        return f"<Tape with {len(self.entries)} entries>"
