"""The tape itself: one `Entry` per recorded operation, numbered in execution order.

A Wengert list is the program unrolled into single assignments,

    v3 = matmul(x, W1)
    v4 = add(v3, b1)
    v5 = relu(v4)
    ...

Every time an operation with an input that needs a gradient runs, one `Entry` is
written: which op, its inputs, its keyword parameters, and a weak link to its output.
Entries are numbered in the order they are written (`index`): every entry is numbered
after the entries that made its inputs, so visiting entries from the highest number
to the lowest is the reverse sweep of backpropagation (backprop.py).

The entries are owned by the tensors they produced (`tensor._entry`), so a computation
that is dropped is freed by Python like any other object: memory does not grow across
training steps. A `Tape` (listing.py) additionally keeps its own list of the entries
recorded while it is open, to print them, to draw them and to take gradients from them.

Whether operations are recorded, which `Tape`s are open and inside which module an
operation runs are properties of the *thread*, as PyTorch's grad mode is: two threads
each training their own model never see each other's `no_grad`.
"""

import contextlib
import itertools
import threading
import weakref


class _ThreadState(threading.local):
    """What recording depends on, separately for every thread (each starts from these)."""

    recording = True    # off inside no_grad() and during a plain backward
    tapes = ()          # the open `with Tape()` blocks, innermost last
    scope = ()          # names of the modules being called, outermost first


state = _ThreadState()
clock = itertools.count(1)       # entry numbers, and the times of in-place changes


class versions:
    """When a value last changed in place, anywhere (a time on `clock`). An entry
    numbered after it saw only values that have not changed since."""

    last = 0


class Entry:
    """One line of the Wengert list: `out = op(*inputs, **params)`."""

    __slots__ = ("index", "op", "inputs", "values", "params", "out", "saved", "scope",
                 "tapes", "adjoint")

    def __init__(self, op, inputs, values, params, out, saved):
        self.index = next(clock)
        self.op = op                    # the Primitive: its name and its vjp rules
        self.inputs = inputs            # the arguments as given: Tensors and constants
        self.values = values            # their values, as the forward saw them
        self.params = params            # keyword parameters (axis=..., slope=...)
        self.out = weakref.ref(out)     # weak: the output owns this entry, not the reverse
        self.saved = saved              # what the forward kept for the rule (see primitive)
        self.scope = state.scope        # inside which module it ran, e.g. ("MLP", "Linear1")
        self.adjoint = None             # ∂loss/∂out, while a reverse sweep is summing it
        self.tapes = tapes = state.tapes    # the Tapes listing it (to keep adjoints, to draw)
        for t in tapes:
            t.entries.append(self)

    freed = property(lambda self: self.values is None,
                     doc="Has a backward used and released its values (`free`)?")

    def free(self):
        """Drop what backward needed, once it has used it. An entry listed by a `Tape`
        keeps its inputs, so the tape can still be printed and drawn whole."""
        if not self.tapes:
            # an assignment keeps its link to the value before: entries recorded earlier,
            # swept after it, are led back through it (backprop.py, `_as_recorded`)
            self.inputs = (self.inputs or ())[:1] if self.op.in_place else None
        self.values = self.saved = None

    def __repr__(self):
        return f"<Entry #{self.index} {self.op.name}{' (freed)' if self.freed else ''}>"


def is_recording():
    """Are operations on tensors that need a gradient being recorded (in this thread)?"""
    return state.recording


class no_grad(contextlib.ContextDecorator):
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

    def _recreate_cm(self):
        return type(self)()       # a decorated function, called again inside, gets its own


class enable_grad(no_grad):
    """Turn recording back on inside a `no_grad` block (used by higher-order gradients)."""

    recording = True


class scope:
    """`with scope("Linear1"):` labels the entries recorded inside (modules do this).
    A class rather than a generator: a network's every module call enters one."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.before, state.scope = state.scope, state.scope + (self.name,)

    def __exit__(self, *exc):
        state.scope = self.before
